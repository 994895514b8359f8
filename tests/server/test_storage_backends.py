"""Two local storage backends (docs/storage.md, "Several backends"): the
default `[storage]` (named "fast") in the data folder and `[storage.slow]`
in a folder of its own, on a server with sign-in. alice owns `pa`, bob owns
`pb`; bob is given write on `pa` halfway.

Moves keep the digest and put the file in the other folder; only a project
that has an artifact may copy or move it (others: 404, as for an unknown
one); the project's choice needs its admin and is forgotten with the
project; a mistake in the config stops the server naming it.
"""
import hashlib
import subprocess

import pytest

from kiln_server import KILN, Kiln


@pytest.fixture(scope="module")
def kiln(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("storage")
    config = tmp / "kiln.toml"
    config.write_text(f'''
[storage]
name = "fast"

[storage.slow]
kind = "local"
path = "{tmp / 'slow'}"
''')
    k = Kiln("--auth", "--config", str(config), users=("alice", "bob"))
    k.slow = tmp / "slow"
    k.config = config
    yield k
    k.stop()


def upload(k, project, name, data, user):
    r = k.api("POST", f"/projects/{project}/artifacts?name={name}", data, user=user)
    assert r.status == 201, r
    return r.json()["digest"]


def test_two_local_backends_move_keeps_the_digest_and_checks_who_asks(kiln):
    k = kiln
    assert k.api("POST", "/projects", {"name": "pa"}, user="alice").status == 201
    assert k.api("POST", "/projects", {"name": "pb"}, user="bob").status == 201
    backends = k.api("GET", "/storage", user="bob").json()["backends"]
    assert backends == [{"name": "fast", "kind": "local", "default": True},
                        {"name": "slow", "kind": "local", "default": False}]

    data = b"alice's weights " * 1000
    digest = upload(k, "pa", "w.bin", data, "alice")
    assert any((k.data / "artifacts").rglob(digest))

    # bob's project does not have it; pa is not bob's (yet).
    r = k.api("POST", f"/projects/pb/artifacts/{digest}/move", {"to": "slow"}, user="bob")
    assert r.status == 404, r
    r = k.api("POST", f"/projects/pa/artifacts/{digest}/move", {"to": "slow"}, user="bob")
    assert r.status in (403, 404), r

    r = k.api("POST", f"/projects/pa/artifacts/{digest}/move", {"to": "slow"}, user="alice")
    assert r.status == 200, r
    assert r.json()["stores"] == ["slow"]
    assert any(k.slow.rglob(digest)) and not any((k.data / "artifacts").rglob(digest))
    listed = k.api("GET", "/projects/pa/artifacts", user="alice").json()["artifacts"]
    assert [a["stores"] for a in listed if a["digest"] == digest] == [["slow"]]
    got = k.request("GET", f"/api/v1/artifacts/{digest}?project=pa", user="alice")
    assert got.status == 200 and hashlib.sha256(got.body).hexdigest() == digest, got

    # With write on pa, bob may move its artifacts but not choose its storage.
    assert k.api("PUT", "/projects/pa/access/bob", {"role": "write"}, user="alice").status == 200
    r = k.api("POST", f"/projects/pa/artifacts/{digest}/move", {"to": "fast"}, user="bob")
    assert r.status == 200 and r.json()["stores"] == ["fast"], r
    r = k.api("PUT", "/projects/pa/storage", {"backend": "slow"}, user="bob")
    assert r.status == 403, r
    r = k.api("PUT", "/projects/pa/storage", {"backend": "slow"}, user="alice")
    assert r.status == 200, r
    assert k.api("GET", "/projects/pa/storage", user="bob").json() == {"backend": "slow",
                                                                       "chosen": True}
    new = upload(k, "pa", "new.bin", b"goes to slow", "bob")
    assert any(k.slow.rglob(new))
    # pb still stores in the default.
    theirs = upload(k, "pb", "b.bin", b"bob's own", "bob")
    assert any((k.data / "artifacts").rglob(theirs))


def test_a_deleted_projects_choice_is_not_inherited(kiln):
    k = kiln
    assert k.api("POST", "/projects", {"name": "temp"}, user="alice").status == 201
    assert k.api("PUT", "/projects/temp/storage", {"backend": "slow"}, user="alice").status == 200
    assert k.api("DELETE", "/projects/temp", user="alice").status == 200
    assert k.api("POST", "/projects", {"name": "temp"}, user="alice").status == 201
    r = k.api("GET", "/projects/temp/storage", user="alice")
    assert r.json() == {"backend": "fast", "chosen": False}, r


def test_kiln_gc_says_where_garbage_lives_and_deletes_it_everywhere(kiln):
    k = kiln
    assert k.api("POST", "/projects", {"name": "junk"}, user="alice").status == 201
    digest = upload(k, "junk", "junk.bin", b"soon garbage, in two places", "alice")
    r = k.api("POST", f"/projects/junk/artifacts/{digest}/copy", {"to": "slow"}, user="alice")
    assert r.status == 200 and r.json()["stores"] == ["fast", "slow"], r
    assert k.api("DELETE", "/projects/junk", user="alice").status == 200

    def gc(*args):
        out = subprocess.run([str(KILN), "--data", str(k.data), "--config", str(k.config), "gc",
                              "--grace-hours", "0", *args], capture_output=True, text=True,
                             timeout=120, stdin=subprocess.DEVNULL)
        assert out.returncode == 0, out.stderr
        return out.stdout

    listed = gc()
    line = next(line for line in listed.splitlines() if digest in line)
    assert "in storage: fast, slow" in line, listed
    gc("--delete", "--yes")
    assert not any((k.data / "artifacts").rglob(digest)) and not any(k.slow.rglob(digest))


def test_a_storage_mistake_in_the_config_stops_the_server(tmp_path):
    config = tmp_path / "kiln.toml"
    config.write_text('[storage.archive]\nkind = "tape"\n')
    out = subprocess.run([str(KILN), "--data", str(tmp_path / "data"), "serve", "--port", "0",
                          "--web", "", "--config", str(config)],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode != 0
    assert "storage.archive.kind: unknown storage kind 'tape' (local, s3)" in out.stdout + out.stderr
