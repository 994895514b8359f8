"""The in-job runtime: the event channel, metrics, progress and output capture.

What: a job reports what happens to it as *events*, one JSON object per line on
an *event channel* (an inherited fd or a file/FIFO path).  Every event carries
``seq`` (1, 2, 3... per job, strictly increasing, in write order), ``time``
(Unix seconds, float), ``job`` (the job id) and ``type``.  Formats are written
down in docs/job-protocol.md ("Events").

Who owns what:
* ``kiln.job`` creates the channel for a job and installs it with
  ``configure()``; it closes it at the end of the job.  Operations never touch
  the channel directly: they call ``kiln.log_metric`` / ``kiln.progress`` and use
  plain matplotlib (``kiln.mpl_backend``) and ``print``.
* Outside Kiln (a user runs ``python3 train.py``) no channel is configured and
  every call here is a cheap no-op, so the same operation file runs unchanged.
  The environment can still open one lazily: ``KILN_EVENTS_FD=<fd>``,
  ``KILN_EVENTS_PATH=<path>`` or ``KILN_EVENTS=stderr`` (lines prefixed with
  ``kiln-event: `` on stderr, handy when debugging an operation by hand).
* ``OutputCapture`` owns fds 1 and 2 while it is started: it points them at
  pipes and turns every line into a ``log`` event (so output of C extensions and
  subprocesses is captured too, not only ``print``).

Thread-safety: ``EventChannel.emit`` and the module-level functions may be
called from any thread; a lock orders sequence numbers and writes.  ``configure``
and ``OutputCapture.start/stop`` are for the job's main thread only.
Fork-safety: a forked child must call ``configure`` with its own channel before
emitting (``kiln.job`` does); the zygote never configures one.
"""
from __future__ import annotations

import _thread
import json
import math
import os
import select
import sys
import threading
import time
from typing import Any, Optional

__all__ = ["EventChannel", "OutputCapture", "configure", "current", "emit", "log_metric",
           "progress", "flush_progress", "Operation"]


def _jsonable(value: Any) -> Any:
    """Best-effort JSON form: numpy/torch scalars become numbers, NaN/inf become strings."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        if math.isfinite(value):
            return float(value)
        return "nan" if value != value else ("inf" if value > 0 else "-inf")
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    item = getattr(value, "item", None)  # numpy scalars, 0-d arrays, 1-element tensors
    if callable(item):
        try:
            return _jsonable(item())
        except (TypeError, ValueError, RuntimeError):
            pass
    tolist = getattr(value, "tolist", None)
    if callable(tolist):
        try:
            return _jsonable(tolist())
        except (TypeError, ValueError, RuntimeError):
            pass
    return str(value)


class EventChannel:
    """Writes events as JSON lines to one fd; owns that fd (a private dup of it).

    ``prefix`` is prepended to each line (used for the stderr fallback).  A write
    error (reader gone) disables the channel instead of failing the job.
    """

    def __init__(self, fd: int, job_id: Optional[str] = None, prefix: str = ""):
        # Keep a private duplicate: fds 1/2 are redirected by OutputCapture, and
        # whoever passed the fd may close theirs.
        self._fd = os.dup(fd)
        os.set_inheritable(self._fd, False)
        self.job_id = job_id
        self._prefix = prefix.encode()
        self._lock = threading.Lock()
        self._seq = 0
        self._broken = False
        self._steps: dict = {}
        self._last_progress = 0.0
        self._pending_progress: Optional[dict] = None

    @classmethod
    def open_path(cls, path: str, job_id: Optional[str] = None) -> "EventChannel":
        """Append to a file (created if missing) or write into an existing FIFO."""
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            return cls(fd, job_id)
        finally:
            os.close(fd)

    @property
    def seq(self) -> int:
        return self._seq

    def emit(self, type: str, **fields) -> Optional[dict]:
        """Write one event; returns it (with seq and time), or None if the channel is closed."""
        with self._lock:
            if self._fd < 0 or self._broken:
                return None
            self._seq += 1
            event = {"seq": self._seq, "time": time.time(), "job": self.job_id, "type": type}
            event.update(fields)
            line = json.dumps(event, allow_nan=False, default=str, separators=(",", ":"))
            data = self._prefix + line.encode("utf-8", "replace") + b"\n"
            try:
                view = memoryview(data)
                while view:  # pipes may take a large event (a PNG) in several writes
                    n = os.write(self._fd, view)
                    view = view[n:]
            except OSError:
                self._broken = True
                return None
            return event

    def next_step(self, name: str, step: Optional[int]) -> int:
        with self._lock:
            if step is None:
                step = self._steps.get(name, 0)
            self._steps[name] = int(step) + 1
            return int(step)

    def progress(self, done, total, min_interval: float = 0.1) -> None:
        # Throttled: a loop calling progress() per item must not flood the channel.
        # The last value is kept and flushed at the end of the job.
        ev = {"done": _jsonable(done), "total": _jsonable(total)}
        now = time.monotonic()
        with self._lock:
            finished = total is not None and done >= total
            if not finished and now - self._last_progress < min_interval:
                self._pending_progress = ev
                return
            self._last_progress = now
            self._pending_progress = None
        self.emit("progress", **ev)

    def flush_progress(self) -> None:
        with self._lock:
            ev, self._pending_progress = self._pending_progress, None
        if ev is not None:
            self.emit("progress", **ev)

    def close(self) -> None:
        with self._lock:
            if self._fd >= 0:
                os.close(self._fd)
                self._fd = -1


_channel: Optional[EventChannel] = None
_env_checked = False
_config_lock = threading.Lock()


def configure(channel: Optional[EventChannel]) -> None:
    """Install (or, with None, remove) the process's event channel."""
    global _channel, _env_checked
    with _config_lock:
        _channel = channel
        _env_checked = True


def _from_env() -> Optional[EventChannel]:
    job = os.environ.get("KILN_JOB_ID")
    try:
        if os.environ.get("KILN_EVENTS_FD"):
            return EventChannel(int(os.environ["KILN_EVENTS_FD"]), job)
        if os.environ.get("KILN_EVENTS_PATH"):
            return EventChannel.open_path(os.environ["KILN_EVENTS_PATH"], job)
        if os.environ.get("KILN_EVENTS") == "stderr":
            return EventChannel(2, job, prefix="kiln-event: ")
    except (OSError, ValueError) as e:
        sys.stderr.write(f"kiln: cannot open the event channel: {e}\n")
    return None


def current() -> Optional[EventChannel]:
    """The configured channel, opening one from the environment on first use."""
    global _channel, _env_checked
    if not _env_checked:
        with _config_lock:
            if not _env_checked:
                _channel = _from_env()
                _env_checked = True
    return _channel


def emit(type: str, **fields) -> Optional[dict]:
    ch = current()
    return ch.emit(type, **fields) if ch is not None else None


def log_metric(name: str, value: Any, step: Optional[int] = None) -> None:
    """Record a scalar metric (a number, numpy scalar or one-element tensor).

    ``step`` defaults to one more than the last step logged for ``name``
    (0, 1, 2, ...).  NaN and infinities are sent as "nan", "inf", "-inf".
    """
    ch = current()
    if ch is None:
        return
    if not isinstance(name, str) or not name:
        raise ValueError("metric name must be a non-empty string")
    try:
        raw = value.item() if callable(getattr(value, "item", None)) else value
        if isinstance(raw, str):
            raise TypeError
        v = int(raw) if isinstance(raw, int) and not isinstance(raw, bool) else float(raw)
    except (TypeError, ValueError, RuntimeError):
        raise TypeError(f"metric {name!r}: {type(value).__name__} is not a number") from None
    v = _jsonable(v)
    ch.emit("metric", name=name, value=v, step=ch.next_step(name, step))


def progress(done: float, total: Optional[float] = None) -> None:
    """Report progress: ``done`` out of ``total`` (None when unknown). Throttled to ~10/s."""
    ch = current()
    if ch is not None:
        ch.progress(done, total)


def flush_progress() -> None:
    ch = current()
    if ch is not None:
        ch.flush_progress()


class Operation:
    """Optional base class of operations.

    Deriving from it marks the class as *the* operation of its file (see
    kiln.interface): the constructor's parameters are its attributes, the
    parameters of ``execute`` its inputs, and the names ``execute`` returns its
    outputs.  Any class with an ``execute`` method works too.
    """

    def execute(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} must define execute(self, ...)")


class Architecture:
    """Annotation marking an operation's constructor argument as an architecture reference.

    ``def __init__(self, net: kiln.Architecture)``: ``net`` is not an attribute; the
    operation node points at an Architecture of the project (docs/libraries.md) and
    the job passes the architecture's generated ``nn.Module`` class, so that
    ``self.net()`` builds the model. Only a marker: nothing is ever an instance of it.
    """

    def __init__(self):
        raise TypeError("kiln.Architecture only annotates a reference; the job passes the "
                        "architecture's nn.Module class in its place")


class OutputCapture:
    """Redirects fds 1 and 2 to pipes and streams their lines as ``log`` events.

    A line is cut at ``\\n``; within a line, text before the last ``\\r`` is dropped
    (a progress bar's redraws become its final state).  Lines longer than 64 KiB
    are split.  Each event: ``{"type": "log", "stream": "stdout"|"stderr",
    "line": "..."}`` timestamped when the line is read.  With ``echo`` the raw
    output is also copied to the original fds.
    """

    MAX_LINE = 64 * 1024

    def __init__(self, channel: EventChannel, echo: bool = False):
        self._channel = channel
        self._echo = echo
        self._saved: dict = {}
        self._done = None  # held by the reader until it has drained both pipes

    def start(self) -> None:
        pipes = {}
        for fd, name, stream in ((1, "stdout", sys.stdout), (2, "stderr", sys.stderr)):
            try:
                if stream is not None:
                    stream.flush()
            except (OSError, ValueError):
                pass
            saved = os.dup(fd)
            os.set_inheritable(saved, False)
            r, w = os.pipe()
            os.dup2(w, fd)  # dup2 makes fd inheritable: subprocesses write to the pipe too
            os.close(w)
            self._saved[fd] = saved
            pipes[r] = (name, saved)
        # One reader for both pipes, started without waiting for it to run
        # (threading.Thread.start blocks until the new thread is scheduled: a
        # context switch on the job's start-up path). ``_done`` is held until
        # the reader has drained both pipes.
        self._done = _thread.allocate_lock()
        self._done.acquire()
        _thread.start_new_thread(self._pump, (pipes, self._done))
        # Python block-buffers stdout on a pipe: line buffering keeps timestamps honest.
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.reconfigure(line_buffering=True)
            except (AttributeError, ValueError, OSError):
                pass

    def _pump(self, pipes: dict, done) -> None:
        bufs = {r: b"" for r in pipes}
        poller = select.poll()  # not select(): no limit on fd numbers
        for r in pipes:
            poller.register(r, select.POLLIN)
        try:
            while bufs:
                try:
                    ready = [fd for fd, _ in poller.poll()]
                except InterruptedError:
                    continue
                for r in ready:
                    if r not in bufs:
                        continue
                    name, echo_fd = pipes[r]
                    try:
                        chunk = os.read(r, 65536)
                    except InterruptedError:
                        continue
                    if not chunk:
                        if bufs[r]:
                            self._line(name, bufs.pop(r))
                        else:
                            bufs.pop(r)
                        poller.unregister(r)
                        os.close(r)
                        continue
                    if self._echo:
                        try:
                            os.write(echo_fd, chunk)
                        except OSError:
                            pass
                    buf = bufs[r] + chunk
                    while True:
                        nl = buf.find(b"\n")
                        if nl < 0:
                            if len(buf) > self.MAX_LINE:
                                self._line(name, buf[:self.MAX_LINE])
                                buf = buf[self.MAX_LINE:]
                                continue
                            break
                        self._line(name, buf[:nl])
                        buf = buf[nl + 1:]
                    bufs[r] = buf
        finally:
            for r in bufs:
                try:
                    os.close(r)
                except OSError:
                    pass
            done.release()

    def _line(self, name: str, raw: bytes) -> None:
        text = raw.decode("utf-8", "replace").rstrip("\r")
        if "\r" in text:
            text = text.rsplit("\r", 1)[1]
        self._channel.emit("log", stream=name, line=text)

    def stop(self, timeout: float = 0.5) -> None:
        """Restore fds 1 and 2 and wait for the readers to drain their pipes.

        A subprocess that still holds the pipe keeps its reader alive; we wait at
        most ``timeout`` seconds for it (the reader is a daemon thread).
        """
        for stream in (sys.stdout, sys.stderr):
            try:
                if stream is not None:
                    stream.flush()
            except (OSError, ValueError):
                pass
        for fd, saved in self._saved.items():
            os.dup2(saved, fd)  # closes our end of the pipe: the reader sees EOF
        drained = self._done is None or self._done.acquire(timeout=max(0.0, timeout))
        if drained:
            # A reader still running may echo into its saved fd: leave those open.
            for saved in self._saved.values():
                os.close(saved)
        self._saved.clear()
        self._done = None
