"""The ``osl`` command: forecast your own models from a benchmark table.

::

    osl predict --train TRAIN.csv --targets TARGETS.csv --test TEST.csv --out PRED.csv
    osl fit      --train TRAIN.csv --targets TARGETS.csv [--json]
    osl plot     --train TRAIN.csv --targets TARGETS.csv --target NAME --out fig.png
    osl crossing --train TRAIN.csv --targets TARGETS.csv --family-column family \\
                 --flops-column flops --reference <family>

TRAIN and TEST are CSV or Parquet files with a model column and benchmark scores in [0, 1]
(blanks imputed); TARGETS holds a model column and one or more target columns for (some of) the
TRAIN models. Every target is fitted with its own sigmoid link on the capabilities (principal
components) of the benchmarks, sharing one capability fit and one bootstrap. ``predict`` writes
one row per test model and target: ``model,target,prediction,lower,upper,ood_score,ood_flag``
(the predictive interval at ``--level``, widened for models unlike the TRAIN models that have
a target value, the models the law learned from; see :mod:`osl.ood`). Bad input exits with status 2 and one line on stderr that names the file,
column or option and the fix; no output file is written then (files are written atomically).

Everything here is a thin layer over the public API (:func:`osl.read_table`,
:func:`osl.fit_targets`, :meth:`~osl.predict.TargetSet.bootstrap`, :func:`osl.ood.fit_ood`);
:func:`forecast` is the whole ``predict`` computation for tables already in memory.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from . import __version__
from .errors import ArgumentError, OSLError, SchemaError

__all__ = ["Forecast", "Inputs", "UsageError", "forecast", "forecast_figure", "main", "read_inputs"]

#: Columns of the file ``osl predict`` writes, in order.
COLUMNS = ("model", "target", "prediction", "lower", "upper", "ood_score", "ood_flag")
PLOT_SUFFIXES = (".png", ".svg", ".pdf")
OUT_HELP = ("file to write (predict: the forecasts as .csv; plot: the figure as .png, .svg or "
            ".pdf; fit: the summary as .txt or .json instead of printing it)")


class UsageError(OSLError):
    """A bad command-line option (exit status 2)."""


# --------------------------------------------------------------------------------------------
# Option types: each refuses a bad value with a message naming the option and the fix
# --------------------------------------------------------------------------------------------
def _names(text: str, option: str) -> tuple[str, ...]:
    names = tuple(n.strip() for n in text.split(","))
    if not text.strip() or any(not n for n in names):
        raise UsageError(f"{option}: give comma-separated column names without empty entries, "
                         f"got {text!r} (e.g. {option} MMLU,GSM8K,ARC-C).")
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise UsageError(f"{option}: {dup} listed more than once; give each column once.")
    return names


def _number(text: str, option: str, kind=float) -> float:
    try:
        return kind(text)
    except ValueError:
        what = "a whole number" if kind is int else "a number"
        raise UsageError(f"{option} must be {what}, got {text!r}.") from None


def _level(text: str) -> float:
    x = _number(text, "--level")
    if not 0 < x < 1:
        hint = f"; for {x:g}% pass {x / 100:g}" if 1 < x < 100 and x == int(x) else ""
        raise UsageError(f"--level must be a fraction strictly between 0 and 1 (0.8 for an 80% "
                         f"interval), got {text}{hint}.")
    return x


def _pcs(text: str):
    if text.strip().lower() == "auto":
        return "auto"
    k = _number(text, "--pcs", int)
    if k < 1:
        raise UsageError(f"--pcs must be a whole number of at least 1 or 'auto', got {text}.")
    return k


def _chance(text: str) -> dict[str, float]:
    out = {}
    for item in text.split(","):
        name, sep, value = item.partition("=")
        if not sep or not name.strip() or not value.strip():
            raise UsageError(f"--chance: expected target=value pairs separated by commas (e.g. "
                             f"--chance gpqa=0.25,musr=0.33), got {item!r}.")
        v = _number(value.strip(), f"--chance {name.strip()}")
        if not 0 <= v < 1:
            raise UsageError(f"--chance {name.strip()}: a chance level must be in [0, 1), got "
                             f"{value.strip()}.")
        if name.strip() in out:
            raise UsageError(f"--chance: {name.strip()!r} given more than once.")
        out[name.strip()] = v
    return out


def _threshold(text: str) -> float:
    x = _number(text, "--threshold")
    if not 0 < x < 1:
        raise UsageError(f"--threshold must be a score strictly between 0 and 1, got {text}.")
    return x


# --------------------------------------------------------------------------------------------
# Reading the files
# --------------------------------------------------------------------------------------------
def _numeric_columns(df: pd.DataFrame, skip: set) -> tuple[list[str], list[str]]:
    """Columns usable as scores (numeric, every value in [0, 1]) and numeric ones that are not."""
    good, bad = [], []
    for c in df.columns:
        if c in skip or not pd.api.types.is_numeric_dtype(df[c]) or \
                pd.api.types.is_bool_dtype(df[c]):
            continue
        v = df[c].to_numpy(dtype=float, na_value=np.nan)
        v = v[np.isfinite(v)]
        (good if v.size and v.min() >= 0 and v.max() <= 1 else bad).append(str(c))
    return good, bad


@dataclass
class Inputs:
    """The validated tables of one command."""

    train: pd.DataFrame
    targets: pd.DataFrame
    test: pd.DataFrame | None
    benchmarks: tuple[str, ...]
    notes: list[str] = field(default_factory=list)


def read_inputs(args, *, need_test: bool) -> Inputs:
    """Read and check TRAIN, TARGETS (and TEST): one clear error for any problem."""
    from .table import read_file, read_table

    notes: list[str] = []
    mc = args.model_column
    meta = [c for c in (args.family_column, args.flops_column) if c]
    if args.reference and not (args.family_column and args.flops_column):
        raise UsageError("--reference needs --family-column and --flops-column (the reference "
                         "family's models and their training FLOPs define the compute axis).")
    # Targets: every column but the model column (or the ones named by --target-columns).
    def need_model_column(raw: pd.DataFrame, path) -> None:
        if mc not in raw.columns:
            raise SchemaError(f"{path}: no model-name column {mc!r} (columns: "
                              f"{list(map(str, raw.columns))[:12]}). Pass --model-column <name>.")

    tcols_raw = read_file(args.targets, "--targets")
    need_model_column(tcols_raw, args.targets)
    if args.target_columns is not None:
        tnames = list(_names(args.target_columns, "--target-columns"))
        missing = [t for t in tnames if t not in tcols_raw.columns]
        if missing:
            raise SchemaError(f"{args.targets}: target column(s) {missing} not found (columns: "
                              f"{list(map(str, tcols_raw.columns))[:12]}); fix "
                              "--target-columns.")
    else:
        tnames = [str(c) for c in tcols_raw.columns if c != mc]
        if not tnames:
            raise SchemaError(f"{args.targets}: no target column besides {mc!r}; add one column "
                              "per target (scores in [0, 1]).")
    try:
        targets = read_table(args.targets, model_column=mc, scores=tnames)[tnames]
    except OSLError as exc:
        hint = "" if args.target_columns else (" (every column of --targets other than the "
                                               "model column is a target; choose them with "
                                               "--target-columns)")
        raise type(exc)(f"{exc}{hint}") from None
    # Benchmarks: as given, or the score-like numeric columns TRAIN (and TEST) share.
    train_raw = read_file(args.train, "--train")
    need_model_column(train_raw, args.train)
    test_raw = read_file(args.test, "--test") if need_test else None
    if test_raw is not None:
        need_model_column(test_raw, args.test)
    if args.benchmarks is not None:
        bench = _names(args.benchmarks, "--benchmarks")
        clash = [b for b in bench if b in tnames]
        if clash:
            raise UsageError(f"--benchmarks: {clash} are also target columns of {args.targets}; "
                             "a column is either a benchmark or a target.")
    else:
        skip = {mc, *meta, *map(str, tcols_raw.columns)}  # a column of TARGETS is no benchmark
        good, bad = _numeric_columns(train_raw, skip)
        if test_raw is not None:
            not_in_test = [c for c in good if c not in test_raw.columns]
            good = [c for c in good if c in test_raw.columns]
        else:
            not_in_test = []
        if len(good) < 2:
            raise UsageError(f"--benchmarks: found {len(good)} numeric column(s) with scores in "
                             f"[0, 1] in {args.train}" + (" and " + str(args.test) if need_test
                                                           else "") +
                             f" ({good}) besides the columns of {args.targets}; name the benchmark "
                             "columns with --benchmarks a,b,c (and the targets with "
                             "--target-columns if TARGETS is the same file).")
        bench = tuple(good)
        note = f"benchmarks (numeric columns in [0, 1] of TRAIN{' and TEST' if need_test else ''}" \
               f"): {', '.join(bench)}"
        if bad:
            note += f"; ignored, values outside [0, 1]: {', '.join(bad)}"
        if not_in_test:
            note += f"; ignored, not in TEST: {', '.join(not_in_test)}"
        notes.append(note)
    missing = [b for b in bench if b not in train_raw.columns]
    if missing:
        raise SchemaError(f"{args.train}: benchmark column(s) {missing} not found (columns: "
                          f"{list(map(str, train_raw.columns))[:12]}); fix --benchmarks.")
    meta_kw = {"family_column": args.family_column, "flops_column": args.flops_column}
    train = read_table(args.train, model_column=mc, scores=list(bench), **meta_kw)
    keep = list(bench) + (["family"] if args.family_column else []) + \
        (["flops_1e21", "log10_flops"] if args.flops_column else [])
    train = train[keep]
    empty = train.index[train[list(bench)].isna().all(axis=1)]
    if len(empty):
        raise SchemaError(f"{args.train}: model(s) {list(empty[:5])} have no score on any "
                          f"benchmark ({', '.join(bench)}); add scores or drop the rows.")
    clash = [t for t in tnames if t in keep]
    if clash:
        raise UsageError(f"{args.targets}: target column(s) {clash} have the name of a benchmark "
                         "or metadata column of TRAIN; rename them.")
    test = None
    if need_test:
        missing = [b for b in bench if b not in test_raw.columns]
        if missing:
            raise SchemaError(f"{args.test}: benchmark column(s) {missing} not found; add them "
                              "(a column left blank is imputed for every model) or drop them "
                              "from --benchmarks.")
        test = read_table(args.test, model_column=mc, scores=list(bench))
        empty = test.index[test[list(bench)].isna().all(axis=1)]
        if len(empty):
            raise SchemaError(f"{args.test}: model(s) {list(empty[:5])} have no score on any "
                              f"benchmark ({', '.join(bench)}); add scores or drop the rows.")
    extra = targets.index[~targets.index.isin(train.index)]
    if len(extra) == len(targets):
        raise SchemaError(f"{args.targets}: none of its {len(targets)} model names is in "
                          f"{args.train} (e.g. {list(extra[:3])}); the target models must be "
                          "TRAIN models with the same names.")
    if len(extra):
        notes.append(f"{len(extra)} model(s) of TARGETS are not in TRAIN and were ignored "
                     f"(e.g. {', '.join(map(str, extra[:3]))})")
    targets = targets.reindex(train.index)
    empty_t = [t for t in tnames if targets[t].isna().all()]
    if empty_t:
        raise SchemaError(f"{args.targets}: target column(s) {empty_t} have no value for any "
                          "TRAIN model; fill them or leave them out with --target-columns.")
    return Inputs(train, targets, test, tuple(bench), notes)


# --------------------------------------------------------------------------------------------
# The computation
# --------------------------------------------------------------------------------------------
@dataclass
class Forecast:
    """What ``osl predict`` computes: the output table and what the summary reports."""

    table: pd.DataFrame
    fits: object            # osl.predict.TargetSet
    boots: object           # osl.predict.BootstrapSet
    ood: object             # osl.ood.OODModel
    n_pcs: int
    benchmarks: tuple[str, ...]
    notes: list[str]
    #: The intervals before the widening rule (same rows as ``table``).
    unwidened: pd.DataFrame | None = None

    def summary(self, n_train: int, n_test: int, out: str | None = None) -> str:
        evr = self.ood.fit.explained_variance_ratio[0, :self.n_pcs].sum()
        errs = ", ".join(f"{t} {_rmse(self.fits[t]):.3f} (n={self.fits[t].n_train_})"
                         for t in self.fits)
        flagged = self.table.drop_duplicates("model")
        flagged = flagged.loc[flagged["ood_flag"], "model"].tolist()
        nb = len(next(iter(self.boots.boots.values())).params)
        ok = min(b.n_ok for b in self.boots.boots.values())
        text = (
            f"Fitted {len(self.fits)} target(s) on the {len(self.ood.train_scores)} of the "
            f"{n_train} TRAIN models that have a target value: PC-1..{self.n_pcs} of "
            f"{len(self.benchmarks)} benchmarks explain {evr:.1%} of their variance. "
            f"In-sample RMSE per target: {errs}. Bootstrap: {nb} resamples (at least {ok} "
            f"converged per target). Predicted {n_test} test model(s); {len(flagged)} flagged "
            f"as unlike the {len(self.ood.train_scores)} models the law learned from (OOD score above "
            f"{self.ood.threshold:.2f}, a threshold that flags {self.ood.rate:.0%} of models "
            "like them)"
            + (f": {', '.join(flagged[:8])}{' ...' if len(flagged) > 8 else ''}; their "
               "intervals were widened, and their forecasts deserve less trust"
               if flagged else "") + "."
            + "".join(f" Note: {n}." for n in self.notes)
            + (f" Wrote {out}." if out else ""))
        return textwrap.fill(text, width=100, break_on_hyphens=False, break_long_words=False)


def _rmse(p) -> float:
    """In-sample root-mean-square error of a fitted predictor, on the target's scale."""
    return float(np.sqrt(np.mean(p.residuals_ ** 2)) * (p.target_range[1] - p._bottom))


def _choose_pcs(models, targets, train, bench, link_spec, chance, has_flops) -> tuple[int, str]:
    from .predict import choose_n_pcs_many
    ks = [k for k in (1, 2, 3) if k < len(bench)] or [1]
    per = {t: {"chance": chance[t]} for t in chance}
    inner = "compute" if has_flops else "top"
    table = choose_n_pcs_many(models, list(targets), train, ks, per_target=per, inner=inner,
                              if_unfittable="skip", benchmarks=bench, link=link_spec,
                              reference=None)
    cols = [f"inner_mse_k{k}" for k in ks]
    if table.empty:
        return ks[0], f"--pcs auto: no candidate could be fitted on an inner split; used {ks[0]}"
    mean = table[cols].mean(axis=0, skipna=True)
    k = int(ks[int(np.nanargmin(mean.to_numpy()))])
    how = "by FLOPs" if has_flops else "by each target (strongest 40% held out)"
    return k, (f"--pcs auto chose {k} PC(s): the lowest mean inner-split MSE over the targets "
               f"(training models split {how}; candidates {ks})")


def fit_all(inputs: Inputs, *, n_pcs, link: str, chance: dict, reference: str | None):
    """Fit every target (one :func:`osl.fit_targets` call per chance level)."""
    from .predict import LinkSpec, TargetSet, fit_targets

    bench = inputs.benchmarks
    unknown = [t for t in chance if t not in inputs.targets.columns]
    if unknown:
        raise UsageError(f"--chance: {unknown} are not target columns (targets: "
                         f"{list(inputs.targets.columns)}).")
    models = inputs.train.join(inputs.targets)
    spec = LinkSpec(floor=(link == "floored"))
    notes = []
    if n_pcs == "auto":
        n_pcs, note = _choose_pcs(models, inputs.targets.columns, None, bench, spec, chance,
                                  "log10_flops" in models)
        notes.append(note)
    elif n_pcs > len(bench):
        raise UsageError(f"--pcs {n_pcs}: at most as many PCs as benchmarks ({len(bench)}: "
                         f"{', '.join(bench)}); lower --pcs.")
    groups: dict = {}
    for t in inputs.targets.columns:
        groups.setdefault(chance.get(t), []).append(t)
    fits = {}
    for ch, names in groups.items():
        ts = fit_targets(models, names, None, benchmarks=bench, n_pcs=n_pcs, link=spec,
                         chance=ch, reference=reference)
        fits.update(ts.fits)
    order = list(inputs.targets.columns)
    return TargetSet({t: fits[t] for t in order}), n_pcs, notes


def forecast(inputs: Inputs, *, n_pcs=3, link: str = "floored", chance: dict | None = None,
             level: float = 0.8, n_boot: int = 1000, seed: int = 0, reference: str | None = None,
             progress: bool = False) -> Forecast:
    """The ``osl predict`` computation on validated tables: fit, bootstrap, predict, OOD."""
    from .ood import fit_ood, widen

    fits, k, notes = fit_all(inputs, n_pcs=n_pcs, link=link, chance=chance or {},
                             reference=reference)
    boots = fits.bootstrap(n_boot, seed, progress=progress)
    test = inputs.test
    # The models the law learned from: TRAIN models with a value for at least one target.
    learned = inputs.targets.notna().any(axis=1).to_numpy()
    ood = fit_ood(inputs.train[learned], inputs.benchmarks, k)
    o = ood.score(test)
    factor = ood.widen_factor(o["ood_score"].to_numpy())
    parts = []
    shared = boots.predict(test, level)  # targets bootstrapped together share features
    for t in fits:
        p = shared.loc[t]
        lo, hi = widen(p["mean"], p["lower"], p["upper"], factor, bounds=fits[t].target_range)
        parts.append(pd.DataFrame({
            "model": test.index.astype(str), "target": t, "prediction": p["mean"].to_numpy(),
            "lower": lo, "upper": hi, "ood_score": o["ood_score"].to_numpy(),
            "ood_flag": o["ood_flag"].to_numpy(), "lower_unwidened": p["lower"].to_numpy(),
            "upper_unwidened": p["upper"].to_numpy()}))
    table = pd.concat(parts, ignore_index=True)
    # One block of rows per model, targets in the order of TARGETS.
    table["_m"] = np.tile(np.arange(len(test)), len(parts))
    table = table.sort_values(["_m"], kind="stable").drop(columns="_m").reset_index(drop=True)
    return Forecast(table[list(COLUMNS)], fits, boots, ood, k, inputs.benchmarks,
                    inputs.notes + notes, table[["lower_unwidened", "upper_unwidened"]])


# --------------------------------------------------------------------------------------------
# Output helpers
# --------------------------------------------------------------------------------------------
def _check_out(path: str, suffixes: Sequence[str], inputs: Sequence[str]) -> Path:
    p = Path(path)
    if p.suffix.lower() not in suffixes:
        raise UsageError(f"--out {path}: the file name must end in {' or '.join(suffixes)}.")
    if not p.parent.is_dir():
        raise UsageError(f"--out {path}: folder {p.parent} does not exist; create it first.")
    if p.is_dir():
        raise UsageError(f"--out {path}: is a folder; give a file name.")
    for i in inputs:
        if i and Path(i).exists() and p.exists() and os.path.samefile(i, p):
            raise UsageError(f"--out {path}: is also an input file; write elsewhere.")
    return p


def _write_atomic(path: Path, write) -> None:
    """Write through ``write(tmp_path)`` to a temporary file in the same folder, then rename."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def forecast_figure(fits, boots, target: str, train: pd.DataFrame, targets: pd.DataFrame,
                    test: pd.DataFrame | None = None, table: pd.DataFrame | None = None, *,
                    level: float = 0.8, axis: str = "pc1"):
    """A prediction figure for one target: the fitted link with its bootstrap band, the
    training models' measured scores and the test models' forecasts with intervals (flagged
    models in red), against PC-1 (``axis="pc1"``) or the equivalent-compute axis
    (``axis="compute"``, needs a reference family)."""
    import matplotlib.pyplot as plt

    from .figures import plot_band
    from .predict.link import link as link_fn

    p, b = fits[target], boots[target]
    fig, ax = plt.subplots(figsize=(7.0, 4.2))
    y = targets[target].reindex(train.index)
    has = y.notna().to_numpy()
    if axis == "compute":
        xt = p.equivalent_log_flops(train[has])
        xs = p.equivalent_log_flops(test) if test is not None else np.array([])
        lo_x = np.nanmin(np.r_[xt, xs]) - 0.3
        hi_x = np.nanmax(np.r_[xt, xs]) + 0.3
        grid = np.linspace(lo_x, hi_x, 120)
        band = b.curve_band(grid, level)
        plot_band(ax, grid, band["mean"], band["lower"], band["upper"])
        ax.set_xlabel(f"{p.reference}-equivalent log10 training FLOPs")
    else:
        xt = p.features_of(train[has])[:, 0]
        xs = p.features_of(test)[:, 0] if test is not None else np.array([])
        lo_x = np.nanmin(np.r_[xt, xs]) - 0.05
        hi_x = np.nanmax(np.r_[xt, xs]) + 0.05
        grid = np.linspace(lo_x, hi_x, 120)
        G = np.zeros((len(grid), p.features.n_features))
        G[:, 0] = grid
        mean = p.from_unit(link_fn(p.params_, G))
        D = p.from_unit(link_fn(b.params[b.ok], np.broadcast_to(G, (b.n_ok,) + G.shape)))
        lo, hi = np.quantile(D, [(1 - level) / 2, (1 + level) / 2], axis=0)
        plot_band(ax, grid, mean, lo, hi)
        other = "" if p.features.n_features == 1 else " (curve: other PCs at the training mean)"
        ax.set_xlabel(f"PC-1 of the benchmarks{other}")
    ax.scatter(xt, y[has], s=16, color="0.35", label="training (measured)", zorder=3)
    if test is not None and table is not None and len(test):
        t = table[table["target"] == target].set_index("model").reindex(test.index.astype(str))
        flag = t["ood_flag"].to_numpy(bool)
        for sel, colour, marker, lab in ((~flag, "C1", "D", "test (forecast)"),
                                         (flag, "C4", "s", "test, flagged as unlike training "
                                                           "(interval widened)")):
            if sel.any():
                pr = t["prediction"].to_numpy()[sel]
                ax.errorbar(xs[sel], pr, yerr=[pr - t["lower"].to_numpy()[sel],
                                               t["upper"].to_numpy()[sel] - pr],
                            fmt=marker, ms=5, color=colour, capsize=2, lw=1, label=lab,
                            zorder=4)
    ax.set_ylabel(f"{target} (score)")
    ax.set_title(f"{target}: fitted link with {level:.0%} band", fontsize=10)
    ax.legend(fontsize=8, loc="upper left", frameon=True)
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------------------------
# The command line
# --------------------------------------------------------------------------------------------
class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (raised, then printed by :func:`main`)."""

    def error(self, message: str):
        import re
        message = re.sub(r"^argument (\S+): (?=\1\b)", "", message)  # name the option once
        raise UsageError(f"{message} (see {self.prog} --help)")


def _common(p: argparse.ArgumentParser, *, test: str | None) -> None:
    g = p.add_argument_group("input files")
    g.add_argument("--train", required=True, metavar="TRAIN",
                   help="CSV or Parquet: a model column and benchmark scores in [0, 1] of the "
                        "training models (blanks are imputed)")
    g.add_argument("--targets", required=True, metavar="TARGETS",
                   help="CSV or Parquet: a model column and one or more target columns (scores "
                        "in [0, 1]) for some of the TRAIN models")
    if test == "required":
        g.add_argument("--test", required=True, metavar="TEST",
                       help="CSV or Parquet: the models to forecast, with the benchmark columns "
                            "(a column may be blank throughout: it is imputed)")
    elif test == "optional":
        g.add_argument("--test", metavar="TEST", help="models to forecast and show (optional)")
    g.add_argument("--model-column", default="model", metavar="NAME",
                   help="name of the model column in every file (default: model)")
    g.add_argument("--target-columns", metavar="A,B",
                   help="use only these columns of TARGETS as targets (default: all but the "
                        "model column)")
    m = p.add_argument_group("method")
    m.add_argument("--benchmarks", metavar="A,B,C",
                   help="benchmark columns (default: the numeric columns with scores in [0, 1] "
                        "common to the files, printed)")
    m.add_argument("--pcs", type=_arg(_pcs), default=3, metavar="K|auto",
                   help="number of principal components (default 3); 'auto' chooses 1-3 on "
                        "the training models by an inner extrapolation split")
    m.add_argument("--link", choices=("floored", "plain"), default="floored",
                   help="floored: y = (1-b) sigmoid(c + w.x) + b with a fitted floor b in "
                        "[0, 0.2] (default); plain: b = 0")
    m.add_argument("--chance", type=_arg(_chance), default={}, metavar="T=V,...",
                   help="chance level of some targets (e.g. gpqa=0.25): the link's floor starts "
                        "there")
    m.add_argument("--level", type=_arg(_level), default=0.8,
                   help="level of the intervals, a fraction (default 0.8)")
    m.add_argument("--n-boot", type=_arg(lambda s: _int_at_least(s, "--n-boot", 2)),
                   default=1000, metavar="N", help="bootstrap resamples (default 1000)")
    m.add_argument("--seed", type=_arg(lambda s: _int_at_least(s, "--seed", 0)), default=0,
                   help="random seed of the bootstrap (default 0)")
    c = p.add_argument_group("compute axis (optional metadata of TRAIN)")
    c.add_argument("--family-column", metavar="NAME", help="column naming each model's family")
    c.add_argument("--flops-column", metavar="NAME",
                   help="column of training FLOPs (absolute, e.g. 8.4e22)")
    c.add_argument("--reference", metavar="FAMILY",
                   help="family whose compute defines the equivalent-compute axis")
    o = p.add_argument_group("output")
    o.add_argument("--progress", action="store_true",
                   help="show the bootstrap progress bar even when stderr is not a terminal")
    o.add_argument("--quiet", action="store_true", help="no progress bar and no summary")


def _int_at_least(text: str, option: str, low: int) -> int:
    v = _number(text, option, int)
    if v < low:
        raise UsageError(f"{option} must be at least {low}, got {text}.")
    return v


def _arg(fn):
    """An argparse type that turns our UsageError into argparse's own (so argparse names it)."""
    def convert(text):
        try:
            return fn(text)
        except UsageError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
    convert.__name__ = fn.__name__.strip("_") or "value"
    return convert


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="osl", description="Forecast language-model benchmark scores from "
                     "observational scaling laws (Ruan, Maddison & Hashimoto, 2024) on your own "
                     "tables.")
    parser.add_argument("--version", action="version", version=f"osl {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    p = sub.add_parser("predict", help="forecast the TEST models' targets with intervals and an "
                       "out-of-distribution score",
                       description="Fit every target of TARGETS on the TRAIN models, bootstrap "
                       "it, and write one row per TEST model and target: "
                       + ",".join(COLUMNS) + ".")
    _common(p, test="required")
    p.add_argument("--out", required=True, metavar="PRED.csv", help=OUT_HELP)
    f = sub.add_parser("fit", help="summary of the fitted law: loadings, explained variance, "
                       "link parameters with intervals",
                       description="Fit every target and print the capability space and each "
                       "link's parameters with bootstrap intervals.")
    _common(f, test=None)
    f.add_argument("--json", action="store_true", help="print JSON instead of text")
    f.add_argument("--out", metavar="FILE", help=OUT_HELP)
    pl = sub.add_parser("plot", help="a prediction figure for one target (PNG, SVG or PDF)",
                        description="Draw one target's fitted link with its band against PC-1 "
                        "or the equivalent-compute axis, the training models, and the TEST "
                        "models' forecasts.")
    _common(pl, test="optional")
    pl.add_argument("--target", metavar="NAME", help="the target to draw (default: the first)")
    pl.add_argument("--axis", choices=("pc1", "compute"),
                    help="x-axis (default: compute with --reference, else pc1)")
    pl.add_argument("--out", required=True, metavar="FIG.png", help=OUT_HELP)
    c = sub.add_parser("crossing", help="when a target crosses a threshold, with an interval "
                       "(needs the compute axis)",
                       description="Equivalent training compute at which each target's fitted "
                       "curve crosses a threshold, with a bootstrap interval.")
    _common(c, test=None)
    c.add_argument("--threshold", type=_arg(_threshold), metavar="Y",
                   help="score to cross (default: halfway between floor and ceiling)")
    c.add_argument("--json", action="store_true", help="print JSON instead of text")
    return parser


def _emit(text: str, out: str | None) -> None:
    if out:
        p = _check_out(out, (".txt", ".json", ".csv"), [])
        _write_atomic(p, lambda tmp: Path(tmp).write_text(text + "\n"))
    else:
        sys.stdout.write(text + "\n")


def _cmd_predict(args) -> int:
    out = _check_out(args.out, (".csv",), [args.train, args.targets, args.test])
    inputs = read_inputs(args, need_test=True)
    show = not args.quiet and (args.progress or sys.stderr.isatty())
    fc = forecast(inputs, n_pcs=args.pcs, link=args.link, chance=args.chance, level=args.level,
                  n_boot=args.n_boot, seed=args.seed, reference=args.reference, progress=show)
    _write_atomic(out, lambda tmp: fc.table.to_csv(tmp, index=False, float_format="%.6g"))
    if not args.quiet:
        print(fc.summary(len(inputs.train), len(inputs.test), str(out)), file=sys.stderr)
    return 0


def _fitted(args, need_test=False):
    inputs = read_inputs(args, need_test=need_test)
    fits, k, notes = fit_all(inputs, n_pcs=args.pcs, link=args.link, chance=args.chance,
                             reference=args.reference)
    show = not args.quiet and (args.progress or sys.stderr.isatty())
    boots = fits.bootstrap(args.n_boot, args.seed, progress=show)
    for n in inputs.notes + notes:
        if not args.quiet:
            print(f"note: {n}.", file=sys.stderr)
    return inputs, fits, boots, k


def _cmd_fit(args) -> int:
    if args.out:
        _check_out(args.out, (".txt", ".json", ".csv"), [args.train, args.targets])
    inputs, fits, boots, k = _fitted(args)
    from .capability import pc_names
    lv = args.level
    first = fits[fits.targets[0]]
    state = first.state_
    evr = state.explained_variance_ratio[0]
    loadings = pd.DataFrame(state.components[0, :k].T, index=list(inputs.benchmarks),
                            columns=pc_names(k))
    targets = {}
    for t in fits:
        p, b = fits[t], boots[t]
        draws = b.params[b.ok]
        lo, hi = np.quantile(draws, [(1 - lv) / 2, (1 + lv) / 2], axis=0)
        rmse = _rmse(p)
        targets[t] = {"n_train": p.n_train_, "in_sample_rmse": rmse, "chance": p.chance,
                      "parameters": {n: {"value": float(v), "lower": float(a), "upper": float(c)}
                                     for n, v, a, c in zip(p.coef_.index, p.params_, lo, hi)},
                      "n_boot_converged": b.n_ok}
    result = {"benchmarks": list(inputs.benchmarks), "n_pcs": k,
              "n_train_models": len(inputs.train), "level": lv, "n_boot": args.n_boot,
              "explained_variance_ratio": {n: float(v) for n, v in
                                           zip(pc_names(len(evr)), evr)},
              "loadings": {c: loadings[c].round(6).to_dict() for c in loadings},
              "targets": targets,
              "link": "(1 - b) * sigmoid(c + w . PCs) + b" if args.link == "floored"
              else "sigmoid(c + w . PCs)"}
    if args.json:
        _emit(json.dumps(result, indent=2), args.out)
        return 0
    lines = [f"Capability space of {len(first.y_train_)} training models "
             f"({', '.join(inputs.benchmarks)}):",
             "  explained variance: " + ", ".join(f"{n} {v:.1%}" for n, v in
                                                  zip(pc_names(len(evr)), evr)),
             "  loadings:", textwrap.indent(loadings.round(3).to_string(), "    "),
             f"Link: {result['link']}; parameters with {lv:.0%} bootstrap intervals "
             f"({args.n_boot} resamples):"]
    for t, d in targets.items():
        lines.append(f"  {t}: {d['n_train']} training models, in-sample RMSE "
                     f"{d['in_sample_rmse']:.4f}" + (f", chance {d['chance']:g}"
                                                    if d["chance"] is not None else ""))
        for n, v in d["parameters"].items():
            lines.append(f"    {n:>10} {v['value']:9.4f}  [{v['lower']:9.4f}, {v['upper']:9.4f}]")
    _emit("\n".join(lines), args.out)
    return 0


def _cmd_plot(args) -> int:
    out = _check_out(args.out, PLOT_SUFFIXES, [args.train, args.targets, args.test])
    axis = args.axis or ("compute" if args.reference else "pc1")
    if axis == "compute" and not args.reference:
        raise UsageError("--axis compute needs --reference, --family-column and --flops-column.")
    inputs = read_inputs(args, need_test=bool(args.test))
    target = args.target or inputs.targets.columns[0]
    if target not in inputs.targets.columns:
        raise UsageError(f"--target {target!r} is not a target column (targets: "
                         f"{list(inputs.targets.columns)}).")
    table = None
    if inputs.test is not None:
        one = Inputs(inputs.train, inputs.targets[[target]], inputs.test, inputs.benchmarks,
                     inputs.notes)
        fc = forecast(one, n_pcs=args.pcs, link=args.link,
                      chance={k: v for k, v in args.chance.items() if k == target},
                      level=args.level, n_boot=args.n_boot, seed=args.seed,
                      reference=args.reference, progress=not args.quiet and args.progress)
        fits, boots, table = fc.fits, fc.boots, fc.table
    else:
        one = Inputs(inputs.train, inputs.targets[[target]], None, inputs.benchmarks)
        fits, _, _ = fit_all(one, n_pcs=args.pcs, link=args.link,
                             chance={k: v for k, v in args.chance.items() if k == target},
                             reference=args.reference)
        boots = fits.bootstrap(args.n_boot, args.seed)
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig = forecast_figure(fits, boots, target, inputs.train, inputs.targets, inputs.test, table,
                          level=args.level, axis=axis)
    fmt = out.suffix.lower().lstrip(".")
    _write_atomic(out, lambda tmp: fig.savefig(tmp, format=fmt, dpi=150))
    plt.close(fig)
    if not args.quiet:
        print(f"wrote {out}", file=sys.stderr)
    return 0


def _cmd_crossing(args) -> int:
    if not (args.reference and args.family_column and args.flops_column):
        raise UsageError("crossing needs the compute axis: pass --family-column, --flops-column "
                         "and --reference <family> (a family of TRAIN with known FLOPs).")
    inputs, fits, boots, k = _fitted(args)
    for t in fits:
        fits[t]._require_axis()
    rows = {}
    for t in fits:
        c = boots[t].crossing(args.threshold, args.level)
        rows[t] = {"log10_flops": c["point"], "lower": c["lower"], "upper": c["upper"],
                   "n_draws": c["n"]}
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "target"
    if args.json:
        _emit(json.dumps({"threshold": args.threshold, "level": args.level,
                          "reference": args.reference,
                          "crossings": table.reset_index().to_dict(orient="records")}, indent=2),
              None)
        return 0
    what = f"{args.threshold:g}" if args.threshold is not None else "the midpoint"
    lines = [f"{args.reference}-equivalent log10 FLOPs at which each target crosses {what} "
             f"({args.level:.0%} bootstrap interval, {args.n_boot} resamples):"]
    for t, r in table.iterrows():
        lines.append(f"  {t}: {r['log10_flops']:.2f} [{r['lower']:.2f}, {r['upper']:.2f}]  "
                     f"(~{10 ** r['log10_flops']:.1e} FLOPs; {int(r['n_draws'])} usable draws)")
    _emit("\n".join(lines), None)
    return 0


COMMANDS = {"predict": _cmd_predict, "fit": _cmd_fit, "plot": _cmd_plot,
            "crossing": _cmd_crossing}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``osl`` console script; returns the exit status."""
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    prog = "osl" + (f" {argv[0]}" if argv and argv[0] in COMMANDS else "")
    try:
        args = parser.parse_args(argv)
        return COMMANDS[args.command](args)
    except OSLError as exc:
        message = " ".join(str(exc).split())
        print(f"{prog}: error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # pragma: no cover
        print(f"{prog}: interrupted; nothing written.", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
