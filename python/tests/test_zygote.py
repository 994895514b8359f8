"""kiln.zygote end to end: a real warm worker running jobs, cancelling, timing out, cleaning up.

The worker preloads numpy only (not torch) to keep the suite fast; preloading is
the same code path whatever the modules.
"""
import json
import os
import queue
import subprocess
import threading
import time

import pytest

from conftest import PYTHON, make_bundle, read_events, read_result, run_env


class Worker:
    def __init__(self, *args, preload="numpy"):
        self.proc = subprocess.Popen(
            [PYTHON, "-m", "kiln.zygote", "--preload", preload, *args], env=run_env(),
            stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self.replies = queue.Queue()
        self.seen = []
        threading.Thread(target=self._read, daemon=True).start()
        self.ready = self.next(lambda m: m["event"] == "ready", timeout=60)

    def _read(self):
        for line in self.proc.stdout:
            self.replies.put(json.loads(line))
        self.replies.put(None)

    def send(self, **msg):
        self.proc.stdin.write(json.dumps(msg).encode() + b"\n")
        self.proc.stdin.flush()

    def next(self, pred, timeout=30):
        deadline = time.monotonic() + timeout
        for m in self.seen:
            if pred(m):
                self.seen.remove(m)
                return m
        while True:
            m = self.replies.get(timeout=max(0.01, deadline - time.monotonic()))
            assert m is not None, "zygote exited"
            if pred(m):
                return m
            self.seen.append(m)

    def close(self):
        if self.proc.poll() is None:
            self.send(op="shutdown")
            self.proc.stdin.close()
            self.proc.wait(30)


@pytest.fixture
def worker():
    w = Worker()
    yield w
    w.close()


def gone(pid, timeout=10.0) -> bool:
    """True once ``pid`` no longer exists (reaped, not a zombie)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.02)
    return False


SQUARE = '''
    import os
    import kiln

    class Square(kiln.Operation):
        def __init__(self, x: int = 0):
            self.x = x

        def execute(self):
            kiln.progress(1, 1)
            print("pid", os.getpid(), "pgid", os.getpgid(0))
            y = self.x * self.x
            return y
    '''


def test_a_light_worker_preloads_only_kiln_and_lists_the_standard_library(tmp_path):
    w = Worker(preload="")
    try:
        assert "numpy" not in w.ready["preloaded"] and "kiln" in w.ready["preloaded"]
        assert {"json", "os", "math", "__future__"} <= set(w.ready["stdlib"])
        assert "numpy" not in w.ready["stdlib"] and "torch" not in w.ready["stdlib"]
        # Its jobs see none of the heavy modules unless they import them.
        code = """
            import sys
            class Which:
                def execute(self):
                    loaded = sorted(m for m in ("numpy", "torch", "matplotlib") if m in sys.modules)
                    return loaded
        """
        b = make_bundle(tmp_path, code, "which")
        w.send(id=1, op="run", bundle=b)
        exited = w.next(lambda m: m.get("id") == 1 and m["event"] == "exited")
        assert exited["exit_code"] == 0, read_result(b)
        with open(os.path.join(b, "outputs", "loaded")) as f:
            assert json.load(f) == []
    finally:
        w.close()


def test_runs_three_jobs(worker, tmp_path):
    assert worker.ready["preloaded"][0] == "numpy" and worker.ready["subreaper"] is True
    bundles = [make_bundle(tmp_path, SQUARE, f"j{i}", attributes={"x": i}) for i in range(3)]
    for i, b in enumerate(bundles):
        worker.send(id=f"r{i}", op="run", bundle=b)
    started = [worker.next(lambda m, i=i: m.get("id") == f"r{i}" and m["event"] == "started")
               for i in range(3)]
    exited = [worker.next(lambda m, i=i: m.get("id") == f"r{i}" and m["event"] == "exited")
              for i in range(3)]
    assert len({s["pid"] for s in started}) == 3
    for i, (s, e, b) in enumerate(zip(started, exited, bundles)):
        assert e["exit_code"] == 0 and e["signal"] is None and not e["timed_out"]
        res = read_result(b)
        assert res["status"] == "succeeded"
        from kiln import serializers
        assert serializers.load(res["outputs"]["y"]["path"], "json") == i * i
        logs = [ev["line"] for ev in read_events(os.path.join(b, "events.jsonl"))
                if ev["type"] == "log"]
        # The child is a session leader: its own process group, pgid == pid.
        assert logs == [f"pid {s['pid']} pgid {s['pid']}"]
    # The worker still answers interface requests inline.
    worker.send(id="p", op="parse", code="class A:\n    def execute(self, q):\n        return q\n")
    reply = worker.next(lambda m: m.get("id") == "p")
    assert reply["ok"] and reply["interface"]["outputs"] == [{"name": "q", "type": "any"}]


HANG = '''
    import os, signal, subprocess, time

    class Hang:
        def __init__(self, ignore_term=False):
            self.ignore_term = ignore_term

        def execute(self):
            if self.ignore_term:
                signal.signal(signal.SIGTERM, signal.SIG_IGN)
            child = subprocess.Popen(["sleep", "1000"])
            with open("child.pid", "w") as f:
                f.write(str(child.pid))
            print("hanging", flush=True)
            time.sleep(1000)
    '''


def _wait_for_file(path, timeout=30):
    deadline = time.monotonic() + timeout
    while not os.path.exists(path) or not open(path).read():
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.02)
    return int(open(path).read())


def test_cancel_kills_the_whole_process_group(worker, tmp_path):
    b = make_bundle(tmp_path, HANG)
    worker.send(id="h", op="run", bundle=b)
    pid = worker.next(lambda m: m.get("event") == "started")["pid"]
    grandchild = _wait_for_file(os.path.join(b, "child.pid"))
    worker.send(id="c", op="cancel", run="h")
    assert worker.next(lambda m: m.get("id") == "c")["event"] == "cancelling"
    e = worker.next(lambda m: m.get("id") == "h" and m["event"] == "exited")
    assert e["cancelled"] and e["exit_code"] == 143  # the job's SIGTERM handler ran
    assert read_result(b)["status"] == "cancelled"
    assert gone(pid) and gone(grandchild)


def test_timeout_escalates_to_sigkill(worker, tmp_path):
    b = make_bundle(tmp_path, HANG, attributes={"ignore_term": True})
    worker.send(id="t", op="run", bundle=b, limits={"timeout_s": 1.0}, kill_grace_s=0.3)
    pid = worker.next(lambda m: m.get("event") == "started")["pid"]
    grandchild = _wait_for_file(os.path.join(b, "child.pid"))
    e = worker.next(lambda m: m.get("id") == "t" and m["event"] == "exited")
    assert e["timed_out"] and e["signal"] == 9 and e["exit_code"] is None
    assert gone(pid) and gone(grandchild)


def test_memory_limit(worker, tmp_path):
    # RLIMIT_AS counts address space: allow the worker's current size plus 256 MiB.
    with open(f"/proc/{worker.ready['pid']}/status") as f:
        vm = next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmSize"))
    b = make_bundle(tmp_path, '''
        import numpy as np

        class Greedy:
            def execute(self):
                big = np.ones(1 << 30)  # 8 GiB
                return big
        ''')
    worker.send(id="m", op="run", bundle=b, limits={"memory_bytes": vm + (256 << 20)})
    e = worker.next(lambda m: m.get("id") == "m" and m["event"] == "exited")
    assert e["exit_code"] == 1
    assert read_result(b)["error"]["type"] in ("MemoryError", "_ArrayMemoryError")


def test_shutdown_and_eof_leave_no_orphans(tmp_path):
    w = Worker("--prefork", "2")
    b = make_bundle(tmp_path, HANG)
    w.send(id="h", op="run", bundle=b)
    pid = w.next(lambda m: m.get("event") == "started")["pid"]
    grandchild = _wait_for_file(os.path.join(b, "child.pid"))
    # The spare that took the job is replaced in the background: ask until
    # both are there (a busy machine takes a moment to fork it).
    for attempt in range(100):
        w.send(id=f"ping{attempt}", op="ping")
        spares = w.next(lambda m: m.get("id") == f"ping{attempt}")["spares"]
        if len(spares) == 2:
            break
        time.sleep(0.1)
    assert len(spares) == 2
    w.proc.stdin.close()  # EOF: the server went away
    assert w.next(lambda m: m["event"] == "exited")["pid"] == pid
    assert w.next(lambda m: m["event"] == "bye")
    assert w.proc.wait(30) == 0
    assert all(gone(p) for p in [pid, grandchild, *spares])


def test_bad_requests_are_answered(worker):
    worker.send(id=1, op="run", bundle="/nonexistent/bundle")
    assert worker.next(lambda m: m.get("id") == 1)["event"] == "error"
    worker.send(id=2, op="frobnicate")
    assert worker.next(lambda m: m.get("id") == 2)["event"] == "error"
    worker.proc.stdin.write(b"not json\n")
    worker.proc.stdin.flush()
    assert "bad request" in worker.next(lambda m: m.get("id") is None)["message"]


PRINTS = '''
    import sys

    class Prints:
        def execute(self):
            print("to stdout")
            sys.stderr.write("to stderr\\n")
            sys.stdout.write("written to stdout\\n")
'''


def test_job_output_keeps_its_stream(worker, tmp_path):
    # The zygote points its own sys.stdout at stderr; a job's print() must
    # still arrive as stdout.
    b = make_bundle(tmp_path, PRINTS, "prints")
    worker.send(id="s", op="run", bundle=b)
    e = worker.next(lambda m: m.get("id") == "s" and m["event"] == "exited")
    assert e["exit_code"] == 0
    logs = [(ev["stream"], ev["line"]) for ev in read_events(os.path.join(b, "events.jsonl"))
            if ev["type"] == "log"]
    assert sorted(logs) == sorted([("stdout", "to stdout"), ("stderr", "to stderr"),
                                   ("stdout", "written to stdout")])


THREADS = '''
    import os
    import torch

    class Threads:
        def execute(self):
            print("threads", torch.get_num_threads(), os.environ.get("OMP_NUM_THREADS"))
'''


def test_job_thread_count_reaches_preloaded_torch(tmp_path):
    pytest.importorskip("torch")
    # torch is imported in the zygote, before any job's environment exists.
    w = Worker.__new__(Worker)
    w.proc = subprocess.Popen(
        [PYTHON, "-m", "kiln.zygote", "--preload", "torch"], env=dict(run_env(), OMP_NUM_THREADS="3"),
        stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    w.replies = queue.Queue()
    w.seen = []
    threading.Thread(target=w._read, daemon=True).start()
    try:
        w.ready = w.next(lambda m: m["event"] == "ready", timeout=120)
        assert "torch" in w.ready["preloaded"]
        for n in (1, 2):
            b = make_bundle(tmp_path, THREADS, f"t{n}")
            w.send(id=f"t{n}", op="run", bundle=b, env={"OMP_NUM_THREADS": str(n)})
            e = w.next(lambda m, n=n: m.get("id") == f"t{n}" and m["event"] == "exited")
            assert e["exit_code"] == 0
            logs = [ev["line"] for ev in read_events(os.path.join(b, "events.jsonl"))
                    if ev["type"] == "log"]
            assert logs == [f"threads {n} {n}"]
    finally:
        w.close()
