"""Compute: capability against log10 FLOPs, per family and with a shared slope.

* :func:`family_fits`: one least-squares line per family (slope, intercept, R², n, slope SE).
* :func:`shared_slope_fit`: one slope for all families, one intercept per family. The intercept
  measures a family's *compute efficiency*; :attr:`SharedSlopeFit.efficiency` turns it into
  orders of magnitude of compute relative to a reference family (Llama-2 by default).
* :func:`new_family_fits`: families left out of a shared-slope fit, placed against it.
* :class:`EquivalentCompute`: converts a capability value into the log10 FLOPs the reference
  family would need to reach it (the x-axis of the paper's figures).

All fits are closed-form numpy; :func:`shared_slope_stack` runs the shared-slope fit for a
whole stack of bootstrap resamples at once.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import presets
from .errors import FitError

__all__ = ["EquivalentCompute", "SharedSlopeFit", "family_fits", "linear_fit", "new_family_fits", "shared_slope_fit", "shared_slope_stack", "slope_heterogeneity"]



def _clean_xy(y, x, family=None, *, what: str):
    y = np.asarray(y, dtype=float)
    x = np.asarray(x, dtype=float)
    if y.shape != x.shape:
        raise FitError(f"{what}: capability and log-FLOPs have different lengths "
                       f"({y.shape[0]} vs {x.shape[0]}).")
    keep = np.isfinite(y) & np.isfinite(x)
    fam = None if family is None else np.asarray(family, dtype=object)[keep]
    return y[keep], x[keep], fam


def linear_fit(y, x) -> dict[str, float]:
    """Least-squares line ``y = intercept + slope * x`` with R² and the slope's standard error."""
    y, x, _ = _clean_xy(y, x, what="linear fit")
    n = y.size
    if n < 2 or np.ptp(x) == 0:
        raise FitError(f"A line needs at least 2 models with distinct compute; got {n}.")
    xm, ym = x.mean(), y.mean()
    sxx = np.sum((x - xm) ** 2)
    slope = np.sum((x - xm) * (y - ym)) / sxx
    intercept = ym - slope * xm
    resid = y - intercept - slope * x
    sst = np.sum((y - ym) ** 2)
    r2 = 1 - np.sum(resid ** 2) / sst if sst > 0 else np.nan
    se = np.sqrt(np.sum(resid ** 2) / (n - 2) / sxx) if n > 2 else np.nan
    return {"slope": slope, "intercept": intercept, "r2": r2, "n": n, "slope_se": se}


def family_fits(y, x, family, *, min_models: int = 2) -> pd.DataFrame:
    """One line per family with at least ``min_models`` models with finite ``x`` and ``y``.

    Returns a frame indexed by family: ``slope, intercept, r2, n, slope_se``.
    """
    y, x, fam = _clean_xy(y, x, family, what="family fits")
    rows = {}
    for f in pd.unique(fam):
        sel = fam == f
        if sel.sum() >= min_models and np.ptp(x[sel]) > 0:
            rows[f] = linear_fit(y[sel], x[sel])
    cols = ["slope", "intercept", "r2", "n", "slope_se"]
    out = pd.DataFrame.from_dict(rows, orient="index", columns=cols)
    out.index.name = "family"
    out["n"] = out["n"].astype(int)
    return out.sort_values("r2", ascending=False)


@dataclass
class SharedSlopeFit:
    """``capability = intercept[family] + slope * log10_flops``, fitted by least squares."""

    slope: float
    slope_se: float
    intercepts: pd.Series
    intercept_se: pd.Series
    n_models: pd.Series
    r2: float
    sigma: float
    dof: int
    reference: str

    def conf_int(self, level: float = 0.95) -> pd.DataFrame:
        """Intercepts with their t-based confidence interval."""
        from scipy import special  # imported when needed: most callers never need it
        q = special.stdtrit(self.dof, 0.5 + level / 2)  # Student-t quantile
        return pd.DataFrame({"intercept": self.intercepts,
                             "lower": self.intercepts - q * self.intercept_se,
                             "upper": self.intercepts + q * self.intercept_se,
                             "n": self.n_models})

    @property
    def efficiency(self) -> pd.Series:
        """Compute efficiency relative to the reference family, in orders of magnitude (dex).

        ``+1`` means the family reaches a given capability with 10x less compute than the
        reference family.
        """
        if self.reference not in self.intercepts.index:
            raise FitError(f"Reference family {self.reference!r} is not among the fitted families.")
        return ((self.intercepts - self.intercepts[self.reference]) / self.slope).rename("efficiency_dex")

    def intercept_for(self, y, x) -> float:
        """Intercept of a family not in the fit, with the slope held at the shared value."""
        y, x, _ = _clean_xy(y, x, what="intercept of a new family")
        if y.size == 0:
            raise FitError("A new family's intercept needs at least one model with FLOPs.")
        return float(np.mean(y - self.slope * x))

    def efficiency_for(self, y, x) -> float:
        """:attr:`efficiency` (dex) of a family not in the fit (intercept at the shared slope)."""
        if self.reference not in self.intercepts.index:
            raise FitError(f"Reference family {self.reference!r} is not among the fitted families.")
        return (self.intercept_for(y, x) - self.intercepts[self.reference]) / self.slope

    def predict(self, x, family) -> np.ndarray:
        fam = pd.Series(np.asarray(family, dtype=object))
        a = fam.map(self.intercepts).to_numpy(dtype=float)
        return a + self.slope * np.asarray(x, dtype=float)


def shared_slope_fit(y, x, family, *, reference: str = presets.REFERENCE_FAMILY) -> SharedSlopeFit:
    """Fit one common slope and one intercept per family (the within-family estimator)."""
    y, x, fam = _clean_xy(y, x, family, what="shared-slope fit")
    codes, names = pd.factorize(pd.Series(fam))
    F = len(names)
    n = y.size
    if n - F - 1 < 1:
        raise FitError(f"The shared-slope model needs more models than families + 1; got {n} "
                       f"models in {F} families.")
    cnt = np.bincount(codes, minlength=F).astype(float)
    xm = np.bincount(codes, x, F) / cnt
    ym = np.bincount(codes, y, F) / cnt
    xd, yd = x - xm[codes], y - ym[codes]
    sxx = np.sum(xd ** 2)
    if sxx == 0:
        raise FitError("No family has two models with different compute: the slope is undefined.")
    slope = np.sum(xd * yd) / sxx
    a = ym - slope * xm
    resid = y - a[codes] - slope * x
    dof = n - F - 1
    sigma = np.sqrt(np.sum(resid ** 2) / dof)
    sst = np.sum((y - y.mean()) ** 2)
    idx = pd.Index(names, name="family")
    return SharedSlopeFit(
        slope=slope, slope_se=sigma / np.sqrt(sxx),
        intercepts=pd.Series(a, index=idx, name="intercept"),
        intercept_se=pd.Series(sigma * np.sqrt(1 / cnt + xm ** 2 / sxx), index=idx),
        n_models=pd.Series(cnt.astype(int), index=idx, name="n"),
        r2=1 - np.sum(resid ** 2) / sst, sigma=sigma, dof=dof, reference=reference)


def new_family_fits(shared: SharedSlopeFit, y, x, family, *,
                    min_slope_models: int = 2) -> pd.DataFrame:
    """Families outside a shared-slope fit, placed against it (one row per family, sorted).

    Models with finite ``y`` and ``x`` count. Columns: ``n``; ``efficiency_dex``
    (:meth:`SharedSlopeFit.efficiency_for`); ``own_slope``, the family's own least-squares slope
    (NaN below ``min_slope_models`` models or without distinct compute); ``shared_slope``; and
    ``slope_ratio`` = own / shared slope.
    """
    y, x, fam = _clean_xy(y, x, family, what="new-family fits")
    rows = {}
    for f in sorted(pd.unique(fam)):
        sel = fam == f
        own = (linear_fit(y[sel], x[sel])["slope"]
               if sel.sum() >= max(min_slope_models, 2) and np.ptp(x[sel]) > 0 else np.nan)
        rows[f] = {"n": int(sel.sum()), "efficiency_dex": shared.efficiency_for(y[sel], x[sel]),
                   "own_slope": own}
    out = pd.DataFrame.from_dict(rows, orient="index",
                                 columns=["n", "efficiency_dex", "own_slope"])
    out.index.name = "family"
    out["n"] = out["n"].astype(int)
    out["shared_slope"] = shared.slope
    out["slope_ratio"] = out["own_slope"] / shared.slope
    return out


def slope_heterogeneity(y, x, family) -> dict[str, float]:
    """F-test of one slope per family against the shared slope (both with family intercepts).

    Returns both models' R², the F statistic, its degrees of freedom and p-value. Families with
    a single model (or a single compute value) cannot have a slope and only shift the intercept.
    """
    y, x, fam = _clean_xy(y, x, family, what="slope heterogeneity test")
    shared = shared_slope_fit(y, x, fam)
    rss_sep, n_slopes = 0.0, 0
    for f in pd.unique(fam):
        sel = fam == f
        if sel.sum() >= 2 and np.ptp(x[sel]) > 0:
            line = linear_fit(y[sel], x[sel])
            rss_sep += np.sum((y[sel] - line["intercept"] - line["slope"] * x[sel]) ** 2)
            n_slopes += 1
        else:  # no slope can be fitted: the family's own mean is its fit
            rss_sep += np.sum((y[sel] - y[sel].mean()) ** 2)
    n, F = y.size, len(pd.unique(fam))
    rss_shared = shared.sigma ** 2 * shared.dof
    df1, df2 = n_slopes - 1, n - F - n_slopes
    if df1 < 1 or df2 < 1:
        raise FitError("Not enough families with two or more models to test slope differences.")
    fstat = ((rss_shared - rss_sep) / df1) / (rss_sep / df2)
    sst = np.sum((y - y.mean()) ** 2)
    from scipy import special
    return {"r2_shared": shared.r2, "r2_separate": 1 - rss_sep / sst, "F": fstat, "df1": df1,
            "df2": df2, "p_value": float(special.fdtrc(df1, df2, fstat))}  # F survival function


def shared_slope_stack(Y: np.ndarray, X: np.ndarray, codes: np.ndarray, n_groups: int):
    """Shared-slope fits of a (B, n) stack; ``codes`` (B, n) are family indices in [0, F).

    Returns ``slope`` (B,), ``intercepts`` (B, F) (NaN for a family absent from a resample)
    and ``r2`` (B,). Assumes finite inputs.
    """
    B, n = Y.shape
    flat = (codes + n_groups * np.arange(B)[:, None]).ravel()
    size = B * n_groups
    cnt = np.bincount(flat, minlength=size).reshape(B, n_groups)
    with np.errstate(invalid="ignore", divide="ignore"):
        xm = np.bincount(flat, X.ravel(), size).reshape(B, n_groups) / cnt
        ym = np.bincount(flat, Y.ravel(), size).reshape(B, n_groups) / cnt
    xmr = np.take_along_axis(xm, codes, axis=1)
    ymr = np.take_along_axis(ym, codes, axis=1)
    xd, yd = X - xmr, Y - ymr
    slope = np.sum(xd * yd, axis=1) / np.sum(xd ** 2, axis=1)
    a = ym - slope[:, None] * xm
    resid = yd - slope[:, None] * xd
    sst = np.sum((Y - Y.mean(axis=1, keepdims=True)) ** 2, axis=1)
    r2 = 1 - np.sum(resid ** 2, axis=1) / sst
    return {"slope": slope, "intercepts": a, "r2": r2}


class EquivalentCompute:
    """Map a capability value to reference-family-equivalent log10 FLOPs.

    Fitted by regressing log10 FLOPs on capability within the reference family; ``transform``
    then answers "how much compute would a Llama-2 model need to be this capable?".
    """

    def __init__(self, reference: str = presets.REFERENCE_FAMILY):
        self.reference = reference
        self.coef_: tuple[float, float] | None = None
        self.r2_: float | None = None

    def fit(self, capability, log10_flops, family=None) -> "EquivalentCompute":
        c = np.asarray(capability, dtype=float)
        f = np.asarray(log10_flops, dtype=float)
        if family is not None:
            sel = np.asarray(family, dtype=object) == self.reference
            c, f = c[sel], f[sel]
        ok = np.isfinite(c) & np.isfinite(f)
        if ok.sum() < 2 or np.ptp(c[ok]) == 0:
            raise FitError(f"Equivalent compute needs at least 2 {self.reference} models with "
                           f"capability and FLOPs; got {int(ok.sum())}.")
        line = linear_fit(f[ok], c[ok])
        self.coef_ = (line["intercept"], line["slope"])
        self.r2_ = line["r2"]
        return self

    def transform(self, capability) -> np.ndarray:
        if self.coef_ is None:
            from .errors import NotFittedError
            raise NotFittedError("EquivalentCompute is not fitted yet: call .fit(...).")
        a, b = self.coef_
        return a + b * np.asarray(capability, dtype=float)

    def inverse(self, log10_flops) -> np.ndarray:
        a, b = self.coef_
        return (np.asarray(log10_flops, dtype=float) - a) / b
