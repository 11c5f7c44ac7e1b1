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
from .reported import paper_value

REPRODUCED, PARTLY, NOT_REPRODUCED, NO_VERDICT = "reproduced", "partly", "not reproduced", "—"


def verdict(value: float, paper: float | None, tolerance: float | None) -> str:
    """``reproduced`` within the tolerance, ``partly`` within twice it, else ``not reproduced``."""
    if paper is None or tolerance is None or value is None or not math.isfinite(value):
        return NO_VERDICT
    diff = abs(value - paper)
    if diff <= tolerance + 1e-12:
        return REPRODUCED
    if diff <= 2 * tolerance + 1e-12:
        return PARTLY
    return NOT_REPRODUCED


def overall_verdict(verdicts: list[str]) -> str:
    judged = [v for v in verdicts if v != NO_VERDICT]
    if not judged:
        return NO_VERDICT
    if all(v == REPRODUCED for v in judged):
        return REPRODUCED
    if all(v == NOT_REPRODUCED for v in judged):
        return NOT_REPRODUCED
    return PARTLY


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

    def add(self, key: str, value: float, *, description: str | None = None,
            paper: float | None = None, tolerance: float | None = None) -> float:
        """Record (and glue) one number; paper value/tolerance default to :mod:`osl.reported`."""
        known = paper_value(self.chapter, key)
        if known is not None:
            paper = known.value if paper is None else paper
            tolerance = known.tolerance if tolerance is None else tolerance
            description = description or known.description
        if description is None:
            raise OSLError(f"{key}: give a description (it is not in osl.reported for {self.chapter}).")
        shown = int(value) if isinstance(value, (int, np.integer)) else float(value)
        value = float(value)
        self.numbers[key] = {"value": value, "paper": None if paper is None else float(paper),
                             "tolerance": None if tolerance is None else float(tolerance),
                             "description": description}
        glue(key, shown)
        if paper is not None:
            glue(f"{key}_paper", paper)
        return value

    def __getitem__(self, key: str) -> float:
        return self.numbers[key]["value"]

    def table(self, only_paper: bool = False) -> pd.DataFrame:
        """Paper vs ours: one row per number, with the difference and a verdict."""
        rows = []
        for key, n in self.numbers.items():
            if only_paper and n["paper"] is None:
                continue
            diff = None if n["paper"] is None else n["value"] - n["paper"]
            rows.append({"quantity": n["description"], "key": key, "paper": n["paper"],
                         "ours": n["value"], "difference": diff, "tolerance": n["tolerance"],
                         "verdict": verdict(n["value"], n["paper"], n["tolerance"])})
        return pd.DataFrame(rows).set_index("quantity")

    @property
    def verdict(self) -> str:
        return overall_verdict(list(self.table()["verdict"])) if self.numbers else NO_VERDICT

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


def verdict_table(results: list[dict]) -> pd.DataFrame:
    """One row per chapter: numbers compared with the paper, how many reproduced, verdict."""
    rows = []
    for r in results:
        vs = [verdict(n["value"], n["paper"], n["tolerance"]) for n in r["numbers"].values()]
        judged = [v for v in vs if v != NO_VERDICT]
        rows.append({"chapter": r["chapter"], "title": r.get("title", r["chapter"]),
                     "section": r.get("section", ""), "compared": len(judged),
                     "reproduced": sum(v == REPRODUCED for v in judged),
                     "verdict": overall_verdict(vs)})
    return pd.DataFrame(rows, columns=["chapter", "title", "section", "compared", "reproduced",
                                       "verdict"])
