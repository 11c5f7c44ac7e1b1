"""Reporting (paper vs ours, results files) and the figure helper."""
from __future__ import annotations

import json

import matplotlib.pyplot as plt
import pytest

from osl import figures, report
from osl.errors import OSLError
from osl.reported import PAPER


@pytest.fixture
def build(tmp_path, monkeypatch):
    monkeypatch.setenv("OSL_BUILD_DIR", str(tmp_path / "_build"))
    return tmp_path / "_build"


def test_verdict_rule():
    assert report.verdict(0.80, 0.80, 0.02) == report.REPRODUCED
    assert report.verdict(0.83, 0.80, 0.02) == report.PARTLY
    assert report.verdict(0.90, 0.80, 0.02) == report.NOT_REPRODUCED
    assert report.verdict(0.90, None, None) == report.NO_VERDICT
    assert report.overall_verdict([report.REPRODUCED, report.NO_VERDICT]) == report.REPRODUCED
    # a chapter's verdict is the worst of its rows; facts and unreferenced numbers are not judged
    assert report.overall_verdict([report.REPRODUCED, report.NOT_REPRODUCED]) == report.NOT_REPRODUCED
    assert report.overall_verdict([report.REPRODUCED, report.PARTLY]) == report.PARTLY
    assert report.overall_verdict([report.NO_VERDICT, report.MATCHES]) == report.NO_VERDICT
    assert report.overall_verdict([report.NO_VERDICT]) == report.NO_VERDICT


def test_reference_kinds():
    assert report.verdict(0.9, 7 / 8, None, "criterion", ">=") == report.REPRODUCED
    assert report.verdict(0.75, 7 / 8, None, "criterion", ">=") == report.NOT_REPRODUCED
    assert report.verdict(0.06, 0.05, None, "criterion", "<=") == report.NOT_REPRODUCED
    assert report.verdict(77, 77, 0, "fact") == report.MATCHES
    assert report.verdict(76, 77, 0, "fact") == report.DIFFERS
    assert report.verdict(0.0105, 0.0100, 0.001, "official") == report.REPRODUCED
    assert report.verdict(0.9, 0.8, None, "question", ">=") == report.MET
    assert report.verdict(0.7, 0.8, None, "question", ">=") == report.NOT_MET
    assert report.overall_verdict([report.MET, report.REPRODUCED]) == report.REPRODUCED
    assert report.overall_verdict([report.MET, report.NOT_MET]) == report.NOT_MET
    res = [{"chapter": "08_x", "numbers": {
        "a": {"value": 1.0, "paper": 0.5, "tolerance": None, "description": "a",
              "kind": "question", "op": ">="},
        "b": {"value": 0.0, "paper": 0.5, "tolerance": None, "description": "b",
              "kind": "question", "op": ">="}}}]
    row = report.verdict_table(res).iloc[0]
    assert row["misses"] == "b" and row["reproduced"] == 1 and row["verdict"] == report.NOT_MET
    from osl.reported import PaperValue
    with pytest.raises(ValueError, match="kind="):
        PaperValue(1.0, 0.1, "x", kind="made-up")
    with pytest.raises(ValueError, match="op="):
        PaperValue(1.0, None, "x", kind="criterion")


def test_report_uses_paper_table_and_writes_results(build):
    rep = report.Report("01_capability_space", title="T", section="Sec. 3")
    rep.add("pc1_explained_variance", 0.81)
    rep.add("pc1_3_explained_variance", 0.90)
    rep.add("extra", 1.5, description="something of ours")
    table = rep.table()
    assert table.loc[PAPER["01_capability_space"]["pc1_explained_variance"].description,
                     "verdict"] == report.REPRODUCED
    assert rep.verdict == report.NOT_REPRODUCED  # worst row: 0.90 vs 0.97 +- 0.02
    path = rep.write()
    doc = json.loads(path.read_text())
    assert path == build / "results" / "01_capability_space.json"
    assert doc["chapter"] == "01_capability_space"
    assert set(doc["numbers"]["extra"]) == {"value", "paper", "tolerance", "description",
                                            "kind", "op"}
    assert doc["numbers"]["pc1_explained_variance"]["paper"] == 0.80
    assert doc["numbers"]["extra"]["paper"] is None
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary file left
    rows = report.verdict_table(report.load_results())
    assert rows.loc[0, "compared"] == 2 and rows.loc[0, "reproduced"] == 1
    assert rows.loc[0, "misses"] == "pc1_3_explained_variance"
    detail = report.verdict_rows(report.load_results())
    assert list(detail["kind"]) == ["paper", "paper"]


def test_number_without_description_is_an_error():
    with pytest.raises(OSLError, match="description"):
        report.Report("99_none").add("mystery", 1.0)


def test_publish_writes_the_svg_and_render_writes_pdf_and_csv(build):
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1], label="line")
    ax.set_xlabel("log10 FLOPs")
    out = figures.publish(fig, "fig-01-test-line")
    assert not plt.get_fignums()  # closed
    assert out == build / "figures" / "fig-01-test-line.svg"
    assert out.read_text().lstrip().startswith("<?xml") and "log10 FLOPs" in out.read_text()
    assert not out.with_suffix(".pdf").exists()  # the PDF is written outside the kernel...
    assert (figures.queue_dir() / "fig-01-test-line.pickle").exists()
    assert figures.render_queue() == [out]  # ...by the renderer
    assert out.with_suffix(".pdf").read_bytes().startswith(b"%PDF")
    assert "line" in out.with_suffix(".csv").read_text()
    assert not list(figures.queue_dir().iterdir())  # nothing left queued, no partial files
    assert sorted(p.name for p in out.parent.iterdir() if p.is_file()) == [
        "fig-01-test-line.csv", "fig-01-test-line.pdf", "fig-01-test-line.svg"]


def test_deferred_publish_leaves_the_drawing_to_the_renderer(build, monkeypatch):
    """In the book's build the kernel only queues the figure; the renderer writes the same SVG
    that publish writes itself, and the page shows a link to that copy."""
    import re

    def make():
        fig, ax = plt.subplots(figsize=(5, 3))
        ax.plot([0, 1], [0, 1], label="line")
        ax.set_xlabel("log10 FLOPs")
        ax.set_title("a panel")
        return fig

    with plt.rc_context():
        figures.set_theme()  # the book's look, in which chapters draw and the renderer saves
        direct = figures.publish(make(), "fig-01-direct").read_text()
        figures.render_queue()
        monkeypatch.setenv(figures.DEFER_ENV, "1")
        assert figures.deferring()
        out = figures.publish(make(), "fig-01-deferred")
    assert not plt.get_fignums()
    assert not out.exists()  # nothing drawn in the kernel
    assert (figures.queue_dir() / "fig-01-deferred.deferred.pickle").exists()
    assert figures.render_queue() == [out]  # drawn outside the theme's context: same result
    # The same drawing, whichever process made it (only the label in the ids differs).
    strip = lambda text: re.sub(r"fig-01-\w+", "", text)  # noqa: E731
    assert strip(out.read_text()) == strip(direct)
    assert out.with_suffix(".pdf").exists() and out.with_suffix(".csv").exists()
    ref = figures._FigureRef("fig-01-deferred", figures._alt_text(make()))
    html = ref._repr_html_()
    assert 'src="../_static/figures/fig-01-deferred.svg"' in html
    assert "log10 FLOPs" in html and "a panel" in html  # alt text for screen readers
    plt.close("all")


def test_deferred_render_refuses_tiny_text(build, monkeypatch):
    monkeypatch.setenv(figures.DEFER_ENV, "1")
    fig, axes = plt.subplots(1, 6, figsize=(16, 3))
    for a in axes:
        a.set_title("panel", fontsize=7)
    figures.publish(fig, "fig-01-tiny")  # queued: the check runs where the drawing happens
    with pytest.raises(OSLError, match="fig-01-tiny.*narrower"):
        figures.render_queue()
    assert not (build / "figures" / "fig-01-tiny.svg").exists()


def test_publish_rejects_bad_labels(build):
    fig, _ = plt.subplots()
    with pytest.raises(OSLError, match="fig-01-what"):
        figures.publish(fig, "Scree Plot")
    plt.close(fig)


def test_expected_verdicts_are_known_words_and_deviations_are_explained():
    """Every paper value's expected verdict is one the report can give; a deviation from
    "reproduced" carries a description (the chapter explains it)."""
    from osl.report import NOT_REPRODUCED, PARTLY, REPRODUCED
    for chapter, values in PAPER.items():
        for key, ref in values.items():
            words = (report.MET, report.NOT_MET) if ref.kind == "question" else (
                REPRODUCED, PARTLY, NOT_REPRODUCED)
            assert ref.expected in words, (chapter, key)


def test_layout_check_refuses_clipped_and_tiny_text():
    """A label pushed off the canvas, or text that would be under 9 px at page width, is an
    error naming the figure and the fix; a figure of sensible size passes."""
    ok, ax = plt.subplots(figsize=(6, 3.5))
    ax.plot([0, 1], [0, 1])
    ax.set_xlabel("log10 FLOPs")
    ok.tight_layout()
    figures.check_layout(ok, "fig-01-ok")
    clipped, ax = plt.subplots(figsize=(6, 3.5))
    ax.set_ylabel("a long label that is clipped")
    clipped.subplots_adjust(left=0.0)
    with pytest.raises(OSLError, match="fig-01-clipped.*outside the canvas"):
        figures.check_layout(clipped, "fig-01-clipped")
    wide, axes = plt.subplots(1, 6, figsize=(16, 3))
    for a in axes:
        a.set_title("panel", fontsize=7)
    wide.tight_layout()
    with pytest.raises(OSLError, match="fig-01-wide.*narrower"):
        figures.check_layout(wide, "fig-01-wide")
    plt.close("all")


def test_render_refuses_a_clipped_figure(build):
    fig, ax = plt.subplots(figsize=(6, 3.5))
    fig.text(0.97, 0.5, "a note that runs off the right edge")  # no layout pass moves it
    figures.publish(fig, "fig-01-clipped")  # text size is fine: queued
    with pytest.raises(OSLError, match="fig-01-clipped.*outside the canvas"):
        figures.render_queue()
    assert not (build / "figures" / "fig-01-clipped.svg").exists()


def test_plotted_data_lists_lines_points_bars_and_cells():
    import numpy as np
    import pandas as pd
    fig, (a, b) = plt.subplots(1, 2, figsize=(7, 3))
    a.plot([1, 2, 3], [4, 5, 6], label="curve")
    a.scatter([1, 2], [7, 8], label="models")
    a.bar([1], [2.5])
    figures.heatmap(b, pd.DataFrame(np.arange(6.0).reshape(2, 3), columns=list("xyz")))
    df = figures.plotted_data(fig)
    plt.close(fig)
    assert df.loc[df.series == "curve", "y"].tolist() == [4, 5, 6]
    assert df.loc[df.series == "models", "y"].tolist() == [7, 8]
    assert df.loc[df.kind == "bar", "y"].tolist() == [2.5]
    assert sorted(df.loc[df.kind == "cell", "value"]) == [0, 1, 2, 3, 4, 5]


def test_power_labels_write_powers_of_ten_without_mathtext():
    import numpy as np
    assert [figures.power_label(x) for x in (1e-5, 1e-3, -0.1, 1, 100, 0)] == [
        "10\u207b\u2075", "10\u207b\u00b3", "\u221210\u207b\u00b9", "10\u2070",
        "10\u00b2", "0"]
    assert figures.power_label(0.5) == "0.5" and figures.power_label(-2.5) == "\u22122.5"
    fmt = figures.PowerFormatter()
    assert [fmt(x) for x in (1e-3, 2e-3, 0.0, -1e-2)] == ["10\u207b\u00b3", "", "0",
                                                           "\u221210\u207b\u00b2"]
    fig, ax = plt.subplots()
    ax.plot([1, 2, 3], [1e-4, 1e-2, 1.0])
    ax.set_yscale("log")
    figures.power_ticks(ax.yaxis)
    fig.canvas.draw()
    labels = [t.get_text() for t in ax.get_yticklabels() if t.get_text()]
    assert labels and not any("$" in t for t in labels)
    assert "10\u207b\u00b2" in labels
    minor = ax.yaxis.get_minor_formatter()
    assert minor(np.float64(2e-3)) == ""
    import pytest
    from osl.errors import OSLError
    for bad in ("1e-3", None, float("nan"), True):
        with pytest.raises(OSLError, match="power_label: x must be"):
            figures.power_label(bad)
    with pytest.raises(OSLError, match="power_ticks: axis must be a matplotlib axis"):
        figures.power_ticks(ax)
    plt.close(fig)


def test_family_palette_is_stable_and_distinct():
    p = figures.family_palette(["b", "a", "c", "a"])
    assert list(p) == ["a", "b", "c"] and len(set(p.values())) == 3
    assert p == figures.family_palette(["c", "b", "a"])


def test_shown_table_has_reference_kind_rule_and_verdict():
    rep = report.Report("01_capability_space")
    rep.add("n_models", 77)
    rep.add("pc1_explained_variance", 0.81)
    html = rep.shown().to_html()
    for text in ("data fact (no verdict)", "paper's printed number", "within ±0.02", "matches",
                 "reproduced", ">0.81<", ">77<"):
        assert text in html, text


def test_fixed_layout_places_the_axes_and_refuses_bad_fractions():
    fig, axes = plt.subplots(1, 2, figsize=(6, 3))
    figures.fixed_layout(fig, 0.1, 0.95, 0.15, 0.9, wspace=0.3)
    assert fig.subplotpars.left == 0.1 and fig.subplotpars.top == 0.9
    assert fig.subplotpars.wspace == 0.3
    x0 = axes[0].get_position().x0
    fig.canvas.draw()  # the placeholder engine leaves the hand placement alone
    assert axes[0].get_position().x0 == x0
    with pytest.raises(OSLError, match="left=1.2 must be a figure fraction"):
        figures.fixed_layout(fig, 1.2, 0.95, 0.15, 0.9)
    with pytest.raises(OSLError, match="left < right"):
        figures.fixed_layout(fig, 0.9, 0.5, 0.15, 0.9)
    plt.close(fig)

