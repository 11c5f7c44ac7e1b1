"""Which models to evaluate: V-optimal selection of model families (the paper's Sec. 5).

Evaluating every model on a new task is costly. The paper picks a small set of *families* whose
principal-component scores make a linear model of the capabilities as precise as possible over
the whole candidate pool: with ``X`` the PC-1..PC-k scores of every pool model (no intercept
column) and ``X_S`` the rows of the selected families, the V-optimal subset maximises

    -trace(X^T X (X_S^T X_S)^-1),

minus the summed prediction variance (in units of the noise variance) of a least-squares fit
on ``S`` over all pool models. The search is exhaustive: every combination of the always
included families (Llama-2 in the paper) with up to ``max_families - len(include)`` others;
for a budget of ``N`` models the selection is the best combination with at most ``N`` models.

::

    import osl
    pool = osl.data.core_models()
    search = osl.search_subsets(pool)              # 431,909 combinations, scored at once
    search.ladder([4, 8, 12])                      # the best families per budget
    search.random(12, n_draws=100, seed=0)         # the random baseline of the same budget
    osl.evaluate_subsets(models, targets, subsets, train=..., test=...)  # held-out MSE each

The search is vectorised: each family contributes a k x k Gram block, a combination's Gram
matrix is built from its parent combination's plus one block, and the objective of every
combination comes from a closed-form 3 x 3 inverse (batched ``numpy.linalg`` for other k).
:func:`evaluate_subsets` fits the downstream predictor (imputation, PCA and the sigmoid link,
as :class:`~osl.predict.ScalingPredictor` does) on each subset in one batched solve.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from . import presets, validate
from .capability import CapabilityModel, fit_capabilities, impute_rows, project
from .data import score_matrix
from .errors import ArgumentError, FitError
from .predict.link import LinkSpec, fit_link_padded, link

# Public functions and classes (the constants DEFAULT_BUDGETS and OFFICIAL_GUIDE are importable
# too; they are documented where they are defined).
__all__ = ["SubsetSearch", "evaluate_subsets", "family_key", "pool_scores", "search_scores",
           "search_subsets", "vopt_objective"]

#: The paper's budget ladder: 4, 8, ..., 36 models.
DEFAULT_BUDGETS: tuple[int, ...] = tuple(range(4, 37, 4))

#: Training-set sizes solved together by :func:`evaluate_subsets` (larger: fewer solves, more
#: padding).
PAD_SPAN = 6

#: Largest number of combinations :func:`search_subsets` enumerates (the official code's limit).
MAX_COMBINATIONS = 10_000_000

#: The selections printed by the official code's guide notebook
#: (``model_subset_selection_guide.ipynb`` of github.com/ryoungj/ObsScaling): budget ->
#: (families, objective rounded to 2 decimals), for the core pool with Llama-2 always included
#: (``"all"``) and for the models of at most 7B parameters (``"sub7b"``). Families are sorted by
#: name. These are the official implementation's results, not numbers printed in the paper.
OFFICIAL_GUIDE: dict[str, dict[int, tuple[tuple[str, ...], float]]] = {
    "all": {
        4: (("Llama-2", "Mistral"), -1365.30),
        8: (("Llama-2", "MPT", "Mixtral", "Phi"), -37.43),
        12: (("DeepSeek-Coder", "Falcon", "Llama-2", "Llama-3"), -16.93),
        16: (("DeepSeek-Coder", "Falcon", "Llama-2", "Llama-3", "MPT", "Phi"), -12.70),
        20: (("CodeLlama", "DeepSeek-Coder", "Falcon", "Llama-2", "MPT", "Mixtral", "Qwen"),
             -10.25),
        24: (("CodeLlama", "DeepSeek-Coder", "Falcon", "Llama-2", "Llama-3", "MPT", "Qwen",
              "StarCoder2"), -8.35),
        28: (("CodeLlama", "DeepSeek-Coder", "Falcon", "Llama", "Llama-2", "Llama-3", "Mixtral",
              "Qwen1.5"), -7.21),
        32: (("CodeLlama", "DeepSeek-Coder", "Falcon", "Llama-2", "Llama-3", "MPT", "Mixtral",
              "OPT", "Qwen", "Yi"), -6.30),
        36: (("CodeLlama", "DeepSeek-Coder", "Falcon", "Llama-2", "Llama-3", "Mixtral", "OPT",
              "Qwen1.5", "StarCoder"), -5.65),
    },
    "sub7b": {
        4: (("CodeLlama", "Llama-2", "Phi"), -25.61),
        8: (("DeepSeek-Coder", "Llama", "Llama-2", "MPT", "Phi", "Qwen"), -10.51),
        12: (("DeepSeek-Coder", "Falcon", "Gemma", "Llama", "Llama-2", "MPT", "Phi", "Qwen"),
             -7.04),
        16: (("CodeLlama", "DeepSeek-Coder", "Falcon", "Gemma", "Llama", "Llama-2", "MPT", "Phi",
              "Qwen1.5"), -5.71),
        20: (("CodeLlama", "DeepSeek-Coder", "Gemma", "Llama", "Llama-2", "MPT", "OPT", "Phi",
              "Qwen1.5", "Yi"), -5.04),
        24: (("CodeLlama", "DeepSeek-Coder", "Falcon", "Gemma", "Llama-2", "MPT", "Phi", "Pythia",
              "Qwen1.5", "StarCoder2"), -4.57),
        28: (("DeepSeek-Coder", "Falcon", "Gemma", "Llama-2", "MPT", "OPT", "Phi", "Pythia",
              "Qwen1.5", "StarCoder2"), -4.27),
        32: (("DeepSeek-Coder", "Falcon", "GPT-Neo/J", "Gemma", "Llama-2", "OPT", "Phi", "Pythia",
              "Qwen1.5", "StarCoder"), -4.15),
        36: (("DeepSeek-Coder", "Falcon", "GPT-Neo/J", "Gemma", "Llama-2", "OPT", "Phi", "Pythia",
              "Qwen1.5", "StarCoder"), -4.15),
    },
}


def family_key(families: Sequence[str]) -> str:
    """A selection as one string: the family names sorted and joined with ``+``."""
    return "+".join(sorted(families))


# --------------------------------------------------------------------------------------------
# The pool's PC scores
# --------------------------------------------------------------------------------------------
def _check_pool(models, benchmarks, family_column: str) -> tuple[pd.DataFrame, tuple]:
    models = validate.frame(models, "pool")
    benchmarks = validate.names("benchmarks", benchmarks)
    if not isinstance(family_column, str):
        raise ArgumentError(f"family_column must be a column name, got {family_column!r}.")
    validate.columns_present(models, [family_column, *benchmarks], what="pool",
                             fix="The pool needs a family column and the benchmark scores.")
    if models[family_column].isna().any():
        bad = list(map(str, models.index[models[family_column].isna()][:5]))
        raise ArgumentError(f"pool: model(s) {bad} have no family; every candidate needs one.")
    return models, benchmarks


def pool_scores(models: pd.DataFrame, *, benchmarks: Sequence[str] = presets.BASE_BENCHMARKS,
                n_pcs: int = 3, standardize: bool = False,
                family_column: str = "family") -> pd.DataFrame:
    """``family`` and PC-1..PC-``n_pcs`` of every pool model, imputation and PCA fitted on the
    pool itself (the default preprocessing: rank-1 imputation, PCA of unstandardized scores)."""
    models, benchmarks = _check_pool(models, benchmarks, family_column)
    n_pcs = validate.integer("n_pcs", n_pcs, low=1, high=len(benchmarks))
    cap = CapabilityModel(benchmarks=benchmarks, n_components=min(5, len(benchmarks)),
                          standardize=standardize).fit(models[list(benchmarks)])
    pcs = cap.transform(models[list(benchmarks)]).iloc[:, :n_pcs]
    return pd.concat([models[[family_column]].rename(columns={family_column: "family"}), pcs],
                     axis=1)


# --------------------------------------------------------------------------------------------
# The objective
# --------------------------------------------------------------------------------------------
def _neg_trace(G: np.ndarray, GS: np.ndarray) -> np.ndarray:
    """-trace(G GS^-1) for a stack GS (M, k, k) of symmetric matrices; -inf where singular."""
    k = G.shape[0]
    if k == 3:
        a11, a12, a13 = GS[:, 0, 0], GS[:, 0, 1], GS[:, 0, 2]
        a22, a23, a33 = GS[:, 1, 1], GS[:, 1, 2], GS[:, 2, 2]
        c11 = a22 * a33 - a23 * a23
        c12 = a13 * a23 - a12 * a33
        c13 = a12 * a23 - a13 * a22
        c22 = a11 * a33 - a13 * a13
        c23 = a12 * a13 - a11 * a23
        c33 = a11 * a22 - a12 * a12
        det = a11 * c11 + a12 * c12 + a13 * c13
        tr = (G[0, 0] * c11 + G[1, 1] * c22 + G[2, 2] * c33
              + 2 * (G[0, 1] * c12 + G[0, 2] * c13 + G[1, 2] * c23))
        scale = np.einsum("mii->m", GS) ** 3
    else:
        det = np.linalg.det(GS)
        scale = np.einsum("mii->m", GS) ** k
        safe = np.where((np.abs(det) > 1e-12 * scale)[:, None, None], GS, np.eye(k))
        tr = np.einsum("ij,mji->m", G, np.linalg.inv(safe)) * det
    ok = det > 1e-12 * np.maximum(scale, 1e-300)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(ok, -tr / np.where(ok, det, 1.0), -np.inf)


def vopt_objective(X, groups, subsets) -> np.ndarray:
    """-trace(X^T X (X_S^T X_S)^-1) of each subset of groups, ``-inf`` where X_S^T X_S is
    singular (fewer rows than columns, or collinear rows).

    ``X`` (n, k) are the pool's scores (no intercept column is added), ``groups`` (n,) each
    row's family, ``subsets`` a list of collections of family names.
    """
    X = np.asarray(X, dtype=float)
    if X.ndim != 2 or not np.isfinite(X).all():
        raise ArgumentError(f"X must be a finite (models, components) matrix, got shape "
                            f"{X.shape}.")
    groups = np.asarray(groups, dtype=object)
    if groups.shape != (X.shape[0],):
        raise ArgumentError(f"groups must give one family per row of X ({X.shape[0]}), got "
                            f"{groups.size}.")
    if isinstance(subsets, str) or not isinstance(subsets, (list, tuple)):
        raise ArgumentError("subsets must be a list of family collections, e.g. "
                            "[('Llama-2', 'OPT')].")
    names = list(pd.unique(groups))
    pos = {f: i for i, f in enumerate(names)}
    blocks = np.stack([X[groups == f].T @ X[groups == f] for f in names])
    member = np.zeros((len(subsets), len(names)))
    for i, s in enumerate(subsets):
        s = validate.names(f"subsets[{i}]", list(s))
        unknown = [f for f in s if f not in pos]
        if unknown:
            raise ArgumentError(f"subsets[{i}]: famil(ies) {unknown} are not in groups.")
        member[i, [pos[f] for f in s]] = 1.0
    GS = np.einsum("mf,fij->mij", member, blocks)
    return _neg_trace(X.T @ X, GS)


# --------------------------------------------------------------------------------------------
# The exhaustive search
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class SubsetSearch:
    """Every combination searched by :func:`search_subsets`, with its objective.

    ``families`` are the optional families (bit ``j`` of a mask is ``families[j]``),
    ``include`` the always-included ones; per combination: ``masks``, ``n_models`` (included
    families' models counted), ``n_families`` and ``objective``.
    """

    families: tuple[str, ...]
    include: tuple[str, ...]
    family_sizes: pd.Series
    scores: pd.DataFrame
    masks: np.ndarray
    n_models: np.ndarray
    n_families: np.ndarray
    objective: np.ndarray

    @property
    def n_combinations(self) -> int:
        return int(self.masks.size)

    def families_of(self, mask: int) -> tuple[str, ...]:
        """The selected families of one combination, sorted by name."""
        mask = int(mask)
        chosen = [f for j, f in enumerate(self.families) if mask >> j & 1]
        return tuple(sorted(chosen + list(self.include)))

    def models_of(self, families: Sequence[str]) -> list[str]:
        """The pool models of the given families, in pool order."""
        return list(self.scores.index[self.scores["family"].isin(list(families))])

    def _budget(self, budget, name: str = "budget") -> int:
        low = int(self.family_sizes.reindex(list(self.include)).sum()) if self.include else 1
        return validate.integer(name, budget, low=max(low, 1))

    def best(self, budget: int) -> int:
        """Index of the best combination with at most ``budget`` models (ties: fewer models,
        then fewer families, then the first in enumeration order)."""
        budget = self._budget(budget)
        ok = (self.n_models <= budget) & np.isfinite(self.objective)
        if not ok.any():
            raise ArgumentError(f"budget={budget}: no combination with at most {budget} models "
                                "has a non-singular design; raise the budget.")
        obj = np.where(ok, self.objective, -np.inf)
        top = np.flatnonzero(obj == obj.max())
        return int(top[np.lexsort((top, self.n_families[top], self.n_models[top]))[0]])

    def ladder(self, budgets: Sequence[int] = DEFAULT_BUDGETS) -> pd.DataFrame:
        """One row per budget: the selected ``families`` (tuple), their ``key`` (sorted, joined
        with ``+``), ``n_families``, ``n_models`` and the ``objective``."""
        if isinstance(budgets, (int, np.integer)):
            budgets = [budgets]
        if not isinstance(budgets, (list, tuple, np.ndarray, range)) or len(budgets) == 0:
            raise ArgumentError(f"budgets must be a non-empty list of model counts, got "
                                f"{budgets!r}.")
        rows = []
        for b in budgets:
            i = self.best(b)
            fam = self.families_of(self.masks[i])
            rows.append({"budget": int(b), "families": fam, "key": family_key(fam),
                         "n_families": len(fam), "n_models": int(self.n_models[i]),
                         "objective": float(self.objective[i])})
        return pd.DataFrame(rows).set_index("budget")

    def random(self, budget: int, n_draws: int, seed: int, *, grace: int = 2
               ) -> list[tuple[str, ...]]:
        """Random combinations of the same search space for the same budget: drawn uniformly
        (without replacement while there are enough) among the combinations using between
        ``budget - grace`` and ``budget`` models (at least as many as PCs), as the official
        code's random baseline does; if there are none, among all within the budget."""
        budget = self._budget(budget)
        n_draws = validate.integer("n_draws", n_draws, low=1)
        seed = validate.seed(seed)
        grace = validate.integer("grace", grace, low=0)
        k = self.scores.shape[1] - 1
        ok = np.isfinite(self.objective) & (self.n_models <= budget)
        near = ok & (self.n_models >= max(budget - grace, k))
        pool = np.flatnonzero(near if near.any() else ok)
        if pool.size == 0:
            raise ArgumentError(f"budget={budget}: no combination fits in the budget.")
        rng = np.random.default_rng(seed)
        pick = rng.choice(pool, size=n_draws, replace=n_draws > pool.size)
        return [self.families_of(self.masks[i]) for i in pick]

    def table(self) -> pd.DataFrame:
        """Every combination: ``key``, ``n_families``, ``n_models``, ``objective``."""
        return pd.DataFrame({"key": [family_key(self.families_of(m)) for m in self.masks],
                             "n_families": self.n_families, "n_models": self.n_models,
                             "objective": self.objective})


def _enumerate(blocks: np.ndarray, sizes: np.ndarray, base_G: np.ndarray, base_n: int,
               max_extra: int, G: np.ndarray):
    """Combinations of 1..max_extra of the F optional families, level by level: each child is
    its parent plus one family of a higher index (itertools.combinations order within a
    level). Returns masks, model counts, family counts and objectives."""
    F, k = blocks.shape[0], blocks.shape[1]
    masks, counts, nfam, objs = [], [], [], []
    # level 1
    last = np.arange(F)
    gram = base_G[None] + blocks
    n = base_n + sizes
    mask = (np.int64(1) << last.astype(np.int64))
    for level in range(1, max_extra + 1):
        masks.append(mask)
        counts.append(n)
        nfam.append(np.full(mask.size, level))
        objs.append(_neg_trace(G, gram))
        if level == max_extra:
            break
        kids = F - 1 - last                      # children of each parent
        keep = kids > 0
        if not keep.any():
            break
        parent = np.repeat(np.flatnonzero(keep), kids[keep])
        start = np.repeat(np.cumsum(kids[keep]) - kids[keep], kids[keep])
        child = last[parent] + 1 + (np.arange(parent.size) - start)
        gram = gram[parent] + blocks[child]
        n = n[parent] + sizes[child]
        mask = mask[parent] | (np.int64(1) << child.astype(np.int64))
        last = child
    return (np.concatenate(masks), np.concatenate(counts), np.concatenate(nfam),
            np.concatenate(objs))


@lru_cache(maxsize=8)
def _search_cached(X_bytes: bytes, shape: tuple, fam: tuple, include: tuple, max_extra: int):
    X = np.frombuffer(X_bytes).reshape(shape)
    fam_arr = np.asarray(fam, dtype=object)
    optional = tuple(sorted(set(fam) - set(include)))
    block = lambda f: X[fam_arr == f].T @ X[fam_arr == f]  # noqa: E731
    blocks = np.stack([block(f) for f in optional]) if optional else np.zeros((0,) + (shape[1],) * 2)
    sizes = np.array([(fam_arr == f).sum() for f in optional], dtype=np.int64)
    base = sum((block(f) for f in include), np.zeros((shape[1], shape[1])))
    base_n = int(sum((fam_arr == f).sum() for f in include))
    out = _enumerate(blocks, sizes, base, base_n, max_extra, X.T @ X)
    for a in out:
        a.setflags(write=False)
    return optional, out


def search_subsets(models: pd.DataFrame, *, include: Sequence[str] = (presets.REFERENCE_FAMILY,),
                   max_families: int = 10, n_pcs: int = 3,
                   benchmarks: Sequence[str] = presets.BASE_BENCHMARKS,
                   standardize: bool = False, family_column: str = "family") -> SubsetSearch:
    """Score every combination of families of the pool ``models`` (the paper's search).

    The pool's PC scores come from :func:`pool_scores` (imputation and PCA fitted on the pool);
    the search itself is :func:`search_scores`. Combinations are the ``include`` families plus
    1 to ``max_families - len(include)`` of the others (with no ``include``, 1 to
    ``max_families`` families). Results are cached in memory per pool and options, so a second
    call with the same pool costs only the PCA.
    """
    models, benchmarks = _check_pool(models, benchmarks, family_column)
    n_pcs = validate.integer("n_pcs", n_pcs, low=1, high=len(benchmarks))
    _check_include(include, set(models[family_column].astype(str)))
    scores = pool_scores(models, benchmarks=benchmarks, n_pcs=n_pcs, standardize=standardize,
                         family_column=family_column)
    return search_scores(scores, include=include, max_families=max_families)


def _check_include(include, present: set) -> tuple[str, ...]:
    if isinstance(include, str):
        include = (include,)
    if include is None:
        include = ()
    if not isinstance(include, (list, tuple)):
        raise ArgumentError(f"include must be a list of family names, got {include!r}.")
    include = validate.names("include", list(include), min_count=0) if len(include) else ()
    unknown = [f for f in include if f not in present]
    if unknown:
        raise ArgumentError(f"include: famil(ies) {unknown} are not in the pool (families "
                            f"present: {sorted(present)[:8]}...). Drop them or add their "
                            "models.")
    return tuple(include)


def search_scores(scores: pd.DataFrame, *, include: Sequence[str] = (presets.REFERENCE_FAMILY,),
                  max_families: int = 10) -> SubsetSearch:
    """:func:`search_subsets` on given scores: a frame with a ``family`` column and one numeric
    column per component (the rows of ``X``, used as they are: no centring, no intercept)."""
    scores = validate.frame(scores, "scores")
    validate.columns_present(scores, ["family"], what="scores",
                             fix="Pass a frame with a 'family' column and the PC columns.")
    X = scores.drop(columns="family")
    if X.shape[1] == 0 or not all(pd.api.types.is_numeric_dtype(X[c]) for c in X):
        raise ArgumentError("scores: give one numeric column per component beside 'family'.")
    X = np.ascontiguousarray(X.to_numpy(float))
    if not np.isfinite(X).all():
        raise ArgumentError("scores: the components must be finite (impute first).")
    if scores["family"].isna().any():
        raise ArgumentError("scores: every model needs a family.")
    fams = scores["family"].astype(str)
    include = _check_include(include, set(fams))
    max_families = validate.integer("max_families", max_families, low=len(include) + 1)
    optional = sorted(set(fams) - set(include))
    if not optional:
        raise ArgumentError("include: every family of the pool is always included; there is "
                            "nothing to select.")
    if len(optional) > 62:
        raise ArgumentError(f"scores: {len(optional)} optional families; at most 62 are "
                            "supported.")
    max_extra = min(max_families - len(include), len(optional))
    from math import comb
    total = sum(comb(len(optional), i) for i in range(1, max_extra + 1))
    if total > MAX_COMBINATIONS:
        raise ArgumentError(f"max_families={max_families}: {total:,} combinations of the "
                            f"{len(optional)} optional families exceed {MAX_COMBINATIONS:,}; "
                            "lower max_families or pre-select families.")
    if len(X) < X.shape[1]:
        raise FitError(f"scores: {len(X)} models cannot identify {X.shape[1]} components.")
    names, (masks, counts, nfam, objs) = _search_cached(
        X.tobytes(), X.shape, tuple(fams), include, max_extra)
    frame = pd.concat([fams.rename("family"), scores.drop(columns="family")], axis=1)
    return SubsetSearch(families=names, include=include, family_sizes=fams.value_counts(),
                        scores=frame, masks=masks, n_models=counts,
                        n_families=nfam + len(include), objective=objs)


# --------------------------------------------------------------------------------------------
# Evaluating a subset: fit the downstream predictor on it, score it on held-out models
# --------------------------------------------------------------------------------------------
def _membership(family: np.ndarray, subsets) -> np.ndarray:
    """(subsets, models) boolean: is the model's family in the subset?"""
    names, codes = np.unique(family, return_inverse=True)
    pos = {f: i for i, f in enumerate(names)}
    member = np.zeros((len(subsets), len(names)), bool)
    for i, s in enumerate(subsets):
        if isinstance(s, str) or not isinstance(s, (list, tuple, frozenset, set)):
            raise ArgumentError(f"subsets[{i}] must be a collection of family names, got {s!r}.")
        member[i, [pos[f] for f in s if f in pos]] = True
    return member[:, codes]


def evaluate_subsets(models: pd.DataFrame, targets: Sequence[str], subsets, *, train, test,
                     per_target: Mapping[str, Mapping] | None = None, n_pcs: int = 3,
                     benchmarks: Sequence[str] = presets.BASE_BENCHMARKS,
                     link_spec: LinkSpec = LinkSpec(), errors: bool = False):
    """Held-out MSE of the predictor fitted on each subset of families, per target.

    For each subset, the training models are the ``train`` rows (boolean mask) of its
    families that have a value of the target; imputation, PCA (PC-1..``n_pcs``) and the
    floored sigmoid are fitted on them exactly as :class:`~osl.predict.ScalingPredictor` does,
    and the MSE is taken over the ``test`` rows with a value. ``per_target`` may give a
    target its own ``benchmarks`` (e.g. without GSM8K). All fits of the same benchmark set and
    training-set size run as one batched solve. Returns a frame indexed by subset position,
    with columns ``(target, "mse")`` and ``(target, "n_train")``; the MSE is NaN where a
    subset has too few training models for the link (``n_pcs + 4`` with a floor). With ``errors=True``
    also returns the squared error of every held-out model: a frame indexed by subset position
    with columns ``(target, model)`` (NaN where the model has no value or the subset no fit),
    for paired comparisons that resample held-out families.
    """
    models = validate.frame(models)
    targets = validate.names("targets", targets)
    validate.columns_present(models, ["family"], what="evaluate_subsets",
                             fix="Subsets are families: the table needs a 'family' column.")
    validate.columns_present(models, list(targets), what="targets",
                             fix="Name target columns of the table.")
    if isinstance(subsets, str) or not isinstance(subsets, (list, tuple)) or not subsets:
        raise ArgumentError("subsets must be a non-empty list of family collections, e.g. "
                            "[('Llama-2', 'OPT')].")
    train = validate.mask(train, len(models), "train", rows=models.index)
    test = validate.mask(test, len(models), "test", rows=models.index)
    if (train & test).any():
        raise ArgumentError("train and test overlap: a held-out model cannot be a candidate.")
    n_pcs = validate.integer("n_pcs", n_pcs, low=1)
    per_target = dict(per_target or {})
    extra = sorted(set(per_target) - set(targets))
    if extra:
        raise ArgumentError(f"per_target names {extra}, which are not in targets.")
    if not isinstance(link_spec, LinkSpec):
        raise ArgumentError(f"link_spec must be a LinkSpec, got {type(link_spec).__name__}.")
    family = models["family"].astype(str).to_numpy()
    Y = score_matrix(models, list(targets), table="targets", lower=0.0, upper=1.0)
    need = max(n_pcs + (2 if link_spec.floor else 1) + 2, 4)   # as the estimator requires
    if not isinstance(errors, (bool, np.bool_)):
        raise ArgumentError(f"errors must be True or False, got {errors!r}.")
    member = _membership(family, subsets)
    test_of = {t: np.flatnonzero(test & ~np.isnan(Y[:, t])) for t in range(len(targets))}
    sq_out = {t: np.full((len(subsets), te.size), np.nan) for t, te in test_of.items()}
    mse_out = np.full((len(subsets), len(targets)), np.nan)
    n_out = np.zeros((len(subsets), len(targets)), dtype=int)
    # Targets sharing a benchmark set and the models with a value share the capability fits.
    groups: dict[tuple, list[int]] = defaultdict(list)
    for t_i, t in enumerate(targets):
        bench = tuple(per_target.get(t, {}).get("benchmarks", benchmarks))
        has = ~np.isnan(Y[:, t_i])
        groups[(bench, (train & has).tobytes())].append(t_i)
    problems, jobs = [], []  # link problems, and where each one's answers go
    for (bench, _), t_idx in groups.items():
        validate.columns_present(models, bench, what="benchmarks")
        raw = score_matrix(models, list(bench), table="benchmarks")
        if n_pcs > len(bench):
            raise ArgumentError(f"n_pcs={n_pcs} exceeds the {len(bench)} benchmarks.")
        has = ~np.isnan(Y[:, t_idx[0]])
        usable = member & (train & has & ~np.isnan(raw).all(axis=1))[None]
        rows = [np.flatnonzero(u) for u in usable]
        sizes = usable.sum(axis=1)
        n_out[:, t_idx] = sizes[:, None]
        by_n: dict[int, list[int]] = defaultdict(list)
        for s, size in enumerate(sizes):
            if size >= need:
                by_n[int(size)].append(s)
        for n, members in by_n.items():
            idx = np.stack([rows[s] for s in members])
            Xs = raw[idx]
            # A benchmark with fewer than two distinct scores cannot be standardized: such a
            # subset gets no fit (the estimator would refuse it too).
            lo = np.min(np.where(np.isnan(Xs), np.inf, Xs), axis=1)
            hi = np.max(np.where(np.isnan(Xs), -np.inf, Xs), axis=1)
            valid = np.all(hi > lo, axis=1)
            if not valid.any():
                continue
            Xs[~valid] = Xs[valid][0]
            fit, imputed, _ = fit_capabilities(Xs, bench)
            # The training rows are placed as the estimator places them: through the fitted
            # imputer (which changes nothing for complete rows) and the projection.
            for b in np.flatnonzero(np.isnan(Xs).any(axis=(1, 2))):
                imputed[b] = impute_rows(Xs[b], fit.mean[b], fit.std[b], fit.center[b],
                                         fit.component[b])[0]
            Xtr = project(imputed, fit, n_pcs)
            for t in t_idx:
                te = np.flatnonzero(test & ~np.isnan(Y[:, t]))
                y = Y[idx, t]
                ok = valid & (np.ptp(y, axis=1) > 0)
                if te.size == 0 or not ok.any():
                    continue
                problems.append((Xtr[ok], y[ok], None))
                jobs.append((np.asarray(members)[ok], t, fit.transform(raw[te], n_pcs)[ok],
                             Y[te, t]))
    # All links in a few padded, batched solves: problems of similar size together, so that
    # little of the stack is padding.
    order = sorted(range(len(problems)), key=lambda i: problems[i][0].shape[1])
    solved: list = [None] * len(problems)
    while order:
        n0 = problems[order[0]][0].shape[1]
        take = [i for i in order if problems[i][0].shape[1] <= n0 + PAD_SPAN]
        order = order[len(take):]
        for i, res in zip(take, fit_link_padded([problems[i] for i in take], link_spec,
                                                max_iter=400, tol=1e-9)):
            solved[i] = res
    if problems:
        for (theta, _), (members, t, Xte, yte) in zip(solved, jobs):
            sq = (link(theta, Xte) - yte[None]) ** 2
            sq_out[t][members] = sq
            mse_out[members, t] = sq.mean(axis=1)
    out = pd.concat({"mse": pd.DataFrame(mse_out, columns=list(targets)),
                     "n_train": pd.DataFrame(n_out, columns=list(targets))}, axis=1)
    out = out.swaplevel(axis=1).reindex(columns=pd.MultiIndex.from_product(
        [list(targets), ["mse", "n_train"]]))
    out.index.name = "subset"
    if errors:
        sq = pd.concat({targets[t]: pd.DataFrame(a, columns=models.index[test_of[t]])
                        for t, a in sq_out.items()}, axis=1)
        sq.index.name = "subset"
        return out, sq
    return out
