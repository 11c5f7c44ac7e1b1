"""Data layer: fetch, verify, cache and load the paper's released tables.

Every file is named in the registry ``data/registry.json`` with its URL at a pinned upstream
commit and its SHA-256. :func:`fetch` returns a verified local copy, obtained in this order:

1. the cache (``data/cache`` or ``$OSL_DATA_CACHE``), if its checksum still matches;
2. a local mirror folder named by ``$OSL_DATA_MIRROR`` (for machines without internet);
3. a download from the pinned URL.

A new file is written to a temporary name inside the cache folder, verified, and only then
renamed into place, so the cache never holds a partial or unverified file.

Loaders return tidy, validated frames indexed by model name. Run ``python -m osl.data --help``
for the command line.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sys
import tempfile
import time
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
import pandas as pd

from . import paths, presets
from .errors import (ChecksumError, DataUnavailableError, DuplicateModelError, OSLError,
                     SchemaError, ScoreError)

MIRROR_ENV = "OSL_DATA_MIRROR"

__all__ = ["chance_normalize", "coerce_scores", "core_models", "fetch", "fetch_all", "load_agents", "load_base_models", "load_emergent", "lbv2_chance", "lbv2_normalize", "load_instruct_models", "load_leaderboard_v2", "load_post_training", "load_scores", "registry", "score_matrix", "tidy_model_table"]


#: Metadata columns of the model tables, renamed to tidy names.
META_COLUMNS = {
    "Model": "model",
    "Model Family": "family",
    "Model Size (B)": "params_b",
    "Pretraining Data Size (T)": "tokens_t",
    "FLOPs (1E21)": "flops_1e21",
}


# --------------------------------------------------------------------------------------------
# Registry, fetching and verification
# --------------------------------------------------------------------------------------------
@lru_cache(maxsize=1)
def registry() -> dict:
    """The registry of upstream files (source, pinned commit, licence, and per-file URL/SHA-256)."""
    return json.loads(paths.REGISTRY_FILE.read_text())


def file_names() -> list[str]:
    return sorted(registry()["files"])


def _entry(name: str) -> dict:
    files = registry()["files"]
    if name not in files:
        raise DataUnavailableError(
            f"{name!r} is not in the data registry. Known files: {', '.join(sorted(files))}.")
    return files[name]


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 16), b""):
            h.update(block)
    return h.hexdigest()


#: A temporary file older than this (seconds) belongs to a fetch that died; it is removed.
STALE_PART_SECONDS = 600


def _prepare_cache(folder: Path, name: str) -> None:
    """Create the cache folder (clear error if the path is a file) and remove the temporary
    files that an interrupted fetch of ``name`` left behind."""
    if folder.exists() and not folder.is_dir():
        raise DataUnavailableError(
            f"The data cache {str(folder)!r} is a file, not a folder. Remove it, or point "
            "OSL_DATA_CACHE at a folder.")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DataUnavailableError(f"Cannot create the data cache {str(folder)!r} "
                                   f"({exc.strerror}); set OSL_DATA_CACHE to a writable folder."
                                   ) from None
    now = time.time()
    for part in folder.glob(f".{name}.*.part"):
        try:
            if now - part.stat().st_mtime > STALE_PART_SECONDS:
                part.unlink()
        except OSError:  # removed meanwhile by another fetch
            pass


def _install_verified(name: str, produce, expected: str, target: Path) -> Path:
    """Let ``produce(tmp_path)`` write a candidate file, verify it, then rename it into place.

    On any failure the temporary file is removed and the cache is left untouched.
    """
    _prepare_cache(target.parent, name)
    fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".part", dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        produce(tmp_path)
        got = sha256(tmp_path)
        if got != expected:
            raise ChecksumError(
                f"{name}: SHA-256 mismatch (expected {expected}, got {got}). The file was "
                "discarded. If it came from a mirror folder, replace it with the file at the "
                "pinned upstream commit (see data/README.md).")
        os.replace(tmp_path, target)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()
    return target


def fetch(name: str, *, mirror: str | os.PathLike | None = None, progress: bool = False) -> Path:
    """Return the path of a verified local copy of registry file ``name``.

    ``mirror`` (default: ``$OSL_DATA_MIRROR``) is a folder holding upstream files under their
    own names; it is tried before the network.
    """
    entry = _entry(name)
    expected = entry["sha256"]
    target = paths.cache_dir() / name
    if target.exists():
        if sha256(target) == expected:
            return target
        target.unlink()  # stale or corrupted cache entry: fetch again

    mirror = mirror if mirror is not None else os.environ.get(MIRROR_ENV) or None
    if mirror is not None:
        source = Path(mirror) / name
        if not source.is_file():
            raise DataUnavailableError(
                f"{name}: not found in the mirror folder {str(mirror)!r} (set by ${MIRROR_ENV}). "
                "Put the upstream file there, or unset the variable to download it.")
        return _install_verified(name, lambda tmp: shutil.copyfile(source, tmp), expected, target)

    def download(tmp: Path) -> None:
        import pooch
        import requests

        try:
            pooch.HTTPDownloader(progressbar=progress, timeout=60)(entry["url"], str(tmp), None)
        except (requests.exceptions.RequestException, OSError) as exc:
            raise DataUnavailableError(
                f"{name}: could not download {entry['url']} ({type(exc).__name__}). Without "
                f"network access, set {MIRROR_ENV} to a folder holding the upstream CSV files "
                "(see README.md, 'Working offline').") from None

    return _install_verified(name, download, expected, target)


def fetch_all(*, mirror: str | os.PathLike | None = None, progress: bool = True) -> dict[str, Path]:
    """Fetch and verify every registry file; returns ``{name: path}``."""
    names = file_names()
    out = {}
    try:
        from tqdm.auto import tqdm
        it = tqdm(names, desc="data", unit="file", disable=not progress)
    except ImportError:  # pragma: no cover
        it = names
    for name in it:
        out[name] = fetch(name, mirror=mirror)
    return out


def _read_user_file(path) -> pd.DataFrame:
    from .table import read_file
    return read_file(path, "path")


def read_csv(name: str) -> pd.DataFrame:
    """The raw upstream table ``name`` (fetched and verified), as pandas reads it."""
    return pd.read_csv(fetch(name))


# --------------------------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------------------------
def require_columns(df: pd.DataFrame, columns: Iterable[str], *, table: str = "table") -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise SchemaError(
            f"{table}: missing required column(s) {missing}. Columns present: "
            f"{list(map(str, df.columns))}.")


def check_unique_models(models: pd.Series | pd.Index, *, table: str = "table") -> None:
    models = pd.Series(models)
    dup = models[models.duplicated(keep=False)]
    if len(dup):
        raise DuplicateModelError(
            f"{table}: {dup.nunique()} model(s) appear in more than one row: "
            f"{sorted(dup.unique())[:10]}. Keep one row per model.")


def coerce_scores(df: pd.DataFrame, columns: Sequence[str], *, table: str = "table",
                  lower: float | None = 0.0, upper: float | None = 1.0,
                  ids: pd.Series | pd.Index | None = None) -> pd.DataFrame:
    """Return ``df[columns]`` as floats, checking they are numeric and within [lower, upper].

    Missing cells (NaN) are allowed; text such as ``"high"`` or ``"45%"`` and True/False are not.
    """
    vals = score_matrix(df, columns, table=table, lower=lower, upper=upper, ids=ids)
    return pd.DataFrame(vals, index=df.index, columns=list(columns))


def _column_values(df: pd.DataFrame, i: int) -> np.ndarray:
    """The values of column ``i`` without building a Series (pandas' fast accessor when it
    exists; a pandas without it takes the public route)."""
    try:
        return np.asarray(df._get_column_array(i))
    except AttributeError:  # pragma: no cover
        return df.iloc[:, i].to_numpy()


def score_matrix(df: pd.DataFrame, columns: Sequence[str], *, table: str = "table",
                 lower: float | None = 0.0, upper: float | None = 1.0,
                 ids: pd.Series | pd.Index | None = None) -> np.ndarray:
    """:func:`coerce_scores` as a plain (n, len(columns)) float array (the fast path)."""
    require_columns(df, columns, table=table)
    columns = list(columns)
    vals = np.empty((len(df), len(columns)))
    pos = df.columns.get_indexer(columns) if df.columns.is_unique else None
    for j, col in enumerate(columns):
        if pos is not None:
            arr = _column_values(df, pos[j])
            if arr.dtype.kind in "fiu":  # the fast path: numbers, no Series built
                vals[:, j] = arr
                continue
        raw = df[col]
        if isinstance(raw, pd.DataFrame):
            raise SchemaError(f"{table}: column {col!r} appears more than once; keep one.")
        kind = raw.dtype.kind
        if kind in "fiu":
            vals[:, j] = raw.to_numpy(dtype=float, na_value=np.nan)
            continue
        if kind == "b" or (kind == "O" and raw.map(
                lambda v: isinstance(v, (bool, np.bool_))).any()):
            raise ScoreError(f"{table}: column {col!r} holds True/False values; scores must be "
                             "numbers (fractions in [0, 1]).")
        if pd.api.types.is_numeric_dtype(raw):
            vals[:, j] = raw.to_numpy(dtype=float, na_value=np.nan)
            continue
        num = pd.to_numeric(raw, errors="coerce")
        bad = (num.isna() & raw.notna()).to_numpy()
        if bad.any():
            ids_ = df.index if ids is None else pd.Index(ids)
            examples = [f"{ids_[i]}={raw.iloc[i]!r}" for i in np.flatnonzero(bad)[:3]]
            raise ScoreError(
                f"{table}: column {col!r} has non-numeric values ({', '.join(examples)}). "
                "Scores must be numbers (fractions in [0, 1]); leave missing cells empty.")
        vals[:, j] = num.to_numpy(dtype=float, na_value=np.nan)
    if np.isinf(vals).any():
        col = columns[int(np.flatnonzero(np.isinf(vals).any(axis=0))[0])]
        raise ScoreError(f"{table}: column {col!r} contains infinite values.")
    with np.errstate(invalid="ignore"):
        out_of_range = np.zeros(vals.shape, bool)
        if lower is not None:
            out_of_range |= vals < lower
        if upper is not None:
            out_of_range |= vals > upper
    if out_of_range.any():
        ids = df.index if ids is None else pd.Index(ids)
        j = int(np.flatnonzero(out_of_range.any(axis=0))[0])
        rows = np.flatnonzero(out_of_range[:, j])
        examples = [f"{ids[i]}={vals[i, j]:g}" for i in rows[:3]]
        raise ScoreError(
            f"{table}: column {columns[j]!r} has {rows.size} value(s) outside "
            f"[{lower}, {upper}] ({', '.join(examples)}). Scores must be fractions in "
            "[0, 1] (divide percentages by 100), or state the range explicitly.")
    return vals


# --------------------------------------------------------------------------------------------
# Tidy model tables
# --------------------------------------------------------------------------------------------
def tidy_model_table(raw: pd.DataFrame, benchmarks: Sequence[str], *, table: str = "table",
                     extra_scores: Sequence[str] = ()) -> pd.DataFrame:
    """Validate and tidy a model table with the upstream metadata columns.

    Returns a frame indexed by ``model`` with columns ``family, params_b, tokens_t, flops_1e21,
    log10_flops`` (log10 of FLOPs, absolute), the benchmark scores (floats in [0, 1]) and flags
    ``is_core, is_preregistered, is_code, flops_known`` plus a ``quirk`` note.
    """
    if not isinstance(raw, pd.DataFrame):
        raise SchemaError(f"{table}: expected a pandas DataFrame, got {type(raw).__name__}.")
    require_columns(raw, list(META_COLUMNS) + list(benchmarks) + list(extra_scores), table=table)
    blank = raw["Model"].isna() | (raw["Model"].astype(str).str.strip() == "")
    if blank.any():
        raise SchemaError(f"{table}: {int(blank.sum())} row(s) with an empty 'Model' name; name "
                          "every model.")
    check_unique_models(raw["Model"], table=table)
    ids = raw["Model"].astype(str)
    scores = coerce_scores(raw, list(benchmarks) + list(extra_scores), table=table, ids=ids)
    meta = coerce_scores(raw, ["Model Size (B)", "Pretraining Data Size (T)", "FLOPs (1E21)"],
                         table=table, lower=0.0, upper=None, ids=ids)
    out = pd.DataFrame({
        "model": ids.to_numpy(),
        "family": raw["Model Family"].astype(str).to_numpy(),
        "params_b": meta["Model Size (B)"].to_numpy(),
        "tokens_t": meta["Pretraining Data Size (T)"].to_numpy(),
        "flops_1e21": meta["FLOPs (1E21)"].to_numpy(),
    })
    unknown = out["family"].isin(presets.UNKNOWN_FLOPS_FAMILIES).to_numpy()
    flops = out["flops_1e21"].to_numpy().copy()
    flops[unknown] = np.nan
    out["flops_1e21"] = flops
    with np.errstate(divide="ignore"):
        out["log10_flops"] = np.where(flops > 0, np.log10(flops) + 21.0, np.nan)
    for col in list(benchmarks) + list(extra_scores):
        out[col] = scores[col].to_numpy()
    out["is_preregistered"] = out["model"].isin(presets.PREREGISTERED_MODELS)
    out["is_core"] = out["family"].isin(presets.CORE_FAMILIES) & ~out["is_preregistered"]
    out["is_code"] = out["family"].isin(presets.CODE_FAMILIES)
    out["flops_known"] = np.isfinite(out["log10_flops"])
    out["quirk"] = out["model"].map(presets.MODEL_QUIRKS).fillna("")
    return out.set_index("model")


def load_base_models(path: str | os.PathLike | None = None) -> pd.DataFrame:
    """Base models with metadata, the eight benchmark scores and core/pre-registered flags.

    ``path`` reads your own CSV in the upstream format instead of the pinned release.
    """
    name = "base_llm_benchmark_eval.csv"
    raw = _read_user_file(path) if path is not None else read_csv(name)
    return tidy_model_table(raw, presets.BASE_BENCHMARKS, table=str(path or name))


def core_models(models: pd.DataFrame | None = None) -> pd.DataFrame:
    """The paper's core set (77 models in 21 families at the pinned commit)."""
    models = load_base_models() if models is None else models
    return models[models["is_core"]]


def load_instruct_models(path: str | os.PathLike | None = None) -> pd.DataFrame:
    """Instruction-tuned models with the seven benchmarks, Arena-Elo and MT-Bench (scaled to [0,1])."""
    name = "instruct_llm_benchmark_eval.csv"
    raw = _read_user_file(path) if path is not None else read_csv(name)
    return tidy_model_table(raw, presets.INSTRUCT_BENCHMARKS, table=str(path or name),
                            extra_scores=("Arena-Elo", "MTBench"))


def load_emergent(models: pd.DataFrame | None = None, *, core_only: bool = True) -> pd.DataFrame:
    """Base models (core set by default) joined with the BIG-Bench emergent tasks.

    BLEU is divided by 100 so every task is a fraction in [0, 1]; task names are the upstream
    column names (see ``presets.EMERGENT_TASKS``).
    """
    name = "base_llm_emergent_capability_eval.csv"
    tasks = list(presets.EMERGENT_TASKS)
    ranges = {t: (0.0, 100.0 if t.endswith("_bleu") else 1.0) for t in tasks}
    scores = load_scores(name, tasks, ranges=ranges)
    for t in tasks:
        if t.endswith("_bleu"):
            scores[t] = scores[t] / 100.0
    models = load_base_models() if models is None else models
    if core_only:
        models = models[models["is_core"]]
    return models.join(scores, how="inner")


def load_agents(models: pd.DataFrame | None = None) -> pd.DataFrame:
    """Instruction-tuned models joined with AgentBench and AgentBoard, every score in [0, 1].

    Adds the targets of ``presets.AGENT_TARGETS`` (overall AgentBench score / 10, AgentBoard
    average success and progress rates / 100) and keeps each environment's column divided by
    100 under its upstream name.
    """
    name = "instruct_llm_agent_eval.csv"
    raw = load_scores(name)
    ranges = {c: (0.0, 10.0 if c == "ABench-OA" else 100.0) for c in raw.columns}
    agents = load_scores(name, list(raw.columns), ranges=ranges)
    out = (load_instruct_models() if models is None else models).join(agents, how="left")
    for tidy, (col, div, _) in presets.AGENT_TARGETS.items():
        out[tidy] = out[col] / div
    for col in agents.columns:
        if col != "ABench-OA":
            out[col] = out[col] / 100.0
    return out


def chance_normalize(score, chance: float):
    """Map a score from (chance, 1) to (0, 1): ``(score - chance) / (1 - chance)``.

    Below-chance scores become negative; that is information, not an error.
    """
    if not 0 <= chance < 1:
        raise ScoreError(f"A chance level must lie in [0, 1), got {chance}.")
    return (score - chance) / (1 - chance)


def bbh_subtask_column(prompt: str, subtask: str, metric: str = "flexible-extract") -> str:
    """Upstream column of one BBH subtask (``prompt``: a key of ``presets.BBH_PROMPTS``)."""
    return f"{presets.BBH_PROMPTS[prompt][0]}_{subtask}_3_exact_match,{metric}"


def load_post_training(models: pd.DataFrame | None = None, *, core_only: bool = True) -> pd.DataFrame:
    """Base models joined with GSM8K under each prompting technique and BBH naive vs CoT.

    Columns added: the tidy GSM8K targets of ``presets.GSM8K_TECHNIQUES``; for each BBH prompt
    ``bbh_naive``/``bbh_cot`` the unweighted mean of the 27 subtask accuracies
    (flexible-extract; NaN unless all 27 are present) and ``<prompt>_norm``, the mean of the
    chance-normalised subtask scores; and every subtask as ``<prompt>:<subtask>``.
    """
    name = "base_llm_post_training_eval.csv"
    wanted = [col for col, _ in presets.GSM8K_TECHNIQUES.values()]
    for prompt in presets.BBH_PROMPTS:
        wanted += [bbh_subtask_column(prompt, sub) for sub in presets.BBH_CHANCE]
    scores = load_scores(name, wanted, ranges={c: (0.0, 1.0) for c in wanted})
    out = pd.DataFrame(index=scores.index)
    for tidy, (col, _) in presets.GSM8K_TECHNIQUES.items():
        out[tidy] = scores[col]
    for prompt in presets.BBH_PROMPTS:
        subs = pd.DataFrame({sub: scores[bbh_subtask_column(prompt, sub)]
                             for sub in presets.BBH_CHANCE})
        norm = pd.DataFrame({sub: chance_normalize(subs[sub], ch)
                             for sub, ch in presets.BBH_CHANCE.items()})
        out[prompt] = subs.mean(axis=1, skipna=False)
        out[f"{prompt}_norm"] = norm.mean(axis=1, skipna=False)
        for sub in presets.BBH_CHANCE:
            out[f"{prompt}:{sub}"] = subs[sub]
    models = load_base_models() if models is None else models
    if core_only:
        models = models[models["is_core"]]
    return models.join(out, how="inner")


def load_leaderboard_v2(models: pd.DataFrame | None = None, *, core_only: bool = False,
                        path: str | os.PathLike | None = None) -> pd.DataFrame:
    """Base models joined with the Open LLM Leaderboard v2 scores (72 models in the release).

    Adds the targets of ``presets.LBV2_TARGETS`` under tidy names (``lbv2_bbh``, ``lbv2_gpqa``,
    ``lbv2_math_hard``, ``lbv2_mmlu_pro``, ``lbv2_musr``, ``lbv2_ifeval``), raw accuracies in
    [0, 1]; :func:`lbv2_normalize` maps them to (chance, 1). Every model of the table is kept
    (pre-registered ones too, as in the authors' analysis) unless ``core_only``; ``models``
    replaces the base-model table and ``path`` the leaderboard file (both in the upstream
    format).
    """
    name = "base_llm_leaderboard_v2_eval.csv"
    cols = [col for col, _, _ in presets.LBV2_TARGETS.values()]
    scores = load_scores(name, cols, ranges={c: (0.0, 1.0) for c in cols}, path=path)
    scores = scores.rename(columns={col: tidy for tidy, (col, _, _) in
                                    presets.LBV2_TARGETS.items()})
    models = load_base_models() if models is None else models
    if not isinstance(models, pd.DataFrame):
        raise SchemaError(f"models: expected a model table (a DataFrame from "
                          f"load_base_models), got {type(models).__name__}.")
    if core_only:
        require_columns(models, ["is_core"], table="models")
        models = models[models["is_core"]]
    clash = [c for c in scores.columns if c in models.columns]
    if clash:
        raise SchemaError(f"models: already has column(s) {clash}; pass the base-model table "
                          "(load_base_models), not a table already joined with the leaderboard.")
    out = models.join(scores, how="inner")
    if out.empty:
        raise SchemaError(f"{path or name}: none of its models is in the base-model table; "
                          "the 'Model' names must match the base table's.")
    return out


def lbv2_chance(target: str) -> float:
    """Chance level of a Leaderboard-v2 target (tidy name, e.g. ``"lbv2_gpqa"``)."""
    if target not in presets.LBV2_TARGETS:
        raise SchemaError(f"{target!r} is not a Leaderboard-v2 target; use one of "
                          f"{list(presets.LBV2_TARGETS)}.")
    return presets.LBV2_TARGETS[target][2]


def lbv2_normalize(table: pd.DataFrame, targets: Sequence[str] | None = None, *,
                   suffix: str = "_norm") -> pd.DataFrame:
    """A copy of ``table`` with each Leaderboard-v2 target also min-max normalised to
    (chance, 1) under ``<target><suffix>``: ``(score - chance) / (1 - chance)``.

    Below-chance scores become negative (they are kept: that is information, not an error).
    """
    targets = list(presets.LBV2_TARGETS) if targets is None else list(targets)
    chances = {t: lbv2_chance(t) for t in targets}
    require_columns(table, targets, table="table")
    out = table.copy()
    for t, ch in chances.items():
        out[t + suffix] = chance_normalize(out[t].astype(float), ch)
    return out


def load_scores(name: str, columns: Sequence[str] | None = None, *,
                ranges: dict[str, tuple[float | None, float | None]] | None = None,
                path: str | os.PathLike | None = None) -> pd.DataFrame:
    """A task table (one row per model, numeric score columns), validated and indexed by model.

    ``ranges`` maps a column to its allowed ``(lower, upper)``; columns not named there must be
    numeric but are not range-checked (task tables mix accuracies, BLEU and 0-10 scores).
    """
    raw = _read_user_file(path) if path is not None else read_csv(name)
    require_columns(raw, ["Model"], table=name)
    check_unique_models(raw["Model"], table=name)
    columns = [c for c in raw.columns if c != "Model"] if columns is None else list(columns)
    raw = raw.set_index(raw["Model"].astype(str).rename("model"))
    ranges = ranges or {}
    parts = [coerce_scores(raw, [c], table=name, lower=ranges.get(c, (None, None))[0],
                           upper=ranges.get(c, (None, None))[1]) for c in columns]
    return pd.concat(parts, axis=1) if parts else raw.iloc[:, :0]


# --------------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------------
def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m osl.data",
        description="Fetch, verify and list the paper's released tables. Files are cached in "
                    "data/cache (or $OSL_DATA_CACHE); set $" + MIRROR_ENV + " to a folder of "
                    "upstream CSVs to work offline.")
    sub = parser.add_subparsers(dest="command", required=True)
    p_fetch = sub.add_parser("fetch", help="fetch and verify every file into the cache")
    p_fetch.add_argument("--mirror", help=f"mirror folder (default: ${MIRROR_ENV})")
    p_fetch.add_argument("--quiet", action="store_true", help="no progress bar")
    sub.add_parser("list", help="list the registry: file, bytes, sha256, cached?")
    args = parser.parse_args(argv)
    try:
        if args.command == "fetch":
            got = fetch_all(mirror=args.mirror, progress=not args.quiet)
            print(f"{len(got)} files verified in {paths.cache_dir()}")
        else:
            for name in file_names():
                e = _entry(name)
                cached = (paths.cache_dir() / name).exists()
                print(f"{name:42s} {e['bytes']:>7d} B  {e['sha256'][:16]}…  "
                      f"{'cached' if cached else 'not cached'}")
    except OSLError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # output piped into e.g. `head`
        sys.stderr.close()
        return 0
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
