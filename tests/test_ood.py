"""The out-of-distribution score on synthetic data with a known capability subspace."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from osl.errors import ArgumentError, FitError, SchemaError
from osl.ood import FLAG_RATE, MAX_WIDEN, fit_ood, widen

COLS = list("abcdef")
LOAD = np.array([[0.5, 0.45, 0.45, 0.35, 0.45, 0.4], [0.3, 0.5, -0.4, -0.6, 0.1, 0.0]])


def synth(n: int, rng, noise: float = 0.01) -> pd.DataFrame:
    """Scores on a two-dimensional capability subspace plus small noise."""
    g = rng.normal(size=(n, 2))
    X = 0.5 + 0.1 * g @ LOAD + noise * rng.normal(size=(n, len(COLS)))
    return pd.DataFrame(X, columns=COLS, index=[f"m{i}" for i in range(n)])


@pytest.fixture(scope="module")
def fitted():
    rng = np.random.default_rng(1)
    return fit_ood(synth(80, rng), COLS, 2), rng


def test_in_distribution_models_are_flagged_at_about_the_stated_rate(fitted):
    ood, rng = fitted
    # The threshold is a quantile of the training models' leave-one-out scores, so new models
    # drawn like them exceed it at about FLAG_RATE (the quantile of 80 values is itself
    # uncertain: with 80 models the true rate lies in about [0.01, 0.12]).
    rates = [ood.score(synth(2000, rng))["ood_flag"].mean() for _ in range(3)]
    assert 0.01 <= np.mean(rates) <= 0.12
    # and the training models' own leave-one-out scores: exactly the quantile
    assert abs((ood.train_scores > ood.threshold).mean() - FLAG_RATE) <= 1 / 80 + 1e-9


def test_an_off_subspace_model_is_flagged_by_its_residual(fitted):
    ood, rng = fitted
    x = synth(5, rng)
    x[["a", "d"]] += [0.1, -0.1]  # orthogonal to neither PC: off the subspace
    s = ood.score(x)
    assert s["ood_flag"].all()
    assert (s["residual"] > s["leverage"]).all() and (s["residual"] > 10).all()


def test_a_far_point_along_the_subspace_is_flagged_by_its_leverage(fitted):
    ood, rng = fitted
    far = pd.DataFrame([0.5 + 0.1 * np.array([6.0, 0.0]) @ LOAD], columns=COLS, index=["far"])
    s = ood.score(far).iloc[0]
    assert s["ood_flag"] and s["leverage"] > s["residual"]


def test_blank_cells_neither_add_nor_hide_distance(fitted):
    ood, rng = fitted
    x = synth(2000, rng)
    x.iloc[::2, 2] = np.nan
    assert ood.score(x)["ood_flag"].mean() <= 0.12
    off = synth(5, rng)
    off[["a", "d"]] += [0.1, -0.1]
    off["c"] = np.nan
    assert ood.score(off)["ood_flag"].all()


def test_leave_one_out_reference_matches_a_direct_refit():
    """The batched leave-one-out distances equal refitting without each model by hand (exactly
    on a complete table; with a blank cell, whose imputation is shared, the model that has it
    still exactly, the others closely)."""
    rng = np.random.default_rng(3)
    X = synth(20, rng)
    for blank, rel in ((False, 1e-6), (True, 0.05)):
        if blank:
            X.iloc[3, 1] = np.nan
        ood = fit_ood(X, COLS, 2)
        for i in (0, 3, 7):
            alone = fit_ood(X.drop(index=X.index[i]), COLS, 2)
            Q, T2 = alone.distances(X.iloc[[i]].to_numpy())
            s = max(Q[0] / ood.q_ref, T2[0] / ood.t_ref)
            assert s == pytest.approx(ood.train_scores.iloc[i], rel=1e-6 if i == 3 else rel)


def test_widening_rule():
    ood = fit_ood(synth(40, np.random.default_rng(5)), COLS, 2)
    t = ood.threshold
    f = ood.widen_factor([0.5 * t, t, 4 * t, 1e6 * t])
    np.testing.assert_allclose(f, [1.0, 1.0, 2.0, MAX_WIDEN])
    lo, hi = widen([0.5, 0.5, 0.9], [0.4, 0.4, 0.8], [0.55, 0.55, 0.95], [1.0, 2.0, 3.0])
    np.testing.assert_allclose(lo, [0.4, 0.3, 0.6])
    np.testing.assert_allclose(hi, [0.55, 0.6, 1.0])  # clipped to the range


@pytest.mark.parametrize("call, exc, pattern", [
    (lambda X: fit_ood(X, COLS + ["zz"], 2), SchemaError, r"\['zz'\] not in the table"),
    (lambda X: fit_ood(X, COLS, 0), ArgumentError, "n_pcs"),
    (lambda X: fit_ood(X, COLS, 2, rate=0.7), ArgumentError, "rate"),
    (lambda X: fit_ood(X.iloc[:2], COLS, 2), FitError, "at least"),
    (lambda X: fit_ood(X.to_numpy(), COLS, 2), ArgumentError, "DataFrame"),
    (lambda X: fit_ood(X, COLS, 2).score(X.drop(columns="a")), SchemaError, "'a'"),
])
def test_bad_inputs(call, exc, pattern):
    with pytest.raises(exc, match=pattern):
        call(synth(30, np.random.default_rng(0)))
