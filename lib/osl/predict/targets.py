"""Several targets, one call: :func:`fit_targets` fits one predictor configuration to every
target of a table, validating the table once, and :meth:`TargetSet.bootstrap` bootstraps them
together (shared resamples and capability refits wherever the training models coincide).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .. import validate
from ..errors import ArgumentError
from .bootstrap import PredictionBootstrap, bootstrap_many
from .estimator import ScalingPredictor, read_target
from .link import fit_link_padded, link


def _target_list(models: pd.DataFrame, targets) -> list:
    if isinstance(targets, pd.DataFrame):
        validate.frame(targets, "targets")
        return [targets[c].rename(str(c)) for c in targets.columns]
    if isinstance(targets, pd.Series):
        return [targets]
    if isinstance(targets, str):
        return [targets]
    return list(validate.names("targets", targets))


class TargetSet:
    """Fitted predictors, one per target (``fits[target]`` is a :class:`ScalingPredictor`)."""

    def __init__(self, fits: dict[str, ScalingPredictor]):
        self.fits = fits

    def __getitem__(self, target: str) -> ScalingPredictor:
        if target not in self.fits:
            raise ArgumentError(f"No fitted target {target!r}; fitted: {list(self.fits)}.")
        return self.fits[target]

    def __iter__(self):
        return iter(self.fits)

    def __len__(self) -> int:
        return len(self.fits)

    @property
    def targets(self) -> list[str]:
        return list(self.fits)

    def predict(self, models: pd.DataFrame) -> pd.DataFrame:
        """Point predictions: one row per model, one column per target."""
        models = validate.frame(models)
        first = next(iter(self.fits.values()))
        raw = first.features.raw(models)  # read once: every target uses the same features
        feats: dict[int, np.ndarray] = {}
        out = {}
        for t, p in self.fits.items():
            key = id(p.state_)
            if key not in feats:
                feats[key] = p.features.transform(p.state_, raw)[0]
            out[t] = p.from_unit(link(p.params_, feats[key]))
        return pd.DataFrame(out, index=models.index)

    def bootstrap(self, n_boot: int = 1000, seed: int = 0, *,
                  progress: bool = False) -> "BootstrapSet":
        boots = bootstrap_many(list(self.fits.values()), n_boot, seed, progress=progress)
        return BootstrapSet(dict(zip(self.fits, boots)))


class BootstrapSet:
    """Bootstrap draws of every target of a :class:`TargetSet`."""

    def __init__(self, boots: dict[str, PredictionBootstrap]):
        self.boots = boots

    def __getitem__(self, target: str) -> PredictionBootstrap:
        if target not in self.boots:
            raise ArgumentError(f"No bootstrapped target {target!r}; have: {list(self.boots)}.")
        return self.boots[target]

    def predict(self, models: pd.DataFrame, level: float = 0.8) -> pd.DataFrame:
        """One row per (target, model): mean, confidence band and predictive interval."""
        shared: dict[int, np.ndarray] = {}  # targets bootstrapped together share features
        parts = {}
        for t, b in self.boots.items():
            key = id(b.state)
            if key not in shared:
                shared[key] = b._features(models)
            parts[t] = b.predict(models, level, features=shared[key])
        out = pd.concat(parts, names=["target", "model"])
        return out

    def crossing(self, threshold: float | None = None, level: float = 0.8) -> pd.DataFrame:
        """Crossing compute of every target: point, interval and number of usable draws."""
        return pd.DataFrame({t: b.crossing(threshold, level) for t, b in self.boots.items()}).T


def fit_targets(models: pd.DataFrame, targets, train=None, *, on_missing: str = "error",
                **kwargs) -> TargetSet:
    """Fit one :class:`ScalingPredictor` configuration (``kwargs``) to several targets.

    ``targets``: column names of ``models``, or a DataFrame indexed by model name with one
    column per target (e.g. a separate file of downstream scores). The table is validated and
    its features are read once for all targets.
    """
    models = validate.frame(models)
    validate.choice("on_missing", on_missing, ("error", "drop"))
    train = validate.mask(train, len(models), rows=models.index)
    template = ScalingPredictor(**kwargs)
    raw = template.features.raw(models)
    fits, problems = {}, {}
    for target in _target_list(models, targets):
        p = ScalingPredictor(**kwargs)
        y = read_target(models, target, lower=p.target_range[0], upper=p.target_range[1],
                        on_missing=on_missing)
        name = str(y.name)
        if name in fits:
            raise ArgumentError(f"targets: {name!r} appears more than once.")
        fits[name] = p
        problems[name] = p._prepare(models, raw, y, train)
    # One batched link solve for all targets (problems of different sizes padded with
    # zero-weight rows): each solution is the one the target gets alone, up to rounding.
    names = list(problems)
    solved = fit_link_padded([(problems[n][0][None], problems[n][1][None], None) for n in names],
                             template.link, max_iter=400, tol=1e-9)
    for n, (theta, _) in zip(names, solved):
        fits[n]._finish(models, raw, theta[0])
    return TargetSet(fits)
