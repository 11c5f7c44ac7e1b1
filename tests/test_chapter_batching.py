"""The batched helpers the chapters use for speed give what the one-at-a-time library calls
give: :func:`fit_many` equals separate :class:`ScalingPredictor` fits, and
:func:`leave_family_out_batched` equals :func:`leave_family_out`. Bad input raises clear errors.
"""
from __future__ import annotations

import numpy as np
import pytest

from osl import data, presets
from osl.errors import ArgumentError, FitError
from osl.predict import ScalingPredictor, cutoff_split
from osl.predict.chapters import emergent_setup, fit_many, leave_family_out_batched
from osl.predict.evaluation import leave_family_out

TASKS = list(presets.EMERGENT_TASKS)
PAPER = {t: emergent_setup(t, "paper")[1] for t in TASKS}
HEADLINE = {"PC-1..3": {"n_pcs": 3}, "log-FLOPs": {"predictor": "log_flops"}}


@pytest.fixture(scope="module")
def known():
    em = data.load_emergent()
    return em[em["flops_known"]]


def test_fit_many_equals_separate_fits_with_different_masks(known):
    flops = known["flops_1e21"].to_numpy()
    jobs = {(t, cut, name): (t, flops <= cut, {**PAPER[t], **kw})
            for t in TASKS[:3] + TASKS[-2:] for cut in (22, 84)
            for name, kw in HEADLINE.items()}
    got = fit_many(known, jobs)
    assert list(got) == list(jobs)
    for key, (t, train, kw) in jobs.items():
        alone = ScalingPredictor(**kw).fit(known, t, train)
        np.testing.assert_allclose(got[key].predict(known), alone.predict(known), atol=1e-7)
        assert got[key].n_train_ == alone.n_train_


def test_fit_many_skips_unfittable_jobs_only_when_asked(known):
    flops = known["flops_1e21"].to_numpy()
    jobs = {"ok": ("arithmetic_2da_2_acc", flops <= 84, {"n_pcs": 1}),
            "too few": ("arithmetic_2da_2_acc", flops <= 0.5, {"n_pcs": 3})}
    with pytest.raises(FitError, match="training model"):
        fit_many(known, jobs)
    got = fit_many(known, jobs, skip_unfittable=True)
    assert list(got) == ["ok"]


def test_leave_family_out_batched_equals_the_library_version(known):
    a = leave_family_out(known, TASKS, HEADLINE, per_target=PAPER, min_models=3)
    b = leave_family_out_batched(known, TASKS, HEADLINE, per_target=PAPER, min_models=3)
    pa, pb = a.predictions.sort_index(), b.predictions.sort_index()
    assert pa.index.equals(pb.index)
    assert (pa["family"] == pb["family"]).all()
    np.testing.assert_allclose(pa["mean"], pb["mean"], atol=1e-7)
    np.testing.assert_allclose(a.metrics["mse"], b.metrics.loc[a.metrics.index, "mse"],
                               rtol=1e-6)


def test_bad_jobs_raise_clear_errors(known):
    with pytest.raises(ArgumentError, match="non-empty"):
        fit_many(known, {})
    with pytest.raises(ArgumentError, match=r"\(target, train, kwargs\)"):
        fit_many(known, {"a": ("arithmetic_2da_2_acc", None)})
    with pytest.raises(ArgumentError, match="skip_unfittable must be True or False"):
        fit_many(known, {"a": ("arithmetic_2da_2_acc", None, {})}, skip_unfittable="yes")
    with pytest.raises(ArgumentError, match="predictors"):
        leave_family_out_batched(known, TASKS, {"x": lambda: None})
    with pytest.raises(FitError, match="no family"):
        leave_family_out_batched(known, TASKS, HEADLINE, per_target=PAPER, min_models=1000)
