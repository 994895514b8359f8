"""Storage chosen per project (docs/storage.md, "Several backends"): a real
`kiln serve` whose default backend is its local folder and which declares a
second backend, `[storage.s3]`, in a bucket of the real radosgw of tests/s3.

An artifact moved from the local folder to S3 and back keeps its digest and
its bytes; a copy leaves it in both; the project's artifact list says where
each one lives; a project that does not have the artifact cannot move it
(404, as for an unknown one). A project that chooses S3 gets its new
uploads and its jobs' outputs there. gc deletes garbage from every backend.
"""
import hashlib
import os
import secrets

import sys
from pathlib import Path

import pytest

from kiln_server import Kiln
from test_provenance import DATA

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/: the slurm package
from slurm.test_slurm_backend import job, pipeline, start, wait  # noqa: E402


@pytest.fixture(scope="module")
def kiln(radosgw, tmp_path_factory):
    bucket = "kiln-" + secrets.token_hex(6)
    radosgw.create_bucket(bucket)
    os.environ["KILN_TEST_S3_SECRET"] = radosgw.secret_key
    config = tmp_path_factory.mktemp("config") / "kiln.toml"
    config.write_text(f'''
[storage]
kind = "local"

[storage.s3]
kind = "s3"
endpoint = "{radosgw.endpoint}"
bucket = "{bucket}"
region = "{radosgw.region}"
access_key = "{radosgw.access_key}"
secret_key_env = "KILN_TEST_S3_SECRET"
part_size_mb = 5
''')
    k = Kiln("--config", str(config))
    k.bucket = bucket
    yield k
    k.stop()


def in_bucket(k, radosgw, digest):
    return f"kiln/artifacts/{digest}" in radosgw.keys(k.bucket)


def in_local_folder(k, digest):
    return any((k.data / "artifacts").rglob(digest))


def stores_of(k, project, digest):
    r = k.api("GET", f"/projects/{project}/artifacts")
    assert r.status == 200, r
    return next(a["stores"] for a in r.json()["artifacts"] if a["digest"] == digest)


def downloaded_sha256(k, project, digest):
    r = k.request("GET", f"/api/v1/artifacts/{digest}?project={project}&redirect=0")
    assert r.status == 200, r
    return hashlib.sha256(r.body).hexdigest()


def upload(k, project, name, data):
    r = k.api("POST", f"/projects/{project}/artifacts?name={name}", data)
    assert r.status == 201, r
    return r.json()["digest"]


def test_the_backends_are_listed_without_secrets(kiln, radosgw):
    r = kiln.api("GET", "/storage")
    assert r.status == 200, r
    assert r.json()["backends"] == [
        {"name": "default", "kind": "local", "default": True},
        {"name": "s3", "kind": "s3", "default": False},
    ]
    assert radosgw.secret_key.encode() not in r.body


def test_a_move_from_local_to_s3_and_back_keeps_the_digest(kiln, radosgw):
    k = kiln
    assert k.api("POST", "/projects", {"name": "lab"}).status == 201
    # Over one part (5 MiB): the move to S3 is a multipart upload.
    data = secrets.token_bytes(6 << 20)
    digest = upload(k, "lab", "weights.bin", data)
    assert digest == hashlib.sha256(data).hexdigest()
    assert in_local_folder(k, digest) and not in_bucket(k, radosgw, digest)
    assert stores_of(k, "lab", digest) == ["default"]

    r = k.api("POST", f"/projects/lab/artifacts/{digest}/move", {"to": "s3"})
    assert r.status == 200, r
    assert r.json() == {"digest": digest, "size": len(data), "stores": ["s3"], "changed": True}
    assert in_bucket(k, radosgw, digest)
    assert not in_local_folder(k, digest)
    assert stores_of(k, "lab", digest) == ["s3"]
    assert downloaded_sha256(k, "lab", digest) == digest
    # From S3 a download redirects to the store; from the local folder it is streamed.
    assert k.request("GET", f"/api/v1/artifacts/{digest}?project=lab").status == 302
    # Again: already there, nothing to do (idempotent).
    r = k.api("POST", f"/projects/lab/artifacts/{digest}/move", {"to": "s3"})
    assert r.status == 200 and r.json()["changed"] is False, r

    r = k.api("POST", f"/projects/lab/artifacts/{digest}/move", {"to": "default"})
    assert r.status == 200, r
    assert r.json()["stores"] == ["default"]
    assert in_local_folder(k, digest) and not in_bucket(k, radosgw, digest)
    assert stores_of(k, "lab", digest) == ["default"]
    assert downloaded_sha256(k, "lab", digest) == digest
    r = k.request("GET", f"/api/v1/artifacts/{digest}?project=lab")
    assert r.status == 200 and hashlib.sha256(r.body).hexdigest() == digest, r


def test_a_copy_leaves_it_in_both(kiln, radosgw):
    k = kiln
    digest = upload(k, "lab", "copied.json", b'{"copied": true}')
    r = k.api("POST", f"/projects/lab/artifacts/{digest}/copy", {"to": "s3"})
    assert r.status == 200, r
    assert r.json()["stores"] == ["default", "s3"] and r.json()["changed"] is True
    assert in_local_folder(k, digest) and in_bucket(k, radosgw, digest)
    assert stores_of(k, "lab", digest) == ["default", "s3"]
    assert downloaded_sha256(k, "lab", digest) == digest


def test_only_a_project_that_has_the_artifact_may_move_it(kiln):
    k = kiln
    digest = upload(k, "lab", "mine.bin", b"lab's own bytes")
    assert k.api("POST", "/projects", {"name": "other"}).status == 201
    for verb in ("move", "copy"):
        r = k.api("POST", f"/projects/other/artifacts/{digest}/{verb}", {"to": "s3"})
        assert r.status == 404, r
        assert "no artifact" in r.json()["error"]["message"]
    unknown = hashlib.sha256(b"no one has this").hexdigest()
    r = k.api("POST", f"/projects/lab/artifacts/{unknown}/move", {"to": "s3"})
    assert r.status == 404, r
    r = k.api("POST", f"/projects/lab/artifacts/{digest}/move", {"to": "tape"})
    assert r.status == 400, r
    assert "no storage backend named 'tape'" in r.json()["error"]["message"]
    assert stores_of(k, "lab", digest) == ["default"]


def test_a_project_that_chooses_s3_gets_its_uploads_and_outputs_there(kiln, radosgw):
    k = kiln
    assert k.api("GET", "/projects/lab/storage").json() == {"backend": "default", "chosen": False}
    r = k.api("PUT", "/projects/lab/storage", {"backend": "glacier"})
    assert r.status == 400 and "no storage backend named 'glacier'" in r.json()["error"]["message"], r
    r = k.api("PUT", "/projects/lab/storage", {"backend": "s3"})
    assert r.status == 200 and r.json() == {"backend": "s3", "chosen": True}, r
    assert k.api("GET", "/projects/lab/storage").json() == {"backend": "s3", "chosen": True}

    digest = upload(k, "lab", "data.json", DATA)
    assert in_bucket(k, radosgw, digest) and not in_local_folder(k, digest)
    assert stores_of(k, "lab", digest) == ["s3"]
    # Another project still stores in the default backend.
    other = upload(k, "other", "theirs.bin", b"other's new bytes")
    assert in_local_folder(k, other) and not in_bucket(k, radosgw, other)

    # A job's outputs go where its project's new artifacts go.
    eid = start(k, pipeline(k, {"data": digest}))
    e = wait(k, eid)
    assert e["state"] == "succeeded", (e, k.server_log())
    out = next(iter(job(k, eid, "Total")["outputs"].values()))["digest"]
    assert in_bucket(k, radosgw, out) and not in_local_folder(k, out)

    # Back to the default.
    r = k.api("PUT", "/projects/lab/storage", {"backend": None})
    assert r.status == 200 and r.json() == {"backend": "default", "chosen": False}, r
    again = upload(k, "lab", "later.bin", b"after the choice was cleared")
    assert in_local_folder(k, again) and not in_bucket(k, radosgw, again)


def test_gc_deletes_garbage_from_every_backend(kiln, radosgw):
    k = kiln
    assert k.api("POST", "/projects", {"name": "scratch"}).status == 201
    digest = upload(k, "scratch", "junk.bin", b"garbage once scratch goes " + secrets.token_bytes(8))
    assert k.api("POST", f"/projects/scratch/artifacts/{digest}/copy", {"to": "s3"}).status == 200
    assert k.api("DELETE", "/projects/scratch").status == 200
    plan = k.api("GET", "/admin/gc?grace_hours=0").json()
    garbage = {g["digest"]: g for g in plan["garbage"]}
    assert garbage[digest]["stores"] == ["default", "s3"], plan
    r = k.api("POST", "/admin/gc", {"delete": [digest], "grace_hours": 0})
    assert r.status == 200 and r.json()["deleted"] == 1, r
    assert not in_local_folder(k, digest) and not in_bucket(k, radosgw, digest)
