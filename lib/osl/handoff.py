"""Executed notebooks handed from the book's executor to its Sphinx pass, without jupyter-cache.

``python -m osl.build book`` executes the chapters while the strict Sphinx pass reads the book.
Going through jupyter-cache, each chapter was written into the cache's database by the executor
and found again by the Sphinx pass, which hashes the page's notebook twice to look it up and
reads the stored copy back: tenths of a second after the chapter's last cell, on the build's
critical path, and the executor loaded SQLAlchemy for it. Here the executor writes the executed
notebook next to the page's marker (:func:`write`), and the Sphinx pass (:func:`install`, from
:mod:`osl.sphinxext`) merges it into the page's notebook exactly as jupyter-cache's
``merge_match_into_notebook`` does (:func:`merge`): each code cell replaced by its executed copy,
with the page's cell ids, and the kernel's metadata. A notebook whose code cells do not match the
page's (the page changed) is refused, and the page is executed again as without the executor.

``python -m osl.build execute`` still fills the jupyter-cache, for a plain ``jupyter-book build``.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

__all__: list[str] = []  # used by osl.build and osl.sphinxext only

#: What the Sphinx pass logs for each page whose executed notebook it took.
HANDED_OVER = "Using the executed notebook handed over"

#: Notebook metadata taken from the executed copy (jupyter-cache's default).
NB_META = ("kernelspec", "language_info", "widgets")


def _key(folder, page: str) -> Path:
    return Path(folder) / page.replace("/", "__")


def write(folder, page: str, text: str, seconds: float) -> None:
    """Hand over the executed notebook of ``page`` (its JSON ``text``) and its run time; each
    file appears whole (written under another name, then renamed)."""
    base = _key(folder, page)
    for suffix, data in ((".executed.json", json.dumps({"seconds": seconds})),
                         (".executed.ipynb", text)):
        tmp = base.with_name(base.name + suffix + ".part")
        tmp.write_text(data, encoding="utf-8")
        os.replace(tmp, base.with_name(base.name + suffix))


def read(folder, page: str):
    """``(notebook, seconds, mtime)`` handed over for ``page``, or None."""
    base = _key(folder, page)
    path = base.with_name(base.name + ".executed.ipynb")
    try:
        text = path.read_text(encoding="utf-8")
        seconds = json.loads(base.with_name(base.name + ".executed.json").read_text())["seconds"]
    except (OSError, ValueError, KeyError):
        return None
    # The kernel's own output, already valid: read as nbformat reads a file (lines joined,
    # transient fields dropped), without validating it again.
    from nbformat.v4 import nbjson
    return nbjson.reads(text), seconds, path.stat().st_mtime


def merge(page_nb, executed):
    """The page's notebook with the executed copy's code cells and kernel metadata, as
    jupyter-cache merges a cached notebook; None if the two notebooks' code cells differ."""
    import copy

    import nbformat
    code = [c for c in page_nb.cells if c.cell_type == "code"]
    done = [c for c in executed.cells if c.cell_type == "code"]
    if [c.source for c in code] != [c.source for c in done]:
        return None
    nb = nbformat.convert(copy.deepcopy(page_nb), 4)
    for key in NB_META:
        if key in executed.metadata:
            nb.metadata[key] = executed.metadata[key]
    done = iter(copy.deepcopy(done))
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            new = next(done)
            if nb.nbformat_minor >= 5:
                new.id = cell.id
            else:
                new.pop("id", None)
            nb.cells[i] = new
    return nb


def install() -> None:
    """Make myst-nb's cache client take a handed-over notebook when the build has one (the
    folder in ``$OSL_EXECUTION_MARKERS``); other pages, and other builds, use the cache."""
    from myst_nb.core.execute import cache

    original = cache.NotebookClientCache.start_client
    if getattr(original, "_osl", False):
        return

    def start_client(self):
        from . import paths
        from .build import MARKERS_ENV
        folder = os.environ.get(MARKERS_ENV)
        if folder and self.path is not None:
            try:
                page = Path(self.path).resolve().relative_to(paths.PROJECT_ROOT).with_suffix("")
            except ValueError:
                page = None
            found = read(folder, page.as_posix()) if page is not None else None
            if found is not None:
                nb, seconds, mtime = found
                merged = merge(self.notebook, nb)
                if merged is not None:
                    self.logger.info(f"{HANDED_OVER}: {page}")
                    self._notebook = merged
                    self.exec_metadata = {"mtime": mtime, "runtime": seconds,
                                          "method": self.nb_config.execution_mode,
                                          "succeeded": True, "error": None, "traceback": None}
                    return
                self.logger.warning(f"{page}: the executed notebook does not match the page's "
                                    "code cells (changed while the book built?); executing it "
                                    "again")
        return original(self)

    start_client._osl = True
    cache.NotebookClientCache.start_client = start_client
