#!/usr/bin/env python3
"""pipeline_bench: an example pipeline's wall time in Kiln, split by job, side
by side with the same operations run by the pipeline exported to plain Python
(docs/provenance.md, "Export") in the same run — Kiln's overhead as a ratio.

  kiln     a fresh `kiln serve` with the examples; the pipeline run forced
           (every job runs); per job: queued → started → finished
  export   GET …/pipelines/{guid}/export, unzipped, `python3 main.py` with
           Kiln's package off the path; its wall time

Default: the redshift example at its default size (bench/run --only redshift).
--set Operation.attribute=value changes attributes in both (a patch for Kiln,
an option for main.py), e.g. a smaller size for a smoke run.
Prints a table; exits 1 only when it cannot run.
"""
import argparse
import io
import json
import os
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "server"))
sys.path.insert(0, str(ROOT / "python"))
from kiln.export_plan import _kebab  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--kiln", default=str(ROOT / "build" / "src" / "cli" / "kiln"))
    ap.add_argument("--project", default="redshift")
    ap.add_argument("--pipeline", default=None, help="its name (default: the project's only one)")
    ap.add_argument("--set", action="append", default=[], metavar="OP.ATTR=VALUE")
    args = ap.parse_args()
    os.environ["KILN_BIN"] = args.kiln
    import kiln_server  # noqa: E402  (after KILN_BIN)

    # A server that opens with the repository's examples.
    server = kiln_server.Kiln.__new__(kiln_server.Kiln)
    tmp = tempfile.TemporaryDirectory(prefix="kiln-pipeline-bench-")
    port = kiln_server.free_port()
    log = open(Path(tmp.name) / "server.log", "w")
    proc = subprocess.Popen([args.kiln, "--data", str(Path(tmp.name) / "data"), "serve", "--port",
                             str(port), "--examples", str(ROOT / "examples"), "--web", ""],
                            stdout=log, stderr=subprocess.STDOUT)
    server.port, server.tokens, server.proc = port, {}, proc
    try:
        deadline = time.time() + 120
        while time.time() < deadline:
            try:
                if server.api("GET", "/health").status == 200:
                    break
            except OSError:
                time.sleep(0.3)
        tree = server.api("GET", f"/projects/{args.project}/tree").json()["tree"]["nodes"]
        # Pipelines: nodes whose base is the Pipeline meta type.
        pipelines = {g: n for g, n in tree.items()
                     if (tree.get(n.get("base") or "", {}).get("attrs") or {}).get("name") == "Pipeline"
                     and (n.get("attrs") or {}).get("name")}
        if args.pipeline:
            pipelines = {g: n for g, n in pipelines.items() if n["attrs"]["name"] == args.pipeline}
        if len(pipelines) != 1:
            sys.exit(f"pipeline_bench: say which pipeline (--pipeline); found "
                     f"{[n['attrs']['name'] for n in pipelines.values()]}")
        (guid, node), = pipelines.items()
        name = node["attrs"]["name"]
        options = []
        ops = []
        for item in args.set:
            key, _, value = item.partition("=")
            op_name, _, attr = key.rpartition(".")
            inst = [g for g, n in tree.items()
                    if n.get("parent") == guid and (n.get("attrs") or {}).get("name") == op_name]
            if len(inst) != 1:
                sys.exit(f"pipeline_bench: no operation '{op_name}' in {name}")
            ops.append({"op": "set_attr", "node": inst[0], "name": attr, "value": json.loads(value)})
            # main.py's option for it (kiln.export_plan names them).
            options += [f"--{_kebab(op_name, 'operation')}-{_kebab(attr, 'attribute')}", value]
        if ops:
            r = server.api("POST", f"/projects/{args.project}/branches/main/patches",
                           {"message": "bench size", "ops": ops})
            assert r.status == 201, r

        start = time.perf_counter()
        r = server.api("POST", f"/projects/{args.project}/executions",
                       {"pipeline": guid, "force": True})
        assert r.status == 201, r
        execution = r.json()["id"]
        while True:
            e = server.api("GET", f"/executions/{execution}").json()
            if e["state"] != "running":
                break
            time.sleep(0.2)
        kiln_wall = time.perf_counter() - start
        if e["state"] != "succeeded":
            sys.exit(f"pipeline_bench: the execution {e['state']}: {e['reason']}")

        z = server.request("GET", f"/api/v1/projects/{args.project}/pipelines/{guid}/export")
        assert z.status == 200, z
        out = Path(tmp.name) / "export"
        zipfile.ZipFile(io.BytesIO(z.body)).extractall(out)
        (folder,) = [p for p in out.iterdir() if p.is_dir()]
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        work = Path(tmp.name) / "work"
        work.mkdir()
        start = time.perf_counter()
        done = subprocess.run(["/usr/bin/python3", str(folder / "main.py"), *options],
                              cwd=work, env=env, capture_output=True, text=True)
        export_wall = time.perf_counter() - start
        if done.returncode != 0:
            sys.exit(f"pipeline_bench: main.py failed:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")

        rows = [("pipeline", f"{args.project} / {name}" + (f" ({', '.join(args.set)})" if args.set else ""))]
        for j in e["jobs"]:
            if j["started_ms"] and j["finished_ms"]:
                rows.append((f"kiln job {j['name']}", f"{(j['finished_ms'] - j['started_ms']) / 1000:.2f} s"
                             f" (queued → started {(j['started_ms'] - j['queued_ms']) / 1000:.2f} s)"))
        rows += [("kiln: execution, start → end", f"{kiln_wall:.2f} s"),
                 ("plain python3 main.py (export)", f"{export_wall:.2f} s"),
                 ("kiln / plain - 1", f"{(kiln_wall / export_wall - 1) * 100:+.1f} %")]
        width = max(len(k) for k, _ in rows)
        print("\n== pipeline_bench ==")
        for k, v in rows:
            print(f"{k:<{width}}  {v}")
    finally:
        proc.terminate()
        proc.wait(30)
        log.close()
        tmp.cleanup()


if __name__ == "__main__":
    main()
