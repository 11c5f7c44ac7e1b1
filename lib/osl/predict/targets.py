"""Several targets, one call: :func:`fit_targets` fits one predictor configuration to every
target of a table, validating the table once, and :meth:`TargetSet.bootstrap` bootstraps them
together (shared resamples and capability refits wherever the training models coincide).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .. import validate
from ..errors import ArgumentError, FitError
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


def fit_many(models: pd.DataFrame, jobs: dict, *, skip_unfittable: bool = False) -> dict:
    """Fit many (target, training mask, :class:`ScalingPredictor` keyword arguments) jobs with
    one batched link solve per kind of link, as :func:`fit_targets` does for one mask: ``jobs``
    is ``{key: (target, train, kwargs)}``, the result ``{key: fitted predictor}``, in the order
    of ``jobs``. Each fit equals ``ScalingPredictor(**kwargs).fit(models, target, train)`` up to
    rounding (the same multi-start solver; problems of different sizes are padded with
    zero-weight rows). Worth it when the jobs differ in their training masks (leave one family
    out, cutoffs), where :func:`fit_targets` would need one call per mask.

    A job that cannot be fitted (too few training models, a constant target) raises its
    :class:`~osl.errors.FitError`, or with ``skip_unfittable`` is left out of the result.
    """
    models = validate.frame(models)
    if not isinstance(jobs, dict) or not jobs:
        raise ArgumentError("fit_many: jobs must be a non-empty {key: (target, train, kwargs)} "
                            "dict.")
    if not isinstance(skip_unfittable, (bool, np.bool_)):
        raise ArgumentError(f"fit_many: skip_unfittable must be True or False, got "
                            f"{skip_unfittable!r}.")
    raws: dict = {}
    prepared: dict = {}
    for key, job in jobs.items():
        if not isinstance(job, tuple) or len(job) != 3 or not isinstance(job[2], dict):
            raise ArgumentError(f"fit_many: jobs[{key!r}] must be (target, train, kwargs), got "
                                f"{job!r}.")
        target, train, kwargs = job
        p = ScalingPredictor(**kwargs)
        fkey = p.features.key()
        if fkey not in raws:
            raws[fkey] = p.features.raw(models)
        y = read_target(models, target, lower=p.target_range[0], upper=p.target_range[1])
        mask = validate.mask(train, len(models), f"jobs[{key!r}] train", rows=models.index)
        try:
            X, yy = p._prepare(models, raws[fkey], y, mask)
        except FitError:
            if not skip_unfittable:
                raise
            continue
        prepared[key] = (p, fkey, X, yy)
    kinds: dict = {}
    for key, (p, _, X, _) in prepared.items():
        kinds.setdefault((p.link, X.shape[1]), []).append(key)
    out = {}
    for (spec, _), keys in kinds.items():
        problems = [(prepared[k][2][None], prepared[k][3][None], None) for k in keys]
        for k, (theta, _) in zip(keys, fit_link_padded(problems, spec, max_iter=400, tol=1e-9)):
            p, fkey = prepared[k][0], prepared[k][1]
            out[k] = p._finish(models, raws[fkey], theta[0])
    return {k: out[k] for k in jobs if k in out}
