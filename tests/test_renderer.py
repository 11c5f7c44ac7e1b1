"""The figure renderer: queued figures drawn in worker processes, failures named."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from osl import figures, renderer  # noqa: E402
from osl.errors import OSLError  # noqa: E402


@pytest.fixture
def build(tmp_path, monkeypatch):
    monkeypatch.setenv("OSL_BUILD_DIR", str(tmp_path / "_build"))
    monkeypatch.setenv(figures.DEFER_ENV, "1")  # as in the book's build: nothing drawn here
    return tmp_path / "_build"


def _line(label: str, clipped: bool = False) -> None:
    fig, ax = plt.subplots(figsize=(5, 3))
    ax.plot([0, 1, 2], [0, 1, 4], label="growth")
    ax.set_xlabel("log10 FLOPs")
    if clipped:
        fig.text(0.97, 0.5, "a note that runs off the right edge")
    figures.publish(fig, label)


def test_workers_draw_every_queued_figure_and_empty_the_queue(build):
    _line("fig-01-first")
    _line("fig-01-second")
    assert [p.name for p in renderer.queued()] == ["fig-01-first.deferred.pickle",
                                                   "fig-01-second.deferred.pickle"]
    r = renderer.Renderer(workers=2)
    assert r.poll() == 2 and r.poll() == 0  # each figure is submitted once
    _line("fig-01-third")  # published while the first two are drawn
    done = r.finish()
    assert sorted(p.name for p in done) == ["fig-01-first.svg", "fig-01-second.svg",
                                            "fig-01-third.svg"]
    for p in done:
        assert p.read_text().lstrip().startswith("<?xml") and "log10 FLOPs" in p.read_text()
        assert p.with_suffix(".pdf").read_bytes().startswith(b"%PDF")
        assert "growth" in p.with_suffix(".csv").read_text()
    assert renderer.queued() == []
    assert r.finish() == []  # nothing left: nothing to do


def test_a_figure_that_fails_its_check_is_named_and_the_others_are_written(build):
    _line("fig-01-fine")
    _line("fig-01-clipped", clipped=True)
    with pytest.raises(OSLError, match="fig-01-clipped.*outside the canvas"):
        renderer.Renderer(workers=1).finish()
    assert (build / "figures" / "fig-01-fine.pdf").exists()
    assert not (build / "figures" / "fig-01-clipped.svg").exists()


def test_renderer_refuses_a_bad_number_of_workers():
    for workers in (0, -2, 1.5, True):
        with pytest.raises(OSLError, match="workers must be a whole number"):
            renderer.Renderer(workers=workers)
    for nice in (-1, 20, 2.5, True):
        with pytest.raises(OSLError, match="nice must be a whole number from 0 to 19"):
            renderer.Renderer(nice=nice)
