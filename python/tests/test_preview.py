"""kiln.preview: one test per kind, on real files written as Kiln writes them."""
import base64
import json
import os
import pickle
import struct
import subprocess
import zlib

import numpy as np
import pytest

from kiln import preview as pv
from kiln import serializers

from conftest import PYTHON, run_env


def png_size(data_url: str) -> tuple:
    assert data_url.startswith("data:image/png;base64,")
    raw = base64.b64decode(data_url.split(",", 1)[1])
    assert raw[:8] == b"\x89PNG\r\n\x1a\n"
    w, h = struct.unpack(">II", raw[16:24])
    return w, h


def png_pixels(data_url: str):
    """Decode our own (unfiltered RGBA) PNG back into an array."""
    raw = base64.b64decode(data_url.split(",", 1)[1])
    w, h = struct.unpack(">II", raw[16:24])
    idat_len = struct.unpack(">I", raw[33:37])[0]
    rows = zlib.decompress(raw[41:41 + idat_len])
    return np.frombuffer(rows, np.uint8).reshape(h, 1 + 4 * w)[:, 1:].reshape(h, w, 4)


def cli(path, *args):
    return subprocess.run([PYTHON, "-m", "kiln.preview", str(path), *args], env=run_env(),
                          capture_output=True, text=True, timeout=60)


def test_json_value_and_truncation(tmp_path):
    p = str(tmp_path / "v")
    serializers.save({"loss": 0.25, "tags": ["a", "b"]}, p)
    assert pv.preview(p, "json") == {"kind": "json", "value": {"loss": 0.25, "tags": ["a", "b"]}}
    serializers.save(list(range(5000)), p)
    out = pv.preview(p)  # sniffed
    assert out["kind"] == "json" and out["truncated"] is True
    assert out["value"] == list(range(pv.JSON_ITEMS))


def test_array_2d_image_downsampled_with_stats(tmp_path):
    p = str(tmp_path / "img")
    arr = np.arange(600 * 1000, dtype=np.float32).reshape(600, 1000)
    arr[0, 0] = np.nan
    serializers.save(arr, p)
    out = pv.preview(p, "numpy")
    assert out["kind"] == "array" and out["dtype"] == "float32" and out["shape"] == [600, 1000]
    s = out["stats"]
    assert s["nan"] == 1 and s["min"] == 1.0 and s["max"] == 599_999.0
    assert s["mean"] == pytest.approx(np.nanmean(arr.astype(np.float64)))
    w, h = png_size(out["image"])
    assert max(w, h) <= pv.IMAGE_PX and w > h  # aspect kept
    px = png_pixels(out["image"])
    # A ramp: the colour index grows down the rows (viridis gets brighter).
    assert px[0, :, :3].astype(int).sum() < px[-1, :, :3].astype(int).sum()


def test_array_1d_plot_line_and_histogram(tmp_path):
    p = str(tmp_path / "curve")
    serializers.save(np.linspace(0.0, 1.0, 50), p)
    out = pv.preview(p)
    line, hist = out["plot"]["line"], out["plot"]["hist"]
    assert line["x"] == list(range(50)) and line["y"][-1] == 1.0
    assert sum(hist["counts"]) == 50 and len(hist["edges"]) == pv.HIST_BINS + 1
    serializers.save(np.arange(10_000, dtype=np.int64), p)
    out = pv.preview(p)
    line = out["plot"]["line"]
    assert len(line["y"]) <= pv.LINE_POINTS and line["bucket"] == 10
    assert line["min"][1] == 10 and line["max"][1] == 19 and line["y"][1] == 14.5


def test_cubes_give_one_image_per_band(tmp_path):
    p = str(tmp_path / "cube")
    serializers.save(np.random.default_rng(0).random((5, 64, 64)), p)
    out = pv.preview(p)
    assert out["layout"] == "channels first"
    assert [i["label"] for i in out["images"]] == [f"band {i}" for i in range(5)]
    assert all(png_size(i["image"]) == (64, 64) for i in out["images"])
    serializers.save(np.zeros((64, 48, 5), np.float32), p)  # H×W×C, as the redshift example
    out = pv.preview(p)
    assert out["layout"] == "channels last" and len(out["images"]) == 5
    assert png_size(out["images"][0]["image"]) == (48, 64)
    serializers.save(np.zeros((10, 3, 32, 32), np.float32), p)  # N×C×H×W: the first item
    out = pv.preview(p)
    assert out["layout"] == "first of 10, channels first" and len(out["images"]) == 3


def test_large_array_statistics_are_sampled(tmp_path, monkeypatch):
    monkeypatch.setattr(pv, "SAMPLE_ELEMENTS", 1000)
    p = str(tmp_path / "big")
    serializers.save(np.ones((400, 100)), p)
    s = pv.preview(p)["stats"]
    assert s["sampled"] <= 1000 and s["mean"] == 1.0


def test_state_dict_and_module_without_importing_torch(tmp_path):
    torch = pytest.importorskip("torch")
    net = torch.nn.Sequential(torch.nn.Conv2d(5, 8, 3), torch.nn.BatchNorm2d(8), torch.nn.ReLU(),
                              torch.nn.Flatten(), torch.nn.Linear(8, 2))
    sd, mod = str(tmp_path / "sd"), str(tmp_path / "mod")
    serializers.save(net.state_dict(), sd)
    serializers.save(net, mod)
    # A fresh interpreter: the preview must not import torch to read either.
    code = ("import sys, json; from kiln.preview import preview; "
            f"print(json.dumps([preview({sd!r}), preview({mod!r}, 'torch')])); "
            "print('torch' in sys.modules)")
    r = subprocess.run([PYTHON, "-c", code], env=run_env(), capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0, r.stderr
    first, imported = r.stdout.splitlines()
    from_sd, from_mod = json.loads(first)
    assert imported == "False"
    expected = [(k, list(v.shape), str(v.dtype).replace("torch.", ""), v.numel())
                for k, v in net.state_dict().items()]
    for out in (from_sd, from_mod):
        assert out["kind"] == "state_dict"
        assert [(t["name"], t["shape"], t["dtype"], t["params"]) for t in out["tensors"]] == expected
        assert out["total_params"] == sum(v.numel() for v in net.state_dict().values())
    assert from_mod["module"] == "torch.nn.modules.container.Sequential"
    assert "module" not in from_sd


def test_checkpoint_lists_tensors_and_plain_values(tmp_path):
    torch = pytest.importorskip("torch")
    p = str(tmp_path / "ckpt")
    lin = torch.nn.Linear(2, 3)
    serializers.save({"epoch": 7, "loss": 0.25, "model": lin.state_dict(),
                      "optimizer": {"lr": 0.01, "momentum": None}}, p, "torch")
    out = pv.preview(p)
    assert [t["name"] for t in out["tensors"]] == ["model.weight", "model.bias"]
    assert out["total_params"] == 9
    assert out["values"] == {"epoch": 7, "loss": 0.25, "optimizer.lr": 0.01,
                             "optimizer.momentum": None}


def test_single_tensor_is_an_array_read_from_the_zip(tmp_path):
    torch = pytest.importorskip("torch")
    p = str(tmp_path / "t")
    t = torch.arange(12, dtype=torch.float64).reshape(3, 4).t()  # non-contiguous strides
    serializers.save(t, p)
    out = pv.preview(p)
    assert out["kind"] == "array" and out["shape"] == [4, 3] and out["dtype"] == "float64"
    assert (out["stats"]["min"], out["stats"]["max"]) == (0.0, 11.0)
    arr = pv._torch_file(p, os.path.getsize(p))
    assert arr["stats"]["mean"] == pytest.approx(5.5)
    # The strided read matches torch's own values.
    import zipfile
    with zipfile.ZipFile(p) as z:
        pkl = next(n for n in z.namelist() if n.endswith("data.pkl"))
        stub = pv._TorchUnpickler(__import__("io").BytesIO(z.read(pkl))).load()
        np.testing.assert_array_equal(pv._tensor_data(z, pkl[:-8], stub), t.numpy())


def test_fits_header_image_and_table(tmp_path):
    fits = pytest.importorskip("astropy.io.fits")
    p = str(tmp_path / "galaxy.fits")
    img = fits.PrimaryHDU(np.random.default_rng(1).normal(size=(80, 60)).astype(np.float32))
    img.header["FILTER"] = ("r", "SDSS band")
    img.header["REDSHIFT"] = 0.123
    cube = fits.ImageHDU(np.zeros((5, 32, 32), np.float32), name="CUBE")
    table = fits.BinTableHDU.from_columns(
        [fits.Column(name="objid", format="K", array=np.arange(30)),
         fits.Column(name="z", format="E", unit="", array=np.linspace(0, 0.4, 30))], name="CAT")
    fits.HDUList([img, cube, table]).writeto(p)
    out = pv.preview(p)  # sniffed from "SIMPLE  ="
    assert out["kind"] == "fits"
    prim, c, cat = out["hdus"]
    assert prim["name"] == "PRIMARY" and prim["shape"] == [80, 60]
    assert prim["header"]["FILTER"] == "r" and prim["header"]["REDSHIFT"] == 0.123
    assert prim["header"]["NAXIS1"] == 60 and png_size(prim["image"]) == (60, 80)
    assert c["name"] == "CUBE" and len(c["images"]) == 5
    assert [col["name"] for col in cat["columns"]] == ["objid", "z"]
    assert cat["count"] == 30 and len(cat["rows"]) == pv.TABLE_ROWS and cat["rows"][1][0] == 1


def test_tables_from_csv_structured_arrays_and_records(tmp_path):
    p = str(tmp_path / "cat.csv")
    with open(p, "w") as f:
        f.write("id,ra,dec,z\n")
        for i in range(100):
            f.write(f"g{i},{i * 0.5},{-i},{i / 250}\n")
    out = pv.preview(p, "raw")
    assert out == {**out, "kind": "table", "columns": ["id", "ra", "dec", "z"], "count": 100}
    assert len(out["rows"]) == pv.TABLE_ROWS and out["rows"][2] == ["g2", 1.0, -2, 0.008]
    s = str(tmp_path / "rec")
    arr = np.zeros(30, dtype=[("name", "U8"), ("flux", "f8")])
    arr["flux"] = np.arange(30)
    serializers.save(arr, s)
    out = pv.preview(s, "numpy")
    assert out["kind"] == "table" and out["columns"] == ["name", "flux"] and out["count"] == 30
    assert out["rows"][3] == ["", 3.0]
    serializers.save([{"lr": 0.1, "acc": 0.9}, {"lr": 0.01, "acc": 0.95}], s, "pickle")
    out = pv.preview(s, "pickle")
    assert out == {"kind": "table", "columns": ["lr", "acc"], "rows": [[0.1, 0.9], [0.01, 0.95]],
                   "count": 2}


def test_text_first_4_kib(tmp_path):
    p = str(tmp_path / "log.txt")
    with open(p, "w") as f:
        f.write("a line of text, not a table\n" * 1000)
    out = pv.preview(p)
    assert out["kind"] == "text" and out["size"] == 28_000 and out["truncated"] is True
    assert len(out["text"].encode()) == pv.TEXT_BYTES


def test_binary_and_refused_pickles(tmp_path):
    p = str(tmp_path / "blob")
    with open(p, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + bytes(range(256)))
    out = pv.preview(p)
    assert out == {"kind": "binary", "size": 264, "magic": "89504e470d0a1a0a0001020304050607",
                   "format": "png"}
    # A pickle of a class would run that class's code: named, not loaded.
    with open(p, "wb") as f:
        pickle.dump(pv.PreviewError("x"), f, protocol=4)
    out = pv.preview(p, "pickle")
    assert out["kind"] == "binary" and "kiln.preview.PreviewError" in out["note"]
    # NumPy arrays inside pickles are fine.
    serializers.save((np.arange(3), "x"), p, "pickle")
    assert pv.preview(p, "pickle") == {"kind": "json", "value": [[0, 1, 2], "x"]}


def test_cli_prints_json_and_reports_bad_files_with_status_2(tmp_path):
    p = str(tmp_path / "a")
    serializers.save(np.eye(3), p)
    r = cli(p, "--serializer", "numpy")
    assert r.returncode == 0 and json.loads(r.stdout)["shape"] == [3, 3]
    with open(p, "w") as f:
        f.write("not numpy")
    r = cli(p, "--serializer", "numpy")
    assert r.returncode == 2 and "not a NumPy .npy file" in r.stderr and r.stdout == ""
    r = cli(str(tmp_path / "missing"))
    assert r.returncode == 2 and "cannot read" in r.stderr


def test_a_dict_of_fits_files_previews_its_catalogue(tmp_path):
    """The redshift example's survey: {file name: FITS bytes}, pickled."""
    import io
    from astropy.io import fits

    def fits_bytes(hdul):
        buf = io.BytesIO()
        hdul.writeto(buf)
        return buf.getvalue()

    table = fits.BinTableHDU.from_columns([fits.Column(name="z", format="E", array=np.array([0.1, 0.2]))])
    survey = {f"images/{i:06d}-{b}.fits": fits_bytes(fits.HDUList([fits.PrimaryHDU(np.zeros((8, 8)))]))
              for i in range(3) for b in "ugriz"}
    survey["catalog.fits"] = fits_bytes(fits.HDUList([fits.PrimaryHDU(), table]))
    p = str(tmp_path / "survey")
    assert serializers.save(survey, p) == "pickle"
    out = pv.preview(p, "pickle")
    assert out["kind"] == "fits" and out["files"] == 16
    assert out["note"].startswith("catalog.fits, one of 16 FITS files")
    assert out["hdus"][1]["columns"][0]["name"] == "z"
    # A dict of other bytes is no FITS collection.
    q = str(tmp_path / "other")
    serializers.save({"a": b"hello", "b": b"world"}, q)
    assert pv.preview(q, "pickle")["kind"] != "fits"
