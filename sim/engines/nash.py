"""Weighted Nash and Kalai-Smorodinsky bargaining texts over veto players, vectorised over a batch.

The mediator's single negotiating text (Raiffa 1982) maximises the weighted Nash product of the veto
players' surpluses over their thresholds (Nash 1950; Kalai 1977; Binmore, Rubinstein & Wolinsky 1986),
plus a weak utilitarian term for non-veto actors and a proximal term that makes the text path dependent:

    Phi(X) = sum_{i in veto} w_i log sp_eps(U_i(X) - t_i) + xi sum_{j not in veto} w_j U_j(X)
             - rho/2 ||X - X_prev||^2,

with quadratic spatial utilities U_i(X) = -(X - x_i)' A_i (X - x_i) + l_i' X (the optional linear term
carries linearised non-quadratic parts of a caller's value function, or purely linear "pie" utilities)
and the smooth positive part sp_eps(z) = eps log(1 + exp(z / eps)), so that Phi is defined even when no
zone of agreement exists (the maximiser then moves toward the max-min point; memo §1.5 P8).

Solver: the IRLS fixed point of the memo (weights lambda_i = w_i sigma(S_i/eps) / sp_eps(S_i)) with the
Gauss-Newton curvature of the log term added, i.e. Newton's method on the concave Phi, with a projected
active set for the box (Bertsekas 1982) and a backtracking line search, compiled per batch member in
:mod:`sim.engines.compiled_newton` (run uncompiled with ``NUMBA_DISABLE_JIT=1``, it is the readable
reference). It gives the exact box-constrained optimum for non-diagonal A_i as well. This module
prepares the batch and is the engine's interface: array-in, array-out, no Mesa, no YAML.

References
----------
Nash, J. F. (1950). The bargaining problem. *Econometrica* 18, 155-162.
Kalai, E. & Smorodinsky, M. (1975). Other solutions to Nash's bargaining problem. *Econometrica* 43, 513-518.
Kalai, E. (1977). Nonsymmetric Nash solutions and replications of 2-person bargaining. *IJGT* 6, 129-133.
Raiffa, H. (1982). *The Art and Science of Negotiation*. Harvard University Press.
Bertsekas, D. P. (1982). Projected Newton methods for optimization problems with simple constraints.
*SIAM J. Control Optim.* 20, 221-246.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike, NDArray

from sim.engines import compiled_newton

Array = NDArray[np.float64]

def _compiled_solve(
    mode, x0, lo, hi, A, ideal, Ax, lin, wv, wn, thr, eps, span, veto, xp, rho, T, iters, check_last=True,
    tol=1e-8,
):
    """Run :func:`sim.engines.compiled_newton.solve_batch` on C-contiguous, writeable arrays.

    Numba compiles one specialisation per argument type, and read-only or strided views (``broadcast_to``)
    are distinct types: requiring one layout keeps it to a single compiled (and disk-cached) version.
    """

    def c(a, dtype):
        return np.require(a, dtype, ["C", "W"])

    B, K = x0.shape
    xp = np.zeros((B, K)) if xp is None else xp
    return compiled_newton.solve_batch(
        mode, c(x0, float), c(lo, float), c(hi, float), c(A, float), c(ideal, float), c(Ax, float),
        c(lin, float), c(wv, float), c(wn, float), c(thr, float), c(eps, float), c(span, float),
        c(veto, bool), c(xp, float), float(rho), float(T), int(iters), float(tol), bool(check_last),
    )  # fmt: skip


def softplus(z: ArrayLike, eps: ArrayLike = 0.01) -> Array:
    """Smooth positive part sp_eps(z) = eps * log(1 + exp(z / eps)) (memo §1.1)."""
    eps = np.asarray(eps, dtype=float)
    return eps * np.logaddexp(0.0, np.asarray(z, dtype=float) / eps)


def quadratic_utility(X: ArrayLike, A: ArrayLike, ideal: ArrayLike, linear: ArrayLike | None = None) -> Array:
    """U_i(X) = -(X - x_i)' A_i (X - x_i) + l_i' X for every actor.

    Parameters
    ----------
    X : array_like, shape (..., K)
    A : array_like, shape (..., n, K, K)
    ideal : array_like, shape (..., n, K)
    linear : array_like, shape (..., n, K), optional

    Returns
    -------
    ndarray, shape (..., n)
    """
    X = np.asarray(X, dtype=float)
    d = X[..., None, :] - np.asarray(ideal, dtype=float)
    u = -np.einsum("...nk,...nkl,...nl->...n", d, np.asarray(A, dtype=float), d)
    if linear is not None:
        u = u + np.einsum("...nk,...k->...n", np.asarray(linear, dtype=float), X)
    return u


def _prepare(A, ideal, weight, threshold, veto, linear, eps, lower, upper, x_prev):
    """Broadcast the inputs and flatten the leading batch axes to one."""
    A = np.asarray(A, dtype=float)
    ideal = np.asarray(ideal, dtype=float)
    n, K = ideal.shape[-2:]
    lead = np.broadcast_shapes(A.shape[:-3], ideal.shape[:-2])
    B = int(np.prod(lead)) if lead else 1
    shp = lambda a, tail: np.broadcast_to(a, lead + tail).reshape((B,) + tail)  # noqa: E731
    A = shp(A, (n, K, K))
    ideal = shp(ideal, (n, K))
    weight = shp(np.asarray(weight, dtype=float), (n,))
    threshold = shp(np.asarray(threshold, dtype=float), (n,))
    veto = shp(np.ones(n, dtype=bool) if veto is None else np.asarray(veto, dtype=bool), (n,))
    lin = shp(np.zeros((n, K)) if linear is None else np.asarray(linear, dtype=float), (n, K))
    eps = shp(np.asarray(eps, dtype=float), (n,))
    lo = shp(np.asarray(lower, dtype=float), (K,))
    hi = shp(np.asarray(upper, dtype=float), (K,))
    xp = None if x_prev is None else shp(np.asarray(x_prev, dtype=float), (K,))
    return lead, A, ideal, weight, threshold, veto, lin, eps, lo, hi, xp, K


def _start(x0, xp, weight, ideal, lead, K):
    if x0 is not None:
        return np.broadcast_to(np.asarray(x0, dtype=float), lead + (K,)).reshape(-1, K).copy()
    if xp is not None:
        return xp.copy()
    return (weight[:, None, :] @ ideal)[:, 0, :] / np.sum(weight, -1)[:, None]


def nash_solution(
    A: ArrayLike,
    ideal: ArrayLike,
    weight: ArrayLike,
    threshold: ArrayLike,
    *,
    veto: ArrayLike | None = None,
    nonveto_weight: float = 0.0,
    x_prev: ArrayLike | None = None,
    prox: float = 0.0,
    eps: ArrayLike = 0.01,
    lower: ArrayLike = 0.0,
    upper: ArrayLike = 1.0,
    iters: int = 50,
    linear: ArrayLike | None = None,
    x0: ArrayLike | None = None,
    check_last: bool = True,
) -> Array:
    """Weighted Nash bargaining text over veto players (memo §1.5 P8), vectorised over leading axes.

    Parameters
    ----------
    A : array_like, shape (..., n, K, K)
        Positive semi-definite utility matrices A_i (salience on the diagonal, linkage off it).
    ideal : array_like, shape (..., n, K)
        Ideal points x_i.
    weight : array_like, shape (..., n)
        Bargaining weights w_i (text weights; capability in the compromise limit).
    threshold : array_like, shape (..., n)
        Disagreement values t_i (outside option plus acceptance threshold) in each actor's utility units.
    veto : array_like of bool, shape (n,) or (..., n), optional
        Which actors' surpluses enter the Nash product (default: all).
    nonveto_weight : float
        xi: weight of the utilitarian term for non-veto actors.
    x_prev : array_like, shape (..., K), optional
        Previous text for the proximal term (default: no proximal term).
    prox : float
        rho: proximal weight.
    eps : array_like, shape () or (..., n)
        Smoothing of the positive part, in each actor's own utility units.
    lower, upper : array_like
        Box bounds (default the unit cube).
    iters : int
        Maximum Newton iterations.
    linear : array_like, shape (..., n, K), optional
        Linear utility terms l_i.
    x0 : array_like, shape (..., K), optional
        Start (default ``x_prev`` or the weighted mean of ideal points).
    check_last : bool
        If false, the last Newton step is taken in full without evaluating Phi there: for a caller that
        line-searches the result on its own, truer objective (the mediator's SQP).

    Returns
    -------
    ndarray, shape (..., K)
        The maximiser of Phi on the box.
    """
    lead, A, ideal, weight, threshold, veto, lin, eps, lo, hi, xp, K = _prepare(
        A, ideal, weight, threshold, veto, linear, eps, lower, upper, x_prev
    )
    A = np.ascontiguousarray(A)  # the stacked (n K, K) view of each member's matrices needs contiguity
    Ax = (A @ ideal[..., None])[..., 0]
    wv = np.where(veto, weight, 0.0)
    wn = np.where(veto, 0.0, weight) * float(nonveto_weight)
    rho = float(prox) if xp is not None else 0.0
    start = _start(x0, xp, weight, ideal, lead, K)
    X = _compiled_solve(
        compiled_newton.NASH, start, lo, hi, A, ideal, Ax, lin, wv, wn, threshold, eps, eps, veto, xp, rho,
        1.0, iters, check_last,
    )  # fmt: skip
    return X.reshape(lead + (K,))


def utopia(A: Array, ideal: Array, lin: Array, lo: Array, hi: Array) -> Array:
    """Each actor's best utility on the box, max_X U_i(X), for a flat batch: (B, n).

    A concave quadratic program per actor, solved with the same projected Newton method; the value is
    U_i at the maximiser (:func:`quadratic_utility`).
    """
    B, n, K = ideal.shape
    Af, xf, lf = A.reshape(B * n, K, K), ideal.reshape(B * n, K), lin.reshape(B * n, K)
    lo_f, hi_f = np.repeat(lo, n, axis=0), np.repeat(hi, n, axis=0)
    one, zero = np.ones((B * n, 1)), np.zeros((B * n, 1))
    X = _compiled_solve(  # each actor's program: a Nash objective with one non-veto actor of weight 1
        compiled_newton.NASH, np.clip(xf, lo_f, hi_f), lo_f, hi_f, Af[:, None], xf[:, None],
        (Af @ xf[..., None])[:, None, :, 0], lf[:, None], zero, one, zero, one, one,
        np.zeros((B * n, 1), bool), None, 0.0, 1.0, 30,
    )  # fmt: skip
    return quadratic_utility(X, Af[:, None], xf[:, None], lf[:, None])[:, 0].reshape(B, n)


def kalai_smorodinsky(
    A: ArrayLike,
    ideal: ArrayLike,
    weight: ArrayLike,
    threshold: ArrayLike,
    *,
    veto: ArrayLike | None = None,
    nonveto_weight: float = 0.0,
    x_prev: ArrayLike | None = None,
    prox: float = 0.0,
    eps: ArrayLike = 0.01,
    lower: ArrayLike = 0.0,
    upper: ArrayLike = 1.0,
    iters: int = 50,
    linear: ArrayLike | None = None,
    x0: ArrayLike | None = None,
    temperature: float = 0.01,
    tol: float = 1e-8,
) -> Array:
    """Kalai-Smorodinsky text: equalise the veto players' shares of their maximal gains (memo §4.3).

    Maximises the smooth minimum -T log sum_i exp(-r_i / T) of the normalised surpluses
    r_i = (U_i(X) - t_i) / (U_i^max - t_i) over the veto players, where U_i^max is i's utopia value, its
    best utility on the box (Kalai & Smorodinsky 1975). Same arguments as :func:`nash_solution`
    (``weight`` enters only through the non-veto utilitarian term and the start point); ``tol`` is the
    Newton step that counts as converged.

    Returns
    -------
    ndarray, shape (..., K)
    """
    lead, A, ideal, weight, threshold, veto, lin, eps, lo, hi, xp, K = _prepare(
        A, ideal, weight, threshold, veto, linear, eps, lower, upper, x_prev
    )
    A = np.ascontiguousarray(A)  # the stacked (n K, K) view of each member's matrices needs contiguity
    Ax = (A @ ideal[..., None])[..., 0]
    Umax = utopia(A, ideal, lin, lo, hi)
    span = np.maximum(Umax - threshold, np.maximum(eps, 1e-9))
    wn = np.where(veto, 0.0, weight) * float(nonveto_weight)
    rho = float(prox) if xp is not None else 0.0
    start = _start(x0, xp, weight, ideal, lead, K)
    X = _compiled_solve(
        compiled_newton.KS, start, lo, hi, A, ideal, Ax, lin, np.zeros_like(wn), wn, threshold, eps, span,
        veto, xp, rho, float(temperature), iters, tol=tol,
    )  # fmt: skip
    return X.reshape(lead + (K,))


def zeuthen_concession(
    u_a: Callable[[Array], Array],
    u_b: Callable[[Array], Array],
    w: tuple[float, float],
    x_a: float = 1.0,
    x_b: float = 0.0,
    step: float = 1e-4,
    max_rounds: int = 100_000,
) -> float:
    """Zeuthen-Harsanyi concession on a one-dimensional bargaining segment (memo §3, T10).

    A proposes ``x_a``, B proposes ``x_b``. Each round the player with the smaller risk limit
    r_i = (u_i(own) - u_i(other's)) / (u_i(own) - w_i) concedes just enough to reverse the inequality
    (Zeuthen 1930). By Harsanyi (1956) r_A < r_B exactly when the Nash product (u_A - w_A)(u_B - w_B) is
    smaller at A's proposal than at B's, so the conceder moves to the point nearest its own proposal whose
    Nash product exceeds the other's by the factor (1 + step); the proposals converge to the Nash solution.

    Parameters
    ----------
    u_a, u_b : callable
        Utilities of A and B on the segment (vectorised over arrays of points).
    w : (float, float)
        Disagreement values.
    x_a, x_b : float
        Opening proposals, inside the bargaining range (each side's best point the other still prefers
        to disagreement).
    step : float
        Relative size of the reversing concession.
    max_rounds : int
        Safety bound.

    Returns
    -------
    float
        The agreed point (where the proposals meet).
    """

    def nash(x: Array) -> Array:
        x = np.asarray(x, dtype=float)
        return np.maximum(u_a(x) - w[0], 0.0) * np.maximum(u_b(x) - w[1], 0.0)

    def risk(own: float, other: float, u: Callable, wi: float) -> float:
        gain = float(u(np.asarray(own)) - wi)
        return 1.0 if gain <= 0 else float(u(np.asarray(own)) - u(np.asarray(other))) / gain

    for _ in range(max_rounds):
        if abs(x_a - x_b) < 1e-9:
            break
        r_a, r_b = risk(x_a, x_b, u_a, w[0]), risk(x_b, x_a, u_b, w[1])
        a_concedes = r_a <= r_b
        own, other = (x_a, x_b) if a_concedes else (x_b, x_a)
        target = max(float(nash(other)), 1e-12) * (1.0 + step)
        grid = np.linspace(own, other, 2001)  # the point nearest one's own proposal that beats the other
        ok = nash(grid) >= target
        new = float(grid[np.argmax(ok)]) if ok.any() else other
        if a_concedes:
            x_a = new
        else:
            x_b = new
    return 0.5 * (x_a + x_b)


def rotating_proposer_shares(delta: ArrayLike, tol: float = 1e-14, max_iter: int = 100_000) -> Array:
    """Stationary subgame-perfect shares of unanimity bargaining with a rotating proposer (memo §3, T8).

    n players split a unit pie; proposers rotate in index order; every responder must agree (Krishna &
    Serrano 1996; Rubinstein 1982 for n = 2). In the stationary equilibrium the proposer p offers each
    responder j exactly delta_j times j's share when the next player proposes, and keeps the rest:
    v_j(p) = delta_j v_j(p + 1) for j != p, v_p(p) = 1 - sum_{j != p} v_j(p). The fixed point is found by
    iteration (a contraction for delta < 1).

    Parameters
    ----------
    delta : array_like, shape (n,)
        Per-round discount factors.

    Returns
    -------
    ndarray, shape (n, n)
        ``v[p, j]``: player j's share when p proposes (rows sum to 1). With a common delta and n = 3 the
        proposer gets 1 / (1 + delta + delta^2) and the next two delta and delta^2 times that.
    """
    d = np.asarray(delta, dtype=float)
    n = d.size
    v = np.full((n, n), 1.0 / n)
    eye = np.eye(n, dtype=bool)
    for _ in range(max_iter):
        nxt = np.roll(v, -1, axis=0)  # row p holds the shares when p + 1 proposes
        offer = np.where(eye, 0.0, d[None, :] * nxt)
        new = np.where(eye, 1.0 - offer.sum(axis=1, keepdims=True), offer)
        if np.max(np.abs(new - v)) < tol:
            return new
        v = new
    return v
