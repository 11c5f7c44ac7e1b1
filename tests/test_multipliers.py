"""osl.multipliers: levers priced as multipliers of reference-family compute.

Synthetic tables with a known answer: families whose capability is shifted by a known amount on
a known slope (multiplier ``10 ** (shift / slope)``), and a technique whose curve is the
baseline's shifted by a known number of orders of magnitude of equivalent compute.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import brentq
from scipy.special import expit

from osl.errors import ArgumentError, FitError, OSLError, SchemaError
from osl.multipliers import (Multiplier, compute_multiplier, family_bootstrap, match_by_name,
                             multiplier_table, pooled_multiplier)
from osl.space import bootstrap_capability_space, fit_capability_space

BENCH = ["b1", "b2", "b3", "b4", "b5"]
SLOPE = 0.2          # capability per dex of compute, every family
SHIFT = 0.15         # the efficient family's capability shift: 10 ** 0.75 = 5.6x
MID, STEEP, TECH_DEX, FLOOR = 23.0, 1.5, 0.6, 0.1


def curve(x):
    """The true link along reference-equivalent compute (floored sigmoid, as fitted)."""
    return FLOOR + (1 - FLOOR) * expit(STEEP * (np.asarray(x) - MID))


def synthetic(seed: int = 0, n_families: int = 10) -> pd.DataFrame:
    """Families with capability ``a_f + s_f * log10_flops``: 'Ref' and 'Eff' have the slope
    SLOPE and 'Eff' is 'Ref' + SHIFT; the other families' slopes scatter by up to 8%, their
    aptitude on the targets by a family offset and their gain from the technique around
    TECH_DEX (families differ beyond their models, which is what resampling whole families
    measures). Five benchmarks linear in capability; targets
    'naive' and 'tech' follow :func:`curve` of the reference-equivalent compute, 'tech'
    shifted by TECH_DEX."""
    rng = np.random.default_rng(seed)
    rows = []
    fams = {"Ref": (-4.4, SLOPE, 0.0, 0.0), "Eff": (-4.4 + SHIFT, SLOPE, 0.0, 0.0)}
    for k in range(n_families - 2):
        s = SLOPE * (1 + rng.uniform(-0.08, 0.08))
        fams[f"F{k}"] = (-4.4 + rng.uniform(-0.2, 0.2) + (SLOPE - s) * 22.75, s,
                         rng.normal(0, 0.05), rng.normal(0, 0.04))
    loadings = np.array([0.9, 0.7, 1.1, 0.8, 1.0])
    a_ref = fams["Ref"][0]
    for f, (a, s, offset, gain) in fams.items():
        # The reference family is noise-free: the equivalent-compute axis is refitted on all
        # its models in every resample (a change of units), so its own noise is not part of
        # the intervals; here it has none.
        noise = 0.0 if f == "Ref" else 1.0
        for x in np.linspace(21.0 + rng.uniform(0, 0.3), 24.5 - rng.uniform(0, 0.3), 5):
            cap = a + s * x + noise * rng.normal(0, 0.001)
            scores = 0.5 + 0.5 * loadings * (cap - 0.1) + noise * rng.normal(0, 0.001, 5)
            x_eq = (cap - a_ref) / SLOPE + offset
            naive = curve(x_eq) + rng.normal(0, 0.003)
            tech = curve(x_eq + TECH_DEX + gain) + rng.normal(0, 0.003)
            rows.append({"model": f"{f}-{x:.2f}", "family": f, "log10_flops": x,
                         **dict(zip(BENCH, scores)), "naive": np.clip(naive, 0, 1),
                         "tech": np.clip(tech, 0, 1)})
    return pd.DataFrame(rows).set_index("model")


@pytest.fixture(scope="module")
def table():
    return synthetic()


@pytest.fixture(scope="module")
def curves(table):
    return family_bootstrap(table, ["tech", "naive"], n_boot=150, seed=1, benchmarks=BENCH,
                            n_pcs=1, reference="Ref")


# -- known multipliers recovered ------------------------------------------------------------
def test_family_efficiency_recovers_shift_over_slope(table):
    space = fit_capability_space(table, benchmarks=BENCH, reference="Ref", n_components=3)
    boot = bootstrap_capability_space(table, n_boot=300, seed=0, benchmarks=BENCH,
                                      reference="Ref", resample="families")
    a, s = space.shared.intercepts, space.shared.slope
    m = compute_multiplier(difference=a["Eff"] - a["Ref"], slope=s,
                           difference_draws=boot.intercepts["Eff"] - boot.intercepts["Ref"],
                           slope_draws=boot.slope)
    truth = SHIFT / SLOPE
    assert m.dex == pytest.approx(truth, abs=0.03)
    assert m.lower <= truth <= m.upper
    assert m.factor == pytest.approx(10 ** m.dex)
    assert 50 < m.n_draws < 300  # only resamples holding both families count
    assert np.isclose(m.dex, space.shared.efficiency["Eff"])


def test_technique_curve_recovers_known_shift_at_two_capabilities(curves):
    for at in (22.5, 23.3):
        m = compute_multiplier(curve=curves["tech"], baseline=curves["naive"], at=at)
        assert m.dex == pytest.approx(TECH_DEX, abs=0.04), at
        assert m.lower <= TECH_DEX <= m.upper
        assert m.n_draws >= 140 and m.n_unbounded == 0


def test_technique_point_agrees_with_numeric_inversion(curves):
    """Independent check: invert the baseline's fitted curve with a root finder."""
    tech, naive = curves["tech"].predictor, curves["naive"].predictor
    at = 22.8
    y = tech.curve([at])[0]
    x_prime = brentq(lambda x: naive.curve([x])[0] - y, 18, 28, xtol=1e-12)
    m = compute_multiplier(curve=curves["tech"], baseline=curves["naive"], at=at)
    assert m.dex == pytest.approx(x_prime - at, abs=1e-8)


def test_two_levels_on_one_curve(curves):
    x0, x1 = 22.6, 23.4
    y0, y1 = curve(x0), curve(x1)
    m = compute_multiplier(curve=curves["naive"], levels=(y0, y1))
    assert m.dex == pytest.approx(x1 - x0, abs=0.04)
    assert m.lower <= x1 - x0 <= m.upper


def test_unreachable_score_is_unbounded(curves):
    # The link's ceiling is 1: reaching a score of 1 takes unbounded compute, and a score
    # below the fitted floor is never reached going down either.
    up = compute_multiplier(curve=curves["naive"], levels=(0.5, 1.0))
    assert up.dex == np.inf and up.n_unbounded == up.n_draws > 0 and up.upper == np.inf
    down = compute_multiplier(curve=curves["naive"], levels=(0.5, 0.0))
    assert down.dex == -np.inf and down.lower == -np.inf
    far = compute_multiplier(curve=curves["tech"], baseline=curves["naive"], at=40.0)
    assert not np.isnan(far.dex)


def test_paired_difference_of_multipliers(curves):
    a = compute_multiplier(curve=curves["tech"], baseline=curves["naive"], at=23.3)
    b = compute_multiplier(curve=curves["tech"], baseline=curves["naive"], at=22.5)
    d = a.minus(b)
    assert d.dex == pytest.approx(a.dex - b.dex)
    # The shift is the same everywhere: the paired difference is near 0 and covers it.
    assert d.lower <= 0 <= d.upper
    assert d.upper - d.lower < (a.upper - a.lower) + (b.upper - b.lower)


def test_mc_error_is_small_and_finite(curves):
    m = compute_multiplier(curve=curves["tech"], baseline=curves["naive"], at=23.0)
    assert 0 <= m.mc_error() < 0.05


def test_capabilities_and_reference_slope(table):
    fb = family_bootstrap(table, n_boot=60, seed=0, benchmarks=BENCH, n_pcs=1)
    s_point, s_draws = fb.capability_slope(table, "Ref")
    eff, ref = table[table.family == "Eff"], table[table.family == "Ref"]
    pe, de = fb.capabilities(eff)
    pr, dr = fb.capabilities(ref)
    # Same compute grid is not shared, so compare the families' mean offset at equal compute.
    diff = (pe[:, 0].mean() - s_point * eff.log10_flops.mean()) - \
        (pr[:, 0].mean() - s_point * ref.log10_flops.mean())
    m = compute_multiplier(difference=diff, slope=s_point)
    assert m.dex == pytest.approx(SHIFT / SLOPE, abs=0.05)
    assert np.isnan(m.lower) and m.n_draws == 0  # no draws given: no interval
    assert s_draws.shape == (60,) and np.nanstd(s_draws) < 0.1 * abs(s_point)


def test_pooled_median_and_table():
    rng = np.random.default_rng(0)
    ms = [compute_multiplier(difference=v, slope=1.0, difference_draws=v + rng.normal(0, 0.01, 200))
          for v in (0.1, 0.2, 0.3, 0.4, 1.0)]
    pooled = pooled_multiplier(ms, ["a", "a", "b", "c", "d"], seed=0)
    assert pooled.dex == pytest.approx(0.3)
    assert pooled.lower < 0.3 < pooled.upper and pooled.n_draws == 200
    tab = multiplier_table({"x": ms[0], "y": pooled})
    assert list(tab.index) == ["x", "y"] and tab.loc["x", "factor"] == pytest.approx(10 ** 0.1)


def test_match_by_name():
    base = ["org/Model-7b-hf", "org/Model-13b-hf", "other/Thing-1b-base", "x/Alone-3b"]
    tuned = ["model-7b-chat", "model-13b-instruct", "thing-1b-chat", "finetune-7b", "gpt-4"]
    m = match_by_name(base, tuned)
    assert m["base"].to_dict() == {"model-7b-chat": "org/Model-7b-hf",
                                   "model-13b-instruct": "org/Model-13b-hf",
                                   "thing-1b-chat": "other/Thing-1b-base"}


# -- bad inputs -------------------------------------------------------------------------------
def test_bad_inputs(table, curves):
    other = family_bootstrap(table, ["tech", "naive"], n_boot=20, seed=2, benchmarks=BENCH,
                             n_pcs=1, reference="Ref")
    bad = [
        (dict(), "exactly one of"),
        (dict(difference=0.1), "both"),
        (dict(difference=0.1, slope=0.0), "non-zero"),
        (dict(difference="a", slope=1.0), "difference must be a number"),
        (dict(difference=0.1, slope=1.0, difference_draws=np.ones(5), slope_draws=np.ones(4)),
         "draws"),
        (dict(difference=0.1, slope=1.0, level=90), "for 90% pass 0.9"),
        (dict(difference=0.1, slope=1.0, curve=curves["tech"]), "exactly one of"),
        (dict(curve="tech", baseline=curves["naive"], at=23.0), "CurveDraws"),
        (dict(curve=curves["tech"], baseline=other["naive"], at=23.0), "same resamples"),
        (dict(curve=curves["tech"], baseline=curves["naive"]), "at="),
        (dict(curve=curves["tech"], baseline=curves["naive"], at=float("nan")), "at must be"),
        (dict(curve=curves["tech"], levels=(0.2,)), "two scores"),
        (dict(curve=curves["tech"], levels=(0.2, 1.5)), "levels[1]"),
        (dict(curve=curves["tech"], levels=(0.2, 0.4), baseline=curves["naive"]),
         "exactly one of"),
    ]
    for kwargs, words in bad:
        with pytest.raises(ArgumentError, match=pytest.importorskip("re").escape(words)):
            compute_multiplier(**kwargs)


def test_family_bootstrap_bad_inputs(table):
    with pytest.raises(SchemaError, match="family_column"):
        family_bootstrap(table.drop(columns="family"), ["tech"], benchmarks=BENCH, n_pcs=1)
    with pytest.raises(SchemaError, match="nope"):
        family_bootstrap(table, ["nope"], benchmarks=BENCH, n_pcs=1)
    with pytest.raises(FitError, match="at least 2"):
        family_bootstrap(table.assign(family="one"), ["tech"], benchmarks=BENCH, n_pcs=1,
                         reference=None)
    with pytest.raises(ArgumentError, match="n_boot"):
        family_bootstrap(table, ["tech"], n_boot=1, benchmarks=BENCH, n_pcs=1)
    with pytest.raises(ArgumentError, match="boolean mask"):
        family_bootstrap(table, ["tech"], train=[1, 2], benchmarks=BENCH, n_pcs=1)
    fb = family_bootstrap(table, ["tech"], n_boot=10, benchmarks=BENCH, n_pcs=1,
                          reference="Ref")
    with pytest.raises(ArgumentError, match="No target"):
        fb["naive"]
    with pytest.raises(FitError, match="reference 'Nope'"):
        fb.capability_slope(table, "Nope")
    cols = family_bootstrap(table, ["tech"], n_boot=10, predictor="columns",
                            columns=("log10_flops",), reference=None)
    with pytest.raises(FitError, match="equivalent-compute axis"):
        compute_multiplier(curve=cols["tech"], levels=(0.2, 0.4))
    with pytest.raises(FitError, match="'pc' predictor"):
        cols.capabilities(table)
    no_axis = family_bootstrap(table, ["tech", "naive"], n_boot=10, benchmarks=BENCH, n_pcs=1,
                               reference=None)
    with pytest.raises(FitError, match="equivalent-compute axis"):
        compute_multiplier(curve=no_axis["tech"], baseline=no_axis["naive"], at=23.0)


def test_multiplier_helpers_bad_inputs():
    a = compute_multiplier(difference=0.1, slope=1.0, difference_draws=np.zeros(10))
    b = compute_multiplier(difference=0.1, slope=1.0, difference_draws=np.zeros(11))
    with pytest.raises(ArgumentError, match="same resamples"):
        a.minus(b)
    with pytest.raises(ArgumentError, match="Multiplier"):
        a.minus(0.3)
    with pytest.raises(ArgumentError, match="one cluster label"):
        pooled_multiplier([a, a], ["x"])
    with pytest.raises(ArgumentError, match="different resamples"):
        pooled_multiplier([a, b], ["x", "y"])
    with pytest.raises(ArgumentError, match="statistic"):
        pooled_multiplier([a], ["x"], statistic="mode")
    with pytest.raises(ArgumentError, match="Multiplier"):
        multiplier_table({"x": 1.0})
    with pytest.raises(OSLError, match="base"):
        match_by_name("", ["a"])
    assert isinstance(a, Multiplier)
