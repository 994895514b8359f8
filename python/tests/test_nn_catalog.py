"""kiln.nn.catalog: the shipped src/nn/torch_catalog.json is what the installed torch gives,
and its layers have the shape docs/nn.md describes."""
import json
import os

import pytest

from kiln.nn import catalog

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SHIPPED = os.path.join(ROOT, "src", "nn", "torch_catalog.json")
REGENERATE = ("PYTHONPATH=python /usr/bin/python3 -m kiln.nn.catalog "
              "> src/nn/torch_catalog.json")
CATEGORIES = {"convolution", "pooling", "normalization", "recurrent", "transformer",
              "activation", "dropout", "linear", "embedding", "shape", "loss", "other"}


@pytest.fixture(scope="module")
def generated():
    return catalog.catalog()


@pytest.fixture(scope="module")
def layers(generated):
    return {layer["name"]: layer for layer in generated["layers"]}


def test_shipped_catalog_is_what_the_generator_produces(generated):
    with open(SHIPPED, encoding="utf-8") as f:
        shipped_text = f.read()
    if shipped_text == catalog.dumps(generated):
        return
    shipped = json.loads(shipped_text)
    assert shipped.get("torch") == generated["torch"], (
        f"the catalog was generated with torch {shipped.get('torch')}, this is "
        f"{generated['torch']}; regenerate it: {REGENERATE}")
    old = {layer["name"]: layer for layer in shipped["layers"]}
    new = {layer["name"]: layer for layer in generated["layers"]}
    for name in sorted(set(old) | set(new)):
        if old.get(name) != new.get(name):
            what = ("is missing from the shipped file" if name not in old else
                    "is no longer produced" if name not in new else "differs")
            pytest.fail(f"src/nn/torch_catalog.json is stale: layer {name} {what}; "
                        f"regenerate it: {REGENERATE}")
    pytest.fail(f"src/nn/torch_catalog.json differs in layout or order; regenerate it: "
                f"{REGENERATE}")


def test_every_layer_is_complete(generated):
    names = [layer["name"] for layer in generated["layers"]]
    assert len(names) == len(set(names))
    assert len(names) > 100  # every public torch.nn module, not a handful
    for layer in generated["layers"]:
        assert list(layer) == ["name", "category", "doc", "params", "inputs", "outputs"], layer
        assert layer["category"] in CATEGORIES, layer["name"]
        assert layer["doc"], f"{layer['name']} has no doc"
        assert layer["outputs"], f"{layer['name']} has no outputs"
        assert layer["inputs"], f"{layer['name']} has no inputs"
        for param in layer["params"]:
            assert not param["name"].startswith("_") and param["name"] not in ("device",
                                                                              "dtype")
            assert param["required"] == ("default" not in param), (layer["name"], param)
            assert param["type"], (layer["name"], param)
    keys = [(layer["category"], layer["name"]) for layer in generated["layers"]]
    assert keys == sorted(keys)


def test_skipped_bases_containers_and_lazy_modules(layers):
    for name in ("Module", "Sequential", "ModuleList", "RNNBase", "LazyConv2d", "LazyLinear",
                 "Container", "ParameterDict"):
        assert name not in layers
    assert {"Conv2d", "LSTM", "MultiheadAttention", "Identity", "CrossEntropyLoss"} <= set(layers)


def param(layer, name):
    return next(p for p in layer["params"] if p["name"] == name)


def test_conv2d(layers):
    conv = layers["Conv2d"]
    assert conv["category"] == "convolution"
    assert conv["doc"].startswith("Applies a 2D convolution")
    assert param(conv, "in_channels") == {
        "name": "in_channels", "type": "int", "required": True,
        "doc": "Number of channels in the input image"}
    assert param(conv, "kernel_size")["type"] == {"union": ["int", {"tuple": "int"}]}
    padding = param(conv, "padding")
    assert padding["type"] == {"union": [{"enum": ["same", "valid"]}, "int", {"tuple": "int"}]}
    assert padding["default"] == 0 and not padding["required"]
    assert param(conv, "padding_mode")["type"] == {
        "enum": ["circular", "reflect", "replicate", "zeros"]}
    assert param(conv, "bias")["default"] is True
    assert [p["name"] for p in conv["params"]][-1] == "padding_mode"  # device, dtype left out
    assert conv["inputs"] == [{"name": "input"}] and conv["outputs"] == [{"name": "output"}]


def test_lstm_from_its_docstring(layers):
    lstm = layers["LSTM"]
    assert lstm["category"] == "recurrent"
    assert [p["name"] for p in lstm["params"]] == [
        "input_size", "hidden_size", "num_layers", "bias", "batch_first", "dropout",
        "bidirectional", "proj_size"]
    assert param(lstm, "input_size")["required"] and param(lstm, "input_size")["type"] == "int"
    assert param(lstm, "num_layers")["default"] == 1
    assert param(lstm, "dropout") ["default"] == 0.0
    assert param(lstm, "proj_size")["default"] == 0
    assert lstm["inputs"] == [{"name": "input"}, {"name": "hx", "optional": True}]
    assert [o["name"] for o in lstm["outputs"]] == ["output", "h_n", "c_n"]
    rnn = layers["RNN"]
    assert param(rnn, "nonlinearity") == {
        "name": "nonlinearity", "type": {"enum": ["relu", "tanh"]}, "required": False,
        "default": "tanh", "doc": param(rnn, "nonlinearity")["doc"]}
    assert "proj_size" not in [p["name"] for p in rnn["params"]]
    assert [o["name"] for o in layers["GRU"]["outputs"]] == ["output", "h_n"]


def test_linear_and_others(layers):
    linear = layers["Linear"]
    assert param(linear, "in_features")["required"]
    assert param(linear, "out_features")["required"]
    assert not param(linear, "bias")["required"]
    mha = layers["MultiheadAttention"]
    assert [i["name"] for i in mha["inputs"]] == [
        "query", "key", "value", "key_padding_mask", "attn_mask"]  # need_weights is no port
    assert [o["name"] for o in mha["outputs"]] == ["attn_output", "attn_output_weights"]
    assert param(mha, "kdim")["type"] == {"optional": "int"}
    assert layers["ConvTranspose2d"]["inputs"] == [{"name": "input"}]  # output_size: no port
    assert layers["MaxPool2d"]["outputs"] == [{"name": "output"}]
    assert param(layers["Upsample"], "mode")["type"]["enum"] == [
        "bicubic", "bilinear", "linear", "nearest", "trilinear"]
    assert param(layers["TransformerEncoderLayer"], "activation")["default"] == "relu"
    assert layers["Embedding"]["category"] == "embedding"
    assert layers["Flatten"]["category"] == "shape"
    assert "_weight" not in [p["name"] for p in layers["Embedding"]["params"]]


def test_docstring_args_parser():
    doc = """Something.

    Args:
        a (int or tuple, optional): first
            continued. Default: 1
        b: second (with parens): colon
        mode (str): ``'x'`` or ``'y'``

    Shape:
        - Input: (N, C)
    """
    args = catalog.docstring_args(doc)
    assert args == {"a": ("int or tuple, optional", "first continued. Default: 1"),
                    "b": (None, "second (with parens): colon"),
                    "mode": ("str", "``'x'`` or ``'y'``")}
    assert catalog.type_from_text("int or tuple, optional") == {"union": ["int",
                                                                          {"tuple": "int"}]}
    assert catalog.type_from_text("Union[int, Tuple[int, int]]") == {
        "union": ["int", {"tuple": "int"}]}
    assert catalog.type_from_text("_size_2_t") == {"union": ["int", {"tuple": "int"}]}
    assert catalog.type_from_text("Optional[float]") == {"optional": "float"}
    assert catalog.string_choices(args["mode"][1]) == ["x", "y"]


def test_a_layer_that_cannot_be_built_is_named(monkeypatch):
    monkeypatch.setitem(catalog.SAMPLE_ARGS, "in_features", -1)
    from torch import nn
    with pytest.raises(catalog.CatalogError, match=r"^Linear\(in_features=-1"):
        catalog.describe(nn.Linear)
