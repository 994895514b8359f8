"""kiln.event_push against a small real HTTP server that keeps the lines it accepted.

The server behaves as docs/compute.md says Kiln's does ("Pushed events"): it
holds lines 0..N-1, answers 200 {"next": N} (skipping lines of a body it
already has), and 409 {"next": N} to an offset beyond N. A test can queue
forced replies (500, 404, a dropped connection, a rewound 409) to drive the
pusher through each branch. Every request is recorded with its offset, body
and headers.
"""
import json
import os
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from kiln.event_push import EventPusher

from conftest import PYTHON, make_bundle, run_env

TOKEN = "t0ken-for-this-job"


class EventsServer:
    def __init__(self):
        self.lines: list[bytes] = []
        self.requests: list[dict] = []
        self.forced: list = []  # replies to give before behaving normally: int status, (status, body) or "drop"
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                offset = int(self.headers["X-Kiln-Event-Offset"])
                with server.lock:
                    server.requests.append({"time": time.monotonic(), "offset": offset, "body": body,
                                            "headers": dict(self.headers)})
                    forced = server.forced.pop(0) if server.forced else None
                    if forced is None:
                        status, reply = server.accept(offset, body)
                    elif forced == "drop":
                        self.close_connection = True
                        self.connection.shutdown(2)
                        return
                    elif isinstance(forced, tuple):
                        status, reply = forced
                    else:
                        status, reply = forced, {"error": "forced"}
                data = json.dumps(reply).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/api/v1/jobs/j1/events"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def accept(self, offset: int, body: bytes):
        if offset > len(self.lines):
            return 409, {"next": len(self.lines)}
        lines = body.split(b"\n")[:-1]
        self.lines.extend(lines[len(self.lines) - offset:])
        return 200, {"next": len(self.lines)}

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    s = EventsServer()
    yield s
    s.stop()


def write_lines(path, lines):
    with open(path, "ab") as f:
        for line in lines:
            f.write(line + b"\n")


def numbered(start, count, size=0):
    return [json.dumps({"seq": i, "pad": "x" * size}).encode() for i in range(start, start + count)]


def fast_pusher(path, url, **kw):
    kw.setdefault("interval_s", 0.05)
    kw.setdefault("backoff_first_s", 0.1)
    kw.setdefault("backoff_max_s", 0.4)
    notes = []
    pusher = EventPusher(str(path), url, TOKEN, log=notes.append, **kw)
    pusher.notes = notes
    return pusher


def wait_for(predicate, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return False


def test_posts_new_complete_lines_in_order_with_offsets_and_headers(tmp_path, server):
    path = tmp_path / "events.jsonl"
    first = numbered(0, 5)
    write_lines(path, first)
    pusher = fast_pusher(path, server.url).start()
    assert wait_for(lambda: len(server.lines) == 5)
    second = numbered(5, 3)
    write_lines(path, second)
    assert pusher.finish(timeout=10)
    assert server.lines == first + second
    offsets = [r["offset"] for r in server.requests]
    assert offsets[0] == 0 and offsets == sorted(offsets)
    running = 0
    for r in server.requests:  # each body starts where the previous ones ended
        assert r["offset"] == running
        running += r["body"].count(b"\n")
    headers = server.requests[0]["headers"]
    assert headers["Authorization"] == f"Bearer {TOKEN}"
    assert headers["Content-Type"] == "application/x-ndjson"


def test_a_line_without_its_newline_waits(tmp_path, server):
    path = tmp_path / "events.jsonl"
    path.write_bytes(b'{"seq":1}\n{"seq":2')
    pusher = fast_pusher(path, server.url).start()
    assert wait_for(lambda: server.lines == [b'{"seq":1}'])
    time.sleep(0.3)
    assert len(server.requests) == 1
    with open(path, "ab") as f:
        f.write(b"}\n")
    assert pusher.finish(timeout=10)
    assert server.lines == [b'{"seq":1}', b'{"seq":2}']


def test_retries_the_same_offset_after_a_500_and_a_dropped_connection(tmp_path, server):
    path = tmp_path / "events.jsonl"
    lines = numbered(0, 4)
    write_lines(path, lines)
    server.forced = [500, "drop"]
    pusher = fast_pusher(path, server.url).start()
    assert pusher.finish(timeout=10)
    assert server.lines == lines  # nothing counted twice
    assert [r["offset"] for r in server.requests] == [0, 0, 0]
    assert server.requests[1]["body"] == server.requests[0]["body"] == server.requests[2]["body"]
    gaps = [b["time"] - a["time"] for a, b in zip(server.requests, server.requests[1:])]
    assert gaps[0] >= 0.1 and gaps[1] >= 0.2  # backoff, doubling


def test_409_resends_from_the_servers_position(tmp_path, server):
    path = tmp_path / "events.jsonl"
    lines = numbered(0, 8)
    write_lines(path, lines[:5])
    pusher = fast_pusher(path, server.url).start()
    assert wait_for(lambda: len(server.lines) == 5)
    # The server lost lines 3 and 4 (say it restarted from an older copy).
    with server.lock:
        del server.lines[3:]
    write_lines(path, lines[5:])
    assert pusher.finish(timeout=10)
    assert server.lines == lines
    resync = [r for r in server.requests if r["offset"] == 3]
    assert resync and resync[0]["body"].split(b"\n")[0] == lines[3]
    assert any(r["offset"] == 5 for r in server.requests)  # the one answered 409


def test_200_with_a_smaller_next_continues_from_there(tmp_path, server):
    path = tmp_path / "events.jsonl"
    lines = numbered(0, 6)
    write_lines(path, lines)
    # The server took only the first two lines of the first body.
    server.forced = [(200, {"next": 2})]
    with server.lock:
        server.lines[:] = lines[:2]
    pusher = fast_pusher(path, server.url).start()
    assert pusher.finish(timeout=10)
    assert server.lines == lines
    assert [r["offset"] for r in server.requests] == [0, 2]
    assert server.requests[1]["body"] == b"".join(line + b"\n" for line in lines[2:])


@pytest.mark.parametrize("status, why", [(404, "not running"), (401, "token")])
def test_404_and_401_stop_pushing(tmp_path, server, status, why):
    path = tmp_path / "events.jsonl"
    write_lines(path, numbered(0, 3))
    server.forced = [status]
    pusher = fast_pusher(path, server.url).start()
    assert wait_for(lambda: pusher.stopped is not None)
    write_lines(path, numbered(3, 3))
    began = time.monotonic()
    assert pusher.finish(timeout=10) is False
    assert time.monotonic() - began < 1
    assert len(server.requests) == 1 and server.lines == []
    assert why in pusher.stopped and why in pusher.notes[0]


def test_a_large_burst_goes_in_bodies_of_at_most_1_mib(tmp_path, server):
    path = tmp_path / "events.jsonl"
    lines = numbered(0, 3000, size=1000)  # about 3 MiB
    write_lines(path, lines)
    pusher = fast_pusher(path, server.url).start()
    assert pusher.finish(timeout=20)
    assert server.lines == lines
    sizes = [len(r["body"]) for r in server.requests]
    assert len(sizes) >= 3 and max(sizes) <= 1024 * 1024
    assert all(r["body"].endswith(b"\n") for r in server.requests)


def test_a_line_longer_than_a_body_goes_alone(tmp_path, server):
    path = tmp_path / "events.jsonl"
    big = json.dumps({"seq": 1, "figure": "y" * (1536 * 1024)}).encode()
    lines = numbered(0, 2) + [big] + numbered(3, 2)
    write_lines(path, lines)
    pusher = fast_pusher(path, server.url).start()
    assert pusher.finish(timeout=20)
    assert server.lines == lines
    alone = [r for r in server.requests if big in r["body"]]
    assert len(alone) == 1 and alone[0]["body"] == big + b"\n" and alone[0]["offset"] == 2


def test_eager_send_when_256_kib_are_waiting(tmp_path, server):
    path = tmp_path / "events.jsonl"
    path.write_bytes(b"")
    # A long interval: only the size threshold can make it send before finish().
    pusher = fast_pusher(path, server.url, interval_s=30).start()
    lines = numbered(0, 300, size=1000)  # ~300 KiB
    write_lines(path, lines)
    assert wait_for(lambda: server.requests, timeout=3)
    assert len(server.requests[0]["body"]) >= 256 * 1024
    assert pusher.finish(timeout=5)
    assert server.lines == lines


def test_finish_gives_up_after_its_timeout(tmp_path, server):
    path = tmp_path / "events.jsonl"
    write_lines(path, numbered(0, 2))
    server.forced = [503] * 1000
    pusher = fast_pusher(path, server.url).start()
    began = time.monotonic()
    assert pusher.finish(timeout=1.0) is False
    assert time.monotonic() - began < 3
    assert server.lines == []


SAY_HELLO = '''
    import kiln

    class Hello(kiln.Operation):
        def execute(self):
            for i in range(3):
                kiln.log_metric("loss", 1.0 / (i + 1))
                print(f"line {i}")
            return None
    '''


def test_job_runtime_pushes_and_flushes_its_final_state(tmp_path, server):
    bundle = make_bundle(tmp_path, SAY_HELLO)
    env = run_env(KILN_EVENTS_URL=server.url, KILN_JOB_TOKEN=TOKEN)
    r = subprocess.run([PYTHON, "-m", "kiln.job", bundle], env=env, capture_output=True, timeout=60)
    assert r.returncode == 0, r.stderr.decode()
    with open(os.path.join(bundle, "events.jsonl"), "rb") as f:
        file_lines = f.read().split(b"\n")[:-1]
    assert server.lines == file_lines  # every line, the final state included, before exit
    final = json.loads(server.lines[-1])
    assert final["type"] == "state" and final["state"] == "succeeded"
    assert all(r["headers"]["Authorization"] == f"Bearer {TOKEN}" for r in server.requests)


def test_job_runtime_hides_the_token_from_the_operation(tmp_path, server):
    bundle = make_bundle(tmp_path, '''
        import os

        class Peek:
            def execute(self):
                print("token:", os.environ.get("KILN_JOB_TOKEN"))
        ''')
    env = run_env(KILN_EVENTS_URL=server.url, KILN_JOB_TOKEN=TOKEN)
    r = subprocess.run([PYTHON, "-m", "kiln.job", bundle], env=env, capture_output=True, timeout=60)
    assert r.returncode == 0, r.stderr.decode()
    logs = [json.loads(line).get("line") for line in server.lines]
    assert "token: None" in logs


def test_job_runtime_without_the_variables_posts_nothing(tmp_path, server):
    bundle = make_bundle(tmp_path, SAY_HELLO)
    r = subprocess.run([PYTHON, "-m", "kiln.job", bundle], env=run_env(KILN_EVENTS_URL=server.url),
                       capture_output=True, timeout=60)
    assert r.returncode == 0, r.stderr.decode()
    assert server.requests == []
    assert os.path.getsize(os.path.join(bundle, "events.jsonl")) > 0
