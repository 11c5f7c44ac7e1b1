"""Test-only reference fits: the link fitted with scipy's trust-region least squares.

Independent of the library's batched Levenberg-Marquardt solver, so the tests can check the
solver against it.
"""
from __future__ import annotations

import numpy as np
from scipy.optimize import least_squares
from scipy.special import logit

from osl.predict import LinkSpec, link


def logit_init(X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """A starting point from a linear fit of logit(y) on X (y clipped inside (0, 1))."""
    yy = logit(np.clip(y, 0.02, 0.98))
    A = np.column_stack([np.ones(len(y)), X])
    coef = np.linalg.lstsq(A, yy, rcond=None)[0]
    return np.concatenate([coef, [0.0]])



def fit_link_scipy(X: np.ndarray, y: np.ndarray, spec: LinkSpec = LinkSpec()) -> np.ndarray:
    """The same fit with scipy's trust-region least squares (reference for the tests)."""
    n, k = X.shape
    P = k + 2 if spec.floor else k + 1

    def fun(p):
        full = np.concatenate([p, [0.0]]) if not spec.floor else p
        return link(full, X) - y

    lo = np.full(P, -np.inf)
    hi = np.full(P, np.inf)
    if spec.floor:
        lo[-1], hi[-1] = 0.0, spec.max_floor
    best = None
    for start in (np.concatenate([[0.0], np.full(k, 0.03), [0.0]]), logit_init(X, y)):
        x0 = np.clip(start[:P], lo + 1e-12 * np.isfinite(lo), hi - 1e-12 * np.isfinite(hi))
        res = least_squares(fun, x0, bounds=(lo, hi), loss="huber" if spec.loss == "huber" else "linear",
                            f_scale=spec.huber_delta, x_scale="jac", max_nfev=2000)
        if best is None or res.cost < best.cost:
            best = res
    return best.x if spec.floor else np.concatenate([best.x, [0.0]])
