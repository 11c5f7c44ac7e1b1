"""Calibrated predictive intervals (osl.predict.calibration): coverage on a synthetic
heteroscedastic extrapolation problem where the bootstrap interval under-covers, the conformal
quantile, the default hook in PredictionBootstrap.predict, and bad inputs."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit

from osl.errors import ArgumentError, OSLError
from osl.predict import ScalingPredictor, cutoff_split
from osl.predict.calibration import (Calibration, calibrate, conformal_interval, widen)


def logit_noise_models(n=150, seed=0, noise=0.7, c=-46.0, w=2.0):
    """A sigmoid of log10 FLOPs with noise on the logit scale: tiny scatter at the floor,
    the largest in the middle (heteroscedastic on the score scale); midpoint at 23."""
    rng = np.random.default_rng(seed)
    lf = rng.uniform(20.5, 25, n)
    y = expit(c + w * lf + noise * rng.normal(size=n))
    return pd.DataFrame({"family": "F", "flops_1e21": 10 ** (lf - 21), "log10_flops": lf,
                         "params_b": 1.0, "target": y}, index=[f"m{i}" for i in range(n)])


def _coverage(frame, y):
    return float(((y >= frame["lower"]) & (y <= frame["upper"])).mean())


def test_calibrated_interval_reaches_nominal_coverage_where_the_bootstrap_falls_short():
    """Trained below the rise (cutoff 10^21.8 FLOPs, midpoint at 10^23), predicting the models
    above: the bootstrap's residuals come from the quiet floor and under-cover; the calibrated
    interval covers about its nominal 80% (it is a hull, so slightly conservative)."""
    old, new = [], []
    for seed in range(4):
        models = logit_noise_models(seed=seed)
        split = cutoff_split(models, 10 ** 0.8)
        boot = ScalingPredictor(predictor="log_flops").fit(models, "target", split.train) \
            .bootstrap(200, seed)
        test = models[split.test]
        old.append(_coverage(boot.predict(test, 0.8, interval="bootstrap"), test["target"]))
        new.append(_coverage(boot.predict(test, 0.8), test["target"]))
    assert np.mean(old) < 0.68, old
    assert 0.74 <= np.mean(new) <= 0.95, new


def test_point_predictions_and_bands_do_not_depend_on_the_interval():
    models = logit_noise_models(seed=7)
    split = cutoff_split(models, 10 ** 1.5)
    p = ScalingPredictor(predictor="log_flops").fit(models, "target", split.train)
    boot = p.bootstrap(100, 0)
    test = models[split.test]
    a = boot.predict(test, 0.8, interval="bootstrap")
    b = boot.predict(test, 0.8)
    pd.testing.assert_series_equal(a["mean"], p.predict(test).rename("mean"))
    pd.testing.assert_frame_equal(a[["mean", "band_lower", "band_upper"]],
                                  b[["mean", "band_lower", "band_upper"]])
    # The calibrated interval is the hull: it contains the bootstrap interval and the
    # conformal one.
    ci = conformal_interval(p, test, 0.8)
    assert (b["lower"] <= a["lower"] + 1e-12).all() and (b["upper"] >= a["upper"] - 1e-12).all()
    assert (b["lower"] <= ci["lower"] + 1e-12).all() and (b["upper"] >= ci["upper"] - 1e-12).all()
    np.testing.assert_allclose(ci["mean"], a["mean"])
    lo, hi = widen(p, test, 0.8, a["lower"], a["upper"])
    np.testing.assert_allclose(lo, b["lower"])
    np.testing.assert_allclose(hi, b["upper"])


def test_interval_is_narrow_at_the_floor_and_grows_beyond_the_training_models():
    models = logit_noise_models(n=200, seed=3)
    split = cutoff_split(models, 10 ** 2.0)  # train below 10^23: floor and half the rise
    p = ScalingPredictor(predictor="log_flops").fit(models, "target", split.train)
    grid = pd.DataFrame({"log10_flops": [21.0, 22.9, 23.0, 24.0, 25.0]})
    ci = conformal_interval(p, grid, 0.8)
    width = (ci["upper"] - ci["lower"]).to_numpy()
    assert width[0] < 0.5 * width[1]  # at the floor vs at the midpoint
    assert ci["distance"].iloc[0] == 0 and ci["distance"].iloc[2] > 0
    assert (np.diff(ci["distance"].to_numpy()[2:]) > 0).all()
    assert (ci["lower"] <= ci["mean"]).all() and (ci["mean"] <= ci["upper"]).all()


def test_conformal_quantile_has_the_finite_sample_correction():
    cal = Calibration(np.arange(1.0, 10.0), 2, 0.0, 1.0)  # nine scores 1..9
    assert cal.n == 9
    assert cal.quantile(0.8) == 8.0  # ceil(10 * 0.8) = 8th smallest
    assert cal.quantile(0.5) == 5.0
    assert cal.quantile(0.95) == np.inf  # ceil(10 * 0.95) = 10 > 9 scores
    assert Calibration(np.zeros(0), 0, 0.0, 1.0).quantile(0.5) == np.inf


def test_too_few_models_to_calibrate_give_the_whole_range():
    models = logit_noise_models(n=40, seed=1)
    split = cutoff_split(models, 10 ** 0.6)  # a handful of floor models
    p = ScalingPredictor(predictor="log_flops").fit(models, "target", split.train)
    cal = calibrate(p, quantiles=(0.5,))
    assert cal.quantile(0.95) == np.inf
    ci = conformal_interval(p, models[split.test], 0.95, cal)
    assert (ci["lower"] == 0).all() and (ci["upper"] == 1).all()


def test_calibration_uses_only_training_models():
    """Changing held-out scores changes nothing; the default result is cached."""
    models = logit_noise_models(seed=5)
    split = cutoff_split(models, 10 ** 1.5)
    p1 = ScalingPredictor(predictor="log_flops").fit(models, "target", split.train)
    other = models.copy()
    other.loc[split.test, "target"] = 1 - other.loc[split.test, "target"]
    p2 = ScalingPredictor(predictor="log_flops").fit(other, "target", split.train)
    np.testing.assert_array_equal(calibrate(p1).scores, calibrate(p2).scores)
    assert calibrate(p1) is calibrate(p1)
    # Refitting the same object on other models invalidates the cached calibration.
    before = calibrate(p1)
    p1.fit(models, "target", cutoff_split(models, 10 ** 2.0).train)
    assert calibrate(p1) is not before and calibrate(p1).n != before.n
    # An explicit order (log10 FLOPs) is an equally valid inner split here.
    lf = models["log10_flops"].to_numpy()[p1.rows_]
    assert calibrate(p1, order=lf).n > 0


@pytest.mark.parametrize("call, match", [
    (lambda p, b, m: b.predict(m, 0.8, interval="wide"), "interval"),
    (lambda p, b, m: b.predict(m, 80), "level"),
    (lambda p, b, m: calibrate("not a predictor"), "ScalingPredictor"),
    (lambda p, b, m: calibrate(ScalingPredictor()), "not fitted"),
    (lambda p, b, m: calibrate(p, quantiles=()), "quantiles"),
    (lambda p, b, m: calibrate(p, quantiles=(1.5,)), "quantiles"),
    (lambda p, b, m: calibrate(p, quantiles=0.5), "quantiles"),
    (lambda p, b, m: calibrate(p, order=[1.0, 2.0]), "order"),
    (lambda p, b, m: calibrate(p, order=["a"] * p.n_train_), "order"),
    (lambda p, b, m: conformal_interval(p, m, 0.8, calibration="x"), "calibration"),
    (lambda p, b, m: conformal_interval(p, m, 1.2), "level"),
    (lambda p, b, m: conformal_interval(p, "models"), "models"),
])
def test_bad_inputs_raise_osl_errors(call, match):
    models = logit_noise_models(n=60, seed=2)
    split = cutoff_split(models, 10 ** 1.5)
    p = ScalingPredictor(predictor="log_flops").fit(models, "target", split.train)
    with pytest.raises(OSLError, match=match):
        call(p, p.bootstrap(20, 0), models[split.test])


def test_argument_errors_are_argument_errors():
    models = logit_noise_models(n=60, seed=2)
    p = ScalingPredictor(predictor="log_flops").fit(models, "target")
    with pytest.raises(ArgumentError):
        p.bootstrap(20, 0).predict(models, interval=None)


def test_compare_offers_both_intervals():
    from osl.predict import compare
    models = logit_noise_models(seed=8)
    split = cutoff_split(models, 10 ** 0.8)
    kw = dict(n_boot=100, seed=0)
    new = compare(models, ["target"], split, {"f": {"predictor": "log_flops"}}, **kw)
    old = compare(models, ["target"], split, {"f": {"predictor": "log_flops"}},
                  interval="bootstrap", **kw)
    assert old.metrics["mse"].iloc[0] == new.metrics["mse"].iloc[0]
    assert new.metrics["coverage"].iloc[0] >= old.metrics["coverage"].iloc[0]
    with pytest.raises(ArgumentError, match="interval"):
        compare(models, ["target"], split, {"f": {"predictor": "log_flops"}},
                interval="wide", **kw)
