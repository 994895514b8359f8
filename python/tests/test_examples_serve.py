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


def run_example(server, project, pipeline, *args):
    r = kiln(server, "run", project, pipeline, "--wait", *args)
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
    assert {"digits", "stations", "galaxy-lines", "redshift"} <= names


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


def api(server, method, path, body=None):
    req = urllib.request.Request(f"{server['url']}/api/v1{path}", method=method,
                                 data=json.dumps(body).encode() if body is not None else None,
                                 headers={"content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.load(r)


def test_every_digits_output_has_its_whole_provenance(server):
    """Job, code, attributes and inputs of every output of the digits run, down
    to the job that made the dataset; Train and Score ran with DigitsCNN's code."""
    run_example(server, "digits", "Digits classifier")
    execution = api(server, "GET", "/projects/digits/executions?limit=1")["executions"][0]
    jobs = api(server, "GET", f"/executions/{execution['id']}")["jobs"]
    outputs = [(j["name"], o["digest"]) for j in jobs for o in j["outputs"].values()]
    assert len(outputs) >= 4, jobs
    for name, digest in outputs:
        g = api(server, "GET", f"/projects/digits/artifacts/{digest}/provenance?depth=100")
        assert g["truncated"] is False
        producers = {j["id"]: j for j in g["jobs"]}
        for a in g["artifacts"]:
            # Every artifact of the chain was made by a job shown in it.
            assert a["origin"]["kind"] == "job" and a["origin"]["job"] in producers, (name, a)
        for j in g["jobs"]:
            op = g["operations"][j["operation"]]
            assert op["code"].strip() and isinstance(op["attributes"], dict), (name, j)
            assert set(j["inputs"]) == set(op["inputs"])
            assert j["runtime"]["python"] and j["runtime"]["torch"]
            if j["name"] in ("Train", "Score"):
                net = op["resources"]["net"]
                assert net["entry_class"] == "DigitsCNN"
                assert any("class DigitsCNN" in code for code in net["files"].values())
        # The chain starts at the job that made the data from nothing.
        assert any(not j["inputs"] for j in g["jobs"]), (name, g["jobs"])


def test_the_trained_model_reified_runs_all_cached(server):
    execution = api(server, "GET", "/projects/digits/executions?limit=1")["executions"][0]
    jobs = api(server, "GET", f"/executions/{execution['id']}")["jobs"]
    train = [j for j in jobs if j["name"] == "Train"][0]
    model = next(iter(train["outputs"].values()))["digest"]
    r = api(server, "POST", f"/projects/digits/artifacts/{model}/reify",
            {"branch": "reproduce-model", "name": "Make the model again"})
    assert r["notes"] == [], r["notes"]
    out = run_example(server, "digits", "Make the model again", "-b", "reproduce-model")
    assert "[cached] Train" in out and "[cached] LoadDigits" in out, out
    assert "[succeeded] Train" not in out, out


def test_a_sweep_of_four_trainings_shares_the_data_jobs(server):
    """Four trials over Train's epochs: four trained models, and LoadDigits
    and Split computed at most once across them (docs/sweeps.md)."""
    tree = api(server, "GET", "/projects/digits/tree")["tree"]["nodes"]
    pipeline = [g for g, n in tree.items() if (n.get("attrs") or {}).get("name") == "Digits classifier"][0]
    r = api(server, "POST", "/projects/digits/sweeps",
            {"pipeline": pipeline, "parameters": [{"name": "Train.epochs", "values": [1, 2, 3, 4]}]})
    assert r["trials"] == 4
    deadline = time.time() + 600
    while True:
        sweep = api(server, "GET", f"/sweeps/{r['id']}")
        if sweep["state"] != "running" or time.time() > deadline:
            break
        time.sleep(0.5)
    assert sweep["state"] == "succeeded", sweep
    models, ran = set(), {"LoadDigits": 0, "Split": 0}
    for trial in sweep["trials"]:
        assert "Score.accuracy" in trial["metrics"], trial
        for j in api(server, "GET", f"/executions/{trial['execution']}")["jobs"]:
            if j["name"] == "Train":
                models.add(j["outputs"]["model"]["digest"])
            if j["name"] in ran and j["state"] == "succeeded":
                ran[j["name"]] += 1
    assert len(models) == 4
    assert ran["LoadDigits"] <= 1 and ran["Split"] <= 1, ran


def test_an_edit_to_the_architecture_reruns_only_what_references_it(server):
    """Train and Score reference the DigitsCNN architecture: its generated code is
    in their cache key, so changing one layer re-runs them and nothing upstream."""
    import sys
    sys.path.insert(0, os.path.join(ROOT, "examples"))
    from guids import derive_guid
    run_example(server, "digits", "Digits classifier")  # everything cached or run once
    arch = derive_guid("digits", "architecture/DigitsCNN")
    conv1 = derive_guid(arch, "node/conv1")
    patch = {"message": "fewer filters",
             "ops": [{"op": "set_attr", "node": conv1, "name": "out_channels", "value": 8}]}
    req = urllib.request.Request(f"{server['url']}/api/v1/projects/digits/branches/main/patches",
                                 data=json.dumps(patch).encode(), method="POST",
                                 headers={"content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        assert r.status == 201
    out = run_example(server, "digits", "Digits classifier")
    assert "[cached] LoadDigits" in out and "[cached] Split" in out, out
    assert "[cached] Train" not in out and "[cached] Score" not in out, out
    assert re.search(r"Score \| accuracy on \d+ test images: 0\.9", out), out


def test_galaxy_lines_streams_its_figures_and_recovers_the_truth(server, tmp_path):
    out = run_example(server, "galaxy-lines", "Spectra and light curve")
    assert "FitLines | spectrum 5: z =" in out
    assert "Periodogram | best period" in out
    summary = [a for a in artifacts(server, "galaxy-lines") if a["name"] == "Analysis summary"]
    assert len(summary) == 1
    path = tmp_path / "summary.json"
    assert kiln(server, "artifacts", "get", summary[0]["digest"], "-o", str(path)).returncode == 0
    values = json.loads(path.read_text())
    assert values["spectra"] == 6
    assert values["period_error_days"] < 0.05
    assert values["max_abs_redshift_error"] < 1e-3
    # The figures: two from Simulate, one per spectrum from FitLines, two from
    # the periodogram, one from the report.
    with urllib.request.urlopen(f"{server['url']}/api/v1/projects/galaxy-lines/executions",
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


def test_a_projects_python_packages_are_installed_once_for_its_jobs(server, tmp_path):
    """`kiln requirements` → the jobs' environment (docs/python-packages.md)."""
    from test_venv import make_wheel
    make_wheel(tmp_path / "wheels", name="kiln_station_units",
               body="def to_fahrenheit(c):\n    return c * 9 / 5 + 32\n")
    data = ["--data", str(server["data"])]
    local = lambda *a: subprocess.run([KILN, *a, *data], capture_output=True, text=True,  # noqa
                                      timeout=60)
    assert local("branch", "create", "stations", "units").returncode == 0
    # ReadCsv now imports a package that only the wheel folder has.
    import sys
    sys.path.insert(0, os.path.join(ROOT, "examples"))
    import build
    read_csv = build.derive_guid("stations", "operation/ReadCsv")
    code = open(os.path.join(ROOT, "examples/stations/operations/read_csv.py")).read()
    code = code.replace("import kiln\n", "import kiln\nimport kiln_station_units\n", 1).replace(
        "        return table\n",
        "        print('20 C is', kiln_station_units.to_fahrenheit(20), 'F')\n        return table\n")
    patch = tmp_path / "patch.json"
    patch.write_text(json.dumps({"message": "units", "ops": [
        {"op": "set_attr", "node": read_csv, "name": "code", "value": code}]}))
    assert local("patch", "stations", str(patch), "-b", "units").returncode == 0

    # Without the package: the job says how to add it.
    r = kiln(server, "run", "stations", "Station summary", "-b", "units", "--wait")
    assert r.returncode == 1
    assert "No module named 'kiln_station_units'" in r.stdout
    assert "kiln requirements PROJECT" in r.stdout, r.stdout

    reqs = tmp_path / "requirements.txt"
    reqs.write_text(f"--no-index\n--find-links {tmp_path / 'wheels'}\nkiln_station_units\n")
    r = local("requirements", "stations", str(reqs), "-b", "units")
    assert r.returncode == 0, r.stderr
    assert local("requirements", "stations", "-b", "units").stdout == reqs.read_text()
    r = kiln(server, "run", "stations", "Station summary", "-b", "units", "--wait")
    assert r.returncode == 0, r.stdout + r.stderr
    # The build streamed as ReadCsv's log, before its end line; then the job ran.
    assert "ReadCsv | kiln: building the project's Python environment" in r.stdout
    assert re.search(r"ReadCsv \| Successfully installed kiln[_-]station[_-]units", r.stdout)
    assert "ReadCsv | 20 C is 68.0 F" in r.stdout
    envs = [p for p in (server["data"] / "venvs").iterdir() if p.is_dir()]
    assert len(envs) == 1
    # Forced again: the environment is reused, not rebuilt.
    r = kiln(server, "run", "stations", "Station summary", "-b", "units", "--wait", "--force")
    assert r.returncode == 0
    assert "building" not in r.stdout and "ReadCsv | 20 C is 68.0 F" in r.stdout
    # main has no requirements: its jobs run as before.
    assert local("requirements", "stations").stdout == ""


def test_run_wait_prints_every_log_line_before_the_jobs_end_line(server, tmp_path):
    # More lines than one page of /logs (1,000): all of them, then the end line.
    import sys
    sys.path.insert(0, os.path.join(ROOT, "examples"))
    import build
    data = ["--data", str(server["data"])]
    assert subprocess.run([KILN, "branch", "create", "stations", "chatty", *data],
                          capture_output=True).returncode == 0
    code = open(os.path.join(ROOT, "examples/stations/operations/read_csv.py")).read().replace(
        "        return table\n", "        for i in range(2500):\n            print('line', i)\n"
        "        return table\n")
    patch = tmp_path / "patch.json"
    patch.write_text(json.dumps({"message": "chatty", "ops": [
        {"op": "set_attr", "node": build.derive_guid("stations", "operation/ReadCsv"),
         "name": "code", "value": code}]}))
    assert subprocess.run([KILN, "patch", "stations", str(patch), "-b", "chatty", *data],
                          capture_output=True).returncode == 0
    out = run_example(server, "stations", "Station summary", "-b", "chatty")
    lines = out.splitlines()
    end = lines.index("[succeeded] ReadCsv")
    printed = [line for line in lines if line.startswith("  ReadCsv | line ")]
    assert printed == [f"  ReadCsv | line {i}" for i in range(2500)]
    assert lines.index("  ReadCsv | line 2499") < end
