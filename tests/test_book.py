"""The strict book build, its results files and the paper comparison they carry."""
from __future__ import annotations

import json
import re

import pytest

from osl import paths, presets
from osl.reported import PAPER
from osl.report import verdict

from test_notebooks import NOTEBOOKS

pytestmark = pytest.mark.book

REQUIRED_KEYS = {
    "01_capability_space": {"n_models", "n_families", "pc1_explained_variance",
                            "pc1_3_explained_variance", "pc1_explained_variance_standardized",
                            "median_within_family_r2", "pooled_r2", "shared_slope_r2"},
    "02_emergence": {"n_tasks", "share_tasks_pc_beats_flops"} | {
        f"{t}_test_mse_{p}" for t in presets.EMERGENT_TASKS for p in ("pc1", "pc3", "logflops")},
    "03_agents": {"agentbench_test_mse_pc3", "agentbench_gpt4_predicted", "agentbench_gpt4_actual",
                  "agentboard_test_mse_pc2", "instruct_pc1_explained_variance"},
    "04_post_training": {"gsm8k_cot_test_mse_pc3", "gsm8k_cot_test_mse_logflops",
                         "gsm8k_sc_test_mse_pc3", "bbh_cot_test_mse_pc3", "cot_gain_mae_heldout"},
    "05_forecast_trust": {"coverage_80_old", "coverage_80_new", "coverage_95_new",
                          "share_cells_pc_beats_flops", "share_cells_pc_beats_family_intercept",
                          "prereg_mse_pc", "prereg_coverage_80", "grid_seconds"},
    "06_model_selection": {f"vopt_families_{n}" for n in range(4, 37, 4)} | {
        "vopt_vs_random_win_share", "budget_to_match_full_set", "vopt_budgets_matching_official"},
    "07_limits": {"share_lbv2_targets_predictable"} | {
        f"lbv2_{t}_test_mse_{p}" for t in ("bbh", "gpqa", "math_hard")
        for p in ("pc3", "logflops", "logsize")},
    "08_beyond_scale": {f"efficiency_multiplier_{f}" for f in ("phi", "yi_1_5", "gemma_2", "qwen",
                                                               "qwen1_5")}
    | {"cot_multiplier_gsm8k_low", "cot_multiplier_gsm8k_high", "sc_multiplier_gsm8k",
       "cot_multiplier_bbh_low", "cot_multiplier_bbh_high", "instruct_multiplier_median"},
    "09_jumps": {"arithmetic_3da_crossing_error_dex_pc3", "backtest_targets_forecast_pc3",
                 "backtest_targets_forecast_logflops"},
}


def test_strict_build_passes(built_book):
    warnings = [line for line in built_book.log.splitlines()
                if "WARNING" in line and "[IPKernelApp]" not in line]
    assert built_book.returncode == 0, "\n".join(built_book.log.splitlines()[-40:])
    assert not warnings, warnings
    assert (built_book.html / "index.html").exists()


def test_sphinx_pass_reuses_the_parallel_execution(built_book):
    """Every chapter executed by `python -m osl.build book`'s executor is handed to the Sphinx
    pass running beside it (osl.handoff), which therefore executes nothing itself."""
    from osl.build import notebook_pages
    from osl.handoff import HANDED_OVER
    assert "Executing notebook" not in built_book.log
    assert built_book.log.count(HANDED_OVER) == len(notebook_pages())


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.stem)
def test_results_file_schema(built_book, nb):
    doc = json.loads((built_book.build / "results" / f"{nb.stem}.json").read_text())
    assert doc["chapter"] == nb.stem
    assert REQUIRED_KEYS.get(nb.stem, set()) <= set(doc["numbers"])
    for key, n in doc["numbers"].items():
        assert set(n) >= {"value", "paper", "tolerance", "description", "kind", "op"}, key
        assert isinstance(n["value"], (float, str)) and n["description"]


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.stem)
def test_chapter_numbers_match_the_paper(built_book, nb):
    doc = json.loads((built_book.build / "results" / f"{nb.stem}.json").read_text())
    for key, ref in PAPER.get(nb.stem, {}).items():
        assert key in doc["numbers"], f"{key} is in osl.reported but the chapter does not report it"
        n = doc["numbers"][key]
        assert n["paper"] == ref.value and n["tolerance"] == ref.tolerance
        if ref.value is not None:
            got = verdict(n["value"], ref.value, ref.tolerance, ref.kind, ref.op)
            want = "matches" if ref.kind == "fact" else ref.expected
            assert got == want, (
                f"{key}: ours {n['value']:.4f} vs paper {ref.value} (tolerance {ref.tolerance}), "
                f"expected verdict {want!r}, got {got!r}")


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.stem)
def test_figures_written_for_citation(built_book, nb):
    labels = re.findall(r'"(fig-\d\d-[a-z0-9-]+)"\)\s*$', nb.read_text(), flags=re.M)
    assert labels
    for label in labels:
        for ext in ("svg", "pdf", "csv"):
            f = built_book.build / "figures" / f"{label}.{ext}"
            assert f.exists() and f.stat().st_size > (1000 if ext != "csv" else 50), f
            assert (built_book.html / "_static" / "figures" / f.name).exists(), f


def test_intro_verdict_table_lists_every_chapter(built_book):
    html = (built_book.html / "book" / "intro.html").read_text()
    assert "osl-verdicts" in html
    for nb in NOTEBOOKS:
        assert f'href="../notebooks/{nb.stem}.html"' in html


def test_reproducibility_page_shows_checksums_and_versions(built_book):
    from osl import data
    html = (built_book.html / "book" / "reproducibility.html").read_text()
    for entry in data.registry()["files"].values():
        assert entry["sha256"] in html
    assert "pandas" in html and "jupyter-book" in html
    assert "osl-runtimes" in html
    for nb in NOTEBOOKS:
        assert f'href="../notebooks/{nb.stem}.html"' in html


def test_no_glue_left_unresolved(built_book):
    for nb in NOTEBOOKS:
        html = (built_book.html / "notebooks" / f"{nb.stem}.html").read_text()
        assert "glue:text" not in html and "np.float64" not in html
