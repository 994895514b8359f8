"""Architecture document → ``torch.nn.Module``, by interpretation (docs/nn.md).

The document's format is docs/nn.md ("The architecture document"). This module is the
runtime twin of the C++ code generator: instead of writing a class it builds a module
that walks the graph in ``forward``. Used by the model zoo's tests, by operations that
want a model straight from a document, and as a reference to check generated code
against (same parameter names are not promised; same parameter counts and shapes are).

* ``build_module(document, sizes=None) -> nn.Module`` — the ``main`` architecture.
* ``example_inputs(document, sizes=None) -> list`` — one small real tensor per Input of
  ``main`` (integer tensors for Inputs that feed an Embedding).
* ``summarize(document, input_shapes=None, sizes=None) -> dict`` — per node the output
  shapes (concrete: a real tensor is run), the inferred dimensions and the parameter count.

Automatic dimensions (``in_channels``, ``in_features``, …) are filled by running a small
real tensor through the graph while it is built, in topological order: each layer is
constructed once its inputs' values are known. A symbolic dimension of an Input's
shape takes its value from ``sizes`` (default: ``N`` → 2, any other name → 16).

Errors are ``BuildError`` naming the architecture and node. Not thread-safe while
building (torch's RNG is used for the probe); a built module is an ordinary module.
"""
from __future__ import annotations

import inspect
import keyword
import re

import torch
from torch import nn

from kiln.nn import document, layers
from kiln.nn.document import node_name

__all__ = ["BuildError", "build_module", "example_inputs", "summarize", "ArchitectureModule",
           "Graph", "node_name"]

BUILTIN = document.BUILTIN_TYPES
MANY = document.MERGE_TYPES  # their one input port takes several edges
SEVERAL = document.SEVERAL_INPUTS
DEFAULT_SIZES = {"N": 2}
DEFAULT_SIZE = 16
class BuildError(Exception):
    """An architecture that cannot be built; ``architecture`` and ``node`` say where."""

    def __init__(self, message: str, architecture: str | None = None, node: str | None = None):
        super().__init__(message)
        self.message = message
        self.architecture = architecture
        self.node = node


def _layer_class(type_name: str):
    return layers.layer_class(type_name)


def _identifier(name: str, used: set) -> str:
    """A Python identifier for a submodule name, unique among ``used``."""
    base = re.sub(r"\W", "_", str(name)) or "layer"
    if base[0].isdigit() or keyword.iskeyword(base):
        base = "_" + base
    out, i = base, 2
    while out in used:
        out, i = f"{base}_{i}", i + 1
    used.add(out)
    return out


AUTOMATIC = layers.AUTOMATIC


class Graph(document.Graph):
    """One architecture's nodes, ports and edges, checked; topologically ordered
    (kiln.nn.document.Graph); its errors are BuildErrors."""

    error = BuildError


class ArchitectureModule(nn.Module):
    """One architecture as a module; ``forward`` takes the Inputs in node order."""

    def __init__(self, document: dict, arch_name: str, probe: list, _stack=()):
        super().__init__()
        if arch_name in _stack:
            raise BuildError(f"{arch_name} uses itself as a block (through {list(_stack)})",
                             arch_name)
        self.architecture = arch_name
        self._graph = Graph(document, arch_name)
        self._stack = _stack + (arch_name,)
        self._keys = {}       # node id → submodule name
        self._used = set()
        self.layers = nn.ModuleDict()
        self.report = {}      # node id → {"outputs", "inferred", "parameters"}: the build's probe
        with torch.no_grad():
            self._run(list(probe), build=True)
        del self._stack
        self.train()  # layers were probed in eval mode

    def forward(self, *args):
        values = self._run(list(args), build=False)
        return values[0] if len(values) == 1 else tuple(values)

    # -- interpretation ---------------------------------------------------------------
    def _run(self, args: list, build: bool) -> list:
        g = self._graph
        inputs = g.inputs()
        if len(args) != len(inputs):
            raise TypeError(f"{self.architecture} takes {len(inputs)} inputs "
                            f"({[node_name(g.nodes[i]) for i in inputs]}), got {len(args)}")
        given = dict(zip(inputs, args))
        values = {}   # (node id, port) → value
        results = []
        for nid in g.order:
            node = g.nodes[nid]
            ins = {}
            for port, sources in g.incoming[nid].items():
                vals = [values[s] for s in sources]
                ins[port] = vals if node["type"] in SEVERAL else vals[0]
            try:
                out = self._node(nid, node, ins, given, build)
            except BuildError:
                raise
            except Exception as e:  # torch's message, placed on the node that raised it
                raise BuildError(f"{g._label(nid)} in {self.architecture}: {e}",
                                 self.architecture, nid) from e
            for port, value in zip(g.ports[nid][1], out):
                values[(nid, port)] = value
            if node["type"] == "Output":
                if "input" not in ins:
                    raise BuildError(f"{g._label(nid)} has nothing connected",
                                     self.architecture, nid)
                results.append(ins["input"])
            if build:
                self.report[nid] = {"outputs": {p: document.shape_of(v)
                                                for p, v in zip(g.ports[nid][1], out)},
                                    **self.report.get(nid, {})}
        return results

    def _node(self, nid: str, node: dict, ins: dict, given: dict, build: bool) -> list:
        t = node["type"]
        p = dict(node.get("params") or {})
        g = self._graph
        if t == "Input":
            return [given[nid]]
        if t == "Output":
            return []
        needed = g.ports[nid][0]
        missing = [port for port in needed[:1] if port not in ins]
        if missing and t not in MANY:
            raise BuildError(f"{g._label(nid)}: nothing is connected to its input "
                             f"{missing[0]!r}", self.architecture, nid)
        if t in MANY:
            xs = ins.get("inputs", [])
            if not xs:
                raise BuildError(f"{g._label(nid)}: nothing is connected to its inputs",
                                 self.architecture, nid)
            return [document.run_builtin(t, p, xs)]
        x = ins.get("input")
        if t == "Select" and not isinstance(x, (tuple, list)):
            raise BuildError(f"{g._label(nid)}: its input is a tensor, not a tuple; Select "
                             "picks one element of a tuple (Split's or Chunk's outputs)",
                             self.architecture, nid)
        if t in document.SHAPE_TYPES:
            return [document.run_builtin(t, p, x)]
        if t == "Block":
            return self._block(nid, node, ins, build)
        module = self._module(nid, node, ins, build)
        if t == "Custom":
            return [module(*ins["input"])]
        args = [ins[port] for port in needed if port in ins]
        if len(args) != len(ins) or any(port not in ins for port in needed[:len(args)]):
            # a gap among the connected ports: pass them by name
            return document.flatten(module(**ins))
        return document.flatten(module(*args))

    def _module(self, nid: str, node: dict, ins: dict, build: bool) -> nn.Module:
        if not build:
            return self.layers[self._keys[nid]]
        g = self._graph
        t = node["type"]
        params = dict(node.get("params") or {})
        if t == "Custom":
            module = _custom(params, g._label(nid))
        else:
            cls = _layer_class(t)
            accepted = _init_parameters(cls)
            shapes = {port: list(ins[port].shape) for port in g.ports[nid][0]
                      if isinstance(ins.get(port), torch.Tensor)}
            automatic = layers.automatic_dims(t, shapes)
            inferred = {}
            for name in AUTOMATIC:
                if name not in accepted:
                    continue
                value = automatic.get(name)
                if name not in params:
                    if value is None:
                        raise BuildError(f"{g._label(nid)}: cannot infer {name} from its input; "
                                         "give it", self.architecture, nid)
                    params[name] = inferred[name] = value
                elif value is not None and _dim_value(params[name]) != value:
                    raise BuildError(f"{g._label(nid)}: {name} {params[name]} but the input has "
                                     f"{value} there (input shape {next(iter(shapes.values()))}); leave "
                                     f"{name} empty to infer it", self.architecture, nid)
            unknown = [k for k in params if k not in accepted]
            if unknown and not any(v.kind == v.VAR_KEYWORD for v in accepted.values()):
                raise BuildError(f"{g._label(nid)}: {t} has no parameter {unknown[0]!r}",
                                 self.architecture, nid)
            module = layers.instantiate(t, params)
            self.report[nid] = {"inferred": inferred}
        module.eval()  # probed in eval mode: BatchNorm statistics stay fresh, no dropout
        key = _identifier(node_name(node), self._used)
        self._keys[nid] = key
        self.layers[key] = module
        self.report.setdefault(nid, {})["parameters"] = sum(q.numel() for q in module.parameters())
        return module

    def _block(self, nid: str, node: dict, ins: dict, build: bool) -> list:
        g = self._graph
        in_ports, out_ports = g.ports[nid]
        count = int((node.get("params") or {}).get("count", 1))
        if count < 1:
            raise BuildError(f"{g._label(nid)}: count {count} must be at least 1",
                             self.architecture, nid)
        if count > 1 and len(in_ports) != len(out_ports):
            raise BuildError(f"{g._label(nid)}: a block repeated {count} times needs as many "
                             f"outputs as inputs (output i feeds input i); it has "
                             f"{len(in_ports)} inputs and {len(out_ports)} outputs",
                             self.architecture, nid)
        missing = [port for port in in_ports if port not in ins]
        if missing:
            raise BuildError(f"{g._label(nid)}: nothing is connected to its input {missing[0]!r}",
                             self.architecture, nid)
        values = [ins[port] for port in in_ports]
        if build:
            name = node["params"]["block"]
            instances = []
            for _ in range(count):
                block = ArchitectureModule(g.document, name, values, self._stack)
                block.eval()  # the probe must not move BatchNorm's running statistics
                values = _call_block(block, values, len(out_ports))
                instances.append(block)
            key = _identifier(node_name(node), self._used)
            self._keys[nid] = key
            self.layers[key] = instances[0] if count == 1 else nn.ModuleList(instances)
            self.report[nid] = {"parameters": sum(q.numel() for q in
                                                  self.layers[key].parameters())}
            return values
        blocks = self.layers[self._keys[nid]]
        for block in ([blocks] if count == 1 else blocks):
            values = _call_block(block, values, len(out_ports))
        return values


def _call_block(block: nn.Module, values: list, n_outputs: int) -> list:
    """A block's outputs as a list (one output: forward returned it alone)."""
    result = block(*values)
    return list(result) if n_outputs > 1 else [result]


def _init_parameters(cls) -> dict:
    """Constructor parameters; LSTM & co. take **kwargs and pass them to RNNBase: add those."""
    params = dict(inspect.signature(cls.__init__).parameters)
    if any(p.kind == p.VAR_KEYWORD for p in params.values()):
        for base in cls.__mro__[1:]:
            if base is nn.Module:
                break
            for name, p in inspect.signature(base.__init__).parameters.items():
                if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
                    params.setdefault(name, p)
    return params


def _dim_value(v):
    return v[-1] if isinstance(v, (list, tuple)) and len(v) == 1 else v


def _custom(params: dict, label: str) -> nn.Module:
    return document.custom_module(params, label, BuildError)


# ------------------------------------------------------------------------------------
def _main_name(document: dict) -> str:
    if not isinstance(document, dict) or "architectures" not in document:
        raise BuildError("an architecture document is an object with 'main' and "
                         "'architectures' (docs/nn.md)")
    main = document.get("main")
    if not main:
        names = list(document["architectures"])
        if len(names) != 1:
            raise BuildError("the document has no 'main' naming the architecture to build")
        main = names[0]
    return main


def example_inputs(document: dict, sizes: dict | None = None,
                   input_shapes: dict | None = None) -> list:
    """One real tensor per Input of ``main``, in node order (see the module doc)."""
    g = Graph(document, _main_name(document))
    sizes = {**DEFAULT_SIZES, **(sizes or {})}
    out = []
    for nid in g.inputs():
        node = g.nodes[nid]
        shape = (input_shapes or {}).get(nid) or (input_shapes or {}).get(node_name(node))
        if shape is None:
            shape = (node.get("params") or {}).get("shape")
            if not shape:
                raise BuildError(f"Input '{node_name(node)}' has no shape", g.name, nid)
            shape = [d if isinstance(d, int) else int(sizes.get(d, DEFAULT_SIZE)) for d in shape]
        # An Input read by an Embedding holds indices: integers below num_embeddings.
        vocab = [int((g.nodes[dst].get("params") or {}).get("num_embeddings", 2))
                 for dst, ports in g.incoming.items() for srcs in ports.values()
                 for s, _ in srcs if s == nid and g.nodes[dst]["type"] in
                 ("Embedding", "EmbeddingBag")]
        if vocab:
            out.append(torch.randint(0, max(1, min(vocab)), tuple(shape)))
        else:
            out.append(torch.randn(*shape))
    return out


def build_module(document: dict, sizes: dict | None = None) -> nn.Module:
    """The ``main`` architecture of ``document`` as an ``nn.Module`` (see the module doc)."""
    main = _main_name(document)
    with torch.random.fork_rng():  # the probe must not move the caller's RNG
        probe = example_inputs(document, sizes)
    return ArchitectureModule(document, main, probe)


def summarize(document: dict, input_shapes: dict | None = None,
              sizes: dict | None = None) -> dict:
    """Per node of ``main``: output shapes, inferred dimensions, parameter count; totals.

    ``input_shapes``: Input node id or name → concrete shape (default: the declared
    shapes with ``sizes`` substituted).
    """
    main = _main_name(document)
    with torch.random.fork_rng():
        probe = example_inputs(document, sizes, input_shapes)
    module = ArchitectureModule(document, main, probe)
    nodes = {}
    for nid in module._graph.order:
        r = module.report.get(nid, {})
        nodes[nid] = {"outputs": r.get("outputs", {}), "inferred": r.get("inferred", {}),
                      "parameters": r.get("parameters", 0)}
    total = sum(q.numel() for q in module.parameters())
    trainable = sum(q.numel() for q in module.parameters() if q.requires_grad)
    return {"nodes": nodes, "totals": {"parameters": total, "trainable": trainable}}
