"""Batched leave-one-out and the Monte-Carlo error of bootstrap quantiles.

:func:`leave_one_out_many` must give exactly what :func:`leave_one_out` gives target by target;
:func:`quantile_mc_error` must match the spread of sample quantiles over independent repeats;
:func:`interval_mc_error` must shrink like one over the square root of the number of resamples.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from osl.errors import ArgumentError
from osl.examples import BENCHMARKS, make_example_table
from osl.predict import (ScalingPredictor, interval_mc_error, leave_one_out, leave_one_out_many,
                         quantile_mc_error)

BENCH = list(BENCHMARKS)


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    return make_example_table(n=30, n_measured=28).set_index("model")


def _targets(table):
    return [c for c in ("hard_math", "agent_tasks") if c in table]


def test_batched_leave_one_out_equals_one_call_per_target(table):
    held = {t: list(table[t].dropna().nlargest(3).index) for t in _targets(table)}
    many = leave_one_out_many(table, held, n_boot=40, seed=3, level=0.8, benchmarks=BENCH,
                              n_pcs=2)
    for t, names in held.items():
        one = leave_one_out(table, t, names, n_boot=40, seed=3, level=0.8, benchmarks=BENCH,
                            n_pcs=2)
        got = many.loc[t]
        cols = ["actual", "predicted", "lower", "upper", "n_train", "error"]
        np.testing.assert_allclose(got[cols].to_numpy(float), one[cols].to_numpy(float),
                                   rtol=0, atol=1e-9)
        assert (got["covered"] == one["covered"]).all()


def test_batched_leave_one_out_reports_monte_carlo_errors(table):
    t = _targets(table)[0]
    out = leave_one_out_many(table, {t: list(table[t].dropna().nlargest(2).index)}, n_boot=60,
                             seed=0, mc_error=True, benchmarks=BENCH, n_pcs=1)
    assert {"lower_se", "upper_se"} <= set(out.columns)
    assert (out[["lower_se", "upper_se"]] >= 0).all().all()


def test_quantile_mc_error_matches_the_spread_over_repeats():
    rng = np.random.default_rng(0)
    B, q = 400, 0.1
    draws = rng.normal(size=(300, B))
    spread = np.quantile(draws, q, axis=1).std()           # the truth, from 300 repeats
    estimated = np.mean([quantile_mc_error(d, q) for d in draws])
    assert estimated == pytest.approx(spread, rel=0.2)
    theory = np.sqrt(q * (1 - q) / B) / (np.exp(-1.2816 ** 2 / 2) / np.sqrt(2 * np.pi))
    assert spread == pytest.approx(theory, rel=0.2)


def test_quantile_mc_error_works_column_by_column():
    rng = np.random.default_rng(1)
    D = np.column_stack([rng.normal(size=2000), 10 * rng.normal(size=2000)])
    se = quantile_mc_error(D, 0.9)
    assert se.shape == (2,) and se[1] == pytest.approx(10 * se[0], rel=0.3)


def test_interval_mc_error_shrinks_with_more_resamples(table):
    t = _targets(table)[0]
    train = table[t].notna().to_numpy() & (np.arange(len(table)) < 24)
    p = ScalingPredictor(benchmarks=BENCH, n_pcs=1).fit(table, t, train)
    test = table[~train & table[t].notna().to_numpy()]
    small = interval_mc_error(p.bootstrap(100, seed=0), test).to_numpy().mean()
    large = interval_mc_error(p.bootstrap(1600, seed=0), test).to_numpy().mean()
    assert list(interval_mc_error(p.bootstrap(100, seed=0), test).columns) == ["lower_se",
                                                                               "upper_se"]
    assert large / small == pytest.approx(0.25, rel=0.5)   # 1 / sqrt(16), give or take


@pytest.mark.parametrize("draws,q,match", [
    (np.zeros((1, 3)), 0.1, "at least two rows"),
    (np.zeros((10, 3)), 1.5, "q"),
    (np.zeros((10, 3)), 0.0, "q"),
])
def test_quantile_mc_error_refuses_bad_input(draws, q, match):
    with pytest.raises(ArgumentError, match=match):
        quantile_mc_error(draws, q)


@pytest.mark.parametrize("held,match", [({}, "non-empty"), ([], "non-empty"),
                                        ({"hard_math": []}, "held")])
def test_batched_leave_one_out_refuses_bad_input(table, held, match):
    with pytest.raises(ArgumentError, match=match):
        leave_one_out_many(table, held, benchmarks=BENCH)
