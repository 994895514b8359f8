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


def test_3d_scatter_becomes_chart_data_with_its_colour_values(plt):
    import numpy as np
    fig = plt.figure()
    ax = fig.add_subplot(projection="3d")
    x, y, z = [0.0, 1.0, 2.0], [3.0, 4.0, 5.0], [6.0, 7.0, 8.0]
    sc = ax.scatter(x, y, z, c=[0.1, 0.5, 0.9], cmap="plasma", s=[5, 10, 20], label="galaxies")
    ax.plot([0, 1], [0, 1], [0, 2], color="black")
    fig.colorbar(sc, label="|dz|")
    ax.set_xlabel("t-SNE 1")
    ax.set_zlabel("t-SNE 3")
    ax.set_title("embedding")
    ax.view_init(elev=20, azim=35)
    plt.show()
    (ev,) = plt.events()
    assert ev["format"] == "chart"
    (axd,) = ev["axes"]  # the colour bar is not an axes of its own
    assert (axd["projection"], axd["title"], axd["xlabel"], axd["zlabel"]) == \
        ("3d", "embedding", "t-SNE 1", "t-SNE 3")
    assert axd["view"] == {"elev": 20.0, "azim": 35.0} and len(axd["zlim"]) == 2
    line, pts = axd["series"]
    assert line == {**line, "kind": "line3d", "z": [0.0, 2.0], "color": "#000000"}
    assert pts["kind"] == "scatter3d" and pts["label"] == "galaxies"
    assert (pts["x"], pts["y"], pts["z"]) == (x, y, z)
    assert pts["c"] == [0.1, 0.5, 0.9] and pts["cmap"] == "plasma" and pts["clim"] == [0.1, 0.9]
    assert pts["clabel"] == "|dz|" and pts["sizes"] == [5.0, 10.0, 20.0]
    # The colours are the colour map's, not depth-shaded.
    import matplotlib
    cmap = matplotlib.colormaps["plasma"]
    assert pts["colors"] == [matplotlib.colors.to_hex(cmap(v)) for v in (0.0, 0.5, 1.0)]
    # matplotlib drops a point with a NaN coordinate; every list stays aligned.
    ax2 = plt.figure().add_subplot(projection="3d")
    ax2.scatter([0, 1, 2], [0, 1, 2], [0, np.nan, 2], c=[1.0, 2.0, 3.0])
    plt.show()
    pts = plt.events()[-1]["axes"][0]["series"][0]
    assert (pts["z"], pts["c"], len(pts["colors"])) == ([0.0, 2.0], [1.0, 3.0], 2)


def test_3d_scatter_with_plain_colour_and_3d_surfaces_as_png(plt):
    import numpy as np
    fig = plt.figure()
    ax = fig.add_subplot(projection="3d")
    ax.scatter([1, 2], [3, 4], [5, 6], color="red")
    fig.savefig("/dev/null", format="png")  # a draw: colours must stay unshaded
    plt.show()
    fig2 = plt.figure()
    ax2 = fig2.add_subplot(projection="3d")
    xx, yy = np.meshgrid(np.arange(4.0), np.arange(4.0))
    ax2.plot_surface(xx, yy, xx * yy)
    plt.show()
    first, second = plt.events()
    pts = first["axes"][0]["series"][0]
    assert pts["color"] == "#ff0000" and pts["c"] is None and pts["colors"] is None
    assert second["format"] == "png"


def test_images_histograms_and_density_plots_render_as_png(plt):
    import numpy as np
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=500), rng.normal(size=500)
    kinds = []
    for draw in (lambda ax: ax.imshow(rng.random((8, 8))),
                 lambda ax: ax.hist(a, bins=20),
                 lambda ax: ax.hist2d(a, b, bins=10),
                 lambda ax: ax.hexbin(a, b, gridsize=10)):
        fig, ax = plt.subplots()
        draw(ax)
        plt.show()
    for ev in plt.events():
        kinds.append(ev["format"])
        png = base64.b64decode(ev["png"])
        assert png.startswith(b"\x89PNG") and len(png) > 1000  # something was drawn
    assert kinds == ["png"] * 4
