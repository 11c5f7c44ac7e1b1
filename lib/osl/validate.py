"""Argument checks of the public API: each raises :class:`~osl.errors.ArgumentError` whose
message names the argument, the value received and what to pass instead.

They run once, where a user's value enters the library; inside, arrays flow unchecked.
"""
from __future__ import annotations

import numbers
from typing import Sequence

import numpy as np
import pandas as pd

from .errors import ArgumentError, SchemaError


def _show(value) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def integer(name: str, value, *, low: int | None = None, high: int | None = None) -> int:
    """``value`` as an int in ``[low, high]``; bools, floats and strings are refused."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise ArgumentError(f"{name} must be a whole number, got {_show(value)} "
                            f"({type(value).__name__}).")
    value = int(value)
    if (low is not None and value < low) or (high is not None and value > high):
        rng = (f"between {low} and {high}" if low is not None and high is not None
               else f"at least {low}" if low is not None else f"at most {high}")
        raise ArgumentError(f"{name} must be {rng}, got {value}.")
    return value


def real(name: str, value, *, low: float | None = None, high: float | None = None,
         low_open: bool = False, high_open: bool = False) -> float:
    """``value`` as a finite float in the stated interval."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise ArgumentError(f"{name} must be a number, got {_show(value)} "
                            f"({type(value).__name__}).")
    value = float(value)
    bad = not np.isfinite(value)
    if low is not None:
        bad |= value <= low if low_open else value < low
    if high is not None:
        bad |= value >= high if high_open else value > high
    if bad:
        lo = "" if low is None else ("(" if low_open else "[") + f"{low:g}"
        hi = "" if high is None else f"{high:g}" + (")" if high_open else "]")
        raise ArgumentError(f"{name} must be a finite number in {lo or '(-inf'}, "
                            f"{hi or 'inf)'}, got {value:g}.")
    return value


def level(value, name: str = "level") -> float:
    """An interval level: a fraction strictly between 0 and 1 (0.8 for 80%)."""
    if isinstance(value, numbers.Real) and not isinstance(value, bool) and 1 < value < 100:
        raise ArgumentError(f"{name} must be a fraction in (0, 1), got {value:g}; "
                            f"for {value:g}% pass {value / 100:g}.")
    return real(name, value, low=0.0, high=1.0, low_open=True, high_open=True)


def seed(value, name: str = "seed") -> int:
    return integer(name, value, low=0)


def choice(name: str, value, options: Sequence[str]) -> str:
    if not isinstance(value, str) or value not in options:
        raise ArgumentError(f"{name} must be one of {list(options)}, got {_show(value)}.")
    return value


def names(name: str, value, *, min_count: int = 1) -> tuple[str, ...]:
    """A non-empty sequence of distinct, non-empty strings (a single string is one name)."""
    if isinstance(value, str):
        value = (value,)
    if isinstance(value, (pd.Index, pd.Series, np.ndarray)):
        value = list(value)
    if not isinstance(value, (list, tuple)):
        raise ArgumentError(f"{name} must be a list of column names, got {_show(value)} "
                            f"({type(value).__name__}).")
    bad = [v for v in value if not isinstance(v, str) or not v.strip()]
    if bad:
        raise ArgumentError(f"{name} must hold non-empty strings, got {_show(bad[0])}.")
    dup = sorted({v for v in value if list(value).count(v) > 1})
    if dup:
        raise ArgumentError(f"{name} lists {dup} more than once; give each name once.")
    if len(value) < min_count:
        raise ArgumentError(f"{name} needs at least {min_count} name(s), got {len(value)}.")
    return tuple(value)


def frame(value, name: str = "models") -> pd.DataFrame:
    """A DataFrame indexed by unique, non-empty model names."""
    if not isinstance(value, pd.DataFrame):
        raise ArgumentError(f"{name} must be a pandas DataFrame indexed by model name (read a "
                            f"file with osl.read_table), got {type(value).__name__}.")
    if value.columns.has_duplicates:
        dup = sorted(set(map(str, value.columns[value.columns.duplicated()])))
        raise ArgumentError(f"{name} has duplicated column(s) {dup}; keep one of each.")
    if value.index.has_duplicates:
        dup = sorted(set(map(str, value.index[value.index.duplicated()])))[:5]
        raise ArgumentError(f"{name} has duplicated model name(s) {dup} in its index; keep one "
                            "row per model.")
    return value


def mask(value, n: int, name: str = "train", *, rows: pd.Index | None = None) -> np.ndarray:
    """A boolean mask of length ``n`` (a boolean Series is aligned on ``rows``)."""
    if value is None:
        return np.ones(n, bool)
    if isinstance(value, pd.Series) and rows is not None:
        if not value.index.equals(rows):
            if not value.index.isin(rows).all() or len(value) != n:
                raise ArgumentError(f"{name}: a Series mask must be indexed by the same models as "
                                    "the table.")
            value = value.reindex(rows)
    arr = np.asarray(value)
    if arr.dtype != bool:
        raise ArgumentError(f"{name} must be a boolean mask over the table's rows (True = use), "
                            f"got dtype {arr.dtype}; for row positions or names build one with "
                            f"models.index.isin(...).")
    if arr.shape != (n,):
        raise ArgumentError(f"{name} has {arr.size} entries for a table of {n} models; pass one "
                            "True/False per row.")
    return arr


def columns_present(models: pd.DataFrame, columns: Sequence[str], *, what: str,
                    fix: str = "") -> None:
    missing = [c for c in columns if c not in models.columns]
    if missing:
        raise SchemaError(f"{what}: column(s) {missing} not in the table (columns present: "
                       f"{list(map(str, models.columns))[:12]}).{(' ' + fix) if fix else ''}")
