"""The helpers an exported pipeline's ``main.py`` runs its steps with.

What: ``main.py`` spells out the pipeline (which operation gets which value);
this module holds what every step needs and would only repeat there:

* ``Run``: counts and prints the steps (``[2/5] Train``), names an operation's
  returned value the way Kiln does (``collect``), saves the matplotlib figures
  an operation left open as PNG into ``<out>/figures/<operation>-<n>.png``,
  and saves what Output steps receive under ``<out>`` (``save_output``), with
  a manifest ``<out>/outputs.json`` (output name -> its path relative to
  ``<out>``, serializer, SHA-256, size).
* ``load_input``: an Input's artifact from ``inputs/``, its SHA-256 checked;
  with a URL (export in ``fetch`` mode) downloaded first (``KILN_TOKEN``
  authenticates) and kept in ``inputs/`` for the next run.
* ``parse_bool``, ``parse_json``: argparse types of attribute options.
* ``main``: runs ``main.py``'s ``run(args, steps)`` and turns failures into exit codes:
  0 done, 1 an operation (or saving an output) failed, 2 an input is missing,
  wrong or cannot be downloaded.

Who owns what: ``Run`` owns ``--out`` (outputs, figures, metrics.jsonl) for the
run; ``load_input`` owns the files of ``inputs/``.  Single-threaded (the main
thread of ``main.py``).
"""
from __future__ import annotations

import asyncio
import hashlib
import inspect
import json
import os
import sys
import time
import traceback
import urllib.error
import urllib.request

from . import runtime, serializers

__all__ = ["Run", "InputError", "load_input", "parse_bool", "parse_json", "main"]

TOKEN_ENV = "KILN_TOKEN"


class InputError(Exception):
    """An input artifact that is missing, differs from its digest or cannot be downloaded."""


def parse_bool(text: str) -> bool:
    value = text.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"not a boolean: {text!r} (use true or false)")


def parse_json(text: str):
    return json.loads(text)


parse_bool.__name__ = "boolean"  # argparse names the type in its error messages
parse_json.__name__ = "JSON"


def sha256_of(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _download(name: str, url: str, path: str, digest: str) -> None:
    request = urllib.request.Request(url)
    token = os.environ.get(TOKEN_ENV)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    print(f"  downloading input {name!r} from {url}", flush=True)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = f"{path}.part-{os.getpid()}"
    h = hashlib.sha256()
    try:
        with urllib.request.urlopen(request, timeout=60) as answer, open(tmp, "wb") as f:
            for chunk in iter(lambda: answer.read(1 << 20), b""):
                h.update(chunk)
                f.write(chunk)
        if h.hexdigest() != digest:
            raise InputError(f"input {name!r}: the download from {url} has SHA-256 "
                             f"{h.hexdigest()}, not the artifact's {digest}")
        os.replace(tmp, path)
    except urllib.error.HTTPError as e:
        hint = f" (set {TOKEN_ENV} to a Kiln API token)" if e.code in (401, 403) else ""
        raise InputError(f"input {name!r}: cannot download {url}: HTTP {e.code} "
                         f"{e.reason}{hint}") from None
    except (urllib.error.URLError, OSError) as e:
        raise InputError(f"input {name!r}: cannot download {url}: "
                         f"{getattr(e, 'reason', e)}") from None
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def load_input(name: str, path: str, digest: str, serializer: str, url: str = None):
    """The value of an Input step: the artifact at ``path``, checked against ``digest``.

    With ``url`` a missing or different file is downloaded (again) first.
    """
    if url is not None and (not os.path.isfile(path) or sha256_of(path) != digest):
        _download(name, url, path, digest)
    if not os.path.isfile(path):
        raise InputError(f"input {name!r}: its artifact file {path} is missing")
    actual = sha256_of(path)
    if actual != digest:
        raise InputError(f"input {name!r}: {path} has SHA-256 {actual}, not the artifact's "
                         f"{digest} (the file was changed or replaced)")
    return serializers.load(path, serializer)


async def _await(awaitable):
    return await awaitable


class Run:
    """One run of the pipeline: step counter, ``--out`` folder, figures and outputs."""

    MANIFEST = "outputs.json"

    def __init__(self, total: int, out: str):
        self.total = total
        self.out = out
        self.number = 0
        self.current = None
        self.outputs = {}
        self._started = None
        self._operation = None
        self._figure_counts = {}  # operation -> figures saved so far (numbers them)
        os.makedirs(out, exist_ok=True)
        self._metrics = open(os.path.join(out, "metrics.jsonl"), "w", encoding="utf-8")

    def step(self, title: str, operation: str = None) -> None:
        """Start the next step; ``operation`` (its name) when it runs an operation's code."""
        self._end_step()
        self.number += 1
        self.current = title
        self._operation = operation
        self._started = time.monotonic()
        runtime.begin_step(operation or title, self._metrics)
        print(f"[{self.number}/{self.total}] {title}", flush=True)

    def _end_step(self) -> None:
        if self._started is None:
            return
        runtime.flush()
        self._save_figures()
        if self._operation is not None:
            print(f"  {self._operation} took {time.monotonic() - self._started:.1f} s",
                  flush=True)
        self._started = None

    def collect(self, value, outputs: list, style: str):
        """What ``execute`` returned, named as Kiln names it: None, one value or a tuple.

        ``style`` is how the code's ``return`` statements name the outputs: ``names``
        (``return a, b``), ``dict`` (``return {"a": ..}``) or ``none``.
        """
        if inspect.isawaitable(value):  # an ``async def execute``
            value = asyncio.run(_await(value))
        self._save_figures()
        if not outputs:
            if value is not None:
                raise TypeError("execute returned a value but its code names no outputs "
                                f"(got {type(value).__name__})")
            return None
        if style == "dict":
            if not isinstance(value, dict):
                raise TypeError(f"execute must return a dict, got {type(value).__name__}")
            missing = [n for n in outputs if n not in value]
            if missing:
                raise KeyError(f"execute returned a dict without outputs {missing}")
            values = [value[n] for n in outputs]
        elif len(outputs) == 1:
            values = [value]
        else:
            if not isinstance(value, (tuple, list)) or len(value) != len(outputs):
                raise TypeError(f"execute must return {len(outputs)} values "
                                f"({', '.join(outputs)}), got {type(value).__name__}")
            values = list(value)
        return values[0] if len(values) == 1 else tuple(values)

    def save_output(self, name: str, value) -> str:
        """Save what an Output step receives as ``<out>/<name>`` (Kiln's serializers)."""
        path = os.path.join(self.out, *name.split("/"))
        serializer = serializers.save(value, path)
        self.outputs[name] = {"path": name, "serializer": serializer,
                              "sha256": sha256_of(path), "size": os.path.getsize(path)}
        print(f"  saved {path} ({serializer}, {os.path.getsize(path)} bytes)", flush=True)
        return path

    def _save_figures(self) -> None:
        # Only when the operations use pyplot: importing matplotlib here would cost
        # every pipeline that never draws.
        plt = sys.modules.get("matplotlib.pyplot")
        if plt is None or not plt.get_fignums():
            return
        folder = os.path.join(self.out, "figures")
        os.makedirs(folder, exist_ok=True)
        stem = _file_name(self._operation or self.current or "figure")
        for number in plt.get_fignums():
            n = self._figure_counts.get(stem, 0) + 1
            self._figure_counts[stem] = n
            path = os.path.join(folder, f"{stem}-{n}.png")
            plt.figure(number).savefig(path)
            print(f"  figure {path}", flush=True)
        plt.close("all")

    def finish(self) -> None:
        self._end_step()
        with open(os.path.join(self.out, self.MANIFEST), "w", encoding="utf-8") as f:
            json.dump(self.outputs, f, indent=1)
            f.write("\n")
        self._metrics.close()
        print(f"done: {len(self.outputs)} output(s) in {self.out}", flush=True)


def _file_name(text: str) -> str:
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in text).strip("._")
    return safe or "figure"


def main(run, args, total: int) -> int:
    """Call ``run(args, steps)`` with a new ``Run``; print what failed, answer the exit code."""
    try:
        steps = Run(total, args.out)
    except OSError as e:
        print(f"error: cannot write to --out {args.out}: {e}", file=sys.stderr, flush=True)
        return 1
    try:
        run(args, steps)
        steps.finish()
    except InputError as e:
        print(f"error: {e}", file=sys.stderr, flush=True)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr, flush=True)
        return 130
    except Exception:
        traceback.print_exc()
        print(f"error: step [{steps.number}/{steps.total}] {steps.current} failed",
              file=sys.stderr, flush=True)
        return 1
    return 0
