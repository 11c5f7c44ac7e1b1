"""One look for every figure, and one way to save it.

:func:`publish` renders a figure once, as SVG: the page shows that vector drawing (glued under
the figure's label and shown with a ``{glue:figure}`` directive that carries the caption and
the ``:name:`` used by ``{numref}``), and the same file is the citation copy
``_build/figures/<label>.svg``. The figure itself is queued (pickled); :func:`render_queue`
checks it for clipped labels and writes ``<label>.pdf`` and ``<label>.csv`` (the plotted data,
see :func:`plotted_data`) outside the chapter's kernel: the book's build runs it in worker
processes while the chapters go on (:mod:`osl.renderer`). ``python -m osl.figures render`` does
it by hand.

In the book's build (``$OSL_DEFER_FIGURES`` set, as ``python -m osl.build`` does for the
kernels it starts) the SVG is drawn by those workers too: the chapter only lays the figure out
and queues it, and the page shows the SVG copy the worker writes. Drawing is then off the
chapter's critical path, on the core the kernel is not using.
"""
from __future__ import annotations

import io
import os
import pickle
import re
import sys
import tempfile
from pathlib import Path

import matplotlib as mpl
import matplotlib.pyplot as plt

from . import paths
from .errors import OSLError
from .report import glue

__all__ = ["set_theme", "publish", "check_layout", "check_clipping", "check_text_size", "plotted_data", "family_palette",
           "spaced_colours", "sequential_colours", "heatmap", "plot_band", "plot_prediction",
           "plot_crossings", "render_queue", "deferring", "fixed_layout", "power_label",
           "PowerFormatter", "power_ticks"]

LABEL = re.compile(r"^fig-(?:\d\d|[a-z]+)-[a-z0-9]+(?:-[a-z0-9]+)*$")  # chapter number or page name

#: Width of the book's text column in CSS pixels (a figure wider than this is scaled down to it)
#: and the smallest text height, in pixels at that width, that a figure may show.
PAGE_WIDTH_PX, MIN_TEXT_PX = 768, 9.0

#: Seconds this process has spent in :func:`publish` (read by the benchmark).
PUBLISH_SECONDS = [0.0]

DEFER_ENV = paths.DEFER_FIGURES_ENV  # see the module docstring
DEFERRED = ".deferred"  # queue file suffix of a figure whose SVG is still to be drawn


#: The colour-blind-safe qualitative palette every figure cycles through.
COLORBLIND = ["#0173b2", "#de8f05", "#029e73", "#d55e00", "#cc78bc", "#ca9161", "#fbafe4",
              "#949494", "#ece133", "#56b4e9"]

#: The book's look: white panels with a light grid, readable sizes (matplotlib only, so a
#: chapter does not pay for importing a plotting library on top of matplotlib).
THEME = {
    "figure.dpi": 110, "savefig.dpi": 120, "figure.figsize": (7.0, 4.2),
    "font.size": 12.0, "axes.labelsize": 12.0, "axes.titlesize": "medium",
    "xtick.labelsize": 11.0, "ytick.labelsize": 11.0, "legend.fontsize": "small",
    "legend.title_fontsize": 12.0, "axes.linewidth": 1.25, "axes.facecolor": "white",
    "axes.edgecolor": ".8", "axes.grid": True, "axes.axisbelow": True, "grid.color": ".88",
    "grid.linewidth": 0.8, "text.color": ".15", "axes.labelcolor": ".15", "xtick.color": ".15",
    "ytick.color": ".15", "xtick.bottom": False, "ytick.left": False, "lines.linewidth": 1.5,
    "lines.solid_capstyle": "round", "patch.edgecolor": "w", "patch.force_edgecolor": True,
    "font.family": ["sans-serif"],
    "font.sans-serif": ["Arial", "DejaVu Sans", "Liberation Sans", "sans-serif"],
    "image.cmap": "viridis", "figure.facecolor": "white", "legend.frameon": True,
    "svg.hashsalt": "osl", "pdf.compression": 6,
    # A fixed title height: with tick marks off, matplotlib otherwise measures every x axis's
    # tight box to place each title (a third of an eight-panel figure's drawing time), and
    # puts the title where this puts it, since no figure has ticks or labels on top.
    "axes.titley": 1.0,
}


def set_theme() -> None:
    """The book's figure theme (call once at the top of a chapter)."""
    from cycler import cycler
    plt.rcParams.update(THEME)
    plt.rcParams["axes.prop_cycle"] = cycler(color=COLORBLIND)


def spaced_colours(n: int, lightness: float = 62.0, chroma: float = 52.0) -> list:
    """``n`` colours evenly spaced in hue at one lightness and chroma (CIE LCh), so that no
    colour stands out: for categories without an order, such as model families."""
    import numpy as np
    h = np.deg2rad(15 + 360 * np.arange(n) / max(n, 1))
    L, a, b = lightness, chroma * np.cos(h), chroma * np.sin(h)
    fy = (L + 16) / 116
    f = np.stack([fy + a / 500, np.full_like(a, fy), fy - b / 200])
    xyz = np.where(f ** 3 > 0.008856, f ** 3, (f - 16 / 116) / 7.787)
    xyz *= np.array([[0.95047], [1.0], [1.08883]])
    m = np.array([[3.2406, -1.5372, -0.4986], [-0.9689, 1.8758, 0.0415],
                  [0.0557, -0.2040, 1.0570]])
    rgb = m @ xyz
    rgb = np.where(rgb > 0.0031308, 1.055 * np.abs(rgb) ** (1 / 2.4) - 0.055, 12.92 * rgb)
    return [tuple(c) for c in np.clip(rgb, 0, 1).T]


def family_palette(families) -> dict:
    """A stable colour per family (sorted names -> evenly spaced hues)."""
    names = sorted(set(families))
    return dict(zip(names, spaced_colours(len(names))))


def sequential_colours(n: int, cmap: str = "viridis", lo: float = 0.15, hi: float = 0.85) -> list:
    """``n`` colours along a sequential colour map (for ordered categories such as cutoffs)."""
    import numpy as np
    cm = plt.get_cmap(cmap)
    return [cm(x) for x in np.linspace(lo, hi, n)]


def heatmap(ax, frame, *, annot: bool | object = True, fmt: str = ".2f", cmap: str = "viridis",
            vmin: float | None = None, vmax: float | None = None, center: float | None = None,
            cbar_label: str | None = None, annot_size: float = 9.0):
    """A labelled heatmap of a DataFrame (rows down, columns across) with a colour bar.

    ``annot`` is True (write each value with ``fmt``), False, or a same-shaped frame of text.
    ``center`` makes the scale symmetric around it (for diverging maps). Returns the image.
    """
    import numpy as np
    values = np.asarray(frame, dtype=float)
    if center is not None:
        span = np.nanmax(np.abs(values - center)) if vmin is None or vmax is None else None
        vmin = center - span if vmin is None else vmin
        vmax = center + span if vmax is None else vmax
    im = ax.imshow(values, cmap=cmap, vmin=vmin, vmax=vmax, aspect="auto",
                   interpolation="nearest")
    ax.set_xticks(range(values.shape[1]), [str(c) for c in frame.columns], rotation=30,
                  ha="right", rotation_mode="anchor")
    ax.set_yticks(range(values.shape[0]), [str(i) for i in frame.index])
    ax.grid(False)
    if annot is not False:
        text = np.asarray(annot) if annot is not True else None
        norm = im.norm
        for i in range(values.shape[0]):
            for j in range(values.shape[1]):
                v = values[i, j]
                if not np.isfinite(v):
                    continue
                label = text[i, j] if text is not None else format(v, fmt)
                if text is None and label.startswith("-") and not label.strip("-0.,e+"):
                    label = label[1:]  # "-0.00" reads as a sign that is not there
                dark = np.mean(im.cmap(norm(v))[:3]) < 0.5
                ax.text(j, i, label, ha="center", va="center", fontsize=annot_size,
                        color="white" if dark else ".15")
    bar = ax.figure.colorbar(im, ax=ax, fraction=0.05, pad=0.02)
    if cbar_label:
        bar.set_label(cbar_label)
    return im


def fixed_layout(fig: plt.Figure, left: float, right: float, bottom: float, top: float,
                 wspace: float = 0.2, hspace: float = 0.2) -> None:
    """Place the axes by hand (figure fractions, as ``subplots_adjust``), sparing a figure with
    many panels a tight-layout pass when it is published; :func:`publish`'s checks still refuse
    anything clipped or too small."""
    from matplotlib.layout_engine import PlaceHolderLayoutEngine
    for name, v in (("left", left), ("right", right), ("bottom", bottom), ("top", top)):
        if not 0.0 <= v <= 1.0:
            raise OSLError(f"fixed_layout: {name}={v!r} must be a figure fraction in [0, 1].")
    if left >= right or bottom >= top:
        raise OSLError(f"fixed_layout: need left < right and bottom < top, got left={left}, "
                       f"right={right}, bottom={bottom}, top={top}.")
    fig.subplots_adjust(left=left, right=right, bottom=bottom, top=top, wspace=wspace,
                        hspace=hspace)
    fig.set_layout_engine(PlaceHolderLayoutEngine(adjust_compatible=True,
                                                  colorbar_gridspec=True))


_SUPERSCRIPT = str.maketrans("-0123456789", "\u207b\u2070\u00b9\u00b2\u00b3\u2074\u2075\u2076"
                                             "\u2077\u2078\u2079")


def _decade(x: float) -> int | None:
    """The exponent of ``x`` if it is a (signed) power of ten, else None."""
    import math
    e = math.log10(abs(x)) if x else math.nan
    return int(round(e)) if math.isfinite(e) and abs(e - round(e)) <= 1e-9 else None


def power_label(x: float) -> str:
    """``x`` written as a power of ten with Unicode superscripts (``10⁻³``, ``−10²``; ``0``
    for zero; other numbers as ``%g``): the labels of log axes without mathtext, whose
    parser costs a figure tenths of a second to draw."""
    from . import validate
    x = validate.real("power_label: x", x)
    if x == 0:
        return "0"
    e = _decade(x)
    if e is None:
        return f"{x:g}".replace("-", "\u2212")
    return ("\u2212" if x < 0 else "") + "10" + str(e).translate(_SUPERSCRIPT)


class PowerFormatter(mpl.ticker.Formatter):
    """Tick labels of a log or symlog axis (or a log colour bar) as :func:`power_label` writes
    them: decades (and zero) only, other ticks unlabelled."""

    def __call__(self, x, pos=None):
        return power_label(x) if x == 0 or _decade(x) is not None else ""


def power_ticks(axis) -> None:
    """Label a log or symlog ``axis`` (``ax.xaxis``, ``ax.yaxis`` or a colour bar's
    ``cbar.ax.yaxis``) with :class:`PowerFormatter`, minor ticks unlabelled."""
    if not isinstance(axis, mpl.axis.Axis):
        raise OSLError(f"power_ticks: axis must be a matplotlib axis (ax.xaxis, ax.yaxis or "
                       f"cbar.ax.yaxis), got {type(axis).__name__}.")
    axis.set_major_formatter(PowerFormatter())
    axis.set_minor_formatter(mpl.ticker.NullFormatter())


def queue_dir() -> Path:
    """Where published figures wait for their SVG and PDF copies."""
    return paths.figures_dir() / ".queue"


class _InlineSVG:
    """An SVG document for the notebook and the page, shown as-is (IPython's ``SVG`` parses
    the whole document with minidom to find the ``<svg>`` element: tenths of a second for a
    figure with many points)."""

    def __init__(self, data: bytes):
        text = data.decode("utf-8")
        self.data = text[text.find("<svg"):]

    def _repr_svg_(self) -> str:
        return self.data


class _FigureRef:
    """A deferred figure on the page: the SVG copy the renderer writes, linked to itself for
    zooming (the site serves the copies from ``_static/figures``; every executed page is one
    folder below the site's root)."""

    def __init__(self, label: str, alt: str):
        self.label, self.alt = label, alt

    def _repr_html_(self) -> str:
        from html import escape
        src = f"../_static/figures/{self.label}.svg"
        return (f'<a class="osl-figure-zoom reference external image-reference" href="{src}">'
                f'<img alt="{escape(self.alt, quote=True)}" src="{src}" /></a>')


def _alt_text(fig: plt.Figure) -> str:
    """A short description for screen readers: the panels' titles and the axes' labels."""
    parts = []
    for text in [getattr(fig, "_suptitle", None), getattr(fig, "_supxlabel", None),
                 getattr(fig, "_supylabel", None)]:
        if text is not None and text.get_text().strip():
            parts.append(text.get_text().strip())
    for ax in fig.axes:
        for t in (ax.get_title(), ax.get_xlabel(), ax.get_ylabel()):
            if t.strip() and t.strip() not in parts:
                parts.append(t.strip())
    alt = "; ".join(parts[:10])
    return "Figure: " + (alt if len(alt) <= 300 else alt[:297] + "...")


def deferring() -> bool:
    """Whether :func:`publish` leaves the SVG to the renderer (``$OSL_DEFER_FIGURES``)."""
    return os.environ.get(DEFER_ENV, "") not in ("", "0")


def _write_atomic(folder: Path, label: str, suffix: str, data: bytes) -> Path:
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{label}.", suffix=".part")
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    target = folder / f"{label}{suffix}"
    os.replace(tmp, target)
    return target


def publish(fig: plt.Figure, label: str) -> Path:
    """Render ``fig`` once as SVG, glue it under ``label`` (the page shows the vector figure) and
    keep it as the citation copy ``<label>.svg``; queue the figure for its PDF and CSV; close it.
    With ``$OSL_DEFER_FIGURES`` set, queue it for the SVG too and glue a reference to the copy.

    Returns the path of the SVG.
    """
    if not LABEL.match(label):
        raise OSLError(f"Figure label {label!r} must look like 'fig-01-what-it-shows' (a "
                       "chapter number or a book page's short name, then what it shows).")
    import time

    t0 = time.perf_counter()
    queue = queue_dir()
    queue.mkdir(parents=True, exist_ok=True)
    # Lay out once, then drop the layout engine: `bbox_inches="tight"` would redraw the figure
    # for every format, and `savefig` draws a figure that has an engine twice (a first pass,
    # without rendering, to settle the layout), even the placeholder left by
    # `subplots_adjust`-style fixed layouts or by `set_layout_engine("none")`.
    engine = fig.get_layout_engine()
    if engine is None:
        fig.tight_layout()
    elif engine.__class__.__name__ != "PlaceHolderLayoutEngine":
        engine.execute(fig)
    with plt.rc_context({"figure.autolayout": False, "figure.constrained_layout.use": False}):
        fig.set_layout_engine(None)  # with both off, None removes the engine
    target = paths.figures_dir() / f"{label}.svg"
    if deferring():
        target.unlink(missing_ok=True)  # never a stale copy from an earlier run
        glue(label, _FigureRef(label, _alt_text(fig)), display=False)
        suffix = DEFERRED + ".pickle"
    else:
        # One drawing serves the page and the citation: the SVG is glued (whatever backend
        # the kernel runs) and written as the figure's SVG copy.
        buf = io.BytesIO()
        fig.savefig(buf, format="svg", metadata={"Date": None})
        svg = buf.getvalue()
        # After drawing, every tick exists: the text check no longer creates them. The
        # clipping check runs with the PDF copy, off the chapter's critical path.
        check_text_size(fig, label)
        glue(label, _InlineSVG(svg), display=False)
        _write_atomic(target.parent, label, ".svg", svg)
        suffix = ".pickle"
    _write_atomic(queue, label, suffix, pickle.dumps(fig, protocol=pickle.HIGHEST_PROTOCOL))
    plt.close(fig)
    PUBLISH_SECONDS[0] += time.perf_counter() - t0
    return target


def check_layout(fig: plt.Figure, label: str = "figure") -> None:
    """Refuse a figure that would be clipped or unreadable on the page: both checks of
    :func:`check_clipping` and :func:`check_text_size`."""
    check_text_size(fig, label)
    check_clipping(fig, label)


def check_clipping(fig: plt.Figure, label: str = "figure", *, tight=None) -> None:
    """Refuse a figure whose drawn elements (labels, tick labels, legends, titles) reach outside
    the canvas, so that the saved files would cut them. Measuring every text's extent costs a
    few tenths of a second, so :func:`render_one` runs it, off the chapter's critical path, and
    passes the figure's ``tight`` box (inches) measured while a copy was being drawn."""
    if tight is None:
        tight = fig.get_tightbbox(fig.canvas.get_renderer())
    w, h = fig.get_figwidth(), fig.get_figheight()
    eps = 0.02  # inches
    if tight.x0 < -eps or tight.y0 < -eps or tight.x1 > w + eps or tight.y1 > h + eps:
        raise OSLError(
            f"{label}: something drawn lies outside the canvas (tight box {tight.x0:.2f}..."
            f"{tight.x1:.2f} x {tight.y0:.2f}...{tight.y1:.2f} in, canvas {w:.2f} x {h:.2f} in) "
            "and would be clipped: call fig.tight_layout(), move the legend inside, or enlarge "
            "the figure.")


def check_text_size(fig: plt.Figure, label: str = "figure") -> None:
    """Refuse a figure whose smallest text would be under :data:`MIN_TEXT_PX` pixels high once
    the PNG is scaled to the text column (:data:`PAGE_WIDTH_PX`): make the figure narrower,
    use fewer panels per row, or larger fonts."""
    from matplotlib.text import Text
    w = fig.get_figwidth()
    dpi = plt.rcParams["savefig.dpi"]
    dpi = fig.dpi if dpi == "figure" else float(dpi)
    scale = min(1.0, PAGE_WIDTH_PX / (w * dpi))
    sizes = [t.get_fontsize() for t in fig.findobj(Text)
             if t.get_visible() and t.get_text().strip() and t.get_figure() is fig]
    if sizes:
        smallest = min(sizes) * dpi / 72 * scale
        if smallest < MIN_TEXT_PX - 1e-6:
            raise OSLError(
                f"{label}: its smallest text ({min(sizes):.1f} pt) would be {smallest:.1f} px "
                f"high at the page width of {PAGE_WIDTH_PX} px (minimum {MIN_TEXT_PX:g}): "
                f"the figure is {w:.1f} in wide; make it narrower (<= "
                f"{min(sizes) * PAGE_WIDTH_PX / (72 * MIN_TEXT_PX):.1f} in at this font size), "
                "use fewer panels per row, or larger fonts.")


def plotted_data(fig: plt.Figure):
    """Everything a figure plots, as one long table: panel, series, kind, x, y (and value for
    heatmaps). Written next to the SVG and PDF as the figure's CSV."""
    import numpy as np
    import pandas as pd
    from matplotlib.collections import LineCollection, PathCollection, QuadMesh
    from matplotlib.image import AxesImage
    from matplotlib.patches import Rectangle

    rows = []
    for i, ax in enumerate(fig.axes):
        if getattr(ax, "_colorbar", None) is not None:  # a colour bar plots no data
            continue
        panel = ax.get_title() or ax.get_ylabel() or f"panel {i + 1}"
        xl, yl = ax.get_xlabel(), ax.get_ylabel()

        def add(series, kind, xs, ys, values=None):
            for j, (x, y) in enumerate(zip(np.ravel(xs), np.ravel(ys))):
                rows.append({"panel": panel, "x_label": xl, "y_label": yl, "series": series,
                             "kind": kind, "x": x, "y": y,
                             "value": None if values is None else np.ravel(values)[j]})

        def name(artist, kind, j):
            label = str(artist.get_label())
            return f"{kind} {j + 1}" if label.startswith("_") else label

        for j, line in enumerate(ax.get_lines()):
            x, y = line.get_xdata(), line.get_ydata()
            if not len(np.atleast_1d(x)):
                continue
            # Reference lines (axhline, axvline) live partly in axes coordinates.
            kind = "line" if line.get_transform() == ax.transData else "guide"
            add(name(line, kind, j), kind, x, y)
        for j, coll in enumerate(ax.collections):
            label = name(coll, "series", j)
            if isinstance(coll, PathCollection):
                off = coll.get_offsets()
                if len(off):
                    add(label, "points", off[:, 0], off[:, 1])
            elif isinstance(coll, QuadMesh):
                arr = np.asarray(coll.get_array()).reshape(-1)
                ny, nx = coll.get_coordinates().shape[:2]
                yy, xx = np.meshgrid(np.arange(ny - 1) + 0.5, np.arange(nx - 1) + 0.5,
                                     indexing="ij")
                if arr.size == xx.size:
                    add(label, "cell", xx, yy, arr)
            elif isinstance(coll, LineCollection):
                for seg in coll.get_segments():
                    if len(seg):
                        add(label, "segment", seg[:, 0], seg[:, 1])
            elif coll.get_transform() == ax.transData:  # bands (fill_between) and polygons
                for path in coll.get_paths():
                    v = path.vertices
                    if len(v):
                        add(label, "area", v[:, 0], v[:, 1])
        for im in ax.images:
            if isinstance(im, AxesImage):
                arr = np.asarray(im.get_array())
                yy, xx = np.indices(arr.shape[:2])
                add(im.get_label(), "cell", xx, yy, arr[..., 0] if arr.ndim == 3 else arr)
        for patch in ax.patches:
            if isinstance(patch, Rectangle) and patch.get_width() and patch.get_height():
                add(patch.get_label(), "bar", [patch.get_x() + patch.get_width() / 2],
                    [patch.get_y() + patch.get_height()])
    return pd.DataFrame(rows, columns=["panel", "x_label", "y_label", "series", "kind", "x",
                                       "y", "value"])


def render_one(pickled: Path) -> Path:
    """Check one queued figure for clipping, write its PDF and the CSV of its plotted data next
    to its SVG (and the SVG itself, with the text-size check, for a deferred figure), then drop
    it from the queue. Files are written under temporary names and renamed, so none is ever
    partial; a figure that fails a check leaves no SVG behind."""
    import matplotlib
    matplotlib.use("Agg")
    with plt.rc_context(THEME):  # what saving reads (ids' hash salt, resolution, compression)
        return _render(pickled)


_METADATA = {"svg": {"Date": None}, "pdf": {"CreationDate": None}}


def _drawn_box(texts, dpi, extents):
    """The box (inches) around the texts drawn (SVG pixels, 72 per inch) and the ``extents``
    of the axes and legend frames (pixels at ``dpi``)."""
    from matplotlib.transforms import Bbox
    boxes = [Bbox([[x0 / 72, y0 / 72], [x1 / 72, y1 / 72]]) for x0, y0, x1, y1 in texts]
    boxes += [Bbox([[x0 / dpi, y0 / dpi], [x1 / dpi, y1 / dpi]]) for x0, y0, x1, y1 in extents]
    return Bbox.union(boxes)


def _render(pickled: Path) -> Path:
    with open(pickled, "rb") as fh:
        fig = pickle.load(fh)
    out = pickled.parent.parent
    label = pickled.name.split(".")[0]
    deferred = pickled.name.endswith(DEFERRED + ".pickle")
    # The clipping check needs the box of everything drawn. One drawing for both files
    # records the box of every text it draws; the axes and the legends' frames are read as
    # they are drawn (listener below). That box is what matplotlib's tight box measures, but
    # without laying every text and tick out once more (a quarter of a figure's drawing
    # time); a figure saved by `savefig` is measured that way, right after it has drawn.
    texts, drawn, tight = [], [], []

    def on_draw(event):
        if drawn or tight:
            return
        if not deferred:
            tight.append(fig.get_tightbbox(event.renderer))
            return
        legends = list(fig.legends) + [ax.get_legend() for ax in fig.axes]
        drawn.append((fig.dpi, [ax.bbox.extents for ax in fig.axes if ax.get_visible()]
                      + [lg.legendPatch.get_window_extent(event.renderer).extents
                         for lg in legends if lg is not None and lg.get_visible()]))

    cid = fig.canvas.mpl_connect("draw_event", on_draw)
    copies = {}
    try:
        if deferred:  # both files from one drawing (see osl.drawing)
            from .drawing import svg_and_pdf
            copies["svg"], copies["pdf"] = svg_and_pdf(fig, svg_metadata=_METADATA["svg"],
                                                       pdf_metadata=_METADATA["pdf"],
                                                       text_boxes=texts)
        else:
            buf = io.BytesIO()
            fig.savefig(buf, format="pdf", metadata=_METADATA["pdf"])
            copies["pdf"] = buf.getvalue()
        fig.canvas.mpl_disconnect(cid)
        if deferred:
            check_text_size(fig, label)  # after drawing, every tick exists
        if texts and drawn:
            tight.append(_drawn_box(texts, *drawn[0]))
        check_clipping(fig, label, tight=tight[0] if tight else None)
    except OSLError:
        (out / f"{label}.svg").unlink(missing_ok=True)  # no citation copy of a clipped figure
        raise
    finally:
        fig.canvas.mpl_disconnect(cid)
    for ext, data in copies.items():
        _write_atomic(out, label, f".{ext}", data)
    _write_atomic(out, label, ".csv", plotted_data(fig).to_csv(index=False).encode())
    plt.close(fig)
    pickled.unlink()
    return out / f"{label}.svg"


def render_queue(folder: Path | None = None) -> list[Path]:
    """Render every queued figure (see :func:`render_one`); returns the SVG paths."""
    queue = queue_dir() if folder is None else Path(folder)
    return [render_one(p) for p in sorted(queue.glob("*.pickle"))] if queue.is_dir() else []


def plot_band(ax, x, mean, lower, upper, *, color="C0", label=None) -> None:
    """A curve with its interval band (the book's one style for fitted curves)."""
    ax.fill_between(x, lower, upper, color=color, alpha=0.2, lw=0)
    ax.plot(x, mean, color=color, label=label)


def plot_prediction(ax, predictor, boot, models, target: str, train, *, grid, level: float = 0.8,
                    cutoff_1e21: float | None = None, annotate: bool = False) -> None:
    """Draw one fitted link on the equivalent-compute axis: band, curve, training and held-out
    models (``train`` is a boolean mask over ``models``; other rows with a target are held out).
    """
    import numpy as np

    band = boot.curve_band(grid, level)
    plot_band(ax, grid, band["mean"], band["lower"], band["upper"])
    has = models[target].notna().to_numpy()
    m = models[has]
    tr = np.asarray(train, bool)[has]
    x = predictor.equivalent_log_flops(m)
    ax.scatter(x[tr], m.loc[tr, target], s=14, color="0.35", label="training")
    ax.scatter(x[~tr], m.loc[~tr, target], s=24, color="C1", marker="D", label="held out")
    if annotate:
        for name, xv, yv in zip(m.index[~tr], x[~tr], m.loc[~tr, target]):
            ax.annotate(name, (xv, yv), fontsize=7, xytext=(-4, 4), textcoords="offset points",
                        ha="right")
    if cutoff_1e21 is not None:
        ax.axvline(np.log10(cutoff_1e21 * 1e21), color="0.5", ls=":", lw=1)


def plot_crossings(ax, table, *, offset: float = 0.0, color=None, label=None,
                   clip: float = 3.0) -> None:
    """Predicted crossing compute against the cutoff (a :func:`osl.predict.backtest` table
    without its ``all`` row), with interval bars clipped at ``clip`` orders of magnitude."""
    import numpy as np

    xs = np.log10(table["cutoff_1e21"] * 1e21) + offset
    ax.errorbar(xs, table["crossing"],
                yerr=[(table["crossing"] - table["lower"]).clip(0, clip),
                      (table["upper"] - table["crossing"]).clip(0, clip)],
                fmt="o-", ms=4, lw=1, capsize=2, color=color, label=label)


def main(argv=None) -> int:
    import argparse
    parser = argparse.ArgumentParser(prog="python -m osl.figures",
                                     description="Write the SVG and PDF copies of the figures "
                                                 "that chapters have published.")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("render", help="render the queued figures into _build/figures")
    parser.parse_args(argv)
    done = render_queue()
    print(f"{len(done)} figure(s) written to {paths.figures_dir()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
