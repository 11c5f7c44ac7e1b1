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
from .results import (  # noqa: F401 - the verdicts' words and rules, re-exported here
    DIFFERS, MATCHES, MET, NO_VERDICT, NOT_MET, NOT_REPRODUCED, NUMBER_COLUMNS, PARTLY,
    REPRODUCED, SUMMARY_COLUMNS, _RANK, _criterion, _verdict_of, load_results, number_rows,
    overall_verdict, summary_rows, verdict)

__all__ = ["Report", "verdict", "overall_verdict", "verdict_table", "verdict_rows",
           "load_results", "glue"]

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


def verdict_table(results: list[dict]) -> pd.DataFrame:
    """One row per chapter: numbers judged, how many reproduced, the misses, and the verdict
    (the worst of its rows; data facts are counted apart and never judged)."""
    return pd.DataFrame(summary_rows(results), columns=SUMMARY_COLUMNS)


def verdict_rows(results: list[dict]) -> pd.DataFrame:
    """One row per number with a reference: chapter, quantity, reference kind and value,
    ours, the rule, and the verdict."""
    return pd.DataFrame(number_rows(results), columns=NUMBER_COLUMNS)
