"""The estimator: benchmark table -> predictor features -> sigmoid link to a downstream score.

::

    pred = ScalingPredictor(n_pcs=3, benchmarks=["a", "b", "c"]).fit(models, "task", train)
    pred.predict(models)                       # point predictions (target units)
    boot = pred.bootstrap(n_boot=1000, seed=0) # imputation, PCA and link refitted each time
    boot.predict(models, level=0.8)            # mean, confidence band and predictive interval
    boot.crossing()                            # reference-equivalent compute of the jump

Arguments are checked once, in the constructor and in :meth:`ScalingPredictor.fit`; fitted
state lives in attributes with a trailing underscore.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from .. import presets, validate
from ..data import coerce_scores, score_matrix
from ..errors import ArgumentError, FitError, NotFittedError, ScoreError
from .axis import crossings, curve_draws, equivalent_axis
from .features import make_features
from .link import LinkSpec, fit_link, link


def read_target(models: pd.DataFrame, target, *, lower: float, upper: float,
                on_missing: str = "error") -> pd.Series:
    """The target as a float Series aligned on ``models`` (a column name or a Series)."""
    if isinstance(target, str):
        validate.columns_present(models, [target], what="target",
                                 fix="Pass the name of a column of the table, or a Series.")
        name = target
        vals = score_matrix(models, [target], table=f"target {name!r}", lower=lower, upper=upper)
        return pd.Series(vals[:, 0], index=models.index, name=name)
    elif isinstance(target, pd.Series):
        name = str(target.name) if target.name is not None else "target"
        if target.index.has_duplicates:
            raise ArgumentError(f"target {name!r}: model name(s) "
                                f"{sorted(set(target.index[target.index.duplicated()]))[:5]} "
                                "appear more than once.")
        unknown = target.index[~target.index.isin(models.index)]
        if len(unknown) and on_missing == "error":
            raise ArgumentError(
                f"target {name!r}: {len(unknown)} of its {len(target)} model name(s) are not in "
                f"the table (e.g. {list(map(str, unknown[:3]))}). Fix the names, or pass "
                "on_missing='drop' to fit on the models that match.")
        if not target.index.isin(models.index).any():
            raise ArgumentError(f"target {name!r}: none of its model names is in the table.")
        raw = target.reindex(models.index).to_frame(name)
    else:
        raise ArgumentError(f"target must be a column name or a pandas Series indexed by model, "
                            f"got {type(target).__name__}.")
    return coerce_scores(raw, [name], table=f"target {name!r}", lower=lower, upper=upper)[name]


class ScalingPredictor:
    """Benchmark scores -> capabilities -> sigmoid link to a downstream metric.

    ``predictor``: ``"pc"`` (the first ``n_pcs`` principal components of ``benchmarks``),
    ``"log_flops"``, ``"log_size"``, ``"columns"`` (with ``columns=``), or a
    :class:`~osl.predict.features.Features` instance. ``target_range`` states the target's scale
    (e.g. ``(0, 100)`` for BLEU); targets are mapped to [0, 1] before fitting and predictions are
    returned on the original scale. ``chance`` (on the original scale) maps the target to
    ``(chance, top)`` instead, so that the floor of the sigmoid is the chance level.
    ``reference`` names the family whose compute defines the equivalent-compute axis (``None``:
    no axis; :meth:`crossing` and :meth:`equivalent_log_flops` then raise).
    """

    def __init__(self, predictor="pc", n_pcs: int = 3, columns: Sequence[str] = (),
                 benchmarks: Sequence[str] = presets.BASE_BENCHMARKS, standardize: bool = False,
                 link: LinkSpec = LinkSpec(), target_range: tuple[float, float] = (0.0, 1.0),
                 chance: float | None = None, reference: str | None = presets.REFERENCE_FAMILY):
        self.features = make_features(predictor, n_pcs=n_pcs, benchmarks=benchmarks,
                                      standardize=standardize, columns=columns)
        self.predictor = predictor if isinstance(predictor, str) else type(predictor).__name__
        if not isinstance(link, LinkSpec):
            raise ArgumentError(f"link must be a LinkSpec, got {type(link).__name__}.")
        self.link = link
        if (not isinstance(target_range, (tuple, list)) or len(target_range) != 2):
            raise ArgumentError(f"target_range must be (low, high), got {target_range!r}.")
        lo = validate.real("target_range[0]", target_range[0])
        hi = validate.real("target_range[1]", target_range[1])
        if not hi > lo:
            raise ArgumentError(f"target_range must be (low, high) with high > low, got "
                                f"{tuple(target_range)}.")
        self.target_range = (lo, hi)
        if chance is not None:
            chance = validate.real("chance", chance, low=lo, high=hi, high_open=True)
        self.chance = chance
        if reference is not None and (not isinstance(reference, str) or not reference):
            raise ArgumentError(f"reference must be a family name or None, got {reference!r}.")
        self.reference = reference
        self.params_: np.ndarray | None = None

    def __repr__(self) -> str:
        return f"ScalingPredictor(features={self.features!r}, link={self.link!r})"

    # -- target scale ------------------------------------------------------------------------
    @property
    def _bottom(self) -> float:
        return self.target_range[0] if self.chance is None else self.chance

    def to_unit(self, y):
        """Target scale -> the unit scale the link is fitted on."""
        return (np.asarray(y, float) - self._bottom) / (self.target_range[1] - self._bottom)

    def from_unit(self, u):
        """Unit scale -> the target's own scale."""
        return self._bottom + np.asarray(u, float) * (self.target_range[1] - self._bottom)

    # -- fitting -----------------------------------------------------------------------------
    def fit(self, models: pd.DataFrame, target, train=None, *,
            on_missing: str = "error") -> "ScalingPredictor":
        """Fit on the ``train`` rows (boolean mask; default all) that have a target value.

        ``target`` is a column of ``models`` or a Series indexed by model name; names that are
        not in the table raise unless ``on_missing="drop"``.
        """
        models = validate.frame(models)
        validate.choice("on_missing", on_missing, ("error", "drop"))
        train = validate.mask(train, len(models), rows=models.index)
        y_all = read_target(models, target, lower=self.target_range[0],
                            upper=self.target_range[1], on_missing=on_missing)
        raw = self.features.raw(models)
        return self._fit_arrays(models, raw, y_all, train)

    def _fit_arrays(self, models, raw, y_all: pd.Series, train: np.ndarray) -> "ScalingPredictor":
        """Fit from validated arrays (the single path shared by :func:`fit_targets`)."""
        X, y = self._prepare(models, raw, y_all, train)
        return self._finish(models, raw, fit_link(X, y, self.link))

    def _prepare(self, models, raw, y_all: pd.Series, train: np.ndarray):
        """Everything before the link solve: rows, target, features. Returns (X, y)."""
        f = self.features
        has_y = train & y_all.notna().to_numpy()
        usable = f.usable(raw)
        if not f.drop_unusable and (has_y & ~usable).any():
            bad = list(map(str, models.index[has_y & ~usable][:5]))
            raise ScoreError(f"Training model(s) {bad} have a target value but no score on any of "
                             f"{list(f.columns)}; drop them or add scores.")
        rows = has_y & usable
        n_params = f.n_features + (2 if self.link.floor else 1)
        need = max(n_params + 2, 4)
        if rows.sum() < need:
            raise FitError(
                f"Target {y_all.name!r}: {int(rows.sum())} training model(s) with a value and a "
                f"predictor; at least {need} are needed for {n_params} parameters. Move the cutoff "
                "up, or use fewer PCs.")
        y = self.to_unit(y_all.to_numpy()[rows])
        if np.ptp(y) == 0:
            raise FitError(f"Target {y_all.name!r} is constant on the training models "
                           f"({self.from_unit(y[0]):g}): there is nothing to fit.")
        raw_train = raw[rows]
        f.check_training(raw_train)
        state = f.fit(raw_train)
        X = f.transform(state, raw_train)[0]
        self.target_ = str(y_all.name)
        self.index_ = models.index
        self.rows_ = rows
        self.y_all_ = y_all
        self.y_train_ = y
        self.raw_train_ = raw_train
        self.state_ = state
        self.X_train_ = X
        return X, y

    def _finish(self, models, raw, params: np.ndarray) -> "ScalingPredictor":
        """Store the solved link and the equivalent-compute axis."""
        f, state, X, y = self.features, self.state_, self.X_train_, self.y_train_
        self.params_ = params
        self.residuals_ = link(params, X) - y
        self.axis_ = None
        self.reference_raw_ = self.reference_log_flops_ = None
        if f.axis == "capability" and self.reference is not None and "family" in models \
                and "log10_flops" in models:
            lf = pd.to_numeric(models["log10_flops"], errors="coerce").to_numpy(dtype=float)
            ref = (models["family"].to_numpy() == self.reference) & np.isfinite(lf) \
                & f.usable(raw)
            if ref.sum() >= 2:
                self.reference_raw_ = raw[ref]
                self.reference_log_flops_ = lf[ref]
                self.axis_ = equivalent_axis(
                    f.transform(state, raw[ref]), params[None], lf[ref])[0]
        return self

    def _check(self) -> None:
        if self.params_ is None:
            raise NotFittedError("ScalingPredictor is not fitted yet: call "
                                 ".fit(models, target, train).")

    @property
    def coef_(self) -> pd.Series:
        """The link's parameters by name: ``c``, one weight per feature, floor ``b``."""
        self._check()
        return pd.Series(self.params_, index=["c"] + self.features.weight_names + ["b"])

    @property
    def n_train_(self) -> int:
        self._check()
        return int(self.rows_.sum())

    # -- applying ----------------------------------------------------------------------------
    def features_of(self, models: pd.DataFrame) -> np.ndarray:
        """(m, k) predictor values of ``models`` under the fitted state."""
        self._check()
        raw = self.features.raw(validate.frame(models))
        return self.features.transform(self.state_, raw)[0]

    def predict(self, models: pd.DataFrame) -> pd.Series:
        """Point predictions on the target's own scale (NaN where a predictor is missing)."""
        X = self.features_of(models)
        return pd.Series(self.from_unit(link(self.params_, X)), index=models.index,
                         name=f"predicted {self.target_}")

    def score(self, models: pd.DataFrame) -> np.ndarray:
        """The linear score ``w . x`` (the capability direction the link uses)."""
        return self.features_of(models) @ self.params_[1:-1]

    def _require_axis(self) -> np.ndarray:
        self._check()
        if self.features.axis == "compute":
            return np.array([0.0, 1.0])
        if self.features.axis != "capability":
            raise FitError(f"The compute axis needs the 'pc' or 'log_flops' predictor, not "
                           f"{self.predictor!r}.")
        if self.reference is None:
            raise FitError("No equivalent-compute axis: the predictor was built with "
                           "reference=None. Pass reference='<a family in your table>' (the table "
                           "needs 'family' and 'log10_flops' columns), or read predictions on "
                           "the score scale with predict().")
        if self.axis_ is None:
            raise FitError(
                f"No equivalent-compute axis: reference={self.reference!r} needs at least 2 "
                "models of that family with benchmark scores and a log10_flops value in the "
                "table. Pass reference='<a family in your table>' (with a 'family' and a "
                "'log10_flops' column), or use predict() on the score scale.")
        return self.axis_

    def equivalent_log_flops(self, models: pd.DataFrame) -> np.ndarray:
        """x-axis of the figures: reference-family-equivalent log10 FLOPs (log-FLOPs: itself)."""
        if self.features.axis == "compute":
            return self.features_of(models)[:, 0]
        a = self._require_axis()
        return a[0] + a[1] * self.score(models)

    def curve(self, log_flops) -> np.ndarray:
        """The fitted curve along the equivalent-compute axis (target scale)."""
        D = curve_draws(self.params_[None], self._require_axis()[None], np.asarray(log_flops, float),
                        self.features.axis)
        return self.from_unit(D[0])

    def crossing(self, threshold: float | None = None) -> float:
        """Equivalent log10 FLOPs where the curve crosses ``threshold`` (target scale).

        Default threshold: halfway between the fitted floor and the ceiling.
        """
        return float(crossings(self.params_[None], self.unit_threshold(threshold),
                               self._require_axis()[None], self.features.axis)[0])

    def unit_threshold(self, threshold) -> float | None:
        if threshold is None:
            return None
        lo, hi = self.target_range
        t = validate.real("threshold", threshold, low=lo, high=hi)
        return float(self.to_unit(t))

    def bootstrap(self, n_boot: int = 1000, seed: int = 0, *, progress: bool = False):
        """Resample the training models with replacement; refit imputation, PCA and the link.

        Returns a :class:`~osl.predict.bootstrap.PredictionBootstrap`.
        """
        from .bootstrap import bootstrap_many
        return bootstrap_many([self], n_boot, seed, progress=progress)[0]
