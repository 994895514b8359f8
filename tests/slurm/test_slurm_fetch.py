"""Slurm without a shared folder (docs/compute.md, "Jobs on other
machines"): with `bundles = "fetch"` the nodes are assumed not to see the
server's folders. Each job runs `kiln.remote_bundle` from a folder of the
node's own ($TMPDIR), fetches its bundle and input over HTTP with its token,
pushes its events and uploads its output; the pipeline's result is the same
as with a shared folder.
"""
import pytest

from kiln_server import Kiln

from .test_slurm_backend import execution, job, make_lab, pipeline, start, wait

WHERE_SCALE = '''import os

import kiln


class Scale(kiln.Operation):
    def __init__(self, factor: float = 2.0):
        self.factor = factor

    def execute(self, values):
        print("cwd " + os.getcwd(), flush=True)
        kiln.log_metric("scaled", len(values))
        scaled = [v * self.factor for v in values]
        return scaled
'''


@pytest.fixture(scope="module")
def kiln(slurm_cluster, tmp_path_factory):
    config = tmp_path_factory.mktemp("config") / "kiln.toml"
    config.write_text(f'''
[backends.cluster]
kind = "slurm"
partition = "{slurm_cluster.partition}"
bundles = "fetch"
poll_min_s = 0.2
poll_max_s = 2
env = {{ SLURM_CONF = "{slurm_cluster.conf_path}" }}
''')
    k = Kiln("--config", str(config))
    yield k
    k.stop()


def test_jobs_fetch_their_bundles_and_upload_their_outputs(kiln):
    lab = make_lab(kiln)
    eid = start(kiln, pipeline(kiln, lab, code=WHERE_SCALE))
    e = wait(kiln, eid)
    assert e["state"] == "succeeded", (e, kiln.server_log())
    scale = job(kiln, eid, "Scale")
    assert scale["backend"] == "cluster" and scale["backend_job"], scale
    logs = kiln.api("GET", f"/jobs/{scale['id']}/logs").json()["events"]
    cwd = [ev["payload"]["line"] for ev in logs
           if isinstance(ev["payload"], dict) and str(ev["payload"].get("line", "")).startswith("cwd ")]
    assert cwd, logs
    # It ran in a folder of its own, not in the server's bundle.
    assert str(kiln.data) not in cwd[0] and "kiln-job-" in cwd[0], cwd
    metrics = kiln.api("GET", f"/jobs/{scale['id']}/metrics").json()
    assert metrics, "its metric was pushed"
    total = job(kiln, eid, "Total")
    assert total["state"] == "succeeded" and total["outputs"], total
    assert execution(kiln, eid)["state"] == "succeeded"
