"""The redshift example through a real server, at a reduced size: a fresh `kiln serve`
opens with it, its attributes are patched down (100 galaxies, one epoch), and
`kiln run redshift "Photometric redshifts" --wait` runs every job to success — real
FITS files, the real architecture, real training — then a second run is all cached.

The full-size run is the documented command of examples/README.md (about two minutes).
Needs the built binary (build/src/cli/kiln, or $KILN_BINARY); skipped without it.
"""
import io
import json
import math
import os
import pickle
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from conftest import PYTHON_DIR

ROOT = os.path.dirname(PYTHON_DIR)
KILN = os.environ.get("KILN_BINARY") or os.path.join(ROOT, "build", "src", "cli", "kiln")
PIPELINE = "Photometric redshifts"
OPERATIONS = ("GenerateSurvey", "QueryCatalog", "DownloadFits", "Preprocess", "TrainValidate",
              "VisualizePredictions", "PhotoZMetrics", "ReduceDimensions", "VisualizeEmbeddings")

pytestmark = pytest.mark.skipif(not os.access(KILN, os.X_OK),
                                reason=f"no kiln binary at {KILN} (build it: ninja -C build kiln)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    data = tmp_path_factory.mktemp("kiln-data")
    port = free_port()
    env = dict(os.environ, KILN_VENVS=str(data / "venvs"))
    proc = subprocess.Popen([KILN, "serve", "--port", str(port), "--data", str(data),
                             "--examples", os.path.join(ROOT, "examples")],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 120
    while True:
        try:
            with urllib.request.urlopen(url + "/api/v1/health", timeout=2) as r:
                if r.status == 200:
                    break
        except OSError:
            pass
        if proc.poll() is not None or time.time() > deadline:
            out = proc.stdout.read().decode(errors="replace") if proc.poll() is not None else ""
            proc.kill()
            pytest.fail(f"kiln serve did not come up: {out[-2000:]}")
        time.sleep(0.2)
    yield url
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()


def api(url, method, path, body=None):
    req = urllib.request.Request(f"{url}/api/v1{path}", method=method,
                                 data=json.dumps(body).encode() if body is not None else None,
                                 headers={"content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.load(r)


def run(url):
    r = subprocess.run([KILN, "run", "redshift", PIPELINE, "--wait", "--server", url],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, f"{r.stdout}\n{r.stderr}"
    assert r.stdout.rstrip().endswith("execution succeeded"), r.stdout
    return r.stdout


def artifact(url, digest):
    with urllib.request.urlopen(f"{url}/api/v1/artifacts/{digest}?project=redshift",
                                timeout=60) as r:
        return r.read()


@pytest.fixture(scope="module")
def first_run(server):
    """Patches the example down to a test's size, then runs it."""
    sys.path.insert(0, os.path.join(ROOT, "examples"))
    from guids import derive_guid
    pipeline = derive_guid("redshift", "pipeline/" + PIPELINE)

    def set_attr(instance, name, value):
        return {"op": "set_attr", "node": derive_guid(pipeline, "instance/" + instance),
                "name": name, "value": value}
    api(server, "POST", "/projects/redshift/branches/main/patches",
        {"message": "a test's size",
         "ops": [set_attr("survey", "n_galaxies", 100), set_attr("train", "epochs", 1),
                 set_attr("train", "batch_size", 16)]})
    out = run(server)
    execution = api(server, "GET", "/projects/redshift/executions?limit=1")["executions"][0]
    jobs = {j["name"]: j for j in api(server, "GET", f"/executions/{execution['id']}")["jobs"]}
    return out, jobs


def test_the_pipeline_runs_to_success_through_real_fits_files(server, first_run):
    out, jobs = first_run
    for name in OPERATIONS:
        assert f"[succeeded] {name}" in out, out
    assert "GenerateSurvey | 100 galaxies, 500 FITS images" in out, out
    assert "Preprocess | 100 cubes of shape (5, 64, 64)" in out, out
    assert "TrainValidate | epoch 1/1" in out, out
    fits = pytest.importorskip("astropy.io.fits")
    survey_digest = next(iter(jobs["GenerateSurvey"]["outputs"].values()))["digest"]
    survey = pickle.loads(artifact(server, survey_digest))  # the pickle serializer's format
    assert len([n for n in survey if n.startswith("images/")]) == 500
    with fits.open(io.BytesIO(survey["images/000042-z.fits"])) as hdus:
        assert hdus[0].header["BAND"] == "z" and hdus[0].data.shape == (48, 48)


def test_the_metrics_are_computed_logged_and_an_output(server, first_run):
    _, jobs = first_run
    logged = api(server, "GET", f"/jobs/{jobs['PhotoZMetrics']['id']}/metrics")["metrics"]
    output = [a for a in api(server, "GET", "/projects/redshift/artifacts")["artifacts"]
              if a["name"] == "Redshift metrics"]
    assert len(output) == 1
    metrics = json.loads(artifact(server, output[0]["digest"]))
    for name in ("bias", "sigma_mad", "outlier_fraction", "baseline_sigma_mad"):
        assert math.isfinite(metrics[name]), metrics
        assert logged[name][-1][1] == pytest.approx(metrics[name]), logged
    curves = api(server, "GET", f"/jobs/{jobs['TrainValidate']['id']}/metrics")["metrics"]
    assert set(curves) >= {"train_loss", "validation_loss"}


def test_a_second_run_is_fully_cached(server, first_run):
    out = run(server)
    for name in OPERATIONS:
        assert f"[cached] {name}" in out, out
        assert f"[succeeded] {name}" not in out, out
