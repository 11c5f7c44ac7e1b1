"""Chapter results files and the verdicts of their numbers, with no numerical libraries: the
book's build reads them (the introduction's verdict table) without loading pandas.

:mod:`osl.report` writes the files and shows the same rows as tables.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

from . import paths

__all__ = ["verdict", "overall_verdict", "load_results", "summary_rows", "number_rows",
           "fmt_number"]

REPRODUCED, PARTLY, NOT_REPRODUCED, NO_VERDICT = "reproduced", "partly", "not reproduced", "—"
#: Words for a data fact (a count): shown beside the data, never part of a chapter's verdict.
MATCHES, DIFFERS = "matches", "differs"
#: Words for this book's own questions (chapters 5 to 8), judged by criteria fixed in advance.
MET, NOT_MET = "met", "not met"
_RANK = {REPRODUCED: 0, MET: 0, PARTLY: 1, NOT_REPRODUCED: 2, NOT_MET: 2}


def verdict(value: float, paper: float | None, tolerance: float | None, kind: str = "paper",
            op: str = "") -> str:
    """The verdict of one number against its reference (see :mod:`osl.reported` for kinds).

    ``paper``/``official``: ``reproduced`` within the tolerance, ``partly`` within twice it,
    else ``not reproduced``. ``criterion``: ``reproduced`` when ours satisfies ``op`` against
    the threshold, else ``not reproduced``; ``question`` (this book's own): ``met`` or
    ``not met``. ``fact``: ``matches`` or ``differs``.
    """
    if paper is None or value is None or not math.isfinite(value):
        return NO_VERDICT
    if kind in ("criterion", "question"):
        met = value >= paper - 1e-12 if op == ">=" else value <= paper + 1e-12
        if kind == "question":
            return MET if met else NOT_MET
        return REPRODUCED if met else NOT_REPRODUCED
    if tolerance is None:
        return NO_VERDICT
    diff = abs(value - paper)
    if kind == "fact":
        return MATCHES if diff <= tolerance + 1e-12 else DIFFERS
    if diff <= tolerance + 1e-12:
        return REPRODUCED
    if diff <= 2 * tolerance + 1e-12:
        return PARTLY
    return NOT_REPRODUCED


def overall_verdict(verdicts: list[str]) -> str:
    """The worst judged verdict (facts and numbers without a reference are not judged); among
    equally good rows, a claim of the paper's wording (``reproduced``) comes first."""
    judged = [v for v in verdicts if v in _RANK]
    if not judged:
        return NO_VERDICT
    worst = max(_RANK[v] for v in judged)
    words = [v for v in judged if _RANK[v] == worst]
    return next((v for v in (REPRODUCED, PARTLY, NOT_REPRODUCED) if v in words), words[0])


def _verdict_of(n: dict) -> str:
    return verdict(n["value"], n["paper"], n["tolerance"], n.get("kind", "paper"), n.get("op", ""))


def load_results(directory: Path | None = None) -> list[dict]:
    """Every chapter's results file, sorted by chapter name."""
    directory = paths.results_dir() if directory is None else Path(directory)
    return [json.loads(p.read_text()) for p in sorted(directory.glob("*.json"))]


def _criterion(n: dict) -> str:
    """The rule a number is judged by, in words: ``within 0.02``, ``>= 0.5``, ``exact``."""
    if n["paper"] is None:
        return ""
    if n.get("kind") in ("criterion", "question"):
        return f"{'≥' if n.get('op') == '>=' else '≤'} {n['paper']:.3g}"
    if n["tolerance"] is None:
        return ""
    return "exact" if n["tolerance"] == 0 else f"within ±{n['tolerance']:.2g}"


def summary_rows(results: list[dict]) -> list[dict]:
    """One row per chapter: numbers judged, how many reproduced, the misses, and the verdict
    (the worst of its rows; data facts are counted apart and never judged)."""
    rows = []
    for r in results:
        nums = r["numbers"]
        vs = {k: _verdict_of(n) for k, n in nums.items()}
        judged = {k: v for k, v in vs.items() if v in _RANK}
        rows.append({"chapter": r["chapter"], "title": r.get("title", r["chapter"]),
                     "section": r.get("section", ""), "compared": len(judged),
                     "reproduced": sum(v in (REPRODUCED, MET) for v in judged.values()),
                     "facts": sum(v in (MATCHES, DIFFERS) for v in vs.values()),
                     "misses": ", ".join(k for k, v in judged.items()
                                         if v not in (REPRODUCED, MET)),
                     "verdict": overall_verdict(list(vs.values()))})
    return rows


SUMMARY_COLUMNS = ["chapter", "title", "section", "compared", "reproduced", "facts", "misses",
                   "verdict"]


def number_rows(results: list[dict]) -> list[dict]:
    """One row per number with a reference: chapter, quantity, reference kind and value,
    ours, the rule, and the verdict."""
    rows = []
    for r in results:
        for key, n in r["numbers"].items():
            if n["paper"] is None:
                continue
            rows.append({"chapter": r["chapter"], "key": key, "quantity": n["description"],
                         "kind": n.get("kind", "paper"), "reference": n["paper"],
                         "ours": n["value"], "rule": _criterion(n), "verdict": _verdict_of(n)})
    return rows


NUMBER_COLUMNS = ["chapter", "key", "quantity", "kind", "reference", "ours", "rule", "verdict"]


def fmt_number(x, digits: int = 3) -> str:
    """``digits`` significant digits; scientific notation below 0.001 (so an MSE of 0.0002 is
    ``2.0e-04``, never ``0.000``); integers (and integral floats of counts) without decimals;
    booleans as ``yes``/``no``; missing as ``—``."""
    import numbers
    if x is None or type(x).__name__ == "NAType":  # pandas' missing value
        return "—"
    if isinstance(x, bool) or type(x).__name__ in ("bool", "bool_"):  # (numpy's too)
        return "yes" if x else "no"
    if isinstance(x, numbers.Integral):
        return f"{int(x):,}" if abs(int(x)) >= 10_000 else str(int(x))
    if isinstance(x, numbers.Real):
        x = float(x)
        if not math.isfinite(x):
            return "—" if math.isnan(x) else ("∞" if x > 0 else "−∞")
        if x == 0:
            return "0"
        if abs(x) < 1e-3 or abs(x) >= 1e6:
            return f"{x:.{max(digits - 1, 1)}e}"
        if abs(x) >= 10 ** digits:  # 140, 12,345: no exponent for a number this size
            return f"{x:,.0f}"
        return f"{x:.{digits}g}"
    return str(x)
