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

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import pandas as pd

from . import settings
from .data import coerce_scores
from .errors import FitError, NotFittedError, ScoreError


def pc_names(k: int) -> list[str]:
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
    cov = np.einsum("bnp,bnq->bpq", Zc, Zc)
    _, vecs = np.linalg.eigh(cov)
    return vecs[..., -1]


def impute_stack(X: np.ndarray, *, tol: float = settings.IMPUTE_TOL,
                 max_iter: int = settings.IMPUTE_MAX_ITER) -> dict[str, np.ndarray]:
    """Rank-1 iterative PCA imputation of each matrix of a (B, n, p) stack with NaNs.

    Returns ``X`` (imputed, unstandardized, clipped to [0, 1]), ``mean``/``std`` (B, 1, p) of the
    standardization, ``center`` (B, 1, p) and ``component`` (B, p) of the final rank-1 model in
    standardized units, ``n_iter`` and ``converged`` (B,).
    """
    X = np.asarray(X, dtype=float)
    if X.ndim != 3:
        raise ValueError("impute_stack expects a (B, n, p) array")
    B = X.shape[0]
    Z, mean, std = _standardize_stack(X)
    miss = np.isnan(Z)
    Z = np.where(miss, 0.0, Z)
    n_iter = np.zeros(B, dtype=int)
    active = np.ones(B, dtype=bool) if miss.any() else np.zeros(B, dtype=bool)
    for _ in range(max_iter):
        idx = np.flatnonzero(active)
        if idx.size == 0:
            break
        Za = Z[idx]
        mu = Za.mean(axis=1, keepdims=True)
        Zc = Za - mu
        v = _top_component(Zc)
        recon = mu + np.einsum("bn,bp->bnp", np.einsum("bnp,bp->bn", Zc, v), v)
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


def fit_batch(X: np.ndarray, *, standardize: bool = False, tol: float = settings.IMPUTE_TOL,
              max_iter: int = settings.IMPUTE_MAX_ITER) -> dict[str, np.ndarray]:
    """Impute then PCA each matrix of a (B, n, p) stack: the bootstrap's workhorse."""
    imp = impute_stack(X, tol=tol, max_iter=max_iter)
    pca = pca_stack(imp["X"], standardize=standardize)
    return {**pca, "X": imp["X"], "n_iter": imp["n_iter"], "converged": imp["converged"],
            "imputer": {k: imp[k] for k in ("mean", "std", "center", "component")}}


# --------------------------------------------------------------------------------------------
# The fitted object
# --------------------------------------------------------------------------------------------
@dataclass
class CapabilityModel:
    """Impute-then-PCA capability extractor, fitted on training models, applied to any model.

    >>> cap = CapabilityModel().fit(train[BENCHMARKS])      # doctest: +SKIP
    >>> cap.transform(test[BENCHMARKS])[["PC-1", "PC-2"]]   # doctest: +SKIP
    """

    benchmarks: Sequence[str] = settings.BASE_BENCHMARKS
    n_components: int = 5
    standardize: bool = False
    tol: float = settings.IMPUTE_TOL
    max_iter: int = settings.IMPUTE_MAX_ITER
    _fit: dict | None = field(default=None, repr=False)

    # -- validation -------------------------------------------------------------------------
    def _matrix(self, scores: pd.DataFrame, what: str) -> np.ndarray:
        if not isinstance(scores, pd.DataFrame):
            raise ScoreError(f"{what}: expected a DataFrame with columns {list(self.benchmarks)}, "
                             f"got {type(scores).__name__}.")
        X = coerce_scores(scores, list(self.benchmarks), table=what).to_numpy()
        empty = np.isnan(X).all(axis=1)
        if empty.any():
            raise ScoreError(f"{what}: model(s) {list(scores.index[empty][:5])} have no score on "
                             f"any of {list(self.benchmarks)}; drop them or add scores.")
        return X

    # -- fitting ----------------------------------------------------------------------------
    def fit(self, scores: pd.DataFrame) -> "CapabilityModel":
        """Fit the imputer and the PCA on the training models ``scores`` (rows = models)."""
        p = len(self.benchmarks)
        if not 1 <= self.n_components <= p:
            raise FitError(f"n_components must be between 1 and {p}, got {self.n_components}.")
        X = self._matrix(scores, "capability training set")
        n = X.shape[0]
        if n < max(3, self.n_components + 1):
            raise FitError(f"Fitting capabilities needs at least {max(3, self.n_components + 1)} "
                           f"training models with scores; got {n}.")
        counts = np.sum(~np.isnan(X), axis=0)
        for b, c in zip(self.benchmarks, counts):
            if c < 2:
                raise FitError(f"Benchmark {b!r} has {c} observed score(s) among the training "
                               "models; at least 2 are needed. Drop it from `benchmarks`.")
        sd = np.nanstd(X, axis=0)
        if np.any(sd == 0):
            const = [b for b, s in zip(self.benchmarks, sd) if s == 0]
            raise FitError(f"Benchmark(s) {const} are constant across the training models and "
                           "carry no information; drop them from `benchmarks`.")
        imp = impute_stack(X[None], tol=self.tol, max_iter=self.max_iter)
        pca = pca_stack(imp["X"], standardize=self.standardize)
        self._fit = {
            "index": scores.index.copy(),
            "mean": imp["mean"][0, 0], "std": imp["std"][0, 0],
            "center": imp["center"][0, 0], "component": imp["component"][0],
            "n_iter": int(imp["n_iter"][0]), "converged": bool(imp["converged"][0]),
            "X_imputed": imp["X"][0],
            "pca_mean": pca["mean"][0, 0], "pca_scale": pca["scale"][0, 0],
            "components": pca["components"][0], "ratio": pca["explained_variance_ratio"][0],
            "scores": pca["scores"][0],
        }
        return self

    def _check(self) -> dict:
        if self._fit is None:
            raise NotFittedError("CapabilityModel is not fitted yet: call .fit(train_scores).")
        return self._fit

    # -- fitted attributes ------------------------------------------------------------------
    @property
    def n_iter_(self) -> int:
        return self._check()["n_iter"]

    @property
    def converged_(self) -> bool:
        return self._check()["converged"]

    @property
    def explained_variance_ratio_(self) -> pd.Series:
        """Share of the total variance of every principal component (all ``p`` of them)."""
        r = self._check()["ratio"]
        return pd.Series(r, index=pc_names(len(r)), name="explained_variance_ratio")

    @property
    def loadings_(self) -> pd.DataFrame:
        """Benchmarks x components: the weight of each benchmark in each PC."""
        c = self._check()["components"][: self.n_components]
        return pd.DataFrame(c.T, index=list(self.benchmarks), columns=pc_names(self.n_components))

    # -- applying ---------------------------------------------------------------------------
    def _impute_array(self, X: np.ndarray) -> np.ndarray:
        f = self._check()
        if not np.isnan(X).any():
            return X
        return impute_rows(X, f["mean"], f["std"], f["center"], f["component"])[0]

    def impute(self, scores: pd.DataFrame) -> pd.DataFrame:
        """Scores with missing cells filled by the fitted rank-1 model (clipped to [0, 1])."""
        X = self._matrix(scores, "scores to impute")
        return pd.DataFrame(self._impute_array(X), index=scores.index, columns=list(self.benchmarks))

    def transform(self, scores: pd.DataFrame) -> pd.DataFrame:
        """Capability coordinates PC-1..PC-k of any models (imputed with the fitted model)."""
        f = self._check()
        Xi = self._impute_array(self._matrix(scores, "scores to transform"))
        S = ((Xi - f["pca_mean"]) / f["pca_scale"]) @ f["components"][: self.n_components].T
        return pd.DataFrame(S, index=scores.index, columns=pc_names(self.n_components))

    def fit_transform(self, scores: pd.DataFrame) -> pd.DataFrame:
        return self.fit(scores).transform(scores)

    def reconstruct(self, scores: pd.DataFrame, k: int | None = None) -> pd.DataFrame:
        """Scores rebuilt from the first ``k`` capability dimensions (default: ``n_components``).

        Comparing them with the observed scores tells how well the fitted space describes
        models it was not fitted on.
        """
        f = self._check()
        k = self.n_components if k is None else k
        if not 1 <= k <= len(self.benchmarks):
            raise FitError(f"k must be between 1 and {len(self.benchmarks)}, got {k}.")
        Xi = self._impute_array(self._matrix(scores, "scores to reconstruct"))
        W = f["components"][:k]
        Zs = ((Xi - f["pca_mean"]) / f["pca_scale"]) @ W.T
        R = (Zs @ W) * f["pca_scale"] + f["pca_mean"]
        return pd.DataFrame(R, index=scores.index, columns=list(self.benchmarks))

    def reconstruction_r2(self, scores: pd.DataFrame, k: int | None = None) -> float:
        """1 - SSE/SST of the observed cells of ``scores`` rebuilt from ``k`` dimensions.

        SST is taken around the training mean, so this is the share of the models' variation
        (relative to the training centre) that the first ``k`` dimensions capture.
        """
        f = self._check()
        X = self._matrix(scores, "scores to reconstruct")
        R = self.reconstruct(scores, k).to_numpy()
        obs = ~np.isnan(X)
        sse = np.sum((X - R)[obs] ** 2)
        sst = np.sum((X - f["pca_mean"])[obs] ** 2)
        return float(1 - sse / sst)
