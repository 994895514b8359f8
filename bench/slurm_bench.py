#!/usr/bin/env python3
"""slurm_bench: what Kiln's Slurm backend costs, on a real one-node Slurm on
loopback (tests/slurm/slurm_cluster.py) with `kiln serve --config` sending
the pipeline's Scale jobs to it (docs/compute.md). Prints figures; it has no
goals and exits 1 only when it cannot run.

  (a) latency   submit → running of one job at a time (--latency-jobs, 20; each sleeps 2 s):
                POST /executions until the Scale job's started_ms, and until a
                client polling every 50 ms first sees it running; p50/p90
  (b) fan-out   a sweep of --fanout (500) trials over Scale.factor (500 ready
                Scale jobs at once), on a Kiln with arrays = true and on a
                second one with arrays = false (one sbatch per job): wall time
                until every trial ended and the controller calls it took
                (GET /backends stats deltas), side by side, with the ratios
  (c) polling   controller calls per minute over --sample-s (60) s while
                --inflight (200) jobs sit in Slurm, against the same with
                --inflight-small (20): squeue is one call per interval for all
                of Kiln's jobs, so the ratio should be near 1

The pipeline is tests/slurm/test_slurm_backend.py's (data.json → Scale →
Total → Output) with a Scale that only sleeps; Total is routed to a local
backend so that each trial is exactly one Slurm job. The cluster has 64 CPUs
(200 MB each): in (c) 64 jobs run and the rest wait in Slurm's queue, which
is what "in flight" means to Kiln (in_slurm). Kiln's own Slurm settings are
printed with the figures (poll intervals shape (a) and (c)).

Usage: bench/slurm_bench.py [--kiln PATH] [--quick] [--latency-jobs N]
       [--fanout N] [--inflight N] [--inflight-small N] [--sample-s S]
"""
import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "server"))  # kiln_server, test_provenance
sys.path.insert(0, str(ROOT / "tests"))  # the slurm package

# A Scale that does nothing but wait: what the Slurm backend costs, not the job.
SLEEP = '''import time

import kiln


class Scale(kiln.Operation):
    def __init__(self, factor: float = 2.0, seconds: float = 0.0):
        self.factor, self.seconds = factor, seconds

    def execute(self, values):
        time.sleep(self.seconds)
        scaled = [v * self.factor for v in values]
        return scaled
'''

POLL_MIN_S = 1
POLL_MAX_S = 5
ARRAY_WINDOW_MS = 200


def write_config(cluster, path, arrays):
    path.write_text(f'''
[backends.cluster]
kind = "slurm"
partition = "{cluster.partition}"
poll_min_s = {POLL_MIN_S}
poll_max_s = {POLL_MAX_S}
array_window_ms = {ARRAY_WINDOW_MS}
arrays = {"true" if arrays else "false"}
max_jobs = 2000
env = {{ SLURM_CONF = "{cluster.conf_path}" }}

[backends.local]
kind = "local"
slots = 2
gpus = 0

[routing]
default = "cluster"
operations = {{ "Total" = "local" }}
''')
    return path


def stats(kiln):
    backends = kiln.api("GET", "/backends").json()["backends"]
    return next(b["stats"] for b in backends if b["name"] == "cluster")


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def wait_until(what, check, timeout_s, poll_s=0.5):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(poll_s)
    raise TimeoutError(f"slurm_bench: {what} did not happen within {timeout_s} s")


def latency(kiln, lab, count, helpers):
    """(a): one execution at a time (force: the same pipeline runs again).

    The job sleeps 2 s: a job that ends before Kiln's next squeue is never
    seen running, and its started_ms stays 0 (a bug reported with this bench).
    """
    guid = helpers.pipeline(kiln, lab, code=SLEEP, seconds=2.0)
    to_started, to_seen = [], []
    for _ in range(count):
        posted = time.time()
        r = kiln.api("POST", "/projects/lab/executions", {"pipeline": guid, "force": True})
        assert r.status == 201, r
        eid = r.json()["id"]
        seen = None
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            scale = helpers.job(kiln, eid, "Scale")
            if seen is None and scale["state"] in ("running", "succeeded", "failed"):
                seen = time.time()
            if scale["state"] in ("succeeded", "failed", "cancelled"):
                break
            time.sleep(0.05)
        e = helpers.wait(kiln, eid, timeout=120)
        assert e["state"] == "succeeded" and scale["started_ms"], (e, scale)
        to_started.append(scale["started_ms"] / 1000 - posted)
        to_seen.append(seen - posted)
    return to_started, to_seen


def fan_out(kiln, lab, trials, helpers):
    """(b): a sweep of `trials` ready Scale jobs; wall time until all ended, calls taken."""
    guid = helpers.pipeline(kiln, lab, code=SLEEP)
    before = stats(kiln)
    began = time.monotonic()
    r = kiln.api("POST", "/projects/lab/sweeps",
                 {"pipeline": guid, "parameters": [{"name": "Scale.factor",
                                                    "values": list(range(1, trials + 1))}]})
    assert r.status == 201, r
    sweep = r.json()["id"]
    state = "running"
    deadline = time.monotonic() + 1800
    while state == "running" and time.monotonic() < deadline:
        time.sleep(0.5)
        state = kiln.api("GET", f"/sweeps/{sweep}").json()["state"]
    wall = time.monotonic() - began
    after = stats(kiln)
    assert state == "succeeded", kiln.api("GET", f"/sweeps/{sweep}").json()
    return {"wall_s": wall, **{k: after[k] - before[k] for k in ("slurm_calls", "sbatch_calls", "squeue_calls")}}


def calls_per_minute(kiln, lab, cluster, jobs, sample_s, helpers):
    """(c): `jobs` sleeping Scale jobs in Slurm; controller calls/min once they settled."""
    guid = helpers.pipeline(kiln, lab, code=SLEEP, seconds=float(sample_s * 3 + 120))
    r = kiln.api("POST", "/projects/lab/sweeps",
                 {"pipeline": guid, "parameters": [{"name": "Scale.factor",
                                                    "values": list(range(1, jobs + 1))}]})
    assert r.status == 201, r
    sweep = r.json()["id"]
    running_at_most = min(jobs, cluster.cpus)

    def settled():
        # squeue lists each running array task, but an array's pending tasks as one
        # record (123_[5-49]): the pending ones are counted by Kiln's in_slurm.
        running = sum(j["name"] == "kiln-cluster" and j["job_state"] == "RUNNING" for j in cluster.jobs())
        return stats(kiln)["in_slurm"] == jobs and running == running_at_most

    wait_until(f"{jobs} jobs in Slurm ({running_at_most} running)", settled, 600, poll_s=1)
    time.sleep(2 * POLL_MAX_S)  # past the submissions' and starts' fast polling
    before, began = stats(kiln), time.monotonic()
    time.sleep(sample_s)
    after, took = stats(kiln), time.monotonic() - began
    in_slurm = after["in_slurm"]
    assert kiln.api("POST", f"/sweeps/{sweep}/cancel").status == 200
    wait_until("the sweep's jobs gone from Slurm", lambda: stats(kiln)["in_slurm"] == 0, 300)
    wait_until("the sweep cancelled",
               lambda: kiln.api("GET", f"/sweeps/{sweep}").json()["state"] != "running", 120)
    per_min = (after["slurm_calls"] - before["slurm_calls"]) * 60 / took
    return {"per_min": per_min, "in_slurm": in_slurm, "took_s": took,
            "squeue": after["squeue_calls"] - before["squeue_calls"],
            "calls": after["slurm_calls"] - before["slurm_calls"]}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--kiln", default=None, help="the kiln binary (default: $KILN_BIN or build/src/cli/kiln)")
    ap.add_argument("--quick", action="store_true", help="small sizes: a smoke run, not the figures")
    ap.add_argument("--latency-jobs", type=int, default=None)
    ap.add_argument("--fanout", type=int, default=None)
    ap.add_argument("--inflight", type=int, default=None)
    ap.add_argument("--inflight-small", type=int, default=None)
    ap.add_argument("--sample-s", type=float, default=None)
    args = ap.parse_args()
    sizes = dict(latency_jobs=5, fanout=50, inflight=50, inflight_small=10, sample_s=20) if args.quick \
        else dict(latency_jobs=20, fanout=500, inflight=200, inflight_small=20, sample_s=60)
    for name in sizes:
        if getattr(args, name) is not None:
            sizes[name] = getattr(args, name)
    if args.kiln:
        os.environ["KILN_BIN"] = args.kiln
    import kiln_server  # after KILN_BIN is set
    from slurm import test_slurm_backend as helpers
    from slurm.slurm_cluster import SlurmCluster

    if not kiln_server.KILN.exists():
        sys.exit(f"slurm_bench: {kiln_server.KILN} is not built (--kiln PATH)")
    began = time.monotonic()
    configs = Path(tempfile.mkdtemp(prefix="kiln-slurm-bench-"))
    rows = []
    with SlurmCluster() as cluster:
        print(f"slurm_bench: cluster up in {cluster.started_in_s:.1f} s ({cluster.cpus} CPUs); "
              f"kiln poll_min_s={POLL_MIN_S} poll_max_s={POLL_MAX_S} array_window_ms={ARRAY_WINDOW_MS}",
              flush=True)
        results = {}
        for arrays in (True, False):
            kiln = kiln_server.Kiln("--config", str(write_config(cluster, configs / f"arrays-{arrays}.toml", arrays)))
            try:
                lab = helpers.make_lab(kiln)
                if arrays:
                    to_started, to_seen = latency(kiln, lab, sizes["latency_jobs"], helpers)
                    n = len(to_started)
                    rows.append((f"(a) submit → started_ms, {n} jobs one at a time",
                                 f"p50 {percentile(to_started, 50):.2f} s  p90 {percentile(to_started, 90):.2f} s"))
                    rows.append(("    submit → seen running by a client (50 ms polls)",
                                 f"p50 {percentile(to_seen, 50):.2f} s  p90 {percentile(to_seen, 90):.2f} s"))
                    print(f"slurm_bench: (a) done at {time.monotonic() - began:.0f} s", flush=True)
                results[arrays] = fan_out(kiln, lab, sizes["fanout"], helpers)
                print(f"slurm_bench: (b) arrays={arrays} done at {time.monotonic() - began:.0f} s: "
                      f"{results[arrays]}", flush=True)
                if arrays:
                    small = calls_per_minute(kiln, lab, cluster, sizes["inflight_small"], sizes["sample_s"], helpers)
                    print(f"slurm_bench: (c) {sizes['inflight_small']} done at {time.monotonic() - began:.0f} s: "
                          f"{small}", flush=True)
                    big = calls_per_minute(kiln, lab, cluster, sizes["inflight"], sizes["sample_s"], helpers)
                    print(f"slurm_bench: (c) {sizes['inflight']} done at {time.monotonic() - began:.0f} s: "
                          f"{big}", flush=True)
            except BaseException:
                print(kiln.server_log(), file=sys.stderr)
                raise
            finally:
                kiln.stop()
        a, b = results[True], results[False]
        fan = sizes["fanout"]
        rows.append((f"(b) {fan} ready jobs as arrays: wall to all done",
                     f"{a['wall_s']:.1f} s, {a['slurm_calls']} controller calls ({a['sbatch_calls']} sbatch)"))
        rows.append((f"    {fan} ready jobs, one sbatch each: wall to all done",
                     f"{b['wall_s']:.1f} s, {b['slurm_calls']} controller calls ({b['sbatch_calls']} sbatch)"))
        rows.append(("    ratio one-sbatch-each / arrays",
                     f"wall {b['wall_s'] / a['wall_s']:.2f}x, calls {b['slurm_calls'] / max(1, a['slurm_calls']):.1f}x"))
        for c in (small, big):
            rows.append((f"(c) controller calls/min, {c['in_slurm']} jobs in Slurm",
                         f"{c['per_min']:.1f}/min ({c['calls']} calls, {c['squeue']} squeue in {c['took_s']:.0f} s)"))
        rows.append((f"    ratio {big['in_slurm']} / {small['in_slurm']} jobs",
                     f"{big['per_min'] / small['per_min']:.2f}" if small["per_min"] else "n/a (no calls)"))
    shutil.rmtree(configs, ignore_errors=True)
    width = max(len(r[0]) for r in rows)
    print(f"slurm_bench: {os.cpu_count()} cpus, load average {os.getloadavg()[0]:.1f}; "
          f"took {time.monotonic() - began:.0f} s")
    for name, value in rows:
        print(f"{name:<{width}}  {value}")


if __name__ == "__main__":
    main()
