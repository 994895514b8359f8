"""Sweeps end to end (docs/sweeps.md) on a real `kiln serve`: four trials
over Total's offset share the upstream Scale job (it runs once), a trial
that fails is reported while the others finish, the trials' values and
final metrics are read back, the executions carry their overrides, and bad
requests are named.
"""
import time

import pytest

from kiln_server import Kiln
from test_provenance import DATA, build_pipeline

TOTAL = '''import kiln


class Total:
    def __init__(self, offset: int = 0):
        self.offset = offset

    def execute(self, scaled):
        if self.offset < 0:
            raise ValueError("a negative offset")
        total = sum(scaled) + self.offset
        kiln.log_metric("total", total)
        return total
'''


@pytest.fixture(scope="module")
def kiln():
    k = Kiln("--auth", users=("alice", "bob"))
    yield k
    k.stop()


@pytest.fixture(scope="module")
def lab(kiln):
    assert kiln.api("POST", "/projects", {"name": "lab"}, user="alice").status == 201
    up = kiln.api("POST", "/projects/lab/artifacts?name=data.json&serializer=json", DATA,
                  user="alice")
    pipeline = build_pipeline(kiln, "lab", "alice", up.json()["digest"], total_code=TOTAL,
                              total_attrs={"offset": 0})
    return {"pipeline": pipeline}


def wait_sweep(kiln, sweep_id, user="alice"):
    deadline = time.time() + 120
    while time.time() < deadline:
        s = kiln.api("GET", f"/sweeps/{sweep_id}", user=user).json()
        if s["state"] != "running":
            return s
        time.sleep(0.2)
    raise AssertionError("the sweep did not end")


def test_trials_share_upstream_jobs_and_a_failure_stays_its_own(kiln, lab):
    r = kiln.api("POST", "/projects/lab/sweeps",
                 {"pipeline": lab["pipeline"],
                  "parameters": [{"name": "Total.offset", "values": [0, 1, 2, -1]}]}, user="alice")
    assert r.status == 201, r
    assert r.json()["trials"] == 4
    s = wait_sweep(kiln, r.json()["id"])
    assert s["state"] == "failed"
    trials = sorted(s["trials"], key=lambda t: t["index"])
    assert [t["values"]["Total.offset"] for t in trials] == [0, 1, 2, -1]
    assert [t["state"] for t in trials] == ["succeeded"] * 3 + ["failed"]
    assert [t["metrics"].get("Total.total") for t in trials[:3]] == [19.5, 20.5, 21.5]
    # Scale ran exactly once across the four trials; the others took its outputs.
    scale_states = []
    for t in trials:
        e = kiln.api("GET", f"/executions/{t['execution']}", user="alice").json()
        assert e["sweep"] == s["id"] and e["overrides"]
        scale_states += [j["state"] for j in e["jobs"] if j["name"] == "Scale"]
    assert sorted(scale_states) == ["cached"] * 3 + ["succeeded"], scale_states
    listed = kiln.api("GET", "/projects/lab/sweeps", user="alice").json()["sweeps"]
    assert listed[0]["id"] == s["id"] and listed[0]["trial_count"] == 4


def test_a_grid_over_two_parameters_and_random_samples(kiln, lab):
    r = kiln.api("POST", "/projects/lab/sweeps",
                 {"pipeline": lab["pipeline"],
                  "parameters": [{"name": "Scale.factor", "values": [1, 2]},
                                 {"name": "offset", "range": {"min": 0, "max": 10, "steps": 3}}]},
                 user="alice")
    assert r.status == 201 and r.json()["trials"] == 6, r
    s = wait_sweep(kiln, r.json()["id"])
    assert s["state"] == "succeeded"
    assert {(t["values"]["Scale.factor"], t["values"]["Total.offset"]) for t in s["trials"]} == {
        (1.0, 0), (1.0, 5), (1.0, 10), (2.0, 0), (2.0, 5), (2.0, 10)}
    r = kiln.api("POST", "/projects/lab/sweeps",
                 {"pipeline": lab["pipeline"], "mode": "random", "samples": 2, "seed": 3,
                  "parameters": [{"name": "Total.offset", "range": {"min": 0, "max": 100}}]},
                 user="alice")
    assert r.status == 201 and r.json()["trials"] == 2


@pytest.mark.parametrize("body, message", [
    ({"parameters": [{"name": "Total.offset", "values": [1]}]}, "pipeline"),
    ({"pipeline": "{p}", "parameters": []}, "non-empty list"),
    ({"pipeline": "{p}", "parameters": [{"name": "Total.nope", "values": [1]}]}, "no operation"),
    ({"pipeline": "{p}", "parameters": [{"name": "Total.offset", "values": [0.5]}]}, "integer"),
    ({"pipeline": "{p}", "mode": "random", "parameters": [{"name": "offset", "values": [1]}]},
     "samples"),
])
def test_bad_sweeps_are_named(kiln, lab, body, message):
    if body.get("pipeline") == "{p}":
        body = dict(body, pipeline=lab["pipeline"])
    r = kiln.api("POST", "/projects/lab/sweeps", body, user="alice")
    assert r.status == 400, r
    assert message in r.json()["error"]["message"]


def test_another_user_sees_no_sweep(kiln, lab):
    r = kiln.api("POST", "/projects/lab/sweeps",
                 {"pipeline": lab["pipeline"],
                  "parameters": [{"name": "Total.offset", "values": [7]}]}, user="alice")
    sweep_id = r.json()["id"]
    assert kiln.api("GET", f"/sweeps/{sweep_id}", user="bob").status == 404
    assert kiln.api("POST", f"/sweeps/{sweep_id}/cancel", user="bob").status in (403, 404)
    assert kiln.api("POST", "/projects/lab/sweeps", {"pipeline": lab["pipeline"]},
                    user="bob").status in (403, 404)
    wait_sweep(kiln, sweep_id)


def kiln_cli(kiln, *args):
    import subprocess
    from kiln_server import KILN
    return subprocess.run([str(KILN), *args, "--server", f"http://127.0.0.1:{kiln.port}",
                           "--token", kiln.tokens["alice"]], capture_output=True, text=True,
                          timeout=180)


def test_kiln_sweep_prints_the_trials_table(kiln, lab):
    done = kiln_cli(kiln, "sweep", "lab", "Sum of scaled", "--set", "Total.offset=3,4", "--wait")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 trials of Sum of scaled" in done.stdout
    header = [line for line in done.stdout.splitlines() if line.startswith("trial")][0]
    assert "Total.offset" in header and "Total.total" in header
    assert "22.5" in done.stdout and "23.5" in done.stdout
    assert done.stdout.rstrip().endswith("sweep succeeded")
    bad = kiln_cli(kiln, "sweep", "lab", "Sum of scaled", "--set", "offset")
    assert bad.returncode == 1 and "--set takes NAME=VALUES" in bad.stderr
    grid = kiln_cli(kiln, "sweep", "lab", "Sum of scaled", "--set", "offset=1:2")
    assert grid.returncode == 1 and "needs steps" in grid.stderr
    nope = kiln_cli(kiln, "sweep", "lab", "No such", "--set", "offset=1")
    assert nope.returncode == 1 and "no pipeline named 'No such'" in nope.stderr
