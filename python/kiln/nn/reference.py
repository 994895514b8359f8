"""Runs an architecture document (docs/nn.md) directly with torch: the reference for shapes.

Each node is built from its type and params when its inputs arrive, so the automatic
dimensions (in_channels, in_features, …; docs/nn.md "Automatic dimensions") are taken from
the real incoming tensors, and every node's outputs are real tensors whose shapes are what
torch says.  The random architecture generator (kiln.nn.randomarch) grows documents with it
one node at a time, and the agreement tests compare C++'s analysis with its shapes.

    ev = Evaluator(doc)                      # or run(doc, inputs) for a whole document
    ev.set_input("x", torch.zeros(2, 3, 8, 8))
    ev.evaluate(node)                        # raises NodeError naming the node

Not covered (they raise NodeError saying so): Block and Custom nodes.  Modules run in eval
mode under no_grad: shapes do not depend on training, and train-only checks (BatchNorm's
"more than 1 value per channel") are not what the design-time analysis is about.
"""
import torch

from kiln.nn import document, layers
from kiln.nn.document import flatten, parse_end, shape_of  # noqa: F401 (this module's API)

# Node types that are not nn modules: name → (input ports, output ports) (kiln.nn.document).
# A port whose name is in MANY takes several edges (the operands, in edge order).
BUILTIN_PORTS = document.PORTS
MANY = {"inputs"}


class NodeError(Exception):
    """A node that torch rejects: ``node`` is its id, ``cause`` torch's exception."""

    def __init__(self, node: str, message: str, cause: BaseException = None):
        super().__init__(f"{node}: {message}")
        self.node = node
        self.cause = cause


def ports(node_type: str):
    """(input port names, output port names) of a node type."""
    if node_type in BUILTIN_PORTS:
        return BUILTIN_PORTS[node_type]
    return layers.ports(node_type)


def infer_dims(node_type: str, params: dict, shapes: dict) -> dict:
    """The automatic dimensions of docs/nn.md this node leaves out, from its input shapes
    (port → shape); returns {param: value} for those left out (kiln.nn.layers' rules)."""
    return {k: v for k, v in layers.automatic_dims(node_type, shapes).items()
            if k not in params}


def _builtin(node_type: str, params: dict, args: dict):
    if node_type not in BUILTIN_PORTS or node_type in ("Input", "Output"):
        raise NotImplementedError(f"node type {node_type} is not run by kiln.nn.reference")
    operands = args["inputs"] if node_type in document.MERGE_TYPES else args["input"]
    return [document.run_builtin(node_type, params, operands)]


class Evaluator:
    """Evaluates the nodes of one architecture, one at a time, keeping every port's value."""

    def __init__(self, architecture: dict):
        self.architecture = architecture
        self.nodes = {n["id"]: n for n in architecture["nodes"]}
        self.values = {}     # node id → list of output values, in port order
        self.inferred = {}   # node id → {param: value}
        self.modules = {}    # node id → the nn.Module built for it

    def set_input(self, node_id: str, value) -> None:
        self.values[node_id] = [value]

    def incoming(self, node_id: str) -> dict:
        """input port → value (a list for a MANY port), from the edges in their order."""
        node = self.nodes[node_id]
        in_ports, _ = ports(node["type"])
        args = {}
        for src, dst in self.architecture["edges"]:
            dst_node, dst_port = parse_end(dst)
            if dst_node != node_id:
                continue
            src_node, src_port = parse_end(src)
            if src_node not in self.values:
                raise NodeError(node_id, f"its input from {src_node} has no value")
            out_ports = ports(self.nodes[src_node]["type"])[1]
            index = out_ports.index(src_port) if src_port else 0
            value = self.values[src_node][index]
            port = dst_port or in_ports[0]
            if port in MANY:
                args.setdefault(port, []).append(value)
            else:
                args[port] = value
        return args

    def evaluate(self, node_id: str) -> list:
        node = self.nodes[node_id]
        node_type = node["type"]
        params = dict(node.get("params") or {})
        if node_type == "Input":
            if node_id not in self.values:
                raise NodeError(node_id, "no value was given for this Input")
            return self.values[node_id]
        args = self.incoming(node_id)
        if node_type == "Output":
            self.values[node_id] = []
            return []
        try:
            if node_type in BUILTIN_PORTS:
                outputs = _builtin(node_type, params, args)
            else:
                shapes = {p: shape_of(v) for p, v in args.items()}
                inferred = infer_dims(node_type, params, shapes)
                self.inferred[node_id] = inferred
                module = layers.instantiate(node_type, params, tuples=False, **inferred)
                module.eval()
                self.modules[node_id] = module
                with torch.no_grad():
                    outputs = flatten(module(**args))
        except NotImplementedError as e:
            if node_type in BUILTIN_PORTS:
                raise NodeError(node_id, str(e), e) from e
            raise NodeError(node_id, f"torch: NotImplementedError: {e}", e) from e
        except Exception as e:  # torch's errors are RuntimeError, ValueError, AssertionError…
            raise NodeError(node_id, f"torch: {type(e).__name__}: {e}", e) from e
        self.values[node_id] = outputs
        return outputs


def topological_order(architecture: dict) -> list:
    """Node ids in an order where every node follows its inputs; ties keep the node order."""
    ids = [n["id"] for n in architecture["nodes"]]
    preds = {i: set() for i in ids}
    for src, dst in architecture["edges"]:
        preds[parse_end(dst)[0]].add(parse_end(src)[0])
    order, cycle = document.topological_order(ids, preds)
    if cycle:
        raise ValueError("the architecture has a cycle")
    return order


def example_inputs(doc: dict, subst: dict, generator: torch.Generator = None) -> dict:
    """A tensor per Input node of the main architecture, its symbolic dims given by ``subst``
    (e.g. {"N": 2}): zeros, or for an Input that feeds an Embedding, indices below its
    num_embeddings."""
    arch = doc["architectures"][doc["main"]]
    nodes = {n["id"]: n for n in arch["nodes"]}
    inputs = {}
    for node in arch["nodes"]:
        if node["type"] != "Input":
            continue
        shape = [subst[d] if isinstance(d, str) else d for d in node["params"]["shape"]]
        limits = [nodes[parse_end(dst)[0]]["params"]["num_embeddings"]
                  for src, dst in arch["edges"]
                  if parse_end(src)[0] == node["id"]
                  and nodes[parse_end(dst)[0]]["type"] in ("Embedding", "EmbeddingBag")]
        if limits:
            inputs[node["id"]] = torch.randint(0, min(limits), shape, generator=generator)
        else:
            inputs[node["id"]] = torch.zeros(shape)
    return inputs


def run(doc: dict, inputs: dict) -> Evaluator:
    """Evaluates the main architecture of ``doc`` on ``inputs`` (Input node id → tensor);
    raises NodeError at the first node (in topological order) that torch rejects."""
    arch = doc["architectures"][doc["main"]]
    ev = Evaluator(arch)
    for node_id, value in inputs.items():
        ev.set_input(node_id, value)
    for node_id in topological_order(arch):
        ev.evaluate(node_id)
    return ev
