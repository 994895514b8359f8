"""kiln.job end to end: real ``python3 -m kiln.job`` processes on tiny bundles."""
import json
import os
import signal
import subprocess
import time

import numpy as np

from kiln import serializers

from conftest import PYTHON, make_bundle, read_events, read_result, run_env


def run_job(bundle, **kw):
    return subprocess.run([PYTHON, "-m", "kiln.job", bundle], env=run_env(), capture_output=True,
                          timeout=60, **kw)


TRAIN = '''
    import sys
    import kiln

    class Train(kiln.Operation):
        def __init__(self, epochs: int = 2, scale=1.0):
            self.epochs = epochs
            self.scale = scale

        def execute(self, data, offset):
            for epoch in range(self.epochs):
                kiln.log_metric("loss", 1.0 / (epoch + 1))
                kiln.progress(epoch + 1, self.epochs)
                print(f"epoch {epoch}")
            print("almost done", file=sys.stderr)
            print("no newline at the end", end="")
            scaled = data * self.scale + offset
            summary = {"n": len(data), "ok": True}
            return scaled, summary
    '''


def test_success_with_metrics_progress_logs_and_outputs(tmp_path):
    serializers.save(np.arange(4, dtype=np.float64), str(tmp_path / "in_data"))
    serializers.save(10, str(tmp_path / "in_offset"))
    bundle = make_bundle(tmp_path, TRAIN, attributes={"epochs": 3, "scale": 2.0},
                         inputs={"data": {"path": "../in_data", "serializer": "numpy"},
                                 "offset": {"path": "../in_offset", "serializer": "json"}})
    r = run_job(bundle)
    assert r.returncode == 0, r.stderr.decode()
    res = read_result(bundle)
    assert res["status"] == "succeeded" and res["exit_code"] == 0 and res["error"] is None
    assert set(res["outputs"]) == {"scaled", "summary"}
    out = res["outputs"]["scaled"]
    assert out["serializer"] == "numpy" and out["size"] == os.path.getsize(out["path"])
    np.testing.assert_array_equal(serializers.load(out["path"], "numpy"), [10, 12, 14, 16])
    import hashlib
    with open(out["path"], "rb") as f:
        assert out["sha256"] == hashlib.sha256(f.read()).hexdigest()
    assert serializers.load(res["outputs"]["summary"]["path"], "json") == {"n": 4, "ok": True}

    events = read_events(os.path.join(bundle, "events.jsonl"))
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    assert all(e["job"] == "job" and isinstance(e["time"], float) for e in events)
    assert [e["state"] for e in events if e["type"] == "state"] == \
        ["starting", "running", "succeeded"]
    assert [(e["name"], e["value"], e["step"]) for e in events if e["type"] == "metric"] == \
        [("loss", 1.0, 0), ("loss", 0.5, 1), ("loss", 1 / 3, 2)]
    progress = [(e["done"], e["total"]) for e in events if e["type"] == "progress"]
    assert progress[-1] == (3, 3)
    logs = [(e["stream"], e["line"]) for e in events if e["type"] == "log"]
    assert [line for s, line in logs if s == "stdout"] == \
        ["epoch 0", "epoch 1", "epoch 2", "no newline at the end"]
    assert ("stderr", "almost done") in logs
    assert res["timings"]["total_s"] >= res["timings"]["execute_s"] >= 0


def test_failure_reports_traceback(tmp_path):
    bundle = make_bundle(tmp_path, '''
        class Broken:
            def execute(self):
                print("before the crash")
                value = helper()
                return value

        def helper():
            raise ValueError("bad input value")
        ''')
    r = run_job(bundle)
    assert r.returncode == 1
    res = read_result(bundle)
    assert res["status"] == "failed" and res["exit_code"] == 1
    err = res["error"]
    assert err["type"] == "ValueError" and err["message"] == "bad input value"
    assert err["location"] == {"file": "operation.py", "line": 8}
    assert err["traceback"].startswith("Traceback")
    assert 'operation.py", line 4, in execute' in err["traceback"]
    assert "kiln/job.py" not in err["traceback"]  # the runner's frames are trimmed
    events = read_events(os.path.join(bundle, "events.jsonl"))
    final = events[-1]
    assert final["type"] == "state" and final["state"] == "failed" and final["exit_code"] == 1
    assert final["error"]["type"] == "ValueError"
    stderr_lines = [e["line"] for e in events if e["type"] == "log" and e["stream"] == "stderr"]
    assert "ValueError: bad input value" in stderr_lines


def test_bundle_errors_exit_2(tmp_path):
    bundle = make_bundle(tmp_path, "class Op:\n    def execute(self:\n        pass\n")
    r = run_job(bundle)
    assert r.returncode == 2
    res = read_result(bundle)
    assert res["error"]["type"] == "BundleError"
    assert res["error"]["message"].startswith("operation.py:2:")
    empty = tmp_path / "empty"
    empty.mkdir()
    assert run_job(str(empty)).returncode == 2
    assert "cannot read" in read_result(str(empty))["error"]["message"]


def test_dict_outputs_async_execute_and_events_fd(tmp_path):
    bundle = make_bundle(tmp_path, '''
        import asyncio

        class Op:
            async def execute(self):
                await asyncio.sleep(0)
                return {"answer": 42, "pair": (1, 2)}
        ''', events=None)
    r_fd, w_fd = os.pipe()
    env = run_env(KILN_EVENTS_FD=str(w_fd))
    p = subprocess.Popen([PYTHON, "-m", "kiln.job", bundle], env=env, pass_fds=(w_fd,))
    os.close(w_fd)
    with os.fdopen(r_fd) as f:
        events = [json.loads(line) for line in f]
    assert p.wait(60) == 0
    assert events[-1]["state"] == "succeeded"
    res = read_result(bundle)
    assert {k: v["serializer"] for k, v in res["outputs"].items()} == \
        {"answer": "json", "pair": "pickle"}
    assert serializers.load(res["outputs"]["pair"]["path"], "pickle") == (1, 2)


def test_figures_from_a_job(tmp_path):
    bundle = make_bundle(tmp_path, '''
        import matplotlib.pyplot as plt

        class Plot:
            def execute(self):
                plt.plot([1, 2, 3], [2, 4, 8], label="growth")
                plt.show()
                plt.figure()
                plt.imshow([[0, 1], [1, 0]])  # never shown: flushed at the end
        ''')
    r = run_job(bundle)
    assert r.returncode == 0, r.stderr.decode()
    figs = [e for e in read_events(os.path.join(bundle, "events.jsonl"))
            if e["type"] == "figure"]
    assert [(f["format"], f["reason"]) for f in figs] == [("chart", "show"), ("png", "end")]
    assert figs[0]["axes"][0]["series"][0]["y"] == [2.0, 4.0, 8.0]


def test_sigterm_cancels_with_result(tmp_path):
    bundle = make_bundle(tmp_path, '''
        import time

        class Slow:
            def execute(self):
                print("started", flush=True)
                time.sleep(60)
        ''')
    p = subprocess.Popen([PYTHON, "-m", "kiln.job", bundle], env=run_env())
    events_path = os.path.join(bundle, "events.jsonl")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if os.path.exists(events_path) and any(
                e.get("line") == "started" for e in read_events(events_path)):
            break
        time.sleep(0.02)
    p.send_signal(signal.SIGTERM)
    assert p.wait(30) == 143
    res = read_result(bundle)
    assert res["status"] == "cancelled" and "time.sleep(60)" in res["error"]["traceback"]
    assert read_events(events_path)[-1]["state"] == "cancelled"


USES_NET = '''
    import kiln

    class Score(kiln.Operation):
        def __init__(self, net: kiln.Architecture, scale: float = 1.0):
            self.net = net
            self.scale = scale

        def execute(self):
            model = self.net()
            value = model.forward(2) * self.scale
            return value
    '''

GENERATED = '''class Net:
    """Stands in for generated nn.Module code: a class the operation instantiates."""

    def forward(self, x):
        return x + 40
'''


def test_references_receive_the_bundles_generated_class(tmp_path):
    bundle = make_bundle(tmp_path, USES_NET, attributes={"scale": 1.0},
                         resources={"net": {"file": "kiln_resource_net.py", "class": "Net"}})
    with open(os.path.join(bundle, "kiln_resource_net.py"), "w") as f:
        f.write(GENERATED)
    r = run_job(bundle)
    res = read_result(bundle)
    assert r.returncode == 0, res
    assert serializers.load(res["outputs"]["value"]["path"],
                            res["outputs"]["value"]["serializer"]) == 42.0


def test_a_missing_resource_is_a_bundle_error_naming_the_reference(tmp_path):
    bundle = make_bundle(tmp_path, USES_NET, name="none")
    assert run_job(bundle).returncode == 2
    message = read_result(bundle)["error"]["message"]
    assert "reference 'net' (Architecture) has no resource" in message
    assert "point 'net' at an Architecture" in message
    # Named but its file is not in the bundle, or it lacks the class.
    bundle = make_bundle(tmp_path, USES_NET, name="nofile",
                         resources={"net": {"file": "kiln_resource_net.py", "class": "Net"}})
    assert run_job(bundle).returncode == 2
    assert "lacks its code file kiln_resource_net.py" in read_result(bundle)["error"]["message"]
    bundle = make_bundle(tmp_path, USES_NET, name="noclass",
                         resources={"net": {"file": "kiln_resource_net.py", "class": "Other"}})
    with open(os.path.join(bundle, "kiln_resource_net.py"), "w") as f:
        f.write(GENERATED)
    assert run_job(bundle).returncode == 2
    assert "defines no class 'Other'" in read_result(bundle)["error"]["message"]
