"""Artifact previews: one JSON object describing a stored file, for the editor.

What: ``python3 -m kiln.preview FILE [--serializer S]`` prints one JSON object
on stdout that the editor shows in place of a download (the server's route
``GET /api/v1/projects/{p}/artifacts/{digest}/preview`` runs it on the stored
file and answers its JSON).  Without ``--serializer`` (or with ``raw``, an
upload) the format is sniffed from the bytes.  Kinds:

* ``{"kind": "json", "value", "truncated"?}``: a JSON value (long lists,
  objects and strings cut, ``truncated: true``).
* ``{"kind": "array", "dtype", "shape", "stats": {min, max, mean, std, nan,
  sampled?}, "image"?, "images"?, "plot"?}``: a NumPy array (or a single torch
  tensor).  1-D: ``plot = {"line": {x, y, min?, max?}, "hist": {edges,
  counts}}``; 2-D: ``image`` (a PNG data URL, ≤ 256 px a side); 3-D C×H×W or
  H×W×C cubes and N×C×H×W stacks: ``images``, one per band of the first item,
  each ``{"label", "image"}``, with ``layout``.
* ``{"kind": "state_dict", "tensors": [{name, shape, dtype, params}],
  "total_params", "count", "module"?, "values"?}``: a torch state dict, module
  (its class name in ``module``), checkpoint dict (its plain numbers and
  strings, such as the epoch, in ``values``) or list of tensors.
* ``{"kind": "fits", "hdus": [{name, type, header, shape?, image?, images?,
  columns?, rows?}]}``: a FITS file (astropy), header = first 60 cards.
* ``{"kind": "table", "columns", "rows", "count"}``: CSV text, a structured
  NumPy array or a list of flat dicts; the first 20 rows.
* ``{"kind": "text", "text", "size", "truncated"}``: the first 4 KiB of text.
* ``{"kind": "binary", "size", "magic", "format"?, "note"?}``: anything else.
* A dict of FITS files ({name: FITS bytes}, pickled) previews as ``fits``: its
  catalogue (or first file), with ``files`` (how many) and a ``note``.

Bounds: arrays are memory-mapped and their statistics computed on a strided
sample of at most ``SAMPLE_ELEMENTS`` values; nothing else reads more than
``MAX_READ`` bytes.  Torch files are read *without torch* (and without running
any code): the zip's pickle is walked with stand-in classes and tensor data
is read from the zip with NumPy.  Pickles are loaded with an allow-list
(builtins, collections, NumPy); any other class makes a ``binary`` preview that
names it, since unpickling it would run the class's code.  The caller bounds
time (the server kills a preview that runs too long).

Exit status: 0 with the JSON; 2 with one line on stderr when the file cannot
be previewed as the given serializer (unreadable, corrupt), 1 with one line
when the preview itself failed: the server answers that message with 422.

Thread-safety: ``preview`` keeps no state; safe from any thread.
"""
from __future__ import annotations

import argparse
import base64
import collections
import csv
import io
import json
import math
import os
import pickle
import struct
import sys
import zipfile
import zlib
from typing import Any

__all__ = ["preview", "PreviewError", "main"]

MAX_READ = 256 * 1024 * 1024   # bytes any preview reads at most
MAX_PARSE = 64 * 1024 * 1024   # JSON / pickle / CSV files parsed whole up to this size
SAMPLE_ELEMENTS = 4_000_000    # array statistics over at most this many values
IMAGE_PX = 256                 # images at most this many pixels a side
MAX_BANDS = 16                 # images of a cube's first bands
TEXT_BYTES = 4096
TABLE_ROWS = 20
HEADER_CARDS = 60
MAX_TENSORS = 500              # tensors listed (all are counted)
JSON_ITEMS = 200               # list items / object keys kept per level
JSON_STRING = 2000             # characters kept per string
LINE_POINTS = 1000             # a 1-D plot's points at most
HIST_BINS = 32


class PreviewError(Exception):
    """The file cannot be previewed as asked (the message says why)."""


# --- entry points ------------------------------------------------------------


def preview(path: str, serializer: str | None = None) -> dict:
    """The preview object of the file at ``path`` (see the module docstring)."""
    try:
        size = os.path.getsize(path)
    except OSError as e:
        raise PreviewError(f"cannot read {path}: {e.strerror}") from None
    if serializer in (None, "", "raw"):
        return _sniffed(path, size)
    if serializer == "numpy":
        return _numpy_file(path)
    if serializer == "torch":
        return _torch_file(path, size)
    if serializer == "json":
        return _json_file(path, size)
    if serializer == "pickle":
        return _pickle_file(path, size)
    return _sniffed(path, size)  # a library's own serializer: the bytes may still say what they are


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python3 -m kiln.preview",
                                 description="Print a JSON preview of an artifact file.")
    ap.add_argument("file")
    ap.add_argument("--serializer", default=None,
                    help="how Kiln saved it: numpy, torch, json, pickle, raw (default: sniff)")
    args = ap.parse_args(argv)
    try:
        result = preview(args.file, args.serializer)
    except PreviewError as e:
        print(str(e), file=sys.stderr)
        return 2
    except (Exception, MemoryError) as e:  # noqa: BLE001 - the server shows this line; no traceback
        print(f"preview failed: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    sys.stdout.write(json.dumps(_clean(result), allow_nan=False, separators=(",", ":")))
    sys.stdout.write("\n")
    return 0


# --- sniffing ----------------------------------------------------------------

_MAGICS = [
    (b"\x89PNG\r\n\x1a\n", "png"), (b"\xff\xd8\xff", "jpeg"), (b"GIF8", "gif"),
    (b"%PDF", "pdf"), (b"\x1f\x8b", "gzip"), (b"\x89HDF\r\n\x1a\n", "hdf5"),
    (b"PK\x03\x04", "zip"), (b"BZh", "bzip2"), (b"\xfd7zXZ\x00", "xz"),
    (b"\x28\xb5\x2f\xfd", "zstd"), (b"PAR1", "parquet"), (b"\x7fELF", "elf"),
]
_TORCH_LEGACY_MAGIC = b"\x8a\x0al\xfc\x9cF\xf9 j\xa8P\x19"


def _head(path: str, n: int = 65536) -> bytes:
    with open(path, "rb") as f:
        return f.read(n)


def _sniffed(path: str, size: int) -> dict:
    head = _head(path)
    try:
        if head.startswith(b"\x93NUMPY"):
            return _numpy_file(path)
        if head.startswith(b"SIMPLE  ="):
            return _fits_file(path)
        if head.startswith(b"PK\x03\x04") and _is_torch_zip(path):
            return _torch_file(path, size)
        if head[:1] == b"\x80" and head[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05"):
            if _TORCH_LEGACY_MAGIC in head[:64]:
                return _torch_file(path, size)
            return _pickle_file(path, size)
    except PreviewError:
        pass  # looked like it but is not: say what the bytes are
    text = _as_text(head, complete=size <= len(head))
    if text is not None:
        if size <= MAX_PARSE:
            stripped = text.lstrip()
            if stripped[:1] in ("{", "[", '"') or stripped in ("true", "false", "null") or \
                    _looks_numeric(stripped):
                try:
                    return _json_file(path, size)
                except PreviewError:
                    pass
        table = _csv_table(path, size, text)
        if table is not None:
            return table
        return _text(head, size)
    return _binary(head, size)


def _looks_numeric(s: str) -> bool:
    try:
        float(s)
        return True
    except ValueError:
        return False


def _as_text(head: bytes, complete: bool) -> str | None:
    if b"\x00" in head:
        return None
    try:
        return head.decode("utf-8")
    except UnicodeDecodeError as e:
        # A character cut by the 64 KiB window is still text.
        if not complete and e.start >= len(head) - 3:
            return head[:e.start].decode("utf-8")
        return None


def _text(head: bytes, size: int) -> dict:
    chunk = head[:TEXT_BYTES]
    return {"kind": "text", "text": chunk.decode("utf-8", errors="ignore"), "size": size,
            "truncated": size > len(chunk)}


def _binary(head: bytes, size: int, note: str | None = None) -> dict:
    out = {"kind": "binary", "size": size, "magic": head[:16].hex()}
    fmt = next((name for magic, name in _MAGICS if head.startswith(magic)), None)
    if fmt:
        out["format"] = fmt
    if note:
        out["note"] = note
    return out


# --- JSON --------------------------------------------------------------------


def _json_file(path: str, size: int) -> dict:
    if size > MAX_PARSE:
        out = _text(_head(path, TEXT_BYTES), size)
        out["note"] = f"JSON of {size} bytes: too large to parse for a preview"
        return out
    try:
        with open(path, "rb") as f:
            value = json.loads(f.read().decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise PreviewError(f"not JSON: {e}") from None
    return _json_kind(value)


def _json_kind(value) -> dict:
    cut = [False]
    v = _shorten(value, cut, 0)
    out = {"kind": "json", "value": v}
    if cut[0]:
        out["truncated"] = True
    return out


def _shorten(v, cut: list, depth: int):
    if isinstance(v, str):
        if len(v) > JSON_STRING:
            cut[0] = True
            return v[:JSON_STRING] + "…"
        return v
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, list):
        if depth > 30:
            cut[0] = True
            return "…"
        if len(v) > JSON_ITEMS:
            cut[0] = True
        return [_shorten(x, cut, depth + 1) for x in v[:JSON_ITEMS]]
    if isinstance(v, dict):
        if depth > 30:
            cut[0] = True
            return "…"
        if len(v) > JSON_ITEMS:
            cut[0] = True
        return {str(k): _shorten(x, cut, depth + 1) for k, x in list(v.items())[:JSON_ITEMS]}
    return v


# --- tables ------------------------------------------------------------------


def _cell(s: str):
    t = s.strip()
    if not t:
        return s
    try:
        return int(t)
    except ValueError:
        pass
    try:
        f = float(t)
        return f if math.isfinite(f) else t
    except ValueError:
        return s


def _csv_table(path: str, size: int, text: str) -> dict | None:
    lines = text.splitlines()
    if len(lines) < 2:
        return None
    sample = "\n".join(lines[:50])
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t|")
    except csv.Error:
        return None
    rows = list(csv.reader(io.StringIO(sample), dialect))
    rows = [r for r in rows if r]
    widths = {len(r) for r in rows[:-1] if r}  # the last sampled line may be cut
    if len(rows) < 2 or len(widths) != 1 or widths.pop() < 2:
        return None
    header = rows[0]
    body_sample = rows[1:-1] if len(rows) > 2 else rows[1:]
    numeric_column = any(all(not isinstance(_cell(r[i]), str) for r in body_sample)
                         for i in range(len(header)))
    has_header = all(isinstance(_cell(h), str) for h in header) and numeric_column or \
        _sniff_header(sample)
    if not numeric_column and not has_header:
        return None  # prose with a comma per line is not a table
    columns = header if has_header else [f"column {i + 1}" for i in range(len(header))]
    body = rows[1:] if has_header else rows
    count = _count_lines(path, size)
    if count is not None:
        count -= 1 if has_header else 0
    return {"kind": "table", "columns": columns,
            "rows": [[_cell(c) for c in r] for r in body[:TABLE_ROWS]], "count": count}


def _sniff_header(sample: str) -> bool:
    try:
        return csv.Sniffer().has_header(sample)
    except csv.Error:
        return False


def _count_lines(path: str, size: int) -> int | None:
    if size > MAX_READ:
        return None
    n = 0
    last = b"\n"
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            n += chunk.count(b"\n")
            last = chunk[-1:]
    return n + (0 if last == b"\n" else 1)


def _records_table(records: list) -> dict | None:
    """A list of flat dicts with the same keys as a table; None when it is not one."""
    if not records or not all(type(r) is dict for r in records):
        return None
    columns = list(records[0].keys())
    if not columns or any(list(r.keys()) != columns for r in records):
        return None
    if any(isinstance(v, (dict, list)) for r in records[:TABLE_ROWS] for v in r.values()):
        return None
    rows = [[_jsonable(r[c]) for c in columns] for r in records[:TABLE_ROWS]]
    return {"kind": "table", "columns": [str(c) for c in columns], "rows": rows,
            "count": len(records)}


def _structured_table(arr) -> dict:
    flat = arr.reshape(-1)
    names = list(arr.dtype.names)
    rows = [[_jsonable(rec[n]) for n in names] for rec in flat[:TABLE_ROWS]]
    return {"kind": "table", "columns": names, "rows": rows, "count": int(flat.shape[0]),
            "dtype": str(arr.dtype)}


# --- NumPy arrays --------------------------------------------------------------


def _numpy_file(path: str) -> dict:
    import numpy as np
    try:
        arr = np.load(path, mmap_mode="r", allow_pickle=False)
    except (ValueError, OSError, EOFError) as e:
        raise PreviewError(f"not a NumPy .npy file: {e}") from None
    return _array_kind(arr)


def _array_kind(arr, dtype_name: str | None = None) -> dict:
    import numpy as np
    if arr.dtype.names:
        return _structured_table(arr)
    out = {"kind": "array", "dtype": dtype_name or str(arr.dtype), "shape": list(arr.shape)}
    if arr.dtype.hasobject or arr.dtype.kind in "SUVMm":
        out["stats"] = None
        if arr.size <= TABLE_ROWS * 10:
            out["value"] = _jsonable(arr.tolist())
        return out
    num = arr
    if arr.dtype.kind == "c":
        num = np.abs(arr)
        out["complex"] = "statistics and images of the magnitude"
    elif arr.dtype.kind == "b":
        num = arr.astype(np.uint8)
    if arr.ndim == 0:
        out["value"] = _jsonable(arr[()])
        out["stats"] = _stats(num.reshape(1))
        return out
    out["stats"] = _stats(num)
    if arr.size == 0:
        return out
    if arr.ndim == 1:
        out["plot"] = _plot_1d(num)
    elif arr.ndim == 2:
        out["image"] = _image(num)
    elif arr.ndim in (3, 4):
        first = num if arr.ndim == 3 else num[0]
        layout, bands = _bands(first)
        out["layout"] = layout if arr.ndim == 3 else f"first of {arr.shape[0]}, {layout}"
        out["images"] = [{"label": label, "image": _image(b)} for label, b in bands]
    return out


def _sample(arr):
    """At most SAMPLE_ELEMENTS values of ``arr`` (a strided pick over its flat order)."""
    import numpy as np
    if arr.size <= SAMPLE_ELEMENTS:
        return np.asarray(arr).reshape(-1), False
    step = -(-arr.size // SAMPLE_ELEMENTS)
    if arr.ndim >= 1 and arr.shape[0] >= step:
        part = np.asarray(arr[::step]).reshape(-1)  # rows: reads only what it keeps
    else:
        part = np.asarray(arr).reshape(-1)[::step]
    return part[:SAMPLE_ELEMENTS], True


def _stats(arr) -> dict:
    import numpy as np
    values, sampled = _sample(arr)
    values = values.astype(np.float64, copy=False)
    finite = values[np.isfinite(values)]
    nan = int(np.isnan(values).sum())
    out = {"nan": nan}
    if finite.size:
        out.update(min=float(finite.min()), max=float(finite.max()),
                   mean=float(finite.mean()), std=float(finite.std()))
    else:
        out.update(min=None, max=None, mean=None, std=None)
    if finite.size < values.size - nan:
        out["inf"] = int(values.size - nan - finite.size)
    if sampled:
        out["sampled"] = int(values.size)
    return out


def _plot_1d(arr) -> dict:
    import numpy as np
    n = arr.shape[0]
    if n <= LINE_POINTS:
        y = np.asarray(arr, dtype=np.float64)
        line = {"x": list(range(n)), "y": _floats(y, 7)}
    else:
        # Buckets of equal width: mean, min and max each (the envelope keeps spikes visible).
        step = -(-n // LINE_POINTS)
        if n > SAMPLE_ELEMENTS:
            stride = -(-n // SAMPLE_ELEMENTS)
            src, step = np.asarray(arr[::stride], dtype=np.float64), max(1, step // stride)
        else:
            stride, src = 1, np.asarray(arr, dtype=np.float64)
        m = (src.shape[0] // step) * step
        blocks = src[:m].reshape(-1, step)
        with np.errstate(all="ignore"):
            import warnings
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                line = {"x": [int(i * step * stride) for i in range(blocks.shape[0])],
                        "y": _floats(np.nanmean(blocks, axis=1), 7),
                        "min": _floats(np.nanmin(blocks, axis=1), 7),
                        "max": _floats(np.nanmax(blocks, axis=1), 7),
                        "bucket": int(step * stride)}
    values, _ = _sample(arr)
    values = values.astype(np.float64, copy=False)
    finite = values[np.isfinite(values)]
    hist = None
    if finite.size:
        counts, edges = np.histogram(finite, bins=HIST_BINS)
        hist = {"edges": _floats(edges), "counts": [int(c) for c in counts]}
    return {"line": line, "hist": hist}


def _bands(cube) -> tuple:
    """(layout, [(label, 2-D band)]) of a 3-D array: channels first, last, or a stack."""
    c0, _, c2 = cube.shape
    if c0 <= MAX_BANDS and c0 <= min(cube.shape[1:]):
        layout, bands = "channels first", [(f"band {i}", cube[i]) for i in range(c0)]
    elif c2 <= MAX_BANDS and c2 <= min(cube.shape[:2]):
        layout, bands = "channels last", [(f"band {i}", cube[:, :, i]) for i in range(c2)]
    else:
        layout = f"first {min(c0, MAX_BANDS)} of {c0} slices"
        bands = [(f"slice {i}", cube[i]) for i in range(min(c0, MAX_BANDS))]
    return layout, bands


_COLORMAP = None


def _colormap():
    """A 256×3 uint8 lookup table: matplotlib's viridis, or grey without matplotlib."""
    global _COLORMAP
    if _COLORMAP is None:
        import numpy as np
        try:
            from matplotlib import colormaps
            lut = colormaps["viridis"](np.linspace(0, 1, 256))[:, :3]
            _COLORMAP = (lut * 255 + 0.5).astype(np.uint8)
        except Exception:  # noqa: BLE001 - any failure: grey is still an image
            ramp = np.arange(256, dtype=np.uint8)
            _COLORMAP = np.stack([ramp, ramp, ramp], axis=1)
    return _COLORMAP


def _downsample(img):
    """``img`` (2-D) averaged in blocks to at most IMAGE_PX a side (float64)."""
    import numpy as np
    h, w = img.shape
    f = max(1, -(-max(h, w) // IMAGE_PX))
    if f == 1:
        return np.asarray(img, dtype=np.float64)
    # Very large images: take every k-th pixel first so a block mean reads little.
    k = max(1, f // 4)
    small = np.asarray(img[::k, ::k], dtype=np.float64)
    f = max(1, -(-max(small.shape) // IMAGE_PX))
    h2, w2 = (small.shape[0] // f) * f, (small.shape[1] // f) * f
    if h2 == 0 or w2 == 0:  # one side much shorter than the factor: stride it instead
        return small[::f, ::f]
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmean(small[:h2, :w2].reshape(h2 // f, f, w2 // f, f), axis=(1, 3))


def _image(img) -> str:
    """A 2-D array as a PNG data URL: percentile-stretched (0.5–99.5 %), viridis, NaN transparent."""
    import numpy as np
    a = _downsample(img)
    finite = np.isfinite(a)
    rgba = np.zeros(a.shape + (4,), dtype=np.uint8)
    if finite.any():
        lo, hi = np.percentile(a[finite], [0.5, 99.5])
        if not hi > lo:
            lo, hi = float(a[finite].min()), float(a[finite].max())
        scaled = np.zeros(a.shape) if not hi > lo else (np.clip(a, lo, hi) - lo) / (hi - lo)
        idx = np.nan_to_num(scaled * 255, nan=0).astype(np.uint8)
        rgba[..., :3] = _colormap()[idx]
        rgba[..., 3] = np.where(finite, 255, 0)
    return "data:image/png;base64," + base64.b64encode(_png_rgba(rgba)).decode("ascii")


def _png_rgba(rgba) -> bytes:
    """A minimal PNG encoder (8-bit RGBA, no filter): enough for previews, no Pillow needed."""
    h, w = rgba.shape[:2]
    raw = b"".join(b"\x00" + rgba[y].tobytes() for y in range(h))

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + \
            struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 6, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 6)) + chunk(b"IEND", b""))


# --- torch: read without torch ---------------------------------------------------

_STORAGE_DTYPES = {
    "FloatStorage": ("float32", "<f4"), "DoubleStorage": ("float64", "<f8"),
    "HalfStorage": ("float16", "<f2"), "BFloat16Storage": ("bfloat16", "<u2"),
    "LongStorage": ("int64", "<i8"), "IntStorage": ("int32", "<i4"),
    "ShortStorage": ("int16", "<i2"), "CharStorage": ("int8", "i1"),
    "ByteStorage": ("uint8", "u1"), "BoolStorage": ("bool", "?"),
    "ComplexFloatStorage": ("complex64", "<c8"), "ComplexDoubleStorage": ("complex128", "<c16"),
}


class _Stub:
    """Stands in for any class a torch pickle names (a module, an optimizer...)."""
    _qualname = "?"

    def __new__(cls, *args, **kwargs):
        obj = object.__new__(cls)
        obj.__dict__["_args"] = args
        return obj

    def __init__(self, *args, **kwargs):
        pass

    def __setstate__(self, state):
        self.__dict__["_state"] = state

    def __setitem__(self, key, value):  # dict subclasses pickle their items this way
        self.__dict__.setdefault("_items", {})[key] = value

    def append(self, value):
        self.__dict__.setdefault("_list", []).append(value)

    def extend(self, values):
        self.__dict__.setdefault("_list", []).extend(values)


class _StorageType:
    def __init__(self, name: str):
        self.name = name


class _Storage:
    def __init__(self, kind: _StorageType, key: str, numel):
        self.kind, self.key, self.numel = kind, str(key), numel


class _Tensor:
    def __init__(self, storage, offset, size, stride):
        self.storage, self.offset = storage, int(offset)
        self.shape, self.stride = tuple(int(s) for s in size), tuple(int(s) for s in stride)

    @property
    def dtype(self) -> str:
        if isinstance(self.storage, _Storage):
            name = self.storage.kind.name
            return _STORAGE_DTYPES.get(name, (name.replace("Storage", "").lower(), None))[0]
        return "?"

    @property
    def numel(self) -> int:
        return int(math.prod(self.shape))


def _rebuild_tensor(storage, offset, size, stride, *rest):
    return _Tensor(storage, offset, size, stride)


def _rebuild_parameter(data, *rest):
    return data


def _rebuild_other(*args):
    return _Tensor(None, 0, (), ())  # quantized, sparse...: listed without shape


class _TorchUnpickler(pickle.Unpickler):
    """Unpickles a torch zip's data.pkl with stand-ins: runs no code of the file."""

    _SAFE = {("collections", "OrderedDict"): collections.OrderedDict,
             ("builtins", "set"): set, ("__builtin__", "set"): set,
             ("builtins", "frozenset"): frozenset, ("builtins", "slice"): slice,
             ("builtins", "complex"): complex}

    def find_class(self, module, name):
        if (module, name) in self._SAFE:
            return self._SAFE[(module, name)]
        if module == "torch._utils":
            if name.startswith("_rebuild_tensor"):
                return _rebuild_tensor
            if name.startswith("_rebuild_parameter"):
                return _rebuild_parameter
            return _rebuild_other
        if module.startswith("torch") and name.endswith("Storage"):
            return _StorageType(name)
        return type(name, (_Stub,), {"_qualname": f"{module}.{name}"})

    def persistent_load(self, pid):
        if isinstance(pid, tuple) and len(pid) >= 3 and pid[0] == "storage":
            kind = pid[1] if isinstance(pid[1], _StorageType) else _StorageType(str(pid[1]))
            return _Storage(kind, pid[2], pid[4] if len(pid) > 4 else None)
        raise pickle.UnpicklingError(f"unknown persistent id {pid!r}")


def _is_torch_zip(path: str) -> bool:
    try:
        with zipfile.ZipFile(path) as z:
            return any(n.endswith("/data.pkl") or n == "data.pkl" for n in z.namelist())
    except (zipfile.BadZipFile, OSError):
        return False


def _torch_file(path: str, size: int) -> dict:
    try:
        z = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError):
        return _torch_legacy(path, size)
    with z:
        pkl = next((n for n in z.namelist() if n.endswith("/data.pkl") or n == "data.pkl"), None)
        if pkl is None:
            raise PreviewError("not a torch file: a zip without data.pkl")
        prefix = pkl[: -len("data.pkl")]
        info = z.getinfo(pkl)
        if info.file_size > MAX_PARSE:
            raise PreviewError(f"torch file's pickle is {info.file_size} bytes: too large")
        try:
            value = _TorchUnpickler(io.BytesIO(z.read(pkl))).load()
        except Exception as e:  # noqa: BLE001 - a corrupt pickle can raise anything
            raise PreviewError(f"unreadable torch file: {e}") from None
        if isinstance(value, _Tensor):
            arr = _tensor_data(z, prefix, value)
            if arr is None:
                return {"kind": "array", "dtype": value.dtype, "shape": list(value.shape),
                        "stats": None, "note": "tensor data not read"}
            return _array_kind(arr, dtype_name=value.dtype)
        return _state_dict_kind(value)


def _tensor_data(z: zipfile.ZipFile, prefix: str, t: _Tensor):
    """The tensor's values as a NumPy array (from its storage in the zip), or None."""
    import numpy as np
    if not isinstance(t.storage, _Storage):
        return None
    dt = _STORAGE_DTYPES.get(t.storage.kind.name, (None, None))[1]
    name = f"{prefix}data/{t.storage.key}"
    if dt is None or name not in z.namelist() or z.getinfo(name).file_size > MAX_READ:
        return None
    buf = np.frombuffer(z.read(name), dtype=np.dtype(dt))
    if t.storage.kind.name == "BFloat16Storage":
        buf = (buf.astype(np.uint32) << 16).view(np.float32)
    if t.numel == 0:
        return np.zeros(t.shape, dtype=buf.dtype)
    last = t.offset + sum((s - 1) * st for s, st in zip(t.shape, t.stride))
    if t.offset < 0 or last >= buf.shape[0] or any(st < 0 for st in t.stride):
        return None
    item = buf.dtype.itemsize
    return np.lib.stride_tricks.as_strided(buf[t.offset:], shape=t.shape,
                                           strides=tuple(s * item for s in t.stride),
                                           writeable=False)


def _torch_legacy(path: str, size: int) -> dict:
    """The pre-1.6 torch format (not a zip): needs torch itself, weights only."""
    if size > MAX_READ:
        raise PreviewError(f"legacy torch file of {size} bytes: too large to preview")
    try:
        import torch
        value = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # noqa: BLE001 - ImportError, UnpicklingError, corrupt data...
        raise PreviewError(f"unreadable torch file: {e}") from None
    if isinstance(value, torch.Tensor):
        return _array_kind(value.detach().float().numpy() if value.dtype == torch.bfloat16
                           else value.detach().numpy(), dtype_name=str(value.dtype).replace("torch.", ""))
    tensors = []
    _walk_real(value, "", tensors)
    return _tensor_list(tensors, None)


def _walk_real(v, name, out):
    import torch
    if isinstance(v, torch.Tensor):
        out.append((name, list(v.shape), str(v.dtype).replace("torch.", ""), int(v.numel())))
    elif isinstance(v, dict):
        for k, x in v.items():
            _walk_real(x, f"{name}.{k}" if name else str(k), out)
    elif isinstance(v, (list, tuple)):
        for i, x in enumerate(v):
            _walk_real(x, f"{name}.{i}" if name else str(i), out)


def _state_dict_kind(value) -> dict:
    tensors: list = []
    values: dict = {}
    module = _walk(value, "", tensors, 0, values)
    if not tensors and not module:
        return _json_kind(_jsonable(_plain(value)))
    return _tensor_list(tensors, module, values)


def _tensor_list(tensors: list, module: str | None, values: dict | None = None) -> dict:
    out = {"kind": "state_dict",
           "tensors": [{"name": n, "shape": s, "dtype": d, "params": p}
                       for n, s, d, p in tensors[:MAX_TENSORS]],
           "count": len(tensors),
           "total_params": sum(p for _, _, _, p in tensors)}
    if module:
        out["module"] = module
    if values:
        out["values"] = values
    return out


MAX_VALUES = 50  # a checkpoint's plain values (epoch, loss, learning rate...) shown beside its tensors


def _walk(v, name: str, out: list, depth: int, values: dict | None = None) -> str | None:
    """Collect (name, shape, dtype, params) of the tensors in ``v``, and into ``values``
    its plain numbers and strings by name; returns the module's class if ``v`` is one."""
    if depth > 50:
        return None
    join = (lambda k: f"{name}.{k}" if name else str(k))
    if values is not None and name and (v is None or isinstance(v, (bool, int, float, str))):
        if len(values) < MAX_VALUES:
            values[name] = _jsonable(v if not isinstance(v, str) else v[:200])
        return None
    if isinstance(v, _Tensor):
        out.append((name, list(v.shape), v.dtype, v.numel))
        return None
    if isinstance(v, _Stub):
        state = v.__dict__.get("_state")
        if isinstance(state, dict) and "_parameters" in state:  # an nn.Module
            for group in ("_parameters", "_buffers"):
                for k, t in (state.get(group) or {}).items():
                    if isinstance(t, _Tensor):
                        out.append((join(k), list(t.shape), t.dtype, t.numel))
            for k, sub in (state.get("_modules") or {}).items():
                if sub is not None:
                    _walk(sub, join(k), out, depth + 1)
            return v._qualname
        items = v.__dict__.get("_items") or (state if isinstance(state, dict) else None)
        if items:
            for k, x in items.items():
                _walk(x, join(k), out, depth + 1, values)
        return None
    if isinstance(v, dict):
        for k, x in v.items():
            _walk(x, join(k), out, depth + 1, values)
    elif isinstance(v, (list, tuple)):
        for i, x in enumerate(v):
            _walk(x, join(i), out, depth + 1, values)
    return None


def _plain(v):
    """A torch pickle's value without stand-ins (for a dict of plain numbers, say)."""
    if isinstance(v, _Stub):
        return f"<{v._qualname}>"
    if isinstance(v, dict):
        return {str(k): _plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple, set, frozenset)):
        return [_plain(x) for x in v]
    return v


# --- pickle ------------------------------------------------------------------


class _SafeUnpickler(pickle.Unpickler):
    """Loads only builtins, collections and NumPy arrays: no class code runs."""

    _ALLOWED = {
        ("builtins", n) for n in ("set", "frozenset", "complex", "slice", "range", "bytearray",
                                  "list", "dict", "tuple", "int", "float", "str", "bool")
    } | {("collections", "OrderedDict"), ("collections", "defaultdict"),
         ("collections", "deque"), ("datetime", "datetime"), ("datetime", "date"),
         ("datetime", "time"), ("datetime", "timedelta"), ("datetime", "timezone")}
    _NUMPY = {"_reconstruct", "ndarray", "dtype", "scalar"}

    def find_class(self, module, name):
        if (module, name) in self._ALLOWED or (
                module in ("numpy.core.multiarray", "numpy._core.multiarray", "numpy")
                and name in self._NUMPY):
            return super().find_class(module, name)
        raise _Refused(f"{module}.{name}")


class _Refused(pickle.UnpicklingError):
    pass


def _pickle_file(path: str, size: int) -> dict:
    head = _head(path, 64)
    if size > MAX_PARSE:
        return _binary(head, size, f"a pickle of {size} bytes: too large to preview")
    try:
        with open(path, "rb") as f:
            value = _SafeUnpickler(f).load()
    except _Refused as e:
        return _binary(head, size, f"a pickle of {e}: not loaded for a preview (it would run "
                                   "that class's code)")
    except Exception as e:  # noqa: BLE001 - corrupt pickles raise all sorts
        raise PreviewError(f"unreadable pickle: {e}") from None
    return _value_kind(value)


def _value_kind(value) -> dict:
    import numpy as np
    if type(value) is np.ndarray:
        return _array_kind(value)
    members = _fits_members(value)
    if members:
        return _fits_collection(members)
    if isinstance(value, (list, tuple)):
        table = _records_table(list(value))
        if table is not None:
            return table
    return _json_kind(_jsonable(value))


# --- FITS --------------------------------------------------------------------


def _fits_file(path: str) -> dict:
    try:
        from astropy.io import fits
    except ImportError:
        raise PreviewError("FITS previews need astropy (Debian: python3-astropy)") from None
    hdus = []
    try:
        with fits.open(path, memmap=True, lazy_load_hdus=True) as hdul:
            for i, hdu in enumerate(hdul):
                if i >= 10:
                    break
                hdus.append(_hdu(hdu, i))
    except (OSError, ValueError, TypeError) as e:
        raise PreviewError(f"unreadable FITS file: {e}") from None
    return {"kind": "fits", "hdus": hdus}


def _fits_members(value) -> list:
    """(name, bytes) of the FITS files a dict holds ({file name: FITS bytes},
    as the redshift example's survey is saved), sorted by name; [] otherwise."""
    if not isinstance(value, dict) or not value:
        return []
    members = [(str(k), v) for k, v in value.items()
               if isinstance(v, (bytes, bytearray)) and bytes(v[:9]) == b"SIMPLE  ="]
    return sorted(members) if len(members) * 2 >= len(value) else []


def _fits_collection(members: list) -> dict:
    """The first FITS file of a collection (a catalogue first, when there is
    one), with how many there are."""
    import io
    try:
        from astropy.io import fits
    except ImportError:
        raise PreviewError("FITS previews need astropy (Debian: python3-astropy)") from None
    catalogues = [m for m in members if "catalog" in m[0].lower()]
    name, data = (catalogues or members)[0]
    try:
        with fits.open(io.BytesIO(bytes(data))) as hdul:
            hdus = [_hdu(hdu, i) for i, hdu in enumerate(hdul) if i < 10]
    except (OSError, ValueError, TypeError) as e:
        raise PreviewError(f"unreadable FITS file {name}: {e}") from None
    shown = ", ".join(m[0] for m in members[:5]) + (", …" if len(members) > 5 else "")
    return {"kind": "fits", "hdus": hdus, "files": len(members),
            "note": f"{name}, one of {len(members)} FITS files in this artifact ({shown})"}


def _hdu(hdu, index: int) -> dict:
    import numpy as np
    from astropy.io import fits
    header: dict = {}
    for card in list(hdu.header.cards)[:HEADER_CARDS]:
        key = card.keyword or ""
        value = card.value
        if isinstance(value, (bool, int, float, str)):
            v = value if not isinstance(value, float) or math.isfinite(value) else str(value)
        else:
            v = None if value is None or type(value).__name__ == "Undefined" else str(value)
        if key in header and key in ("COMMENT", "HISTORY", ""):
            header[key] = f"{header[key]}\n{v}"
        else:
            header[key] = v
    out = {"name": hdu.name or (f"HDU {index}"), "type": type(hdu).__name__, "header": header}
    if isinstance(hdu, (fits.BinTableHDU, fits.TableHDU)):
        cols = hdu.columns
        out["columns"] = [{"name": c.name, "format": str(c.format), "unit": c.unit}
                          for c in cols]
        nrows = int(hdu.header.get("NAXIS2", 0))
        out["count"] = nrows
        if nrows:
            data = hdu.data[:TABLE_ROWS]
            out["rows"] = [[_jsonable(row[c.name]) for c in cols] for row in data]
        return out
    naxis = int(hdu.header.get("NAXIS", 0))
    if naxis:
        shape = [int(hdu.header.get(f"NAXIS{k}", 0)) for k in range(naxis, 0, -1)]
        out["shape"] = shape
        nbytes = abs(int(hdu.header.get("BITPIX", 8))) // 8 * math.prod(shape)
        if nbytes <= MAX_READ and all(shape) and isinstance(hdu, (fits.PrimaryHDU, fits.ImageHDU,
                                                                   fits.CompImageHDU)):
            data = hdu.data
            if data is not None:
                arr = np.asarray(data)
                out["stats"] = _stats(arr)
                if arr.ndim == 2:
                    out["image"] = _image(arr)
                elif arr.ndim >= 3:
                    first = arr.reshape((-1,) + arr.shape[-3:])[0] if arr.ndim > 3 else arr
                    layout, bands = _bands(first)
                    out["layout"] = layout
                    out["images"] = [{"label": label, "image": _image(b)} for label, b in bands]
    return out


# --- JSON-safe values --------------------------------------------------------------


def _floats(values, digits: int = 0) -> list:
    """Finite floats (NaN/Inf as None); rounded to ``digits`` significant digits when given."""
    vals = values.tolist() if hasattr(values, "tolist") else list(values)
    if digits:
        return [float(f"{x:.{digits}g}") if math.isfinite(x) else None for x in vals]
    return [float(x) if math.isfinite(x) else None for x in vals]


def _jsonable(v, depth: int = 0):
    """Plain JSON data from NumPy scalars, tuples, sets, bytes... (anything else: its repr)."""
    if depth > 30:
        return "…"
    if v is None or isinstance(v, (bool, str)):
        return v
    if isinstance(v, int):
        return v
    if isinstance(v, float):
        return v if math.isfinite(v) else None
    np = sys.modules.get("numpy")
    if np is not None:
        if isinstance(v, np.generic):
            return _jsonable(v.item(), depth)
        if isinstance(v, np.ndarray):
            return _jsonable(v.tolist() if v.size <= JSON_ITEMS * 10 else
                             f"<array {v.dtype} {list(v.shape)}>", depth)
    if isinstance(v, dict):
        return {str(k): _jsonable(x, depth + 1) for k, x in v.items()}
    if isinstance(v, (list, tuple, set, frozenset, collections.deque)):
        return [_jsonable(x, depth + 1) for x in v]
    if isinstance(v, (bytes, bytearray)):
        return f"<{len(v)} bytes>"
    if isinstance(v, complex):
        return str(v)
    return repr(v)[:JSON_STRING]


def _clean(v):
    """Non-finite floats as null, so the output is strict JSON."""
    if isinstance(v, float):
        return v if math.isfinite(v) else None
    if isinstance(v, dict):
        return {k: _clean(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_clean(x) for x in v]
    return v


if __name__ == "__main__":
    sys.exit(main())
