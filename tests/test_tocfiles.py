"""The source files left out of the book: one pruned walk finds what the TOC extension's
recursive globs find."""
from __future__ import annotations

import glob
from pathlib import Path

import yaml
from sphinx.util.matching import Matcher, patmatch
from sphinx_external_toc.parsing import parse_toc_yaml

from osl import paths
from osl._tocfiles import unlisted_sources

SUFFIXES = [".rst", ".ipynb", ".md"]


def by_glob(srcdir, suffixes, site_map, exclude_patterns):
    """What sphinx-external-toc excludes with ``external_toc_exclude_missing``: every file of
    a source suffix (recursive glob) that the TOC does not list and no pattern excludes, by
    the file or by any folder above it."""
    excluded = Matcher(list(exclude_patterns))
    out = []
    for suffix in suffixes:
        for name in glob.iglob(str(Path(srcdir) / "**" / f"*{suffix}"), recursive=True):
            path = Path(name)
            if not path.is_file():
                continue
            posix = path.relative_to(srcdir).as_posix()
            parts = posix.split("/")
            if posix in site_map or posix[: -len(suffix)] in site_map:
                continue
            if any(excluded("/".join(parts[: i + 1])) for i in range(len(parts))):
                continue
            if any(patmatch(posix[: -len(suffix)], pat) for pat in site_map.globs()):
                continue
            out.append(posix)
    return sorted(out)


def test_walk_finds_what_the_globs_find(tmp_path):
    files = ["intro.md", "notebooks/01_a.md", "notebooks/02_b.md", "notebooks/02_b.ipynb",
             "notes/draft.md", "notes/deep/old.rst", "README.md", "CONTRIBUTING.md",
             "_build/html/_sources/intro.md", "data/README.md", "node_modules/pkg/README.md",
             ".hidden/secret.md", "notebooks/.ipynb_checkpoints/01_a-checkpoint.md",
             "glob/one.md", "glob/two.md", "notebooks/01_a.txt"]
    for f in files:
        (tmp_path / f).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / f).write_text("# x\n")
    (tmp_path / "notebooks" / "folder.md").mkdir()  # a folder with a source suffix
    toc = tmp_path / "_toc.yml"
    toc.write_text(yaml.safe_dump({"format": "jb-book", "root": "intro", "chapters": [
        {"file": "notebooks/01_a"}, {"file": "notebooks/02_b.md"}, {"glob": "glob/*"}]}))
    site_map = parse_toc_yaml(toc)
    patterns = ["_build", "**/*.ipynb", "data/**", "node_modules", "README.md",
                "**.ipynb_checkpoints"]
    walked = unlisted_sources(tmp_path, SUFFIXES, site_map, patterns)
    assert sorted(walked) == by_glob(tmp_path, SUFFIXES, site_map, patterns)
    assert sorted(walked) == ["CONTRIBUTING.md", "notes/deep/old.rst", "notes/draft.md"]


def test_walk_matches_the_globs_on_this_book():
    """The book's own TOC, patterns and folders (build folders included)."""
    root = paths.PROJECT_ROOT
    config = yaml.safe_load((root / "_config.yml").read_text())
    site_map = parse_toc_yaml(root / "_toc.yml")
    patterns = ["_build", "Thumbs.db", ".DS_Store", "**.ipynb_checkpoints",
                *config["exclude_patterns"]]
    walked = unlisted_sources(root, SUFFIXES, site_map, patterns)
    assert sorted(walked) == by_glob(root, SUFFIXES, site_map, patterns)
    assert "CONTRIBUTING.md" in walked
