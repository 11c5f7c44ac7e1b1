"""The one table-formatting helper: names, digits, integers, booleans, missing values."""
from __future__ import annotations

import numpy as np
import pandas as pd

from osl.tables import fmt_number, show


def test_numbers_are_formatted_per_quantity():
    assert fmt_number(0.0002) == "2.00e-04"          # a small MSE is never 0.000
    assert fmt_number(0.1234567) == "0.123"
    assert fmt_number(12.345) == "12.3"
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
