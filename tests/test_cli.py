"""The `osl` command: the forecast file on the paper's data, every subcommand, and every bad
input answered by exit status 2, one line on stderr and no output file."""
from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from osl import cli, data, paths, presets
from osl.examples import BENCHMARKS, TARGETS, make_example_table

BENCH = ",".join(BENCHMARKS)


def run(argv, capsys) -> tuple[int, str, str]:
    rc = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return rc, out, err


@pytest.fixture
def files(tmp_path):
    """The example table split into TRAIN (benchmarks of the 24 measured models), TARGETS and
    TEST (the six others), as a user would have them."""
    t = make_example_table()
    train, test = t.iloc[:24], t.iloc[24:]
    paths_ = {"train": tmp_path / "train.csv", "targets": tmp_path / "targets.csv",
              "test": tmp_path / "test.csv", "out": tmp_path / "pred.csv", "dir": tmp_path}
    train[["model", *BENCHMARKS]].to_csv(paths_["train"], index=False)
    train[["model", *TARGETS]].to_csv(paths_["targets"], index=False)
    test[["model", *BENCHMARKS]].to_csv(paths_["test"], index=False)
    return paths_


def predict_args(f, *extra, n_boot=20):
    return ["predict", "--train", f["train"], "--targets", f["targets"], "--test", f["test"],
            "--out", f["out"], "--benchmarks", BENCH, "--n-boot", n_boot, "--pcs", 2, *extra]


# --- what it writes ---------------------------------------------------------------------------
def test_predict_writes_the_columns_and_one_row_per_model_and_target(files, capsys):
    rc, out, err = run(predict_args(files, "--level", 0.9), capsys)
    assert rc == 0, err
    pred = pd.read_csv(files["out"])
    assert tuple(pred.columns) == cli.COLUMNS
    assert len(pred) == 6 * len(TARGETS)
    assert set(pred["target"]) == set(TARGETS)
    assert (pred["lower"] <= pred["prediction"] + 1e-9).all()
    assert (pred["prediction"] <= pred["upper"] + 1e-9).all()
    assert pred["ood_flag"].dtype == bool
    # the summary paragraph names the PCs, the in-sample error of each target and the flags
    assert "PC-1..2" in err and all(t in err for t in TARGETS) and "flagged" in err
    # forecasts agree with the library called directly
    import osl
    models = osl.read_table(files["train"]).join(osl.read_table(files["targets"]))
    fits = osl.fit_targets(models, list(TARGETS), None, benchmarks=list(BENCHMARKS), n_pcs=2,
                           reference=None)
    test = osl.read_table(files["test"])
    lib = fits.predict(test)
    for t in TARGETS:
        got = pred[pred["target"] == t].set_index("model")["prediction"]
        np.testing.assert_allclose(got.loc[test.index], lib[t], atol=1e-5)


def test_the_same_file_for_everything_with_target_columns(files, capsys):
    ex = paths.DATA_DIR / "examples" / "my_models.csv"
    files["out"].unlink(missing_ok=True)
    rc, _, err = run(["predict", "--train", ex, "--targets", ex, "--test", ex, "--target-columns",
                      ",".join(TARGETS), "--benchmarks", BENCH, "--out", files["out"],
                      "--n-boot", 20], capsys)
    assert rc == 0, err
    assert len(pd.read_csv(files["out"])) == 30 * 3
    # without --benchmarks, no column of TARGETS is taken for a benchmark: nothing is left
    rc, _, err = run(["predict", "--train", ex, "--targets", ex, "--test", ex, "--target-columns",
                      "hard_math", "--out", files["out"], "--n-boot", 20], capsys)
    assert rc == 2 and "--benchmarks a,b,c" in err


def test_benchmarks_chosen_automatically_are_printed(files, capsys):
    args = predict_args(files)
    i = args.index("--benchmarks")
    del args[i:i + 2]
    rc, _, err = run(args, capsys)
    assert rc == 0, err
    assert "benchmarks (numeric columns in [0, 1] of TRAIN and TEST): " + ", ".join(BENCHMARKS) \
        in " ".join(err.split())


def test_a_benchmark_blank_in_test_is_imputed(files, capsys):
    test = pd.read_csv(files["test"])
    test["logic"] = np.nan
    test.to_csv(files["test"], index=False)
    rc, _, err = run(predict_args(files), capsys)
    assert rc == 0, err
    assert pd.read_csv(files["out"])["prediction"].notna().all()


def test_chance_sets_the_floor_of_a_target(files, capsys):
    rc, _, err = run(predict_args(files, "--chance", "hard_math=0.05", "--link", "plain"), capsys)
    assert rc == 0, err
    pred = pd.read_csv(files["out"])
    assert (pred.loc[pred["target"] == "hard_math", "prediction"] >= 0.05).all()


def test_an_off_subspace_test_model_is_flagged_and_its_interval_widened(files, capsys):
    test = pd.read_csv(files["test"])
    odd = test.iloc[[0]].assign(model="odd/model")
    odd[["reading", "math_quiz", "code_small"]] = [[0.95, 0.05, 0.05]]
    pd.concat([test, odd]).to_csv(files["test"], index=False)
    rc, _, err = run(predict_args(files), capsys)
    assert rc == 0, err
    pred = pd.read_csv(files["out"]).set_index(["model", "target"])
    assert pred.loc["odd/model", "ood_flag"].all()
    others = pred.drop(index="odd/model", level=0)
    assert pred.loc["odd/model", "ood_score"].min() > 10 * others["ood_score"].max()
    assert "odd/model" in err


def test_the_paper_scenario_base_models_leaderboard_v2_preregistered(tmp_path):
    """TRAIN: the paper's base-model table without the pre-registered models; TARGETS: the
    Leaderboard-v2 scores; TEST: the 20 pre-registered models. Run as the installed script
    would run (a separate process)."""
    raw = pd.read_csv(data.fetch("base_llm_benchmark_eval.csv"))
    pre = raw["Model"].isin(presets.PREREGISTERED_MODELS)
    raw[~pre].to_csv(tmp_path / "train.csv", index=False)
    raw[pre].to_csv(tmp_path / "test.csv", index=False)
    lb = pd.read_csv(data.fetch("base_llm_leaderboard_v2_eval.csv"))
    out = tmp_path / "pred.csv"
    proc = subprocess.run(
        [sys.executable, "-m", "osl.cli", "predict", "--train", tmp_path / "train.csv",
         "--targets", data.fetch("base_llm_leaderboard_v2_eval.csv"), "--test",
         tmp_path / "test.csv", "--out", out, "--model-column", "Model", "--n-boot", "50"],
        capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    pred = pd.read_csv(out)
    assert list(pred.columns) == list(cli.COLUMNS)
    targets = [c for c in lb.columns if c != "Model"]
    assert len(pred) == 20 * len(targets)
    assert set(pred["model"]) == presets.PREREGISTERED_MODELS
    assert pred[["prediction", "lower", "upper"]].apply(lambda c: c.between(0, 1)).all().all()
    assert "ignored, values outside [0, 1]: Model Size (B)" in " ".join(proc.stderr.split())


def test_fit_text_and_json(files, capsys):
    rc, out, err = run(["fit", "--train", files["train"], "--targets", files["targets"],
                        "--benchmarks", BENCH, "--pcs", 2, "--n-boot", 30, "--json"], capsys)
    assert rc == 0, err
    doc = json.loads(out)
    assert doc["n_pcs"] == 2 and set(doc["targets"]) == set(TARGETS)
    p = doc["targets"]["agent_tasks"]["parameters"]["w_PC-1"]
    assert p["lower"] <= p["value"] <= p["upper"]
    assert abs(sum(doc["explained_variance_ratio"].values()) - 1) < 1e-9
    rc, out, err = run(["fit", "--train", files["train"], "--targets", files["targets"],
                        "--benchmarks", BENCH, "--n-boot", 30, "--pcs", "auto"], capsys)
    assert rc == 0, err
    assert "loadings" in out and "--pcs auto chose" in err


def test_plot_writes_each_format(files, capsys):
    for suffix in (".png", ".svg", ".pdf"):
        fig = files["dir"] / f"fig{suffix}"
        rc, _, err = run(["plot", "--train", files["train"], "--targets", files["targets"],
                          "--test", files["test"], "--target", "hard_math", "--benchmarks", BENCH,
                          "--pcs", 2, "--n-boot", 20, "--out", fig], capsys)
        assert rc == 0, err
        assert fig.stat().st_size > 1000


def compute_files(tmp_path):
    """A TRAIN file with families and FLOPs (two families, FLOPs rising with capability)."""
    t = make_example_table()
    t["family"] = ["A" if i % 2 else "B" for i in range(len(t))]
    t["flops"] = np.logspace(21, 24, len(t))
    t.to_csv(tmp_path / "meta.csv", index=False)
    return tmp_path / "meta.csv"


def test_crossing_and_the_compute_axis(tmp_path, capsys):
    f = compute_files(tmp_path)
    base = ["--train", f, "--targets", f, "--target-columns", "agent_tasks", "--benchmarks",
            BENCH, "--pcs", 1, "--n-boot", 40, "--family-column", "family", "--flops-column",
            "flops", "--reference", "A"]
    rc, out, err = run(["crossing", *base, "--json"], capsys)
    assert rc == 0, err
    c = json.loads(out)["crossings"][0]
    assert c["lower"] <= c["log10_flops"] <= c["upper"]
    assert 21 < c["log10_flops"] < 25
    rc, _, err = run(["plot", *base, "--out", tmp_path / "c.png"], capsys)
    assert rc == 0, err


# --- the command itself -------------------------------------------------------------------------
def test_help_lists_every_subcommand_and_each_has_help():
    proc = subprocess.run([sys.executable, "-m", "osl.cli", "--help"], capture_output=True,
                          text=True)
    assert proc.returncode == 0
    for name in cli.COMMANDS:
        assert name in proc.stdout
        sub = subprocess.run([sys.executable, "-m", "osl.cli", name, "--help"],
                             capture_output=True, text=True)
        assert sub.returncode == 0 and "--train" in sub.stdout and "--targets" in sub.stdout
    ver = subprocess.run([sys.executable, "-m", "osl.cli", "--version"], capture_output=True,
                         text=True)
    import osl
    assert ver.stdout.strip() == f"osl {osl.__version__}"


def test_the_readme_command_runs_as_written(tmp_path, monkeypatch, capsys):
    import re
    import shlex
    text = (paths.PROJECT_ROOT / "README.md").read_text().split("## The osl command", 1)[1]
    command = re.search(r"```bash\n(.*?)```", text, re.S).group(1).replace("\\\n", " ")
    argv = shlex.split(command)
    assert argv[0] == "osl"
    argv = argv[1:]
    argv[argv.index("--out") + 1] = str(tmp_path / "predictions.csv")
    monkeypatch.chdir(paths.PROJECT_ROOT)
    rc, _, err = run(argv + ["--n-boot", 50], capsys)
    assert rc == 0, err
    assert tuple(pd.read_csv(tmp_path / "predictions.csv").columns) == cli.COLUMNS


def test_console_script_is_declared_and_resolves_to_a_callable():
    meta = tomllib.loads((paths.PROJECT_ROOT / "pyproject.toml").read_text())
    target = meta["project"]["scripts"]["osl"]
    module, _, attr = target.partition(":")
    import importlib
    fn = getattr(importlib.import_module(module), attr)
    assert callable(fn) and fn is cli.main


# --- bad input: exit 2, one line, no file ------------------------------------------------------
HEAD = "model," + BENCH + "\n"
def N(i: int) -> str:
    """The fixture's model names (so that a replaced file still matches the others)."""
    return f"acme/model-{i + 1:02d}"


ROWS = "".join(f"{N(i)},{0.1 + 0.02 * i},{0.2 + 0.01 * i},{0.3 + 0.015 * i},{0.15 + 0.01 * i},"
               f"{0.25 + 0.012 * i}\n" for i in range(12))

#: (id, which file is replaced, its content (str, bytes or None = absent), extra args, regex)
FILE_CASES = [
    ("missing-file", "train", None, [], "no such file"),
    ("folder", "train", "DIR", [], "is a folder"),
    ("wrong-suffix", "train", ("t.xlsx", "x"), [], r"\.csv or \.parquet"),
    ("empty-file", "train", "", [], "file is empty"),
    ("header-only", "train", HEAD, [], "no rows under it"),
    ("blank-header", "train", "\n\n1,2\n", [], "header|no columns"),
    ("malformed", "train", HEAD + "m1,0.1,0.2,0.3,0.4,0.5,9,9\n", [], "malformed CSV"),
    ("not-utf8", "train", HEAD.encode() + "m\xe9,0.1,0.2,0.3,0.4,0.5\n".encode("latin-1"), [],
     "not UTF-8"),
    ("binary-as-parquet", "train", ("t.parquet", b"\x00\x01junk"), [],
     "not a readable Parquet|pyarrow"),
    ("duplicate-columns", "train", "model,reading,reading\nm1,0.1,0.2\n", [],
     "appear more than once"),
    ("no-model-column", "train", "name," + BENCH + "\n" + ROWS.replace("m", "x"), [],
     "model-name column 'model'.*--model-column"),
    ("test-no-model-column", "test", "name," + BENCH + "\nq,0.1,0.2,0.3,0.4,0.5\n", [],
     "model-name column 'model'.*--model-column"),
    ("empty-model-name", "train", HEAD + ROWS + ",0.1,0.2,0.3,0.4,0.5\n", [], "empty model name"),
    ("blank-model-name", "train", HEAD + ROWS + "  ,0.1,0.2,0.3,0.4,0.5\n", [],
     "empty model name"),
    ("duplicate-models", "train", HEAD + ROWS + ROWS.splitlines(True)[0], [], "one row per model"),
    ("boolean-scores", "train", HEAD + ROWS + "mb,True,0.2,0.3,0.4,0.5\n", [], "True/False|non-numeric"),
    ("percent-scores", "train", HEAD + ROWS.replace("0.1", "45"), [], "divide percentages by 100"),
    ("negative-scores", "train", HEAD + ROWS + "mn,-0.1,0.2,0.3,0.4,0.5\n", [], "outside"),
    ("inf-scores", "train", HEAD + ROWS + "mi,inf,0.2,0.3,0.4,0.5\n", [], "infinite"),
    ("text-in-score", "train", HEAD + ROWS + "mt,high,0.2,0.3,0.4,0.5\n", [], "non-numeric"),
    ("percent-sign", "train", HEAD + ROWS + "mp,45%,0.2,0.3,0.4,0.5\n", [], "non-numeric"),
    ("benchmark-absent", "train", "model,reading,trivia\nm1,0.1,0.2\nm2,0.2,0.3\n", [],
     r"\['math_quiz', 'code_small', 'logic'\] not found.*--benchmarks"),
    ("flops-column-absent", "train", None, ["--family-column", "model", "--flops-column", "F",
                                             "--reference", "x"], "'F' not found"),
    ("no-score-training-model", "train", HEAD + ROWS + "me,,,,,\n", [], "no score on any"),
    ("benchmark-constant", "train", HEAD + "".join(
        f"{N(i)},0.5,{0.2 + 0.01 * i},{0.3 + 0.02 * i},{0.1 * (i % 3)},{0.4 - 0.01 * i}\n"
        for i in range(12)), [], "constant across the training models"),
    # TARGETS
    ("targets-missing", "targets", None, [], "no such file"),
    ("targets-empty", "targets", "", [], "file is empty"),
    ("targets-no-model-column", "targets", "name,y\nm1,0.1\n", [], "--model-column"),
    ("targets-only-model-column", "targets", "model\nm1\n", [], "no target column"),
    ("targets-percent", "targets", "model,y\n" + "".join(f"{N(i)},{10 * i}\n" for i in range(12)),
     [], "divide percentages"),
    ("targets-text", "targets", "model,y\nm1,0.1\nm2,good\n", [], "non-numeric"),
    ("targets-duplicates", "targets", "model,y\nm1,0.1\nm1,0.2\n", [], "one row per model"),
    ("targets-no-match", "targets", "model,y\nzz1,0.1\nzz2,0.2\n", [], "none of its"),
    ("targets-constant", "targets", "model,y\n" + "".join(f"{N(i)},0.3\n" for i in range(12)), [],
     "constant"),
    ("targets-too-few", "targets", f"model,y\n{N(0)},0.1\n{N(1)},0.2\n{N(2)},0.5\n", [],
     "at least .* are needed"),
    ("targets-blank-column", "targets", f"model,y,z\n{N(0)},0.1,\n{N(1)},0.2,\n{N(2)},0.5,\n", [],
     r"\['z'\] have no value"),
    ("targets-named-like-benchmark", "targets", "model,reading\nm1,0.1\n", [],
     "also target columns|name of a benchmark"),
    ("target-columns-absent", "targets", None, ["--target-columns", "agnet_tasks"],
     "agnet_tasks.*not found"),
    # TEST
    ("test-missing", "test", None, [], "no such file"),
    ("test-empty", "test", "", [], "file is empty"),
    ("test-duplicates", "test", HEAD + ROWS + ROWS.splitlines(True)[0], [], "one row per model"),
    ("test-percent", "test", HEAD + ROWS.replace("0.1", "45"), [], "divide percentages"),
    ("test-text", "test", HEAD + "mt,high,0.2,0.3,0.4,0.5\n", [], "non-numeric"),
    ("test-missing-benchmark", "test", "model,reading,trivia,math_quiz,code_small\nq,0.1,0.2,0.3,0.4\n",
     [], r"\['logic'\] not found.*blank.*imputed"),
    ("test-model-without-scores", "test", HEAD + "q1,0.1,0.2,0.3,0.4,0.5\nq2,,,,,\n", [],
     r"\['q2'\] have no score"),
]

#: (id, extra args replacing or adding options, regex)
OPTION_CASES = [
    ("level-1.5", ["--level", "1.5"], r"--level .*between 0 and 1"),
    ("level-80", ["--level", "80"], "pass 0.8"),
    ("level-0", ["--level", "0"], "--level"),
    ("level-negative", ["--level", "-0.5"], "--level"),
    ("level-str", ["--level", "80%"], "--level must be a number"),
    ("pcs-0", ["--pcs", "0"], "--pcs must be a whole number of at least 1"),
    ("pcs-float", ["--pcs", "2.5"], "--pcs must be a whole number"),
    ("pcs-str", ["--pcs", "three"], "--pcs must be a whole number"),
    ("pcs-too-many", ["--pcs", "6"], "at most as many PCs as benchmarks"),
    ("benchmarks-unknown", ["--benchmarks", BENCH + ",MMLU"], r"\['MMLU'\] not found.*--benchmarks"),
    ("benchmarks-duplicate", ["--benchmarks", "reading,reading,logic"], "more than once"),
    ("benchmarks-empty", ["--benchmarks", ""], "comma-separated"),
    ("benchmarks-empty-entry", ["--benchmarks", "reading,,logic"], "without empty entries"),
    ("benchmarks-target", ["--benchmarks", BENCH + ",hard_math"], "also target columns"),
    ("link-unknown", ["--link", "cubic"], "invalid choice.*floored"),
    ("chance-malformed", ["--chance", "hard_math"], "target=value"),
    ("chance-not-number", ["--chance", "hard_math=low"], "must be a number"),
    ("chance-out-of-range", ["--chance", "hard_math=1.5"], r"in \[0, 1\)"),
    ("chance-unknown-target", ["--chance", "gpqa=0.25"], r"\['gpqa'\] are not target columns"),
    ("chance-twice", ["--chance", "hard_math=0.1,hard_math=0.2"], "more than once"),
    ("n-boot-one", ["--n-boot", "1"], "--n-boot must be at least 2"),
    ("n-boot-float", ["--n-boot", "10.5"], "--n-boot must be a whole number"),
    ("seed-negative", ["--seed", "-1"], "--seed must be at least 0"),
    ("seed-float", ["--seed", "1.5"], "--seed must be a whole number"),
    ("model-column-absent", ["--model-column", "name"], "model-name column 'name'"),
    ("out-folder-missing", ["--out", "no/such/folder/pred.csv"], "does not exist"),
    ("out-suffix", ["--out", "pred.xlsx"], r"must end in \.csv"),
    ("out-is-input", ["--out", "TRAIN"], "also an input"),
    ("reference-without-metadata", ["--reference", "A"], "--family-column and --flops-column"),
    ("unknown-option", ["--levle", "0.8"], "unrecognized arguments"),
]


def _write(path: Path, content) -> Path:
    if content == "DIR":
        path = path.with_suffix("")
        path.mkdir()
        return path
    if isinstance(content, tuple):
        path = path.with_name(content[0])
        content = content[1]
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    return path


def _assert_refused(rc, out, err, pattern, folder: Path, out_file: Path):
    import re
    assert rc == 2, f"exit status {rc}, stderr: {err}"
    lines = err.strip().splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got {lines}"
    assert re.search(pattern, lines[0]), lines[0]
    assert not out_file.exists()
    assert not [p for p in folder.rglob("*") if p.name.endswith(".part")]


@pytest.mark.parametrize("case", FILE_CASES, ids=[c[0] for c in FILE_CASES])
def test_bad_file_exits_2_with_one_line_and_no_file(files, capsys, case):
    _, role, content, extra, pattern = case
    f = dict(files)
    target = files["dir"] / f"bad_{role}.csv"
    if content is None:
        if not extra:
            f[role] = target  # never created
    else:
        f[role] = _write(target, content)
    rc, out, err = run(predict_args(f, *extra), capsys)
    _assert_refused(rc, out, err, pattern, files["dir"], files["out"])


@pytest.mark.parametrize("case", OPTION_CASES, ids=[c[0] for c in OPTION_CASES])
def test_bad_option_exits_2_with_one_line_and_no_file(files, capsys, case):
    _, extra, pattern = case
    extra = [str(files["train"]) if e == "TRAIN" else e for e in extra]
    args = predict_args(files, *extra)
    if "--benchmarks" in extra[:1]:  # replace, not repeat
        i = args.index("--benchmarks")
        del args[i:i + 2]
        args += extra
    if "--out" in extra:
        i = args.index("--out")
        del args[i:i + 2]
        args = [str(files["dir"] / a) if str(a).startswith(("no/", "pred.")) else a
                for a in args]
    rc, out, err = run(args, capsys)
    _assert_refused(rc, out, err, pattern, files["dir"], files["out"])


def test_subcommand_bad_inputs(files, capsys, tmp_path):
    common = ["--train", files["train"], "--targets", files["targets"], "--benchmarks", BENCH,
              "--n-boot", 20]
    cases = [
        (["crossing", *common], "--family-column, --flops-column"),
        (["plot", *common, "--out", tmp_path / "f.gif"], r"\.png or \.svg or \.pdf"),
        (["plot", *common, "--target", "nope", "--out", tmp_path / "f.png"], "'nope' is not a target"),
        (["plot", *common, "--axis", "compute", "--out", tmp_path / "f.png"], "--reference"),
        (["fit", *common, "--out", tmp_path / "no" / "f.json"], "does not exist"),
        (["predict"], "required"),
        (["forecast"], "invalid choice"),
        ([], "required: COMMAND"),
    ]
    for argv, pattern in cases:
        rc, out, err = run(argv, capsys)
        _assert_refused(rc, out, err, pattern, tmp_path, tmp_path / "f.png")


def test_crossing_reference_family_absent(tmp_path, capsys):
    f = compute_files(tmp_path)
    rc, out, err = run(["crossing", "--train", f, "--targets", f, "--target-columns",
                        "agent_tasks", "--benchmarks", BENCH, "--n-boot", 20, "--family-column",
                        "family", "--flops-column", "flops", "--reference", "Llama-2"], capsys)
    _assert_refused(rc, out, err, "reference='Llama-2'|Pass reference", tmp_path,
                    tmp_path / "none")


def test_every_library_file_case_has_a_cli_case():
    """The library's bad-file table (tests/test_bad_inputs.py) is covered here, case by case
    (by the same id, or the CLI's equivalent)."""
    sys.path.insert(0, str(Path(__file__).parent))
    import test_bad_inputs as lib
    ours = {c[0] for c in FILE_CASES} | {c[0] for c in OPTION_CASES}
    equivalent = {"source-not-a-path": None, "model-column-not-str": None,
                  "frame-duplicate-columns": None, "upstream-loader-malformed": None,
                  "upstream-loader-empty-name": None,  # no file path or DataFrame in a CLI
                  "boolean-scores": "boolean-scores", "text-in-named-score": "text-in-score",
                  "named-score-absent": "benchmark-absent",
                  "metadata-absent": "flops-column-absent",
                  "negative-flops": "negative-flops", "empty-family": "empty-family"}
    for case in lib.FILE_CASES:
        name = equivalent.get(case[0], case[0])
        assert name is None or name in ours or name in META_IDS, f"no CLI case for {case[0]}"


META_CASES = [
    ("negative-flops", "model,reading,trivia,math_quiz,code_small,logic,fam,F\n" + "".join(
        f"m{i},{0.1 + 0.02 * i},{0.2 + 0.01 * i},{0.3 + 0.015 * i},{0.15 + 0.01 * i},"
        f"{0.25 + 0.012 * i},A,{-5 if i == 0 else 1e22}\n" for i in range(12)), "outside"),
    ("empty-family", "model,reading,trivia,math_quiz,code_small,logic,fam,F\n" + "".join(
        f"m{i},{0.1 + 0.02 * i},{0.2 + 0.01 * i},{0.3 + 0.015 * i},{0.15 + 0.01 * i},"
        f"{0.25 + 0.012 * i},{'' if i == 0 else 'A'},1e22\n" for i in range(12)),
     "give every model a family"),
]
META_IDS = {c[0] for c in META_CASES}


@pytest.mark.parametrize("case", META_CASES, ids=[c[0] for c in META_CASES])
def test_bad_metadata_exits_2(files, capsys, case):
    _, content, pattern = case
    f = dict(files)
    f["train"] = _write(files["dir"] / "meta.csv", content)
    rc, out, err = run(predict_args(f, "--family-column", "fam", "--flops-column", "F",
                                    "--reference", "A"), capsys)
    _assert_refused(rc, out, err, pattern, files["dir"], files["out"])
