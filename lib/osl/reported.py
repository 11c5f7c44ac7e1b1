"""The references each chapter's headline numbers are judged against, per chapter.

A chapter records each headline number through :class:`osl.report.Report`, which looks the
reference and the tolerance up here; the tests assert the same tolerances. Every reference has
one of four kinds (:data:`KINDS`), shown next to it in every verdict table:

``paper``
    a number the paper prints (section or figure in ``source``);
``official``
    the official code's result on the same data and split, computed by the test-only reference
    implementation (``tests/reference_method.py``) or recorded with its provenance in ``source``;
``criterion``
    a qualitative claim of the paper judged by a criterion fixed before the result: ours must be
    ``>=`` or ``<=`` (``op``) the threshold ``value``;
``question``
    a question this book asks beyond the paper (chapters 5 to 8), judged the same way by a
    criterion fixed before the result; its verdict is *met* or *not met*;
``fact``
    a count or property of the data (models, families, tasks): shown, never a verdict.

A ``None`` value means there is no reference: we report ours without a verdict.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PaperValue:
    """A number the paper states (or a claim encoded as one) with our tolerance.

    ``expected`` is the verdict the test suite asserts: ``"reproduced"`` unless this book has
    found, and explains on the chapter's page, that the claim does not hold as stated.
    ``kind`` says what the reference is (see the module docstring); ``op`` is the direction of
    a ``criterion`` (``">="`` or ``"<="``) and unused otherwise.
    """

    value: float | None
    tolerance: float | None
    description: str
    source: str = ""
    expected: str = "reproduced"
    kind: str = "paper"
    op: str = ""

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"kind={self.kind!r}: use one of {sorted(KINDS)}")
        if self.kind in ("criterion", "question") and self.op not in (">=", "<="):
            raise ValueError(f"{self.description}: a criterion needs op='>=' or op='<='")


#: What each kind of reference is, as the verdict tables label it.
KINDS = {
    "paper": "paper's printed number",
    "official": "official code, same split",
    "criterion": "criterion fixed in advance",
    "question": "this book's question, criterion fixed in advance",
    "fact": "data fact (no verdict)",
}


#: Held-out MSE of the paper's method on the paper's split of each emergent task, to four
#: significant digits: PC-1, PC-1..3 and log-FLOPs, computed by the independent re-implementation
#: of the official method in tests/test_paper_method.py (checked by
#: tests/test_official_references.py). The paper prints no per-task errors; its tolerance is 5%
#: of the value or 1e-4, whichever is larger (two optimisers stop at slightly different points of
#: the same minimum).
_EMERGENT_PREDICTORS = (("pc1", "PC-1"), ("pc3", "PC-1..3"), ("logflops", "log-FLOPs"))
_EMERGENT_OFFICIAL_MSE = {
    "word_unscrambling_2_exact_match": (0.02471, 0.002567, 0.01845),
    "parsinlu_qa_2_acc": (0.009994, 0.005508, 0.01128),
    "ipa_transliterate_2_exact_match": (0.01686, 0.1727, 0.5418),
    "ipa_transliterate_2_bleu": (0.03776, 0.09659, 0.4290),
    "arithmetic_2da_2_acc": (0.03501, 3.955e-05, 0.0004829),
    "arithmetic_2dm_2_acc": (0.02695, 0.01648, 0.02646),
    "arithmetic_3da_2_acc": (0.04226, 0.005857, 0.007545),
    "arithmetic_3ds_2_acc": (0.02860, 0.03044, 0.002666),
}


PAPER: dict[str, dict[str, PaperValue]] = {
    "01_capability_space": {
        "n_models": PaperValue(77, 0, "models in the core set", "Sec. 3.1; released code",
                                kind="fact"),
        "n_families": PaperValue(21, 0, "families in the core set", "Sec. 3.1; released code",
                                  kind="fact"),
        "pc1_explained_variance": PaperValue(
            0.80, 0.02, "share of variance explained by PC-1 (unstandardized)", "Sec. 3.2, Fig. 2a"),
        "pc1_3_explained_variance": PaperValue(
            0.97, 0.02, "share of variance explained by PC-1..PC-3", "Sec. 3.2, Fig. 2a"),
        "pc1_explained_variance_standardized": PaperValue(
            0.7408, 0.005, "share of variance explained by PC-1 after standardizing each benchmark",
            "official method on the core set (the paper's imputation, then standardized PCA), "
            "independent re-implementation in tests/test_paper_method.py; value checked by "
            "tests/test_official_references.py", kind="official"),
        "median_within_family_r2": PaperValue(
            None, None, "median R² of PC-1 vs log10 FLOPs within families (>= 3 models with FLOPs)",
            "Sec. 3.3, Fig. 3 (stated as 'high', no single number)"),
        "pooled_r2": PaperValue(
            None, None, "R² of one line of PC-1 vs log10 FLOPs through all core models", ""),
        "shared_slope_r2": PaperValue(
            None, None, "R² of the shared-slope, per-family-intercept model", ""),
    },
    "02_emergence": {
        "n_tasks": PaperValue(8, 0, "BIG-Bench targets analysed (task and metric)",
                             "Sec. 4.1, Fig. 4 and App.", kind="fact"),
        "share_tasks_pc_beats_flops": PaperValue(
            7 / 8, None,
            "share of targets where PC-1..PC-3 has a lower held-out MSE than log-FLOPs (a point "
            "comparison, no interval), paper's set-up; the paper's claim that PCs beat compute "
            "on these tasks, judged by: at least seven of the eight", "Sec. 4.1, Fig. 4",
            kind="criterion", op=">="),
        "share_tasks_pc_beats_flops_authors": PaperValue(
            7 / 8, None,
            "the same share under the authors' notebook set-up, same criterion",
            "released analysis code", kind="criterion", op=">="),
        **{f"{task}_test_mse_{name}": PaperValue(
            value, max(0.05 * value, 1e-4),
            f"{task}: held-out MSE, {label} (paper's set-up)",
            "official method on the paper's split (models at or below 8.4e22 FLOPs; arithmetic "
            "without GSM8K), independent re-implementation in tests/test_paper_method.py "
            "(scikit-learn imputation and PCA, scipy curve_fit from the paper's start); value "
            "checked by tests/test_official_references.py", kind="official")
          for task, values in _EMERGENT_OFFICIAL_MSE.items()
          for (name, label), value in zip(_EMERGENT_PREDICTORS, values)},
    },
    "03_agents": {
        "agentbench_gpt4_abs_error": PaperValue(
            0.05, None,
            "|predicted - actual| AgentBench score of GPT-4 (overall score / 10), PC-1..3 fitted "
            "on weaker models; the paper's claim that it is predicted accurately, judged by: "
            "within half a point of ten", "Sec. 4.3, Fig. 5", kind="criterion", op="<="),
        "agentboard_gpt4_abs_error": PaperValue(
            0.05, None,
            "|predicted - actual| AgentBoard success rate of GPT-4, PC-1..3 (the paper's default "
            "number of PCs) fitted on weaker models; the paper's claim of an accurate forecast, "
            "judged by: within five points of a hundred", "Sec. 4.3, Fig. 5",
            # With the paper's PC-1..3 GPT-4 is missed by about 0.06; the 0.036 of PC-1..2 came
            # from choosing the number of PCs on the held-out model (chapter 3 explains).
            kind="criterion", op="<=", expected="not reproduced"),
        # The official method's GPT-4 predictions on the paper's split (top tenth by the target
        # held out), PC-1..3: computed by the independent re-implementation of the released
        # method in tests/test_paper_method.py; tests/test_official_agents_post_training.py
        # asserts these values. Tolerance: half a point on a hundred-point scale.
        "agentbench_gpt4_predicted": PaperValue(
            0.380025, 0.005,
            "AgentBench score of GPT-4-0613 (/10) predicted with PC-1..3 on the paper's split",
            "official method, independent re-implementation in tests/test_paper_method.py "
            "(scikit-learn imputation and PCA, scipy curve_fit from the paper's start)",
            kind="official"),
        "agentboard_gpt4_predicted": PaperValue(
            0.419124, 0.005,
            "AgentBoard success rate of GPT-4-0314 predicted with PC-1..3 on the paper's split",
            "official method, independent re-implementation in tests/test_paper_method.py "
            "(scikit-learn imputation and PCA, scipy curve_fit from the paper's start)",
            kind="official"),
    },
    "04_post_training": {
        "share_techniques_pc_beats_flops": PaperValue(
            5 / 6, None,
            "share of the six prompting set-ups (GSM8K naive, CoT, SC, SC single sample; BBH "
            "naive, CoT) where PC-1..PC-3 has a lower held-out MSE than log-FLOPs (a count "
            "without intervals; four set-ups share GSM8K's models; the verdict rule's tally is "
            "in the text); the paper's claim judged by: at least five of the six",
            "Sec. 4.2, Fig. 6", kind="criterion", op=">="),
        # The official method's held-out MSEs on this chapter's split (cutoff at Llama-2-7B;
        # training models scored every way of their benchmark), computed by the independent
        # re-implementation in tests/test_paper_method.py and asserted by
        # tests/test_official_agents_post_training.py. Tolerance: 5% of the official value
        # (two optimisers stop at slightly different points of the same minimum).
        "gsm8k_cot_test_mse_pc3": PaperValue(
            0.00510651, 0.00026, "GSM8K CoT: held-out MSE, PC-1..3",
            "official method, independent re-implementation in tests/test_paper_method.py",
            kind="official"),
        "gsm8k_cot_test_mse_logflops": PaperValue(
            0.0304981, 0.0015, "GSM8K CoT: held-out MSE, log-FLOPs",
            "official method, independent re-implementation in tests/test_paper_method.py",
            kind="official"),
        "bbh_cot_test_mse_pc3": PaperValue(
            0.00784622, 0.0004, "BBH CoT (mean of 27 subtasks): held-out MSE, PC-1..3",
            "official method, independent re-implementation in tests/test_paper_method.py",
            kind="official"),
        "bbh_cot_test_mse_logflops": PaperValue(
            0.0164180, 0.0008, "BBH CoT (mean of 27 subtasks): held-out MSE, log-FLOPs",
            "official method, independent re-implementation in tests/test_paper_method.py",
            kind="official"),
    },
    "05_forecast_trust": {
        "coverage_80_new": PaperValue(
            0.75, None,
            "share of held-out scores inside the calibrated 80% predictive interval of the "
            "default predictor over the backtest grid; criterion fixed in advance: at least "
            "0.75", "this book's question (the paper states no intervals)", kind="question", expected="met",
            op=">="),
        "coverage_80_new_not_too_wide": PaperValue(
            0.85, None,
            "the same share; criterion fixed in advance: at most 0.85 (an 80% interval that "
            "covers far more is wider than it needs to be)", "this book's question",
            kind="question", expected="met", op="<="),
        "coverage_95_new": PaperValue(
            0.90, None,
            "share of held-out scores inside the calibrated 95% interval over the grid; "
            "criterion fixed in advance: at least 0.90", "this book's question",
            kind="question", expected="met", op=">="),
        "min_group_coverage_80_new": PaperValue(
            0.65, None,
            "lowest coverage of the calibrated 80% interval in any target group; criterion "
            "fixed in advance: at least 0.65", "this book's question", kind="question", expected="met",
            op=">="),
        "prereg_coverage_80": PaperValue(
            0.70, None,
            "forward test: share of the pre-registered models' scores inside the calibrated "
            "80% interval (model fitted on the core set); criterion fixed in advance: at least "
            "0.70", "pre-registered list of the paper (App.)", kind="question", expected="met", op=">="),
        "share_cells_pc_beats_flops": PaperValue(
            0.5, None,
            "share of the backtest grid's base-model cells where PCs (k chosen on training "
            "models) have a lower held-out MSE than log-FLOPs; the paper's claim that "
            "capabilities predict better than compute, judged by: at least half",
            "Sec. 4, Figs. 4 and 6", kind="criterion", op=">="),
    },
    "06_model_selection": {
        "n_combinations": PaperValue(
            431_909, 0, "family combinations searched on the core pool (Llama-2 plus 1 to 9 of "
            "the other 20 families)", "official code's model-selection guide", kind="fact"),
        "n_combinations_small": PaperValue(
            89_845, 0, "family combinations searched among the models of at most 7B parameters "
            "(Llama-2 plus 1 to 9 of the other 17 families)",
            "official code's model-selection guide", kind="fact"),
        "vopt_budgets_matching_official": PaperValue(
            9, 0, "budgets (of the nine, 4 to 36 models) at which our V-optimal families on the "
            "core pool equal the official code's printed selection",
            "official code: model_subset_selection_guide.ipynb output (osl.selection."
            "OFFICIAL_GUIDE)", kind="official"),
        "vopt_budgets_matching_official_small": PaperValue(
            9, 0, "the same among the models of at most 7B parameters",
            "official code: model_subset_selection_guide.ipynb output (osl.selection."
            "OFFICIAL_GUIDE)", kind="official"),
        "vopt_vs_random_win_share": PaperValue(
            0.5, None,
            "share of (budget, target) cases, emergent and post-training targets, budgets 8 to "
            "36, where the V-optimal subset has a lower held-out MSE than the median random "
            "subset of the same budget; the paper's claim that selection beats random subsets, "
            "judged by: at least half", "Sec. 5", kind="criterion", op=">="),
        "budget_to_match_full_set": PaperValue(
            None, None, "smallest budget at which the V-optimal subset's held-out MSE is within "
            "10% of the full pool's (geometric mean over the 14 targets)", "Sec. 5"),
    },
    "08_beyond_scale": {
        # Criteria written before any of the chapter's results were computed.
        "cot_multiplier_gsm8k_growth_lower": PaperValue(
            0.0, None,
            "GSM8K: lower end of the 90% family-resampled interval of the growth of the CoT "
            "multiplier (log10 multiplier at Llama-2-70B's capability minus at Llama-2-7B's); "
            "the claim that CoT is worth more compute for stronger models, judged by: above 0",
            "Sec. 4.2 (gains grow with capability)", kind="criterion", op=">="),
        "cot_multiplier_bbh_growth_lower": PaperValue(
            0.0, None,
            "BBH: the same growth interval's lower end for CoT over naive prompting; judged by: "
            "above 0", "Sec. 4.2 (gains grow with capability)", kind="criterion", op=">="),
        "sc_multiplier_gsm8k_lower_dex": PaperValue(
            0.0, None,
            "GSM8K at Llama-2-70B's capability: lower end of the 90% family-resampled interval "
            "of the log10 multiplier of self-consistency (majority of 5) over one CoT sample; "
            "the claim that voting is worth compute, judged by: above 0",
            "Sec. 4.2", kind="criterion", op=">="),
        "lineage_newer_more_efficient_share": PaperValue(
            0.5, None,
            "share of successive versions within a lineage (e.g. Llama -> Llama-2) whose newer "
            "version is more compute-efficient with its 90% family-resampled interval above 0; "
            "the claim that newer recipes reach the same capability with less compute, judged "
            "by: at least half", "question of this chapter", kind="question", expected="met", op=">="),
        "instruct_multiplier_median_upper_dex": PaperValue(
            0.30103, None,
            "upper end of the 90% interval of the median log10 multiplier of instruction tuning "
            "(same-developer instruct vs base pairs) on the standard benchmarks; the expectation "
            "that these benchmarks do not register instruction tuning as a capability gain, "
            "judged by: below log10(2)", "question of this chapter", kind="question", expected="met", op="<="),
        "emergent_tasks_recipe_shifts": PaperValue(
            5, None,
            "emergent BIG-Bench targets (of 8) whose jump moves to less raw compute in more "
            "efficient families (90% family-resampled interval of the share of a family's "
            "efficiency carried over to the jump above 0); judged by: at least five",
            "question of this chapter", kind="question", op=">=",
            # Not met at the pinned data: the jump moves with the recipe on some arithmetic
            # targets and Persian QA only (chapter 8, section 4, explains).
            expected="not met"),
    },
}


# The official code's held-out MSEs on the Leaderboard-v2 targets (normalised scale), from the
# test-only re-implementation of the released analysis (tests/reference_leaderboard.py, which
# the tests run against these values). Tolerance: 15% of the value or 2e-4, whichever is larger.
_LBV2_OFFICIAL = {
    ("lbv2_bbh", "pc3"): 1.5037e-03, ("lbv2_bbh", "logflops"): 2.6613e-02,
    ("lbv2_bbh", "logsize"): 5.3233e-02,
    ("lbv2_gpqa", "pc3"): 8.1708e-04, ("lbv2_gpqa", "logflops"): 2.3031e-03,
    ("lbv2_gpqa", "logsize"): 8.9545e-03,
    ("lbv2_math_hard", "pc3"): 2.2142e-03, ("lbv2_math_hard", "logflops"): 1.3489e-02,
    ("lbv2_math_hard", "logsize"): 1.3130e-02,
}
_LBV2_LABEL = {"lbv2_bbh": "BBH", "lbv2_gpqa": "GPQA", "lbv2_math_hard": "MATH level 5"}
_LBV2_PRED = {"pc3": "PC-1..3", "logflops": "log-FLOPs", "logsize": "log-size"}
_LBV2_CUT = {"lbv2_bbh": 84, "lbv2_gpqa": 168, "lbv2_math_hard": 252}

#: The criterion of "predictable", fixed before any result of chapter 7.
LBV2_PREDICTABLE = (
    "predictable: held-out MSE of PC-1..3 at most half that of the training mean, PC-1..3 "
    "better than the training mean by the verdict rule (90% family-cluster interval of the "
    "MSE difference below zero), and PC-1..3 not worse than log-FLOPs by the same rule")

PAPER["07_limits"] = {
    **{f"{t}_test_mse_{p}": PaperValue(
        v, max(0.15 * v, 2e-4),
        f"{_LBV2_LABEL[t]}: held-out MSE of {_LBV2_PRED[p]} (target normalised to (chance, 1)), "
        f"authors' setting, cutoff {_LBV2_CUT[t]}e21 FLOPs",
        "released Leaderboard-v2 analysis code at the pinned commit, re-implemented in "
        "tests/reference_leaderboard.py (same models, split and fit); within 15% or 2e-4",
        kind="official") for (t, p), v in _LBV2_OFFICIAL.items()},
    **{f"{t}_predictable": PaperValue(
        1.0, None,
        f"{_LBV2_LABEL[t]} predictable from the standard benchmarks (1 = yes), authors' "
        "setting: held-out MSE of PC-1..3 at most half the training mean's, better than it and "
        "not worse than log-FLOPs by the verdict rule",
        "released Leaderboard-v2 analysis", kind="criterion", op=">=")
       for t in _LBV2_LABEL},
    "share_lbv2_targets_predictable": PaperValue(
        0.5, None,
        "share of the six Leaderboard-v2 targets predictable (as above) in the authors' "
        "setting, cutoff 84e21 FLOPs for the three they did not analyse; against the objection "
        "that easy benchmarks predict no hard task, judged by: at least half",
        "the objection discussed in the released Leaderboard-v2 analysis", kind="criterion",
        op=">="),
}

def paper_value(chapter: str, key: str) -> PaperValue | None:
    return PAPER.get(chapter, {}).get(key)
