"""Compute fits: recovery of known family slopes/intercepts, agreement with statsmodels."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf

from osl.compute import (EquivalentCompute, family_fits, linear_fit, shared_slope_fit,
                         shared_slope_stack, slope_heterogeneity)
from osl.errors import FitError, NotFittedError

TRUE = {"A": (-10.0, 0.45), "B": (-9.0, 0.45), "C": (-11.5, 0.45), "D": (-8.2, 0.45)}


def families(noise: float = 0.02, seed: int = 0, slopes: dict | None = None, n: int = 8):
    rng = np.random.default_rng(seed)
    rows = []
    for f, (a, b) in TRUE.items():
        b = slopes.get(f, b) if slopes else b
        x = np.sort(rng.uniform(21, 24.5, n))
        rows.append(pd.DataFrame({"family": f, "x": x, "y": a + b * x + noise * rng.normal(size=n)}))
    return pd.concat(rows, ignore_index=True)


def test_family_fits_recover_known_lines():
    d = families(slopes={"A": 0.3, "B": 0.6})
    fits = family_fits(d["y"], d["x"], d["family"])
    for f, (a, b) in TRUE.items():
        b = {"A": 0.3, "B": 0.6}.get(f, b)
        assert fits.loc[f, "slope"] == pytest.approx(b, abs=0.02)
        assert fits.loc[f, "intercept"] == pytest.approx(a, abs=0.5)
        assert fits.loc[f, "r2"] > 0.98 and fits.loc[f, "n"] == 8


def test_shared_slope_recovers_slope_intercepts_and_efficiency():
    d = families()
    fit = shared_slope_fit(d["y"], d["x"], d["family"], reference="A")
    assert fit.slope == pytest.approx(0.45, abs=0.01)
    for f, (a, _) in TRUE.items():
        assert fit.intercepts[f] == pytest.approx(a, abs=0.2)
    # B is (−9 − (−10)) / 0.45 ≈ 2.2 orders of magnitude more efficient than A.
    assert fit.efficiency["B"] == pytest.approx(1.0 / 0.45, abs=0.05)
    assert fit.r2 > 0.99


def test_shared_slope_equals_statsmodels_ols():
    d = families(noise=0.05, seed=3)
    fit = shared_slope_fit(d["y"], d["x"], d["family"])
    ols = smf.ols("y ~ 0 + C(family) + x", data=d).fit()
    assert fit.slope == pytest.approx(ols.params["x"], rel=1e-10)
    assert fit.slope_se == pytest.approx(ols.bse["x"], rel=1e-8)
    for f in TRUE:
        assert fit.intercepts[f] == pytest.approx(ols.params[f"C(family)[{f}]"], rel=1e-10)
        assert fit.intercept_se[f] == pytest.approx(ols.bse[f"C(family)[{f}]"], rel=1e-8)
    assert fit.r2 == pytest.approx(1 - ols.ssr / np.sum((d.y - d.y.mean()) ** 2), rel=1e-10)
    ci = fit.conf_int(0.95)
    np.testing.assert_allclose(ci["lower"].to_numpy(),
                               ols.conf_int().loc[[f"C(family)[{f}]" for f in TRUE], 0].to_numpy())


def test_stacked_fit_equals_single_fits():
    fits = [families(seed=s) for s in range(3)]
    codes = [pd.Categorical(d["family"], categories=list(TRUE)).codes for d in fits]
    out = shared_slope_stack(np.stack([d["y"] for d in fits]), np.stack([d["x"] for d in fits]),
                             np.stack(codes), len(TRUE))
    for i, d in enumerate(fits):
        single = shared_slope_fit(d["y"], d["x"], d["family"])
        assert out["slope"][i] == pytest.approx(single.slope, rel=1e-12)
        np.testing.assert_allclose(out["intercepts"][i], single.intercepts[list(TRUE)], rtol=1e-12)
        assert out["r2"][i] == pytest.approx(single.r2, rel=1e-12)


def test_slope_heterogeneity_detects_different_slopes_only():
    same = slope_heterogeneity(*[families(seed=4)[c] for c in ("y", "x", "family")])
    diff = slope_heterogeneity(*[families(seed=4, slopes={"A": 0.2, "C": 0.7})[c]
                                 for c in ("y", "x", "family")])
    assert same["p_value"] > 0.01
    assert diff["p_value"] < 1e-6 and diff["r2_separate"] > diff["r2_shared"]


def test_equivalent_compute_inverts_reference_line():
    d = families()
    ref = d[d.family == "A"]
    eq = EquivalentCompute("A").fit(d["y"], d["x"], d["family"])
    np.testing.assert_allclose(eq.transform(-10.0 + 0.45 * 23.0), 23.0, atol=0.1)
    np.testing.assert_allclose(eq.inverse(eq.transform(ref["y"])), ref["y"], atol=1e-12)


def test_new_family_intercept_with_fixed_slope():
    d = families()
    fit = shared_slope_fit(d["y"], d["x"], d["family"])
    x = np.array([22.0, 23.0])
    assert fit.intercept_for(-7.0 + fit.slope * x, x) == pytest.approx(-7.0)


def test_errors():
    with pytest.raises(FitError, match="at least 2"):
        linear_fit([1.0], [2.0])
    with pytest.raises(FitError, match="different lengths"):
        linear_fit([1.0, 2.0], [1.0])
    with pytest.raises(FitError, match="more models than families"):
        shared_slope_fit([1.0, 2.0], [1.0, 2.0], ["a", "b"])
    with pytest.raises(FitError, match="Llama-2"):
        EquivalentCompute().fit([1.0, 2.0], [1.0, 2.0], ["a", "a"])
    with pytest.raises(NotFittedError):
        EquivalentCompute().transform(1.0)
    d = families()
    fit = shared_slope_fit(d["y"], d["x"], d["family"], reference="Z")
    with pytest.raises(FitError, match="Reference family"):
        fit.efficiency
