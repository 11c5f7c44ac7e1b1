"""Helpers for building the book.

``python -m osl.build execute [--jobs 2]`` executes every chapter notebook, several at once
(one kernel per core), and stores the executed notebooks in the build's jupyter-cache
(``_build/.jupyter_cache``), where the Sphinx pass (``execute_notebooks: cache``) finds them
instead of executing the chapters one after another. ``make book`` cleans ``_build`` first, so
the cache never holds results of older code.

``python -m osl.build book [NAMES] [--toc T --path-output D]`` does both at once: the strict
Sphinx pass starts immediately and waits at each notebook page until the executor has handed it
the executed notebook (:mod:`osl.handoff`, no cache in between), so reading the book overlaps
executing it (what ``make book`` and ``make chapter`` run).

``python -m osl.build chapter NAME`` (what ``make chapter`` runs) builds one chapter that way
into ``_build/chapters/NAME``, with a copy of ``_toc.yml`` (``python -m osl.build toc NAME``
prints it) that keeps the book's own prose pages a chapter needs (intro, method, glossary,
references) and only the chapter ``NAME``, so that a single chapter builds, with working
citations, in seconds (links to the pages left out are shown as plain text in that build; the
whole book checks them).
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import yaml

from . import paths
from .errors import OSLError


def chapter_names() -> list[str]:
    return sorted(p.stem for p in (paths.PROJECT_ROOT / "notebooks").glob("[0-9][0-9]_*.md"))


def notebook_pages() -> list[str]:
    """Every page of the TOC that is a notebook (a jupytext header), as a path without suffix
    relative to the project root: the chapters and the book's executed pages."""
    toc = yaml.safe_load((paths.PROJECT_ROOT / "_toc.yml").read_text())
    files = [toc["root"]] + [c["file"] for part in toc.get("parts", [])
                             for c in part.get("chapters", [])]
    out = []
    for f in files:
        path = paths.PROJECT_ROOT / f"{f}.md"
        if path.exists() and path.read_text().startswith("---\njupytext:"):
            out.append(f)
    return out


ONE_CHAPTER_SKIPS = ("book/api", "book/reproducibility", "book/cite")


def chapter_toc(name: str) -> dict:
    if name not in chapter_names():
        raise OSLError(f"No chapter {name!r}. Chapters: {', '.join(chapter_names())}.")
    toc = yaml.safe_load((paths.PROJECT_ROOT / "_toc.yml").read_text())
    # Other chapters and the book's other executed pages stay out: only this chapter runs.
    # So do the reference pages a chapter does not need (the API tables import the whole
    # library; the provenance table hashes the data files): a chapter keeps the introduction
    # (its verdict), the method, the glossary and the references (its citations).
    skip = set(notebook_pages()) | set(ONE_CHAPTER_SKIPS)
    for part in toc.get("parts", []):
        part["chapters"] = [c for c in part["chapters"]
                            if c["file"] == f"notebooks/{name}" or
                            (not c["file"].startswith("notebooks/") and c["file"] not in skip)]
    toc["parts"] = [p for p in toc.get("parts", []) if p["chapters"]]
    return toc


def chapter_number(name: str) -> int:
    """The number ``name`` has in the whole book (its place among the numbered chapters)."""
    toc = yaml.safe_load((paths.PROJECT_ROOT / "_toc.yml").read_text())
    numbered = [c["file"] for part in toc.get("parts", []) if part.get("numbered")
                for c in part.get("chapters", [])]
    try:
        return numbered.index(f"notebooks/{name}") + 1
    except ValueError:
        raise OSLError(f"{name} is not a numbered chapter of _toc.yml.") from None


def _execute_one(path: str):
    """Execute one notebook in a fresh kernel: yields (path, executed notebook JSON, seconds),
    then shuts the kernel down (the result is sent first: see ``osl.kernels.run_each``)."""
    import time

    import jupytext
    import nbformat

    from .kernels import kernel_client

    # The kernel lays its figures out and queues them; the build's renderer draws them (on the
    # core the kernel is not using), and the page shows the SVG copy it writes.
    os.environ[paths.DEFER_FIGURES_ENV] = "1"
    nb = jupytext.read(path)
    t = time.perf_counter()
    # No per-cell timing metadata (jupyter-cache hashes cell metadata, and the Sphinx pass must
    # find this notebook under the hash of the unexecuted source). The kernel is forked from
    # this warm worker (see osl.kernels).
    with kernel_client(nb, Path(path).parent) as client:
        client.execute()  # the kernel is this block's: execute leaves it running
        yield path, nbformat.writes(nb), time.perf_counter() - t


TIMES_FILE = "execution-times.json"


def _last_times() -> dict[str, float]:
    import json
    try:
        return json.loads((paths.cache_dir() / TIMES_FILE).read_text())
    except (OSError, ValueError):
        return {}


def _save_times(times: dict[str, float]) -> None:
    import json
    folder = paths.cache_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / TIMES_FILE).write_text(json.dumps(times, indent=1, sort_keys=True))
    except OSError:  # a read-only checkout still builds, in TOC order
        pass


def _pages(names: list[str] | None) -> list[str]:
    """The notebook pages to execute: the chapters ``names``, or every notebook page."""
    if names:
        unknown = [n for n in names if n not in chapter_names()]
        if unknown:
            raise OSLError(f"No chapter(s) {unknown}. Chapters: {', '.join(chapter_names())}.")
        return [f"notebooks/{n}" for n in names]
    return notebook_pages()


def warm_nbformat() -> None:
    """Build the notebook-format validators now (a quarter of a second, once per process), so
    that caching or reading the first executed notebook does not: called while waiting."""
    from nbformat.validator import get_validator
    for minor in (4, 5):  # what jupytext writes, and the current format
        get_validator(4, minor)


def _figure_priority() -> int:
    """The figure workers' priority increment: in a one-chapter build they draw on what CPU the
    chapter leaves (the whole book keeps both cores busy with kernels, and its figures must
    not wait for the end)."""
    return FIGURE_NICE if os.environ.get("OSL_CHAPTER") else 0


FIGURE_NICE = 10
#: Figure workers: two, so that the figures left when the last chapter ends are drawn on both
#: cores (one worker was measured slower in a one-chapter build).
FIGURE_WORKERS = 2


def execute(names: list[str] | None = None, jobs: int = 2, *, order: str = "longest",
            cache_path: Path | None = None, on_done=None, on_started=None,
            on_figures=None, ctx=None, handoff: Path | None = None) -> dict[str, float]:
    """Execute notebook pages in parallel and cache them for the book build, and draw the
    figures they publish; returns their times (seconds by notebook name).

    ``order``: ``"longest"`` (longest first, by the last run's times on this machine, so that
    no core idles at the end) or ``"read"`` (the order in which Sphinx reads pages, for a build
    that reads while this executes). ``on_started()`` is called once the kernels' server is
    starting, before the cache is opened (a Sphinx pass started then opens the cache only when
    a notebook page's marker says that page is in it); ``on_done(page, error)`` as each page is cached (``error`` None) or
    has failed (the failing cell's error); ``on_figures(error)`` once every figure's copies are
    written (``error`` None) or one has failed its checks. ``ctx``: the warm context
    (default: :func:`osl.kernels.warm_context`). ``handoff``: a folder that receives each
    executed notebook for a Sphinx pass running beside this one (see :mod:`osl.handoff`)
    instead of the jupyter-cache.

    The figures (see :mod:`osl.renderer`) are drawn as the chapters publish them, in workers
    forked from the warm process, so that they cost the Sphinx pass nothing.
    """
    import json

    pages = _pages(names)
    last = _last_times()
    if order == "read":
        pages.sort()  # Sphinx reads documents in sorted order
    else:
        rank = {f: i for i, f in enumerate(pages)}
        pages.sort(key=lambda f: (-last.get(Path(f).name, 0.0), not f.startswith("notebooks/"),
                                  rank[f]))
    from .kernels import run_each, warm_context

    # Each notebook runs in a fresh process forked from a server that imports what the
    # chapters use (started first, it imports while the rest starts), and forks its kernel
    # from there: the imports are paid once, not per chapter.
    ctx = ctx or warm_context()
    if on_started:  # (before this process spends its time loading jupyter-cache)
        on_started()
    if handoff is None:
        import nbformat
        from jupyter_cache import get_cache
        from jupyter_cache.base import CacheBundleIn

        cache = get_cache(str(cache_path or paths.build_dir() / ".jupyter_cache"))
    from .renderer import Renderer

    renderer = Renderer(ctx, nice=_figure_priority(), workers=FIGURE_WORKERS)
    warmed = [handoff is not None]  # the validators serve the cache only

    def tick():  # while the kernels run: draw what they have published, warm up once
        renderer.poll()
        if not warmed[0]:
            warm_nbformat()
            warmed[0] = True

    times, failed = {}, {}
    sources = {str(paths.PROJECT_ROOT / f"{p}.md"): p for p in pages}
    for source, result, error in run_each(_execute_one, list(sources), jobs, ctx, tick=tick):
        page = sources[source]
        name = Path(page).name
        if error is not None:  # a cell failed: report the chapter and the cell's error
            failed[name] = error
            if on_done:
                on_done(page, error)
            continue
        path, text, seconds = result
        if handoff is not None:
            from . import handoff as handing
            handing.write(handoff, page, text, seconds)
        else:
            # The kernel's own output, already valid: parsed without re-validating it (a
            # tenth of a second on every chapter's critical path).
            nb = nbformat.from_dict(json.loads(text))
            cache.cache_notebook_bundle(CacheBundleIn(nb, path,
                                                      data={"execution_seconds": seconds}),
                                        check_validity=False, overwrite=True)
        times[name] = seconds
        if on_done:
            on_done(page, None)
        renderer.poll()
    _save_times({**last, **times})
    try:
        renderer.finish()
    except OSLError as exc:
        if on_figures:
            on_figures(str(exc))
        if not failed:
            raise
    else:
        if on_figures:
            on_figures(None)
    if failed:
        raise OSLError("Chapter(s) failed to execute: " + "; ".join(
            f"{k}: {v}" for k, v in failed.items()) + ". Run `make chapter NAME=<chapter>` to see "
            "the failing cell.")
    return times


def jupyter_book(argv: list[str] | None = None) -> None:
    """The ``jupyter-book`` command line (arguments from ``sys.argv``), ending with its exit
    status but without the interpreter's tear-down: freeing a finished Sphinx build's objects
    one by one takes over half a second, and every file is written and closed by then."""
    import click
    from jupyter_book.cli.main import main as jb

    code = 0
    try:
        jb(list(sys.argv[1:] if argv is None else argv), standalone_mode=False)
    except click.ClickException as exc:  # a usage error: shown as the command shows it
        exc.show()
        code = exc.exit_code
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException:  # noqa: BLE001 - reported as the command would, then the status
        import traceback
        traceback.print_exc()
        code = 1
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


MARKERS_ENV = "OSL_EXECUTION_MARKERS"
#: The marker name that says every figure's copies are written (or one failed its checks).
FIGURES_PAGE = "_figures"


def marker(folder: Path, page: str, ok: bool) -> Path:
    """The file that says a page has been executed and cached (``ok``) or has failed."""
    return Path(folder) / (page.replace("/", "__") + (".done" if ok else ".failed"))


def _sphinx_priority(names):
    """In a one-chapter build, the Sphinx pass starts at a lower priority: while the chapter
    executes, the pass only has to be ready when the chapter is, and the chapter's kernel (and
    the computations it runs on the other core) are what the build waits for."""
    if not names or not os.environ.get("OSL_CHAPTER") or not hasattr(os, "nice"):
        return None
    return lambda: os.nice(SPHINX_NICE)


SPHINX_NICE = 5


def book(names: list[str] | None = None, jobs: int = 2, *, toc: Path | None = None,
         path_output: Path | None = None) -> int:
    """Execute the notebook pages and build the book strictly, at the same time.

    The strict Sphinx pass starts at once, reads the prose pages and waits at each notebook
    page until the executor has cached it (``osl.sphinxext`` reads the markers in
    ``$OSL_EXECUTION_MARKERS``), so that reading and numbering overlap the execution of the
    later chapters; the executor draws the figures' copies meanwhile. ``names``: chapters only
    (a one-chapter build, with ``toc``); returns the Sphinx pass's exit status.
    """
    import json
    import shutil
    import subprocess

    pages = _pages(names)
    folder = paths.build_dir() / ".executed"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    (folder / "expected.json").write_text(json.dumps(pages))
    # A new interpreter, started at once: its imports use the core that the warm server's
    # imports leave idle.
    cmd = [sys.executable, "-c", "from osl.build import jupyter_book; jupyter_book()", "build",
           "--all", "-W", "-n", "--keep-going"]
    if toc:
        cmd += ["--toc", str(toc)]
    if path_output:
        cmd += ["--path-output", str(path_output)]
    sphinx = []

    def start_sphinx():  # at once: it reads the cache only at a page the executor has cached
        sphinx.append(subprocess.Popen(cmd + [str(paths.PROJECT_ROOT)], cwd=paths.PROJECT_ROOT,
                                       env=dict(os.environ, **{MARKERS_ENV: str(folder)}),
                                       preexec_fn=_sphinx_priority(names)))

    def done(page, error):
        target = marker(folder, page, error is None)
        tmp = target.with_suffix(".part")
        tmp.write_text(error or "")
        tmp.replace(target)

    try:
        times = execute(names, jobs, order="read", handoff=folder, on_done=done,
                        on_started=start_sphinx,
                        on_figures=lambda error: done(FIGURES_PAGE, error))
    except OSLError:
        if sphinx:
            sphinx[0].wait()  # it stops at the first failed page, saying which
        raise
    except BaseException:
        if sphinx:
            sphinx[0].terminate()
        raise
    status = sphinx[0].wait()
    for name, sec in sorted(times.items()):
        print(f"executed {name} in {sec:.1f} s")
    return status


def chapter(name: str, jobs: int = 2) -> int:
    """``make chapter NAME=...``: execute and build one chapter alone, from clean, into
    ``_build/chapters/<name>`` (its own TOC, results and figures; numbered as in the book)."""
    import shutil

    if name not in chapter_names():
        raise OSLError(f"No chapter {name!r}. Chapters: {', '.join(chapter_names())}.")
    out = paths.PROJECT_ROOT / "_build" / "chapters" / name
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    toc = out.parent / f"_toc_{name}.yml"
    toc.write_text(yaml.safe_dump(chapter_toc(name), sort_keys=False))
    # Read by the kernels, the Sphinx extension (numbering) and the figure renderer.
    os.environ["OSL_CHAPTER"] = name
    os.environ["OSL_BUILD_DIR"] = str(out / "_osl")
    status = book([name], jobs, toc=toc, path_output=out)
    if status == 0:
        print(f"Open {out / '_build' / 'html' / 'notebooks' / f'{name}.html'}")
    return status


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m osl.build", description=__doc__.split("\n\n")[1])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("toc", help="print the TOC of a one-chapter build")
    p.add_argument("name", help="chapter name, e.g. 01_capability_space")
    e = sub.add_parser("execute", help="execute chapters in parallel into the build's cache")
    e.add_argument("names", nargs="*", help="chapters (default: every notebook page of the TOC)")
    e.add_argument("--jobs", type=int, default=min(4, os.cpu_count() or 1),
                   help="notebooks executed at once (default: the number of cores, at most 4)")
    b = sub.add_parser("book", help="execute and build strictly at once (what `make book` and "
                                    "`make chapter` run)")
    b.add_argument("names", nargs="*", help="chapters (default: every notebook page of the TOC)")
    b.add_argument("--jobs", type=int, default=min(4, os.cpu_count() or 1),
                   help="notebooks executed at once (default: the number of cores, at most 4)")
    b.add_argument("--toc", type=Path, help="table of contents (default: _toc.yml)")
    b.add_argument("--path-output", type=Path, help="build folder (default: the project root)")
    c = sub.add_parser("chapter", help="execute and build one chapter alone into "
                                       "_build/chapters/NAME (what `make chapter` runs)")
    c.add_argument("name", help="chapter name, e.g. 01_capability_space")
    args = parser.parse_args(argv)
    try:
        if args.command == "chapter":
            return chapter(args.name)
        if args.command == "book":
            return book(args.names, args.jobs, toc=args.toc, path_output=args.path_output)
        if args.command == "execute":
            for name, sec in sorted(execute(args.names, args.jobs).items()):
                print(f"executed {name} in {sec:.1f} s")
            return 0
        sys.stdout.write(yaml.safe_dump(chapter_toc(args.name), sort_keys=False))
    except OSLError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
