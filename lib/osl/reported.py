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
        if self.kind == "criterion" and self.op not in (">=", "<="):
            raise ValueError(f"{self.description}: a criterion needs op='>=' or op='<='")


#: What each kind of reference is, as the verdict tables label it.
KINDS = {
    "paper": "paper's printed number",
    "official": "official code, same split",
    "criterion": "criterion fixed in advance",
    "fact": "data fact (no verdict)",
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
            0.74, 0.03, "share of variance explained by PC-1 after standardizing each benchmark",
            "released code (standardized variant)"),
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
}


def paper_value(chapter: str, key: str) -> PaperValue | None:
    return PAPER.get(chapter, {}).get(key)
