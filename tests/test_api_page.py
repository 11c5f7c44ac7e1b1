"""The API reference page lists modules that exist, each with a public ``__all__`` whose names
all resolve, documented; and the top level exposes what the README uses."""
from __future__ import annotations

import importlib
import inspect
import re

import pytest

from osl import paths

PAGE = paths.PROJECT_ROOT / "book" / "api.md"


def listed_modules() -> list[str]:
    text = PAGE.read_text()
    blocks = re.findall(r"```\{osl-api\}\n(.*?)```", text, re.S)
    return [m.strip() for b in blocks for m in b.splitlines() if m.strip()]


def test_page_lists_the_public_modules():
    mods = listed_modules()
    for required in ("osl", "osl.predict", "osl.capability", "osl.table"):
        assert required in mods


@pytest.mark.parametrize("modname", listed_modules())
def test_every_public_name_resolves_and_has_a_docstring(modname):
    mod = importlib.import_module(modname)
    names = getattr(mod, "__all__", None)
    assert names, f"{modname} has no __all__: the page would show an empty table"
    for name in names:
        obj = getattr(mod, name)
        assert inspect.getdoc(obj), f"{modname}.{name} has no docstring"


def test_readme_names_are_public():
    import osl
    for name in ("read_table", "fit_targets", "ScalingPredictor", "OSLError", "compare",
                 "fit_paired", "cutoff_split", "top_split", "heldout_split"):
        assert name in osl.__all__
