#!/usr/bin/env python3
"""Writes the model zoo's architecture documents, examples/zoo/architectures/*.json.

The documents are the source of the zoo (docs/nn.md, "The architecture document");
this script only spares writing ResNet's sixty nodes by hand and keeps the files
uniformly formatted (one node or edge per line). python/tests/test_zoo.py checks the
files are what this script writes, so edit here and rerun:

    /usr/bin/python3 examples/zoo/make_architectures.py
"""
import json
import pathlib

OUT = pathlib.Path(__file__).resolve().parent / "architectures"


class Arch:
    """An architecture being written: nodes in order, edges in order."""

    def __init__(self):
        self.nodes, self.edges = [], []

    def node(self, id, type, **params):
        node = {"id": id, "type": type}
        if params:
            node["params"] = params
        self.nodes.append(node)
        return id

    def chain(self, src, *layers):
        """Appends layers (id, type, params) after ``src``, each fed by the previous one."""
        for id, type, params in layers:
            self.node(id, type, **params)
            self.edges.append([src, id])
            src = id
        return src

    def doc(self):
        return {"nodes": self.nodes, "edges": self.edges}


def L(id, type, **params):
    return id, type, params


def lenet5():
    a = Arch()
    x = a.node("image", "Input", shape=["N", 1, 32, 32])
    last = a.chain(x, L("conv1", "Conv2d", out_channels=6, kernel_size=5), L("tanh1", "Tanh"),
                   L("pool1", "AvgPool2d", kernel_size=2),
                   L("conv2", "Conv2d", out_channels=16, kernel_size=5), L("tanh2", "Tanh"),
                   L("pool2", "AvgPool2d", kernel_size=2), L("flatten", "Flatten"),
                   L("fc1", "Linear", out_features=120), L("tanh3", "Tanh"),
                   L("fc2", "Linear", out_features=84), L("tanh4", "Tanh"),
                   L("fc3", "Linear", out_features=10), L("logits", "Output"))
    assert last
    return {"main": "LeNet5", "architectures": {"LeNet5": a.doc()}}


def vgg():
    a = Arch()
    last = a.node("image", "Input", shape=["N", 3, 32, 32])
    for stage, width in enumerate((64, 128, 256), 1):
        for i in (1, 2):
            last = a.chain(last, L(f"conv{stage}_{i}", "Conv2d", out_channels=width,
                                   kernel_size=3, padding=1),
                           L(f"bn{stage}_{i}", "BatchNorm2d"), L(f"relu{stage}_{i}", "ReLU"))
        last = a.chain(last, L(f"pool{stage}", "MaxPool2d", kernel_size=2))
    a.chain(last, L("flatten", "Flatten"), L("fc1", "Linear", out_features=512),
            L("relu_fc", "ReLU"), L("dropout", "Dropout", p=0.5),
            L("fc2", "Linear", out_features=10), L("logits", "Output"))
    return {"main": "VGG", "architectures": {"VGG": a.doc()}}


def basic_block(width, downsample):
    """torchvision's BasicBlock: conv-bn-relu-conv-bn, plus the identity (or a 1×1 conv)."""
    a = Arch()
    x = a.node("x", "Input", shape=["N", width // 2 if downsample else width,
                                    "H", "W"])
    stride = {"stride": 2} if downsample else {}
    body = a.chain(x, L("conv1", "Conv2d", out_channels=width, kernel_size=3, padding=1,
                        bias=False, **stride),
                   L("bn1", "BatchNorm2d"), L("relu1", "ReLU"),
                   L("conv2", "Conv2d", out_channels=width, kernel_size=3, padding=1,
                     bias=False),
                   L("bn2", "BatchNorm2d"))
    shortcut = x
    if downsample:
        shortcut = a.chain(x, L("down_conv", "Conv2d", out_channels=width, kernel_size=1,
                                stride=2, bias=False),
                           L("down_bn", "BatchNorm2d"))
    a.node("add", "Add")
    a.edges += [[body, "add"], [shortcut, "add"]]
    a.chain("add", L("relu2", "ReLU"), L("y", "Output"))
    return a.doc()


def resnet18():
    a = Arch()
    last = a.chain(a.node("image", "Input", shape=["N", 3, 224, 224]),
                   L("conv1", "Conv2d", out_channels=64, kernel_size=7, stride=2, padding=3,
                     bias=False),
                   L("bn1", "BatchNorm2d"), L("relu", "ReLU"),
                   L("maxpool", "MaxPool2d", kernel_size=3, stride=2, padding=1),
                   L("layer1", "Block", block="BasicBlock64", count=2))
    archs = {"BasicBlock64": basic_block(64, False)}
    for i, width in ((2, 128), (3, 256), (4, 512)):
        last = a.chain(last, L(f"layer{i}_down", "Block", block=f"DownBlock{width}"),
                       L(f"layer{i}", "Block", block=f"BasicBlock{width}"))
        archs[f"DownBlock{width}"] = basic_block(width, True)
        archs[f"BasicBlock{width}"] = basic_block(width, False)
    a.chain(last, L("avgpool", "AdaptiveAvgPool2d", output_size=[1, 1]),
            L("flatten", "Flatten"), L("fc", "Linear", out_features=1000), L("logits", "Output"))
    return {"main": "ResNet18", "architectures": {"ResNet18": a.doc(), **archs}}


def inception_block(reduce, width):
    """Four parallel branches, each conv followed by a PReLU, concatenated on channels."""
    a = Arch()
    x = a.node("x", "Input", shape=["N", "C", "H", "W"])
    conv = lambda id, out, k: L(id, "Conv2d", out_channels=out, kernel_size=k,  # noqa: E731
                                padding=k // 2)
    b1 = a.chain(x, conv("b1_conv", width, 1), L("b1_act", "PReLU"))
    b2 = a.chain(x, conv("b2_reduce", reduce, 1), L("b2_act1", "PReLU"),
                 conv("b2_conv", width, 3), L("b2_act2", "PReLU"))
    b3 = a.chain(x, conv("b3_reduce", reduce, 1), L("b3_act1", "PReLU"),
                 conv("b3_conv", width, 5), L("b3_act2", "PReLU"))
    b4 = a.chain(x, L("b4_pool", "AvgPool2d", kernel_size=3, stride=1, padding=1),
                 conv("b4_conv", width, 1), L("b4_act", "PReLU"))
    a.node("concat", "Concatenate", dim=1)
    a.edges += [[b, "concat"] for b in (b1, b2, b3, b4)]
    a.chain("concat", L("y", "Output"))
    return a.doc()


def redshift_inception():
    """After Pasquet et al. 2019 (A&A 621, A26): photometric redshifts from ugriz images."""
    a = Arch()
    last = a.chain(a.node("image", "Input", shape=["N", 5, 64, 64]),
                   L("conv1", "Conv2d", out_channels=64, kernel_size=5, padding=2),
                   L("act1", "PReLU"),
                   L("pool1", "AvgPool2d", kernel_size=2),                    # 32×32
                   L("inception1", "Block", block="InceptionA", count=2),
                   L("pool2", "AvgPool2d", kernel_size=2),                    # 16×16
                   L("inception3", "Block", block="InceptionB", count=2),
                   L("pool3", "AvgPool2d", kernel_size=2),                    # 8×8
                   L("inception5", "Block", block="InceptionB"),
                   L("flatten", "Flatten"),
                   L("fc1", "Linear", out_features=1024), L("act_fc1", "PReLU"),
                   L("fc2", "Linear", out_features=1024), L("act_fc2", "PReLU"),
                   L("fc3", "Linear", out_features=32),
                   L("softmax", "Softmax", dim=1), L("redshift_pdf", "Output"))
    assert last
    return {"main": "RedshiftInception",
            "architectures": {"RedshiftInception": a.doc(),
                              "InceptionA": inception_block(48, 64),
                              "InceptionB": inception_block(64, 92)}}


def unet():
    a = Arch()

    def double_conv(src, name, width):
        return a.chain(src, *[step for i in (1, 2) for step in (
            L(f"{name}_conv{i}", "Conv2d", out_channels=width, kernel_size=3, padding=1),
            L(f"{name}_bn{i}", "BatchNorm2d"), L(f"{name}_relu{i}", "ReLU"))])

    x = a.node("image", "Input", shape=["N", 1, 64, 64])
    skips, last = [], x
    for depth, width in enumerate((16, 32, 64), 1):
        last = double_conv(last, f"enc{depth}", width)
        skips.append(last)
        last = a.chain(last, L(f"pool{depth}", "MaxPool2d", kernel_size=2))
    last = double_conv(last, "bottom", 128)
    for depth, width in ((3, 64), (2, 32), (1, 16)):
        up = a.chain(last, L(f"up{depth}", "ConvTranspose2d", out_channels=width,
                             kernel_size=2, stride=2))
        a.node(f"cat{depth}", "Concatenate", dim=1)
        a.edges += [[up, f"cat{depth}"], [skips[depth - 1], f"cat{depth}"]]
        last = double_conv(f"cat{depth}", f"dec{depth}", width)
    a.chain(last, L("head", "Conv2d", out_channels=2, kernel_size=1), L("mask_logits", "Output"))
    return {"main": "UNet", "architectures": {"UNet": a.doc()}}


def lstm_classifier():
    """A bidirectional LSTM over a multichannel series, averaged over time, then classified."""
    a = Arch()
    a.chain(a.node("series", "Input", shape=["N", "L", 12]),
            L("lstm", "LSTM", hidden_size=64, num_layers=2, batch_first=True,
              bidirectional=True))
    a.node("to_channels", "Permute", dims=[0, 2, 1])          # [N, 128, L]
    a.edges.append(["lstm.output", "to_channels"])            # the per-step outputs
    a.chain("to_channels", L("mean", "AdaptiveAvgPool1d", output_size=1),   # mean over L
            L("flatten", "Flatten"), L("fc", "Linear", out_features=5), L("logits", "Output"))
    return {"main": "LSTMClassifier", "architectures": {"LSTMClassifier": a.doc()}}


def transformer_classifier():
    layer = Arch()
    layer.chain(layer.node("x", "Input", shape=["N", "L", 128]),
                L("layer", "TransformerEncoderLayer", nhead=4, dim_feedforward=256,
                  batch_first=True),
                L("y", "Output"))
    a = Arch()
    a.chain(a.node("tokens", "Input", shape=["N", "L"]),
            L("embedding", "Embedding", num_embeddings=5000, embedding_dim=128),
            L("encoder", "Block", block="EncoderLayer", count=2),
            L("to_channels", "Permute", dims=[0, 2, 1]),
            L("mean", "AdaptiveAvgPool1d", output_size=1), L("flatten", "Flatten"),
            L("fc", "Linear", out_features=4), L("logits", "Output"))
    return {"main": "TransformerClassifier",
            "architectures": {"TransformerClassifier": a.doc(), "EncoderLayer": layer.doc()}}


def autoencoder():
    a = Arch()
    code = a.chain(a.node("image", "Input", shape=["N", 1, 28, 28]),
                   L("enc1", "Conv2d", out_channels=16, kernel_size=3, stride=2, padding=1),
                   L("enc_relu1", "ReLU"),                                    # 14×14
                   L("enc2", "Conv2d", out_channels=32, kernel_size=3, stride=2, padding=1),
                   L("enc_relu2", "ReLU"),                                    # 7×7
                   L("enc3", "Conv2d", out_channels=64, kernel_size=7))       # 1×1: the code
    a.chain(code, L("code", "Output"))
    a.chain(code, L("dec1", "ConvTranspose2d", out_channels=32, kernel_size=7),
            L("dec_relu1", "ReLU"),
            L("dec2", "ConvTranspose2d", out_channels=16, kernel_size=3, stride=2, padding=1,
              output_padding=1),
            L("dec_relu2", "ReLU"),
            L("dec3", "ConvTranspose2d", out_channels=1, kernel_size=3, stride=2, padding=1,
              output_padding=1),
            L("sigmoid", "Sigmoid"), L("reconstruction", "Output"))
    return {"main": "ConvAutoencoder", "architectures": {"ConvAutoencoder": a.doc()}}


def gan_generator():
    a = Arch()
    a.chain(a.node("z", "Input", shape=["N", 100]),
            L("fc", "Linear", out_features=128 * 7 * 7), L("bn_fc", "BatchNorm1d"),
            L("relu_fc", "ReLU"),
            L("unflatten", "Reshape", shape=[-1, 128, 7, 7]),
            L("up1", "ConvTranspose2d", out_channels=64, kernel_size=4, stride=2, padding=1),
            L("bn1", "BatchNorm2d"), L("relu1", "ReLU"),                       # 14×14
            L("up2", "ConvTranspose2d", out_channels=1, kernel_size=4, stride=2, padding=1),
            L("tanh", "Tanh"), L("fake_image", "Output"))                     # 28×28
    return {"main": "GANGenerator", "architectures": {"GANGenerator": a.doc()}}


def gan_discriminator():
    a = Arch()
    a.chain(a.node("image", "Input", shape=["N", 1, 28, 28]),
            L("conv1", "Conv2d", out_channels=64, kernel_size=4, stride=2, padding=1),
            L("lrelu1", "LeakyReLU", negative_slope=0.2),                        # 14×14
            L("conv2", "Conv2d", out_channels=128, kernel_size=4, stride=2, padding=1),
            L("bn2", "BatchNorm2d"), L("lrelu2", "LeakyReLU", negative_slope=0.2),  # 7×7
            L("flatten", "Flatten"), L("fc", "Linear", out_features=1),
            L("real_logit", "Output"))
    return {"main": "GANDiscriminator", "architectures": {"GANDiscriminator": a.doc()}}


DOCUMENTS = [lenet5, vgg, resnet18, redshift_inception, unet, lstm_classifier,
             transformer_classifier, autoencoder, gan_generator, gan_discriminator]


def render(document: dict) -> str:
    """JSON with one node or edge per line: readable, and diffs stay small."""
    lines = ["{", f'  "main": {json.dumps(document["main"])},', '  "architectures": {']
    archs = list(document["architectures"].items())
    for i, (name, arch) in enumerate(archs):
        lines.append(f'    {json.dumps(name)}: {{')
        lines.append('      "nodes": [')
        lines += [f"        {json.dumps(n)}," for n in arch["nodes"]]
        lines[-1] = lines[-1].rstrip(",")
        lines.append("      ],")
        lines.append('      "edges": [')
        lines += [f"        {json.dumps(e)}," for e in arch["edges"]]
        lines[-1] = lines[-1].rstrip(",")
        lines.append("      ]")
        lines.append("    }" + ("," if i + 1 < len(archs) else ""))
    lines += ["  }", "}"]
    return "\n".join(lines) + "\n"


def files() -> dict:
    """File name → text of every zoo architecture."""
    out = {}
    for make in DOCUMENTS:
        document = make()
        out[document["main"] + ".json"] = render(document)
    return out


def main():
    OUT.mkdir(exist_ok=True)
    for name, text in files().items():
        (OUT / name).write_text(text)
        print(OUT / name)


if __name__ == "__main__":
    main()
