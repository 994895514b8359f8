"""A Slurm job over its time limit fails saying so (docs/compute.md, "States":
TIMEOUT → failed `timed out: Slurm stopped the job at its time limit of T`).

A module of its own because it is slow: Slurm counts limits in whole minutes
(job_timeout_s = 30 becomes --time=1) and checks them every 30 s, so the job
is stopped 60-90 s after it starts. The job is submitted by a module fixture
as soon as the module begins, on a Kiln server of its own (the session's
cluster), so the wait overlaps whatever else the session runs meanwhile.
The pipeline helpers are test_slurm_backend.py's.
"""
import time

import pytest

from kiln_server import Kiln

from .test_slurm_backend import job, make_lab, pipeline, start, wait, wait_job, write_config


@pytest.fixture(scope="module")
def kiln(slurm_cluster, tmp_path_factory):
    config = write_config(slurm_cluster, tmp_path_factory.mktemp("config") / "kiln.toml")
    k = Kiln("--config", str(config))
    yield k
    k.stop()


@pytest.fixture(scope="module", autouse=True)
def over_its_limit(kiln):
    """The execution whose Scale sleeps 300 s with a 30 s limit, started at once."""
    lab = make_lab(kiln)
    eid = start(kiln, pipeline(kiln, lab, seconds=300.0, job_timeout_s=30))
    return {"execution": eid, "started": time.monotonic()}


def test_the_limit_goes_to_slurm_in_whole_minutes(kiln, slurm_cluster, over_its_limit):
    scale = wait_job(kiln, over_its_limit["execution"], "Scale", "running", timeout=60)
    record = slurm_cluster.job(int(scale["backend_job"]))
    assert record is not None and record["job_state"] == "RUNNING", record
    assert record["time_limit"] == 1, record  # minutes: 30 s rounded up


def test_a_job_over_its_time_limit_fails_saying_slurm_stopped_it(kiln, slurm_cluster, over_its_limit):
    e = wait(kiln, over_its_limit["execution"], timeout=200)
    took = time.monotonic() - over_its_limit["started"]
    scale = job(kiln, over_its_limit["execution"], "Scale")
    assert e["state"] == "failed" and scale["state"] == "failed", (e, kiln.server_log())
    assert slurm_cluster.job(int(scale["backend_job"]))["job_state"] == "TIMEOUT"
    assert took < 180, took  # stopped at its limit, not after the 300 s it asked for
    assert job(kiln, over_its_limit["execution"], "Total")["state"] == "skipped"
    # Slurm's own words: its limit is a whole minute, not the 30 s asked for.
    assert scale["reason"].startswith("timed out: Slurm stopped the job at its time limit"), scale
