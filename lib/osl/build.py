"""Helpers for building the book.

``python -m osl.build execute [--jobs 2]`` executes every chapter notebook, several at once
(one kernel per core), and stores the executed notebooks in the build's jupyter-cache
(``_build/.jupyter_cache``), where the Sphinx pass (``execute_notebooks: cache``) finds them
instead of executing the chapters one after another. ``make book`` cleans ``_build`` first, so
the cache never holds results of older code.

``python -m osl.build toc NAME`` prints a copy of ``_toc.yml`` that keeps the book's own prose
pages (intro, method, reproducibility, citation, references) and only the chapter ``NAME``, so
that a single chapter builds, with working citations, in seconds (links to the pages left out
are shown as plain text in that build; the whole book checks them).
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


def chapter_toc(name: str) -> dict:
    if name not in chapter_names():
        raise OSLError(f"No chapter {name!r}. Chapters: {', '.join(chapter_names())}.")
    toc = yaml.safe_load((paths.PROJECT_ROOT / "_toc.yml").read_text())
    # Other chapters and the book's other executed pages stay out: only this chapter runs.
    executed = set(notebook_pages())
    for part in toc.get("parts", []):
        part["chapters"] = [c for c in part["chapters"]
                            if c["file"] == f"notebooks/{name}" or
                            (not c["file"].startswith("notebooks/") and c["file"] not in executed)]
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


def _execute_one(path: str) -> tuple[str, str, float]:
    """Execute one notebook in a fresh kernel; returns (path, executed notebook JSON, seconds)."""
    import time

    import jupytext
    import nbformat
    from nbclient import NotebookClient

    nb = jupytext.read(path)
    t = time.perf_counter()
    # No per-cell timing metadata: jupyter-cache hashes cell metadata, and the Sphinx pass must
    # find this notebook under the hash of the unexecuted source.
    NotebookClient(nb, kernel_name="python3", timeout=600, record_timing=False,
                   resources={"metadata": {"path": str(Path(path).parent)}}).execute()
    return path, nbformat.writes(nb), time.perf_counter() - t


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


def execute(names: list[str] | None = None, jobs: int = 2) -> dict[str, float]:
    """Execute chapters in parallel and cache them for the book build; returns their times."""
    from concurrent.futures import ProcessPoolExecutor

    import nbformat
    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn

    if names:
        unknown = [n for n in names if n not in chapter_names()]
        if unknown:
            raise OSLError(f"No chapter(s) {unknown}. Chapters: {', '.join(chapter_names())}.")
        pages = [f"notebooks/{n}" for n in names]
    else:
        pages = notebook_pages()
    # Longest first, so that no core idles at the end: by the times of the last execution on
    # this machine when known (kept beside the data cache), else chapters in TOC order first.
    last = _last_times()
    order = {f: i for i, f in enumerate(pages)}
    pages.sort(key=lambda f: (-last.get(Path(f).name, 0.0), not f.startswith("notebooks/"),
                              order[f]))
    nb_paths = [str(paths.PROJECT_ROOT / f"{f}.md") for f in pages]
    cache = get_cache(str(paths.build_dir() / ".jupyter_cache"))
    times = {}
    # Longest chapters first would be ideal; the TOC order is a fair proxy when jobs >= 2.
    failed = {}
    with ProcessPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = {pool.submit(_execute_one, p): p for p in nb_paths}
        for fut in futures:
            name = Path(futures[fut]).stem
            try:
                path, text, seconds = fut.result()
            except Exception as exc:  # a cell failed: report the chapter and the cell's error
                failed[name] = str(exc).strip().splitlines()[-1][:300] if str(exc).strip() \
                    else type(exc).__name__
                continue
            nb = nbformat.reads(text, as_version=4)
            cache.cache_notebook_bundle(CacheBundleIn(nb, path, data={"execution_seconds": seconds}),
                                        check_validity=False, overwrite=True)
            times[name] = seconds
    _save_times({**last, **times})
    if failed:
        raise OSLError("Chapter(s) failed to execute: " + "; ".join(
            f"{k}: {v}" for k, v in failed.items()) + ". Run `make chapter NAME=<chapter>` to see "
            "the failing cell.")
    return times


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m osl.build", description=__doc__.split("\n\n")[1])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("toc", help="print the TOC of a one-chapter build")
    p.add_argument("name", help="chapter name, e.g. 01_capability_space")
    e = sub.add_parser("execute", help="execute chapters in parallel into the build's cache")
    e.add_argument("names", nargs="*", help="chapters (default: every notebook page of the TOC)")
    e.add_argument("--jobs", type=int, default=min(4, os.cpu_count() or 1),
                   help="notebooks executed at once (default: the number of cores, at most 4)")
    args = parser.parse_args(argv)
    try:
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
