"""Bootstrap intervals of fitted predictors, shared across targets, and paired gains.

:func:`bootstrap_many` resamples the training models of several fitted
:class:`~osl.predict.estimator.ScalingPredictor` objects at once. Predictors fitted on the same
training rows with the same features share one set of resamples and one batched capability
refit, and their link refits run as one batched solve; with the same seed, each result is
identical to bootstrapping that predictor alone. :class:`PredictionBootstrap` turns the draws
into bands, predictive intervals and crossing intervals; :func:`fit_paired` fits two targets on
the same models so that their difference (a gain) gets a paired band, and :func:`fit_pairs`
does so for several pairs at once.
"""
from __future__ import annotations

from collections import defaultdict
from typing import Sequence

import numpy as np
import pandas as pd

from .. import validate
from ..errors import ArgumentError, FitError
from .estimator import ScalingPredictor, crossings, curve_draws, equivalent_axis
from .link import fit_link_padded, link

CHUNK = 500


def _quantiles(D: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    lo, hi = np.quantile(D, [(1 - level) / 2, (1 + level) / 2], axis=0)
    return lo, hi


def bootstrap_many(predictors: Sequence[ScalingPredictor], n_boot: int = 1000, seed: int = 0, *,
                   progress: bool = False) -> list["PredictionBootstrap"]:
    """Bootstrap every fitted predictor (resamples of its own training models, refitting
    imputation, PCA and the link each time); returns one :class:`PredictionBootstrap` each."""
    n_boot = validate.integer("n_boot", n_boot, low=2)
    seed = validate.seed(seed)
    for p in predictors:
        if not isinstance(p, ScalingPredictor):
            raise FitError(f"bootstrap needs fitted ScalingPredictor objects, got {type(p).__name__}.")
        p._check()
    groups: dict[tuple, list[int]] = defaultdict(list)
    for i, p in enumerate(predictors):
        key = (p.features.key(), p.link, p.rows_.tobytes(), p.raw_train_.tobytes(),
               p.index_.size)
        groups[key].append(i)
    from tqdm.auto import tqdm
    bar = tqdm(total=len(groups) * n_boot, desc="bootstrap", unit="draw", disable=not progress)
    # Refit the features of every group (one capability refit per group), then solve every
    # group's link refits together: one padded, batched solve per kind of link.
    prepared = [_prepare_group([predictors[i] for i in members], n_boot, seed, bar)
                for members in groups.values()]
    by_kind: dict[tuple, list[int]] = defaultdict(list)
    for g, prep in enumerate(prepared):
        by_kind[(prep["X"].shape[2], prep["spec"])].append(g)
    for (_, spec), gs in by_kind.items():
        problems = [(prepared[g]["XX"], prepared[g]["Y"], prepared[g]["init"]) for g in gs]
        # Each resample starts from the point estimate and from its own logit-linear fit:
        # a steep curve refitted from the point estimate alone can stall on a flat side
        # (measured: warm starts alone move IPA BLEU's interval by up to 0.2 and save ~4%).
        # One layout for every bootstrap, however many problems share the solve, so that a
        # predictor's draws do not depend on what it was bootstrapped with.
        for g, (th, conv) in zip(gs, fit_link_padded(problems, spec, max_iter=300, tol=1e-9,
                                                     paper_start=False, layout="planes")):
            prepared[g]["theta"], prepared[g]["conv"] = th, conv
    bar.close()
    out: list = [None] * len(predictors)
    for members, prep in zip(groups.values(), prepared):
        for i, b in zip(members, _finish_group(prep, seed)):
            out[i] = b
    return out


def _prepare_group(preds: list[ScalingPredictor], n_boot: int, seed: int, bar) -> dict:
    """Resamples of one group's training models, their refitted features and link problems."""
    first = preds[0]
    f = first.features
    n = first.raw_train_.shape[0]
    idx = np.random.default_rng(seed).integers(0, n, size=(n_boot, n))
    states, Xs, valids = [], [], []
    for start in range(0, n_boot, CHUNK):
        state, X, valid = f.fit_stack(first.raw_train_, idx[start:start + CHUNK], first.state_)
        states.append(state)
        Xs.append(X)
        valids.append(valid)
        bar.update(len(valid))
    X = np.concatenate(Xs)
    T = len(preds)
    return {"preds": preds, "spec": first.link, "n": n, "X": X, "valid": np.concatenate(valids),
            "state": _concat_states(states), "XX": np.concatenate([X] * T),
            "Y": np.concatenate([p.y_train_[idx] for p in preds]),
            "init": np.concatenate([np.broadcast_to(p.params_, (n_boot, p.params_.size))
                                    for p in preds])}


def _finish_group(prep: dict, seed: int) -> list["PredictionBootstrap"]:
    preds, th, conv, n = prep["preds"], prep["theta"], prep["conv"], prep["n"]
    T, B = len(preds), prep["X"].shape[0]
    # In-sample residuals understate the noise: inflate by sqrt(n / (n - parameters)).
    n_par = th.shape[1] - (0 if prep["spec"].floor else 1)
    r = (link(th, prep["XX"]) - prep["Y"]) * np.sqrt(n / max(n - n_par, 1))
    good = np.tile(prep["valid"], T) & conv & np.all(np.isfinite(th), axis=1)
    params, ok, resid = th.reshape(T, B, -1), good.reshape(T, B), r.reshape(T, B, n)
    return [PredictionBootstrap(p, params[t], ok[t], resid[t], prep["state"], seed)
            for t, p in enumerate(preds)]


def _concat_states(states):
    if states[0] is None:
        return None
    if len(states) == 1:
        return states[0]
    from dataclasses import fields, replace
    first = states[0]
    arrays = {fl.name: np.concatenate([getattr(s, fl.name) for s in states])
              for fl in fields(first) if isinstance(getattr(first, fl.name), np.ndarray)}
    return replace(first, **arrays)


class PredictionBootstrap:
    """Bootstrap draws of a fitted :class:`ScalingPredictor` (see :func:`bootstrap_many`).

    ``params`` (n_boot, P) are the link parameters of every resample, ``ok`` marks resamples
    whose fit converged to finite values, ``residuals`` (n_boot, n_train) their inflated
    training residuals (unit scale), ``state`` the stacked refitted feature state.
    """

    def __init__(self, predictor: ScalingPredictor, params: np.ndarray, ok: np.ndarray,
                 residuals: np.ndarray, state, seed: int):
        self.predictor = predictor
        self.params = params
        self.ok = ok
        self.residuals = residuals
        self.state = state
        self.seed = seed
        self._axes = None

    def __repr__(self) -> str:
        return (f"PredictionBootstrap(target={self.predictor.target_!r}, "
                f"n_boot={len(self.params)}, n_ok={self.n_ok})")

    @property
    def n_ok(self) -> int:
        return int(self.ok.sum())

    def _features(self, models: pd.DataFrame) -> np.ndarray:
        """(n_boot, m, k) predictor values of ``models`` under every resample's state."""
        f = self.predictor.features
        raw = f.raw(validate.frame(models))
        X = f.transform(self.state, raw)
        return np.broadcast_to(X, (len(self.params),) + X.shape[1:])

    def draws(self, models: pd.DataFrame, *, features: np.ndarray | None = None) -> np.ndarray:
        """(n_ok, m) bootstrap draws of the mean prediction (unit scale); ``features``: the
        models' features under this bootstrap's states if already computed (a bootstrap of
        several targets shares them, see :meth:`~osl.predict.BootstrapSet.predict`)."""
        X = self._features(models) if features is None else features
        return link(self.params, X)[self.ok]

    def predict(self, models: pd.DataFrame, level: float = 0.8,
                interval: str = "calibrated", *,
                features: np.ndarray | None = None) -> pd.DataFrame:
        """Point prediction (``mean``), a ``level`` confidence band of the mean curve
        (``band_lower``/``band_upper``: where the *average* model of this capability lies) and a
        ``level`` predictive interval (``lower``/``upper``: where *one* model's score lies), on
        the target's scale. ``interval="bootstrap"``: parameter uncertainty plus a resampled
        training residual; ``"calibrated"`` (default): that interval widened by the conformal
        layer of :mod:`~osl.predict.calibration`, fitted on the training models only.
        ``features``: as in :meth:`draws`."""
        level = validate.level(level)
        validate.choice("interval", interval, ("calibrated", "bootstrap"))
        p = self.predictor
        mean = p.predict(models).to_numpy()
        D = self.draws(models, features=features)
        if D.shape[0] == 0:
            raise FitError(f"{p.target_!r}: no bootstrap resample converged; intervals are "
                           "undefined. Use more training models or fewer PCs.")
        rng = np.random.default_rng(self.seed + 1)
        res = self.residuals[self.ok]
        pick = res[np.arange(len(res))[:, None], rng.integers(0, res.shape[1], size=D.shape)]
        blo, bhi = _quantiles(D, level)
        lo, hi = _quantiles(D + pick, level)
        lo_t, hi_t = p.target_range  # scores cannot leave their own range
        lower, upper = np.clip(p.from_unit(lo), lo_t, hi_t), np.clip(p.from_unit(hi), lo_t, hi_t)
        if interval == "calibrated":
            from .calibration import widen
            lower, upper = widen(p, models, level, lower, upper)
        return pd.DataFrame({
            "mean": mean, "band_lower": p.from_unit(blo), "band_upper": p.from_unit(bhi),
            "lower": lower, "upper": upper}, index=models.index)

    def axes(self) -> np.ndarray:
        """(n_boot, 2) per-resample maps from linear score to reference-equivalent log-FLOPs."""
        if self._axes is None:
            p = self.predictor
            p._require_axis()
            if p.features.axis == "compute":
                self._axes = np.tile([0.0, 1.0], (len(self.params), 1))
            else:
                ref = p.features.transform(self.state, p.reference_raw_)
                self._axes = equivalent_axis(ref, self.params, p.reference_log_flops_)
        return self._axes

    def crossing(self, threshold: float | None = None, level: float = 0.8) -> dict[str, float]:
        """Point and ``level`` interval of the equivalent log10 FLOPs where the curve crosses."""
        level = validate.level(level)
        p = self.predictor
        point = p.crossing(threshold)
        cr = crossings(self.params, p.unit_threshold(threshold), self.axes(),
                       p.features.axis)[self.ok]
        cr = cr[np.isfinite(cr)]
        lo, hi = _quantiles(cr, level) if cr.size else (np.nan, np.nan)
        return {"point": point, "lower": float(lo), "upper": float(hi), "n": int(cr.size)}

    def curve_draws(self, log_flops) -> np.ndarray:
        """(n_boot, G) draws of the curve along the equivalent-compute axis, on the target's
        scale; rows of failed resamples are NaN (keeps draws paired across fits)."""
        p = self.predictor
        D = curve_draws(self.params, self.axes(), np.asarray(log_flops, float), p.features.axis)
        D[~self.ok] = np.nan
        return p.from_unit(D)

    def curve_band(self, log_flops, level: float = 0.8) -> pd.DataFrame:
        """The fitted curve and its ``level`` band along the equivalent-compute axis."""
        level = validate.level(level)
        lf = np.asarray(log_flops, float)
        lo, hi = _quantiles(self.curve_draws(lf)[self.ok], level)
        return pd.DataFrame({"log10_flops": lf, "mean": self.predictor.curve(lf),
                             "lower": lo, "upper": hi})


# --------------------------------------------------------------------------------------------
# Paired gains
# --------------------------------------------------------------------------------------------
class PairedFit:
    """Two targets fitted and bootstrapped on the same training models (see :func:`fit_paired`).

    ``a`` and ``b`` are :class:`PredictionBootstrap` objects whose resample ``i`` saw the same
    models, so ``a - b`` draw by draw measures the uncertainty of the gain itself.
    """

    def __init__(self, a: PredictionBootstrap, b: PredictionBootstrap):
        if len(a.params) != len(b.params) or a.seed != b.seed or \
                not np.array_equal(a.predictor.rows_, b.predictor.rows_):
            raise FitError("A paired gain needs both targets fitted on the same training models "
                           "and bootstrapped with the same seed; use fit_paired().")
        self.a, self.b = a, b
        self.ok = a.ok & b.ok

    def curve(self, log_flops, level: float = 0.8) -> pd.DataFrame:
        """``a - b`` along the equivalent-compute axis with a paired ``level`` band."""
        level = validate.level(level)
        lf = np.asarray(log_flops, float)
        D = (self.a.curve_draws(lf) - self.b.curve_draws(lf))[self.ok]
        lo, hi = _quantiles(D, level)
        return pd.DataFrame({"log10_flops": lf,
                             "gain": self.a.predictor.curve(lf) - self.b.predictor.curve(lf),
                             "lower": lo, "upper": hi})

    def predict(self, models: pd.DataFrame, level: float = 0.8) -> pd.DataFrame:
        """Predicted gain ``a - b`` of each model with a ``level`` band from paired draws, and
        the observed gain where both targets are in the table."""
        level = validate.level(level)
        pa, pb = self.a.predictor, self.b.predictor
        Da = pa.from_unit(link(self.a.params, self.a._features(models)))
        Db = pb.from_unit(link(self.b.params, self.b._features(models)))
        lo, hi = _quantiles((Da - Db)[self.ok], level)
        out = pd.DataFrame({"gain": pa.predict(models) - pb.predict(models), "lower": lo,
                            "upper": hi}, index=models.index)
        if pa.target_ in models and pb.target_ in models:
            out["observed"] = models[pa.target_] - models[pb.target_]
        return out


def fit_paired(models: pd.DataFrame, a: str, b: str, train=None, *, n_boot: int = 1000,
               seed: int = 0, **kwargs) -> PairedFit:
    """Fit targets ``a`` and ``b`` on the ``train`` models that have both, bootstrap them with
    shared resamples, and return the pair (``kwargs`` go to :class:`ScalingPredictor`)."""
    return fit_pairs(models, {"gain": (a, b)}, train, n_boot=n_boot, seed=seed, **kwargs)["gain"]


def fit_pairs(models: pd.DataFrame, pairs: dict, train=None, *, n_boot: int = 1000,
              seed: int = 0, **kwargs) -> dict[str, PairedFit]:
    """Several gains in one call: ``pairs`` is ``{name: (a, b)}``; ``train`` one mask, or
    ``{name: mask}`` with a mask for every pair. Each pair is fitted on its training models
    that have both targets, as :func:`fit_paired` does; a target shared by pairs with the same
    training models is fitted once, and all fits are bootstrapped in one
    :func:`bootstrap_many` call, so each pair equals :func:`fit_paired` with the same seed."""
    models = validate.frame(models)
    if not isinstance(pairs, dict) or not pairs:
        raise ArgumentError("pairs must be a non-empty {name: (target_a, target_b)} dict.")
    if isinstance(train, dict) and set(train) != set(pairs):
        raise ArgumentError(f"train as a dict needs one mask per pair: missing "
                            f"{sorted(set(pairs) - set(train))}, "
                            f"unknown {sorted(set(train) - set(pairs))}.")
    fits, keys = {}, {}
    for name, pair in pairs.items():
        if not isinstance(pair, (tuple, list)) or len(pair) != 2:
            raise ArgumentError(f"pairs[{name!r}] must be (target_a, target_b), got {pair!r}.")
        ab = list(validate.names(f"pairs[{name!r}]", list(pair)))
        validate.columns_present(models, ab, what=f"pair {name!r}")
        m = validate.mask(train[name] if isinstance(train, dict) else train, len(models),
                          f"train[{name!r}]" if isinstance(train, dict) else "train",
                          rows=models.index)
        both = m & models[ab].notna().all(axis=1).to_numpy()
        keys[name] = [(t, both.tobytes()) for t in ab]
        for t, k in zip(ab, keys[name]):
            if k not in fits:
                fits[k] = ScalingPredictor(**kwargs).fit(models, t, both)
    boots = dict(zip(fits, bootstrap_many(list(fits.values()), n_boot, seed)))
    return {name: PairedFit(boots[ka], boots[kb]) for name, (ka, kb) in keys.items()}
