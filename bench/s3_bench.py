#!/usr/bin/env python3
"""s3_bench: what storing an artifact in S3 through Kiln costs, beside the
plainest way to put the same file into the same store, on a real radosgw on
loopback (tests/s3/radosgw.py). Prints figures; it has no goals and exits 1
only when it cannot run.

  kiln      `kiln artifacts put` of a --mib MiB file (default 1024) to a
            `kiln serve` whose [storage] is the bucket: the file streams to
            the server, which hashes it as it arrives (its SHA-256 is the
            artifact's name), stages it, checks the store for the digest and
            sends it in parts (part_size_mb, 64) — the whole path a user's
            upload takes
  curl      the peer: `sha256sum` of the file (S3 wants the payload hash up
            front for a signed body), then one `curl --aws-sigv4` PUT of it
  dedup     the same file put through Kiln again: hashed, found in the store,
            not sent

Each is run --runs times (3; the best counts: the machine is shared); the
ratio kiln / curl is printed. The store keeps objects in RAM (memstore), so
disk speed is out of both.

Usage: bench/s3_bench.py [--kiln PATH] [--quick] [--mib N] [--runs N] [--part-mb N]
"""
import argparse
import os
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "server"))  # kiln_server
sys.path.insert(0, str(ROOT / "tests"))  # the s3 package

from kiln_server import Kiln  # noqa: E402
from s3.radosgw import Radosgw  # noqa: E402


def timed(argv, **kw):
    start = time.perf_counter()
    out = subprocess.run(argv, capture_output=True, text=True, **kw)
    took = time.perf_counter() - start
    if out.returncode != 0:
        raise RuntimeError(f"{argv[0]} failed: {out.stderr.strip()[-500:]}")
    return took, out.stdout


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kiln", default=str(ROOT / "build" / "src" / "cli" / "kiln"))
    ap.add_argument("--quick", action="store_true", help="64 MiB, one run")
    ap.add_argument("--mib", type=int, default=1024)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--part-mb", type=int, default=64)
    args = ap.parse_args()
    if args.quick:
        args.mib, args.runs = 64, 1
    os.environ["KILN_BIN"] = args.kiln
    memstore = max(2 << 30, (args.mib << 20) * (2 * args.runs + 2))
    with tempfile.TemporaryDirectory(prefix="kiln-s3-bench-") as tmp, \
            Radosgw(memstore_bytes=memstore) as gw:
        tmp = Path(tmp)
        file = tmp / "artifact.bin"
        with open(file, "wb") as f:
            for _ in range(args.mib):
                f.write(os.urandom(1 << 20))
        bucket = "bench-" + secrets.token_hex(4)
        gw.create_bucket(bucket)
        config = tmp / "kiln.toml"
        config.write_text(f'''
[storage]
kind = "s3"
endpoint = "{gw.endpoint}"
bucket = "{bucket}"
region = "{gw.region}"
access_key = "{gw.access_key}"
secret_key_env = "KILN_BENCH_S3_SECRET"
part_size_mb = {args.part_mb}
''')
        os.environ["KILN_BENCH_S3_SECRET"] = gw.secret_key
        k = Kiln("--config", str(config), "--max-artifact-mb", str(args.mib * 2))
        try:
            assert k.api("POST", "/projects", {"name": "bench"}).status == 201
            server = f"http://127.0.0.1:{k.port}"
            kiln_s, curl_s, dedup_s = [], [], []
            for run in range(args.runs):
                # A different first byte each run: new content, really uploaded.
                with open(file, "r+b") as f:
                    f.write(bytes([run]))
                took, _ = timed([args.kiln, "artifacts", "put", "bench", str(file), "--name",
                                 f"run{run}", "--server", server], timeout=3600)
                kiln_s.append(took)
                took, _ = timed([args.kiln, "artifacts", "put", "bench", str(file), "--name",
                                 f"again{run}", "--server", server], timeout=3600)
                dedup_s.append(took)
                start = time.perf_counter()
                digest = subprocess.run(["sha256sum", str(file)], capture_output=True, text=True,
                                        check=True).stdout.split()[0]
                out = gw.curl("PUT", gw.url(bucket, f"peer/{run}"), "--upload-file", str(file),
                              payload_sha256=digest, timeout=3600)
                curl_s.append(time.perf_counter() - start)
                if out.status != 200:
                    raise RuntimeError(f"curl PUT failed: {out.status} {out.text[:300]}")
        finally:
            k.stop()
    best = lambda xs: min(xs)  # noqa: E731
    mib = args.mib
    print(f"s3_bench: {mib} MiB artifact to radosgw on loopback (memstore), part size "
          f"{args.part_mb} MiB, best of {args.runs}")
    print(f"  {'what':<50} {'seconds':>8} {'MiB/s':>8}")
    for name, xs in [("kiln artifacts put (hash while streaming, parts)", kiln_s),
                     ("curl PUT after sha256sum (the peer)", curl_s),
                     ("kiln artifacts put, content already there", dedup_s)]:
        print(f"  {name:<50} {best(xs):8.2f} {mib / best(xs):8.0f}")
    print(f"  ratio kiln / curl: {best(kiln_s) / best(curl_s):.2f}  "
          f"(dedup / curl: {best(dedup_s) / best(curl_s):.2f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
