"""A small synthetic benchmark table for the documentation, the tests and the command line.

``python -m osl.examples`` rewrites ``data/examples/my_models.csv``: 30 made-up models with
scores on five benchmarks in their own names (``reading``, ``trivia``, ``math_quiz``,
``code_small``, ``logic``) and three harder targets (``agent_tasks``, ``hard_math``,
``long_puzzles``), no metadata. Scores come from a known two-dimensional capability and known
sigmoid links, so what the method should recover is known. Some cells are blank, and the targets
are measured on the 24 weakest models only (the rest are the ones to forecast).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from ._special import expit

from . import paths

BENCHMARKS = ("reading", "trivia", "math_quiz", "code_small", "logic")
TARGETS = ("agent_tasks", "hard_math", "long_puzzles")
#: True links of the targets on the first latent capability: (intercept, slope, floor).
TRUE_LINKS = {"agent_tasks": (-1.0, 2.5, 0.0), "hard_math": (-2.5, 3.0, 0.05),
              "long_puzzles": (-0.5, 1.5, 0.1)}
EXAMPLE_FILE = paths.DATA_DIR / "examples" / "my_models.csv"


def make_example_table(n: int = 30, seed: int = 7, n_measured: int = 24) -> pd.DataFrame:
    """The example table (model column first), deterministic for a given seed."""
    rng = np.random.default_rng(seed)
    general = np.sort(rng.normal(size=n))          # the models, weakest first
    second = 0.5 * rng.normal(size=n)
    load1 = np.array([0.5, 0.45, 0.45, 0.35, 0.45])
    load2 = np.array([0.3, 0.5, -0.4, -0.6, 0.1])
    X = 0.5 + 0.14 * np.outer(general, load1) + 0.1 * np.outer(second, load2)
    X = np.clip(X + 0.01 * rng.normal(size=X.shape), 0.01, 0.99).round(3)
    X[rng.random(X.shape) < 0.08] = np.nan
    table = pd.DataFrame(X, columns=BENCHMARKS)
    table.insert(0, "model", [f"acme/model-{i + 1:02d}" for i in range(n)])
    for t, (c, w, b) in TRUE_LINKS.items():
        y = (1 - b) * expit(c + w * general) + b + 0.02 * rng.normal(size=n)
        y = np.clip(y, 0, 1).round(3)
        y[n_measured:] = np.nan
        table[t] = y
    return table


def main() -> int:
    EXAMPLE_FILE.parent.mkdir(parents=True, exist_ok=True)
    make_example_table().to_csv(EXAMPLE_FILE, index=False)
    print(f"wrote {EXAMPLE_FILE}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
