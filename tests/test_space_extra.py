"""Tables of a capability space against its bootstrap, and families placed in a fitted space."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from osl import presets
from osl.compute import new_family_fits, shared_slope_fit
from osl.errors import ArgumentError, FitError
from osl.space import SpaceBootstrap, bootstrap_capability_space, fit_capability_space

REF = presets.REFERENCE_FAMILY
BENCH = list(presets.BASE_BENCHMARKS)
SLOPE = 0.25  # capability per decade of compute
INTERCEPTS = {REF: 0.0, "B": 0.5, "C": -0.3}  # efficiency vs REF: +2 and -1.2 dex


def synthetic_models(intercepts=INTERCEPTS, *, n_per_family: int = 4, noise: float = 1e-4,
                     seed: int = 0) -> pd.DataFrame:
    """Scores driven by one capability ``c = a_family + SLOPE * log10_flops`` (plus tiny noise)."""
    rng = np.random.default_rng(seed)
    rows = []
    for f, a in intercepts.items():
        for x in np.linspace(22.0, 24.0, n_per_family) + rng.uniform(-0.1, 0.1, n_per_family):
            rows.append({"family": f, "log10_flops": x, "c": a + SLOPE * x})
    models = pd.DataFrame(rows)
    loading = np.linspace(0.2, 0.5, len(BENCH))
    c = models["c"].to_numpy() - 6.0  # capability of the base set lies around 6
    X = 0.5 + 0.4 * np.outer(c, loading) + noise * rng.normal(size=(len(models), len(BENCH)))
    assert X.min() > 0 and X.max() < 1
    models[BENCH] = X
    models.index = [f"m{i}" for i in range(len(models))]
    return models


def fake_boot(**frames) -> SpaceBootstrap:
    """A SpaceBootstrap with hand-made distributions (unused fields empty)."""
    empty = pd.DataFrame()
    fields = dict(explained_variance_ratio=empty, slope=np.zeros(0), r2=np.zeros(0),
                  intercepts=empty, efficiency=empty, n_iter=np.zeros(0, int))
    fields.update(frames)
    return SpaceBootstrap(**fields)


@pytest.fixture(scope="module")
def space():
    return fit_capability_space(synthetic_models())


# -- compute: families outside a shared-slope fit ----------------------------------------------
def test_efficiency_for_a_copy_of_a_fitted_family_is_its_efficiency():
    rng = np.random.default_rng(1)
    x = np.tile([1.0, 2.0, 3.0], 3)
    fam = np.repeat(["ref", "B", "C"], 3)
    y = np.array([0.0, 1.0, -0.5])[np.repeat([0, 1, 2], 3)] + 0.4 * x + 0.01 * rng.normal(size=9)
    fit = shared_slope_fit(y, x, fam, reference="ref")
    sel = fam == "B"
    assert fit.efficiency_for(y[sel], x[sel]) == pytest.approx(fit.efficiency["B"], rel=1e-12)
    # a family 10x more efficient than the reference (one decade of compute, at the shared slope)
    xn = np.array([1.0, 2.0])
    yn = fit.intercepts["ref"] + fit.slope * (xn + 1.0)
    assert fit.efficiency_for(yn, xn) == pytest.approx(1.0)


def test_new_family_fits_known_slopes_and_efficiencies():
    x = np.tile([1.0, 2.0, 3.0], 2)
    fam = np.repeat(["ref", "B"], 3)
    fit = shared_slope_fit(0.5 * x + np.where(fam == "B", 1.0, 0.0), x, fam, reference="ref")
    assert fit.slope == pytest.approx(0.5)
    new_x = np.array([1.0, 2.0, 3.0, 2.0, 5.0, 6.0, 1.0, np.nan])
    new_f = np.array(["Z", "Z", "Z", "Y", "X", "X", "X", "X"], dtype=object)
    new_y = np.array([0.0, 0.75, 1.5, 2.0, 1.0, 2.0, np.nan, 9.0])
    # Z: own slope 0.75 (ratio 1.5), mean(y - 0.5 x) = -0.25 -> -0.5 dex; Y: one model, 1 -> 2 dex;
    # X: the NaN rows drop out, leaving two models of slope 1 (ratio 2), mean(y - 0.5 x) = -1.25
    tab = new_family_fits(fit, new_y, new_x, new_f)
    assert list(tab.index) == ["X", "Y", "Z"]
    assert list(tab.columns) == ["n", "efficiency_dex", "own_slope", "shared_slope", "slope_ratio"]
    assert tab["n"].tolist() == [2, 1, 3]
    np.testing.assert_allclose(tab["efficiency_dex"], [-2.5, 2.0, -0.5], atol=1e-12)
    np.testing.assert_allclose(tab.loc[["X", "Z"], "own_slope"], [1.0, 0.75], atol=1e-12)
    np.testing.assert_allclose(tab.loc[["X", "Z"], "slope_ratio"], [2.0, 1.5], atol=1e-12)
    assert np.isnan(tab.loc["Y", "own_slope"]) and np.isnan(tab.loc["Y", "slope_ratio"])
    assert (tab["shared_slope"] == fit.slope).all()
    strict = new_family_fits(fit, new_y, new_x, new_f, min_slope_models=3)
    assert np.isnan(strict.loc["X", "own_slope"])
    assert strict.loc["Z", "own_slope"] == pytest.approx(0.75)


def test_new_family_fits_need_the_reference_family():
    x = np.tile([1.0, 2.0, 3.0], 2)
    fam = np.repeat(["A", "B"], 3)
    fit = shared_slope_fit(x, x, fam, reference="missing")
    with pytest.raises(FitError, match="Reference family"):
        new_family_fits(fit, [1.0], [1.0], ["Z"])


# -- the bootstrap's intervals -----------------------------------------------------------------
def test_interval_and_cumulative_share_on_known_draws():
    draws = np.linspace(0.0, 1.0, 101)  # percentiles are the draws themselves
    ratio = pd.DataFrame({"PC-1": 0.6 + 0.2 * draws, "PC-2": 0.3 - 0.1 * draws,
                          "PC-3": 0.1 - 0.1 * draws})
    boot = fake_boot(explained_variance_ratio=ratio)
    cum = boot.cumulative_explained_variance_ratio
    np.testing.assert_allclose(cum["PC-2"], 0.9 + 0.1 * draws)
    np.testing.assert_allclose(cum["PC-3"], 1.0)
    iv = boot.interval("cumulative_explained_variance_ratio", 0.9)
    assert iv.loc["PC-2", "lower"] == pytest.approx(0.905)
    assert iv.loc["PC-2", "upper"] == pytest.approx(0.995)
    assert iv.loc["PC-1", "median"] == pytest.approx(0.7)
    with pytest.raises(ArgumentError, match="what"):
        boot.interval("slope")
    with pytest.raises(ArgumentError, match="fraction"):
        boot.interval("explained_variance_ratio", 95)


def test_explained_variance_table_puts_the_fit_next_to_the_bootstrap(space):
    draws = np.linspace(0.0, 1.0, 201)
    p = len(BENCH)
    ratio = pd.DataFrame(np.full((draws.size, p), 0.0), columns=[f"PC-{i + 1}" for i in range(p)])
    ratio["PC-1"], ratio["PC-2"] = 0.9 + 0.05 * draws, 0.1 - 0.05 * draws
    boot = fake_boot(explained_variance_ratio=ratio)
    tab = space.explained_variance_table(boot, 0.5)
    assert list(tab.columns) == ["point", "median", "lower", "upper"]
    pd.testing.assert_series_equal(tab["point"], space.capability.explained_variance_ratio_,
                                   check_names=False)
    assert tab.loc["PC-1", "point"] > 0.999  # one capability drives the synthetic scores
    assert tab.loc["PC-1", ["lower", "median", "upper"]].tolist() == pytest.approx(
        [0.9125, 0.925, 0.9375])
    cum = space.explained_variance_table(boot, 0.5, cumulative=True)
    assert cum.loc["PC-3", "point"] == pytest.approx(tab["point"].iloc[:3].sum(), rel=1e-14)
    assert cum.loc["PC-2", ["lower", "upper"]].tolist() == pytest.approx([1.0, 1.0])


def test_efficiency_table_recovers_known_efficiencies_and_flags_intervals(space):
    tab = space.efficiency_table(fake_boot(efficiency=pd.DataFrame(
        {REF: np.zeros(101), "B": np.linspace(1.0, 3.0, 101), "C": np.linspace(-0.5, 0.1, 101)})),
        level=0.8)
    assert list(tab.index) == ["C", "B"]  # reference dropped, least efficient first
    assert tab.loc["B", "point"] == pytest.approx(2.0, abs=1e-3)
    assert tab.loc["C", "point"] == pytest.approx(-1.2, abs=1e-3)
    assert tab.loc["B", ["lower", "upper"]].tolist() == pytest.approx([1.2, 2.8])
    assert tab["differs_from_reference"].tolist() == [False, True]  # C's interval holds 0


def test_efficiency_table_from_a_real_bootstrap_matches_a_hand_computation(core):
    sp = fit_capability_space(core)
    boot = bootstrap_capability_space(core, n_boot=60, seed=3)
    tab = sp.efficiency_table(boot, 0.9)
    q = boot.efficiency.drop(columns=REF).quantile([0.05, 0.95]).T
    np.testing.assert_allclose(tab["lower"], q.loc[tab.index, 0.05])
    np.testing.assert_allclose(tab["upper"], q.loc[tab.index, 0.95])
    np.testing.assert_allclose(tab["point"], sp.shared.efficiency[tab.index])
    assert tab["point"].is_monotonic_increasing and REF not in tab.index
    cum = sp.explained_variance_table(boot, 0.9, cumulative=True)
    by_hand = boot.explained_variance_ratio.iloc[:, :3].sum(axis=1).quantile([0.05, 0.95])
    np.testing.assert_allclose(cum.loc["PC-3", ["lower", "upper"]], by_hand, rtol=1e-12)


# -- placing models the space was not fitted on ------------------------------------------------
def test_place_scores_training_models_as_the_fit_does(space):
    models = synthetic_models()
    placed = space.place(models)
    pd.testing.assert_frame_equal(placed, space.scores)


def test_new_families_recover_a_held_out_family(space):
    new = synthetic_models({"D": 0.25, "E": -0.5}, n_per_family=3, seed=7)
    tab = space.new_families(new.iloc[:-1])  # E keeps two models
    assert tab["n"].tolist() == [3, 2]
    np.testing.assert_allclose(tab["efficiency_dex"], [1.0, -2.0], atol=5e-3)
    np.testing.assert_allclose(tab["slope_ratio"], [1.0, 1.0], atol=5e-3)
    assert np.isnan(space.new_families(new, min_slope_models=4)["own_slope"]).all()


def test_family_resampling_draws_whole_families(core):
    """Resampling whole families: the PC-1 share's interval contains the point fit, is wider
    than resampling models within families, and the result is reproducible."""
    from osl.space import bootstrap_capability_space, fit_capability_space
    point = fit_capability_space(core).capability.explained_variance_ratio_["PC-1"]
    fam = bootstrap_capability_space(core, n_boot=300, seed=1, resample="families")
    within = bootstrap_capability_space(core, n_boot=300, seed=1)
    iv_f = fam.interval("explained_variance_ratio", 0.9).loc["PC-1"]
    iv_w = within.interval("explained_variance_ratio", 0.9).loc["PC-1"]
    assert iv_f["lower"] < point < iv_f["upper"]
    assert iv_f["upper"] - iv_f["lower"] > iv_w["upper"] - iv_w["lower"]
    again = bootstrap_capability_space(core, n_boot=300, seed=1, resample="families")
    np.testing.assert_array_equal(fam.slope, again.slope)
    # A resample without the reference family says nothing about efficiency relative to it.
    assert fam.efficiency["Llama-2"].dropna().eq(0).all()


# -- leaving one family out --------------------------------------------------------------------
def test_leave_one_family_out_on_exact_families_changes_nothing():
    """Every family lies on the same line (tiny noise): leaving any one out keeps the slope and
    the other families' efficiencies; the left-out family's efficiency is NaN, and every family's
    when the reference family is the one left out."""
    from osl.space import leave_one_family_out
    models = synthetic_models({**INTERCEPTS, "D": 0.25}, n_per_family=4)
    full = fit_capability_space(models)
    loo = leave_one_family_out(models)
    assert list(loo.index) == [REF, "B", "C", "D"]
    assert list(loo["fit"].columns) == ["n_left_out", "slope", "shared_r2", "explained_variance",
                                        "median_family_r2"]
    assert loo[("fit", "n_left_out")].tolist() == [4, 4, 4, 4]
    np.testing.assert_allclose(loo[("fit", "slope")], full.shared.slope, rtol=1e-3)
    assert (loo[("fit", "explained_variance")] > 0.999).all()
    eff = loo["efficiency"]
    assert eff.loc[REF].isna().all()
    for f in ["B", "C", "D"]:
        assert np.isnan(eff.loc[f, f])
        others = eff.loc[f].drop([f, REF])
        np.testing.assert_allclose(others, [{"B": 2.0, "C": -1.2, "D": 1.0}[g] for g in others.index],
                                   atol=5e-3)


def test_leave_one_family_out_row_equals_a_fit_without_that_family(core):
    from osl.space import leave_one_family_out
    loo = leave_one_family_out(core, min_family_models=2)
    assert list(loo.index) == list(pd.unique(core["family"]))
    for f in ["Phi", "OPT"]:
        sp = fit_capability_space(core[core["family"] != f], min_family_models=2)
        assert loo.loc[f, ("fit", "n_left_out")] == (core["family"] == f).sum()
        assert loo.loc[f, ("fit", "slope")] == pytest.approx(sp.shared.slope, rel=1e-9)
        assert loo.loc[f, ("fit", "explained_variance")] == pytest.approx(
            sp.capability.explained_variance_ratio_["PC-1"], rel=1e-9)
        assert loo.loc[f, ("fit", "median_family_r2")] == pytest.approx(sp.median_family_r2)
        np.testing.assert_allclose(loo.loc[f, "efficiency"].drop(f), sp.shared.efficiency.reindex(
            loo["efficiency"].columns.drop(f)), rtol=1e-9)
    # the reference family left out: its models still exist, but no efficiency is relative to it
    assert loo.loc[REF, "efficiency"].isna().all()
