"""Calibrated predictive intervals: a conformal layer fitted on the training models only.

Why the bootstrap's predictive interval falls short on held-out models (measured in the book's
chapter on forecast trust):

* it adds a *training* residual to the curve, and training residuals are small where most
  training models sit (at the floor of an emergent task), while the held-out models sit on the
  rising part of the curve, where models scatter most: the noise is heteroscedastic;
* the held-out models lie beyond the training models, where the fitted curve is an
  extrapolation whose error the in-sample residuals never see: the larger models of a
  held-out set often sit systematically above (or below) the curve fitted on smaller ones.

The bootstrap does measure the third source, the parameter uncertainty of a fit to a few dozen
models. The calibrated interval keeps it and adds the other two, measured on the training
models alone by *replaying the extrapolation inside the training set*:

1. order the training models along the fitted capability direction (the link's linear score
   ``w . x``, which follows compute for a compute cutoff and the target for a top-k split,
   without selecting on the target's own noise), and at several inner cutoffs
   (:data:`INNER_QUANTILES` of that order) refit the predictor (imputation, PCA and link) on the
   models below and predict the ones above;
2. measure each inner error on the *logit scale of the link*, where a sigmoid's scatter is
   roughly even along the curve (an error ``e`` on that scale moves a score by about
   ``mu (1 - mu) e``: little at the floor and the ceiling, most in between), and divide it by
   ``sqrt(1 + d^2)``, ``d`` being how far the model lies beyond the inner training models along
   the fitted linear score, in standard deviations of that score (slope uncertainty grows
   linearly with distance);
3. the conformal interval of a new model is its point prediction plus or minus the
   split-conformal quantile of these scores, times its own ``sqrt(1 + d^2)``, mapped back
   through the link: asymmetric on the score scale, narrow near the floor and the ceiling,
   wider the further the model lies beyond the training models;
4. the calibrated interval is the hull of this interval and the bootstrap predictive interval
   (:func:`widen`): each covers a source of error the other cannot see.

The quantile has the conformal finite-sample correction (the ``ceil((m + 1) level)``-th of
``m`` scores); with too few scores for a level it is infinite and the interval is the whole
range of the target, which says honestly that the training models cannot calibrate it.

>>> cal = calibrate(predictor)                                   # doctest: +SKIP
>>> conformal_interval(predictor, new_models, level=0.8)         # doctest: +SKIP
>>> boot.predict(new_models, level=0.8)                          # calibrated by default
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import pandas as pd
from .._special import expit, logit

from .. import validate
from ..errors import ArgumentError, FitError
from .estimator import ScalingPredictor
from .link import fit_link_padded

__all__ = ["Calibration", "INNER_QUANTILES", "INTERVALS", "LOGIT_CLIP", "calibrate",
           "calibrate_many", "conformal_interval", "crossing_interval", "widen"]

#: Inner cutoffs, as quantiles of the training models' linear score.
INNER_QUANTILES: tuple[float, ...] = (0.5, 0.6, 0.7, 0.8)
#: Scores are clipped to ``[LOGIT_CLIP, 1 - LOGIT_CLIP]`` of the link's range before the logit
#: (the clip of the link solver's logit-linear start): within 2% of the floor or the ceiling a
#: score counts as being there.
LOGIT_CLIP = 0.02
#: The predictive intervals :meth:`~osl.predict.bootstrap.PredictionBootstrap.predict` offers:
#: ``"calibrated"`` (default) and ``"bootstrap"`` (parameter uncertainty plus a resampled
#: training residual, the book's earlier interval).
INTERVALS = ("calibrated", "bootstrap")


def _logit_unit(u, b):
    """Logit of a unit-scale score inside the link's range ``(b, 1)``, clipped."""
    v = (np.asarray(u, float) - b) / (1.0 - b)
    return logit(np.clip(v, LOGIT_CLIP, 1 - LOGIT_CLIP))


@dataclass(frozen=True)
class Calibration:
    """The inner-extrapolation scores of one fitted predictor (see the module docstring).

    ``scores``: the scaled logit-scale errors of the inner predictions (one per inner held-out
    model and inner cutoff); ``n_folds``: the inner cutoffs that could be fitted; ``top`` and
    ``spread``: the maximum and the standard deviation of the training models' linear score
    (a new model's distance is measured from ``top`` in units of ``spread``).
    """

    scores: np.ndarray
    n_folds: int
    top: float
    spread: float

    @property
    def n(self) -> int:
        return int(self.scores.size)

    def quantile(self, level: float) -> float:
        """The split-conformal quantile of the scores at ``level`` (``inf`` with too few)."""
        level = validate.level(level)
        m = self.scores.size
        k = int(np.ceil((m + 1) * level - 1e-9))
        if m == 0 or k > m:
            return float("inf")
        return float(np.sort(self.scores)[k - 1])


def _distance(z: np.ndarray, top: float, spread: float) -> np.ndarray:
    return np.maximum(z - top, 0.0) / spread


def _check_quantiles(quantiles) -> tuple[float, ...]:
    if isinstance(quantiles, (str, bytes)) or not hasattr(quantiles, "__iter__"):
        raise ArgumentError(f"quantiles must be a sequence of fractions, got {quantiles!r}.")
    qs = tuple(validate.real("quantiles", q, low=0.0, high=1.0, low_open=True, high_open=True)
               for q in quantiles)
    if not qs:
        raise ArgumentError("quantiles must list at least one inner cutoff, e.g. (0.5, 0.7).")
    return qs


def _check_predictor(p) -> None:
    if not isinstance(p, ScalingPredictor):
        raise ArgumentError(f"calibrate needs a fitted ScalingPredictor, got {type(p).__name__}.")
    p._check()


def calibrate(predictor: ScalingPredictor,
              quantiles: Sequence[float] = INNER_QUANTILES, order=None) -> Calibration:
    """Replay the extrapolation inside ``predictor``'s training models and return the
    :class:`Calibration` of its intervals (see the module docstring). Uses the training models
    only. ``order``: one value per training model (in the order of the fitted training rows)
    by which the inner cutoffs are taken, e.g. their log10 FLOPs; default their linear score.
    The default result is cached on the predictor."""
    _check_predictor(predictor)
    qs = _check_quantiles(quantiles)
    if order is not None:
        try:
            order = np.asarray(order, float).ravel()
        except (TypeError, ValueError):
            raise ArgumentError("order must be numbers, one per training model.") from None
        n = predictor.y_train_.size
        if order.size != n or not np.all(np.isfinite(order)):
            raise ArgumentError(f"order must give a finite number for each of the {n} "
                                f"training models, got {order.size} value(s).")
    return _calibrate([predictor], qs, [order])[0]


def calibrate_many(predictors: Sequence[ScalingPredictor],
                   quantiles: Sequence[float] = INNER_QUANTILES) -> list[Calibration]:
    """:func:`calibrate` of several predictors with every inner link refit in one batched
    solve per kind of link (each result equals its own :func:`calibrate` up to rounding)."""
    predictors = list(predictors)
    for p in predictors:
        _check_predictor(p)
    qs = _check_quantiles(quantiles)
    return _calibrate(predictors, qs, [None] * len(predictors))


def _fit_key(p: ScalingPredictor) -> tuple:
    """What a cached calibration depends on: the fitted link and the training rows."""
    return (p.params_.tobytes(), p.rows_.tobytes(), p.y_train_.tobytes())


def _calibrate(predictors, qs, orders) -> list[Calibration]:
    out: list = [None] * len(predictors)
    problems: dict[tuple, list] = {}   # (n_features, link) -> [(i, X_in, y_in, init)]
    held: dict[tuple, list] = {}
    for i, (p, order) in enumerate(zip(predictors, orders)):
        default = order is None and qs == INNER_QUANTILES
        cached = getattr(p, "_calibration", None)
        if default and cached is not None and cached[0] == _fit_key(p):
            out[i] = cached[1]
            continue
        f, raw, y = p.features, p.raw_train_, p.y_train_
        z = p.X_train_ @ p.params_[1:-1]
        order = z if order is None else order
        need = max(f.n_features + (2 if p.link.floor else 1) + 2, 4)
        key = (f.n_features, p.link)
        for q in qs:
            inner = order <= np.quantile(order, q)
            if inner.sum() < need or not (~inner).any() or np.ptp(y[inner]) == 0:
                continue
            try:
                f.check_training(raw[inner])
                state = f.fit(raw[inner])
                X_in = f.transform(state, raw[inner])[0]
                X_out = f.transform(state, raw[~inner])[0]
            except (FitError, ValueError, np.linalg.LinAlgError):
                continue
            if not (np.all(np.isfinite(X_in)) and np.all(np.isfinite(X_out))):
                continue
            problems.setdefault(key, []).append((X_in[None], y[inner][None], p.params_[None]))
            held.setdefault(key, []).append((i, X_in, X_out, y[~inner]))
    scores: dict[int, list] = {i: [] for i in range(len(predictors)) if out[i] is None}
    # One batched solve per kind of link for every inner cutoff of every predictor.
    for key, probs in problems.items():
        solved = fit_link_padded(probs, key[1], max_iter=300, tol=1e-9)
        for (theta, ok), (i, X_in, X_out, y_out) in zip(solved, held[key]):
            th = theta[0]
            if not (ok[0] and np.all(np.isfinite(th))):
                continue
            z_in, z_out = X_in @ th[1:-1], X_out @ th[1:-1]
            spread = float(np.std(z_in))
            if not spread > 0:
                continue
            d = _distance(z_out, float(z_in.max()), spread)
            b = th[-1]
            mu = (1 - b) * expit(th[0] + z_out) + b
            err = np.abs(_logit_unit(y_out, b) - _logit_unit(mu, b))
            scores[i].append(err / np.sqrt(1.0 + d ** 2))
    for i, sc in scores.items():
        p = predictors[i]
        z = p.X_train_ @ p.params_[1:-1]
        spread = float(np.std(z))
        cal = Calibration(np.concatenate(sc) if sc else np.zeros(0), len(sc), float(z.max()),
                          spread if spread > 0 else 1.0)
        if orders[i] is None and qs == INNER_QUANTILES:
            p._calibration = (_fit_key(p), cal)  # valid until the predictor is refitted
        out[i] = cal
    return out


def conformal_interval(predictor: ScalingPredictor, models: pd.DataFrame, level: float = 0.8,
                       calibration: Calibration | None = None) -> pd.DataFrame:
    """Point prediction (``mean``) and the conformal ``level`` interval (``lower``/``upper``)
    of ``models`` on the target's scale, with ``distance`` (how far each model lies beyond the
    training models along the linear score, in its standard deviations). Needs no bootstrap;
    :func:`widen` joins it with the bootstrap interval into the calibrated one."""
    level = validate.level(level)
    models = validate.frame(models)
    cal = calibrate(predictor) if calibration is None else calibration
    if not isinstance(cal, Calibration):
        raise ArgumentError(f"calibration must be a Calibration from calibrate(), got "
                            f"{type(cal).__name__}.")
    p = predictor
    X = p.features_of(models)
    lower, upper, d = _conformal_arrays(p, X, level, cal)
    mean = p.predict(models).to_numpy()
    bad = ~np.isfinite(mean)
    lower[bad] = upper[bad] = np.nan
    return pd.DataFrame({"mean": mean, "lower": lower, "upper": upper, "distance": d},
                        index=models.index)


def _conformal_arrays(p: ScalingPredictor, X: np.ndarray, level: float, cal: Calibration):
    """Lower and upper ends (target scale) and distances of the conformal interval of rows
    with features ``X`` (m, k) under the fitted state."""
    z = X @ p.params_[1:-1]
    b = p.params_[-1]
    d = _distance(z, cal.top, cal.spread)
    centre = _logit_unit((1 - b) * expit(p.params_[0] + z) + b, b)
    half = cal.quantile(level) * np.sqrt(1.0 + d ** 2)
    with np.errstate(invalid="ignore"):
        lo = b + (1 - b) * expit(centre - half)
        hi = b + (1 - b) * expit(centre + half)
        # At the clip the logit means "at the floor (ceiling) or beyond": open to the range.
        lo = np.where(centre - half <= logit(LOGIT_CLIP), -np.inf, lo)
        hi = np.where(centre + half >= logit(1 - LOGIT_CLIP), np.inf, hi)
        lo_t, hi_t = p.target_range
        return np.clip(p.from_unit(lo), lo_t, hi_t), np.clip(p.from_unit(hi), lo_t, hi_t), d


def widen(predictor: ScalingPredictor, models: pd.DataFrame, level: float, lower, upper
          ) -> tuple[np.ndarray, np.ndarray]:
    """The calibrated interval: the hull of the bootstrap interval (``lower``, ``upper``) and
    the conformal interval of :func:`conformal_interval` for the same ``models``. (Not the
    out-of-distribution widening of ``osl.ood.widen``.)"""
    ci = conformal_interval(predictor, models, level)
    lo = np.fmin(np.asarray(lower, float), ci["lower"].to_numpy())
    hi = np.fmax(np.asarray(upper, float), ci["upper"].to_numpy())
    return lo, hi


def crossing_interval(predictor: ScalingPredictor, level: float = 0.8,
                      calibration: Calibration | None = None,
                      span: tuple[float, float] = (18.0, 30.0)) -> tuple[float, float]:
    """The calibrated ``level`` interval of the compute at which *a model's* score passes the
    midpoint (halfway between the fitted floor and the ceiling), in equivalent log10 FLOPs:
    the compute range over which the conformal interval of :func:`conformal_interval`
    contains the midpoint level. On the link's logit scale the midpoint is 0, so the range is
    where ``|c + z| <= q sqrt(1 + d(z)^2)``, ``z`` the linear score at that compute. Searched
    over ``span`` (log10 FLOPs); an end that reaches the edge of ``span`` is returned as
    -inf/inf (the interval is open there). Join it with the bootstrap's crossing interval
    (:meth:`~osl.predict.bootstrap.PredictionBootstrap.crossing`) for the calibrated one."""
    level = validate.level(level)
    if (not isinstance(span, (tuple, list)) or len(span) != 2
            or not validate.real("span[1]", span[1]) > validate.real("span[0]", span[0])):
        raise ArgumentError(f"span must be (low, high) log10 FLOPs with low < high, got {span!r}.")
    _check_predictor(predictor)
    cal = calibrate(predictor) if calibration is None else calibration
    if not isinstance(cal, Calibration):
        raise ArgumentError(f"calibration must be a Calibration from calibrate(), got "
                            f"{type(cal).__name__}.")
    p = predictor
    a = p._require_axis()
    x = np.linspace(span[0], span[1], 1201)
    z = p.params_[1] * x if p.features.axis == "compute" else (x - a[0]) / a[1]
    d = _distance(z, cal.top, cal.spread)
    # The curve's own logit is linear in z and needs no clip (no observed score enters here).
    inside = np.abs(p.params_[0] + z) <= cal.quantile(level) * np.sqrt(1.0 + d ** 2)
    if not inside.any():
        return float("nan"), float("nan")
    lo, hi = x[inside].min(), x[inside].max()
    return (-np.inf if lo <= x[0] else float(lo)), (np.inf if hi >= x[-1] else float(hi))
