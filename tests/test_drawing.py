"""One drawing for both files (osl.drawing): the SVG is savefig's byte for byte, the PDF
savefig's up to text positions a fraction of a point apart."""
from __future__ import annotations

import io
import re

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from osl import figures  # noqa: E402
from osl.drawing import svg_and_pdf  # noqa: E402

META = {"svg": {"Date": None}, "pdf": {"CreationDate": None}}
NUMBER = re.compile(rb"-?\d+\.\d+|-?\d+")


def busy_figure(rasterized=False):
    """Most kinds of artist the book draws: lines, points, bands, a heatmap with annotations,
    an image, mathtext, a log axis, rotated labels, a legend and a figure title."""
    rng = np.random.default_rng(0)
    fig, axes = plt.subplots(1, 3, figsize=(9, 3.2))
    x = np.linspace(20, 26, 40)
    axes[0].plot(x, 1 / (1 + np.exp(-(x - 23))), label="sigmoid")
    axes[0].scatter(x, rng.uniform(0, 1, 40), s=12, label="models", rasterized=rasterized)
    axes[0].fill_between(x, 0.1, 0.3, alpha=0.2)
    axes[0].set_xlabel(r"$\log_{10}$ FLOPs")
    axes[0].legend(fontsize=8)
    m = axes[1].pcolormesh(rng.uniform(size=(4, 5)))
    for i in range(4):
        axes[1].text(0.5, i + 0.5, f"{i / 7:.3f}", ha="center", va="center", fontsize=8)
    fig.colorbar(m, ax=axes[1])
    axes[1].set_xticks(np.arange(5) + 0.5, [f"predictor {i}" for i in range(5)], rotation=30,
                       ha="right")
    axes[2].imshow(rng.uniform(size=(8, 8)))
    axes[2].set_yscale("log")
    axes[2].annotate("here", xy=(2, 2), xytext=(5, 5), arrowprops={"arrowstyle": "->"})
    fig.suptitle("a busy figure")
    fig.tight_layout()
    with plt.rc_context({"figure.autolayout": False, "figure.constrained_layout.use": False}):
        fig.set_layout_engine(None)  # as publish leaves it: no engine, no second drawing
    assert fig.get_layout_engine() is None
    return fig


def saved(fig, fmt):
    buf = io.BytesIO()
    fig.savefig(buf, format=fmt, metadata=META[fmt])
    return buf.getvalue()


def test_one_drawing_gives_savefigs_svg_and_its_pdf():
    with plt.rc_context({**figures.THEME, "pdf.compression": 0}):
        for rasterized in (False, True):
            events = []
            fig = busy_figure(rasterized)
            fig.canvas.mpl_connect("draw_event", lambda e: events.append(e))
            svg, pdf = svg_and_pdf(fig,
                                   svg_metadata=META["svg"], pdf_metadata=META["pdf"])
            assert len(events) == 1  # one drawing
            ref = busy_figure(rasterized)
            assert svg == saved(ref, "svg")
            ref_pdf = saved(busy_figure(rasterized), "pdf")
            assert pdf.startswith(b"%PDF") and pdf.rstrip().endswith(b"%%EOF")
            a, b = ref_pdf.splitlines(), pdf.splitlines()
            assert len(a) == len(b)
            assert all(NUMBER.sub(b"#", x) == NUMBER.sub(b"#", y) for x, y in zip(a, b))
            # Where the two differ: text placed from the SVG's text extents, < 1 pt away.
            shifts = [abs(float(u) - float(v)) for x, y in zip(a, b)
                      if x != y and x.endswith((b" cm", b" Td"))
                      for u, v in zip(NUMBER.findall(x), NUMBER.findall(y))]
            assert max(shifts, default=0.0) < 1.0
    plt.close("all")


def test_a_figure_with_a_layout_engine_is_saved_twice():
    with plt.rc_context({**figures.THEME, "pdf.compression": 0}):
        fig, ax = plt.subplots(layout="constrained")
        ax.plot([0, 1], [0, 1])
        svg, pdf = svg_and_pdf(fig, svg_metadata=META["svg"], pdf_metadata=META["pdf"])
        fig2, ax2 = plt.subplots(layout="constrained")
        ax2.plot([0, 1], [0, 1])
        assert svg == saved(fig2, "svg") and pdf == saved(fig2, "pdf")
    plt.close("all")


def test_text_boxes_give_the_tight_box_of_what_is_drawn():
    """The boxes of the texts drawn, with the axes and legend frames, bound the figure as
    matplotlib's tight box does (rotated labels, mathtext, a legend outside the axes, a text
    clipped to its axes), without its second layout pass; the clipping check reads them."""
    with plt.rc_context(figures.THEME):
        for outside in (False, True):
            fig = busy_figure()
            ax = fig.axes[0]
            ax.set_ylabel("a rotated label")
            ax.legend(loc="upper left", bbox_to_anchor=(0.0, -0.25), fontsize=8)
            ax.text(25.5, 0.5, "clipped to the axes: never past them", clip_on=True)
            if outside:
                fig.text(0.9, 0.5, "a note past the right edge", rotation=20)
            texts, seen = [], []
            fig.canvas.mpl_connect("draw_event", lambda e: seen.append(
                (fig.get_tightbbox(e.renderer), fig.dpi,
                 [a.bbox.extents for a in fig.axes]
                 + [a.get_legend().legendPatch.get_window_extent(e.renderer).extents
                    for a in fig.axes if a.get_legend() is not None])))
            svg_and_pdf(fig, svg_metadata=META["svg"], pdf_metadata=META["pdf"],
                        text_boxes=texts)
            tight, dpi, extents = seen[0]
            drawn = figures._drawn_box(texts, dpi, extents)
            assert len(texts) > 30 and all(len(b) == 4 for b in texts)
            np.testing.assert_allclose(drawn.extents, tight.extents, atol=0.04)
            assert (drawn.x1 > fig.get_figwidth() + 0.5) == outside
            plt.close(fig)


def test_bad_inputs_get_the_librarys_errors():
    import pytest

    from osl.errors import ArgumentError
    with pytest.raises(ArgumentError, match="fig must be a matplotlib Figure"):
        svg_and_pdf("not a figure")
    fig, _ = plt.subplots()
    with pytest.raises(ArgumentError, match="pdf_metadata must be a dict"):
        svg_and_pdf(fig, pdf_metadata="2024")
    with pytest.raises(ArgumentError, match="text_boxes must be a list or None"):
        svg_and_pdf(fig, text_boxes=())
    plt.close(fig)
