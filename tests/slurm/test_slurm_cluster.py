"""The test cluster itself: proves each Slurm behaviour the Slurm backend maps (docs/compute.md "States").

Every test runs real jobs on the session's SlurmCluster and reads their end
through `squeue --json`, the one call the backend polls. The slow one is
TIMEOUT (Slurm counts limits in minutes and checks them every 30 s: 60-90 s),
so its job is submitted when the module starts and checked last; the other
tests run meanwhile.
"""

import json
import time

import pytest

from .slurm_cluster import SlurmQueryError


def exit_status(record):
    """squeue --json's exit_code is the raw wait status: (code << 8) | signal."""
    return record["exit_code"] >> 8, record["exit_code"] & 0x7F


@pytest.fixture(scope="module", autouse=True)
def timeout_job(slurm_cluster):
    """A job over its 1-minute limit, submitted first so its wait overlaps the other tests."""
    job_id = slurm_cluster.sbatch("sleep 600", "--time=0:01", "--job-name=kiln-timeout")
    return job_id, time.monotonic()


def test_node_offers_many_cpus(slurm_cluster):
    node = slurm_cluster.scontrol("show", "node", slurm_cluster.node)
    assert f"CPUTot={slurm_cluster.cpus}" in node
    assert "State=IDLE" in node or "State=MIXED" in node


def test_job_starts_quickly_and_completes(slurm_cluster):
    began = time.monotonic()
    job_id = slurm_cluster.sbatch("sleep 1; echo done", "--job-name=kiln-quick")
    running = slurm_cluster.wait_state(job_id, {"RUNNING", "COMPLETED"}, timeout_s=10, poll_s=0.05)
    latency = time.monotonic() - began
    print(f"sbatch -> {running['job_state']}: {latency:.2f} s")
    assert latency < 5
    done = slurm_cluster.wait_state(job_id, "COMPLETED", timeout_s=15)
    assert exit_status(done) == (0, 0)
    assert done["nodes"] == slurm_cluster.node
    assert done["name"] == "kiln-quick"


def test_exit_3_is_failed_with_its_code(slurm_cluster):
    job_id = slurm_cluster.sbatch("exit 3")
    record = slurm_cluster.wait_state(job_id, {"FAILED", "COMPLETED"}, timeout_s=15)
    assert record["job_state"] == "FAILED"
    assert record["state_reason"] == "NonZeroExitCode"
    assert exit_status(record) == (3, 0)


def test_scancel_ends_cancelled(slurm_cluster):
    job_id = slurm_cluster.sbatch("sleep 600")
    slurm_cluster.wait_state(job_id, "RUNNING", timeout_s=10)
    slurm_cluster.scancel(str(job_id))
    record = slurm_cluster.wait_state(job_id, "CANCELLED", timeout_s=15)
    assert record["job_state"] == "CANCELLED"


def test_over_memory_is_out_of_memory(slurm_cluster):
    # Grows by 20 MiB (written, so resident) every 50 ms up to 1 GiB, against --mem=64M.
    script = ("/usr/bin/python3 -c '\nimport time\nkeep = []\n"
              "for _ in range(50):\n    keep.append(b\"x\" * (20 << 20)); time.sleep(0.05)\n"
              "print(\"surv\" + \"ived\")\n'\n")
    began = time.monotonic()
    job_id = slurm_cluster.sbatch(script, "--mem=64M")
    ended = {"OUT_OF_MEMORY", "FAILED", "COMPLETED", "CANCELLED"}
    record = slurm_cluster.wait_state(job_id, ended, timeout_s=30)
    print(f"over memory -> {record['job_state']} after {time.monotonic() - began:.2f} s "
          f"(enforcement: {slurm_cluster.memory_enforcement})")
    output = (slurm_cluster.root / "jobs" / f"slurm-{job_id}.out").read_text()
    assert "survived" not in output  # (the script's text, which bash echoes when killed, splits the word)
    if slurm_cluster.memory_enforcement == "cgroup":
        assert record["job_state"] == "OUT_OF_MEMORY"
        assert record["state_reason"] == "OutOfMemory"
        assert "oom-kill event" in output
    else:
        # jobacct_gather's OverMemoryKill: Slurm 22.05 records a SIGKILLed FAILED job.
        assert record["job_state"] == "FAILED"
        assert "Exceeded job memory limit" in output


def test_requeue_of_a_running_job_runs_it_again(slurm_cluster):
    marker = slurm_cluster.root / "jobs" / "requeue-runs.txt"
    job_id = slurm_cluster.sbatch(f'echo "run $SLURM_RESTART_COUNT" >> {marker}\nsleep 3\n')
    slurm_cluster.wait_state(job_id, "RUNNING", timeout_s=10)
    began = time.monotonic()
    slurm_cluster.scontrol("requeue", str(job_id))
    pending = slurm_cluster.wait_state(job_id, "PENDING", timeout_s=10, poll_s=0.05)
    assert pending["restart_cnt"] == 1
    again = slurm_cluster.wait_state(job_id, "RUNNING", timeout_s=30)
    print(f"requeue -> running again after {time.monotonic() - began:.2f} s")
    assert again["restart_cnt"] == 1
    slurm_cluster.wait_state(job_id, "COMPLETED", timeout_s=15)
    assert marker.read_text().split("\n")[:2] == ["run ", "run 1"]


def test_array_of_50_runs_at_once_and_completes(slurm_cluster):
    array_id = slurm_cluster.sbatch("sleep 3; echo task $SLURM_ARRAY_TASK_ID", "--array=0-49",
                                    "--job-name=kiln-array")
    most_running = 0
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        tasks = [j for j in slurm_cluster.jobs() if j["array_job_id"] == array_id]
        running = sum(j["job_state"] == "RUNNING" for j in tasks)
        most_running = max(most_running, running)
        if len(tasks) == 50 and all(j["job_state"] == "COMPLETED" for j in tasks):
            break
        time.sleep(0.3)
    print(f"array of 50: at most {most_running} tasks running at once")
    assert sorted(j["array_task_id"] for j in tasks) == list(range(50))
    assert all(j["job_state"] == "COMPLETED" for j in tasks), {j["job_state"] for j in tasks}
    assert all(j["name"] == "kiln-array" and j["nodes"] == slurm_cluster.node for j in tasks)
    assert most_running >= 40
    # Task 49 keeps the array's own id as its job id; the others got ids of their own.
    assert next(j for j in tasks if j["job_id"] == array_id)["array_task_id"] == 49
    outputs = {(slurm_cluster.root / "jobs" / f"slurm-{j['job_id']}.out").read_text().strip() for j in tasks}
    assert outputs == {f"task {i}" for i in range(50)}


def test_pending_array_is_one_record_with_a_task_string(slurm_cluster):
    array_id = slurm_cluster.sbatch("true", "--array=0-4", "--hold")
    try:
        records = [j for j in slurm_cluster.jobs() if j["array_job_id"] == array_id]
        assert len(records) == 1
        (record,) = records
        assert record["job_id"] == array_id
        assert record["job_state"] == "PENDING"
        assert record["array_task_string"] == "0-4"
        assert record["array_task_id"] is None
    finally:
        slurm_cluster.scancel(str(array_id))


def test_squeue_json_ignores_name_filter(slurm_cluster):
    """In 22.05 `squeue --json` ignores filters (--name, --jobs...): the backend filters by name itself."""
    job_id = slurm_cluster.sbatch("true", "--job-name=not-kiln")
    slurm_cluster.wait_state(job_id, "COMPLETED", timeout_s=15)
    filtered = slurm_cluster._run(["squeue", "--json", "--name=kiln-nothing-has-this-name"])
    assert f'"job_id": {job_id},' in filtered


def test_controller_stopped_briefly_keeps_jobs(slurm_cluster):
    job_id = slurm_cluster.sbatch("sleep 4")
    slurm_cluster.wait_state(job_id, "RUNNING", timeout_s=10)
    slurm_cluster.stop_controller()
    # Controller down: squeue --json still exits 0 (after ~9 s), with "errors" and no jobs.
    down = json.loads(slurm_cluster._run(["squeue", "--json"]))
    assert down["errors"] and down["jobs"] == []
    with pytest.raises(SlurmQueryError):
        slurm_cluster.squeue_json()
    slurm_cluster.start_controller()
    record = slurm_cluster.job(job_id)
    assert record is not None and record["job_state"] in ("RUNNING", "COMPLETED")
    slurm_cluster.wait_state(job_id, "COMPLETED", timeout_s=20)


def test_over_time_limit_is_timeout(slurm_cluster, timeout_job):
    job_id, submitted = timeout_job
    record = slurm_cluster.wait_state(job_id, {"TIMEOUT", "FAILED", "CANCELLED", "COMPLETED"}, timeout_s=120,
                                      poll_s=0.5)
    print(f"--time=0:01 -> {record['job_state']} {time.monotonic() - submitted:.1f} s after sbatch")
    assert record["job_state"] == "TIMEOUT"
    assert record["state_reason"] == "TimeLimit"
    assert record["time_limit"] == 1  # minutes: Slurm rounds --time=0:01 up to 1 minute


def test_missing_slurm_says_to_run_bootstrap(monkeypatch):
    from . import slurm_cluster as module
    monkeypatch.setattr(module, "_which", lambda program: None if program == "slurmd" else "/usr/bin/true")
    with pytest.raises(module.SlurmNotInstalled, match="slurmd not found.*run scripts/bootstrap"):
        module.SlurmCluster()
