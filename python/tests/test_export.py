"""kiln.export: an export plan becomes a folder (or zip) that runs with plain Python.

The plans are built here (no server): a small numeric pipeline, the digits example
(its operations, pipeline.json wiring and architecture), a pipeline whose input is
downloaded from a local HTTP server, and malformed plans.  The exported ``main.py``
always runs in a fresh process whose PYTHONPATH does not hold Kiln's python folder,
from a working directory outside the repository, so only the shipped shim can
answer ``import kiln``.
"""
import hashlib
import http.server
import json
import os
import stat
import subprocess
import threading
import zipfile

import pytest

from conftest import PYTHON, PYTHON_DIR
from kiln import export
from kiln.export_plan import PlanError, check
from kiln.interface import parse_interface

ROOT = os.path.dirname(PYTHON_DIR)
DIGITS = os.path.join(ROOT, "examples", "digits")

SCALE = '''import json

import kiln


class Scale(kiln.Operation):
    """Multiplies every number and adds an offset."""

    def __init__(self, factor=2, offset=0.5):
        self.factor, self.offset = factor, offset

    def execute(self, data):
        values = json.loads(data) if isinstance(data, bytes) else data
        for i in range(len(values)):
            kiln.progress(i + 1, len(values))
        scaled = [v * self.factor + self.offset for v in values]
        return scaled
'''

TOTAL = '''import kiln


class Total(kiln.Operation):
    def __init__(self, power: int = 1, label="sum", squash=False, extra=None):
        self.power, self.label, self.squash, self.extra = power, label, squash, extra

    async def execute(self, values):
        total = sum(v ** self.power for v in values)
        if self.squash:
            total = min(total, 1.0)
        kiln.log_metric(self.label, total)
        return {"total": total, "count": len(values) + len(self.extra or [])}
'''


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def clean_env(**extra) -> dict:
    """The environment of a user without Kiln: PYTHONPATH has no Kiln python folder."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "MPLBACKEND", "KILN_EVENTS_FD", "KILN_EVENTS_PATH",
                        "KILN_EVENTS", "KILN_TOKEN")}
    env.update(extra)
    return env


def run_main(folder, cwd, *args, env=None, timeout=120):
    return subprocess.run([PYTHON, os.path.join(folder, "main.py"), *args], cwd=str(cwd),
                          env=env or clean_env(), capture_output=True, text=True,
                          timeout=timeout)


def numbers_plan(tmp_path, mode="bundle", server="http://127.0.0.1:9"):
    """Input (JSON bytes) -> Scale -> Scale (same code, another name's twin) -> Total -> Output."""
    data = b"[1, 2, 3, 4]"
    path = tmp_path / "store" / "nums"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return {
        "format": "kiln-export-plan/1", "project": "demo project", "commit": "c0ffee" * 6,
        "kiln_version": "0.1.0", "pipeline": {"guid": "g-1", "name": "Small numbers"},
        "server": server, "inputs_mode": mode,
        "jobs": [
            {"node": "n0", "name": "Scale", "kind": "operation", "definition": "d0",
             "code": SCALE, "attributes": {"factor": 3, "offset": 0.5},
             "inputs": ["data"], "outputs": ["scaled"], "resources": {}},
            {"node": "n1", "name": "nums.json", "kind": "input", "inputs": [],
             "outputs": ["data"], "artifact": {"digest": sha256(data), "serializer": "raw",
                                               "size": len(data), "path": str(path)}},
            {"node": "n2", "name": "Scale", "kind": "operation", "definition": "d0",
             "code": SCALE, "attributes": {"factor": 1, "offset": 0.0},
             "inputs": ["data"], "outputs": ["scaled"]},
            {"node": "n3", "name": "Total", "kind": "operation", "code": TOTAL,
             "attributes": {"power": 2, "label": "sum of squares", "squash": False,
                            "extra": None},
             "inputs": ["values"], "outputs": ["total", "count"]},
            {"node": "n4", "name": "Result", "kind": "output", "inputs": ["total", "count"],
             "outputs": []},
        ],
        "edges": [
            {"from": 1, "output": "data", "to": 0, "input": "data"},
            {"from": 0, "output": "scaled", "to": 2, "input": "data"},
            {"from": 2, "output": "scaled", "to": 3, "input": "values"},
            {"from": 3, "output": "total", "to": 4, "input": "total"},
            {"from": 3, "output": "count", "to": 4, "input": "count"},
        ],
        "files": {},
        "requirements": "",
    }


def expected_total(values, factor1=3, offset1=0.5, factor2=1, offset2=0.0, power=2):
    return sum(((v * factor1 + offset1) * factor2 + offset2) ** power for v in values)


def read_outputs(out):
    with open(os.path.join(out, "Result", "total")) as f:
        total = json.load(f)
    with open(os.path.join(out, "Result", "count")) as f:
        count = json.load(f)
    return total, count


def test_kiln_is_not_importable_without_kiln_python_folder(tmp_path):
    # The premise of the runs below: outside the repo, without PYTHONPATH, no kiln.
    r = subprocess.run([PYTHON, "-c", "import kiln"], cwd=str(tmp_path), env=clean_env(),
                       capture_output=True, text=True)
    assert r.returncode != 0 and "No module named 'kiln'" in r.stderr


def test_numbers_folder_runs_and_options_change_the_result(tmp_path):
    plan = numbers_plan(tmp_path)
    folder = export.export(plan, str(tmp_path / "export"))
    assert os.path.basename(folder) == "Small_numbers"
    files = sorted(os.path.relpath(os.path.join(d, f), folder)
                   for d, _, fs in os.walk(folder) for f in fs)
    assert files == ["README.md", "inputs/nums.json", "kiln/__init__.py", "kiln/runtime.py",
                     "kiln/serializers.py", "kiln/standalone.py", "main.py",
                     "operations/__init__.py", "operations/scale.py", "operations/total.py"]
    # The operations' code verbatim (one module for the two Scale jobs), serializers vendored.
    assert open(os.path.join(folder, "operations", "scale.py")).read() == SCALE
    with open(os.path.join(PYTHON_DIR, "kiln", "serializers.py")) as f:
        assert open(os.path.join(folder, "kiln", "serializers.py")).read() == f.read()
    assert os.stat(os.path.join(folder, "main.py")).st_mode & stat.S_IXUSR
    main_py = open(os.path.join(folder, "main.py")).read()
    for flag in ("--scale-factor", "--scale-2-factor", "--total-power", "--total-label",
                 "--total-squash", "--total-extra"):
        assert f'"{flag}"' in main_py

    work = tmp_path / "work"
    work.mkdir()
    r = run_main(folder, work)
    assert r.returncode == 0, r.stderr
    assert "[1/5] Input nums.json" in r.stdout and "[5/5] Output Result" in r.stdout
    assert r.stdout.index("[2/5] Scale") < r.stdout.index("[3/5] Scale")
    # Only the shim prints metrics: Kiln's own kiln.log_metric is silent outside a job.
    total = expected_total([1, 2, 3, 4])
    assert f"metric sum of squares = {total:g}" in r.stdout
    assert read_outputs(work / "outputs") == (total, 4)
    manifest = json.load(open(work / "outputs" / "outputs.json"))
    assert manifest["Result/total"]["serializer"] == "json"
    metrics = [json.loads(line) for line in open(work / "outputs" / "metrics.jsonl")]
    assert metrics == [{"operation": "Total", "name": "sum of squares", "value": total,
                        "step": 0, "time": metrics[0]["time"]}]
    assert not (work / "outputs" / "figures").exists()

    r = run_main(folder, work, "--out", "again", "--scale-2-factor", "10", "--total-power", "1",
                 "--total-extra", "[7, 8]")
    assert r.returncode == 0, r.stderr
    assert read_outputs(work / "again") == (expected_total([1, 2, 3, 4], factor2=10, power=1),
                                            6)
    r = run_main(folder, work, "--out", "squashed", "--total-squash", "true")
    assert r.returncode == 0, r.stderr
    assert read_outputs(work / "squashed") == (1.0, 4)

    r = run_main(folder, work, "--total-power", "two")
    assert r.returncode == 2 and "--total-power" in r.stderr

    readme = open(os.path.join(folder, "README.md")).read()
    for text in ("`--scale-2-factor`", "demo project", "c0ffee" * 6, "0.1.0", "Small numbers",
                 "`<out>/Result/total`"):
        assert text in readme


def test_numbers_zip_runs_and_a_changed_input_is_refused(tmp_path):
    plan = numbers_plan(tmp_path)
    path = export.export(plan, str(tmp_path / "Small numbers.zip"))
    with zipfile.ZipFile(path) as zf:
        names = zf.namelist()
        assert all(n.startswith("Small_numbers/") for n in names)
        assert "Small_numbers/main.py" in names and "Small_numbers/inputs/nums.json" in names
        mode = zf.getinfo("Small_numbers/main.py").external_attr >> 16
        assert mode & stat.S_IXUSR
        zf.extractall(tmp_path / "unzipped")
    folder = tmp_path / "unzipped" / "Small_numbers"
    r = run_main(folder, tmp_path, "--out", str(tmp_path / "zip-out"), "--scale-offset", "1")
    assert r.returncode == 0, r.stderr
    assert read_outputs(tmp_path / "zip-out")[0] == expected_total([1, 2, 3, 4], offset1=1)

    (folder / "inputs" / "nums.json").write_bytes(b"[9]")
    r = run_main(folder, tmp_path)
    assert r.returncode == 2
    assert "input 'nums.json'" in r.stderr and "SHA-256" in r.stderr
    (folder / "inputs" / "nums.json").unlink()
    r = run_main(folder, tmp_path)
    assert r.returncode == 2 and "input 'nums.json'" in r.stderr and "missing" in r.stderr


def test_a_failing_operation_names_its_step(tmp_path):
    plan = numbers_plan(tmp_path)
    folder = export.export(plan, str(tmp_path / "export"))
    r = run_main(folder, tmp_path, "--scale-factor", "0", "--scale-offset", "0",
                 "--total-power", "-1")
    assert r.returncode == 1
    assert "ZeroDivisionError" in r.stderr and "[4/5] Total failed" in r.stderr


# --- the digits example ------------------------------------------------------------

# Used only when no Kiln binary can generate the architecture's code: the same layers as
# examples/digits/architectures/DigitsCNN.json, written as the generator writes them.
DIGITS_CNN_STAND_IN = '''# STAND-IN for the code Kiln generates from DigitsCNN (tests only).
import torch
from torch import nn


class DigitsCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 3, padding=1)
        self.relu1 = nn.ReLU()
        self.conv2 = nn.Conv2d(16, 32, 3, padding=1)
        self.relu2 = nn.ReLU()
        self.pool = nn.MaxPool2d(2)
        self.flatten = nn.Flatten()
        self.fc1 = nn.Linear(512, 64)
        self.relu3 = nn.ReLU()
        self.fc2 = nn.Linear(64, 10)

    def forward(self, image):
        return self.fc2(self.relu3(self.fc1(self.flatten(self.pool(self.relu2(self.conv2(
            self.relu1(self.conv1(image)))))))))
'''


def kiln_binary():
    for path in (os.environ.get("KILN_BIN"), os.environ.get("KILN_BINARY"),
                 os.path.join(ROOT, "build", "src", "cli", "kiln"), "/tmp/kiln-snap/kiln"):
        if path and os.access(path, os.X_OK):
            return path
    return None


def digits_cnn_code():
    """The generated DigitsCNN module: from the C++ generator when a binary exists."""
    with open(os.path.join(DIGITS, "architectures", "DigitsCNN.json")) as f:
        document = f.read()
    binary = kiln_binary()
    if binary:
        r = subprocess.run([binary, "nn", "analyze", "-"], input=document, capture_output=True,
                           text=True, timeout=60)
        if r.returncode == 0:
            analysis = json.loads(r.stdout)
            assert analysis["ok"], analysis["errors"]
            return analysis["code"], analysis["main"]
    return DIGITS_CNN_STAND_IN, "DigitsCNN"


def digits_plan(arch_code, arch_class):
    """examples/digits as the server would plan it, with small attributes and two Outputs."""
    definitions = {}
    for name in sorted(os.listdir(os.path.join(DIGITS, "operations"))):
        with open(os.path.join(DIGITS, "operations", name)) as f:
            code = f.read()
        definitions[parse_interface(code)["name"]] = code
    with open(os.path.join(DIGITS, "pipeline.json")) as f:
        pipeline = json.load(f)
    small = {"Train": {"epochs": 1, "batch_size": 128}, "Split": {"test_fraction": 0.5}}
    arch_file = "kiln_architecture_d01b26b233b5.py"
    jobs, index = [], {}
    for instance in pipeline["operations"]:
        code = definitions[instance["operation"]]
        interface = parse_interface(code)
        attributes = {a["name"]: a["default"] for a in interface["attributes"]}
        attributes.update(small.get(instance["operation"], {}))
        index[instance["id"]] = len(jobs)
        jobs.append({"node": instance["id"], "name": instance["operation"], "kind": "operation",
                     "code": code, "attributes": attributes,
                     "inputs": [p["name"] for p in interface["inputs"]],
                     "outputs": [p["name"] for p in interface["outputs"]],
                     "resources": {ref: {"file": arch_file, "class": arch_class}
                                   for ref in instance.get("references", {})}})
    edges = []
    for src, dst in pipeline["connections"]:
        (a, out), (b, inp) = src.split("."), dst.split(".")
        edges.append({"from": index[a], "output": out, "to": index[b], "input": inp})
    for name, (src, out) in (("Model", ("train", "model")), ("Accuracy", ("score", "accuracy"))):
        edges.append({"from": index[src], "output": out, "to": len(jobs), "input": "data"})
        jobs.append({"node": name, "name": name, "kind": "output", "inputs": ["data"],
                     "outputs": []})
    return {"format": "kiln-export-plan/1", "project": "digits", "commit": "0" * 40,
            "kiln_version": "0.1.0", "pipeline": {"guid": "p", "name": pipeline["name"]},
            "server": "http://127.0.0.1:8080", "inputs_mode": "bundle", "jobs": jobs,
            "edges": edges, "files": {arch_file: arch_code}, "requirements": "scikit-learn\n"}


def test_the_stand_in_matches_the_architecture_document():
    torch = pytest.importorskip("torch")
    from kiln.nn.build import build_module
    namespace = {}
    exec(DIGITS_CNN_STAND_IN, namespace)
    with open(os.path.join(DIGITS, "architectures", "DigitsCNN.json")) as f:
        built = build_module(json.load(f))
    stand_in = namespace["DigitsCNN"]()
    assert [p.shape for p in stand_in.parameters()] == [p.shape for p in built.parameters()]
    assert stand_in(torch.zeros(3, 1, 8, 8)).shape == (3, 10)


def test_digits_exports_trains_and_its_model_loads(tmp_path):
    torch = pytest.importorskip("torch")
    pytest.importorskip("sklearn")
    pytest.importorskip("matplotlib")
    code, cls = digits_cnn_code()
    plan = digits_plan(code, cls)
    folder = export.export(plan, str(tmp_path / "export"))
    assert os.path.basename(folder) == "Digits_classifier"
    assert open(os.path.join(folder, "requirements.txt")).read() == "scikit-learn\n"
    assert open(os.path.join(folder, "kiln_architecture_d01b26b233b5.py")).read() == code
    main_py = open(os.path.join(folder, "main.py")).read()
    assert f"from kiln_architecture_d01b26b233b5 import {cls}" in main_py
    assert "--train-epochs" in main_py and "--split-test-fraction" in main_py

    r = run_main(folder, tmp_path, timeout=180)
    assert r.returncode == 0, r.stdout + r.stderr
    for n, step in enumerate(["LoadDigits", "Split", "Train", "Score"], 1):
        assert f"[{n}/6] {step}" in r.stdout
    assert "epoch 1/1" in r.stdout
    out = tmp_path / "outputs"
    manifest = json.load(open(out / "outputs.json"))
    assert manifest["Model"]["serializer"] == "torch"
    state = torch.load(str(out / "Model"))
    namespace = {}
    exec(code, namespace)
    net = namespace[cls]()
    net.load_state_dict(state)  # the saved weights are the architecture's
    accuracy = json.load(open(out / "Accuracy"))
    assert 0.0 <= accuracy <= 1.0
    figures = sorted(os.listdir(out / "figures"))
    assert figures == ["Score-1.png", "Train-1.png"]
    assert open(out / "figures" / "Train-1.png", "rb").read(8) == b"\x89PNG\r\n\x1a\n"


# --- fetch mode ----------------------------------------------------------------------

class ArtifactServer:
    """Serves /api/v1/artifacts/<digest>?project=P from a dict; records each request."""

    def __init__(self, blobs: dict, token: str):
        self.blobs, self.token, self.requests = blobs, token, []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                outer.requests.append((self.path, self.headers.get("Authorization")))
                if self.headers.get("Authorization") != f"Bearer {outer.token}":
                    self.send_error(401)
                    return
                digest = self.path.split("?")[0].rsplit("/", 1)[-1]
                if not self.path.startswith("/api/v1/artifacts/") or digest not in outer.blobs:
                    self.send_error(404)
                    return
                body = outer.blobs[digest]
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def artifact_server():
    servers = []

    def start(blobs, token="s3cret"):
        servers.append(ArtifactServer(blobs, token))
        return servers[-1]

    yield start
    for s in servers:
        s.close()


def test_fetch_downloads_checks_and_caches_the_input(tmp_path, artifact_server):
    data = b"[1, 2, 3, 4]"
    server = artifact_server({sha256(data): data})
    plan = numbers_plan(tmp_path, mode="fetch", server=server.url)
    plan["jobs"][1]["artifact"]["path"] = None  # fetch needs no store path
    folder = export.export(plan, str(tmp_path / "export"))
    assert os.listdir(os.path.join(folder, "inputs")) == [".gitkeep"]

    r = run_main(folder, tmp_path)
    assert r.returncode == 2 and "HTTP 401" in r.stderr and "KILN_TOKEN" in r.stderr
    r = run_main(folder, tmp_path, env=clean_env(KILN_TOKEN="s3cret"))
    assert r.returncode == 0, r.stderr
    assert read_outputs(tmp_path / "outputs") == (expected_total([1, 2, 3, 4]), 4)
    path, auth = server.requests[-1]
    assert path == f"/api/v1/artifacts/{sha256(data)}?project=demo%20project"
    assert auth == "Bearer s3cret"
    with open(os.path.join(folder, "inputs", "nums.json"), "rb") as f:
        assert f.read() == data
    asked = len(server.requests)
    r = run_main(folder, tmp_path, "--out", "second")
    assert r.returncode == 0, r.stderr  # cached: no token needed, no request made
    assert len(server.requests) == asked


def test_fetch_refuses_bytes_that_differ_from_the_digest(tmp_path, artifact_server):
    data = b"[1, 2, 3, 4]"
    server = artifact_server({sha256(data): b"[6, 6, 6]"})
    plan = numbers_plan(tmp_path, mode="fetch", server=server.url)
    folder = export.export(plan, str(tmp_path / "export"))
    r = run_main(folder, tmp_path, env=clean_env(KILN_TOKEN="s3cret"))
    assert r.returncode == 2
    assert "input 'nums.json'" in r.stderr and "SHA-256" in r.stderr
    assert not os.path.exists(os.path.join(folder, "inputs", "nums.json"))
    server.blobs.clear()
    r = run_main(folder, tmp_path, env=clean_env(KILN_TOKEN="s3cret"))
    assert r.returncode == 2 and "HTTP 404" in r.stderr


# --- malformed plans -----------------------------------------------------------------

def broken(tmp_path, change):
    plan = numbers_plan(tmp_path)
    change(plan)
    return plan


def _cycle(plan):
    plan["edges"][0] = {"from": 3, "output": "total", "to": 0, "input": "data"}


def _set(path, value):
    def change(plan):
        target = plan
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
    return change


def _drop(path):
    def change(plan):
        target = plan
        for key in path[:-1]:
            target = target[key]
        del target[path[-1]]
    return change


MALFORMED = [
    ("format", _set(["format"], "kiln-export-plan/9"), "unknown plan format"),
    ("cycle", _cycle, "cycle"),
    ("edge-job", _set(["edges", 1, "to"], 17), "'to' names no job"),
    ("edge-output", _set(["edges", 1, "output"], "nope"), "has no output 'nope'"),
    ("edge-input", _set(["edges", 1, "input"], "nope"), "has no input 'nope'"),
    ("unfed-input", _drop(["edges", 4]), "input 'count' has no edge feeding it"),
    ("input-artifact", _drop(["jobs", 1, "artifact"]), "an Input without artifact"),
    ("input-digest", _set(["jobs", 1, "artifact", "digest"], "abc"), "64 lowercase hex"),
    ("input-file", _set(["jobs", 1, "artifact", "path"], "/nonexistent/x"), "does not exist"),
    ("kind", _set(["jobs", 2, "kind"], "script"), "unknown kind 'script'"),
    ("outputs", _set(["jobs", 3, "outputs"], ["total"]), "the code returns ['total', 'count']"),
    ("code", _set(["jobs", 0, "code"], "def f(:\n"), "syntax error"),
    ("mode", _set(["inputs_mode"], "carrier-pigeon"), "unknown inputs_mode"),
]


@pytest.mark.parametrize("change,message", [m[1:] for m in MALFORMED],
                         ids=[m[0] for m in MALFORMED])
def test_a_malformed_plan_exits_2_naming_the_problem(tmp_path, capsys, change, message):
    plan_path = tmp_path / "plan.json"
    plan_path.write_text(json.dumps(broken(tmp_path, change)))
    assert export.main([str(plan_path), str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert message in err, err
    assert not (tmp_path / "out" / "Small_numbers").exists()


def test_messages_name_the_job(tmp_path):
    with pytest.raises(PlanError, match=r"job 1 \('nums.json'\)"):
        check(broken(tmp_path, _drop(["jobs", 1, "artifact"])))
    with pytest.raises(PlanError, match=r"cycle: job 0 \('Scale'\) -> job 2 \('Scale'\) -> "
                                        r"job 3 \('Total'\) -> job 0 \('Scale'\)$"):
        check(broken(tmp_path, _cycle))


def test_the_command_line_exits_2_on_unreadable_plans(tmp_path):
    (tmp_path / "bad.json").write_text("{not json")
    env = dict(os.environ, PYTHONPATH=PYTHON_DIR)
    for args, message in ((["bad.json", "out.zip"], "is not JSON"),
                          (["missing.json", "out.zip"], "cannot read the plan"),
                          (["only-one"], "usage")):
        r = subprocess.run([PYTHON, "-m", "kiln.export", *args], cwd=str(tmp_path), env=env,
                           capture_output=True, text=True)
        assert r.returncode == 2 and message in r.stderr, r.stderr


def test_an_existing_folder_is_not_overwritten(tmp_path):
    plan = numbers_plan(tmp_path)
    export.export(plan, str(tmp_path / "out"))
    plan_path = tmp_path / "plan.json"
    plan_path.write_text(json.dumps(plan))
    assert export.main([str(plan_path), str(tmp_path / "out")]) == 1


def test_names_that_need_care(tmp_path):
    """Quotes, %, non-ASCII, two codes of one class name, a reserved Output name."""
    other_scale = SCALE.replace("v * self.factor + self.offset", "v * self.factor - self.offset")
    plan = numbers_plan(tmp_path)
    plan["pipeline"]["name"] = 'Ünïcode "quoted" 100% \\ pipeline'
    plan["jobs"][0]["name"] = 'Fït "it" 50%'
    plan["jobs"][0]["attributes"]["offset"] = 1.5
    plan["jobs"][2]["code"] = other_scale
    plan["jobs"][2]["attributes"] = {"factor": 2, "offset": 0.25}
    plan["jobs"][3]["attributes"]["label"] = 'it\'s "50%"\n'
    plan["jobs"][3]["attributes"]["extra"] = {"a": [1, None, True]}
    plan["jobs"][4]["name"] = "figures"
    checked = check(plan)
    assert checked.folder == "Ünïcode_quoted_100_pipeline"
    assert sorted(checked.modules) == ["scale", "scale_2", "total"]
    assert [o.flag for o in checked.jobs[0].options] == ["--fit-it-50-factor",
                                                         "--fit-it-50-offset"]
    assert checked.jobs[4].output_names == {"total": "figures-2/total",
                                            "count": "figures-2/count"}
    folder = export.export(plan, str(tmp_path / "export"))
    main_py = open(os.path.join(folder, "main.py"), encoding="utf-8").read()
    assert "from operations.scale_2 import Scale as Scale_2" in main_py
    r = run_main(folder, tmp_path, "--help")
    assert r.returncode == 0, r.stderr
    assert "--fit-it-50-offset" in r.stdout and "--scale-offset" in r.stdout
    r = run_main(folder, tmp_path, "--total-extra", "[1]")
    assert r.returncode == 0, r.stderr
    total = sum(((v * 3 + 1.5) * 2 - 0.25) ** 2 for v in [1, 2, 3, 4])
    assert json.load(open(tmp_path / "outputs" / "figures-2" / "total")) == total
    assert json.load(open(tmp_path / "outputs" / "figures-2" / "count")) == 5
    assert "metric it's \"50%\"\n = " in r.stdout
