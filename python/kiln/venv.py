"""A project's Python packages: one virtual environment per requirements list.

What: a project lists the Python packages its operations need (pip
requirement lines, the project's ``requirements`` attribute; see
docs/python-packages.md).  ``ensure(requirements, root)`` returns the
environment for that list, building it the first time: ``<root>/<digest>/``,
made with ``python3 -m venv --system-site-packages --without-pip`` on the
interpreter running the job (Debian's /usr/bin/python3, so torch, numpy and
the rest stay visible) and filled by ``pip install -r requirements.txt`` (the
system's pip, seen through the system site packages).  The digest covers the
normalized list and the interpreter's version, so an unchanged list is built
once and every later job, on any warm worker, reuses it; ``activate`` puts its
site-packages first on ``sys.path`` in the job's process.

pip's output goes to this process's stdout/stderr: inside a job those are the
job's log pipes, so the build streams to the browser as the job's log lines.

Who owns what: ``<root>/<digest>/`` is built under an exclusive ``flock`` of
``<root>/<digest>.lock``; an environment is complete once it holds
``.kiln-ready`` (written last), and a folder without it (a build that was
killed) is removed and built again.  A failed build leaves nothing behind.

Thread-safety: processes may call ``ensure`` concurrently (the lock
serializes builds of the same list); within a process, call it from one thread.

    python3 -m kiln.venv build --root DIR requirements.txt    # build ahead of jobs
    python3 -m kiln.venv digest requirements.txt
"""
from __future__ import annotations

import fcntl
import hashlib
import os
import site
import sys
import time

__all__ = ["VenvError", "normalize", "digest", "default_root", "ensure", "activate",
           "site_packages", "missing_module_hint"]

READY = ".kiln-ready"
DOCS = "docs/python-packages.md"


class VenvError(Exception):
    """The environment could not be built (pip failed, bad list)."""


def normalize(requirements: str | list) -> list:
    """The requirement lines that matter: stripped, comments and blanks dropped."""
    if isinstance(requirements, (list, tuple)):
        requirements = "\n".join(str(r) for r in requirements)
    lines = []
    for raw in str(requirements or "").splitlines():
        line = raw.split(" #")[0].strip() if not raw.lstrip().startswith("#") else ""
        if line:
            lines.append(line)
    return lines


def digest(requirements: str | list, python: str | None = None) -> str:
    """SHA-256 of the normalized list and the interpreter's version (64 hex)."""
    version = sys.version.split()[0] if python is None else python
    text = "kiln-venv 1\npython " + version + "\n" + "\n".join(normalize(requirements)) + "\n"
    return hashlib.sha256(text.encode()).hexdigest()


def default_root() -> str:
    """$KILN_VENVS, else ~/.cache/kiln/venvs."""
    root = os.environ.get("KILN_VENVS")
    if root:
        return root
    return os.path.join(os.path.expanduser("~"), ".cache", "kiln", "venvs")


def site_packages(env_dir: str) -> str:
    v = sys.version_info
    return os.path.join(env_dir, "lib", f"python{v.major}.{v.minor}", "site-packages")


def _say(out, text: str) -> None:
    out.write(text + "\n")
    out.flush()


def ensure(requirements: str | list, root: str | None = None, *, out=None,
           timeout_s: float | None = None) -> str | None:
    """The environment folder for ``requirements``, built when missing.

    Returns None for an empty list.  Raises VenvError when pip fails (its
    output has gone to ``out``/stdout already; the message names the last
    lines).
    """
    lines = normalize(requirements)
    if not lines:
        return None
    out = out or sys.stdout
    root = os.path.abspath(root or default_root())
    os.makedirs(root, exist_ok=True)
    d = digest(lines)
    env_dir = os.path.join(root, d)
    if os.path.exists(os.path.join(env_dir, READY)):
        return env_dir
    with open(os.path.join(root, d + ".lock"), "a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            _say(out, f"kiln: waiting for another job building the Python environment {d[:12]}")
            fcntl.flock(lock, fcntl.LOCK_EX)
        if os.path.exists(os.path.join(env_dir, READY)):
            return env_dir  # built by the job we waited for
        _build(lines, env_dir, out, timeout_s)
    return env_dir


def _build(lines: list, env_dir: str, out, timeout_s: float | None) -> None:
    import shutil
    import subprocess
    t0 = time.time()
    shutil.rmtree(env_dir, ignore_errors=True)  # a build that was killed halfway
    _say(out, f"kiln: building the project's Python environment {os.path.basename(env_dir)[:12]} "
              f"({len(lines)} requirement line{'s' if len(lines) != 1 else ''}); "
              "later jobs reuse it")
    try:
        sys.stdout.flush()
        sys.stderr.flush()
        # The children write to this process's fds 1 and 2 (a job's log pipes).
        subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", "--without-pip",
                        env_dir], check=True)
        req = os.path.join(env_dir, "requirements.txt")
        with open(req, "w", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")
        env = dict(os.environ, PIP_DISABLE_PIP_VERSION_CHECK="1", PIP_NO_INPUT="1",
                   PYTHONUNBUFFERED="1")
        env.pop("PYTHONPATH", None)  # pip sees the environment, not Kiln's runtime
        cmd = [os.path.join(env_dir, "bin", "python"), "-m", "pip", "install", "--progress-bar",
               "off", "-r", req]
        _say(out, "kiln: " + " ".join(cmd[2:]))
        p = subprocess.run(cmd, env=env, timeout=timeout_s)
        if p.returncode != 0:
            raise VenvError(f"pip install failed (exit code {p.returncode}) for the project's "
                            f"requirements: {'; '.join(lines)} (pip's output is in the log above)")
    except subprocess.TimeoutExpired:
        shutil.rmtree(env_dir, ignore_errors=True)
        raise VenvError(f"pip install ran longer than {timeout_s} s") from None
    except subprocess.CalledProcessError as e:
        shutil.rmtree(env_dir, ignore_errors=True)
        raise VenvError(f"could not create the virtual environment: {e}") from None
    except BaseException:
        shutil.rmtree(env_dir, ignore_errors=True)
        raise
    with open(os.path.join(env_dir, READY), "w") as f:
        f.write(f"{time.time() - t0:.2f}\n")
    _say(out, f"kiln: Python environment ready in {time.time() - t0:.1f} s")


def activate(env_dir: str | None) -> list:
    """Put the environment's site-packages first on sys.path (its .pth files too).

    Modules the process imported before (a warm worker's torch, numpy,
    matplotlib) stay the versions already loaded.  Returns the added entries.
    """
    if not env_dir:
        return []
    before = list(sys.path)
    site.addsitedir(site_packages(env_dir))
    added = [p for p in sys.path if p not in before]
    sys.path[:] = added + [p for p in sys.path if p not in added]
    import importlib
    importlib.invalidate_caches()
    return added


def missing_module_hint(name: str | None) -> str:
    """What to tell a user whose job could not import ``name``."""
    pkg = (name or "").split(".")[0] or "the package"
    return (f"add the package that provides '{pkg}' to the project's Python packages "
            f"(the project's \"Python packages\" page in the editor, or `kiln requirements "
            f"PROJECT requirements.txt`; see {DOCS}); jobs then run in an environment that "
            f"has it")


def main(argv=None) -> int:
    import argparse
    ap = argparse.ArgumentParser(prog="python3 -m kiln.venv", description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build", help="build (or find) the environment of a requirements file")
    b.add_argument("requirements")
    b.add_argument("--root", default=None, help="environments folder (default $KILN_VENVS)")
    g = sub.add_parser("digest", help="print a requirements file's environment digest")
    g.add_argument("requirements")
    args = ap.parse_args(argv)
    with open(args.requirements, encoding="utf-8") as f:
        text = f.read()
    if args.cmd == "digest":
        print(digest(text))
        return 0
    try:
        print(ensure(text, args.root) or "(no requirements)")
    except VenvError as e:
        print(f"kiln.venv: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
