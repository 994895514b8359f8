"""Generates the layer catalog (src/nn/torch_catalog.json) from the installed torch.nn.

    PYTHONPATH=python /usr/bin/python3 -m kiln.nn.catalog > src/nn/torch_catalog.json

The format is docs/nn.md, "The layer catalog".  Every public ``torch.nn.modules`` class that
is an ``nn.Module`` becomes a layer, except the bases and helpers in ``SKIPPED``.  For each:

- params: ``inspect.signature(cls.__init__)`` gives names, defaults and annotations; the
  docstring's ``Args:`` block gives the descriptions (and the types where there is no
  annotation, and the choices of string parameters);
- inputs: the tensor parameters of ``forward``; outputs: ``output``, or ``TUPLE_OUTPUTS``;
- category: the file of ``torch/nn/modules`` the class lives in (``CATEGORY_BY_FILE``).

Every layer is instantiated (on the meta device where it takes ``device``) with its required
parameters from ``SAMPLE_ARGS``; a layer that cannot be built stops the generator with its
name, so a torch upgrade that changes a constructor is noticed here and not in a user's job.
The output is deterministic: layers sorted by category then name, ``indent=1``.
"""
import collections.abc
import inspect
import json
import re
import sys
import typing

import torch
from torch import nn

# Public classes that are not layers one puts in an architecture:
SKIPPED = {
    # abstract bases: their constructors take the concrete subclass's mode or are incomplete
    "_ConvNd", "_ConvTransposeNd", "_BatchNorm", "_NormBase", "_InstanceNorm", "_LossBase",
    "_WeightedLoss", "_MaxPoolNd", "_AvgPoolNd", "RNNBase", "RNNCellBase", "Module",
    # containers: they hold other modules; an architecture's graph (and Block) plays this role
    "Sequential", "ModuleList", "ModuleDict", "ParameterList", "ParameterDict", "Container",
}
# Lazy* modules (LazyConv2d, LazyLinear, …) are skipped too: the architecture document infers
# in_channels/in_features itself ("Automatic dimensions"), so the lazy variants add nothing.

CATEGORY_BY_FILE = {
    "conv": "convolution", "pooling": "pooling", "batchnorm": "normalization",
    "instancenorm": "normalization", "normalization": "normalization", "rnn": "recurrent",
    "transformer": "transformer", "activation": "activation", "dropout": "dropout",
    "linear": "linear", "sparse": "embedding", "flatten": "shape", "pixelshuffle": "shape",
    "padding": "shape", "upsampling": "shape", "channelshuffle": "shape", "fold": "shape",
    "loss": "loss",
}

# forward() results that are tuples: one port per element, flattened (docs/nn.md).
# MaxPool/AdaptiveMaxPool/FractionalMaxPool return (output, indices) only with
# return_indices=True; the catalog gives them the one `output` port of the default.
TUPLE_OUTPUTS = {
    "LSTM": ["output", "h_n", "c_n"],
    "GRU": ["output", "h_n"],
    "RNN": ["output", "h_n"],
    "LSTMCell": ["h_1", "c_1"],
    "MultiheadAttention": ["attn_output", "attn_output_weights"],
    "AdaptiveLogSoftmaxWithLoss": ["output", "loss"],  # a namedtuple _ASMoutput(output, loss)
}

# Parameters left out: not design-time values.
LEFT_OUT = {"device", "dtype"}

# Choices of string parameters whose docstring entry does not list them (it says "str").
STRING_CHOICES = {
    ("Conv1d", "padding"): ["same", "valid"],
    ("Conv2d", "padding"): ["same", "valid"],
    ("Conv3d", "padding"): ["same", "valid"],
    ("RNN", "nonlinearity"): ["relu", "tanh"],
    ("RNNCell", "nonlinearity"): ["relu", "tanh"],
    ("GELU", "approximate"): ["none", "tanh"],
    ("KLDivLoss", "reduction"): ["batchmean", "mean", "none", "sum"],
    ("ConvTranspose1d", "padding_mode"): ["zeros"],  # the only mode transposed convs accept
    ("ConvTranspose2d", "padding_mode"): ["zeros"],
    ("ConvTranspose3d", "padding_mode"): ["zeros"],
}

# Types of parameters that have neither an annotation nor a type in their docstring.
TYPES = {
    ("MultiheadAttention", "embed_dim"): "int",
    ("MultiheadAttention", "num_heads"): "int",
    ("MultiheadAttention", "kdim"): {"optional": "int"},
    ("MultiheadAttention", "vdim"): {"optional": "int"},
    ("TransformerEncoder", "num_layers"): "int",
    ("TransformerDecoder", "num_layers"): "int",
}

# Values for the required parameters when the generator instantiates each layer as a check.
SAMPLE_ARGS = {
    "in_channels": 3, "out_channels": 4, "kernel_size": 3, "num_features": 4,
    "in_features": 8, "out_features": 4, "in1_features": 8, "in2_features": 8,
    "embed_dim": 8, "num_heads": 2, "d_model": 8, "nhead": 2, "input_size": 8,
    "hidden_size": 4, "num_embeddings": 10, "embedding_dim": 4, "output_size": 2,
    "n_classes": 10, "cutoffs": [4], "groups": 2, "padding": 1, "value": 0.0,
    "num_groups": 2, "num_channels": 4, "normalized_shape": 4, "size": 2, "norm_type": 2.0,
    "threshold": 0.1, "upscale_factor": 2, "downscale_factor": 2, "dim": 1,
    "unflattened_size": [2, 2], "num_layers": 2,
}
# Layers that need more than their required parameters, or a module as a parameter.
SAMPLE_EXTRA = {
    "FractionalMaxPool2d": {"output_size": 2},
    "FractionalMaxPool3d": {"output_size": 2},
    "TransformerEncoder": {"encoder_layer": lambda: nn.TransformerEncoderLayer(8, 2)},
    "TransformerDecoder": {"decoder_layer": lambda: nn.TransformerDecoderLayer(8, 2)},
}


# Layers without a docstring (nor a documented base).
DOCS = {
    "CrossMapLRN2d": "Applies local response normalization across channels of a 4D input "
                     "(Lua Torch's SpatialCrossMapLRN); see LocalResponseNorm.",
}


class CatalogError(Exception):
    pass


# ---- docstrings -------------------------------------------------------------------------------

def clean_text(text: str) -> str:
    """Docstring reST to plain text: roles, literals and links unwrapped, whitespace collapsed."""
    text = re.sub(r":(?:attr|math|func|class|meth|ref|mod):`~?([^`]*)`", r"\1", text)
    text = re.sub(r"`([^`<]*?)\s*<[^>]*>`_", r"\1", text)
    text = text.replace("``", "`")
    text = re.sub(r"`([^`]*)`", r"\1", text)
    return " ".join(text.split())


def summary(doc: str) -> str:
    """The first paragraph of a class docstring."""
    paragraph = inspect.cleandoc(doc or "").split("\n\n")[0]
    return clean_text(paragraph)


def class_doc(cls) -> str:
    """The class's docstring, or its nearest base's (NLLLoss2d has none; NLLLoss does), but
    never nn.Module's, which describes modules in general."""
    for base in cls.__mro__:
        if base is nn.Module:
            break
        if base.__doc__:
            return base.__doc__
    return ""


ARG_HEADER = re.compile(r"^(\s*)(?:Args|Arguments|Parameters)\s*:\s*$")
ARG_ENTRY = re.compile(r"^(\s*)(\*{0,2}\w+)\s*(?:\((.*?)\))?\s*:(?:\s+(.*))?$")


def docstring_args(doc: str) -> dict:
    """The ``Args:`` block: name → (type text or None, description text)."""
    lines = (doc or "").expandtabs().splitlines()
    entries = {}
    for i, line in enumerate(lines):
        header = ARG_HEADER.match(line)
        if not header:
            continue
        header_indent = len(header.group(1))
        entry_indent = None
        current = None
        for line in lines[i + 1:]:
            if not line.strip():
                continue
            indent = len(line) - len(line.lstrip())
            if indent <= header_indent:
                break
            m = ARG_ENTRY.match(line)
            if m and (entry_indent is None or indent == entry_indent):
                entry_indent = indent
                current = m.group(2).lstrip("*")
                entries[current] = [m.group(3), m.group(4) or ""]
            elif current is not None and indent > entry_indent:
                entries[current][1] += " " + line.strip()
            else:
                break
        break
    return {name: (type_text, text) for name, (type_text, text) in entries.items()}


QUOTED = re.compile(r"""[`]*(['"])([A-Za-z_][\w-]*)\1[`]*""")


def string_choices(text: str) -> list:
    """Quoted words in a parameter's description (``'zeros'``, ``'reflect'``, "relu")."""
    return sorted({m.group(2) for m in QUOTED.finditer(text)})


DOC_DEFAULT = re.compile(r"Default:?\s*`*([^`\s,;)]+)`*")


def docstring_default(text: str):
    """The value after "Default:" in a description, or ``inspect.Parameter.empty``."""
    m = DOC_DEFAULT.search(text)
    if not m:
        return inspect.Parameter.empty
    word = m.group(1).rstrip(".")
    try:
        return json.loads({"True": "true", "False": "false", "None": "null"}.get(word, word)
                          .replace("'", '"'))
    except ValueError:
        return inspect.Parameter.empty


# ---- types ------------------------------------------------------------------------------------

OPTIONAL = object()  # marker: a union member that is None


def make_union(members: list):
    """A type from union members: duplicates dropped, None turned into {"optional": …}."""
    optional = any(m is OPTIONAL for m in members)
    unique = []
    for m in members:
        if m is not OPTIONAL and m not in unique:
            unique.append(m)
    if not unique:
        base = "any"
    elif len(unique) == 1:
        base = unique[0]
    else:
        base = {"union": unique}
    return {"optional": base} if optional and base != "any" else base


SCALARS = {int: "int", float: "float", bool: "bool", str: "str"}
SEQUENCES = (tuple, list, collections.abc.Sequence, collections.abc.Iterable)


def type_from_annotation(annotation):
    """A catalog type from a Python annotation; None when there is none to go by."""
    if annotation is inspect.Parameter.empty or annotation is typing.Any:
        return None
    if annotation is type(None):
        return OPTIONAL
    if annotation in SCALARS:
        return SCALARS[annotation]
    if annotation is torch.Size:
        return {"tuple": "int"}
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Union:
        return make_union([type_from_annotation(a) or "any" for a in args])
    if origin in SEQUENCES:
        elements = [type_from_annotation(a) or "any" for a in args if a is not Ellipsis]
        return {"tuple": make_union(elements) if elements else "any"}
    return "any"  # Tensor, Callable, Module: not a design-time value the catalog can describe


def split_top(text: str, separators: str) -> list:
    """Split at the separators (a regex) outside brackets."""
    parts, depth, start = [], 0, 0
    for m in re.finditer(r"[\[\]]|" + separators, text):
        if m.group() == "[":
            depth += 1
        elif m.group() == "]":
            depth -= 1
        elif depth == 0:
            parts.append(text[start:m.start()])
            start = m.end()
    parts.append(text[start:])
    return [p.strip() for p in parts if p.strip()]


def type_from_text(text: str):
    """A catalog type from a docstring's type text ("int or tuple, optional"); None if empty."""
    members = []
    for token in split_top(text.strip().lower(), r",|\bor\b|\|"):
        if token in ("optional", "required"):
            continue
        inner = re.match(r"^(union|optional|tuple|list|sequence)\[(.*)\]$", token)
        if inner and inner.group(1) in ("union", "optional"):
            sub = type_from_text(inner.group(2))
            members.append(sub or "any")
            if inner.group(1) == "optional":
                members.append(OPTIONAL)
        elif re.match(r"^_size_\w+_t$", token):
            members += ["int", {"tuple": "int"}]
        elif re.match(r"^_ratio_\w+_t$", token):
            members += ["float", {"tuple": "float"}]
        elif token.startswith(("tuple", "list", "sequence", "torch.size")):
            element = "float" if "float" in token else "int" if "int" in token else None
            members.append({"tuple": element})
        elif token in ("int", "integer"):
            members.append("int")
        elif token == "float":
            members.append("float")
        elif token in ("bool", "boolean"):
            members.append("bool")
        elif token in ("str", "string"):
            members.append("str")
        elif token == "none":
            members.append(OPTIONAL)
        else:
            members.append("any")
    # A bare "tuple" is a tuple of the scalar beside it: "int or tuple" → int or tuple of int.
    scalars = [m for m in members if m in ("int", "float")]
    members = [{"tuple": scalars[0] if scalars else "any"}
               if isinstance(m, dict) and m.get("tuple", 0) is None else m for m in members]
    return make_union(members) if members else None


def type_from_default(default):
    if default is None:
        return OPTIONAL
    for python_type in (bool, int, float, str):  # bool first: True is an int too
        if isinstance(default, python_type):
            return SCALARS[python_type]
    return "any"


def with_choices(t, choices: list):
    """Replace "str" in a type by {"enum": choices}."""
    if t == "str":
        return {"enum": choices}
    if isinstance(t, dict):
        if "union" in t:
            return {"union": [with_choices(m, choices) for m in t["union"]]}
        if "optional" in t:
            return {"optional": with_choices(t["optional"], choices)}
    return t


def json_default(layer: str, name: str, default):
    if isinstance(default, tuple):
        default = list(default)
    if callable(default) and getattr(default, "__name__", None):  # activation=F.relu → "relu"
        default = default.__name__
    try:
        json.dumps(default, allow_nan=False)
    except (TypeError, ValueError):
        raise CatalogError(f"{layer}: the default of parameter '{name}' ({default!r}) "
                           "is not a JSON value; give it a rule in kiln/nn/catalog.py")
    return default


# ---- layers -----------------------------------------------------------------------------------

def constructor_params(cls) -> list:
    """(name, default, annotation) of the constructor's design-time parameters, in order."""
    signature = inspect.signature(cls.__init__)
    params = [p for p in signature.parameters.values()
              if p.name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    if issubclass(cls, nn.RNNBase):
        # LSTM/GRU/RNN take *args, **kwargs and hand them to RNNBase(mode, …): take the
        # parameters from the docstring, their defaults and annotations from RNNBase.
        base = inspect.signature(nn.RNNBase.__init__).parameters
        params = []
        for name, (_, text) in docstring_args(cls.__doc__).items():
            if name in base:
                params.append((name, base[name].default, base[name].annotation))
            else:
                params.append((name, docstring_default(text), inspect.Parameter.empty))
        return [p for p in params if p[0] not in LEFT_OUT]
    return [(p.name, p.default, p.annotation) for p in params
            if p.name not in LEFT_OUT and not p.name.startswith("_")]


def layer_params(cls) -> list:
    name = cls.__name__
    args = docstring_args(class_doc(cls))
    out = []
    for pname, default, annotation in constructor_params(cls):
        type_text, text = args.get(pname, (None, ""))
        t = TYPES.get((name, pname)) or type_from_annotation(annotation)
        if t in (None, "any"):
            t = (type_from_text(type_text) if type_text else None) or t
        if t in (None, "any") and default is not inspect.Parameter.empty:
            t = make_union([type_from_default(default)]) if default is not None else t
        t = t or "any"
        if t is OPTIONAL:
            t = "any"
        if default is None and t != "any" and not (isinstance(t, dict) and "optional" in t):
            t = {"optional": t}
        choices = STRING_CHOICES.get((name, pname))
        if choices is None and "str" in json.dumps(t):
            found = string_choices(text)
            choices = found if len(found) >= 2 else None
        if choices:
            if isinstance(default, str) and default not in choices:
                raise CatalogError(f"{name}: parameter '{pname}' defaults to {default!r}, "
                                   f"not one of its choices {choices}")
            t = with_choices(t, choices)
        param = {"name": pname, "type": t, "required": default is inspect.Parameter.empty}
        if default is not inspect.Parameter.empty:
            if isinstance(default, int) and not isinstance(default, bool) and t in (
                    "float", {"optional": "float"}):
                default = float(default)  # CrossMapLRN2d's k: float = 1
            param["default"] = json_default(name, pname, default)
        param["doc"] = clean_text(text)
        out.append(param)
    return out


def is_tensor_port(annotation) -> bool:
    """A forward parameter is a port when it is a tensor (or a tuple of them), or unannotated;
    ConvTranspose's output_size (a list of ints) and MultiheadAttention's need_weights (a bool)
    are call options, not ports."""
    if annotation is inspect.Parameter.empty or annotation is torch.Tensor:
        return True
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    return bool(args) and all(is_tensor_port(a) for a in args)


def layer_ports(cls):
    signature = inspect.signature(cls.forward)
    inputs = []
    for p in list(signature.parameters.values())[1:]:
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) or not is_tensor_port(p.annotation):
            continue
        port = {"name": p.name}
        if p.default is not inspect.Parameter.empty:
            port["optional"] = True
        inputs.append(port)
    returns = signature.return_annotation
    if cls.__name__ in TUPLE_OUTPUTS:
        outputs = TUPLE_OUTPUTS[cls.__name__]
    elif typing.get_origin(returns) is tuple:
        raise CatalogError(f"{cls.__name__}.forward returns a tuple ({returns}); "
                           "name its elements in TUPLE_OUTPUTS")
    else:
        outputs = ["output"]
    return inputs, [{"name": o} for o in outputs]


def category(cls) -> str:
    return CATEGORY_BY_FILE.get(cls.__module__.rsplit(".", 1)[-1], "other")


def check_instantiates(cls, params: list) -> None:
    kwargs = {}
    extra = SAMPLE_EXTRA.get(cls.__name__, {})
    for p in params:
        if p["required"] and p["name"] not in extra:
            if p["name"] not in SAMPLE_ARGS:
                raise CatalogError(f"{cls.__name__}: no sample value for required parameter "
                                   f"'{p['name']}'; add one to SAMPLE_ARGS")
            kwargs[p["name"]] = SAMPLE_ARGS[p["name"]]
    for key, value in extra.items():
        kwargs[key] = value() if callable(value) else value
    accepts_device = (issubclass(cls, nn.RNNBase)
                      or "device" in inspect.signature(cls.__init__).parameters)
    if accepts_device:
        kwargs["device"] = "meta"
    try:
        cls(**kwargs)
    except Exception as e:
        raise CatalogError(f"{cls.__name__}({', '.join(f'{k}={v!r}' for k, v in kwargs.items())})"
                           f" cannot be built: {type(e).__name__}: {e}") from e


def layer_classes() -> list:
    classes = []
    for name in dir(nn.modules):
        obj = getattr(nn.modules, name)
        if (name.startswith("_") or name in SKIPPED or name.startswith("Lazy")
                or not inspect.isclass(obj) or not issubclass(obj, nn.Module)):
            continue
        classes.append(obj)
    return classes


def describe(cls) -> dict:
    params = layer_params(cls)
    inputs, outputs = layer_ports(cls)
    check_instantiates(cls, params)
    return {"name": cls.__name__, "category": category(cls), "doc": summary(class_doc(cls)) or DOCS.get(cls.__name__, ""),
            "params": params, "inputs": inputs, "outputs": outputs}


def catalog() -> dict:
    import warnings
    with warnings.catch_warnings():  # e.g. NLLLoss2d's deprecation, Transformer's nested tensor
        warnings.simplefilter("ignore")
        layers = [describe(cls) for cls in layer_classes()]
    layers.sort(key=lambda layer: (layer["category"], layer["name"]))
    return {"library": "torch", "torch": torch.__version__, "layers": layers}


def dumps(data: dict) -> str:
    return json.dumps(data, indent=1, ensure_ascii=False) + "\n"


def main() -> int:
    try:
        text = dumps(catalog())
    except CatalogError as e:
        print(f"kiln.nn.catalog: {e}", file=sys.stderr)
        return 1
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
