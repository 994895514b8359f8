"""Kiln's job runtime as the Slurm backend runs it: `python3 -m kiln.job <bundle>` in an sbatch job,
pushing its events to an HTTP endpoint (docs/compute.md, "Pushed events").

The endpoint is a small stand-in for the server's route: it holds the lines
it accepted and answers {"next": N}. What is checked: every line of the
bundle's events file reaches it, the final state included, both for a job
that succeeds and for one cancelled with scancel (SIGTERM, then SIGKILL after
KillWait=1 s): the runtime writes "cancelled" and flushes within that second.
"""

import json
import textwrap
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

PYTHON_DIR = Path(__file__).resolve().parents[2] / "python"
TOKEN = "slurm-job-token"


class LineSink:
    """Accepts pushed lines like the server's route: 200 {"next": N}, 409 beyond N, 401 on a bad token."""

    def __init__(self):
        self.lines: list[bytes] = []
        self.lock = threading.Lock()
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                offset = int(self.headers["X-Kiln-Event-Offset"])
                with sink.lock:
                    if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                        status, reply = 401, {"error": "bad token"}
                    elif offset > len(sink.lines):
                        status, reply = 409, {"next": len(sink.lines)}
                    else:
                        sink.lines.extend(body.split(b"\n")[:-1][len(sink.lines) - offset:])
                        status, reply = 200, {"next": len(sink.lines)}
                data = json.dumps(reply).encode()
                self.send_response(status)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/api/v1/jobs/j/events"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def states(self):
        return [e["state"] for e in map(json.loads, self.lines) if e["type"] == "state"]

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def sink():
    s = LineSink()
    yield s
    s.stop()


def make_bundle(folder: Path, code: str) -> Path:
    folder.mkdir(parents=True)
    (folder / "operation.py").write_text(textwrap.dedent(code).lstrip("\n"))
    (folder / "spec.json").write_text(json.dumps({
        "job_id": folder.name, "operation_file": "operation.py", "attributes": {}, "inputs": {},
        "outputs_dir": "outputs", "events": "events.jsonl"}))
    return folder


def submit_kiln_job(cluster, bundle: Path, url: str) -> int:
    script = (f"export PYTHONPATH={PYTHON_DIR}\n"
              f"export KILN_EVENTS_URL={url}\nexport KILN_JOB_TOKEN={TOKEN}\n"
              f"exec /usr/bin/python3 -m kiln.job {bundle}\n")
    return cluster.sbatch(script, "--job-name=kiln-test", f"--output={bundle / 'slurm.out'}")


def file_lines(bundle: Path) -> list[bytes]:
    return (bundle / "events.jsonl").read_bytes().split(b"\n")[:-1]


def test_job_on_slurm_pushes_every_event(slurm_cluster, sink):
    bundle = make_bundle(slurm_cluster.root / "jobs" / "push-ok", '''
        import kiln

        class Count(kiln.Operation):
            def execute(self):
                for i in range(20):
                    kiln.log_metric("value", i)
                    print(f"line {i}")
                return None
        ''')
    job_id = submit_kiln_job(slurm_cluster, bundle, sink.url)
    record = slurm_cluster.wait_state(job_id, {"COMPLETED", "FAILED"}, timeout_s=60)
    assert record["job_state"] == "COMPLETED", (bundle / "slurm.out").read_text()
    assert sink.lines == file_lines(bundle)
    assert sink.states() == ["starting", "running", "succeeded"]


def test_job_cancelled_in_slurm_pushes_its_cancelled_state(slurm_cluster, sink):
    bundle = make_bundle(slurm_cluster.root / "jobs" / "push-cancel", '''
        import time

        class Wait:
            def execute(self):
                print("waiting", flush=True)
                time.sleep(600)
        ''')
    job_id = submit_kiln_job(slurm_cluster, bundle, sink.url)
    slurm_cluster.wait_state(job_id, "RUNNING", timeout_s=30)
    end = time.monotonic() + 30
    while "running" not in sink.states() and time.monotonic() < end:
        time.sleep(0.1)
    assert "running" in sink.states()
    slurm_cluster.scancel(str(job_id))
    slurm_cluster.wait_state(job_id, "CANCELLED", timeout_s=15)
    end = time.monotonic() + 5
    while sink.states()[-1:] != ["cancelled"] and time.monotonic() < end:
        time.sleep(0.1)
    assert sink.states()[-1] == "cancelled"
    assert sink.lines == file_lines(bundle)
    assert json.loads((bundle / "result.json").read_text())["status"] == "cancelled"
