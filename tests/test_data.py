"""Data layer: fetching from a mirror, checksums, atomic caching and input validation."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from osl import data, presets
from osl.errors import (ChecksumError, DataUnavailableError, DuplicateModelError, OSLError,
                        SchemaError, ScoreError)

NAME = "instruct_llm_agent_eval.csv"


@pytest.fixture
def mirror(tmp_path) -> Path:
    """A mirror folder holding a true copy of one upstream file."""
    folder = tmp_path / "mirror"
    folder.mkdir()
    (folder / NAME).write_bytes(data.fetch(NAME).read_bytes())
    return folder


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("OSL_DATA_CACHE", str(folder))
    return folder


def test_registry_lists_the_seven_pinned_files():
    reg = data.registry()
    assert len(reg["files"]) == 7
    assert reg["licence"] == "Apache-2.0"
    for name, entry in reg["files"].items():
        assert reg["commit"] in entry["url"] and entry["url"].endswith(name)
        assert len(entry["sha256"]) == 64


def test_fetch_copies_from_mirror_and_verifies(mirror, cache):
    path = data.fetch(NAME, mirror=mirror)
    assert path == cache / NAME
    assert data.sha256(path) == data.registry()["files"][NAME]["sha256"]
    assert sorted(p.name for p in cache.iterdir()) == [NAME]  # no temporary file left


def test_checksum_mismatch_discards_file_and_leaves_cache_clean(mirror, cache):
    (mirror / NAME).write_text("Model,ABench-OA\nfake,1\n")
    with pytest.raises(ChecksumError, match="SHA-256 mismatch"):
        data.fetch(NAME, mirror=mirror)
    assert not (cache / NAME).exists()
    assert list(cache.iterdir()) == []


def test_corrupted_cache_entry_is_replaced(mirror, cache):
    data.fetch(NAME, mirror=mirror)
    (cache / NAME).write_text("tampered")
    path = data.fetch(NAME, mirror=mirror)
    assert data.sha256(path) == data.registry()["files"][NAME]["sha256"]


def test_mirror_without_the_file_is_a_clear_error(tmp_path, cache):
    with pytest.raises(DataUnavailableError, match="not found in the mirror folder"):
        data.fetch(NAME, mirror=tmp_path)


def test_no_network_and_no_mirror_says_how_to_work_offline(cache, monkeypatch):
    monkeypatch.delenv(data.MIRROR_ENV, raising=False)
    reg = data.registry()
    entry = dict(reg["files"][NAME], url="http://127.0.0.1:9/unreachable.csv")
    monkeypatch.setitem(reg["files"], NAME, entry)
    with pytest.raises(DataUnavailableError, match=data.MIRROR_ENV):
        data.fetch(NAME)
    assert list(cache.iterdir()) == []


def test_unknown_file_name():
    with pytest.raises(DataUnavailableError, match="not in the data registry"):
        data.fetch("nope.csv")


def test_cli_fetch_and_list(mirror, cache, capsys):
    assert data.main(["list"]) == 0
    assert "not cached" in capsys.readouterr().out
    assert data.main(["fetch", "--mirror", str(mirror), "--quiet"]) == 1  # other files absent
    assert "not found in the mirror" in capsys.readouterr().err


# ---------------------------------------------------------------------------------------------
def test_core_set_matches_the_paper(base_models):
    core = data.core_models(base_models)
    assert len(core) == 77
    assert core["family"].nunique() == 21
    assert base_models["is_preregistered"].sum() == 20
    assert not core["is_preregistered"].any()
    assert set(core["family"]) <= presets.CORE_FAMILIES


def test_tidy_table_units_and_flags(base_models):
    llama = base_models.loc["meta-llama/Llama-2-7b-hf"]
    assert llama["flops_1e21"] == 84.0
    assert llama["log10_flops"] == pytest.approx(np.log10(8.4e22))
    assert not base_models.loc[base_models["family"].isin(["Mistral", "Mixtral", "Qwen2"]),
                               "flops_known"].any()
    assert "1000x" in base_models.loc["cerebras/btlm-3b-8k-base", "quirk"]
    assert base_models.loc[base_models["family"] == "StarCoder", "is_code"].all()
    assert not base_models.loc[base_models["family"] == "Llama-2", "is_code"].any()
    scores = base_models[list(presets.BASE_BENCHMARKS)].to_numpy()
    assert np.nanmin(scores) >= 0 and np.nanmax(scores) <= 1


def test_missing_column_is_named(raw):
    with pytest.raises(SchemaError, match="HumanEval"):
        data.tidy_model_table(raw.drop(columns="HumanEval"), presets.BASE_BENCHMARKS)


def test_non_numeric_score_is_reported_with_model(raw):
    raw["MMLU"] = raw["MMLU"].astype(object)
    raw.loc[2, "MMLU"] = "n/a"
    with pytest.raises(ScoreError, match=r"non-numeric.*org/model-2='n/a'"):
        data.tidy_model_table(raw, presets.BASE_BENCHMARKS)


def test_percentages_are_out_of_range(raw):
    raw.loc[1, "GSM8K"] = 45.0
    with pytest.raises(ScoreError, match=r"outside \[0.0, 1.0\].*org/model-1=45.*divide percentages"):
        data.tidy_model_table(raw, presets.BASE_BENCHMARKS)


def test_negative_flops_rejected(raw):
    raw.loc[0, "FLOPs (1E21)"] = -3
    with pytest.raises(ScoreError, match="FLOPs"):
        data.tidy_model_table(raw, presets.BASE_BENCHMARKS)


def test_duplicate_models_rejected(raw):
    raw.loc[3, "Model"] = raw.loc[0, "Model"]
    with pytest.raises(DuplicateModelError, match="org/model-0"):
        data.tidy_model_table(raw, presets.BASE_BENCHMARKS)


def test_not_a_frame():
    with pytest.raises(SchemaError, match="DataFrame"):
        data.tidy_model_table([1, 2], presets.BASE_BENCHMARKS)


def test_user_csv_round_trip(raw, tmp_path):
    path = tmp_path / "mine.csv"
    raw.to_csv(path, index=False)
    tidy = data.load_base_models(path)
    assert list(tidy.index) == list(raw["Model"])
    assert not tidy["is_core"].any()  # families unknown to the paper


def test_errors_share_one_base_class():
    for exc in (ChecksumError, DataUnavailableError, DuplicateModelError, SchemaError, ScoreError):
        assert issubclass(exc, OSLError)


def test_load_scores_ranges():
    agents = data.load_scores(NAME, ["ABench-OA"], ranges={"ABench-OA": (0, 10)})
    assert agents["ABench-OA"].max() <= 10
    with pytest.raises(ScoreError):
        data.load_scores(NAME, ["ABench-Code_OS"], ranges={"ABench-Code_OS": (0, 1)})


def test_agent_and_emergent_loaders_scale_every_target_to_unit_range():
    agents = data.load_agents()
    for tidy in presets.AGENT_TARGETS:
        assert 0 <= agents[tidy].min() and agents[tidy].max() <= 1
    assert agents.loc["gpt-4-0613", "agentbench"] == pytest.approx(0.401)
    em = data.load_emergent()
    assert em["ipa_transliterate_2_bleu"].max() <= 1
    assert em["is_core"].all() and len(em) == 65


def test_bbh_means_and_chance_normalisation_match_upstream():
    """Our 27-subtask means equal the release's 'overall' columns, and our chance
    normalisation equals its ',norm' columns."""
    pt = data.load_post_training()
    raw = data.read_csv("base_llm_post_training_eval.csv").set_index("Model").loc[pt.index]
    for prompt, (prefix, _) in presets.BBH_PROMPTS.items():
        overall = raw[f"{prefix}_overall_3_exact_match,flexible-extract"]
        np.testing.assert_allclose(pt[prompt], overall, atol=1e-12)
        for sub, chance in presets.BBH_CHANCE.items():
            col = data.bbh_subtask_column(prompt, sub)
            np.testing.assert_allclose(data.chance_normalize(raw[col], chance),
                                       raw[col + ",norm"], atol=1e-12)
    with pytest.raises(ScoreError, match="chance"):
        data.chance_normalize(0.5, 1.0)
