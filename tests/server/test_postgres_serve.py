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


def test_two_servers_on_one_database_see_each_others_commits_live(postgres, tmp_path):
    """A patch sent to server A reaches a WebSocket client subscribed on
    server B as a commit with its ops (NOTIFY kiln_refs → the hub), and one
    sent to B reaches A's client."""
    import uuid

    from kiln_server import commit, meta_guids
    from wsclient import WebSocket

    config = config_for(tmp_path / "kiln.toml", postgres.conninfo(postgres.create_database()))
    a = Kiln("--config", str(config))
    b = Kiln("--config", str(config))
    try:
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
    finally:
        a.stop()
        b.stop()
