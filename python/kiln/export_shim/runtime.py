"""Metrics and progress of an exported pipeline: printed, not streamed.

What: the console twin of Kiln's ``kiln.runtime`` (same signatures).
``log_metric`` prints ``  metric <name> = <value> (step <n>)`` and appends a
JSON line to the metrics file ``main.py`` opened (``<out>/metrics.jsonl``);
``progress`` prints ``  <done>/<total> (<percent>%)``.  Both are throttled per
name (one line a second) so a loop logging every batch does not flood the
console; the last suppressed value of each is printed when the step ends
(``flush``).  The metrics file gets every call.

Who owns what: ``kiln.standalone.Run`` calls ``begin_step``/``flush`` around
each operation and owns the metrics file; operations only call
``log_metric``/``progress``.

Thread-safety: ``log_metric`` and ``progress`` may be called from any thread
(one lock); ``begin_step``/``flush`` are for the main thread.
"""
from __future__ import annotations

import json
import math
import threading
import time
from typing import Any, Optional

__all__ = ["Operation", "Architecture", "log_metric", "progress", "begin_step", "flush"]

PRINT_INTERVAL_S = 1.0

_lock = threading.Lock()
_step = ""                 # the operation now running (for the metrics file)
_metrics_file = None       # an open text file, or None
_steps: dict = {}          # metric name -> next default step
_last_print: dict = {}     # metric name (or "progress") -> time of its last printed line
_pending: dict = {}        # name -> the line not printed yet because of the throttle


def _number(name: str, value: Any):
    try:
        raw = value.item() if callable(getattr(value, "item", None)) else value
        if isinstance(raw, str):
            raise TypeError
        v = int(raw) if isinstance(raw, int) and not isinstance(raw, bool) else float(raw)
    except (TypeError, ValueError, RuntimeError):
        raise TypeError(f"metric {name!r}: {type(value).__name__} is not a number") from None
    if isinstance(v, float) and not math.isfinite(v):
        return "nan" if v != v else ("inf" if v > 0 else "-inf")
    return v


def _say(key: str, line: str, force: bool = False) -> None:
    """Print ``line`` unless ``key`` printed less than a second ago (then keep it for flush)."""
    now = time.monotonic()
    with _lock:
        if not force and now - _last_print.get(key, -PRINT_INTERVAL_S) < PRINT_INTERVAL_S:
            _pending[key] = line
            return
        _last_print[key] = now
        _pending.pop(key, None)
    print(line, flush=True)


def log_metric(name: str, value: Any, step: Optional[int] = None) -> None:
    """Print a scalar metric; ``step`` defaults to one more than the last one of ``name``."""
    if not isinstance(name, str) or not name:
        raise ValueError("metric name must be a non-empty string")
    v = _number(name, value)
    with _lock:
        if step is None:
            step = _steps.get(name, 0)
        step = int(step)
        _steps[name] = step + 1
        if _metrics_file is not None:
            _metrics_file.write(json.dumps({"operation": _step, "name": name, "value": v,
                                            "step": step, "time": time.time()}) + "\n")
    shown = f"{v:.6g}" if isinstance(v, float) else str(v)
    _say("metric:" + name, f"  metric {name} = {shown} (step {step})")


def progress(done: float, total: Optional[float] = None) -> None:
    """Print progress: ``done`` out of ``total`` (None when unknown)."""
    if total:
        line = f"  {done}/{total} ({100.0 * float(done) / float(total):.0f}%)"
    else:
        line = f"  {done} done"
    finished = total is not None and done >= total
    _say("progress", line, force=finished)


def begin_step(name: str, metrics_file=None) -> None:
    """A new operation starts: metric steps count from 0 again, as in a new Kiln job."""
    global _step, _metrics_file
    with _lock:
        _step = name
        _metrics_file = metrics_file
        _steps.clear()
        _last_print.clear()
        _pending.clear()


def flush() -> None:
    """Print the last value of each metric (and the progress) the throttle held back."""
    with _lock:
        lines = list(_pending.values())
        _pending.clear()
        if _metrics_file is not None:
            _metrics_file.flush()
    for line in lines:
        print(line, flush=True)


class Operation:
    """Optional base class of operations (as in Kiln)."""

    def execute(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} must define execute(self, ...)")


class Architecture:
    """Annotation marking a constructor argument as an architecture reference.

    ``main.py`` passes the architecture's generated ``nn.Module`` class in its place.
    """

    def __init__(self):
        raise TypeError("kiln.Architecture only annotates a reference; main.py passes the "
                        "architecture's nn.Module class in its place")
