"""The warm worker ("zygote"): imports the heavy libraries once, forks a child per job.

``python3 -m kiln.zygote [--preload torch,numpy,matplotlib] [--prefork 1]``

What: starting Python and importing torch costs ~1.5-2 s; forking a process that
already has them costs milliseconds.  The zygote imports the preload modules,
then serves JSON-line requests on stdin and answers on stdout (protocol in
docs/job-protocol.md, "Zygote").  Each ``run`` request becomes a forked child
that calls ``os.setsid()`` (so the job and everything it spawns form one process
group, killable at once), applies resource limits, and runs
``kiln.job.run_bundle``.  With ``--prefork N`` (default 1) the zygote keeps N
children forked ahead of demand, blocked on a pipe: a request is handed to one
of them, taking the fork itself off the critical path.

Who owns what:
* the zygote owns its children: it reaps them (``wait4``, with rusage), enforces
  ``timeout_s`` (SIGTERM to the group, SIGKILL after ``kill_grace_s``), and after a
  job's main process exits it SIGKILLs whatever is left in the job's process
  group.  It is a child subreaper (``PR_SET_CHILD_SUBREAPER``), so processes a job
  orphaned are reparented to it and reaped instead of piling up as zombies.
* on ``shutdown`` or EOF on stdin (the server went away) it kills every job's
  process group and its spares, then exits: no orphans survive it.
* the child owns its bundle; it never returns into the zygote's loop (it always
  ends with ``os._exit``).

Thread-safety / fork-safety: the zygote is single-threaded by design (forking a
multi-threaded process is unsafe) and never runs torch ops itself (an
initialised OpenMP pool does not survive fork).  Interface requests
(``parse``/``update``) are pure Python and are answered inline.
"""
from __future__ import annotations

import argparse
import ctypes
import gc
import io
import json
import os
import resource
import selectors
import signal
import sys
import time
import traceback

__all__ = ["Zygote", "main"]

DEFAULT_PRELOAD = "torch,numpy,matplotlib.pyplot"
PR_SET_CHILD_SUBREAPER = 36


def _set_subreaper() -> bool:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _killpg(pgid: int, sig: int) -> bool:
    try:
        os.killpg(pgid, sig)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return False


_WARM_UP_CODE = """
import kiln


class WarmUp(kiln.Operation):
    def __init__(self, n: int = 1):
        self.n = n

    def execute(self, a):
        y = a
        return y
"""


def _warm_up() -> None:
    """In a spare, before it is handed a job: run what every job runs first.

    A forked child pays a copy-on-write fault for every page it touches, and
    a job touches the same ones first (the interface parser, json, pickle);
    a spare touches them while it waits, off the job's start-up path.
    """
    try:
        import pickle
        from . import interface, serializers  # noqa: F401
        interface._parse(_WARM_UP_CODE)
        json.loads(json.dumps({"a": [1, 2.5, "x", None]}))
        pickle.loads(pickle.dumps({"a": 1}))
    except Exception:  # only an optimisation
        pass


class _Job:
    __slots__ = ("rid", "pid", "bundle", "t_dispatch", "deadline", "kill_at", "grace",
                 "timed_out", "cancelled")

    def __init__(self, rid, pid, bundle, t_dispatch, timeout_s, grace):
        self.rid = rid
        self.pid = pid
        self.bundle = bundle
        self.t_dispatch = t_dispatch
        self.deadline = time.monotonic() + timeout_s if timeout_s else None
        self.kill_at = None
        self.grace = grace
        self.timed_out = False
        self.cancelled = False


class Zygote:
    def __init__(self, out, prefork: int = 1, default_grace: float = 2.0):
        self._out = out  # binary stream for replies
        self._prefork = max(0, prefork)
        self._grace = default_grace
        self._jobs: dict = {}  # pid -> _Job
        self._spares: list = []  # (pid, write fd)
        self._sel = selectors.DefaultSelector()
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        os.set_blocking(self._wake_w, False)
        self._stdin_buf = b""
        self._running = True

    # -- replies --------------------------------------------------------------

    def reply(self, **msg) -> None:
        try:
            self._out.write(json.dumps(msg, default=str).encode() + b"\n")
            self._out.flush()
        except (BrokenPipeError, ValueError):
            # Whoever drove us is gone (it may exit while a job tears down):
            # shut down, killing every job, as on EOF.
            self._running = False

    # -- children -------------------------------------------------------------

    def _child_setup(self, keep_fd: int) -> None:
        """In a freshly forked child: detach from the zygote's fds and signals."""
        os.setsid()
        signal.set_wakeup_fd(-1)
        for sig in (signal.SIGCHLD, signal.SIGTERM, signal.SIGINT, signal.SIGPIPE):
            signal.signal(sig, signal.SIG_DFL if sig != signal.SIGPIPE else signal.SIG_IGN)
        devnull = os.open(os.devnull, os.O_RDWR)
        os.dup2(devnull, 0)
        os.dup2(devnull, 1)  # never write into the protocol stream
        os.close(devnull)
        # The zygote points sys.stdout at stderr (stray prints must not corrupt
        # the protocol); a job's print() goes to its own fd 1, tagged stdout.
        sys.stdout = io.TextIOWrapper(io.FileIO(1, "w", closefd=False), encoding="utf-8",
                                      errors="backslashreplace", line_buffering=True)
        # Everything else the zygote holds (protocol pipes, selector, other
        # spares' pipes) must not leak into jobs.
        if keep_fd > 3:
            os.closerange(3, keep_fd)
        os.closerange(max(3, keep_fd + 1), 1 << 16)

    @staticmethod
    def _apply_limits(limits: dict) -> None:
        if limits.get("memory_bytes"):
            n = int(limits["memory_bytes"])
            resource.setrlimit(resource.RLIMIT_AS, (n, n))
        if limits.get("cpu_s"):
            n = int(limits["cpu_s"])
            resource.setrlimit(resource.RLIMIT_CPU, (n, n + 5))
        if limits.get("nofile"):
            n = int(limits["nofile"])
            resource.setrlimit(resource.RLIMIT_NOFILE, (n, n))

    @staticmethod
    def _child_run(req: dict, t_dispatch: float) -> int:
        for k, v in (req.get("env") or {}).items():
            os.environ[str(k)] = str(v)
        Zygote._apply_limits(req.get("limits") or {})
        from . import job
        return job.run_bundle(req["bundle"], started_at=t_dispatch)

    def _fork_spare(self) -> None:
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            code = 2
            try:
                self._child_setup(r)
                _warm_up()
                data = b""
                while not data.endswith(b"\n"):
                    chunk = os.read(r, 65536)
                    if not chunk:
                        os._exit(0)  # the zygote went away or retired us
                    data += chunk
                os.close(r)
                msg = json.loads(data)
                code = self._child_run(msg["request"], msg["t_dispatch"])
            except BaseException:
                try:
                    traceback.print_exc()
                except BaseException:
                    pass
            finally:
                os._exit(code)
        os.close(r)
        self._spares.append((pid, w))

    def _fork_direct(self, req: dict, t_dispatch: float) -> int:
        pid = os.fork()
        if pid == 0:
            code = 2
            try:
                self._child_setup(-1)
                code = self._child_run(req, t_dispatch)
            except BaseException:
                try:
                    traceback.print_exc()
                except BaseException:
                    pass
            finally:
                os._exit(code)
        return pid

    def _refill_spares(self) -> None:
        while self._running and len(self._spares) < self._prefork:
            self._fork_spare()

    # -- requests -------------------------------------------------------------

    def handle(self, req: dict) -> None:
        rid = req.get("id")
        op = req.get("op")
        if op == "run":
            self._run(rid, req)
        elif op == "cancel":
            self._cancel(rid, req)
        elif op in ("parse", "update"):
            from . import interface
            self.reply(id=rid, event="reply", **interface.handle_request(op, req))
        elif op == "ping":
            self.reply(id=rid, event="pong", pid=os.getpid(), jobs=sorted(self._jobs),
                       spares=[p for p, _ in self._spares])
        elif op == "shutdown":
            self._running = False
        else:
            self.reply(id=rid, event="error", message=f"unknown op {op!r}")

    def _run(self, rid, req: dict) -> None:
        bundle = req.get("bundle")
        if not isinstance(bundle, str) or not os.path.isdir(bundle):
            self.reply(id=rid, event="error", message=f"bundle {bundle!r} is not a directory")
            return
        limits = req.get("limits") or {}
        req = dict(req, bundle=os.path.abspath(bundle))
        t_dispatch = time.time()
        pid = None
        while self._spares and pid is None:
            spare_pid, w = self._spares.pop(0)
            try:
                os.write(w, json.dumps({"request": req, "t_dispatch": t_dispatch}).encode()
                         + b"\n")
                pid = spare_pid
            except OSError:  # the spare died: it will be reaped as unknown
                pass
            finally:
                os.close(w)
        if pid is None:
            pid = self._fork_direct(req, t_dispatch)
        job = _Job(rid, pid, req["bundle"], t_dispatch, limits.get("timeout_s"),
                   float(req.get("kill_grace_s", self._grace)))
        self._jobs[pid] = job
        self.reply(id=rid, event="started", pid=pid, pgid=pid, t_dispatch=t_dispatch)
        # The replacement spare is forked by the loop, after this reply and
        # one at a time, so requests are answered between forks.

    def _cancel(self, rid, req: dict) -> None:
        target = None
        for job in self._jobs.values():
            if ("pid" in req and job.pid == req["pid"]) or \
                    ("run" in req and job.rid == req["run"]):
                target = job
        if target is None:
            self.reply(id=rid, event="error", message="no such running job")
            return
        target.cancelled = True
        self._terminate(target)
        self.reply(id=rid, event="cancelling", pid=target.pid)

    def _terminate(self, job: _Job) -> None:
        if job.kill_at is None:
            _killpg(job.pid, signal.SIGTERM)
            job.kill_at = time.monotonic() + job.grace

    # -- loop -----------------------------------------------------------------

    def _reap(self) -> None:
        while True:
            try:
                pid, status, ru = os.wait4(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            job = self._jobs.pop(pid, None)
            spare = next((s for s in self._spares if s[0] == pid), None)
            if spare is not None:
                self._spares.remove(spare)
                os.close(spare[1])
            if job is None:
                continue  # a spare, or an orphan reparented to us: nothing to report
            # Whatever the job left behind in its group goes with it.
            _killpg(pid, signal.SIGKILL)
            self.reply(id=job.rid, event="exited", pid=pid,
                       exit_code=os.WEXITSTATUS(status) if os.WIFEXITED(status) else None,
                       signal=os.WTERMSIG(status) if os.WIFSIGNALED(status) else None,
                       timed_out=job.timed_out, cancelled=job.cancelled,
                       wall_s=time.time() - job.t_dispatch,
                       rusage={"maxrss_kb": ru.ru_maxrss, "utime_s": ru.ru_utime,
                               "stime_s": ru.ru_stime})
        # (unreachable)

    def _timers(self) -> float | None:
        now = time.monotonic()
        nxt = None
        for job in list(self._jobs.values()):
            if job.deadline is not None and job.kill_at is None and now >= job.deadline:
                job.timed_out = True
                self._terminate(job)
            if job.kill_at is not None and now >= job.kill_at:
                _killpg(job.pid, signal.SIGKILL)
                job.kill_at = now + 3600  # once
            for t in (job.deadline if job.kill_at is None else None, job.kill_at):
                if t is not None and t > now:
                    nxt = t if nxt is None else min(nxt, t)
        return None if nxt is None else max(0.0, nxt - now)

    def _read_stdin(self, fd: int) -> None:
        try:
            chunk = os.read(fd, 65536)
        except BlockingIOError:
            return
        if not chunk:
            self._running = False  # EOF: whoever drove us is gone
            self._sel.unregister(fd)
            return
        self._stdin_buf += chunk
        while b"\n" in self._stdin_buf:
            line, self._stdin_buf = self._stdin_buf.split(b"\n", 1)
            if not line.strip():
                continue
            try:
                req = json.loads(line)
                if not isinstance(req, dict):
                    raise ValueError("a request is a JSON object")
            except ValueError as e:
                self.reply(id=None, event="error", message=f"bad request: {e}")
                continue
            try:
                self.handle(req)
            except Exception as e:  # keep serving: one bad request must not kill the pool
                self.reply(id=req.get("id"), event="error", message=f"{type(e).__name__}: {e}")

    def serve(self, stdin_fd: int = 0) -> None:
        signal.signal(signal.SIGCHLD, lambda *a: None)  # a handler is needed for the wakeup fd
        signal.signal(signal.SIGTERM, lambda *a: setattr(self, "_running", False))
        signal.set_wakeup_fd(self._wake_w, warn_on_full_buffer=False)
        os.set_blocking(stdin_fd, False)
        self._sel.register(stdin_fd, selectors.EVENT_READ, "stdin")
        self._sel.register(self._wake_r, selectors.EVENT_READ, "wake")
        self._refill_spares()
        try:
            while self._running:
                timeout = self._timers()
                # A missing spare is forked when nothing else is waiting: one
                # fork (~10 ms with torch mapped) at a time, requests first.
                missing = len(self._spares) < self._prefork
                ready = self._sel.select(0 if missing else timeout)
                for key, _ in ready:
                    if key.data == "wake":
                        try:
                            while os.read(self._wake_r, 4096):
                                pass
                        except BlockingIOError:
                            pass
                    else:
                        self._read_stdin(key.fd)
                self._reap()
                if missing and not ready and self._running:
                    self._fork_spare()
        finally:
            self._shutdown()

    def _shutdown(self) -> None:
        self._running = False
        for pid, w in self._spares:
            os.close(w)  # the spare reads EOF and exits
            _killpg(pid, signal.SIGKILL)
        for job in self._jobs.values():
            _killpg(job.pid, signal.SIGKILL)
        deadline = time.monotonic() + 5
        while (self._jobs or self._spares) and time.monotonic() < deadline:
            spare_pids = [p for p, _ in self._spares]
            self._spares = []
            for pid in spare_pids:
                try:
                    os.waitpid(pid, 0)
                except ChildProcessError:
                    pass
            self._reap()
            if self._jobs:
                time.sleep(0.01)
        try:
            self.reply(event="bye")
        except (OSError, ValueError):
            pass


def preload(modules: list) -> tuple:
    loaded, errors = [], {}
    for name in modules:
        try:
            __import__(name)
            loaded.append(name)
        except Exception as e:  # a missing optional library must not stop the worker
            errors[name] = f"{type(e).__name__}: {e}"
    return loaded, errors


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python3 -m kiln.zygote", description=__doc__.split("\n")[0])
    ap.add_argument("--preload", default=DEFAULT_PRELOAD,
                    help="comma-separated modules to import once (default: %(default)s)")
    ap.add_argument("--prefork", type=int, default=1,
                    help="children forked ahead of demand (default: %(default)s)")
    ap.add_argument("--kill-grace", type=float, default=2.0,
                    help="seconds between SIGTERM and SIGKILL (default: %(default)s)")
    args = ap.parse_args(argv)
    t0 = time.time()
    # Before matplotlib is imported: jobs' figures go through Kiln's backend.
    os.environ.setdefault("MPLBACKEND", "module://kiln.mpl_backend")
    modules = [m for m in args.preload.split(",") if m]
    modules += ["kiln", "kiln.job", "kiln.serializers", "kiln.interface"]
    if any(m.startswith("matplotlib") for m in modules):
        modules.append("kiln.mpl_backend")
    loaded, errors = preload(modules)
    if "matplotlib.pyplot" in sys.modules:
        import matplotlib
        matplotlib.get_backend()  # resolve the backend now, not in every child
    out = os.fdopen(os.dup(1), "wb")
    # Stray prints (a library warning) must not corrupt the protocol on fd 1.
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    subreaper = _set_subreaper()
    # Move everything imported so far out of the collector's reach: a collection
    # in a child would otherwise touch (and so copy-on-write) the whole heap.
    gc.collect()
    gc.freeze()
    z = Zygote(out, prefork=args.prefork, default_grace=args.kill_grace)
    # ``stdlib``: the modules any job here can import cheaply (the standard
    # library); the backend sends a job that imports nothing else to a worker
    # without the heavy preloads, whose fork costs a fraction.
    z.reply(event="ready", pid=os.getpid(), preloaded=loaded, preload_errors=errors,
            preload_s=time.time() - t0, subreaper=subreaper,
            stdlib=sorted(getattr(sys, "stdlib_module_names", ())))
    z.serve(0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
