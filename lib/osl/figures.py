"""One look for every figure, and one way to save it.

:func:`publish` renders a figure once as the PNG the page shows, glues it under its label (shown
with a ``{glue:figure}`` directive that carries the caption and the ``:name:`` used by
``{numref}``), and queues the figure itself (pickled) for its citation copies. :func:`render_queue`
writes those copies, ``_build/figures/<label>.{svg,pdf}``, outside the chapter's kernel: the
book's Sphinx extension runs it in a worker process while the next chapter executes, so the SVG
and PDF cost nothing on the critical path. ``python -m osl.figures render`` does it by hand.
"""
from __future__ import annotations

import io
import os
import pickle
import re
import sys
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import seaborn as sns
from IPython.display import Image

from . import paths
from .errors import OSLError
from .report import glue

LABEL = re.compile(r"^fig-(?:\d\d|[a-z]+)-[a-z0-9]+(?:-[a-z0-9]+)*$")  # chapter number or page name

#: Seconds this process has spent in :func:`publish` (read by the benchmark).
PUBLISH_SECONDS = [0.0]


def set_theme() -> None:
    """The book's seaborn theme (call once at the top of a chapter)."""
    sns.set_theme(context="notebook", style="whitegrid", palette="colorblind",
                  rc={"figure.dpi": 110, "savefig.dpi": 120, "figure.figsize": (7.0, 4.2),
                      "axes.titlesize": "medium", "legend.fontsize": "small",
                      "svg.hashsalt": "osl", "pdf.compression": 6})


def family_palette(families) -> dict:
    """A stable colour per family (sorted names -> a large qualitative palette)."""
    names = sorted(set(families))
    colours = sns.color_palette("husl", len(names))
    return dict(zip(names, colours))


def queue_dir() -> Path:
    """Where published figures wait for their SVG and PDF copies."""
    return paths.figures_dir() / ".queue"


def publish(fig: plt.Figure, label: str) -> Path:
    """Glue ``fig`` under ``label`` (as a PNG), queue its SVG/PDF copies, and close it.

    Returns the path the SVG will have once :func:`render_queue` has run.
    """
    if not LABEL.match(label):
        raise OSLError(f"Figure label {label!r} must look like 'fig-01-what-it-shows' (a "
                       "chapter number or a book page's short name, then what it shows).")
    import time
    t0 = time.perf_counter()
    queue = queue_dir()
    queue.mkdir(parents=True, exist_ok=True)
    # Lay out once; `bbox_inches="tight"` would redraw the figure for every format.
    if fig.get_layout_engine() is None:
        fig.tight_layout()
    # Glue a PNG rendered here rather than the figure object, so the page shows the figure
    # whatever matplotlib backend the kernel runs (with Agg, a glued figure is only text).
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    glue(label, Image(data=buf.getvalue(), format="png"), display=False)
    fd, tmp = tempfile.mkstemp(dir=queue, prefix=f".{label}.", suffix=".part")
    with os.fdopen(fd, "wb") as fh:
        pickle.dump(fig, fh, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(tmp, queue / f"{label}.pickle")
    plt.close(fig)
    PUBLISH_SECONDS[0] += time.perf_counter() - t0
    return paths.figures_dir() / f"{label}.svg"


def render_one(pickled: Path) -> Path:
    """Write the SVG and PDF of one queued figure next to the queue, then drop it from the
    queue. Files are written under temporary names and renamed, so none is ever partial."""
    import matplotlib
    matplotlib.use("Agg")
    with open(pickled, "rb") as fh:
        fig = pickle.load(fh)
    out = pickled.parent.parent
    label = pickled.stem
    for ext, meta in (("svg", {"Date": None}), ("pdf", {"CreationDate": None})):
        fd, tmp = tempfile.mkstemp(dir=out, prefix=f".{label}.", suffix=f".{ext}")
        os.close(fd)
        fig.savefig(tmp, format=ext, metadata=meta)
        os.replace(tmp, out / f"{label}.{ext}")
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
