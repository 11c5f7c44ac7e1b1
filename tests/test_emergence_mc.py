"""The emergent-task bootstrap sizes (chapters 2 and 9): what the pages report from them does not
move beyond Monte-Carlo noise, and the helper that estimates that noise splits a bootstrap
correctly.

Chapter 9's backtest runs 50 resamples per cutoff; the page states that the number of targets
with a forecast-like cutoff (PC-1..3 and log-FLOPs) is the same with twice as many resamples and
with another seed. These tests check that statement.
"""
from __future__ import annotations

import numpy as np
import pytest

from osl import data, presets
from osl.errors import ArgumentError
from osl.predict import backtest_grid, cutoff_split, fit_targets
from osl.predict.chapters import bootstrap_halves, emergent_setup, first_predictable_cutoffs

TASKS = list(presets.EMERGENT_TASKS)
PAPER = {t: emergent_setup(t, "paper")[1] for t in TASKS}
HEADLINE = {"PC-1..3": {"n_pcs": 3}, "log-FLOPs": {"predictor": "log_flops"}}
CUTOFFS = [12, 22, 40, 84, 160]
SEED = 20240517  # the chapter's seed


def _counts(em, n_boot, seed):
    bt = backtest_grid(em, TASKS, CUTOFFS, HEADLINE, per_target=PAPER, n_boot=n_boot, seed=seed,
                       level=0.8)
    fc = first_predictable_cutoffs(bt, tol_dex=0.25)
    return {p: int(fc.xs(p, level="predictor").notna().sum()) for p in HEADLINE}


def test_backtest_counts_do_not_depend_on_the_bootstrap_size_or_seed():
    em = data.load_emergent()
    page = _counts(em, 50, SEED)
    assert page == _counts(em, 100, SEED)
    assert page == _counts(em, 50, SEED + 1)


@pytest.fixture(scope="module")
def boot():
    em = data.load_emergent()
    split = cutoff_split(em)
    t = "parsinlu_qa_2_acc"
    return em, split, t, fit_targets(em, [t], split.train, n_pcs=3).bootstrap(40, seed=3)[t]


def test_halves_split_the_draws_and_the_feature_state(boot):
    em, split, t, b = boot
    h1, h2 = bootstrap_halves(b)
    assert len(h1.params) == len(h2.params) == 20
    np.testing.assert_array_equal(np.concatenate([h1.params, h2.params]), b.params)
    np.testing.assert_array_equal(np.concatenate([h1.ok, h2.ok]), b.ok)
    # Each half predicts with its own resamples: its draws are the matching rows of the whole.
    test = em[split.test & em[t].notna().to_numpy()]
    full = b.draws(test)
    assert h1.draws(test).shape[1] == full.shape[1]
    np.testing.assert_allclose(np.concatenate([h1.draws(test), h2.draws(test)]), full)


def test_halves_refuse_a_non_bootstrap_and_too_few_draws(boot):
    _, _, _, b = boot
    with pytest.raises(ArgumentError, match="PredictionBootstrap"):
        bootstrap_halves(b.params)
    tiny = bootstrap_halves(bootstrap_halves(bootstrap_halves(b)[0])[0])[0]  # 5 draws
    with pytest.raises(ArgumentError, match="at least 4"):
        bootstrap_halves(bootstrap_halves(tiny)[0])
