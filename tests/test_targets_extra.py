"""Several paired gains in one call (:func:`osl.predict.bootstrap.fit_pairs`): identical to
one :func:`fit_paired` per pair, each (target, training models) fitted once, clear errors."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from osl.errors import ArgumentError, SchemaError
from osl.predict import fit_paired, link
from osl.predict.bootstrap import fit_pairs

from conftest import lowrank_scores

GRID = [22.0, 23.0, 24.0]


def gain_table(n=80, seed=0) -> pd.DataFrame:
    """Three techniques as floored sigmoids of log10 FLOPs (``strong`` a decade earlier than
    ``base``), benchmark scores for the PC predictor, and a few missing technique scores."""
    rng = np.random.default_rng(seed)
    _, scores, _ = lowrank_scores(n, np.eye(3, 6) + 0.3, noise=0.02, seed=seed)
    lf = 21 + 4 * (scores.iloc[:, :3].mean(axis=1).to_numpy() - 0.3) / 0.4
    t = scores.assign(family="F", log10_flops=lf, flops_1e21=10 ** (lf - 21))
    for name, c in {"base": -46.0, "mid": -45.0, "strong": -44.0}.items():
        y = link(np.array([c, 2.0, 0.05]), lf[:, None]) + 0.02 * rng.normal(size=n)
        t[name] = np.clip(y, 0, 1)
    t.loc[t.index[:4], "strong"] = np.nan  # "strong" pairs train on fewer models
    return t


def same(p, q) -> None:
    np.testing.assert_array_equal(p.a.params, q.a.params)
    np.testing.assert_array_equal(p.b.params, q.b.params)
    pd.testing.assert_frame_equal(p.curve(GRID), q.curve(GRID))


@pytest.mark.parametrize("predictor", ["log_flops", "pc"])
def test_fit_pairs_equals_one_fit_paired_per_pair(predictor):
    t = gain_table()
    kwargs = {"predictor": predictor}
    if predictor == "pc":
        kwargs.update(n_pcs=2, benchmarks=tuple(t.columns[:6]), reference="F")
    pairs = {"mid-base": ("mid", "base"), "strong-base": ("strong", "base"),
             "strong-mid": ("strong", "mid")}
    train = t["log10_flops"].to_numpy() < 23.5
    got = fit_pairs(t, pairs, train, n_boot=40, seed=5, **kwargs)
    assert list(got) == list(pairs)
    for name, (a, b) in pairs.items():
        same(got[name], fit_paired(t, a, b, train, n_boot=40, seed=5, **kwargs))
    # "base" of the first pair trains on more models than "base" of the second: two fits.
    assert got["mid-base"].b.predictor is not got["strong-base"].b.predictor
    assert got["strong-base"].b.predictor.n_train_ < got["mid-base"].b.predictor.n_train_
    # "strong" is trained on the same models in both of its pairs: one fit.
    assert got["strong-base"].a.predictor is got["strong-mid"].a.predictor
    held = t[~train]
    pd.testing.assert_frame_equal(got["mid-base"].predict(held),
                                  fit_paired(t, "mid", "base", train, n_boot=40,
                                             seed=5, **kwargs).predict(held))


def test_fit_pairs_takes_one_training_mask_per_pair():
    t = gain_table(seed=1)
    lf = t["log10_flops"].to_numpy()
    masks = {"early": lf < 23.0, "late": lf < 23.8}
    pairs = {"early": ("mid", "base"), "late": ("mid", "base")}
    got = fit_pairs(t, pairs, masks, n_boot=30, seed=2, predictor="log_flops")
    for name in pairs:
        same(got[name], fit_paired(t, "mid", "base", masks[name], n_boot=30, seed=2,
                                   predictor="log_flops"))
    assert got["early"].a.predictor.n_train_ < got["late"].a.predictor.n_train_


@pytest.mark.parametrize("pairs, train, exc, pattern", [
    ({}, None, ArgumentError, "non-empty"),
    ([("mid", "base")], None, ArgumentError, "non-empty"),
    ({"g": ("mid",)}, None, ArgumentError, r"\(target_a, target_b\)"),
    ({"g": ("mid", "mid")}, None, ArgumentError, "more than once"),
    ({"g": ("mid", "nope")}, None, SchemaError, "not in the table"),
    ({"g": ("mid", "base")}, {"h": None}, ArgumentError, "one mask per pair"),
    ({"g": ("mid", "base")}, {"g": np.ones(3, bool)}, ArgumentError, "train"),
])
def test_fit_pairs_rejects_bad_arguments(pairs, train, exc, pattern):
    with pytest.raises(exc, match=pattern):
        fit_pairs(gain_table(n=30), pairs, train, n_boot=10, predictor="log_flops")
