"""The verdict rule on synthetic cases (a clear win, a tie, a clear loss, too few families) and
the trivial baselines against hand computations."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from osl.errors import ArgumentError, FitError
from osl.predict.baselines import BestTrainingScore, FamilyLogFlops, TrainingMean
from osl.predict.verdicts import BETTER, TIED, WORSE, paired_difference, tally


def held_out(n_fam=8, per=4, seed=0):
    rng = np.random.default_rng(seed)
    fam = np.repeat([f"F{i}" for i in range(n_fam)], per)
    y = rng.uniform(0.2, 0.8, fam.size)
    return y, fam, rng


def test_clear_win_and_clear_loss():
    y, fam, rng = held_out()
    good = y + 0.01 * rng.normal(size=y.size)
    bad = y + 0.15 * rng.normal(size=y.size)
    assert paired_difference(y, good, bad, fam)["verdict"] == BETTER
    out = paired_difference(y, bad, good, fam)
    assert out["verdict"] == WORSE and out["lower"] > 0
    assert out["difference"] == pytest.approx(np.mean((bad - y) ** 2 - (good - y) ** 2))


def test_a_tie_is_indistinguishable():
    y, fam, rng = held_out(seed=1)
    a = y + 0.05 * rng.normal(size=y.size)
    b = y + 0.05 * rng.normal(size=y.size)
    out = paired_difference(y, a, b, fam, seed=3)
    assert out["verdict"] == TIED and out["lower"] < 0 < out["upper"]


def test_one_family_that_dominates_is_not_enough():
    """A win carried by one family's models: per-model resampling would call it, family
    resampling does not."""
    y, fam, rng = held_out(n_fam=6, per=5, seed=2)
    b = y + 0.02 * rng.normal(size=y.size)
    a = y.copy()
    a[fam == "F0"] += 0.3  # A is exact except on one family, where it is far off
    out = paired_difference(y, a, b, fam)
    assert out["difference"] > 0 and out["verdict"] == TIED
    # Resampling models instead of families would have called A worse.
    rng2 = np.random.default_rng(0)
    d = (a - y) ** 2 - (b - y) ** 2
    per_model = [d[rng2.integers(0, d.size, d.size)].mean() for _ in range(2000)]
    assert np.quantile(per_model, 0.05) > 0


def test_too_few_families_never_decide():
    y, fam, rng = held_out(n_fam=2, per=10, seed=4)
    out = paired_difference(y, y, y + 0.3, fam)
    assert out["n_families"] == 2 and out["verdict"] == TIED


def test_bad_inputs():
    with pytest.raises(ArgumentError, match="different lengths"):
        paired_difference([0.1, 0.2], [0.1], [0.2, 0.3], ["a", "b"])
    with pytest.raises(FitError, match="no held-out model"):
        paired_difference([np.nan], [0.1], [0.2], ["a"])
    with pytest.raises(ArgumentError, match="level"):
        paired_difference([0.1], [0.1], [0.2], ["a"], level=90)


def test_tally_sentence():
    t = tally(pd.Series([BETTER, BETTER, TIED, WORSE]))
    assert (t[BETTER], t[TIED], t[WORSE]) == (2, 1, 1)
    assert t["sentence"] == "better on 2, indistinguishable on 1, worse on 1"


def models_table():
    """Three families on one floored sigmoid of log10 FLOPs, offset by family efficiency."""
    from scipy.special import expit
    fam = np.repeat(["A", "B", "C"], 8)
    lf = np.tile(np.linspace(21, 24, 8), 3)
    off = {"A": 0.0, "B": 1.0, "C": -1.0}
    y = 0.9 * expit(2.0 * (lf - 22.5) + np.array([off[f] for f in fam])) + 0.1
    return pd.DataFrame({"family": fam, "log10_flops": lf, "y": y},
                        index=[f"m{i}" for i in range(len(fam))])


def test_baselines_against_hand_computation():
    from scipy.special import expit
    m = models_table()
    train = (m["log10_flops"] <= 23).to_numpy()
    assert (TrainingMean().fit(m, "y", train).predict(m) == m.loc[train, "y"].mean()).all()
    assert (BestTrainingScore().fit(m, "y", train).predict(m) == m.loc[train, "y"].max()).all()
    fl = FamilyLogFlops().fit(m, "y", train)
    np.testing.assert_allclose(fl.predict(m), m["y"], atol=1e-4)  # exact model, extrapolated
    assert fl.n_train_ == int(train.sum())
    new = pd.DataFrame({"family": ["Z"], "log10_flops": [22.5]}, index=["z"])
    assert fl.predict(new).iloc[0] == pytest.approx(0.9 * expit(0.0) + 0.1, abs=1e-3)  # median
