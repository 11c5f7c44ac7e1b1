"""Trivial baselines that stand beside the method on every held-out comparison.

Each has the estimator interface :func:`~osl.predict.evaluation.compare` uses (``fit(models,
target, train)``, ``predict(models)``, ``n_train_``): pass the class (or any zero-argument
factory) as a predictor, e.g. ``{"training mean": TrainingMean}``.

* :class:`TrainingMean`: every model gets the mean training score.
* :class:`BestTrainingScore`: every model gets the best training score (a "no further progress"
  forecast, strong when larger models plateau).
* :class:`FamilyLogFlops`: ``y = a_family + b * log10 FLOPs``, one slope and one intercept per
  training family (least squares), clipped to the target's range; a family absent from
  training gets the median intercept; models of unknown compute get no prediction.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .. import validate
from ..compute import shared_slope_fit
from ..errors import FitError, NotFittedError
from .estimator import read_target


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
    """A family intercept plus a shared slope in log10 FLOPs, fitted by least squares."""

    def _fit(self, models, y, rows):
        validate.columns_present(models, ["family", "log10_flops"], what="FamilyLogFlops",
                                 fix="This baseline needs families and training FLOPs.")
        lf = models["log10_flops"].to_numpy(dtype=float)[rows]
        fam = models["family"].to_numpy(dtype=object)[rows]
        self.fit_ = shared_slope_fit(y, lf, fam, reference=str(fam[0]))

    def _predict(self, models):
        validate.columns_present(models, ["family", "log10_flops"], what="FamilyLogFlops")
        a = models["family"].map(self.fit_.intercepts).astype(float)
        a = a.fillna(float(self.fit_.intercepts.median())).to_numpy()
        y = a + self.fit_.slope * models["log10_flops"].to_numpy(dtype=float)
        return np.clip(y, *self.target_range)
