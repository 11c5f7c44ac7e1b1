"""Benchmark of the computations of the capability-space and emergence chapters (figures
excluded): each yields ``(what, seconds, target_seconds)`` for :mod:`osl.bench`.

* capability space: the three 1,000-resample bootstraps of the space (families, families
  standardized, models within families), the 500-resample rerun without GSM8K and MMLU, and the
  leave-one-family-out refits;
* emergence: the headline fits bootstrapped (500 resamples), every predictor and baseline under
  both set-ups, the batched leave-one-family-out fits and the choice of PCs;
* jumps (chapter 9): the cutoff backtest of all emergent targets (50 resamples per cutoff) and
  the 3-digit addition backtest (100).

Target: 3 s each on a quiet 2-core machine, what a chapter could spend on computation to
execute in 8 s with its imports and figures when these ran in the kernel (about 1.5 s and 3 to
5 s); kernels now start warm and figures are drawn beside them, so this is a margin.
"""
from __future__ import annotations

import time

from . import data, presets
from .capability import forget_imputations
from .predict import backtest_grid, choose_n_pcs_many, compare, cutoff_split
from .predict.baselines import BestTrainingScore, FamilyLogFlops, TrainingMean
from .predict.chapters import emergent_setup, leave_family_out_batched
from .space import bootstrap_capability_space, leave_one_family_out

TARGETS = {"capability": 3.0, "emergence": 3.0, "jumps": 3.0}


def capability_space() -> None:
    core = data.core_models()
    six = [b for b in presets.BASE_BENCHMARKS if b not in ("GSM8K", "MMLU")]
    bootstrap_capability_space(core, n_boot=1000, seed=0, resample="families")
    bootstrap_capability_space(core, n_boot=1000, seed=0, resample="families", standardize=True)
    bootstrap_capability_space(core, n_boot=1000, seed=0)
    bootstrap_capability_space(core, benchmarks=six, n_boot=500, seed=0, resample="families")
    leave_one_family_out(core)


def emergence() -> None:
    em = data.load_emergent()
    known = em[em["flops_known"]]
    split = cutoff_split(em)
    tasks = list(presets.EMERGENT_TASKS)
    paper = {t: emergent_setup(t, "paper")[1] for t in tasks}
    authors = {t: emergent_setup(t, "authors") for t in tasks}
    headline = {"PC-1..3": {"n_pcs": 3}, "log-FLOPs": {"predictor": "log_flops"}}
    predictors = {"PC-1": {"n_pcs": 1}, "PC-1..2": {"n_pcs": 2}, **headline,
                  "log-size": {"predictor": "log_size"}, "training mean": TrainingMean,
                  "best training score": BestTrainingScore, "family + log-FLOPs": FamilyLogFlops}
    compare(em, tasks, split, headline, per_target=paper, n_boot=500, seed=0)
    compare(em, tasks, split, predictors, per_target=paper)
    by_cut = {c: cutoff_split(known, c) for c, _ in authors.values()}
    compare(known, tasks, {t: by_cut[c] for t, (c, _) in authors.items()}, predictors,
            per_target={t: kw for t, (_, kw) in authors.items()})
    leave_family_out_batched(known, tasks, headline, per_target=paper, min_models=3)
    choose_n_pcs_many(em, tasks, split.train, ks=(1, 2, 3), per_target=paper,
                      if_unfittable="first")


def jumps() -> None:
    em = data.load_emergent()
    known = em[em["flops_known"]]
    tasks = list(presets.EMERGENT_TASKS)
    paper = {t: emergent_setup(t, "paper")[1] for t in tasks}
    headline = {"PC-1..3": {"n_pcs": 3}, "log-FLOPs": {"predictor": "log_flops"}}
    backtest_grid(em, tasks, [12, 22, 40, 84, 160], headline, per_target=paper, n_boot=50,
                  seed=0)
    t3 = "arithmetic_3da_2_acc"
    backtest_grid(known, [t3], [3, 6, 12, 22, 40, 84, 160], {**headline, "PC-1": {"n_pcs": 1}},
                  per_target={t3: emergent_setup(t3, "authors")[1]}, n_boot=100, seed=0)


def run():
    for name, fn, what in (("capability", capability_space, "capability-space chapter"),
                           ("emergence", emergence, "emergence chapter"),
                           ("jumps", jumps, "jumps chapter")):
        fn()  # warm-up: data loading and caches
        forget_imputations()  # a cold run: no imputation remembered from the warm-up
        t = time.perf_counter()
        fn()
        yield (f"{what} computation (bootstraps, fits)", time.perf_counter() - t,
               TARGETS[name])
