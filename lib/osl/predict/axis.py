"""The equivalent-compute axis and crossings, batched over parameter draws.

The figures' x-axis converts a link's linear score ``w . x`` into the log10 FLOPs a model of the
reference family would need for the same score, by a line fitted within that family; for the
log-FLOPs predictor the axis is compute itself.
"""
from __future__ import annotations

import numpy as np
from .._special import expit, logit


# --------------------------------------------------------------------------------------------
def equivalent_axis(ref_features: np.ndarray, params: np.ndarray, ref_log_flops) -> np.ndarray:
    """(B, 2) maps ``log10 FLOPs = a + slope * (w . x)`` fitted within the reference family.

    ``ref_features`` (B, r, k) are the reference models' features under each draw's state.
    """
    s = np.einsum("bmk,bk->bm", ref_features, params[:, 1:-1])
    lf = np.asarray(ref_log_flops, float)
    sm = s.mean(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        slope = np.sum((s - sm) * (lf - lf.mean()), axis=1) / np.sum((s - sm) ** 2, axis=1)
    return np.column_stack([lf.mean() - slope * sm[:, 0], slope])


def curve_draws(params: np.ndarray, axis: np.ndarray, log_flops: np.ndarray,
                kind: str) -> np.ndarray:
    """(B, G) unit-scale curve values along the equivalent-compute axis."""
    if kind == "compute":
        s = params[:, 1:2] * log_flops[None]
    else:
        s = (log_flops[None] - axis[:, :1]) / axis[:, 1:2]
    return (1 - params[:, -1:]) * expit(params[:, :1] + s) + params[:, -1:]


def crossings(params: np.ndarray, unit_threshold: float | None, axis: np.ndarray,
              kind: str) -> np.ndarray:
    """Equivalent log10 FLOPs where each draw's curve crosses the threshold (B,)."""
    c, b = params[:, 0], params[:, -1]
    if unit_threshold is None:
        target_logit = np.zeros_like(c)  # halfway between floor and ceiling
    else:
        frac = (unit_threshold - b) / (1 - b)
        with np.errstate(invalid="ignore", divide="ignore"):
            target_logit = np.where((frac > 0) & (frac < 1),
                                    logit(np.clip(frac, 1e-12, 1 - 1e-12)), np.nan)
    s = target_logit - c
    if kind == "compute":
        with np.errstate(invalid="ignore", divide="ignore"):
            return s / params[:, 1]
    return axis[:, 0] + axis[:, 1] * s
