"""Which source files the book's Sphinx pass leaves out, found in one pruned walk.

With ``only_build_toc_files: true`` the TOC extension (sphinx-external-toc) excludes every
source file that the TOC does not list. It finds them with one recursive glob of the whole
project per source suffix, walking every build folder and ``node_modules`` each time: about a
quarter of a second of a one-chapter build. :func:`exclude_unlisted` runs before it, at
``config-inited``, computes the same list in a single walk that skips the folders already
excluded, adds it to ``exclude_patterns`` and turns the extension's own search off.
"""
from __future__ import annotations

import os
from pathlib import Path

__all__: list[str] = []  # used by the book's Sphinx extension only (osl.sphinxext)

#: Runs before sphinx-external-toc's ``config-inited`` handler (priority 900).
PRIORITY = 800


def unlisted_sources(srcdir, suffixes, site_map, exclude_patterns) -> list[str]:
    """The source files under ``srcdir`` (POSIX paths relative to it) with one of
    ``suffixes`` that ``site_map`` does not list, leaving out hidden files and folders (as a
    glob does) and anything ``exclude_patterns`` already covers: the files the TOC extension
    would exclude, in the order of a sorted walk."""
    from sphinx.util.matching import Matcher, patmatch

    excluded = Matcher(list(exclude_patterns))
    globs = list(site_map.globs())
    out = []
    root = Path(srcdir)
    for folder, dirs, files in os.walk(root, followlinks=True):
        rel = Path(folder).relative_to(root).as_posix()
        prefix = "" if rel == "." else rel + "/"
        # A folder that is excluded excludes all it holds (the extension checks every
        # leading part of a path): no need to look inside.
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and not excluded(prefix + d))
        for name in sorted(files):
            if name.startswith("."):
                continue
            posix = prefix + name
            for suffix in suffixes:
                if not name.endswith(suffix):
                    continue
                stem = posix[: -len(suffix)]
                if posix in site_map or stem in site_map or excluded(posix) or \
                        any(patmatch(stem, pat) for pat in globs):
                    continue
                out.append(posix)
    return out


def exclude_unlisted(app, config) -> None:
    """``config-inited``: do the TOC extension's search for unlisted files, faster."""
    if not config["external_toc_exclude_missing"]:
        return
    from sphinx_external_toc.parsing import parse_toc_yaml

    path = Path(config["external_toc_path"])
    path = path if path.is_absolute() else Path(app.srcdir) / path
    if not path.is_file():
        return  # the extension reports it
    site_map = parse_toc_yaml(path)
    new = unlisted_sources(app.srcdir, list(config["source_suffix"]), site_map,
                           config["exclude_patterns"])
    config["exclude_patterns"] = config["exclude_patterns"] + new
    config["external_toc_exclude_missing"] = False
