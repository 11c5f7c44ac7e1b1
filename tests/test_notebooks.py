"""Static checks of the chapters: TOC, jupytext headers, figures, glued numbers."""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import yaml

from osl import paths
from osl.build import chapter_toc

ROOT = paths.PROJECT_ROOT
TOC = yaml.safe_load((ROOT / "_toc.yml").read_text())
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.md"))


def toc_files() -> list[str]:
    files = [TOC["root"]]
    for part in TOC["parts"]:
        files += [c["file"] for c in part["chapters"]]
    return files


def prose(text: str) -> str:
    """Markdown outside front matter, code cells, math and directive options."""
    text = re.sub(r"^---\n.*?\n---\n", "", text, flags=re.S)
    text = re.sub(r"```\{code-cell\}.*?```", "", text, flags=re.S)
    text = re.sub(r"\$\$.*?\$\$|\$[^$\n]+\$", "", text, flags=re.S)
    text = re.sub(r"\{glue:text\}`[^`]+`", "", text)
    text = re.sub(r"\b(Section|Sec\.|Figure|Fig\.|Table|Appendix)\s+[\d.]+", "", text)
    return text


def test_there_are_chapters():
    assert NOTEBOOKS, "no chapter notebooks found"


def test_every_toc_entry_exists_and_every_notebook_is_listed():
    files = toc_files()
    for f in files:
        assert (ROOT / f"{f}.md").exists(), f"_toc.yml lists {f} but {f}.md does not exist"
    for nb in NOTEBOOKS:
        assert f"notebooks/{nb.stem}" in files, f"{nb.name} is not in _toc.yml"


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.stem)
def test_jupytext_header(nb):
    head = yaml.safe_load(nb.read_text().split("---\n")[1])
    assert head["jupytext"]["text_representation"]["format_name"] == "myst"
    assert head["kernelspec"]["name"] == "python3"


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.stem)
def test_figures_are_published_labelled_captioned_and_referenced(nb):
    text = nb.read_text()
    chapter = nb.stem[:2]
    calls = [line for line in text.splitlines() if line.lstrip().startswith("publish(")]
    published = [re.search(r'"(fig-[^"]*)"\)\s*$', c).group(1) for c in calls
                 if re.search(r'"(fig-[^"]*)"\)\s*$', c)]
    assert len(published) == len(calls), f"every publish() needs a literal label: {calls}"
    assert published, "a chapter should show its claim in at least one figure"
    for label in published:
        assert label.startswith(f"fig-{chapter}-"), f"{label}: labels are fig-{chapter}-<what>"
        block = re.search(r"```\{glue:figure\} " + re.escape(label) + r"\n:name: " +
                          re.escape(label) + r"\n(?::[^\n]*\n)*\n(.+?)```", text, flags=re.S)
        assert block, f"{label}: needs a {{glue:figure}} block with :name: {label}"
        assert len(block.group(1).split()) >= 8, f"{label}: caption too short"
        assert "{numref}`" + label + "`" in text, f"{label}: never referenced with {{numref}}"


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.stem)
def test_no_typed_results_in_prose(nb):
    """Decimal numbers and percentages in prose must be glued, not typed."""
    typed = re.findall(r"(?<![\w-])\d+\.\d+(?![\w-])|\d+\s?%", prose(nb.read_text()))
    assert not typed, f"typed numbers in prose of {nb.name}: {typed} (glue them)"


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.stem)
def test_chapter_writes_its_results(nb):
    text = nb.read_text()
    assert f'Report("{nb.stem}"' in text and "rep.write()" in text


def test_no_ipynb_is_committed():
    out = subprocess.run(["git", "ls-files", "*.ipynb"], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode != 0 or out.stdout.strip() == ""


def test_one_chapter_toc_keeps_the_pages_a_chapter_needs():
    toc = chapter_toc(NOTEBOOKS[0].stem)
    files = [c["file"] for p in toc["parts"] for c in p["chapters"]]
    assert toc["root"] == "book/intro"
    assert f"notebooks/{NOTEBOOKS[0].stem}" in files
    assert {"book/method", "book/glossary", "book/references"} <= set(files)
    # Left out: the other chapters, the executed own-models page and the heavy reference pages.
    assert sum(f.startswith("notebooks/") for f in files) == 1
    assert not {"book/own_models", "book/api", "book/reproducibility"} & set(files)
