"""V-optimal family selection (osl.selection): the vectorised objective against a direct
computation, the exhaustive search against brute force, a known optimum recovered, the budget
ladder, the official code's selections on the core pool, the batched subset evaluation against
the estimator, bad inputs, and text values in the report."""
from __future__ import annotations

import itertools
import json

import numpy as np
import pandas as pd
import pytest

import osl
from osl import data, presets, report, selection
from osl.errors import ArgumentError, OSLError
from osl.predict import ScalingPredictor, cutoff_split


def direct_objective(X: np.ndarray, groups: np.ndarray, subset) -> float:
    """-trace(X^T X (X_S^T X_S)^-1) written out with numpy, one subset at a time."""
    XS = X[np.isin(groups, list(subset))]
    if XS.shape[0] < X.shape[1]:
        return -np.inf
    return -np.trace(X.T @ X @ np.linalg.inv(XS.T @ XS))


def synthetic_pool(n_families: int = 8, seed: int = 0, k: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    sizes = rng.integers(1, 5, size=n_families)
    fam = np.repeat([f"F{i}" for i in range(n_families)], sizes)
    X = rng.normal(size=(len(fam), k)) * rng.uniform(0.2, 2.0, size=(len(fam), 1))
    return pd.DataFrame(X, columns=[f"PC-{i + 1}" for i in range(k)],
                        index=[f"m{i}" for i in range(len(fam))]).assign(family=fam)


def brute_force(scores: pd.DataFrame, include: tuple, max_families: int) -> dict:
    """Every combination with itertools, its model count and its objective."""
    X = scores.drop(columns="family").to_numpy()
    g = scores["family"].to_numpy()
    others = sorted(set(g) - set(include))
    out = {}
    for r in range(1, max_families - len(include) + 1):
        for c in itertools.combinations(others, r):
            sub = tuple(sorted(c + include))
            out[sub] = (int(np.isin(g, sub).sum()), direct_objective(X, g, sub))
    return out


@pytest.mark.parametrize("k", [3, 2, 4])
def test_vectorised_objective_equals_direct_computation(k):
    pool = synthetic_pool(10, seed=k, k=k)
    X, g = pool.drop(columns="family").to_numpy(), pool["family"].to_numpy()
    rng = np.random.default_rng(1)
    subsets = [tuple(rng.choice(sorted(set(g)), size=rng.integers(1, 7), replace=False))
               for _ in range(200)]
    got = selection.vopt_objective(X, g, subsets)
    want = np.array([direct_objective(X, g, s) for s in subsets])
    assert np.array_equal(np.isinf(got), np.isinf(want))
    np.testing.assert_allclose(got[np.isfinite(want)], want[np.isfinite(want)], rtol=1e-9)


@pytest.mark.parametrize("include", [("F0",), ()])
def test_exhaustive_search_equals_brute_force(include):
    pool = synthetic_pool(9, seed=3)
    search = selection.search_scores(pool, include=include, max_families=5)
    brute = brute_force(pool, include, 5)
    assert search.n_combinations == len(brute)
    ours = {search.families_of(m): (n, o) for m, n, o in
            zip(search.masks, search.n_models, search.objective)}
    assert set(ours) == set(brute)
    for key, (n, o) in brute.items():
        assert ours[key][0] == n
        assert ours[key][1] == pytest.approx(o, rel=1e-9) if np.isfinite(o) else ours[key][1] == o
    for budget in range(2, 20, 3):
        fits = {s: o for s, (n, o) in brute.items() if n <= budget and np.isfinite(o)}
        if not fits:
            with pytest.raises(ArgumentError, match="budget"):
                search.ladder([budget])
            continue
        best = max(fits.values())
        row = search.ladder([budget]).iloc[0]
        assert row["objective"] == pytest.approx(best, rel=1e-9)
        assert fits[row["families"]] == pytest.approx(best, rel=1e-9)


def test_known_optimum_recovered():
    """Three strong families along the three axes and decoys (weaker copies of one axis, or
    mixtures): with a budget of three families the axes are the V-optimal choice."""
    rows = []
    for name, direction, scale in [("X", [1, 0, 0], 3), ("Y", [0, 1, 0], 3), ("Z", [0, 0, 1], 3),
                                   ("weakX", [1, 0, 0], 1), ("weakY", [0, 1, 0], 0.5),
                                   ("XY", [1, 1, 0], 1), ("YZ", [0, 1, 1], 1)]:
        for s in (scale, 0.8 * scale):
            rows.append({"family": name, "PC-1": s * direction[0], "PC-2": s * direction[1],
                         "PC-3": s * direction[2]})
    pool = pd.DataFrame(rows, index=[f"m{i}" for i in range(len(rows))])
    search = selection.search_scores(pool, include=(), max_families=4)
    assert search.ladder([6]).iloc[0]["families"] == ("X", "Y", "Z")
    # with one family forced, the other two axes complete the design
    forced = selection.search_scores(pool, include=("weakX",), max_families=4)
    assert set(forced.ladder([6]).iloc[0]["families"]) == {"weakX", "Y", "Z"}


def test_budget_ladder_is_monotone_and_within_budget(core):
    search = selection.search_subsets(core)
    lad = search.ladder(range(4, 41, 2))
    assert (lad["n_models"] <= lad.index).all()
    assert np.all(np.diff(lad["objective"].to_numpy()) >= 0)
    assert all("Llama-2" in f for f in lad["families"])
    assert (lad["n_families"] <= 10).all()


def test_official_code_selections_reproduced_on_the_core_pool(core):
    """The core pool (77 models, 21 families), Llama-2 always included, up to 10 families:
    431,909 combinations; the selections and objectives the official code printed."""
    search = selection.search_subsets(core)
    assert search.n_combinations == 431_909
    lad = search.ladder()
    for budget, (families, objective) in selection.OFFICIAL_GUIDE["all"].items():
        assert lad.loc[budget, "families"] == families
        assert round(lad.loc[budget, "objective"], 2) == objective
    small = selection.search_subsets(core[core["params_b"] <= 7])
    assert small.n_combinations == 89_845
    lad = small.ladder()
    for budget, (families, objective) in selection.OFFICIAL_GUIDE["sub7b"].items():
        assert lad.loc[budget, "families"] == families
        assert round(lad.loc[budget, "objective"], 2) == objective


def test_search_objective_agrees_with_direct_computation_on_the_core_pool(core):
    search = selection.search_subsets(core)
    X = search.scores.drop(columns="family").to_numpy()
    g = search.scores["family"].to_numpy()
    rng = np.random.default_rng(0)
    for i in rng.choice(search.n_combinations, size=50, replace=False):
        fam = search.families_of(search.masks[i])
        assert search.objective[i] == pytest.approx(direct_objective(X, g, fam), rel=1e-9)
        assert search.n_models[i] == np.isin(g, fam).sum()


def test_random_baseline_respects_budget_and_include(core):
    search = selection.search_subsets(core)
    draws = search.random(12, 200, seed=1)
    sizes = core["family"].value_counts()
    for fam in draws:
        assert "Llama-2" in fam and 2 <= len(fam) <= 10
        assert 10 <= sizes[list(fam)].sum() <= 12
    assert draws == search.random(12, 200, seed=1)
    assert draws != search.random(12, 200, seed=2)


def test_search_is_cached_per_pool(core):
    a = selection.search_subsets(core)
    b = selection.search_subsets(core)
    assert a.masks is b.masks


def test_evaluate_subsets_equals_the_estimator():
    em = data.load_emergent()
    split = cutoff_split(em)
    tasks = ["word_unscrambling_2_exact_match", "arithmetic_3da_2_acc", "parsinlu_qa_2_acc"]
    per = {"arithmetic_3da_2_acc": {"benchmarks": tuple(b for b in presets.BASE_BENCHMARKS
                                                       if b != "GSM8K")}}
    subsets = [("Llama-2", "OPT", "Pythia"), ("Llama", "Llama-2", "Phi", "Qwen1.5", "XGLM"),
               ("BLOOM", "Falcon", "GPT-Neo/J", "Llama-2"), ("Llama-2", "Phi")]
    ev = osl.evaluate_subsets(em, tasks, subsets, train=split.train, test=split.test,
                              per_target=per)
    for i, fam in enumerate(subsets):
        rows = split.train & em["family"].isin(fam).to_numpy()
        for t in tasks:
            has = rows & em[t].notna().to_numpy()
            assert ev.loc[i, (t, "n_train")] == has.sum()
            if has.sum() < 7:   # too few models for four link parameters and three PCs
                assert np.isnan(ev.loc[i, (t, "mse")])
                continue
            p = ScalingPredictor(n_pcs=3, **per.get(t, {})).fit(em, t, rows)
            te = split.test & em[t].notna().to_numpy()
            want = float(np.mean((p.predict(em[te]) - em.loc[te, t]) ** 2))
            assert ev.loc[i, (t, "mse")] == pytest.approx(want, rel=1e-6)
    again, sq = osl.evaluate_subsets(em, tasks, subsets, train=split.train, test=split.test,
                                     per_target=per, errors=True)
    pd.testing.assert_frame_equal(again, ev)
    for t in tasks:
        np.testing.assert_allclose(sq[t].mean(axis=1, skipna=False), ev[(t, "mse")])
        held = em.index[split.test & em[t].notna().to_numpy()]
        assert list(sq[t].columns) == list(held)


# -- bad inputs ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def small_pool():
    return synthetic_pool(6, seed=5)


def test_bad_inputs_name_the_argument(core, small_pool):
    search = selection.search_scores(small_pool, include=("F0",), max_families=4)
    f0 = int((small_pool["family"] == "F0").sum())
    cases = [
        (lambda: search.ladder([f0 - 1]) if f0 > 1 else search.ladder([0]), "budget"),
        (lambda: search.ladder([4.5]), "budget"),
        (lambda: search.ladder([]), "budgets"),
        (lambda: search.random(10, 0, seed=0), "n_draws"),
        (lambda: search.random(10, 5, seed=-1), "seed"),
        (lambda: selection.search_scores(small_pool, include=("Nope",)), "include"),
        (lambda: selection.search_scores(small_pool, include=("F0",), max_families=1),
         "max_families"),
        (lambda: selection.search_scores(small_pool.drop(columns="family")), "family"),
        (lambda: selection.search_scores(small_pool.assign(**{"PC-1": np.nan})), "finite"),
        (lambda: selection.search_scores(synthetic_pool(40), include=(), max_families=15), "max_families"),
        (lambda: selection.search_subsets(core, include="Llama-9"), "include"),
        (lambda: selection.search_subsets(core, n_pcs=0), "n_pcs"),
        (lambda: selection.search_subsets(core.drop(columns="MMLU")), "MMLU"),
        (lambda: selection.search_subsets("core.csv"), "pool"),
        (lambda: selection.vopt_objective(np.ones(5), ["a"] * 5, [("a",)]), "X"),
        (lambda: selection.vopt_objective(np.ones((5, 2)), ["a"] * 4, [("a",)]), "groups"),
        (lambda: selection.vopt_objective(np.ones((5, 2)), ["a"] * 5, "a"), "subsets"),
        (lambda: selection.vopt_objective(np.ones((5, 2)), ["a"] * 5, [("b",)]), "subsets"),
    ]
    for call, word in cases:
        with pytest.raises(OSLError, match=word):
            call()


def test_evaluate_subsets_bad_inputs():
    em = data.load_emergent()
    split = cutoff_split(em)
    t = ["word_unscrambling_2_exact_match"]
    ok = {"train": split.train, "test": split.test}
    cases = [
        (lambda: osl.evaluate_subsets(em, t, "Llama-2", **ok), "subsets"),
        (lambda: osl.evaluate_subsets(em, t, [], **ok), "subsets"),
        (lambda: osl.evaluate_subsets(em, t, ["Llama-2"], **ok), r"subsets\[0\]"),
        (lambda: osl.evaluate_subsets(em, t, [("Llama-2",)], train=split.train,
                                      test=split.train), "overlap"),
        (lambda: osl.evaluate_subsets(em, t, [("Llama-2",)], train=split.train[:-1],
                                      test=split.test), "train"),
        (lambda: osl.evaluate_subsets(em, t, [("Llama-2",)], per_target={"x": {}}, **ok),
         "per_target"),
        (lambda: osl.evaluate_subsets(em, t, [("Llama-2",)], link_spec="floored", **ok),
         "link_spec"),
        (lambda: osl.evaluate_subsets(em, t, [("Llama-2",)], errors="yes", **ok), "errors"),
    ]
    for call, word in cases:
        with pytest.raises(OSLError, match=word):
            call()
    with pytest.raises(OSLError, match="target"):
        osl.evaluate_subsets(em, ["no_such_task"], [("Llama-2",)], **ok)


# -- text values in the report ------------------------------------------------------------------
def test_report_records_text_values_without_judging_them(tmp_path, monkeypatch):
    monkeypatch.setenv("OSL_BUILD_DIR", str(tmp_path / "_build"))
    rep = report.Report("99_demo")
    assert rep.add("chosen", "Llama-2+OPT", description="selected families") == "Llama-2+OPT"
    rep.add("share", 0.75, description="a number")
    assert rep["chosen"] == "Llama-2+OPT"
    assert rep.table().loc["selected families", "verdict"] == report.NO_VERDICT
    assert rep.verdict == report.NO_VERDICT
    doc = json.loads(rep.write().read_text())
    assert doc["numbers"]["chosen"]["value"] == "Llama-2+OPT"
    assert doc["numbers"]["chosen"]["paper"] is None
    assert isinstance(doc["numbers"]["share"]["value"], float)
    assert report.verdict_rows(report.load_results()).empty
    with pytest.raises(OSLError, match="never judged"):
        rep.add("chosen2", "A+B", description="x", paper=1.0)
    with pytest.raises(OSLError, match="description"):
        rep.add("chosen3", "A+B")
