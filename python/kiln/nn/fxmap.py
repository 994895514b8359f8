"""fx graph → architecture document, for the importer (importer.py): one ArchitectureImporter
per traced module. Mapped calls become the document's types (docs/nn.md, "Importing a
model"); anything else a Custom node whose code is generated here.
"""
import importlib
import json
import math
import operator
import re

import torch
import torch.nn.functional as F
from torch import fx, nn

from . import torchnn
from .tracing import ImportFailure, merge_shape, run, trace, user_line

def _is_tensors(v):
    """A tensor, or a tuple of tensors (and Nones: MultiheadAttention's weights left out)."""
    if isinstance(v, torch.Tensor):
        return True
    return isinstance(v, (tuple, list)) and any(_is_tensors(e) for e in v) and \
        all(e is None or _is_tensors(e) for e in v)


# Functions and methods that are torch.nn layers: layer type, the positional parameters after
# the input, and keyword arguments that carry no layer parameter.
_POOL = ["kernel_size", "stride", "padding"]
_FUNCTION_LAYERS = {}


def _layer(targets, type_name, positional=(), ignore=("inplace",)):
    for t in targets:
        _FUNCTION_LAYERS[t] = (type_name, list(positional), set(ignore))


_layer([F.relu, torch.relu, "relu"], "ReLU")
_layer([F.relu6], "ReLU6")
_layer([F.elu], "ELU", ["alpha"])
_layer([F.selu, torch.selu], "SELU")
_layer([F.celu], "CELU", ["alpha"])
_layer([F.leaky_relu], "LeakyReLU", ["negative_slope"])
_layer([F.gelu], "GELU")
_layer([F.silu], "SiLU")
_layer([F.mish], "Mish")
_layer([F.hardswish], "Hardswish")
_layer([F.hardsigmoid], "Hardsigmoid")
_layer([F.hardtanh], "Hardtanh", ["min_val", "max_val"])
_layer([F.logsigmoid], "LogSigmoid")
_layer([F.softplus], "Softplus", ["beta", "threshold"])
_layer([torch.sigmoid, F.sigmoid, "sigmoid"], "Sigmoid")
_layer([torch.tanh, F.tanh, "tanh"], "Tanh")
_layer([F.softmax, torch.softmax, "softmax"], "Softmax", ["dim"], {"_stacklevel"})
_layer([F.log_softmax, torch.log_softmax, "log_softmax"], "LogSoftmax", ["dim"],
       {"_stacklevel"})
_layer([F.dropout], "Dropout", ["p"], {"training", "inplace"})
for _d in (1, 2, 3):
    _layer([getattr(F, f"max_pool{_d}d")], f"MaxPool{_d}d",
           _POOL + ["dilation", "ceil_mode", "return_indices"], ())
    _layer([getattr(F, f"avg_pool{_d}d")], f"AvgPool{_d}d",
           _POOL + ["ceil_mode", "count_include_pad", "divisor_override"], ())
    _layer([getattr(F, f"adaptive_avg_pool{_d}d")], f"AdaptiveAvgPool{_d}d", ["output_size"], ())
    _layer([getattr(F, f"adaptive_max_pool{_d}d")], f"AdaptiveMaxPool{_d}d",
           ["output_size", "return_indices"], ())


def _lookup_layer(n):
    if n.op not in ("call_function", "call_method"):
        return None
    try:
        return _FUNCTION_LAYERS.get(n.target)
    except TypeError:  # unhashable target
        return None


def _literal(v):
    """Python source for a constant argument of generated Custom code."""
    if isinstance(v, float) and not math.isfinite(v):
        return f"float('{v}')"
    if isinstance(v, (bool, int, float, str, type(None))):
        return repr(v)
    if isinstance(v, (tuple, list, torch.Size)):
        inner = ", ".join(_literal(e) for e in v)
        if isinstance(v, list):
            return f"[{inner}]"
        return f"({inner}{',' if len(v) == 1 else ''})"
    if isinstance(v, slice):
        return f"slice({_literal(v.start)}, {_literal(v.stop)}, {_literal(v.step)})"
    if v is Ellipsis:
        return "..."
    if isinstance(v, (torch.dtype, torch.device)):
        return f"torch.{v}" if isinstance(v, torch.dtype) else f"torch.device({str(v)!r})"
    raise ValueError(f"the constant {v!r} cannot be written as Python source")


def _jsonable(v):
    if isinstance(v, (tuple, list, torch.Size)):
        return [_jsonable(e) for e in v]
    return v


class ArchitectureImporter:
    """One traced module → one architecture of ``doc`` (Blocks added to ``doc`` as found)."""

    def __init__(self, doc, registry, module, shapes, inputs_a, inputs_b, subs):
        self.doc, self.registry, self.subs = doc, registry, subs
        self.gm = trace(module, len(inputs_a))
        self.values = (run(self.gm, inputs_a), run(self.gm, inputs_b))
        self.shapes = shapes
        self.nodes, self.edges = [], []
        # fx node name -> ("t", end) | ("tup", [refs]) | ("tport", end) | ("shape",) for sizes
        # | ("attr", target) for a parameter or buffer the forward reads (held by a Custom)
        self.refs = {}
        self.ids = set()
        self.called = set()  # call_module targets seen (shared weights are refused)

    # -- helpers --
    def _where(self, n):
        where = user_line(n.stack_trace or "")
        return f"{where}: " if where else ""

    def fail(self, n, message):
        raise ImportFailure(f"{self._where(n)}{message}")

    def add_node(self, nid, ntype, params=None):
        node = {"id": nid, "type": ntype}
        if params:
            node["params"] = params
        self.nodes.append(node)
        self.ids.add(nid)
        return nid

    def fresh(self, base):
        nid, k = base, 1
        while nid in self.ids:  # Outputs come last: every other node is in ids by then
            nid, k = f"{base}_{k}", k + 1
        return nid

    def connect(self, ref, dst, n):
        if ref[0] in ("t", "tport"):
            self.edges.append([ref[1], dst])
        else:
            self.fail(n, f"'{n.name}' passes a tuple where a tensor is expected")

    def tensor_args(self, n):
        """The fx nodes among ``n``'s arguments that hold tensors (or tuples of them)."""
        return [a for a in n.all_input_nodes if self.flows(a)]

    def flows(self, a):
        """True when ``a`` is a value on an edge (a tensor, or a tuple of them)."""
        return isinstance(a, fx.Node) and self.refs[a.name][0] in ("t", "tport", "tup")

    def constant(self, n, arg):
        """A non-tensor argument as a value equal in both runs (else a failure)."""
        def value(a, run):
            return self.values[run][a.name] if isinstance(a, fx.Node) else a
        a = fx.node.map_arg(arg, lambda x: value(x, 0))
        b = fx.node.map_arg(arg, lambda x: value(x, 1))
        if a != b:
            self.fail(n, f"'{n.name}' uses a value that depends on a named dimension "
                         f"({a} / {b} in two runs); only reshapes may")
        return a

    def layer_ref(self, nid, type_name, value):
        ports = torchnn.output_ports(type_name)
        if len(ports) == 1:
            return ("t", nid)
        leaves = iter(ports)

        def walk(v):
            if isinstance(v, (tuple, list)):
                return ("tup", [walk(e) for e in v])
            return ("t", f"{nid}.{next(leaves)}")
        return walk(value)

    # -- the walk --
    def build(self):
        placeholders = [n for n in self.gm.graph.nodes if n.op == "placeholder"]
        for n, shape in zip(placeholders, self.shapes):
            self.add_node(n.name, "Input", {"shape": list(shape)})
            self.refs[n.name] = ("t", n.name)
        for n in self.gm.graph.nodes:
            if n.op == "placeholder":
                continue
            if n.op == "output":
                self.outputs(n)
            elif n.op == "get_attr":
                if not isinstance(self.values[0][n.name], torch.Tensor):
                    self.fail(n, f"the forward reads self.{n.target}, which is no tensor")
                if len(n.users) > 1:
                    self.fail(n, f"the forward uses the tensor self.{n.target} in "
                                 f"{len(n.users)} places; the Custom node that holds it can "
                                 f"only be one of them")
                self.refs[n.name] = ("attr", n.target)
            else:
                va = self.values[0][n.name]
                if not _is_tensors(va):
                    self.refs[n.name] = ("shape",)  # sizes and the like: only feed reshapes
                    continue
                if n.op == "call_module":
                    self.call_module(n)
                else:
                    self.call(n)
        return {"nodes": self.nodes, "edges": self.edges}

    def outputs(self, n):
        result = n.args[0]
        leaves = []

        def walk(a):
            if isinstance(a, (tuple, list)):
                for e in a:
                    walk(e)
            elif isinstance(a, fx.Node):
                ref = self.refs[a.name]
                if ref[0] == "tup":
                    for r in ref[1]:
                        walk_ref(r)
                else:
                    leaves.append(ref)
            else:
                self.fail(n, f"the forward returns the constant {a!r}; it must return tensors")

        def walk_ref(r):
            if r[0] == "tup":
                for e in r[1]:
                    walk_ref(e)
            else:
                leaves.append(r)
        walk(result)
        for i, ref in enumerate(leaves):
            nid = self.fresh("output" if len(leaves) == 1 else f"output_{i}")
            self.add_node(nid, "Output")
            self.connect(ref, nid, n)

    def call_module(self, n):
        sub = self.gm.get_submodule(n.target)
        args = self.tensor_args(n)
        if n.target in self.called and any(True for _ in sub.parameters()):
            self.fail(n, f"the submodule '{n.target}' is called a second time; its weights are "
                         f"shared, but each node of a document has its own parameters")
        self.called.add(n.target)
        if torchnn.is_torch_layer(sub):
            type_name = type(sub).__name__
            try:
                params = torchnn.read_params(sub, n.name)
            except ValueError as e:
                self.fail(n, str(e))
            constants = [a for a in list(n.args) + list(n.kwargs.values())
                         if a is not None and not self.flows(a)]
            if constants:  # need_weights=False: a layer node takes tensors only
                return self.custom(n, layer=f"nn.{type_name}({_keywords(params)})")
            self.add_node(n.name, type_name, params)
            ports = torchnn.input_ports(type_name)
            for i, a in enumerate(n.args):
                self._layer_input(n, a, ports[i] if i < len(ports) else None, ports)
            for key, a in n.kwargs.items():
                self._layer_input(n, a, key, ports)
            self.refs[n.name] = self.layer_ref(n.name, type_name, self.values[0][n.name])
            return
        # a user-defined submodule: a Block
        if n.kwargs or any(not self.flows(a) for a in n.args):
            self.fail(n, f"the submodule '{n.target}' is called with non-tensor arguments; "
                         f"a Block takes tensors only")
        ins_a = [self.values[0][a.name] for a in n.args]
        ins_b = [self.values[1][a.name] for a in n.args]
        if not all(isinstance(t, torch.Tensor) for t in ins_a):
            self.fail(n, f"the submodule '{n.target}' is called with a tuple; a Block takes "
                         f"tensors")
        shapes = [merge_shape(x, y, self.subs) for x, y in zip(ins_a, ins_b)]
        sub_imp = ArchitectureImporter(self.doc, self.registry, sub, shapes, ins_a, ins_b,
                                       self.subs)
        arch = sub_imp.build()
        name = self.registry.name_for(type(sub).__name__, arch)
        self.add_node(n.name, "Block", {"block": name})
        in_names = [nd["id"] for nd in arch["nodes"] if nd["type"] == "Input"]
        out_names = [nd["id"] for nd in arch["nodes"] if nd["type"] == "Output"]
        for a, port in zip(args, in_names):
            self.connect(self.refs[a.name], f"{n.name}.{port}", n)
        outs = iter(out_names)
        value = self.values[0][n.name]

        def walk(v):
            if isinstance(v, (tuple, list)):
                return ("tup", [walk(e) for e in v])
            return ("t", f"{n.name}.{next(outs)}" if len(out_names) > 1 else n.name)
        self.refs[n.name] = walk(value)

    def _layer_input(self, n, a, port, ports):
        if self.flows(a):
            if port is None:
                self.fail(n, f"'{n.name}' gets more tensors than its layer has inputs")
            dst = n.name if port == ports[0] else f"{n.name}.{port}"
            self.connect(self.refs[a.name], dst, n)
        elif a is not None:
            self.fail(n, f"the layer '{n.target}' is called with the non-tensor argument "
                         f"{port}={a!r}; a layer node takes tensors only")

    def call(self, n):
        handled = self.mapped(n)
        if not handled:
            self.custom(n)

    def mapped(self, n):
        """Map ``n`` onto a document type; False when it is not one of those."""
        t, args, kwargs = n.target, list(n.args), dict(n.kwargs)
        method = n.op == "call_method"
        tensors = self.tensor_args(n)

        def is_t(a):
            return self.flows(a)

        if t in (torch.cat, torch.concat, torch.stack):
            seq = args[0] if args else kwargs.get("tensors")
            dim = args[1] if len(args) > 1 else kwargs.get("dim", 0)
            if not isinstance(seq, (list, tuple)) or not all(is_t(a) for a in seq) or \
                    isinstance(dim, fx.Node) or set(kwargs) - {"tensors", "dim"}:
                return False
            ntype = "Stack" if t is torch.stack else "Concatenate"
            default = 0 if ntype == "Stack" else 1
            self.add_node(n.name, ntype, {"dim": dim} if dim != default else None)
            for a in seq:
                self.connect(self.refs[a.name], n.name, n)
            return self._tensor(n)
        binary = {operator.add: "Add", torch.add: "Add", operator.mul: "Multiply",
                  torch.mul: "Multiply"}
        methods = {"add": "Add", "mul": "Multiply"}
        ntype = methods.get(t) if method else (binary.get(t) if _hashable(t) else None)
        if ntype:
            if len(args) != 2 or kwargs or not all(is_t(a) for a in args):
                return False  # x + 1, torch.add(x, y, alpha=2): Custom
            self.add_node(n.name, ntype)
            for a in args:
                self.connect(self.refs[a.name], n.name, n)
            return self._tensor(n)
        if (method and t in ("view", "reshape")) or (not method and t is torch.reshape):
            if not is_t(args[0]):
                return False
            shape = self._reshape_target(n)
            if shape is None:
                return False
            return self._unary(n, "Reshape", {"shape": shape})
        if (method and t == "permute") or (not method and t is torch.permute):
            dims = args[1:] if method else [args[1] if len(args) > 1 else kwargs.get("dims")]
            if method and len(dims) == 1 and isinstance(dims[0], (list, tuple)):
                dims = dims[0]
            elif not method:
                dims = dims[0]
            dims = self.constant(n, list(dims))
            return self._unary(n, "Permute", {"dims": list(dims)})
        if (method and t == "flatten") or (not method and t is torch.flatten):
            start = args[1] if len(args) > 1 else kwargs.get("start_dim", 0)
            end = args[2] if len(args) > 2 else kwargs.get("end_dim", -1)
            params = {}
            if start != 1:
                params["start_dim"] = start
            if end != -1:
                params["end_dim"] = end
            return self._unary(n, "Flatten", params or None)
        if (method and t in ("split", "chunk")) or (not method and t in (torch.split,
                                                                         torch.chunk)):
            name = t if method else t.__name__
            first = "split_size_or_sections" if name == "split" else "chunks"
            size = args[1] if len(args) > 1 else kwargs.get(
                "split_size" if method else first, kwargs.get(first))
            dim = args[2] if len(args) > 2 else kwargs.get("dim", 0)
            params = {first: _jsonable(self.constant(n, size))}
            if dim != 0:
                params["dim"] = dim
            self.add_node(n.name, "Split" if name == "split" else "Chunk", params)
            self.connect(self.refs[args[0].name], n.name, n)
            self.refs[n.name] = ("tport", n.name)
            return True
        if t is operator.getitem and is_t(args[0]):
            src = self.refs[args[0].name]
            index = args[1]
            if src[0] == "tup" and isinstance(index, int):
                self.refs[n.name] = src[1][index]
                return True
            if src[0] == "tport" and isinstance(index, int):
                self.add_node(n.name, "Select", {"index": index})
                self.connect(src, n.name, n)
                return self._tensor(n)
            return False  # tensor indexing: Custom
        spec = _lookup_layer(n)
        if spec and len(tensors) == 1 and is_t(args[0]):
            type_name, positional, ignore = spec
            given = dict(zip(positional, args[1:]))
            if len(args) - 1 > len(positional):
                return False
            given.update(kwargs)
            defaults = dict(torchnn.constructor_params(torchnn.layer_class(type_name)))
            params = {}
            for key, value in given.items():
                if key in ignore:
                    continue
                if key not in defaults or isinstance(value, fx.Node):
                    if value is None:
                        continue  # dtype=None and the like
                    return False
                if key == "stride" and value in (None, [], ()):
                    continue
                if not _same(value, defaults[key]):
                    params[key] = _collapse(key, _jsonable(value))
            return self._unary(n, type_name, params or None)
        return False

    def _unary(self, n, ntype, params):
        self.add_node(n.name, ntype, params)
        self.connect(self.refs[n.args[0].name], n.name, n)
        return self._tensor(n)

    def _tensor(self, n):
        self.refs[n.name] = ("t", n.name)
        return True

    def _reshape_target(self, n):
        """The Reshape shape: the output shape of the two runs, a dim that changes is -1."""
        a, b = self.values[0][n.name].shape, self.values[1][n.name].shape
        shape = [x if x == y else -1 for x, y in zip(a, b)]
        return shape if shape.count(-1) <= 1 else None

    def custom(self, n, layer=None):
        """A Custom node: a generated nn.Module whose forward makes the call (of the torch.nn
        layer built by the source ``layer``, for a call_module)."""
        inputs = list(self.tensor_args(n))
        names = {a.name: f"x{i}" for i, a in enumerate(inputs)}
        held = {}  # parameters and buffers the forward reads: this module holds them

        def tensor(a):
            if a.name not in names:  # a tensor whose size an argument reads: an input too
                names[a.name] = f"x{len(names)}"
                inputs.append(a)
            return names[a.name]

        def size(a):
            """Source of a size computation that follows a named dimension, over the
            inputs: x0.size(0), x0.shape[2] // 2."""
            t, args = a.target, a.args
            if a.op == "call_method" and t in ("size", "dim", "numel") and self.flows(args[0]):
                return f"{tensor(args[0])}.{t}({', '.join(src(x) for x in args[1:])})"
            if a.op == "call_function" and t is getattr and args[1] == "shape" and \
                    self.flows(args[0]):
                return f"{tensor(args[0])}.shape"
            if a.op == "call_function" and t is operator.getitem:
                return f"{src(args[0])}[{_index(args[1], src)}]"
            if a.op == "call_function" and t in _BINARY and len(args) == 2:
                return f"({src(args[0])} {_BINARY[t]} {src(args[1])})"
            return _literal(self.constant(n, a))  # fails, naming the dependency

        def src(arg):
            if isinstance(arg, fx.Node):
                if arg.name in names:
                    return names[arg.name]
                if self.refs[arg.name][0] == "attr":
                    attr = re.sub(r"\W", "_", self.refs[arg.name][1])
                    held[attr] = self.values[0][arg.name]
                    return f"self.{attr}"
                if self.values[0][arg.name] != self.values[1][arg.name]:
                    return size(arg)
                return _literal(self.values[0][arg.name])
            if isinstance(arg, (tuple, list)):
                inner = ", ".join(src(e) for e in arg)
                return f"[{inner}]" if isinstance(arg, list) else \
                    f"({inner}{',' if len(arg) == 1 else ''})"
            if isinstance(arg, slice):
                return f"slice({src(arg.start)}, {src(arg.stop)}, {src(arg.step)})"
            try:
                return _literal(arg)
            except ValueError as e:
                self.fail(n, str(e))
        imports = []
        argv = [src(a) for a in (n.args[1:] if n.op == "call_method" else n.args)]
        argv += [f"{k}={src(v)}" for k, v in n.kwargs.items()]
        if layer:
            call = f"self.layer({', '.join(argv)})"
        elif n.op == "call_function" and n.target is operator.getitem and \
                isinstance(n.args[0], fx.Node) and n.args[0].name in names:
            call = f"{names[n.args[0].name]}[{_index(n.args[1], src)}]"
        elif n.op == "call_function" and n.target in _BINARY and len(n.args) == 2 \
                and not n.kwargs:
            call = f"{src(n.args[0])} {_BINARY[n.target]} {src(n.args[1])}"
        elif n.op == "call_method":
            call = f"{src(n.args[0])}.{n.target}({', '.join(argv)})"
        else:
            call = f"{self._qualified(n, imports)}({', '.join(argv)})"
        if not inputs:
            self.fail(n, f"'{n.name}' makes a tensor from no input tensor; a Custom node needs "
                         f"at least one")
        where = user_line(n.stack_trace or "")
        head = "\n".join(["import operator", "import torch", "from torch import nn"] + imports)
        init = ""
        if held or layer:
            init = "    def __init__(self):\n        super().__init__()\n"
            if layer:
                init += f"        self.layer = {layer}\n"
            for attr, t in held.items():
                zeros = f"torch.zeros({', '.join(str(d) for d in t.shape)})"
                if isinstance(t, nn.Parameter):
                    init += f"        self.{attr} = nn.Parameter({zeros})\n"
                else:
                    init += f"        self.register_buffer({attr!r}, {zeros})\n"
            init += "\n"
        body = (f"(nn.Module):\n"
                f"    # imported from {where or 'the traced forward'}\n"
                f"{init}"
                f"    def forward(self, {', '.join(names.values())}):\n"
                f"        return {call}\n")
        cls = self.registry.custom_class("Custom_" + n.name, body)
        code = f"{head}\n\n\nclass {cls}{body}"
        self.add_node(n.name, "Custom", {"code": code, "class": cls})
        for a in inputs:
            self.connect(self.refs[a.name], n.name, n)
        value = self.values[0][n.name]
        self.refs[n.name] = ("t", n.name) if isinstance(value, torch.Tensor) else \
            ("tport", n.name)

    def _qualified(self, n, imports):
        """How generated code names the function ``n`` calls; adds the import it needs."""
        fn = n.target
        if fn in (getattr, len):
            return fn.__name__
        if getattr(fn, "__module__", None) in ("_operator", "operator"):
            return f"operator.{fn.__name__}"
        name = fx.node._get_qualified_name(fn)
        if name.startswith("torch."):
            return name
        module, short = getattr(fn, "__module__", None), getattr(fn, "__name__", None)
        try:  # a function of an installed package (torchvision.ops…): import it by name
            found = getattr(importlib.import_module(module), short) is fn
        except Exception:
            found = False
        if not found or module == "kiln_imported_model":
            self.fail(n, f"'{n.name}' calls {name}, which generated code cannot import; "
                         f"wrap it in a submodule")
        imports.append(f"from {module} import {short} as _{short}")
        return f"_{short}"


def _keywords(params):
    return ", ".join(f"{k}={_literal(v)}" for k, v in params.items())


# Operators written as operators in generated code (x0 * 2, not operator.mul(x0, 2)).
_BINARY = {operator.add: "+", operator.sub: "-", operator.mul: "*", operator.truediv: "/",
           operator.floordiv: "//", operator.matmul: "@", operator.pow: "**",
           operator.mod: "%"}


def _index(index, src):
    """Python source of an index: x[:, -1], x[..., ::2]."""
    def one(i):
        if isinstance(i, slice):
            parts = ["" if v is None else src(v) for v in (i.start, i.stop, i.step)]
            return f"{parts[0]}:{parts[1]}" + (f":{parts[2]}" if parts[2] else "")
        return src(i)
    if isinstance(index, tuple):
        return ", ".join(one(i) for i in index) if index else "()"
    return one(index)


def _hashable(t):
    try:
        hash(t)
        return True
    except TypeError:
        return False


def _same(a, b):
    return torchnn._same(a, b)


def _collapse(key, value):
    if key in torchnn._SPATIAL and isinstance(value, list) and value and \
            all(v == value[0] for v in value) and isinstance(value[0], int):
        return value[0]
    return value


class BlockRegistry:
    """Block architectures by content: the same class tracing to the same architecture is
    one architecture (ResNet's identical BasicBlocks), a different one gets a new name."""

    def __init__(self, doc):
        self.doc = doc
        self.by_key = {}
        self.customs = {}  # Custom class name -> its body

    def custom_class(self, base, body):
        """A Custom class name unique in the document: generated code puts every Custom class
        in one file, so the same name must mean the same code (identical blocks still are)."""
        name, k = base, 2
        while self.customs.setdefault(name, body) != body:
            name, k = f"{base}_{k}", k + 1
        return name

    def name_for(self, class_name, arch):
        key = (class_name, json.dumps(arch, sort_keys=True))
        if key not in self.by_key:
            name, k = _identifier(class_name), 2
            while name in self.doc["architectures"]:
                name, k = f"{_identifier(class_name)}_{k}", k + 1
            self.doc["architectures"][name] = arch
            self.by_key[key] = name
        return self.by_key[key]


def _identifier(name):
    out = re.sub(r"\W", "_", name)
    return out if out and not out[0].isdigit() else "A_" + out
