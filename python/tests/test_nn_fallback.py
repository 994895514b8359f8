"""kiln.nn.fallback: shapes from torch for the nodes the C++ analysis asks about — per-node
outputs with named dimensions kept, errors on the node that raised, the per-node cache, and
the line protocol of the worker process."""
import json
import subprocess

from conftest import PYTHON, run_env
from kiln.nn.fallback import Fallback

MEAN_LAST = '''import torch
from torch import nn


class MeanLast(nn.Module):
    def forward(self, x):
        return x.mean(dim=-1, keepdim=True)
'''


def document(nodes, edges, shape=("N", 3, 16, 16)):
    return {"main": "Net", "architectures": {"Net": {
        "nodes": [{"id": "x", "type": "Input", "params": {"shape": list(shape)}}] + nodes +
                 [{"id": "out", "type": "Output"}],
        "edges": edges}}}


CUSTOM_DOC = document(
    [{"id": "c1", "type": "Conv2d", "params": {"out_channels": 8, "kernel_size": 3}},
     {"id": "mean", "type": "Custom", "params": {"code": MEAN_LAST, "class": "MeanLast"}}],
    [["x", "c1"], ["c1", "mean"], ["mean", "out"]])


def test_custom_layer_shape():
    reply = Fallback().answer({"id": 1, "document": CUSTOM_DOC, "nodes": ["mean", "c1"]})
    assert reply == {"id": 1, "nodes": {
        "mean": {"outputs": {"output": ["N", 8, 14, 1]}},
        "c1": {"outputs": {"output": ["N", 8, 14, 14]}}}}


def test_error_lands_on_the_node_that_raised():
    doc = document(
        [{"id": "c1", "type": "Conv2d", "params": {"out_channels": 8, "kernel_size": 3}},
         {"id": "c2", "type": "Conv2d", "params": {"in_channels": 5, "out_channels": 4,
                                                   "kernel_size": 3}},
         {"id": "act", "type": "ReLU"}],
        [["x", "c1"], ["c1", "c2"], ["c2", "act"], ["act", "out"]])
    reply = Fallback().answer({"id": 2, "document": doc, "nodes": ["c1", "c2", "act"]})
    nodes = reply["nodes"]
    assert nodes["c1"] == {"outputs": {"output": ["N", 8, 14, 14]}}
    assert nodes["c2"]["error"].startswith("Conv2d 'c2': ")
    assert "expected input" in nodes["c2"]["error"] and "5 channels" in nodes["c2"]["error"]
    assert nodes["act"] == {"upstream": "c2"}  # downstream: no shapes, not an error


def test_named_dimensions():
    doc = document(
        [{"id": "c1", "type": "Conv2d", "params": {"out_channels": 4, "kernel_size": 3,
                                                   "padding": 1}},
         {"id": "pool", "type": "MaxPool2d", "params": {"kernel_size": 2}},
         {"id": "gap", "type": "AdaptiveAvgPool2d", "params": {"output_size": 1}}],
        [["x", "c1"], ["c1", "pool"], ["pool", "gap"], ["gap", "out"]],
        shape=("N", 3, "H", 20))
    nodes = Fallback().answer({"id": 3, "document": doc, "nodes": ["c1", "pool", "gap"]})[
        "nodes"]
    assert nodes["c1"]["outputs"]["output"] == ["N", 4, "H", 20]
    assert nodes["pool"]["outputs"]["output"] == ["N", 4, "?", 10]  # floor(H/2): "?"
    assert nodes["gap"]["outputs"]["output"] == ["N", 4, 1, 1]


def test_tuple_ports_and_blocks():
    doc = document(
        [{"id": "seq", "type": "Reshape", "params": {"shape": [-1, 48, 16]}},
         {"id": "lstm", "type": "LSTM", "params": {"hidden_size": 6, "batch_first": True}},
         {"id": "blk", "type": "Block", "params": {"block": "Twice", "count": 2}}],
        [["x", "seq"], ["seq", "lstm"], ["lstm.output", "blk"], ["blk", "out"]])
    doc["architectures"]["Twice"] = {
        "nodes": [{"id": "i", "type": "Input", "params": {"shape": ["N", 48, 6]}},
                  {"id": "fc", "type": "Linear", "params": {"out_features": 6}},
                  {"id": "o", "type": "Output"}],
        "edges": [["i", "fc"], ["fc", "o"]]}
    nodes = Fallback().answer({"id": 4, "document": doc, "nodes": ["lstm", "blk"]})["nodes"]
    assert nodes["lstm"]["outputs"] == {"output": ["N", 48, 6], "h_n": [1, "N", 6],
                                        "c_n": [1, "N", 6]}
    assert nodes["blk"]["outputs"] == {"o": ["N", 48, 6]}


def test_cache_is_hit_for_a_repeated_request():
    worker = Fallback()
    first = worker.answer({"id": 1, "document": CUSTOM_DOC, "nodes": ["mean"]})
    misses = worker.misses
    assert misses == 4 and worker.hits == 0  # c1 and mean, two runs each
    second = worker.answer({"id": 2, "document": CUSTOM_DOC, "nodes": ["mean"]})
    assert second["nodes"] == first["nodes"]
    assert worker.misses == misses and worker.hits == 4


def test_worker_protocol():
    requests = [{"id": 7, "document": CUSTOM_DOC, "nodes": ["mean"]},
                {"id": 8, "document": {"main": "Nope", "architectures": {}}, "nodes": ["a"]}]
    proc = subprocess.run([PYTHON, "-m", "kiln.nn.fallback"], env=run_env(),
                          input="".join(json.dumps(r) + "\n" for r in requests),
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    replies = [json.loads(line) for line in proc.stdout.splitlines()]
    assert replies[0] == {"id": 7, "nodes": {"mean": {"outputs": {"output": ["N", 8, 14, 1]}}}}
    assert replies[1]["id"] == 8 and "malformed document" in replies[1]["error"]


def test_block_inputs_by_port_name():
    doc = {"main": "Net", "architectures": {
        "Net": {"nodes": [{"id": "a", "type": "Input", "params": {"shape": ["N", 3]}},
                          {"id": "b", "type": "Input", "params": {"shape": ["N", 5]}},
                          {"id": "blk", "type": "Block", "params": {"block": "Pair"}},
                          {"id": "out", "type": "Output"}],
                "edges": [["b", "blk.second"], ["a", "blk.first"], ["blk", "out"]]},
        "Pair": {"nodes": [{"id": "first", "type": "Input", "params": {"shape": ["N", 3]}},
                           {"id": "second", "type": "Input", "params": {"shape": ["N", 5]}},
                           {"id": "f1", "type": "Linear", "params": {"in_features": 3,
                                                                     "out_features": 4}},
                           {"id": "cat", "type": "Concatenate"},
                           {"id": "fc", "type": "Linear", "params": {"in_features": 9,
                                                                     "out_features": 2}},
                           {"id": "o", "type": "Output"}],
                 "edges": [["first", "f1"], ["f1", "cat"], ["second", "cat"], ["cat", "fc"],
                           ["fc", "o"]]}}}
    nodes = Fallback().answer({"id": 1, "document": doc, "nodes": ["blk"]})["nodes"]
    assert nodes["blk"] == {"outputs": {"o": ["N", 2]}}
    doc["architectures"]["Pair"]["nodes"][4]["params"]["in_features"] = 10
    nodes = Fallback().answer({"id": 2, "document": doc, "nodes": ["blk"]})["nodes"]
    assert nodes["blk"]["error"].startswith("Block 'blk': Linear 'fc': ")


def test_imported_documents_analyse_without_errors():
    """What the importer writes (Custom nodes with two inputs, ports, Selects, Blocks) is
    what the fallback reads."""
    from kiln.nn.importer import import_module
    from test_nn_import import RESIDUAL_CONCAT, SEQUENCE
    doc = import_module(SEQUENCE, None, None)
    main = doc["architectures"][doc["main"]]
    ids = [n["id"] for n in main["nodes"]]
    nodes = Fallback().answer({"id": 1, "document": doc, "nodes": ids})["nodes"]
    assert not [i for i, a in nodes.items() if "outputs" not in a], nodes
    assert nodes["head"]["outputs"] == {"output": ["N", 3]}
    assert nodes["lstm"]["outputs"]["h_n"] == [1, "N", 16]
    assert nodes["attn"]["outputs"] == {"output": ["N", 12, 16]}  # a Block
    doc = import_module(RESIDUAL_CONCAT, None, None)
    nodes = Fallback().answer({"id": 2, "document": doc, "nodes": ["cat", "getitem", "mean"]})[
        "nodes"]
    assert nodes == {"cat": {"outputs": {"output": ["N", 12, 16, 16]}},
                     "getitem": {"outputs": {"output": ["N", 6, 16, 16]}},
                     "mean": {"outputs": {"output": ["N", 6, 16, 1]}}}


def test_node_ids_that_are_guids():
    ids = ["0b6f1c2e-7d0a-4c1e-9a53-1f0e8d2c4b10", "5e1a9f3c-2b7d-4e8f-8c1a-6d3b0a9e7f21",
           "9c4d2e1f-8a7b-4c6d-b5e4-3f2a1b0c9d8e"]
    doc = {"main": "Net", "architectures": {"Net": {
        "nodes": [{"id": ids[0], "type": "Input", "name": "x", "params": {"shape": ["N", 4]}},
                  {"id": ids[1], "type": "Linear", "name": "fc", "params": {"out_features": 3}},
                  {"id": ids[2], "type": "Output", "name": "y"}],
        "edges": [[ids[0], ids[1]], [ids[1], ids[2]]]}}}
    nodes = Fallback().answer({"id": 1, "document": doc, "nodes": [ids[1]]})["nodes"]
    assert nodes == {ids[1]: {"outputs": {"output": ["N", 3]}}}
