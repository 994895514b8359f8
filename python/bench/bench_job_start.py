"""Job start latency: cold ``python3 -m kiln.job`` versus the warm zygote.

Usage: PYTHONPATH=python /usr/bin/python3 python/bench/bench_job_start.py [-n 20]

Measures, for a trivial operation (no imports, returns one int):

* cold: process launch -> job's "running" event, and launch -> process exit,
  for a bare operation and for one that imports torch (what every job would pay
  without a warm worker);
* zygote (preloading torch, numpy, matplotlib.pyplot), with ``--prefork 0``
  (fork on demand) and ``--prefork 1`` (a child forked ahead): dispatch -> the
  job's "starting" event (fork-to-running: the child is executing kiln.job),
  dispatch -> "running" (operation imported and instantiated), dispatch -> reaped.

Times come from one clock (``time.time()``) in all processes.  Prints medians
and 90th percentiles in milliseconds.  Not a test: numbers depend on the machine.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PY_DIR = os.path.dirname(HERE)
PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable

TRIVIAL = "class Op:\n    def execute(self):\n        y = 1\n        return y\n"
TORCHY = "import torch\n\n" + TRIVIAL


def make_bundle(root, i, code):
    b = os.path.join(root, f"b{i}")
    os.makedirs(b)
    with open(os.path.join(b, "operation.py"), "w") as f:
        f.write(code)
    with open(os.path.join(b, "spec.json"), "w") as f:
        json.dump({"job_id": f"b{i}", "events": "events.jsonl"}, f)
    return b


def events(b):
    with open(os.path.join(b, "events.jsonl")) as f:
        return {e["state"]: e["time"] for e in map(json.loads, f) if e["type"] == "state"}


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def show(name, xs):
    ms = [x * 1000 for x in xs]
    print(f"  {name:<34} p50 {statistics.median(ms):8.2f} ms   p90 {pct(ms, 90):8.2f} ms"
          f"   (n={len(ms)})")


def env():
    e = dict(os.environ)
    e["PYTHONPATH"] = PY_DIR
    return e


def bench_cold(root, n, code, label):
    to_running, to_exit = [], []
    for i in range(n):
        b = make_bundle(root, f"{label}{i}", code)
        t0 = time.time()
        subprocess.run([PYTHON, "-m", "kiln.job", b], env=env(), check=True)
        t1 = time.time()
        to_running.append(events(b)["running"] - t0)
        to_exit.append(t1 - t0)
    print(f"cold python3 -m kiln.job ({label}):")
    show("launch -> running", to_running)
    show("launch -> exited", to_exit)


def bench_zygote(root, n, prefork):
    p = subprocess.Popen([PYTHON, "-m", "kiln.zygote", "--preload",
                          "torch,numpy,matplotlib.pyplot", "--prefork", str(prefork)],
                         env=env(), stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    ready = json.loads(p.stdout.readline())
    starting, running, reaped = [], [], []
    for i in range(n):
        b = make_bundle(root, f"z{prefork}-{i}", TRIVIAL)
        p.stdin.write(json.dumps({"id": i, "op": "run", "bundle": b}).encode() + b"\n")
        p.stdin.flush()
        while True:
            m = json.loads(p.stdout.readline())
            if m.get("event") == "started":
                t_dispatch = m["t_dispatch"]
            if m.get("event") == "exited":
                break
        assert m["exit_code"] == 0, m
        ev = events(b)
        starting.append(ev["starting"] - t_dispatch)
        running.append(ev["running"] - t_dispatch)
        reaped.append(m["wall_s"])
        time.sleep(0.05)  # let the spare be re-forked, as between real jobs
    p.stdin.close()
    p.wait(30)
    print(f"zygote --prefork {prefork} (preload {ready['preload_s']:.2f} s, "
          f"{', '.join(ready['preloaded'][:3])}):")
    show("dispatch -> starting (fork->running)", starting)
    show("dispatch -> running (op loaded)", running)
    show("dispatch -> reaped", reaped)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", type=int, default=20)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as root:
        bench_cold(root, args.n, TRIVIAL, "bare")
        bench_cold(root, max(3, args.n // 4), TORCHY, "torch")
        bench_zygote(root, args.n, 0)
        bench_zygote(root, args.n, 1)


if __name__ == "__main__":
    main()
