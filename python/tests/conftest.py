"""Shared test helpers: the interpreter to use and an environment that finds ``kiln``.

Tests that start processes use Debian's /usr/bin/python3 (where torch lives), with
PYTHONPATH pointing at python/ so ``python3 -m kiln.job`` resolves to this tree.
"""
import os
import sys

PYTHON_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if PYTHON_DIR not in sys.path:
    sys.path.insert(0, PYTHON_DIR)

PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable


def run_env(**extra) -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = PYTHON_DIR + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH")
                                      else "")
    env.pop("KILN_EVENTS_FD", None)
    env.pop("KILN_EVENTS_PATH", None)
    env.pop("MPLBACKEND", None)
    env.update(extra)
    return env


def make_bundle(root, code: str, name: str = "job", **spec) -> str:
    """Write a bundle folder (operation.py + spec.json) under ``root``; returns its path."""
    import json
    import textwrap
    bundle = os.path.join(str(root), name)
    os.makedirs(bundle, exist_ok=True)
    with open(os.path.join(bundle, "operation.py"), "w") as f:
        f.write(textwrap.dedent(code).lstrip("\n"))
    full = {"job_id": name, "operation_file": "operation.py", "attributes": {}, "inputs": {},
            "outputs_dir": "outputs", "events": "events.jsonl"}
    full.update(spec)
    with open(os.path.join(bundle, "spec.json"), "w") as f:
        json.dump(full, f)
    return bundle


def read_events(path: str) -> list:
    import json
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def read_result(bundle: str) -> dict:
    import json
    with open(os.path.join(bundle, "result.json")) as f:
        return json.load(f)
