"""Bad inputs a user would give, each answered by one of the library's own exceptions whose
message names the problem and the fix, and never a file left behind.

Each case is (id, callable, expected OSLError subclass, regex the message must match).
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import osl
from osl import data, validate
from osl.capability import CapabilityModel
from osl.errors import (ArgumentError, DataError, DataUnavailableError, DuplicateModelError,
                        FitError, NotFittedError, OSLError, SchemaError, ScoreError)
from osl.examples import BENCHMARKS, make_example_table
from osl.predict import (LinkSpec, ScalingPredictor, backtest, choose_n_pcs, compare,
                         cutoff_split, fit_paired, fit_targets, heldout_split, leave_one_out,
                         metrics, top_split)

BENCH = list(BENCHMARKS)


def table() -> pd.DataFrame:
    """The example table indexed by model, with made-up compute for the compute-based calls."""
    t = make_example_table().set_index("model")
    t["family"] = ["A" if i % 2 else "B" for i in range(len(t))]
    t["flops_1e21"] = np.logspace(0, 3, len(t))
    t["log10_flops"] = np.log10(t["flops_1e21"]) + 21
    t["params_b"] = np.logspace(-1, 1.5, len(t))
    return t


def pred(**kw) -> ScalingPredictor:
    return ScalingPredictor(benchmarks=BENCH, n_pcs=2, reference=None, **kw)


def fitted() -> ScalingPredictor:
    return pred().fit(table(), "agent_tasks")


def write(tmp: Path, name: str, content, mode: str = "w") -> Path:
    p = tmp / name
    if mode == "wb":
        p.write_bytes(content)
    else:
        p.write_text(content)
    return p


GOOD_HEADER = "model," + ",".join(BENCH) + "\n"

# --- files -------------------------------------------------------------------------------------
FILE_CASES = [
    ("missing-file", lambda d: osl.read_table(d / "nope.csv"), DataError, "no such file"),
    ("folder", lambda d: osl.read_table(d), DataError, "is a folder"),
    ("wrong-suffix", lambda d: osl.read_table(write(d, "t.xlsx", "x")), DataError,
     "save the table as .csv or .parquet"),
    ("empty-file", lambda d: osl.read_table(write(d, "t.csv", "")), DataError, "file is empty"),
    ("header-only", lambda d: osl.read_table(write(d, "t.csv", GOOD_HEADER)), DataError,
     "no rows under it"),
    ("blank-header", lambda d: osl.read_table(write(d, "t.csv", "\n\n1,2\n")), DataError,
     "header|no columns"),
    ("malformed", lambda d: osl.read_table(write(d, "t.csv", GOOD_HEADER + "m1,0.1,0.2,0.3,0.4,0.5,9,9\n")),
     DataError, "malformed CSV"),
    ("not-utf8", lambda d: osl.read_table(write(d, "t.csv", GOOD_HEADER.encode() + "m\xe9,0.1,0.2,0.3,0.4,0.5\n".encode("latin-1"), "wb")),
     DataError, "not UTF-8"),
    ("binary-as-parquet", lambda d: osl.read_table(write(d, "t.parquet", b"\x00\x01junk", "wb")),
     DataError, "not a readable Parquet|needs the pyarrow package"),
    ("duplicate-columns", lambda d: osl.read_table(write(d, "t.csv", "model,reading,reading\nm1,0.1,0.2\n")),
     SchemaError, r"\['reading'\] appear more than once"),
    ("no-model-column", lambda d: osl.read_table(write(d, "t.csv", "name,reading\nm1,0.1\n")),
     SchemaError, "Pass model_column"),
    ("empty-model-name", lambda d: osl.read_table(write(d, "t.csv", "model,reading\nm1,0.1\n,0.2\n")),
     SchemaError, "empty model name"),
    ("blank-model-name", lambda d: osl.read_table(write(d, "t.csv", "model,reading\nm1,0.1\n  ,0.2\n")),
     SchemaError, "empty model name"),
    ("duplicate-models", lambda d: osl.read_table(write(d, "t.csv", "model,reading\nm1,0.1\nm1,0.2\n")),
     DuplicateModelError, "one row per model"),
    ("boolean-scores", lambda d: osl.read_table(write(d, "t.csv", "model,reading\nm1,True\nm2,False\n")),
     ScoreError, "True/False"),
    ("percent-scores", lambda d: osl.read_table(write(d, "t.csv", "model,reading\nm1,45\nm2,60\n")),
     ScoreError, "divide percentages by 100"),
    ("negative-scores", lambda d: osl.read_table(write(d, "t.csv", "model,reading\nm1,-0.1\nm2,0.6\n")),
     ScoreError, "outside"),
    ("inf-scores", lambda d: osl.read_table(write(d, "t.csv", "model,reading\nm1,inf\nm2,0.6\n")),
     ScoreError, "infinite"),
    ("text-in-named-score", lambda d: osl.read_table(write(d, "t.csv", "model,reading\nm1,high\nm2,0.6\n"), scores=["reading"]),
     ScoreError, "non-numeric"),
    ("percent-sign", lambda d: osl.read_table(write(d, "t.csv", "model,reading\nm1,45%\nm2,60%\n"), scores=["reading"]),
     ScoreError, "non-numeric"),
    ("named-score-absent", lambda d: osl.read_table(write(d, "t.csv", "model,reading\nm1,0.1\n"), scores=["trivia"]),
     SchemaError, r"score column\(s\) \['trivia'\] not found"),
    ("metadata-absent", lambda d: osl.read_table(write(d, "t.csv", "model,reading\nm1,0.1\n"), flops_column="FLOPs"),
     SchemaError, "metadata column 'FLOPs' not found"),
    ("negative-flops", lambda d: osl.read_table(write(d, "t.csv", "model,reading,F\nm1,0.1,-5\n"), flops_column="F"),
     ScoreError, "outside"),
    ("empty-family", lambda d: osl.read_table(write(d, "t.csv", "model,reading,fam\nm1,0.1,\nm2,0.2,x\n"), family_column="fam"),
     SchemaError, "give every model a family"),
    ("source-not-a-path", lambda d: osl.read_table(42), ArgumentError, "file path or a DataFrame"),
    ("model-column-not-str", lambda d: osl.read_table(write(d, "t.csv", "model,reading\nm1,0.1\n"), model_column=0),
     ArgumentError, "model_column must be a column name"),
    ("frame-duplicate-columns", lambda d: osl.read_table(pd.DataFrame([[1, 0.1, 0.2]], columns=["model", "a", "a"])),
     ArgumentError, "duplicated column"),
    ("upstream-loader-malformed", lambda d: data.load_base_models(write(d, "t.csv", "Model,MMLU\nm1,0.1,0.2\n")),
     DataError, "malformed CSV"),
    ("upstream-loader-empty-name", lambda d: data.tidy_model_table(pd.DataFrame({
        "Model": ["", "x"], "Model Family": ["f", "f"], "Model Size (B)": [1, 2],
        "Pretraining Data Size (T)": [1, 1], "FLOPs (1E21)": [6, 12], "MMLU": [0.3, 0.4]}), ["MMLU"]),
     SchemaError, "empty 'Model' name"),
]

# --- arguments ---------------------------------------------------------------------------------
T = table()
ARG_CASES = [
    ("n_pcs-float", lambda: pred(n_pcs=2.5) if False else ScalingPredictor(benchmarks=BENCH, n_pcs=2.5),
     ArgumentError, "n_pcs must be a whole number"),
    ("n_pcs-str", lambda: ScalingPredictor(benchmarks=BENCH, n_pcs="3"), ArgumentError, "whole number"),
    ("n_pcs-zero", lambda: ScalingPredictor(benchmarks=BENCH, n_pcs=0), ArgumentError, "between 1 and 5"),
    ("n_pcs-too-many", lambda: ScalingPredictor(benchmarks=BENCH, n_pcs=6), ArgumentError, "between 1 and 5, got 6"),
    ("n_pcs-bool", lambda: ScalingPredictor(benchmarks=BENCH, n_pcs=True), ArgumentError, "whole number"),
    ("benchmarks-duplicate", lambda: ScalingPredictor(benchmarks=["reading", "reading", "logic"]),
     ArgumentError, "more than once"),
    ("benchmarks-empty", lambda: ScalingPredictor(benchmarks=[]), ArgumentError, "at least 1"),
    ("benchmarks-not-str", lambda: ScalingPredictor(benchmarks=[1, 2]), ArgumentError, "non-empty strings"),
    ("benchmarks-absent", lambda: pred().fit(T, "agent_tasks") if False else
     ScalingPredictor(benchmarks=BENCH + ["MMLU"], n_pcs=2).fit(T, "agent_tasks"),
     SchemaError, r"\['MMLU'\] not in the table.*benchmarks="),
    ("three-benchmarks-default-pcs-ok-but-4", lambda: ScalingPredictor(benchmarks=BENCH[:3], n_pcs=4),
     ArgumentError, "between 1 and 3, got 4"),
    ("predictor-unknown", lambda: ScalingPredictor(predictor="params"), ArgumentError, "predictor must be one of"),
    ("columns-without-predictor", lambda: ScalingPredictor(columns=("x",)), ArgumentError, "predictor='columns'"),
    ("link-not-spec", lambda: ScalingPredictor(link="floored"), ArgumentError, "LinkSpec"),
    ("loss-unknown", lambda: LinkSpec(loss="l1"), ArgumentError, "loss must be one of"),
    ("max-floor-1", lambda: LinkSpec(max_floor=1.0), ArgumentError, "max_floor"),
    ("huber-delta-neg", lambda: LinkSpec(huber_delta=-1), ArgumentError, "huber_delta"),
    ("target-range-inverted", lambda: ScalingPredictor(target_range=(1, 0)), ArgumentError, "high > low"),
    ("target-range-scalar", lambda: ScalingPredictor(target_range=1), ArgumentError, r"\(low, high\)"),
    ("chance-outside", lambda: ScalingPredictor(chance=2.0), ArgumentError, "chance"),
    ("reference-not-str", lambda: ScalingPredictor(reference=3), ArgumentError, "reference must be a family"),
    ("models-not-frame", lambda: pred().fit(T.to_numpy(), "agent_tasks"), ArgumentError, "osl.read_table"),
    ("models-dup-index", lambda: pred().fit(pd.concat([T, T.iloc[:1]]), "agent_tasks"),
     ArgumentError, "one row per model"),
    ("target-absent", lambda: pred().fit(T, "agnet_tasks"), SchemaError, "not in the table"),
    ("target-wrong-type", lambda: pred().fit(T, 3), ArgumentError, "column name or a pandas Series"),
    ("target-percent", lambda: pred().fit(T.assign(y=T["agent_tasks"] * 100), "y"), ScoreError,
     "divide percentages"),
    ("target-half-match", lambda: pred().fit(T, pd.Series(0.5, index=list(T.index[:10]) + [f"typo{i}" for i in range(10)], name="y")),
     ArgumentError, "on_missing='drop'"),
    ("target-no-match", lambda: pred().fit(T, pd.Series([0.1, 0.2], index=["x", "y"], name="y"), on_missing="drop"),
     ArgumentError, "none of its model names"),
    ("on-missing-unknown", lambda: pred().fit(T, "agent_tasks", on_missing="skip"), ArgumentError, "on_missing"),
    ("target-constant", lambda: pred().fit(T.assign(y=0.3), "y"), FitError, "constant"),
    ("too-few-train", lambda: pred().fit(T, "agent_tasks", T.index.isin(T.index[:4])), FitError,
     "at least 6 are needed"),
    ("train-positions", lambda: pred().fit(T, "agent_tasks", [0, 1, 2, 3, 4, 5, 6, 7]),
     ArgumentError, "boolean mask"),
    ("train-wrong-length", lambda: pred().fit(T, "agent_tasks", np.ones(5, bool)), ArgumentError,
     "5 entries for a table of 30"),
    ("train-names", lambda: pred().fit(T, "agent_tasks", list(T.index[:10])), ArgumentError, "boolean mask"),
    ("train-series-other-index", lambda: pred().fit(T, "agent_tasks", pd.Series(True, index=range(30))),
     ArgumentError, "same models"),
    ("no-score-training-model", lambda: pred().fit(T.assign(**{b: T[b].mask(T.index == T.index[0]) for b in BENCH}), "agent_tasks"),
     ScoreError, "no score on any"),
    ("benchmark-constant", lambda: pred().fit(T.assign(reading=0.5), "agent_tasks"), FitError,
     "constant across the training models"),
    ("predict-before-fit", lambda: pred().predict(T), NotFittedError, "fit"),
    ("predict-missing-benchmark", lambda: fitted().predict(T.drop(columns="logic")), SchemaError,
     r"\['logic'\] not in the table"),
    ("predict-not-frame", lambda: fitted().predict([1, 2]), ArgumentError, "DataFrame"),
    ("crossing-no-reference", lambda: fitted().crossing(), FitError, "reference=None"),
    ("crossing-absent-reference", lambda: ScalingPredictor(benchmarks=BENCH, n_pcs=2, reference="Llama-2").fit(T, "agent_tasks").crossing(),
     FitError, "Pass reference="),
    ("crossing-threshold-range", lambda: ScalingPredictor(predictor="log_flops").fit(T, "agent_tasks").crossing(1.5),
     ArgumentError, "threshold"),
    ("log-flops-absent", lambda: ScalingPredictor(predictor="log_flops").fit(T.drop(columns="log10_flops"), "agent_tasks"),
     SchemaError, "log10_flops"),
    ("level-1.5", lambda: fitted().bootstrap(20, 0).predict(T, level=1.5), ArgumentError, r"\(0, 1\)"),
    ("level-80", lambda: fitted().bootstrap(20, 0).predict(T, level=80), ArgumentError, "pass 0.8"),
    ("level-0", lambda: fitted().bootstrap(20, 0).predict(T, level=0), ArgumentError, "level"),
    ("level-negative", lambda: fitted().bootstrap(20, 0).predict(T, level=-0.5), ArgumentError, "level"),
    ("level-str", lambda: fitted().bootstrap(20, 0).predict(T, level="80%"), ArgumentError, "number"),
    ("seed-negative", lambda: fitted().bootstrap(20, seed=-1), ArgumentError, "seed must be at least 0"),
    ("seed-float", lambda: fitted().bootstrap(20, seed=1.5), ArgumentError, "seed must be a whole number"),
    ("n-boot-float", lambda: fitted().bootstrap(10.5), ArgumentError, "n_boot must be a whole number"),
    ("n-boot-one", lambda: fitted().bootstrap(1), ArgumentError, "n_boot must be at least 2"),
    ("capability-n-components", lambda: CapabilityModel(benchmarks=BENCH, n_components=7),
     ArgumentError, "between 1 and 5"),
    ("capability-standardize-str", lambda: CapabilityModel(benchmarks=BENCH, standardize="yes"),
     ArgumentError, "True or False"),
    ("capability-transform-unfitted", lambda: CapabilityModel(benchmarks=BENCH).transform(T),
     NotFittedError, "fit"),
    ("capability-too-few", lambda: CapabilityModel(benchmarks=BENCH, n_components=3).fit(T.iloc[:3]),
     FitError, "at least 4 training models"),
    ("metrics-lengths", lambda: metrics([0.1, 0.2], [0.1]), ArgumentError, "different lengths"),
    ("metrics-one-bound", lambda: metrics([0.1], [0.1], lower=[0.0]), ArgumentError, "both lower and upper"),
    ("metrics-text", lambda: metrics(["a"], [0.1]), ArgumentError, "numbers"),
    ("metrics-nothing", lambda: metrics([np.nan], [0.1]), FitError, "No held-out model"),
    ("cutoff-negative", lambda: cutoff_split(T, -1), ArgumentError, "cutoff_1e21"),
    ("cutoff-no-flops", lambda: cutoff_split(T.drop(columns="flops_1e21"), 84), SchemaError, "training FLOPs"),
    ("cutoff-unknown-kw", lambda: cutoff_split(T, 10, unknown="train"), ArgumentError, "unknown must be one of"),
    ("cutoff-empty-test", lambda: cutoff_split(T, 1e9), FitError, "held-out side is empty"),
    ("top-share", lambda: top_split(T, "agent_tasks", share=1.5), ArgumentError, "share"),
    ("heldout-unknown", lambda: heldout_split(T, ["no/such"]), FitError, "not in the table"),
    ("heldout-str-list", lambda: heldout_split(T, [1]), ArgumentError, "non-empty strings"),
    ("choose-n-pcs-all-fail", lambda: choose_n_pcs(T, "agent_tasks", T["flops_1e21"].to_numpy() < 3,
                                                   ks=(3, 4), benchmarks=BENCH, reference=None),
     FitError, "no candidate"),
    ("choose-n-pcs-empty", lambda: choose_n_pcs(T, "agent_tasks", None, ks=()), ArgumentError, "at least one"),
    ("compare-no-predictors", lambda: compare(T, ["agent_tasks"], heldout_split(T, [T.index[0]]), {}),
     ArgumentError, "non-empty"),
    ("compare-split-type", lambda: compare(T, ["agent_tasks"], "cutoff", {"a": {}}), ArgumentError,
     "Split"),
    ("fit-targets-dup", lambda: fit_targets(T, ["agent_tasks", "agent_tasks"], benchmarks=BENCH),
     ArgumentError, "more than once"),
    ("fit-paired-absent", lambda: fit_paired(T, "agent_tasks", "nope", benchmarks=BENCH), SchemaError,
     "not in the table"),
    ("bootstrap-many-unfitted", lambda: osl.predict.bootstrap_many([pred()], 10), NotFittedError, "fit"),
    ("backtest-cutoff-type", lambda: backtest(T, "agent_tasks", ["84"]), ArgumentError, "cutoffs must be a number"),
    ("loo-names", lambda: leave_one_out(T, "agent_tasks", "acme/model-01x"), FitError, "not in the table"),
    ("space-resample-unknown", lambda: __import__("osl.space", fromlist=["x"]).bootstrap_capability_space(
        T, n_boot=10, benchmarks=BENCH, resample="models"), ArgumentError, "resample must be one of"),
    ("space-n-boot-zero", lambda: __import__("osl.space", fromlist=["x"]).bootstrap_capability_space(
        T, n_boot=0, benchmarks=BENCH), ArgumentError, "n_boot must be at least 1"),
    ("choose-inner-unknown", lambda: choose_n_pcs(T, "agent_tasks", None, inner="size", benchmarks=BENCH),
     ArgumentError, "inner must be one of"),
    ("reconstruction-around", lambda: CapabilityModel(benchmarks=BENCH, n_components=2).fit(T).reconstruction_r2(T, around="core"),
     ArgumentError, "around must be one of"),
    ("compare-pair-unknown", lambda: __import__("osl.predict.verdicts", fromlist=["x"]).compare_pair(
        compare(T, ["agent_tasks"], cutoff_split(T, 100), {"a": {"benchmarks": BENCH, "n_pcs": 2, "reference": None}}),
        T, "a", "b"), ArgumentError, "no predictor 'b'"),
    ("compare-predictor-type", lambda: compare(T, ["agent_tasks"], cutoff_split(T, 100), {"a": 3}),
     ArgumentError, "dict of ScalingPredictor arguments or an estimator factory"),
    ("paired-difference-n-boot", lambda: __import__("osl.predict.verdicts", fromlist=["x"]).paired_difference(
        [0.1], [0.1], [0.2], ["a"], n_boot=10), ArgumentError, "n_boot must be at least 100"),
    ("validate-mask-object", lambda: validate.mask(np.array(["a", "b"]), 2), ArgumentError, "boolean mask"),
]


@pytest.fixture
def folder(tmp_path):
    d = tmp_path / "work"
    d.mkdir()
    return d


@pytest.mark.parametrize("case", FILE_CASES, ids=[c[0] for c in FILE_CASES])
def test_bad_file_gets_a_clear_error_and_leaves_nothing(folder, case):
    _, call, exc, pattern = case
    before = sorted(p.name for p in folder.iterdir())
    with pytest.raises(exc, match=pattern) as info:
        call(folder)
    assert isinstance(info.value, OSLError)
    after = sorted(p.name for p in folder.iterdir())
    assert set(after) - set(before) <= {"t.csv", "t.xlsx", "t.parquet"}  # only the input itself
    assert not [p for p in folder.rglob("*") if p.suffix in (".part", ".tmp")]


@pytest.mark.parametrize("case", ARG_CASES, ids=[c[0] for c in ARG_CASES])
def test_bad_argument_gets_a_clear_error(case):
    _, call, exc, pattern = case
    with pytest.raises(exc, match=pattern) as info:
        call()
    assert isinstance(info.value, OSLError)
    assert len(str(info.value)) < 600  # one readable message, not a dump


def test_the_table_has_enough_cases():
    assert len(FILE_CASES) + len(ARG_CASES) >= 60


# --- data layer: cache and fetch -----------------------------------------------------------------
def test_cache_path_that_is_a_file(tmp_path, monkeypatch):
    import shutil
    name = "base_llm_benchmark_eval.csv"
    mirror = tmp_path / "mirror"  # a mirror that has the file, with or without $OSL_DATA_MIRROR
    mirror.mkdir()
    shutil.copyfile(data.fetch(name), mirror / name)
    blocker = tmp_path / "cache"
    blocker.write_text("not a folder")
    monkeypatch.setenv("OSL_DATA_CACHE", str(blocker))
    with pytest.raises(DataUnavailableError, match="is a file, not a folder"):
        data.fetch(name, mirror=mirror)


def test_stale_part_files_are_removed_by_the_next_fetch(tmp_path, monkeypatch):
    from osl import paths
    cache = tmp_path / "cache"
    cache.mkdir()
    monkeypatch.setenv("OSL_DATA_CACHE", str(cache))
    name = "base_llm_benchmark_eval.csv"
    stale = cache / f".{name}.abc123.part"
    stale.write_text("half a download")
    old = os.path.getmtime(stale) - 2 * data.STALE_PART_SECONDS
    os.utime(stale, (old, old))
    fresh = cache / f".{name}.def456.part"  # another fetch still writing: left alone
    fresh.write_text("in progress")
    src = paths.cache_dir()  # the test cache is empty: fetch from the real cache as a mirror
    monkeypatch.delenv("OSL_DATA_CACHE")
    real = data.fetch(name)
    monkeypatch.setenv("OSL_DATA_CACHE", str(cache))
    del src
    data.fetch(name, mirror=real.parent)
    assert not stale.exists() and fresh.exists()
    assert (cache / name).exists()
