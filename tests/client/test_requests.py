"""kiln.Client's requests as sent, against a fake server that records them.

What the real server cannot show: the exact paths, queries, headers and
bodies (tokens, escaping, the upload's Content-Length), answers a Kiln server
does not give (a proxy's HTML 502), and a download whose bytes do not match
their digest. The fake answers what each test queues, in order.
"""
import hashlib
import http.server
import json
import threading

import pytest

import client_server  # noqa: F401  (first: puts this tree's python/ on sys.path)
import kiln
from kiln.client import FailedPrecondition, ServerError, Unavailable


class Fake:
    def __init__(self):
        self.requests, self.answers = [], []
        fake = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def _serve(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                fake.requests.append({"method": self.command, "path": self.path,
                                      "headers": dict(self.headers), "body": body})
                status, content_type, data = fake.answers.pop(0)
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = _serve

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def answer(self, status=200, body=None, content_type="application/json"):
        data = body if isinstance(body, bytes) else json.dumps(body if body is not None else {}).encode()
        self.answers.append((status, content_type, data))

    @property
    def last(self):
        return self.requests[-1]


@pytest.fixture
def fake():
    f = Fake()
    yield f
    f.httpd.shutdown()
    f.httpd.server_close()


@pytest.fixture
def client(fake, monkeypatch):
    monkeypatch.delenv("KILN_TOKEN", raising=False)
    return kiln.Client(f"http://127.0.0.1:{fake.port}")


DIGEST = "ab" * 32


def test_provenance_reify_and_export_follow_the_spec(client, fake, tmp_path):
    fake.answer(body={"artifacts": []})
    client.provenance("digits", DIGEST, depth=3, direction="both", format="prov")
    assert fake.last["method"] == "GET"
    assert fake.last["path"] == (f"/api/v1/projects/digits/artifacts/{DIGEST}/provenance"
                                 "?depth=3&direction=both&format=prov")

    fake.answer(201, {"branch": "again"})
    client.reify("digits", DIGEST, "again", from_="v1", name="Again")
    assert fake.last["method"] == "POST"
    assert fake.last["path"] == f"/api/v1/projects/digits/artifacts/{DIGEST}/reify"
    assert json.loads(fake.last["body"]) == {"branch": "again", "from": "v1", "name": "Again"}

    guid = "0e8285d7-760b-461d-8681-784734a8da99"
    zipped = b"PK\x03\x04 not really a zip" * 1000
    fake.answer(body=zipped, content_type="application/zip")
    sizes = []
    path = client.export_pipeline("digits", guid, tmp_path / "p.zip", ref="run/1", inputs="fetch",
                                  progress=lambda n, total: sizes.append((n, total)))
    assert fake.last["path"] == (f"/api/v1/projects/digits/pipelines/{guid}/export"
                                 "?ref=run%2F1&inputs=fetch")
    assert fake.last["headers"]["Accept"] == "application/zip"
    assert open(path, "rb").read() == zipped and sizes[-1] == (len(zipped), len(zipped))


def test_upload_sends_a_length_not_chunks(client, fake, tmp_path):
    src = tmp_path / "data.csv"
    src.write_bytes(b"a,b\n1,2\n")
    fake.answer(201, {"digest": "x"})
    client.upload("p", src, branch="dev", serializer="raw")
    r = fake.last
    assert r["path"] == "/api/v1/projects/p/artifacts?name=data.csv&branch=dev&serializer=raw"
    assert r["headers"]["Content-Length"] == "8" and "Transfer-Encoding" not in r["headers"]
    assert r["headers"]["Content-Type"] == "application/octet-stream"
    assert r["body"] == b"a,b\n1,2\n"


def test_tokens_and_escaped_names(fake, monkeypatch):
    monkeypatch.setenv("KILN_TOKEN", "from-env")
    fake.answer(body={"tags": []})
    kiln.Client(f"http://127.0.0.1:{fake.port}").delete_tag("p", "run/42")
    assert fake.last["method"] == "DELETE" and fake.last["path"] == "/api/v1/projects/p/tags/run%2F42"
    assert fake.last["headers"]["Authorization"] == "Bearer from-env"
    fake.answer(body={"projects": []})
    kiln.Client(f"127.0.0.1:{fake.port}/kiln/", token="given").projects()
    assert fake.last["path"] == "/kiln/api/v1/projects"  # behind a proxy's path prefix
    assert fake.last["headers"]["Authorization"] == "Bearer given"
    with pytest.raises(ValueError, match="not a Kiln server address"):
        kiln.Client("ftp://example.org")


def test_errors_that_are_not_the_servers_shape(client, fake):
    fake.answer(502, b"<html>Bad Gateway</html>", content_type="text/html")
    with pytest.raises(ServerError) as e:
        client.projects()
    assert (e.value.status, e.value.code, e.value.message) == (502, "Bad Gateway",
                                                                "<html>Bad Gateway</html>")
    fake.answer(503, {"error": {"code": "Unavailable", "message": "busy"}})
    with pytest.raises(Unavailable, match="503 Unavailable: busy"):
        client.parse_interface("p", "x")
    fake.answer(422, {"error": {"code": "FailedPrecondition", "message": "syntax error",
                                "line": 3, "column": 19}})
    with pytest.raises(FailedPrecondition) as e:
        client.parse_interface("p", "x")
    assert (e.value.line, e.value.column) == (3, 19)


def test_a_download_that_does_not_match_its_digest_leaves_nothing(client, fake, tmp_path):
    data = b"some bytes"
    fake.answer(body=data, content_type="application/octet-stream")
    with pytest.raises(ValueError, match="hashes to"):
        client.download(DIGEST, tmp_path / "out.bin")
    assert list(tmp_path.iterdir()) == []
    fake.answer(body=data, content_type="application/octet-stream")
    right = hashlib.sha256(data).hexdigest()
    client.download(right, tmp_path / "out.bin", project="p")
    assert fake.last["path"] == f"/api/v1/artifacts/{right}?project=p"
    assert (tmp_path / "out.bin").read_bytes() == data
