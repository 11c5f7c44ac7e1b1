"""The capability space of a set of models: capabilities, family compute fits, and a bootstrap.

:func:`fit_capability_space` is one full fit (impute + PCA + per-family and shared-slope fits of
PC-1 against log10 FLOPs). :func:`bootstrap_capability_space` repeats it on resamples of the
models (stratified by family, so every family keeps its size), refitting imputation and PCA every
time, as one batched computation. :meth:`CapabilitySpace.explained_variance_table` and
:meth:`CapabilitySpace.efficiency_table` put a fit's point estimates next to a bootstrap's
intervals; :meth:`CapabilitySpace.place` and :meth:`CapabilitySpace.new_families` project models
the space was not fitted on. :func:`leave_one_family_out` refits everything without each family.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import pandas as pd

from . import presets, validate
from .capability import CapabilityModel, align_signs, fit_capabilities, pc_names
from .compute import (EquivalentCompute, SharedSlopeFit, family_fits, linear_fit,
                      new_family_fits, shared_slope_fit, shared_slope_stack)
from .data import require_columns
from .errors import FitError

__all__ = ["CapabilitySpace", "SpaceBootstrap", "bootstrap_capability_space", "fit_capability_space", "leave_one_family_out", "stratified_indices"]


@dataclass
class CapabilitySpace:
    """Result of :func:`fit_capability_space`."""

    capability: CapabilityModel
    scores: pd.DataFrame          #: PC-1..PC-k of every model passed in, plus metadata
    family: pd.DataFrame          #: per-family line of the capability against log10 FLOPs
    pooled: dict                  #: one line through all training models with FLOPs
    shared: SharedSlopeFit        #: shared slope, one intercept per family
    equivalent: EquivalentCompute  #: capability -> reference-family log10 FLOPs
    measure: str

    @property
    def median_family_r2(self) -> float:
        return float(self.family["r2"].median())

    def place(self, models: pd.DataFrame) -> pd.DataFrame:
        """``family``, ``log10_flops`` and PC-1..PC-k of any models (fitted imputer and PCA)."""
        bench = list(self.capability.benchmarks)
        require_columns(models, ["family", "log10_flops", *bench], table="models")
        return pd.concat([models[["family", "log10_flops"]],
                          self.capability.transform(models[bench])], axis=1)

    def new_families(self, models: pd.DataFrame, *, min_slope_models: int = 2) -> pd.DataFrame:
        """Families the space was not fitted on, against the shared-slope fit of ``measure``.

        One row per family with known compute: ``n``, ``efficiency_dex`` (intercept at the shared
        slope, relative to the reference family), ``own_slope`` (NaN below ``min_slope_models``
        models), ``shared_slope`` and ``slope_ratio`` (see :func:`osl.compute.new_family_fits`).
        """
        s = self.place(models)
        return new_family_fits(self.shared, s[self.measure], s["log10_flops"], s["family"],
                               min_slope_models=min_slope_models)

    def explained_variance_table(self, boot: "SpaceBootstrap", level: float = 0.95, *,
                                 cumulative: bool = False) -> pd.DataFrame:
        """Share of variance per component: ``point`` (this fit), then the bootstrap's
        ``median``, ``lower`` and ``upper`` (percentile interval at ``level``).

        ``cumulative=True``: the share of PC-1..PC-k together, per k. ``boot`` must come from
        :func:`bootstrap_capability_space` with the same data and options as this fit.
        """
        point = self.capability.explained_variance_ratio_
        name = "explained_variance_ratio"
        if cumulative:
            point, name = point.cumsum(), "cumulative_" + name
        out = boot.interval(name, level)
        out.insert(0, "point", point.reindex(out.index))
        return out

    def efficiency_table(self, boot: "SpaceBootstrap", level: float = 0.95) -> pd.DataFrame:
        """Compute efficiency of every family but the reference, least efficient first.

        Columns: ``point`` (dex relative to the reference family, from this fit's shared slope),
        the bootstrap's ``median``, ``lower`` and ``upper`` at ``level``, and
        ``differs_from_reference`` (the interval excludes 0). ``boot`` must come from
        :func:`bootstrap_capability_space` with the same data and options as this fit.
        """
        out = boot.interval("efficiency", level)
        out.insert(0, "point", self.shared.efficiency.reindex(out.index))
        out = out.drop(index=self.shared.reference).sort_values("point")
        out["differs_from_reference"] = (out["lower"] > 0) | (out["upper"] < 0)
        out.index.name = "family"
        return out


def fit_capability_space(models: pd.DataFrame, *, train: pd.Series | np.ndarray | None = None,
                         benchmarks: Sequence[str] = presets.BASE_BENCHMARKS,
                         standardize: bool = False, n_components: int = 5,
                         measure: str = "PC-1", min_family_models: int = 3,
                         reference: str = presets.REFERENCE_FAMILY) -> CapabilitySpace:
    """Fit capabilities on the ``train`` rows of ``models`` and relate ``measure`` to compute.

    ``models`` is a tidy model table (see :func:`osl.data.tidy_model_table`); ``train`` a boolean
    mask (default: every row). Scores are returned for every row; the compute fits use the
    training rows with known FLOPs; per-family lines need ``min_family_models`` models.
    The conversion to reference-family-equivalent compute uses all reference-family models.
    """
    require_columns(models, ["family", "log10_flops", *benchmarks], table="models")
    train = np.ones(len(models), bool) if train is None else np.asarray(train, dtype=bool)
    cap = CapabilityModel(benchmarks=tuple(benchmarks), n_components=n_components,
                          standardize=standardize).fit(models.loc[train, list(benchmarks)])
    scores = cap.transform(models[list(benchmarks)])
    if measure not in scores.columns:
        raise FitError(f"measure must be one of {list(scores.columns)}, got {measure!r}.")
    scores = pd.concat([models[["family", "log10_flops"]], scores], axis=1)
    has_flops = np.isfinite(scores["log10_flops"].to_numpy())
    fit_rows = scores[train & has_flops]
    y, x, fam = fit_rows[measure], fit_rows["log10_flops"], fit_rows["family"]
    # The equivalent-compute axis is a change of units, not part of any prediction: it uses
    # every reference-family model with known compute, held out or not.
    ref = scores[has_flops]
    eq = EquivalentCompute(reference).fit(ref[measure], ref["log10_flops"], ref["family"])
    return CapabilitySpace(
        capability=cap, scores=scores,
        family=family_fits(y, x, fam, min_models=min_family_models),
        pooled=linear_fit(y, x), shared=shared_slope_fit(y, x, fam, reference=reference),
        equivalent=eq, measure=measure)


def leave_one_family_out(models: pd.DataFrame, **options) -> pd.DataFrame:
    """:func:`fit_capability_space` (``options`` passed on) refitted without each family in turn:
    one row per left-out family. Columns ``("fit", x)``: ``n_left_out`` models, ``slope``,
    ``shared_r2``, ``explained_variance`` (the measure's share), ``median_family_r2``; and
    ``("efficiency", family)`` in dex vs the reference (NaN when either is the one left out)."""
    fam, rows = models["family"].to_numpy(dtype=object), {}
    for f in pd.unique(fam):
        sh = (sp := fit_capability_space(models, train=fam != f, **options)).shared
        fit = {"n_left_out": np.sum(fam == f), "slope": sh.slope, "shared_r2": sh.r2,
               "explained_variance": sp.capability.explained_variance_ratio_[sp.measure],
               "median_family_r2": sp.median_family_r2}
        eff = sh.efficiency if sh.reference in sh.intercepts.index else sh.intercepts * np.nan
        rows[f] = pd.concat({"fit": pd.Series(fit), "efficiency": eff})
    out = pd.DataFrame.from_dict(rows, orient="index").rename_axis("left_out")
    return out.astype({("fit", "n_left_out"): int})


@dataclass
class SpaceBootstrap:
    """Bootstrap distributions from :func:`bootstrap_capability_space`."""

    explained_variance_ratio: pd.DataFrame  #: (n_boot, p)
    slope: np.ndarray                       #: shared slope, (n_boot,)
    r2: np.ndarray                          #: shared-slope R², (n_boot,)
    intercepts: pd.DataFrame                #: (n_boot, families)
    efficiency: pd.DataFrame                #: dex relative to the reference family
    n_iter: np.ndarray                      #: imputation rounds per resample

    @property
    def cumulative_explained_variance_ratio(self) -> pd.DataFrame:
        """Share of PC-1..PC-k together, column ``PC-k``: (n_boot, p)."""
        return self.explained_variance_ratio.cumsum(axis=1)

    def interval(self, what: str, level: float = 0.95) -> pd.DataFrame:
        """Percentile interval of a frame attribute (``explained_variance_ratio``,
        ``cumulative_explained_variance_ratio``, ``intercepts``, ``efficiency``)."""
        validate.choice("what", what, ("explained_variance_ratio", "intercepts", "efficiency",
                                       "cumulative_explained_variance_ratio"))
        level = validate.level(level)
        frame = getattr(self, what)
        lo, hi = (1 - level) / 2, 0.5 + level / 2
        return pd.DataFrame({"median": frame.median(), "lower": frame.quantile(lo),
                             "upper": frame.quantile(hi)})


def stratified_indices(groups: np.ndarray, n_boot: int, rng: np.random.Generator) -> np.ndarray:
    """(n_boot, n) row indices resampled with replacement within each group.

    Columns are ordered group by group, identically in every resample.
    """
    cols = []
    for g in pd.unique(groups):
        idx = np.flatnonzero(groups == g)
        cols.append(idx[rng.integers(0, idx.size, size=(n_boot, idx.size))])
    return np.concatenate(cols, axis=1)


def bootstrap_capability_space(models: pd.DataFrame, *, n_boot: int = 1000, seed: int = 0,
                               benchmarks: Sequence[str] = presets.BASE_BENCHMARKS,
                               standardize: bool = False, measure: str = "PC-1",
                               reference: str = presets.REFERENCE_FAMILY,
                               resample: str = "within", chunk: int = 250,
                               progress: bool = False) -> SpaceBootstrap:
    """Resample models, refit imputation, PCA and the shared-slope model.

    ``resample="within"`` draws models with replacement within each family (every family keeps
    its size: the uncertainty of fitting these families); ``"families"`` draws whole families
    with replacement (the uncertainty for families in general: families share data and recipes,
    so they, not models, are the independent units). Every resample's components are
    sign-aligned to the full-data fit before use.
    """
    n_boot = validate.integer("n_boot", n_boot, low=1)
    seed = validate.seed(seed)
    validate.choice("resample", resample, ("within", "families"))
    require_columns(models, ["family", "log10_flops", *benchmarks], table="models")
    full = fit_capability_space(models, benchmarks=benchmarks, standardize=standardize,
                                measure=measure, reference=reference)
    point = full.capability.fit_
    k = int(measure.split("-")[1]) - 1
    if resample == "families":
        return _bootstrap_families(models, n_boot, seed, benchmarks, standardize, reference,
                                   point, k)
    Xall = models[list(benchmarks)].to_numpy(dtype=float)
    fam_all = models["family"].to_numpy(dtype=object)
    lf_all = models["log10_flops"].to_numpy(dtype=float)
    codes_all, fam_names = pd.factorize(pd.Series(fam_all))
    rng = np.random.default_rng(seed)
    idx = stratified_indices(fam_all, n_boot, rng)
    keep = np.isfinite(lf_all[idx[0]])  # same positions in every resample (stratified)
    F = len(fam_names)
    ratios, slopes, r2s, inter, iters = [], [], [], [], []
    from tqdm.auto import tqdm
    for start in tqdm(range(0, n_boot, chunk), desc="bootstrap", unit="chunk",
                      disable=not progress):
        ib = idx[start:start + chunk]
        fit, _, scores = fit_capabilities(Xall[ib], benchmarks, standardize=standardize)
        sign = align_signs(fit.components, point.components[0, :k + 1])[:, k]
        cap = scores[..., k] * sign[:, None]
        res = shared_slope_stack(cap[:, keep], lf_all[ib][:, keep], codes_all[ib][:, keep], F)
        ratios.append(fit.explained_variance_ratio)
        slopes.append(res["slope"])
        r2s.append(res["r2"])
        inter.append(res["intercepts"])
        iters.append(fit.n_iter)
    ratio = np.concatenate(ratios)
    slope = np.concatenate(slopes)
    inter = pd.DataFrame(np.concatenate(inter), columns=fam_names)
    inter = inter.loc[:, inter.notna().any()]  # families without FLOPs never get an intercept
    if reference not in inter.columns:
        raise FitError(f"Reference family {reference!r} has no models with FLOPs.")
    eff = inter.sub(inter[reference], axis=0).div(slope, axis=0)
    return SpaceBootstrap(
        explained_variance_ratio=pd.DataFrame(ratio, columns=pc_names(ratio.shape[1])),
        slope=slope, r2=np.concatenate(r2s), intercepts=inter, efficiency=eff,
        n_iter=np.concatenate(iters))


def _bootstrap_families(models, n_boot, seed, benchmarks, standardize, reference, point, k):
    """:func:`bootstrap_capability_space` with whole families resampled (``point``: the full
    fit, ``k``: the measure's index). Resamples have different sizes, so they are batched by
    size; a resample in which a benchmark has fewer than two distinct observed scores, or
    without the reference family, gives NaN where it cannot say anything."""
    X = models[list(benchmarks)].to_numpy(dtype=float)
    lf = models["log10_flops"].to_numpy(dtype=float)
    codes, names = pd.factorize(models["family"])
    F, p = len(names), X.shape[1]
    members = [np.flatnonzero(codes == f) for f in range(F)]
    draws = np.random.default_rng(seed).integers(0, F, size=(n_boot, F))
    rows = [np.concatenate([members[f] for f in d]) for d in draws]
    ratio = np.full((n_boot, p), np.nan)
    slope = np.full(n_boot, np.nan)
    inter = np.full((n_boot, F), np.nan)
    iters = np.zeros(n_boot, int)
    by_size: dict[int, list[int]] = {}
    for b, r in enumerate(rows):
        by_size.setdefault(r.size, []).append(b)
    for size, bs in by_size.items():
        idx = np.stack([rows[b] for b in bs])
        Xs = X[idx]
        lo = np.min(np.where(np.isnan(Xs), np.inf, Xs), axis=1)
        hi = np.max(np.where(np.isnan(Xs), -np.inf, Xs), axis=1)
        ok = np.all(hi > lo, axis=1)
        if not ok.any():
            continue
        idx, bs = idx[ok], np.asarray(bs)[ok]
        fit, _, scores = fit_capabilities(X[idx], benchmarks, standardize=standardize)
        sign = align_signs(fit.components, point.components[0, :k + 1])[:, k]
        cap = scores[..., k] * sign[:, None]
        known = np.isfinite(lf[idx])
        # Models of unknown compute go to a dummy family with zero deviations: no effect on
        # the slope or on the other families' intercepts.
        c = np.where(known, codes[idx], F)
        res = shared_slope_stack(np.where(known, cap, 0.0), np.where(known, lf[idx], 0.0), c,
                                 F + 1)
        ratio[bs] = fit.explained_variance_ratio
        slope[bs] = res["slope"]
        inter[bs] = res["intercepts"][:, :F]
        iters[bs] = fit.n_iter
    inter = pd.DataFrame(inter, columns=names)
    inter = inter.loc[:, inter.notna().any()]
    if reference not in inter.columns:
        raise FitError(f"Reference family {reference!r} has no models with FLOPs.")
    eff = inter.sub(inter[reference], axis=0).div(slope, axis=0)
    return SpaceBootstrap(
        explained_variance_ratio=pd.DataFrame(ratio, columns=pc_names(p)), slope=slope,
        r2=np.full(n_boot, np.nan), intercepts=inter, efficiency=eff, n_iter=iters)
