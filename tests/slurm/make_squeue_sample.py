"""Writes tests/slurm/squeue_sample.json: real `squeue --json` output from Slurm 22.05, for the C++ parser's tests.

Run as root on a bootstrapped machine (about 15 s):
    /usr/bin/python3 tests/slurm/make_squeue_sample.py

The file holds the document squeue printed (its "meta" and "errors", and
"jobs" reduced to):
  * a pending array that Slurm has not split yet (one record for tasks 0-4,
    array_task_id null, array_task_string "0-4");
  * a running array task (array_job_id, array_task_id, nodes set);
plus, under "ended", the fields the backend reads from jobs that ended
COMPLETED, FAILED (exit 3), CANCELLED, OUT_OF_MEMORY and in a requeue, and
"controller_down": what squeue --json prints while slurmctld is stopped.
TIMEOUT is left out (it takes 70 s); its record has job_state "TIMEOUT",
state_reason "TimeLimit", exit_code 15 (SIGTERM) and time_limit in minutes.
"""

import json
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from slurm_cluster import SlurmCluster  # noqa: E402

KEY_FIELDS = ("job_id", "array_job_id", "array_task_id", "array_task_string", "job_state", "state_reason",
              "exit_code", "nodes", "name", "restart_cnt", "time_limit", "start_time", "end_time")


def main() -> None:
    with SlurmCluster() as cluster:
        pending = cluster.sbatch("true", "--array=0-4", "--hold", "--job-name=kiln-cluster")
        running = cluster.sbatch("sleep 30", "--array=0-1", "--job-name=kiln-cluster")
        completed = cluster.sbatch("true", "--job-name=kiln-cluster")
        failed = cluster.sbatch("exit 3", "--job-name=kiln-cluster")
        cancelled = cluster.sbatch("sleep 30", "--job-name=kiln-cluster")
        oom = cluster.sbatch("/usr/bin/python3 -c 'x = b\"x\" * (400 << 20)'", "--mem=64M",
                             "--job-name=kiln-cluster")
        requeued = cluster.sbatch("sleep 30", "--job-name=kiln-cluster")
        cluster.wait_state(cancelled, "RUNNING", 10)
        cluster.wait_state(requeued, "RUNNING", 10)
        cluster.scancel(str(cancelled))
        cluster.scontrol("requeue", str(requeued))
        for job_id in (completed, failed, oom):
            cluster.wait_state(job_id, {"COMPLETED", "FAILED", "OUT_OF_MEMORY"}, 15)
        cluster.wait_state(cancelled, "CANCELLED", 15)
        time.sleep(0.5)
        document = cluster.squeue_json()
        jobs = document["jobs"]
        task = next(j for j in jobs if j["array_job_id"] == running and j["job_state"] == "RUNNING")
        sample = {
            "meta": document["meta"],
            "errors": document["errors"],
            "jobs": [next(j for j in jobs if j["job_id"] == pending), task],
            "ended": [{k: j[k] for k in KEY_FIELDS} for j in jobs
                      if j["job_id"] in (completed, failed, cancelled, oom, requeued)],
        }
        cluster.stop_controller()
        down = subprocess.run(["squeue", "--json"], env=cluster.env, capture_output=True, text=True)
        sample["controller_down"] = {"exit_status": down.returncode, "document": json.loads(down.stdout)}
        cluster.start_controller()
    out = Path(__file__).parent / "squeue_sample.json"
    out.write_text(json.dumps(sample, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
