"""kiln.mpl_backend: lines/scatter -> chart data, anything else -> PNG, dedupe, no channel."""
import base64
import os

import matplotlib
import pytest

from kiln import runtime

from conftest import read_events


@pytest.fixture
def plt(tmp_path):
    matplotlib.use("module://kiln.mpl_backend", force=True)
    import matplotlib.pyplot as plt
    events = str(tmp_path / "events.jsonl")
    ch = runtime.EventChannel.open_path(events, "test-job")
    runtime.configure(ch)
    plt.events = lambda: [e for e in read_events(events) if e["type"] == "figure"]
    yield plt
    plt.close("all")
    runtime.configure(None)
    ch.close()
    matplotlib.use("agg", force=True)  # headless default for whatever runs next


def test_line_and_scatter_become_chart_data(plt):
    fig, ax = plt.subplots()
    ax.plot([0, 1, 2], [1.0, float("nan"), 3.0], "r--o", label="loss")
    ax.scatter([1, 2], [5, 6], s=20, c="blue")
    ax.set_title("Training")
    ax.set_xlabel("epoch")
    ax.set_ylabel("value")
    ax.set_yscale("log")
    ax.legend()
    fig.suptitle("Run 1")
    plt.show()
    (ev,) = plt.events()
    assert ev["format"] == "chart" and ev["title"] == "Run 1" and ev["figure"] == fig.number
    (axd,) = ev["axes"]
    assert (axd["title"], axd["xlabel"], axd["ylabel"], axd["yscale"]) == \
        ("Training", "epoch", "value", "log")
    assert axd["legend"] is True
    line, scatter = axd["series"]
    assert line == {**line, "kind": "line", "label": "loss", "x": [0.0, 1.0, 2.0],
                    "y": [1.0, None, 3.0], "color": "#ff0000", "linestyle": "--",
                    "marker": "o"}
    assert scatter["kind"] == "scatter" and scatter["label"] is None
    assert (scatter["x"], scatter["y"], scatter["color"], scatter["size"]) == \
        ([1.0, 2.0], [5.0, 6.0], "#0000ff", 20.0)
    assert not plt.get_fignums()  # show() closes what it emitted


def test_image_becomes_png(plt):
    import numpy as np
    fig, (a, b) = plt.subplots(1, 2, figsize=(4, 2))
    a.plot([1, 2, 3])
    b.imshow(np.arange(16).reshape(4, 4))
    plt.show()
    (ev,) = plt.events()
    assert ev["format"] == "png" and (ev["width"], ev["height"]) == (400, 200)
    assert base64.b64decode(ev["png"]).startswith(b"\x89PNG\r\n\x1a\n")


def test_bars_and_axhline_are_not_charts(plt):
    plt.bar([1, 2], [3, 4])
    plt.show()
    plt.plot([1, 2])
    plt.axhline(1.5)
    plt.show()
    assert [e["format"] for e in plt.events()] == ["png", "png"]


def test_savefig_writes_file_and_emits_once(plt, tmp_path):
    fig = plt.figure("curves")
    plt.plot([1, 2, 3], [3, 2, 1])
    out = str(tmp_path / "curve.png")
    fig.savefig(out)
    with open(out, "rb") as f:
        assert f.read(4) == b"\x89PNG"
    plt.show()  # unchanged since savefig: not emitted again
    plt.figure("curves2")
    plt.plot([1, 2])
    from kiln.mpl_backend import flush_open_figures
    flush_open_figures()
    evs = plt.events()
    assert [(e["name"], e["reason"], e["revision"]) for e in evs] == \
        [("curves", "savefig", 1), ("curves2", "end", 1)]
    assert [e["seq"] for e in evs] == sorted(e["seq"] for e in evs)


def test_without_channel_behaves_like_agg(plt, tmp_path):
    runtime.configure(None)
    plt.plot([1, 2])
    out = str(tmp_path / "x.png")
    plt.savefig(out)
    plt.show()  # no-op, no error
    assert os.path.getsize(out) > 0


def test_a_loop_that_plots_and_shows_keeps_every_figure(plt):
    # plt.show() closes what it showed, and pyplot gives the next figure the
    # freed number 1 again: each must still be its own figure, not a revision.
    for i in range(3):
        fig, ax = plt.subplots()
        ax.plot([0, 1], [i, i + 1])
        ax.set_title(f"plot {i}")
        plt.show()
    evs = plt.events()
    assert [e["figure"] for e in evs] == [1, 2, 3]
    assert [e["revision"] for e in evs] == [1, 1, 1]
    assert [e["axes"][0]["title"] for e in evs] == ["plot 0", "plot 1", "plot 2"]
    # A figure opened beside one that took a reused number gets a free id too,
    # and a figure emitted twice keeps its id (a new revision).
    a = plt.figure()   # pyplot number 1: taken, id 4
    b = plt.figure()   # pyplot number 2: taken, id 5
    a.gca().plot([0, 1], [0, 1])
    a.savefig("/dev/null", format="png")
    a.gca().plot([0, 1], [1, 0])
    b.gca().plot([0, 1], [2, 2])
    plt.show()
    evs = plt.events()[3:]
    assert [(e["figure"], e["revision"]) for e in evs] == [(4, 1), (4, 2), (5, 1)]
