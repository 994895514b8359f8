"""Runs one job bundle: ``python3 -m kiln.job <bundle-dir>``.

What: a bundle is a folder with ``spec.json`` and the operation's code (format in
docs/job-protocol.md, "Bundle").  ``run_bundle`` opens the job's event channel,
captures fds 1/2 as log events, imports the operation file, instantiates the
operation class (``kiln.interface`` rule) with the attributes and, for each
reference, the class of the bundle's generated resource module (``spec.resources``),
loads the inputs,
calls ``execute`` (awaiting it when it is ``async``), saves every output to
``<outputs_dir>/<name>`` with its serializer, and writes ``result.json``.

Events (``state``, ``progress``, ``metric``, ``log``, ``figure``) share one
sequence; states go ``starting`` -> ``running`` -> ``succeeded``|``failed``|
``cancelled``.  Exit codes: 0 succeeded, 1 the operation failed (or its outputs
could not be saved), 2 the bundle is unusable (bad spec, unreadable code, no
operation class) or an internal error, 143 cancelled by SIGTERM.  ``result.json``
is written in every case the process survives (not after SIGKILL).

Pushed events (docs/compute.md): with ``KILN_EVENTS_URL`` and ``KILN_JOB_TOKEN``
set and a file as the event channel, an ``event_push.EventPusher`` thread also
posts the file's lines to the server as they are written; after the final
state event the runner flushes it (up to ``PUSH_FLUSH_S``) before returning.

Who owns what: the process (or the zygote's forked child) running
``run_bundle`` owns the bundle folder, the outputs folder, fds 1/2 and the event
channel for the duration of the job.  Called once per process: it changes the
working directory, ``sys.path``, signal handlers and fds, and the caller exits
right after (``main`` or the zygote child's ``os._exit``).

Thread-safety: main thread only (SIGTERM handling needs it).
"""
from __future__ import annotations

import asyncio
import hashlib
import importlib.util
import inspect
import json
import os
import signal
import sys
import time
import traceback

from . import event_push, runtime, serializers, venv
from .interface import InterfaceError, _parse

__all__ = ["run_bundle", "main", "JobCancelled", "EXIT_OK", "EXIT_FAILED", "EXIT_BUNDLE",
           "EXIT_CANCELLED"]

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_BUNDLE = 2
EXIT_CANCELLED = 128 + signal.SIGTERM

DEFAULT_MPL_BACKEND = "module://kiln.mpl_backend"
PUSH_FLUSH_S = 30.0  # how long a finished job keeps trying to push its last events


class JobCancelled(BaseException):
    """Raised in the main thread on SIGTERM (BaseException: `except Exception` won't eat it)."""


class _BundleError(Exception):
    """The bundle cannot run at all (exit code 2)."""


def _sha256(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _write_json_atomic(path: str, data: dict) -> None:
    tmp = f"{path}.tmp-{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as f:
        # Compact: `indent` would switch json to its pure-Python encoder.
        f.write(json.dumps(data, default=str, separators=(",", ":")))
        f.write("\n")
    os.replace(tmp, path)


def _read_spec(bundle: str) -> dict:
    path = os.path.join(bundle, "spec.json")
    try:
        with open(path, encoding="utf-8") as f:
            spec = json.load(f)
    except (OSError, ValueError) as e:
        raise _BundleError(f"cannot read {path}: {e}") from None
    if not isinstance(spec, dict):
        raise _BundleError("spec.json must hold a JSON object")
    for key, kind in (("attributes", dict), ("inputs", dict)):
        if not isinstance(spec.get(key, {}), kind):
            raise _BundleError(f"spec.{key} must be a JSON object")
    return spec


def _channel_path(bundle: str, spec: dict) -> str | None:
    """The file the job's event channel appends to, or None when the channel is an fd."""
    events = spec.get("events")
    if isinstance(events, int) and not isinstance(events, bool):
        return None
    if isinstance(events, str) and events:
        return os.path.join(bundle, events)
    if os.environ.get("KILN_EVENTS_FD"):
        return None
    if os.environ.get("KILN_EVENTS_PATH"):
        return os.environ["KILN_EVENTS_PATH"]
    return os.path.join(bundle, "events.jsonl")


def _open_channel(bundle: str, spec: dict, job_id) -> runtime.EventChannel:
    path = _channel_path(bundle, spec)
    if path is not None:
        return runtime.EventChannel.open_path(path, job_id)
    events = spec.get("events")
    if isinstance(events, int) and not isinstance(events, bool):
        return runtime.EventChannel(events, job_id)
    return runtime.EventChannel(int(os.environ["KILN_EVENTS_FD"]), job_id)


def _start_pusher(path: str | None):
    """An EventPusher tailing the events file, when the backend asked for pushed events.

    Only with KILN_EVENTS_URL and KILN_JOB_TOKEN set (a backend whose jobs
    push, docs/compute.md) and a regular file as the channel (not an fd or a
    FIFO). The token is then taken out of the environment: the operation and
    the processes it starts have no use for it.
    """
    if path is None or not os.environ.get("KILN_EVENTS_URL") or not os.environ.get("KILN_JOB_TOKEN"):
        return None
    if not os.path.isfile(path):
        return None
    try:
        pusher = event_push.from_environment(path)
    except Exception:  # pushing is a convenience: the backend reads the file in the end
        sys.stderr.write("kiln: cannot push events to the server:\n" + traceback.format_exc())
        return None
    os.environ.pop("KILN_JOB_TOKEN", None)
    return pusher


def _apply_thread_count() -> None:
    """Make an already imported torch use the job's OMP_NUM_THREADS.

    torch reads OMP_NUM_THREADS when it is imported; in a zygote's child it was
    imported before the job's environment existed, so the job's value is
    applied explicitly (a job that imports torch itself needs nothing).
    """
    torch = sys.modules.get("torch")
    value = os.environ.get("OMP_NUM_THREADS")
    if torch is None or not value:
        return
    try:
        n = int(value)
        if n > 0 and torch.get_num_threads() != n:
            torch.set_num_threads(n)
    except (ValueError, RuntimeError, AttributeError):
        pass


def _select_mpl_backend(backend: str) -> None:
    os.environ["MPLBACKEND"] = backend
    mpl = sys.modules.get("matplotlib")
    if mpl is not None and mpl.rcParams._get_backend_or_none() != backend:
        mpl.use(backend, force=True)  # already imported (the zygote preloads it)


def _load_operation(bundle: str, spec: dict):
    """(class, interface dict, return style) of the operation in the bundle's code."""
    rel = spec.get("operation_file", "operation.py")
    path = os.path.join(bundle, rel)
    try:
        with open(path, encoding="utf-8") as f:
            code = f.read()
    except (OSError, UnicodeDecodeError) as e:
        raise _BundleError(f"cannot read operation file {path}: {e}") from None
    try:
        parsed = _parse(code)
    except InterfaceError as e:
        where = f"{rel}:{e.line}:{e.column}: " if e.line else f"{rel}: "
        raise _BundleError(where + e.message) from None
    mod_name = os.path.splitext(os.path.basename(rel))[0] or "operation"
    module_spec = importlib.util.spec_from_file_location(mod_name, path)
    module = importlib.util.module_from_spec(module_spec)
    # Registered before running so that pickling classes defined in the file
    # (by reference to this module name) works within this job.
    sys.modules[mod_name] = module
    module_spec.loader.exec_module(module)  # the operation's import-time code may raise
    cls = getattr(module, parsed.cls.name)
    return cls, parsed.interface, parsed.out_style


def _load_resources(bundle: str, spec: dict, interface: dict) -> dict:
    """Reference name → the class the bundle's generated module defines for it.

    ``spec.resources[name] = {"file", "class"}`` (docs/job-protocol.md): the plan wrote
    the referenced resource's generated code (an architecture's nn.Module) as a file.
    """
    resources = spec.get("resources") or {}
    if not isinstance(resources, dict):
        raise _BundleError("spec.resources must be a JSON object")
    out = {}
    for ref in interface.get("references", []):
        name, kind = ref["name"], ref["type"]
        entry = resources.get(name)
        if not isinstance(entry, dict) or not entry.get("file") or not entry.get("class"):
            raise _BundleError(f"the operation's reference {name!r} ({kind}) has no resource in "
                               f"the bundle: point {name!r} at an {kind} of the project")
        path = os.path.join(bundle, entry["file"])
        if not os.path.isfile(path):
            raise _BundleError(f"reference {name!r}: the bundle lacks its code file "
                               f"{entry['file']}")
        mod_name = os.path.splitext(os.path.basename(entry["file"]))[0]
        module_spec = importlib.util.spec_from_file_location(mod_name, path)
        module = importlib.util.module_from_spec(module_spec)
        sys.modules[mod_name] = module  # pickling the class by reference works in the job
        module_spec.loader.exec_module(module)
        cls = getattr(module, entry["class"], None)
        if cls is None:
            raise _BundleError(f"reference {name!r}: {entry['file']} defines no class "
                               f"{entry['class']!r}")
        out[name] = cls
    return out


def _map_outputs(value, names: list, style: str) -> dict:
    """Name the returned value's parts the way the code's return statements do."""
    if not names:
        if value is not None:
            raise TypeError("execute returned a value but its code names no outputs "
                            f"(got {type(value).__name__})")
        return {}
    if style == "dict":
        if not isinstance(value, dict):
            raise TypeError(f"execute must return a dict, got {type(value).__name__}")
        missing = [n for n in names if n not in value]
        if missing:
            raise KeyError(f"execute returned a dict without outputs {missing}")
        return {n: value[n] for n in names}
    if len(names) == 1:
        return {names[0]: value}
    if not isinstance(value, (tuple, list)) or len(value) != len(names):
        raise TypeError(f"execute must return {len(names)} values ({', '.join(names)}), "
                        f"got {type(value).__name__}")
    return dict(zip(names, value))


def _format_error(exc: BaseException, op_file: str) -> dict:
    tb = traceback.TracebackException.from_exception(exc)
    # Drop the runner's own frames in front of the operation's: the user wants
    # to see their code first.
    frames = list(tb.stack)
    for i, fr in enumerate(frames):
        if os.path.abspath(fr.filename) == os.path.abspath(op_file):
            tb.stack = traceback.StackSummary.from_list(frames[i:])
            break
    location = None
    for fr in reversed(frames):
        if os.path.abspath(fr.filename) == os.path.abspath(op_file):
            location = {"file": os.path.basename(op_file), "line": fr.lineno}
            break
    return {"type": type(exc).__name__, "message": str(exc),
            "traceback": "".join(tb.format()), "location": location}


def run_bundle(bundle: str, *, started_at: float | None = None) -> int:
    """Run the job in ``bundle``; returns the exit code (see module doc)."""
    t_start = started_at if started_at is not None else time.time()
    bundle = os.path.abspath(bundle)
    result = {"job_id": None, "status": "failed", "exit_code": EXIT_BUNDLE, "outputs": {},
              "error": None, "timings": {}}
    result_path = os.path.join(bundle, "result.json")
    channel = None
    capture = None
    pusher = None
    marks = {"start": t_start}

    def on_sigterm(signum, frame):
        raise JobCancelled("cancelled (SIGTERM)")

    old_term = signal.signal(signal.SIGTERM, on_sigterm)
    try:
        spec = _read_spec(bundle)
        job_id = spec.get("job_id")
        result["job_id"] = job_id
        if spec.get("result"):
            result_path = os.path.join(bundle, spec["result"])
        try:
            channel = _open_channel(bundle, spec, job_id)
        except (OSError, ValueError) as e:
            raise _BundleError(f"cannot open the event channel: {e}") from None
        pusher = _start_pusher(_channel_path(bundle, spec))
        runtime.configure(channel)
        channel.emit("state", state="starting", pid=os.getpid())
        os.environ["KILN_JOB_ID"] = str(job_id)
        for k, v in (spec.get("env") or {}).items():
            os.environ[str(k)] = str(v)
        _apply_thread_count()
        _select_mpl_backend(spec.get("mpl_backend") or DEFAULT_MPL_BACKEND)
        capture = runtime.OutputCapture(channel, echo=os.environ.get("KILN_ECHO") == "1")
        capture.start()

        workdir = os.path.join(bundle, spec.get("workdir", "."))
        os.chdir(workdir)
        if bundle not in sys.path:
            sys.path.insert(0, bundle)
        op_file = os.path.join(bundle, spec.get("operation_file", "operation.py"))
        outputs_dir = os.path.join(bundle, spec.get("outputs_dir", "outputs"))
        try:
            result["exit_code"] = EXIT_FAILED  # from here on, failures are the operation's
            # The project's Python packages (docs/python-packages.md): built
            # once per requirements list, its output streamed as log lines.
            if spec.get("requirements"):
                venv.activate(venv.ensure(spec["requirements"],
                                          spec.get("venvs_dir") or venv.default_root()))
            cls, interface, style = _load_operation(bundle, spec)
            names = [o["name"] for o in interface["outputs"]]
            expected = spec.get("outputs")
            if expected is not None and list(expected) != names:
                raise _BundleError(f"the plan expects outputs {list(expected)} but the code "
                                   f"returns {names}")
            resources = _load_resources(bundle, spec, interface)
            op = cls(**spec.get("attributes", {}), **resources)
            inputs = {}
            for name, ref in spec.get("inputs", {}).items():
                inputs[name] = serializers.load(os.path.join(bundle, ref["path"]),
                                                ref["serializer"])
            marks["loaded"] = time.time()
            channel.emit("state", state="running")
            value = op.execute(**inputs)
            if inspect.isawaitable(value):
                value = asyncio.run(_await(value))
            marks["executed"] = time.time()
            for name, v in _map_outputs(value, names, style).items():
                path = os.path.join(outputs_dir, name)
                ser = serializers.save(v, path)
                result["outputs"][name] = {"path": path, "serializer": ser,
                                           "sha256": _sha256(path),
                                           "size": os.path.getsize(path)}
            marks["saved"] = time.time()
            result["status"] = "succeeded"
            result["exit_code"] = EXIT_OK
        except _BundleError:
            result["exit_code"] = EXIT_BUNDLE
            raise
        except JobCancelled as e:
            result.update(status="cancelled", exit_code=EXIT_CANCELLED,
                          error=_format_error(e, op_file))
        except BaseException as e:  # noqa: B036 - SystemExit/KeyboardInterrupt in ops too
            result.update(status="failed", exit_code=EXIT_FAILED, error=_format_error(e, op_file))
            if isinstance(e, ModuleNotFoundError):
                # Say how to get the package, in the reason and after the traceback.
                hint = venv.missing_module_hint(e.name)
                result["error"]["message"] = f"{e}: {hint}"
                result["error"]["traceback"] += f"kiln: {hint}\n"
            # Also as a log line: the user reads the traceback where the output is.
            sys.stderr.write(result["error"]["traceback"])
    except _BundleError as e:
        result.update(status="failed", exit_code=EXIT_BUNDLE,
                      error={"type": "BundleError", "message": str(e), "traceback": None,
                             "location": None})
        if channel is not None:
            sys.stderr.write(f"kiln: {e}\n")
    except JobCancelled as e:
        result.update(status="cancelled", exit_code=EXIT_CANCELLED,
                      error={"type": "JobCancelled", "message": str(e), "traceback": None,
                             "location": None})
    except Exception:  # a bug in the runner itself: still report it
        result.update(status="failed", exit_code=EXIT_BUNDLE,
                      error={"type": "InternalError", "message": "kiln.job failed",
                             "traceback": traceback.format_exc(), "location": None})
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # finish the bookkeeping
        try:
            if "matplotlib.pyplot" in sys.modules and channel is not None:
                from . import mpl_backend
                mpl_backend.flush_open_figures()
        except Exception:
            sys.stderr.write("kiln: could not emit the open figures:\n" + traceback.format_exc())
        if channel is not None:
            channel.flush_progress()
        if capture is not None:
            capture.stop()
        t_end = time.time()
        timings = {"start": t_start, "end": t_end, "total_s": t_end - t_start}
        if "loaded" in marks:
            timings["setup_s"] = marks["loaded"] - t_start
        if "executed" in marks:
            timings["execute_s"] = marks["executed"] - marks["loaded"]
        if "saved" in marks:
            timings["save_s"] = marks["saved"] - marks["executed"]
        result["timings"] = timings
        try:
            _write_json_atomic(result_path, result)
        except OSError as e:
            sys.stderr.write(f"kiln: cannot write {result_path}: {e}\n")
            if result["exit_code"] == EXIT_OK:
                result["exit_code"] = EXIT_BUNDLE
        if channel is not None:
            final = {"state": result["status"], "exit_code": result["exit_code"]}
            if result["error"]:
                final["error"] = {k: result["error"].get(k) for k in ("type", "message",
                                                                        "location")}
            channel.emit("state", **final)
            runtime.configure(None)
            channel.close()
        if pusher is not None:
            # After the final state is in the file: the server gets it live too.
            pusher.finish(timeout=PUSH_FLUSH_S)
        signal.signal(signal.SIGTERM, old_term)
    return result["exit_code"]


async def _await(awaitable):
    return await awaitable


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        sys.stderr.write("usage: python3 -m kiln.job <bundle-dir>\n")
        return EXIT_BUNDLE
    code = run_bundle(argv[0])
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):
        pass
    return code


if __name__ == "__main__":
    # os._exit skips interpreter teardown: non-daemon threads an operation left
    # running (data loaders) must not keep a finished job alive.
    os._exit(main())
