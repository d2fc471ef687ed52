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

import os
from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import expit

Array = NDArray[np.float64]

try:  # the compiled solver (Numba); without it, or with NEGSIM_NUMPY=1, the numpy reference runs
    from sim.engines import compiled_newton as _compiled
except ImportError:  # pragma: no cover - numba is a declared dependency
    _compiled = None


def use_compiled() -> bool:
    """Whether the texts are solved by the compiled kernel (default) rather than the numpy reference."""
    return _compiled is not None and os.environ.get("NEGSIM_NUMPY", "") not in ("1", "true", "yes")


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
    return _compiled.solve_batch(
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


def _log_sp_derivs(S: Array, eps: Array) -> tuple[Array, Array, Array]:
    """Log sp_eps(S) and its first and second derivatives, numerically stable for large |S|/eps."""
    z = S / eps
    lae = np.logaddexp(0.0, z)  # log(1 + e^z) > 0, but 0 in floating point for z < -745 (masked below)
    sig = expit(z)
    with np.errstate(divide="ignore", invalid="ignore"):
        g = np.log(eps) + np.log(lae)
        g1 = sig / (eps * lae)
        g2 = sig * (1.0 - sig) / (eps * eps * lae) - g1 * g1
    far = z < -30.0  # sp ~ eps e^z: log sp = log eps + z, g' = 1/eps, g'' = 0
    g = np.where(far, np.log(eps) + z, g)
    g1 = np.where(far, 1.0 / eps, g1)
    g2 = np.where(far, 0.0, g2)
    return g, g1, np.minimum(g2, 0.0)


Objective = Callable[..., tuple]


def projected_newton(
    objective: Objective,
    x0: Array,
    lower: Array,
    upper: Array,
    iters: int = 50,
    tol: float = 1e-8,
    check_last: bool = True,
) -> Array:
    """Maximise a concave objective over a box by projected Newton with backtracking, batch-wise.

    Parameters
    ----------
    objective : callable
        ``objective(X, idx, value_only) -> phi`` or ``(phi, grad, negH)`` for the batch members ``idx``
        (an index array into the leading axis), with shapes (B,), (B, K), (B, K, K); ``negH`` must be
        positive semi-definite (minus the Hessian or a Gauss-Newton approximation of it).
    x0 : ndarray, shape (B, K)
        Start (projected onto the box first).
    lower, upper : ndarray, shape (B, K)
    iters : int
        Maximum Newton iterations.
    tol : float
        A member stops when its step moves no coordinate by more than this.
    check_last : bool
        If false, the last of the ``iters`` steps is taken in full without evaluating the objective there:
        for a caller that line-searches the result on its own, truer objective (the mediator's SQP).

    Returns
    -------
    ndarray, shape (B, K)

    Notes
    -----
    Variables at a bound whose gradient points outward are held fixed for the step (Bertsekas 1982); the
    step is halved until the objective improves (at most 8 times), falling back to a short projected
    gradient step. Only members that have not converged are iterated, so the cost follows the hard cases.
    """
    X = np.clip(np.array(x0, dtype=float), lower, upper)
    B, K = X.shape
    diag = np.arange(K)
    idx = np.arange(B)
    cur = objective(X, idx, False) if iters > 0 else None
    for it in range(iters):
        if idx.size == 0:
            break
        x = X[idx]
        lo, hi = lower[idx], upper[idx]
        phi, grad, negH = cur
        free = ~(((x <= lo + 1e-12) & (grad < 0)) | ((x >= hi - 1e-12) & (grad > 0)))
        fm = free[:, :, None] & free[:, None, :]
        scale = np.maximum(np.abs(np.diagonal(negH, axis1=-2, axis2=-1)).max(axis=-1), 1e-300)
        M = np.where(fm, negH, 0.0)
        M[:, diag, diag] += np.where(free, 1e-12 * scale[:, None], 1.0)
        g = np.where(free, grad, 0.0)
        delta = np.linalg.solve(M, g[..., None])[..., 0]
        new = x.copy()
        full = np.clip(x + delta, lo, hi)
        todo = np.flatnonzero(np.max(np.abs(full - x), axis=-1) > tol)  # tiny Newton steps: converged
        last = it == iters - 1
        if last and not check_last:
            new[todo] = full[todo]
            X[idx] = new
            break
        # the full Newton step is evaluated with its gradient and curvature: most members accept it, and
        # then that evaluation is the next iteration's (the same numbers as evaluating again, half the cost).
        # A member kept for the next iteration was accepted either at the full step (derivatives filled in
        # below) or later ("stale": its derivatives are computed after the search).
        nphi, ngrad, nH = np.empty_like(phi), np.empty_like(grad), np.empty_like(negH)
        stale = np.zeros(idx.size, dtype=bool)
        if todo.size:  # the full step, with derivatives (except on the last iteration)
            xc = full[todo]
            res = objective(xc, idx[todo], last)
            pc = res if last else res[0]
            ok = pc > phi[todo]
            acc = todo[ok]
            new[acc] = xc[ok]
            if last:
                stale[acc] = True
            else:
                nphi[acc], ngrad[acc], nH[acc] = pc[ok], res[1][ok], res[2][ok]
            todo = todo[~ok]
        # members that refused it: the shorter steps all at once (one call instead of up to seven small
        # ones), each member taking the longest that improves -- the same choice as trying them in turn
        etas = 0.25 ** np.arange(1, 8)
        xc = np.clip(x[todo] + etas[:, None, None] * delta[todo], lo[todo], hi[todo])
        todo = _first_improving(objective, xc, todo, idx, phi, new, stale)
        if todo.size:  # projected-gradient fallback for the few members Newton could not improve
            gn = grad / np.maximum(np.linalg.norm(grad, axis=-1, keepdims=True), 1e-300)
            steps = np.array([1e-2, 1e-3, 1e-4])
            xc = np.clip(x[todo] + steps[:, None, None] * gn[todo], lo[todo], hi[todo])
            todo = _first_improving(objective, xc, todo, idx, phi, new, stale)
        moved = np.max(np.abs(new - x), axis=-1)
        X[idx] = new
        keep = moved > tol
        idx = idx[keep]
        if last or idx.size == 0:
            break
        redo = np.flatnonzero(stale[keep])
        nphi, ngrad, nH = nphi[keep], ngrad[keep], nH[keep]
        if redo.size:
            rp, rg, rh = objective(X[idx[redo]], idx[redo], False)
            nphi[redo], ngrad[redo], nH[redo] = rp, rg, rh
        cur = (nphi, ngrad, nH)
    return X


def _first_improving(objective, xc, todo, idx, phi, new, stale):
    """Evaluate candidate points ``xc`` (S, M, K) of the members ``todo`` (M,) in one objective call.

    Each member takes its first candidate (in order along S) that raises the objective above ``phi``;
    ``new`` and ``stale`` are updated in place. Returns the members no candidate improved.
    """
    S, M = xc.shape[:2]
    if M == 0:
        return todo
    pc = objective(xc.reshape(S * M, -1), np.tile(idx[todo], S), True).reshape(S, M)
    ok = pc > phi[todo]
    any_ok = ok.any(axis=0)
    first = np.argmax(ok, axis=0)
    acc = np.flatnonzero(any_ok)
    new[todo[acc]] = xc[first[acc], acc]
    stale[todo[acc]] = True
    return todo[~any_ok]


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


def _taker(idx: Array, B: int):
    """Index the batch axis by ``idx``, without a copy when ``idx`` is the whole batch in order."""
    if idx.size == B and (B == 0 or (idx[0] == 0 and bool(np.all(np.diff(idx) == 1)))):
        return lambda a: a
    return lambda a: a[idx]


def _utility_grad(X, A, ideal, lin, Ax):
    """U_i and dU_i/dX for a flat batch: X (B, K), A (B, n, K, K), ideal, lin and Ax = A_i x_i (B, n, K).

    A_i (X - x_i) is computed as A_i X - A_i x_i with the actors' matrices stacked into one (n K, K) matrix
    per member: one matrix-vector product per member instead of n small ones (2-3 times faster in numpy).
    """
    B, n, K = ideal.shape
    Ad = (A.reshape(B, n * K, K) @ X[:, :, None]).reshape(B, n, K) - Ax
    d = X[:, None, :] - ideal
    U = np.einsum("bnk,bk->bn", lin, X) - np.einsum("bnk,bnk->bn", d, Ad)  # einsum: no (B, n, K) temporary
    return U, -2.0 * Ad + lin


def _weighted_A(w, A):
    """sum_i w_i A_i for a flat batch: w (B, n), A (B, n, K, K) -> (B, K, K)."""
    B, n, K, _ = A.shape
    return (w[:, None, :] @ A.reshape(B, n, K * K)).reshape(B, K, K)


def _outer(w, G):
    """sum_i w_i g_i g_i' for a flat batch: w (B, n), G (B, n, K) -> (B, K, K)."""
    return np.swapaxes(G * w[..., None], -1, -2) @ G


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
        See :func:`projected_newton` (false: the last Newton step is not checked here).

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
    eye = np.eye(K)

    def objective(X: Array, idx: Array, value_only: bool):
        t = _taker(idx, A.shape[0])
        Ai, li = t(A), t(lin)
        U, dU = _utility_grad(X, Ai, t(ideal), li, t(Ax))
        g, g1, g2 = _log_sp_derivs(U - t(threshold), t(eps))
        wvi, wni = t(wv), t(wn)
        phi = np.einsum("bn,bn->b", wvi, g) + np.einsum("bn,bn->b", wni, U)
        if rho > 0:
            dx = X - t(xp)
            phi = phi - 0.5 * rho * np.einsum("bk,bk->b", dx, dx)
        if value_only:
            return phi
        lam = wvi * g1 + wni
        grad = np.einsum("bn,bnk->bk", lam, dU)
        negH = 2.0 * _weighted_A(lam, Ai) - _outer(wvi * g2, dU)
        if rho > 0:
            grad = grad - rho * dx
            negH = negH + rho * eye
        return phi, grad, negH

    start = _start(x0, xp, weight, ideal, lead, K)
    if use_compiled():
        X = _compiled_solve(
            _compiled.NASH, start, lo, hi, A, ideal, Ax, lin, wv, wn, threshold, eps, eps, veto, xp, rho, 1.0,
            iters, check_last,
        )  # fmt: skip
    else:
        X = projected_newton(objective, start, lo, hi, iters=iters, check_last=check_last)
    return X.reshape(lead + (K,))


def utopia(A: Array, ideal: Array, lin: Array, lo: Array, hi: Array) -> Array:
    """Each actor's best utility on the box, max_X U_i(X), for a flat batch: (B, n).

    A concave quadratic program per actor, solved with the same projected Newton method.
    """
    B, n, K = ideal.shape
    Af, xf, lf = A.reshape(B * n, K, K), ideal.reshape(B * n, K), lin.reshape(B * n, K)

    def objective(X: Array, idx: Array, value_only: bool):
        d = X - xf[idx]
        Ad = (Af[idx] @ d[..., None])[..., 0]
        phi = np.einsum("bk,bk->b", lf[idx], X) - np.einsum("bk,bk->b", d, Ad)
        if value_only:
            return phi
        return phi, -2.0 * Ad + lf[idx], 2.0 * Af[idx] + 1e-12 * np.eye(K)

    lo_f, hi_f = np.repeat(lo, n, axis=0), np.repeat(hi, n, axis=0)
    if use_compiled():  # each actor's program is a Nash objective with one non-veto actor of weight 1
        one, zero = np.ones((B * n, 1)), np.zeros((B * n, 1))
        X = _compiled_solve(
            _compiled.NASH, np.clip(xf, lo_f, hi_f), lo_f, hi_f, Af[:, None], xf[:, None],
            (Af @ xf[..., None])[:, None, :, 0], lf[:, None], zero, one, zero, one, one,
            np.zeros((B * n, 1), bool), None, 0.0, 1.0, 30,
        )  # fmt: skip
    else:
        X = projected_newton(objective, np.clip(xf, lo_f, hi_f), lo_f, hi_f, iters=30)
    return objective(X, np.arange(B * n), True).reshape(B, n)


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
    Newton step that counts as converged (:func:`projected_newton`).

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
    T = float(temperature)
    eye = np.eye(K)

    def objective(X: Array, idx: Array, value_only: bool):
        t = _taker(idx, A.shape[0])
        Ai = t(A)
        U, dU = _utility_grad(X, Ai, t(ideal), t(lin), t(Ax))
        vt, sp_, wni = t(veto), t(span), t(wn)
        r = np.where(vt, (U - t(threshold)) / sp_, np.inf)
        rmin = np.min(r, axis=-1, keepdims=True)
        e = np.where(vt, np.exp(-(r - rmin) / T), 0.0)
        Z = e.sum(-1, keepdims=True)
        phi = rmin[..., 0] - T * np.log(Z[..., 0]) + np.einsum("bn,bn->b", wni, U)
        if rho > 0:
            dx = X - t(xp)
            phi = phi - 0.5 * rho * np.einsum("bk,bk->b", dx, dx)
        if value_only:
            return phi
        p = e / Z
        a = dU / sp_[..., None]
        pa = np.einsum("bn,bnk->bk", p, a)
        grad = pa + np.einsum("bn,bnk->bk", wni, dU)
        curv = 2.0 * _weighted_A(p / sp_ + wni, Ai)
        negH = curv + (_outer(p, a) - pa[:, :, None] * pa[:, None, :]) / T
        if rho > 0:
            grad = grad - rho * dx
            negH = negH + rho * eye
        return phi, grad, negH

    start = _start(x0, xp, weight, ideal, lead, K)
    if use_compiled():
        X = _compiled_solve(
            _compiled.KS, start, lo, hi, A, ideal, Ax, lin, np.zeros_like(wn), wn, threshold, eps, span, veto,
            xp, rho, T, iters, tol=tol,
        )  # fmt: skip
    else:
        X = projected_newton(objective, start, lo, hi, iters=iters, tol=tol)
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
