"""What the importer (fxmap.py), fxgraph.py and the torch fallback need to know about torch.nn
layers beyond a document node (that is kiln.nn.layers: class, ports, automatic dimensions,
instantiation; re-exported here under this module's names).

The layer catalog (src/nn/torch_catalog.json, docs/nn.md) is generated from the same source:
the constructor signatures of the classes in ``torch.nn``. This module reads them directly so
it does not depend on the shipped file, and adds what signatures do not say: the forward
arguments in call order (``input_ports``: positional arguments map onto them), and how to
read a constructor parameter back from an instance.
"""
import inspect

import torch
from torch import nn

from . import layers

REQUIRED = object()  # marks a constructor parameter without a default

# Constructor parameters that are not design-time values (the catalog leaves them out too).
_NOT_PARAMS = {"self", "device", "dtype", "_weight", "args", "kwargs", "factory_kwargs"}

# torch.nn's recurrent layers take *args; their parameters are documented, not in signatures.
_RNN_PARAMS = [("input_size", REQUIRED), ("hidden_size", REQUIRED), ("num_layers", 1),
               ("bias", True), ("batch_first", False), ("dropout", 0.0),
               ("bidirectional", False)]
_SIGNATURES = {
    "RNN": _RNN_PARAMS[:3] + [("nonlinearity", "tanh")] + _RNN_PARAMS[3:],
    "LSTM": _RNN_PARAMS + [("proj_size", 0)],
    "GRU": _RNN_PARAMS,
}

# Parameters given as a size per spatial dimension: a tuple of equal ints is written as one int.
_SPATIAL = {"kernel_size", "stride", "padding", "dilation", "output_padding", "output_size"}


layer_class = layers.layer_class  # the torch.nn class named so, or None


def is_torch_layer(module) -> bool:
    """True for an instance of a torch.nn layer class (not a container traced through)."""
    cls = type(module)
    return (layer_class(cls.__name__) is cls
            and not isinstance(module, (nn.Sequential, nn.ModuleList, nn.ModuleDict)))


def constructor_params(cls):
    """[(name, default or REQUIRED)] of a torch.nn class's design-time constructor parameters."""
    if cls.__name__ in _SIGNATURES:
        return list(_SIGNATURES[cls.__name__])
    out = []
    for p in inspect.signature(cls.__init__).parameters.values():
        if p.name in _NOT_PARAMS or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        out.append((p.name, REQUIRED if p.default is p.empty else p.default))
    return out


def input_ports(type_name):
    """The names of a torch.nn layer's forward arguments (its input ports), in order."""
    cls = layer_class(type_name)
    params = list(inspect.signature(cls.forward).parameters.values())[1:]
    return [p.name for p in params if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)] or ["input"]


output_ports = layers.output_ports


def _transformer_layer(module, name):
    """TransformerEncoderLayer/DecoderLayer keep their constructor parameters in their
    submodules, not under their own names (KeyError for any other name)."""
    attention = module.self_attn
    if name == "d_model":
        return attention.embed_dim
    if name == "nhead":
        return attention.num_heads
    if name == "dim_feedforward":
        return module.linear1.out_features
    if name == "dropout":
        return module.dropout.p
    if name == "layer_norm_eps":
        return module.norm1.eps
    if name == "batch_first":
        return attention.batch_first
    if name == "norm_first":
        return module.norm_first
    if name == "activation":
        # torch 1.13 marks its two built-in activations; anything else is a callable
        # the document cannot hold.
        kind = getattr(module, "activation_relu_or_gelu", 0)
        if kind in (1, 2):
            return "relu" if kind == 1 else "gelu"
    raise KeyError(name)


def _read(module, name):
    """The value of constructor parameter ``name`` as the instance holds it (KeyError if not)."""
    if isinstance(module, (nn.TransformerEncoderLayer, nn.TransformerDecoderLayer)):
        return _transformer_layer(module, name)
    if isinstance(module, nn.MultiheadAttention):
        if name == "bias":
            return module.in_proj_bias is not None
        if name == "add_bias_kv":
            return module.bias_k is not None
    if name == "bias" and hasattr(module, "bias") and \
            isinstance(module.bias, (torch.Tensor, type(None))):
        return module.bias is not None  # a bool parameter stored as the bias tensor
    if hasattr(module, name):
        value = getattr(module, name)
        if not isinstance(value, (nn.Module, torch.Tensor)) and not callable(value):
            return value
    raise KeyError(name)


def _jsonable(value):
    if isinstance(value, (tuple, list)):
        return [_jsonable(v) for v in value]
    if isinstance(value, torch.Size):
        return list(value)
    return value


def _same(a, b) -> bool:
    a, b = _jsonable(a), _jsonable(b)
    if isinstance(a, list) and not isinstance(b, list):
        return all(x == b for x in a)  # padding (0, 0) is the default 0
    return a == b


def read_params(module, name="layer"):
    """The params of a document node for a torch.nn ``module``: the constructor parameters it
    was built with, read back from its attributes; only required ones and those that differ
    from the default. Raises ValueError when a required one cannot be read."""
    cls = type(module)
    params = {}
    for pname, default in constructor_params(cls):
        try:
            value = _read(module, pname)
        except KeyError:
            if default is REQUIRED:
                raise ValueError(f"{cls.__name__} '{name}': cannot read the constructor "
                                 f"parameter '{pname}' back from the instance") from None
            continue  # not stored under its name: the default is assumed
        if default is not REQUIRED and _same(value, default):
            continue
        if pname in ("kdim", "vdim") and value == getattr(module, "embed_dim", None):
            continue  # MultiheadAttention: None means embed_dim
        if pname == "stride" and default is None and _same(value, _read(module, "kernel_size")):
            continue  # pooling: stride None means kernel_size
        value = _jsonable(value)
        if pname in _SPATIAL and isinstance(value, list) and value and \
                all(v == value[0] for v in value) and isinstance(value[0], int):
            value = value[0]
        params[pname] = value
    return params


def fill_automatic(type_name, params, inputs):
    """params with the automatic dimensions (docs/nn.md) that are left out taken from the
    shapes of the incoming tensors ``inputs`` (a list, in port order; kiln.nn.layers' rules)."""
    shapes = [list(x.shape) if isinstance(x, torch.Tensor) else None for x in inputs]
    return layers.fill_automatic(type_name, params, shapes)


instantiate = layers.instantiate  # the layer, JSON lists turned back into tuples
