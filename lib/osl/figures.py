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
                  rc={"figure.dpi": 110, "savefig.dpi": 150, "figure.figsize": (7.0, 4.2),
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
