"""Splits of a model table into training and held-out models, as boolean masks.

:func:`cutoff_split` (by training compute), :func:`top_split` (the strongest models by a
target held out), :func:`heldout_split` (named models held out) and :func:`family_splits`
(leave one family out).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator, Sequence

import numpy as np
import pandas as pd

from .. import presets, validate
from ..data import coerce_scores
from ..errors import FitError


@dataclass(frozen=True)
class Split:
    """Which models train a forecast and which check it: boolean masks ``train`` and ``test``
    over a table's rows (neither may be empty) and a one-line ``description`` of the rule
    that made them (a compute cutoff, the strongest share, one model left out)."""

    train: np.ndarray
    test: np.ndarray
    description: str

    def __post_init__(self):
        if not self.train.any():
            raise FitError(f"{self.description}: the training side is empty.")
        if not self.test.any():
            raise FitError(f"{self.description}: the held-out side is empty.")


def cutoff_split(models: pd.DataFrame, cutoff_1e21: float = presets.DEFAULT_CUTOFF_1E21, *,
                 unknown: str = "exclude") -> Split:
    """Train on models with FLOPs <= cutoff (in 1e21 FLOPs), test on the ones above.

    Models of unknown compute belong to no side (``unknown="exclude"``, default) or to the
    held-out side (``unknown="test"``, as the reference code's ``~train`` did).
    """
    models = validate.frame(models)
    cutoff_1e21 = validate.real("cutoff_1e21", cutoff_1e21, low=0.0, low_open=True)
    validate.choice("unknown", unknown, ("exclude", "test"))
    validate.columns_present(models, ["flops_1e21"], what="cutoff_split",
                             fix="A compute cutoff needs training FLOPs (in units of 1e21).")
    flops = coerce_scores(models, ["flops_1e21"], table="models", lower=0.0,
                          upper=None)["flops_1e21"].to_numpy()
    known = np.isfinite(flops)
    train = known & (flops <= cutoff_1e21)
    test = (known & (flops > cutoff_1e21)) | (~known if unknown == "test" else False)
    return Split(train, np.asarray(test, bool), f"FLOPs cutoff {cutoff_1e21:g}e21")


def top_split(models: pd.DataFrame, target: str, share: float = 0.1, *,
              minimum: int = 1) -> Split:
    """Hold out the strongest models by ``target``: the top ``int(share * n)`` (at least
    ``minimum``) of the ``n`` models that have a value, as the paper's agent analysis does."""
    models = validate.frame(models)
    share = validate.real("share", share, low=0.0, high=1.0, high_open=True)
    minimum = validate.integer("minimum", minimum, low=1)
    validate.columns_present(models, [target], what="top_split")
    y = coerce_scores(models, [target], table="models", lower=None, upper=None)[target]
    n = int(y.notna().sum())
    k = max(int(share * n), minimum)
    if n - k < 1:
        raise FitError(f"{target}: {n} model(s) with a value; cannot hold out {k}.")
    top = y.nlargest(k).index
    test = models.index.isin(top)
    train = y.notna().to_numpy() & ~test
    return Split(train, test, f"top {k} of {n} by {target} held out")


def heldout_split(models: pd.DataFrame, heldout: Sequence[str]) -> Split:
    """Hold out the named models; train on all others."""
    models = validate.frame(models)
    heldout = validate.names("heldout", heldout)
    missing = [m for m in heldout if m not in models.index]
    if missing:
        raise FitError(f"Held-out model(s) not in the table: {missing}.")
    test = models.index.isin(list(heldout))
    return Split(~test, test, f"held out: {', '.join(heldout)}")


def family_splits(models: pd.DataFrame, min_models: int = 1) -> Iterator[tuple[str, Split]]:
    """Leave one family out, for every family with at least ``min_models`` models."""
    models = validate.frame(models)
    min_models = validate.integer("min_models", min_models, low=1)
    validate.columns_present(models, ["family"], what="family_splits")
    fam = models["family"].to_numpy(dtype=object)
    for f in pd.unique(fam):
        test = fam == f
        if test.sum() >= min_models and (~test).any():
            yield f, Split(~test, test, f"leave out family {f}")
