"""Kiln on a real Slurm (docs/compute.md): a `kiln serve` whose config file
sends every job to a one-node cluster on loopback (slurm_cluster.py).

The pipeline data.json → Scale → Total → Output runs there end to end with
logs and metrics pushed while the job runs; a sweep's 50 ready jobs go in as
one job array; cancel, a failing job, a job over its memory, a requeued job,
the server killed and restarted mid-execution (it adopts the Slurm job), and
the controller stopped for a while. The time-limit test is its own module
(test_slurm_timeout.py): Slurm takes a minute or more to time a job out.
"""
import subprocess
import time

import pytest

from kiln_server import KILN, Kiln, commit
from test_provenance import DATA, build_pipeline

SCALE = '''import time

import kiln


class Scale(kiln.Operation):
    def __init__(self, factor: float = 2.0, seconds: float = 0.0, fail: bool = False,
                 megabytes: int = 0):
        self.factor, self.seconds, self.fail, self.megabytes = factor, seconds, fail, megabytes

    def execute(self, values):
        if self.fail:
            raise ValueError("the data has a negative value")
        hog = bytearray(self.megabytes << 20)  # touched: it must be resident
        for i in range(0, len(hog), 4096):
            hog[i] = 1
        steps = max(1, int(self.seconds / 0.5))
        for step in range(steps):
            print(f"step {step} of {steps}", flush=True)
            kiln.log_metric("step", step)
            time.sleep(self.seconds / steps)
        scaled = [v * self.factor for v in values]
        return scaled
'''


def write_config(cluster, path, window_ms=500):
    path.write_text(f'''
[backends.cluster]
kind = "slurm"
partition = "{cluster.partition}"
poll_min_s = 0.2
poll_max_s = 2
array_window_ms = {window_ms}
env = {{ SLURM_CONF = "{cluster.conf_path}" }}
''')
    return path


@pytest.fixture(scope="module")
def kiln(slurm_cluster, tmp_path_factory):
    config = write_config(slurm_cluster, tmp_path_factory.mktemp("config") / "kiln.toml")
    k = Kiln("--config", str(config))
    yield k
    k.stop()


def make_lab(kiln):
    """Project "lab" with data.json uploaded: what `pipeline` builds on."""
    assert kiln.api("POST", "/projects", {"name": "lab"}).status == 201
    up = kiln.api("POST", "/projects/lab/artifacts?name=data.json&serializer=json", DATA)
    return {"data": up.json()["digest"]}


OFFSET_TOTAL = '''class Total:
    def __init__(self, offset: int = 0):
        self.offset = offset

    def execute(self, scaled):
        total = sum(scaled) + self.offset
        return total
'''


@pytest.fixture(scope="module")
def lab(kiln):
    return make_lab(kiln)


def pipeline(kiln, lab, code=SCALE, total_code=None, **scale):
    """A fresh pipeline whose Scale instance (the class in `code`) has these
    attributes (its code differs each time: nothing is cached from another
    test); `total_code` replaces Total's (with an `offset` attribute)."""
    code = code + f"\n# {time.time_ns()}\n"
    extra = {"total_code": total_code, "total_attrs": {"offset": 0}} if total_code else {}
    guid = build_pipeline(kiln, "lab", None, lab["data"], scale_code=code, **extra)
    tree = kiln.api("GET", "/projects/lab/tree").json()["tree"]["nodes"]
    node = next(g for g, n in tree.items()
                if n.get("parent") == guid and (n.get("attrs") or {}).get("name") == "Scale")
    if scale:
        commit(kiln, "lab", [{"op": "set_attr", "node": node, "name": k, "value": v}
                             for k, v in scale.items()])
    return guid


def start(kiln, guid, **extra):
    r = kiln.api("POST", "/projects/lab/executions", {"pipeline": guid, **extra})
    assert r.status == 201, r
    return r.json()["id"]


def execution(kiln, eid):
    return kiln.api("GET", f"/executions/{eid}").json()


def job(kiln, eid, name):
    return next(j for j in execution(kiln, eid)["jobs"] if j["name"] == name)


def wait(kiln, eid, timeout=180):
    deadline = time.time() + timeout
    while time.time() < deadline:
        e = execution(kiln, eid)
        if e["state"] != "running":
            return e
        time.sleep(0.2)
    raise AssertionError(f"execution {eid} did not end:\n{kiln.server_log()}")


def wait_job(kiln, eid, name, state, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        j = job(kiln, eid, name)
        if j["state"] == state:
            return j
        time.sleep(0.1)
    raise AssertionError(f"{name} never became {state}: {job(kiln, eid, name)}")


def test_backends_are_listed(kiln):
    b = kiln.api("GET", "/backends").json()["backends"]
    stats = b[0].pop("stats")
    assert b == [{"name": "cluster", "kind": "slurm", "slots": 1000, "gpus": None, "default": True}]
    assert set(stats) == {"sbatch_calls", "squeue_calls", "slurm_calls", "in_slurm"}


def test_pipeline_runs_on_slurm_with_live_logs_and_metrics(kiln, lab, slurm_cluster):
    guid = pipeline(kiln, lab, seconds=4.0)
    eid = start(kiln, guid)
    scale = wait_job(kiln, eid, "Scale", "running", timeout=60)
    assert scale["backend"] == "cluster"
    assert scale["host"] == slurm_cluster.node
    assert scale["backend_job"].isdigit()
    # Logs and metrics arrive while the job still runs: pushed, not read at the end.
    deadline = time.time() + 30
    live_logs = live_metrics = False
    while time.time() < deadline and not (live_logs and live_metrics):
        logs = kiln.api("GET", f"/jobs/{scale['id']}/logs").json()["events"]
        metrics = kiln.api("GET", f"/jobs/{scale['id']}/metrics").json()
        still_running = job(kiln, eid, "Scale")["state"] == "running"
        live_logs = live_logs or (still_running and any("step" in e["payload"].get("line", "")
                                                        for e in logs))
        live_metrics = live_metrics or (still_running and bool(metrics.get("metrics")))
        time.sleep(0.2)
    assert live_logs, "no log line arrived while the job ran"
    assert live_metrics, "no metric arrived while the job ran"
    e = wait(kiln, eid)
    assert e["state"] == "succeeded", e
    total = job(kiln, eid, "Total")
    assert total["backend"] == "cluster" and total["backend_job"] != scale["backend_job"]
    logs = kiln.api("GET", f"/jobs/{scale['id']}/logs").json()["events"]
    lines = [ev["payload"]["line"] for ev in logs]
    assert [l for l in lines if l.startswith("step")] == [f"step {i} of 8" for i in range(8)]
    # Provenance says where the bytes were made: the Slurm node and job.
    digest = job(kiln, eid, "Scale")["outputs"]["scaled"]["digest"]
    lineage = kiln.api("GET", f"/projects/lab/artifacts/{digest}/provenance?depth=1").json()
    runtime = next(j for j in lineage["jobs"] if j["name"] == "Scale")["runtime"]
    assert (runtime["backend"], runtime["host"], runtime["backend_job"]) == (
        "cluster", slurm_cluster.node, scale["backend_job"])
    # And the command line lists the backend.
    out = subprocess.run([str(KILN), "backends", "--server", f"http://127.0.0.1:{kiln.port}"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and out.stdout.startswith("cluster\tslurm\t1000 slot(s)"), out


def test_a_fan_out_of_50_jobs_goes_in_as_one_array(kiln, lab):
    # 50 trials over Total's offset share one Scale job (slow enough that
    # every trial waits for it); when it ends, the 50 Totals are ready at once.
    guid = pipeline(kiln, lab, total_code=OFFSET_TOTAL, seconds=5.0)
    sbatch_before = kiln.api("GET", "/backends").json()["backends"][0]["stats"]["sbatch_calls"]
    r = kiln.api("POST", "/projects/lab/sweeps",
                 {"pipeline": guid,
                  "parameters": [{"name": "Total.offset", "values": list(range(50))}]})
    assert r.status == 201, r
    executions = r.json()["executions"]
    jobs = []
    for eid in executions:
        e = wait(kiln, eid)
        assert e["state"] == "succeeded", e
        jobs.append(job(kiln, eid, "Total"))
    ids = [j["backend_job"] for j in jobs]
    arrays = {i.split("_")[0] for i in ids}
    assert all("_" in i for i in ids), ids  # array tasks, not plain jobs
    assert len(arrays) == 1, arrays
    assert len(set(ids)) == 50
    # One sbatch for Scale, one for the array of 50.
    sbatch_after = kiln.api("GET", "/backends").json()["backends"][0]["stats"]["sbatch_calls"]
    assert sbatch_after - sbatch_before == 2


def test_cancel_a_running_job(kiln, lab, slurm_cluster):
    eid = start(kiln, pipeline(kiln, lab, seconds=60.0))
    scale = wait_job(kiln, eid, "Scale", "running", timeout=60)
    assert kiln.api("POST", f"/executions/{eid}/cancel").status == 200
    e = wait(kiln, eid, timeout=60)
    assert e["state"] == "cancelled", e
    assert job(kiln, eid, "Scale")["state"] == "cancelled"
    state = slurm_cluster.wait_state(int(scale["backend_job"]), {"CANCELLED"}, timeout_s=30)
    assert state["job_state"] == "CANCELLED"


def test_a_failing_job_reports_the_operations_error(kiln, lab):
    eid = start(kiln, pipeline(kiln, lab, fail=True))
    e = wait(kiln, eid)
    assert e["state"] == "failed"
    scale = job(kiln, eid, "Scale")
    assert scale["state"] == "failed"
    assert "ValueError: the data has a negative value" in scale["reason"], scale
    assert job(kiln, eid, "Total")["state"] == "skipped"


def test_a_job_over_its_memory_fails_saying_so(kiln, lab, slurm_cluster):
    eid = start(kiln, pipeline(kiln, lab, megabytes=600, seconds=5.0, job_memory_mb=150))
    e = wait(kiln, eid, timeout=120)
    scale = job(kiln, eid, "Scale")
    assert e["state"] == "failed" and scale["state"] == "failed", scale
    assert "memory" in scale["reason"], scale["reason"]


def test_a_requeued_job_is_followed_to_its_end(kiln, lab, slurm_cluster):
    eid = start(kiln, pipeline(kiln, lab, seconds=6.0))
    scale = wait_job(kiln, eid, "Scale", "running", timeout=60)
    slurm_cluster.scontrol("requeue", scale["backend_job"])
    wait_job(kiln, eid, "Scale", "queued", timeout=30)
    e = wait(kiln, eid, timeout=180)
    assert e["state"] == "succeeded", e
    assert job(kiln, eid, "Scale")["backend_job"] == scale["backend_job"]


def test_the_server_killed_mid_execution_adopts_its_slurm_job(kiln, lab):
    eid = start(kiln, pipeline(kiln, lab, seconds=8.0))
    scale = wait_job(kiln, eid, "Scale", "running", timeout=60)
    kiln.kill_and_restart()
    e = wait(kiln, eid, timeout=120)
    assert e["state"] == "succeeded", (e, kiln.server_log())
    after = job(kiln, eid, "Scale")
    assert after["state"] == "succeeded"
    assert after["backend_job"] == scale["backend_job"]  # adopted, not submitted again
    assert job(kiln, eid, "Total")["state"] in ("succeeded", "cached")


def test_the_controller_down_for_a_while_loses_no_job(kiln, lab, slurm_cluster):
    eid = start(kiln, pipeline(kiln, lab, seconds=3.0))
    wait_job(kiln, eid, "Scale", "running", timeout=60)
    slurm_cluster.stop_controller()
    time.sleep(5)
    assert execution(kiln, eid)["state"] == "running"
    slurm_cluster.start_controller()
    e = wait(kiln, eid, timeout=120)
    assert e["state"] == "succeeded", e
