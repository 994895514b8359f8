"""The torch fallback for shapes: the layers the C++ analysis has no rule for (Custom code,
layers it does not know) are run through torch.

    /usr/bin/python3 -m kiln.nn.fallback      # PYTHONPATH=python; one JSON object per line

request  {"id": n, "document": <architecture document>, "nodes": [ids], "architecture"?: name}
answer   {"id": n, "nodes": {id: {"outputs": {port: shape}} | {"error": "Conv2d 'c1': …"}
                                 | {"upstream": id of the node that failed}}}
         {"id": n, "error": "…"} when the document itself is malformed

The architecture (default: the document's main) becomes a torch.fx graph whose node names are
the document's node ids (fxgraph.ArchitectureGraph). It runs on meta tensors; a node whose layer
has no meta kernel (or fails on meta) is run again on small real CPU tensors, and an exception
there is that node's error, named after it. Named dimensions: the graph runs twice with
different values for each name (symbols.py); a dimension equal in both runs is a number, one
equal to a name's value in both runs is that name, any other is "?". Answers are cached per
node by (layer type, params, the concrete input shapes of the run).
See "The torch fallback" in docs/nn.md.
"""
import contextlib
import hashlib
import inspect
import json
import sys

import torch
from torch import fx

from . import symbols, torchnn
from .fxgraph import ArchitectureGraph, DocumentError, custom_module, run_node

class Upstream:
    """The value of a node that raised, and of the nodes downstream of it."""

    def __init__(self, node_id, message):
        self.node_id, self.message = node_id, message


class NodeFailure(Exception):
    def __init__(self, node_id, message):
        super().__init__(message)
        self.node_id = node_id


def _shape_of(value):
    if isinstance(value, torch.Tensor):
        return list(value.shape)
    if isinstance(value, (tuple, list)):
        return [_shape_of(v) for v in value]
    raise TypeError(f"a layer returned {type(value).__name__}, not a tensor")


def _meta_of(shape):
    """A meta tensor (or tuple of them) of a shape as _shape_of writes it."""
    if shape and isinstance(shape[0], list):
        return tuple(_meta_of(s) for s in shape)
    return torch.empty(shape, device="meta")


def _to(value, device):
    if isinstance(value, torch.Tensor):
        if device == "cpu" and value.device.type == "meta":
            return torch.zeros(value.shape, dtype=value.dtype)
        return value.to(device)
    if isinstance(value, (tuple, list)):
        return type(value)(_to(v, device) for v in value)
    return value


def _accepts_device(cls):
    try:
        params = inspect.signature(cls.__init__).parameters
    except (TypeError, ValueError):
        return False
    return "device" in params or any(p.kind == p.VAR_KEYWORD for p in params.values())


def _first_line(e):
    text = str(e).strip() or type(e).__name__
    return text.splitlines()[0] if len(text.splitlines()) == 1 else " ".join(
        line.strip() for line in text.splitlines() if line.strip())


class Fallback:
    """Answers requests; keeps the per-node cache between them."""

    CACHE_SIZE = 20000  # node answers kept; the oldest go first

    def __init__(self):
        self.cache = {}
        self.hits = self.misses = 0

    def _remember(self, key, answer):
        self.cache[key] = answer
        if len(self.cache) > self.CACHE_SIZE:
            del self.cache[next(iter(self.cache))]

    # -- one module, one run --
    def _run_module(self, node, args, kwargs):
        """The output of a layer or Custom node: on meta, else again on CPU."""
        ntype = node["type"]
        params = node.get("params", {}) or {}
        flat = [a for a in list(args) + list(kwargs.values()) if isinstance(a, torch.Tensor)]
        if ntype in ("Embedding", "EmbeddingBag"):  # indices: a document has no dtypes
            args = tuple(a.long() if isinstance(a, torch.Tensor) else a for a in args)
        if ntype == "Custom":
            def make(device):
                return custom_module(params, node.get("name", node["id"])).to(device)
        else:
            full = torchnn.fill_automatic(ntype, params, flat)
            cls = torchnn.layer_class(ntype)

            def make(device):
                if device == "meta" and _accepts_device(cls):
                    kw = {k: tuple(v) if isinstance(v, list) else v for k, v in full.items()}
                    return cls(**kw, device="meta")
                return torchnn.instantiate(ntype, full).to(device)
        try:
            with torch.no_grad():
                return make("meta")(*args, **kwargs)
        except Exception:
            pass  # no meta kernel, or a real error: the CPU run tells which
        with torch.no_grad():
            module = make("cpu")
            module.eval()
            out = module(*_to(args, "cpu"), **_to(kwargs, "cpu"))
        return _to(out, "meta")

    def _key(self, document, node, inputs):
        params = node.get("params", {}) or {}
        extra = ""
        if node["type"] == "Block":  # a block is its architectures, not just its name
            extra = hashlib.sha1(json.dumps(document.get("architectures"),
                                            sort_keys=True).encode()).hexdigest()
        return (node["type"], json.dumps(params, sort_keys=True), extra,
                json.dumps([_shape_of(v) if v is not None else None for v in inputs]))

    def _call_node(self, document, node, args, kwargs):
        """Run (or fetch from the cache) one module node; raises NodeFailure naming it."""
        inputs = list(args) + list(kwargs.values())
        key = self._key(document, node, inputs)
        cached = self.cache.get(key)
        if cached is not None:
            self.hits += 1
            kind, payload = cached
            if kind == "error":
                raise NodeFailure(node["id"], payload)
            return _meta_of(payload)
        self.misses += 1
        label = f"{node['type']} '{node.get('name', node['id'])}'"
        try:
            if node["type"] == "Block":
                out = self._run_block(document, node, list(args))
            else:
                out = self._run_module(node, args, kwargs)
            shape = _shape_of(out)
        except NodeFailure as e:   # inside a block: the block's error names the inner node
            self._remember(key, ("error", f"{label}: {e}"))
            raise NodeFailure(node["id"], f"{label}: {e}") from None
        except Exception as e:
            message = f"{label}: {_first_line(e)}"
            self._remember(key, ("error", message))
            raise NodeFailure(node["id"], message) from None
        self._remember(key, ("ok", shape))
        return out

    def _run_block(self, document, node, inputs):
        params = node.get("params", {}) or {}
        xs = inputs
        for _ in range(params.get("count", 1)):
            _, errors, result, _ = self.propagate(document, params.get("block"), xs)
            if errors:
                first = next(iter(errors.values()))
                raise NodeFailure(node["id"], first)
            xs = list(result) if isinstance(result, tuple) else [result]
        return result

    # -- a whole architecture, one run --
    def propagate(self, document, arch_name, inputs):
        """Run an architecture on ``inputs`` (meta tensors). Returns ({document id: value or
        Upstream}, {document id: error message}, the result of its Outputs, the graph)."""
        ag = ArchitectureGraph(document, arch_name)
        env, values, errors = {}, {}, {}
        it = iter(inputs)
        result = None

        def call_module(fxnode, args, kwargs):
            return self._call_node(document, ag.spec[fxnode.name], args, kwargs)

        for n in ag.graph.nodes:
            nid = ag.doc_id.get(n.name)
            failed = [env[a.name] for a in n.all_input_nodes
                      if isinstance(env[a.name], Upstream)]
            if failed:  # downstream of an error: no shapes, not an error of its own
                env[n.name] = failed[0]
                if nid is not None:
                    values[nid] = failed[0]
                continue
            args = fx.node.map_arg(n.args, lambda a: env[a.name])
            kwargs = fx.node.map_arg(n.kwargs, lambda a: env[a.name])
            if n.op == "output":
                result = args[0]
                continue
            try:
                env[n.name] = run_node(ag, n, args, kwargs, it, call_module)
            except DocumentError:  # no tensor for an Input: the request is malformed
                raise
            except Exception as e:
                if isinstance(e, NodeFailure):
                    message = str(e)
                else:  # a merge or shape type (torch.cat of mismatched shapes…)
                    node = ag.nodes.get(nid, {"type": "?", "id": n.name})
                    message = f"{node['type']} '{node.get('name', nid)}': {_first_line(e)}"
                errors[nid] = message
                env[n.name] = Upstream(nid, message)
            if nid is not None:
                values[nid] = env[n.name]
        return values, errors, result, ag

    # -- a request --
    def answer(self, request):
        rid = request.get("id")
        try:
            document = request["document"]
            arch_name = request.get("architecture") or document["main"]
            arch = document["architectures"][arch_name]
            shapes = [n.get("params", {}).get("shape") for n in arch["nodes"]
                      if n["type"] == "Input"]
            if any(s is None for s in shapes):
                raise DocumentError("an Input has no shape")
            subs = symbols.substitutions(shapes)
            runs = []
            for values in subs:
                inputs = [torch.empty(symbols.concrete(s, values), device="meta")
                          for s in shapes]
                runs.append(self.propagate(document, arch_name, inputs))
        except (DocumentError, KeyError, TypeError) as e:
            return {"id": rid, "error": f"malformed document: {e}"}
        nodes = {}
        for nid in request.get("nodes", []):
            nodes[nid] = self._node_answer(nid, runs, subs)
        return {"id": rid, "nodes": nodes}

    def _node_answer(self, nid, runs, subs):
        (va, ea, _, ag), (vb, eb, _, _) = runs
        if nid not in ag.nodes:
            return {"error": f"no node '{nid}' in the architecture"}
        if nid in ea or nid in eb:
            return {"error": ea.get(nid) or eb.get(nid)}
        a, b = va.get(nid), vb.get(nid)
        for v in (a, b):
            if isinstance(v, Upstream):
                return {"upstream": v.node_id}
        if a is None or b is None:
            return {"outputs": {}}  # an Output node: it has no outputs
        node = ag.nodes[nid]
        ports = ag.output_ports(node)
        merged = _merge(_shape_of(a), _shape_of(b), subs)
        if len(ports) == 1:
            return {"outputs": {ports[0]: merged}}
        leaves = _leaves(merged)
        return {"outputs": dict(zip(ports, leaves))}


def _merge(a, b, subs):
    if a and isinstance(a[0], list):
        return [_merge(x, y, subs) for x, y in zip(a, b)]
    return symbols.merge_shape(a, b, subs)


def _leaves(shape):
    if shape and isinstance(shape[0], list):
        out = []
        for s in shape:
            out.extend(_leaves(s))
        return out
    return [shape]


def main():
    worker = Fallback()
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            request = json.loads(line)
            with contextlib.redirect_stdout(sys.stderr):  # prints of Custom code: not answers
                reply = worker.answer(request)
        except Exception as e:  # one bad request must not end the worker
            reply = {"id": None, "error": f"bad request: {_first_line(e)}"}
            try:
                reply["id"] = json.loads(line).get("id")
            except Exception:
                pass
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
