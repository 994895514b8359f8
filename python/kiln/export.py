"""Export a pipeline as plain Python: ``python3 -m kiln.export PLAN.json OUT``.

What: turns an *export plan* (docs/provenance.md, "Export"; the server writes
it) into one folder named after the pipeline that runs the pipeline with plain
Python and no Kiln installed:

* ``main.py`` (``kiln.export_render``): the steps in dependency order, each
  attribute an ``argparse`` option;
* ``operations/<module>.py``: each distinct operation code, verbatim;
* the plan's ``files`` (generated architecture code) at the top level;
* ``kiln/``: the shim (``kiln/export_shim/`` of this package, plus a verbatim
  copy of ``kiln/serializers.py``);
* ``inputs/``: the Input artifacts (``inputs_mode`` ``bundle``, copied from
  ``artifact.path`` and checked against their digest), or nothing (``fetch``:
  ``main.py`` downloads them);
* ``requirements.txt`` (when the plan lists any) and ``README.md``.

``OUT`` ending in ``.zip`` gets a zip archive of that folder; any other ``OUT``
is a directory (created when missing) in which the folder is written; the
folder must not exist yet.  Prints the path written.

Exit status: 0 written; 2 the plan is malformed (unreadable JSON, unknown
format, a cycle, an edge naming a missing job or port, an Input without
artifact or whose file is missing or differs from its digest...), the message
naming the problem; 1 the output cannot be written.

Who owns what: the process owns ``OUT`` while writing; a zip is written to a
temporary name and renamed into place, a folder is built under a temporary
name next to its final one, so a failed export leaves nothing half-written.
"""
from __future__ import annotations

import datetime
import hashlib
import json
import os
import shutil
import stat
import sys
import tempfile
import zipfile

from . import export_render
from .export_plan import Plan, PlanError, check

__all__ = ["export", "build_entries", "main", "PlanError"]

HERE = os.path.dirname(os.path.abspath(__file__))
SHIM = os.path.join(HERE, "export_shim")
SHIM_FILES = ("__init__.py", "runtime.py", "standalone.py")
EXIT_OK, EXIT_WRITE, EXIT_PLAN = 0, 1, 2


def _sha256(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _read_text(path: str) -> str:
    with open(path, encoding="utf-8") as f:
        return f.read()


def _shim(plan: Plan) -> dict:
    entries = {}
    for name in SHIM_FILES:
        text = _read_text(os.path.join(SHIM, name))
        if name == "__init__.py":
            text = text.replace('"__KILN_VERSION__"', json.dumps(plan.kiln_version or "unknown"))
        entries[f"kiln/{name}"] = text.encode("utf-8")
    # Vendored verbatim: artifacts must load and save exactly as in Kiln.
    with open(os.path.join(HERE, "serializers.py"), "rb") as f:
        entries["kiln/serializers.py"] = f.read()
    return entries


def _bundled_inputs(plan: Plan) -> dict:
    """inputs/<file> -> ("file", source path) for each Input's artifact, checked."""
    entries = {}
    for job in plan.jobs:
        if job.kind != "input":
            continue
        key = f"inputs/{job.input_file}"
        if key in entries:
            continue  # another Input of the same digest brought it
        art = job.artifact
        where = f"job {job.index} (Input {job.name!r})"
        path = art.get("path")
        if not isinstance(path, str) or not path:
            raise PlanError(f"{where}: artifact.path is needed to bundle the input "
                            f"(or export with inputs_mode fetch)")
        if not os.path.isfile(path):
            raise PlanError(f"{where}: its artifact file {path} does not exist")
        actual = _sha256(path)
        if actual != art["digest"]:
            raise PlanError(f"{where}: {path} has SHA-256 {actual}, not the artifact's "
                            f"{art['digest']}")
        entries[key] = ("file", path)
    return entries


def build_entries(plan: Plan, date: str) -> dict:
    """Relative path in the folder -> bytes, or ("file", source path) to copy."""
    entries = {
        "main.py": export_render.main_py(plan, date).encode("utf-8"),
        "README.md": export_render.readme(plan, date).encode("utf-8"),
        "operations/__init__.py": b'"""The operations of the exported pipeline, one module '
                                  b'per distinct code."""\n',
    }
    for module, code in plan.modules.items():
        entries[f"operations/{module}.py"] = code.encode("utf-8")
    for name, text in plan.files.items():
        entries[name] = text.encode("utf-8")
    entries.update(_shim(plan))
    if plan.requirements.strip():
        entries["requirements.txt"] = plan.requirements.strip().encode("utf-8") + b"\n"
    if plan.inputs_mode == "bundle":
        entries.update(_bundled_inputs(plan))
    elif any(job.kind == "input" for job in plan.jobs):
        entries["inputs/.gitkeep"] = b""  # main.py downloads the inputs here
    return entries


def _mode(rel: str) -> int:
    return 0o755 if rel == "main.py" else 0o644


def _write_folder(entries: dict, folder: str) -> None:
    for rel, content in sorted(entries.items()):
        path = os.path.join(folder, *rel.split("/"))
        os.makedirs(os.path.dirname(path), exist_ok=True)
        if isinstance(content, tuple):
            shutil.copyfile(content[1], path)
        else:
            with open(path, "wb") as f:
                f.write(content)
        os.chmod(path, _mode(rel))


def _write_zip(entries: dict, top: str, path: str) -> None:
    now = datetime.datetime.now().timetuple()[:6]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for rel, content in sorted(entries.items()):
            info = zipfile.ZipInfo(f"{top}/{rel}", date_time=now)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = (stat.S_IFREG | _mode(rel)) << 16
            if isinstance(content, tuple):
                with open(content[1], "rb") as src, zf.open(info, "w") as dst:
                    shutil.copyfileobj(src, dst, 1 << 20)
            else:
                zf.writestr(info, content)


def export(plan_json, out: str, date: str = None) -> str:
    """Write the export of ``plan_json`` (parsed) to ``out``; returns the path written.

    Raises PlanError for a malformed plan, OSError when ``out`` cannot be written.
    """
    plan = check(plan_json)
    date = date or datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    entries = build_entries(plan, date)
    if out.lower().endswith(".zip"):
        parent = os.path.dirname(os.path.abspath(out))
        os.makedirs(parent, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".kiln-export-", suffix=".zip", dir=parent)
        os.close(fd)
        try:
            _write_zip(entries, plan.folder, tmp)
            os.chmod(tmp, 0o644)
            os.replace(tmp, out)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        return out
    os.makedirs(out, exist_ok=True)
    folder = os.path.join(out, plan.folder)
    if os.path.lexists(folder):
        raise FileExistsError(f"{folder} already exists: remove it or export elsewhere")
    tmp = tempfile.mkdtemp(prefix=f".{plan.folder}-", dir=out)
    try:
        _write_folder(entries, tmp)
        os.chmod(tmp, 0o755)
        os.rename(tmp, folder)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return folder


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 2:
        sys.stderr.write("usage: python3 -m kiln.export PLAN.json OUT(.zip|DIR)\n")
        return EXIT_PLAN
    plan_path, out = argv
    try:
        with open(plan_path, encoding="utf-8") as f:
            plan_json = json.load(f)
    except OSError as e:
        sys.stderr.write(f"kiln.export: cannot read the plan {plan_path}: {e.strerror}\n")
        return EXIT_PLAN
    except ValueError as e:
        sys.stderr.write(f"kiln.export: the plan {plan_path} is not JSON: {e}\n")
        return EXIT_PLAN
    try:
        written = export(plan_json, out)
    except PlanError as e:
        sys.stderr.write(f"kiln.export: bad plan: {e}\n")
        return EXIT_PLAN
    except OSError as e:
        sys.stderr.write(f"kiln.export: cannot write {out}: {e}\n")
        return EXIT_WRITE
    print(written)
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
