"""Architecture document (docs/nn.md) → torch module, in Python.

    build_module(document) -> torch.fx.GraphModule

An interpreter of the document, independent of the C++ code generator: the importer's tests
use it to check that an imported document is the model it came from, and the torch fallback
(fallback.py) runs the same graph on meta tensors. Each architecture becomes a torch.fx graph
whose node names are the document's node ids (sanitized to identifiers): an Input is a
placeholder, a layer or Block or Custom a call_module, the merge and shape types calls of
torch functions. Modules are created while example tensors run through the graph, so the
automatic dimensions (in_channels, in_features, …) are taken from the shapes that reach them;
a Block is built for the tensors that reach each use (each use has its own parameters).
"""
import operator

import torch
from torch import fx, nn

from . import document, torchnn
from .document import DocumentError, node_name  # DocumentError: a malformed document
from .document import Graph as DocumentGraph
from .document import add, multiply  # noqa: F401 (the merge functions, as this module had them)

# Values the example inputs give to symbolic dimensions when no sizes are passed.
DEFAULT_SIZES = {"N": 2}
DEFAULT_SIZE = 32

MERGE_TYPES = document.MERGE_TYPES
SHAPE_TYPES = document.SHAPE_TYPES
OTHER_TYPES = document.BUILTIN_TYPES


port = document.port_value  # element ``index`` of a layer's result flattened (an fx target)


split_end = document.parse_end  # "node" or "node.port" → (node, port or None)


def input_shapes(document, arch_name=None):
    """[(Input node name, shape)] of an architecture, in node order."""
    arch = document["architectures"][arch_name or document["main"]]
    return [(n.get("name", n["id"]), n.get("params", {}).get("shape"))
            for n in arch["nodes"] if n["type"] == "Input"]


def example_inputs(document, sizes=None, device="cpu"):
    """Zero tensors for the main architecture's Inputs, names replaced by ``sizes``."""
    sizes = dict(DEFAULT_SIZES, **(sizes or {}))
    out = []
    for name, shape in input_shapes(document):
        if shape is None:
            raise DocumentError(f"Input '{name}' has no shape")
        dims = [d if isinstance(d, int) else sizes.get(d, DEFAULT_SIZE) for d in shape]
        out.append(torch.zeros(dims, device=device))
    return out


class ArchitectureGraph:
    """The fx graph of one architecture, and for each fx node the document node it stands for.
    The document is read (checked, ports resolved, ordered) by kiln.nn.document.Graph."""

    def __init__(self, document, arch_name):
        self.document, self.name = document, arch_name
        self.checked = DocumentGraph(document, arch_name)
        self.nodes = self.checked.nodes
        self.graph = fx.Graph()
        self.doc_id = {}      # fx node name -> document node id
        self.spec = {}        # fx node name -> document node (for call_module targets)
        self.outputs = []     # Output node names, in node order (a Block's output ports)
        self._build()

    def _build(self):
        values = {}   # document id -> fx node
        results = []
        for nid in self.checked.order:
            node = self.nodes[nid]
            ntype = node["type"]
            params = node.get("params", {}) or {}
            name = node_name(node)
            incoming = self.checked.incoming[nid]
            if ntype == "Input":
                fxnode = self.graph.placeholder(_identifier(name))
            elif ntype == "Output":
                srcs = incoming.get("input", [])
                if len(srcs) != 1:
                    raise DocumentError(f"Output '{name}' needs one incoming edge, has {len(srcs)}")
                results.append(self._value(srcs[0], values))
                self.outputs.append(name)
                continue
            else:
                fxnode = self._call(node, ntype, params, incoming, values)
            values[nid] = fxnode
            self.doc_id[fxnode.name] = nid
        if not results:
            raise DocumentError(f"architecture '{self.name}' has no Output node")
        self.graph.output(results[0] if len(results) == 1 else tuple(results))

    def _value(self, source, values):
        """The fx node for an edge's source (node id, output port)."""
        nid, port_name = source
        ports = self.checked.ports[nid][1]
        if len(ports) == 1:
            return values[nid]
        fn = operator.getitem if self.nodes[nid]["type"] == "Block" else port
        return self.graph.call_function(fn, (values[nid], ports.index(port_name)))

    def output_ports(self, node):
        return self.checked.ports[node["id"]][1] or ["output"]

    def _call(self, node, ntype, params, incoming, values):
        nid = node["id"]
        by_port = {p: [self._value(s, values) for s in srcs] for p, srcs in incoming.items()}
        name = _identifier(node_name(node))
        g = self.graph
        if ntype in MERGE_TYPES:
            fn, args, kwargs = document.builtin_call(ntype, params, by_port.get("inputs", []))
            return g.create_node("call_function", fn, args, kwargs, name=name)
        if not by_port:
            raise DocumentError(f"{ntype} '{nid}' has no incoming edge")
        if ntype in SHAPE_TYPES:
            fn, args, kwargs = document.builtin_call(ntype, params, by_port["input"][0])
            return g.create_node("call_function", fn, args, kwargs, name=name)
        # A module: a torch.nn layer, a Block or a Custom; created when the shapes are known.
        if ntype == "Custom":  # positional, in edge order (docs/nn.md)
            args, kwargs = tuple(by_port["input"]), {}
        elif ntype == "Block":  # by port: the block's Input nodes, in their order
            args, kwargs = self._block_args(node, by_port), {}
        else:
            args, kwargs = self._layer_args(node, by_port)
        fxnode = g.create_node("call_module", name, args, kwargs, name=name)
        fxnode.target = fxnode.name  # the submodule is named like the node
        self.spec[fxnode.name] = node
        return fxnode

    def _block_args(self, node, by_port):
        ports = self.checked.ports[node["id"]][0]
        missing = [p for p in ports if p not in by_port]
        if missing:
            raise DocumentError(f"Block '{node['id']}': nothing is connected to its input "
                                f"'{missing[0]}'")
        return tuple(by_port[p][0] for p in ports)

    def _layer_args(self, node, by_port):
        by_port = {p: values[0] for p, values in by_port.items()}
        args = []
        # positional in forward's argument order up to the first one left open, then by name
        for p in torchnn.input_ports(node["type"]):
            if p not in by_port:
                break
            args.append(by_port.pop(p))
        return tuple(args), by_port


def _identifier(name):
    out = "".join(c if c.isalnum() or c == "_" else "_" for c in str(name))
    return out if out and not out[0].isdigit() else "n_" + out


def make_module(document, node, inputs, build=None):
    """The nn.Module for a layer, Block or Custom node, given the tensors that reach it."""
    ntype = node["type"]
    params = node.get("params", {}) or {}
    if ntype == "Custom":
        return custom_module(params, node.get("name", node["id"]))
    if ntype == "Block":
        block = params["block"]
        count = params.get("count", 1)
        build = build or build_module
        if count == 1:
            return build(document, inputs, arch_name=block)
        stages, xs = [], list(inputs)
        for _ in range(count):  # output i feeds input i of the next repeat
            stage = build(document, xs, arch_name=block)
            stages.append(stage)
            out = stage(*xs)
            xs = list(out) if isinstance(out, tuple) else [out]
        return Repeat(stages)
    flat = [t for t in inputs if isinstance(t, torch.Tensor)]
    return torchnn.instantiate(ntype, torchnn.fill_automatic(ntype, params, flat))


class Repeat(nn.Module):
    """A Block with count > 1: its architecture repeated, output i feeding input i."""

    def __init__(self, stages):
        super().__init__()
        self.stages = nn.ModuleList(stages)

    def forward(self, *xs):
        for stage in self.stages:
            out = stage(*xs)
            xs = out if isinstance(out, tuple) else (out,)
        return out


def custom_module(params, name="custom"):
    """Instantiate a Custom node's class from its ``code`` (exec'd with torch and nn in scope)."""
    return document.custom_module(params, f"Custom '{name}'")


def run_graph(ag, holder, inputs, call_module):
    """Run ``ag``'s fx graph on ``inputs``; ``call_module(fxnode, args, kwargs)`` runs (and
    creates, the first time) the modules. Returns {fx node name: value} and the result."""
    env = {}
    it = iter(inputs)
    result = None
    for n in ag.graph.nodes:
        args = fx.node.map_arg(n.args, lambda a: env[a.name])
        kwargs = fx.node.map_arg(n.kwargs, lambda a: env[a.name])
        if n.op == "output":
            result = args[0]
        else:
            env[n.name] = run_node(ag, n, args, kwargs, it, call_module)
    return env, result


def run_node(ag, n, args, kwargs, inputs, call_module):
    """The value of fx node ``n`` of ``ag`` (not its output) from its arguments' values: a
    placeholder takes the next of ``inputs`` (an iterator), a call_module is
    ``call_module(n, args, kwargs)``. Shared by run_graph and the fallback's propagate."""
    if n.op == "placeholder":
        try:
            return next(inputs)
        except StopIteration:
            raise DocumentError(f"architecture '{ag.name}': no tensor for Input "
                                f"'{n.name}'") from None
    if n.op == "call_module":
        return call_module(n, args, kwargs)
    if n.op == "call_function":
        return n.target(*args, **kwargs)
    if n.op == "call_method":
        return getattr(args[0], n.target)(*args[1:], **kwargs)
    raise ValueError(f"fx node '{n.name}': op {n.op} is not run here")


def build_module(document, inputs=None, arch_name=None, sizes=None):
    """A torch module for ``document``'s main architecture (or ``arch_name``).

    ``inputs``: example tensors (default: zeros of the Input shapes with names set from
    ``sizes``, N=2 and other names 32) — they decide the automatic dimensions."""
    arch_name = arch_name or document["main"]
    ag = ArchitectureGraph(document, arch_name)
    if inputs is None:
        inputs = example_inputs(document)
    holder = nn.Module()

    def call_module(n, args, kwargs):
        if not hasattr(holder, n.target):
            node = ag.spec[n.name]
            holder.add_module(n.target, make_module(document, node, list(args) +
                                                    list(kwargs.values())))
        return getattr(holder, n.target)(*args, **kwargs)

    was_grad = torch.is_grad_enabled()
    torch.set_grad_enabled(False)
    try:
        run_graph(ag, holder, inputs, call_module)
    finally:
        torch.set_grad_enabled(was_grad)
    gm = fx.GraphModule(holder, ag.graph, class_name=_identifier(arch_name))
    return gm
