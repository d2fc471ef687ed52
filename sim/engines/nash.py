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
Gauss-Newton curvature of the log term added, i.e. Newton's method on the concave Phi, solved with
``np.linalg.solve`` on stacked K x K systems, with a projected active set for the box (Bertsekas 1982),
and a vectorised backtracking line search (damping). It gives the exact box-constrained optimum for
non-diagonal A_i as well. Pure array-in, array-out: no Mesa, no YAML.

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
from scipy.special import expit

Array = NDArray[np.float64]


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


def _log_sp_derivs(S: Array, eps: Array) -> tuple[Array, Array, Array]:
    """log sp_eps(S) and its first and second derivatives, numerically stable for large |S|/eps."""
    z = S / eps
    lae = np.logaddexp(0.0, z)  # log(1 + e^z) > 0
    g = np.log(eps) + np.log(lae)
    sig = expit(z)
    g1 = sig / (eps * lae)
    g2 = sig * (1.0 - sig) / (eps * eps * lae) - g1 * g1
    far = z < -30.0  # sp ~ eps e^z: log sp = log eps + z, g' = 1/eps, g'' = 0
    g = np.where(far, np.log(eps) + z, g)
    g1 = np.where(far, 1.0 / eps, g1)
    g2 = np.where(far, 0.0, g2)
    return g, g1, np.minimum(g2, 0.0)


Objective = Callable[[Array], tuple[Array, Array, Array]]


def projected_newton(
    objective: Objective, x0: Array, lower: Array, upper: Array, iters: int = 50, tol: float = 1e-10
) -> Array:
    """Maximise a concave objective over a box by projected Newton with a vectorised line search.

    Parameters
    ----------
    objective : callable
        ``objective(X) -> (phi, grad, negH)`` with shapes (...,), (..., K), (..., K, K); ``negH`` must be
        positive semi-definite (minus the Hessian or a Gauss-Newton approximation of it).
    x0 : ndarray, shape (..., K)
        Start (projected onto the box first).
    lower, upper : ndarray, broadcastable to (..., K)
    iters : int
        Maximum Newton iterations.
    tol : float
        Stop when no coordinate of any batch member moves by more than this.

    Returns
    -------
    ndarray, shape (..., K)
    """
    X = np.clip(np.array(x0, dtype=float), lower, upper)
    K = X.shape[-1]
    eye = np.eye(K)
    steps = np.array([1.0, 0.5, 0.25, 0.1, 0.03, 0.01, 0.001])
    for _ in range(iters):
        phi, grad, negH = objective(X)
        at_lo = (X <= lower + 1e-12) & (grad < 0)
        at_hi = (X >= upper - 1e-12) & (grad > 0)
        free = ~(at_lo | at_hi)
        fm = free[..., :, None] & free[..., None, :]
        scale = np.maximum(np.abs(np.diagonal(negH, axis1=-2, axis2=-1)).max(axis=-1), 1e-300)
        M = np.where(fm, negH, 0.0) + eye * np.where(free, 1e-12 * scale[..., None], 1.0)[..., None, :]
        g = np.where(free, grad, 0.0)
        delta = np.linalg.solve(M, g[..., None])[..., 0]
        best_x, best_phi = X, phi
        for eta in steps:
            xc = np.clip(X + eta * delta, lower, upper)
            pc = objective(xc)[0]
            better = pc > best_phi
            best_x = np.where(better[..., None], xc, best_x)
            best_phi = np.where(better, pc, best_phi)
        # a projected-gradient step for members the Newton direction could not improve (rare, near kinks)
        stuck = best_phi <= phi
        if np.any(stuck):
            gstep = grad / np.maximum(np.linalg.norm(grad, axis=-1, keepdims=True) * 10.0, 1e-300)
            for eta in steps:
                xc = np.clip(X + eta * gstep, lower, upper)
                pc = objective(xc)[0]
                better = stuck & (pc > best_phi)
                best_x = np.where(better[..., None], xc, best_x)
                best_phi = np.where(better, pc, best_phi)
        moved = np.max(np.abs(best_x - X)) if best_x.size else 0.0
        X = best_x
        if moved < tol:
            break
    return X


def _prepare(A, ideal, weight, threshold, veto, linear, eps):
    A = np.asarray(A, dtype=float)
    ideal = np.asarray(ideal, dtype=float)
    n, K = ideal.shape[-2:]
    weight = np.broadcast_to(np.asarray(weight, dtype=float), ideal.shape[:-1])
    threshold = np.broadcast_to(np.asarray(threshold, dtype=float), ideal.shape[:-1])
    veto = np.ones(n, dtype=bool) if veto is None else np.asarray(veto, dtype=bool)
    veto = np.broadcast_to(veto, ideal.shape[:-1])
    lin = np.zeros_like(ideal) if linear is None else np.broadcast_to(np.asarray(linear, dtype=float), ideal.shape)
    eps = np.broadcast_to(np.asarray(eps, dtype=float), ideal.shape[:-1])
    return A, ideal, weight, threshold, veto, lin, eps, K


def _utility_grad(X, A, ideal, lin):
    d = X[..., None, :] - ideal
    Ad = np.einsum("...nkl,...nl->...nk", A, d)
    U = -np.einsum("...nk,...nk->...n", d, Ad) + np.einsum("...nk,...k->...n", lin, X)
    dU = -2.0 * Ad + lin
    return U, dU


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

    Returns
    -------
    ndarray, shape (..., K)
        The maximiser of Phi on the box.
    """
    A, ideal, weight, threshold, veto, lin, eps, K = _prepare(A, ideal, weight, threshold, veto, linear, eps)
    wv = np.where(veto, weight, 0.0)
    wn = np.where(veto, 0.0, weight) * float(nonveto_weight)
    xp = None if x_prev is None else np.asarray(x_prev, dtype=float)
    rho = float(prox) if xp is not None else 0.0
    eye = np.eye(K)

    def objective(X: Array) -> tuple[Array, Array, Array]:
        U, dU = _utility_grad(X, A, ideal, lin)
        g, g1, g2 = _log_sp_derivs(U - threshold, eps)
        phi = np.sum(wv * g, axis=-1) + np.sum(wn * U, axis=-1)
        lam = wv * g1 + wn
        grad = np.einsum("...n,...nk->...k", lam, dU)
        negH = 2.0 * np.einsum("...n,...nkl->...kl", lam, A) - np.einsum("...n,...nk,...nl->...kl", wv * g2, dU, dU)
        if rho > 0:
            dx = X - xp
            phi = phi - 0.5 * rho * np.sum(dx * dx, axis=-1)
            grad = grad - rho * dx
            negH = negH + rho * eye
        return phi, grad, negH

    if x0 is None:
        x0 = xp if xp is not None else np.einsum("...n,...nk->...k", weight, ideal) / np.sum(weight, -1)[..., None]
    lo = np.broadcast_to(np.asarray(lower, dtype=float), ideal.shape[:-2] + (K,))
    hi = np.broadcast_to(np.asarray(upper, dtype=float), ideal.shape[:-2] + (K,))
    return projected_newton(objective, np.asarray(x0, dtype=float), lo, hi, iters=iters)


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
) -> Array:
    """Kalai-Smorodinsky text: equalise the veto players' shares of their maximal gains (memo §4.3).

    Maximises the smooth minimum -T log sum_i exp(-r_i / T) of the normalised surpluses
    r_i = (U_i(X) - t_i) / (U_i^max - t_i) over the veto players, where U_i^max is i's utopia value on the
    box (its utility at its own ideal point, clipped to the box). Same arguments as :func:`nash_solution`
    (``weight`` enters only through the non-veto utilitarian term and the start point).

    Returns
    -------
    ndarray, shape (..., K)
    """
    A, ideal, weight, threshold, veto, lin, eps, K = _prepare(A, ideal, weight, threshold, veto, linear, eps)
    lo = np.broadcast_to(np.asarray(lower, dtype=float), ideal.shape[:-2] + (K,))
    hi = np.broadcast_to(np.asarray(upper, dtype=float), ideal.shape[:-2] + (K,))
    utop_x = np.clip(ideal, lo[..., None, :], hi[..., None, :])
    # utopia: each actor's utility at its own (box-clipped) ideal point
    d0 = utop_x - ideal
    Umax = -np.einsum("...nk,...nkl,...nl->...n", d0, A, d0) + np.einsum("...nk,...nk->...n", lin, utop_x)
    span = np.maximum(Umax - threshold, np.maximum(eps, 1e-9))
    wn = np.where(veto, 0.0, weight) * float(nonveto_weight)
    xp = None if x_prev is None else np.asarray(x_prev, dtype=float)
    rho = float(prox) if xp is not None else 0.0
    T = float(temperature)
    eye = np.eye(K)

    def objective(X: Array) -> tuple[Array, Array, Array]:
        U, dU = _utility_grad(X, A, ideal, lin)
        r = np.where(veto, (U - threshold) / span, np.inf)
        rmin = np.min(r, axis=-1, keepdims=True)
        e = np.where(veto, np.exp(-(r - rmin) / T), 0.0)
        Z = e.sum(-1, keepdims=True)
        p = e / Z
        phi = rmin[..., 0] - T * np.log(Z[..., 0]) + np.sum(wn * U, -1)
        a = dU / span[..., None]
        pa = np.einsum("...n,...nk->...k", p, a)
        grad = pa + np.einsum("...n,...nk->...k", wn, dU)
        curv = 2.0 * np.einsum("...n,...nkl->...kl", p / span + wn, A)
        cov = np.einsum("...n,...nk,...nl->...kl", p, a, a) - pa[..., :, None] * pa[..., None, :]
        negH = curv + cov / T
        if rho > 0:
            dx = X - xp
            phi = phi - 0.5 * rho * np.sum(dx * dx, axis=-1)
            grad = grad - rho * dx
            negH = negH + rho * eye
        return phi, grad, negH

    if x0 is None:
        x0 = xp if xp is not None else np.einsum("...n,...nk->...k", weight, ideal) / np.sum(weight, -1)[..., None]
    return projected_newton(objective, np.asarray(x0, dtype=float), lo, hi, iters=iters)
