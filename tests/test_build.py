"""`python -m osl.build book` runs the executor and the strict Sphinx pass side by side: the
Sphinx extension holds each notebook page until the executor's marker says it is cached, and
stops the build, naming the page and the error, when the executor says it failed."""
from __future__ import annotations

import json
import os
import threading
import time
from types import SimpleNamespace

import pytest
from sphinx.errors import ExtensionError

from osl import build
from osl.build import MARKERS_ENV, marker
from osl.sphinxext import _await_execution


@pytest.fixture
def markers(tmp_path, monkeypatch):
    (tmp_path / "expected.json").write_text(json.dumps(["notebooks/01_x", "book/own_models"]))
    monkeypatch.setenv(MARKERS_ENV, str(tmp_path))
    return tmp_path


def test_a_page_waits_for_its_execution_marker(markers):
    app = SimpleNamespace()

    def finish():
        time.sleep(0.3)
        marker(markers, "notebooks/01_x", True).write_text("")

    threading.Thread(target=finish).start()
    t = time.monotonic()
    _await_execution(app, "notebooks/01_x", [""])
    assert time.monotonic() - t >= 0.25


def test_a_failed_execution_stops_the_build_with_its_error(markers):
    marker(markers, "book/own_models", False).write_text("NameError: name 'x' is not defined")
    with pytest.raises(ExtensionError, match="book/own_models failed to execute: NameError"):
        _await_execution(SimpleNamespace(), "book/own_models", [""])


def test_prose_pages_and_ordinary_builds_do_not_wait(markers, monkeypatch):
    t = time.monotonic()
    _await_execution(SimpleNamespace(), "book/method", [""])  # not executed: no wait
    monkeypatch.delenv(MARKERS_ENV)
    _await_execution(SimpleNamespace(), "notebooks/01_x", [""])  # a plain jupyter-book build
    assert time.monotonic() - t < 0.2


def test_markers_name_the_page_and_the_outcome(tmp_path):
    assert marker(tmp_path, "notebooks/02_y", True).name == "notebooks__02_y.done"
    assert marker(tmp_path, "notebooks/02_y", False).name == "notebooks__02_y.failed"


def test_book_refuses_an_unknown_chapter_before_building(capsys):
    from osl.build import main
    assert main(["book", "99_no_such_chapter"]) == 2
    err = capsys.readouterr().err
    assert "No chapter(s) ['99_no_such_chapter']" in err and "01_capability_space" in err


def test_chapter_refuses_an_unknown_chapter_before_touching_the_build(capsys):
    from osl import paths
    from osl.build import main
    before = set((paths.PROJECT_ROOT / "_build").glob("chapters/*"))
    assert main(["chapter", "99_no_such_chapter"]) == 2
    err = capsys.readouterr().err
    assert "No chapter '99_no_such_chapter'" in err and "09_jumps" in err
    assert set((paths.PROJECT_ROOT / "_build").glob("chapters/*")) == before


def test_jupyter_book_wrapper_keeps_the_commands_exit_status(tmp_path):
    """The build runs jupyter-book through a wrapper that skips the interpreter's tear-down: a
    strict build with a warning still fails (1), a usage error still says so (2)."""
    import subprocess
    import sys
    (tmp_path / "index.md").write_text("# T\n\nA broken reference {ref}`nope`.\n")
    (tmp_path / "_toc.yml").write_text("format: jb-book\nroot: index\n")
    (tmp_path / "_config.yml").write_text("title: t\nexecute:\n  execute_notebooks: 'off'\n")
    run = [sys.executable, "-c", "from osl.build import jupyter_book; jupyter_book()", "build",
           "--all", "-W", "-n", "--keep-going"]
    broken = subprocess.run(run + [str(tmp_path)], capture_output=True, text=True)
    assert broken.returncode == 1 and "undefined label: 'nope'" in broken.stdout + broken.stderr
    usage = subprocess.run(run + [str(tmp_path / "missing")], capture_output=True, text=True)
    assert usage.returncode == 2 and "does not exist" in usage.stderr


@pytest.mark.skipif(not hasattr(os, "nice"), reason="needs os.nice")
def test_only_a_one_chapter_build_lowers_the_sphinx_pass(monkeypatch):
    import subprocess
    import sys
    monkeypatch.delenv("OSL_CHAPTER", raising=False)
    assert build._sphinx_priority(["01_capability_space"]) is None  # the whole book: no
    monkeypatch.setenv("OSL_CHAPTER", "01_capability_space")
    assert build._sphinx_priority(None) is None
    lower = build._sphinx_priority(["01_capability_space"])
    out = subprocess.run([sys.executable, "-c", "import os; print(os.nice(0))"],
                         preexec_fn=lower, capture_output=True, text=True, check=True)
    assert int(out.stdout) == os.nice(0) + build.SPHINX_NICE


def test_the_sphinx_pass_loads_neither_pandas_nor_the_plotting_code():
    """The Sphinx pass of the book's build imports the extension and the results reader only:
    pandas, numpy and matplotlib stay out of it (a second of CPU in a one-chapter build)."""
    import subprocess
    import sys
    code = ("import sys, osl.sphinxext, osl.results, osl.renderer, osl.build; "
            "print(sorted(m for m in ('pandas', 'numpy', 'matplotlib') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"


def test_a_figure_that_failed_stops_the_build_at_its_end(markers):
    from osl.sphinxext import _FigureRenderer
    marker(markers, build.FIGURES_PAGE, False).write_text("fig-01-x: something drawn lies "
                                                           "outside the canvas")
    with pytest.raises(ExtensionError, match="A figure failed its checks: fig-01-x"):
        _FigureRenderer().finish(SimpleNamespace(), None)
    marker(markers, build.FIGURES_PAGE, True).write_text("")
    _FigureRenderer().finish(SimpleNamespace(), None)  # done: returns at once
