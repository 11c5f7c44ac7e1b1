"""Trivial baselines that stand beside the method on every held-out comparison.

Each has the estimator interface :func:`~osl.predict.evaluation.compare` uses (``fit(models,
target, train)``, ``predict(models)``, ``n_train_``): pass the class (or any zero-argument
factory) as a predictor, e.g. ``{"training mean": TrainingMean}``.

* :class:`TrainingMean`: every model gets the mean training score.
* :class:`BestTrainingScore`: every model gets the best training score (a "no further progress"
  forecast, strong when larger models plateau).
* :class:`FamilyLogFlops`: the floored sigmoid of a family intercept plus one slope in log10
  FLOPs (each family's own compute efficiency, no capabilities); a family absent from training
  gets the median family offset; models of unknown compute get no prediction.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from .._special import expit

from .. import validate
from ..errors import FitError, NotFittedError
from .estimator import read_target
from .link import LinkSpec, fit_link

__all__ = ["BestTrainingScore", "FamilyLogFlops", "TrainingMean"]


class _Baseline:
    target_range = (0.0, 1.0)

    def fit(self, models: pd.DataFrame, target, train=None) -> "_Baseline":
        models = validate.frame(models)
        train = validate.mask(train, len(models), rows=models.index)
        y = read_target(models, target, lower=self.target_range[0], upper=self.target_range[1])
        rows = train & y.notna().to_numpy()
        if rows.sum() < 2:
            raise FitError(f"Target {y.name!r}: {int(rows.sum())} training model(s) with a value; "
                           "a baseline needs at least 2.")
        self.target_ = str(y.name)
        self.rows_ = rows
        self.y_all_ = y
        self._fit(models, y.to_numpy()[rows], rows)
        return self

    @property
    def n_train_(self) -> int:
        if not hasattr(self, "rows_"):
            raise NotFittedError(f"{type(self).__name__} is not fitted yet: call .fit(...).")
        return int(self.rows_.sum())

    def predict(self, models: pd.DataFrame) -> pd.Series:
        self.n_train_  # noqa: B018 (raises if unfitted)
        models = validate.frame(models)
        return pd.Series(self._predict(models), index=models.index,
                         name=f"predicted {self.target_}")


class TrainingMean(_Baseline):
    """Every model is predicted the mean score of the training models."""

    def _fit(self, models, y, rows):
        self.value_ = float(np.mean(y))

    def _predict(self, models):
        return np.full(len(models), self.value_)


class BestTrainingScore(_Baseline):
    """Every model is predicted the best score among the training models."""

    def _fit(self, models, y, rows):
        self.value_ = float(np.max(y))

    def _predict(self, models):
        return np.full(len(models), self.value_)


class FamilyLogFlops(_Baseline):
    """The floored sigmoid link of a family intercept plus a shared slope in log10 FLOPs:
    ``y = (1 - b) * sigmoid(c + d_family + w * log10 FLOPs) + b``, fitted by least squares on
    the training models of known compute. A family absent from training gets the median family
    offset; models of unknown compute get no prediction."""

    def _fit(self, models, y, rows):
        validate.columns_present(models, ["family", "log10_flops"], what="FamilyLogFlops",
                                 fix="This baseline needs families and training FLOPs.")
        lf = models["log10_flops"].to_numpy(dtype=float)
        known = rows & np.isfinite(lf)
        fam = models["family"].to_numpy(dtype=object)
        y = self.y_all_.to_numpy()[known]
        self.families_ = sorted(set(fam[known]))
        X = self._design(fam[known], lf[known])
        if known.sum() < X.shape[1] + 4:
            raise FitError(f"FamilyLogFlops: {int(known.sum())} training models of known compute "
                           f"for {len(self.families_)} families; too few to fit.")
        self.params_ = fit_link(X, y, LinkSpec())
        offsets = np.concatenate([[0.0], self.params_[1:len(self.families_)]])
        self.median_offset_ = float(np.median(offsets))

    def _design(self, fam, lf):
        centre = 22.0  # log10 FLOPs around the middle of the data, for a well-scaled fit
        onehot = np.column_stack([fam == f for f in self.families_[1:]]).astype(float) \
            if len(self.families_) > 1 else np.zeros((len(fam), 0))
        return np.column_stack([onehot, lf - centre])

    def _predict(self, models):
        validate.columns_present(models, ["family", "log10_flops"], what="FamilyLogFlops")
        fam = models["family"].to_numpy(dtype=object)
        lf = models["log10_flops"].to_numpy(dtype=float)
        X = self._design(fam, lf)
        seen = np.isin(fam, self.families_)
        c, b = self.params_[0], self.params_[-1]
        z = c + X @ self.params_[1:-1] + np.where(seen, 0.0, self.median_offset_)
        return (1 - b) * expit(z) + b
