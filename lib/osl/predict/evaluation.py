"""Held-out evaluation: metrics, comparisons of predictors over many targets, leave-one-out,
and the choice of the number of PCs on training models only (the cutoff backtest is in
:mod:`~osl.predict.backtests`).

Every loop that fits or compares predictors lives here, so chapters make one call each.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import pandas as pd

from .. import validate
from ..errors import ArgumentError, FitError
from .bootstrap import bootstrap_many
from .estimator import ScalingPredictor
from .splits import Split, family_splits, heldout_split
from .targets import fit_targets


def metrics(actual, predicted, lower=None, upper=None) -> dict[str, float]:
    """MSE, MAE (and interval coverage when bounds are given) over finite pairs."""
    arrays = {"actual": actual, "predicted": predicted}
    if (lower is None) != (upper is None):
        raise ArgumentError("metrics: give both lower and upper, or neither.")
    if lower is not None:
        arrays.update(lower=lower, upper=upper)
    vals = {}
    for k, v in arrays.items():
        try:
            vals[k] = np.asarray(v, float).ravel()
        except (TypeError, ValueError):
            raise ArgumentError(f"metrics: {k} must be numbers.") from None
    sizes = {k: v.size for k, v in vals.items()}
    if len(set(sizes.values())) > 1:
        raise ArgumentError(f"metrics: arrays of different lengths {sizes}; pass one value per "
                            "model to each.")
    a, p = vals["actual"], vals["predicted"]
    ok = np.isfinite(a) & np.isfinite(p)
    if not ok.any():
        raise FitError("No held-out model has both a target value and a prediction.")
    err = p[ok] - a[ok]
    out = {"mse": float(np.mean(err ** 2)), "mae": float(np.mean(np.abs(err))), "n": int(ok.sum())}
    if lower is not None:
        lo, hi = vals["lower"][ok], vals["upper"][ok]
        out["coverage"] = float(np.mean((a[ok] >= lo) & (a[ok] <= hi)))
        out["width"] = float(np.mean(hi - lo))
    return out


@dataclass
class Comparison:
    """Result of :func:`compare`: held-out metrics per (target, predictor), the predictions
    behind them, and the fitted predictors (and bootstraps) for figures."""

    metrics: pd.DataFrame
    predictions: pd.DataFrame
    fits: dict = field(repr=False)
    boots: dict = field(repr=False)

    def table(self, metric: str = "mse") -> pd.DataFrame:
        """Targets x predictors of one metric (columns in the order they were given)."""
        validate.choice("metric", metric, list(self.metrics.columns))
        t = self.metrics[metric].unstack("predictor")
        order = list(dict.fromkeys(self.metrics.index.get_level_values("predictor")))
        rows = list(dict.fromkeys(self.metrics.index.get_level_values("target")))
        return t.loc[rows, order]


def compare(models: pd.DataFrame, targets: Sequence[str], split, predictors: dict[str, dict], *,
            per_target: dict[str, dict] | None = None, n_boot: int = 0, seed: int = 0,
            level: float = 0.8, skip_unfittable: bool = False,
            interval: str = "calibrated") -> Comparison:
    """Fit every predictor configuration on the training side of ``split`` for every target
    and score it on the held-out side.

    ``split``: one :class:`Split`, or ``{target: Split}``. ``predictors``: ``{name: kwargs}``
    for :class:`ScalingPredictor`, or ``{name: factory}`` for any estimator with ``fit(models,
    target, train)``, ``predict(models)`` and ``n_train_`` (e.g. the classes of
    :mod:`~osl.predict.baselines`; they get no intervals). ``per_target``: extra kwargs for some targets (e.g. a
    target's benchmark set). With ``n_boot``, predictive intervals give coverage and width.
    ``skip_unfittable`` records a target/predictor that cannot be fitted as missing instead of
    raising. ``interval``: ``"calibrated"`` (default) or ``"bootstrap"`` predictive intervals
    (see :meth:`~osl.predict.bootstrap.PredictionBootstrap.predict`).
    """
    models = validate.frame(models)
    validate.choice("interval", interval, ("calibrated", "bootstrap"))
    targets = validate.names("targets", targets)
    if not isinstance(predictors, dict) or not predictors:
        raise ArgumentError("predictors must be a non-empty {name: ScalingPredictor kwargs} dict.")
    per_target = per_target or {}
    splits = split if isinstance(split, dict) else {t: split for t in targets}
    for t in targets:
        if not isinstance(splits.get(t), Split):
            raise ArgumentError(f"split must be a Split or a {{target: Split}} dict covering "
                                f"every target; missing or wrong for {t!r}.")
    level = validate.level(level)
    n_boot = validate.integer("n_boot", n_boot, low=0)
    fits, boots, rows, preds = {}, {}, {}, []
    # Targets sharing a split and extra kwargs are fitted (and bootstrapped) together.
    groups: dict[tuple, list[str]] = {}
    for t in targets:
        key = (id(splits[t]), repr(sorted(per_target.get(t, {}).items())))
        groups.setdefault(key, []).append(t)
    for ts in groups.values():
        sp, extra = splits[ts[0]], per_target.get(ts[0], {})
        for name, kw in predictors.items():
            if callable(kw):
                _score_plain(models, ts, sp, name, kw, fits, rows, preds)
                continue
            if not isinstance(kw, dict):
                raise ArgumentError(f"predictors[{name!r}] must be a dict of ScalingPredictor "
                                    f"arguments or an estimator factory, got {type(kw).__name__}.")
            try:
                got = fit_targets(models, ts, sp.train, **extra, **kw).fits
            except FitError:
                if not skip_unfittable:
                    raise
                got = {}
                for t in ts:
                    try:
                        got[t] = fit_targets(models, [t], sp.train, **extra, **kw).fits[t]
                    except FitError:
                        rows[t, name] = {"mse": np.nan, "mae": np.nan, "n_train": 0, "n_test": 0}
            for t, p in got.items():
                fits[t, name] = p
            if n_boot and got:
                for t, b in zip(got, bootstrap_many(list(got.values()), n_boot, seed)):
                    boots[t, name] = b
            for t, p in got.items():
                test = models[sp.test & models[t].notna().to_numpy()]
                if n_boot:
                    pr = boots[t, name].predict(test, level, interval=interval)
                else:
                    pr = pd.DataFrame({"mean": p.predict(test)})
                pr["actual"] = test[t]
                m = metrics(pr["actual"], pr["mean"], *( (pr["lower"], pr["upper"]) if n_boot
                                                         else ()))
                rows[t, name] = {**{k: v for k, v in m.items() if k != "n"},
                                 "n_train": p.n_train_, "n_test": m["n"]}
                preds.append(pr.assign(target=t, predictor=name))
    met = pd.DataFrame.from_dict(rows, orient="index")
    met.index = pd.MultiIndex.from_tuples(met.index, names=["target", "predictor"])
    met = met.loc[[(t, n) for t in targets for n in predictors if (t, n) in rows]]
    pred = (pd.concat(preds).rename_axis("model").reset_index()
            .set_index(["target", "predictor", "model"]) if preds else pd.DataFrame())
    return Comparison(met, pred, fits, boots)


def _score_plain(models, targets, sp, name, factory, fits, rows, preds) -> None:
    """Fit and score an estimator without intervals (a baseline) for each target."""
    for t in targets:
        est = factory().fit(models, t, sp.train)
        test = models[sp.test & models[t].notna().to_numpy()]
        pr = pd.DataFrame({"mean": est.predict(test), "actual": test[t]})
        m = metrics(pr["actual"], pr["mean"])
        fits[t, name] = est
        rows[t, name] = {"mse": m["mse"], "mae": m["mae"], "n_train": est.n_train_,
                         "n_test": m["n"]}
        preds.append(pr.assign(target=t, predictor=name))


def leave_family_out(models: pd.DataFrame, targets: Sequence[str], predictors: dict, *,
                     per_target: dict[str, dict] | None = None, min_models: int = 3) -> Comparison:
    """:func:`compare` with each family of at least ``min_models`` models (and as many values of
    a target) held out in turn, every other model in training. Each held-out model is predicted
    once, by fits that never saw its family: the pooled ``predictions`` (with a ``family``
    column) give ``metrics`` per (target, predictor); ``fits`` are keyed by (target, predictor,
    family)."""
    models, targets = validate.frame(models), validate.names("targets", targets)
    validate.columns_present(models, list(targets), what="leave_family_out")
    preds, fits = [], {}
    for fam, sp in family_splits(models, min_models):
        ts = [t for t in targets if models.loc[sp.test, t].notna().sum() >= min_models]
        if ts:
            c = compare(models, ts, sp, predictors, per_target=per_target)
            preds.append(c.predictions.assign(family=fam))
            fits.update({(t, n, fam): p for (t, n), p in c.fits.items()})
    if not preds:
        raise FitError(f"leave_family_out: no family has {min_models} models with a value.")
    pred = pd.concat(preds).sort_index()
    keys = [(t, n) for t in targets for n in predictors if (t, n) in pred.index.droplevel(2)]
    met = pd.DataFrame.from_dict({k: metrics(pred.loc[k, "actual"], pred.loc[k, "mean"])
                                  for k in keys}, orient="index")
    met.index = pd.MultiIndex.from_tuples(keys, names=["target", "predictor"])
    return Comparison(met.rename(columns={"n": "n_test"}), pred, fits, {})


def evaluate(models: pd.DataFrame, target, split: Split, *, n_boot: int = 0, seed: int = 0,
             level: float = 0.8, **kwargs) -> dict:
    """Fit on ``split.train``, predict ``split.test``; MSE/MAE (and coverage with a bootstrap)."""
    c = compare(models, [target], split, {"model": kwargs}, n_boot=n_boot, seed=seed, level=level)
    row = c.metrics.iloc[0]
    out = {k: float(row[k]) for k in ("mse", "mae") + (("coverage", "width") if n_boot else ())}
    out["n"] = int(row["n_test"])
    out["n_train"] = int(row["n_train"])
    out["predictor"] = c.fits[target, "model"]
    out["predictions"] = c.predictions.loc[(target, "model")]
    if n_boot:
        out["bootstrap"] = c.boots[target, "model"]
    return out


def leave_one_out(models: pd.DataFrame, target, held: Sequence[str], *, n_boot: int = 300,
                  seed: int = 0, level: float = 0.8, **kwargs) -> pd.DataFrame:
    """Hold out each named model alone, fit on every other model with a value, predict it.

    Returns one row per model: actual, prediction, ``level`` predictive interval, whether the
    interval covers the actual score, the error and the number of training models.
    """
    held = validate.names("held", held)
    rows = {}
    for name in held:
        split = heldout_split(models, [name])
        p = ScalingPredictor(**kwargs).fit(models, target, split.train)
        pr = p.bootstrap(n_boot, seed).predict(models.loc[[name]], level).iloc[0]
        rows[name] = {"actual": p.y_all_[name], "predicted": pr["mean"], "lower": pr["lower"],
                      "upper": pr["upper"], "n_train": p.n_train_}
    out = pd.DataFrame.from_dict(rows, orient="index")
    out["covered"] = (out["actual"] >= out["lower"]) & (out["actual"] <= out["upper"])
    out["error"] = out["predicted"] - out["actual"]
    return out


def leave_one_out_many(models: pd.DataFrame, held: dict[str, Sequence[str]], *,
                       n_boot: int = 300, seed: int = 0, level: float = 0.8,
                       mc_error: bool = False, **kwargs) -> pd.DataFrame:
    """:func:`leave_one_out` for several targets in one call: ``held`` is ``{target: [model,
    ...]}``. Every (target, model) predictor is fitted, then all are bootstrapped by one
    :func:`~osl.predict.bootstrap.bootstrap_many` call (one batched link solve), so each row
    equals what :func:`leave_one_out` gives with the same seed. Rows are indexed by
    ``(target, model)``; columns as in :func:`leave_one_out`, plus the Monte-Carlo standard
    errors of the interval's ends (``lower_se``, ``upper_se``, see :func:`interval_mc_error`)
    with ``mc_error=True``.
    """
    models = validate.frame(models)
    if not isinstance(held, dict) or not held:
        raise ArgumentError("held must be a non-empty {target: [model, ...]} dict.")
    n_boot = validate.integer("n_boot", n_boot, low=2)
    level = validate.level(level)
    fits = {}
    for target, names in held.items():
        for name in validate.names(f"held[{target!r}]", names):
            split = heldout_split(models, [name])
            fits[target, name] = ScalingPredictor(**kwargs).fit(models, target, split.train)
    boots = bootstrap_many(list(fits.values()), n_boot, seed)
    rows = {}
    for (target, name), p, b in zip(fits, fits.values(), boots):
        pr = b.predict(models.loc[[name]], level).iloc[0]
        rows[target, name] = {"actual": p.y_all_[name], "predicted": pr["mean"],
                              "lower": pr["lower"], "upper": pr["upper"], "n_train": p.n_train_}
        if mc_error:
            rows[target, name].update(interval_mc_error(b, models.loc[[name]], level).iloc[0])
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index = pd.MultiIndex.from_tuples(out.index, names=["target", "model"])
    out["covered"] = (out["actual"] >= out["lower"]) & (out["actual"] <= out["upper"])
    out["error"] = out["predicted"] - out["actual"]
    return out


def quantile_mc_error(draws, q: float) -> np.ndarray:
    """Monte-Carlo standard error of the sample ``q``-quantile of ``draws`` (B, ...) along its
    first axis, by the order-statistic rule: half the distance between the quantiles at
    ``q -/+ sqrt(q (1 - q) / B)`` (the rank of the sample quantile varies by about
    ``sqrt(B q (1 - q))``). Use it to choose a bootstrap size and to state it."""
    D = np.asarray(draws, dtype=float)
    if D.ndim < 1 or D.shape[0] < 2:
        raise ArgumentError("quantile_mc_error: draws must have at least two rows (draws).")
    q = validate.real("q", q, low=0.0, high=1.0, low_open=True, high_open=True)
    s = np.sqrt(q * (1 - q) / D.shape[0])
    lo, hi = np.nanquantile(D, [max(q - s, 0.0), min(q + s, 1.0)], axis=0)
    return (hi - lo) / 2


def interval_mc_error(boot, models: pd.DataFrame, level: float = 0.8) -> pd.DataFrame:
    """Monte-Carlo standard errors (on the target's scale) of the ``level`` predictive-interval
    endpoints that ``boot.predict(models, level)`` reports, from the same draws (parameter
    draws plus the same resampled residuals): columns ``lower_se`` and ``upper_se``."""
    level = validate.level(level)
    p = boot.predictor
    D = boot.draws(models)
    if D.shape[0] < 2:
        raise FitError(f"{p.target_!r}: fewer than two converged resamples.")
    rng = np.random.default_rng(boot.seed + 1)
    res = boot.residuals[boot.ok]
    pick = res[np.arange(len(res))[:, None], rng.integers(0, res.shape[1], size=D.shape)]
    scale = p.from_unit(1.0) - p.from_unit(0.0)
    return pd.DataFrame({"lower_se": scale * quantile_mc_error(D + pick, (1 - level) / 2),
                         "upper_se": scale * quantile_mc_error(D + pick, (1 + level) / 2)},
                        index=models.index)


def choose_n_pcs(models: pd.DataFrame, target, train, ks: Sequence[int] = (1, 2, 3), *,
                 inner_quantile: float = 0.6, inner: str = "compute",
                 **kwargs) -> tuple[int, pd.Series]:
    """Pick the number of PCs on the training models only, by an inner extrapolation test.

    The training models are split again at the ``inner_quantile`` of their FLOPs
    (``inner="compute"``) or of their own target scores (``inner="top"``: the strongest
    training models are held out, mirroring a top-k split when compute is unknown): each ``k``
    is fitted below and scored above. Returns the best ``k`` and the inner MSE of every ``k``;
    raises :class:`FitError` if no ``k`` can be fitted.
    """
    models = validate.frame(models)
    train = validate.mask(train, len(models), rows=models.index)
    inner_quantile = validate.real("inner_quantile", inner_quantile, low=0.0, high=1.0,
                                   low_open=True, high_open=True)
    if not ks:
        raise ArgumentError("ks must list at least one number of PCs.")
    ks = [validate.integer("ks", k, low=1) for k in ks]
    validate.choice("inner", inner, ("compute", "top"))
    if inner == "compute":
        validate.columns_present(models, ["log10_flops"], what="choose_n_pcs",
                                 fix="The inner split is by compute; pass inner='top' to split "
                                     "by the target instead.")
        lf = models["log10_flops"].to_numpy(dtype=float)
    else:
        validate.columns_present(models, [target], what="choose_n_pcs")
        lf = pd.to_numeric(models[target], errors="coerce").to_numpy(dtype=float)
        train = train & np.isfinite(lf)
    inner_cut = np.nanquantile(lf[train], inner_quantile)
    inner_train = train & (lf <= inner_cut)
    inner_test = train & (lf > inner_cut)
    scores, why = {}, {}
    for k in ks:
        try:
            p = ScalingPredictor(n_pcs=k, **kwargs).fit(models, target, inner_train)
            scores[k] = metrics(p.y_all_[inner_test], p.predict(models[inner_test]))["mse"]
        except FitError as exc:
            scores[k], why[k] = np.inf, str(exc)
    mse = pd.Series(scores, name="inner_mse")
    if not np.isfinite(mse).any():
        raise FitError(f"choose_n_pcs: no candidate in {ks} could be fitted on the inner split "
                       f"(e.g. k={ks[0]}: {why[ks[0]]}).")
    return int(mse.idxmin()), mse


def choose_n_pcs_many(models: pd.DataFrame, targets: Sequence[str], train,
                      ks: Sequence[int] = (1, 2, 3), *, per_target: dict[str, dict] | None = None,
                      inner_quantile: float = 0.6, inner: str = "compute",
                      if_unfittable: str = "raise", **kwargs) -> pd.DataFrame:
    """:func:`choose_n_pcs` for every target: one row per target with the chosen ``k`` and the
    inner MSE of every candidate (columns ``inner_mse_k<k>``).

    ``per_target``: extra kwargs for some targets. A target on which no candidate can be fitted
    raises (``if_unfittable="raise"``), falls back to the first candidate ``ks[0]`` with NaN
    inner errors (``"first"``: the simplest model when there is no evidence), or is left out
    (``"skip"``).
    """
    targets = validate.names("targets", targets)
    validate.choice("if_unfittable", if_unfittable, ("raise", "first", "skip"))
    per_target = per_target or {}
    rows = {}
    for t in targets:
        try:
            k, scores = choose_n_pcs(models, t, train, ks, inner_quantile=inner_quantile,
                                     inner=inner, **per_target.get(t, {}), **kwargs)
        except FitError:
            if if_unfittable == "raise":
                raise
            if if_unfittable == "skip":
                continue
            k, scores = int(ks[0]), pd.Series(np.nan, index=list(ks))
        rows[t] = {"k": k, **{f"inner_mse_k{j}": float(v) if np.isfinite(v) else np.nan
                              for j, v in scores.items()}}
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index.name = "target"
    return out
