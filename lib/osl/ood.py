"""How unlike the training models is a model? An out-of-distribution (OOD) score.

A forecast from the capability space is an interpolation in that space. A model whose benchmark
vector lies far from where the training models lie (a chat-tuned model whose standard-benchmark
scores rose through fine-tuning, a merged model, a model scored with another harness) is
forecast by extrapolation, and its interval covers less than its nominal level. Two distances
measure how far, both in the units the capability space is fitted in (imputed, unstandardized
scores, or standardized ones if the space is):

* **residual** ``Q``: the mean squared difference, over the model's *observed* benchmark cells,
  between its scores and their best reconstruction from the retained PCs (how far it lies
  *off* the training models' capability subspace; blank cells are not imputed here, the PC
  scores are fitted to the observed cells);
* **leverage** ``T2``: the squared Mahalanobis length of its PC scores,
  ``sum_j s_j^2 / lambda_j`` with ``lambda_j`` the variance of PC-j among the training models
  (how far *along* the subspace it lies from the training centre).

Each is divided by the median of the same distance among the training models, each computed
leave-one-out (the PCA refitted without that model; blank cells of the others stay imputed by
the fit on all of them), so that a training model is measured as a new model would be. The OOD score is the larger of the two ratios: 1 is a typical
training model; 5 means five times the typical distance. The flag threshold is the
``1 - rate`` quantile (default ``rate = 0.05``) of the training models' own leave-one-out OOD
scores: chosen on training data only, it flags about 5% of new models drawn like the training
ones (exchangeability), and more of models that are not.

**Widening rule.** The interval of a flagged model is widened around its prediction: each
half-width is multiplied by ``sqrt(score / threshold)``, capped at ``MAX_WIDEN`` (4), then
clipped to the target's range. The factor is 1 at the threshold (no jump) and grows with the
distance; it is a stated heuristic, not a calibrated correction (the book's "Use it on your own
models" page measures what it buys).

>>> ood = fit_ood(train_scores, benchmarks, n_pcs=3)          # doctest: +SKIP
>>> ood.score(new_scores)                                      # DataFrame: score, flag, ...
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import pandas as pd

from . import validate
from .capability import CapabilityFit, check_capability_inputs, fit_capabilities
from .data import score_matrix

__all__ = ["OODModel", "fit_ood", "widen"]

#: Share of training-like models the threshold flags (the ``1 - rate`` quantile of the training
#: models' leave-one-out scores).
FLAG_RATE = 0.05
#: Largest factor by which the widening rule multiplies a flagged model's half-widths.
MAX_WIDEN = 4.0


def _distances(X: np.ndarray, fit: CapabilityFit, k: int, var: np.ndarray
               ) -> tuple[np.ndarray, np.ndarray]:
    """Residual Q and leverage T2 of raw rows ``X`` ((m, p) or (B, m, p), NaN = not scored)
    under the stacked ``fit``, whose training PC variances are ``var`` (B, k).

    The PC scores of a row are the least-squares fit of the retained components to its
    *observed* cells (no imputation), and Q averages the squared misfit over those cells, so a
    blank cell neither adds nor hides distance.
    """
    obs = ~np.isnan(X)
    Z = np.where(obs, (np.nan_to_num(X) - fit.pca_mean[:, None, :]) / fit.pca_scale[:, None, :],
                 0.0)                                            # (B, m, p)
    obs = np.broadcast_to(obs, Z.shape)
    V = fit.components[:, :k]                                    # (B, k, p)
    A = V[:, None, :, :] * obs[:, :, None, :]                    # (B, m, k, p)
    G = np.einsum("bmkp,bmjp->bmkj", A, A)
    S = np.einsum("bmkj,bmj->bmk", np.linalg.pinv(G), np.einsum("bmkp,bmp->bmk", A, Z))
    R = np.where(obs, Z - np.einsum("bmk,bkp->bmp", S, V), 0.0)
    Q = (R ** 2).sum(axis=2) / np.maximum(obs.sum(axis=2), 1)
    T2 = (S ** 2 / np.maximum(var[:, None, :], 1e-300)).sum(axis=2)
    return Q, T2


@dataclass(frozen=True, eq=False)
class OODModel:
    """A fitted OOD scorer (see the module docstring); build it with :func:`fit_ood`.

    ``q_ref``/``t_ref``: medians of the training models' leave-one-out residual and leverage;
    ``threshold``: the flag threshold on the OOD score; ``train_scores``: the training models'
    leave-one-out OOD scores (a Series, for plots and calibration checks).
    """

    benchmarks: tuple[str, ...]
    n_pcs: int
    fit: CapabilityFit
    var: np.ndarray
    q_ref: float
    t_ref: float
    threshold: float
    rate: float
    train_scores: pd.Series

    def distances(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Residual and leverage of raw score rows ``X`` (m, p) with NaN for missing cells."""
        Q, T2 = _distances(np.asarray(X, float)[None], self.fit, self.n_pcs, self.var)
        return Q[0], T2[0]

    def score_array(self, X: np.ndarray) -> np.ndarray:
        """OOD scores of raw rows ``X`` (m, p)."""
        Q, T2 = self.distances(X)
        return np.maximum(Q / self.q_ref, T2 / self.t_ref)

    def score(self, models: pd.DataFrame) -> pd.DataFrame:
        """One row per model: ``residual`` and ``leverage`` (each relative to the training
        median), ``ood_score`` (their maximum) and ``ood_flag`` (score above the threshold)."""
        models = validate.frame(models)
        validate.columns_present(models, self.benchmarks, what="models",
                                 fix="Pass a table with the benchmark columns of the fit.")
        X = score_matrix(models, self.benchmarks, table="models")
        Q, T2 = self.distances(X)
        s = np.maximum(Q / self.q_ref, T2 / self.t_ref)
        return pd.DataFrame({"residual": Q / self.q_ref, "leverage": T2 / self.t_ref,
                             "ood_score": s, "ood_flag": s > self.threshold}, index=models.index)

    def widen_factor(self, scores) -> np.ndarray:
        """The widening rule's factor for OOD scores: 1 up to the threshold, then
        ``sqrt(score / threshold)``, at most :data:`MAX_WIDEN`."""
        s = np.asarray(scores, float)
        return np.clip(np.sqrt(np.maximum(s, 0.0) / self.threshold), 1.0, MAX_WIDEN)


def widen(prediction, lower, upper, factor, *, bounds: tuple[float, float] = (0.0, 1.0)
          ) -> tuple[np.ndarray, np.ndarray]:
    """Interval ``[lower, upper]`` widened around ``prediction``: each half-width times
    ``factor`` (>= 1), clipped to ``bounds``. (The out-of-distribution rule; the calibration
    layer's ``osl.predict.calibration.widen`` is a different step.)"""
    p, lo, hi, f = (np.asarray(a, float) for a in (prediction, lower, upper, factor))
    new_lo = p - f * np.maximum(p - lo, 0.0)
    new_hi = p + f * np.maximum(hi - p, 0.0)
    return np.clip(new_lo, *bounds), np.clip(new_hi, *bounds)


def fit_ood(models: pd.DataFrame, benchmarks: Sequence[str], n_pcs: int = 3, *,
            standardize: bool = False, rate: float = FLAG_RATE) -> OODModel:
    """Fit the OOD scorer on the training ``models`` (rows = models, the ``benchmarks``
    columns; blanks imputed): the capability space, the leave-one-out reference distances and
    the flag threshold (flags a share ``rate`` of training-like models)."""
    models = validate.frame(models)
    benchmarks = validate.names("benchmarks", benchmarks)
    n_pcs = validate.integer("n_pcs", n_pcs, low=1, high=len(benchmarks))
    rate = validate.real("rate", rate, low=0.0, high=0.5, low_open=True)
    validate.columns_present(models, benchmarks, what="models",
                             fix="Pass benchmarks=[...] naming your benchmark columns.")
    X = score_matrix(models, benchmarks, table="models")
    check_capability_inputs(X, benchmarks, n_pcs, what="OOD training set")
    return _fit_arrays(X, tuple(benchmarks), n_pcs, standardize, rate, models.index)


def _fit_arrays(X: np.ndarray, benchmarks: tuple, n_pcs: int, standardize: bool, rate: float,
                index: pd.Index) -> OODModel:
    n = X.shape[0]
    fit, imputed, scores = fit_capabilities(X, benchmarks, standardize=standardize)
    var = scores[0, :, :n_pcs].var(axis=0, ddof=1)[None]
    # Leave-one-out: refit the PCA without each model (one batched fit) and measure that model
    # on its observed cells. The other models' blank cells keep the imputation fitted on all
    # models (refitting it n times would cost far more and move little).
    idx = np.array([np.r_[0:i, i + 1:n] for i in range(n)])
    loo, _, loo_scores = fit_capabilities(imputed[0][idx], benchmarks, standardize=standardize)
    loo_var = loo_scores[:, :, :n_pcs].var(axis=1, ddof=1)
    Q, T2 = _distances(X[:, None, :], loo, n_pcs, loo_var)     # model i under fit i
    Q, T2 = Q[:, 0], T2[:, 0]
    q_ref, t_ref = float(np.median(Q)), float(np.median(T2))
    q_ref = q_ref if q_ref > 0 else 1e-12
    loo_score = np.maximum(Q / q_ref, T2 / t_ref)
    threshold = float(np.quantile(loo_score, 1 - rate))
    return OODModel(benchmarks, n_pcs, fit, var, q_ref, t_ref, threshold, rate,
                    pd.Series(loo_score, index=index, name="ood_score"))
