"""Benchmark of the Leaderboard-v2 part (``python -m osl.bench`` discovers it).

The nine held-out fits of the authors' Leaderboard-v2 setting (BBH, GPQA, MATH level 5 with
PC-1..3, log-FLOPs and log-size, each at its own cutoff), as chapter 7 runs them, median of
five runs after one warm-up (the tables are loaded outside the timing). Target on a 2-core
machine: 0.5 s.
"""
from __future__ import annotations

import statistics
import time
from typing import Iterator


def _nine_fits(models) -> None:
    from . import leaderboard as L
    from .predict import compare
    for t in L.AUTHORS_TARGETS:
        _, kw = L.setup(t)
        base = {k: v for k, v in kw.items() if k != "benchmarks"}
        compare(models, [t], L.heldout(models, t),
                {"pc3": kw, "logflops": {**base, "predictor": "log_flops"},
                 "logsize": {**base, "predictor": "log_size"}})


def run() -> Iterator[tuple[str, float, float]]:
    """Yields ``(what, seconds, target_seconds)``."""
    from . import data
    from . import leaderboard as L
    from .capability import forget_imputations
    from .predict.features import _capability_fit
    models = L.authors_models(data.load_leaderboard_v2())
    _nine_fits(models)
    times = []
    for _ in range(5):
        _capability_fit.cache_clear()  # time the capability fits too, not a cache hit
        forget_imputations()
        t = time.perf_counter()
        _nine_fits(models)
        times.append(time.perf_counter() - t)
    yield ("Leaderboard v2: the authors' nine held-out fits (median of 5)",
           statistics.median(times), 0.5)
