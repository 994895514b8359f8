"""The S3 rig against itself: what radosgw accepts and refuses, signed by curl's SigV4.

These pin down, before Kiln's C++ client relies on them, the S3 behaviours it
needs on this radosgw (Ceph 16, Pacific) with libcurl 7.88's CURLOPT_AWS_SIGV4
(the curl command line is the same code): bucket creation, byte-identical
PUT/GET, the x-amz-content-sha256 rules, key and query encoding, the error codes for a bad signature
and a missing bucket, and a multipart upload (tests/s3/README.md has the XML).
The last two tests start rigs of their own, to check that stop() leaves no
daemon and no folder behind, also after a start that failed halfway.
"""

import hashlib
import os
import re
import secrets
import urllib.parse
from pathlib import Path

import pytest

from .radosgw import Radosgw, RadosgwStartError, sha256_hex

PART_SIZE = 5 << 20  # S3's smallest part (all but the last)


def new_bucket(radosgw) -> str:
    name = "kiln-" + secrets.token_hex(6)
    radosgw.create_bucket(name)
    return name


def error_code(body: str) -> str | None:
    found = re.search(r"<Code>([^<]*)</Code>", body)
    return found.group(1) if found else None


def test_put_get_round_trip_is_byte_identical(radosgw, tmp_path):
    bucket = new_bucket(radosgw)
    data = os.urandom(1 << 20) + bytes(range(256))  # binary, with every byte value
    source = tmp_path / "object.bin"
    source.write_bytes(data)
    put = radosgw.curl("PUT", radosgw.url(bucket, "dir/object.bin"), "--upload-file", str(source),
                       payload_sha256=sha256_hex(data))
    assert put.status == 200, put
    got = radosgw.curl("GET", radosgw.url(bucket, "dir/object.bin"))
    assert got.status == 200, got
    assert hashlib.sha256(got.body).digest() == hashlib.sha256(data).digest()
    assert got.body == data


def test_unsigned_payload_is_accepted(radosgw, tmp_path):
    bucket = new_bucket(radosgw)
    source = tmp_path / "unsigned.txt"
    source.write_bytes(b"sent with x-amz-content-sha256: UNSIGNED-PAYLOAD\n")
    put = radosgw.curl("PUT", radosgw.url(bucket, "unsigned.txt"), "--upload-file", str(source),
                       payload_sha256="UNSIGNED-PAYLOAD")
    assert put.status == 200, put
    assert radosgw.curl("GET", radosgw.url(bucket, "unsigned.txt")).body == source.read_bytes()


def test_payload_hash_that_does_not_match_the_body_is_refused(radosgw, tmp_path):
    bucket = new_bucket(radosgw)
    source = tmp_path / "body.txt"
    source.write_bytes(b"the body\n")
    put = radosgw.curl("PUT", radosgw.url(bucket, "body.txt"), "--upload-file", str(source),
                       payload_sha256=sha256_hex(b"another body\n"))
    assert put.status == 400, put
    assert error_code(put.text) == "XAmzContentSHA256Mismatch", put
    assert radosgw.curl("GET", radosgw.url(bucket, "body.txt")).status == 404


def test_request_without_content_sha256_header_is_refused(radosgw):
    # curl 7.88 signs as if the header said the empty body's hash but does not
    # send it; radosgw then computes another signature. Kiln's client must
    # always send x-amz-content-sha256 itself.
    bucket = new_bucket(radosgw)
    answer = radosgw.curl("GET", radosgw.url(bucket), payload_sha256=None)
    assert answer.status == 403, answer
    assert error_code(answer.text) == "SignatureDoesNotMatch", answer


def test_any_region_in_the_credential_scope_is_accepted(radosgw):
    # radosgw signs with the region the client names in its credential scope
    # and does not compare it with its zonegroup ("default"): a client set up
    # for AWS's us-east-1 works unchanged.
    bucket = new_bucket(radosgw)
    saved = radosgw.region
    try:
        for region in ("default", "us-east-1", "eu-central-1"):
            radosgw.region = region
            answer = radosgw.curl("GET", radosgw.url(bucket))
            assert answer.status == 200 and "<ListBucketResult" in answer.text, (region, answer)
    finally:
        radosgw.region = saved


def test_wrong_secret_is_refused_with_signature_does_not_match(radosgw):
    bucket = new_bucket(radosgw)
    answer = radosgw.curl("GET", radosgw.url(bucket), secret=radosgw.secret_key + "x")
    assert answer.status == 403, answer
    assert error_code(answer.text) == "SignatureDoesNotMatch", answer
    assert radosgw.curl("GET", radosgw.url(bucket)).status == 200  # the right one still works


def test_unknown_access_key_is_refused(radosgw):
    bucket = new_bucket(radosgw)
    saved = radosgw.access_key
    radosgw.access_key = "KILNUNKNOWNKEY000000"
    try:
        answer = radosgw.curl("GET", radosgw.url(bucket))
    finally:
        radosgw.access_key = saved
    assert answer.status == 403, answer
    assert error_code(answer.text) == "InvalidAccessKeyId", answer


def test_missing_bucket_gives_no_such_bucket(radosgw):
    answer = radosgw.curl("GET", radosgw.url("kiln-missing-" + secrets.token_hex(4), "object.bin"))
    assert answer.status == 404, answer
    assert error_code(answer.text) == "NoSuchBucket", answer


def test_missing_object_gives_no_such_key(radosgw):
    bucket = new_bucket(radosgw)
    answer = radosgw.curl("GET", radosgw.url(bucket, "never-written"))
    assert answer.status == 404, answer
    assert error_code(answer.text) == "NoSuchKey", answer


def sigv4_encode(text: str, keep_slash: bool) -> str:
    """SigV4's URI encoding: every byte but A-Z a-z 0-9 - . _ ~ (and '/' in a path) as %XX."""
    return urllib.parse.quote(text, safe="/~" if keep_slash else "~")


def test_keys_percent_encoded_the_sigv4_way_round_trip(radosgw):
    # curl 7.88 signs the path and the query exactly as written, so a client
    # must URI-encode them as SigV4 does; "x=y" or "(a)" left raw are refused
    # with SignatureDoesNotMatch (tests/s3/README.md).
    bucket = new_bucket(radosgw)
    keys = ["a b.txt", "café/naïve.txt", "x=y&z.txt", "p+q.txt", "(paren)!*'.txt", "t~ilde-_.txt"]
    for key in keys:
        data = key.encode() + b"\n"
        put = radosgw.curl("PUT", radosgw.url(bucket, sigv4_encode(key, keep_slash=True)),
                           "--data-binary", data.decode(), payload_sha256=sha256_hex(data))
        assert put.status == 200, (key, put)
        got = radosgw.curl("GET", radosgw.url(bucket, sigv4_encode(key, keep_slash=True)))
        assert got.body == data, (key, got)
    # ListObjectsV2, query parameters sorted, their values encoded ('/' too).
    query = "list-type=2&prefix=" + sigv4_encode("café/", keep_slash=False)
    listed = radosgw.curl("GET", radosgw.url(bucket) + "?" + query)
    assert listed.status == 200, listed
    assert re.findall(r"<Key>([^<]*)</Key>", listed.text) == ["café/naïve.txt"]
    raw = radosgw.curl("PUT", radosgw.url(bucket, "raw=equals.txt"), "--data-binary", "x",
                       payload_sha256=sha256_hex(b"x"))
    assert raw.status == 403 and error_code(raw.text) == "SignatureDoesNotMatch", raw


def test_multipart_upload_of_12_mib_in_5_mib_parts(radosgw, tmp_path):
    bucket = new_bucket(radosgw)
    key = "multi/part.bin"
    data = os.urandom(12 << 20)
    parts = [data[i:i + PART_SIZE] for i in range(0, len(data), PART_SIZE)]
    assert [len(p) for p in parts] == [PART_SIZE, PART_SIZE, 2 << 20]

    # CreateMultipartUpload. "?uploads=" and not "?uploads": curl 7.88 signs
    # the query string as written, and SigV4's canonical form is "uploads=".
    created = radosgw.curl("POST", radosgw.url(bucket, key) + "?uploads=", payload_sha256=sha256_hex(b""))
    assert created.status == 200, created
    upload_id = re.search(r"<UploadId>([^<]+)</UploadId>", created.text).group(1)

    etags = []
    for number, part in enumerate(parts, 1):
        part_file = tmp_path / f"part{number}"
        part_file.write_bytes(part)
        headers_file = tmp_path / f"part{number}.headers"
        # Query parameters in sorted order (partNumber < uploadId), for the same reason.
        put = radosgw.curl("PUT", radosgw.url(bucket, key) + f"?partNumber={number}&uploadId={upload_id}",
                           "--upload-file", str(part_file), "--dump-header", str(headers_file),
                           payload_sha256=sha256_hex(part))
        assert put.status == 200, put
        etag = re.search(r"(?im)^etag:\s*(\S+)\s*$", headers_file.read_text()).group(1)
        assert etag == f'"{hashlib.md5(part).hexdigest()}"'  # a part's ETag is its MD5, quoted
        etags.append(etag)

    complete = "<CompleteMultipartUpload>" + "".join(
        f"<Part><PartNumber>{n}</PartNumber><ETag>{etag}</ETag></Part>" for n, etag in enumerate(etags, 1)
    ) + "</CompleteMultipartUpload>"
    body_file = tmp_path / "complete.xml"
    body_file.write_bytes(complete.encode())
    done = radosgw.curl("POST", radosgw.url(bucket, key) + f"?uploadId={upload_id}",
                        "--data-binary", f"@{body_file}", "--header", "Content-Type: application/xml",
                        payload_sha256=sha256_hex(complete.encode()))
    assert done.status == 200, done
    assert "<CompleteMultipartUploadResult" in done.text, done

    headers_file = tmp_path / "get.headers"
    got = radosgw.curl("GET", radosgw.url(bucket, key), "--dump-header", str(headers_file))
    assert got.status == 200, got
    assert got.body == data
    # The whole object's ETag: MD5 of the parts' binary MD5s, "-" and the part count.
    md5_of_md5s = hashlib.md5(b"".join(hashlib.md5(p).digest() for p in parts)).hexdigest()
    assert re.search(r"(?im)^etag:\s*(\S+)\s*$", headers_file.read_text()).group(1) == f'"{md5_of_md5s}-3"'


def test_completing_with_a_wrong_part_etag_is_refused(radosgw, tmp_path):
    bucket = new_bucket(radosgw)
    key = "bad-complete.bin"
    created = radosgw.curl("POST", radosgw.url(bucket, key) + "?uploads=", payload_sha256=sha256_hex(b""))
    upload_id = re.search(r"<UploadId>([^<]+)</UploadId>", created.text).group(1)
    part = tmp_path / "part1"
    part.write_bytes(b"only part\n")
    put = radosgw.curl("PUT", radosgw.url(bucket, key) + f"?partNumber=1&uploadId={upload_id}",
                       "--upload-file", str(part), payload_sha256=sha256_hex(part.read_bytes()))
    assert put.status == 200, put
    complete = (f'<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>"{"0" * 32}"</ETag>'
                "</Part></CompleteMultipartUpload>").encode()
    body_file = tmp_path / "complete.xml"
    body_file.write_bytes(complete)
    done = radosgw.curl("POST", radosgw.url(bucket, key) + f"?uploadId={upload_id}",
                        "--data-binary", f"@{body_file}", payload_sha256=sha256_hex(complete))
    assert done.status == 400, done
    assert error_code(done.text) == "InvalidPart", done
    # AbortMultipartUpload: DELETE ?uploadId=... answers 204 and the upload is gone.
    aborted = radosgw.curl("DELETE", radosgw.url(bucket, key) + f"?uploadId={upload_id}")
    assert aborted.status == 204, aborted
    again = radosgw.curl("DELETE", radosgw.url(bucket, key) + f"?uploadId={upload_id}")
    assert error_code(again.text) == "NoSuchUpload", again


def _processes_mentioning(folder: Path) -> list[int]:
    """Pids whose command line names the folder (every daemon gets --conf <folder>/ceph.conf)."""
    marker = str(folder).encode()
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if marker in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                pass
    return found


def test_stop_ends_every_daemon_and_removes_the_folder():
    rig = Radosgw()
    rig.start()
    try:
        pids = rig.pids()
        assert sorted(pids) == ["ceph-mon", "ceph-osd", "radosgw"]
        assert all(Path(f"/proc/{pid}").exists() for pid in pids.values())
        assert sorted(_processes_mentioning(rig.root)) == sorted(pids.values())
    finally:
        rig.stop()
    assert _processes_mentioning(rig.root) == []
    assert not rig.root.exists()
    rig.stop()  # a second stop() is harmless


def test_start_that_fails_halfway_names_the_daemon_and_cleans_up():
    # The mon and the osd come up; radosgw cannot bind an address this
    # machine does not have (192.0.2.1, TEST-NET-1) and exits.
    rig = Radosgw(extra_conf={"client.rgw.kiln": {"rgw_frontends": "beast endpoint=192.0.2.1:80"}})
    with pytest.raises(RadosgwStartError) as failure:
        rig.start()
    message = str(failure.value)
    assert message.startswith("radosgw exited with "), message
    assert "--- last lines of" in message and "client.rgw.kiln.log" in message, message
    assert "framework conf key: endpoint, val: 192.0.2.1:80" in message, message
    assert _processes_mentioning(rig.root) == []
    assert not rig.root.exists()
