"""Storage lifecycle and stored credentials, end to end on a real `kiln serve`
(docs/storage.md, "Collecting garbage"; docs/access.md, "Stored
credentials").

  * gc: an artifact left only by a deleted project is garbage; one a branch
    names, one in an old commit, one a run used are not; the dry run lists
    exactly the garbage, --delete needs a confirmation (--yes when not on a
    terminal), and what it deletes is gone from the store and from downloads;
    the admin API does the same for server admins only;
  * credentials: stored through the API, never answered back; read lists,
    admin writes, the server's are for server admins; a deleted project's
    go with it; the raw database holds no secret.
"""
import subprocess
import sys
from pathlib import Path

import pytest

from kiln_server import KILN, Kiln, commit
from test_provenance import DATA

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/: the slurm package
from slurm.test_slurm_backend import job, pipeline, start, wait  # noqa: E402

SECRET = "s3cr3t-" + "x" * 24


def upload(k, project, name, body):
    r = k.api("POST", f"/projects/{project}/artifacts?name={name}&serializer=json", body)
    assert r.status == 201, r
    return r.json()["digest"]


def gc(k, *args, check=True):
    out = subprocess.run([str(KILN), "--data", str(k.data), "gc", *args], capture_output=True,
                         text=True, timeout=120, stdin=subprocess.DEVNULL)
    if check:
        assert out.returncode == 0, out.stderr
    return out


def test_gc_lists_and_deletes_only_what_nothing_references(tmp_path):
    k = Kiln()
    try:
        for p in ("lab", "scratch"):
            assert k.api("POST", "/projects", {"name": p}).status == 201
        kept = upload(k, "lab", "kept.json", b'{"kept": 1}')
        used = upload(k, "lab", "data.json", DATA)
        eid = start(k, pipeline(k, {"data": used}))
        assert wait(k, eid)["state"] == "succeeded"
        doomed = upload(k, "scratch", "doomed.json", b'{"doomed": 1}')
        assert k.api("DELETE", "/projects/scratch").status == 200

        dry = gc(k, "--grace-hours", "0").stdout
        assert dry.startswith("1 of "), dry
        assert doomed in dry and kept not in dry and used not in dry, dry
        assert "dry run: nothing deleted" in dry
        assert k.request("GET", f"/api/v1/artifacts/{kept}?project=lab").status == 200
        # The default grace period keeps a fresh artifact.
        assert gc(k).stdout.startswith("0 of "), gc(k).stdout
        refused = gc(k, "--grace-hours", "0", "--delete", check=False)
        assert refused.returncode == 1 and "--yes" in refused.stderr, refused.stderr
        done = gc(k, "--grace-hours", "0", "--delete", "--yes").stdout
        assert "deleted 1 artifacts" in done, done
        assert not any(p.name == doomed for p in (k.data / "artifacts").rglob("*"))
        assert gc(k, "--grace-hours", "0").stdout.startswith("0 of ")
        assert k.request("GET", f"/api/v1/artifacts/{kept}?project=lab").status == 200

        # The admin API (this server has no sign-in: the local user is a server admin).
        again = upload(k, "lab", "again.json", b'{"again": 1}')
        plan = k.api("GET", "/admin/gc?grace_hours=0").json()
        assert plan["garbage"] == [], plan  # "again" is named by lab's branch
        r = k.api("POST", "/admin/gc", {"delete": [again], "grace_hours": 0})
        assert r.status == 200 and r.json()["deleted"] == 0 and r.json()["skipped"] == 1, r
        assert k.api("GET", "/admin/gc?grace_hours=nope").status == 400
    finally:
        k.stop()


@pytest.fixture(scope="module")
def signed_in():
    k = Kiln("--auth", users=("ana", "bob", "carl"))
    assert k.api("POST", "/projects", {"name": "lab"}, user="ana").status == 201
    for user, role in (("bob", "write"), ("carl", "read")):
        assert k.request("PUT", f"/api/v1/projects/lab/access/{user}", {"role": role},
                         user="ana").status == 200
    yield k
    k.stop()


def test_credentials_are_write_only_and_follow_the_roles(signed_in):
    k = signed_in
    body = {"kind": "s3", "fields": {"access_key": "AK1"}, "secrets": {"secret_key": SECRET}}
    r = k.request("PUT", "/api/v1/projects/lab/credentials/bucket", body, user="ana")
    assert r.status == 200, r
    assert SECRET.encode() not in r.body and r.json()["secrets_set"] == ["secret_key"], r
    for user in ("ana", "bob", "carl"):
        r = k.request("GET", "/api/v1/projects/lab/credentials", user=user)
        assert r.status == 200 and SECRET.encode() not in r.body, r
        assert r.json()["credentials"][0]["fields"] == {"access_key": "AK1"}
    r = k.request("PUT", "/api/v1/projects/lab/credentials/other", body, user="bob")
    assert r.status == 403, r
    r = k.request("DELETE", "/api/v1/projects/lab/credentials/bucket", user="carl")
    assert r.status == 403, r
    # The server's are for server admins.
    r = k.request("PUT", "/api/v1/admin/credentials/site", body, user="ana")
    assert r.status == 403, r
    r = k.request("PUT", "/api/v1/projects/lab/credentials/bad",
                  {"kind": "s3", "fields": {}, "secrets": {"secret_key": "x"}}, user="ana")
    assert r.status == 400, r
    # Nothing in the raw database is the secret.
    assert SECRET.encode() not in (k.data / "kiln.db").read_bytes()
    for wal in k.data.glob("kiln.db-wal"):
        assert SECRET.encode() not in wal.read_bytes()


def test_a_deleted_projects_credentials_go_with_it(signed_in):
    k = signed_in
    assert k.api("POST", "/projects", {"name": "temp"}, user="ana").status == 201
    body = {"kind": "generic", "fields": {}, "secrets": {"token": "t0ken-value"}}
    assert k.request("PUT", "/api/v1/projects/temp/credentials/t", body, user="ana").status == 200
    assert k.request("DELETE", "/api/v1/projects/temp", user="ana").status == 200
    assert k.api("POST", "/projects", {"name": "temp"}, user="bob").status == 201
    r = k.request("GET", "/api/v1/projects/temp/credentials", user="bob")
    assert r.status == 200 and r.json()["credentials"] == [], r
