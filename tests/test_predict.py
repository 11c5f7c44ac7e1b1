"""The prediction pipeline: parameter recovery, batched vs scipy fits, intervals, crossings,
errors, and agreement with an independent implementation of the paper's method."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit

from osl import presets
from osl.errors import ArgumentError, FitError, NotFittedError, ScoreError
from osl.predict import (LinkSpec, PairedFit, ScalingPredictor, cutoff_split, evaluate,
                         family_splits, fit_link, fit_link_batch, heldout_split, leave_one_out,
                         link, metrics, top_split)
from osl.predict.link import loss as _loss

from reference_method import fit_link_scipy

from conftest import lowrank_scores


def sigmoid_data(n=60, params=(-1.0, 3.0, -2.0, 0.1), noise=0.02, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, len(params) - 2))
    y = link(np.asarray(params), X) + noise * rng.normal(size=n)
    return X, y


def flops_models(n=200, c=-46.0, w=2.0, floor=0.05, noise=0.03, seed=0):
    """Models whose target is a floored sigmoid of log10 FLOPs (crossing at -c/w = 23)."""
    rng = np.random.default_rng(seed)
    lf = rng.uniform(21, 25, n)
    y = link(np.array([c, w, floor]), lf[:, None]) + noise * rng.normal(size=n)
    return pd.DataFrame({"family": "F", "flops_1e21": 10 ** (lf - 21), "log10_flops": lf,
                         "params_b": 1.0, "target": np.clip(y, 0, 1)},
                        index=[f"m{i}" for i in range(n)])


def test_link_fit_recovers_known_parameters():
    X, y = sigmoid_data(n=400, noise=0.01)
    p = fit_link(X, y)
    np.testing.assert_allclose(p, [-1.0, 3.0, -2.0, 0.1], atol=0.15)
    np.testing.assert_allclose(p, fit_link_scipy(X, y), atol=1e-4)


def test_plain_sigmoid_has_no_floor():
    X, y = sigmoid_data(params=(0.5, 2.0, 0.0))
    p = fit_link(X, y, LinkSpec(floor=False))
    assert p[-1] == 0.0 and p[1] == pytest.approx(2.0, abs=0.3)


def test_floor_stays_in_its_box():
    X, y = sigmoid_data(params=(0.0, 2.0, 0.45), noise=0.005)  # true floor above the bound
    p = fit_link(X, y)
    assert 0.0 <= p[-1] <= presets.MAX_FLOOR + 1e-12
    assert p[-1] == pytest.approx(presets.MAX_FLOOR, abs=1e-6)


@pytest.mark.parametrize("spec", [LinkSpec(), LinkSpec(floor=False), LinkSpec(loss="huber", huber_delta=0.05)])
def test_batched_fit_agrees_with_scipy(spec):
    problems = [sigmoid_data(n=40, seed=s, params=(-0.5, 2.5, 1.0, 0.05 * s)) for s in range(5)]
    X = np.stack([p[0] for p in problems])
    y = np.stack([p[1] for p in problems])
    ref = np.stack([fit_link_scipy(X[i], y[i], spec) for i in range(5)])
    got, ok = fit_link_batch(X, y, spec, ref.mean(axis=0))
    assert ok.all()
    for i in range(5):
        l_ref = _loss(link(ref[i], X[i]) - y[i], spec)
        l_got = _loss(link(got[i], X[i]) - y[i], spec)
        assert l_got <= l_ref * (1 + 1e-6) + 1e-12
    np.testing.assert_allclose(got, ref, atol=2e-3)


def test_huber_resists_outliers():
    X, y = sigmoid_data(n=120, params=(0.0, 3.0, 0.0), noise=0.01, seed=3)
    y = y.copy()
    y[:8] = 1.0 - y[:8]  # gross errors
    sq = fit_link(X, y, LinkSpec(floor=False))
    hub = fit_link(X, y, LinkSpec(floor=False, loss="huber", huber_delta=0.05))
    assert abs(hub[1] - 3.0) < abs(sq[1] - 3.0)


def test_bootstrap_intervals_have_nominal_coverage_when_the_model_is_right():
    """80% predictive intervals cover 70-90% of held-out points (random split, right model)."""
    coverage = []
    for seed in range(3):
        models = flops_models(seed=seed)
        rng = np.random.default_rng(100 + seed)
        split = heldout_split(models, list(rng.choice(models.index, 100, replace=False)))
        out = evaluate(models, "target", split, n_boot=400, seed=seed, level=0.8,
                       predictor="log_flops")
        coverage.append(out["coverage"])
    assert 0.70 <= np.mean(coverage) <= 0.90, coverage


def test_pc_pipeline_coverage_on_synthetic_benchmarks():
    load = np.abs(np.random.default_rng(1).normal(size=(1, 8))) + 0.3
    load /= np.linalg.norm(load)
    full, obs, _ = lowrank_scores(240, load, noise=0.004, seed=2, missing=0.1)
    latent = (full.to_numpy() - 0.5) @ load[0] / 0.12
    y = link(np.array([0.0, 2.0, 0.1]), latent[:, None]) + 0.03 * np.random.default_rng(3).normal(size=240)
    models = obs.assign(family="F", log10_flops=np.nan, flops_1e21=np.nan, target=np.clip(y, 0, 1))
    split = heldout_split(models, list(models.index[::2]))
    out = evaluate(models, "target", split, n_boot=300, seed=4, n_pcs=1)
    assert 0.70 <= out["coverage"] <= 0.92
    assert out["mse"] < 2 * 0.03 ** 2


def test_crossing_recovers_a_known_crossing():
    models = flops_models(noise=0.02, seed=5)
    pred = ScalingPredictor(predictor="log_flops").fit(models, "target")
    assert pred.crossing() == pytest.approx(23.0, abs=0.05)
    cr = pred.bootstrap(300, seed=6).crossing(level=0.9)
    assert cr["lower"] < 23.0 < cr["upper"]
    # A threshold on the target's scale: y = 0.8 is reached where sigmoid = (0.8 - b) / (1 - b).
    b = pred.coef_["b"]
    x = 23.0 + np.log((0.8 - b) / (1 - 0.8)) / 2.0
    assert pred.crossing(0.8) == pytest.approx(x, abs=0.1)


def test_pc_crossing_sits_where_the_curve_is_halfway(core):
    from osl import data
    e = data.load_scores("base_llm_emergent_capability_eval.csv")
    models = core.join(e, how="inner")
    pred = ScalingPredictor(n_pcs=2).fit(models, "word_unscrambling_2_exact_match",
                                         cutoff_split(models).train)
    x = pred.crossing()
    b = pred.coef_["b"]
    assert pred.curve(np.array([x]))[0] == pytest.approx(b + (1 - b) / 2, abs=1e-9)
    # and the curve is the model's own prediction along the axis
    m = models[models["family"] == "Llama-2"]
    np.testing.assert_allclose(pred.curve(pred.equivalent_log_flops(m)), pred.predict(m), atol=1e-9)


def test_target_scale_and_chance_normalisation():
    models = flops_models(seed=7)
    models["bleu"] = models["target"] * 100
    a = ScalingPredictor(predictor="log_flops").fit(models, "target")
    b = ScalingPredictor(predictor="log_flops", target_range=(0, 100)).fit(models, "bleu")
    np.testing.assert_allclose(b.predict(models), 100 * a.predict(models), rtol=1e-6)
    models["acc4"] = 0.25 + 0.75 * models["target"]
    c = ScalingPredictor(predictor="log_flops", chance=0.25).fit(models, "acc4")
    np.testing.assert_allclose(c.predict(models), 0.25 + 0.75 * a.predict(models), atol=1e-6)


def test_splits(core):
    s = cutoff_split(core)
    assert not (s.train & s.test).any()
    assert core.loc[s.train, "flops_1e21"].max() <= 84 < core.loc[s.test, "flops_1e21"].min()
    unknown = ~np.isfinite(core["flops_1e21"].to_numpy())
    assert not (s.train | s.test)[unknown].any()
    assert cutoff_split(core, unknown="test").test[unknown].all()
    fams = dict(family_splits(core, min_models=3))
    assert core.loc[fams["Pythia"].test, "family"].eq("Pythia").all()
    with pytest.raises(FitError, match="held-out side is empty"):
        cutoff_split(core, 1e9)
    with pytest.raises(FitError, match="training side is empty"):
        cutoff_split(core, 1e-9)
    with pytest.raises(FitError, match="not in the table"):
        heldout_split(core, ["no/such-model"])


def test_metrics():
    m = metrics([0.1, 0.5, np.nan], [0.2, 0.4, 0.3], [0.0, 0.45, 0], [0.3, 0.6, 1])
    assert m["mse"] == pytest.approx(0.01) and m["mae"] == pytest.approx(0.1)
    assert m["n"] == 2 and m["coverage"] == 1.0
    with pytest.raises(FitError):
        metrics([np.nan], [1.0])


def test_bad_inputs_get_clear_errors():
    models = flops_models(n=30)
    with pytest.raises(FitError, match="at least 5 are needed"):
        ScalingPredictor(predictor="log_flops").fit(models.iloc[:4], "target")
    models["const"] = 0.3
    with pytest.raises(FitError, match="constant"):
        ScalingPredictor(predictor="log_flops").fit(models, "const")
    models["pct"] = models["target"] * 100
    with pytest.raises(ScoreError, match="outside"):
        ScalingPredictor(predictor="log_flops").fit(models, "pct")
    with pytest.raises(ArgumentError, match="predictor must be"):
        ScalingPredictor(predictor="params")
    with pytest.raises(ArgumentError, match="chance"):
        ScalingPredictor(chance=2.0)
    with pytest.raises(NotFittedError):
        ScalingPredictor().predict(models)
    with pytest.raises(ArgumentError, match="loss"):
        LinkSpec(loss="l1")
    with pytest.raises(ArgumentError, match="train has 2 entries"):
        ScalingPredictor(predictor="log_flops").fit(models, "target", train=[True, False])


def test_top_split_holds_out_the_strongest():
    models = flops_models(n=30)
    split = top_split(models, "target", 0.1)
    held = models.index[split.test]
    assert len(held) == 3
    assert models.loc[held, "target"].min() >= models.loc[split.train, "target"].max()
    one = top_split(models.iloc[:5], "target", 0.1)  # int(0.5) = 0 -> at least one
    assert one.test.sum() == 1
    with pytest.raises(FitError, match="cannot hold out"):
        top_split(models.iloc[:1], "target", 0.1)


def test_leave_one_out_predicts_each_model_without_it():
    models = flops_models(n=60, seed=9)
    names = list(models["target"].nlargest(3).index)
    out = leave_one_out(models, "target", names, n_boot=100, seed=1, predictor="log_flops")
    assert list(out.index) == names
    assert (out["n_train"] == 59).all()
    np.testing.assert_allclose(out["actual"], models.loc[names, "target"])
    assert (out["error"].abs() < 0.15).all()
    assert out["covered"].dtype == bool


def test_column_predictor():
    models = flops_models(n=80, seed=10)
    models["elo"] = (models["log10_flops"] - 21) / 4
    a = ScalingPredictor(predictor="columns", columns=("elo",)).fit(models, "target")
    b = ScalingPredictor(predictor="log_flops").fit(models, "target")
    np.testing.assert_allclose(a.predict(models), b.predict(models), atol=1e-5)
    assert list(a.coef_.index) == ["c", "w_elo", "b"]
    with pytest.raises(ArgumentError, match="columns"):
        ScalingPredictor(predictor="columns")


def test_paired_gain_of_identical_fits_is_exactly_zero_and_recovers_a_known_gain():
    models = flops_models(n=150, seed=11)
    rng = np.random.default_rng(12)
    lf = models["log10_flops"].to_numpy()
    models["better"] = np.clip(link(np.array([-44.0, 2.0, 0.05]), lf[:, None])
                               + 0.02 * rng.normal(size=len(lf)), 0, 1)  # one decade earlier
    a = ScalingPredictor(predictor="log_flops").fit(models, "better")
    b = ScalingPredictor(predictor="log_flops").fit(models, "target")
    ba, bb = a.bootstrap(200, seed=3), b.bootstrap(200, seed=3)
    same = PairedFit(bb, bb).curve([22.0, 23.0, 24.0])
    np.testing.assert_allclose(same[["gain", "lower", "upper"]].to_numpy(), 0.0, atol=1e-12)
    g = PairedFit(ba, bb).curve([22.0, 23.0, 24.0], level=0.9)
    truth = link(np.array([-44.0, 2.0, 0.05]), np.array([[22.0], [23.0], [24.0]])) - \
        link(np.array([-46.0, 2.0, 0.05]), np.array([[22.0], [23.0], [24.0]]))
    assert np.all(np.abs(g["gain"] - truth) < 0.03)
    assert np.all((g["lower"] - 0.02 <= truth) & (truth <= g["upper"] + 0.02))
    per_model = PairedFit(ba, bb).predict(models.iloc[:5])
    np.testing.assert_allclose(per_model["gain"], a.predict(models.iloc[:5]) - b.predict(models.iloc[:5]))
    np.testing.assert_allclose(per_model["observed"], models["better"].iloc[:5] - models["target"].iloc[:5])
    with pytest.raises(FitError, match="same training models"):
        PairedFit(ba, b.bootstrap(50, seed=3))
    with pytest.raises(FitError, match="same training models"):
        PairedFit(ba, b.bootstrap(200, seed=4))


def test_batched_fit_never_calls_a_failed_fit_converged():
    X, y = sigmoid_data(n=30)
    Xn = np.full((1,) + X.shape, np.nan)
    theta, ok = fit_link_batch(Xn, y[None], LinkSpec(), np.array([0.0, 0.03, 0.03, 0.5]))
    assert not ok[0]
    assert 0.0 <= theta[0, -1] <= presets.MAX_FLOOR  # an out-of-box start is clipped


def test_multistart_escapes_a_bad_start_on_a_steep_curve():
    from osl.predict.link import fit_link_multistart
    X, y = sigmoid_data(n=80, params=(-2.0, 40.0, 0.0), noise=0.01, seed=13)
    bad = np.array([5.0, -1.0, 0.1])  # the wrong side of a steep step
    one, _ = fit_link_batch(X[None], y[None], LinkSpec(), bad, max_iter=500)
    multi, ok = fit_link_multistart(X[None], y[None], LinkSpec(), extra_init=bad)
    ref = fit_link_scipy(X, y)
    spec = LinkSpec()
    loss = lambda p: _loss(link(p, X) - y, spec)
    assert ok[0]
    assert loss(multi[0]) <= loss(ref) * (1 + 1e-4) + 1e-12
    assert loss(multi[0]) <= loss(one[0]) + 1e-12


def test_bootstrap_survives_degenerate_resamples():
    """A benchmark observed for only two models: some resamples see one value. Those draws are
    dropped instead of crashing the bootstrap."""
    full, obs, _ = lowrank_scores(14, np.full((1, 8), 1 / np.sqrt(8)), noise=0.01, seed=14)
    obs.iloc[2:, 0] = np.nan
    y = link(np.array([0.0, 3.0, 0.05]), ((full.to_numpy() - 0.5) @ np.full(8, 1 / np.sqrt(8)))[:, None] / 0.12)
    models = obs.assign(family="F", log10_flops=np.nan, flops_1e21=np.nan, target=np.clip(y, 0, 1))
    pred = ScalingPredictor(n_pcs=1).fit(models, "target")
    boot = pred.bootstrap(300, seed=1)
    assert 0 < boot.n_ok < 300
    out = boot.predict(models)
    assert np.isfinite(out.to_numpy()).all()


def test_first_predictable_cutoff_and_payoff():
    from osl.predict.chapters import first_predictable_cutoff, payoff_compute
    table = pd.DataFrame({
        "cutoff_1e21": [10.0, 50.0, 200.0, np.inf], "label": ["10", "50", "200", "all"],
        "crossing": [24.5, 22.6, 22.5, 22.5], "lower": [23.0, 22.3, 22.4, np.nan],
        "upper": [26.0, 22.8, 22.6, np.nan], "midpoint_level": 0.5,
        "max_train_score": [0.1, 0.7, 0.9, 1.0]})
    # 10e21: too far off; 50e21 places the midpoint, but a training model already scores 0.7,
    # above the midpoint level 0.5: the jump is in the training data, not a forecast.
    assert np.isnan(first_predictable_cutoff(table))
    assert first_predictable_cutoff(table, before_jump=False) == 50.0
    table.loc[1, "max_train_score"] = 0.3  # every training model still below the midpoint
    assert first_predictable_cutoff(table) == 50.0
    table.loc[1, "max_train_score"] = 0.5  # at the level counts as already there
    assert np.isnan(first_predictable_cutoff(table))
    gain = pd.DataFrame({"log10_flops": [21, 22, 23, 24], "lower": [0.0, 0.1, 0.04, 0.2]})
    assert payoff_compute(gain, 0.05) == 24
    assert np.isnan(payoff_compute(gain, 0.5))


def test_a_forecast_counts_only_before_the_jump_is_in_training():
    """Synthetic sigmoid in log-FLOPs: a cutoff whose training models all sit below the
    midpoint level is a forecast when it places the midpoint; once a training model reaches
    the level, placing it is no longer a forecast."""
    from osl.predict import backtest
    from osl.predict.chapters import first_predictable_cutoff, forecast_checks
    rng = np.random.default_rng(0)
    lf = np.linspace(20.0, 24.0, 60)
    y = np.clip(1 / (1 + np.exp(-3.0 * (lf - 22.5))) + rng.normal(0, 0.01, lf.size), 0, 1)
    models = pd.DataFrame({"family": "F", "log10_flops": lf, "flops_1e21": 10 ** (lf - 21),
                           "target": y}, index=[f"m{i}" for i in range(lf.size)])
    cuts = [10 ** 1.3, 10 ** 1.8]  # largest training model at 22.3 (below 22.5), then 22.8
    table = backtest(models, "target", cuts, n_boot=100, seed=0, predictor="log_flops")
    checks = forecast_checks(table, tol_dex=0.25)
    assert table["midpoint_level"].nunique() == 1
    level = table["midpoint_level"].iloc[0]
    assert 0.45 < level < 0.55
    for cut, row in table.set_index("cutoff_1e21").drop(np.inf).iterrows():
        train = models["flops_1e21"] <= cut
        assert row["max_train_score"] == models.loc[train, "target"].max()
        assert row["n_train_above"] == (models.loc[train, "target"] >= level).sum()
    assert checks["before_jump"].tolist() == [True, False]
    assert checks[["close", "covered"]].all().all()
    assert first_predictable_cutoff(table) == cuts[0]
    later = table[table["cutoff_1e21"] != cuts[0]]  # only the cutoff after the jump is left
    assert np.isnan(first_predictable_cutoff(later))
    assert first_predictable_cutoff(later, before_jump=False) == cuts[1]


def test_clearing_range():
    from osl.predict.chapters import clearing_range
    gain = pd.DataFrame({"log10_flops": [21, 22, 23, 24], "lower": [0.0, 0.1, 0.2, 0.04]})
    assert clearing_range(gain, 0.05) == (22.0, 23.0)
    assert all(np.isnan(clearing_range(gain, 0.5)))


def test_fit_link_batch_refuses_an_unknown_layout():
    X, y = np.zeros((2, 6, 1)), np.linspace(0.1, 0.9, 6)[None].repeat(2, 0)
    with pytest.raises(ArgumentError, match="layout"):
        fit_link_batch(X, y, LinkSpec(), np.zeros(3), layout="fast")


def test_both_layouts_give_the_same_fits_up_to_rounding():
    rng = np.random.default_rng(5)
    X = rng.normal(size=(80, 30, 2))
    y = 0.1 + 0.8 / (1 + np.exp(-(X @ np.array([1.5, -0.7]) + 0.3))) + rng.normal(0, 0.02, (80, 30))
    a, ok_a = fit_link_batch(X, y, LinkSpec(), np.array([0.0, 0.1, 0.1, 0.05]), layout="planes")
    b, ok_b = fit_link_batch(X, y, LinkSpec(), np.array([0.0, 0.1, 0.1, 0.05]), layout="stacked")
    assert ok_a.all() and ok_b.all()
    np.testing.assert_allclose(a, b, atol=1e-6)
