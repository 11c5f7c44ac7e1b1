"""Helpers for building the book: the table of contents of a one-chapter build.

``python -m osl.build toc NAME`` prints a copy of ``_toc.yml`` that keeps the book's own pages
(intro, method, reproducibility, citation, references) and only the chapter ``NAME``, so that a
single chapter builds, with working cross-references and citations, in seconds.
"""
from __future__ import annotations

import argparse
import sys

import yaml

from . import paths
from .errors import OSLError


def chapter_names() -> list[str]:
    return sorted(p.stem for p in (paths.PROJECT_ROOT / "notebooks").glob("[0-9][0-9]_*.md"))


def chapter_toc(name: str) -> dict:
    if name not in chapter_names():
        raise OSLError(f"No chapter {name!r}. Chapters: {', '.join(chapter_names())}.")
    toc = yaml.safe_load((paths.PROJECT_ROOT / "_toc.yml").read_text())
    for part in toc.get("parts", []):
        part["chapters"] = [c for c in part["chapters"]
                            if not c["file"].startswith("notebooks/") or c["file"] == f"notebooks/{name}"]
    toc["parts"] = [p for p in toc.get("parts", []) if p["chapters"]]
    return toc


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m osl.build", description=__doc__.split("\n\n")[1])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("toc", help="print the TOC of a one-chapter build")
    p.add_argument("name", help="chapter name, e.g. 01_capability_space")
    args = parser.parse_args(argv)
    try:
        sys.stdout.write(yaml.safe_dump(chapter_toc(args.name), sort_keys=False))
    except OSLError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
