"""Helpers specific to the book's chapters: the paper's emergent-task set-ups and the readings
of backtests and gain curves that chapters 2 and 4 state in prose. Not needed for one's own
table.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .. import presets, validate
from .link import LinkSpec


#: The two readings of the paper's emergent-task set-up (see PAPER_SETTINGS in the datasheet).
EMERGENT_VARIANTS = {
    "paper": "floored sigmoid, least squares, cutoff 84e21 for every task",
    "authors": "known-FLOPs families, target min-max normalised to (chance, 1), plain sigmoid, "
               "Huber loss (delta 1), cutoff 84e21 (22e21 for arithmetic)",
}


def emergent_setup(task: str, variant: str = "paper") -> tuple[float, dict]:
    """(cutoff in 1e21 FLOPs, ScalingPredictor keyword arguments) of an emergent task.

    Both variants leave GSM8K out of the benchmark set for the four arithmetic tasks.
    """
    validate.choice("task", task, list(presets.EMERGENT_TASKS))
    validate.choice("variant", variant, list(EMERGENT_VARIANTS))
    _, chance, arithmetic = presets.EMERGENT_TASKS[task]
    bench = tuple(b for b in presets.BASE_BENCHMARKS if not (arithmetic and b == "GSM8K"))
    if variant == "paper":
        return presets.DEFAULT_CUTOFF_1E21, {"benchmarks": bench}
    cutoff = presets.ARITHMETIC_CUTOFF_1E21 if arithmetic else presets.DEFAULT_CUTOFF_1E21
    return cutoff, {"benchmarks": bench, "link": LinkSpec(floor=False, loss="huber"),
                    "chance": chance or None}


def first_predictable_cutoff(table: pd.DataFrame, tol_dex: float = 0.25) -> float:
    """Smallest backtest cutoff *below the jump* that already forecasts it.

    ``table`` is a :func:`backtest` result. A cutoff counts when the largest training model's
    compute is below the final midpoint (a genuine forecast), its predicted midpoint is within
    ``tol_dex`` orders of magnitude of the final one, and its interval covers the final one.
    Returns the cutoff in 1e21 FLOPs, or NaN if no cutoff qualifies.
    """
    final = float(table.loc[table["label"] == "all", "crossing"].iloc[0])
    early = table[table["label"] != "all"]
    ok = early[(np.log10(early["cutoff_1e21"] * 1e21) < final)
               & ((early["crossing"] - final).abs() <= tol_dex)
               & (early["lower"] <= final) & (early["upper"] >= final)]
    return float(ok["cutoff_1e21"].min()) if len(ok) else float("nan")


def first_predictable_cutoffs(grid: pd.DataFrame, tol_dex: float = 0.25) -> pd.Series:
    """:func:`first_predictable_cutoff` of every (target, predictor) of a
    :func:`~osl.predict.backtests.backtest_grid` frame, in the frame's order."""
    validate.columns_present(grid, ["target", "predictor"], what="first_predictable_cutoffs",
                             fix="Pass a backtest_grid() result.")
    out = {key: first_predictable_cutoff(g, tol_dex)
           for key, g in grid.groupby(["target", "predictor"], sort=False)}
    return pd.Series(out, name="first_cutoff_1e21").rename_axis(["target", "predictor"])


def clearing_range(gain: pd.DataFrame, minimum: float) -> tuple[float, float]:
    """First and last equivalent log10 FLOPs at which a :func:`gain_curve` band's lower edge is
    above ``minimum`` (NaN, NaN if never)."""
    x = gain.loc[gain["lower"].to_numpy() > minimum, "log10_flops"]
    return (float(x.min()), float(x.max())) if len(x) else (float("nan"), float("nan"))


def payoff_compute(gain: pd.DataFrame, minimum: float) -> float:
    """First equivalent log10 FLOPs from which a :func:`gain_curve` band stays above ``minimum``
    (NaN if it never does on the grid)."""
    above = gain["lower"].to_numpy() > minimum
    for i in range(len(above)):
        if above[i:].all():
            return float(gain["log10_flops"].iloc[i])
    return float("nan")
