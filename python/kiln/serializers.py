"""Saving and loading operation outputs, each with a named serializer.

What: ``save(value, path) -> name`` picks a serializer for a value, writes the
value to exactly ``path`` (no extension added) and returns the serializer's
name, which the job records next to the output; ``load(path, name)`` reads it
back.  Built-in serializers, tried in this order:

========  ===================================================  ==========================
name      values                                               format
========  ===================================================  ==========================
torch     ``torch.Tensor``, ``torch.nn.Module``, a state dict  ``torch.save`` (zip pickle)
          (a non-empty dict/OrderedDict whose values are all
          tensors), lists/tuples of tensors
numpy     ``numpy.ndarray`` (exact type) without object dtype  ``.npy`` (``allow_pickle``
                                                               off)
json      exactly ``None``/``bool``/``int``/finite ``float``/  UTF-8 JSON; readable by the
          ``str``, and lists / str-keyed dicts of those         C++ server without Python
raw       ``bytes`` (exact type): a file as it is               the bytes themselves; an
                                                               uploaded file (a CSV…) is
                                                               ``raw`` and loads as bytes
pickle    anything else                                        pickle protocol 4
========  ===================================================  ==========================

``torch`` and ``numpy`` are imported lazily: a value can only be a tensor if
torch is already imported, so checking ``sys.modules`` first keeps jobs that
never touch torch free of its ~1.5 s import.  Loading a ``torch`` output maps
CUDA storages to the CPU when no GPU is present.

Caveat (documented in docs/job-protocol.md): ``torch`` modules and ``pickle``
values refer to their classes by module name; a class defined in an operation
file can only be loaded where that module is importable.  Prefer returning a
state dict or a module whose class lives in an importable library.

Libraries can add serializers with ``register``; they are tried before the
built-ins.  Writes go to a temporary file renamed into place, so a crash never
leaves a half-written output under the final name.

Thread-safety: ``save``/``load`` are safe from any thread; ``register`` is meant
for import time.
"""
from __future__ import annotations

import json
import math
import os
import pickle
import sys
from typing import Any, Callable, NamedTuple

__all__ = ["save", "load", "serializer_for", "register", "names"]


class _Serializer(NamedTuple):
    name: str
    accepts: Callable[[Any], bool]
    save: Callable[[Any, Any], None]  # (value, binary file object)
    load: Callable[[Any], Any]  # (binary file object) -> value


# --- torch -------------------------------------------------------------------


def _torch_accepts(value) -> bool:
    torch = sys.modules.get("torch")
    if torch is None:
        return False
    if isinstance(value, (torch.Tensor, torch.nn.Module)):
        return True
    if isinstance(value, dict) and value:
        return all(isinstance(v, torch.Tensor) for v in value.values())
    if isinstance(value, (list, tuple)) and value:
        return all(isinstance(v, torch.Tensor) for v in value)
    return False


def _torch_save(value, f) -> None:
    import torch
    torch.save(value, f)


def _torch_load(f):
    import torch
    location = None if torch.cuda.is_available() else "cpu"
    return torch.load(f, map_location=location)


# --- numpy -------------------------------------------------------------------


def _numpy_accepts(value) -> bool:
    np = sys.modules.get("numpy")
    # Subclasses (masked arrays, matrices) would lose what makes them special in .npy.
    return np is not None and type(value) is np.ndarray and not value.dtype.hasobject


def _numpy_save(value, f) -> None:
    import numpy as np
    np.save(f, value, allow_pickle=False)


def _numpy_load(f):
    import numpy as np
    return np.load(f, allow_pickle=False)


# --- json --------------------------------------------------------------------


def _json_accepts(value, depth: int = 0) -> bool:
    # Exact types only: numpy floats subclass float but should come back as such,
    # tuples would come back as lists.
    t = type(value)
    if value is None or t in (bool, int, str):
        return True
    if t is float:
        return math.isfinite(value)
    if depth > 100:
        return False
    if t is list:
        return all(_json_accepts(v, depth + 1) for v in value)
    if t is dict:
        return all(type(k) is str and _json_accepts(v, depth + 1) for k, v in value.items())
    return False


def _json_save(value, f) -> None:
    f.write(json.dumps(value, ensure_ascii=False, allow_nan=False).encode("utf-8"))


def _json_load(f):
    return json.loads(f.read().decode("utf-8"))


# --- raw: a file's bytes as they are (uploads) ---------------------------------


def _raw_save(value, f) -> None:
    f.write(value)


def _raw_load(f):
    return f.read()


# --- pickle ------------------------------------------------------------------


def _pickle_save(value, f) -> None:
    pickle.dump(value, f, protocol=4)


def _pickle_load(f):
    return pickle.load(f)


_BUILTIN = [
    _Serializer("torch", _torch_accepts, _torch_save, _torch_load),
    _Serializer("numpy", _numpy_accepts, _numpy_save, _numpy_load),
    _Serializer("json", _json_accepts, _json_save, _json_load),
    _Serializer("raw", lambda v: type(v) is bytes, _raw_save, _raw_load),
    _Serializer("pickle", lambda v: True, _pickle_save, _pickle_load),
]
_registered: list = []


def register(name: str, accepts: Callable[[Any], bool], save_fn: Callable[[Any, Any], None],
             load_fn: Callable[[Any], Any]) -> None:
    """Add a serializer (tried before the built-ins); save_fn/load_fn get binary files."""
    if any(s.name == name for s in _BUILTIN + _registered):
        raise ValueError(f"serializer {name!r} already exists")
    _registered.insert(0, _Serializer(name, accepts, save_fn, load_fn))


def names() -> list:
    return [s.name for s in _registered + _BUILTIN]


def _by_name(name: str) -> _Serializer:
    for s in _registered + _BUILTIN:
        if s.name == name:
            return s
    raise ValueError(f"unknown serializer {name!r} (known: {', '.join(names())})")


def serializer_for(value: Any) -> str:
    for s in _registered + _BUILTIN:
        if s.accepts(value):
            return s.name
    return "pickle"  # unreachable: pickle accepts everything


def save(value: Any, path: str, serializer: str = None) -> str:
    """Write ``value`` to ``path``; returns the serializer name to pass to ``load``."""
    s = _by_name(serializer) if serializer else _by_name(serializer_for(value))
    parent = os.path.dirname(os.path.abspath(path))
    os.makedirs(parent, exist_ok=True)
    tmp = f"{path}.tmp-{os.getpid()}"
    try:
        with open(tmp, "wb") as f:
            s.save(value, f)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return s.name


def load(path: str, serializer: str) -> Any:
    """Read a value written by ``save`` with serializer ``serializer``."""
    s = _by_name(serializer)
    with open(path, "rb") as f:
        return s.load(f)
