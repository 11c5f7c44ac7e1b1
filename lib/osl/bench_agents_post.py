"""Benchmark of the computations of the agents and post-training chapters (figures excluded):
each yields ``(what, seconds, target_seconds)`` for :mod:`osl.bench`.

* agents: the held-out targets' bootstrap (500 resamples), the seventeen environments'
  bootstrap (250) and the eight leave-one-out fits bootstrapped in one call (250 each);
* post-training: the six prompting set-ups fitted with every predictor and PC-1..3
  bootstrapped once (500), the bootstrap the paired gains reuse.

Targets: 4 s for the agents' computation and 2 s for the post-training one on a quiet 2-core
machine (a chapter executes in 8 s with imports and figures).
"""
from __future__ import annotations

import time

from . import data, presets
from .capability import forget_imputations
from .predict import Split, bootstrap_many, compare, cutoff_split, leave_one_out_many, top_split
from .predict.baselines import BestTrainingScore, FamilyLogFlops, TrainingMean

TARGETS = {"agents": 4.0, "post_training": 2.0}


def agents() -> None:
    ag = data.load_agents()
    pcs = {"n_pcs": 3, "benchmarks": list(presets.INSTRUCT_BENCHMARKS),
           "reference": presets.INSTRUCT_REFERENCE_FAMILY}
    targets = list(presets.AGENT_TARGETS)
    held = {t: top_split(ag, t) for t in targets}
    held["agentboard_pr"] = held["agentboard_sr"]
    compare(ag, targets, held, {"PC-1..3": pcs}, n_boot=500, seed=0)
    envs = {c: "agentbench" for c in ag if c.startswith("ABench-") and c != "ABench-OA"}
    envs |= {c: "agentboard_sr" for c in ag if c.startswith("ABoard-") and c.endswith("_SR")
             and "Avg" not in c}
    compare(ag, list(envs), {e: held[t] for e, t in envs.items()}, {"PC-1..3": pcs},
            n_boot=250, seed=0, skip_unfittable=True)
    leave_one_out_many(ag, {"agentbench": list(ag["agentbench"].nlargest(5).index),
                            "agentboard_sr": list(ag["agentboard_sr"].nlargest(3).index)},
                       n_boot=250, seed=0, **pcs)


def post_training() -> None:
    pt = data.load_post_training()
    split = cutoff_split(pt)
    bench = tuple(b for b in presets.BASE_BENCHMARKS if b != "GSM8K")
    setups = {"gsm8k": list(presets.GSM8K_TECHNIQUES), "bbh": list(presets.BBH_PROMPTS)}
    splits = {k: Split(split.train & pt[c].notna().all(axis=1).to_numpy(), split.test, k)
              for k, c in setups.items()}
    techs = [t for c in setups.values() for t in c]
    cmp = compare(pt, techs, {t: splits[t.split("_")[0]] for t in techs},
                  {"PC-1": {"benchmarks": bench, "n_pcs": 1},
                   "PC-1..3": {"benchmarks": bench, "n_pcs": 3},
                   "log-FLOPs": {"predictor": "log_flops"}, "training mean": TrainingMean,
                   "best training score": BestTrainingScore,
                   "family intercept + log-FLOPs": FamilyLogFlops})
    bootstrap_many([cmp.fits[t, "PC-1..3"] for t in techs], 500, 0)


def run():
    for name, fn in (("agents", agents), ("post_training", post_training)):
        fn()  # warm-up: data loading and caches
        forget_imputations()  # a cold run: no imputation remembered from the warm-up
        t = time.perf_counter()
        fn()
        yield (f"{name} chapter computation (bootstraps)", time.perf_counter() - t,
               TARGETS[name])
