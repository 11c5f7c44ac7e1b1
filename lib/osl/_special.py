"""The logistic function and its inverse in numpy, as :mod:`scipy.special` computes them
(``expit`` and ``logit``; the tests check bit-for-bit agreement): the library needs nothing
else from scipy, whose import would cost every command and kernel a quarter of a second."""
from __future__ import annotations

import numpy as np


def expit(x):
    """``1 / (1 + exp(-x))``, elementwise (0 at -inf, 1 at +inf)."""
    with np.errstate(over="ignore"):
        return 1.0 / (1.0 + np.exp(-np.asarray(x, dtype=float)))[()]


def logit(p):
    """``log(p / (1 - p))``, elementwise; near ``p = 1/2`` as ``log1p(s) - log1p(-s)`` with
    ``s = 2p - 1``, which keeps full precision there (NaN outside [0, 1], -inf/inf at 0/1)."""
    p = np.asarray(p, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        s = 2.0 * (p - 0.5)
        return np.where((p < 0.3) | (p > 0.65), np.log(p / (1.0 - p)),
                        np.log1p(s) - np.log1p(-s))[()]
