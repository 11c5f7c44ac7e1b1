"""Benchmark of :mod:`osl.selection`: the paper's whole budget ladder, from the core pool's PCA
to the selection at every budget (cold: the in-memory cache of the search is cleared first)."""
from __future__ import annotations

import time

#: Seconds allowed for the whole ladder (the official code needs about 15 minutes).
TARGET_SECONDS = 10.0


def _ladder(pool) -> None:
    from . import selection
    selection._search_cached.cache_clear()
    selection.search_subsets(pool).ladder(selection.DEFAULT_BUDGETS)


def run():
    """Yield ``(what, seconds, target_seconds)``: the best of three cold runs each."""
    from . import data
    from .capability import forget_imputations
    core = data.core_models()
    for what, pool in [("V-optimal ladder, core pool (431,909 combinations)", core),
                       ("V-optimal ladder, models <= 7B (89,845 combinations)",
                        core[core["params_b"] <= 7])]:
        times = []
        for _ in range(3):
            forget_imputations()  # each run cold
            t0 = time.perf_counter()
            _ladder(pool)
            times.append(time.perf_counter() - t0)
        yield what, min(times), TARGET_SECONDS


if __name__ == "__main__":
    for what, seconds, target in run():
        print(f"{what}: {seconds:.2f} s (target {target:g} s)")
