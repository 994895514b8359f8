"""GPU slots and routing on the local backend (docs/compute.md "GPUs on the
local backend"), end to end on a real `kiln serve --config` without Slurm.

  * gpus = 0: a job asking for a GPU fails at once, saying how to configure one;
  * gpus = 2: three one-GPU jobs share two devices: two run at once on "0" and
    "1", the third waits (queued, "waiting for 1 free GPU on local") and then
    runs on the device freed; a job asking for none sees CUDA_VISIBLE_DEVICES="";
  * an execution sent to a backend the server lacks is refused naming it and
    the server's backends; a config file with a mistake stops `kiln serve`
    with file:line: key.

No GPU is needed: the local backend hands out the configured slots as
CUDA_VISIBLE_DEVICES whatever the machine has. The pipeline helpers are
tests/slurm/test_slurm_backend.py's (data.json → Scale → Total → Output).
"""
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kiln_server import KILN, Kiln

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/: the slurm package
from slurm.test_slurm_backend import execution, job, make_lab, pipeline, start, wait  # noqa: E402

# A Scale that prints the devices it was given (repr: "" and unset differ).
SCALE_GPU = '''import os
import time

import kiln


class Scale(kiln.Operation):
    def __init__(self, factor: float = 2.0, seconds: float = 0.0):
        self.factor, self.seconds = factor, seconds

    def execute(self, values):
        print("devices " + repr(os.environ.get("CUDA_VISIBLE_DEVICES")), flush=True)
        time.sleep(self.seconds)
        scaled = [v * self.factor for v in values]
        return scaled
'''


def local_config(path, gpus):
    path.write_text(f'''
[backends.local]
kind = "local"
slots = 4
gpus = {gpus}
''')
    return path


def serve(tmp_path_factory, gpus):
    config = local_config(tmp_path_factory.mktemp("config") / "kiln.toml", gpus)
    k = Kiln("--config", str(config))
    k.lab = make_lab(k)
    return k


@pytest.fixture(scope="module")
def no_gpus(tmp_path_factory):
    k = serve(tmp_path_factory, gpus=0)
    yield k
    k.stop()


@pytest.fixture(scope="module")
def two_gpus(tmp_path_factory):
    k = serve(tmp_path_factory, gpus=2)
    yield k
    k.stop()


def devices_logged(kiln, job_id):
    """The CUDA_VISIBLE_DEVICES the job printed (its repr's value)."""
    logs = kiln.api("GET", f"/jobs/{job_id}/logs").json()["events"]
    lines = [e["payload"].get("line", "") for e in logs if e["payload"].get("line", "").startswith("devices ")]
    assert len(lines) == 1, logs
    return eval(lines[0][len("devices "):])  # a repr of a str or None, printed by SCALE_GPU


def test_a_gpu_job_on_a_backend_without_gpus_fails_at_once_saying_how_to_configure_one(no_gpus):
    began = time.time()
    eid = start(no_gpus, pipeline(no_gpus, no_gpus.lab, code=SCALE_GPU, job_gpus=1))
    e = wait(no_gpus, eid, timeout=30)
    assert time.time() - began < 10  # refused before it is queued, never run
    scale = job(no_gpus, eid, "Scale")
    assert e["state"] == "failed" and scale["state"] == "failed", e
    assert scale["reason"] == ("asks for 1 GPU but backend 'local' has 0 (configure gpus = N "
                               "under [backends.local] if this machine has GPUs)"), scale
    assert not scale.get("started_ms"), scale
    assert job(no_gpus, eid, "Total")["state"] == "skipped"


def test_three_gpu_jobs_share_two_devices_the_third_waits_for_a_free_one(two_gpus):
    kiln = two_gpus
    guid = pipeline(kiln, kiln.lab, code=SCALE_GPU, seconds=3.0, job_gpus=1)
    r = kiln.api("POST", "/projects/lab/sweeps",
                 {"pipeline": guid, "parameters": [{"name": "Scale.factor", "values": [1, 2, 3]}]})
    assert r.status == 201, r
    executions = r.json()["executions"]
    # Watch the three Scale jobs until all have ended: what each was seen doing
    # while two others ran.
    queued_while_two_ran = {}
    deadline = time.time() + 60
    while time.time() < deadline:
        scales = {eid: job(kiln, eid, "Scale") for eid in executions}
        running = [s for s in scales.values() if s["state"] == "running"]
        for eid, s in scales.items():
            if s["state"] == "queued" and len(running) == 2:
                queued_while_two_ran[eid] = s
        if all(s["state"] not in ("queued", "running", "pending") for s in scales.values()) and \
                all(execution(kiln, eid)["state"] != "running" for eid in executions):
            break
        time.sleep(0.1)
    for eid in executions:
        assert execution(kiln, eid)["state"] == "succeeded", (execution(kiln, eid), kiln.server_log())
    scales = sorted((job(kiln, eid, "Scale") for eid in executions), key=lambda s: s["started_ms"])
    first, second, third = scales
    devices = {s["id"]: devices_logged(kiln, s["id"]) for s in scales}
    # Two at once, on different devices.
    assert {devices[first["id"]], devices[second["id"]]} == {"0", "1"}, devices
    assert second["started_ms"] < first["finished_ms"], scales
    # The third waited, queued with the reason, and started after one ended, on the device it freed.
    assert len(queued_while_two_ran) == 1, queued_while_two_ran
    waiting = next(iter(queued_while_two_ran.values()))
    assert waiting["id"] == third["id"]
    assert waiting["reason"] == "waiting for 1 free GPU on local", waiting
    freed = [s for s in (first, second) if s["finished_ms"] <= third["started_ms"]]
    assert freed, scales
    assert devices[third["id"]] in {devices[s["id"]] for s in freed}, (devices, scales)


def test_a_job_without_gpus_sees_no_device(two_gpus):
    eid = start(two_gpus, pipeline(two_gpus, two_gpus.lab, code=SCALE_GPU))
    e = wait(two_gpus, eid, timeout=60)
    assert e["state"] == "succeeded", e
    assert devices_logged(two_gpus, job(two_gpus, eid, "Scale")["id"]) == ""


def test_an_execution_for_an_unknown_backend_is_refused_naming_the_backends(two_gpus):
    guid = pipeline(two_gpus, two_gpus.lab, code=SCALE_GPU)
    r = two_gpus.api("POST", "/projects/lab/executions", {"pipeline": guid, "backend": "nowhere"})
    assert r.status in (400, 422), r
    message = r.body.decode()
    assert "nowhere" in message and "local" in message, message


def test_a_config_file_with_a_mistake_stops_serve_naming_file_line_and_key(tmp_path):
    config = tmp_path / "kiln.toml"
    config.write_text('[backends.local]\nkind = "local"\n\n[backends.cluster]\nkind = "slurmm"\n')
    out = subprocess.run([str(KILN), "--data", str(tmp_path / "data"), "serve", "--port", "0",
                          "--config", str(config)], capture_output=True, text=True, timeout=30)
    assert out.returncode != 0, out
    assert (f"{config}:5: backends.cluster.kind: unknown backend kind 'slurmm' (local, slurm, remote)"
            in out.stderr + out.stdout), out
