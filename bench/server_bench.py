#!/usr/bin/env python3
"""server_bench: what one heavy client or job costs the server, side by side
with its peer on the same disk in the same run (issue "Isolation … bounded
memory").

  upload   a file of --upload-mib MiB through POST /projects/p/artifacts
           (streamed) vs `cp` + `sha256sum` of the same file to the same
           disk: throughput ratio (goal >= 0.8) and the server's peak RSS
           growth (goal <= 16 MiB per upload, plus the server's own)
  flood    a job printing --lines lines of 100 bytes: its wall time and the
           server's peak RSS growth (goal <= 50 MB for 200 MB of output)

Uses the built binary (build/src/cli/kiln or --kiln) and tests/server's
harness. Prints a table; exits 1 only when it cannot run.
"""
import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "server"))

MiB = 1 << 20


def cp_sha256(src, dst_dir):
    start = time.perf_counter()
    dst = Path(dst_dir) / "copy.bin"
    subprocess.run(["cp", str(src), str(dst)], check=True)
    subprocess.run(["sha256sum", str(dst)], check=True, capture_output=True)
    took = time.perf_counter() - start
    dst.unlink()
    return took


def upload(kiln, path, name):
    size = path.stat().st_size
    start = time.perf_counter()
    with open(path, "rb") as f:
        r = kiln.request("POST", f"/api/v1/projects/bench/artifacts?name={name}", f,
                         headers={"Content-Length": str(size)}, timeout=3600)
    took = time.perf_counter() - start
    assert r.status == 201, r
    return took, r.json()["digest"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kiln", default=None)
    ap.add_argument("--upload-mib", type=int, default=1024)
    ap.add_argument("--lines", type=int, default=2_000_000)
    ap.add_argument("--runs", type=int, default=2)
    args = ap.parse_args()
    if args.kiln:
        os.environ["KILN_BIN"] = args.kiln
    import kiln_server  # after KILN_BIN is set
    from test_limits import FLOOD, operation, run

    rows = []
    kiln = kiln_server.Kiln("--job-log-mb", "1024")
    try:
        kiln.api("POST", "/projects", {"name": "bench"})
        work = Path(tempfile.mkdtemp(prefix="kiln-bench-", dir=kiln.data.parent))
        src = work / "data.bin"
        with open(src, "wb") as f:
            block = os.urandom(MiB)
            for i in range(args.upload_mib):
                f.write(hashlib.sha256(block + i.to_bytes(4, "little")).digest() * (MiB // 32))
        peer = min(cp_sha256(src, work) for _ in range(args.runs))
        base = kiln.rss_kb()
        best = None
        for i in range(args.runs):
            # a fresh name and different bytes each run: never deduplicated
            with open(src, "r+b") as f:
                f.write(os.urandom(32))
            took, _ = upload(kiln, src, f"data-{i}.bin")
            best = took if best is None else min(best, took)
        growth = (kiln.hwm_kb() - base) / 1024
        mibs = args.upload_mib / best
        ratio = peer / best
        rows.append((f"upload {args.upload_mib} MiB: kiln", f"{mibs:.0f} MiB/s", ""))
        rows.append(("  cp + sha256sum, same disk", f"{args.upload_mib / peer:.0f} MiB/s", ""))
        rows.append(("  ratio kiln / (cp + sha256sum)", f"{ratio:.2f}",
                     "PASS" if ratio >= 0.8 else "MISS (goal >= 0.8)"))
        rows.append(("  server peak RSS growth", f"{growth:.0f} MiB",
                     "PASS" if growth <= 64 else "MISS (goal: bounded)"))
        shutil.rmtree(work)

        code = FLOOD.replace("2_000_000", f"{args.lines}")
        pipeline = operation(kiln, "bench", "flood", code)
        base = kiln.rss_kb()
        start = time.perf_counter()
        e = run(kiln, "bench", pipeline, timeout=3600)
        took = time.perf_counter() - start
        growth = (kiln.hwm_kb() - base) / 1024
        mb = args.lines * 100 / 1e6
        rows.append((f"job printing {args.lines:,} lines ({mb:.0f} MB)", f"{took:.1f} s", e["state"]))
        rows.append(("  server peak RSS growth", f"{growth:.0f} MiB",
                     "PASS" if growth <= 50 else "MISS (goal <= 50 MB)"))
    finally:
        kiln.stop()
    width = max(len(r[0]) for r in rows)
    for name, value, verdict in rows:
        print(f"{name:<{width}}  {value:>12}  {verdict}")


if __name__ == "__main__":
    main()
