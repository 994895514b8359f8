"""kiln.nn.randomarch and kiln.nn.reference on their own (no C++): the generator is
deterministic per seed, covers what the agreement tests need, and a finished document run
from scratch by the reference gives the shapes (or the error) recorded while growing it."""
import collections
import json

import pytest
import torch

from kiln.nn import randomarch, reference

SEEDS = range(300)


@pytest.fixture(scope="module")
def cases():
    return {seed: randomarch.generate(seed) for seed in SEEDS}


def show(seed, case):
    return f"seed {seed}:\n{json.dumps(case['document'])}"


def test_deterministic_per_seed(cases):
    for seed in (0, 7, 123):
        again = randomarch.generate(seed)
        assert json.dumps(again, sort_keys=True) == json.dumps(cases[seed], sort_keys=True)
    assert cases[0]["document"] != cases[1]["document"]


def test_mix_of_valid_invalid_symbolic_and_dags(cases):
    invalid = sum(c["error_node"] is not None for c in cases.values())
    symbolic = sum(len(c["runs"]) == 2 for c in cases.values())
    assert 0.3 * len(cases) < invalid < 0.7 * len(cases)
    assert 0.15 * len(cases) < symbolic < 0.5 * len(cases)
    types = collections.Counter(n["type"] for c in cases.values()
                                for n in c["document"]["architectures"]["Net"]["nodes"])
    for t in ("Conv1d", "Conv2d", "Conv3d", "ConvTranspose2d", "MaxPool2d", "AvgPool2d",
              "TransformerDecoderLayer", "ZeroPad2d", "PixelShuffle", "InstanceNorm2d", "Unflatten",
              "AdaptiveAvgPool2d", "BatchNorm2d", "LayerNorm", "GroupNorm", "Linear", "Flatten",
              "Dropout", "ReLU", "GELU", "Tanh", "PReLU", "Embedding", "LSTM", "GRU",
              "MultiheadAttention", "TransformerEncoderLayer", "Upsample", "Reshape", "Permute",
              "Concatenate", "Add"):
        assert types[t] >= 3, f"{t} appears {types[t]} times in {len(cases)} documents"
    errors = collections.Counter(
        next(n["type"] for n in c["document"]["architectures"]["Net"]["nodes"]
             if n["id"] == c["error_node"]) for c in cases.values() if c["error_node"])
    assert len(errors) >= 12, errors  # invalid choices spread over many layer types


def test_invalid_documents_give_every_automatic_dimension(cases):
    for seed, case in cases.items():
        if case["error_node"] is None:
            continue
        for run in case["runs"]:
            assert not run["inferred"], show(seed, case)


def test_documents_are_well_formed(cases):
    for seed, case in cases.items():
        arch = case["document"]["architectures"]["Net"]
        ids = [n["id"] for n in arch["nodes"]]
        assert len(ids) == len(set(ids)), show(seed, case)
        assert all(i.isidentifier() for i in ids)
        assert [n["type"] for n in arch["nodes"]].count("Output") >= 1, show(seed, case)
        for src, dst in arch["edges"]:
            assert reference.parse_end(src)[0] in ids and reference.parse_end(dst)[0] in ids
        for node in arch["nodes"]:
            if node["type"] == "Input":
                assert all(isinstance(d, int) or d == "N" for d in node["params"]["shape"])


def test_reference_run_of_the_finished_document_agrees(cases):
    for seed, case in cases.items():
        doc = case["document"]
        for run in case["runs"]:
            inputs = reference.example_inputs(doc, run["subst"], torch.Generator().manual_seed(0))
            try:
                ev = reference.run(doc, inputs)
            except reference.NodeError as e:
                assert e.node == case["error_node"], f"{e}\n{show(seed, case)}"
                continue
            assert case["error_node"] is None, (
                f"torch ran what was recorded as failing at {case['error_node']}\n"
                + show(seed, case))
            shapes = {node: [reference.shape_of(v) for v in values]
                      for node, values in ev.values.items() if values}
            recorded = {node: s for node, s in run["shapes"].items() if s}
            assert shapes == recorded, show(seed, case)


def test_reference_infers_automatic_dimensions():
    doc = {"main": "M", "architectures": {"M": {
        "nodes": [{"id": "x", "type": "Input", "params": {"shape": ["N", 3, 8, 8]}},
                  {"id": "conv", "type": "Conv2d", "params": {"out_channels": 4,
                                                              "kernel_size": 3}},
                  {"id": "flat", "type": "Flatten"},
                  {"id": "fc", "type": "Linear", "params": {"out_features": 5}},
                  {"id": "y", "type": "Output"}],
        "edges": [["x", "conv"], ["conv", "flat"], ["flat", "fc"], ["fc", "y"]]}}}
    ev = reference.run(doc, reference.example_inputs(doc, {"N": 2}))
    assert ev.inferred["conv"] == {"in_channels": 3}
    assert ev.inferred["fc"] == {"in_features": 144}
    assert list(ev.values["fc"][0].shape) == [2, 5]
    doc["architectures"]["M"]["nodes"][3]["params"]["in_features"] = 100
    with pytest.raises(reference.NodeError) as e:
        reference.run(doc, reference.example_inputs(doc, {"N": 2}))
    assert e.value.node == "fc"
