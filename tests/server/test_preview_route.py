"""Artifact previews through the server (GET …/artifacts/{digest}/preview):
python3 -m kiln.preview on the stored file, behind the project's artifact
check — a JSON value, a NumPy array with its statistics and image, a file
that is not what its serializer says (422), another project's digest (404).
"""
import io

import numpy as np
import pytest

from kiln_server import Kiln


@pytest.fixture(scope="module")
def kiln():
    k = Kiln("--auth", users=("alice", "bob"))
    assert k.api("POST", "/projects", {"name": "lab"}, user="alice").status == 201
    assert k.api("POST", "/projects", {"name": "other"}, user="bob").status == 201
    yield k
    k.stop()


def upload(kiln, name, data, serializer, user="alice", project="lab"):
    r = kiln.api("POST", f"/projects/{project}/artifacts?name={name}&serializer={serializer}", data,
                 user=user)
    assert r.status == 201, r
    return r.json()["digest"]


def preview(kiln, digest, serializer=None, user="alice", project="lab"):
    q = f"?serializer={serializer}" if serializer else ""
    return kiln.api("GET", f"/projects/{project}/artifacts/{digest}/preview{q}", user=user)


def test_a_json_value_and_an_array(kiln):
    d = upload(kiln, "params.json", b'{"lr": 0.01, "layers": [32, 64]}', "json")
    r = preview(kiln, d, "json")
    assert r.status == 200, r
    assert r.json()["kind"] == "json" and r.json()["value"]["layers"] == [32, 64]
    buf = io.BytesIO()
    np.save(buf, np.arange(64, dtype=np.float32).reshape(8, 8))
    d = upload(kiln, "grid.npy", buf.getvalue(), "numpy")
    p = preview(kiln, d, "numpy").json()
    assert p["kind"] == "array" and p["shape"] == [8, 8] and p["dtype"] == "float32"
    assert p["stats"]["max"] == 63 and p["image"].startswith("data:image/png;base64,")
    # Without the serializer: sniffed from the bytes.
    assert preview(kiln, d).json()["kind"] == "array"


def test_refusals(kiln):
    d = upload(kiln, "notes.txt", b"not json at all {", "raw")
    r = preview(kiln, d, "json")
    assert r.status == 422 and "cannot be previewed" in r.json()["error"]["message"]
    assert preview(kiln, d, "bad/serializer").status == 400
    # bob's project does not have alice's bytes; bob may not read lab.
    assert preview(kiln, d, user="bob", project="other").status == 404
    assert preview(kiln, d, user="bob").status in (403, 404)
    assert preview(kiln, "0" * 64).status == 404
