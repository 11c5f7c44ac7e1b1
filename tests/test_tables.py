"""The one table-formatting helper: names, digits, integers, booleans, missing values."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from osl.errors import ArgumentError
from osl.tables import fmt_number, show


def test_numbers_are_formatted_per_quantity():
    assert fmt_number(0.0002) == "2.00e-04"          # a small MSE is never 0.000
    assert fmt_number(0.1234567) == "0.123"
    assert fmt_number(12.345) == "12.3"
    assert fmt_number(140.0, 2) == "140" and fmt_number(12345.6) == "12,346"
    assert fmt_number(0.0012345) == "0.00123"  # significant digits, not decimals
    assert fmt_number(np.int64(77)) == "77"
    assert fmt_number(True) == "yes" and fmt_number(np.bool_(False)) == "no"
    assert fmt_number(np.nan) == "—" and fmt_number(None) == "—"


def test_show_uses_human_names_and_counts_as_integers():
    df = pd.DataFrame({"mse": [0.0002, 0.013], "n_train": [77.0, 12.0], "ok": [True, False],
                       "slope_se": [np.nan, 0.12345]}, index=pd.Index(["a", "b"], name="target"))
    html = show(df, names={"ok": "passes"}).to_html()
    for text in ("MSE", "training models", "passes", "slope s.e.", "2.00e-04", ">77<", ">yes<",
                 ">—<", "overflow-x: auto"):
        assert text in html, text
    for raw in ("n_train", "slope_se", "77.000", "True", "nan"):
        assert raw not in html, raw


def test_version_is_the_same_everywhere():
    """The package, CITATION.cff and the how-to-cite page give one version."""
    import re
    import tomllib

    from osl import paths
    root = paths.PROJECT_ROOT
    version = tomllib.loads((root / "pyproject.toml").read_text())["project"]["version"]
    assert re.search(rf"^version: {re.escape(version)}$", (root / "CITATION.cff").read_text(), re.M)
    cite = (root / "book" / "cite.md").read_text()
    assert set(re.findall(r"version (\d+\.\d+\.\d+)", cite)) == {version}


def test_sci_writes_powers_of_ten_for_prose():
    from osl.tables import sci
    assert sci(8.4e22) == "8.4 × 10²²"
    assert sci(6.25e-5, 2) == "6.25 × 10⁻⁵"


@pytest.mark.parametrize("call, match", [
    (lambda: show([1, 2]), "df must be a pandas DataFrame"),
    (lambda: show(pd.DataFrame({"a": [1.0]}), digits="x"), "digits must be"),
    (lambda: show(pd.DataFrame({"a": [1.0]}), digits=0), "digits must be"),
])
def test_show_refuses_bad_input(call, match):
    with pytest.raises(ArgumentError, match=match):
        call()


def test_sci_refuses_bad_input():
    from osl.tables import sci
    with pytest.raises(ArgumentError, match="x must be a number"):
        sci("abc")
    with pytest.raises(ArgumentError, match="digits must be"):
        sci(1.0, -1)


def test_word_list_joins_items_for_prose_and_refuses_a_bare_string():
    from osl.tables import word_list
    assert word_list([]) == "none"
    assert word_list(["GSM8K"]) == "GSM8K"
    assert word_list(("a", "b")) == "a and b"
    assert word_list(x for x in "abc") == "a, b and c"
    assert word_list([1, 2]) == "1 and 2"
    with pytest.raises(ArgumentError, match="wrap it in a list"):
        word_list("GSM8K")
