"""Remote workers (docs/compute.md, "Remote workers"): `kiln worker`
processes on loopback connect out to a `kiln serve` whose config sends every
job to a remote backend.

  * two workers share a sweep's fan-out, and each job's host says which ran it;
  * a worker killed (SIGKILL) mid-job: the server finds it lost after
    worker_timeout_s and the job runs again on the other worker;
  * a worker paused (SIGSTOP, the network gone) briefly keeps its job and
    finishes it; paused past the timeout, its job is taken back, and when it
    comes back it drops the old copy and runs the job anew: the execution
    succeeds once, with no output written twice;
  * worker tokens are their own kind: they reach only the worker routes, and
    user tokens do not reach those.
"""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kiln_server import KILN, Kiln

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/: the slurm package
from slurm.test_slurm_backend import (OFFSET_TOTAL, SCALE, execution, job, make_lab,  # noqa: E402
                                      pipeline, start, wait, wait_job)

SLOW_TOTAL = OFFSET_TOTAL.replace("        total = sum(scaled) + self.offset",
                                  "        import time\n        time.sleep(1.0)\n"
                                  "        total = sum(scaled) + self.offset")


class Worker:
    """A `kiln worker` on loopback (no GPUs, warm workers without torch)."""

    def __init__(self, kiln, name, slots=1, token=None):
        self.name = name
        self.dir = Path(kiln.tmp.name) / ("worker-" + name)
        self.dir.mkdir(exist_ok=True)
        self.log_path = self.dir / "worker.log"
        argv = [str(KILN), "worker", "--server", f"http://127.0.0.1:{kiln.port}", "--name", name,
                "--slots", str(slots), "--gpus", "0", "--work-dir", str(self.dir / "work"),
                "--preload", "", "--light-workers", "0"]
        if token:
            argv += ["--token", token]
        self.log = open(self.log_path, "a")
        self.proc = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT)

    def text(self):
        self.log.flush()
        return self.log_path.read_text()

    def stop(self):
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGCONT)  # a paused one must see SIGTERM
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def workers_of(kiln):
    backends = kiln.api("GET", "/backends").json()["backends"]
    return next(b for b in backends if b["kind"] == "remote")


def wait_for_workers(kiln, names, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        connected = {w["name"] for w in workers_of(kiln)["workers"]}
        if set(names) <= connected:
            return
        time.sleep(0.1)
    raise AssertionError(f"workers {names} never connected: {workers_of(kiln)}")


@pytest.fixture(scope="module")
def kiln(tmp_path_factory):
    config = tmp_path_factory.mktemp("config") / "kiln.toml"
    config.write_text('''
[backends.lab-workers]
kind = "remote"
worker_timeout_s = 3
poll_s = 0.2
''')
    k = Kiln("--config", str(config))
    k.lab = make_lab(k)
    yield k
    k.stop()


@pytest.fixture
def workers(kiln):
    started = []

    def spawn(name, **kw):
        w = Worker(kiln, name, **kw)
        started.append(w)
        return w

    yield spawn
    for w in started:
        w.stop()
    # The next test starts from no workers: wait until the server lost them.
    deadline = time.time() + 30
    while workers_of(kiln)["workers"] and time.time() < deadline:
        time.sleep(0.2)


def test_a_job_waits_for_a_worker_and_says_so(kiln, workers):
    eid = start(kiln, pipeline(kiln, kiln.lab))
    scale = wait_job(kiln, eid, "Scale", "queued")
    deadline = time.time() + 10
    while "waiting for a worker" not in (scale.get("reason") or "") and time.time() < deadline:
        time.sleep(0.1)
        scale = job(kiln, eid, "Scale")
    assert "waiting for a worker to connect" in scale["reason"], scale
    workers("w1")
    e = wait(kiln, eid)
    assert e["state"] == "succeeded", e
    assert job(kiln, eid, "Scale")["host"] == "w1"
    assert job(kiln, eid, "Scale")["backend"] == "lab-workers"


def test_two_workers_share_a_fan_out(kiln, workers):
    workers("w1")
    workers("w2")
    wait_for_workers(kiln, ["w1", "w2"])
    guid = pipeline(kiln, kiln.lab, total_code=SLOW_TOTAL)
    r = kiln.api("POST", "/projects/lab/sweeps",
                 {"pipeline": guid, "parameters": [{"name": "Total.offset", "values": list(range(6))}]})
    assert r.status == 201, r
    hosts = []
    for eid in r.json()["executions"]:
        e = wait(kiln, eid)
        assert e["state"] == "succeeded", e
        total = job(kiln, eid, "Total")
        hosts.append(total["host"])
        # Outputs came back through the upload route: the value is right.
        assert total["outputs"], total
    assert set(hosts) == {"w1", "w2"}, hosts


def test_a_killed_workers_job_runs_again_elsewhere(kiln, workers):
    w1 = workers("w1")
    wait_for_workers(kiln, ["w1"])
    eid = start(kiln, pipeline(kiln, kiln.lab, seconds=6.0))
    wait_job(kiln, eid, "Scale", "running")
    assert job(kiln, eid, "Scale")["host"] == "w1"
    workers("w2")
    wait_for_workers(kiln, ["w2"])
    w1.proc.kill()  # no goodbye: the server must notice on its own
    e = wait(kiln, eid)
    assert e["state"] == "succeeded", e
    assert job(kiln, eid, "Scale")["host"] == "w2"
    stats = workers_of(kiln)["stats"]
    assert stats["retried"] >= 1 and stats["lost_workers"] >= 1, stats


def test_a_paused_worker_keeps_its_job_or_gives_it_up_cleanly(kiln, workers):
    w1 = workers("w1")
    wait_for_workers(kiln, ["w1"])
    retried = workers_of(kiln)["stats"]["retried"]

    # Paused for less than the timeout: nothing moves.
    eid = start(kiln, pipeline(kiln, kiln.lab, seconds=3.0))
    wait_job(kiln, eid, "Scale", "running")
    os.kill(w1.proc.pid, signal.SIGSTOP)
    time.sleep(1.0)
    os.kill(w1.proc.pid, signal.SIGCONT)
    e = wait(kiln, eid)
    assert e["state"] == "succeeded", e
    assert workers_of(kiln)["stats"]["retried"] == retried

    # Paused past it: the job is taken back; the worker, back, drops its old
    # copy (its token no longer works) and runs the job again.
    eid = start(kiln, pipeline(kiln, kiln.lab, seconds=4.0))
    wait_job(kiln, eid, "Scale", "running")
    os.kill(w1.proc.pid, signal.SIGSTOP)
    deadline = time.time() + 30
    while workers_of(kiln)["stats"]["retried"] == retried and time.time() < deadline:
        time.sleep(0.2)
    assert workers_of(kiln)["stats"]["retried"] == retried + 1
    scale = job(kiln, eid, "Scale")
    assert "worker 'w1' was lost" in scale["reason"], scale
    os.kill(w1.proc.pid, signal.SIGCONT)
    e = wait(kiln, eid)
    assert e["state"] == "succeeded", e
    scale = job(kiln, eid, "Scale")
    assert scale["host"] == "w1"
    assert len(scale["outputs"]) == 1, scale
    # The old copy ran on while its worker was paused, but nothing it wrote
    # after the server took the job back arrived (its token was replaced):
    # the last step is logged once, by the run that counted.
    logs = kiln.api("GET", f"/jobs/{scale['id']}/logs").json()["events"]
    lines = [str(ev["payload"].get("line", "")) for ev in logs if isinstance(ev["payload"], dict)]
    assert sum("step 7 of 8" in line for line in lines) == 1, lines


def test_worker_tokens_reach_only_the_worker_routes(tmp_path):
    k = Kiln("--auth", users=("ana",))
    try:
        token = k.cli("workers", "token", "w9").strip().splitlines()[-1]
        assert token.startswith("kiln_w_")
        bearer = {"Authorization": "Bearer " + token}
        hello = {"worker": "w9", "slots": 1}
        # A worker token is not a user's.
        r = k.request("GET", "/api/v1/projects", headers=bearer)
        assert r.status == 403 and "only the worker routes" in r.json()["error"]["message"], r
        # A user's token does not lease.
        r = k.request("POST", "/api/v1/workers/lease", hello, user="ana")
        assert r.status == 403 and "kiln workers token" in r.json()["error"]["message"], r
        # The worker's own token leases under its own name only.
        r = k.request("POST", "/api/v1/workers/lease", {**hello, "worker": "w8"}, headers=bearer)
        assert r.status == 403 and "for worker 'w9'" in r.json()["error"]["message"], r
        r = k.request("POST", "/api/v1/workers/lease", hello, headers=bearer)
        assert r.status == 404 and "no remote-worker backend" in r.json()["error"]["message"], r
        # kiln worker says what is wrong and stops.
        out = subprocess.run([str(KILN), "worker", "--server", f"http://127.0.0.1:{k.port}",
                              "--token", token, "--name", "w9", "--slots", "1", "--gpus", "0",
                              "--preload", "", "--light-workers", "0",
                              "--work-dir", str(tmp_path / "w9")],
                             capture_output=True, text=True, timeout=120)
        assert out.returncode == 1
        assert "no remote-worker backend" in out.stderr, out.stderr
        # Revoked: refused.
        k.cli("workers", "revoke", token)
        r = k.request("POST", "/api/v1/workers/lease", hello, headers=bearer)
        assert r.status == 401, r
    finally:
        k.stop()


def test_job_routes_refuse_wrong_tokens_and_paths(kiln):
    r = kiln.request("GET", "/api/v1/jobs/nope/file?path=spec.json",
                     headers={"Authorization": "Bearer x"})
    assert r.status == 404, r
    r = kiln.request("PUT", "/api/v1/jobs/nope/file?path=result.json", b"{}",
                     headers={"Authorization": "Bearer x"})
    assert r.status == 404, r
    r = kiln.request("POST", "/api/v1/jobs/nope/exit", {"end": "exited"})
    assert r.status == 401, r
    r = kiln.request("POST", "/api/v1/workers/lease", {"worker": "../x", "slots": 1})
    assert r.status == 400 and "worker's name" in r.json()["error"]["message"], r


def test_kiln_remote_bundle_fetches_runs_and_uploads_through_the_job_routes(kiln, tmp_path):
    """The runner a Slurm node without the shared folder uses
    (kiln.remote_bundle), against the same routes, as a worker that leases
    over plain HTTP: the job's files and its input come from the server, its
    events are pushed, its output is uploaded, and the execution succeeds."""
    eid = start(kiln, pipeline(kiln, kiln.lab))
    wait_job(kiln, eid, "Scale", "queued")
    lease = kiln.api("POST", "/workers/lease", {"worker": "py", "slots": 1}).json()
    assert len(lease["jobs"]) == 1, lease
    leased = lease["jobs"][0]
    assert [i["name"] for i in leased["inputs"]] == ["values"], leased
    assert len(leased["inputs"][0]["sha256"]) == 64
    base = f"http://127.0.0.1:{kiln.port}/api/v1/jobs/{leased['job']}"
    # The manifest route answers the same, to the job's token only.
    r = kiln.request("GET", f"/api/v1/jobs/{leased['job']}/manifest",
                     headers={"Authorization": "Bearer " + leased["token"]})
    assert r.status == 200 and r.json()["files"] == leased["files"], r
    r = kiln.request("GET", f"/api/v1/jobs/{leased['job']}/manifest",
                     headers={"Authorization": "Bearer " + "0" * 64})
    assert r.status == 401, r
    env = {**os.environ, "KILN_FILES_URL": base, "KILN_JOB_TOKEN": leased["token"],
           "KILN_EVENTS_URL": base + "/events", "TMPDIR": str(tmp_path),
           "PYTHONPATH": str(Path(__file__).resolve().parents[2] / "python")}
    kiln.api("POST", "/workers/lease", {"worker": "py", "slots": 1, "holding": [leased["job"]]})
    done = subprocess.run(["/usr/bin/python3", "-m", "kiln.remote_bundle"], env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert list(tmp_path.iterdir()) == []  # its folder is gone
    r = kiln.request("POST", f"/api/v1/jobs/{leased['job']}/exit", {"end": "exited", "lines": 0},
                     headers={"Authorization": "Bearer " + leased["token"]})
    assert r.status == 200, r
    e = wait(kiln, eid)
    assert e["state"] == "succeeded", e
    scale = job(kiln, eid, "Scale")
    assert scale["host"] == "py" and len(scale["outputs"]) == 1, scale
    logs = kiln.api("GET", f"/jobs/{scale['id']}/events").json()["events"]
    assert logs, "the job's pushed events arrived"
