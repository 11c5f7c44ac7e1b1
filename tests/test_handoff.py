"""Executed notebooks handed from the executor to the Sphinx pass (osl.handoff): the merged
page is the one jupyter-cache gives, a changed page is refused."""
from __future__ import annotations

import nbformat
from jupyter_cache import get_cache
from jupyter_cache.base import CacheBundleIn
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from osl import handoff


def page_and_executed():
    page = new_notebook(cells=[
        new_markdown_cell("# A chapter"),
        new_code_cell("import math\nx = 2", metadata={"tags": ["remove-cell"]}),
        new_markdown_cell("Some prose."),
        new_code_cell("print(math.sqrt(x))\nx"),
    ], metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                "language": "python"}})
    executed = nbformat.from_dict(nbformat.reads(nbformat.writes(page), 4))
    executed.cells[1].execution_count = 1
    executed.cells[3].execution_count = 2
    executed.cells[3].outputs = [
        new_output("stream", name="stdout", text="1.4142135623730951\n"),
        new_output("execute_result", data={"text/plain": "2"}, execution_count=2)]
    executed.metadata["language_info"] = {"name": "python", "version": "3.11"}
    return page, executed


def test_merge_gives_what_jupyter_cache_gives(tmp_path):
    page, executed = page_and_executed()
    text = nbformat.writes(executed)
    cache = get_cache(str(tmp_path / "cache"))
    cache.cache_notebook_bundle(CacheBundleIn(nbformat.from_dict(nbformat.reads(text, 4)),
                                              "chapter.md"), check_validity=False)
    _, expected = cache.merge_match_into_notebook(page)
    handoff.write(tmp_path, "notebooks/chapter", text, 1.5)
    nb, seconds, mtime = handoff.read(tmp_path, "notebooks/chapter")
    merged = handoff.merge(page, nb)
    assert merged == expected
    assert seconds == 1.5 and mtime > 0
    assert merged.cells[3].outputs[0]["text"].startswith("1.414")
    assert merged.metadata["language_info"]["version"] == "3.11"
    assert not list(tmp_path.glob("*.part"))  # nothing half-written is left


def test_a_changed_page_or_a_missing_notebook_is_not_merged(tmp_path):
    page, executed = page_and_executed()
    changed = nbformat.from_dict(page)
    changed.cells[3].source = "print(x)"
    assert handoff.merge(changed, executed) is None
    assert handoff.read(tmp_path, "notebooks/absent") is None
