"""The model zoo (examples/zoo/architectures): every document builds and runs, counts match.

Each architecture is built by kiln.nn.build and run on a real input of its declared
shape with N=2; LeNet-5 and ResNet-18 are compared with hand-written / torchvision
references parameter for parameter count.
"""
import json
import os
import sys

import pytest
import torch
from torch import nn

from kiln.nn.build import build_module, example_inputs, summarize

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ZOO = os.path.join(ROOT, "examples", "zoo")
ARCHITECTURES = os.path.join(ZOO, "architectures")
NAMES = sorted(f[:-5] for f in os.listdir(ARCHITECTURES) if f.endswith(".json"))

# Output shapes of each network's forward on its declared input, N=2 (other names: 16).
EXPECTED = {
    "LeNet5": [(2, 10)],
    "VGG": [(2, 10)],
    "ResNet18": [(2, 1000)],
    "RedshiftInception": [(2, 32)],
    "UNet": [(2, 2, 64, 64)],
    "LSTMClassifier": [(2, 5)],
    "TransformerClassifier": [(2, 4)],
    "ConvAutoencoder": [(2, 64, 1, 1), (2, 1, 28, 28)],
    "GANGenerator": [(2, 1, 28, 28)],
    "GANDiscriminator": [(2, 1)],
}


def load(name):
    with open(os.path.join(ARCHITECTURES, name + ".json")) as f:
        return json.load(f)


def n_params(module):
    return sum(p.numel() for p in module.parameters())


def test_the_zoo_is_complete_and_its_files_are_what_the_script_writes():
    assert NAMES == sorted(EXPECTED)
    sys.path.insert(0, ZOO)
    try:
        import make_architectures
    finally:
        sys.path.remove(ZOO)
    for name, text in make_architectures.files().items():
        with open(os.path.join(ARCHITECTURES, name)) as f:
            assert f.read() == text, f"{name} is stale: run examples/zoo/make_architectures.py"


@pytest.mark.parametrize("name", NAMES)
def test_builds_and_runs_on_its_declared_shape(name):
    document = load(name)
    assert document["main"] == name
    torch.manual_seed(0)
    net = build_module(document)
    net.eval()
    with torch.no_grad():
        y = net(*example_inputs(document))
    outputs = list(y) if isinstance(y, tuple) else [y]
    assert [tuple(o.shape) for o in outputs] == EXPECTED[name]
    assert all(torch.isfinite(o).all() for o in outputs)


def test_lenet5_matches_a_hand_written_module():
    reference = nn.Sequential(
        nn.Conv2d(1, 6, 5), nn.Tanh(), nn.AvgPool2d(2),
        nn.Conv2d(6, 16, 5), nn.Tanh(), nn.AvgPool2d(2), nn.Flatten(),
        nn.Linear(16 * 5 * 5, 120), nn.Tanh(), nn.Linear(120, 84), nn.Tanh(), nn.Linear(84, 10))
    net = build_module(load("LeNet5"))
    assert n_params(net) == n_params(reference) == 61706
    # Same layers in the same order: copying the weights gives the same function.
    ours = [p for p in net.parameters()]
    for mine, theirs in zip(ours, reference.parameters()):
        assert mine.shape == theirs.shape
        mine.data.copy_(theirs.data)
    x = torch.randn(2, 1, 32, 32)
    assert torch.allclose(net(x), reference(x), atol=1e-6)


def test_resnet18_matches_torchvision_parameter_for_parameter():
    torchvision = pytest.importorskip("torchvision")
    reference = torchvision.models.resnet18(num_classes=1000)
    net = build_module(load("ResNet18"))
    assert n_params(net) == n_params(reference) == 11689512
    assert sorted(p.numel() for p in net.parameters()) == sorted(
        p.numel() for p in reference.parameters())
    # The same buffers (BatchNorm statistics) too.
    assert sum(b.numel() for b in net.buffers()) == sum(b.numel() for b in reference.buffers())


def test_redshift_inception_summary():
    s = summarize(load("RedshiftInception"))
    nodes = s["nodes"]
    assert nodes["inception1"]["outputs"] == {"y": [2, 256, 32, 32]}   # 4 branches × 64
    assert nodes["inception5"]["outputs"] == {"y": [2, 368, 8, 8]}     # 4 branches × 92
    assert nodes["fc1"]["inferred"] == {"in_features": 368 * 8 * 8}
    assert nodes["softmax"]["outputs"] == {"output": [2, 32]}


# --- The zoo as a project tree (examples/build.py, examples/architecture_tree.py) -------

def _examples_build():
    sys.path.insert(0, os.path.join(ROOT, "examples"))
    try:
        import build
    finally:
        sys.path.remove(os.path.join(ROOT, "examples"))
    return build


def _documents_from_ops(ops, guids):
    """Reads the architectures back from the create ops, with docs/libraries.md's rules only."""
    catalog = json.load(open(os.path.join(ROOT, "src", "nn", "torch_catalog.json")))
    types = [layer["name"] for layer in catalog["layers"]] + [
        "Input", "Output", "Concatenate", "Stack", "Add", "Multiply", "Reshape", "Permute",
        "Split", "Chunk", "Select", "Block", "Custom"]
    type_of = {guids.torch_meta(t): t for t in types}
    archs = {o["guid"]: o["attrs"]["name"] for o in ops
             if o["base"] == guids.torch_meta("Architecture")}
    documents = {name: {"nodes": [], "edges": []} for name in archs.values()}
    node_of = {}   # layer guid → (architecture name, node id = its name here)
    port_of = {}   # port guid → (node name, port name)
    for o in ops:
        if o["parent"] in archs and o["base"] in type_of:
            t = type_of[o["base"]]
            params = {k: v for k, v in o["attrs"].items() if k != "name"}
            if t == "Block":
                params["block"] = archs[o["pointers"]["block"]]
            node = {"id": o["attrs"]["name"], "type": t}
            if params:
                node["params"] = params
            documents[archs[o["parent"]]]["nodes"].append(node)
            node_of[o["guid"]] = node["id"]
            # The ports it inherits, by the derived-guid rule.
            for direction in ("input", "output"):
                for port in _port_names(catalog, t, direction):
                    meta_port = guids.derive_guid(o["base"], f"{direction}/{port}")
                    port_of[guids.derive_guid(o["guid"], meta_port)] = (node["id"], port)
        elif o["parent"] in node_of and o["base"] == guids.meta("Port"):
            port_of[o["guid"]] = (node_of[o["parent"]], o["attrs"]["name"])
        elif o["parent"] in archs and o["base"] == guids.meta("Connection"):
            src, dst = port_of[o["pointers"]["src"]], port_of[o["pointers"]["dst"]]
            documents[archs[o["parent"]]]["edges"].append([".".join(src), ".".join(dst)])
    return documents


def _port_names(catalog, t, direction):
    builtin = {"Input": ([], ["output"]), "Output": (["input"], []),
               "Split": (["input"], ["outputs"]), "Chunk": (["input"], ["outputs"]),
               "Block": ([], [])}
    for many in ("Concatenate", "Stack", "Add", "Multiply"):
        builtin[many] = (["inputs"], ["output"])
    for one in ("Reshape", "Permute", "Select", "Custom"):
        builtin[one] = (["input"], ["output"])
    if t in builtin:
        return builtin[t][direction == "output"]
    layer = next(x for x in catalog["layers"] if x["name"] == t)
    return [p["name"] for p in layer["inputs" if direction == "input" else "outputs"]]


def test_zoo_project_json_is_current_and_uses_the_torch_library():
    build = _examples_build()
    patch = build.build(build.HERE / "zoo")
    with open(os.path.join(ZOO, "project.json")) as f:
        assert json.load(f) == patch, "stale: run /usr/bin/python3 examples/build.py"
    assert patch["libraries"] == ["torch"]
    guids = sys.modules["guids"]
    folder = [o for o in patch["ops"] if o["attrs"].get("name") == "Architectures"]
    assert len(folder) == 1 and folder[0]["base"] == guids.meta("Folder")
    # Every guid is created once; every pointer names a node created before it.
    created = set()
    for o in patch["ops"]:
        assert o["guid"] not in created
        assert o["parent"] == guids.ROOT or o["parent"] in created
        created.add(o["guid"])


@pytest.mark.parametrize("name", ["ResNet18", "LSTMClassifier", "RedshiftInception", "UNet"])
def test_the_tree_reads_back_as_the_same_architecture(name):
    build = _examples_build()
    patch = build.build(build.HERE / "zoo")
    guids = sys.modules["guids"]
    documents = _documents_from_ops(patch["ops"], guids)
    original = load(name)
    # Nodes named by their names, edges with explicit ports: the same network.
    read_back = {"main": name, "architectures": {
        n: documents[n] for n in original["architectures"]}}
    for arch in original["architectures"]:
        assert len(documents[arch]["edges"]) == len(original["architectures"][arch]["edges"])
    torch.manual_seed(0)
    a = build_module(original)
    torch.manual_seed(0)
    b = build_module(read_back)
    assert n_params(a) == n_params(b)
    a.eval(), b.eval()
    xs = example_inputs(original)
    with torch.no_grad():
        assert torch.allclose(a(*xs), b(*xs), atol=1e-5)
