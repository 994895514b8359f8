"""The architecture document's own semantics (docs/nn.md), shared by every Python runner.

build.py (document → nn.Module), reference.py (node-by-node evaluation) and fxgraph.py
(document → torch.fx graph, run by the fallback) all read the same format; what the format
itself says lives here once, so the three cannot drift apart:

* the built-in node types (Input, Output, Concatenate, Stack, Add, Multiply, Reshape,
  Permute, Split, Chunk, Select, Block, Custom) and their ports;
* edge ends ("node" or "node.port"), a node's name, a Block's ports, topological order;
* what the merge and shape types compute (``builtin_call``), as torch functions, so an fx
  graph can hold them as call_function targets and an interpreter can call them;
* a layer's result as one value per port (``flatten``) and the shape of a port's value;
* loading a Custom node's class from its code.

Each caller keeps its own errors (BuildError, NodeError, DocumentError and their wording):
these functions return None or raise the plain Python error where a caller decides.
"""
from __future__ import annotations

import operator

import torch

from kiln.nn import layers

# Ports of the built-in types that are not nn modules: type → (input ports, output ports).
# A Block's ports come from its architecture (block_ports); Custom's are CUSTOM_PORTS.
PORTS = {
    "Input": ([], ["output"]),
    "Output": (["input"], []),
    "Concatenate": (["inputs"], ["output"]),
    "Stack": (["inputs"], ["output"]),
    "Add": (["inputs"], ["output"]),
    "Multiply": (["inputs"], ["output"]),
    "Reshape": (["input"], ["output"]),
    "Permute": (["input"], ["output"]),
    "Split": (["input"], ["outputs"]),
    "Chunk": (["input"], ["outputs"]),
    "Select": (["input"], ["output"]),
}
CUSTOM_PORTS = (["input"], ["output"])
BUILTIN_TYPES = set(PORTS) | {"Block", "Custom"}
# The merge types: their one input port takes several edges, the operands in edge order.
MERGE_TYPES = {"Concatenate", "Stack", "Add", "Multiply"}
SHAPE_TYPES = {"Reshape", "Permute", "Split", "Chunk", "Select"}
# Custom's `input` takes several edges too: its forward's positional arguments, in edge order
# (the importer wraps calls like torch.matmul(a, b)).
SEVERAL_INPUTS = MERGE_TYPES | {"Custom"}


def node_name(node: dict) -> str:
    """A node's name: ``name``, else its ``id`` (a Block's ports are named so)."""
    return str(node.get("name") or node["id"])


def parse_end(end: str):
    """An edge end "node" or "node.port" → (node, port or None)."""
    node, _, port = end.partition(".")
    return node, port or None


def block_ports(document: dict, block: str):
    """(input ports, output ports) of a Block using architecture ``block``: the names of its
    Input and Output nodes, in node order; None when the document has no such architecture."""
    arch = (document.get("architectures") or {}).get(block)
    if arch is None:
        return None
    nodes = arch.get("nodes", [])
    return ([node_name(n) for n in nodes if n.get("type") == "Input"],
            [node_name(n) for n in nodes if n.get("type") == "Output"])


def topological_order(ids: list, preds: dict):
    """``ids`` in an order where each follows its ``preds`` (id → set of ids); ties keep the
    order of ``ids``, so the order is deterministic. Returns (order, the ids left when there
    is a cycle: empty when there is none)."""
    order, done = [], set()
    while len(order) < len(ids):
        ready = [i for i in ids if i not in done and preds[i] <= done]
        if not ready:
            return order, [i for i in ids if i not in done]
        order.append(ready[0])
        done.add(ready[0])
    return order, []


def flatten(value) -> list:
    """A forward result as one value per port: LSTM's (output, (h_n, c_n)) → 3 values."""
    if isinstance(value, (tuple, list)):
        out = []
        for v in value:
            out.extend(flatten(v))
        return out
    return [value]


def port_value(value, index):
    """Element ``index`` of a layer's result flattened (an fx call_function target)."""
    return flatten(value)[index]


def shape_of(value):
    """A port value's shape: a tensor's list of ints, or for a tuple a list of those."""
    if isinstance(value, torch.Tensor):
        return list(value.shape)
    if isinstance(value, (tuple, list)):
        return [shape_of(v) for v in value]
    return None


class DocumentError(ValueError):
    """A malformed document (unknown node, port, architecture, a cycle…); ``architecture``
    and ``node`` say where when known."""

    def __init__(self, message: str, architecture: str | None = None, node: str | None = None):
        super().__init__(message)
        self.message = message
        self.architecture = architecture
        self.node = node


class Graph:
    """One architecture's nodes, ports and edges, checked; topologically ordered.

    ``nodes``: id → node; ``ports``: id → (input port names, output port names);
    ``edges``: ((src id, port), (dst id, port)) in document order, every end resolved to
    a port name; ``incoming``: id → port → [(src id, port)]; ``order``: ids, topological.
    Needs no tensors: examples/architecture_tree.py uses it to write project trees.
    Its errors are ``self.error(message, architecture, node)``: a subclass sets its own.
    """

    error = DocumentError

    def __init__(self, document: dict, arch_name: str):
        archs = document.get("architectures") or {}
        if arch_name not in archs:
            raise self.error(f"no architecture named {arch_name!r} in the document "
                             f"(it has {sorted(archs) or 'none'})", arch_name)
        arch = archs[arch_name]
        self.document, self.name = document, arch_name
        self.nodes = {}
        for node in arch.get("nodes", []):
            if "id" not in node or "type" not in node:
                raise self.error(f"a node of {arch_name} lacks 'id' or 'type': {node}", arch_name)
            if node["id"] in self.nodes:
                raise self.error(f"two nodes have the id {node['id']!r}", arch_name, node["id"])
            self.nodes[node["id"]] = node
        self.ports = {nid: self._ports(n) for nid, n in self.nodes.items()}
        # incoming[node][port] = [(src node, src port), ...] in edge order
        self.incoming = {nid: {} for nid in self.nodes}
        self.edges = []
        for edge in arch.get("edges", []):
            (src, sport), (dst, dport) = self._end(edge[0], 1), self._end(edge[1], 0)
            self.incoming[dst].setdefault(dport, []).append((src, sport))
            self.edges.append(((src, sport), (dst, dport)))
        for nid, ports in self.incoming.items():
            for port, sources in ports.items():
                if len(sources) > 1 and self.nodes[nid]["type"] not in SEVERAL_INPUTS:
                    raise self.error(f"port {port!r} of {self._label(nid)} has {len(sources)} "
                                     "incoming edges; only the inputs of Concatenate, Stack, "
                                     "Add, Multiply and Custom take several", arch_name, nid)
        self.order = self._topological()

    def _label(self, nid: str) -> str:
        return f"{self.nodes[nid]['type']} '{node_name(self.nodes[nid])}'"

    def _ports(self, node: dict) -> tuple:
        t = node["type"]
        if t in PORTS:
            return PORTS[t]
        if t == "Block":  # the block's Inputs and Outputs, by name, in node order
            name = (node.get("params") or {}).get("block")
            if not name:
                raise self.error(f"Block '{node_name(node)}' has no 'block' parameter naming "
                                 "its architecture", self.name, node["id"])
            ports = block_ports(self.document, name)
            if ports is None:
                raise self.error(f"Block '{node_name(node)}': no architecture named {name!r} in "
                                 f"the document", self.name, node["id"])
            return ports
        if t == "Custom":
            return CUSTOM_PORTS
        if layers.layer_class(t) is None:
            raise self.error(f"node '{node_name(node)}': unknown type {t!r} (neither a torch.nn "
                             "layer nor a built-in type)", self.name, node["id"])
        return layers.ports(t)

    def _end(self, text: str, is_source: int) -> tuple:
        """(node id, port name) of an edge end "node" or "node.port"."""
        if text in self.nodes:
            nid, port = text, None
        else:
            nid, _, port = str(text).rpartition(".")
            if nid not in self.nodes:
                raise self.error(f"an edge names {text!r}, which is no node of {self.name}",
                                 self.name)
        ins, outs = self.ports[nid]
        names = outs if is_source else ins
        if port is None:
            if not names:
                raise self.error(f"{self._label(nid)} has no {'outputs' if is_source else 'inputs'}"
                                 f" but an edge {'leaves' if is_source else 'enters'} it",
                                 self.name, nid)
            return nid, names[0]
        if port not in names:
            raise self.error(f"{self._label(nid)} has no {'output' if is_source else 'input'} "
                             f"port {port!r} (it has {names})", self.name, nid)
        return nid, port

    def inputs(self) -> list:
        return [i for i, n in self.nodes.items() if n["type"] == "Input"]

    def outputs(self) -> list:
        return [i for i, n in self.nodes.items() if n["type"] == "Output"]

    def _topological(self) -> list:
        deps = {nid: {s for srcs in ports.values() for s, _ in srcs}
                for nid, ports in self.incoming.items()}
        order, stuck = topological_order(list(self.nodes), deps)
        if stuck:
            raise self.error(f"{self.name} has a cycle through "
                             f"{[node_name(self.nodes[n]) for n in stuck]}", self.name)
        return order


# -- what the merge and shape types compute --------------------------------------------
def add(*xs):
    out = xs[0]
    for x in xs[1:]:
        out = out + x
    return out


def multiply(*xs):
    out = xs[0]
    for x in xs[1:]:
        out = out * x
    return out


def builtin_call(node_type: str, params: dict, operands):
    """(function, args, kwargs) computing a merge or shape node: ``operands`` is the list of
    values on a merge type's ``inputs``, else the one value on ``input``. The values may be
    tensors or fx nodes (fxgraph puts the call in its graph). A missing required param is a
    KeyError naming it; the parameter defaults are docs/nn.md's."""
    if node_type == "Concatenate":
        return torch.cat, (operands,), {"dim": params.get("dim", 1)}
    if node_type == "Stack":
        return torch.stack, (operands,), {"dim": params.get("dim", 0)}
    if node_type == "Add":
        return add, tuple(operands), {}
    if node_type == "Multiply":
        return multiply, tuple(operands), {}
    if node_type == "Reshape":
        return torch.reshape, (operands, tuple(params["shape"])), {}
    if node_type == "Permute":
        return torch.permute, (operands, tuple(params["dims"])), {}
    if node_type == "Split":
        return torch.split, (operands, params["split_size_or_sections"]), \
            {"dim": params.get("dim", 0)}
    if node_type == "Chunk":
        return torch.chunk, (operands, params["chunks"]), {"dim": params.get("dim", 0)}
    if node_type == "Select":
        return operator.getitem, (operands, params["index"]), {}
    raise NotImplementedError(f"node type {node_type} is not a merge or shape type")


def run_builtin(node_type: str, params: dict, operands):
    """The value of a merge or shape node (a tuple for Split and Chunk)."""
    fn, args, kwargs = builtin_call(node_type, params, operands)
    out = fn(*args, **kwargs)
    return tuple(out) if node_type in ("Split", "Chunk") else out


def custom_module(params: dict, label: str, error=DocumentError):
    """A Custom node's module: the class named by ``class`` in its ``code``, instantiated.
    ``label`` names the node in errors ("Custom 'attn'"), raised as ``error``."""
    code, cls_name = params.get("code"), params.get("class")
    if not code or not cls_name:
        raise error(f"{label}: a Custom node needs 'code' and 'class'")
    cls = custom_class(code, cls_name, f"<{label}>")
    if cls is None:
        raise error(f"{label}: its code defines no nn.Module subclass named {cls_name!r}")
    return cls()


def custom_class(code: str, class_name: str, filename: str):
    """The class ``class_name`` defined by a Custom node's ``code`` (run with torch and nn in
    scope, compiled as ``filename`` so tracebacks name the node); None when the code defines
    no nn.Module subclass of that name."""
    from torch import nn
    namespace = {"torch": torch, "nn": nn, "__name__": "kiln_custom"}
    exec(compile(code, filename, "exec"), namespace)  # the user's own layer code
    cls = namespace.get(class_name)
    if not (isinstance(cls, type) and issubclass(cls, nn.Module)):
        return None
    return cls
