"""The link function ``y = (1 - b) * sigmoid(c + w . x) + b`` and its batched solver.

:func:`fit_link_batch` runs Levenberg-Marquardt on a stack of problems at once (the bootstrap's
and the backtest's workhorse); :func:`fit_link_multistart` keeps the best of several starts per
problem; :func:`fit_link` fits one data set. Parameters are ``[c, w..., b]``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from .._special import expit, logit

from .. import presets, validate
from ..errors import ArgumentError


@dataclass(frozen=True)
class LinkSpec:
    """How the sigmoid link is fitted.

    ``floor``: fit the floor ``b`` in ``[0, max_floor]`` (else a plain sigmoid, ``b = 0``);
    ``loss``: ``"squared"`` (least squares) or ``"huber"`` with threshold ``huber_delta``.
    """

    floor: bool = True
    max_floor: float = presets.MAX_FLOOR
    loss: str = "squared"
    huber_delta: float = 1.0

    def __post_init__(self):
        if not isinstance(self.floor, (bool, np.bool_)):
            raise ArgumentError(f"floor must be True or False, got {self.floor!r}.")
        validate.choice("loss", self.loss, ("squared", "huber"))
        validate.real("max_floor", self.max_floor, low=0.0, high=1.0, high_open=True)
        validate.real("huber_delta", self.huber_delta, low=0.0, low_open=True)


def link(params: np.ndarray, X: np.ndarray) -> np.ndarray:
    """``(1 - b) * sigmoid(c + X @ w) + b`` for params ``[c, w..., b]``; batched over leading axes.

    ``params`` (..., k + 2) and ``X`` (..., n, k) give (..., n).
    """
    c, w, b = params[..., :1], params[..., 1:-1], params[..., -1:]
    z = c + np.einsum("...nk,...k->...n", X, w)
    return (1 - b) * expit(z) + b


def _sigmoid_at(theta, X):
    """sigmoid(c + X w) for parameters (B, P) and X (B, n, k): (B, n)."""
    return expit(theta[:, :1] + (X @ theta[:, 1:-1, None])[..., 0])


def _gradient_hessian(th, s, R, X, floor: bool, w, W, planes: bool):
    """Gradient (B, P) and Gauss-Newton matrix (B, P, P) of the loss at parameters ``th`` with
    sigmoid values ``s`` and (weighted) residuals ``R`` (B, n).

    With ``planes``, the Jacobian is built column by column in a parameter-major (P, B, n)
    layout from ``X`` given as (k, B, n): filling and multiplying whole planes is several times
    cheaper than the (B, n, P) layout, whose last axis is short, for large stacks. Otherwise
    ``X`` is (B, n, k) and batched matrix products on the (B, n, P) layout serve small stacks.
    ``w``: 0/1 row weights (padding) or None; ``W``: Huber weights or None.
    """
    k = X.shape[0] if planes else X.shape[-1]
    P = k + 2 if floor else k + 1
    ds = (1 - th[:, -1:]) * s * (1 - s)
    if w is not None:
        ds = ds * w
    if not planes:
        J = np.empty(s.shape + (P,))
        J[..., 0] = ds
        J[..., 1:k + 1] = ds[..., None] * X
        if floor:
            J[..., -1] = 1 - s if w is None else (1 - s) * w
        Jt = np.swapaxes(J, 1, 2)
        JtW = Jt if W is None else Jt * W[:, None, :]
        return (JtW @ R[..., None])[..., 0], JtW @ J
    J = np.empty((P,) + s.shape)
    J[0] = ds
    np.multiply(ds, X, out=J[1:k + 1])
    if floor:
        np.subtract(1, s, out=J[-1])
        if w is not None:
            J[-1] *= w
    JW = J if W is None else J * W
    g = np.einsum("pbn,bn->bp", JW, R)
    H = np.empty((s.shape[0], P, P))
    for a in range(P):
        for c in range(a, P):
            H[:, a, c] = np.einsum("bn,bn->b", JW[a], J[c])
            H[:, c, a] = H[:, a, c]
    return g, H


def _solve_spd(A, b):
    """Solve the (B, P, P) symmetric positive-definite systems ``A x = b`` (b (B, P)) by a
    Cholesky factorisation vectorised over the batch (cheaper than LAPACK's per-matrix calls
    for tiny P); systems whose factorisation breaks down fall back to ``np.linalg.solve``."""
    B, P = b.shape
    L = np.zeros_like(A)
    bad = np.zeros(B, bool)
    for j in range(P):
        d = A[:, j, j] - np.einsum("bk,bk->b", L[:, j, :j], L[:, j, :j])
        bad |= ~(d > 0)
        L[:, j, j] = np.sqrt(np.where(d > 0, d, 1.0))
        if j + 1 < P:
            L[:, j + 1:, j] = (A[:, j + 1:, j] - np.einsum("bik,bk->bi", L[:, j + 1:, :j],
                                                            L[:, j, :j])) / L[:, j, j, None]
    z = np.empty_like(b)
    for j in range(P):
        z[:, j] = (b[:, j] - np.einsum("bk,bk->b", L[:, j, :j], z[:, :j])) / L[:, j, j]
    x = np.empty_like(b)
    for j in reversed(range(P)):
        x[:, j] = (z[:, j] - np.einsum("bk,bk->b", L[:, j + 1:, j], x[:, j + 1:])) / L[:, j, j]
    if bad.any():
        x[bad] = np.linalg.solve(A[bad], b[bad][..., None])[..., 0]
    return x


def _solve(A, b, planes: bool):
    """The damped Gauss-Newton systems: the vectorised Cholesky with the ``planes`` layout,
    LAPACK otherwise."""
    return _solve_spd(A, b) if planes else np.linalg.solve(A, b[..., None])[..., 0]


def _huber_weights(r, delta):
    a = np.abs(r)
    return np.where(a <= delta, 1.0, delta / np.maximum(a, 1e-300))


def loss(r, spec: LinkSpec):
    if spec.loss == "huber":
        a = np.abs(r)
        d = spec.huber_delta
        return np.where(a <= d, 0.5 * r ** 2, d * (a - 0.5 * d)).sum(axis=-1)
    return 0.5 * (r ** 2).sum(axis=-1)


def fit_link_batch(X: np.ndarray, y: np.ndarray, spec: LinkSpec, init: np.ndarray,
                   max_iter: int = 200, tol: float = 1e-8,
                   w: np.ndarray | None = None,
                   layout: str = "auto") -> tuple[np.ndarray, np.ndarray]:
    """Levenberg-Marquardt fits of the link for a stack of problems at once.

    ``X`` (B, n, k), ``y`` (B, n), ``init`` (B, k + 2) or (k + 2,); ``w`` (B, n) of 0/1 marks
    real rows when problems of different sizes are padded to one stack. The floor is kept inside
    its box by projection; Huber losses use iteratively reweighted least squares. Returns the
    parameters (B, k + 2) and a convergence flag (B,).

    ``layout``: how each iteration's linear algebra is laid out: ``"planes"`` (parameter-major
    Jacobian, vectorised Cholesky: fast for large stacks of problems with at most four
    predictors), ``"stacked"`` (batched matrix products and LAPACK: fast for few problems) or
    ``"auto"`` (planes for stacks of 64 problems or more). The two differ only by rounding; a
    problem solved with a given layout gets the same arithmetic whatever it is stacked with,
    which is what keeps batched bootstraps identical to one-at-a-time ones.
    """
    validate.choice("layout", layout, ("auto", "planes", "stacked"))
    B, n, k = X.shape
    theta = np.broadcast_to(np.asarray(init, float), (B, k + 2)).copy()
    if spec.floor:
        theta[:, -1] = np.clip(theta[:, -1], 0.0, spec.max_floor)
    else:
        theta[:, -1] = 0.0
    P = k + 2 if spec.floor else k + 1
    S = _sigmoid_at(theta, X)  # sigmoid values at the current parameters
    R = (1 - theta[:, -1:]) * S + theta[:, -1:] - y
    if w is not None:
        R = R * w
    cur_all = loss(R, spec)
    converged = np.zeros(B, bool)
    eye = np.eye(P)
    tiny = 1e-12 * eye
    # The working set holds the problems still iterating. A problem that stops is written back
    # to theta and frozen (``alive`` false); frozen problems are dropped from the working set
    # once they are a third of it, so each iteration costs about what is still active without
    # copying the arrays every time one problem stops.
    ids = np.flatnonzero(np.isfinite(cur_all))
    th, Xa, ya, S, R = theta[ids], X[ids], y[ids], S[ids], R[ids]
    planes = k <= 4 and (layout == "planes" or (layout == "auto" and B >= 64))
    Xk = np.ascontiguousarray(np.moveaxis(Xa, 2, 0)) if planes else Xa  # as the layout needs
    wa = None if w is None else w[ids]
    cur, lam = cur_all[ids], np.full(ids.size, 1e-3)
    alive = np.ones(ids.size, bool)
    for _ in range(max_iter):
        if not alive.any():
            break
        W = _huber_weights(R, spec.huber_delta) if spec.loss == "huber" else None
        g, H = _gradient_hessian(th, S, R, Xk, spec.floor, wa, W, planes)
        if spec.floor:
            # Active set: a floor at its bound whose gradient points outward stays put, and
            # the step is solved for the free parameters only.
            b_now = th[:, -1]
            pinned = ((b_now <= 0) & (g[:, -1] > 0)) | ((b_now >= spec.max_floor) & (g[:, -1] < 0))
            if pinned.any():
                H[pinned, -1, :] = 0.0
                H[pinned, :, -1] = 0.0
                H[pinned, -1, -1] = 1.0
                g[pinned, -1] = 0.0
        diag = np.einsum("bpp->bp", H)
        Hd = H + (lam[:, None] * np.maximum(diag, 1e-9))[..., None] * eye + tiny
        step = -_solve(Hd, g, planes)
        new = th.copy()
        new[:, :P] += step
        if spec.floor:
            new[:, -1] = np.clip(new[:, -1], 0.0, spec.max_floor)
        s_new = _sigmoid_at(new, Xa)
        r_new = (1 - new[:, -1:]) * s_new + new[:, -1:] - ya
        if wa is not None:
            r_new *= wa
        loss_new = loss(r_new, spec)
        ok = alive & np.isfinite(loss_new) & (loss_new <= cur)
        if ok.all():
            S, R = s_new, r_new
        else:
            S[ok] = s_new[ok]
            R[ok] = r_new[ok]
        gain = np.where(ok, cur - loss_new, 0.0)
        moved = np.abs(new - th).max(axis=1)
        small_step = ok & (moved < 1e-8 * (1 + np.abs(th).max(axis=1)))
        th = np.where(ok[:, None], new, th)
        cur = np.where(ok, loss_new, cur)
        lam = np.where(ok, np.maximum(lam / 3, 1e-12), np.minimum(lam * 4, 1e12))
        done = (ok & (gain <= tol * (1 + cur))) | small_step
        converged[ids[done]] = True
        # A fit whose every step is rejected stops, but is not called converged.
        stop = alive & (done | (lam >= 1e12))
        if stop.any():
            theta[ids[stop]] = th[stop]
            cur_all[ids[stop]] = cur[stop]
            alive &= ~stop
            if alive.sum() < 0.67 * alive.size:
                ids, th, Xa, ya, S, R, cur, lam = (a[alive] for a in (ids, th, Xa, ya, S, R,
                                                                      cur, lam))
                Xk = Xk[:, alive] if planes else Xa
                wa = None if wa is None else wa[alive]
                alive = np.ones(ids.size, bool)
    ids, th, cur = ids[alive], th[alive], cur[alive]
    theta[ids] = th
    cur_all[ids] = cur
    cur = cur_all
    return theta, converged & np.isfinite(cur)


def logit_init_batch(X: np.ndarray, y: np.ndarray, w: np.ndarray | None = None) -> np.ndarray:
    """Starting points from a linear fit of logit(y) on X (y clipped inside (0, 1)) for a
    stack (B, n, k) of problems (padding rows, ``w`` = 0, left out)."""
    B, n, k = X.shape
    A = np.concatenate([np.ones((B, n, 1)), X], axis=2)
    yy = logit(np.clip(y, 0.02, 0.98))
    if w is not None:
        A = A * w[..., None]
        yy = yy * w
    At = np.swapaxes(A, 1, 2)
    coef = np.linalg.solve(At @ A + 1e-9 * np.eye(k + 1), (At @ yy[..., None]))[..., 0]
    return np.concatenate([coef, np.zeros((B, 1))], axis=1)


def fit_link_multistart(X: np.ndarray, y: np.ndarray, spec: LinkSpec, extra_init=None,
                        max_iter: int = 1000, tol: float = 1e-12, paper_start: bool = True,
                        w: np.ndarray | None = None, layout: str = "auto"):
    """Fit a stack (B, n, k) from several starts each and keep the lowest loss per problem.

    Starts: a logit-linear fit of each problem, the paper's (c = 0, w = 0.03, b = 0) unless
    ``paper_start`` is false, and ``extra_init`` ((P,) or (B, P)) if given; ``w`` and
    ``layout`` as in :func:`fit_link_batch`. Returns parameters (B, P) and convergence (B,).
    """
    B, n, k = X.shape
    starts = [logit_init_batch(X, y, w)]
    if paper_start:
        starts.append(np.broadcast_to(np.concatenate([[0.0], np.full(k, 0.03), [0.0]]), (B, k + 2)))
    if extra_init is not None:
        starts.append(np.broadcast_to(np.asarray(extra_init, float), (B, k + 2)))
    S = len(starts)
    WW = None if w is None else np.concatenate([w] * S)
    theta, conv = fit_link_batch(np.concatenate([X] * S), np.concatenate([y] * S), spec,
                                 np.concatenate(starts), max_iter=max_iter, tol=tol, w=WW,
                                 layout=layout)
    resid = link(theta, np.concatenate([X] * S)) - np.concatenate([y] * S)
    final = loss(resid if WW is None else resid * WW, spec)
    final = np.where(np.isfinite(final) & np.all(np.isfinite(theta), axis=1), final, np.inf)
    best = np.argmin(final.reshape(S, B), axis=0)
    pick = best * B + np.arange(B)
    return theta[pick], conv[pick] & np.isfinite(final[pick])


def fit_link(X: np.ndarray, y: np.ndarray, spec: LinkSpec = LinkSpec()) -> np.ndarray:
    """Fit the link to one data set; returns ``[c, w..., b]``.

    Two starts run side by side through the Levenberg-Marquardt solver: the paper's
    (c = 0, w = 0.03, b = 0) and a logit-linear fit; the one with the lower loss wins. The tests
    check the result against scipy's ``least_squares`` and ``curve_fit``.
    """
    theta, _ = fit_link_multistart(X[None], np.asarray(y, float)[None], spec, max_iter=400,
                                   tol=1e-9)
    return theta[0]



def fit_link_padded(problems: list[tuple[np.ndarray, np.ndarray, np.ndarray | None]],
                    spec: LinkSpec, **kwargs) -> list[tuple[np.ndarray, np.ndarray]]:
    """:func:`fit_link_multistart` for stacks of different sizes in one batched solve.

    ``problems``: ``(X (B_i, n_i, k), y (B_i, n_i), extra_init (B_i, P) or None)`` with the
    same ``k``; each stack is padded to the largest ``n`` with zero-weight rows. Returns
    ``(params, converged)`` per problem. One solve instead of many: the solver's cost per
    iteration is mostly fixed, so this is what makes many small bootstraps cheap.
    """
    if len(problems) == 1 or len({X.shape[1] for X, _, _ in problems}) == 1:
        X = np.concatenate([p[0] for p in problems])
        y = np.concatenate([p[1] for p in problems])
        w = None
    else:
        n = max(X.shape[1] for X, _, _ in problems)
        X = np.concatenate([np.pad(p[0], ((0, 0), (0, n - p[0].shape[1]), (0, 0)))
                            for p in problems])
        y = np.concatenate([np.pad(p[1], ((0, 0), (0, n - p[1].shape[1])),
                                   constant_values=0.5) for p in problems])
        w = np.concatenate([np.pad(np.ones(p[1].shape), ((0, 0), (0, n - p[1].shape[1])))
                            for p in problems])
    inits = [p[2] for p in problems]
    if len({i is None for i in inits}) > 1:
        raise ValueError("fit_link_padded: give an extra start for every problem or for none.")
    extra = None if all(i is None for i in inits) else np.concatenate(inits)
    theta, conv = fit_link_multistart(X, y, spec, extra_init=extra, w=w, **kwargs)
    out, start = [], 0
    for Xp, _, _ in problems:
        B = Xp.shape[0]
        out.append((theta[start:start + B], conv[start:start + B]))
        start += B
    return out
