"""Recording, gluing and saving a chapter's headline numbers next to the paper's.

>>> rep = Report("01_capability_space", title="The capability space", section="Sec. 3")  # doctest: +SKIP
>>> rep.add("pc1_explained_variance", 0.8016)   # paper value and tolerance from osl.reported
>>> rep.table()                                  # paper vs ours with a verdict per number
>>> rep.write()                                  # _build/results/01_capability_space.json

Inside a notebook every number is also glued (myst-nb) under its key, so prose cites it with
``{glue:text}`key:.2f``` and never types it.
"""
from __future__ import annotations

import json
import math
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from . import paths
from .errors import OSLError
from .reported import KINDS, paper_value

__all__ = ["Report", "verdict", "overall_verdict", "verdict_table", "verdict_rows",
           "load_results", "glue"]

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


def _in_kernel() -> bool:
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover
        return False
    ip = get_ipython()
    return ip is not None and hasattr(ip, "kernel")


def glue(name: str, value, display: bool = False) -> None:
    """myst-nb glue inside a notebook kernel; a no-op elsewhere (scripts, tests).

    numpy scalars are converted to Python numbers so ``{glue:text}`key:.2f``` can format them.
    """
    if isinstance(value, np.generic):
        value = value.item()
    if _in_kernel():
        from myst_nb import glue as _glue
        _glue(name, value, display=display)


class Report:
    """A chapter's headline numbers with the paper's values, tolerances and verdicts."""

    def __init__(self, chapter: str, *, title: str = "", section: str = ""):
        self.chapter = chapter
        self.title = title
        self.section = section
        self.numbers: dict[str, dict] = {}
        self._t0 = time.perf_counter()

    def add(self, key: str, value: float | str, *, description: str | None = None,
            paper: float | None = None, tolerance: float | None = None) -> float | str:
        """Record (and glue) one number; paper value/tolerance default to :mod:`osl.reported`.

        A string value (e.g. a list of selected families) is recorded and glued as text,
        never judged: it takes no reference.
        """
        if isinstance(value, str):
            return self._add_text(key, value, description=description, paper=paper,
                                  tolerance=tolerance)
        known = paper_value(self.chapter, key)
        kind, op = "paper", ""
        if known is not None:
            kind, op = known.kind, known.op
            paper = known.value if paper is None else paper
            tolerance = known.tolerance if tolerance is None else tolerance
            description = description or known.description
        if description is None:
            raise OSLError(f"{key}: give a description (it is not in osl.reported for {self.chapter}).")
        shown = int(value) if isinstance(value, (int, np.integer)) else float(value)
        value = float(value)
        self.numbers[key] = {"value": value, "paper": None if paper is None else float(paper),
                             "tolerance": None if tolerance is None else float(tolerance),
                             "description": description, "kind": kind, "op": op}
        glue(key, shown)
        if paper is not None:
            glue(f"{key}_paper", paper)
        return value

    def _add_text(self, key: str, value: str, *, description, paper, tolerance) -> str:
        known = paper_value(self.chapter, key)
        if paper is not None or tolerance is not None or (known is not None
                                                          and known.value is not None):
            raise OSLError(f"{key}: a text value is never judged; give it no paper value or "
                           "tolerance.")
        description = description or (known.description if known is not None else None)
        if description is None:
            raise OSLError(f"{key}: give a description (it is not in osl.reported for {self.chapter}).")
        self.numbers[key] = {"value": value, "paper": None, "tolerance": None,
                             "description": description, "kind": "paper", "op": ""}
        glue(key, value)
        return value

    def __getitem__(self, key: str) -> float | str:
        return self.numbers[key]["value"]

    def table(self, only_paper: bool = False) -> pd.DataFrame:
        """Reference vs ours: one row per number, with its reference kind and a verdict."""
        rows = []
        for key, n in self.numbers.items():
            if only_paper and n["paper"] is None:
                continue
            diff = None if n["paper"] is None else n["value"] - n["paper"]
            rows.append({"quantity": n["description"], "key": key,
                         "reference kind": (KINDS.get(n["kind"], n["kind"])
                                            if n["paper"] is not None else "no reference"),
                         "paper": n["paper"], "ours": n["value"], "difference": diff,
                         "tolerance": n["tolerance"], "criterion": _criterion(n),
                         "verdict": _verdict_of(n)})
        return pd.DataFrame(rows).set_index("quantity")

    def shown(self, only_paper: bool = True, caption: str | None = None):
        """The reference-vs-ours table ready for the page: a short quantity (its description up
        to the first semicolon), the reference's kind, the reference, ours, the rule and the
        verdict, through :func:`osl.tables.show`."""
        from .tables import show
        t = self.table(only_paper=only_paper)
        frame = pd.DataFrame({
            "reference kind": t["reference kind"].to_numpy(),
            "reference": t["paper"].to_numpy(dtype=float),
            "ours": t["ours"].to_numpy(dtype=float),
            "rule": t["criterion"].to_numpy(),
            "verdict": t["verdict"].to_numpy()},
            index=pd.Index([q.split(";")[0] for q in t.index], name="quantity"))
        return show(frame, digits=3, caption=caption)

    @property
    def verdict(self) -> str:
        return overall_verdict([_verdict_of(n) for n in self.numbers.values()])

    def write(self) -> Path:
        """Write ``_build/results/<chapter>.json`` atomically; returns its path."""
        out = paths.results_dir()
        out.mkdir(parents=True, exist_ok=True)
        doc = {"chapter": self.chapter, "title": self.title, "section": self.section,
               "verdict": self.verdict, "seconds": round(time.perf_counter() - self._t0, 2),
               "numbers": self.numbers}
        target = out / f"{self.chapter}.json"
        fd, tmp = tempfile.mkstemp(dir=out, prefix=f".{self.chapter}.", suffix=".json")
        with os.fdopen(fd, "w") as fh:
            json.dump(doc, fh, indent=2)
        os.replace(tmp, target)
        return target


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


def verdict_table(results: list[dict]) -> pd.DataFrame:
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
    return pd.DataFrame(rows, columns=["chapter", "title", "section", "compared", "reproduced",
                                       "facts", "misses", "verdict"])


def verdict_rows(results: list[dict]) -> pd.DataFrame:
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
    return pd.DataFrame(rows, columns=["chapter", "key", "quantity", "kind", "reference", "ours",
                                       "rule", "verdict"])
