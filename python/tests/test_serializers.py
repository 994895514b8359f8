"""kiln.serializers: torch, numpy, json and pickle round trips, lazy imports."""
import os
import subprocess

import numpy as np
import pytest

from kiln import serializers

from conftest import PYTHON, run_env


class Point:  # pickled by reference to this test module
    def __init__(self, x):
        self.x = x

    def __eq__(self, other):
        return isinstance(other, Point) and other.x == self.x


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


def roundtrip(value, tmp_path, name="v"):
    path = str(tmp_path / name)
    ser = serializers.save(value, path)
    assert os.path.exists(path) and not [p for p in os.listdir(tmp_path) if ".tmp-" in p]
    return ser, serializers.load(path, ser)


def test_tensor(torch, tmp_path):
    t = torch.arange(12, dtype=torch.float32).reshape(3, 4)
    ser, back = roundtrip(t, tmp_path)
    assert ser == "torch" and torch.equal(back, t)


def test_module_and_state_dict(torch, tmp_path):
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.ReLU(), torch.nn.Linear(3, 1))
    ser, sd = roundtrip(net.state_dict(), tmp_path, "sd")
    assert ser == "torch" and list(sd) == list(net.state_dict())
    fresh = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.ReLU(), torch.nn.Linear(3, 1))
    fresh.load_state_dict(sd)
    x = torch.randn(2, 4)
    assert torch.equal(fresh(x), net(x))
    ser, whole = roundtrip(net, tmp_path, "module")
    assert ser == "torch" and torch.equal(whole(x), net(x))
    ser, pair = roundtrip((t := torch.ones(2), t * 2), tmp_path, "pair")
    assert ser == "torch" and torch.equal(pair[1], torch.full((2,), 2.0))


def test_numpy(tmp_path):
    a = np.random.default_rng(0).normal(size=(5, 3)).astype(np.float32)
    ser, back = roundtrip(a, tmp_path)
    assert ser == "numpy" and back.dtype == np.float32 and np.array_equal(back, a)
    with open(tmp_path / "v", "rb") as f:
        assert f.read(6) == b"\x93NUMPY"  # a real .npy file, written at the exact path
    # Object arrays and subclasses would not survive .npy: pickle.
    ser, back = roundtrip(np.array([{"a": 1}, None], dtype=object), tmp_path, "o")
    assert ser == "pickle" and back[0] == {"a": 1}
    ser, back = roundtrip(np.ma.masked_array([1, 2, 3], mask=[0, 1, 0]), tmp_path, "m")
    assert ser == "pickle" and back.mask.tolist() == [False, True, False]


@pytest.mark.parametrize("value,expected", [
    (3, "json"), (0.25, "json"), ("text", "json"), (None, "json"), (True, "json"),
    ({"a": [1, 2.5, None, "x"]}, "json"),
    ((1, 2), "pickle"), ({1: "int key"}, "pickle"), (float("nan"), "pickle"),
    (np.float64(1.5), "pickle"), (Point(3), "pickle"), ({"p": Point(1)}, "pickle"),
])
def test_json_and_pickle(value, expected, tmp_path):
    ser, back = roundtrip(value, tmp_path)
    assert ser == expected
    if value == value:  # NaN aside
        assert back == value and type(back) is type(value)


def test_unknown_serializer_and_registration(tmp_path):
    with pytest.raises(ValueError, match="unknown serializer"):
        serializers.load(str(tmp_path / "x"), "nope")
    with pytest.raises(ValueError, match="already exists"):
        serializers.register("json", lambda v: False, None, None)


def test_numpy_and_pickle_do_not_import_torch(tmp_path):
    code = ("import sys, numpy as np; from kiln import serializers as s; "
            f"p = {str(tmp_path / 'a')!r}; "
            "assert s.save(np.zeros(3), p) == 'numpy'; s.load(p, 'numpy'); "
            "assert s.save({'k': 1}, p) == 'json'; "
            "assert 'torch' not in sys.modules, 'torch was imported'")
    r = subprocess.run([PYTHON, "-c", code], env=run_env(), capture_output=True, timeout=60)
    assert r.returncode == 0, r.stderr.decode()


def test_raw_bytes_as_they_are(tmp_path):
    # An uploaded file is an artifact with serializer "raw": it loads as its bytes.
    p = str(tmp_path / "upload.csv")
    data = b"a,b\n1,2\n\xff"
    assert serializers.save(data, p) == "raw"
    with open(p, "rb") as f:
        assert f.read() == data
    assert serializers.load(p, "raw") == data
    # Only exact bytes: a bytearray or a str is not a file's bytes.
    assert serializers.serializer_for(bytearray(b"x")) == "pickle"
    assert serializers.serializer_for("text") == "json"
