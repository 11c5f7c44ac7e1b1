"""One look for every figure, and one way to save it.

:func:`publish` writes a figure as SVG and PDF under ``_build/figures/<label>`` (for citation),
glues it into the notebook under its label (shown with a ``{glue:figure}`` directive that carries
the caption and the ``:name:`` used by ``{numref}``), and closes it.
"""
from __future__ import annotations

import io
import re
from pathlib import Path

import matplotlib.pyplot as plt
import seaborn as sns
from IPython.display import Image

from . import paths
from .errors import OSLError
from .report import glue

LABEL = re.compile(r"^fig-\d\d-[a-z0-9]+(?:-[a-z0-9]+)*$")


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


def publish(fig: plt.Figure, label: str) -> Path:
    """Save ``fig`` as ``_build/figures/<label>.{svg,pdf}``, glue it under ``label``, close it."""
    if not LABEL.match(label):
        raise OSLError(f"Figure label {label!r} must look like 'fig-01-what-it-shows'.")
    out = paths.figures_dir()
    out.mkdir(parents=True, exist_ok=True)
    # Lay out once; `bbox_inches="tight"` would redraw the figure for every format.
    if fig.get_layout_engine() is None:
        fig.tight_layout()
    fig.savefig(out / f"{label}.svg", metadata={"Date": None})
    fig.savefig(out / f"{label}.pdf", metadata={"CreationDate": None})
    # Glue a PNG rendered here rather than the figure object, so the page shows the figure
    # whatever matplotlib backend the kernel runs (with Agg, a glued figure is only text).
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    glue(label, Image(data=buf.getvalue(), format="png"), display=False)
    plt.close(fig)
    return out / f"{label}.svg"


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
