"""The capability space on the paper's core set, and its bootstrap."""
from __future__ import annotations

import numpy as np
import pytest

from osl import presets
from osl.reported import PAPER
from osl.space import bootstrap_capability_space, fit_capability_space, stratified_indices

CH1 = PAPER["01_capability_space"]


@pytest.fixture(scope="module")
def space(core):
    return fit_capability_space(core)


def test_explained_variance_matches_the_paper(space, core):
    evr = space.capability.explained_variance_ratio_
    p1, p3 = CH1["pc1_explained_variance"], CH1["pc1_3_explained_variance"]
    assert abs(evr["PC-1"] - p1.value) <= p1.tolerance
    assert abs(evr.iloc[:3].sum() - p3.value) <= p3.tolerance
    std = fit_capability_space(core, standardize=True).capability.explained_variance_ratio_
    ps = CH1["pc1_explained_variance_standardized"]
    assert abs(std["PC-1"] - ps.value) <= ps.tolerance
    assert std["PC-1"] < evr["PC-1"]


def test_pc1_is_general_and_linear_in_compute_within_families(space):
    assert (space.capability.loadings_["PC-1"] > 0).all()
    assert space.median_family_r2 > 0.9
    assert space.shared.r2 > space.pooled["r2"]
    assert space.shared.slope > 0
    assert space.equivalent.r2_ > 0.99  # Llama-2's own three models


def test_train_mask_fits_on_train_only(core):
    train = core["log10_flops"].fillna(np.inf).to_numpy() <= np.log10(presets.DEFAULT_CUTOFF_1E21) + 21
    sp = fit_capability_space(core, train=train)
    assert sp.capability.index_.equals(core.index[train])
    assert len(sp.scores) == len(core)  # held-out models are scored too


def test_stratified_resampling_keeps_family_sizes(core):
    fam = core["family"].to_numpy(dtype=object)
    idx = stratified_indices(fam, 50, np.random.default_rng(0))
    for row in idx[:5]:
        got = np.unique(fam[row], return_counts=True)
        want = np.unique(fam, return_counts=True)
        assert list(got[0]) == list(want[0]) and list(got[1]) == list(want[1])


def test_bootstrap_is_reproducible_and_brackets_the_fit(core, space):
    a = bootstrap_capability_space(core, n_boot=200, seed=1)
    b = bootstrap_capability_space(core, n_boot=200, seed=1)
    np.testing.assert_array_equal(a.slope, b.slope)
    ev = a.interval("explained_variance_ratio")
    pc1 = space.capability.explained_variance_ratio_["PC-1"]
    assert ev.loc["PC-1", "lower"] < pc1 < ev.loc["PC-1", "upper"]
    assert (a.efficiency[presets.REFERENCE_FAMILY] == 0).all()
    assert a.n_iter.max() < 100


def test_bootstrap_intervals_cover_a_known_slope():
    """Synthetic families with a known shared slope: the 95% interval covers it."""
    import pandas as pd
    from conftest import lowrank_scores
    rng = np.random.default_rng(3)
    rows = []
    load = np.full((1, 8), 1 / np.sqrt(8))
    full, obs, _ = lowrank_scores(60, load, noise=0.003, seed=4, missing=0.1)
    pc = (full.to_numpy() - full.to_numpy().mean(0)) @ load[0]
    fam = np.repeat(["Llama-2", "B", "C", "D", "E", "F"], 10)
    offs = dict(zip(["Llama-2", "B", "C", "D", "E", "F"], rng.uniform(-1, 1, 6)))
    # build compute so that pc = offset[f] + 0.3 * log10 C exactly, plus noise
    log_c = (pc - np.array([offs[f] for f in fam])) / 0.3 + rng.normal(0, 0.02, 60)
    models = obs.assign(family=fam, log10_flops=log_c)
    bs = bootstrap_capability_space(models, n_boot=400, seed=5)
    lo, hi = np.percentile(bs.slope, [2.5, 97.5])
    assert lo < 0.3 < hi
    assert hi - lo < 0.05
