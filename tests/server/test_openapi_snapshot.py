"""The TypeScript client's OpenAPI snapshot (web/packages/client/openapi.json)
is the server's route table: checked against a real `kiln serve` with the
package's own checker (check-openapi.mjs), so a route added, removed or
re-described without the client knowing fails here. Refresh the snapshot with
`node web/packages/client/check-openapi.mjs URL --write`.
"""
import shutil
import subprocess

import pytest

from kiln_server import ROOT, Kiln


@pytest.fixture(scope="module")
def kiln():
    k = Kiln()
    yield k
    k.stop()


def test_the_client_snapshot_is_the_servers_route_table(kiln):
    node = shutil.which("node")
    if not node:
        pytest.skip("node is not installed")
    done = subprocess.run([node, str(ROOT / "web/packages/client/check-openapi.mjs"),
                           f"http://127.0.0.1:{kiln.port}"], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
