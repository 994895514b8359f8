"""Provenance end to end (docs/provenance.md) on a real `kiln serve` with
sign-in: a small pipeline (data.json → Scale → Total → Output) run by
alice; its outputs' lineage down to the upload, the cache hit that keeps
the producer, PROV-JSON, isolation from bob's project (which hits the same
cache entry), reify onto a branch whose run is all cached, and export to a
folder that runs with plain python3.
"""
import io
import json
import os
import subprocess
import sys
import time
import uuid
import zipfile

import pytest

from kiln_server import Kiln, commit, meta_guids

SCALE = '''import kiln


class Scale(kiln.Operation):
    def __init__(self, factor: float = 2.0):
        self.factor = factor

    def execute(self, values):
        kiln.log_metric("factor", self.factor)
        scaled = [v * self.factor for v in values]
        return scaled
'''

TOTAL = '''class Total:
    def execute(self, scaled):
        total = sum(scaled)
        return total
'''

DATA = b"[1, 2, 3.5]"


@pytest.fixture(scope="module")
def kiln():
    k = Kiln("--auth", users=("alice", "bob"))
    yield k
    k.stop()


def build_pipeline(kiln, project, user, data_digest, factor=3.0, scale_code=SCALE,
                   total_code=TOTAL, total_attrs=None):
    """Creates the definitions and the pipeline; returns the pipeline's guid."""
    m = meta_guids(kiln, project, user)
    g = {k: str(uuid.uuid4()) for k in ("pipe", "in", "scale", "total", "out",
                                         "i_in", "i_scale", "i_total", "i_out")}
    port = lambda d, name: str(uuid.uuid5(uuid.UUID(g[d]), name))  # noqa: E731
    ops = [{"op": "create", "guid": g["pipe"], "parent": m["ROOT"], "base": m["Pipeline"],
            "attrs": {"name": "Sum of scaled"}}]

    def definition(key, attrs, ports):
        ops.append({"op": "create", "guid": g[key], "parent": m["ROOT"], "base": m["Operation"],
                    "attrs": attrs})
        for direction, name in ports:
            ops.append({"op": "create", "guid": port(key, direction + name), "parent": g[key],
                        "base": m["Port"], "attrs": {"name": name, "direction": direction}})

    definition("in", {"name": "Input", "kind": "input"}, [("output", "data")])
    definition("scale", {"name": "Scale", "code": scale_code, "factor": 2.0},
               [("input", "values"), ("output", "scaled")])
    definition("total", {"name": "Total", "code": total_code, **(total_attrs or {})},
               [("input", "scaled"), ("output", "total")])
    definition("out", {"name": "Output", "kind": "output"}, [("input", "data")])
    instances = {
        "i_in": ("in", {"name": "data.json", "artifact": data_digest, "serializer": "json"}),
        "i_scale": ("scale", {"name": "Scale", "factor": factor}),
        "i_total": ("total", {"name": "Total"}),
        "i_out": ("out", {"name": "total.json"}),
    }
    for key, (definition_key, attrs) in instances.items():
        ops.append({"op": "create", "guid": g[key], "parent": g["pipe"], "base": g[definition_key],
                    "attrs": attrs})

    commit(kiln, project, ops, user=user)
    tree = kiln.api("GET", f"/projects/{project}/tree", user=user).json()["tree"]["nodes"]

    def port_of(key, name):
        for guid, n in tree.items():
            if n.get("parent") == g[key] and (n.get("attrs") or {}).get("name") == name:
                return guid
        # Inherited children may keep the base's name only through `base`.
        for guid, n in tree.items():
            if n.get("parent") == g[key] and tree.get(n.get("base"), {}).get("attrs", {}).get("name") == name:
                return guid
        raise AssertionError(f"no port {name} on {key}")

    wires = [("i_in", "data", "i_scale", "values"), ("i_scale", "scaled", "i_total", "scaled"),
             ("i_total", "total", "i_out", "data")]
    commit(kiln, project, [
        {"op": "create", "guid": str(uuid.uuid4()), "parent": g["pipe"], "base": m["Connection"],
         "attrs": {}, "pointers": {"src": port_of(a, ao), "dst": port_of(b, bi)}}
        for a, ao, b, bi in wires], user=user)
    return g["pipe"]


def run(kiln, project, user, pipeline, ref="main", force=False):
    r = kiln.api("POST", f"/projects/{project}/executions",
                 {"pipeline": pipeline, "ref": ref, "force": force}, user=user)
    assert r.status == 201, r
    execution = r.json()["id"]
    deadline = time.time() + 120
    while time.time() < deadline:
        e = kiln.api("GET", f"/executions/{execution}", user=user).json()
        if e["state"] != "running":
            assert e["state"] == "succeeded", e
            return e
        time.sleep(0.2)
    raise AssertionError("the execution did not finish")


@pytest.fixture(scope="module")
def alice_run(kiln):
    assert kiln.api("POST", "/projects", {"name": "lab"}, user="alice").status == 201
    up = kiln.api("POST", "/projects/lab/artifacts?name=data.json&serializer=json", DATA,
                  user="alice")
    assert up.status == 201, up
    data = up.json()["digest"]
    pipeline = build_pipeline(kiln, "lab", "alice", data)
    first = run(kiln, "lab", "alice", pipeline)
    jobs = {j["name"]: j for j in first["jobs"]}
    return {"data": data, "pipeline": pipeline, "execution": first, "jobs": jobs,
            "total": jobs["Total"]["outputs"]["total"]["digest"],
            "scaled": jobs["Scale"]["outputs"]["scaled"]["digest"]}


def lineage(kiln, digest, user="alice", project="lab", **query):
    qs = "&".join(f"{k}={v}" for k, v in query.items())
    return kiln.api("GET", f"/projects/{project}/artifacts/{digest}/provenance?{qs}", user=user)


def test_lineage_of_an_output_reaches_the_uploaded_data(kiln, alice_run):
    r = lineage(kiln, alice_run["total"])
    assert r.status == 200, r
    g = r.json()
    assert g["artifact"] == alice_run["total"] and g["truncated"] is False
    jobs = {j["name"]: j for j in g["jobs"]}
    assert set(jobs) == {"Scale", "Total"}
    assert jobs["Total"]["id"] == alice_run["jobs"]["Total"]["id"]
    assert jobs["Total"]["inputs"] == {"scaled": alice_run["scaled"]}
    assert jobs["Scale"]["inputs"] == {"values": alice_run["data"]}
    scale_op = g["operations"][jobs["Scale"]["operation"]]
    assert scale_op["code"] == SCALE and scale_op["attributes"] == {"factor": 3.0}
    assert scale_op["port_types"] == {"input/values": "any", "output/scaled": "any"}
    runtime = jobs["Scale"]["runtime"]
    assert runtime["backend"] == "local" and runtime["python"] and runtime["kiln"] and runtime["host"]
    assert jobs["Scale"]["commit"] == alice_run["execution"]["commit"]
    data = [a for a in g["artifacts"] if a["digest"] == alice_run["data"]][0]
    assert data["origin"] == {"kind": "upload", "user": "alice", "source": "data.json",
                              "created_ms": data["origin"]["created_ms"]}
    assert data["name"] == "data.json" and data["level"] == 2
    assert {(u["job"], u["input"]) for u in g["used"]} == {
        (jobs["Scale"]["id"], "values"), (jobs["Total"]["id"], "scaled")}


def test_lineage_down_and_depth(kiln, alice_run):
    down = lineage(kiln, alice_run["data"], direction="down").json()
    assert {j["name"] for j in down["jobs"]} >= {"Scale", "Total"}
    assert all(j["level"] < 0 for j in down["jobs"])
    shallow = lineage(kiln, alice_run["total"], depth=1).json()
    assert shallow["truncated"] is True and [j["name"] for j in shallow["jobs"]] == ["Total"]
    for bad in ({"depth": "x"}, {"depth": "100001"}, {"direction": "sideways"}, {"format": "xml"}):
        r = lineage(kiln, alice_run["total"], **bad)
        assert r.status == 400, (bad, r)
    assert lineage(kiln, "0" * 64).status == 404
    assert lineage(kiln, "nothex").status == 400


def test_a_cache_hit_keeps_the_original_producer(kiln, alice_run):
    again = run(kiln, "lab", "alice", alice_run["pipeline"])
    assert {j["state"] for j in again["jobs"] if j["name"] in ("Scale", "Total")} == {"cached"}
    up = lineage(kiln, alice_run["total"]).json()
    total = [j for j in up["jobs"] if j["name"] == "Total"][0]
    assert total["id"] == alice_run["jobs"]["Total"]["id"]  # the original, not the hit
    down = lineage(kiln, alice_run["data"], direction="down").json()
    cached = [j for j in down["jobs"] if j["state"] == "cached"]
    assert cached, down["jobs"]
    originals = {alice_run["jobs"]["Scale"]["id"], alice_run["jobs"]["Total"]["id"]}
    assert all(j["cached_from"]["job"] in originals for j in cached)
    assert all(j["cached_from"]["execution"] == alice_run["execution"]["id"] for j in cached)


def test_prov_json(kiln, alice_run):
    r = lineage(kiln, alice_run["total"], format="prov")
    assert r.status == 200 and "attachment" in r.headers.get("Content-Disposition", "")
    prov = r.json()
    assert f"artifact:{alice_run['data']}" in prov["entity"]
    assert len(prov["activity"]) == 2 and len(prov["used"]) == 2
    assert len(prov["wasGeneratedBy"]) == 2
    assert list(prov["wasAttributedTo"].values())[0]["prov:agent"] == "user:alice"
    assert "user:alice" in prov["agent"]


def test_another_project_never_reaches_alices_records(kiln, alice_run):
    # bob may not read lab at all.
    assert lineage(kiln, alice_run["total"], user="bob").status in (403, 404)
    # bob's own project, the same bytes and the same pipeline: his jobs hit
    # alice's cache entries, and his lineage says only that.
    assert kiln.api("POST", "/projects", {"name": "bench"}, user="bob").status == 201
    up = kiln.api("POST", "/projects/bench/artifacts?name=mine.json&serializer=json", DATA,
                  user="bob")
    assert up.json()["digest"] == alice_run["data"]
    pipeline = build_pipeline(kiln, "bench", "bob", alice_run["data"])
    e = run(kiln, "bench", "bob", pipeline)
    assert {j["state"] for j in e["jobs"] if j["name"] in ("Scale", "Total")} == {"cached"}
    g = lineage(kiln, alice_run["total"], user="bob", project="bench").json()
    assert {j["execution"] for j in g["jobs"]} == {e["id"]}
    assert all(j["cached_from"] == {"other_project": True} for j in g["jobs"])
    data = [a for a in g["artifacts"] if a["digest"] == alice_run["data"]][0]
    assert data["origin"]["user"] == "bob" and data["origin"]["source"] == "mine.json"
    assert "alice" not in json.dumps(g)


def test_reify_makes_a_pipeline_whose_run_is_all_cached(kiln, alice_run):
    r = kiln.api("POST", f"/projects/lab/artifacts/{alice_run['total']}/reify",
                 {"branch": "again"}, user="alice")
    assert r.status == 201, r
    reified = r.json()
    assert reified["branch"] == "again" and reified["notes"] == []
    assert sorted(reified["jobs"].values()) == sorted(
        [alice_run["jobs"]["Scale"]["id"], alice_run["jobs"]["Total"]["id"]])
    # The same operations (definitions reused), attributes and wiring.
    tree = kiln.api("GET", "/projects/lab/tree?ref=again", user="alice").json()["tree"]["nodes"]
    instances = [n for n in tree.values() if n.get("parent") == reified["pipeline"]]
    names = sorted((n.get("attrs") or {}).get("name", "") for n in instances
                   if n.get("base") and tree.get(n["base"], {}).get("attrs", {}).get("name") != "Connection")
    assert names == sorted(["data.json", "Scale", "Total", "total.json"] +
                           [""] * (len(names) - 4))
    scale = [n for n in instances if (n.get("attrs") or {}).get("name") == "Scale"][0]
    assert tree[scale["base"]]["attrs"]["code"] == SCALE
    assert scale["attrs"].get("factor", tree[scale["base"]]["attrs"]["factor"]) == 3.0
    e = run(kiln, "lab", "alice", reified["pipeline"], ref="again")
    states = {j["name"]: j["state"] for j in e["jobs"]}
    assert states["Scale"] == "cached" and states["Total"] == "cached", states
    # Forced, deterministic operations make the same bytes.
    forced = run(kiln, "lab", "alice", reified["pipeline"], ref="again", force=True)
    outs = {j["name"]: j["outputs"] for j in forced["jobs"]}
    assert outs["Total"]["total"]["digest"] == alice_run["total"]


def test_reify_refusals(kiln, alice_run):
    path = f"/projects/lab/artifacts/{alice_run['total']}/reify"
    assert kiln.api("POST", path, {"branch": "again2"}, user="alice").status == 201
    assert kiln.api("POST", path, {"branch": "again2"}, user="alice").status == 409
    assert kiln.api("POST", path, {"nobranch": 1}, user="alice").status == 400
    upload = kiln.api("POST", f"/projects/lab/artifacts/{alice_run['data']}/reify",
                      {"branch": "x"}, user="alice")
    assert upload.status == 422 and "upload" in upload.json()["error"]["message"]
    assert kiln.api("POST", f"/projects/lab/artifacts/{'0' * 64}/reify", {"branch": "y"},
                    user="alice").status == 404
    assert kiln.api("POST", path, {"branch": "z"}, user="bob").status in (403, 404)
    branches = [b["name"] for b in kiln.api("GET", "/projects/lab/branches", user="alice").json()["branches"]]
    assert "x" not in branches and "y" not in branches and "z" not in branches


def test_export_runs_with_plain_python(kiln, alice_run, tmp_path):
    r = kiln.request("GET", f"/api/v1/projects/lab/pipelines/{alice_run['pipeline']}/export",
                     user="alice")
    assert r.status == 200, r
    assert r.headers["Content-Type"] == "application/zip"
    assert 'filename="Sum_of_scaled.zip"' in r.headers["Content-Disposition"] or \
        "Sum" in r.headers["Content-Disposition"]
    zipfile.ZipFile(io.BytesIO(r.body)).extractall(tmp_path)
    (folder,) = [p for p in tmp_path.iterdir() if p.is_dir()]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    work = tmp_path / "work"
    work.mkdir()
    done = subprocess.run([sys.executable if sys.executable.startswith("/usr/bin") else "/usr/bin/python3",
                           str(folder / "main.py"), "--out", str(work / "out")],
                          cwd=work, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    produced = list((work / "out").rglob("total.json*"))
    assert produced, list((work / "out").rglob("*"))
    got = kiln.request("GET", f"/api/v1/artifacts/{alice_run['total']}?project=lab", user="alice")
    assert produced[0].read_bytes() == got.body
    # Bad queries and other projects' readers.
    assert kiln.api("GET", f"/projects/lab/pipelines/{alice_run['pipeline']}/export?inputs=x",
                    user="alice").status == 400
    assert kiln.api("GET", f"/projects/lab/pipelines/{uuid.uuid4()}/export",
                    user="alice").status == 404
    assert kiln.api("GET", f"/projects/lab/pipelines/{alice_run['pipeline']}/export",
                    user="bob").status in (403, 404)


def reproduce(kiln, digest, project="lab"):
    return subprocess.run([str(kiln_binary()), "reproduce", digest, "--project", project,
                           "--server", f"http://127.0.0.1:{kiln.port}",
                           "--token", kiln.tokens["alice"]],
                          capture_output=True, text=True, timeout=180)


def kiln_binary():
    from kiln_server import KILN
    return KILN


def test_kiln_reproduce_reports_matching_digests(kiln, alice_run):
    done = reproduce(kiln, alice_run["total"])
    assert done.returncode == 0, done.stdout + done.stderr
    assert "reproduce/" + alice_run["total"][:12] + "-1" in done.stdout
    assert f"Total.total  {alice_run['total'][:12]}  matched" in done.stdout
    assert "2 output(s) matched, 0 differ" in done.stdout
    # A second time: the next free branch.
    again = reproduce(kiln, alice_run["total"])
    assert "-2" in again.stdout and again.returncode == 0, again.stdout + again.stderr


NOISY = SCALE.replace("import kiln", "import random\nimport kiln").replace(
    "v * self.factor", "v * self.factor + random.random()")


def test_kiln_reproduce_names_what_differs(kiln, alice_run):
    pipeline = build_pipeline(kiln, "lab", "alice", alice_run["data"], factor=5.0,
                              scale_code=NOISY)
    e = run(kiln, "lab", "alice", pipeline)
    total = [j for j in e["jobs"] if j["name"] == "Total"][0]["outputs"]["total"]["digest"]
    done = reproduce(kiln, total)
    assert done.returncode == 4, done.stdout + done.stderr
    assert "Scale.scaled" in done.stdout and "DIFFERS" in done.stdout
    bad = reproduce(kiln, "0" * 64)
    assert bad.returncode == 1 and "no artifact" in bad.stderr
