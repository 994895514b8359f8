"""`kiln serve` with its artifacts in S3 ([storage] kind = "s3" in kiln.toml;
docs/storage.md): against the real radosgw of tests/s3.

An upload goes into the bucket under its SHA-256; a pipeline reads its input
from there and writes its outputs there; a download redirects to a
presigned URL of the store (the browser fetches the bytes from it), or,
with ?redirect=0, the server streams them. A wrong secret or a missing one
stops the server with the cause.
"""
import json
import os
import re
import secrets
import subprocess
import urllib.request

import sys
from pathlib import Path

import pytest

from kiln_server import KILN, Kiln
from test_provenance import DATA

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/: the slurm package
from slurm.test_slurm_backend import job, pipeline, start, wait  # noqa: E402


def config_for(radosgw, bucket, path, presign=True, env="KILN_TEST_S3_SECRET"):
    path.write_text(f'''
[storage]
kind = "s3"
endpoint = "{radosgw.endpoint}"
bucket = "{bucket}"
region = "{radosgw.region}"
access_key = "{radosgw.access_key}"
secret_key_env = "{env}"
part_size_mb = 5
presigned_downloads = {"true" if presign else "false"}
''')
    return path


@pytest.fixture(scope="module")
def s3_kiln(radosgw, tmp_path_factory):
    bucket = "kiln-" + secrets.token_hex(6)
    radosgw.create_bucket(bucket)
    os.environ["KILN_TEST_S3_SECRET"] = radosgw.secret_key
    config = config_for(radosgw, bucket, tmp_path_factory.mktemp("config") / "kiln.toml")
    k = Kiln("--config", str(config))
    k.bucket = bucket
    yield k
    k.stop()


def test_uploads_runs_and_downloads_go_through_the_bucket(s3_kiln, radosgw):
    k = s3_kiln
    assert k.api("POST", "/projects", {"name": "lab"}).status == 201
    up = k.api("POST", "/projects/lab/artifacts?name=data.json&serializer=json", DATA)
    assert up.status == 201, up
    digest = up.json()["digest"]
    assert f"kiln/artifacts/{digest}" in radosgw.keys(k.bucket)
    assert not (k.data / "artifacts").exists() or not any((k.data / "artifacts").rglob(digest))

    eid = start(k, pipeline(k, {"data": digest}))
    e = wait(k, eid)
    assert e["state"] == "succeeded", (e, k.server_log())
    total = job(k, eid, "Total")
    out_digest = next(iter(total["outputs"].values()))["digest"]
    assert f"kiln/artifacts/{out_digest}" in radosgw.keys(k.bucket)

    # A download is a redirect to the store; its URL needs no credentials.
    r = k.request("GET", f"/api/v1/artifacts/{digest}?project=lab")
    assert r.status == 302, r
    location = r.headers["Location"]
    assert location.startswith(radosgw.endpoint) and "X-Amz-Signature=" in location, location
    with urllib.request.urlopen(location, timeout=30) as got:
        assert got.read() == DATA
    # Or streamed by the server itself.
    r = k.request("GET", f"/api/v1/artifacts/{digest}?project=lab&redirect=0")
    assert r.status == 200 and r.body == DATA, r
    # Still only for a project that has it.
    r = k.request("GET", f"/api/v1/artifacts/{digest}?project=nope")
    assert r.status == 404, r


def test_a_wrong_or_missing_secret_stops_the_server_naming_the_cause(radosgw, tmp_path):
    bucket = "kiln-" + secrets.token_hex(6)
    radosgw.create_bucket(bucket)
    config = config_for(radosgw, bucket, tmp_path / "kiln.toml", env="KILN_TEST_S3_WRONG")
    def serve(env):
        return subprocess.run([str(KILN), "--data", str(tmp_path / "data"), "serve", "--port", "0",
                               "--web", "", "--config", str(config)],
                              capture_output=True, text=True, timeout=60, env=env)
    out = serve({**os.environ, "KILN_TEST_S3_WRONG": "not-the-secret"})
    assert out.returncode != 0
    text = out.stdout + out.stderr
    assert "SignatureDoesNotMatch" in text and bucket in text, text
    out = serve({k: v for k, v in os.environ.items() if k != "KILN_TEST_S3_WRONG"})
    assert out.returncode != 0
    assert "KILN_TEST_S3_WRONG (secret_key_env) holds no secret key" in out.stdout + out.stderr


def test_a_stored_credential_opens_the_bucket_and_stays_sealed(radosgw, tmp_path):
    """[storage] credentials = NAME: the S3 keys stored once with `kiln
    credentials set` (the secret read from stdin, sealed with the server
    key), not in the environment or the config file."""
    bucket = "kiln-" + secrets.token_hex(6)
    radosgw.create_bucket(bucket)
    data = tmp_path / "data"
    stored = subprocess.run(
        [str(KILN), "--data", str(data), "credentials", "set", "lab-s3", "--kind", "s3",
         "--field", f"access_key={radosgw.access_key}", "--secret", "secret_key"],
        input=radosgw.secret_key + "\n", capture_output=True, text=True, timeout=60)
    assert stored.returncode == 0, stored.stderr
    listed = subprocess.run([str(KILN), "--data", str(data), "credentials", "list"],
                            capture_output=True, text=True, timeout=60).stdout
    assert "lab-s3  s3" in listed and "secret_key=(set)" in listed, listed
    assert radosgw.secret_key not in listed
    config = tmp_path / "kiln.toml"
    config.write_text(f'''
[storage]
kind = "s3"
endpoint = "{radosgw.endpoint}"
bucket = "{bucket}"
region = "{radosgw.region}"
credentials = "lab-s3"
''')
    # Served from the data folder that holds the credential.
    out = subprocess.Popen([str(KILN), "--data", str(data), "serve", "--port", "0", "--web", "",
                            "--examples", str(tmp_path), "--config", str(config)],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        line = ""
        for line in out.stdout:
            if "Kiln is serving" in line or "error" in line.lower():
                break
        assert "Kiln is serving" in line, line
        port = int(re.search(r"127\.0\.0\.1:(\d+)", line).group(1))
        r = urllib.request.Request(f"http://127.0.0.1:{port}/api/v1/projects", method="POST",
                                   data=b'{"name": "lab"}',
                                   headers={"Content-Type": "application/json"})
        assert urllib.request.urlopen(r, timeout=30).status == 201
        r = urllib.request.Request(
            f"http://127.0.0.1:{port}/api/v1/projects/lab/artifacts?name=d.json&serializer=json",
            method="POST", data=DATA)
        digest = json.loads(urllib.request.urlopen(r, timeout=30).read())["digest"]
        assert f"kiln/artifacts/{digest}" in radosgw.keys(bucket)
    finally:
        out.terminate()
        out.wait(30)
    raw = b"".join(p.read_bytes() for p in data.glob("kiln.db*"))
    assert radosgw.secret_key.encode() not in raw
