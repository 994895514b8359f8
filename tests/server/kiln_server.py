"""A real `kiln serve` for the server's end-to-end tests (tests/server).

Each fixture starts the built binary (build/src/cli/kiln, or $KILN_BIN) on a
free loopback port with a fresh data folder and no example projects, waits
for /api/v1/health, and stops it (SIGTERM) afterwards. Requests go through
http.client; `Kiln.rss_kb()` reads the server's resident memory from /proc.
"""
import http.client
import json
import os
import signal
import socket
import subprocess
import tempfile
import time
import urllib.parse
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
KILN = Path(os.environ.get("KILN_BIN", ROOT / "build" / "src" / "cli" / "kiln"))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Response:
    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body

    def json(self):
        return json.loads(self.body) if self.body else None

    def __repr__(self):
        return f"<{self.status} {self.body[:300]!r}>"


class Kiln:
    def __init__(self, *args, users=()):
        if not KILN.exists():
            pytest.skip(f"{KILN} is not built")
        self.tmp = tempfile.TemporaryDirectory(prefix="kiln-server-test-")
        self.data = Path(self.tmp.name) / "data"
        examples = Path(self.tmp.name) / "no-examples"
        examples.mkdir()
        self.tokens = {}
        for name in users:
            self.cli("users", "add", name, "--password", "password-" + name)
            self.tokens[name] = self.cli("users", "token", name).strip().splitlines()[-1]
        self.port = free_port()
        self.log = open(Path(self.tmp.name) / "server.log", "w")
        self.argv = [str(KILN), "--data", str(self.data), "serve", "--port", str(self.port),
                     "--examples", str(examples), "--web", "", *args]
        self.start_process()

    def kill_and_restart(self):
        """SIGKILL the server (no clean shutdown), then start it again on the
        same data folder and port."""
        self.proc.kill()
        self.proc.wait()
        self.start_process()

    def start_process(self):
        self.proc = subprocess.Popen(self.argv, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 60
        while True:
            try:
                if self.request("GET", "/api/v1/health").status == 200:
                    break
            except OSError:
                pass
            if self.proc.poll() is not None or time.time() > deadline:
                raise RuntimeError("kiln serve did not start:\n" + self.server_log())
            time.sleep(0.1)

    def cli(self, *args):
        out = subprocess.run([str(KILN), "--data", str(self.data), *args],
                             capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, out.stderr
        return out.stdout

    def server_log(self):
        self.log.flush()
        return (Path(self.tmp.name) / "server.log").read_text()[-4000:]

    def request(self, method, path, body=None, user=None, headers=None, timeout=60):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout, blocksize=1 << 20)
        h = dict(headers or {})
        if user:
            h["Authorization"] = "Bearer " + self.tokens[user]
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
            h.setdefault("Content-Type", "application/json")
        conn.request(method, path, body=body, headers=h)
        r = conn.getresponse()
        resp = Response(r.status, dict(r.getheaders()), r.read())
        conn.close()
        return resp

    def api(self, method, path, body=None, user=None):
        return self.request(method, "/api/v1" + path, body, user)

    def rss_kb(self):
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        return 0

    def hwm_kb(self):
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
        return 0

    def alive(self):
        return self.proc.poll() is None and self.api("GET", "/health").status == 200

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        self.tmp.cleanup()


def q(s):
    return urllib.parse.quote(s, safe="")


def meta_guids(kiln, project, user=None):
    """The guids of the root and of each meta type, by name."""
    tree = kiln.api("GET", f"/projects/{project}/tree", user=user).json()["tree"]
    out = {"ROOT": tree["root"]}
    for guid, n in tree["nodes"].items():
        name = (n.get("attrs") or {}).get("name")
        if name and n.get("meta", True):
            out.setdefault(name, guid)
    return out


def commit(kiln, project, ops, user=None, message="edit"):
    r = kiln.api("POST", f"/projects/{project}/branches/main/patches",
                 {"message": message, "ops": ops}, user=user)
    assert r.status in (200, 201), r
    return r.json()
