"""The example projects, as a newcomer meets them: a fresh `kiln serve` opens
with them, and `kiln run PROJECT PIPELINE --wait` runs each to success,
printing every job's log lines before the job's end line.

Needs the built binary (build/src/cli/kiln, or $KILN_BINARY); skipped without it.
"""
import json
import os
import re
import socket
import subprocess
import time
import urllib.request

import pytest

from conftest import PYTHON_DIR

ROOT = os.path.dirname(PYTHON_DIR)
KILN = os.environ.get("KILN_BINARY") or os.path.join(ROOT, "build", "src", "cli", "kiln")

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
    # --data after the subcommand, as the README writes it.
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
    yield {"url": url, "data": data}
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()


def kiln(server, *args, timeout=300):
    return subprocess.run([KILN, *args, "--server", server["url"]], capture_output=True,
                          text=True, timeout=timeout)


def run_example(server, project, pipeline):
    r = kiln(server, "run", project, pipeline, "--wait")
    assert r.returncode == 0, f"{r.stdout}\n{r.stderr}"
    assert r.stdout.rstrip().endswith("execution succeeded"), r.stdout
    lines = r.stdout.splitlines()
    # Each job's log lines come before its end line.
    for i, line in enumerate(lines):
        m = re.match(r"  (.+?) \| ", line)
        if m:
            end = f"[succeeded] {m.group(1)}"
            assert end in lines[i:], f"a log line of {m.group(1)} after its end line:\n{r.stdout}"
    return r.stdout


def artifacts(server, project):
    with urllib.request.urlopen(f"{server['url']}/api/v1/projects/{project}/artifacts",
                                timeout=10) as r:
        return json.load(r)["artifacts"]


def test_a_fresh_server_opens_with_every_example(server):
    with urllib.request.urlopen(server["url"] + "/api/v1/projects", timeout=10) as r:
        body = json.load(r)
    names = {p["name"] for p in (body["projects"] if isinstance(body, dict) else body)}
    assert {"digits", "stations", "spectra"} <= names


def test_stations_from_an_uploaded_csv_to_a_summary(server, tmp_path):
    # The CSV ships with the example as an uploaded artifact the Input is bound to.
    csv = [a for a in artifacts(server, "stations") if a["name"] == "stations.csv"]
    assert len(csv) == 1
    out = run_example(server, "stations", "Station summary")
    assert "ReadCsv | read 1095 rows of 5 columns" in out
    assert re.search(r"Summarize \| Valley", out)
    summary = [a for a in artifacts(server, "stations") if a["name"] == "Station summary"]
    assert len(summary) == 1, artifacts(server, "stations")
    path = tmp_path / "summary.json"
    r = kiln(server, "artifacts", "get", summary[0]["digest"], "-o", str(path))
    assert r.returncode == 0, r.stderr
    values = json.loads(path.read_text())
    assert set(values) == {"Harbour", "Valley", "Summit", "all"}
    assert values["all"]["rows"] == 1095 and values["Valley"]["rows"] == 365
    assert values["Summit"]["temperature_c"]["mean"] < values["Harbour"]["temperature_c"]["mean"]


def test_digits_trains_and_scores(server):
    out = run_example(server, "digits", "Digits classifier")
    assert "Train | epoch 15/15" in out
    assert re.search(r"Score \| accuracy on \d+ test images: 0\.9", out), out


def test_spectra_streams_its_figures_and_recovers_the_truth(server, tmp_path):
    out = run_example(server, "spectra", "Spectra and light curve")
    assert "FitLines | spectrum 5: z =" in out
    assert "Periodogram | best period" in out
    summary = [a for a in artifacts(server, "spectra") if a["name"] == "Analysis summary"]
    assert len(summary) == 1
    path = tmp_path / "summary.json"
    assert kiln(server, "artifacts", "get", summary[0]["digest"], "-o", str(path)).returncode == 0
    values = json.loads(path.read_text())
    assert values["spectra"] == 6
    assert values["period_error_days"] < 0.05
    assert values["max_abs_redshift_error"] < 1e-3
    # The figures: two from Simulate, one per spectrum from FitLines, two from
    # the periodogram, one from the report.
    with urllib.request.urlopen(f"{server['url']}/api/v1/projects/spectra/executions",
                                timeout=10) as r:
        body = json.load(r)
    execs = body["executions"] if isinstance(body, dict) else body
    with urllib.request.urlopen(f"{server['url']}/api/v1/executions/{execs[0]['id']}",
                                timeout=10) as r:
        jobs = {j["name"]: j["id"] for j in json.load(r)["jobs"]}
    counts = {}
    for name in ("Simulate", "FitLines", "Periodogram", "Report"):
        with urllib.request.urlopen(f"{server['url']}/api/v1/jobs/{jobs[name]}/figures",
                                    timeout=10) as r:
            counts[name] = len(json.load(r)["figures"])
    assert counts == {"Simulate": 2, "FitLines": 6, "Periodogram": 2, "Report": 1}
