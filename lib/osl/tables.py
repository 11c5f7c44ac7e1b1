"""One formatting helper for every table the book shows.

>>> show(df, names={"mse": "Held-out MSE"}, caption="Paper vs ours")   # doctest: +SKIP

Human column names (a shared dictionary plus the caller's ``names``), significant digits per
column (scientific notation where an error is below 0.001), integers as integers, booleans as
words, missing values as a dash, and a box that scrolls sideways when the table is wider than
the page. Returns a pandas ``Styler``, which myst-nb renders as HTML.
"""
from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import pandas as pd

from .results import fmt_number  # (no pandas: the book's build uses it too)

__all__ = ["NAMES", "fmt_number", "sci", "show", "word_list"]

_SUPER = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def word_list(items) -> str:
    """Items for prose: ``'a'``, ``'a and b'``, ``'a, b and c'``; ``'none'`` for no items."""
    from .errors import ArgumentError
    if isinstance(items, (str, bytes)):
        raise ArgumentError(f"word_list: items must be a list of words, not the string "
                            f"{items!r}; wrap it in a list.")
    items = [str(i) for i in items]
    if not items:
        return "none"
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def sci(x: float, digits: int = 1) -> str:
    """A large or small number for prose: ``8.4e+22`` as ``8.4 × 10²²``."""
    from .errors import ArgumentError
    if isinstance(x, bool) or not isinstance(x, (int, float, np.integer, np.floating)):
        raise ArgumentError(f"sci: x must be a number, got {type(x).__name__} {x!r}.")
    if isinstance(digits, bool) or not isinstance(digits, (int, np.integer)) or digits < 0:
        raise ArgumentError(f"sci: digits must be a whole number >= 0, got {digits!r}.")
    m, e = f"{float(x):.{digits}e}".split("e")
    return f"{m} × 10{str(int(e)).translate(_SUPER)}"

#: Internal column names as a reader should see them; a chapter adds its own through ``names=``.
NAMES = {
    "mse": "MSE", "mae": "MAE", "r2": "R²", "n": "models", "n_train": "training models",
    "n_test": "held-out models", "n_models": "models", "n_families": "families",
    "slope": "slope", "slope_se": "slope s.e.", "intercept": "intercept",
    "band_lower": "band lower", "band_upper": "band upper", "lower": "lower", "upper": "upper",
    "mean": "prediction", "actual": "measured", "prediction": "prediction",
    "paper": "reference", "ours": "ours", "difference": "difference", "tolerance": "tolerance",
    "verdict": "verdict", "family": "family", "model": "model", "target": "target",
    "predictor": "predictor", "coverage": "coverage", "cutoff": "cutoff",
    "explained_variance": "explained variance", "efficiency": "efficiency",
}


def _column_formatter(values: pd.Series, digits: int):
    if pd.api.types.is_bool_dtype(values):
        return lambda v: fmt_number(bool(v)) if pd.notna(v) else "—"
    if pd.api.types.is_float_dtype(values):
        finite = values.dropna()
        if len(finite) and (finite == finite.round()).all() and finite.abs().max() < 1e6 \
                and not (finite.abs() < 1).all():
            return lambda v: "—" if pd.isna(v) else str(int(v))  # a count stored as float
    return lambda v: fmt_number(v, digits)


def show(df: pd.DataFrame | pd.Series, *, names: Mapping[str, str] | None = None,
         digits: int | Mapping[str, int] = 3, caption: str | None = None, index: bool = True,
         percent: tuple[str, ...] = ()):
    """A display-ready table: human names, per-column digits, scroll box when wide.

    ``digits`` is one number or a mapping from (internal) column name to significant digits;
    ``percent`` lists columns shown as percentages.
    """
    from .errors import ArgumentError
    if not isinstance(df, (pd.DataFrame, pd.Series)):
        raise ArgumentError(f"show: df must be a pandas DataFrame or Series, got "
                            f"{type(df).__name__}; build one with pd.DataFrame(...).")
    if not (isinstance(digits, Mapping) or (isinstance(digits, (int, np.integer))
                                             and not isinstance(digits, bool) and digits >= 1)):
        raise ArgumentError(f"show: digits must be a whole number >= 1 or a mapping from column "
                            f"to digits, got {digits!r}.")
    frame = df.to_frame() if isinstance(df, pd.Series) else df.copy()
    lookup = {**NAMES, **(names or {})}
    fmts = {}
    for col in frame.columns:
        d = digits.get(col, 3) if isinstance(digits, Mapping) else digits
        if col in percent:
            fmts[col] = lambda v: "—" if pd.isna(v) else f"{100 * v:.0f}%"
        else:
            fmts[col] = _column_formatter(frame[col], d)
    shown = {c: (lookup.get(c, c) if isinstance(c, str) else c) for c in frame.columns}
    frame = frame.rename(columns=shown)
    frame.index = frame.index.set_names([lookup.get(n, n) if isinstance(n, str) else n
                                         for n in frame.index.names])
    if frame.index.nlevels == 1 and frame.index.name is not None and frame.columns.nlevels == 1:
        # The index's name goes in the header's empty corner, not in a row of its own.
        frame.columns.name, frame.index.name = frame.index.name, None
    styler = frame.style.format({shown[c]: f for c, f in fmts.items()})
    styler = styler.format_index(lambda v: fmt_number(v) if not isinstance(v, str)
                                 else lookup.get(v, v), axis=0)
    text_cols = [i for i, c in enumerate(frame.columns)
                 if not (pd.api.types.is_numeric_dtype(frame[c]) or pd.api.types.is_bool_dtype(frame[c]))]
    if text_cols:  # words read from the left; numbers stay right-aligned (the style sheet)
        styler = styler.set_properties(subset=[frame.columns[i] for i in text_cols],
                                       **{"text-align": "left", "white-space": "normal"})
        styler = styler.set_table_styles(
            [{"selector": f"th.col{i}", "props": "text-align: left;"} for i in text_cols],
            overwrite=False)
    if not index:
        styler = styler.hide(axis="index")
    if caption:
        styler = styler.set_caption(caption)
    return styler.set_table_attributes('class="osl-table"').set_table_styles(
        [{"selector": "", "props": "display:block; overflow-x:auto; max-width:100%;"}],
        overwrite=False)
