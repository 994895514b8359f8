"""`kiln serve` with its projects, history and users in PostgreSQL
([database] kind = "postgres" in kiln.toml; docs/store.md), on a throwaway
server started by the test (postgres_server.py): what is committed through
one server process is there for the next, the CLI's data commands reach the
same database with --config, and a server it cannot reach stops naming the
cause.
"""
import subprocess

import pytest

from kiln_server import KILN, Kiln
from postgres_server import PostgresNotInstalled, PostgresServer


@pytest.fixture(scope="module")
def postgres():
    try:
        server = PostgresServer()
    except PostgresNotInstalled as e:
        pytest.fail(str(e), pytrace=False)
    server.start()
    yield server
    server.stop()


def config_for(path, conninfo):
    path.write_text(f'[database]\nkind = "postgres"\nconninfo = "{conninfo}"\n')
    return path


@pytest.fixture
def two_servers(postgres, tmp_path):
    """Servers A and B on one new database."""
    config = config_for(tmp_path / "kiln.toml", postgres.conninfo(postgres.create_database()))
    a = Kiln("--config", str(config))
    try:
        b = Kiln("--config", str(config))
    except BaseException:
        a.stop()
        raise
    yield a, b
    a.stop()
    b.stop()


def test_projects_and_users_live_in_postgres(postgres, tmp_path):
    config = config_for(tmp_path / "kiln.toml", postgres.conninfo(postgres.create_database()))
    k = Kiln("--config", str(config))
    try:
        assert k.api("POST", "/projects", {"name": "shared"}).status == 201
        head = k.api("GET", "/projects/shared/branches").json()
    finally:
        k.stop()
    # A new data folder: only the database holds the project.
    k = Kiln("--config", str(config))
    try:
        assert k.api("GET", "/projects/shared/branches").json() == head
        # The CLI's data commands use the same database through --config.
        listed = k.cli("--config", str(config), "projects", "list")
        assert "shared" in listed, listed
        k.cli("--config", str(config), "users", "add", "ana", "--password", "password-ana")
        assert "ana" in k.cli("--config", str(config), "users", "list")
        assert "ana" not in subprocess.run([str(KILN), "--data", str(k.data), "users", "list"],
                                           capture_output=True, text=True).stdout
    finally:
        k.stop()


def test_a_database_it_cannot_reach_stops_the_server_naming_it(tmp_path):
    config = config_for(tmp_path / "kiln.toml", "host=127.0.0.1 port=9 dbname=kiln user=kiln")
    out = subprocess.run([str(KILN), "--data", str(tmp_path / "data"), "serve", "--port", "0",
                          "--web", "", "--config", str(config)],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode != 0
    text = out.stdout + out.stderr
    assert "database (postgres)" in text and "127.0.0.1" in text and "9" in text, text


def test_two_servers_on_one_database_see_each_others_commits_live(two_servers):
    """A patch sent to server A reaches a WebSocket client subscribed on
    server B as a commit with its ops (NOTIFY kiln_refs → the hub), and one
    sent to B reaches A's client."""
    import uuid

    from kiln_server import commit, meta_guids
    from wsclient import WebSocket

    a, b = two_servers
    assert a.api("POST", "/projects", {"name": "shared"}).status == 201
    watchers = {}
    for name, k in (("a", a), ("b", b)):
        ws = WebSocket(k.port)
        ws.send({"type": "subscribe", "project": "shared", "branch": "main"})
        ws.recv_until("subscribed")
        watchers[name] = ws
    m = meta_guids(a, "shared")
    # Three in a row each way: every one arrives, in order, with its ops.
    for sender, mine, other in ((a, "a", "b"), (b, "b", "a")):
        for _ in range(3):
            guid = str(uuid.uuid4())
            made = commit(sender, "shared", [{"op": "create", "guid": guid,
                                              "parent": m["ROOT"], "base": m["Folder"],
                                              "attrs": {"name": "x"}}])
            assert watchers[mine].recv_until("commit")["commit"] == made["commit"]
            got = watchers[other].recv_until("commit")
            assert got["commit"] == made["commit"], (got, made)
            assert [op["guid"] for op in got["ops"] if op.get("op") == "create"] == [guid]
    for ws in watchers.values():
        ws.close()


def _lab_helpers():
    """The Slurm suite's pipeline helpers (a project "lab" with a Scale →
    Total pipeline whose Scale prints and logs a metric every half second)."""
    import sys
    from pathlib import Path
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/: the slurm package
    from slurm import test_slurm_backend as helpers
    return helpers


def test_an_execution_started_on_one_server_is_watched_live_from_the_other(two_servers):
    """Runs live in the same database: B lists and shows an execution A
    started, and a browser watching it on B gets its jobs' states and log
    lines while it runs (A's writes NOTIFY kiln_runs; B's follower reads
    them), the same messages as a watcher on A."""
    from wsclient import WebSocket

    h = _lab_helpers()
    a, b = two_servers
    lab = h.make_lab(a)
    eid = h.start(a, h.pipeline(a, lab, seconds=6.0))
    listed = b.api("GET", "/projects/lab/executions").json()["executions"]
    assert [e["id"] for e in listed] == [eid]
    shown = b.api("GET", f"/executions/{eid}").json()
    assert shown["server"] == (a.data / "server-id").read_text().strip(), shown
    assert {"Scale", "Total"} <= {j["name"] for j in shown["jobs"]}, shown

    ws = WebSocket(b.port, timeout=60)
    ws.send({"type": "watch", "execution": eid})
    snapshot = ws.recv_until("execution")
    assert snapshot["execution"]["state"] == "running", "it ended before B watched it"
    ws.recv_until("watching")
    lines, states, running_lines = [], [], 0
    while True:
        try:
            m = ws.recv()
        except TimeoutError:
            raise AssertionError("B's watcher heard nothing more; A:\n" + a.server_log() +
                                 "\nB:\n" + b.server_log())
        if m["type"] == "events":
            new = [ev["payload"].get("line", "") for ev in m["events"] if ev["kind"] == "log"]
            lines += new
            if "succeeded" not in states:  # Scale still running
                running_lines += len(new)
        elif m["type"] == "job":
            if m["job"]["name"] not in ("Scale", "Total"):
                continue
            states.append(m["job"]["state"] if m["job"]["name"] == "Scale"
                          else "Total:" + m["job"]["state"])
        elif m["type"] == "execution" and m["execution"]["state"] != "running":
            assert m["execution"]["state"] == "succeeded", m
            break
    ws.close()
    # Those printed after B began to watch, each once, in order (the
    # earlier ones a browser reads by offset from the REST API).
    steps = [l for l in lines if l.startswith("step")]
    assert len(steps) >= 6, steps
    assert steps == [f"step {i} of 12" for i in range(12 - len(steps), 12)], steps
    assert "succeeded" in states and "Total:succeeded" in states, states
    assert running_lines > 0, "no log line reached B while Scale ran"
    assert h.execution(a, eid) == h.execution(b, eid)


def test_a_server_restarting_leaves_the_other_servers_executions_running(two_servers):
    """Each execution belongs to the server that started it: B killed and
    restarted while A runs one does not fail it ("server restarted" is only
    for B's own), and A finishes it, once."""
    h = _lab_helpers()
    a, b = two_servers
    lab = h.make_lab(a)
    eid = h.start(a, h.pipeline(a, lab, seconds=10.0))
    h.wait_job(a, eid, "Scale", "running")
    b.kill_and_restart()
    assert b.api("GET", "/projects").status == 200  # B is back, and reconciled
    # Reconciled while A's execution runs (a 10 s job; B restarts in a few).
    assert h.execution(b, eid)["state"] == "running", h.execution(b, eid)
    done = h.wait(a, eid)
    assert done["state"] == "succeeded", done
    scale = next(j for j in done["jobs"] if j["name"] == "Scale")
    logs = a.api("GET", f"/jobs/{scale['id']}/logs").json()["events"]
    steps = [ev["payload"]["line"] for ev in logs if ev["payload"].get("line", "").startswith("step")]
    assert steps == [f"step {i} of 20" for i in range(20)]


def test_a_cancel_asked_of_the_other_server_stops_the_execution(two_servers):
    """Only the server that drives an execution can kill its jobs: B leaves
    the cancel for A (202, naming A) and A's Driver carries it out."""
    h = _lab_helpers()
    a, b = two_servers
    lab = h.make_lab(a)
    eid = h.start(a, h.pipeline(a, lab, seconds=30.0))
    h.wait_job(a, eid, "Scale", "running")
    r = b.api("POST", f"/executions/{eid}/cancel")
    assert r.status == 202, r
    assert r.json() == {"cancelled": eid, "server": (a.data / "server-id").read_text().strip()}
    done = h.wait(a, eid, timeout=60)
    assert done["state"] == "cancelled", done
    scale = next(j for j in done["jobs"] if j["name"] == "Scale")
    assert scale["state"] == "cancelled" and "cancelled by" in scale["reason"], scale
    assert h.execution(b, eid)["state"] == "cancelled"
    # Cancelling it again anywhere: it is not running, nothing is left for A.
    assert b.api("POST", f"/executions/{eid}/cancel").status in (404, 409), "ended"

    # One job, asked of B: a job waiting for its input is refused at once
    # (422, as A would), a running one is left for A and cancelled there.
    eid = h.start(a, h.pipeline(a, lab, seconds=30.0))
    scale = h.wait_job(a, eid, "Scale", "running")
    total = h.job(b, eid, "Total")
    refused = b.api("POST", f"/jobs/{total['id']}/cancel")
    assert refused.status == 422 and "pending" in refused.json()["error"]["message"], refused
    assert b.api("POST", f"/jobs/{scale['id']}/cancel").status == 202
    done = h.wait(a, eid, timeout=60)
    states = {j["name"]: j["state"] for j in done["jobs"]}
    assert states["Scale"] == "cancelled" and states["Total"] in ("skipped", "cancelled"), done
