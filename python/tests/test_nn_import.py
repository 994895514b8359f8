"""kiln.nn.importer: PyTorch source → architecture document, checked by building the document
back into a module (kiln.nn.build) and comparing parameter counts and output shapes with the
original on a real input; and, when the C++ CLI is built, through `kiln nn analyze`'s code."""
import json
import os
import subprocess
import textwrap

import pytest
import torch

from conftest import PYTHON, PYTHON_DIR, run_env
from kiln.nn import fxgraph
from kiln.nn.build import build_module
from kiln.nn.importer import ImportFailure, import_module, load_class

HEADER = "import torch\nfrom torch import nn\nimport torch.nn.functional as F\n\n"

SMALL_CNN = HEADER + textwrap.dedent("""
    class SmallCNN(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(3, 16, 3, padding=1)
            self.bn1 = nn.BatchNorm2d(16)
            self.conv2 = nn.Conv2d(16, 32, 3, stride=2, padding=1, bias=False)
            self.fc = nn.Linear(32 * 8 * 8, 10)

        def forward(self, x):
            x = F.relu(self.bn1(self.conv1(x)))
            x = F.max_pool2d(x, 2)
            x = torch.relu(self.conv2(x))
            x = x.view(x.size(0), -1)
            return self.fc(x)
""")

RESIDUAL_CONCAT = HEADER + textwrap.dedent("""
    class Mixer(nn.Module):
        example_input_shape = ["N", 8, 16, 16]

        def __init__(self):
            super().__init__()
            self.a = nn.Conv2d(8, 8, 3, padding=1)
            self.b = nn.Conv2d(8, 4, 1)
            self.head = nn.Conv2d(12, 2, 1)

        def forward(self, x):
            y = self.a(x) + x                    # residual add
            z = torch.cat([y, self.b(y)], dim=1) # concat
            left, right = z.chunk(2, dim=1)      # a tuple: Chunk + Select
            w = left * right
            s = w.mean(dim=-1, keepdim=True)     # no document type: Custom
            return self.head(z), torch.flatten(s, 1)
""")

BLOCK_3X = HEADER + textwrap.dedent("""
    class ConvBlock(nn.Module):
        def __init__(self, channels=16):
            super().__init__()
            self.conv = nn.Conv2d(channels, channels, 3, padding=1)
            self.norm = nn.BatchNorm2d(channels)

        def forward(self, x):
            return F.relu(self.norm(self.conv(x))) + x

    class Stacked(nn.Module):
        def __init__(self):
            super().__init__()
            self.stem = nn.Conv2d(3, 16, 3, padding=1)
            self.blocks = nn.Sequential(ConvBlock(), ConvBlock(), ConvBlock())
            self.pool = nn.AdaptiveAvgPool2d(1)
            self.fc = nn.Linear(16, 5)

        def forward(self, x):
            x = self.blocks(self.stem(x))
            return self.fc(torch.flatten(self.pool(x), 1))
""")

RESNET18 = textwrap.dedent("""
    import torchvision
    from torchvision.models.resnet import BasicBlock

    class ResNet18(torchvision.models.ResNet):
        def __init__(self):
            super().__init__(BasicBlock, [2, 2, 2, 2], num_classes=10)
""")

SEQUENCE = HEADER + textwrap.dedent("""
    class Attention(nn.Module):
        def __init__(self, d=16):
            super().__init__()
            self.q = nn.Linear(d, d)
            self.k = nn.Linear(d, d)

        def forward(self, x):
            w = torch.matmul(self.q(x), self.k(x).transpose(1, 2)) / 4.0
            return torch.bmm(F.softmax(w, dim=-1), x)

    class SeqNet(nn.Module):
        example_input_shape = ["N", 12, 8]

        def __init__(self):
            super().__init__()
            self.emb = nn.Linear(8, 16)
            self.lstm = nn.LSTM(16, 16, batch_first=True)
            self.attn = Attention()
            self.mha = nn.MultiheadAttention(16, 2, batch_first=True)
            self.head = nn.Linear(16, 3)

        def forward(self, x):
            out, (hn, cn) = self.lstm(self.emb(x))
            a = self.attn(out)
            m = self.mha(a, a, a)[0]
            return self.head(m[:, -1]), hn
""")

UNTRACEABLE = HEADER + textwrap.dedent("""
    class Branchy(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(4, 4)

        def forward(self, x):
            if x.sum() > 0:
                return self.fc(x)
            return x
""")

NEEDS_ARGS = HEADER + textwrap.dedent("""
    class Wide(nn.Module):
        def __init__(self, width, depth=2):
            super().__init__()
            self.fc = nn.Linear(width, width)

        def forward(self, x):
            return self.fc(x)
""")


def params(module):
    return sum(p.numel() for p in module.parameters())


def shapes(value):
    if isinstance(value, torch.Tensor):
        return tuple(value.shape)
    return tuple(shapes(v) for v in value)


def check_round_trip(code, doc, x):
    """The document built back into a module — by kiln.nn.build (helper-zoo's interpreter)
    and by kiln.nn.fxgraph (the fallback's fx graph) — has the original's parameter count
    and output shapes on a real input."""
    original = load_class(code)()
    original.eval()
    with torch.no_grad():
        expected = shapes(original(x))
    for built in (build_module(doc), fxgraph.build_module(doc, [x])):
        built.eval()
        assert params(built) == params(original)
        with torch.no_grad():
            assert shapes(built(x)) == expected


def types(arch):
    return [n["type"] for n in arch["nodes"]]


def test_small_cnn():
    doc = import_module(SMALL_CNN, None, [["N", 3, 32, 32]])
    arch = doc["architectures"]["SmallCNN"]
    assert doc["main"] == "SmallCNN" and list(doc["architectures"]) == ["SmallCNN"]
    assert types(arch) == ["Input", "Conv2d", "BatchNorm2d", "ReLU", "MaxPool2d", "Conv2d",
                           "ReLU", "Reshape", "Linear", "Output"]
    nodes = {n["id"]: n for n in arch["nodes"]}
    assert nodes["x"]["params"] == {"shape": ["N", 3, 32, 32]}
    assert nodes["conv1"]["params"] == {"in_channels": 3, "out_channels": 16,
                                        "kernel_size": 3, "padding": 1}
    assert nodes["conv2"]["params"]["bias"] is False
    assert nodes["max_pool2d"]["params"] == {"kernel_size": 2}
    assert nodes["view"]["params"] == {"shape": [-1, 2048]}  # x.size(0) follows N: -1
    assert ["x", "conv1"] in arch["edges"] and ["fc", "output"] in arch["edges"]
    check_round_trip(SMALL_CNN, doc, torch.randn(3, 3, 32, 32))


def test_residual_add_concat_and_custom():
    doc = import_module(RESIDUAL_CONCAT, None, None)  # shape from example_input_shape
    arch = doc["architectures"]["Mixer"]
    nodes = {n["id"]: n for n in arch["nodes"]}
    assert nodes["add"]["type"] == "Add"
    assert [e for e in arch["edges"] if e[1] == "add"] == [["a", "add"], ["x", "add"]]
    assert nodes["cat"]["type"] == "Concatenate" and "params" not in nodes["cat"]  # dim 1
    assert [e[0] for e in arch["edges"] if e[1] == "cat"] == ["add", "b"]
    assert nodes["chunk"]["type"] == "Chunk" and nodes["chunk"]["params"] == {"chunks": 2,
                                                                             "dim": 1}
    assert nodes["getitem"] == {"id": "getitem", "type": "Select", "params": {"index": 0}}
    assert nodes["mul"]["type"] == "Multiply"
    assert nodes["mean"]["type"] == "Custom"
    assert "x0.mean(dim=-1, keepdim=True)" in nodes["mean"]["params"]["code"]
    assert nodes["flatten"] == {"id": "flatten", "type": "Flatten"}  # torch.flatten(s, 1)
    assert [n["id"] for n in arch["nodes"] if n["type"] == "Output"] == ["output_0",
                                                                        "output_1"]
    check_round_trip(RESIDUAL_CONCAT, doc, torch.randn(2, 8, 16, 16))


def test_user_block_used_three_times_is_one_architecture():
    doc = import_module(BLOCK_3X, None, [["N", 3, 16, 16]])
    assert set(doc["architectures"]) == {"Stacked", "ConvBlock"}
    main = doc["architectures"]["Stacked"]
    blocks = [n for n in main["nodes"] if n["type"] == "Block"]
    assert [b["id"] for b in blocks] == ["blocks_0", "blocks_1", "blocks_2"]
    assert all(b["params"] == {"block": "ConvBlock"} for b in blocks)
    assert ["blocks_0", "blocks_1.x"] in main["edges"]  # the block's Input port by name
    block = doc["architectures"]["ConvBlock"]
    assert types(block) == ["Input", "Conv2d", "BatchNorm2d", "ReLU", "Add", "Output"]
    assert block["nodes"][0]["params"] == {"shape": ["N", 16, 16, 16]}
    check_round_trip(BLOCK_3X, doc, torch.randn(2, 3, 16, 16))


def test_torchvision_resnet18():
    doc = import_module(RESNET18, None, [["N", 3, 64, 64]])
    main = doc["architectures"]["ResNet18"]
    blocks = [n for n in main["nodes"] if n["type"] == "Block"]
    assert len(blocks) == 8
    # layer1's two blocks are the same architecture; the others differ in width or stride
    assert blocks[0]["params"] == blocks[1]["params"] == {"block": "BasicBlock"}
    assert len({b["params"]["block"] for b in blocks}) == 7
    downsample = doc["architectures"][blocks[2]["params"]["block"]]
    assert "downsample_0" in [n["id"] for n in downsample["nodes"]]
    check_round_trip(RESNET18, doc, torch.randn(2, 3, 64, 64))


def test_sequence_model_tuples_ports_and_custom_with_two_inputs():
    doc = import_module(SEQUENCE, None, None)
    main = doc["architectures"]["SeqNet"]
    nodes = {n["id"]: n for n in main["nodes"]}
    assert nodes["lstm"]["params"] == {"input_size": 16, "hidden_size": 16, "batch_first": True}
    assert nodes["mha"]["params"] == {"embed_dim": 16, "num_heads": 2, "batch_first": True}
    edges = main["edges"]
    # tuple unpacking of the LSTM's result picks its ports; indexing MHA's result too
    assert ["lstm.output", "attn.x"] in edges and ["lstm.h_n", "output_1"] in edges
    assert ["attn", "mha"] in edges and ["attn", "mha.key"] in edges
    assert ["mha.attn_output", "getitem_5"] in edges and nodes["getitem_5"]["type"] == "Custom"
    assert "return x0[:, -1]" in nodes["getitem_5"]["params"]["code"]
    attn = doc["architectures"]["Attention"]
    matmul = next(n for n in attn["nodes"] if n["id"] == "matmul")
    assert "def forward(self, x0, x1):" in matmul["params"]["code"]
    assert "torch.matmul(x0, x1)" in matmul["params"]["code"]
    assert [e[0] for e in attn["edges"] if e[1] == "matmul"] == ["q", "transpose"]
    check_round_trip(SEQUENCE, doc, torch.randn(3, 12, 8))


def test_untraceable_model_names_the_line():
    with pytest.raises(ImportFailure) as e:
        import_module(UNTRACEABLE, None, [["N", 4]])
    assert "line 12 (`if x.sum() > 0:`)" in str(e.value)
    assert "Branchy cannot be traced" in str(e.value)


def test_constructor_arguments_are_a_clear_error():
    with pytest.raises(ImportFailure) as e:
        import_module(NEEDS_ARGS, None, [["N", 4]])
    assert "Wide() needs constructor arguments (width)" in str(e.value)


def test_missing_shapes_are_a_clear_error():
    with pytest.raises(ImportFailure, match="no input shapes"):
        import_module(SMALL_CNN, None, None)


def test_json_protocol(tmp_path):
    ok = subprocess.run([PYTHON, "-m", "kiln.nn.importer", "--json"], env=run_env(),
                        input=json.dumps({"code": SMALL_CNN, "inputs": [["N", 3, 32, 32]]}),
                        capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["main"] == "SmallCNN"
    bad = subprocess.run([PYTHON, "-m", "kiln.nn.importer", "--json"], env=run_env(),
                         input=json.dumps({"code": NEEDS_ARGS, "inputs": [[2, 4]]}),
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2
    assert "needs constructor arguments" in json.loads(bad.stdout)["error"]
    path = tmp_path / "cnn.py"
    path.write_text(SMALL_CNN)
    cli = subprocess.run([PYTHON, "-m", "kiln.nn.importer", str(path), "--input-shape",
                          "N,3,32,32"], env=run_env(), capture_output=True, text=True,
                         timeout=120)
    assert cli.returncode == 0, cli.stderr
    assert json.loads(cli.stdout)["architectures"]["SmallCNN"]["nodes"][0]["id"] == "x"


def test_forward_arguments_with_defaults_are_constants():
    code = HEADER + textwrap.dedent("""
        class Masked(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(4, 2)

            def forward(self, x, scale=None):
                if scale is not None:
                    x = x * scale
                return self.fc(x)
    """)
    doc = import_module(code, None, [["N", 4]])
    assert types(doc["architectures"]["Masked"]) == ["Input", "Linear", "Output"]
    with pytest.raises(ImportFailure, match=r"Masked.forward takes 1-2 tensor\(s\) \(x, scale\) "
                                            r"but gets 3"):
        import_module(code, None, [["N", 4]] * 3)


def test_custom_class_names_are_unique_in_the_document():
    code = HEADER + textwrap.dedent("""
        class Inner(nn.Module):
            def forward(self, x):
                return x.mean(dim=1, keepdim=True)

        class Outer(nn.Module):
            def __init__(self):
                super().__init__()
                self.a = Inner()
                self.b = Inner()

            def forward(self, x):
                return self.b(self.a(x)).mean(dim=0)
    """)
    doc = import_module(code, None, [["N", 4]])
    inner = doc["architectures"]["Inner"]["nodes"][1]["params"]
    outer = next(n for n in doc["architectures"]["Outer"]["nodes"] if n["type"] == "Custom")
    assert inner["class"] == "Custom_mean"            # one class for both uses of Inner
    assert outer["params"]["class"] == "Custom_mean_2"  # another call, another name
    assert "class Custom_mean_2(nn.Module):" in outer["params"]["code"]
    check_round_trip(code, doc, torch.randn(2, 4))


# ---- through the C++ side: `kiln nn analyze FILE` → {"code": …} -----------------------------

def kiln_binary():
    """The kiln CLI with `nn analyze`: $KILN_BIN or this tree's build; None when there is
    none (the C++ side is built separately)."""
    root = os.path.dirname(PYTHON_DIR)
    for path in (os.environ.get("KILN_BIN"), os.path.join(root, "build", "src", "cli", "kiln")):
        if path and os.access(path, os.X_OK):
            probe = subprocess.run([path, "nn", "--help"], capture_output=True, text=True,
                                   timeout=30)
            if probe.returncode == 0 and "analyze" in probe.stdout + probe.stderr:
                return path
    return None


@pytest.mark.parametrize("code,shape", [(SMALL_CNN, [3, 3, 32, 32]),
                                        (RESIDUAL_CONCAT, [2, 8, 16, 16]),
                                        (BLOCK_3X, [2, 3, 16, 16]),
                                        (SEQUENCE, [3, 12, 8]),
                                        (RESNET18, [2, 3, 64, 64])],
                         ids=["cnn", "residual", "block3x", "sequence", "resnet18"])
def test_round_trip_through_cpp_codegen(tmp_path, code, shape):
    kiln = kiln_binary()
    if kiln is None:
        pytest.skip("no kiln binary with `nn analyze` (set KILN_BIN)")
    doc = import_module(code, None, [["N"] + shape[1:]] if "example_input_shape" not in code
                        else None)
    path = tmp_path / "doc.json"
    path.write_text(json.dumps(doc))
    proc = subprocess.run([kiln, "nn", "analyze", str(path)], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    analysis = json.loads(proc.stdout)
    assert analysis.get("ok", True), analysis.get("errors")
    namespace = {}
    exec(compile(analysis["code"], "<generated>", "exec"), namespace)
    generated = namespace[doc["main"]]()
    generated.eval()
    original = load_class(code)()
    original.eval()
    x = torch.randn(*shape)
    assert params(generated) == params(original)
    with torch.no_grad():
        assert shapes(generated(x)) == shapes(original(x))


def test_json_answer_stays_json_when_the_model_prints():
    code = 'print("hello from the model")\n' + SMALL_CNN
    proc = subprocess.run([PYTHON, "-m", "kiln.nn.importer", "--json"], env=run_env(),
                          input=json.dumps({"code": code, "inputs": [["N", 3, 32, 32]]}),
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and json.loads(proc.stdout)["main"] == "SmallCNN"
    assert "hello from the model" in proc.stderr
    bad = subprocess.run([PYTHON, "-m", "kiln.nn.importer", "--json"], env=run_env(),
                         input='{"inputs": []}', capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "must be" in json.loads(bad.stdout)["error"]


def test_a_parameter_read_in_forward_is_held_by_a_custom_node():
    code = HEADER + textwrap.dedent("""
        class Positional(nn.Module):
            def __init__(self):
                super().__init__()
                self.pos = nn.Parameter(torch.randn(1, 10, 8))
                self.register_buffer("scale", torch.ones(8))
                self.fc = nn.Linear(8, 8)

            def forward(self, x):
                return self.fc(x + self.pos) * self.scale
    """)
    doc = import_module(code, None, [["N", 10, 8]])
    nodes = {n["id"]: n for n in doc["architectures"]["Positional"]["nodes"]}
    assert nodes["add"]["type"] == "Custom" and nodes["mul"]["type"] == "Custom"
    assert "self.pos = nn.Parameter(torch.zeros(1, 10, 8))" in nodes["add"]["params"]["code"]
    assert "return x0 + self.pos" in nodes["add"]["params"]["code"]
    assert "self.register_buffer('scale', torch.zeros(8))" in nodes["mul"]["params"]["code"]
    check_round_trip(code, doc, torch.randn(2, 10, 8))  # 80 + 72 parameters both


def test_sizes_that_follow_named_dimensions_become_expressions_in_custom_code():
    code = HEADER + textwrap.dedent("""
        class Heads(nn.Module):
            def __init__(self):
                super().__init__()
                self.token = nn.Parameter(torch.zeros(1, 1, 8))
                self.fc = nn.Linear(8, 8)

            def forward(self, x):
                b, t = x.shape[0], x.shape[1]
                token = self.token.expand(b, -1, -1)
                y = torch.cat([token, self.fc(x)], dim=1)
                return y.view(b, t + 1, 2, -1).transpose(1, 2)
    """)
    doc = import_module(code, None, [["N", "T", 8]])
    nodes = {n["id"]: n for n in doc["architectures"]["Heads"]["nodes"]}
    expand = nodes["expand"]["params"]["code"]
    assert "return self.token.expand(x0.shape[0], -1, -1)" in expand
    assert ["x", "expand"] in doc["architectures"]["Heads"]["edges"]  # x is read for its size
    view = nodes["view"]
    assert view["type"] == "Custom"  # two dims follow names: no Reshape can say it
    assert "return x0.view(x1.shape[0], (x1.shape[1] + 1), 2, -1)" in view["params"]["code"]
    check_round_trip(code, doc, torch.randn(3, 5, 8))


def test_layer_called_with_constants_is_a_custom_holding_it():
    code = HEADER + textwrap.dedent("""
        class Encoder(nn.Module):
            def __init__(self):
                super().__init__()
                self.attn = nn.MultiheadAttention(8, 2, batch_first=True)

            def forward(self, x):
                n, c, h, w = x.shape
                seq = x.reshape(n, c, h * w).permute(0, 2, 1)
                out, _ = self.attn(seq, seq, seq, need_weights=False)
                return out
    """)
    doc = import_module(code, None, [["N", 8, 4, 4]])
    nodes = {n["id"]: n for n in doc["architectures"]["Encoder"]["nodes"]}
    assert nodes["reshape"] == {"id": "reshape", "type": "Reshape",
                                "params": {"shape": [-1, 8, 16]}}
    attn = nodes["attn"]["params"]["code"]
    assert nodes["attn"]["type"] == "Custom"
    assert "self.layer = nn.MultiheadAttention(embed_dim=8, num_heads=2, batch_first=True)" \
        in attn
    assert "return self.layer(x0, x0, x0, need_weights=False)" in attn
    assert nodes["getitem_4"] == {"id": "getitem_4", "type": "Select", "params": {"index": 0}}
    check_round_trip(code, doc, torch.randn(2, 8, 4, 4))


def test_torchvision_vision_transformer():
    code = textwrap.dedent("""
        from torchvision.models.vision_transformer import VisionTransformer

        class SmallViT(VisionTransformer):
            def __init__(self):
                super().__init__(image_size=32, patch_size=8, num_layers=2, num_heads=2,
                                 hidden_dim=16, mlp_dim=32, num_classes=10)
    """)
    doc = import_module(code, None, [["N", 3, 32, 32]])
    assert doc["main"] == "SmallViT"
    check_round_trip(code, doc, torch.randn(2, 3, 32, 32))
