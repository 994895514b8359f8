"""A matplotlib backend that streams figures to Kiln as ``figure`` events.

Selected with ``MPLBACKEND=module://kiln.mpl_backend`` (``kiln.job`` and
``kiln.zygote`` set it), so operations use plain matplotlib:

* ``plt.show()`` / ``fig.show()`` emit every open figure, then close them (like
  Jupyter's inline backend: a loop that plots and shows does not pile up figures).
  Each figure keeps its own id in the job: pyplot's number, or the next free
  one when an earlier (closed) figure had that number, so every figure shown
  in such a loop stays, none replaces another.
* ``fig.savefig(path)`` writes the file as usual *and* emits the figure.
* At the end of a job, ``kiln.job`` calls ``flush_open_figures()`` so a figure
  that was drawn but never shown or saved still reaches the user.

Event payload (see docs/job-protocol.md, "figure"):

* ``format: "chart"`` when every axes is a plain 2-D axes holding only lines
  (``Line2D``) and scatter plots (``PathCollection``) in data coordinates, with
  numeric (non-date, non-categorical) axes and at most ``MAX_CHART_POINTS``
  points in all: titles, axis labels, scales, limits and each series' ``x``,
  ``y``, ``label``, ``kind``, ``color`` ... so the browser draws an interactive
  chart.
* 3-D axes (``projection="3d"``) holding only scatter plots and lines are
  chart data too: the axes has ``projection: "3d"``, ``zlabel``, ``zlim``,
  ``view`` (matplotlib's elevation and azimuth) and series ``scatter3d``
  (``x``, ``y``, ``z``; ``c`` the colour-mapped values with ``cmap``, ``clim``
  and the colour bar's label ``clabel``; ``color`` | ``colors``; ``size`` |
  ``sizes``) or ``line3d``; a colour bar of such a scatter is not an axes of
  its own.  The browser rotates, zooms and picks points.
* ``format: "png"`` otherwise (images, histograms, ``hist2d``/``hexbin``
  density plots, bars, patches, text annotations, 3-D surfaces, polar, too
  many points): a base64 PNG rendered with Agg.

The same figure emitted again unchanged (``savefig`` then ``show``) is skipped.
Without a Kiln event channel this backend behaves like Agg: ``savefig`` works,
``show`` does nothing.  Without ``MPLBACKEND`` set, matplotlib is untouched.

Thread-safety: like matplotlib itself, use from one thread.
"""
from __future__ import annotations

import base64
import hashlib
import io
import json
import math

import numpy as np
from matplotlib import colors as mcolors
from matplotlib._pylab_helpers import Gcf
from matplotlib.backend_bases import FigureManagerBase, _Backend
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import PathCollection
from matplotlib.lines import Line2D

from . import runtime

__all__ = ["figure_payload", "emit_figure", "flush_open_figures", "MAX_CHART_POINTS"]

MAX_CHART_POINTS = 100_000  # beyond this a PNG is smaller and draws faster
PNG_DPI = 100

_rendering = False  # set while we render our own PNG (savefig re-enters print_figure)


def _num(v):
    try:
        f = float(v)
    except (TypeError, ValueError):
        raise _NotChart from None
    return f if math.isfinite(f) else None


class _NotChart(Exception):
    pass


def _floats(values) -> list:
    try:
        arr = np.ma.filled(np.ma.asarray(values, dtype=float), np.nan).ravel()
    except (TypeError, ValueError):
        raise _NotChart from None
    return [None if not math.isfinite(x) else float(x) for x in arr.tolist()]


def _hex(color) -> str | None:
    try:
        return mcolors.to_hex(color, keep_alpha=False)
    except (ValueError, TypeError):
        return None


def _label(artist) -> str | None:
    label = artist.get_label()
    # matplotlib names unlabeled artists "_child0", "_line1"...: not user labels.
    return None if not label or label.startswith("_") else str(label)


def _axes_chart(ax) -> dict:
    if ax.name != "rectilinear" or not ax.get_visible():
        raise _NotChart
    if len(ax.images) or len(ax.patches) or len(ax.tables) or len(ax.artists) or len(ax.texts):
        raise _NotChart
    if ax.xaxis.converter is not None or ax.yaxis.converter is not None:
        raise _NotChart  # dates, categories: the numbers would mislead
    series = []
    for line in ax.get_lines():
        if not line.get_visible():
            continue
        if not isinstance(line, Line2D) or line.get_transform() != ax.transData:
            raise _NotChart  # axhline/axvline & co. live in axes coordinates
        marker = line.get_marker()
        series.append({
            "kind": "line",
            "label": _label(line),
            "x": _floats(line.get_xdata(orig=False)),
            "y": _floats(line.get_ydata(orig=False)),
            "color": _hex(line.get_color()),
            "linestyle": line.get_linestyle() if line.get_linestyle() not in ("None", " ", "")
            else None,
            "linewidth": _num(line.get_linewidth()),
            "marker": None if marker in (None, "None", "", " ") else str(marker),
        })
    for coll in ax.collections:
        if not coll.get_visible():
            continue
        if type(coll) is not PathCollection or coll.get_offset_transform() != ax.transData:
            raise _NotChart
        offsets = coll.get_offsets()
        faces = coll.get_facecolors()
        sizes = coll.get_sizes()
        colors = [_hex(c) for c in faces]
        series.append({
            "kind": "scatter",
            "label": _label(coll),
            "x": _floats(offsets[:, 0]) if len(offsets) else [],
            "y": _floats(offsets[:, 1]) if len(offsets) else [],
            "color": colors[0] if len(set(colors)) == 1 else None,
            "colors": colors if len(set(colors)) > 1 else None,
            "size": _num(sizes[0]) if len(sizes) == 1 else None,
            "sizes": _floats(sizes) if len(sizes) > 1 else None,
        })
    legend = ax.get_legend()
    return {
        "title": ax.get_title() or None,
        "xlabel": ax.get_xlabel() or None,
        "ylabel": ax.get_ylabel() or None,
        "xscale": ax.get_xscale(),
        "yscale": ax.get_yscale(),
        "xlim": [_num(v) for v in ax.get_xlim()],
        "ylim": [_num(v) for v in ax.get_ylim()],
        "grid": any(g.get_visible()
                    for g in list(ax.xaxis.get_gridlines()) + list(ax.yaxis.get_gridlines())),
        "legend": legend is not None and legend.get_visible(),
        "series": series,
    }


def _colors_of(coll) -> tuple:
    """(values, hex colours per point, cmap name, [vmin, vmax]) of a colour-mapped
    collection; values and cmap are None when it has plain colours."""
    values = coll.get_array()
    if values is not None and len(values):
        rgba = coll.to_rgba(np.ma.asarray(values).ravel())
        norm = coll.norm
        return (_floats(values), [_hex(c) for c in rgba], coll.cmap.name,
                [_num(norm.vmin), _num(norm.vmax)])
    # The colours as given: a 3-D collection's get_facecolors() is depth-shaded after a draw.
    faces = getattr(coll, "_facecolor3d", None)
    if faces is None or not len(faces):
        faces = coll.get_facecolors()
    return None, [_hex(c) for c in faces], None, None


def _axes3d_chart(ax, colorbar_labels: dict) -> dict:
    """A 3-D axes holding only scatter plots and lines: points and colours, for a 3-D view."""
    from mpl_toolkits.mplot3d.art3d import Line3D, Path3DCollection
    if not ax.get_visible():
        raise _NotChart
    if len(ax.images) or len(ax.patches) or len(ax.tables) or len(ax.artists) or len(ax.texts):
        raise _NotChart
    series = []
    for line in ax.get_lines():
        if not line.get_visible():
            continue
        if not isinstance(line, Line3D):
            raise _NotChart
        x, y, z = line.get_data_3d()
        series.append({"kind": "line3d", "label": _label(line), "x": _floats(x), "y": _floats(y),
                       "z": _floats(z), "color": _hex(line.get_color())})
    for coll in ax.collections:
        if not coll.get_visible():
            continue
        if type(coll) is not Path3DCollection:
            raise _NotChart  # surfaces, bars, polygons: a PNG shows them as drawn
        xs, ys, zs = coll._offsets3d
        values, colors, cmap, clim = _colors_of(coll)
        if len(colors) not in (0, 1, len(np.ravel(xs))):
            raise _NotChart
        sizes = coll.get_sizes()
        series.append({
            "kind": "scatter3d",
            "label": _label(coll),
            "x": _floats(xs), "y": _floats(ys), "z": _floats(zs),
            "c": values,
            "cmap": cmap,
            "clim": clim,
            "clabel": colorbar_labels.get(id(coll)),
            "color": colors[0] if len(set(colors)) == 1 else None,
            "colors": colors if len(set(colors)) > 1 else None,
            "size": _num(sizes[0]) if len(sizes) == 1 else None,
            "sizes": _floats(sizes) if len(sizes) > 1 else None,
        })
    legend = ax.get_legend()
    return {
        "projection": "3d",
        "title": ax.get_title() or None,
        "xlabel": ax.get_xlabel() or None,
        "ylabel": ax.get_ylabel() or None,
        "zlabel": ax.get_zlabel() or None,
        "xlim": [_num(v) for v in ax.get_xlim3d()],
        "ylim": [_num(v) for v in ax.get_ylim3d()],
        "zlim": [_num(v) for v in ax.get_zlim3d()],
        "view": {"elev": _num(ax.elev), "azim": _num(ax.azim)},
        "legend": legend is not None and legend.get_visible(),
        "series": series,
    }


def _colorbars_of_3d(fig) -> tuple:
    """The colour bars of 3-D scatter plots (their axes are left out of the chart,
    their label goes with the scatter) as (set of their axes, {id(collection): label})."""
    from mpl_toolkits.mplot3d.art3d import Path3DCollection
    skip, labels = set(), {}
    for ax in fig.axes:
        cb = getattr(ax, "_colorbar", None)
        if cb is not None and type(cb.mappable) is Path3DCollection:
            skip.add(ax)
            label = ax.get_ylabel() if cb.orientation == "vertical" else ax.get_xlabel()
            labels[id(cb.mappable)] = label or None
    return skip, labels


def _chart(fig) -> dict | None:
    if not fig.axes or len(fig.images) or len(fig.legends) or len(fig.patches):
        return None
    sup = fig._suptitle
    if any(t is not sup for t in fig.texts):
        return None
    try:
        if any(ax.name == "3d" for ax in fig.axes):
            skip, labels = _colorbars_of_3d(fig)
            axes = [_axes3d_chart(ax, labels) if ax.name == "3d" else _axes_chart(ax)
                    for ax in fig.axes if ax not in skip]
        else:
            axes = [_axes_chart(ax) for ax in fig.axes]
    except _NotChart:
        return None
    points = sum(len(s["x"]) for a in axes for s in a["series"])
    if points > MAX_CHART_POINTS:
        return None
    w, h = fig.get_size_inches()
    return {"title": sup.get_text() if sup is not None else None,
            "width_in": float(w), "height_in": float(h), "axes": axes}


def _png(fig) -> dict:
    global _rendering
    buf = io.BytesIO()
    _rendering = True
    try:
        fig.savefig(buf, format="png", dpi=PNG_DPI)
    finally:
        _rendering = False
    w, h = fig.get_size_inches() * PNG_DPI
    return {"png": base64.b64encode(buf.getvalue()).decode("ascii"),
            "width": int(round(w)), "height": int(round(h))}


def figure_payload(fig) -> dict:
    """The ``figure`` event fields (without number/name) for a matplotlib Figure."""
    chart = _chart(fig)
    if chart is not None:
        return {"format": "chart", **chart}
    return {"format": "png", **_png(fig)}


def emit_figure(fig, reason: str = "show") -> dict | None:
    """Emit ``fig`` as a figure event unless identical to the last one emitted for it."""
    if runtime.current() is None:
        return None
    payload = figure_payload(fig)
    digest = hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()
    if getattr(fig, "_kiln_digest", None) == digest:
        return None
    fig._kiln_digest = digest
    fig._kiln_revision = getattr(fig, "_kiln_revision", 0) + 1
    number = _figure_id(fig)
    name = fig.get_label() or f"Figure {number}"
    return runtime.emit("figure", figure=number, name=name, revision=fig._kiln_revision,
                        reason=reason, **payload)


# Figure ids of the current channel (job): pyplot's number, unless an earlier
# figure of this job had it. pyplot reuses a closed figure's number, and
# plt.show() closes what it showed, so a loop that plots and shows makes
# figure 1 again and again: with pyplot's number as the id each would replace
# the one before (same figure, revision 1 again), leaving only the last.
_ids_channel = None
_ids_used: set = set()


def _figure_id(fig) -> int:
    global _ids_channel, _ids_used
    channel = runtime.current()
    if channel is not _ids_channel:
        _ids_channel, _ids_used = channel, set()
    if getattr(fig, "_kiln_channel", None) is channel and hasattr(fig, "_kiln_id"):
        return fig._kiln_id
    number = getattr(fig, "number", None)
    fid = number if isinstance(number, int) and number not in _ids_used else \
        max(_ids_used, default=0) + 1
    _ids_used.add(fid)
    fig._kiln_id, fig._kiln_channel = fid, channel
    return fid


def flush_open_figures() -> None:
    """Emit every pyplot figure still open (skipping unchanged ones), then close them."""
    if runtime.current() is None:
        return
    for manager in Gcf.get_all_fig_managers():
        emit_figure(manager.canvas.figure, "end")
    Gcf.destroy_all()


class FigureCanvasKiln(FigureCanvasAgg):
    """Agg canvas whose savefig also emits the figure."""

    def print_figure(self, filename, *args, **kwargs):
        result = super().print_figure(filename, *args, **kwargs)
        if not _rendering:
            emit_figure(self.figure, "savefig")
        return result


class FigureManagerKiln(FigureManagerBase):
    def show(self):
        emit_figure(self.canvas.figure, "show")


FigureCanvasKiln.manager_class = FigureManagerKiln


@_Backend.export
class _BackendKiln(_Backend):
    FigureCanvas = FigureCanvasKiln
    FigureManager = FigureManagerKiln

    @staticmethod
    def show(*args, **kwargs):
        if runtime.current() is None:
            return  # outside Kiln: behave like Agg (nothing to show on)
        for manager in Gcf.get_all_fig_managers():
            emit_figure(manager.canvas.figure, "show")
        Gcf.destroy_all()
