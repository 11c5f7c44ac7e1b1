"""Helpers specific to the book's chapters: the paper's emergent-task set-ups and the readings
of backtests and gain curves that chapters 2 and 4 state in prose. Not needed for one's own
table.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .. import presets, validate
from ..errors import ArgumentError
from .link import LinkSpec
from .targets import fit_many  # noqa: F401  (re-exported: chapters batch their fits with it)


#: The two readings of the paper's emergent-task set-up (see PAPER_SETTINGS in the datasheet).
EMERGENT_VARIANTS = {
    "paper": "floored sigmoid, least squares, cutoff 84e21 for every task",
    "authors": "known-FLOPs families, target min-max normalised to (chance, 1), plain sigmoid, "
               "Huber loss (delta 1), cutoff 84e21 (22e21 for arithmetic)",
}


def emergent_setup(task: str, variant: str = "paper") -> tuple[float, dict]:
    """(cutoff in 1e21 FLOPs, ScalingPredictor keyword arguments) of an emergent task.

    Both variants leave GSM8K out of the benchmark set for the four arithmetic tasks.
    """
    validate.choice("task", task, list(presets.EMERGENT_TASKS))
    validate.choice("variant", variant, list(EMERGENT_VARIANTS))
    _, chance, arithmetic = presets.EMERGENT_TASKS[task]
    bench = tuple(b for b in presets.BASE_BENCHMARKS if not (arithmetic and b == "GSM8K"))
    if variant == "paper":
        return presets.DEFAULT_CUTOFF_1E21, {"benchmarks": bench}
    cutoff = presets.ARITHMETIC_CUTOFF_1E21 if arithmetic else presets.DEFAULT_CUTOFF_1E21
    return cutoff, {"benchmarks": bench, "link": LinkSpec(floor=False, loss="huber"),
                    "chance": chance or None}


def forecast_checks(table: pd.DataFrame, tol_dex: float = 0.25) -> pd.DataFrame:
    """Which cutoffs of a :func:`~osl.predict.backtests.backtest` table forecast the jump.

    One row per cutoff (the ``all`` row excluded), indexed by the cutoff in 1e21 FLOPs, with
    boolean columns: ``before_jump`` (no training model scores at or above the final curve's
    midpoint level: the jump is not yet in the training data, judged from the training models'
    own scores), ``close`` (predicted midpoint within ``tol_dex`` orders of magnitude of the
    final one), ``covered`` (its interval covers the final one), and ``forecast`` (all three).
    """
    tol_dex = validate.real("tol_dex", tol_dex, low=0.0)
    validate.columns_present(table, ["label", "cutoff_1e21", "crossing", "lower", "upper",
                                     "max_train_score", "midpoint_level"],
                             what="forecast_checks", fix="Pass a backtest() table.")
    final_row = table[table["label"] == "all"]
    if final_row.empty:
        raise ArgumentError("forecast_checks: the table has no 'all' row (the fit on every "
                            "model) to compare the cutoffs against.")
    final = float(final_row["crossing"].iloc[0])
    early = table[table["label"] != "all"]
    out = pd.DataFrame({
        "before_jump": (early["max_train_score"] < early["midpoint_level"]).to_numpy(),
        "close": ((early["crossing"] - final).abs() <= tol_dex).to_numpy(),
        "covered": ((early["lower"] <= final) & (early["upper"] >= final)).to_numpy()},
        index=pd.Index(early["cutoff_1e21"].to_numpy(float), name="cutoff_1e21"))
    out["forecast"] = out["before_jump"] & out["close"] & out["covered"]
    return out


def first_predictable_cutoff(table: pd.DataFrame, tol_dex: float = 0.25, *,
                             before_jump: bool = True) -> float:
    """Smallest backtest cutoff that forecasts the jump (see :func:`forecast_checks`).

    A cutoff counts when no training model already scores at or above the final curve's
    midpoint level, its predicted midpoint is within ``tol_dex`` orders of magnitude of the
    final one, and its interval covers the final one. With ``before_jump=False`` the first
    condition is dropped: the smallest cutoff that *places* the midpoint, whether or not the
    jump is already in the training data. Returns the cutoff in 1e21 FLOPs, or NaN if none.
    """
    c = forecast_checks(table, tol_dex)
    ok = c["forecast"] if before_jump else c["close"] & c["covered"]
    return float(c.index[ok.to_numpy()].min()) if ok.any() else float("nan")


def first_predictable_cutoffs(grid: pd.DataFrame, tol_dex: float = 0.25, *,
                              before_jump: bool = True) -> pd.Series:
    """:func:`first_predictable_cutoff` of every (target, predictor) of a
    :func:`~osl.predict.backtests.backtest_grid` frame, in the frame's order."""
    validate.columns_present(grid, ["target", "predictor"], what="first_predictable_cutoffs",
                             fix="Pass a backtest_grid() result.")
    out = {key: first_predictable_cutoff(g, tol_dex, before_jump=before_jump)
           for key, g in grid.groupby(["target", "predictor"], sort=False)}
    return pd.Series(out, name="first_cutoff_1e21").rename_axis(["target", "predictor"])


def clearing_range(gain: pd.DataFrame, minimum: float) -> tuple[float, float]:
    """First and last equivalent log10 FLOPs at which a :func:`gain_curve` band's lower edge is
    above ``minimum`` (NaN, NaN if never)."""
    x = gain.loc[gain["lower"].to_numpy() > minimum, "log10_flops"]
    return (float(x.min()), float(x.max())) if len(x) else (float("nan"), float("nan"))


def payoff_compute(gain: pd.DataFrame, minimum: float) -> float:
    """First equivalent log10 FLOPs from which a :func:`gain_curve` band stays above ``minimum``
    (NaN if it never does on the grid)."""
    above = gain["lower"].to_numpy() > minimum
    for i in range(len(above)):
        if above[i:].all():
            return float(gain["log10_flops"].iloc[i])
    return float("nan")


def bootstrap_halves(boot):
    """Two independent halves of a :class:`~osl.predict.bootstrap.PredictionBootstrap`'s draws,
    each a bootstrap of its own (first and second half of the resamples).

    The Monte-Carlo error of anything computed from the draws (an interval end, a coverage) is
    estimated from the halves without refitting: if the two halves give ``a`` and ``b``, the
    value from all draws has a Monte-Carlo standard error of about ``|a - b| / 2`` (each half has
    twice the variance of the whole, and their difference four times).
    """
    from dataclasses import fields, replace

    from .bootstrap import PredictionBootstrap

    if not isinstance(boot, PredictionBootstrap):
        raise ArgumentError(f"bootstrap_halves needs a PredictionBootstrap, got "
                            f"{type(boot).__name__}.")
    n = len(boot.params)
    if n < 4:
        raise ArgumentError(f"bootstrap_halves: {n} draws cannot be split in two halves; use at "
                            "least 4.")
    out = []
    for part in (slice(0, n // 2), slice(n // 2, 2 * (n // 2))):
        state = boot.state
        if state is not None:
            state = replace(state, **{f.name: getattr(state, f.name)[part] for f in fields(state)
                                      if isinstance(getattr(state, f.name), np.ndarray)})
        out.append(PredictionBootstrap(boot.predictor, boot.params[part], boot.ok[part],
                                       boot.residuals[part], state, boot.seed))
    return out


def leave_family_out_batched(models: pd.DataFrame, targets, predictors: dict, *,
                             per_target: dict | None = None, min_models: int = 3):
    """:func:`~osl.predict.evaluation.leave_family_out` (same splits, same fits, same result
    up to rounding) with every family's fits solved together by :func:`fit_many`, for
    predictor configurations given as :class:`ScalingPredictor` keyword arguments."""
    from .evaluation import Comparison, metrics
    from .splits import family_splits

    models, targets = validate.frame(models), validate.names("targets", targets)
    validate.columns_present(models, list(targets), what="leave_family_out_batched")
    if not isinstance(predictors, dict) or not predictors or \
            not all(isinstance(kw, dict) for kw in predictors.values()):
        raise ArgumentError("predictors must be a non-empty {name: ScalingPredictor kwargs} "
                            "dict.")
    per_target = per_target or {}
    jobs, tests = {}, {}
    for fam, sp in family_splits(models, min_models):
        for t in targets:
            if models.loc[sp.test, t].notna().sum() < min_models:
                continue
            tests[t, fam] = sp.test & models[t].notna().to_numpy()
            for name, kw in predictors.items():
                jobs[t, name, fam] = (t, sp.train, {**per_target.get(t, {}), **kw})
    if not jobs:
        from ..errors import FitError
        raise FitError(f"leave_family_out_batched: no family has {min_models} models with a "
                       "value.")
    fits = fit_many(models, jobs)
    parts = []
    for (t, name, fam), p in fits.items():
        test = models[tests[t, fam]]
        parts.append(pd.DataFrame({"mean": p.predict(test).to_numpy(),
                                   "actual": test[t].to_numpy(), "target": t,
                                   "predictor": name, "family": fam},
                                  index=test.index.rename("model")))
    pred = (pd.concat(parts).reset_index().set_index(["target", "predictor", "model"])
            .sort_index())
    keys = [(t, n) for t in targets for n in predictors if (t, n) in pred.index.droplevel(2)]
    met = pd.DataFrame.from_dict({k: metrics(pred.loc[k, "actual"], pred.loc[k, "mean"])
                                  for k in keys}, orient="index")
    met.index = pd.MultiIndex.from_tuples(keys, names=["target", "predictor"])
    return Comparison(met.rename(columns={"n": "n_test"}), pred, fits, {})
