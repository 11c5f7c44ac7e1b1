"""Levers other than scale, priced as multipliers of reference-family-equivalent compute.

A change that moves a model along the capability axis is worth the compute the reference family
(Llama-2 in the paper's set-up) would need to move as far. :func:`compute_multiplier` is the one
conversion, in three forms:

* a **capability difference** ``d`` on an axis where the reference family gains ``slope``
  capability per order of magnitude of compute: ``log10 multiplier = d / slope`` (a family's
  compute efficiency, an instruct model against its base model);
* a **technique's curve against a baseline's curve** on the equivalent-compute axis, at a
  capability ``at`` (equivalent log10 FLOPs): the baseline needs ``x'`` with
  ``y_base(x') = y_tech(at)``, and ``log10 multiplier = x' - at`` (chain-of-thought against
  naive prompting);
* **two score levels on one curve**: ``log10 multiplier = x(y1) - x(y0)``, the inverse of the
  link at both levels.

Intervals resample whole families (a family shares data, recipe and contamination, so families,
not models, are the independent units): :func:`family_bootstrap` refits the capability space
(imputation and PCA), every target's link and the equivalent-compute axis on each resample of
families, with the same resamples for every target, so two curves of one call are paired draw by
draw. The capability space's own family bootstrap is
:func:`osl.space.bootstrap_capability_space` with ``resample="families"``.

>>> fb = family_bootstrap(models, ["cot", "naive"], n_boot=500, seed=0)   # doctest: +SKIP
>>> compute_multiplier(curve=fb["cot"], baseline=fb["naive"], at=23.9)   # doctest: +SKIP
Multiplier(... 10^0.62 = 4.2x, 90% interval 2.1x to 8.3x ...)
"""
from __future__ import annotations

import numbers
from dataclasses import dataclass, field, fields, replace
from typing import Sequence

import numpy as np
import pandas as pd
from ._special import expit, logit

from . import validate
from .capability import fit_capabilities, project
from .errors import ArgumentError, FitError
from .predict.axis import equivalent_axis
from .predict.estimator import ScalingPredictor
from .predict.features import PCs
from .predict.link import fit_link_padded

__all__ = ["CurveDraws", "FamilyBootstrap", "Multiplier", "compute_multiplier",
           "family_bootstrap", "match_by_name", "multiplier_table", "pooled_multiplier"]

LEVEL = 0.9


# --------------------------------------------------------------------------------------------
# The result
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Multiplier:
    """An equivalent-compute multiplier: ``10 ** dex`` with a ``level`` bootstrap interval.

    ``draws`` (one per resample, NaN where the resample could not say anything, ``+-inf`` where
    the multiplier is unbounded, e.g. a score the baseline never reaches) stay aligned with the
    resamples, so two multipliers from the same resamples can be differenced draw by draw
    (:meth:`minus`). ``n_draws`` counts the draws used, ``n_unbounded`` the infinite ones.
    """

    dex: float
    lower: float
    upper: float
    level: float
    method: str
    draws: np.ndarray = field(repr=False)
    n_draws: int = 0
    n_unbounded: int = 0

    @property
    def factor(self) -> float:
        return float(10.0 ** self.dex)

    @property
    def factor_lower(self) -> float:
        return float(10.0 ** self.lower)

    @property
    def factor_upper(self) -> float:
        return float(10.0 ** self.upper)

    def __repr__(self) -> str:
        return (f"Multiplier(10^{self.dex:.3g} = {self.factor:.3g}x, {self.level:.0%} interval "
                f"{self.factor_lower:.3g}x to {self.factor_upper:.3g}x, {self.n_draws} draws; "
                f"{self.method})")

    def as_dict(self) -> dict:
        """Point, interval (log10 and as factors), draws used and the method, for a table."""
        return {"dex": self.dex, "lower_dex": self.lower, "upper_dex": self.upper,
                "factor": self.factor, "factor_lower": self.factor_lower,
                "factor_upper": self.factor_upper, "n_draws": self.n_draws,
                "n_unbounded": self.n_unbounded, "method": self.method}

    def mc_error(self) -> float:
        """Monte-Carlo standard error (log10 units) of the interval's ends, the larger of the
        two: half the spread of the draws' quantiles at ``p +- sqrt(p (1 - p) / n)`` for each
        end ``p`` (how much the ends would move with another set of resamples)."""
        d = self.draws[~np.isnan(self.draws)]
        if d.size < 2:
            return float("nan")
        out = 0.0
        for p in ((1 - self.level) / 2, (1 + self.level) / 2):
            se = np.sqrt(p * (1 - p) / d.size)
            lo, hi = np.quantile(d, [max(p - se, 0.0), min(p + se, 1.0)], method="inverted_cdf")
            with np.errstate(invalid="ignore"):
                out = max(out, float((hi - lo) / 2))
        return out

    def minus(self, other: "Multiplier", method: str | None = None) -> "Multiplier":
        """``self / other`` as a multiplier (difference of log10 multipliers), paired draw by
        draw: both must come from the same resamples (same length of ``draws``)."""
        if not isinstance(other, Multiplier):
            raise ArgumentError(f"other must be a Multiplier, got {type(other).__name__}.")
        if self.draws.shape != other.draws.shape:
            raise ArgumentError(
                f"Paired difference needs draws from the same resamples: got {self.draws.size} "
                f"and {other.draws.size} draws. Compute both from one family_bootstrap call.")
        with np.errstate(invalid="ignore"):
            d = self.draws - other.draws
        return _summarise(self.dex - other.dex, d, self.level,
                          method or f"difference of paired draws ({self.method})")


def _summarise(point: float, draws: np.ndarray, level: float, method: str) -> Multiplier:
    d = np.asarray(draws, float).ravel()
    used = d[~np.isnan(d)]
    if used.size == 0:
        lo = hi = float("nan")
    else:
        # Order statistics (no interpolation), so that infinite draws stay infinite.
        lo, hi = np.quantile(used, [(1 - level) / 2, (1 + level) / 2], method="inverted_cdf")
    return Multiplier(dex=float(point), lower=float(lo), upper=float(hi), level=level,
                      method=method, draws=d, n_draws=int(used.size),
                      n_unbounded=int(np.isinf(used).sum()))


def multiplier_table(multipliers: dict[str, Multiplier]) -> pd.DataFrame:
    """One row per named multiplier (see :meth:`Multiplier.as_dict`)."""
    if not isinstance(multipliers, dict) or not all(isinstance(m, Multiplier)
                                                    for m in multipliers.values()):
        raise ArgumentError("multiplier_table needs a {name: Multiplier} dict.")
    return pd.DataFrame({k: m.as_dict() for k, m in multipliers.items()}).T.infer_objects()


# --------------------------------------------------------------------------------------------
# Family bootstrap of curves on the equivalent-compute axis
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CurveDraws:
    """One target's link on the equivalent-compute axis: the point fit and its family-resampled
    draws. ``params`` ``[c, w..., b]`` and ``axis`` ``(a, s)`` (equivalent log10 FLOPs
    ``= a + s * (w . x)``) are (P,) and (2,) for the point fit, (B, P) and (B, 2) per draw;
    ``ok`` marks draws whose fits converged. ``kind`` is ``"capability"`` or ``"compute"``
    (the log-FLOPs predictor, whose axis is compute itself). ``key`` identifies the resamples."""

    target: str
    predictor: ScalingPredictor = field(repr=False)
    params: np.ndarray = field(repr=False)
    axis: np.ndarray = field(repr=False)
    draw_params: np.ndarray = field(repr=False)
    draw_axes: np.ndarray = field(repr=False)
    ok: np.ndarray = field(repr=False)
    kind: str = "capability"
    key: tuple = field(default=(), repr=False)

    @property
    def n_boot(self) -> int:
        return len(self.ok)


@dataclass(frozen=True)
class FamilyBootstrap:
    """Result of :func:`family_bootstrap`: one :class:`CurveDraws` per target (``fb[target]``),
    the drawn families of every resample, and, for PC features, the refitted capability states
    (``state``) with which :meth:`capabilities` places any models."""

    curves: dict
    families: np.ndarray          #: (B, F) indices of the drawn families
    family_names: tuple
    valid: np.ndarray             #: (B,) the resample could be refitted
    predictor: ScalingPredictor = field(repr=False)
    state: object = field(repr=False)
    seed: int = 0

    def __getitem__(self, target: str) -> CurveDraws:
        if target not in self.curves:
            raise ArgumentError(f"No target {target!r} in this bootstrap; have "
                                f"{sorted(self.curves)}.")
        return self.curves[target]

    @property
    def n_boot(self) -> int:
        return len(self.valid)

    def capabilities(self, models: pd.DataFrame, k: int = 1) -> tuple[np.ndarray, np.ndarray]:
        """PC-1..PC-k of ``models``: the point fit's (m, k) and each resample's (B, m, k), NaN
        for invalid resamples. Needs the ``"pc"`` predictor."""
        p = self.predictor
        if not isinstance(p.features, PCs):
            raise FitError("capabilities() needs a family_bootstrap with the 'pc' predictor.")
        k = validate.integer("k", k, low=1, high=p.features.n_pcs)
        raw = p.features.raw(validate.frame(models))
        point = p.features.transform(p.state_, raw)[0][:, :k]
        with np.errstate(invalid="ignore", divide="ignore"):
            draws = project(self.state.impute(raw), self.state, k)
        draws[~self.valid] = np.nan
        return point, draws

    def capability_slope(self, models: pd.DataFrame, reference: str, k: int = 1, *,
                         family_column: str = "family") -> tuple[float, np.ndarray]:
        """PC-``k`` gained per order of magnitude of compute within the ``reference`` family's
        models of the table (least squares of PC-k on log10 FLOPs): the point fit's slope and
        each resample's (B,). It converts a PC-k difference into a multiplier."""
        validate.frame(models)
        validate.columns_present(models, [family_column, "log10_flops"],
                                 what="capability_slope")
        lf = pd.to_numeric(models["log10_flops"], errors="coerce").to_numpy(float)
        ref = (models[family_column].to_numpy(dtype=object) == reference) & np.isfinite(lf)
        if ref.sum() < 2 or np.ptp(lf[ref]) == 0:
            raise FitError(f"capability_slope: reference {reference!r} needs at least 2 models "
                           f"with different log10_flops in the table; got {int(ref.sum())}.")
        point, draws = self.capabilities(models[ref], k)
        x = lf[ref] - lf[ref].mean()
        slope = lambda c: np.sum((c - c.mean(axis=-1, keepdims=True)) * x, axis=-1) \
            / np.sum(x ** 2)  # noqa: E731
        return float(slope(point[:, k - 1])), slope(draws[..., k - 1])


def family_bootstrap(models: pd.DataFrame, targets: Sequence[str] = (), train=None, *,
                     n_boot: int = 1000, seed: int = 0, family_column: str = "family",
                     **predictor) -> FamilyBootstrap:
    """Fit every target on the same ``train`` models (those with all targets), then refit the
    capability space, every link and the equivalent-compute axis on ``n_boot`` resamples of
    whole families (drawn with replacement, as many as there are). ``predictor`` keyword
    arguments go to :class:`~osl.predict.ScalingPredictor` (``n_pcs``, ``benchmarks``, ...).

    With no targets, only the capability space is resampled (read it with
    :meth:`FamilyBootstrap.capabilities`). The axis of each resample is refitted on every
    reference-family model of the table (a change of units, not a prediction), as the point fit
    does.
    """
    models = validate.frame(models)
    n_boot = validate.integer("n_boot", n_boot, low=2)
    seed = validate.seed(seed)
    targets = list(validate.names("targets", list(targets), min_count=0)) if not \
        isinstance(targets, str) else [targets]
    validate.columns_present(models, [family_column] + targets, what="family_bootstrap",
                             fix="Whole families are resampled: name the family column with "
                                 "family_column=.")
    rows = validate.mask(train, len(models), rows=models.index)
    if targets:
        rows = rows & models[targets].notna().all(axis=1).to_numpy()
    base = ScalingPredictor(**predictor)
    f = base.features
    raw_all = f.raw(models)
    rows = rows & f.usable(raw_all)
    if targets:
        fits = {t: ScalingPredictor(**predictor).fit(models, t, rows) for t in targets}
        first = fits[targets[0]]
        rows = first.rows_  # every target is fitted on these same rows (checked below)
        assert all(np.array_equal(p.rows_, rows) for p in fits.values())
    else:
        fits = {}
        f.check_training(raw_all[rows])
        first = base
        first.state_ = f.fit(raw_all[rows])
        first.rows_ = rows
    raw = raw_all[rows]
    fam = models[family_column].to_numpy(dtype=object)[rows]
    codes, names = pd.factorize(pd.Series(fam))
    F = len(names)
    if F < 2:
        raise FitError(f"family_bootstrap: the training models come from {F} family; "
                       "resampling whole families needs at least 2.")
    members = [np.flatnonzero(codes == g) for g in range(F)]
    draws = np.random.default_rng(seed).integers(0, F, size=(n_boot, F))
    idx = [np.concatenate([members[g] for g in d]) for d in draws]
    valid = np.ones(n_boot, bool)
    by_size: dict[int, list[int]] = {}
    for b, r in enumerate(idx):
        by_size.setdefault(r.size, []).append(b)
    groups = []  # (draw ids, idx stack, state, training features)
    for size, bs in by_size.items():
        I = np.stack([idx[b] for b in bs])
        bs = np.asarray(bs)
        if isinstance(f, PCs):
            Xs = raw[I]
            lo = np.min(np.where(np.isnan(Xs), np.inf, Xs), axis=1)
            hi = np.max(np.where(np.isnan(Xs), -np.inf, Xs), axis=1)
            ok = np.all(hi > lo, axis=1)
            valid[bs[~ok]] = False
            if not ok.any():
                continue
            I, bs = I[ok], bs[ok]
            fit, imputed, _ = fit_capabilities(raw[I], f.benchmarks, standardize=f.standardize)
            fit = fit.signs_to(first.state_, f.n_pcs)
            valid[bs[~fit.converged]] = False
            groups.append((bs, I, fit, project(imputed, fit, f.n_pcs)))
        else:
            groups.append((bs, I, None, raw[I]))
    state = _stack_states([g[2] for g in groups], [g[0] for g in groups], n_boot) \
        if isinstance(f, PCs) else None
    curves = {}
    if targets:
        problems, where = [], []
        for t, p in fits.items():
            for bs, I, _, X in groups:
                problems.append((X, p.y_train_[I], np.broadcast_to(p.params_, (len(bs),
                                                                                p.params_.size))))
                where.append((t, bs))
        solved = fit_link_padded(problems, first.link, max_iter=300, tol=1e-9,
                                 paper_start=False, layout="planes")
        P = first.params_.size
        out = {t: (np.full((n_boot, P), np.nan), np.zeros(n_boot, bool)) for t in targets}
        for (t, bs), (th, conv) in zip(where, solved):
            out[t][0][bs] = th
            out[t][1][bs] = conv & np.all(np.isfinite(th), axis=1)
        key = ("family_bootstrap", seed, n_boot, rows.tobytes(), family_column)
        for t, p in fits.items():
            th, ok = out[t]
            ok &= valid
            kind = f.axis if f.axis in ("capability", "compute") else None
            if kind == "capability" and p.axis_ is None:
                kind = None  # no reference family in the table: no equivalent-compute axis
            if kind == "capability":
                ax_point = p._require_axis()
                ref = np.full((n_boot, p.reference_raw_.shape[0], f.n_features), np.nan)
                for bs, _, st, _ in groups:
                    ref[bs] = f.transform(st, p.reference_raw_)
                safe = np.where(np.isfinite(th), th, 0.0)
                with np.errstate(invalid="ignore"):
                    axes = equivalent_axis(np.nan_to_num(ref), safe, p.reference_log_flops_)
                axes[~ok] = np.nan
            elif kind == "compute":
                ax_point, axes = np.array([0.0, 1.0]), np.tile([0.0, 1.0], (n_boot, 1))
            else:
                ax_point = axes = None
            curves[t] = CurveDraws(target=t, predictor=p, params=p.params_.copy(),
                                   axis=ax_point, draw_params=th, draw_axes=axes, ok=ok,
                                   kind=kind or "none", key=key)
    return FamilyBootstrap(curves=curves, families=draws, family_names=tuple(names),
                           valid=valid, predictor=first, state=state, seed=seed)


def _stack_states(states, ids, n_boot):
    """One stacked :class:`~osl.capability.CapabilityFit` in draw order (NaN where no fit)."""
    states = [s for s in states if s is not None]
    if not states:
        raise FitError("family_bootstrap: no resample of families could be refitted (a "
                       "benchmark had fewer than two distinct scores in every resample).")
    order = np.concatenate(ids)
    arrays = {}
    for fl in fields(states[0]):
        v = getattr(states[0], fl.name)
        if isinstance(v, np.ndarray):
            cat = np.concatenate([getattr(s, fl.name) for s in states])
            full = np.zeros((n_boot,) + cat.shape[1:], dtype=cat.dtype)
            if full.dtype.kind == "f":
                full[:] = np.nan
            full[order] = cat
            arrays[fl.name] = full
    return replace(states[0], **arrays)


# --------------------------------------------------------------------------------------------
# The conversion
# --------------------------------------------------------------------------------------------
def _curve_unit(params, axis, x, kind):
    """Unit-scale value of the link at equivalent log10 FLOPs ``x`` (broadcast over rows)."""
    c, b = params[..., 0], params[..., -1]
    if kind == "compute":
        s = params[..., 1] * x
    else:
        s = (x - axis[..., 0]) / axis[..., 1]
    return (1 - b) * expit(c + s) + b


def _inverse_unit(params, axis, u, kind):
    """Equivalent log10 FLOPs where the link reaches unit-scale level ``u`` (``-inf`` below
    the floor, ``+inf`` at or above the ceiling)."""
    c, b = params[..., 0], params[..., -1]
    with np.errstate(invalid="ignore", divide="ignore"):
        frac = (u - b) / (1 - b)
        z = logit(np.clip(frac, 1e-300, 1 - 1e-16)) - c
        x = z / params[..., 1] if kind == "compute" else axis[..., 0] + axis[..., 1] * z
    x = np.where(frac <= 0, -np.inf, np.where(frac >= 1, np.inf, x))
    return np.where(np.isnan(u) | np.isnan(c), np.nan, x)


def _number_or_draws(name, value, n=None):
    if isinstance(value, (bool, np.bool_)):
        raise ArgumentError(f"{name} must be numbers, got {value!r}.")
    arr = np.asarray(value, dtype=float) if not isinstance(value, str) else None
    if arr is None or arr.ndim > 1 or arr.size == 0:
        raise ArgumentError(f"{name} must be a number or a 1-d array of bootstrap draws, got "
                            f"{value!r}.")
    if n is not None and arr.ndim == 1 and arr.size != n:
        raise ArgumentError(f"{name} has {arr.size} draws but the other side has {n}; pass one "
                            "value per resample, from the same resamples.")
    return arr


def _check_curve(name, curve):
    if not isinstance(curve, CurveDraws):
        raise ArgumentError(f"{name} must be a CurveDraws (fb[target] of a family_bootstrap), "
                            f"got {type(curve).__name__}.")
    if curve.kind not in ("capability", "compute"):
        raise FitError(f"{name} ({curve.target!r}) has no equivalent-compute axis: fit it with "
                       "the 'pc' or 'log_flops' predictor and a reference family.")
    return curve


def compute_multiplier(*, difference=None, slope=None, difference_draws=None, slope_draws=None,
                       curve: CurveDraws | None = None, baseline: CurveDraws | None = None,
                       at: float | None = None, levels: tuple[float, float] | None = None,
                       level: float = LEVEL, method: str | None = None) -> Multiplier:
    """Convert a lever into a multiplier of reference-family-equivalent compute.

    Exactly one form:

    * ``difference`` and ``slope`` (numbers; their bootstrap draws in ``difference_draws`` and
      ``slope_draws``, one value per resample, NaN where a resample says nothing): a capability
      difference on an axis where the reference family gains ``slope`` capability per order of
      magnitude of compute; ``log10 multiplier = difference / slope``.
    * ``curve``, ``baseline`` and ``at``: the compute the baseline's curve needs to reach the
      score the technique's curve has at equivalent log10 FLOPs ``at``, over ``at``. Both
      curves must come from one :func:`family_bootstrap` call (paired draws) and share the
      target scale.
    * ``curve`` and ``levels=(y0, y1)``: the compute between the points where one curve reaches
      scores ``y0`` and ``y1`` (target scale).

    Returns a :class:`Multiplier` with a ``level`` percentile interval over the draws.
    """
    level = validate.level(level)
    forms = {"difference": difference is not None or slope is not None,
             "curve vs baseline": baseline is not None or at is not None,
             "levels": levels is not None}
    chosen = [k for k, v in forms.items() if v]
    if len(chosen) != 1 or (chosen != ["difference"] and curve is None) or \
            (chosen == ["difference"] and curve is not None):
        raise ArgumentError(
            "compute_multiplier: give exactly one of (difference=, slope=), "
            "(curve=, baseline=, at=) or (curve=, levels=(y0, y1)); got "
            f"{chosen or 'none'}{' with curve=' if curve is not None else ''}.")
    if method is not None and not isinstance(method, str):
        raise ArgumentError(f"method must be a string describing the method, got {method!r}.")

    if chosen == ["difference"]:
        if difference is None or slope is None:
            raise ArgumentError("compute_multiplier: a capability difference needs both "
                                "difference= and slope= (capability per order of magnitude).")
        d = validate.real("difference", difference)
        s = validate.real("slope", slope)
        if s == 0:
            raise ArgumentError("slope must be non-zero: it is the reference family's capability "
                                "gain per order of magnitude of compute.")
        dd = None if difference_draws is None else _number_or_draws("difference_draws",
                                                                      difference_draws)
        sd = None if slope_draws is None else _number_or_draws(
            "slope_draws", slope_draws, None if dd is None else dd.size)
        if dd is None and sd is None:
            draws = np.array([])  # no draws: no interval
        else:
            num = np.atleast_1d(d if dd is None else dd)
            den = np.atleast_1d(s if sd is None else sd)
            with np.errstate(divide="ignore", invalid="ignore"):
                draws = np.where(den == 0, np.nan, num / den)
        return _summarise(d / s, draws, level, method or
                          "capability difference / reference slope, family-resampled draws")

    curve = _check_curve("curve", curve)
    if chosen == ["curve vs baseline"]:
        if baseline is None or at is None:
            raise ArgumentError("compute_multiplier: a technique's curve against a baseline "
                                "needs curve=, baseline= and at= (equivalent log10 FLOPs).")
        baseline = _check_curve("baseline", baseline)
        if curve.key != baseline.key or not curve.key:
            raise ArgumentError("curve and baseline must come from one family_bootstrap call "
                                "(the same resamples), so that their draws are paired.")
        pc, pb = curve.predictor, baseline.predictor
        if pc.target_range != pb.target_range or pc.chance != pb.chance:
            raise ArgumentError(f"curve {curve.target!r} and baseline {baseline.target!r} are on "
                                "different target scales; compare targets of one scale.")
        x = validate.real("at", at)

        def convert(pt, ax, pb_, axb, kind_t, kind_b):
            y = pc.from_unit(_curve_unit(pt, ax, x, kind_t))
            return _inverse_unit(pb_, axb, pb.to_unit(y), kind_b) - x
        point = float(convert(curve.params, curve.axis, baseline.params, baseline.axis,
                              curve.kind, baseline.kind))
        draws = convert(curve.draw_params, curve.draw_axes, baseline.draw_params,
                        baseline.draw_axes, curve.kind, baseline.kind)
        draws = np.where(curve.ok & baseline.ok, draws, np.nan)
        return _summarise(point, draws, level, method or
                          f"baseline {baseline.target!r} inverted at the score of "
                          f"{curve.target!r}, {curve.n_boot} resamples of whole families")

    if not isinstance(levels, (tuple, list)) or len(levels) != 2:
        raise ArgumentError(f"levels must be two scores (y0, y1), got {levels!r}.")
    lo_t, hi_t = curve.predictor.target_range
    y0 = validate.real("levels[0]", levels[0], low=lo_t, high=hi_t)
    y1 = validate.real("levels[1]", levels[1], low=lo_t, high=hi_t)
    p = curve.predictor
    u0, u1 = p.to_unit(y0), p.to_unit(y1)
    point = float(_inverse_unit(curve.params, curve.axis, u1, curve.kind)
                  - _inverse_unit(curve.params, curve.axis, u0, curve.kind))
    with np.errstate(invalid="ignore"):
        draws = (_inverse_unit(curve.draw_params, curve.draw_axes, u1, curve.kind)
                 - _inverse_unit(curve.draw_params, curve.draw_axes, u0, curve.kind))
    draws = np.where(curve.ok, draws, np.nan)
    return _summarise(point, draws, level, method or
                      f"inverse link of {curve.target!r} at two scores, {curve.n_boot} "
                      "resamples of whole families")


# --------------------------------------------------------------------------------------------
# Pooling and matching
# --------------------------------------------------------------------------------------------
def pooled_multiplier(multipliers: Sequence[Multiplier], clusters: Sequence, *,
                      statistic: str = "median", seed: int = 0,
                      method: str | None = None) -> Multiplier:
    """The median (or mean) of several multipliers, with an interval that resamples whole
    clusters (e.g. the families of instruct models) as well: in resample ``b``, clusters are
    drawn with replacement and the statistic of the drawn multipliers' ``b``-th draws is
    taken. All multipliers must come from the same resamples."""
    ms = list(multipliers) if not isinstance(multipliers, Multiplier) else None
    if not ms or not all(isinstance(m, Multiplier) for m in ms):
        raise ArgumentError("multipliers must be a non-empty list of Multiplier objects.")
    cl = np.asarray(list(clusters), dtype=object)
    if cl.size != len(ms):
        raise ArgumentError(f"clusters has {cl.size} labels for {len(ms)} multipliers; give one "
                            "cluster label per multiplier.")
    if len({m.draws.size for m in ms}) != 1:
        raise ArgumentError("multipliers come from different resamples (draw counts differ); "
                            "compute them from one bootstrap.")
    validate.choice("statistic", statistic, ("median", "mean"))
    seed = validate.seed(seed)
    stat = np.nanmedian if statistic == "median" else np.nanmean
    D = np.stack([m.draws for m in ms], axis=1)                   # (B, m)
    codes, names = pd.factorize(pd.Series(cl))
    C, B = len(names), D.shape[0]
    pick = np.random.default_rng(seed).integers(0, C, size=(B, C))
    weights = np.zeros((B, len(ms)))
    for j in range(C):                                           # how often each is drawn
        weights += (pick[:, [j]] == codes[None, :])
    draws = np.full(B, np.nan)
    for b in range(B):
        rep = np.repeat(D[b], weights[b].astype(int))
        rep = rep[~np.isnan(rep)]
        if rep.size:
            draws[b] = np.median(rep) if statistic == "median" else np.mean(rep)
    point = float(stat([m.dex for m in ms]))
    return _summarise(point, draws, ms[0].level, method or
                      f"{statistic} of {len(ms)} multipliers; {C} clusters resampled with "
                      "replacement in every draw")


def _name_key(name: str, suffixes: Sequence[str]) -> str:
    key = str(name).split("/")[-1].lower()
    changed = True
    while changed:
        changed = False
        for s in suffixes:
            if key.endswith(s):
                key, changed = key[: -len(s)], True
    return key


#: Suffixes that mark a release of a base model or its chat/instruct version in a model name.
BASE_SUFFIXES = ("-hf", "-base", "-v0.1")
TUNED_SUFFIXES = ("-chat", "-instruct", "-v0.1")


def match_by_name(base: Sequence[str], tuned: Sequence[str], *,
                  base_suffixes: Sequence[str] = BASE_SUFFIXES,
                  tuned_suffixes: Sequence[str] = TUNED_SUFFIXES) -> pd.DataFrame:
    """Pairs of a tuned model and its base model whose names agree once the organisation prefix,
    case and release suffixes are removed (``meta-llama/Llama-2-7b-hf`` and
    ``llama-2-7b-chat`` both become ``llama-2-7b``). Only names with exactly one match on each
    side are paired. Returns a frame indexed by the tuned model with ``base`` and ``key``."""
    base = list(validate.names("base", list(base)))
    tuned = list(validate.names("tuned", list(tuned)))
    bk = pd.Series([_name_key(b, base_suffixes) for b in base], index=base)
    tk = pd.Series([_name_key(t, tuned_suffixes) for t in tuned], index=tuned)
    tk = tk[tk != pd.Series([t.split("/")[-1].lower() for t in tuned], index=tuned)]
    bcount, tcount = bk.value_counts(), tk.value_counts()
    rows = [{"tuned": t, "base": bk.index[bk == k][0], "key": k} for t, k in tk.items()
            if bcount.get(k, 0) == 1 and tcount[k] == 1]
    return pd.DataFrame(rows, columns=["tuned", "base", "key"]).set_index("tuned")
