"""Fixtures for the tests that need a real Slurm: `slurm_cluster`, one per test session.

The cluster (tests/slurm/slurm_cluster.py) is started once and stopped at the
end of the session. When Slurm is not installed the fixture fails, never
skips: these tests are part of the suite, and a machine without Slurm has not
been bootstrapped (scripts/bootstrap installs it).
"""

import pytest

from .slurm_cluster import SlurmCluster, SlurmNotInstalled


@pytest.fixture(scope="session")
def slurm_cluster():
    try:
        cluster = SlurmCluster()
    except SlurmNotInstalled as e:
        pytest.fail(str(e), pytrace=False)
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()


# The Kiln test server and pipeline helpers of tests/server (kiln_server.py,
# test_provenance.build_pipeline), for the backend's end-to-end tests.
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

_SERVER_TESTS = str(Path(__file__).resolve().parents[1] / "server")
if _SERVER_TESTS not in sys.path:
    sys.path.insert(0, _SERVER_TESTS)
