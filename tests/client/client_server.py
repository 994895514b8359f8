"""Fixtures of the Python client's tests (tests/client): one real `kiln serve` per module.

The server is tests/server/kiln_server.py's (build/src/cli/kiln or $KILN_BIN,
a fresh data folder, no example projects); the client is this tree's
python/kiln, imported ahead of any installed kiln. Test modules import this
first, and take its fixtures with `pytest_plugins = ["client_server"]`. It is not a conftest.py
because python/tests does `from conftest import ...`, which another
conftest module in the same pytest run would shadow. (PYTEST_DONT_REWRITE:
it is imported before pytest loads it as a plugin, and has no asserts.)
"""
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
for path in (ROOT / "python", ROOT / "tests" / "server"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from kiln_server import Kiln  # noqa: E402

import kiln  # noqa: E402


@pytest.fixture(scope="module")
def server():
    # An artifact limit of 3 MiB: the upload tests cross it on purpose.
    k = Kiln("--max-artifact-mb", "3")
    try:
        yield k
    finally:
        k.stop()


@pytest.fixture(scope="module")
def client(server):
    return kiln.Client(f"http://127.0.0.1:{server.port}")
