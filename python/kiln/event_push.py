"""Pushes a job's events to the Kiln server as they are written (docs/compute.md, "Pushed events").

A job on a machine that does not share the server's view of the bundle's
events file (a Slurm node) still writes its events there; an EventPusher
thread tails that file and POSTs the new complete lines:

    POST <KILN_EVENTS_URL>
    Authorization: Bearer <KILN_JOB_TOKEN>
    Content-Type: application/x-ndjson
    X-Kiln-Event-Offset: <index of the body's first line among all the job's lines, 0-based>

Batching: a batch goes out every `interval_s` (0.2 s), or as soon as
`eager_bytes` (256 KiB) are waiting; a body holds at most `max_body` (1 MiB)
of whole lines. A single line longer than that (a large figure) goes alone in
a body of its own: it cannot be split, and holding it back would hold back
every line after it.

Replies: 200 {"next": N} the server has lines 0..N-1, continue from N (so a
retried batch is never counted twice); 409 {"next": N} the offset was ahead
of the server, resend from N; 401 (bad token), 404 (the job is not running
any more) and other 4xx stop the pushing for good; a network error or 5xx
retries the same offset after 0.5 s, doubling to 5 s.

The file is read from a byte offset with bounded reads: at most one body (or
one over-long line) is in memory, never the whole file. Seeking to a line the
server asks for scans forward from the nearest known (line, byte) mark.

Who owns what: the pusher thread owns the read side of the events file, the
HTTP connection and all of the object's state; the job's main thread only
calls start() and finish(). The writer (runtime.EventChannel) appends whole
lines with O_APPEND; a line is sent only once its newline is in the file.

Thread-safety: start() and finish() are for one controlling thread; state is
touched only by the pusher thread (finish() sets an Event and joins).
"""
from __future__ import annotations

import json
import os
import threading
import time
import urllib.error
import urllib.request

__all__ = ["EventPusher", "from_environment"]

INTERVAL_S = 0.2
EAGER_BYTES = 256 * 1024
MAX_BODY = 1024 * 1024
BACKOFF_FIRST_S = 0.5
BACKOFF_MAX_S = 5.0
REQUEST_TIMEOUT_S = 10.0
TICK_S = 0.05  # how often the file's size is looked at between batches
SCAN_CHUNK = 64 * 1024


class _Stop(Exception):
    """The server refused the job's events for good (401, 404, other 4xx)."""


class EventPusher:
    """Tails `path` and POSTs its complete lines to `url` with `token`; see the module doc."""

    def __init__(self, path: str, url: str, token: str, *, interval_s: float = INTERVAL_S,
                 eager_bytes: int = EAGER_BYTES, max_body: int = MAX_BODY,
                 backoff_first_s: float = BACKOFF_FIRST_S, backoff_max_s: float = BACKOFF_MAX_S,
                 request_timeout_s: float = REQUEST_TIMEOUT_S, log=None):
        if not url or not token:
            raise ValueError("EventPusher needs the events URL and the job token")
        self.path = os.path.abspath(path)  # the job changes its working directory later
        self.url = url
        self._token = token
        self.interval_s = interval_s
        self.eager_bytes = eager_bytes
        self.max_body = max_body
        self.backoff_first_s = backoff_first_s
        self.backoff_max_s = backoff_max_s
        self.request_timeout_s = request_timeout_s
        self._log = log if log is not None else _log_to_stderr
        # Where the next line to send starts: its index and its byte offset.
        self._line = 0
        self._byte = 0
        # (line index, byte offset) of line starts seen, for seeking back.
        self._marks: list[tuple[int, int]] = [(0, 0)]
        self._finish = threading.Event()
        self._deadline: float | None = None
        self._thread: threading.Thread | None = None
        # Only no proxy: the server's own URL, set by the backend, is reached directly.
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        self.stopped: str | None = None  # why pushing stopped for good, if it did
        self.requests = 0

    # -- the controlling thread's side -------------------------------------

    def start(self) -> "EventPusher":
        self._thread = threading.Thread(target=self._run, name="kiln-event-push", daemon=True)
        self._thread.start()
        return self

    def finish(self, timeout: float = 30.0) -> bool:
        """Sends what is left at once, trying for up to `timeout` s; True when the server has every line."""
        self._deadline = time.monotonic() + timeout
        self._finish.set()
        if self._thread is not None:
            self._thread.join(timeout + 1.0)
        return self.caught_up()

    def caught_up(self) -> bool:
        """True when every complete line in the file has reached the server."""
        if self.stopped is not None or (self._thread is not None and self._thread.is_alive()):
            return False
        try:
            size = os.path.getsize(self.path)
        except OSError:
            return False
        return self._byte >= size or not self._has_complete_line(size)

    # -- the pusher thread ----------------------------------------------------

    def _run(self) -> None:
        last_send = time.monotonic()
        backoff = self.backoff_first_s
        while True:
            finishing = self._finish.is_set()
            if finishing and time.monotonic() >= self._deadline:
                return
            try:
                size = os.path.getsize(self.path)
            except OSError:
                size = 0
            waiting = size - self._byte
            due = finishing or waiting >= self.eager_bytes or time.monotonic() - last_send >= self.interval_s
            if waiting > 0 and due and self._has_complete_line(size):
                try:
                    self._send_one_batch()
                    backoff = self.backoff_first_s
                except _Stop as e:
                    self.stopped = str(e)
                    self._log(f"kiln: pushing events to the server stopped: {e}")
                    return
                except _Retry:
                    if self._sleep_or_deadline(backoff):
                        return
                    backoff = min(backoff * 2, self.backoff_max_s)
                    continue
                except Exception as e:  # a bug here must not take the job down
                    self.stopped = f"internal error: {e!r}"
                    self._log(f"kiln: pushing events to the server failed: {e!r}")
                    return
                last_send = time.monotonic()
                continue
            if finishing:
                return  # every complete line has been sent
            self._finish.wait(TICK_S)

    def _sleep_or_deadline(self, seconds: float) -> bool:
        """Sleeps `seconds` (cut short by finish()'s deadline); True when the deadline passed."""
        end = time.monotonic() + seconds
        while True:
            now = time.monotonic()
            if self._deadline is not None and now >= self._deadline:
                return True
            if now >= end:
                return False
            wait = end - now
            if self._deadline is not None:
                wait = min(wait, self._deadline - now)
            # finish() only sets the deadline; it does not make a backoff any shorter.
            time.sleep(min(wait, TICK_S))

    def _has_complete_line(self, size: int) -> bool:
        """Whether a newline lies between the send position and `size` (reads at most a chunk at a time)."""
        with open(self.path, "rb") as f:
            f.seek(self._byte)
            while f.tell() < size:
                chunk = f.read(min(SCAN_CHUNK, size - f.tell()))
                if not chunk:
                    return False
                if b"\n" in chunk:
                    return True
        return False

    def _read_batch(self) -> bytes:
        """Whole lines from the send position: up to max_body bytes, or one over-long line alone."""
        with open(self.path, "rb") as f:
            f.seek(self._byte)
            data = f.read(self.max_body)
            cut = data.rfind(b"\n")
            if cut >= 0:
                return data[:cut + 1]
            # No newline within max_body: one line longer than a body; read on to its end.
            parts = [data]
            while True:
                chunk = f.read(SCAN_CHUNK)
                if not chunk:
                    return b""  # not complete yet
                i = chunk.find(b"\n")
                if i >= 0:
                    parts.append(chunk[:i + 1])
                    return b"".join(parts)
                parts.append(chunk)

    def _send_one_batch(self) -> None:
        body = self._read_batch()
        if not body:
            return
        count = body.count(b"\n")
        status, reply = self._post(body, self._line)
        if status == 200:
            nxt = _next_of(reply, self._line + count)
            if nxt == self._line + count:  # the usual case: no need to read the file again
                self._line, self._byte = nxt, self._byte + len(body)
                self._remember(self._line, self._byte)
            else:
                self._seek_line(nxt)
        elif status == 409:
            nxt = _next_of(reply, None)
            if nxt is None:
                raise _Retry()  # a 409 without a position: try the same batch again later
            self._seek_line(nxt)
        elif status in (401, 404) or 400 <= status < 500:
            meaning = {401: "the job token was refused (401)",
                       404: "the server says the job is not running any more (404)"}
            raise _Stop(meaning.get(status, f"the server refused the events with HTTP {status}"))
        else:
            raise _Retry()

    def _post(self, body: bytes, offset: int) -> tuple[int, bytes]:
        request = urllib.request.Request(self.url, data=body, method="POST", headers={
            "Authorization": f"Bearer {self._token}",
            "Content-Type": "application/x-ndjson",
            "X-Kiln-Event-Offset": str(offset),
        })
        timeout = self.request_timeout_s
        if self._deadline is not None:
            timeout = max(0.5, min(timeout, self._deadline - time.monotonic()))
        self.requests += 1
        try:
            with self._opener.open(request, timeout=timeout) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as e:
            with e:
                return e.code, e.read()
        except (OSError, ValueError) as e:  # refused, reset, timed out, DNS
            raise _Retry() from e

    def _seek_line(self, target: int) -> None:
        """Moves the send position to the start of line `target`.

        Forward from the send position when the target lies ahead, else from
        the nearest earlier (line, byte) mark; reads a chunk at a time.
        """
        target = max(0, target)
        if target >= self._line:
            line, byte = self._line, self._byte
        else:
            line, byte = max(m for m in self._marks if m[0] <= target)
        with open(self.path, "rb") as f:
            f.seek(byte)
            while line < target:
                chunk = f.read(SCAN_CHUNK)
                if not chunk:
                    break  # the server claims lines the file lacks: stay at the end
                start = 0
                while line < target:
                    i = chunk.find(b"\n", start)
                    if i < 0:
                        break
                    line += 1
                    start = i + 1
                byte += start if line == target else len(chunk)
        if line != target:
            self._log(f"kiln: the server asked for event line {target}, the file has {line}")
        self._line, self._byte = line, byte
        self._remember(line, byte)

    def _remember(self, line: int, byte: int) -> None:
        if line > self._marks[-1][0]:
            self._marks.append((line, byte))
            if len(self._marks) > 256:  # a few marks are enough to seek back cheaply
                self._marks = self._marks[::2]


class _Retry(Exception):
    """A network error or a 5xx: send the same batch again after a backoff."""


def _next_of(reply: bytes, default):
    """The reply's {"next": N}, else `default`."""
    try:
        value = json.loads(reply or b"null")
    except ValueError:
        return default
    if isinstance(value, dict) and isinstance(value.get("next"), int) and not isinstance(value["next"], bool):
        return value["next"]
    return default


def _log_to_stderr(message: str) -> None:
    # fd 2 is the job's captured stderr: the note lands in the events file as a
    # log line, which the backend reads from the bundle.
    try:
        os.write(2, (message + "\n").encode("utf-8", "replace"))
    except OSError:
        pass


def from_environment(path: str) -> EventPusher | None:
    """A started pusher for `path` when KILN_EVENTS_URL and KILN_JOB_TOKEN are set, else None."""
    url = os.environ.get("KILN_EVENTS_URL")
    token = os.environ.get("KILN_JOB_TOKEN")
    if not url or not token:
        return None
    return EventPusher(path, url, token).start()
