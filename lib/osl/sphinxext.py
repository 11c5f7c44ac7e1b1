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

from .reported import KINDS
from .results import load_results, number_rows, summary_rows


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
    from .results import fmt_number
    return fmt_number(int(x)) if x == int(x) and abs(x) < 1e6 else fmt_number(float(x))


def _table(app, docname: str) -> list[nodes.Node]:
    results = load_results()
    rows = summary_rows(results)
    if not rows:
        return [nodes.paragraph(text="No chapter results were found in this build.")]
    body = [[_doc_link(app, docname, f"notebooks/{r['chapter']}", r["title"]), r["section"],
             str(r["compared"]), str(r["reproduced"]), str(r["facts"]), r["misses"] or "none",
             r["verdict"]] for r in rows]
    summary = _simple_table(["Chapter", "Paper", "Numbers judged", "Reproduced or met", "Data facts",
                             "Misses (keys)", "Verdict (worst row)"], body,
                            (26, 10, 10, 10, 9, 20, 15), ["osl-verdicts"])
    titles = {r["chapter"]: r["title"] for r in rows}
    detail = number_rows(results)
    body = [[_doc_link(app, docname, f"notebooks/{r['chapter']}", titles[r["chapter"]]),
             r["quantity"].split(";")[0], KINDS.get(r["kind"], r["kind"]), _num(r["reference"]),
             _num(r["ours"]), r["rule"], r["verdict"]] for r in detail]
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


class _FigureRenderer:
    """The figures' SVG, PDF and CSV copies. In a build run by ``python -m osl.build`` the
    executor draws them (see :func:`osl.build.execute`): this pass only waits, at its end, for
    its marker, and never loads the plotting code. In a plain ``jupyter-book build`` an
    :class:`osl.renderer.Renderer` in this process draws them while Sphinx goes on reading."""

    def __init__(self):
        self.renderer = None

    def submit(self, app, docname):
        import os

        from .build import MARKERS_ENV
        if os.environ.get(MARKERS_ENV):
            return
        if self.renderer is None:
            from .build import _figure_priority
            from .renderer import Renderer
            self.renderer = Renderer(nice=_figure_priority())
        self.renderer.poll()

    def finish(self, app, exception):
        import os

        from .build import FIGURES_PAGE, MARKERS_ENV
        folder = os.environ.get(MARKERS_ENV)
        if folder:
            if exception is None:  # (a failed build needs no copies)
                _wait_for(folder, FIGURES_PAGE, "A figure failed its checks")
            return
        if self.renderer is None:
            from .renderer import Renderer
            self.renderer = Renderer()
        try:
            self.renderer.finish()
        finally:
            self.renderer = None


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


def _await_execution(app, docname, source):
    """In a build run by ``python -m osl.build book``, hold a notebook page until the executor
    (running beside this build) has handed it over (:mod:`osl.handoff`), or stop the build if
    it failed."""
    import json
    import os

    from .build import MARKERS_ENV
    folder = os.environ.get(MARKERS_ENV)
    if not folder:
        return
    expected = getattr(app, "_osl_expected", None)
    if expected is None:
        expected = app._osl_expected = set(json.loads((Path(folder) / "expected.json")
                                                      .read_text()))
    if docname not in expected:
        return
    _wait_for(folder, docname, f"{docname} failed to execute", app=app)


def _wait_for(folder, page: str, what: str, *, app=None) -> None:
    """Wait until the executor's marker for ``page`` says it is done; raise Sphinx's error
    with the executor's message if it has failed. The first wait also does the once-per-build
    work that writing pages would otherwise do after the last chapter (see
    :func:`_prepare_writing`)."""
    import time

    from sphinx.errors import ExtensionError

    from .build import marker
    deadline = time.monotonic() + 3600
    done, failed = marker(folder, page, True), marker(folder, page, False)
    prepared = app is None or getattr(app, "_osl_prepared", False)
    while not done.exists():
        if failed.exists():
            raise ExtensionError(f"{what}: {failed.read_text()}")
        if not prepared:
            _prepare_writing(app)
            prepared = app._osl_prepared = True
            continue
        if time.monotonic() > deadline:
            raise ExtensionError(f"{page}: no result after an hour; is the executor "
                                 "(python -m osl.build book) still running?")
        time.sleep(0.05)


def _prepare_writing(app) -> None:
    """Once-per-build work that the first written page, and the first cached notebook read,
    would otherwise do after the chapters have run: load jupyter-cache and the notebook
    validators, compile the theme's templates and the HTML selector engine the theme's
    navigation uses. Best effort: anything that fails here is done (and reported) later."""
    import contextlib
    with contextlib.suppress(Exception):
        import myst_nb.core.execute.cache  # noqa: F401 - jupyter-cache, SQLAlchemy

        from .build import warm_nbformat
        warm_nbformat()
    with contextlib.suppress(Exception):
        import bs4
        bs4.BeautifulSoup('<ul><li class="a"><details><a class="b"></a></details></li></ul>',
                          "html.parser").select("li.a > details > a.b, .c")
    with contextlib.suppress(Exception):
        _compile_page_templates(app.builder)


def _compile_page_templates(builder) -> None:
    """Compile the templates an HTML page is made of: the page, index and search templates, the
    ones the theme's options and sidebars name, and whatever those include or extend."""
    from jinja2 import meta

    env = builder.templates.environment
    todo = {"page.html", "genindex.html", "search.html"}
    todo.update(getattr(builder.theme, "sidebar_templates", None) or ())

    def names(value):
        if isinstance(value, str):
            yield from (p for p in value.replace(",", " ").split() if p.endswith(".html"))
        elif isinstance(value, (list, tuple, dict)):
            for v in value.values() if isinstance(value, dict) else value:
                yield from names(v)

    todo.update(names(list(builder.theme.get_options(builder.config.html_theme_options)
                           .values()) + [builder.config.html_sidebars]))
    done = set()
    while todo:
        name = todo.pop()
        done.add(name)
        try:
            env.get_template(name)  # compiled, and kept by the environment for the writing
            source = env.loader.get_source(env, name)[0]
        except Exception:  # noqa: BLE001 - not found or not valid here: left to the build
            continue
        todo.update(r for r in meta.find_referenced_templates(env.parse(source))
                    if r and r not in done)


def setup(app):
    from . import _tocfiles, handoff
    handoff.install()  # executed notebooks straight from `python -m osl.build book`
    app.connect("config-inited", _tocfiles.exclude_unlisted, priority=_tocfiles.PRIORITY)
    app.connect("config-inited", _static_files)
    app.connect("env-check-consistency", _renumber_single_chapter)  # after numbering
    app.add_css_file("osl.css")
    app.connect("builder-inited", _check_mathjax)
    app.connect("build-finished", _copy_mathjax)
    renderer = _FigureRenderer()
    app.connect("source-read", _await_execution)
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
