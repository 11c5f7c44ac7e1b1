"""Reading a user's own benchmark table: the library's front door.

:func:`read_table` takes a CSV or Parquet file (or a DataFrame) with one row per model, a
model-name column and benchmark columns in the user's own names, and returns a frame indexed by
model name. Metadata (family, parameters, training FLOPs) is optional: name its columns and it
is converted to the library's units; nothing else needs it. Every problem a user can make in a
file gets one :class:`~osl.errors.OSLError` that names the file, the column or the model and the
fix.
"""
from __future__ import annotations

import csv
import io
import os
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from . import validate
from .data import coerce_scores
from .errors import ArgumentError, DataError, DuplicateModelError, SchemaError

SUFFIXES = (".csv", ".parquet", ".pq")

__all__ = ["read_file", "read_table"]


def read_file(path, what: str = "table") -> pd.DataFrame:
    """A CSV or Parquet file as pandas reads it, with clear errors for unreadable files and
    duplicated column names (which pandas would silently rename)."""
    if not isinstance(path, (str, os.PathLike)):
        raise ArgumentError(f"{what} must be a file path or a DataFrame, got "
                            f"{type(path).__name__}.")
    p = Path(path)
    if p.is_dir():
        raise DataError(f"{p}: is a folder; give the path of a CSV or Parquet file.")
    if not p.exists():
        raise DataError(f"{p}: no such file. Check the path (relative paths are taken from "
                        f"{Path.cwd()}).")
    suffix = p.suffix.lower()
    if suffix not in SUFFIXES:
        raise DataError(f"{p}: unsupported file type {suffix or '(none)'!r}; save the table as "
                        ".csv or .parquet.")
    if p.stat().st_size == 0:
        raise DataError(f"{p}: the file is empty; it needs a header row and one row per model.")
    if suffix != ".csv":
        try:
            df = pd.read_parquet(p)
        except ImportError:
            raise DataError(f"{p}: reading Parquet needs the pyarrow package (pip install "
                            "pyarrow), or save the table as CSV.") from None
        except Exception as exc:  # pyarrow raises many types
            raise DataError(f"{p}: not a readable Parquet file ({type(exc).__name__}); "
                            "re-export it, or save it as CSV.") from None
        return validate.frame(df, str(p)) if df.columns.has_duplicates else df
    raw = p.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataError(f"{p}: not UTF-8 text (byte {exc.start}); save the file as UTF-8 CSV."
                        ) from None
    rows = csv.reader(io.StringIO(text))
    header = next(rows, [])
    if not any(h.strip() for h in header):
        raise DataError(f"{p}: no header row; the first line must name the columns.")
    seen, dup = set(), []
    for h in header:
        (dup.append(h) if h in seen else seen.add(h))
    if dup:
        raise SchemaError(f"{p}: column name(s) {sorted(set(dup))} appear more than once in the "
                          "header; rename or remove the copies.")
    for line, row in enumerate(rows, start=2):
        if row and len(row) != len(header):
            raise DataError(f"{p}: malformed CSV (line {line} has {len(row)} fields, the header "
                            f"{len(header)}); every row needs as many fields as the header.")
    try:
        df = pd.read_csv(io.StringIO(text))
    except pd.errors.ParserError as exc:
        raise DataError(f"{p}: malformed CSV ({str(exc).strip().splitlines()[-1]}); every row "
                        "needs as many fields as the header.") from None
    except pd.errors.EmptyDataError:
        raise DataError(f"{p}: no columns to read; the file needs a header row.") from None
    if df.empty:
        raise DataError(f"{p}: the header has no rows under it; add one row per model.")
    return df


def read_table(source, *, model_column: str = "model", scores: Sequence[str] | None = None,
               family_column: str | None = None, params_column: str | None = None,
               flops_column: str | None = None) -> pd.DataFrame:
    """A model table indexed by model name, validated.

    ``source``: a ``.csv``/``.parquet`` path or a DataFrame. ``model_column`` names the models
    (unique, non-empty). ``scores``: the columns that must be scores in [0, 1] (default: every
    numeric column other than the named metadata). Optional metadata, in your column names:
    ``family_column`` (text), ``params_column`` (parameter count, e.g. 7e9) and
    ``flops_column`` (training FLOPs, e.g. 8.4e22); they become the library's ``family``,
    ``params_b`` (billions), ``flops_1e21`` and ``log10_flops`` columns.
    """
    what = str(source) if isinstance(source, (str, os.PathLike)) else "table"
    df = source.copy() if isinstance(source, pd.DataFrame) else read_file(source, "source")
    df = validate.frame(df.reset_index(drop=True), what) if isinstance(source, pd.DataFrame) \
        else df
    if not isinstance(model_column, str):
        raise ArgumentError(f"model_column must be a column name, got {model_column!r}.")
    if model_column not in df.columns:
        raise SchemaError(f"{what}: no model-name column {model_column!r} (columns: "
                          f"{list(map(str, df.columns))[:12]}). Pass model_column='<name>'.")
    names = df[model_column]
    blank = names.isna() | (names.astype(str).str.strip() == "")
    if blank.any():
        rows = [int(i) + 2 for i in np.flatnonzero(blank.to_numpy())[:5]]
        raise SchemaError(f"{what}: empty model name(s) in column {model_column!r} (file lines "
                          f"{rows}); name every model.")
    names = names.astype(str).str.strip()
    if names.duplicated().any():
        dup = sorted(set(names[names.duplicated()]))[:5]
        raise DuplicateModelError(f"{what}: model(s) {dup} appear in more than one row; keep "
                                  "one row per model.")
    meta = {c for c in (family_column, params_column, flops_column) if c is not None}
    for c in meta:
        if c not in df.columns:
            raise SchemaError(f"{what}: metadata column {c!r} not found (columns: "
                              f"{list(map(str, df.columns))[:12]}).")
    out = df.drop(columns=[model_column]).set_axis(pd.Index(names, name="model"))
    if scores is None:
        scores = [c for c in out.columns if c not in meta and
                  (pd.api.types.is_numeric_dtype(out[c]) or pd.api.types.is_bool_dtype(out[c]))]
    else:
        scores = list(validate.names("scores", scores))
        missing = [c for c in scores if c not in out.columns]
        if missing:
            raise SchemaError(f"{what}: score column(s) {missing} not found (columns: "
                              f"{list(map(str, out.columns))[:12]}).")
    if scores:
        out[scores] = coerce_scores(out, scores, table=what)
    if family_column is not None:
        fam = out.pop(family_column)
        if fam.isna().any():
            raise SchemaError(f"{what}: family column {family_column!r} has empty cells; give "
                              "every model a family (its own name if it has none).")
        out["family"] = fam.astype(str)
    if params_column is not None:
        n = coerce_scores(out, [params_column], table=what, lower=0.0, upper=None)[params_column]
        out = out.drop(columns=[params_column]) if params_column != "params_b" else out
        out["params_b"] = n.to_numpy() / 1e9
    if flops_column is not None:
        f = coerce_scores(out, [flops_column], table=what, lower=0.0, upper=None)[flops_column]
        f = f.to_numpy()
        out = out.drop(columns=[flops_column]) if flops_column != "flops_1e21" else out
        out["flops_1e21"] = f / 1e21
        with np.errstate(divide="ignore"):
            out["log10_flops"] = np.where(f > 0, np.log10(np.where(f > 0, f, 1.0)), np.nan)
    return out
