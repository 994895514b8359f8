"""Code generation of the C++ side (`kiln nn analyze`), checked with torch:
every zoo architecture (and the digits CNN) becomes a module that
instantiates, runs a forward pass on its declared input shape, gives the
output shapes and the parameter count the analysis predicted, is accepted by
torch.jit.trace, and is byte-identical across two runs.

Needs the built binary (build/src/cli/kiln, or $KILN_BINARY); skipped without it.
"""
import glob
import json
import os
import subprocess

import pytest
import torch

from conftest import PYTHON_DIR

ROOT = os.path.dirname(PYTHON_DIR)
KILN = os.environ.get("KILN_BINARY") or os.path.join(ROOT, "build", "src", "cli", "kiln")
DOCUMENTS = sorted(glob.glob(os.path.join(ROOT, "examples", "*", "architectures", "*.json")))

pytestmark = pytest.mark.skipif(not os.access(KILN, os.X_OK),
                                reason=f"no kiln binary at {KILN} (build it: ninja -C build kiln)")

SIZES = {"N": 2}  # any other symbolic dimension: 7


def size(d):
    return SIZES.get(d, 7) if isinstance(d, str) else d


@pytest.fixture(scope="module")
def analyses():
    """One CLI call for every document (the binary starts once)."""
    docs = [json.load(open(p)) for p in DOCUMENTS]
    out = subprocess.run([KILN, "nn", "analyze", "-"], input=json.dumps(docs),
                         capture_output=True, text=True, check=True).stdout
    again = subprocess.run([KILN, "nn", "analyze", "-"], input=json.dumps(docs),
                           capture_output=True, text=True, check=True).stdout
    assert out == again, "the analysis (and the code) differ between two runs"
    return dict(zip(DOCUMENTS, json.loads(out))), dict(zip(DOCUMENTS, docs))


def test_the_examples_hold_architectures():
    names = {os.path.basename(p) for p in DOCUMENTS}
    for want in ("LeNet5.json", "ResNet18.json", "RedshiftInception.json", "UNet.json",
                 "LSTMClassifier.json", "TransformerClassifier.json", "DigitsCNN.json"):
        assert want in names


@pytest.mark.parametrize("path", DOCUMENTS, ids=os.path.basename)
def test_generated_module_matches_the_analysis(analyses, path):
    analysis = analyses[0][path]
    doc = analyses[1][path]
    assert analysis["ok"], analysis["errors"]
    namespace = {}
    exec(compile(analysis["code"], f"<generated {os.path.basename(path)}>", "exec"), namespace)
    model = namespace[analysis["main"]]()
    model.eval()
    params = sum(p.numel() for p in model.parameters())
    assert params == analysis["totals"]["parameters"]

    main = doc["architectures"][analysis["main"]]
    integer = any(n["type"] == "Embedding" for n in main["nodes"])
    inputs = []
    for node in main["nodes"]:
        if node["type"] == "Input":
            shape = [size(d) for d in node["params"]["shape"]]
            inputs.append(torch.randint(0, 4, shape) if integer else torch.randn(*shape))
    with torch.no_grad():
        out = model(*inputs)
    outs = out if isinstance(out, tuple) else (out,)
    want = [[size(d) for d in analysis["nodes"][n["id"]]["inputs"]["input"]]
            for n in main["nodes"] if n["type"] == "Output"]
    assert [list(o.shape) for o in outs] == want

    traced = torch.jit.trace(model, tuple(inputs), check_trace=False)
    with torch.no_grad():
        again = traced(*inputs)
    again = again if isinstance(again, tuple) else (again,)
    assert [list(o.shape) for o in again] == want


@pytest.mark.parametrize("path", DOCUMENTS, ids=os.path.basename)
def test_import_of_the_generated_code_round_trips(analyses, path):
    """Generated code → kiln.nn.importer → a document → generated again: the same parameter
    count and output shapes (the zoo's round trip through import)."""
    from kiln.nn.importer import import_module
    analysis = analyses[0][path]
    doc = analyses[1][path]
    main = doc["architectures"][analysis["main"]]
    shapes = [node["params"]["shape"] for node in main["nodes"] if node["type"] == "Input"]
    imported = import_module(analysis["code"], analysis["main"], shapes)
    again = json.loads(subprocess.run([KILN, "nn", "analyze", "-"], input=json.dumps(imported),
                                      capture_output=True, text=True).stdout)
    assert again["ok"], again["errors"]
    assert again["totals"]["parameters"] == analysis["totals"]["parameters"]
    outputs = lambda a, d: [a["nodes"][n["id"]]["inputs"]["input"]  # noqa: E731
                            for n in d["architectures"][a["main"]]["nodes"] if n["type"] == "Output"]
    assert outputs(again, imported) == outputs(analysis, doc)
