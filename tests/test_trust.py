"""The forecast-trust grid (osl.predict.trust): agreement with the library's own fits and
intervals, the batched calibration, the crossing interval, the cache, and bad inputs."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit

from osl.errors import ArgumentError, OSLError
from osl.predict import ScalingPredictor, cutoff_split
from osl.predict.calibration import (calibrate, calibrate_many, conformal_interval,
                                     crossing_interval)
from osl.predict.trust import (PC_CHOSEN, TrustGrid, _bootstrap_intervals, preregistered_test,
                               sensitivity, trust_grid)

SMALL = {"groups": ("emergent", "agents"), "cutoffs": (84.0,), "shares": (0.1,), "loo": False,
         "predictors": (PC_CHOSEN, "log-FLOPs", "training mean"), "intervals": (PC_CHOSEN,),
         "n_boot": 20, "progress": False}


@pytest.fixture(scope="module")
def small_grid():
    return trust_grid(cache=False, **SMALL)


def logit_noise_models(n=120, seed=0):
    rng = np.random.default_rng(seed)
    lf = rng.uniform(20.5, 25, n)
    y = expit(-46.0 + 2.0 * lf + 0.6 * rng.normal(size=n))
    return pd.DataFrame({"family": "F", "flops_1e21": 10 ** (lf - 21), "log10_flops": lf,
                         "params_b": 1.0, "target": y}, index=[f"m{i}" for i in range(n)])


def test_grid_predictions_equal_the_library_fits(small_grid):
    """A grid cell's point predictions are those of ScalingPredictor.fit on the same split, and
    its intervals those of PredictionBootstrap.predict (bootstrap and calibrated)."""
    from osl import data
    from osl.predict.chapters import emergent_setup
    em = data.load_emergent()
    t = "arithmetic_3da_2_acc"
    cell = small_grid.cells.query("target == @t and predictor == @PC_CHOSEN").iloc[0]
    split = cutoff_split(em, 84.0)
    p = ScalingPredictor(n_pcs=int(cell["k"]), **emergent_setup(t)[1]).fit(em, t, split.train)
    test = em[split.test & em[t].notna().to_numpy()]
    got = small_grid.predictions.query("target == @t and predictor == @PC_CHOSEN") \
        .set_index("model").loc[test.index]
    np.testing.assert_allclose(got["mean"], p.predict(test), rtol=1e-6, atol=1e-8)
    b = p.bootstrap(20, 0)
    for L, tag in ((0.8, 80), (0.95, 95)):
        old = b.predict(test, L, interval="bootstrap")
        new = b.predict(test, L)
        np.testing.assert_allclose(got[f"lo_old_{tag}"], old["lower"], atol=1e-6)
        np.testing.assert_allclose(got[f"hi_old_{tag}"], old["upper"], atol=1e-6)
        np.testing.assert_allclose(got[f"lo_new_{tag}"], new["lower"], atol=1e-6)
        np.testing.assert_allclose(got[f"hi_new_{tag}"], new["upper"], atol=1e-6)


def test_grid_metrics_and_coverage_are_consistent(small_grid):
    c = small_grid.cells
    assert set(c["group"]) == {"emergent", "agents"}
    assert not (c["group"].eq("agents") & c["predictor"].eq("log-FLOPs")).any()
    p = small_grid.predictions
    for _, row in c[c["predictor"] == PC_CHOSEN].iterrows():
        d = p[(p["target"] == row["target"]) & (p["split"] == row["split"])
              & (p["predictor"] == PC_CHOSEN)]
        assert row["mse"] == pytest.approx(np.mean((d["mean"] - d["actual"]) ** 2))
        inside = (d["actual"] >= d["lo_new_80"]) & (d["actual"] <= d["hi_new_80"])
        assert row["cov_new_80"] == pytest.approx(inside.mean())
        assert row["cov_new_80"] >= row["cov_old_80"] - 1e-12  # the hull never covers less
    pooled = small_grid.coverage((), predictors=(PC_CHOSEN,)).iloc[0]
    assert 0 <= pooled["cov_old_80"] <= pooled["cov_new_80"] <= pooled["cov_new_95"] <= 1
    assert 0 <= small_grid.wins(PC_CHOSEN, "training mean") <= 1
    with pytest.raises(ArgumentError, match="different"):
        small_grid.wins(PC_CHOSEN, PC_CHOSEN)
    with pytest.raises(ArgumentError, match="by"):
        small_grid.wins(PC_CHOSEN, "training mean", by=("model",))


def test_crossing_backtest_rows(small_grid):
    cr = small_grid.crossings
    assert set(cr["target"]) <= set(small_grid.cells["target"])
    assert (cr["cal_lower"] <= cr["lower"] + 1e-12).all()
    assert (cr["cal_upper"] >= cr["upper"] - 1e-12).all()
    assert np.isfinite(cr["final"]).all()


def test_bootstrap_intervals_match_predict():
    models = logit_noise_models()
    split = cutoff_split(models, 10 ** 1.8)
    p = ScalingPredictor(predictor="log_flops").fit(models, "target", split.train)
    b = p.bootstrap(50, 3)
    test = models[split.test]
    got = _bootstrap_intervals(b, p.features.raw(test), (0.5, 0.8))
    for L in (0.5, 0.8):
        ref = b.predict(test, L, interval="bootstrap")
        np.testing.assert_allclose(got[L][0], ref["lower"])
        np.testing.assert_allclose(got[L][1], ref["upper"])


def test_calibrate_many_equals_calibrate():
    fits = [ScalingPredictor(predictor="log_flops").fit(logit_noise_models(seed=s), "target",
                                                         cutoff_split(logit_noise_models(seed=s),
                                                                      10 ** c).train)
            for s, c in ((0, 1.6), (1, 2.0), (2, 2.4))]
    alone = [calibrate(ScalingPredictor(predictor="log_flops").fit(
        logit_noise_models(seed=s), "target", cutoff_split(logit_noise_models(seed=s),
                                                           10 ** c).train))
        for s, c in ((0, 1.6), (1, 2.0), (2, 2.4))]
    for a, b in zip(calibrate_many(fits), alone):
        assert a.n == b.n and a.n > 0
        np.testing.assert_allclose(np.sort(a.scores), np.sort(b.scores), atol=1e-6)


def test_crossing_interval_brackets_the_true_crossing():
    """Logit noise around a curve crossing at 10^23 FLOPs: the calibrated interval of a
    model's crossing contains 23 and the point crossing."""
    models = logit_noise_models(n=200, seed=4)
    p = ScalingPredictor(predictor="log_flops").fit(models, "target",
                                                   cutoff_split(models, 10 ** 2.3).train)
    lo, hi = crossing_interval(p, 0.8)
    assert lo < 23.0 < hi and lo <= p.crossing() <= hi
    lo95, hi95 = crossing_interval(p, 0.95)
    assert lo95 <= lo and hi95 >= hi


def test_sensitivity_rows():
    s = sensitivity(groups=("emergent",), other_cutoffs=(168.0,))
    assert set(s["factor"]) == {"default", "standardize", "number of PCs",
                                "benchmark left out", "cutoff"}
    assert np.allclose(s.loc[s["factor"] == "default", "ratio"], 1.0)
    assert (s.groupby("target")["n_test"].nunique() == 1).all()  # same held-out models


def test_preregistered_test_scores_only_preregistered_models():
    from osl import presets
    g = preregistered_test(n_boot=10, predictors=(PC_CHOSEN,), intervals=())
    assert isinstance(g, TrustGrid)
    assert set(g.predictions["model"]) <= set(presets.PREREGISTERED_MODELS)
    assert (g.cells["split"] == "pre-registered").all()


def test_cache_returns_the_same_object(tmp_path, monkeypatch):
    monkeypatch.setenv("OSL_BUILD_DIR", str(tmp_path))
    kw = dict(SMALL, groups=("agents",), predictors=(PC_CHOSEN,))
    a = trust_grid(**kw)
    assert trust_grid(**kw) is a
    assert list((tmp_path / "cache" / "trust").glob("*.pkl"))


@pytest.mark.parametrize("kwargs, match", [
    ({"groups": ("emergent", "nonsense")}, "groups"),
    ({"predictors": ("PC-9",)}, "predictors"),
    ({"intervals": ("log-size",), "predictors": (PC_CHOSEN,)}, "intervals"),
    ({"cutoffs": (-1.0,)}, "cutoffs"),
    ({"shares": (1.5,)}, "shares"),
    ({"levels": (80,)}, "levels"),
    ({"n_boot": 3}, "n_boot"),
    ({"loo": "yes"}, "loo"),
    ({"tables": [1, 2]}, "tables"),
    ({"tables": {}}, "tables"),
])
def test_bad_inputs_raise_osl_errors(kwargs, match):
    with pytest.raises(OSLError, match=match):
        trust_grid(**{"cache": False, "progress": False, **kwargs})


def test_more_bad_inputs():
    models = logit_noise_models()
    p = ScalingPredictor(predictor="log_flops").fit(models, "target")
    with pytest.raises(ArgumentError, match="span"):
        crossing_interval(p, 0.8, span=(25, 20))
    with pytest.raises(ArgumentError, match="calibrate"):
        calibrate_many([p, "x"])
    with pytest.raises(ArgumentError, match="groups"):
        sensitivity(groups=("agents",))
    with pytest.raises(ArgumentError, match="n_boot|whole number"):
        preregistered_test(n_boot=2.5)
    with pytest.raises(ArgumentError):
        conformal_interval(p, models, 0.8, calibration=3)


def test_grids_of_disjoint_groups_combine_into_the_single_call(small_grid):
    """The grid computed group by group (as a chapter does on two cores) and combined has the
    rows of the single call, in its order, with its numbers up to rounding."""
    kw = {k: v for k, v in SMALL.items() if k != "groups"}
    agents, emergent = (trust_grid(cache=False, groups=(g,), **kw) for g in ("agents",
                                                                           "emergent"))
    both = TrustGrid.combine([agents, emergent])  # any order in, the groups' order out
    assert both.config == small_grid.config
    assert both.seconds == pytest.approx(agents.seconds + emergent.seconds)
    for name in ("cells", "predictions", "crossings"):
        a, b = getattr(both, name), getattr(small_grid, name)
        assert list(a.columns) == list(b.columns) and a.shape == b.shape, name
        for c in a.columns:
            if a[c].dtype.kind == "f":
                np.testing.assert_allclose(a[c], b[c], rtol=1e-9, atol=1e-12, err_msg=c)
            else:
                assert a[c].tolist() == b[c].tolist(), (name, c)
    with pytest.raises(ArgumentError, match="more than one grid"):
        TrustGrid.combine([agents, agents])
    other = trust_grid(cache=False, groups=("agents",), **{**kw, "n_boot": 10})
    with pytest.raises(ArgumentError, match="different settings"):
        TrustGrid.combine([other, emergent])
    with pytest.raises(ArgumentError, match="list of TrustGrid"):
        TrustGrid.combine([])
