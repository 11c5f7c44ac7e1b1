"""Benchmark of :mod:`osl.multipliers` (discovered by ``python -m osl.bench``).

The beyond-scale chapter must execute in <= 8 s; its heaviest steps are the family bootstraps
of the prompting curves (imputation, PCA, links and axis refitted on every resample of whole
families). Targets: the four GSM8K set-ups with 300 resamples <= 1.0 s; one multiplier with
its interval from them <= 5 ms. Median of 3 runs; printed, never asserted.
"""
from __future__ import annotations

import statistics
import time

from . import data, presets
from .capability import forget_imputations
from .multipliers import compute_multiplier, family_bootstrap


def _median_time(fn, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        forget_imputations()  # each run cold
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def run():
    """Yield ``(what, seconds, target_seconds)`` tuples."""
    post = data.load_post_training()
    bench = tuple(b for b in presets.BASE_BENCHMARKS if b != "GSM8K")
    targets = list(presets.GSM8K_TECHNIQUES)

    def boot():
        return family_bootstrap(post, targets, n_boot=300, seed=0, benchmarks=bench, n_pcs=3)

    yield ("family bootstrap: 4 GSM8K set-ups, 300 resamples of families", _median_time(boot),
           1.0)
    fb = boot()
    yield ("one multiplier (CoT over naive) with its interval",
           _median_time(lambda: compute_multiplier(curve=fb["gsm8k_cot"],
                                                   baseline=fb["gsm8k_naive"], at=23.0), 5),
           0.005)
