"""Runs a Kiln job on a machine that does not see the server's folders (a
Slurm node without a shared folder; docs/compute.md, "Jobs on other
machines"): fetch the bundle and inputs from the server, run the job, upload
its outputs.

    KILN_FILES_URL=<public_url>/api/v1/jobs/<job id>  KILN_JOB_TOKEN=…  \
        python3 -m kiln.remote_bundle

1. ``GET $KILN_FILES_URL/manifest`` lists the bundle's files and inputs;
   each file comes from ``GET …/file?path=`` and each input from
   ``GET …/input?name=`` (checked against its SHA-256 while it streams to
   disk), into a fresh folder under $TMPDIR. The spec's input paths are
   rewritten to the local copies.
2. ``python3 -m kiln.job <folder>`` runs it, with KILN_EVENTS_URL and
   KILN_JOB_TOKEN in its environment: it pushes its own events as they are
   written (kiln.event_push). SIGTERM (scancel) is passed on to it.
3. ``PUT …/file?path=outputs/<name>`` for each output, then result.json
   (its output paths made relative to the bundle, which is how the server
   reads them). The folder is removed and the job's exit code is ours.

Every request is retried on a network error or a 5xx for up to two minutes
(backoff 0.5 s doubling to 5 s); a 401 or 404 (the server no longer runs
the job) stops at once. Memory stays bounded: files stream in 1 MiB pieces.

Thread-safety: a script; one thread (and the job's process).
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

__all__ = ["main", "fetch", "upload"]

CHUNK = 1 << 20
RETRY_FOR_S = 120.0
TIMEOUT_S = 60.0


class Gone(Exception):
    """The server answered 401 or 404: it no longer runs this job."""


def _request(method, url, token, body=None, headers=None, sink=None):
    """One request, retried on network errors and 5xx; returns the body
    (bytes) or, with `sink` (a file), streams a 200's body into it."""
    deadline = time.monotonic() + RETRY_FOR_S
    backoff = 0.5
    while True:
        data = body() if callable(body) else body
        h = {"Authorization": "Bearer " + token, **(headers or {})}
        req = urllib.request.Request(url, data=data, method=method, headers=h)
        try:
            return _send(req, sink)
        except urllib.error.HTTPError as e:
            if e.code in (401, 404):
                raise Gone(f"{method} {url}: {e.code} {_message(e)}") from None
            if e.code < 500 and e.code != 429:
                raise RuntimeError(f"{method} {url}: {e.code} {_message(e)}") from None
            why = f"{e.code} {_message(e)}"
        except (urllib.error.URLError, OSError) as e:
            why = str(e)
        finally:
            if hasattr(data, "close"):
                data.close()
        if time.monotonic() + backoff > deadline:
            raise RuntimeError(f"{method} {url}: the server could not be reached: {why}")
        print(f"kiln: {method} {url}: {why}; retrying", file=sys.stderr, flush=True)
        time.sleep(backoff)
        backoff = min(backoff * 2, 5.0)


def _send(req, sink):
    with urllib.request.urlopen(req, timeout=TIMEOUT_S) as resp:
        if sink is None:
            return resp.read()
        sink.seek(0)
        sink.truncate()
        while True:
            piece = resp.read(CHUNK)
            if not piece:
                return b""
            sink.write(piece)


def _message(error):
    try:
        return json.loads(error.read())["error"]["message"]
    except Exception:  # noqa: BLE001 - any body without a message
        return error.reason


def _download(url, token, path, sha256=None):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    partial = path + ".part"
    with open(partial, "w+b") as f:
        _request("GET", url, token, sink=f)
        f.flush()
        if sha256:
            f.seek(0)
            digest = hashlib.sha256()
            for piece in iter(lambda: f.read(CHUNK), b""):
                digest.update(piece)
            if digest.hexdigest() != sha256:
                raise RuntimeError(f"{url}: the download's SHA-256 is {digest.hexdigest()}, "
                                   f"expected {sha256}")
    os.replace(partial, path)


def _safe(relative):
    parts = relative.split("/")
    if not relative or relative.startswith("/") or any(p in ("", ".", "..") for p in parts):
        raise RuntimeError(f"the server listed an unsafe path {relative!r}")
    return relative


def fetch(base, token, folder):
    """Downloads the job's bundle and inputs into `folder`; returns the manifest."""
    manifest = json.loads(_request("GET", base + "/manifest", token))
    for f in manifest.get("files", []):
        rel = _safe(f["path"])
        _download(f"{base}/file?path={urllib.parse.quote(rel, safe='')}", token,
                  os.path.join(folder, rel))
    spec_path = os.path.join(folder, "spec.json")
    with open(spec_path) as f:
        spec = json.load(f)
    for i in manifest.get("inputs", []):
        name = i["name"]
        if name not in spec.get("inputs", {}):
            continue
        local = os.path.join(folder, "inputs", name.replace("/", "_"))
        _download(f"{base}/input?name={urllib.parse.quote(name, safe='')}", token, local,
                  i.get("sha256"))
        spec["inputs"][name]["path"] = local
    with open(spec_path, "w") as f:
        json.dump(spec, f)
    return manifest


def upload(base, token, folder):
    """Uploads the outputs, then result.json (with paths relative to the bundle)."""
    result = os.path.join(folder, "result.json")
    if os.path.exists(result):
        with open(result) as f:
            record = json.load(f)
        for out in (record.get("outputs") or {}).values():
            path = out.get("path") if isinstance(out, dict) else None
            if path and os.path.isabs(path):
                rel = os.path.relpath(path, folder)
                if not rel.startswith(".."):
                    out["path"] = rel
        with open(result, "w") as f:
            json.dump(record, f)
    outputs = os.path.join(folder, "outputs")
    names = sorted(n for n in os.listdir(outputs) if os.path.isfile(os.path.join(outputs, n))) \
        if os.path.isdir(outputs) else []
    paths = [f"outputs/{n}" for n in names] + (["result.json"] if os.path.exists(result) else [])
    for rel in paths:
        local = os.path.join(folder, rel)
        size = os.path.getsize(local)

        def body(local=local):
            return open(local, "rb")  # streamed by urllib, one piece at a time

        _request("PUT", f"{base}/file?path={urllib.parse.quote(rel, safe='')}", token, body=body,
                 headers={"Content-Type": "application/octet-stream",
                          "Content-Length": str(size)})


def main():
    base = os.environ.get("KILN_FILES_URL", "").rstrip("/")
    token = os.environ.get("KILN_JOB_TOKEN", "")
    if not base or not token:
        print("kiln.remote_bundle: KILN_FILES_URL and KILN_JOB_TOKEN must be set",
              file=sys.stderr)
        return 2
    folder = tempfile.mkdtemp(prefix="kiln-job-")
    child = None

    def forward(signum, _frame):
        if child is not None and child.poll() is None:
            child.send_signal(signum)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    try:
        try:
            fetch(base, token, folder)
        except Gone as e:
            print(f"kiln: the server no longer runs this job ({e})", file=sys.stderr)
            return 2
        except (RuntimeError, OSError, ValueError, KeyError) as e:
            print(f"kiln: cannot fetch the job's bundle: {e}", file=sys.stderr)
            return 2
        child = subprocess.Popen([sys.executable, "-m", "kiln.job", folder], cwd=folder)
        while True:
            try:
                code = child.wait()
                break
            except InterruptedError:
                continue
        try:
            upload(base, token, folder)
        except Gone as e:
            print(f"kiln: the server no longer runs this job ({e})", file=sys.stderr)
        except (RuntimeError, OSError, ValueError) as e:
            print(f"kiln: cannot upload the job's outputs: {e}", file=sys.stderr)
            return 2 if code == 0 else (code if code > 0 else 128 - code)
        return code if code >= 0 else 128 - code
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
