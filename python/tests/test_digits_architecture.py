"""The digits example with its network as an architecture (examples/digits/architectures).

Train and Score take ``net: kiln.Architecture``; in a job the plan passes the generated
class. Here the class builds the same document with kiln.nn.build, so the operations'
code runs as it does in a job (minus the server).
"""
import importlib.util
import json
import os

import pytest
import torch
from torch import nn

from kiln.interface import parse_interface
from kiln.nn.build import build_module

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DIGITS = os.path.join(ROOT, "examples", "digits")


def document():
    with open(os.path.join(DIGITS, "architectures", "DigitsCNN.json")) as f:
        return json.load(f)


def operation(file, cls):
    spec = importlib.util.spec_from_file_location("digits_" + file[:-3],
                                                  os.path.join(DIGITS, "operations", file))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return getattr(module, cls)


def test_digits_cnn_is_the_network_train_py_used_to_write_inline():
    inline = nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(),
                           nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                           nn.Flatten(), nn.Linear(512, 64), nn.ReLU(), nn.Linear(64, 10))
    net = build_module(document())
    assert [p.shape for p in net.parameters()] == [p.shape for p in inline.parameters()]
    assert net(torch.zeros(5, 1, 8, 8)).shape == (5, 10)


def test_train_and_score_reference_the_architecture():
    for file in ("train.py", "score.py"):
        with open(os.path.join(DIGITS, "operations", file)) as f:
            interface = parse_interface(f.read())
        assert interface["references"] == [{"name": "net", "type": "Architecture"}]
        assert "net" not in [a["name"] for a in interface["attributes"]]


def test_train_then_score_with_the_architecture_class():
    pytest.importorskip("sklearn")
    import matplotlib
    matplotlib.use("Agg")

    class DigitsCNN(nn.Module):  # what the generated class is to the operations
        def __init__(self):
            super().__init__()
            self.body = build_module(document())

        def forward(self, image):
            return self.body(image)

    images, labels = operation("load_digits.py", "LoadDigits")().execute()
    train_x, train_y, test_x, test_y = operation("split.py", "Split")().execute(images, labels)
    state = operation("train.py", "Train")(net=DigitsCNN, epochs=3).execute(train_x, train_y)
    accuracy = operation("score.py", "Score")(net=DigitsCNN).execute(state, test_x, test_y)
    assert accuracy > 0.85
