"""C++ shape inference (`kiln nn analyze`) agrees with torch.

1. 1,000 random documents (kiln.nn.randomarch, shapes and validity from torch itself), sent
   to the CLI in one call: C++ reports an error exactly when torch rejects the document, on
   the same node; every node's output shapes and automatic dimensions are torch's (a symbolic
   batch checked at N=2 and N=3); and the generated code runs in torch, with every layer
   submodule's outputs and the forward's results of those shapes (or raises for an invalid
   document).
2. torch's own per-module samples (torch.testing._internal.common_modules.module_db): each
   sample as a one-layer document; C++'s output shapes are those of the module on the
   sample's inputs.

The binary: $KILN_BIN, else build/src/cli/kiln of this checkout; skipped when there is none,
or when it has no `nn analyze` yet.  A failure prints the seed and the document:
`PYTHONPATH=python /usr/bin/python3 -m kiln.nn.randomarch SEED` prints it again.
"""
import json
import math
import os
import re
import subprocess
import sys
import types
import unittest
import warnings
from pathlib import Path

import pytest
import torch

from kiln.nn import randomarch, reference

ROOT = Path(__file__).resolve().parents[2]
KILN = Path(os.environ.get("KILN_BIN", ROOT / "build" / "src" / "cli" / "kiln"))
SEEDS = range(1000)
SHOWN = 5  # failures spelled out in full; the rest are counted


def analyze(documents):
    """`kiln nn analyze -` on a JSON array of documents: the array of analyses."""
    proc = subprocess.run([str(KILN), "nn", "analyze", "-"], input=json.dumps(documents),
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, f"kiln nn analyze failed ({proc.returncode}):\n{proc.stderr}"
    analyses = json.loads(proc.stdout)
    assert isinstance(analyses, list) and len(analyses) == len(documents)
    return analyses


@pytest.fixture(scope="module")
def cli():
    if not KILN.exists():
        pytest.skip(f"{KILN} is not built (set KILN_BIN)")
    probe = subprocess.run([str(KILN), "nn", "analyze", "-"], input="[]",
                           capture_output=True, text=True, timeout=60)
    if probe.returncode != 0:
        pytest.skip(f"{KILN} has no `nn analyze`: {probe.stderr.strip()[:200]}")
    return analyze


# ---- shapes -----------------------------------------------------------------------------------

SAFE_EXPRESSION = re.compile(r"^[A-Za-z_0-9\s+\-*/()%,]+$")


def dim_value(dim, subst: dict):
    """A C++ dimension (int, or a symbolic expression string) with the symbols substituted."""
    if isinstance(dim, int):
        return dim
    if not isinstance(dim, str) or not SAFE_EXPRESSION.match(dim):
        raise ValueError(f"not a dimension: {dim!r}")
    names = {"floor": math.floor, "ceil": math.ceil, "min": min, "max": max, **subst}
    value = eval(dim, {"__builtins__": {}}, names)  # noqa: S307 (checked characters only)
    if value != int(value):
        raise ValueError(f"{dim!r} is not a whole number at {subst}")
    return int(value)


def concrete(shape, subst: dict):
    """A C++ port value (a shape, or a tuple as a list of shapes) with symbols substituted."""
    if shape and isinstance(shape[0], list):
        return [concrete(s, subst) for s in shape]
    return [dim_value(d, subst) for d in shape]


def cpp_port_shapes(analysis: dict, node: dict):
    """The node's output shapes from C++, in the order of its ports; None when it has none."""
    entry = (analysis.get("nodes") or {}).get(node["id"]) or {}
    outputs = entry.get("outputs")
    if not outputs:
        return None
    ports = reference.ports(node["type"])[1]
    return [outputs.get(p) for p in ports]


def same_inferred(cpp: dict, torch_side: dict) -> bool:
    """C++'s `inferred` equals the reference's; LayerNorm's normalized_shape may be written
    as the last dim (an int) or as a one-element list."""
    def norm(d):
        return {k: (v[0] if isinstance(v, list) and len(v) == 1 else v) for k, v in d.items()}
    return norm(cpp or {}) == norm(torch_side or {})


# ---- the generated code -----------------------------------------------------------------------

def load_module(code: str, class_name: str):
    namespace = {"__name__": "kiln_generated"}
    exec(compile(code, "<generated>", "exec"), namespace)  # noqa: S102 (our own C++'s output)
    return namespace[class_name]


def run_code(doc: dict, code: str, subst: dict):
    """Builds the generated module and calls it on example inputs.  Returns (submodule name →
    output shapes, forward result shapes)."""
    arch = doc["architectures"][doc["main"]]
    cls = load_module(code, doc["main"])
    model = cls()
    model.eval()
    recorded = {}

    def hook(name):
        def record(module, args, output):  # returns None: a hook's result replaces the output
            recorded[name] = [reference.shape_of(v) for v in reference.flatten(output)]
        return record

    for name, module in model.named_children():
        module.register_forward_hook(hook(name))
    inputs = reference.example_inputs(doc, subst, torch.Generator().manual_seed(0))
    args = [inputs[n["id"]] for n in arch["nodes"] if n["type"] == "Input"]
    with torch.no_grad():
        result = model(*args)
    outputs = [list(result.shape)] if isinstance(result, torch.Tensor) else [
        reference.shape_of(v) for v in result]
    return recorded, outputs


def expected_outputs(arch: dict, shapes: dict) -> list:
    """Torch's shapes of what feeds each Output node, in node order."""
    nodes = {n["id"]: n for n in arch["nodes"]}
    out = []
    for node in arch["nodes"]:
        if node["type"] != "Output":
            continue
        src = next(s for s, d in arch["edges"] if reference.parse_end(d)[0] == node["id"])
        src_node, port = reference.parse_end(src)
        ports = reference.ports(nodes[src_node]["type"])[1]
        out.append(shapes[src_node][ports.index(port) if port else 0])
    return out


# ---- 1. random documents ----------------------------------------------------------------------

def check_case(case: dict, analysis: dict) -> list:
    """What C++ (and its generated code) gets wrong about one case: a list of sentences."""
    doc = case["document"]
    arch = doc["architectures"][doc["main"]]
    problems = []
    errors = analysis.get("errors") or []
    error_node = case["error_node"]
    if error_node is None and errors:
        problems.append(f"C++ reports an error torch does not raise: {errors[0]}")
    elif error_node is not None and not errors:
        problems.append(f"torch rejects node {error_node}, C++ reports no error")
    elif errors and errors[0].get("node") != error_node:
        problems.append(f"torch rejects node {error_node}, C++ reports {errors[0]}")
    elif errors:
        node = next(n for n in arch["nodes"] if n["id"] == error_node)
        if node["type"] not in errors[0].get("message", "") or error_node not in errors[0].get(
                "message", ""):
            problems.append(f"the error message names neither the layer type {node['type']} "
                            f"nor the node {error_node}: {errors[0]}")
    if analysis.get("ok") != (error_node is None):
        problems.append(f"ok is {analysis.get('ok')!r}")
    for node in arch["nodes"]:
        if node["type"] == "Output" or node["id"] == error_node:
            continue
        cpp = cpp_port_shapes(analysis, node)
        if cpp is None:
            problems.append(f"C++ gives no output shapes for {node['id']}")
            continue
        for run in case["runs"]:
            try:
                got = [concrete(s, run["subst"]) if s is not None else None for s in cpp]
            except (ValueError, NameError, SyntaxError, TypeError, ZeroDivisionError) as e:
                problems.append(f"{node['id']}: C++ shapes {cpp}: {e}")
                break
            want = run["shapes"][node["id"]]
            if got != want:
                problems.append(f"{node['id']} ({node['type']}): C++ {cpp} → {got} at "
                                f"{run['subst'] or 'concrete'}, torch {want}")
                break
        entry = analysis["nodes"][node["id"]]
        want_inferred = case["runs"][0]["inferred"].get(node["id"], {})
        if not same_inferred(entry.get("inferred"), want_inferred):
            problems.append(f"{node['id']}: C++ inferred {entry.get('inferred')}, "
                            f"torch needed {want_inferred}")
    problems += check_code(case, analysis)
    return problems


def check_code(case: dict, analysis: dict) -> list:
    doc = case["document"]
    arch = doc["architectures"][doc["main"]]
    code = analysis.get("code")
    if not code:
        # An analysis with errors may come without code; a valid one must have it.
        return [] if case["error_node"] else ["no generated code"]
    run = case["runs"][0]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            recorded, outputs = run_code(doc, code, run["subst"])
    except Exception as e:
        if case["error_node"]:
            return []
        return [f"the generated code fails: {type(e).__name__}: {e}\n{code}"]
    if case["error_node"]:
        return [f"the generated code runs, but torch rejects node {case['error_node']}\n{code}"]
    problems = []
    want = expected_outputs(arch, run["shapes"])
    if outputs != want:
        problems.append(f"the generated forward returns shapes {outputs}, torch {want}\n{code}")
    for node in arch["nodes"]:
        if node["id"] in recorded and recorded[node["id"]] != run["shapes"][node["id"]]:
            problems.append(f"generated submodule {node['id']} gives {recorded[node['id']]}, "
                            f"torch {run['shapes'][node['id']]}")
    return problems


def test_random_documents_agree_with_torch(cli):
    cases = [randomarch.generate(seed) for seed in SEEDS]
    analyses = cli([case["document"] for case in cases])
    failures = []
    for seed, case, analysis in zip(SEEDS, cases, analyses):
        problems = check_case(case, analysis)
        if problems:
            failures.append((seed, case, problems))
    if failures:
        shown = "\n\n".join(
            f"seed {seed}: " + "\n  ".join(problems) + "\ndocument: "
            + json.dumps(case["document"]) for seed, case, problems in failures[:SHOWN])
        pytest.fail(f"{len(failures)} of {len(cases)} random documents disagree with torch "
                    f"(seeds {[f[0] for f in failures[:50]]}):\n\n{shown}")


# ---- 2. torch's module samples ----------------------------------------------------------------

# The layer types whose samples are checked: those with a C++ rule (src/nn/rules_*.cc) that
# module_db has samples for.  (module_db also has Bilinear, the RNN cells, Transformer and
# losses; they have no rule, or their samples pass tuples.)
COVERED = {"Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d",
           "ConvTranspose3d", "MaxPool2d", "AvgPool1d", "AdaptiveAvgPool2d", "BatchNorm2d",
           "BatchNorm3d", "Linear", "ReLU", "ELU", "Hardswish", "Sigmoid", "Embedding", "RNN",
           "LSTM", "GRU", "MultiheadAttention", "TransformerEncoderLayer",
           "TransformerDecoderLayer"}


def module_samples():
    """(type, params, forward tensors by port, sample description) for each usable sample."""
    if "expecttest" not in sys.modules:
        # common_utils imports expecttest (a test-only package Debian's torch lacks) for two
        # names it does not use here.
        stub = types.ModuleType("expecttest")
        stub.TestCase, stub.ACCEPT = unittest.TestCase, False
        sys.modules["expecttest"] = stub
    with warnings.catch_warnings():  # its imports warn about distutils
        warnings.simplefilter("ignore")
        from torch.testing._internal.common_modules import module_db
    from kiln.nn import catalog
    out = []
    for info in module_db:
        name = info.module_cls.__name__
        if name not in COVERED:
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            samples = info.module_inputs_func(info, device="cpu", dtype=torch.float32,
                                              requires_grad=False, training=False)
        param_names = [p["name"] for p in catalog.layer_params(info.module_cls)]
        in_ports = reference.ports(name)[0]
        for i, sample in enumerate(samples):
            ctor, fwd = sample.constructor_input, sample.forward_input
            params = dict(zip(param_names, ctor.args))
            params.update({k: v for k, v in ctor.kwargs.items() if k not in ("device", "dtype")})
            if params.get("return_indices"):
                continue  # (output, indices): the catalog's MaxPool has one port, `output`
            params = {k: (v.__name__ if callable(v) else list(v) if isinstance(v, tuple) else v)
                      for k, v in params.items()}
            try:
                json.dumps(params)
            except TypeError:
                continue  # a tensor argument: not a design-time value
            tensors = dict(zip(in_ports, fwd.args))
            tensors.update({k: v for k, v in fwd.kwargs.items() if v is not None})
            if not all(isinstance(v, torch.Tensor) and k in in_ports
                       for k, v in tensors.items()):
                continue  # an hx tuple, need_weights=False, …: not one tensor per port
            out.append((name, params, tensors, f"{name} sample {i}"))
    return out


def sample_document(name, params, tensors) -> dict:
    nodes = [{"id": f"x_{port}", "type": "Input", "params": {"shape": list(t.shape)}}
             for port, t in tensors.items()]
    nodes.append({"id": "m", "type": name, "params": params})
    edges = [[f"x_{port}", f"m.{port}"] for port in tensors]
    for port in reference.ports(name)[1]:
        nodes.append({"id": f"out_{port}", "type": "Output"})
        edges.append([f"m.{port}", f"out_{port}"])
    return {"main": "Sample", "architectures": {"Sample": {"nodes": nodes, "edges": edges}}}


def test_module_db_samples_agree_with_torch(cli):
    samples = module_samples()
    assert len(samples) >= 50, "module_db gave fewer samples than expected"
    expected, documents = [], []
    for name, params, tensors, what in samples:
        module = getattr(torch.nn, name)(**params)
        module.eval()
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = reference.flatten(module(**tensors))
        expected.append([reference.shape_of(v) for v in result])
        documents.append(sample_document(name, params, tensors))
    failures = []
    for (name, params, tensors, what), doc, want, analysis in zip(
            samples, documents, expected, cli(documents)):
        node = {"id": "m", "type": name}
        cpp = cpp_port_shapes(analysis, node)
        try:
            got = [concrete(s, {}) if s is not None else None for s in cpp] if cpp else None
        except ValueError as e:
            got = str(e)
        if analysis.get("errors") or got != want:
            failures.append(f"{what}: torch {want}, C++ {got} {analysis.get('errors') or ''}"
                            f"\ndocument: {json.dumps(doc)}")
    assert not failures, (f"{len(failures)} of {len(samples)} module_db samples disagree:\n"
                          + "\n".join(failures[:10]))
