"""The libraries API against a real `kiln serve` (docs/libraries.md, "API"): the PyTorch
catalog, adding the library to a project (write access, idempotent), analysing a document
(shapes, errors, code; the torch fallback for a Custom layer), importing PyTorch code, and
the clear errors of each."""
import pytest

from kiln_server import Kiln

CNN = {"main": "Net", "architectures": {"Net": {
    "nodes": [{"id": "x", "type": "Input", "params": {"shape": ["N", 1, 28, 28]}},
              {"id": "conv", "type": "Conv2d", "params": {"out_channels": 8, "kernel_size": 3}},
              {"id": "pool", "type": "MaxPool2d", "params": {"kernel_size": 2}},
              {"id": "flat", "type": "Flatten"},
              {"id": "fc", "type": "Linear", "params": {"out_features": 10}},
              {"id": "y", "type": "Output"}],
    "edges": [["x", "conv"], ["conv", "pool"], ["pool", "flat"], ["flat", "fc"], ["fc", "y"]]}}}


@pytest.fixture(scope="module")
def kiln():
    k = Kiln("--auth", users=("alice", "bob"))
    assert k.api("POST", "/projects", {"name": "pa"}, user="alice").status == 201
    yield k
    k.stop()


def test_the_catalog_lists_torch_layers_and_builtin_types(kiln):
    libs = kiln.api("GET", "/libraries", user="bob").json()
    assert [l["name"] for l in libs] == ["torch"]
    types = {t["name"]: t for t in kiln.api("GET", "/libraries/torch", user="bob").json()["types"]}
    assert types["Conv2d"]["category"] == "convolution"
    padding = [p for p in types["Conv2d"]["params"] if p["name"] == "padding"][0]
    assert {"enum": ["same", "valid"]} in padding["type"]["union"]
    assert [p["name"] for p in types["LSTM"]["outputs"]] == ["output", "h_n", "c_n"]
    assert types["Concatenate"]["builtin"] and types["Concatenate"]["inputs"][0]["many"]
    missing = kiln.api("GET", "/libraries/keras", user="bob")
    assert missing.status == 404 and "torch" in missing.json()["error"]["message"]


def test_adding_the_library_needs_write_access_and_happens_once(kiln):
    assert kiln.api("POST", "/projects/pa/libraries", {"name": "torch"}, user="bob").status in (403, 404)
    first = kiln.api("POST", "/projects/pa/libraries", {"name": "torch", "branch": "main"},
                     user="alice")
    assert first.status == 200 and first.json()["added"] is True, first
    again = kiln.api("POST", "/projects/pa/libraries", {"name": "torch"}, user="alice")
    assert again.json() == {"added": False}
    tree = kiln.api("GET", "/projects/pa/tree?ref=main", user="alice")
    assert tree.status == 200 and b'"Conv2d"' in tree.body
    bad = kiln.api("POST", "/projects/pa/libraries", {"name": "keras"}, user="alice")
    assert bad.status == 400 and "no library 'keras'" in bad.json()["error"]["message"]


def test_analyze_gives_shapes_inferred_dimensions_and_code(kiln):
    a = kiln.api("POST", "/nn/analyze", CNN, user="bob").json()
    assert a["ok"] and a["errors"] == []
    assert a["nodes"]["fc"]["outputs"]["output"] == ["N", 10]
    assert a["nodes"]["fc"]["inferred"] == {"in_features": 1352}
    assert a["totals"]["parameters"] == 8 * 9 + 8 + 1352 * 10 + 10
    assert "self.fc = nn.Linear(1352, 10)" in a["code"]


def test_analyze_puts_an_error_on_the_layer_that_breaks(kiln):
    doc = {"main": "Net", "architectures": {"Net": dict(CNN["architectures"]["Net"])}}
    nodes = [dict(n) for n in doc["architectures"]["Net"]["nodes"]]
    nodes[2] = {"id": "pool", "type": "MaxPool2d", "params": {"kernel_size": 40}}
    doc["architectures"]["Net"]["nodes"] = nodes
    a = kiln.api("POST", "/nn/analyze", doc, user="bob").json()
    assert not a["ok"] and "code" not in a
    assert a["errors"] == [{"architecture": "Net", "node": "pool", "message":
                            "MaxPool2d 'pool': kernel 40 is larger than the input's height 26 "
                            "(28 → 26 after conv)"}]
    assert a["nodes"]["fc"]["outputs"] == {}


def test_a_malformed_document_is_a_400_naming_the_problem(kiln):
    r = kiln.api("POST", "/nn/analyze", {"main": "Net", "architectures": {"Net": {
        "nodes": [{"id": "c", "type": "Conv9d"}]}}}, user="bob")
    assert r.status == 400
    assert r.json()["error"]["message"] == "architecture 'Net', node 'c': unknown layer type 'Conv9d'"
    assert kiln.request("POST", "/api/v1/nn/analyze", b"{not json", user="bob").status == 400


def test_a_custom_layer_gets_its_shapes_from_torch(kiln):
    code = ("import torch\nfrom torch import nn\n\nclass Halve(nn.Module):\n"
            "    def forward(self, x):\n        return x[..., ::2]\n")
    doc = {"main": "Net", "architectures": {"Net": {
        "nodes": [{"id": "x", "type": "Input", "params": {"shape": ["N", 3, 10]}},
                  {"id": "h", "type": "Custom", "params": {"code": code, "class": "Halve"}},
                  {"id": "fc", "type": "Linear", "params": {"out_features": 2}}],
        "edges": [["x", "h"], ["h", "fc"]]}}}
    a = kiln.api("POST", "/nn/analyze", doc, user="bob").json()
    assert a["ok"], a
    assert a["nodes"]["h"]["outputs"]["output"] == ["N", 3, 5]
    assert a["nodes"]["fc"]["inferred"] == {"in_features": 5}


def test_import_turns_pytorch_code_into_a_document(kiln):
    code = ("import torch\nfrom torch import nn\n\nclass Tiny(nn.Module):\n"
            "    def __init__(self):\n        super().__init__()\n"
            "        self.fc = nn.Linear(4, 2)\n\n    def forward(self, x):\n"
            "        return torch.relu(self.fc(x))\n")
    r = kiln.api("POST", "/nn/import", {"code": code, "inputs": [["N", 4]]}, user="bob")
    assert r.status == 200, r
    doc = r.json()
    a = kiln.api("POST", "/nn/analyze", doc, user="bob").json()
    assert a["ok"] and a["totals"]["parameters"] == 10
    broken = code.replace("return torch.relu(self.fc(x))",
                          "if x.sum() > 0:\n            return x\n        return self.fc(x)")
    r = kiln.api("POST", "/nn/import", {"code": broken, "inputs": [["N", 4]]}, user="bob")
    assert r.status == 422
    assert "line 10 (`if x.sum() > 0:`)" in r.json()["error"]["message"], r.json()
