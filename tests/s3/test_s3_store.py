"""Kiln's S3 artifact store (src/storage/s3) against the real radosgw: runs
the C++ test binary build/src/storage/s3_store_test with the store's address
and a fresh bucket (docs/storage.md, "S3"). Each gtest case is one pytest
case, so a failure names the case: a 64 MiB artifact in parts with its
SHA-256 as its name, dedup, a wrong secret, a missing bucket, a store that is
down, a skewed clock, an upload killed halfway, a move local → S3 → local,
a presigned download.
"""
import os
import secrets
import subprocess

import pytest

from kiln_server import ROOT

BINARY = ROOT / "build" / "src" / "storage" / "s3_store_test"
CASES = [
    "A64MiBArtifactGoesUpInPartsAndComesBackVerified",
    "AWrongSecretIsRefusedWithTheStoresError",
    "AMissingBucketAndAStoreThatIsDownAreNamed",
    "AClockOffByAnHourIsNamed",
    "AnUploadKilledHalfwayLeavesNothingListed",
    "AMoveFromLocalToS3AndBackKeepsTheDigest",
    "APresignedUrlDownloadsWithoutCredentials",
]


def test_the_binary_has_exactly_these_cases():
    if not BINARY.exists():
        pytest.fail(f"{BINARY} is not built", pytrace=False)
    listed = subprocess.run([str(BINARY), "--gtest_list_tests"], capture_output=True, text=True,
                            check=True).stdout
    names = [line.strip() for line in listed.splitlines() if line.startswith("  ")]
    assert sorted(names) == sorted(CASES)


@pytest.mark.parametrize("case", CASES)
def test_s3_store(radosgw, case):
    bucket = "kiln-" + secrets.token_hex(6)
    radosgw.create_bucket(bucket)
    env = {**os.environ,
           "KILN_TEST_S3_ENDPOINT": radosgw.endpoint,
           "KILN_TEST_S3_BUCKET": bucket,
           "KILN_TEST_S3_ACCESS_KEY": radosgw.access_key,
           "KILN_TEST_S3_SECRET_KEY": radosgw.secret_key,
           "KILN_TEST_S3_REGION": radosgw.region}
    out = subprocess.run([str(BINARY), f"--gtest_filter=S3StoreTest.{case}"], env=env,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-2000:]
    assert "[  PASSED  ] 1 test" in out.stdout, out.stdout[-2000:]
