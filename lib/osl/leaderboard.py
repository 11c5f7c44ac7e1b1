"""The Open LLM Leaderboard v2 targets: the authors' analysis setting as a preset.

Two readings of the analysis exist, as for the emergent tasks (see the datasheet):

``"authors"``
    the released analysis code: the evaluated families of known training compute only
    (pre-registered models included; models of that set without a FLOPs value fall on the
    held-out side, where log-FLOPs cannot predict them), GSM8K left out of the capability
    benchmarks (seven benchmarks), each target min-max normalised to (chance, 1), a plain
    sigmoid (no floor) fitted with a Huber loss (delta 1), and one cutoff per target: BBH 84,
    GPQA 168, MATH level 5 252 (1e21 FLOPs). Errors are reported on the normalised scale.
``"simple"``
    the paper's default reading: every evaluated family, all eight benchmarks, raw targets, the
    floored sigmoid fitted by least squares, cutoff 84 (Llama-2-7B) for every target; models
    of unknown compute belong to neither side.

::

    table = osl.data.load_leaderboard_v2()
    models = authors_models(table)
    cutoff, kwargs = setup("lbv2_gpqa")                      # 168, ScalingPredictor kwargs
    split = heldout(models, "lbv2_gpqa")                     # the authors' split
    pred = ScalingPredictor(**kwargs).fit(models, "lbv2_gpqa", split.train)
    normalized_mse(raw_mse, "lbv2_gpqa")                     # the authors' error scale
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from . import presets, validate
from .data import lbv2_chance
from .errors import ArgumentError
from .predict.link import LinkSpec
from .predict.splits import Split, cutoff_split

__all__ = ["AUTHORS_LINK", "AUTHORS_TARGETS", "LADDER_1E21", "NONGSM_BENCHMARKS", "TARGETS",
           "VARIANTS", "authors_models", "cutoff", "heldout", "normalized_mse", "setup",
           "simple_models", "cluster_correlation", "predictability", "PREDICTABLE_FACTOR"]

#: Every Leaderboard-v2 target, in the book's order.
TARGETS: tuple[str, ...] = tuple(presets.LBV2_TARGETS)

#: The three targets of the authors' analysis.
AUTHORS_TARGETS: tuple[str, ...] = tuple(presets.LBV2_CUTOFFS_1E21)

#: The seven capability benchmarks of the authors' setting (GSM8K left out).
NONGSM_BENCHMARKS: tuple[str, ...] = tuple(b for b in presets.BASE_BENCHMARKS if b != "GSM8K")

#: The authors' link: a plain sigmoid fitted with a Huber loss of threshold 1.
AUTHORS_LINK = LinkSpec(floor=False, loss="huber", huber_delta=1.0)

#: The book's ladder of FLOPs cutoffs (1e21 FLOPs; doubling around Llama-2-7B's 84), to test
#: how each verdict depends on the split.
LADDER_1E21: tuple[float, ...] = (12.0, 24.0, 48.0, 84.0, 168.0, 336.0)

VARIANTS = {
    "authors": "known-compute families (pre-registered included), 7 benchmarks (no GSM8K), "
               "target normalised to (chance, 1), plain sigmoid, Huber loss (delta 1), "
               "cutoffs BBH 84, GPQA 168, MATH level 5 252 (1e21 FLOPs)",
    "simple": "every evaluated family, 8 benchmarks, raw target, floored sigmoid, least "
              "squares, cutoff 84 (1e21 FLOPs) for every target",
}


def _target(target: str) -> str:
    validate.choice("target", target, list(TARGETS))
    return target


def _variant(variant: str) -> str:
    validate.choice("variant", variant, list(VARIANTS))
    return variant


def cutoff(target: str, variant: str = "authors") -> float:
    """FLOPs cutoff (1e21) of ``target``: the authors' own for BBH, GPQA and MATH level 5,
    Llama-2-7B's (84) otherwise and in the simple variant."""
    _target(target)
    if _variant(variant) == "authors":
        return presets.LBV2_CUTOFFS_1E21.get(target, presets.DEFAULT_CUTOFF_1E21)
    return presets.DEFAULT_CUTOFF_1E21


def setup(target: str, variant: str = "authors") -> tuple[float, dict]:
    """(cutoff in 1e21 FLOPs, :class:`~osl.predict.ScalingPredictor` keyword arguments).

    The authors' variant fits the raw score with ``chance=`` its chance level, which is the
    same fit as on the normalised target (the link sees ``(y - chance) / (1 - chance)``);
    convert errors with :func:`normalized_mse`.
    """
    c = cutoff(target, variant)
    if variant == "authors":
        return c, {"benchmarks": NONGSM_BENCHMARKS, "link": AUTHORS_LINK,
                   "chance": lbv2_chance(target)}
    return c, {"benchmarks": presets.BASE_BENCHMARKS}


def _check_table(table: pd.DataFrame, what: str) -> pd.DataFrame:
    table = validate.frame(table, what)
    validate.columns_present(table, ["family", "flops_1e21"], what=what,
                             fix="Pass the table of osl.data.load_leaderboard_v2().")
    return table


def authors_models(table: pd.DataFrame) -> pd.DataFrame:
    """The models of the authors' setting: families the authors evaluated whose training
    compute is known (47 of the 72 models of the release), pre-registered models included."""
    table = _check_table(table, "table")
    known = presets.CORE_FAMILIES - presets.UNKNOWN_FLOPS_FAMILIES
    return table[table["family"].isin(known).to_numpy()]


def simple_models(table: pd.DataFrame) -> pd.DataFrame:
    """The models of the simple setting: every family the authors evaluated."""
    table = _check_table(table, "table")
    return table[table["family"].isin(presets.CORE_FAMILIES).to_numpy()]


def heldout(models: pd.DataFrame, target: str, variant: str = "authors", *,
            cutoff_1e21: float | None = None) -> Split:
    """The split of ``target`` in ``variant`` (``cutoff_1e21`` overrides the cutoff).

    The authors' variant puts models without a FLOPs value on the held-out side (as their
    code's ``~train`` does), the simple one leaves them out.
    """
    models = _check_table(models, "models")
    c = cutoff(target, variant) if cutoff_1e21 is None else cutoff_1e21
    return cutoff_split(models, c, unknown="test" if variant == "authors" else "exclude")


def normalized_mse(mse, target: str, variant: str = "authors"):
    """An MSE on the raw score scale converted to the authors' normalised scale: divided by
    ``(1 - chance)^2`` in the authors' variant, unchanged in the simple one."""
    _target(target)
    if _variant(variant) == "simple":
        return mse
    try:
        arr = np.asarray(mse, float)
    except (TypeError, ValueError):
        raise ArgumentError(f"mse must be a number or an array of numbers, got {mse!r}.") from None
    out = arr / (1.0 - lbv2_chance(target)) ** 2
    return float(out) if out.ndim == 0 else out


def normalize_table(tab: pd.DataFrame, variant: str = "authors",
                    targets: Sequence[str] | None = None) -> pd.DataFrame:
    """Rows indexed by target (a :meth:`~osl.predict.Comparison.table` of MSEs) converted to
    the normalised scale row by row (see :func:`normalized_mse`)."""
    tab = validate.frame(tab, "tab")
    targets = list(tab.index) if targets is None else list(targets)
    out = tab.copy().astype(float)
    for t in targets:
        out.loc[t] = normalized_mse(out.loc[t].to_numpy(), t, variant)
    return out


def cluster_correlation(x, y, groups, *, n_boot: int = 2000, seed: int = 0,
                        level: float = 0.9, rank: bool = False) -> dict:
    """Pearson (or, with ``rank``, Spearman) correlation of ``x`` and ``y`` with a bootstrap
    interval that resamples whole ``groups`` (families), so that models of one family count as
    one piece of evidence. Pairs with a missing value are dropped.

    Returns ``{"r", "lower", "upper", "n", "n_groups"}``; for Spearman the ranks are taken once
    on the full sample.
    """
    n_boot = validate.integer("n_boot", n_boot, low=100)
    seed = validate.seed(seed)
    level = validate.level(level)
    try:
        x, y = (np.asarray(v, float).ravel() for v in (x, y))
    except (TypeError, ValueError):
        raise ArgumentError("cluster_correlation: x and y must be numbers.") from None
    g = np.asarray(groups, dtype=object).ravel()
    if not (x.size == y.size == g.size):
        raise ArgumentError(f"cluster_correlation: x, y and groups have different lengths "
                            f"({x.size}, {y.size}, {g.size}); pass one value per model.")
    ok = np.isfinite(x) & np.isfinite(y)
    x, y, g = x[ok], y[ok], g[ok]
    codes, names = pd.factorize(pd.Series(g))
    F = len(names)
    if x.size < 3 or F < 2:
        raise ArgumentError(f"cluster_correlation: {x.size} pair(s) from {F} group(s); at least "
                            "3 pairs from 2 groups are needed.")
    if rank:
        x, y = pd.Series(x).rank().to_numpy(), pd.Series(y).rank().to_numpy()
    parts = np.stack([np.bincount(codes, w, F) for w in
                      (np.ones_like(x), x, y, x * x, y * y, x * y)], axis=1)  # (F, 6)

    def corr(S):
        n, sx, sy, sxx, syy, sxy = (S[..., i] for i in range(6))
        cov = sxy - sx * sy / n
        vx, vy = sxx - sx ** 2 / n, syy - sy ** 2 / n
        with np.errstate(invalid="ignore", divide="ignore"):
            return cov / np.sqrt(vx * vy)

    draw = np.random.default_rng(seed).integers(0, F, size=(n_boot, F))
    counts = np.zeros((n_boot, F))
    np.add.at(counts, (np.repeat(np.arange(n_boot), F), draw.ravel()), 1.0)
    boot = corr(counts @ parts)
    boot = boot[np.isfinite(boot)]
    lo, hi = np.quantile(boot, [(1 - level) / 2, (1 + level) / 2])
    return {"r": float(corr(parts.sum(axis=0))), "lower": float(lo), "upper": float(hi),
            "n": int(x.size), "n_groups": int(F)}


#: The chapter's criterion of "predictable", fixed before its results (see osl.reported).
PREDICTABLE_FACTOR = 0.5


def predictability(comparison, models: pd.DataFrame, *, method: str = "PC-1..3",
                   mean: str = "training mean", compute: str = "log-FLOPs",
                   factor: float = PREDICTABLE_FACTOR, n_boot: int = 2000, seed: int = 0,
                   family_column: str = "family") -> pd.DataFrame:
    """The predictability criterion for every target of a
    :class:`~osl.predict.Comparison`: a target is *predictable* when the held-out MSE of
    ``method`` is at most ``factor`` times that of ``mean`` (the training-mean baseline),
    ``method`` is *better* than ``mean`` by the verdict rule of :mod:`osl.predict.verdicts`
    (family-cluster bootstrap of the paired MSE difference), and ``method`` is not *worse* than
    ``compute``.

    Returns one row per target: ``ratio`` (MSE of ``method`` over MSE of ``mean``),
    ``vs_mean`` and ``vs_compute`` (the rule's verdicts), ``n_families`` (held-out families)
    and ``predictable``. The ratio is scale-free, so raw and chance-normalised targets give the
    same verdicts.
    """
    from .predict.verdicts import BETTER, WORSE, paired_difference
    models = validate.frame(models)
    factor = validate.real("factor", factor, low=0.0, low_open=True)
    validate.columns_present(models, [family_column], what="predictability",
                             fix="The verdict rule resamples whole families.")
    preds = getattr(comparison, "predictions", None)
    if not isinstance(preds, pd.DataFrame) or "mean" not in preds:
        raise ArgumentError("predictability: pass a Comparison from osl.predict.compare.")
    have = set(preds.index.get_level_values("predictor"))
    for name in (method, mean, compute):
        if name not in have:
            raise ArgumentError(f"predictability: no predictor {name!r} in the comparison; "
                                f"have {sorted(have)}.")
    wide = preds["mean"].unstack("predictor")
    actual = preds["actual"].groupby(level=["target", "model"]).first()
    rows = {}
    for t in dict.fromkeys(preds.index.get_level_values("target")):
        p = wide.loc[t]
        y = actual.loc[t].reindex(p.index)
        fam = models.loc[p.index, family_column]
        vm = paired_difference(y, p[method], p[mean], fam, n_boot=n_boot, seed=seed)
        vc = paired_difference(y, p[method], p[compute], fam, n_boot=n_boot, seed=seed)
        rows[t] = {"ratio": vm["mse_a"] / vm["mse_b"], "vs_mean": vm["verdict"],
                   "vs_compute": vc["verdict"], "n_families": vm["n_families"]}
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index.name = "target"
    out["predictable"] = ((out["ratio"] <= factor) & (out["vs_mean"] == BETTER)
                          & (out["vs_compute"] != WORSE))
    return out
