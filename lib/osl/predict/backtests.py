"""The cutoff backtest: refit on the models below each FLOPs cutoff and read off where the
fitted curve crosses, with a bootstrap interval, and how well it predicts the models above.

:func:`backtest` does it for one target and one predictor configuration; :func:`backtest_grid`
for every (target, predictor) pair at once, with all of its bootstraps in one batched call.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from .. import validate
from ..errors import ArgumentError, FitError
from .bootstrap import bootstrap_many
from .estimator import ScalingPredictor
from .evaluation import metrics
from .targets import fit_many


def _flops(models: pd.DataFrame) -> np.ndarray:
    validate.columns_present(models, ["flops_1e21"], what="backtest",
                             fix="A compute cutoff needs training FLOPs (in units of 1e21).")
    return models["flops_1e21"].to_numpy(dtype=float)


def _cutoff_fits(models, pairs: dict, flops) -> dict:
    """``pairs``: ``{key: (target, cutoffs, ScalingPredictor kwargs)}``. Returns ``{key: [(cutoff,
    train mask, fitted predictor), ...]}`` at each cutoff and at ``inf`` (every model); cutoffs
    that cannot be fitted are skipped. Every fit of every pair is solved in one batched call."""
    jobs, masks = {}, {}
    for key, (target, cutoffs, kwargs) in pairs.items():
        for cut in list(cutoffs) + [np.inf]:
            masks[key, cut] = np.isfinite(flops) & (flops <= cut)
            jobs[key, cut] = (target, masks[key, cut], kwargs)
    fits = fit_many(models, jobs, skip_unfittable=True)
    out = {key: [] for key in pairs}
    for (key, cut), p in fits.items():
        out[key].append((cut, masks[key, cut], p))
    return out


def _midpoint_level(fitted, threshold) -> float:
    """The score the crossings refer to, on the target's scale: ``threshold``, or halfway
    between the floor and the ceiling of the fit on every model (NaN if that fit failed)."""
    if threshold is not None:
        return float(threshold)
    if not fitted or np.isfinite(fitted[-1][0]):
        return float("nan")
    p = fitted[-1][2]
    return float(p.from_unit((1 + p.params_[-1]) / 2))


def _table(models, fitted, boots, flops, threshold, level) -> pd.DataFrame:
    """One row per fitted cutoff; ``boots`` yields the bootstrap of each finite cutoff in turn.

    Besides the crossing, each row says what the training models already show: the midpoint
    level of the final curve, the best training score (and its model) and how many training
    models score at or above the level.
    """
    rows = []
    mid = _midpoint_level(fitted, threshold)
    for cut, train, p in fitted:
        if np.isfinite(cut):
            cr = next(boots).crossing(threshold, level)
        else:  # the reference row needs only its point estimate
            cr = {"point": p.crossing(threshold), "lower": np.nan, "upper": np.nan}
        y_train = p.y_all_[p.rows_]
        row = {"cutoff_1e21": cut, "n_train": p.n_train_, "crossing": cr["point"],
               "lower": cr["lower"], "upper": cr["upper"], "midpoint_level": mid,
               "max_train_score": float(y_train.max()), "best_train_model": y_train.idxmax(),
               "n_train_above": int((y_train >= mid).sum())}
        test = np.isfinite(flops) & ~train
        if np.isfinite(cut) and test.any():
            y = p.y_all_[test]
            if y.notna().any():
                row["test_mse"] = metrics(y, p.predict(models[test]))["mse"]
        rows.append(row)
    out = pd.DataFrame(rows, columns=None if rows else ["cutoff_1e21", "n_train", "crossing",
                                                       "lower", "upper"])
    out["label"] = [f"{c:g}" if np.isfinite(c) else "all" for c in out["cutoff_1e21"]]
    return out


def backtest(models: pd.DataFrame, target, cutoffs: Sequence[float], *, n_boot: int = 200,
             seed: int = 0, threshold: float | None = None, level: float = 0.8,
             **kwargs) -> pd.DataFrame:
    """Refit at each FLOPs cutoff; report the predicted crossing compute and held-out error.

    A final row ``all`` fits every model: the crossing to compare the earlier ones against
    (a point estimate, without an interval). Cutoffs that leave too few training models are
    skipped. ``midpoint_level`` is the score the crossings refer to (``threshold``, or halfway
    between the final fit's floor and ceiling); ``max_train_score`` (of ``best_train_model``)
    and ``n_train_above`` (training models at or above that level) say whether the jump is
    already in the training data at a cutoff.
    """
    models = validate.frame(models)
    flops = _flops(models)
    cutoffs = [validate.real("cutoffs", c, low=0.0, low_open=True) for c in cutoffs]
    fitted = _cutoff_fits(models, {0: (target, cutoffs, kwargs)}, flops)[0]
    early = [p for cut, _, p in fitted if np.isfinite(cut)]
    boots = iter(bootstrap_many(early, n_boot, seed) if early else [])
    return _table(models, fitted, boots, flops, threshold, level)


def backtest_grid(models: pd.DataFrame, targets: Sequence[str], cutoffs: Sequence[float],
                  predictors: dict[str, dict], *, per_target: dict[str, dict] | None = None,
                  n_boot: int = 200, seed: int = 0, threshold: float | None = None,
                  level: float = 0.8, return_fits: bool = False):
    """:func:`backtest` of every target with every predictor configuration, in one call.

    ``predictors``: ``{name: ScalingPredictor kwargs}``; ``per_target``: extra kwargs for some
    targets (e.g. a task's benchmark set). Every bootstrap of every cutoff, target and predictor
    runs in one :func:`bootstrap_many` call (each is identical to that backtest's own).

    Returns one frame: the :func:`backtest` columns plus ``target``, ``predictor`` and ``final``
    (the crossing of the pair's ``all`` row; NaN if the fit on every model failed), in the
    order of ``targets`` then ``predictors``. With ``return_fits``, returns ``(frame, fits)``
    where ``fits[target, predictor, label]`` is the fitted :class:`ScalingPredictor` of a row.
    """
    models = validate.frame(models)
    flops = _flops(models)
    targets = validate.names("targets", targets)
    cutoffs = [validate.real("cutoffs", c, low=0.0, low_open=True) for c in cutoffs]
    if not isinstance(predictors, dict) or not predictors:
        raise ArgumentError("predictors must be a non-empty {name: ScalingPredictor kwargs} dict.")
    per_target = per_target or {}
    unknown = [t for t in per_target if t not in targets]
    if unknown:
        raise ArgumentError(f"per_target names target(s) {unknown} that are not in targets.")
    level = validate.level(level)
    n_boot = validate.integer("n_boot", n_boot, low=2)
    pairs = {}
    for t in targets:
        extra = per_target.get(t, {})
        for name, kw in predictors.items():
            clash = sorted(set(extra) & set(kw))
            if clash:
                raise ArgumentError(f"{t!r}/{name!r}: {clash} given both in per_target and in "
                                    "predictors; give each keyword once.")
            pairs[t, name] = (t, cutoffs, {**extra, **kw})
    fitted = _cutoff_fits(models, pairs, flops)
    early = [p for fs in fitted.values() for cut, _, p in fs if np.isfinite(cut)]
    boots = iter(bootstrap_many(early, n_boot, seed) if early else [])
    parts = []
    for (t, name), fs in fitted.items():
        tab = _table(models, fs, boots, flops, threshold, level)
        final = tab.loc[tab["label"] == "all", "crossing"]
        tab["final"] = float(final.iloc[0]) if len(final) else np.nan
        if len(tab):
            parts.append(tab.assign(target=t, predictor=name))
    if not parts:
        raise FitError(f"backtest_grid: no cutoff could be fitted for any of {list(targets)} "
                       f"with any of {list(predictors)}.")
    out = pd.concat(parts, ignore_index=True)
    first = ["target", "predictor"]
    out = out[first + [c for c in out.columns if c not in first]]
    if not return_fits:
        return out
    fits = {(t, name, f"{cut:g}" if np.isfinite(cut) else "all"): p
            for (t, name), fs in fitted.items() for cut, _, p in fs}
    return out, fits
