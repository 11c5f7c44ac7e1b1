"""Benchmark of the forecast-trust grid (:func:`osl.predict.trust.trust_grid`), found by
``python -m osl.bench``: the whole grid (every target, the full cutoff ladder, top-k and
leave-one-out agent splits, six predictors, intervals for four) computed from scratch, and the
reduced grid the book's chapter runs. Targets on a quiet 2-core machine: 60 s and 4 s.

``python -m osl.bench_trust`` prints the same lines plus the grid's pooled coverage.
"""
from __future__ import annotations

import time

from .capability import forget_imputations
from .predict.trust import REDUCED, grid_tables, trust_grid

TARGETS = {"grid": 60.0, "reduced": 4.0}


def run():
    """Yield ``(what, seconds, target_seconds)`` for the full and the reduced grid."""
    tables = grid_tables()
    forget_imputations()
    t0, c0 = time.perf_counter(), time.process_time()
    full = trust_grid(tables, cache=False)
    yield (f"forecast-trust grid ({len(full.cells)} cells, {len(full.predictions)} held-out "
           f"predictions; {time.process_time() - c0:.1f} s of CPU)", time.perf_counter() - t0,
           TARGETS["grid"])
    forget_imputations()
    t0, c0 = time.perf_counter(), time.process_time()
    small = trust_grid(tables, cache=False, progress=False, **REDUCED)
    yield (f"reduced grid of the chapter ({len(small.cells)} cells; "
           f"{time.process_time() - c0:.1f} s of CPU)", time.perf_counter() - t0,
           TARGETS["reduced"])
    run.last = (full, small)


def main() -> int:
    for what, seconds, target in run():
        print(f"{what:<70s} {seconds:7.2f} s  (target {target:g} s)")
    full, _ = run.last
    print(full.coverage().round(3).to_string())
    print(full.coverage(()).round(3).to_string())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
