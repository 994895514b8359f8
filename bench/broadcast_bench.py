#!/usr/bin/env python3
"""broadcast_bench: how long a commit takes to reach the editors watching a
branch, when they are connected to the server that made it and when they are
connected to another server on the same PostgreSQL (docs/store.md, "Several
servers"). Prints figures; no goals; exits 1 only when it cannot run.

Two `kiln serve` processes, A and B, on one throwaway PostgreSQL
(tests/server/postgres_server.py). --clients (20) WebSocket clients
subscribe to one branch on A and as many on B. A writer sends --patches
(200) small patches over A's WebSocket, one every --interval-ms (20); for
each, the time from sending it to each client's receipt of its commit
message: p50/p99 on A (one server: the hub broadcasts it) and on B (across
servers: PostgreSQL NOTIFY → B's watcher → B's hub diffs and broadcasts),
and the ratio.

Usage: bench/broadcast_bench.py [--kiln PATH] [--quick] [--clients N]
       [--patches N] [--interval-ms MS]
"""
import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "server"))

from kiln_server import Kiln, meta_guids  # noqa: E402
from postgres_server import PostgresServer  # noqa: E402
from wsclient import WebSocket  # noqa: E402


def percentile(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kiln", default=str(ROOT / "build" / "src" / "cli" / "kiln"))
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--patches", type=int, default=200)
    ap.add_argument("--interval-ms", type=float, default=20)
    args = ap.parse_args()
    if args.quick:
        args.clients, args.patches = 4, 30
    os.environ["KILN_BIN"] = args.kiln
    pg = PostgresServer().start()
    try:
        with tempfile.TemporaryDirectory(prefix="kiln-broadcast-bench-") as tmp:
            config = Path(tmp) / "kiln.toml"
            config.write_text('[database]\nkind = "postgres"\n'
                              f'conninfo = "{pg.conninfo(pg.create_database())}"\n')
            a, b = Kiln("--config", str(config)), Kiln("--config", str(config))
            try:
                return run(args, a, b)
            finally:
                a.stop()
                b.stop()
    finally:
        pg.stop()


def run(args, a, b):
    assert a.api("POST", "/projects", {"name": "bench"}).status == 201
    m = meta_guids(a, "bench")
    sent = {}  # commit-request seq -> send time
    received = {"a": [], "b": []}
    lock = threading.Lock()
    done = threading.Event()

    def listen(server, name):
        ws = WebSocket(server.port, timeout=60)
        ws.send({"type": "subscribe", "project": "bench", "branch": "main"})
        ws.recv_until("subscribed")
        ready.release()
        seen = 0
        while seen < args.patches:
            msg = ws.recv()
            if msg.get("type") != "commit":
                continue
            now = time.perf_counter()
            names = [op.get("attrs", {}).get("name") for op in msg.get("ops", [])]
            for n in names:
                if n in sent:
                    with lock:
                        received[name].append(now - sent[n])
            seen += 1
        ws.close()

    ready = threading.Semaphore(0)
    threads = [threading.Thread(target=listen, args=(srv, name), daemon=True)
               for srv, name in ((a, "a"), (b, "b")) for _ in range(args.clients)]
    for t in threads:
        t.start()
    for _ in threads:
        ready.acquire()
    writer = WebSocket(a.port, timeout=60)
    writer.send({"type": "subscribe", "project": "bench", "branch": "main"})
    writer.recv_until("subscribed")
    for i in range(args.patches):
        name = f"n{i}"
        sent[name] = time.perf_counter()
        writer.send({"type": "patch", "project": "bench", "branch": "main", "seq": i,
                     "message": "bench", "ops": [
                         {"op": "create", "guid": str(uuid.uuid4()), "parent": m["ROOT"],
                          "base": m["Folder"], "attrs": {"name": name}}]})
        time.sleep(args.interval_ms / 1000)
    for t in threads:
        t.join(timeout=120)
    done.set()
    writer.close()
    la, lb = received["a"], received["b"]
    if not la or not lb:
        print("broadcast_bench: no commits arrived", file=sys.stderr)
        return 1
    print(f"broadcast_bench: {args.patches} patches sent to server A every {args.interval_ms} ms, "
          f"{args.clients} clients on A and {args.clients} on B, one PostgreSQL")
    print(f"  {'where the client is':<40} {'p50 ms':>8} {'p99 ms':>8} {'received':>9}")
    for label, xs in (("on A (the server that commits)", la), ("on B (another server)", lb)):
        print(f"  {label:<40} {statistics.median(xs) * 1e3:8.2f} {percentile(xs, 99) * 1e3:8.2f} "
              f"{len(xs):9d}")
    print(f"  p99 B / A: {percentile(lb, 99) / percentile(la, 99):.2f}   "
          f"p50 B / A: {statistics.median(lb) / statistics.median(la):.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
