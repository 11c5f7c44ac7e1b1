"""Is one predictor better than another on held-out models? A paired comparison with a
family-cluster bootstrap and a verdict rule written down before any result.

Held-out models of one family are not independent evidence (a family shares data, recipe and
often contamination), so the interval of the error difference resamples whole families.

The rule (:data:`RULE`): predictor A is *better* than B on a target when the ``level``
(default 90%) family-cluster bootstrap interval of ``MSE(A) - MSE(B)`` over the held-out models
lies entirely below zero, *worse* when it lies entirely above, and *indistinguishable*
otherwise, or when the held-out models come from fewer than :data:`MIN_FAMILIES` families (too
few clusters to say anything about models in general).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .. import validate
from ..errors import ArgumentError, FitError

BETTER, WORSE, TIED = "better", "worse", "indistinguishable"
MIN_FAMILIES = 3
LEVEL = 0.9
RULE = (f"A is better than B when the {LEVEL:.0%} family-cluster bootstrap interval of "
        "MSE(A) - MSE(B) on the held-out models lies below 0, worse when it lies above 0, and "
        f"indistinguishable otherwise or when the held-out models span fewer than {MIN_FAMILIES} "
        "families")

__all__ = ["RULE", "compare_pair", "paired_difference", "tally"]


def paired_difference(actual, pred_a, pred_b, families, *, n_boot: int = 2000, seed: int = 0,
                      level: float = LEVEL, min_families: int = MIN_FAMILIES) -> dict:
    """``MSE(A) - MSE(B)`` on the models where both predict, with a family-cluster bootstrap
    interval and the verdict of :data:`RULE` (for A against B)."""
    level = validate.level(level)
    n_boot = validate.integer("n_boot", n_boot, low=100)
    seed = validate.seed(seed)
    min_families = validate.integer("min_families", min_families, low=1)
    try:
        a, pa, pb = (np.asarray(v, float).ravel() for v in (actual, pred_a, pred_b))
    except (TypeError, ValueError):
        raise ArgumentError("paired_difference: actual, pred_a and pred_b must be numbers.") from None
    fam = np.asarray(families, dtype=object).ravel()
    if not (a.size == pa.size == pb.size == fam.size):
        raise ArgumentError(f"paired_difference: arrays of different lengths ({a.size}, {pa.size}, "
                            f"{pb.size}, {fam.size} families); pass one value per model.")
    ok = np.isfinite(a) & np.isfinite(pa) & np.isfinite(pb)
    if not ok.any():
        raise FitError("paired_difference: no held-out model has a value and both predictions.")
    a, pa, pb, fam = a[ok], pa[ok], pb[ok], fam[ok]
    d = (pa - a) ** 2 - (pb - a) ** 2
    codes, names = pd.factorize(pd.Series(fam))
    F = len(names)
    sums = np.bincount(codes, d, F)
    counts = np.bincount(codes, minlength=F).astype(float)
    draw = np.random.default_rng(seed).integers(0, F, size=(n_boot, F))
    boot = sums[draw].sum(axis=1) / counts[draw].sum(axis=1)
    lo, hi = np.quantile(boot, [(1 - level) / 2, (1 + level) / 2])
    if F < min_families:
        verdict = TIED
    else:
        verdict = BETTER if hi < 0 else WORSE if lo > 0 else TIED
    return {"mse_a": float(np.mean((pa - a) ** 2)), "mse_b": float(np.mean((pb - a) ** 2)),
            "difference": float(d.mean()), "lower": float(lo), "upper": float(hi),
            "n_models": int(a.size), "n_families": int(F), "verdict": verdict}


def compare_pair(comparison, models: pd.DataFrame, a: str, b: str, *,
                 family_column: str = "family", n_boot: int = 2000, seed: int = 0,
                 level: float = LEVEL) -> pd.DataFrame:
    """:func:`paired_difference` of predictors ``a`` and ``b`` for every target of a
    :class:`~osl.predict.evaluation.Comparison` (one row per target)."""
    models = validate.frame(models)
    validate.columns_present(models, [family_column], what="compare_pair",
                             fix="The interval resamples whole families.")
    preds = comparison.predictions.sort_index()
    have = set(preds.index.get_level_values("predictor"))
    for name in (a, b):
        if name not in have:
            raise ArgumentError(f"compare_pair: no predictor {name!r} in the comparison; "
                                f"have {sorted(have)}.")
    rows = {}
    for t in dict.fromkeys(comparison.predictions.index.get_level_values("target")):
        pa, pb = preds.loc[(t, a)], preds.loc[(t, b)]
        common = pa.index.intersection(pb.index)
        rows[t] = paired_difference(pa.loc[common, "actual"], pa.loc[common, "mean"],
                                    pb.loc[common, "mean"], models.loc[common, family_column],
                                    n_boot=n_boot, seed=seed, level=level)
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index.name = "target"
    return out


def tally(verdicts: pd.DataFrame | pd.Series) -> dict:
    """Counts of ``better``/``indistinguishable``/``worse`` and a sentence stating them."""
    v = verdicts["verdict"] if isinstance(verdicts, pd.DataFrame) else verdicts
    counts = {k: int((v == k).sum()) for k in (BETTER, TIED, WORSE)}
    counts["sentence"] = (f"better on {counts[BETTER]}, indistinguishable on {counts[TIED]}, "
                          f"worse on {counts[WORSE]}")
    return counts
