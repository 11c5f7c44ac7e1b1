"""Benchmark of the ``osl`` command: ``osl predict`` for 4 targets x 300 test models with 1,000
bootstrap resamples (target: under 5 s on a 2-core machine).

TRAIN is the paper's base-model table without the pre-registered models, TARGETS four
Leaderboard-v2 scores, TEST 300 synthetic models made by resampling real rows and perturbing
each score by a little noise (some cells blanked, to exercise the imputation). Timed as a user
runs it (a new Python process, imports included; wall and CPU time, the latter being what the
wall time is on a quiet machine when other work shares the cores) and as :func:`osl.cli.main`
called in a warm process (the computation alone). ``python -m osl.bench_cli`` prints them.
"""
from __future__ import annotations

import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from . import data, presets
from .capability import forget_imputations

TARGET_SECONDS = 5.0
N_TEST, N_BOOT = 300, 1000
TARGETS = ("leaderboard_bbh", "leaderboard_gpqa", "leaderboard_math_hard", "leaderboard_musr")


def make_files(folder: Path, n_test: int = N_TEST, seed: int = 0) -> list[str]:
    """Write TRAIN, TARGETS and TEST into ``folder``; returns the ``osl predict`` arguments."""
    rng = np.random.default_rng(seed)
    raw = pd.read_csv(data.fetch("base_llm_benchmark_eval.csv"))
    pre = raw["Model"].isin(presets.PREREGISTERED_MODELS)
    train = raw[~pre]
    bench = list(presets.BASE_BENCHMARKS)
    rows = raw.sample(n_test, replace=True, random_state=seed)[bench].to_numpy(float)
    rows = np.clip(rows + 0.01 * rng.normal(size=rows.shape), 0, 1)
    rows[rng.random(rows.shape) < 0.05] = np.nan
    test = pd.DataFrame(rows, columns=bench)
    test.insert(0, "Model", [f"synthetic/model-{i:03d}" for i in range(n_test)])
    lb = pd.read_csv(data.fetch("base_llm_leaderboard_v2_eval.csv"))[["Model", *TARGETS]]
    paths = {k: folder / f"{k}.csv" for k in ("train", "targets", "test")}
    train.to_csv(paths["train"], index=False)
    lb.to_csv(paths["targets"], index=False)
    test.to_csv(paths["test"], index=False)
    return ["predict", "--train", str(paths["train"]), "--targets", str(paths["targets"]),
            "--test", str(paths["test"]), "--out", str(folder / "pred.csv"), "--model-column",
            "Model", "--benchmarks", ",".join(bench), "--n-boot", str(N_BOOT), "--quiet"]


def run():
    """Yield ``(what, seconds, target_seconds)`` for the cold command and the warm call."""
    from .cli import main
    with tempfile.TemporaryDirectory() as tmp:
        args = make_files(Path(tmp))
        r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "osl.cli", *args], capture_output=True,
                              text=True)
        cold = time.perf_counter() - t
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        if proc.returncode != 0:
            raise RuntimeError(f"osl predict failed: {proc.stderr.strip()}")
        what = f"osl predict, {len(TARGETS)} targets x {N_TEST} test models, {N_BOOT} resamples"
        yield (f"{what} (new process)", cold, TARGET_SECONDS)
        # CPU seconds of that process: what the wall time would be on a quiet machine (the
        # command is mostly single-threaded), when other work shares the cores.
        cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
        yield (f"{what} (new process, CPU time)", cpu, TARGET_SECONDS)
        main(args)  # warm-up: imports and caches
        times = []
        for _ in range(3):
            forget_imputations()  # each run cold
            t = time.perf_counter()
            main(args)
            times.append(time.perf_counter() - t)
        yield (f"{what} (warm, best of 3)", min(times), TARGET_SECONDS)


if __name__ == "__main__":
    for what, sec, target in run():
        print(f"{what:<80} {sec:6.2f} s  (target {target:g} s: {'met' if sec <= target else 'MISSED'})")
