"""Imputation and PCA: recovery of known structure, fit-on-train/apply-to-test, errors."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.decomposition import PCA

from osl import presets
from osl.capability import CapabilityModel, fit_capabilities, impute_stack
from osl.errors import ArgumentError, FitError, NotFittedError, ScoreError

from conftest import lowrank_scores

RNG_LOADINGS = np.random.default_rng(7)


def unit_rows(a: np.ndarray) -> np.ndarray:
    return a / np.linalg.norm(a, axis=1, keepdims=True)


RANK1 = unit_rows(np.abs(RNG_LOADINGS.normal(size=(1, 8))) + 0.3)
RANK3 = np.linalg.qr(RNG_LOADINGS.normal(size=(8, 3)))[0].T  # orthonormal rows


@pytest.mark.parametrize("missing", [0.10, 0.20, 0.30])
def test_rank1_imputation_recovers_missing_cells(missing):
    full, obs, miss = lowrank_scores(150, RANK1, noise=0.003, seed=1, missing=missing)
    cap = CapabilityModel(benchmarks=tuple(full.columns)).fit(obs)
    imputed = cap.impute(obs).to_numpy()
    err = np.abs(imputed - full.to_numpy())[miss]
    spread = full.to_numpy().std()
    # Tolerance: the cells' RMSE is within a few noise standard deviations and far below the
    # spread of the scores (mean imputation would give an error of about `spread`).
    assert np.sqrt(np.mean(err ** 2)) < 0.02
    assert np.sqrt(np.mean(err ** 2)) < 0.15 * spread
    assert cap.converged_ and cap.n_iter_ < 200


@pytest.mark.parametrize("missing", [0.10, 0.20, 0.30])
def test_pca_recovers_known_loadings_and_variance(missing):
    full, obs, _ = lowrank_scores(300, RANK3, noise=0.002, seed=2, missing=missing)
    cap = CapabilityModel(benchmarks=tuple(full.columns), n_components=3).fit(obs)
    W = cap.loadings_.to_numpy().T  # (3, 8)
    # Cosines of the principal angles between the fitted and the true 3-D subspace.
    cosines = np.linalg.svd(W @ RANK3.T, compute_uv=False)
    # Tolerances: PC-1 and the top-2 subspace are recovered almost exactly at any missing share.
    # The imputation is rank-1, so imputed cells carry no signal of the weakest direction: its
    # recovery degrades with missingness (measured 0.996 / 0.953 / 0.869 at 10 / 20 / 30 %);
    # we require a cosine above 1 - missing share.
    assert abs(W[0] @ RANK3[0]) > 0.99
    assert cosines[1] > 0.995
    assert cosines[2] > 1 - missing
    assert cap.explained_variance_ratio_.iloc[:3].sum() > 0.95


def test_complete_data_pca_equals_sklearn():
    full, _, _ = lowrank_scores(80, RANK3, noise=0.01, seed=3)
    cap = CapabilityModel(benchmarks=tuple(full.columns), n_components=5).fit(full)
    ref = PCA(n_components=8).fit(full.to_numpy())
    np.testing.assert_allclose(cap.explained_variance_ratio_.to_numpy(),
                               ref.explained_variance_ratio_, atol=1e-10)
    signs = np.sign(np.sum(ref.components_[:5] * cap.loadings_.to_numpy().T, axis=1))
    np.testing.assert_allclose(cap.loadings_.to_numpy().T, ref.components_[:5] * signs[:, None],
                               atol=1e-8)
    np.testing.assert_allclose(cap.transform(full).to_numpy(),
                               ref.transform(full.to_numpy())[:, :5] * signs, atol=1e-8)


def test_standardized_variant_matches_sklearn_on_standardized_scores():
    full, _, _ = lowrank_scores(80, RANK3, noise=0.01, seed=4)
    cap = CapabilityModel(benchmarks=tuple(full.columns), standardize=True).fit(full)
    Z = (full - full.mean()) / full.std(ddof=0)
    ref = PCA().fit(Z.to_numpy())
    np.testing.assert_allclose(cap.explained_variance_ratio_.to_numpy(),
                               ref.explained_variance_ratio_, atol=1e-10)


def test_fit_on_train_apply_to_test():
    full, obs, miss = lowrank_scores(200, RANK1, noise=0.003, seed=5, missing=0.2)
    train, test = obs.iloc[:120], obs.iloc[120:]
    cap = CapabilityModel(benchmarks=tuple(full.columns)).fit(train)
    # Test models are imputed by the *fitted* component, without refitting on them.
    before = cap.loadings_.copy()
    imputed = cap.impute(test).to_numpy()
    pd.testing.assert_frame_equal(before, cap.loadings_)
    err = np.abs(imputed - full.iloc[120:].to_numpy())[miss[120:]]
    assert np.sqrt(np.mean(err ** 2)) < 0.02
    # Observed cells pass through untouched.
    m = ~np.isnan(test.to_numpy())
    np.testing.assert_array_equal(imputed[m], test.to_numpy()[m])
    # Applying the fitted model to the training rows reproduces the iterative fit.
    _, X_iter, _ = fit_capabilities(train.to_numpy(), cap.benchmarks)
    np.testing.assert_allclose(cap.impute(train).to_numpy(), X_iter[0], atol=1e-4)


def test_single_row_imputation_is_the_least_squares_fit():
    full, obs, _ = lowrank_scores(100, RANK1, noise=0.003, seed=6)
    cap = CapabilityModel(benchmarks=tuple(full.columns)).fit(full)
    row = full.iloc[[0]].copy()
    row.iloc[0, [2, 5]] = np.nan
    got = cap.impute(row).to_numpy()[0]
    f = cap.fit_
    z = (row.to_numpy()[0] - f.mean[0]) / f.std[0]
    obs_ = ~np.isnan(z)
    v, mu = f.component[0], f.center[0]
    t = np.linalg.lstsq(v[obs_, None], (z - mu)[obs_], rcond=None)[0][0]
    expect = np.clip((mu + t * v) * f.std[0] + f.mean[0], 0, 1)
    np.testing.assert_allclose(got[~obs_], expect[~obs_], atol=1e-12)


def test_converges_long_before_the_reference_cap(core):
    cap = CapabilityModel().fit(core[list(presets.BASE_BENCHMARKS)])
    assert cap.converged_ and cap.n_iter_ < 50


def test_batched_fit_equals_single_fit(core):
    X = core[list(presets.BASE_BENCHMARKS)].to_numpy()
    cap = CapabilityModel(n_components=8).fit(core[list(presets.BASE_BENCHMARKS)])
    batch, _, scores = fit_capabilities(np.stack([X, X]), cap.benchmarks)
    assert batch.n_fits == 2
    np.testing.assert_allclose(batch.explained_variance_ratio[1],
                               cap.explained_variance_ratio_.to_numpy(), atol=1e-12)
    np.testing.assert_allclose(scores[0], cap.transform(core).to_numpy(), atol=1e-4)
    # The stacked fit's own transform equals the single fit's, resample by resample.
    np.testing.assert_allclose(batch.transform(X, 8)[1], cap.transform(core).to_numpy(),
                               atol=1e-12)


def test_no_missing_cells_means_no_iterations():
    full, _, _ = lowrank_scores(30, RANK1, noise=0.01, seed=8)
    out = impute_stack(full.to_numpy()[None])
    assert out["n_iter"][0] == 0
    np.testing.assert_array_equal(out["X"][0], full.to_numpy())


def test_reconstruction_of_new_models():
    full, _, _ = lowrank_scores(200, RANK3, noise=0.002, seed=9)
    cap = CapabilityModel(benchmarks=tuple(full.columns), n_components=3).fit(full.iloc[:100])
    assert cap.reconstruction_r2(full.iloc[100:], 3) > 0.98
    assert cap.reconstruction_r2(full.iloc[100:], 1) < cap.reconstruction_r2(full.iloc[100:], 3)


# ---------------------------------------------------------------------------------------------
def test_too_few_models():
    full, _, _ = lowrank_scores(5, RANK1, noise=0.01, seed=10)
    with pytest.raises(FitError, match="at least 6 training models"):
        CapabilityModel(benchmarks=tuple(full.columns)).fit(full)


def test_constant_benchmark():
    full, _, _ = lowrank_scores(30, RANK1, noise=0.01, seed=11)
    full["MMLU"] = 0.5
    with pytest.raises(FitError, match="constant"):
        CapabilityModel(benchmarks=tuple(full.columns)).fit(full)


def test_model_without_any_score():
    full, _, _ = lowrank_scores(30, RANK1, noise=0.01, seed=12)
    full.iloc[4] = np.nan
    with pytest.raises(ScoreError, match="m4"):
        CapabilityModel(benchmarks=tuple(full.columns)).fit(full)


def test_benchmark_almost_never_observed():
    full, _, _ = lowrank_scores(30, RANK1, noise=0.01, seed=13)
    full.iloc[1:, 0] = np.nan
    with pytest.raises(FitError, match="observed score"):
        CapabilityModel(benchmarks=tuple(full.columns)).fit(full)


def test_missing_benchmark_column(core):
    with pytest.raises(Exception, match="HumanEval"):
        CapabilityModel().fit(core.drop(columns="HumanEval"))


def test_out_of_range_scores():
    full, _, _ = lowrank_scores(30, RANK1, noise=0.01, seed=14)
    full.iloc[0, 0] = 55.0
    with pytest.raises(ScoreError, match="outside"):
        CapabilityModel(benchmarks=tuple(full.columns)).fit(full)


def test_use_before_fit():
    with pytest.raises(NotFittedError, match="fit"):
        CapabilityModel().transform(pd.DataFrame())


def test_bad_number_of_components():
    with pytest.raises(ArgumentError, match="n_components must be between 1 and 8, got 9"):
        CapabilityModel(n_components=9)


def test_repeated_imputation_is_remembered_and_callers_get_their_own_copies():
    """A stack imputed twice is computed once: the second result equals the first (computed
    afresh with the memory cleared), and changing a result does not change later ones."""
    from osl import capability
    X = np.stack([lowrank_scores(30, RANK3, noise=0.01, seed=s, missing=0.2)[1].to_numpy()
                  for s in range(5)])
    first = impute_stack(X)
    first["X"][:] = -1.0  # a caller's own edit
    again = impute_stack(X)
    capability.forget_imputations()
    fresh = impute_stack(X)
    for k in fresh:
        np.testing.assert_array_equal(again[k], fresh[k])
    assert (again["X"] >= 0).all()
    other = impute_stack(X, max_iter=3)  # other settings are not confused with these
    assert other["n_iter"].max() <= 3 < fresh["n_iter"].max()
