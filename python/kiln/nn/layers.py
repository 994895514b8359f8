"""A document node of a torch.nn layer type: its class, its ports, its automatic dimensions.

The one place that says, for the layers of ``torch.nn`` (docs/nn.md "The layer catalog" and
"Automatic dimensions"):

* ``layer_class(type)``: the class, or None for a name that is no layer;
* ``ports(type)``: the input and output port names the catalog gives it (the tensor
  arguments of ``forward``; a tuple result is one port per element, catalog.TUPLE_OUTPUTS);
* ``automatic_dims(type, shapes)``: the automatic dimensions (in_channels, in_features, …)
  read from the shapes that reach the node; ``fill_automatic`` adds those left out;
* ``instantiate(type, params)``: the layer, JSON lists turned back into tuples.

build.py, reference.py, fxgraph.py (and through torchnn the fallback) create their layers
with these, so the C++ analysis is compared against one reading of the rules.
"""
import inspect

from torch import nn

from kiln.nn import catalog


def layer_class(type_name: str):
    """The torch.nn module class named ``type_name``, or None when there is none."""
    if not isinstance(type_name, str) or type_name.startswith("_"):
        return None
    cls = getattr(nn, type_name, None)
    if isinstance(cls, type) and issubclass(cls, nn.Module) and cls is not nn.Module:
        return cls
    return None


_PORTS = {}


def ports(type_name: str) -> tuple:
    """(input port names, output port names) of a torch.nn layer, as the catalog has them;
    KeyError for a name that is no layer."""
    if type_name not in _PORTS:
        cls = layer_class(type_name)
        if cls is None:
            raise KeyError(f"unknown node type {type_name!r}")
        try:
            inputs, outputs = catalog.layer_ports(cls)
            _PORTS[type_name] = ([p["name"] for p in inputs], [p["name"] for p in outputs])
        except catalog.CatalogError:  # a tuple result the catalog cannot name: forward's args
            params = [p for p in inspect.signature(cls.forward).parameters.values()
                      if p.name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
            _PORTS[type_name] = ([p.name for p in params] or ["input"], output_ports(type_name))
    return _PORTS[type_name]


def output_ports(type_name: str) -> list:
    """The output ports of a layer (known or not): a tuple result's elements, else output."""
    return list(catalog.TUPLE_OUTPUTS.get(type_name, ["output"]))


# The automatic dimensions of docs/nn.md, by parameter name.
AUTOMATIC = ("in_channels", "in_features", "in1_features", "in2_features", "num_features",
             "num_channels", "normalized_shape", "input_size", "embed_dim", "d_model")
_CONV_SPATIAL = {"Conv1d": 1, "Conv2d": 2, "Conv3d": 3, "ConvTranspose1d": 1,
                 "ConvTranspose2d": 2, "ConvTranspose3d": 3}


def _rules(type_name: str, first, shapes: dict) -> dict:
    """param → a function giving its value, for the automatic dimensions of ``type_name``."""
    t = type_name
    rank = len(first) if first is not None else 0
    if t in _CONV_SPATIAL:
        # batched input: (N, C, *spatial); unbatched: (C, *spatial), as torch accepts both
        return {"in_channels": lambda: first[1] if rank == _CONV_SPATIAL[t] + 2 else first[0]}
    if t in ("Linear", "AdaptiveLogSoftmaxWithLoss"):
        return {"in_features": lambda: first[-1]}
    if t == "Bilinear":
        return {"in1_features": lambda: shapes["input1"][-1],
                "in2_features": lambda: shapes["input2"][-1]}
    if t in ("BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "SyncBatchNorm"):
        return {"num_features": lambda: first[1]}
    if t in ("InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d"):
        return {"num_features": lambda: first[-int(t[-2]) - 1]}
    if t == "GroupNorm":
        return {"num_channels": lambda: first[1]}
    if t == "LayerNorm":
        return {"normalized_shape": lambda: first[-1]}
    if t in ("RNN", "LSTM", "GRU", "RNNCell", "LSTMCell", "GRUCell"):
        return {"input_size": lambda: first[-1]}
    if t == "MultiheadAttention":
        return {"embed_dim": lambda: shapes["query"][-1]}
    if t in ("TransformerEncoderLayer", "TransformerDecoderLayer", "Transformer"):
        return {"d_model": lambda: first[-1]}
    return {}


def automatic_dims(type_name: str, shapes) -> dict:
    """{param: value} of every automatic dimension of ``type_name`` that the incoming shapes
    give: ``shapes`` is input port → shape (the first entry is "the input"), or a list of
    shapes in port order. One that cannot be read (no such input, too few dims) is left out:
    torch then says what is missing."""
    if isinstance(shapes, (list, tuple)):
        try:
            names = ports(type_name)[0]
        except (KeyError, catalog.CatalogError):
            names = []
        shapes = dict(zip(names + [str(i) for i in range(len(names), len(shapes))], shapes))
    first = next(iter(shapes.values()), None)
    out = {}
    for name, rule in _rules(type_name, first, shapes).items():
        try:
            out[name] = int(rule())
        except (IndexError, KeyError, TypeError):
            pass
    return out


def fill_automatic(type_name: str, params: dict, shapes) -> dict:
    """``params`` with the automatic dimensions it leaves out taken from ``shapes``."""
    inferred = automatic_dims(type_name, shapes)
    return {**params, **{k: v for k, v in inferred.items() if k not in params}}


def instantiate(type_name: str, params: dict, tuples: bool = True, **extra) -> nn.Module:
    """torch.nn.<type>(**params, **extra), with an error that names the layer; ``tuples``:
    JSON lists are turned back into tuples (reference.py passes them as they are)."""
    cls = layer_class(type_name)
    if cls is None:
        raise ValueError(f"'{type_name}' is not a torch.nn layer")
    kwargs = {k: tuple(v) if tuples and isinstance(v, list) else v for k, v in params.items()}
    return cls(**kwargs, **extra)
