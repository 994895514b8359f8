#!/usr/bin/env python3
"""nn_bench: design-time shape inference of a generated 1,000-layer architecture (merges and
nested blocks), C++ (build/bench/nn_bench: parse + analyse, and code generation) side by side
with torch's own shape propagation of the same network in one process (torch.fx trace of the
generated module + ShapeProp on meta tensors). Prints figures, the goal, and the ratio.

    /usr/bin/python3 bench/nn_bench.py [--layers 1000] [--build build]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def architecture(layers: int) -> dict:
    """A ResNet-like chain: each stage a residual Block (8 nodes inside), a two-branch
    concatenation and a 1x1 convolution back to 32 channels (6 nodes): ~1,000 main nodes."""
    res = {"nodes": [
        {"id": "x", "type": "Input", "params": {"shape": ["N", 32, "H", "W"]}},
        {"id": "c1", "type": "Conv2d", "params": {"out_channels": 32, "kernel_size": 3, "padding": 1}},
        {"id": "b1", "type": "BatchNorm2d"},
        {"id": "r1", "type": "ReLU"},
        {"id": "c2", "type": "Conv2d", "params": {"out_channels": 32, "kernel_size": 3, "padding": 1}},
        {"id": "b2", "type": "BatchNorm2d"},
        {"id": "add", "type": "Add"},
        {"id": "y", "type": "Output"}],
        "edges": [["x", "c1"], ["c1", "b1"], ["b1", "r1"], ["r1", "c2"], ["c2", "b2"],
                  ["b2", "add"], ["x", "add"], ["add", "y"]]}
    nodes = [{"id": "img", "type": "Input", "params": {"shape": ["N", 32, 16, 16]}}]
    edges = []
    prev = "img"
    i = 0
    while len(nodes) < layers - 1:
        i += 1
        stage = [
            {"id": f"res{i}", "type": "Block", "params": {"block": "Res"}},
            {"id": f"a{i}", "type": "Conv2d", "params": {"out_channels": 16, "kernel_size": 1}},
            {"id": f"b{i}", "type": "Conv2d", "params": {"out_channels": 16, "kernel_size": 3, "padding": 1}},
            {"id": f"cat{i}", "type": "Concatenate", "params": {"dim": 1}},
            {"id": f"mix{i}", "type": "Conv2d", "params": {"out_channels": 32, "kernel_size": 1}},
            {"id": f"act{i}", "type": "ReLU"},
        ]
        nodes += stage
        edges += [[prev, f"res{i}"], [f"res{i}", f"a{i}"], [f"res{i}", f"b{i}"],
                  [f"a{i}", f"cat{i}"], [f"b{i}", f"cat{i}"], [f"cat{i}", f"mix{i}"],
                  [f"mix{i}", f"act{i}"]]
        prev = f"act{i}"
    nodes.append({"id": "out", "type": "Output"})
    edges.append([prev, "out"])
    return {"main": "Deep", "architectures": {"Res": res, "Deep": {"nodes": nodes, "edges": edges}}}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--layers", type=int, default=1000)
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--repeat", type=int, default=30)
    args = ap.parse_args()
    doc = architecture(args.layers)
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(doc, f)
        path = f.name
    bench = os.path.join(args.build, "bench", "nn_bench")
    kiln = os.path.join(args.build, "src", "cli", "kiln")
    cpp = json.loads(subprocess.run([bench, path, "--repeat", str(args.repeat)], check=True,
                                    capture_output=True, text=True).stdout)
    code = subprocess.run([kiln, "nn", "code", path], check=True, capture_output=True,
                          text=True).stdout
    import torch
    import torch.fx
    from torch.fx.passes.shape_prop import ShapeProp
    namespace = {}
    exec(compile(code, "<generated>", "exec"), namespace)
    model = namespace["Deep"]().to("meta")
    x = torch.empty(2, 32, 16, 16, device="meta")
    times = []
    for _ in range(3):
        t0 = time.perf_counter()
        gm = torch.fx.symbolic_trace(model)
        ShapeProp(gm).propagate(x)
        times.append((time.perf_counter() - t0) * 1000)
    torch_ms = sorted(times)[len(times) // 2]
    main_nodes = len(doc["architectures"]["Deep"]["nodes"])
    print(f"nn_bench: {main_nodes} nodes in the main architecture ({cpp['nodes']} in all, "
          f"{main_nodes // 6} residual blocks used by reference)")
    print(f"  C++ parse the JSON   {cpp['parse_ms_median']:8.2f} ms median")
    print(f"  C++ shapes           {cpp['analyse_ms_median']:8.2f} ms median   goal ≤ 5 ms   "
          f"{'PASS' if cpp['analyse_ms_median'] <= 5 else 'MISS'}")
    print(f"  C++ code generation  {cpp['codegen_ms_median']:8.2f} ms median")
    print(f"  torch fx + ShapeProp (meta) {torch_ms:8.2f} ms median")
    print(f"  ratio torch / C++ (parse + shapes) {torch_ms / max(cpp['analyse_ms_median'] + cpp['parse_ms_median'], 1e-6):8.1f}x")
    os.unlink(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
