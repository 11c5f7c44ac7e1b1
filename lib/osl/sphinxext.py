"""Sphinx extension: tables assembled at the end of the build.

``{osl-verdicts}`` (the book's introduction) and ``{osl-runtimes}`` (the reproducibility page)
leave placeholders that are filled at ``doctree-resolved``, after every page has been executed:
the verdict table from ``_build/results/<chapter>.json``, the run times from myst-nb's execution
records of this build. Both grow as chapters are added.
"""
from __future__ import annotations

from pathlib import Path

from docutils import nodes
from sphinx.util.docutils import SphinxDirective

from .report import load_results, verdict_rows, verdict_table
from .reported import KINDS


class verdicts_placeholder(nodes.General, nodes.Element):
    pass


class runtimes_placeholder(nodes.General, nodes.Element):
    pass


class ApiDirective(SphinxDirective):
    """``{osl-api}`` with module names as content: one table per module listing every public
    name (``__all__``) with its signature and the first paragraph of its docstring, read from
    the installed code at build time, so the page cannot drift from the library."""

    has_content = True

    def run(self):
        import importlib
        import inspect

        out = []
        for modname in [line.strip() for line in self.content if line.strip()]:
            mod = importlib.import_module(modname)
            rows = []
            for name in getattr(mod, "__all__", []):
                obj = getattr(mod, name)
                if inspect.isclass(obj):
                    kind = "class"
                elif inspect.isroutine(obj):
                    kind = "function"
                else:
                    kind = "constant"
                try:
                    sig = str(inspect.signature(obj)) if kind != "constant" else ""
                except (TypeError, ValueError):
                    sig = ""
                if kind == "constant":
                    doc = _constant_doc(mod, name, obj)
                else:
                    doc = _plain((inspect.getdoc(obj) or "").split("\n\n")[0].replace("\n", " "))
                code = nodes.paragraph()
                code += nodes.literal(text=f"{name}{_short(sig)}")
                rows.append([code, kind, doc])
            section = nodes.rubric(text=modname)
            out += [section, _simple_table(["Name and signature", "Kind", "What it does"], rows,
                                           (45, 10, 45), ["osl-api"])]
        return out


class ProvenanceDirective(SphinxDirective):
    """``{osl-provenance}``: the data registry (source, pinned commit, licence) and, per file,
    its size, SHA-256 and whether the cached copy verifies, read when the book is built."""

    def run(self):
        from . import data
        reg = data.registry()
        intro = nodes.paragraph(text=f"Source: {reg['source']}, commit {reg['commit']} "
                                     f"({reg['commit_date']}), licence {reg['licence']}.")
        rows = []
        for name, e in reg["files"].items():
            ok = data.sha256(data.fetch(name)) == e["sha256"]
            digest = nodes.paragraph()
            digest += nodes.literal(text=e["sha256"], classes=["osl-digest"])
            rows.append([name, f"{e['bytes']:,}", digest, "yes" if ok else "NO"])
        return [intro, _simple_table(["File", "Bytes", "SHA-256", "Verified"], rows,
                                     (30, 10, 50, 10), ["osl-provenance"])]


class VersionsDirective(SphinxDirective):
    """``{osl-versions}``: Python and the versions of the packages the book is built with."""

    PACKAGES = ("osl", "numpy", "pandas", "scipy", "matplotlib", "seaborn", "statsmodels",
                "pooch", "jupyter-book", "sphinx", "myst-nb", "jupytext")

    def run(self):
        import platform
        from importlib.metadata import version
        intro = nodes.paragraph(text=f"Python {platform.python_version()} on "
                                     f"{platform.system()} {platform.machine()}.")
        rows = [[p, version(p)] for p in self.PACKAGES]
        return [intro, _simple_table(["Package", "Version"], rows, (50, 50), ["osl-versions"])]


def _plain(text: str) -> str:
    """Docstring markup as plain text: ``:class:`~a.B``` -> ``B``, double backquotes and
    emphasis stars dropped."""
    import re
    text = re.sub(r":[a-z]+:`~?([^`]+)`", lambda m: m.group(1).split(".")[-1], text)
    text = re.sub(r"(?<![\w*])\*([^*\s][^*]*?)\*(?![\w*])", r"\1", text)
    return text.replace("``", "")


def _constant_doc(mod, name: str, obj) -> str:
    """A constant's ``#:`` comment in its module's source when there is one, and its value
    (shortened)."""
    import inspect
    import re
    note = ""
    try:
        src = inspect.getsource(mod)
        m = re.search(r"((?:^#:.*\n)+)^" + re.escape(name) + r"\b", src, re.M)
        if m:
            note = " ".join(line[2:].strip() for line in m.group(1).splitlines())
    except (OSError, TypeError):
        pass
    value = repr(obj)
    value = value if len(value) <= 90 else value[:85] + " ..."
    return (_plain(note) + " " if note else "") + f"Value: {value}"


def _short(sig: str, limit: int = 160) -> str:
    """A signature cut at a parameter boundary when it is longer than ``limit``."""
    if len(sig) <= limit:
        return sig
    cut = sig.rfind(", ", 0, limit - 5)
    return sig[:cut if cut > 0 else limit - 5] + ", ...)"


class VerdictsDirective(SphinxDirective):
    has_content = False

    def run(self):
        return [verdicts_placeholder()]


class RuntimesDirective(SphinxDirective):
    has_content = False

    def run(self):
        return [runtimes_placeholder()]


def _simple_table(headers, rows, widths, classes) -> nodes.table:
    """A docutils table; each cell is a node or a string."""
    table = nodes.table(classes=classes)
    group = nodes.tgroup(cols=len(headers))
    table += group
    for width in widths:
        group += nodes.colspec(colwidth=width)
    head = nodes.thead()
    group += head
    row = nodes.row()
    for h in headers:
        row += nodes.entry("", nodes.paragraph(text=h))
    head += row
    body = nodes.tbody()
    group += body
    for cells in rows:
        row = nodes.row()
        for cell in cells:
            row += nodes.entry("", cell if isinstance(cell, nodes.Node) else nodes.paragraph(text=cell))
        body += row
    return table


def _doc_link(app, fromdoc: str, target: str, text: str) -> nodes.paragraph:
    para = nodes.paragraph()
    if target in app.env.all_docs:
        para += nodes.reference("", text, internal=True,
                                refuri=app.builder.get_relative_uri(fromdoc, target))
    else:
        para += nodes.Text(text)
    return para


def _runtimes(app, docname: str) -> nodes.Node:
    meta = getattr(app.env, "nb_metadata", {})
    rows = []
    for doc in sorted(meta):
        data = meta[doc].get("exec_data")
        if not data:
            continue
        title = app.env.titles[doc].astext() if doc in app.env.titles else doc
        runtime = data.get("runtime")
        rows.append([_doc_link(app, docname, doc, title),
                     "—" if runtime is None else f"{runtime:.1f}",
                     "yes" if data.get("succeeded") else "no"])
    if not rows:
        return nodes.paragraph(text="No page was executed in this build.")
    return _simple_table(["Page", "Execution time (s)", "Succeeded"], rows, (50, 20, 15),
                         ["osl-runtimes"])


def _num(x: float) -> str:
    """Three significant digits; scientific notation below 0.001; integers as integers."""
    from .tables import fmt_number
    return fmt_number(int(x)) if x == int(x) and abs(x) < 1e6 else fmt_number(float(x))


def _table(app, docname: str) -> list[nodes.Node]:
    results = load_results()
    rows = verdict_table(results)
    if rows.empty:
        return [nodes.paragraph(text="No chapter results were found in this build.")]
    body = [[_doc_link(app, docname, f"notebooks/{r.chapter}", r.title), r.section,
             str(r.compared), str(r.reproduced), str(r.facts), r.misses or "none", r.verdict]
            for r in rows.itertuples()]
    summary = _simple_table(["Chapter", "Paper", "Numbers judged", "Reproduced or met", "Data facts",
                             "Misses (keys)", "Verdict (worst row)"], body,
                            (26, 10, 10, 10, 9, 20, 15), ["osl-verdicts"])
    titles = dict(zip(rows["chapter"], rows["title"]))
    detail = verdict_rows(results)
    body = [[_doc_link(app, docname, f"notebooks/{r.chapter}", titles[r.chapter]),
             r.quantity.split(";")[0], KINDS.get(r.kind, r.kind), _num(r.reference),
             _num(r.ours), r.rule, r.verdict] for r in detail.itertuples()]
    rows_table = _simple_table(["Chapter", "Quantity", "Reference kind", "Reference", "Ours",
                                "Rule", "Verdict"], body, (16, 34, 14, 9, 9, 9, 9),
                               ["osl-verdicts", "osl-verdict-rows"])
    # One row per judged number is long: a dropdown (sphinx-togglebutton), closed at first.
    box = nodes.admonition(classes=["dropdown", "note"])
    box += nodes.title(text=f"Every judged number and its reference ({len(detail)} rows)")
    box += rows_table
    return [summary, box]


FIGURE_FORMATS = (("svg", "SVG"), ("pdf", "PDF"), ("csv", "data (CSV)"))


def _figure_links(app, doctree, docname):
    """Under every labelled figure (``fig-NN-...``): links to its SVG, PDF and the CSV of its
    plotted data; the image itself links to the full-size SVG."""
    up = "../" * docname.count("/")
    for fig in list(doctree.findall(nodes.figure)):
        label = next((i for i in fig["ids"] if i.startswith("fig-")), None)
        if label is None:
            continue
        href = {ext: f"{up}_static/figures/{label}.{ext}" for ext, _ in FIGURE_FORMATS}
        for img in list(fig.findall(nodes.image)):
            if not isinstance(img.parent, nodes.reference):
                ref = nodes.reference("", "", refuri=href["svg"], classes=["osl-figure-zoom"])
                img.replace_self(ref)
                ref += img
        para = nodes.paragraph(classes=["osl-figure-links"])
        para += nodes.Text("Download: ")
        for i, (ext, text) in enumerate(FIGURE_FORMATS):
            if i:
                para += nodes.Text(" · ")
            para += nodes.reference("", text, refuri=href[ext])
        fig += para


def _copy_figures(app, exception):
    """Put the figures' SVG, PDF and CSV copies into the site, where the links point."""
    if exception is not None or app.builder.format != "html":
        return
    import shutil
    from . import paths
    target = Path(app.outdir) / "_static" / "figures"
    target.mkdir(parents=True, exist_ok=True)
    for f in paths.figures_dir().glob("fig-*"):
        if f.suffix in (".svg", ".pdf", ".csv"):
            shutil.copyfile(f, target / f.name)


def _resolve(app, doctree, docname):
    _figure_links(app, doctree, docname)
    for node in list(doctree.findall(verdicts_placeholder)):
        node.replace_self(_table(app, docname))  # a list: summary, heading, one row per number
    for node in list(doctree.findall(runtimes_placeholder)):
        node.replace_self(_runtimes(app, docname))


def _lower_priority(increment: int) -> None:
    import os
    if increment and hasattr(os, "nice"):
        os.nice(increment)


class _FigureRenderer:
    """Draws the queued figures' SVG, PDF and CSV copies in two worker processes while Sphinx
    goes on reading (and the chapters go on executing); waits for them when the build ends.
    The workers are forked from this process once it has imported the plotting code (Sphinx
    runs no threads), so they start at once."""

    def __init__(self):
        self.pool = None
        self.futures = {}

    def submit(self, app, docname):
        from .figures import queue_dir, render_one
        queue = queue_dir()
        if not queue.is_dir():
            return
        for path in sorted(queue.glob("*.pickle")):
            if path not in self.futures:
                if self.pool is None:
                    import multiprocessing
                    import threading
                    from concurrent.futures import ProcessPoolExecutor
                    method = "fork" if threading.active_count() == 1 and \
                        "fork" in multiprocessing.get_all_start_methods() else "spawn"
                    import os
                    # In a one-chapter build the kernel is the critical path: the workers
                    # draw on what CPU it leaves (the whole book keeps both cores busy with
                    # kernels, and its figures must not wait for the end).
                    nice = 10 if os.environ.get("OSL_CHAPTER") else 0
                    self.pool = ProcessPoolExecutor(
                        max_workers=2, mp_context=multiprocessing.get_context(method),
                        initializer=_lower_priority, initargs=(nice,))
                self.futures[path] = self.pool.submit(render_one, path)

    def finish(self, app, exception):
        from .figures import render_queue
        try:
            for fut in self.futures.values():
                fut.result()
        finally:
            if self.pool is not None:
                self.pool.shutdown()
            self.pool, self.futures = None, {}
        render_queue()  # anything queued after the last page was read


MATHJAX = ("node_modules", "mathjax", "es5", "tex-svg-full.js")


def _mathjax_source():
    from . import paths
    return paths.PROJECT_ROOT.joinpath(*MATHJAX)


def _check_mathjax(app):
    if app.builder.format == "html" and not _mathjax_source().is_file():
        from sphinx.errors import ExtensionError
        raise ExtensionError(f"MathJax is missing ({'/'.join(MATHJAX)}): run `make env` (or "
                             "`npm ci`) so the book can serve its formulas without a CDN.")


def _copy_mathjax(app, exception):
    """Copy the pinned MathJax into the site, where ``mathjax_path`` points."""
    if exception is not None or app.builder.format != "html":
        return
    import shutil
    target = Path(app.outdir) / "_static" / "mathjax" / MATHJAX[-1]
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(_mathjax_source(), target)


def _renumber_single_chapter(app, env):
    """In a one-chapter build (``make chapter``, which sets ``OSL_CHAPTER``), give the chapter
    the number it has in the whole book: its sections, figures and tables, and its entry in the
    navigation, are shifted from 1 to that number."""
    import os
    name = os.environ.get("OSL_CHAPTER")
    doc = f"notebooks/{name}"
    if not name or doc not in env.toc_secnumbers:
        return
    from .build import chapter_number
    shift = chapter_number(name) - 1
    if not shift:
        return

    def moved(num):
        return (num[0] + shift,) + tuple(num[1:]) if num else num

    env.toc_secnumbers[doc] = {k: moved(v) for k, v in env.toc_secnumbers[doc].items()}
    env.toc_fignumbers[doc] = {t: {k: moved(v) for k, v in ids.items()}
                               for t, ids in env.toc_fignumbers.get(doc, {}).items()}
    for ref in env.tocs[doc].findall(nodes.reference):  # what the navigation shows
        if ref.get("secnumber"):
            ref["secnumber"] = moved(tuple(ref["secnumber"]))


def _static_files(app, config):
    config.html_static_path.append(str(Path(__file__).parent / "static"))
    import os
    if os.environ.get("OSL_CHAPTER"):
        # A one-chapter build leaves the other chapters and executed pages out; links to them
        # become plain text there (the whole book's strict build checks every one).
        config.suppress_warnings = list(config.suppress_warnings) + ["ref.doc", "ref.ref"]


def _await_execution(app, docname, source, renderer=None):
    """In a build run by ``python -m osl.build book``, hold a notebook page until the executor
    (running beside this build) has cached it, or stop the build if it failed. While waiting,
    the figures the running chapters have already published go to ``renderer``, so that their
    PDF and CSV copies are written during the execution rather than after it."""
    import json
    import os
    import time

    from sphinx.errors import ExtensionError

    from .build import MARKERS_ENV, marker
    folder = os.environ.get(MARKERS_ENV)
    if not folder:
        return
    expected = getattr(app, "_osl_expected", None)
    if expected is None:
        expected = app._osl_expected = set(json.loads((Path(folder) / "expected.json")
                                                      .read_text()))
    if docname not in expected:
        return
    deadline = time.monotonic() + 3600
    done, failed = marker(folder, docname, True), marker(folder, docname, False)
    last_submit = 0.0
    while not done.exists():
        if renderer is not None and time.monotonic() - last_submit > 0.5:
            renderer.submit(app, docname)
            last_submit = time.monotonic()
        if failed.exists():
            raise ExtensionError(f"{docname} failed to execute: {failed.read_text()}")
        if time.monotonic() > deadline:
            raise ExtensionError(f"{docname}: no execution result after an hour; is the "
                                 "executor (python -m osl.build book) still running?")
        time.sleep(0.05)


def setup(app):
    app.connect("config-inited", _static_files)
    app.connect("env-check-consistency", _renumber_single_chapter)  # after numbering
    app.add_css_file("osl.css")
    app.connect("builder-inited", _check_mathjax)
    app.connect("build-finished", _copy_mathjax)
    renderer = _FigureRenderer()
    app.connect("source-read", lambda a, d, s: _await_execution(a, d, s, renderer))
    app.connect("doctree-read", renderer.submit)
    app.connect("build-finished", renderer.finish)
    app.connect("build-finished", _copy_figures)  # after the renderer has written them
    app.add_node(verdicts_placeholder)
    app.add_node(runtimes_placeholder)
    app.add_directive("osl-verdicts", VerdictsDirective)
    app.add_directive("osl-api", ApiDirective)
    app.add_directive("osl-runtimes", RuntimesDirective)
    app.add_directive("osl-provenance", ProvenanceDirective)
    app.add_directive("osl-versions", VersionsDirective)
    app.connect("doctree-resolved", _resolve)
    return {"version": "0.1", "parallel_read_safe": True, "parallel_write_safe": True}
