"""Benchmark: ``python -m osl.bench`` (or ``make bench``) prints the timings the project targets.

* a cold, strict build of the whole book as `make book` runs it (chapters executed in parallel
  while the strict Sphinx pass reads beside them), into a temporary folder, from clean;
* the execution time of every chapter notebook on its own, split into imports, computation and
  figures (kernel start-up not counted), and `make chapter NAME=...` end to end (the median
  of three runs, with their range: one run varies by several tenths of a second);
* one full capability fit (impute + PCA + per-family and shared-slope fits) on the core set;
* 1,000 bootstrap refits of it (imputation and PCA refitted each time);
* the paper's 31 headline fits as the chapters run them (capability space, emergent tasks with
  PC-1..3 and log-FLOPs, post-training targets, agent fits with 1-4 PCs), median of 7 runs;
* one emergent task's full prediction fit (impute + PCA + sigmoid link) and a 1,000-resample
  bootstrap of it (imputation, PCA and link refitted each time).

Targets on a 2-core machine: book <= 60 s (<= 40 s with four chapters), a chapter's execution
<= 8 s, `make chapter` <= 10 s, one fit <= 20 ms, 1,000 refits
<= 5 s, a task's 1,000-resample bootstrap <= 2 s, the 31 headline fits <= 0.2 s. The numbers
are printed, never asserted: timings belong in notes, not in tests.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from . import data, paths, presets
from .predict import ScalingPredictor, cutoff_split, fit_targets, top_split
from .space import bootstrap_capability_space, fit_capability_space

TARGETS = {"book": 60.0, "book4": 40.0, "chapter": 8.0, "make_chapter": 10.0, "fit": 0.020, "bootstrap": 5.0,
           "task_fit": 0.100, "task_bootstrap": 2.0, "headline": 0.200}


def bench_chapters_names() -> list[str]:
    return sorted(p.stem for p in (paths.PROJECT_ROOT / "notebooks").glob("[0-9][0-9]_*.md"))


def headline_tables() -> dict:
    """The four tables the headline fits use (loaded once, outside the timing)."""
    return {"core": data.core_models(), "emergent": data.load_emergent(),
            "post": data.load_post_training(), "agents": data.load_agents()}


def headline_fits(tables: dict) -> dict:
    """The paper's 31 headline fits, run as the chapters run them, with their held-out
    predictions: 1 capability space, 8 emergent tasks with PC-1..3 and with log-FLOPs, 6
    post-training targets, and 8 agent fits (AgentBench, AgentBoard success rate; 1-4 PCs)."""
    out = {"capability_evr": fit_capability_space(tables["core"]).capability
           .explained_variance_ratio_}
    em = tables["emergent"]
    split = cutoff_split(em)
    tasks = presets.EMERGENT_TASKS
    no_gsm8k = tuple(b for b in presets.BASE_BENCHMARKS if b != "GSM8K")
    groups = [([t for t in tasks if not tasks[t][2]], presets.BASE_BENCHMARKS),
              ([t for t in tasks if tasks[t][2]], no_gsm8k)]
    for names, bench in groups:
        for key, kw in {"emergent": {"n_pcs": 3}, "emergent_logflops": {"predictor": "log_flops"}
                        }.items():
            pred = fit_targets(em, names, split.train, benchmarks=bench, **kw).predict(em)
            out.update({f"{key}/{t}": pred.loc[split.test, t].dropna() for t in names})
    pt = tables["post"]
    sp = cutoff_split(pt)
    for names in (list(presets.GSM8K_TECHNIQUES), list(presets.BBH_PROMPTS)):
        train = sp.train & pt[names].notna().all(axis=1).to_numpy()
        pred = fit_targets(pt, names, train, benchmarks=no_gsm8k, n_pcs=3).predict(pt)
        out.update({f"post/{t}": pred.loc[sp.test, t].dropna() for t in names})
    ag = tables["agents"]
    for t in ("agentbench", "agentboard_sr"):
        s = top_split(ag, t)
        for k in (1, 2, 3, 4):
            pred = fit_targets(ag, [t], s.train, n_pcs=k, benchmarks=presets.INSTRUCT_BENCHMARKS,
                               reference=presets.INSTRUCT_REFERENCE_FAMILY).predict(ag)
            out[f"agent/{t}/pc{k}"] = pred.loc[s.test, t]
    return out
TASK = "word_unscrambling_2_exact_match"


def _timeit(fn, repeat: int) -> float:
    """Median seconds of ``repeat`` cold runs (no imputation remembered from an earlier run)."""
    from .capability import forget_imputations
    times = []
    for _ in range(repeat):
        forget_imputations()
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def _line(what: str, seconds: float, target: float) -> str:
    unit = (f"{seconds * 1e3:8.1f} ms" if target < 1 else f"{seconds:8.2f} s ")
    tunit = (f"{target * 1e3:.0f} ms" if target < 1 else f"{target:.0f} s")
    mark = "ok" if seconds <= target else "OVER TARGET"
    return f"  {what:46s} {unit}   (target <= {tunit}: {mark})"


def bench_book() -> float:
    """A cold, strict build as `make book` runs it: parallel execution with the Sphinx pass
    reading beside it (``python -m osl.build book``), from clean."""
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, OSL_BUILD_DIR=str(Path(tmp) / "_build"))
        cmd = [sys.executable, "-m", "osl.build", "book", "--path-output", tmp]
        t = time.perf_counter()
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True,
                              cwd=paths.PROJECT_ROOT)
        if proc.returncode != 0:
            print(proc.stdout[-3000:] + proc.stderr[-3000:], file=sys.stderr)
            raise SystemExit("the book build failed; fix it before benchmarking")
        return time.perf_counter() - t


PROBE = "from osl import figures as _f\nprint('OSL_BENCH', _f.PUBLISH_SECONDS[0])"


def warm_up_seconds() -> float:
    """What the executor's one-off imports (:data:`osl.kernels.WARM_MODULES`) cost in a fresh
    Python, as the build pays them once before forking kernels."""
    from .kernels import WARM_MODULES
    code = ("import time; t = time.perf_counter()\n"
            f"for m in {list(WARM_MODULES)!r}: __import__(m)\n"
            "print(time.perf_counter() - t)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=dict(os.environ, MPLBACKEND="Agg"))
    return float(out.stdout.split()[-1]) if out.returncode == 0 else float("nan")


def _bench_one(job: tuple[str, str]) -> dict[str, float]:
    """One chapter, in a fresh process forked from the warm server (as the build runs it)."""
    import jupytext
    import nbformat

    from .figures import render_queue
    from .kernels import kernel_client

    nb_path, build = Path(job[0]), job[1]
    os.environ["OSL_BUILD_DIR"] = build
    os.environ[paths.DEFER_FIGURES_ENV] = "1"  # as the build runs them: drawing is deferred
    nb = jupytext.read(nb_path)
    nb.cells.append(nbformat.v4.new_code_cell(PROBE))
    with kernel_client(nb, nb_path.parent) as client:
        times = []
        for i, cell in enumerate(nb.cells):
            t = time.perf_counter()
            client.execute_cell(cell, i)
            if cell.cell_type == "code":
                times.append(time.perf_counter() - t)
    probe = [o for o in nb.cells[-1].outputs if o.get("name") == "stdout"]
    figures = float(probe[0]["text"].split()[1]) if probe else float("nan")
    total = sum(times[:-1])
    t = time.perf_counter()
    render_queue()  # what the build's renderer does beside the kernels
    return {"total": total, "imports": times[0], "figures": figures,
            "computation": total - times[0] - figures, "drawing": time.perf_counter() - t}


def bench_chapters() -> dict[str, dict[str, float]]:
    """Each chapter executed alone, one after another, in a fresh kernel forked from a warm
    process, as the build runs it (see :mod:`osl.kernels`), split into imports (its first cell:
    imports and set-up), figures (time inside :func:`osl.figures.publish`: laying out and
    queueing) and computation (the rest); kernel start-up is not counted. The drawing of the
    figures' SVG, PDF and CSV copies, which the build's renderer does in another process while
    the chapters run, is timed after each chapter and printed beside it."""
    from .kernels import run_each

    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        jobs = [(str(p), str(Path(tmp) / p.stem / "_build")) for p in
                sorted((paths.PROJECT_ROOT / "notebooks").glob("[0-9][0-9]_*.md"))]
        for (nb_path, _), result, error in run_each(_bench_one, jobs, 1):
            if error is not None:
                raise SystemExit(f"{Path(nb_path).stem} failed to execute: {error}")
            out[Path(nb_path).stem] = result
    return out


MAKE_CHAPTER_RUNS = 3  # a one-chapter build varies by a few tenths of a second run to run


def bench_make_chapter(name: str, runs: int = MAKE_CHAPTER_RUNS) -> list[float]:
    """`make chapter NAME=...` end to end (execution and a one-chapter strict build), ``runs``
    times, each from clean; returns the times."""
    times = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as tmp:
            env = dict(os.environ, OSL_BUILD_DIR=str(Path(tmp) / "_build"))
            t = time.perf_counter()
            proc = subprocess.run(["make", "--no-print-directory", "chapter", f"NAME={name}"],
                                  cwd=paths.PROJECT_ROOT, env=env, capture_output=True,
                                  text=True)
            times.append(time.perf_counter() - t)
        if proc.returncode != 0:
            print(proc.stdout[-2000:] + proc.stderr[-2000:], file=sys.stderr)
            raise SystemExit(f"make chapter NAME={name} failed")
    return times


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m osl.bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--skip-book", action="store_true", help="skip the cold full-book build")
    parser.add_argument("--skip-chapters", action="store_true", help="skip per-chapter execution")
    args = parser.parse_args(argv)

    core = data.core_models()
    print(f"osl benchmark: {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    tables = headline_tables()
    headline_fits(tables)  # warm-up
    print(_line("the paper's 31 headline fits (median of 7)",
                _timeit(lambda: headline_fits(tables), 7), TARGETS["headline"]))
    if not args.skip_book:
        n = len(list((paths.PROJECT_ROOT / "notebooks").glob("[0-9][0-9]_*.md")))
        target = TARGETS["book4"] if n <= 4 else TARGETS["book"]
        print(_line(f"cold strict build of the whole book ({n} chapters)", bench_book(), target))
    if not args.skip_chapters:
        chapters = bench_chapters()
        print(f"  (kernels forked from a process whose imports took {warm_up_seconds():.2f} s "
              "once; 'imports' is each chapter's first cell after that)")
        for name, t in chapters.items():
            print(_line(f"execute chapter {name}", t["total"], TARGETS["chapter"]))
            print(f"      imports {t['imports']:5.2f} s   computation {t['computation']:5.2f} s"
                  f"   figures {t['figures']:5.2f} s   (drawn beside it: {t['drawing']:5.2f} s)")
        for name in bench_chapters_names():
            times = bench_make_chapter(name)
            print(_line(f"make chapter NAME={name} (median of {len(times)}: "
                        f"{min(times):.1f}-{max(times):.1f} s)", statistics.median(times),
                        TARGETS["make_chapter"]))
    fit_capability_space(core)  # warm-up (imports, caches)
    print(_line("one capability fit (impute+PCA+family fits)",
                _timeit(lambda: fit_capability_space(core), 50), TARGETS["fit"]))
    print(_line("1,000 bootstrap refits (impute+PCA+fits)",
                _timeit(lambda: bootstrap_capability_space(core, n_boot=1000, seed=0), 5),
                TARGETS["bootstrap"]))
    em = data.load_emergent()
    train = cutoff_split(em).train

    def task_fit():
        return ScalingPredictor(n_pcs=3).fit(em, TASK, train)

    pred = task_fit()
    print(_line("one task fit (impute+PCA+sigmoid, PC-1..3)", _timeit(task_fit, 20),
                TARGETS["task_fit"]))
    print(_line("1,000-resample bootstrap of it (all refitted)",
                _timeit(lambda: pred.bootstrap(1000, seed=0), 5), TARGETS["task_bootstrap"]))
    for what, seconds, target in extra_benchmarks():
        print(_line(what, seconds, target))
    return 0


def extra_benchmarks():
    """Benchmarks of the other parts of the library: every module ``osl.bench_<part>`` with a
    ``run()`` that yields ``(what, seconds, target_seconds)``, in name order."""
    import importlib
    import pkgutil

    import osl
    for info in sorted(pkgutil.iter_modules(osl.__path__), key=lambda m: m.name):
        if info.name.startswith("bench_"):
            yield from importlib.import_module(f"osl.{info.name}").run()


if __name__ == "__main__":
    raise SystemExit(main())
