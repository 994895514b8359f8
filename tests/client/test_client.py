"""kiln.Client against a real `kiln serve` (one server for the module, conftest.py).

The main flow: a project, an uploaded input, two operations and a pipeline
made with PatchBuilder (Input → Parse → Total → Output), a run followed by its
events, the output's bytes and value, the artifact list, the lineage, a second
run that is all cached. Then: refs and merges, errors with their status and
code, streamed uploads and downloads with progress, events followed live,
project export/import, reify and pipeline export (skipped, saying why, while
the server lacks those routes), the import cost of `kiln`, and `pip install`.
"""
import json
import os
import subprocess
import sys
import zipfile

import pytest

from client_server import ROOT  # first: puts this tree's python/ on sys.path
import kiln
from kiln.client import (BadRequest, Conflict, FailedPrecondition, KilnError, MethodNotAllowed,
                         NotFound, PayloadTooLarge)

MiB = 1 << 20
pytest_plugins = ["client_server"]  # the fixtures server and client

PARSE = '''\
import kiln


class Parse(kiln.Operation):
    """Whitespace-separated integers from a file's bytes."""

    def execute(self, file: bytes) -> list:
        numbers = [int(x) for x in file.split()]
        print(f"parsed {len(numbers)} numbers")
        return numbers
'''

TOTAL = '''\
import kiln


class Total(kiln.Operation):
    def __init__(self, scale: int = 1, label: str = "total"):
        self.scale, self.label = scale, label

    def execute(self, numbers: list) -> int:
        for i, n in enumerate(numbers):
            kiln.log_metric("n", n)
            kiln.progress(i + 1, len(numbers))
        total = sum(numbers) * self.scale
        print(self.label, total)
        return total
'''

NUMBERS = b"3 1 4 1 5 9 2 6\n"


def skip_unless_route(client, error, route):
    """Skips when the server answered a route it does not have (being built); else re-raises."""
    missing = isinstance(error, MethodNotAllowed) or (
        isinstance(error, NotFound) and error.message.startswith("no endpoint"))
    if missing:
        pytest.skip(f"this server has no {route} yet (answered {error.status} {error.message!r})")
    raise error


class Flow:
    """What the main flow made, for the tests that look at it."""


@pytest.fixture(scope="module")
def flow(client, tmp_path_factory):
    f = Flow()
    f.project = "flow"
    client.create_project(f.project, description="the client's main flow")
    data = tmp_path_factory.mktemp("flow") / "numbers.txt"
    data.write_bytes(NUMBERS)
    f.upload = client.upload(f.project, data)

    b = client.builder(f.project)
    parse = b.add_operation(None, PARSE)
    total = b.add_operation("Total", TOTAL)
    f.pipeline = b.add_pipeline("Sum")
    source = b.add_input(f.pipeline, f.upload["digest"], name="numbers.txt")
    p = b.add_instance(f.pipeline, parse)
    t = b.add_instance(f.pipeline, total, {"scale": 10})
    out = b.add_output(f.pipeline, "Sum total")
    b.connect(source, "data", p, "file")
    b.connect(p, "numbers", t, "numbers")
    b.connect(t, "total", out, "data")
    f.definitions = {"Parse": parse, "Total": total}
    f.commit = b.commit("Sum: parse and total the numbers")

    f.events = []
    f.execution = client.run(f.project, "Sum", on_event=lambda job, e: f.events.append((job["name"], e)),
                             timeout=60)
    return f


def test_flow_runs_and_its_output_has_the_value(client, flow):
    ex = flow.execution.raise_if_failed()
    assert ex.succeeded and ex.done
    assert {j["name"]: j["state"] for j in ex.jobs} == {
        "numbers.txt": "succeeded", "Parse": "succeeded", "Total": "succeeded",
        "Sum total": "succeeded"}
    digest = ex.output("Total", "total")
    assert json.loads(client.artifact_bytes(digest, project=flow.project)) == 10 * sum(
        int(x) for x in NUMBERS.split())
    with pytest.raises(KeyError, match="no output 'nope'"):
        ex.output("Total", "nope")


def test_flow_events_arrive_in_order_with_logs_and_metrics(client, flow):
    total = [e for name, e in flow.events if name == "Total"]
    seqs = [e["seq"] for e in total]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    metrics = [e["payload"]["value"] for e in total if e["kind"] == "metric"]
    assert metrics == [int(x) for x in NUMBERS.split()]
    logs = [e["payload"]["line"] for name, e in flow.events if e["kind"] == "log"]
    assert "parsed 8 numbers" in logs and "total 310" in logs
    job = flow.execution.job("Total")["id"]
    series = client.metrics(job)["metrics"]["n"]
    assert [v for _, v in series] == metrics
    assert [e["payload"]["line"] for e in client.logs(job)["events"]] == ["total 310"]


def test_flow_definitions_carry_ports_and_attribute_defaults(client, flow):
    total = client.node(flow.project, flow.definitions["Total"].guid)
    assert total["attrs"]["scale"] == 1 and total["attrs"]["label"] == "total"
    assert set(flow.definitions["Total"].ports) == {("input", "numbers"), ("output", "total")}
    assert set(flow.definitions["Parse"].ports) == {("input", "file"), ("output", "numbers")}
    pipelines = client.pipelines(flow.project)
    assert pipelines == [{"guid": flow.pipeline, "name": "Sum"}]


def test_flow_artifacts_list_the_upload_and_the_output(client, flow):
    artifacts = {a["digest"]: a for a in client.artifacts(flow.project)}
    upload = artifacts[flow.upload["digest"]]
    assert upload["origin"]["kind"] == "upload" and upload["name"] == "numbers.txt"
    assert upload["size"] == len(NUMBERS)
    output = artifacts[flow.execution.output("Total", "total")]
    assert output["origin"]["kind"] == "job" and output["value"] == 310
    assert output["serializer"] == "json"
    # Both operations return JSON values; the upload is raw bytes.
    ex = flow.execution
    assert {a["digest"] for a in client.artifacts(flow.project, kind="json")} == {
        ex.output("Parse", "numbers"), ex.output("Total", "total")}
    assert flow.upload["digest"] in {a["digest"] for a in client.artifacts(flow.project, kind="raw")}


def test_second_run_is_all_cached(client, flow):
    again = client.run(flow.project, flow.pipeline, timeout=60).raise_if_failed()
    assert again.id != flow.execution.id
    operations = {j["name"]: j["state"] for j in again.jobs if j["name"] in ("Parse", "Total")}
    assert operations == {"Parse": "cached", "Total": "cached"}
    assert again.output("Total", "total") == flow.execution.output("Total", "total")
    forced = flow.execution.rerun(force=True, timeout=60).raise_if_failed()
    assert forced.job("Total")["state"] == "succeeded"
    ids = [e["id"] for e in client.executions(flow.project)]
    assert ids[:3] == [forced.id, again.id, flow.execution.id]


def test_provenance_of_the_output_reaches_the_upload(client, flow):
    digest = flow.execution.output("Total", "total")
    try:
        lineage = client.provenance(flow.project, digest)
    except KilnError as e:
        skip_unless_route(client, e, "GET /projects/{p}/artifacts/{digest}/provenance")
    assert lineage["artifact"] == digest and lineage["direction"] == "up"
    origins = {a["digest"]: a["origin"]["kind"] for a in lineage["artifacts"]}
    assert origins[digest] == "job" and origins[flow.upload["digest"]] == "upload"
    names = {j["name"] for j in lineage["jobs"]}
    assert {"Parse", "Total"} <= names
    total = next(j for j in lineage["jobs"] if j["name"] == "Total")
    assert lineage["operations"][total["operation"]]["code"] == TOTAL
    assert lineage["operations"][total["operation"]]["attributes"]["scale"] == 10
    down = client.provenance(flow.project, flow.upload["digest"], direction="down")
    assert digest in {a["digest"] for a in down["artifacts"]}
    shallow = client.provenance(flow.project, digest, depth=1)
    assert shallow["truncated"] is True and {j["name"] for j in shallow["jobs"]} == {"Total"}
    prov = client.provenance(flow.project, digest, format="prov")
    assert f"artifact:{digest}" in prov["entity"]


def test_reify_makes_a_pipeline_that_runs_cached(client, flow):
    digest = flow.execution.output("Total", "total")
    try:
        made = client.reify(flow.project, digest, "reproduce-total", name="Reproduce total")
    except KilnError as e:
        skip_unless_route(client, e, "POST /projects/{p}/artifacts/{digest}/reify")
    assert made["branch"] == "reproduce-total"
    # Instances stand for the jobs that first made these bytes: the first run's.
    first_run = {j["id"] for j in flow.execution.jobs}
    assert {flow.execution.job(n)["id"] for n in ("Parse", "Total")} <= set(made["jobs"].values())
    assert set(made["jobs"].values()) <= first_run
    again = client.run(flow.project, made["pipeline"], ref="reproduce-total", timeout=60)
    # The reified operations are the original jobs again: every one a cache hit.
    states = [j["state"] for j in again.raise_if_failed().jobs if j["node"] in made["jobs"]]
    assert states == ["cached"] * len(made["jobs"])
    with pytest.raises(Conflict):
        client.reify(flow.project, digest, "reproduce-total")
    with pytest.raises(FailedPrecondition):
        client.reify(flow.project, flow.upload["digest"], "reify-an-upload")


def test_export_pipeline_is_a_zip_of_plain_python(client, flow, tmp_path):
    path = tmp_path / "sum.zip"
    seen = []
    try:
        client.export_pipeline(flow.project, flow.pipeline, path, progress=lambda n, total: seen.append(n))
    except KilnError as e:
        skip_unless_route(client, e, "GET /projects/{p}/pipelines/{guid}/export")
    assert seen and seen[-1] == path.stat().st_size
    with zipfile.ZipFile(path) as z:
        names = z.namelist()
        z.extractall(tmp_path / "unzipped")
    mains = [n for n in names if n.endswith("/main.py") and n.count("/") == 1]
    assert len(mains) == 1, names
    folder = tmp_path / "unzipped" / mains[0].split("/")[0]
    assert any(n.startswith(mains[0].split("/")[0] + "/inputs/") for n in names)  # bundled
    # The export runs without Kiln: the same total comes out.
    out = subprocess.run([sys.executable, "main.py", "--out", str(tmp_path / "out")], cwd=folder,
                         capture_output=True, text=True, timeout=60,
                         env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"})
    assert out.returncode == 0, out.stderr
    made = [p for p in (tmp_path / "out").rglob("*") if p.is_file()]
    assert any(p.read_bytes().strip() == b"310" for p in made), [p.name for p in made]


def test_refs_diff_merge_tags_and_fork(client, flow):
    project = flow.project
    main = client.project(project)["branches"]
    head = next(b["commit"] for b in main if b["name"] == "main")
    client.create_branch(project, "rename", from_="main")
    client.patch(project, "rename",
                 [{"op": "set_attr", "node": flow.pipeline, "name": "name", "value": "Sum v2"}],
                 "Rename the pipeline")
    ops = client.diff(project, "main", "rename")
    assert {"op": "set_attr", "node": flow.pipeline, "name": "name", "value": "Sum v2"} in ops
    merged = client.merge(project, "rename", "main", message="Take the new name")
    assert merged["up_to_date"] is False
    assert client.node(project, flow.pipeline)["attrs"]["name"] == "Sum v2"
    assert client.pipeline_guid(project, "Sum v2") == flow.pipeline
    log = client.commits(project, limit=3)
    assert len(log) == 3 and log[0]["commit"] == merged["commit"]
    assert client.commit(project, head)["commit"] == head

    client.create_tag(project, "run/1", ref=head)
    assert {"name": "run/1", "commit": head} in client.tags(project)
    assert client.tree(project, ref="run/1")["commit"] == head
    with pytest.raises(Conflict):
        client.create_tag(project, "run/1")
    client.delete_tag(project, "run/1")
    client.delete_branch(project, "rename")
    assert "rename" not in [b["name"] for b in client.branches(project)]
    assert "main" in [b["name"] for b in client.branches(project)]

    fork = client.fork(project, "flow-fork", ref=head)
    assert fork["name"] == "flow-fork"
    names = {p["name"] for p in client.projects()}
    assert {"flow", "flow-fork"} <= names
    assert client.pipeline_guid("flow-fork", "Sum") == flow.pipeline
    client.delete_project("flow-fork")
    with pytest.raises(NotFound):
        client.project("flow-fork")


def test_errors_carry_status_code_and_message(client, flow):
    with pytest.raises(NotFound) as e:
        client.project("no-such-project")
    assert (e.value.status, e.value.code) == (404, "NotFound")
    assert "no-such-project" in e.value.message

    with pytest.raises(Conflict) as e:
        client.create_project(flow.project)
    assert e.value.status == 409 and e.value.code == "AlreadyExists"

    # A connection outside a pipeline breaks a meta-type rule: 422, nothing changes.
    before = client.tree(flow.project)["commit"]
    b = client.builder(flow.project)
    b.create(b.tree["root"], kiln.client.meta_guid("Connection"))
    with pytest.raises(FailedPrecondition) as e:
        b.commit("a connection in the wrong place")
    assert e.value.status == 422 and e.value.code == "FailedPrecondition"
    assert "rule connection-in-pipeline" in e.value.message
    assert client.tree(flow.project)["commit"] == before

    with pytest.raises(FailedPrecondition) as e:
        client.builder(flow.project).add_operation("Broken", "class Broken(:\n    pass\n")
    assert e.value.line == 1 and e.value.column is not None

    with pytest.raises(BadRequest) as e:
        client.commits(flow.project, limit=0)
    assert e.value.status == 400

    with pytest.raises(NotFound, match="no pipeline named 'Nope'"):
        client.run(flow.project, "Nope")
    with pytest.raises(KeyError, match="has no output 'sum'"):
        b = client.builder(flow.project)
        t = b.add_instance(flow.pipeline, "Total")
        b.connect(t, "sum", t, "numbers")

    with pytest.raises(ValueError, match="64 lowercase hex"):
        client.builder(flow.project).add_input(flow.pipeline, "not-a-digest")


def test_upload_and_download_stream_with_progress(client, flow, tmp_path):
    data = os.urandom(2 * MiB + 12345)
    src = tmp_path / "blob.bin"
    src.write_bytes(data)
    sent = []
    up = client.upload(flow.project, src, name="blob.bin", progress=lambda n, total: sent.append((n, total)))
    # One call per MiB read from the file: the body never sits in memory whole.
    assert sent == [(MiB, len(data)), (2 * MiB, len(data)), (len(data), len(data))]
    assert up["size"] == len(data)

    got = []
    dest = tmp_path / "copy.bin"
    client.download(up["digest"], dest, project=flow.project,
                    progress=lambda n, total: got.append((n, total)))
    assert dest.read_bytes() == data
    assert got[-1] == (len(data), len(data)) and len(got) >= 3
    assert [n for n, _ in got] == sorted(n for n, _ in got)

    missing = tmp_path / "missing.bin"
    with pytest.raises(NotFound):
        client.download("0" * 64, missing)
    assert not missing.exists() and not (tmp_path / "missing.bin.part").exists()

    # Over the server's --max-artifact-mb 3: refused from the headers.
    big = tmp_path / "big.bin"
    with open(big, "wb") as f:
        f.truncate(3 * MiB + 1)
    with pytest.raises(PayloadTooLarge) as e:
        client.upload(flow.project, big)
    assert e.value.status == 413


def test_events_can_be_followed_while_a_job_runs(client, tmp_path):
    project = "live"
    client.create_project(project)
    b = client.builder(project)
    ticker = b.add_operation(None, '''\
import time

import kiln


class Tick(kiln.Operation):
    def __init__(self, count: int = 5):
        self.count = count

    def execute(self) -> int:
        for i in range(self.count):
            print("tick", i, flush=True)
            time.sleep(0.15)
        done = self.count
        return done
''')
    pipeline = b.add_pipeline("Ticks")
    b.add_instance(pipeline, ticker)
    b.commit("a slow operation")
    ex = client.run(project, pipeline, wait=False)
    assert not ex.done
    job = ex.job("Tick")["id"]
    lines = [e["payload"]["line"] for e in client.follow_events(job, kind="log", timeout=60)]
    assert lines == [f"tick {i}" for i in range(5)]
    assert ex.wait(timeout=30).succeeded
    # Reading again from a cursor: only what came after it.
    all_events = client.events(job)["events"]
    later = client.events(job, after=all_events[1]["seq"])["events"]
    assert later == all_events[2:]


def test_project_export_and_import(client, flow, tmp_path):
    path = tmp_path / "flow.kiln"
    client.export_project(flow.project, path, progress=lambda n, total: None)
    assert path.stat().st_size > 0
    imported = client.import_project(path, "flow-copy")
    assert imported["name"] == "flow-copy" and imported["objects"] > 0
    assert client.tree("flow-copy")["commit"] == client.tree(flow.project)["commit"]
    with pytest.raises(Conflict):
        client.import_project(path, "flow-copy")


def test_importing_kiln_does_not_import_the_client():
    code = ("import sys, kiln; assert 'http.client' not in sys.modules and 'kiln.client' not in "
            "sys.modules; from kiln import Client, KilnError, PatchBuilder; "
            "assert Client.__module__ == 'kiln.client'")
    env = dict(os.environ, PYTHONPATH=str(ROOT / "python"))
    subprocess.run([sys.executable, "-c", code], check=True, env=env, timeout=30)


def test_pip_installs_the_package(tmp_path):
    target = tmp_path / "site"
    out = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-index",
                          "--no-build-isolation", "--target", str(target), str(ROOT / "python")],
                         capture_output=True, text=True, timeout=120, cwd=tmp_path)
    if out.returncode != 0 and "No module named pip" in out.stderr:
        pytest.skip("this Python has no pip")
    assert out.returncode == 0, out.stderr
    dist = list(target.glob("kiln-*.dist-info"))
    assert [d.name for d in dist] == [f"kiln-{kiln.__version__}.dist-info"]
    code = "import kiln; from kiln import Client; print(kiln.__file__, kiln.__version__)"
    shown = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           env=dict(os.environ, PYTHONPATH=str(target)), cwd=tmp_path, timeout=30)
    assert shown.stdout.split() == [str(target / "kiln" / "__init__.py"), kiln.__version__]


def test_the_quick_start_of_the_docs_runs(server, tmp_path):
    doc = (ROOT / "docs" / "python-client.md").read_text()
    section = doc.split("## Quick start", 1)[1]
    code = section.split("```python\n", 1)[1].split("```", 1)[0]
    env = dict(os.environ, PYTHONPATH=str(ROOT / "python"),
               KILN_URL=f"http://127.0.0.1:{server.port}")
    env.pop("KILN_TOKEN", None)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         cwd=tmp_path, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "Sum total = 310" in out.stdout
    assert "[Total] total 310" in out.stdout
    assert "'Parse': 'cached', 'Total': 'cached'" in out.stdout
