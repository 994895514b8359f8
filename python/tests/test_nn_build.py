"""kiln.nn.build: architecture documents (docs/nn.md) interpreted as torch modules."""
import pytest
import torch
from torch import nn

from kiln.nn.build import BuildError, build_module, example_inputs, summarize


def doc(nodes, edges, main="Net", **more):
    return {"main": main, "architectures": {main: {"nodes": nodes, "edges": edges}, **more}}


def chain(*nodes):
    """A document whose nodes are connected one after the other."""
    nodes = [dict(id=n[0], type=n[1], **({"params": n[2]} if len(n) > 2 else {})) for n in nodes]
    return doc(nodes, [[a["id"], b["id"]] for a, b in zip(nodes, nodes[1:])])


LENET = chain(("x", "Input", {"shape": ["N", 1, 32, 32]}),
              ("conv1", "Conv2d", {"out_channels": 6, "kernel_size": 5}), ("act1", "Tanh"),
              ("pool1", "AvgPool2d", {"kernel_size": 2}),
              ("conv2", "Conv2d", {"out_channels": 16, "kernel_size": 5}), ("act2", "Tanh"),
              ("pool2", "AvgPool2d", {"kernel_size": 2}), ("flat", "Flatten"),
              ("fc", "Linear", {"out_features": 10}), ("logits", "Output"))


def n_params(module):
    return sum(p.numel() for p in module.parameters())


def test_chain_infers_dimensions_and_matches_hand_written_module():
    net = build_module(LENET)
    ref = nn.Sequential(nn.Conv2d(1, 6, 5), nn.Tanh(), nn.AvgPool2d(2), nn.Conv2d(6, 16, 5),
                        nn.Tanh(), nn.AvgPool2d(2), nn.Flatten(), nn.Linear(400, 10))
    assert n_params(net) == n_params(ref)
    assert net(torch.randn(3, 1, 32, 32)).shape == (3, 10)
    summary = summarize(LENET)
    assert summary["nodes"]["conv1"]["inferred"] == {"in_channels": 1}
    assert summary["nodes"]["conv1"]["parameters"] == 156
    assert summary["nodes"]["fc"]["inferred"] == {"in_features": 400}
    assert summary["nodes"]["pool2"]["outputs"] == {"output": [2, 16, 5, 5]}
    assert summary["totals"]["parameters"] == n_params(ref)
    # Other input shapes: the Linear's in_features follows them.
    wide = summarize(LENET, {"x": [1, 1, 36, 36]})
    assert wide["nodes"]["fc"]["inferred"] == {"in_features": 16 * 6 * 6}


def test_given_dimension_is_checked_against_the_input():
    bad = chain(("x", "Input", {"shape": ["N", 3, 8, 8]}),
                ("conv", "Conv2d", {"in_channels": 1, "out_channels": 4, "kernel_size": 3}),
                ("y", "Output"))
    with pytest.raises(BuildError, match="Conv2d 'conv'.*in_channels 1 but the input has 3"):
        build_module(bad)


def test_branches_concatenate_add_and_tuple_ops():
    d = doc([
        {"id": "x", "type": "Input", "params": {"shape": ["N", 3, 8, 8]}},
        {"id": "a", "type": "Conv2d", "params": {"out_channels": 4, "kernel_size": 1}},
        {"id": "b", "type": "Conv2d", "params": {"out_channels": 6, "kernel_size": 1}},
        {"id": "cat", "type": "Concatenate"},
        {"id": "split", "type": "Split", "params": {"split_size_or_sections": [7, 3], "dim": 1}},
        {"id": "first", "type": "Select", "params": {"index": 0}},
        {"id": "second", "type": "Select", "params": {"index": 1}},
        {"id": "chunk", "type": "Chunk", "params": {"chunks": 7, "dim": 1}},
        {"id": "c0", "type": "Select", "params": {"index": 0}},
        {"id": "sum", "type": "Add"},
        {"id": "prod", "type": "Multiply"},
        {"id": "stack", "type": "Stack", "params": {"dim": 0}},
        {"id": "perm", "type": "Permute", "params": {"dims": [1, 0, 2, 3, 4]}},
        {"id": "flat", "type": "Reshape", "params": {"shape": [-1, 8 * 8]}},
        {"id": "y", "type": "Output"},
        {"id": "z", "type": "Output"},
    ], [["x", "a"], ["x", "b"], ["b", "cat"], ["a", "cat"], ["cat", "split"],
        ["split", "first"], ["split.outputs", "second"], ["first", "chunk"], ["chunk", "c0"],
        ["c0", "sum"], ["second", "sum"], ["sum", "prod"], ["c0", "prod"],
        ["prod", "stack"], ["sum", "stack"], ["stack", "perm"], ["perm", "y"],
        ["cat", "flat"], ["flat", "z"]])
    net = build_module(d)
    x = torch.randn(2, 3, 8, 8)
    y, z = net(x)
    a, b = net.layers["a"](x), net.layers["b"](x)
    cat = torch.cat([b, a], 1)  # edge order is operand order: b first
    c0 = cat[:, :1]
    s = c0 + cat[:, 7:]
    assert torch.allclose(y, torch.stack([s * c0, s]).permute(1, 0, 2, 3, 4))
    assert torch.allclose(z, cat.reshape(-1, 64))
    assert summarize(d)["nodes"]["split"]["outputs"] == {
        "outputs": [[2, 7, 8, 8], [2, 3, 8, 8]]}


def test_lstm_ports_and_automatic_input_size():
    d = doc([
        {"id": "seq", "type": "Input", "params": {"shape": ["N", "L", 5]}},
        {"id": "lstm", "type": "LSTM", "params": {"hidden_size": 7, "batch_first": True,
                                                 "bidirectional": True}},
        {"id": "out", "type": "Output"}, {"id": "h", "type": "Output"},
        {"id": "c", "type": "Output"},
    ], [["seq", "lstm"], ["lstm.output", "out"], ["lstm.h_n", "h"], ["lstm.c_n", "c"]])
    net = build_module(d, sizes={"L": 4})
    out, h, c = net(torch.randn(3, 9, 5))
    assert out.shape == (3, 9, 14) and h.shape == (2, 3, 7) and c.shape == (2, 3, 7)
    assert summarize(d)["nodes"]["lstm"]["inferred"] == {"input_size": 5}


def test_block_by_reference_with_count_and_named_ports():
    d = doc([
        {"id": "x", "type": "Input", "params": {"shape": ["N", 4]}},
        {"id": "twice", "type": "Block", "params": {"block": "Residual", "count": 3}},
        {"id": "once", "type": "Block", "params": {"block": "Residual"}},
        {"id": "y", "type": "Output"},
    ], [["x", "twice.h"], ["twice.out", "once"], ["once", "y"]], Residual={
        "nodes": [{"id": "in", "name": "h", "type": "Input", "params": {"shape": ["N", 4]}},
                  {"id": "fc", "type": "Linear", "params": {"out_features": 4}},
                  {"id": "add", "type": "Add"},
                  {"id": "o", "name": "out", "type": "Output"}],
        "edges": [["in", "fc"], ["fc", "add"], ["in", "add"], ["add", "o"]]})
    net = build_module(d)
    assert n_params(net) == 4 * (4 * 4 + 4)  # four separate instances, own weights each
    x = torch.randn(2, 4)
    expected = x
    for block in list(net.layers["twice"]) + [net.layers["once"]]:
        expected = expected + block.layers["fc"](expected)
    assert torch.allclose(net(x), expected)


def test_embedding_inputs_are_indices_and_transformer_d_model_is_inferred():
    d = chain(("tokens", "Input", {"shape": ["N", 6]}),
              ("emb", "Embedding", {"num_embeddings": 50, "embedding_dim": 16}),
              ("enc", "TransformerEncoderLayer", {"nhead": 2, "dim_feedforward": 32,
                                                 "batch_first": True}),
              ("norm", "LayerNorm"), ("y", "Output"))
    (tokens,) = example_inputs(d)
    assert tokens.dtype == torch.int64 and int(tokens.max()) < 50
    s = summarize(d)
    assert s["nodes"]["enc"]["inferred"] == {"d_model": 16}
    assert s["nodes"]["norm"]["inferred"] == {"normalized_shape": 16}
    assert build_module(d)(tokens).shape == (2, 6, 16)


def test_custom_layer_runs_its_own_code():
    code = "class Twice(nn.Module):\n    def forward(self, x):\n        return 2 * x\n"
    d = chain(("x", "Input", {"shape": ["N", 3]}), ("t", "Custom", {"code": code,
                                                                   "class": "Twice"}),
              ("y", "Output"))
    x = torch.randn(2, 3)
    assert torch.equal(build_module(d)(x), 2 * x)


def test_building_leaves_batchnorm_statistics_fresh_and_the_module_in_training_mode():
    d = chain(("x", "Input", {"shape": ["N", 3, 4, 4]}), ("bn", "BatchNorm2d"), ("y", "Output"))
    net = build_module(d)
    assert net.training and net.layers["bn"].training
    assert torch.equal(net.layers["bn"].running_mean, torch.zeros(3))
    assert int(net.layers["bn"].num_batches_tracked) == 0


@pytest.mark.parametrize("document, message", [
    (chain(("x", "Input", {"shape": [2, 3]}), ("f", "Frobnicate"), ("y", "Output")),
     "unknown type 'Frobnicate'"),
    (doc([{"id": "x", "type": "Input", "params": {"shape": [2, 3]}},
          {"id": "f", "type": "Linear", "params": {"out_features": 2}}],
         [["x", "f.weights"]]), "Linear 'f' has no input port 'weights'"),
    (doc([{"id": "a", "type": "ReLU"}, {"id": "b", "type": "ReLU"}],
         [["a", "b"], ["b", "a"]]), "cycle"),
    (chain(("x", "Input", {"shape": [2, 3]}), ("s", "Select", {"index": 0}), ("y", "Output")),
     "Select 's'.*not a tuple"),
    (chain(("x", "Input", {"shape": [2, 3]}), ("b", "Block", {"block": "Missing"})),
     "no architecture named 'Missing'"),
    (chain(("x", "Input", {"shape": [2, 3]}),
           ("f", "Linear", {"out_features": 2, "bogus": 1}), ("y", "Output")),
     "Linear has no parameter 'bogus'"),
    (chain(("x", "Input", {"shape": [2, 3, 2, 2]}),
           ("p", "MaxPool2d", {"kernel_size": 5}), ("y", "Output")),
     "MaxPool2d 'p' in Net: .*"),
])
def test_errors_name_the_node_and_the_problem(document, message):
    with pytest.raises(BuildError, match=message):
        build_module(document)


def test_a_block_that_uses_itself_is_an_error():
    loop = {"nodes": [{"id": "x", "type": "Input", "params": {"shape": [2]}},
                      {"id": "b", "type": "Block", "params": {"block": "Loop"}},
                      {"id": "y", "type": "Output"}],
            "edges": [["x", "b"], ["b", "y"]]}
    with pytest.raises(BuildError, match="Loop uses itself"):
        build_module({"main": "Loop", "architectures": {"Loop": loop}})
