"""Many-target evaluation calls: :func:`backtest_grid`, :func:`choose_n_pcs_many` and
:func:`first_predictable_cutoffs` give exactly what the one-target calls give, pair by pair."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from osl.errors import ArgumentError, FitError
from osl.examples import BENCHMARKS, TARGETS, make_example_table
from osl.predict import (LinkSpec, Split, backtest, backtest_grid, choose_n_pcs,
                         choose_n_pcs_many, compare, cutoff_split)
from osl.predict.baselines import TrainingMean
from osl.predict.chapters import (first_predictable_cutoff, first_predictable_cutoffs,
                                  forecast_checks)
from osl.predict.evaluation import leave_family_out

BENCH = list(BENCHMARKS)
CUTOFFS = [3.0, 10.0, 40.0]
PREDICTORS = {"PC-1": {"n_pcs": 1}, "PC-1..2": {"n_pcs": 2},
              "log-FLOPs": {"predictor": "log_flops"}}


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    """The synthetic example table, with made-up compute rising with capability and a
    reference family for the equivalent-compute axis."""
    t = make_example_table(n=40, n_measured=36).set_index("model")
    t["family"] = ["A" if i % 2 else "B" for i in range(len(t))]
    t["flops_1e21"] = np.logspace(0, 3, len(t))
    t["log10_flops"] = np.log10(t["flops_1e21"]) + 21
    return t


def kwargs(**kw) -> dict:
    return {"benchmarks": BENCH, "reference": "A", **kw}


def test_backtest_grid_equals_one_backtest_per_pair(table):
    per = {"hard_math": kwargs(link=LinkSpec(floor=False)), "agent_tasks": kwargs()}
    grid = backtest_grid(table, ["hard_math", "agent_tasks"], CUTOFFS, PREDICTORS, per_target=per,
                         n_boot=50, seed=3, level=0.8)
    assert list(grid.columns[:2]) == ["target", "predictor"]
    assert list(dict.fromkeys(zip(grid["target"], grid["predictor"]))) == \
        [(t, n) for t in ["hard_math", "agent_tasks"] for n in PREDICTORS]
    for (t, name), got in grid.groupby(["target", "predictor"], sort=False):
        want = backtest(table, t, CUTOFFS, n_boot=50, seed=3, level=0.8, **per[t],
                        **PREDICTORS[name])
        got = got.reset_index(drop=True)
        pd.testing.assert_frame_equal(got[list(want.columns)], want, check_exact=True)
        final = want.loc[want["label"] == "all", "crossing"].iloc[0]
        assert (got["final"] == final).all()


def test_backtest_grid_returns_the_fits_behind_its_rows(table):
    grid, fits = backtest_grid(table, ["long_puzzles"], CUTOFFS, {"PC-1": {"n_pcs": 1}},
                               per_target={"long_puzzles": kwargs()}, n_boot=20, seed=0,
                               return_fits=True)
    assert set(fits) == {("long_puzzles", "PC-1", lab) for lab in grid["label"]}
    for r in grid.itertuples():
        p = fits[r.target, r.predictor, r.label]
        assert p.n_train_ == r.n_train
        assert p.crossing() == r.crossing


def test_backtest_grid_rejects_a_keyword_given_twice_and_unknown_targets(table):
    with pytest.raises(ArgumentError, match="given both"):
        backtest_grid(table, ["hard_math"], CUTOFFS, {"PC-1": {"n_pcs": 1, "reference": "A"}},
                      per_target={"hard_math": kwargs()}, n_boot=10)
    with pytest.raises(ArgumentError, match="not in targets"):
        backtest_grid(table, ["hard_math"], CUTOFFS, {"PC-1": kwargs(n_pcs=1)},
                      per_target={"nope": {}}, n_boot=10)
    with pytest.raises(ArgumentError, match="non-empty"):
        backtest_grid(table, ["hard_math"], CUTOFFS, {}, n_boot=10)


def test_first_predictable_cutoffs_reads_every_pair():
    one = pd.DataFrame({
        "cutoff_1e21": [10.0, 20.0, np.inf], "label": ["10", "20", "all"],
        "crossing": [24.5, 22.45, 22.5], "lower": [23.0, 22.3, np.nan],
        "upper": [26.0, 22.8, np.nan], "midpoint_level": 0.5,
        "max_train_score": [0.1, 0.2, 1.0]})
    grid = pd.concat([one.assign(target="t", predictor="a"),
                      one.assign(target="t", predictor="b", crossing=[24.5, 25.0, 22.5]),
                      one.assign(target="t", predictor="c", max_train_score=[0.1, 0.6, 1.0])],
                     ignore_index=True)
    got = first_predictable_cutoffs(grid)
    assert list(got.index) == [("t", "a"), ("t", "b"), ("t", "c")]
    assert got["t", "a"] == first_predictable_cutoff(one) == 20.0
    assert np.isnan(got["t", "b"])
    assert np.isnan(got["t", "c"])  # placed, but the jump was already in training
    assert first_predictable_cutoffs(grid, before_jump=False)["t", "c"] == 20.0


def test_backtest_grid_says_what_the_training_models_already_show(table):
    grid, fits = backtest_grid(table, ["agent_tasks"], CUTOFFS, {"PC-1": {"n_pcs": 1}},
                               per_target={"agent_tasks": kwargs()}, n_boot=20, seed=0,
                               return_fits=True)
    final = fits["agent_tasks", "PC-1", "all"]
    level = final.from_unit((1 + final.params_[-1]) / 2)
    np.testing.assert_allclose(grid["midpoint_level"], level)
    y = table["agent_tasks"]
    for r in grid.itertuples():
        train = y[(table["flops_1e21"] <= r.cutoff_1e21) & y.notna()]
        assert r.max_train_score == train.max() and r.best_train_model == train.idxmax()
        assert r.n_train_above == (train >= level).sum()
    checks = forecast_checks(grid[grid["predictor"] == "PC-1"])
    assert list(checks.index) == [c for c in CUTOFFS if c in set(grid["cutoff_1e21"])]
    above = grid.set_index("cutoff_1e21").loc[checks.index, "n_train_above"]
    assert (checks["before_jump"] == (above == 0)).all()
    with pytest.raises(ArgumentError, match="no 'all' row"):
        forecast_checks(grid[grid["label"] != "all"])


def test_leave_family_out_predicts_every_model_once_without_its_family(table):
    preds = {"PC-1": kwargs(n_pcs=1), "mean": TrainingMean}
    lfo = leave_family_out(table, ["agent_tasks"], preds, min_models=3)
    p = lfo.predictions.loc[("agent_tasks", "PC-1")]
    have = table["agent_tasks"].notna()
    assert sorted(p.index) == sorted(table.index[have])  # two families: every model, once
    for fam in ("A", "B"):
        sp = Split((table["family"] != fam).to_numpy(), (table["family"] == fam).to_numpy(), fam)
        one = compare(table, ["agent_tasks"], sp, preds)
        rows = one.predictions.loc[("agent_tasks", "PC-1")]
        np.testing.assert_allclose(p.loc[rows.index, "mean"], rows["mean"])
        assert (p.loc[rows.index, "family"] == fam).all()
    pooled = lfo.metrics.loc[("agent_tasks", "PC-1")]
    assert pooled["mse"] == pytest.approx(np.mean((p["mean"] - p["actual"]) ** 2))
    assert pooled["n_test"] == have.sum()
    with pytest.raises(FitError, match="no family"):
        leave_family_out(table, ["agent_tasks"], preds, min_models=100)


def test_choose_n_pcs_many_equals_choose_n_pcs_per_target(table):
    train = cutoff_split(table, 200.0).train
    per = {"hard_math": {"link": LinkSpec(floor=False)}}
    got = choose_n_pcs_many(table, list(TARGETS), train, (1, 2), per_target=per,
                            benchmarks=BENCH, reference=None)
    assert list(got.index) == list(TARGETS)
    for t in TARGETS:
        k, inner = choose_n_pcs(table, t, train, (1, 2), benchmarks=BENCH, reference=None,
                                **per.get(t, {}))
        assert got.loc[t, "k"] == k
        np.testing.assert_array_equal(got.loc[t, ["inner_mse_k1", "inner_mse_k2"]].to_numpy(float),
                                      inner.to_numpy())


def test_choose_n_pcs_many_on_a_target_nothing_can_fit(table):
    t = table.assign(flat=0.0)  # constant target: no candidate can be fitted
    train = cutoff_split(t, 200.0).train
    kw = {"benchmarks": BENCH, "reference": None}
    with pytest.raises(FitError):
        choose_n_pcs_many(t, ["agent_tasks", "flat"], train, (2, 1), **kw)
    first = choose_n_pcs_many(t, ["agent_tasks", "flat"], train, (2, 1), if_unfittable="first",
                              **kw)
    assert first.loc["flat", "k"] == 2  # the first candidate, not the smallest
    assert first.loc["flat", ["inner_mse_k2", "inner_mse_k1"]].isna().all()
    skip = choose_n_pcs_many(t, ["agent_tasks", "flat"], train, (2, 1), if_unfittable="skip",
                             **kw)
    assert list(skip.index) == ["agent_tasks"]
    with pytest.raises(ArgumentError):
        choose_n_pcs_many(t, ["flat"], train, if_unfittable="ignore", **kw)
