"""Seeded random architecture documents (docs/nn.md) for testing shape inference against torch.

    case = generate(seed)      # same seed → same document, byte for byte
    case["document"]           # {"main": "Net", "architectures": {"Net": {nodes, edges}}}
    case["error_node"]         # None, or the id of the one node torch rejects
    case["runs"]               # [{"subst": {"N": 2}, "shapes": {node: [shape per port]}}, …]

A document is grown node by node with kiln.nn.reference, i.e. by running each new node in
torch on real (tiny) tensors; a proposal torch rejects is withdrawn, so the shapes and the
validity of every document are torch's, not a re-implementation of the rules under test.
Chains and DAGs (branches merged by Concatenate along dim 1 or by Add), over Conv1d/2d/3d,
ConvTranspose2d, MaxPool/AvgPool, AdaptiveAvgPool2d, BatchNorm2d, LayerNorm, GroupNorm,
Linear, Flatten, Dropout, ReLU/GELU/Tanh/PReLU, Embedding, LSTM/GRU, MultiheadAttention,
TransformerEncoderLayer, Upsample, Reshape and Permute; and some TransformerDecoderLayer
(its memory a second Input), padding, PixelShuffle, AdaptiveMaxPool1d, InstanceNorm2d,
Softmax/LogSoftmax and Unflatten.  Results with a dimension of size 0 are never kept.

About half the seeds aim for a document with one invalid choice (a kernel larger than its
input, an explicit in_features that does not match, concatenated heights that differ, …);
those give every parameter explicitly, automatic dimensions included, so that the generated
code is complete.  A document whose batch is the symbol "N" is run twice, with N=2 and N=3,
and a proposal is kept only when both runs agree: validity never depends on N's value, and
no rule is handed a dimension that derives from N where it needs a number.
"""
import json
import random
import warnings

import torch

from kiln.nn import reference

MAIN = "Net"


def _empty(value) -> bool:
    """A value with a dimension of size 0 (torch lets a MaxPool1d with dilation produce one);
    such degenerate results are kept out of the documents."""
    if isinstance(value, (tuple, list)):
        return any(_empty(v) for v in value)
    return value is not None and 0 in value.shape


class Builder:
    """A document being grown, evaluated by torch once per substitution of its symbols."""

    def __init__(self, rng: random.Random, substs: list, explicit: bool):
        self.rng = rng
        self.substs = substs
        self.explicit = explicit          # give automatic dimensions explicitly
        self.nodes, self.edges = [], []
        self.arch = {"nodes": self.nodes, "edges": self.edges}
        self.evaluators = [reference.Evaluator(self.arch) for _ in substs]
        self.count = 0
        self.error_node = None

    # -- values -----------------------------------------------------------------------------
    def shape(self, ref: str, run: int = 0) -> list:
        node, port = reference.parse_end(ref)
        ev = self.evaluators[run]
        out_ports = reference.ports(ev.nodes[node]["type"])[1]
        return list(ev.values[node][out_ports.index(port) if port else 0].shape)

    def new_id(self, node_type: str) -> str:
        self.count += 1
        return f"{node_type.lower()}{self.count}"

    def add_input(self, shape: list, tokens: int = 0) -> str:
        node_id = self.new_id("Input").replace("input", "x")
        self.nodes.append({"id": node_id, "type": "Input", "params": {"shape": shape}})
        for ev, subst in zip(self.evaluators, self.substs):
            ev.nodes[node_id] = self.nodes[-1]
            dims = [subst[d] if isinstance(d, str) else d for d in shape]
            value = (torch.randint(0, tokens, dims, generator=torch.Generator().manual_seed(0))
                     if tokens else torch.zeros(dims))
            ev.set_input(node_id, value)
        return node_id

    # -- nodes --------------------------------------------------------------------------------
    def checkpoint(self):
        return len(self.nodes), len(self.edges), self.count

    def restore(self, point) -> None:
        n_nodes, n_edges, count = point
        for node in self.nodes[n_nodes:]:
            for ev in self.evaluators:
                ev.nodes.pop(node["id"], None)
                ev.values.pop(node["id"], None)
                ev.inferred.pop(node["id"], None)  # ids are reused by the next node
                ev.modules.pop(node["id"], None)
        del self.nodes[n_nodes:]
        del self.edges[n_edges:]
        self.count = count

    def try_node(self, node_type: str, params: dict, sources: list, expect_error=False):
        """Adds a node fed by ``sources`` ([(ref, port or None)]) if torch agrees: it runs
        in every substitution (or, with expect_error, fails in every one).  Returns the new
        node's id, or None (and the document is as before)."""
        point = self.checkpoint()
        node_id = self.new_id(node_type)
        node = {"id": node_id, "type": node_type, "params": dict(params)}
        self.nodes.append(node)
        self.edges.extend([ref, f"{node_id}.{port}" if port else node_id]
                          for ref, port in sources)
        for ev in self.evaluators:
            ev.nodes[node_id] = node
        # The automatic dimensions, as each run would infer them: they must not depend on N.
        inferred = []
        for ev in self.evaluators:
            try:
                shapes = {p: reference.shape_of(v) for p, v in ev.incoming(node_id).items()}
            except reference.NodeError:
                self.restore(point)
                return None
            inferred.append(reference.infer_dims(node_type, params, shapes))
        if any(i != inferred[0] for i in inferred):
            self.restore(point)
            return None
        if inferred[0] and (self.explicit or self.rng.random() < 0.3):
            node["params"] = {**inferred[0], **node["params"]}
        failures = 0
        for ev in self.evaluators:
            try:
                ev.evaluate(node_id)
            except reference.NodeError:
                failures += 1
        if failures != (len(self.evaluators) if expect_error else 0) or (
                not expect_error and any(_empty(v) for v in self.evaluators[0].values[node_id])):
            self.restore(point)
            return None
        if expect_error:
            self.error_node = node_id
        if not node["params"]:
            del node["params"]
        return node_id

    def add_output(self, ref: str) -> None:
        node_id = self.new_id("Output").replace("output", "out")
        self.nodes.append({"id": node_id, "type": "Output"})
        self.edges.append([ref, node_id])
        for ev in self.evaluators:
            ev.nodes[node_id] = self.nodes[-1]


# ---- proposals: (type, params, sources) for a value of a given shape ---------------------------
# Each takes (rng, shape, bad) and returns None when it does not apply to the shape.  With
# bad=True it makes one invalid choice (torch has the last word: a proposal that turns out
# valid is dropped).  Shapes here are those of the first run (N=2 where the batch is "N").

def _ks(rng, limit, nd):
    """A kernel size (int, or a list of nd ints) of at most ``limit``."""
    if nd > 1 and rng.random() < 0.3:
        return [rng.randint(1, max(1, limit)) for _ in range(nd)]
    return rng.randint(1, max(1, limit))


def _first(v):
    return v[0] if isinstance(v, list) else v


def conv(nd):
    def propose(rng, shape, bad):
        batched = len(shape) == nd + 2
        if len(shape) not in (nd + 1, nd + 2) or (not batched and rng.random() < 0.7):
            return None
        c = shape[1] if batched else shape[0]
        spatial = shape[-nd:]
        groups = rng.choice([g for g in (1, 2, 4) if c % g == 0])
        out = groups * rng.randint(1, max(1, 8 // groups))
        params = {"out_channels": out, "kernel_size": _ks(rng, min(4, min(spatial)), nd)}
        if rng.random() < 0.4:
            params["stride"] = rng.randint(1, 2)
        if rng.random() < 0.3:
            params["dilation"] = rng.randint(1, 2)
        if rng.random() < 0.6:
            params["padding"] = rng.choice([0, 1, "same", "valid", [1] * nd] if nd > 1
                                           else [0, 1, 2, "same", "valid"])
            if params["padding"] == "same":
                params.pop("stride", None)
        if groups > 1:
            params["groups"] = groups
        if rng.random() < 0.15:
            params["padding_mode"] = rng.choice(["reflect", "replicate", "circular"])
        if rng.random() < 0.2:
            params["bias"] = False
        if bad:
            choice = rng.choice(["kernel", "channels", "groups", "same_stride"])
            if choice == "kernel":
                params["kernel_size"] = max(spatial) + rng.randint(3, 5)
                params["padding"] = 0
            elif choice == "channels":
                params["in_channels"] = c + rng.randint(1, 3)
            elif choice == "groups":
                params["groups"] = 3 if c % 3 else 5
            else:
                params["padding"], params["stride"] = "same", 2
        return f"Conv{nd}d", params, None
    return propose


def conv_transpose2d(rng, shape, bad):
    if len(shape) != 4:
        return None
    stride, dilation = rng.randint(1, 3), rng.randint(1, 2)
    k = rng.randint(1, 4)
    params = {"out_channels": rng.randint(1, 6), "kernel_size": k, "stride": stride,
              "padding": rng.randint(0, k - 1),
              "output_padding": rng.randint(0, max(stride, dilation) - 1)}
    if dilation > 1:
        params["dilation"] = dilation
    if bad:
        params["output_padding"] = max(stride, dilation) + rng.randint(0, 1)
    return "ConvTranspose2d", params, None


def pool(kind, nd):
    def propose(rng, shape, bad):
        if len(shape) not in (nd + 1, nd + 2):
            return None
        spatial = shape[-nd:]
        k = _ks(rng, min(4, min(spatial)), nd)
        params = {"kernel_size": k}
        if rng.random() < 0.5:
            params["stride"] = rng.randint(1, 3)
        if rng.random() < 0.4:
            params["padding"] = rng.randint(0, _first(k) // 2) if not isinstance(k, list) else [
                rng.randint(0, x // 2) for x in k]
        if rng.random() < 0.5:
            params["ceil_mode"] = True
        if kind == "Max" and rng.random() < 0.2:
            params["dilation"] = 2
        if bad:
            if rng.random() < 0.5:
                params["kernel_size"] = max(spatial) + rng.randint(2, 4)
                params.pop("padding", None)
                params.pop("dilation", None)
            else:
                params["kernel_size"] = 2
                params["padding"] = 2  # more than half the kernel
        return f"{kind}Pool{nd}d", params, None
    return propose


def adaptive_avg_pool2d(rng, shape, bad):
    if len(shape) not in (3, 4):
        return None
    size = rng.choice([rng.randint(1, 4), [rng.randint(1, 4), None], [rng.randint(1, 3),
                                                                       rng.randint(1, 5)]])
    if bad:
        size = [1, 2, 3]
    return "AdaptiveAvgPool2d", {"output_size": size}, None


def batch_norm2d(rng, shape, bad):
    if len(shape) != 4 and not (bad and len(shape) == 3):
        return None
    params = {}
    if bad:
        params["num_features"] = shape[1] + 1 if len(shape) == 4 else shape[1]
    return "BatchNorm2d", params, None


def group_norm(rng, shape, bad):
    if len(shape) < 2:
        return None
    c = shape[1]
    divisors = [g for g in range(1, c + 1) if c % g == 0]
    groups = rng.choice(divisors)
    if bad:
        others = [g for g in range(2, c + 2) if c % g]
        if not others:
            return None
        groups = rng.choice(others)
    return "GroupNorm", {"num_groups": groups}, None


def layer_norm(rng, shape, bad):
    params = {}
    if rng.random() < 0.3 and len(shape) >= 3:
        params["normalized_shape"] = shape[-2:]
    if bad:
        params["normalized_shape"] = shape[-1] + 1
    return "LayerNorm", params, None


def linear(rng, shape, bad):
    if len(shape) < 1 or len(shape) > 3:
        return None
    params = {"out_features": rng.randint(1, 12)}
    if bad:
        params["in_features"] = shape[-1] + rng.randint(1, 4)
    return "Linear", params, None


def flatten(rng, shape, bad):
    if len(shape) < 3:
        return None
    params = {}
    if rng.random() < 0.3 and len(shape) >= 4:
        params["start_dim"] = rng.randint(1, 2)
    if rng.random() < 0.2:
        params["end_dim"] = -2
    if bad:
        params = {"start_dim": 3, "end_dim": 1}
    return "Flatten", params, None


def dropout(rng, shape, bad):
    return "Dropout", ({"p": rng.choice([0.1, 0.5])} if rng.random() < 0.5 else {}), None


def activation(rng, shape, bad):
    kind = rng.choice(["ReLU", "GELU", "Tanh", "PReLU"])
    params = {}
    if kind == "GELU" and rng.random() < 0.3:
        params["approximate"] = "tanh"
    if kind == "PReLU" and len(shape) >= 2 and rng.random() < 0.5:
        params["num_parameters"] = shape[1]
    if bad:
        if len(shape) < 2:
            return None
        kind, params = "PReLU", {"num_parameters": shape[1] + 2}
    return kind, params, None


def recurrent(rng, shape, bad):
    if len(shape) not in (2, 3):
        return None
    kind = rng.choice(["LSTM", "GRU"])
    hidden = rng.randint(2, 6)
    params = {"hidden_size": hidden}
    if rng.random() < 0.5:
        params["batch_first"] = True
    if rng.random() < 0.4:
        params["bidirectional"] = True
    if rng.random() < 0.3:
        params["num_layers"] = 2
    if kind == "LSTM" and rng.random() < 0.3 and hidden > 2:
        params["proj_size"] = rng.randint(1, hidden - 1)
    if bad:
        if kind == "LSTM" and rng.random() < 0.5:
            params["proj_size"] = hidden + rng.randint(0, 2)
        else:
            params["input_size"] = shape[-1] + 1
    return kind, params, None


def attention(rng, shape, bad):
    if len(shape) not in (2, 3):
        return None
    e = shape[-1]
    heads = rng.choice([h for h in (1, 2, 4) if e % h == 0])
    params = {"num_heads": heads}
    if rng.random() < 0.5:
        params["batch_first"] = True
    if bad:
        if e > 2 and rng.random() < 0.6:
            params["num_heads"] = next(h for h in range(2, e + 1) if e % h)
        else:
            params["embed_dim"] = e + heads
    return "MultiheadAttention", params, ["query", "key", "value"]


def encoder_layer(rng, shape, bad):
    if len(shape) not in (2, 3):
        return None
    e = shape[-1]
    params = {"nhead": rng.choice([h for h in (1, 2, 4) if e % h == 0]),
              "dim_feedforward": rng.choice([4, 8, 16])}
    if rng.random() < 0.5:
        params["batch_first"] = True
    if rng.random() < 0.3:
        params["norm_first"] = True
    if bad:
        if e > 2 and rng.random() < 0.6:
            params["nhead"] = next(h for h in range(2, e + 1) if e % h)
        else:
            params["d_model"] = e + 2
    return "TransformerEncoderLayer", params, None


def upsample(rng, shape, bad):
    if len(shape) not in (3, 4):
        return None
    params = {}
    if rng.random() < 0.6:
        params["scale_factor"] = rng.choice([2, 2.0, 1.5, 0.5])
    else:
        params["size"] = rng.randint(2, 12) if len(shape) == 3 or rng.random() < 0.5 else [
            rng.randint(2, 9), rng.randint(2, 9)]
    mode = rng.choice(["nearest", "nearest", "linear" if len(shape) == 3 else "bilinear"])
    if mode != "nearest":
        params["mode"] = mode
        if rng.random() < 0.5:
            params["align_corners"] = rng.random() < 0.5
    if bad:
        params["mode"] = "bilinear" if len(shape) == 3 else "trilinear"
    return "Upsample", params, None


def _factorizations(n, rng, parts):
    """``parts`` ints whose product is n."""
    out = []
    for _ in range(parts - 1):
        divisors = [d for d in range(1, n + 1) if n % d == 0]
        d = rng.choice(divisors)
        out.append(d)
        n //= d
    return out + [n]


def reshape(rng, shape, bad, symbolic=False):
    if len(shape) < 2:
        return None
    rest = 1
    for d in shape[1:]:
        rest *= d
    new = _factorizations(rest, rng, rng.randint(1, 3))
    if symbolic or rng.random() < 0.5:
        target = [-1] + new
    else:
        target = [shape[0]] + new
        if rng.random() < 0.3:
            target[rng.randrange(len(target))] = -1
    if bad:
        target = [-1 if symbolic else shape[0]] + new[:-1] + [new[-1] + 1]
        if not symbolic and rng.random() < 0.3:
            target = [-1, -1] + new[1:]
    return "Reshape", {"shape": target}, None


def permute(rng, shape, bad, symbolic=False):
    if len(shape) < 2:
        return None
    rest = list(range(1, len(shape)))
    rng.shuffle(rest)
    dims = [0] + rest
    if not symbolic and rng.random() < 0.3:
        rng.shuffle(dims)
    if bad:
        dims = dims[:-1] if rng.random() < 0.5 else dims[:-1] + [dims[0]]
    return "Permute", {"dims": dims}, None


def decoder_layer(rng, shape, bad):
    """A TransformerDecoderLayer whose memory is a second Input of the document."""
    if len(shape) != 3:
        return None
    e = shape[-1]
    params = {"nhead": rng.choice([h for h in (1, 2, 4) if e % h == 0]),
              "dim_feedforward": rng.choice([4, 8])}
    s = rng.randint(1, 5)
    if rng.random() < 0.5:
        params["batch_first"] = True
        memory = ["N" if isinstance(shape, _Symbolic) else shape[0], s, e]
    else:
        memory = [s, shape[1], e]  # (S, batch, E): torch's batch is the second dim
    if bad:
        memory[-1] = e + 2
    return "TransformerDecoderLayer", params, ["tgt"], ("memory", memory)


def padding(rng, shape, bad):
    kind = rng.choice(["ZeroPad2d", "ReflectionPad1d", "ConstantPad1d", "ReplicationPad2d"])
    nd = int(kind[-2])
    if len(shape) not in (nd + 1, nd + 2):
        return None
    if rng.random() < 0.5:
        pad = rng.randint(0, 2)
    else:
        pad = [rng.randint(0, 2) for _ in range(2 * nd)]
    params = {"padding": pad}
    if kind == "ConstantPad1d":
        params["value"] = 0.5
    if bad:
        kind, params = "ReflectionPad1d", {"padding": shape[-1] + rng.randint(0, 2)}
        if len(shape) not in (2, 3):
            return None
    return kind, params, None


def pixel_shuffle(rng, shape, bad):
    if len(shape) not in (3, 4):
        return None
    c = shape[-3]
    if c % 4 and not bad:
        return None
    if bad:
        if c % 4 == 0:
            return None
        return "PixelShuffle", {"upscale_factor": 2}, None
    return "PixelShuffle", {"upscale_factor": 2}, None


def adaptive_max_pool1d(rng, shape, bad):
    if len(shape) not in (2, 3):
        return None
    return "AdaptiveMaxPool1d", {"output_size": rng.randint(1, 4) if not bad else [1, 2]}, None


def instance_norm(rng, shape, bad):
    """InstanceNorm2d.  A wrong num_features is made only with affine=True: without it torch
    merely warns, while docs/nn.md says a given automatic dimension is checked; the random
    documents stay out of that disagreement."""
    if len(shape) not in (3, 4):
        return None
    params = {}
    if rng.random() < 0.5:
        params["affine"] = True
    if bad:
        params["num_features"] = shape[-3] + 1
        params["affine"] = True
    return "InstanceNorm2d", params, None


def softmax(rng, shape, bad):
    dim = rng.randint(-len(shape), len(shape) - 1)
    if bad:
        dim = len(shape) + rng.randint(0, 1)
    return rng.choice(["Softmax", "LogSoftmax"]), {"dim": dim}, None


def unflatten(rng, shape, bad):
    if len(shape) < 2 or len(shape) > 3:
        return None
    sizes = _factorizations(shape[-1], rng, 2)
    if bad:
        sizes[-1] += 1
    return "Unflatten", {"dim": -1, "unflattened_size": sizes}, None


class _Symbolic(list):
    """A run-0 shape whose first dim stands for the symbol N (decoder memory follows it)."""


PROPOSALS = [
    (conv(1), 3), (conv(2), 5), (conv(3), 3), (conv_transpose2d, 2), (pool("Max", 1), 1),
    (pool("Max", 2), 3), (pool("Avg", 2), 2), (pool("Avg", 1), 1), (pool("Max", 3), 1),
    (adaptive_avg_pool2d, 1), (batch_norm2d, 2), (group_norm, 1), (layer_norm, 1),
    (linear, 3), (flatten, 2), (dropout, 1), (activation, 3), (recurrent, 2), (attention, 2),
    (encoder_layer, 1), (upsample, 1), (reshape, 1), (permute, 1), (decoder_layer, 1),
    (padding, 1), (pixel_shuffle, 1), (adaptive_max_pool1d, 1), (instance_norm, 1),
    (softmax, 1), (unflatten, 1),
]
BAD_MERGE = "bad merge"


def _pick(rng, table):
    total = sum(w for _, w in table)
    x = rng.uniform(0, total)
    for item, w in table:
        x -= w
        if x <= 0:
            return item
    return table[-1][0]


class _Generator:
    def __init__(self, seed: int):
        self.rng = random.Random(seed)
        rng = self.rng
        self.symbolic = rng.random() < 0.3
        self.bad = rng.random() < 0.5
        substs = [{"N": 2}, {"N": 3}] if self.symbolic else [{}]
        self.b = Builder(rng, substs, explicit=self.bad)

    def propose(self, ref: str, bad: bool):
        """Adds one layer after ``ref`` (a valid one, or with bad=True a rejected one);
        returns the new node's id or None."""
        rng, b = self.rng, self.b
        shape = b.shape(ref)
        if self.symbolic:
            shape = _Symbolic(shape)
        for _ in range(12):
            proposal = _pick(rng, PROPOSALS)
            kwargs = {"symbolic": self.symbolic} if proposal in (reshape, permute) else {}
            made = proposal(rng, shape, bad, **kwargs)
            if made is None:
                continue
            node_type, params, ports = made[:3]
            sources = [(ref, p) for p in ports] if ports else [(ref, None)]
            point = b.checkpoint()
            if len(made) > 3:  # another Input feeds a second port
                port, input_shape = made[3]
                sources.append((b.add_input(input_shape), port))
            node_id = b.try_node(node_type, params, sources, expect_error=bad)
            if node_id:
                return node_id
            b.restore(point)
        return None

    def merge(self, ref: str, bad: bool):
        """A diamond: two branches from ``ref`` joined by Add or Concatenate(dim=1)."""
        rng, b = self.rng, self.b
        point = b.checkpoint()
        left = ref
        for _ in range(rng.randint(1, 2)):
            left = self.propose(left, False) or left
        right = ref if rng.random() < 0.4 else (self.propose(ref, False) or ref)
        if left == right:
            b.restore(point)
            return None
        ls, rs = b.shape(left), b.shape(right)
        ports = ["inputs", "inputs"]
        if ls == rs and rng.random() < 0.5 or (len(ls) < 2 or len(ls) != len(rs)):
            node_type, params = "Add", {}
        else:
            node_type = "Concatenate"
            params = {"dim": 1} if rng.random() < 0.5 or bad else {}
        sources = [(left, ports[0]), (right, ports[1])]
        node_id = b.try_node(node_type, params, sources, expect_error=bad)
        if node_id is None:
            b.restore(point)
        return node_id

    def start(self):
        rng = self.rng
        batch = "N" if self.symbolic else rng.choice([1, 2, 3])
        kind = rng.choice(["image", "image", "signal", "volume", "vector", "sequence",
                           "tokens", "unbatched"])
        if kind == "unbatched" and not self.symbolic:
            return self.b.add_input([rng.randint(1, 4), rng.randint(4, 12), rng.randint(4, 12)])
        if kind == "signal":
            return self.b.add_input([batch, rng.randint(1, 4), rng.randint(4, 20)])
        if kind == "volume":
            return self.b.add_input([batch, rng.randint(1, 3)] + [rng.randint(3, 6)] * 3)
        if kind == "vector":
            return self.b.add_input([batch, rng.randint(2, 16)])
        if kind == "sequence":
            return self.b.add_input([batch, rng.randint(2, 6), rng.choice([4, 6, 8])])
        if kind == "tokens":
            vocab = rng.randint(5, 20)
            x = self.b.add_input([batch, rng.randint(2, 6)], tokens=vocab)
            params = {"num_embeddings": vocab, "embedding_dim": rng.choice([4, 6, 8])}
            if rng.random() < 0.2:
                params["padding_idx"] = 0
            return self.b.try_node("Embedding", params, [(x, None)])
        return self.b.add_input([batch, rng.randint(1, 4), rng.randint(4, 14),
                                 rng.randint(4, 14)])

    def run(self) -> dict:
        rng, b = self.rng, self.b
        current = self.start()
        steps = rng.randint(2, 8)
        bad_step = rng.randrange(steps) if self.bad else -1
        extra_output = None
        for step in range(steps):
            bad = step == bad_step
            if rng.random() < 0.25:
                made = self.merge(current, bad)
            else:
                made = self.propose(current, bad)
            if made is None and bad:  # no invalid choice stuck: try a plain one
                made = self.propose(current, True)
            if made is None:
                continue
            if b.error_node:
                current = made
                break
            if rng.random() < 0.1 and extra_output is None:
                extra_output = current
            current = made
        node = b.evaluators[0].nodes[current.split(".")[0]]
        out_ports = reference.ports(node["type"])[1]
        b.add_output(current)
        if b.error_node is None and len(out_ports) > 1 and rng.random() < 0.5:
            b.add_output(f"{current}.{rng.choice(out_ports[1:])}")
        elif b.error_node is None and extra_output is not None:
            b.add_output(extra_output)
        return self.case()

    def case(self) -> dict:
        b = self.b
        runs = []
        for ev, subst in zip(b.evaluators, b.substs):
            shapes = {node_id: [reference.shape_of(v) for v in values]
                      for node_id, values in ev.values.items()
                      if ev.nodes[node_id]["type"] not in ("Output",)}
            runs.append({"subst": subst, "shapes": shapes,
                         "inferred": {k: v for k, v in ev.inferred.items() if v}})
        document = {"main": MAIN, "architectures": {MAIN: {"nodes": b.nodes,
                                                           "edges": b.edges}}}
        # a plain JSON copy: nothing shared with the evaluators
        return {"document": json.loads(json.dumps(document)), "error_node": b.error_node,
                "runs": runs}


def generate(seed: int) -> dict:
    """The random case for ``seed``: document, error_node (or None), torch's shapes per run."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny tensors: threads only cost start-up
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return _Generator(seed).run()
    finally:
        torch.set_num_threads(threads)


def main() -> None:
    import sys
    seeds = [int(a) for a in sys.argv[1:]] or [0]
    for seed in seeds:
        case = generate(seed)
        print(json.dumps({"seed": seed, "error_node": case["error_node"],
                          "document": case["document"]}))


if __name__ == "__main__":
    main()
