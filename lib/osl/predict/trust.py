"""How far can a forecast be trusted? Every target the book predicts, backtested in one call.

:func:`trust_grid` fits every predictor on every target of every group at every split of a
ladder, bootstraps all interval-bearing fits in one batched call, and scores the held-out
models: MSE, MAE, and the coverage of the 50/80/95% predictive intervals, both the bootstrap
interval (``old``) and the calibrated one (``new``, :mod:`~osl.predict.calibration`).

Groups (:data:`GROUPS`) and their splits:

* ``emergent``: the eight BIG-Bench targets (the paper's set-up of each task), a ladder of
  FLOPs cutoffs (models of unknown compute belong to neither side);
* ``post-training``: GSM8K naive / CoT / self-consistency and BBH naive / CoT (benchmarks
  without GSM8K), the same ladder;
* ``leaderboard-v2``: the Open LLM Leaderboard v2 targets of base models (mapped to
  (chance, 1)), the same ladder plus the paper's appendix cutoff of each target (BBH 84, GPQA
  168, MATH level 5 252, in 1e21 FLOPs);
* ``agents``: AgentBench and AgentBoard targets of instruct models (compute mostly unknown):
  the strongest share of models held out (a ladder of shares) and every model held out alone.

Predictors (:data:`PREDICTORS`): PCs with the number chosen on the training models only
(:func:`~osl.predict.evaluation.choose_n_pcs`, an inner split by compute, or by the target for
the agent splits), the paper's PC-1..3, log-FLOPs, log-size, a family intercept + log-FLOPs
and the training mean (the last two without intervals; compute-based predictors are not
fitted on the agent group, whose held-out models have no known compute).

The result is cached in memory and on disk under the build folder (keyed by the arguments,
the library's source and the data registry), so a second call costs a file read.
"""
from __future__ import annotations

import hashlib
import pickle
import sys
import time
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import pandas as pd

from .. import paths, presets, validate
from ..errors import ArgumentError, FitError, ScoreError
from .baselines import FamilyLogFlops, TrainingMean
from .bootstrap import bootstrap_many
from .calibration import _conformal_arrays, calibrate_many, crossing_interval
from .chapters import emergent_setup
from .estimator import ScalingPredictor
from .splits import top_split
from .estimator import read_target
from .link import fit_link_padded, link

__all__ = ["CUTOFFS", "GROUPS", "LEVELS", "PREDICTORS", "REDUCED", "SHARES", "TrustGrid",
           "grid_tables", "preregistered_test", "sensitivity", "trust_grid"]

#: Target groups, in the order the book shows them.
GROUPS = ("emergent", "post-training", "leaderboard-v2", "agents")
#: The ladder of FLOPs cutoffs (1e21 FLOPs): doubling around Llama-2-7B's 84.
CUTOFFS: tuple[float, ...] = (12.0, 24.0, 48.0, 84.0, 168.0, 336.0)
#: Shares of the strongest models held out for the agent targets.
SHARES: tuple[float, ...] = (0.1, 0.2, 0.3)
#: Interval levels scored.
LEVELS: tuple[float, ...] = (0.5, 0.8, 0.95)
#: Predictor names; the first three carry intervals.
PC_CHOSEN, PC_PAPER = "PC (k chosen)", "PC-1..3"
PREDICTORS = (PC_CHOSEN, PC_PAPER, "log-FLOPs", "log-size", "family + log-FLOPs",
              "training mean")
WITH_INTERVALS = (PC_CHOSEN, PC_PAPER, "log-FLOPs", "log-size")
POST_TARGETS = ("gsm8k_naive", "gsm8k_cot", "gsm8k_sc", "bbh_naive", "bbh_cot")
#: The reduced grid the book's chapter runs within its time budget: every target and group,
#: two rungs of the cutoff ladder (24 and 168, an order of magnitude below and twice
#: Llama-2-7B's compute), the three top-k shares but no leave-one-out, every predictor,
#: intervals for the default predictor only, 30 resamples.
REDUCED = {"cutoffs": (24.0, 168.0), "shares": SHARES, "loo": False,
           "intervals": (PC_CHOSEN,), "n_boot": 30}
_MEMORY: dict[str, "TrustGrid"] = {}


@dataclass
class TrustGrid:
    """Result of :func:`trust_grid`.

    ``cells``: one row per (group, target, split, predictor) with ``n_train``, ``n_test``,
    ``mse``, ``mae``, ``k`` (PCs used) and, for predictors with intervals, ``cov_old_<L>`` /
    ``cov_new_<L>`` (share of held-out scores inside the ``L``% interval) and
    ``width_old_80`` / ``width_new_80``. ``predictions``: one row per held-out score and
    predictor (``actual``, ``mean``, and ``lo_old_<L>``... ``hi_new_<L>``). ``crossings``: the
    crossing backtest of the emergent targets (one row per target, predictor and cutoff, with
    the bootstrap interval ``lower``/``upper``, the calibrated one ``cal_lower``/``cal_upper``
    and the crossing fitted on every model, ``final``). ``seconds``: the time the grid took to
    compute (not to load from the cache).
    """

    cells: pd.DataFrame
    predictions: pd.DataFrame
    seconds: float
    config: dict = field(default_factory=dict)
    crossings: pd.DataFrame = field(default_factory=pd.DataFrame)

    def coverage(self, by: Sequence[str] = ("group",), predictors=WITH_INTERVALS
                 ) -> pd.DataFrame:
        """Pooled coverage of every level, old and new, over the held-out scores of
        ``predictors``, grouped ``by`` columns of :attr:`predictions` (``()``: the whole grid);
        with ``n`` the number of scores."""
        p = self.predictions[self.predictions["predictor"].isin(list(predictors))]
        p = p[p[f"lo_new_{int(100 * LEVELS[0])}"].notna()]
        cols = {}
        for L in self.config.get("levels", LEVELS):
            tag = int(round(100 * L))
            for kind in ("old", "new"):
                cols[f"cov_{kind}_{tag}"] = ((p["actual"] >= p[f"lo_{kind}_{tag}"])
                                             & (p["actual"] <= p[f"hi_{kind}_{tag}"]))
        cov = pd.DataFrame(cols).astype(float)
        if not by:
            out = cov.mean().to_frame().T
            out["n"] = len(cov)
            return out
        keys = [p[b] for b in by]
        out = cov.groupby(keys, sort=False).mean()
        out["n"] = cov.groupby(keys, sort=False).size()
        return out

    @classmethod
    def combine(cls, grids: Sequence["TrustGrid"]) -> "TrustGrid":
        """One grid from grids computed on disjoint groups with the same settings (for
        example two halves computed side by side): rows in the order of :data:`GROUPS` (the
        pooled leave-one-out rows last), as a single call over all the groups gives them, and
        the seconds summed. The numbers are those of the single call up to rounding (its
        batched solves add in another order)."""
        grids = list(grids)
        if not grids or not all(isinstance(g, TrustGrid) for g in grids):
            raise ArgumentError("combine: pass a list of TrustGrid results.")
        rest = [{k: v for k, v in g.config.items() if k != "groups"} for g in grids]
        if any(r != rest[0] for r in rest[1:]):
            raise ArgumentError("combine: the grids were computed with different settings; "
                                "compute them with the same arguments but for the groups.")
        groups = [x for g in grids for x in g.config.get("groups", ())]
        if len(set(groups)) < len(groups):
            raise ArgumentError(f"combine: a group is in more than one grid ({groups}).")
        order = sorted(range(len(grids)), key=lambda i: min(
            (GROUPS.index(x) for x in grids[i].config.get("groups", ())), default=0))
        grids = [grids[i] for i in order]

        def cat(frames):
            frames = [f for f in frames if len(f)]
            return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()

        cells = cat([g.cells for g in grids])
        if "kind" in cells:  # a single call puts the pooled leave-one-out rows last
            loo = (cells["kind"] == "loo").to_numpy()
            cells = pd.concat([cells[~loo], cells[loo]], ignore_index=True)
        return cls(cells=cells,
                   predictions=cat([g.predictions for g in grids]),
                   seconds=float(sum(g.seconds for g in grids)),
                   config={**grids[0].config,
                           "groups": tuple(x for x in GROUPS if x in groups)},
                   crossings=cat([g.crossings for g in grids]))

    def wins(self, a: str, b: str, by: Sequence[str] = ()) -> pd.Series | float:
        """Share of cells where predictor ``a`` has a lower held-out MSE than ``b`` (cells
        where both were fitted)."""
        key = (id(self.cells), self.cells.shape)
        cached = self.__dict__.get("_mse_table")
        if cached is None or cached[0] != key:  # one pivot serves every pair of predictors
            cached = self.__dict__["_mse_table"] = (key, self.cells.pivot_table(
                index=["group", "target", "split"], columns="predictor", values="mse"))
        m = cached[1]
        if a not in m or b not in m:
            raise ArgumentError(f"wins: unknown predictor(s); have {list(m.columns)}.")
        if a == b:
            raise ArgumentError("wins: compare two different predictors.")
        bad = [c for c in by if c not in ("group", "target", "split")]
        if bad:
            raise ArgumentError(f"wins: by must name 'group', 'target' or 'split', got {bad}.")
        both = m[[a, b]].dropna()
        w = (both[a] < both[b]).astype(float)
        if not by:
            return float(w.mean()) if len(w) else float("nan")
        return w.groupby(level=list(by)).mean()



def _by_setting(specs) -> dict[tuple, list]:
    """``(group, target, kwargs)`` specs grouped by group and predictor settings, so that the
    targets sharing a setting are fitted and bootstrapped together."""
    by_kw: dict[tuple, list] = {}
    for g, t, kw in specs:
        by_kw.setdefault((g, repr(sorted(kw.items()))), []).append((t, kw))
    return by_kw

def grid_tables() -> dict[str, pd.DataFrame]:
    """The tables the grid reads, by group: the core set's emergent, post-training and
    Leaderboard-v2 tables, and the instruct models' agent table."""
    from .. import data
    return {"emergent": data.load_emergent(), "post-training": data.load_post_training(),
            "leaderboard-v2": data.load_leaderboard_v2(core_only=True),
            "agents": data.load_agents()}


def _leaderboard_specs(table: pd.DataFrame) -> list[tuple[str, dict]]:
    """(target, ScalingPredictor kwargs) of every Leaderboard-v2 target in ``table``: the
    eight base benchmarks, the floored sigmoid, the target mapped to (chance, 1)."""
    targets = presets.LBV2_TARGETS
    return [(t, {"chance": chance} if chance else {}) for t, (_, _, chance) in targets.items()
            if t in table]


def _jobs(tables, groups, cutoffs, shares, loo):
    """Splits: (group, targets, split label, kind, cutoff, table, train, {target: test}, kwargs,
    inner). Targets that share a table, split and predictor arguments share a job, so their
    fits are solved together."""
    no_gsm8k = tuple(b for b in presets.BASE_BENCHMARKS if b != "GSM8K")
    specs = []
    if "emergent" in groups:
        specs += [("emergent", t, emergent_setup(t, "paper")[1])
                  for t in presets.EMERGENT_TASKS]
    if "post-training" in groups:
        specs += [("post-training", t, {"benchmarks": no_gsm8k}) for t in POST_TARGETS]
    if "leaderboard-v2" in groups and "leaderboard-v2" in tables:
        specs += [("leaderboard-v2", t, kw) for t, kw in
                  _leaderboard_specs(tables["leaderboard-v2"])]
    by_kw = _by_setting(specs)
    jobs = []
    for (g, _), items in by_kw.items():
        m = tables[g]
        f = m["flops_1e21"].to_numpy(dtype=float)
        known = np.isfinite(f)
        kw = items[0][1]
        # Leaderboard-v2 targets are also cut where the paper's appendix cuts them.
        extra = {t: c for t, c in presets.LBV2_CUTOFFS_1E21.items()
                 if g == "leaderboard-v2" and c not in cutoffs}
        for c in list(cutoffs) + sorted(set(extra.values())):
            tr, te = known & (f <= c), known & (f > c)
            ts = [t for t, _ in items
                  if (c in cutoffs or extra.get(t) == c)
                  and (tr & m[t].notna().to_numpy()).sum() >= 6
                  and (te & m[t].notna().to_numpy()).any()]
            if ts:
                jobs.append((g, ts, f"cutoff {c:g}", "cutoff", c, m, tr,
                             {t: te & m[t].notna().to_numpy() for t in ts}, kw, "compute"))
    if "agents" in groups:
        ag = tables["agents"]
        kw = {"benchmarks": presets.INSTRUCT_BENCHMARKS,
              "reference": presets.INSTRUCT_REFERENCE_FAMILY}
        for t in presets.AGENT_TARGETS:
            has = ag[t].notna().to_numpy()
            for s in shares:
                sp = top_split(ag, t, s)
                jobs.append(("agents", [t], f"top {s:.0%}", "top", np.nan, ag, sp.train,
                             {t: sp.test & has}, kw, "top"))
            if loo:
                for i in np.flatnonzero(has):
                    te = np.zeros(len(ag), bool)
                    te[i] = True
                    jobs.append(("agents", [t], "leave one out", "loo", np.nan, ag, has & ~te,
                                 {t: te}, kw, "top"))
    return jobs


class _Batch:
    """Collects :class:`ScalingPredictor` fits and solves all their links together, one padded
    solve per kind of link (the path :func:`~osl.predict.targets.fit_targets` takes for one
    table; here across tables, splits and targets). A fit that cannot be prepared is None."""

    def __init__(self):
        self.items, self._raw, self._y = [], {}, {}

    def add(self, m, t, train, kw) -> ScalingPredictor | None:
        p = ScalingPredictor(**kw)
        rkey = (id(m), p.features.key())
        if rkey not in self._raw:
            self._raw[rkey] = p.features.raw(m)
        ykey = (id(m), t, p.target_range)
        if ykey not in self._y:
            self._y[ykey] = read_target(m, t, lower=p.target_range[0], upper=p.target_range[1])
        try:
            X, y = p._prepare(m, self._raw[rkey], self._y[ykey], train)
        except (FitError, ScoreError):
            return None
        self.items.append((p, m, self._raw[rkey], X, y))
        return p

    def raw_of(self, m, p) -> np.ndarray:
        """The raw feature values of table ``m`` read for ``p``'s kind of features."""
        return self._raw[id(m), p.features.key()]

    def solve(self) -> None:
        kinds: dict[tuple, list] = {}
        for item in self.items:
            kinds.setdefault((item[3].shape[1], item[0].link), []).append(item)
        for (_, spec), items in kinds.items():
            solved = fit_link_padded([(X[None], y[None], None) for _, _, _, X, y in items], spec,
                                     max_iter=400, tol=1e-9)
            for (p, m, raw, _, _), (theta, _) in zip(items, solved):
                p._finish(m, raw, theta[0])
        self.items = []


def _bootstrap_intervals(b, raw: np.ndarray, levels) -> dict:
    """The bootstrap predictive interval of :meth:`PredictionBootstrap.predict` (``interval=
    "bootstrap"``) at several levels from one set of draws, for rows with raw features
    ``raw`` (the same draws and residual picks; the tests check the two agree)."""
    p = b.predictor
    X = p.features.transform(b.state, raw)
    D = link(b.params, np.broadcast_to(X, (len(b.params),) + X.shape[1:]))[b.ok]
    if D.shape[0] == 0:
        return {L: (np.full(len(raw), np.nan), np.full(len(raw), np.nan)) for L in levels}
    rng = np.random.default_rng(b.seed + 1)
    res = b.residuals[b.ok]
    DP = D + res[np.arange(len(res))[:, None], rng.integers(0, res.shape[1], size=D.shape)]
    lo_t, hi_t = p.target_range
    out = {}
    for L in levels:
        lo, hi = np.quantile(DP, [(1 - L) / 2, (1 + L) / 2], axis=0)
        out[L] = np.clip(p.from_unit(lo), lo_t, hi_t), np.clip(p.from_unit(hi), lo_t, hi_t)
    return out


def _inner_splits(m, targets, train, inner):
    """choose_n_pcs's inner splits: (targets, inner train, inner test) at the 0.6 quantile of
    the training models' compute, or of each target's own scores (``inner="top"``)."""
    if inner == "compute":
        splits = [(list(targets), m["log10_flops"].to_numpy(dtype=float), train)]
    else:
        splits = [([t], pd.to_numeric(m[t], errors="coerce").to_numpy(dtype=float),
                   train & m[t].notna().to_numpy()) for t in targets]
    out = []
    for ts, order, base in splits:
        cut = np.nanquantile(order[base], 0.6)
        out.append((ts, base & (order <= cut), base & (order > cut)))
    return out


def _source_key(config: dict) -> str:
    h = hashlib.sha256(repr(sorted(config.items())).encode())
    for f in sorted(paths.PACKAGE_DIR.rglob("*.py")):
        h.update(f.read_bytes())
    if paths.REGISTRY_FILE.exists():
        h.update(paths.REGISTRY_FILE.read_bytes())
    return h.hexdigest()[:20]


def trust_grid(tables: dict | None = None, *, groups: Sequence[str] = GROUPS,
               cutoffs: Sequence[float] = CUTOFFS, shares: Sequence[float] = SHARES,
               loo: bool = True, predictors: Sequence[str] = PREDICTORS,
               levels: Sequence[float] = LEVELS, intervals: Sequence[str] = WITH_INTERVALS,
               n_boot: int = 60, seed: int = 0, cache: bool = True,
               progress: bool = True) -> TrustGrid:
    """Backtest every (group, target, split, predictor) cell; see the module docstring.

    ``tables``: ``{group: table}`` (default :func:`grid_tables`); ``n_boot`` resamples per fit
    (100 keeps the Monte-Carlo error of a pooled coverage well below a point); ``cache``: reuse
    an identical earlier call (memory, then ``<build>/cache/trust``); ``progress``: a progress
    bar on stderr when the grid takes more than a second.
    """
    groups = tuple(validate.choice("groups", g, GROUPS) for g in
                   validate.names("groups", groups))
    predictors = tuple(validate.choice("predictors", p, PREDICTORS) for p in
                       validate.names("predictors", predictors))
    intervals = tuple(validate.choice("intervals", p, WITH_INTERVALS) for p in
                      validate.names("intervals", intervals, min_count=0))
    unused = [p for p in intervals if p not in predictors]
    if unused:
        raise ArgumentError(f"intervals names {unused}, which are not in predictors.")
    cutoffs = tuple(validate.real("cutoffs", c, low=0.0, low_open=True) for c in cutoffs)
    shares = tuple(validate.real("shares", s, low=0.0, high=1.0, low_open=True, high_open=True)
                   for s in shares)
    levels = tuple(validate.level(L, "levels") for L in levels)
    if not levels:
        raise ArgumentError("levels must list at least one interval level, e.g. (0.8,).")
    n_boot = validate.integer("n_boot", n_boot, low=10)
    seed = validate.seed(seed)
    if not isinstance(loo, (bool, np.bool_)):
        raise ArgumentError(f"loo must be True or False, got {loo!r}.")
    config = {"groups": groups, "cutoffs": cutoffs, "shares": shares, "loo": bool(loo),
              "predictors": predictors, "levels": levels, "intervals": intervals,
              "n_boot": n_boot, "seed": seed}
    if tables is not None:
        if not isinstance(tables, dict):
            raise ArgumentError("tables must be a {group: table} dict, e.g. grid_tables().")
        missing = [g for g in groups if g not in tables and g != "leaderboard-v2"]
        if missing:
            raise ArgumentError(f"tables lacks the group(s) {missing}; pass grid_tables() or "
                                "name fewer groups.")
    key = _source_key(config) if cache and tables is None else None
    if key is not None:
        if key in _MEMORY:
            return _MEMORY[key]
        disk = paths.build_dir() / "cache" / "trust" / f"{key}.pkl"
        if disk.exists():
            with open(disk, "rb") as fh:
                _MEMORY[key] = pickle.load(fh)
            return _MEMORY[key]
    t0 = time.perf_counter()
    tables = grid_tables() if tables is None else tables
    grid = _compute(tables, config, progress)
    grid.seconds = time.perf_counter() - t0
    if key is not None:
        _MEMORY[key] = grid
        disk.parent.mkdir(parents=True, exist_ok=True)
        tmp = disk.with_suffix(".part")
        with open(tmp, "wb") as fh:
            pickle.dump(grid, fh)
        tmp.replace(disk)
    return grid


def _compute(tables, config, progress) -> TrustGrid:
    jobs = _jobs(tables, config["groups"], config["cutoffs"], config["shares"], config["loo"])
    return _run(jobs, config, progress)


def preregistered_test(*, n_boot: int = 40, seed: int = 0,
                       predictors: Sequence[str] = (PC_CHOSEN, "log-FLOPs", "training mean"),
                       intervals: Sequence[str] = (PC_CHOSEN, "log-FLOPs"),
                       levels: Sequence[float] = LEVELS) -> TrustGrid:
    """The forward test: every predictor fitted on the paper's core set and scored on the
    models pre-registered before their release, on every emergent, post-training and
    Leaderboard-v2 target they have a score for. The number of
    PCs is chosen on the core set (inner split by compute). Returns a :class:`TrustGrid` whose
    split is ``"pre-registered"``."""
    from .. import data
    n_boot = validate.integer("n_boot", n_boot, low=10)
    seed = validate.seed(seed)
    predictors = tuple(validate.choice("predictors", p, PREDICTORS)
                       for p in validate.names("predictors", predictors))
    intervals = tuple(validate.choice("intervals", p, WITH_INTERVALS)
                      for p in validate.names("intervals", intervals, min_count=0))
    levels = tuple(validate.level(L, "levels") for L in levels)
    no_gsm8k = tuple(b for b in presets.BASE_BENCHMARKS if b != "GSM8K")
    tables = {"emergent": data.load_emergent(core_only=False),
              "post-training": data.load_post_training(core_only=False)}
    specs = [("emergent", t, emergent_setup(t, "paper")[1]) for t in presets.EMERGENT_TASKS]
    specs += [("post-training", t, {"benchmarks": no_gsm8k}) for t in POST_TARGETS]
    tables["leaderboard-v2"] = lb = data.load_leaderboard_v2()
    specs += [("leaderboard-v2", t, kw) for t, kw in _leaderboard_specs(lb)]
    by_kw = _by_setting(specs)
    jobs = []
    for (g, _), items in by_kw.items():
        m = tables[g]
        tr, pre = m["is_core"].to_numpy(bool), m["is_preregistered"].to_numpy(bool)
        ts = [t for t, _ in items if (pre & m[t].notna().to_numpy()).any()]
        if ts:
            jobs.append((g, ts, "pre-registered", "prereg", np.nan, m, tr,
                         {t: pre & m[t].notna().to_numpy() for t in ts}, items[0][1], "compute"))
    config = {"predictors": predictors, "intervals": intervals, "levels": levels,
              "n_boot": n_boot, "seed": seed}
    t0 = time.perf_counter()
    out = _run(jobs, config, False)
    out.seconds = time.perf_counter() - t0
    return out


def _choose_ks(jobs) -> dict[tuple, int]:
    """The number of PCs of every job and target, chosen on the training models only
    (choose_n_pcs's inner split, k in 1..3; no evidence: k = 1), all fits solved together."""
    ks: dict[tuple, int] = {}
    batch, inner_fits = _Batch(), []
    for j, job in enumerate(jobs):
        g, ts, label, kind, cut, m, tr, te, kw, inner = job
        for its, in_tr, in_te in _inner_splits(m, ts, tr, inner):
            for k in (1, 2, 3):
                for t in its:
                    p = batch.add(m, t, in_tr, {**kw, "n_pcs": k, "reference": None})
                    if p is not None:
                        inner_fits.append((j, t, k, p, in_te & m[t].notna().to_numpy()))
    batch.solve()
    scores: dict[tuple, dict] = {}
    for j, t, k, p, te in inner_fits:
        m = jobs[j][5]
        if te.any():
            X = p.features.transform(p.state_, batch.raw_of(m, p)[te])[0]
            err = p.from_unit(link(p.params_, X)) - m[t].to_numpy(dtype=float)[te]
            if np.isfinite(err).any():
                scores.setdefault((j, t), {})[k] = float(np.nanmean(err ** 2))
    for j, job in enumerate(jobs):
        for t in job[1]:
            sc = scores.get((j, t), {})
            ks[j, t] = min(sc, key=sc.get) if sc else 1
    return ks


def sensitivity(tables: dict | None = None, *, cutoff: float = presets.DEFAULT_CUTOFF_1E21,
                other_cutoffs: Sequence[float] = (48.0, 168.0),
                groups: Sequence[str] = ("emergent", "post-training")) -> pd.DataFrame:
    """Held-out MSE of the default predictor (PCs, k chosen on the training models) of every
    target of ``groups`` at ``cutoff``, and again under one change at a time: benchmarks
    standardized before the PCA; k fixed at 1, 2 or 3; each benchmark left out of the
    capabilities; the cutoff moved to each of ``other_cutoffs``. Point fits only (solved
    together; k is chosen once, at ``cutoff``). Every variant is scored on the same held-out
    models, those above the highest cutoff of the sweep. One row per (group, target, factor, setting) with ``mse``,
    ``n_test`` and ``ratio`` (MSE over the default's)."""
    groups = tuple(validate.choice("groups", g, ("emergent", "post-training"))
                   for g in validate.names("groups", groups))
    cutoff = validate.real("cutoff", cutoff, low=0.0, low_open=True)
    others = tuple(validate.real("other_cutoffs", c, low=0.0, low_open=True)
                   for c in other_cutoffs)
    tables = grid_tables() if tables is None else tables
    if not isinstance(tables, dict) or any(g not in tables for g in groups):
        raise ArgumentError(f"tables must be a {{group: table}} dict with {list(groups)}.")
    jobs = _jobs(tables, groups, (cutoff,) + others, (), False)
    # k is chosen once, at the default cutoff, and kept when the cutoff moves.
    base = [j for j, job in enumerate(jobs) if job[4] == cutoff]
    chosen = _choose_ks([jobs[j] for j in base])
    by_target = {t: chosen[i, t] for i, j in enumerate(base) for t in jobs[j][1]}
    ks = {(j, t): by_target.get(t, 1) for j, job in enumerate(jobs) for t in job[1]}
    # Every variant is scored on the same models: those above the highest cutoff of the sweep.
    top = max((cutoff,) + others)
    batch, runs = _Batch(), []
    for j, (g, ts, label, kind, cut, m, tr, te, kw, inner) in enumerate(jobs):
        for t in ts:
            k = ks[j, t]
            if cut != cutoff:
                variants = [("cutoff", f"{cut:g}e21 FLOPs", {"n_pcs": k})]
            else:
                bench = kw.get("benchmarks", presets.BASE_BENCHMARKS)
                variants = [("default", f"k = {k}", {"n_pcs": k}),
                            ("standardize", "standardized", {"n_pcs": k, "standardize": True})]
                variants += [("number of PCs", f"k = {kk}", {"n_pcs": kk}) for kk in (1, 2, 3)
                             if kk != k]
                variants += [("benchmark left out", b,
                              {"n_pcs": min(k, len(bench) - 1),
                               "benchmarks": tuple(x for x in bench if x != b)}) for b in bench]
            for factor, setting, extra in variants:
                p = batch.add(m, t, tr, {**kw, **extra, "reference": None})
                if p is not None:
                    common = te[t] & (m["flops_1e21"].to_numpy(dtype=float) > top)
                    runs.append((g, t, factor, setting, p, m, common))
    batch.solve()
    rows = []
    for g, t, factor, setting, p, m, te in runs:
        X = p.features.transform(p.state_, batch.raw_of(m, p)[te])[0]
        err = p.from_unit(link(p.params_, X)) - m[t].to_numpy(dtype=float)[te]
        rows.append({"group": g, "target": t, "factor": factor, "setting": setting,
                     "mse": float(np.nanmean(err ** 2)), "n_test": int(np.isfinite(err).sum())})
    out = pd.DataFrame(rows)
    base = out[out["factor"] == "default"].set_index("target")["mse"]
    out["ratio"] = out["mse"] / out["target"].map(base)
    return out


def _run(jobs, config, progress) -> TrustGrid:
    from tqdm.auto import tqdm
    preds = config["predictors"]
    bar = tqdm(total=2 * len(jobs), desc="trust grid", unit="split", file=sys.stderr,
               disable=not progress, delay=1.0)
    link_kw = lambda kw: {a: v for a, v in kw.items() if a == "link"}  # noqa: E731
    ks = _choose_ks(jobs) if PC_CHOSEN in preds else {}
    # 2. Every predictor of every job, the sigmoid fits solved together.
    batch, fitted = _Batch(), []  # fitted: (job, target, predictor name, estimator, k)
    for j, job in enumerate(jobs):
        g, ts, label, kind, cut, m, tr, te, kw, inner = job
        compute_ok = g != "agents"  # the agents' held-out models have no known compute
        for name in preds:
            for t in ts:
                if name in (PC_CHOSEN, PC_PAPER):
                    k = ks[j, t] if name == PC_CHOSEN else 3
                    # Only the emergent fits of the crossing backtest need the compute axis.
                    axis = g == "emergent" and kind == "cutoff" and name == PC_CHOSEN
                    est = batch.add(m, t, tr, {**kw, "n_pcs": k,
                                               **({} if axis else {"reference": None})})
                elif not compute_ok and name != "training mean":
                    continue
                elif name in ("log-FLOPs", "log-size"):
                    k = np.nan
                    est = batch.add(m, t, tr, {"predictor": name.lower().replace("-", "_"),
                                               **link_kw(kw)})
                else:
                    k = np.nan
                    try:
                        est = (FamilyLogFlops if name == "family + log-FLOPs" else
                               TrainingMean)().fit(m, t, tr)
                    except FitError:
                        est = None
                if est is not None:
                    fitted.append((job, t, name, est, k))
        bar.update(1)
    # The crossing backtest's reference: each emergent configuration fitted on every model of
    # known compute.
    finals = {}
    for job, t, name, est, k in fitted:
        g, _, label, kind, cut, m, tr, te, kw, inner = job
        if g == "emergent" and kind == "cutoff" and name in (PC_CHOSEN, "log-FLOPs") \
                and (t, name, k) not in finals:
            cfg = {**kw, "n_pcs": int(k)} if name == PC_CHOSEN else \
                {"predictor": "log_flops", **link_kw(kw)}
            finals[t, name, k] = batch.add(m, t, np.isfinite(m["flops_1e21"].to_numpy(float)),
                                           cfg)
    batch.solve()
    scaling = [i for i, f in enumerate(fitted) if f[2] in config["intervals"]]
    boots = dict(zip(scaling, bootstrap_many([fitted[i][3] for i in scaling],
                                             config["n_boot"], config["seed"])))
    calibrate_many([fitted[i][3] for i in scaling])  # cached on each predictor
    rows, parts = [], []
    done = set()
    for i, (job, t, name, est, k) in enumerate(fitted):
        g, _, label, kind, cut, m, tr, te, kw, inner = job
        sel = te[t]
        raw = batch.raw_of(m, est) if isinstance(est, ScalingPredictor) else None
        if raw is not None:
            X = est.features.transform(est.state_, raw[sel])[0]
            mean = est.from_unit(link(est.params_, X))
        else:  # a baseline reads only these columns
            mean = est.predict(m.loc[sel, [c for c in ("family", "log10_flops") if c in m]]
                               ).to_numpy()
        y = m[t].to_numpy(dtype=float)[sel]
        ok = np.isfinite(mean)
        out = pd.DataFrame({"group": g, "target": t, "split": label, "kind": kind,
                            "cutoff": cut, "predictor": name, "model": m.index[sel],
                            "family": m["family"].to_numpy()[sel] if "family" in m else "",
                            "actual": y, "mean": mean})
        if i in boots:
            olds = _bootstrap_intervals(boots[i], raw[sel], config["levels"])
            cal = calibrate_many([est])[0]  # cached by the batched call above
            for L in config["levels"]:
                tag = int(round(100 * L))
                lo, hi = olds[L]
                clo, chi, _ = _conformal_arrays(est, X, L, cal)
                out[f"lo_old_{tag}"], out[f"hi_old_{tag}"] = lo, hi
                out[f"lo_new_{tag}"], out[f"hi_new_{tag}"] = np.fmin(lo, clo), np.fmax(hi, chi)
        out = out[ok]
        if not len(out):
            continue
        parts.append(out)
        err = out["mean"] - out["actual"]
        row = {"group": g, "target": t, "split": label, "kind": kind, "cutoff": cut,
               "predictor": name, "k": k, "n_train": est.n_train_, "n_test": len(out),
               "mse": float(np.mean(err ** 2)), "mae": float(np.mean(np.abs(err)))}
        if i in boots and f"lo_new_{int(round(100 * config['levels'][0]))}" in out:
            for L in config["levels"]:
                tag = int(round(100 * L))
                for kd in ("old", "new"):
                    row[f"cov_{kd}_{tag}"] = float(((out["actual"] >= out[f"lo_{kd}_{tag}"])
                                                    & (out["actual"] <= out[f"hi_{kd}_{tag}"])
                                                    ).mean())
            if 0.8 in config["levels"]:
                for kd in ("old", "new"):
                    row[f"width_{kd}_80"] = float((out[f"hi_{kd}_80"] - out[f"lo_{kd}_80"]).mean())
        rows.append(row)
        if id(job) not in done:
            done.add(id(job))
            bar.update(1)
    bar.close()
    cells = pd.DataFrame(rows)
    # Leave-one-out cells hold one model each: pool them per (target, predictor).
    loo = cells["kind"] == "loo"
    if loo.any():
        p = pd.concat(parts, ignore_index=True)
        pooled = []
        for (g, t, name), d in p[p["kind"] == "loo"].groupby(["group", "target", "predictor"],
                                                              sort=False):
            err = d["mean"] - d["actual"]
            r = {"group": g, "target": t, "split": "leave one out", "kind": "loo",
                 "cutoff": np.nan, "predictor": name,
                 "k": float(cells.loc[loo & (cells["target"] == t)
                                      & (cells["predictor"] == name), "k"].median()),
                 "n_train": float(cells.loc[loo & (cells["target"] == t)
                                            & (cells["predictor"] == name), "n_train"].median()),
                 "n_test": len(d), "mse": float(np.mean(err ** 2)),
                 "mae": float(np.mean(np.abs(err)))}
            for c in [c for c in cells.columns if c.startswith(("cov_", "width_"))]:
                kd, tag = c.split("_")[1], c.split("_")[2]
                if f"lo_{kd}_{tag}" in d and d[f"lo_{kd}_{tag}"].notna().any():
                    r[c] = float(((d["actual"] >= d[f"lo_{kd}_{tag}"])
                                  & (d["actual"] <= d[f"hi_{kd}_{tag}"])).mean()) \
                        if c.startswith("cov_") else \
                        float((d[f"hi_{kd}_{tag}"] - d[f"lo_{kd}_{tag}"]).mean())
            pooled.append(r)
        cells = pd.concat([cells[~loo], pd.DataFrame(pooled)], ignore_index=True)
    predictions = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    crossings = _crossings(fitted, boots, finals)
    return TrustGrid(cells, predictions, 0.0, config, crossings)


def _crossings(fitted, boots, finals, level: float = 0.8) -> pd.DataFrame:
    """The "when" backtest of the emergent targets: at each cutoff, the equivalent compute at
    which the curve passes its midpoint, with the bootstrap interval and the calibrated one
    (the hull of the bootstrap interval and :func:`~osl.predict.calibration.crossing_interval`),
    against the crossing of the same configuration fitted on every model of known compute."""
    rows = []
    for i, (job, t, name, est, k) in enumerate(fitted):
        g, _, label, kind, cut, m, tr, te, kw, inner = job
        if (t, name, k) not in finals or kind != "cutoff" or i not in boots:
            continue
        fp = finals[t, name, k]
        if fp is None:
            final, mid = np.nan, np.nan
        else:
            final, mid = fp.crossing(), float(fp.from_unit((1 + fp.params_[-1]) / 2))
        try:
            cr = boots[i].crossing(None, level)
            clo, chi = crossing_interval(est, level)
        except FitError:
            continue
        y_train = est.y_all_[est.rows_]
        rows.append({"target": t, "predictor": name, "k": k, "label": f"{cut:g}",
                     "cutoff_1e21": cut, "n_train": est.n_train_, "crossing": cr["point"],
                     "lower": cr["lower"], "upper": cr["upper"],
                     "cal_lower": np.fmin(cr["lower"], clo), "cal_upper": np.fmax(cr["upper"], chi),
                     "final": final, "midpoint_level": mid,
                     "max_train_score": float(y_train.max()),
                     "n_train_above": int((y_train >= mid).sum())})
    return pd.DataFrame(rows)
