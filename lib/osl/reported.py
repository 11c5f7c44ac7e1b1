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
    },
    "04_post_training": {
        "share_techniques_pc_beats_flops": PaperValue(
            5 / 6, None,
            "share of the six prompting set-ups (GSM8K naive, CoT, SC, SC single sample; BBH "
            "naive, CoT) where PC-1..PC-3 has a lower held-out MSE than log-FLOPs (a count "
            "without intervals; four set-ups share GSM8K's models; the verdict rule's tally is "
            "in the text); the paper's claim judged by: at least five of the six",
            "Sec. 4.2, Fig. 6", kind="criterion", op=">="),
    },
}


def paper_value(chapter: str, key: str) -> PaperValue | None:
    return PAPER.get(chapter, {}).get(key)
