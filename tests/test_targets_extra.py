"""Several paired gains in one call (:func:`osl.predict.bootstrap.fit_pairs`): identical to
one :func:`fit_paired` per pair (up to floating-point rounding), each (target, training models) fitted once, clear errors.
The choice of the number of PCs looks at training models only."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from osl.errors import ArgumentError, SchemaError
from osl.examples import BENCHMARKS, make_example_table
from osl.predict import choose_n_pcs_many, fit_paired, link, top_split
from osl.predict.bootstrap import fit_pairs

from conftest import lowrank_scores

GRID = [22.0, 23.0, 24.0]


def gain_table(n=80, seed=0) -> pd.DataFrame:
    """Three techniques as floored sigmoids of log10 FLOPs (``strong`` a decade earlier than
    ``base``), benchmark scores for the PC predictor, and a few missing technique scores."""
    rng = np.random.default_rng(seed)
    _, scores, _ = lowrank_scores(n, np.eye(3, 6) + 0.3, noise=0.02, seed=seed)
    lf = 21 + 4 * (scores.iloc[:, :3].mean(axis=1).to_numpy() - 0.3) / 0.4
    t = scores.assign(family="F", log10_flops=lf, flops_1e21=10 ** (lf - 21))
    for name, c in {"base": -46.0, "mid": -45.0, "strong": -44.0}.items():
        y = link(np.array([c, 2.0, 0.05]), lf[:, None]) + 0.02 * rng.normal(size=n)
        t[name] = np.clip(y, 0, 1)
    t.loc[t.index[:4], "strong"] = np.nan  # "strong" pairs train on fewer models
    return t


def same(p, q) -> None:
    """Equal up to floating-point rounding: batched solves pad problems of different sizes,
    which changes only the order of floating-point sums."""
    np.testing.assert_allclose(p.a.params, q.a.params, rtol=0, atol=1e-5)
    np.testing.assert_allclose(p.b.params, q.b.params, rtol=0, atol=1e-5)
    pd.testing.assert_frame_equal(p.curve(GRID), q.curve(GRID), rtol=0, atol=1e-8)


@pytest.mark.parametrize("predictor", ["log_flops", "pc"])
def test_fit_pairs_equals_one_fit_paired_per_pair(predictor):
    t = gain_table()
    kwargs = {"predictor": predictor}
    if predictor == "pc":
        kwargs.update(n_pcs=2, benchmarks=tuple(t.columns[:6]), reference="F")
    pairs = {"mid-base": ("mid", "base"), "strong-base": ("strong", "base"),
             "strong-mid": ("strong", "mid")}
    train = t["log10_flops"].to_numpy() < 23.5
    got = fit_pairs(t, pairs, train, n_boot=40, seed=5, **kwargs)
    assert list(got) == list(pairs)
    for name, (a, b) in pairs.items():
        same(got[name], fit_paired(t, a, b, train, n_boot=40, seed=5, **kwargs))
    # "base" of the first pair trains on more models than "base" of the second: two fits.
    assert got["mid-base"].b.predictor is not got["strong-base"].b.predictor
    assert got["strong-base"].b.predictor.n_train_ < got["mid-base"].b.predictor.n_train_
    # "strong" is trained on the same models in both of its pairs: one fit.
    assert got["strong-base"].a.predictor is got["strong-mid"].a.predictor
    held = t[~train]
    pd.testing.assert_frame_equal(got["mid-base"].predict(held),
                                  fit_paired(t, "mid", "base", train, n_boot=40,
                                             seed=5, **kwargs).predict(held))


def test_fit_pairs_takes_one_training_mask_per_pair():
    t = gain_table(seed=1)
    lf = t["log10_flops"].to_numpy()
    masks = {"early": lf < 23.0, "late": lf < 23.8}
    pairs = {"early": ("mid", "base"), "late": ("mid", "base")}
    got = fit_pairs(t, pairs, masks, n_boot=30, seed=2, predictor="log_flops")
    for name in pairs:
        same(got[name], fit_paired(t, "mid", "base", masks[name], n_boot=30, seed=2,
                                   predictor="log_flops"))
    assert got["early"].a.predictor.n_train_ < got["late"].a.predictor.n_train_


@pytest.mark.parametrize("pairs, train, exc, pattern", [
    ({}, None, ArgumentError, "non-empty"),
    ([("mid", "base")], None, ArgumentError, "non-empty"),
    ({"g": ("mid",)}, None, ArgumentError, r"\(target_a, target_b\)"),
    ({"g": ("mid", "mid")}, None, ArgumentError, "more than once"),
    ({"g": ("mid", "nope")}, None, SchemaError, "not in the table"),
    ({"g": ("mid", "base")}, {"h": None}, ArgumentError, "one mask per pair"),
    ({"g": ("mid", "base")}, {"g": np.ones(3, bool)}, ArgumentError, "train"),
])
def test_fit_pairs_rejects_bad_arguments(pairs, train, exc, pattern):
    with pytest.raises(exc, match=pattern):
        fit_pairs(gain_table(n=30), pairs, train, n_boot=10, predictor="log_flops")


# --- choosing the number of PCs on training models only -------------------------------------

def example(n=40, seed=3) -> pd.DataFrame:
    """The synthetic example table with every target measured and two families."""
    t = make_example_table(n=n, seed=seed, n_measured=n).set_index("model")
    t["family"] = ["A" if i % 2 else "B" for i in range(len(t))]
    return t


KW = {"benchmarks": list(BENCHMARKS), "reference": None}
TARGETS3 = ["agent_tasks", "hard_math", "long_puzzles"]


def choose(t, train):
    return choose_n_pcs_many(t, TARGETS3, train, ks=(1, 2, 3), inner="top", **KW)


def test_choose_n_pcs_top_ignores_the_held_out_models():
    t = example()
    splits = {x: top_split(t, x, share=0.2) for x in TARGETS3}
    train = splits["agent_tasks"].train & splits["hard_math"].train & splits["long_puzzles"].train
    want = choose(t, train)
    rng = np.random.default_rng(0)
    moved = t.copy()
    held = ~train
    assert held.sum() >= 8
    # Held-out targets replaced by noise, some removed, and their benchmark scores scrambled:
    # neither the chosen k nor any inner error may move.
    moved.loc[held, TARGETS3] = rng.uniform(0, 1, size=(held.sum(), 3))
    moved.loc[moved.index[held][:2], "hard_math"] = np.nan
    moved.loc[held, list(BENCHMARKS)] = rng.uniform(0.05, 0.95, size=(held.sum(), len(BENCHMARKS)))
    pd.testing.assert_frame_equal(choose(moved, train), want, check_exact=True)
    # ... while a change among the training models is seen (the test can fail).
    touched = t.copy()
    top_train = t.loc[train, "agent_tasks"].idxmax()
    touched.loc[top_train, "agent_tasks"] = 0.0
    assert not choose(touched, train).loc["agent_tasks"].equals(want.loc["agent_tasks"])


def test_choose_n_pcs_on_the_agent_table_ignores_gpt4():
    """As chapter 3 uses it: AgentBoard's k is chosen without looking at GPT-4, the held-out
    model, whatever GPT-4's score and benchmark row."""
    from osl import data, presets
    ag = data.load_agents()
    kw = {"ks": (1, 2, 3), "inner": "top", "benchmarks": list(presets.INSTRUCT_BENCHMARKS),
          "reference": presets.INSTRUCT_REFERENCE_FAMILY}
    split = top_split(ag, "agentboard_sr")
    assert list(ag.index[split.test]) == ["gpt-4-0314"]
    want = choose_n_pcs_many(ag, ["agentboard_sr", "agentboard_pr"], split.train, **kw)
    moved = ag.copy()
    moved.loc["gpt-4-0314", ["agentboard_sr", "agentboard_pr"]] = [0.01, 0.02]
    moved.loc["gpt-4-0314", list(presets.INSTRUCT_BENCHMARKS)] = 0.3
    got = choose_n_pcs_many(moved, ["agentboard_sr", "agentboard_pr"], split.train, **kw)
    pd.testing.assert_frame_equal(got, want, check_exact=True)
