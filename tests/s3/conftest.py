"""Fixtures for the tests that need a real S3 store: `radosgw`, one per test session.

The store (tests/s3/radosgw.py: one mon, one memstore osd, radosgw) starts
once, in ~3 s, and is stopped and wiped at the end of the session. When Ceph
is not installed the fixture fails, never skips: these tests are part of the
suite, and a machine without Ceph has not been bootstrapped.
"""

import pytest

from .radosgw import Radosgw, RadosgwNotInstalled


@pytest.fixture(scope="session")
def radosgw():
    try:
        store = Radosgw()
    except RadosgwNotInstalled as e:
        pytest.fail(str(e), pytrace=False)
    store.start()
    try:
        yield store
    finally:
        store.stop()


# The Kiln test server and pipeline helpers of tests/server (kiln_server.py,
# test_provenance.build_pipeline), for the end-to-end tests on S3.
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

_SERVER_TESTS = str(Path(__file__).resolve().parents[1] / "server")
if _SERVER_TESTS not in sys.path:
    sys.path.insert(0, _SERVER_TESTS)
