"""Capabilities: low-rank imputation of missing benchmark scores, then PCA.

The paper's default preprocessing, fitted on a *training* set of models and applied to others:

1. standardize each benchmark with the training mean and standard deviation (observed cells);
2. fill missing cells with 0 (the column mean), then repeat {fit a rank-1 PCA, replace the
   missing cells by its reconstruction} until the largest change *of a missing cell* is below
   ``tol`` (the reference code compared all cells and never stopped early);
3. undo the standardization and clip to [0, 1];
4. PCA on the imputed scores, unstandardized by default (``standardize=True`` for the variant).

A new model is imputed with the fitted rank-1 model: its coordinate along the component is the
least-squares fit to its observed (standardized) cells, which is exactly the fixed point the
iterative procedure reaches for one row with the component held fixed.

The numerical core works on stacks of matrices, so that a bootstrap of many resamples runs as a
handful of batched linear-algebra calls (see :func:`fit_batch`).
"""
from __future__ import annotations

import hashlib
from collections import OrderedDict
from dataclasses import dataclass, replace
from typing import Sequence

import numpy as np
import pandas as pd

from . import presets, validate
from .data import coerce_scores
from .errors import ArgumentError, FitError, NotFittedError, ScoreError

__all__ = ["CapabilityFit", "CapabilityModel", "fit_capabilities", "pc_names"]


def pc_names(k: int) -> list[str]:
    """Column names of the first ``k`` capability dimensions: ``PC-1``, ``PC-2``, ..."""
    return [f"PC-{i + 1}" for i in range(k)]


# --------------------------------------------------------------------------------------------
# Batched numerical core
# --------------------------------------------------------------------------------------------
def _standardize_stack(X: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Observed-cell mean/std per (matrix, column) of a (B, n, p) stack with NaNs."""
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.nanmean(X, axis=1, keepdims=True)
        std = np.nanstd(X, axis=1, keepdims=True)
    return (X - mean) / std, mean, std


def _top_component(Zc: np.ndarray) -> np.ndarray:
    """Leading right singular vector of each centred (b, n, p) matrix, as (b, p)."""
    cov = np.swapaxes(Zc, 1, 2) @ Zc  # matmul: several times faster than einsum here
    _, vecs = np.linalg.eigh(cov)
    return vecs[..., -1]


def _top_direction(Zc: np.ndarray, v0: np.ndarray, steps: int = 30,
                   tol: float = 1e-13) -> np.ndarray:
    """The leading eigenvector of each ``Zc'Zc`` (up to sign) by power iteration from ``v0``
    (B, p), the previous imputation step's direction, which is already close: a few products
    with the fourth power of the matrix replace a full eigendecomposition per matrix. Matrices
    whose iteration has not settled to ``tol`` after ``steps`` products (close leading
    eigenvalues) get the exact eigendecomposition."""
    cov = np.swapaxes(Zc, 1, 2) @ Zc
    c2 = cov @ cov
    M, v = c2 @ c2, v0
    ids = np.arange(len(v0))  # where the rows still iterating belong
    out = np.empty_like(v0)
    for _ in range(steps):
        w = (M @ v[..., None])[..., 0]
        norm = np.linalg.norm(w, axis=1, keepdims=True)
        w = w / np.where(norm > 0, norm, 1.0)
        w *= np.where(np.einsum("bp,bp->b", w, v) < 0, -1.0, 1.0)[:, None]
        done = np.abs(w - v).max(axis=1) <= tol
        out[ids[done]] = w[done]
        if done.all():
            return out
        ids, M, v = ids[~done], M[~done], w[~done]
    out[ids] = np.linalg.eigh(cov[ids])[1][..., -1]
    return out


def _impute_tail(Z: np.ndarray, miss: np.ndarray, v: np.ndarray, tol: float,
                 budget: int) -> tuple[int, bool]:
    """:func:`impute_stack`'s steps for one matrix ``Z`` (n, p), updated in place, from the
    direction ``v``; returns (steps taken, converged)."""
    for k in range(budget):
        mu = Z.mean(axis=0)
        Zc = Z - mu
        C = Zc.T @ Zc
        C2 = C @ C
        M = C2 @ C2
        for _ in range(30):  # as _top_direction, for one matrix
            w = M @ v
            norm = np.sqrt(w @ w)
            w = w / (norm if norm > 0 else 1.0)
            if w @ v < 0:
                w = -w
            settled = np.abs(w - v).max() <= 1e-13
            v = w
            if settled:
                break
        else:
            v = np.linalg.eigh(C)[1][:, -1]
        new = np.where(miss, mu + np.outer(Zc @ v, v), Z)
        delta = np.abs(new - Z).max()
        Z[...] = new
        if delta < tol:
            return k + 1, True
    return budget, False


_IMPUTED: "OrderedDict[tuple, dict]" = OrderedDict()  # the last results of impute_stack
_IMPUTED_SIZE = 16


def forget_imputations() -> None:
    """Empty :func:`impute_stack`'s memory of recent results (benchmarks time cold runs)."""
    _IMPUTED.clear()


def impute_stack(X: np.ndarray, *, tol: float = presets.IMPUTE_TOL,
                 max_iter: int = presets.IMPUTE_MAX_ITER) -> dict[str, np.ndarray]:
    """Rank-1 iterative PCA imputation of each matrix of a (B, n, p) stack with NaNs.

    Returns ``X`` (imputed, unstandardized, clipped to [0, 1]), ``mean``/``std`` (B, 1, p) of the
    standardization, ``center`` (B, 1, p) and ``component`` (B, p) of the final rank-1 model in
    standardized units, ``n_iter`` and ``converged`` (B,).

    The last few results are remembered (by the stack's bytes): analyses that bootstrap the
    same training models with the same seed twice (two targets of one suite, a leave-one-out
    beside a bootstrap) impute each resample once. Callers get their own copies.
    """
    X = np.asarray(X, dtype=float)
    if X.ndim != 3:
        raise ValueError("impute_stack expects a (B, n, p) array")
    key = (X.shape, hashlib.blake2b(np.ascontiguousarray(X).tobytes(), digest_size=20).digest(),
           float(tol), int(max_iter))
    hit = _IMPUTED.get(key)
    if hit is None:
        hit = _impute_stack(X, tol=tol, max_iter=max_iter)
        _IMPUTED[key] = hit
        if len(_IMPUTED) > _IMPUTED_SIZE:
            _IMPUTED.popitem(last=False)
    else:
        _IMPUTED.move_to_end(key)
    return {k: v.copy() for k, v in hit.items()}


def _impute_stack(X: np.ndarray, *, tol: float, max_iter: int) -> dict[str, np.ndarray]:
    B = X.shape[0]
    Z, mean, std = _standardize_stack(X)
    miss = np.isnan(Z)
    Z = np.where(miss, 0.0, Z)
    n_iter = np.zeros(B, dtype=int)
    active = np.ones(B, dtype=bool) if miss.any() else np.zeros(B, dtype=bool)
    V = None  # each matrix's current direction
    for it in range(max_iter):
        idx = np.flatnonzero(active)
        if idx.size == 0:
            break
        if V is not None and idx.size <= 2:
            # The last slow matrices: plain two-dimensional steps cost a tenth of the batched
            # machinery, which some resamples need for hundreds of iterations.
            for i in idx:
                n, ok = _impute_tail(Z[i], miss[i], V[i], tol, max_iter - it)
                n_iter[i] += n
                active[i] = not ok
            break
        Za = Z[idx]
        mu = Za.mean(axis=1, keepdims=True)
        Zc = Za - mu
        # The direction moves little from one step to the next: the first step decomposes,
        # later ones refine the previous direction by power iteration.
        v = _top_component(Zc) if V is None else _top_direction(Zc, V[idx])
        V = np.zeros((B, Z.shape[2])) if V is None else V
        V[idx] = v
        recon = mu + (Zc @ v[..., None]) * v[:, None, :]
        new = np.where(miss[idx], recon, Za)
        delta = np.abs(new - Za).max(axis=(1, 2))
        Z[idx] = new
        n_iter[idx] += 1
        active[idx[delta < tol]] = False
    center = Z.mean(axis=1, keepdims=True)
    component = _top_component(Z - center)
    Xi = np.clip(Z * std + mean, 0.0, 1.0)
    Xi = np.where(miss, Xi, X)  # observed cells exactly as given
    return {"X": Xi, "mean": mean, "std": std, "center": center, "component": component,
            "n_iter": n_iter, "converged": ~active}


def impute_rows(X: np.ndarray, mean: np.ndarray, std: np.ndarray, center: np.ndarray,
                component: np.ndarray) -> np.ndarray:
    """Impute new rows (m, p) with fitted rank-1 models; returns (B, m, p).

    ``mean``/``std``/``center`` are (B, 1, p) or (p,), ``component`` is (B, p) or (p,). Each
    row's coordinate along the component is the least-squares fit to its observed cells (in
    standardized units); observed cells are returned unchanged.
    """
    mean, std, center = (np.reshape(a, (-1, 1, X.shape[1])) for a in (mean, std, center))
    v = np.reshape(component, (-1, X.shape[1]))
    miss = np.isnan(X)
    Z = (X[None] - mean) / std
    obs = ~miss[None]
    Zc = np.where(obs, Z - center, 0.0)
    vo2 = np.einsum("bp,mp->bm", v ** 2, (~miss).astype(float))
    t = np.einsum("bmp,bp->bm", Zc, v) / vo2
    recon = center + t[..., None] * v[:, None, :]
    Xi = np.clip(recon * std + mean, 0.0, 1.0)
    return np.where(miss[None], Xi, X[None])


def pca_stack(X: np.ndarray, *, standardize: bool = False) -> dict[str, np.ndarray]:
    """PCA of each complete (B, n, p) matrix.

    Returns ``mean``/``scale`` (B, 1, p) applied before projection, ``components`` (B, p, p)
    with one component per row in decreasing order of variance, ``explained_variance_ratio``
    (B, p) and ``scores`` (B, n, p). Signs: the largest-magnitude loading of each component is
    positive (for PC-1 every loading is positive on the paper's data).
    """
    mean = X.mean(axis=1, keepdims=True)
    scale = X.std(axis=1, keepdims=True) if standardize else np.ones_like(mean)
    Xc = (X - mean) / scale
    n = X.shape[1]
    cov = np.einsum("bnp,bnq->bpq", Xc, Xc) / max(n - 1, 1)
    vals, vecs = np.linalg.eigh(cov)
    vals = np.clip(vals[:, ::-1], 0.0, None)
    comps = np.swapaxes(vecs[..., ::-1], 1, 2)  # (B, k, p): component k in row k
    big = np.take_along_axis(comps, np.abs(comps).argmax(axis=2)[..., None], axis=2)
    comps = comps * np.where(big < 0, -1.0, 1.0)
    total = vals.sum(axis=1, keepdims=True)
    ratio = np.divide(vals, total, out=np.zeros_like(vals), where=total > 0)
    scores = np.einsum("bnp,bkp->bnk", Xc, comps)
    return {"mean": mean, "scale": scale, "components": comps, "explained_variance": vals,
            "explained_variance_ratio": ratio, "scores": scores}


def align_signs(components: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Sign flips (B, k) that align each stacked component with a reference (k, p)."""
    k = reference.shape[0]
    dots = np.einsum("bkp,kp->bk", components[:, :k], reference)
    return np.where(dots < 0, -1.0, 1.0)


# --------------------------------------------------------------------------------------------
# One fitted capability space (or a stack of them): the only representation in the library
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class CapabilityFit:
    """Fitted imputer + PCA, for one training set (``n_fits == 1``) or a stack of resamples.

    Every array has a leading axis of length ``n_fits``. The imputer's rank-1 model lives in
    standardized units (``mean``, ``std``, ``center``, ``component``); the PCA subtracts
    ``pca_mean``, divides by ``pca_scale`` (ones unless ``standardize``) and projects on the rows
    of ``components`` (largest variance first). Built by :func:`fit_capabilities`; read by
    :meth:`transform`, which everything that needs capabilities calls.
    """

    benchmarks: tuple[str, ...]
    standardize: bool
    mean: np.ndarray                       #: (B, p) imputer standardization: mean
    std: np.ndarray                        #: (B, p) imputer standardization: std
    center: np.ndarray                     #: (B, p) rank-1 model: centre (standardized)
    component: np.ndarray                  #: (B, p) rank-1 model: direction (standardized)
    pca_mean: np.ndarray                   #: (B, p)
    pca_scale: np.ndarray                  #: (B, p)
    components: np.ndarray                 #: (B, p, p), one component per row
    explained_variance_ratio: np.ndarray   #: (B, p)
    n_iter: np.ndarray                     #: (B,) imputation rounds
    converged: np.ndarray                  #: (B,)

    @property
    def n_fits(self) -> int:
        return self.mean.shape[0]

    def impute(self, X: np.ndarray) -> np.ndarray:
        """Fill the NaN cells of new rows (m, p) with each fitted rank-1 model: (B, m, p)."""
        X = np.asarray(X, float)
        rows = np.isnan(X).any(axis=1)
        if not rows.any():
            return np.broadcast_to(X, (self.n_fits,) + X.shape)
        if rows.all():
            return impute_rows(X, self.mean, self.std, self.center, self.component)
        # Only rows with a blank cell need the fitted models; complete rows are copied.
        out = np.repeat(X[None], self.n_fits, axis=0)
        out[:, rows] = impute_rows(X[rows], self.mean, self.std, self.center, self.component)
        return out

    def transform(self, X: np.ndarray, k: int | None = None) -> np.ndarray:
        """Capability coordinates PC-1..PC-k of rows (m, p), imputed first: (B, m, k)."""
        k = self.components.shape[1] if k is None else k
        Xi = self.impute(X)
        return project(Xi, self, k)

    def signs_to(self, reference: "CapabilityFit", k: int) -> "CapabilityFit":
        """A copy whose first ``k`` components point the same way as ``reference``'s."""
        flips = align_signs(self.components, reference.components[0, :k])
        comps = self.components.copy()
        comps[:, :k] *= flips[:, :, None]
        return replace(self, components=comps)


def project(Xi: np.ndarray, fit: CapabilityFit, k: int) -> np.ndarray:
    """PC scores (B, m, k) of complete rows ``Xi`` ((m, p) or (B, m, p)) under ``fit``."""
    Z = (Xi - fit.pca_mean[:, None, :]) / fit.pca_scale[:, None, :]
    return np.einsum("bmp,bkp->bmk", Z, fit.components[:, :k])


def fit_capabilities(X: np.ndarray, benchmarks: Sequence[str], *, standardize: bool = False,
                     tol: float = presets.IMPUTE_TOL, max_iter: int = presets.IMPUTE_MAX_ITER
                     ) -> tuple[CapabilityFit, np.ndarray, np.ndarray]:
    """Impute then PCA each matrix of a (B, n, p) stack (or one (n, p) matrix).

    Returns the fit, the imputed scores (B, n, p) and their PC scores (B, n, p). Inputs are
    assumed valid (see :class:`CapabilityModel` for the checked entry point).
    """
    X = np.asarray(X, float)
    if X.ndim == 2:
        X = X[None]
    imp = impute_stack(X, tol=tol, max_iter=max_iter)
    pca = pca_stack(imp["X"], standardize=standardize)
    fit = CapabilityFit(
        benchmarks=tuple(benchmarks), standardize=standardize,
        mean=imp["mean"][:, 0], std=imp["std"][:, 0], center=imp["center"][:, 0],
        component=imp["component"], pca_mean=pca["mean"][:, 0], pca_scale=pca["scale"][:, 0],
        components=pca["components"], explained_variance_ratio=pca["explained_variance_ratio"],
        n_iter=imp["n_iter"], converged=imp["converged"])
    return fit, imp["X"], pca["scores"]


def check_capability_inputs(X: np.ndarray, benchmarks: Sequence[str], n_components: int,
                            what: str = "capability training set") -> None:
    """The conditions a training matrix must meet to fit capabilities (clear errors)."""
    n = X.shape[0]
    empty = np.isnan(X).all(axis=1)
    if empty.any():
        raise ScoreError(f"{what}: {int(empty.sum())} model(s) have no score on any of "
                         f"{list(benchmarks)}; drop them or add scores.")
    need = max(3, n_components + 1)
    if n < need:
        raise FitError(f"{what}: fitting {n_components} capability dimension(s) needs at least "
                       f"{need} training models with scores; got {n}. Add models or lower "
                       "n_pcs / n_components.")
    counts = np.sum(~np.isnan(X), axis=0)
    for b, c in zip(benchmarks, counts):
        if c < 2:
            raise FitError(f"{what}: benchmark {b!r} has {c} observed score(s) among the training "
                           "models; at least 2 are needed. Drop it from `benchmarks`.")
    with np.errstate(invalid="ignore"):
        sd = np.nanstd(X, axis=0)
    if np.any(sd == 0):
        const = [b for b, s in zip(benchmarks, sd) if s == 0]
        raise FitError(f"{what}: benchmark(s) {const} are constant across the training models "
                       "and carry no information; drop them from `benchmarks`.")


# --------------------------------------------------------------------------------------------
# The estimator
# --------------------------------------------------------------------------------------------
class CapabilityModel:
    """Impute-then-PCA capability extractor, fitted on training models, applied to any model.

    Parameters are the user's choices; what fitting learns is in attributes with a trailing
    underscore (``fit_``, the :class:`CapabilityFit`; ``explained_variance_ratio_``, ...).

    >>> cap = CapabilityModel(benchmarks=["a", "b", "c"], n_components=2)   # doctest: +SKIP
    >>> cap.fit(train).transform(test)                                      # doctest: +SKIP
    """

    def __init__(self, benchmarks: Sequence[str] = presets.BASE_BENCHMARKS, n_components: int = 5,
                 standardize: bool = False, tol: float = presets.IMPUTE_TOL,
                 max_iter: int = presets.IMPUTE_MAX_ITER):
        self.benchmarks = validate.names("benchmarks", benchmarks)
        self.n_components = validate.integer("n_components", n_components, low=1,
                                             high=len(self.benchmarks))
        if not isinstance(standardize, (bool, np.bool_)):
            raise ArgumentError(f"standardize must be True or False, got {standardize!r}.")
        self.standardize = bool(standardize)
        self.tol = validate.real("tol", tol, low=0.0, low_open=True)
        self.max_iter = validate.integer("max_iter", max_iter, low=1)
        self.fit_: CapabilityFit | None = None

    def __repr__(self) -> str:
        return (f"CapabilityModel(benchmarks={list(self.benchmarks)}, "
                f"n_components={self.n_components}, standardize={self.standardize})")

    def _matrix(self, scores, what: str) -> np.ndarray:
        scores = validate.frame(scores, what)
        X = coerce_scores(scores, list(self.benchmarks), table=what).to_numpy()
        if len(X) and np.isnan(X).all(axis=1).any():
            rows = list(scores.index[np.isnan(X).all(axis=1)][:5])
            raise ScoreError(f"{what}: model(s) {rows} have no score on any of "
                             f"{list(self.benchmarks)}; drop them or add scores.")
        return X

    def fit(self, scores: pd.DataFrame) -> "CapabilityModel":
        """Fit the imputer and the PCA on the training models ``scores`` (rows = models)."""
        X = self._matrix(scores, "capability training set")
        check_capability_inputs(X, self.benchmarks, self.n_components)
        self.fit_, _, _ = fit_capabilities(X, self.benchmarks, standardize=self.standardize,
                                           tol=self.tol, max_iter=self.max_iter)
        self.index_ = scores.index.copy()
        return self

    def _check(self) -> CapabilityFit:
        if self.fit_ is None:
            raise NotFittedError("CapabilityModel is not fitted yet: call .fit(train_scores).")
        return self.fit_

    # -- fitted attributes ------------------------------------------------------------------
    @property
    def n_iter_(self) -> int:
        return int(self._check().n_iter[0])

    @property
    def converged_(self) -> bool:
        return bool(self._check().converged[0])

    @property
    def explained_variance_ratio_(self) -> pd.Series:
        """Share of the total variance of every principal component (all ``p`` of them)."""
        r = self._check().explained_variance_ratio[0]
        return pd.Series(r, index=pc_names(len(r)), name="explained_variance_ratio")

    @property
    def loadings_(self) -> pd.DataFrame:
        """Benchmarks x components: the weight of each benchmark in each PC."""
        c = self._check().components[0, : self.n_components]
        return pd.DataFrame(c.T, index=list(self.benchmarks), columns=pc_names(self.n_components))

    # -- applying ---------------------------------------------------------------------------
    def impute(self, scores: pd.DataFrame) -> pd.DataFrame:
        """Scores with missing cells filled by the fitted rank-1 model (clipped to [0, 1])."""
        self._check()
        X = self._matrix(scores, "scores to impute")
        return pd.DataFrame(self._check().impute(X)[0], index=scores.index,
                            columns=list(self.benchmarks))

    def transform(self, scores: pd.DataFrame) -> pd.DataFrame:
        """Capability coordinates PC-1..PC-k of any models (imputed with the fitted model)."""
        self._check()
        X = self._matrix(scores, "scores to transform")
        S = self._check().transform(X, self.n_components)[0]
        return pd.DataFrame(S, index=scores.index, columns=pc_names(self.n_components))

    def fit_transform(self, scores: pd.DataFrame) -> pd.DataFrame:
        return self.fit(scores).transform(scores)

    def reconstruct(self, scores: pd.DataFrame, k: int | None = None) -> pd.DataFrame:
        """Scores rebuilt from the first ``k`` capability dimensions (default: ``n_components``).

        Comparing them with the observed scores tells how well the fitted space describes
        models it was not fitted on.
        """
        f = self._check()
        k = self.n_components if k is None else validate.integer("k", k, low=1,
                                                                high=len(self.benchmarks))
        Xi = f.impute(self._matrix(scores, "scores to reconstruct"))[0]
        W = f.components[0, :k]
        Zs = ((Xi - f.pca_mean[0]) / f.pca_scale[0]) @ W.T
        R = (Zs @ W) * f.pca_scale[0] + f.pca_mean[0]
        return pd.DataFrame(R, index=scores.index, columns=list(self.benchmarks))

    def reconstruction_r2(self, scores: pd.DataFrame, k: int | None = None, *,
                          around: str = "training") -> float:
        """1 - SSE/SST of the observed cells of ``scores`` rebuilt from ``k`` dimensions.

        ``around="training"`` takes SST around the training mean (the share of the models'
        variation relative to the training centre); ``around="own"`` around these models' own
        benchmark means (the share of their variation among themselves).
        """
        f = self._check()
        validate.choice("around", around, ("training", "own"))
        X = self._matrix(scores, "scores to reconstruct")
        R = self.reconstruct(scores, k).to_numpy()
        obs = ~np.isnan(X)
        centre = f.pca_mean[0] if around == "training" else np.nanmean(X, axis=0)
        sse = np.sum((X - R)[obs] ** 2)
        sst = np.sum((X - centre)[obs] ** 2)
        return float(1 - sse / sst)
