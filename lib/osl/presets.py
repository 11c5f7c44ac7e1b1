"""Facts of the paper's set-up (Ruan, Maddison & Hashimoto, 2024), as constants.

The paper's set-up as a preset: the benchmarks, families, cutoffs and link settings the
reproduction follows. Chapters import them rather than retyping them; a user's own table needs none
of them (every public function takes its own benchmark names, reference family and cutoff).
"""
from __future__ import annotations

#: The eight standard benchmarks the base-model capabilities are extracted from.
BASE_BENCHMARKS: tuple[str, ...] = (
    "MMLU", "ARC-C", "HellaSwag", "Winograd", "TruthfulQA", "GSM8K", "XWinograd", "HumanEval",
)

#: The seven benchmarks of the instruction-tuned models.
INSTRUCT_BENCHMARKS: tuple[str, ...] = (
    "MMLU", "ARC-C", "HellaSwag", "Winogrande", "TruthfulQA", "GSM8K", "HumanEval",
)

#: Families the authors evaluated themselves (the "core" families).
CORE_FAMILIES: frozenset[str] = frozenset({
    "Llama-2", "Llama", "Llama-3", "Llama-3.1", "Qwen2", "Qwen1.5", "Qwen", "Mistral", "Mixtral",
    "Yi", "Yi-1.5", "Gemma", "Gemma-2", "Falcon", "Phi", "Pythia", "BLOOM", "GPT-Neo/J", "OPT",
    "MPT", "XGLM", "CodeLlama", "StarCoder", "StarCoder2", "DeepSeek-Coder", "DeepSeek-V2",
    "DeepSeek-Coder-V2", "Jamba",
})

#: Code-specialised families.
CODE_FAMILIES: frozenset[str] = frozenset({
    "StarCoder", "CodeLlama", "Codegen", "StarCoder2", "DeepSeek-Coder", "DeepSeek-Coder-V2",
})

#: Families whose training compute the paper treats as unknown.
UNKNOWN_FLOPS_FAMILIES: frozenset[str] = frozenset({"Mistral", "Mixtral", "Qwen2"})

#: Models pre-registered before their release: excluded from the core set, used as a forward test.
PREREGISTERED_MODELS: frozenset[str] = frozenset({
    "meta-llama/Meta-Llama-3.1-405B-FP8", "meta-llama/Meta-Llama-3.1-70B",
    "meta-llama/Meta-Llama-3.1-8B", "Qwen/Qwen1.5-110B", "Qwen/Qwen2-72B", "Qwen/Qwen2-57B-A14B",
    "Qwen/Qwen2-7B", "Qwen/Qwen2-1.5B", "Qwen/Qwen2-0.5B", "deepseek-ai/DeepSeek-V2",
    "deepseek-ai/DeepSeek-Coder-V2-Base", "google/gemma-2-27b", "google/gemma-2-9b",
    "google/gemma-2-2b", "mistralai/Mixtral-8x22B-v0.1", "mistralai/Mistral-Nemo-Base-2407",
    "01-ai/Yi-1.5-34B", "01-ai/Yi-1.5-9B", "01-ai/Yi-1.5-6B", "ai21labs/Jamba-v0.1",
})

#: Reference family of the "equivalent compute" axis.
REFERENCE_FAMILY = "Llama-2"

#: Default FLOPs cutoff, in units of 1e21 FLOPs (Llama-2-7B: 8.4e22 FLOPs).
DEFAULT_CUTOFF_1E21 = 84.0

#: Upper bound of the floor ``b`` of the sigmoid link.
MAX_FLOOR = 0.2

#: Imputation defaults: convergence tolerance (standardized units) and round cap.
IMPUTE_TOL = 1e-4
IMPUTE_MAX_ITER = 1000

#: Known quirks of the released tables, by model (shown in the datasheet and as a data column).
MODEL_QUIRKS: dict[str, str] = {
    "cerebras/btlm-3b-8k-base": "data size recorded as 627T tokens: FLOPs 1000x too large",
    "openlm-research/open_llama_7b_v2": "size recorded as 13B",
    "mistralai/Mixtral-8x7B-v0.1": "total (not active) parameter count",
    "mistralai/Mixtral-8x22B-v0.1": "active (not total) parameter count",
    "Qwen/Qwen2-57B-A14B": "parameter count recorded as 24B",
    "google/gemma-2-27b": "scores rounded to 3 decimals (from a report)",
    "google/gemma-2-9b": "scores rounded to 3 decimals (from a report)",
    "google/gemma-2-2b": "scores rounded to 3 decimals (from a report)",
}

#: Chance level of each BBH subtask (for chance-normalised scores).
BBH_CHANCE: dict[str, float] = {
    "boolean_expressions": 1 / 2, "causal_judgement": 1 / 2, "date_understanding": 1 / 6,
    "disambiguation_qa": 1 / 3, "dyck_languages": 0.0, "formal_fallacies": 1 / 2,
    "geometric_shapes": 1 / 9, "hyperbaton": 1 / 2, "logical_deduction_five_objects": 1 / 5,
    "logical_deduction_seven_objects": 1 / 7, "logical_deduction_three_objects": 1 / 3,
    "movie_recommendation": 1 / 5, "multistep_arithmetic_two": 0.0, "navigate": 1 / 2,
    "object_counting": 0.0, "penguins_in_a_table": 1 / 5,
    "reasoning_about_colored_objects": 1 / 18, "ruin_names": 1 / 4,
    "salient_translation_error_detection": 1 / 6, "snarks": 1 / 2, "sports_understanding": 1 / 2,
    "temporal_sequences": 1 / 4, "tracking_shuffled_objects_five_objects": 1 / 5,
    "tracking_shuffled_objects_seven_objects": 1 / 7,
    "tracking_shuffled_objects_three_objects": 1 / 3, "web_of_lies": 1 / 2, "word_sorting": 0.0,
}

#: BIG-Bench "emergent" tasks of the paper (Sec. 4.1): column -> (label, chance level, arithmetic?).
#: The BLEU column is divided by 100 on load so that every target lies in [0, 1].
EMERGENT_TASKS: dict[str, tuple[str, float, bool]] = {
    "word_unscrambling_2_exact_match": ("Word unscrambling", 0.0, False),
    "parsinlu_qa_2_acc": ("Persian QA", 0.25, False),
    "ipa_transliterate_2_exact_match": ("IPA transliteration (exact match)", 0.0, False),
    "ipa_transliterate_2_bleu": ("IPA transliteration (BLEU / 100)", 0.0, False),
    "arithmetic_2da_2_acc": ("2-digit addition", 0.0, True),
    "arithmetic_2dm_2_acc": ("2-digit multiplication", 0.0, True),
    "arithmetic_3da_2_acc": ("3-digit addition", 0.0, True),
    "arithmetic_3ds_2_acc": ("3-digit subtraction", 0.0, True),
}

#: Cutoff of the authors' analysis notebooks for the arithmetic tasks (1e21 FLOPs).
ARITHMETIC_CUTOFF_1E21 = 22.0

#: Agent targets of the paper (Sec. 4.3): tidy name -> (upstream column, divisor, label).
AGENT_TARGETS: dict[str, tuple[str, float, str]] = {
    "agentbench": ("ABench-OA", 10.0, "AgentBench overall score (/10)"),
    "agentboard_sr": ("ABoard-Avg_SR", 100.0, "AgentBoard average success rate"),
    "agentboard_pr": ("ABoard-Avg_PR", 100.0, "AgentBoard average progress rate"),
}

#: Reference family of the equivalent-compute axis for instruction-tuned models.
INSTRUCT_REFERENCE_FAMILY = "Llama-2-Chat"

#: Post-training targets (Sec. 4.2): tidy name -> (upstream GSM8K column, label).
GSM8K_TECHNIQUES: dict[str, tuple[str, str]] = {
    "gsm8k_naive": ("gsm8k_5_exact_match,flexible-extract", "GSM8K naive (5-shot)"),
    "gsm8k_cot": ("gsm8k_cot_8_exact_match,flexible-extract", "GSM8K CoT (8-shot)"),
    "gsm8k_sc": ("gsm8k_cot_self_consistency_8_exact_match,maj@5-flexible-extract",
                 "GSM8K CoT + self-consistency (majority of 5)"),
    "gsm8k_sc_single": ("gsm8k_cot_self_consistency_8_exact_match,score-first-flexible-extract",
                        "GSM8K CoT, one sample at the SC temperature"),
}

#: BBH prompts: tidy prefix -> (upstream column prefix, label).
BBH_PROMPTS: dict[str, tuple[str, str]] = {
    "bbh_naive": ("bbh_fewshot", "BBH naive (3-shot)"),
    "bbh_cot": ("bbh_cot_fewshot", "BBH CoT (3-shot)"),
}

#: Open LLM Leaderboard v2 targets (``base_llm_leaderboard_v2_eval.csv``): tidy name ->
#: (upstream column, label, chance level). BBH's chance level is the mean of its 27 subtasks'
#: (about 0.262); GPQA has four options, MMLU-Pro ten; MATH level 5 and IFEval are scored by
#: exact match and have no guessing floor; MuSR's one in three is the value the released
#: analysis code lists (its subtasks differ in their number of options).
LBV2_TARGETS: dict[str, tuple[str, str, float]] = {
    "lbv2_bbh": ("leaderboard_bbh", "BBH", sum(BBH_CHANCE.values()) / len(BBH_CHANCE)),
    "lbv2_gpqa": ("leaderboard_gpqa", "GPQA", 0.25),
    "lbv2_math_hard": ("leaderboard_math_hard", "MATH level 5", 0.0),
    "lbv2_mmlu_pro": ("leaderboard_mmlu_pro", "MMLU-Pro", 0.1),
    "lbv2_musr": ("leaderboard_musr", "MuSR", 1 / 3),
    "lbv2_ifeval": ("leaderboard_ifeval", "IFEval", 0.0),
}

#: FLOPs cutoffs (1e21) of the authors' Leaderboard-v2 analysis: BBH at Llama-2-7B, GPQA at
#: Qwen1.5-7B, MATH level 5 at Gemma-7B. The other three targets were not analysed there.
LBV2_CUTOFFS_1E21: dict[str, float] = {
    "lbv2_bbh": 84.0, "lbv2_gpqa": 168.0, "lbv2_math_hard": 252.0,
}
