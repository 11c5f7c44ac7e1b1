"""Open LLM Leaderboard v2: the data layer, the authors' setting and the plain Huber sigmoid."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import least_squares

from osl import data, leaderboard, presets
from osl.errors import ArgumentError, SchemaError, ScoreError
from osl.predict import LinkSpec, ScalingPredictor, fit_link, link


@pytest.fixture(scope="module")
def lb() -> pd.DataFrame:
    return data.load_leaderboard_v2()


# -- data layer ---------------------------------------------------------------------------------
def test_loader_joins_all_72_models_with_six_tidy_targets(lb):
    assert len(lb) == 72
    for t, (col, _, _) in presets.LBV2_TARGETS.items():
        assert t in lb and col not in lb
        assert lb[t].between(0, 1).all() and lb[t].notna().all()
    assert lb["is_preregistered"].sum() > 0  # pre-registered models are kept
    raw = pd.read_csv(data.fetch("base_llm_leaderboard_v2_eval.csv")).set_index("Model")
    assert lb.loc["meta-llama/Llama-2-7b-hf", "lbv2_gpqa"] == raw.loc[
        "meta-llama/Llama-2-7b-hf", "leaderboard_gpqa"]
    # the base-model columns come along
    assert {"family", "flops_1e21", "MMLU", "GSM8K"} <= set(lb.columns)


def test_core_only_keeps_the_core_set(lb):
    core = data.load_leaderboard_v2(core_only=True)
    assert core["is_core"].all() and len(core) == int(lb["is_core"].sum())


def test_bbh_chance_is_the_mean_of_its_subtasks():
    assert data.lbv2_chance("lbv2_bbh") == pytest.approx(np.mean(list(presets.BBH_CHANCE.values())))
    assert data.lbv2_chance("lbv2_bbh") == pytest.approx(0.262, abs=1e-3)
    assert data.lbv2_chance("lbv2_gpqa") == 0.25
    assert data.lbv2_chance("lbv2_math_hard") == 0.0


def test_normalisation_maps_chance_to_zero_and_one_to_one(lb):
    toy = pd.DataFrame({"lbv2_gpqa": [0.25, 1.0, 0.1]}, index=["a", "b", "c"])
    got = data.lbv2_normalize(toy, ["lbv2_gpqa"])["lbv2_gpqa_norm"].to_numpy()
    np.testing.assert_allclose(got, [0.0, 1.0, (0.1 - 0.25) / 0.75])
    full = data.lbv2_normalize(lb)
    assert (full["lbv2_gpqa_norm"] < 0).sum() == (lb["lbv2_gpqa"] < 0.25).sum() > 0
    np.testing.assert_allclose(full["lbv2_math_hard_norm"], lb["lbv2_math_hard"])


def test_loader_rejects_bad_inputs(tmp_path, lb):
    with pytest.raises(SchemaError, match="not a Leaderboard-v2 target"):
        data.lbv2_chance("bbh")
    with pytest.raises(SchemaError, match="already has column"):
        data.load_leaderboard_v2(lb)
    with pytest.raises(SchemaError, match="expected a model table"):
        data.load_leaderboard_v2(models="base.csv")
    bad = tmp_path / "lb.csv"
    raw = pd.read_csv(data.fetch("base_llm_leaderboard_v2_eval.csv"))
    raw.loc[0, "leaderboard_gpqa"] = 26.7  # a percentage
    raw.to_csv(bad, index=False)
    with pytest.raises(ScoreError, match="leaderboard_gpqa"):
        data.load_leaderboard_v2(path=bad)
    raw = pd.read_csv(data.fetch("base_llm_leaderboard_v2_eval.csv")).drop(
        columns="leaderboard_musr")
    raw.to_csv(bad, index=False)
    with pytest.raises(SchemaError, match="leaderboard_musr"):
        data.load_leaderboard_v2(path=bad)
    other = pd.read_csv(data.fetch("base_llm_leaderboard_v2_eval.csv"))
    other["Model"] = "unknown/" + other["Model"]
    other.to_csv(bad, index=False)
    with pytest.raises(SchemaError, match="none of its models"):
        data.load_leaderboard_v2(path=bad)


# -- the authors' setting -----------------------------------------------------------------------
def test_authors_models_are_the_47_known_compute_models(lb):
    m = leaderboard.authors_models(lb)
    assert len(m) == 47
    assert not m["family"].isin(presets.UNKNOWN_FLOPS_FAMILIES).any()
    assert m["is_preregistered"].sum() > 0
    # two of them have no FLOPs value: held out, as the authors' split does
    nan = m.index[m["flops_1e21"].isna()]
    assert len(nan) == 2
    split = leaderboard.heldout(m, "lbv2_gpqa")
    assert split.test[m.index.isin(nan)].all()
    assert not leaderboard.heldout(m, "lbv2_gpqa", "simple").test[m.index.isin(nan)].any()


def test_authors_setup_matches_the_stated_setting():
    c, kw = leaderboard.setup("lbv2_bbh")
    assert c == 84 and "GSM8K" not in kw["benchmarks"] and len(kw["benchmarks"]) == 7
    assert kw["link"] == LinkSpec(floor=False, loss="huber", huber_delta=1.0)
    assert kw["chance"] == pytest.approx(0.262, abs=1e-3)
    assert leaderboard.cutoff("lbv2_gpqa") == 168 and leaderboard.cutoff("lbv2_math_hard") == 252
    assert leaderboard.cutoff("lbv2_gpqa", "simple") == 84
    c, kw = leaderboard.setup("lbv2_musr", "simple")
    assert c == 84 and kw == {"benchmarks": presets.BASE_BENCHMARKS}


def test_chance_fit_equals_a_fit_of_the_normalised_target(lb):
    """Fitting the raw score with chance= is the authors' fit of the normalised score, and
    normalized_mse converts its error exactly."""
    m = leaderboard.authors_models(lb)
    split = leaderboard.heldout(m, "lbv2_gpqa")
    _, kw = leaderboard.setup("lbv2_gpqa")
    p = ScalingPredictor(**kw).fit(m, "lbv2_gpqa", split.train)
    norm = data.lbv2_normalize(m, ["lbv2_gpqa"])
    # the normalised target fitted directly, on an identity unit scale wide enough for it
    q = ScalingPredictor(benchmarks=kw["benchmarks"], link=kw["link"], target_range=(-1.0, 1.0),
                         chance=0.0).fit(norm, "lbv2_gpqa_norm", split.train)
    np.testing.assert_allclose(p.params_, q.params_, rtol=1e-5, atol=1e-6)
    test = m[split.test]
    raw_mse = np.mean((p.predict(test) - test["lbv2_gpqa"]) ** 2)
    norm_mse = np.mean((q.predict(test) - norm.loc[split.test, "lbv2_gpqa_norm"]) ** 2)
    assert leaderboard.normalized_mse(raw_mse, "lbv2_gpqa") == pytest.approx(norm_mse, rel=1e-6)
    assert leaderboard.normalized_mse(raw_mse, "lbv2_gpqa", "simple") == raw_mse


def test_leaderboard_bad_inputs(lb):
    with pytest.raises(ArgumentError, match="target"):
        leaderboard.setup("gpqa")
    with pytest.raises(ArgumentError, match="variant"):
        leaderboard.setup("lbv2_gpqa", "paper")
    with pytest.raises(ArgumentError, match="table"):
        leaderboard.authors_models(lb.to_numpy())
    with pytest.raises(SchemaError, match="family"):
        leaderboard.authors_models(lb.drop(columns="family"))
    with pytest.raises(ArgumentError, match="mse"):
        leaderboard.normalized_mse("big", "lbv2_bbh")


# -- the plain sigmoid with a Huber loss --------------------------------------------------------
def _scipy_huber(X, y, delta):
    """Reference: scipy's trust-region least squares with its Huber loss, plain sigmoid."""
    k = X.shape[1]

    def fun(p):
        return link(np.concatenate([p, [0.0]]), X) - y

    best = None
    for x0 in (np.zeros(k + 1), np.concatenate([[0.0], np.full(k, 0.5)])):
        res = least_squares(fun, x0, loss="huber", f_scale=delta, x_scale="jac", max_nfev=5000,
                            xtol=1e-12, ftol=1e-12, gtol=1e-12)
        if best is None or res.cost < best.cost:
            best = res
    return np.concatenate([best.x, [0.0]])


@pytest.mark.parametrize("seed", range(4))
def test_plain_huber_sigmoid_recovers_known_parameters(seed):
    rng = np.random.default_rng(seed)
    truth = np.array([-0.4, 2.0, -1.0, 0.5, 0.0])  # c, w1..w3, no floor
    X = rng.normal(size=(60, 3))
    y = link(truth, X) + 0.01 * rng.normal(size=60)
    spec = LinkSpec(floor=False, loss="huber", huber_delta=1.0)
    got = fit_link(X, y, spec)
    assert got[-1] == 0.0
    np.testing.assert_allclose(got, truth, atol=0.12)
    np.testing.assert_allclose(got, _scipy_huber(X, y, 1.0), atol=1e-4)


def test_plain_huber_sigmoid_downweights_residuals_beyond_delta():
    """Gross errors larger than delta = 1 enter linearly: the fit agrees with scipy's Huber
    loss and stays near the truth, where least squares is pulled away."""
    rng = np.random.default_rng(7)
    truth = np.array([0.3, 1.5, 0.0])
    X = rng.normal(size=(80, 1))
    y = link(truth, X) + 0.01 * rng.normal(size=80)
    y[:6] += 4.0  # outliers far beyond delta
    hub = fit_link(X, y, LinkSpec(floor=False, loss="huber", huber_delta=1.0))
    sq = fit_link(X, y, LinkSpec(floor=False))
    np.testing.assert_allclose(hub, _scipy_huber(X, y, 1.0), atol=1e-4)
    assert np.abs(hub - truth).max() < np.abs(sq - truth).max()


# -- agreement with the official analysis ------------------------------------------------------
@pytest.fixture(scope="module")
def ours(lb):
    """Our held-out MSEs in the authors' setting (normalised scale), as the chapter computes
    them."""
    from osl.predict import compare
    m = leaderboard.authors_models(lb)
    out = {}
    for t in leaderboard.AUTHORS_TARGETS:
        _, kw = leaderboard.setup(t)
        base = {k: v for k, v in kw.items() if k != "benchmarks"}
        cmp = compare(m, [t], leaderboard.heldout(m, t),
                      {"pc3": kw, "logflops": {**base, "predictor": "log_flops"},
                       "logsize": {**base, "predictor": "log_size"}})
        tab = leaderboard.normalize_table(cmp.table())
        out.update({(t, p): float(tab.loc[t, p]) for p in tab.columns})
    return out


CASES = [(t, p) for t in ("lbv2_bbh", "lbv2_gpqa", "lbv2_math_hard")
         for p in ("pc3", "logflops", "logsize")]


@pytest.mark.parametrize("target,predictor", CASES)
def test_heldout_mse_matches_the_official_method(ours, target, predictor):
    from reference_leaderboard import reference_test_mse
    from osl.reported import PAPER
    ref = reference_test_mse(target, predictor)
    assert ours[target, predictor] == pytest.approx(ref, rel=0.15, abs=2e-4)
    # the recorded official value is the reference implementation's, to its printed digits
    recorded = PAPER["07_limits"][f"{target}_test_mse_{predictor}"]
    assert recorded.kind == "official"
    assert recorded.value == pytest.approx(ref, rel=1e-4)
    assert recorded.tolerance == pytest.approx(max(0.15 * recorded.value, 2e-4))


def test_reference_split_is_the_authors(lb):
    from reference_leaderboard import merged_table
    ref = merged_table()
    assert len(ref) == 47 and set(ref["Model"]) == set(leaderboard.authors_models(lb).index)


# -- the family-cluster correlation --------------------------------------------------------------
def test_cluster_correlation_recovers_a_known_correlation():
    rng = np.random.default_rng(0)
    n_fam, per = 60, 4
    fam = np.repeat(np.arange(n_fam), per)
    x = rng.normal(size=n_fam * per)
    rho = 0.6
    y = rho * x + np.sqrt(1 - rho ** 2) * rng.normal(size=x.size)
    out = leaderboard.cluster_correlation(x, y, fam, n_boot=2000, seed=1)
    assert out["r"] == pytest.approx(np.corrcoef(x, y)[0, 1])
    assert out["lower"] < rho < out["upper"]
    assert out["n"] == x.size and out["n_groups"] == n_fam
    # Spearman: the rank correlation, computed on the full sample
    sp = leaderboard.cluster_correlation(x, y, fam, rank=True)
    assert sp["r"] == pytest.approx(pd.Series(x).corr(pd.Series(y), method="spearman"))


def test_cluster_correlation_interval_is_wider_when_families_share_their_errors():
    """Models of one family that share a common shift are one piece of evidence: the
    family-cluster interval must be wider than a model-level one would be."""
    rng = np.random.default_rng(2)
    fam = np.repeat(np.arange(12), 10)
    shift = rng.normal(size=12)[fam]
    x = shift + 0.1 * rng.normal(size=fam.size)
    y = shift + 0.1 * rng.normal(size=fam.size)
    clustered = leaderboard.cluster_correlation(x, y, fam, seed=3)
    each = leaderboard.cluster_correlation(x, y, np.arange(fam.size), seed=3)
    assert clustered["upper"] - clustered["lower"] > each["upper"] - each["lower"]


def test_cluster_correlation_bad_inputs():
    with pytest.raises(ArgumentError, match="different lengths"):
        leaderboard.cluster_correlation([1, 2, 3], [1, 2], ["a", "b", "c"])
    with pytest.raises(ArgumentError, match="numbers"):
        leaderboard.cluster_correlation(["a", "b", "c"], [1, 2, 3], ["a", "b", "c"])
    with pytest.raises(ArgumentError, match="at least 3 pairs"):
        leaderboard.cluster_correlation([1, 2, np.nan], [1, 2, 3], ["a", "b", "c"])
    with pytest.raises(ArgumentError, match="n_boot"):
        leaderboard.cluster_correlation([1, 2, 3], [1, 2, 3], ["a", "b", "c"], n_boot=10)


# -- the predictability criterion -------------------------------------------------------------
def _synthetic_comparison(seed=0, n_fam=8, per=4):
    """A Comparison-like object: one target, a predictor close to the truth, a noisy one and the
    training mean, over held-out models of several families."""
    from types import SimpleNamespace
    rng = np.random.default_rng(seed)
    models = pd.DataFrame({"family": np.repeat([f"f{i}" for i in range(n_fam)], per)},
                          index=[f"m{i}" for i in range(n_fam * per)])
    y = rng.uniform(0.2, 0.8, len(models))
    preds = {"good": y + 0.01 * rng.normal(size=y.size),
             "training mean": np.full(y.size, 0.5),
             "compute": y + 0.1 * rng.normal(size=y.size),
             "bad": 0.5 + 0.2 * rng.normal(size=y.size)}
    frames = [pd.DataFrame({"mean": v, "actual": y, "target": "t", "predictor": k,
                            "model": models.index}) for k, v in preds.items()]
    pr = pd.concat(frames).set_index(["target", "predictor", "model"])
    return SimpleNamespace(predictions=pr), models


def test_predictability_accepts_a_good_predictor_and_rejects_a_useless_one():
    cmp, models = _synthetic_comparison()
    good = leaderboard.predictability(cmp, models, method="good", compute="compute")
    assert bool(good.loc["t", "predictable"])
    assert good.loc["t", "vs_mean"] == "better" and good.loc["t", "vs_compute"] == "better"
    assert good.loc["t", "ratio"] < 0.05 and good.loc["t", "n_families"] == 8
    bad = leaderboard.predictability(cmp, models, method="bad", compute="compute")
    assert not bool(bad.loc["t", "predictable"])
    assert bad.loc["t", "ratio"] > leaderboard.PREDICTABLE_FACTOR


def test_predictability_needs_the_ratio_and_the_rule():
    """A method that halves the mean's error on too few families is not predictable: the rule
    needs at least three held-out families."""
    cmp, models = _synthetic_comparison(n_fam=2, per=10)
    out = leaderboard.predictability(cmp, models, method="good", compute="compute")
    assert out.loc["t", "ratio"] < 0.05
    assert out.loc["t", "vs_mean"] == "indistinguishable"
    assert not bool(out.loc["t", "predictable"])


def test_predictability_is_scale_free():
    cmp, models = _synthetic_comparison(seed=3)
    scaled = cmp.predictions.copy()
    scaled[["mean", "actual"]] = (scaled[["mean", "actual"]] - 0.25) / 0.75
    from types import SimpleNamespace
    a = leaderboard.predictability(cmp, models, method="good", compute="compute")
    b = leaderboard.predictability(SimpleNamespace(predictions=scaled), models, method="good",
                                   compute="compute")
    assert a.loc["t", "ratio"] == pytest.approx(b.loc["t", "ratio"])
    assert a.loc["t", "predictable"] == b.loc["t", "predictable"]


def test_predictability_bad_inputs():
    cmp, models = _synthetic_comparison()
    with pytest.raises(ArgumentError, match="no predictor 'PC-1..3'"):
        leaderboard.predictability(cmp, models)
    with pytest.raises(ArgumentError, match="Comparison"):
        leaderboard.predictability(object(), models, method="good", compute="compute")
    with pytest.raises(SchemaError, match="family"):
        leaderboard.predictability(cmp, models.drop(columns="family"), method="good",
                                   compute="compute")
    with pytest.raises(ArgumentError, match="factor"):
        leaderboard.predictability(cmp, models, method="good", compute="compute", factor=0)
