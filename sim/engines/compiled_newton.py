"""Compiled projected-Newton solver for the Nash and Kalai-Smorodinsky texts, one batch member at a time.

The mediator solves tens of thousands of small box-constrained concave programs per block (K ~ 10 issues,
n ~ 5 actors). Vectorised numpy spends most of that time on stacked 10 x 10 matrix products and
solves, whose per-matrix overhead dwarfs their arithmetic; a loop compiled with Numba (Lam, Pitrou &
Seibert 2015) does the same arithmetic without it and stops each member as soon as it has converged.

The algorithm is projected Newton (Bertsekas 1982): variables at a bound whose gradient points outward
are held fixed; the Newton step is tried in full, then shortened by factors
0.25^1..0.25^7, then a short normalised gradient step (1e-2, 1e-3, 1e-4); a member stops when a step
moves no coordinate by more than ``tol``. The objectives are those of
:func:`sim.engines.nash.nash_solution` (mode 0) and :func:`sim.engines.nash.kalai_smorodinsky` (mode 1),
written out per member. Run uncompiled (``NUMBA_DISABLE_JIT=1``), this source is the readable reference;
the tests check its texts against a general-purpose optimiser (SciPy's L-BFGS-B).

References
----------
Bertsekas, D. P. (1982). Projected Newton methods for optimization problems with simple constraints.
*SIAM J. Control Optim.* 20, 221-246.
Lam, S. K., Pitrou, A. & Seibert, S. (2015). Numba: a LLVM-based Python JIT compiler. *LLVM-HPC '15*.
"""

from __future__ import annotations

import math

import numpy as np

from sim.engines.jit import compiled

NASH, KS = 0, 1
_SHRINK = 0.25
_N_SHRINK = 7
_FALLBACK = (1e-2, 1e-3, 1e-4)


@compiled(inline="always")
def _log_sp(S, eps):
    """Log of the smooth positive part eps log(1 + e^(S/eps)) and its first two derivatives in S."""
    z = S / eps
    if z < -30.0:
        return math.log(eps) + z, 1.0 / eps, 0.0
    e = math.exp(-abs(z))  # one exponential serves both the softplus and the logistic
    lae = max(z, 0.0) + math.log1p(e)
    sig = 1.0 / (1.0 + e) if z >= 0.0 else e / (1.0 + e)
    g1 = sig / (eps * lae)
    g2 = sig * (1.0 - sig) / (eps * eps * lae) - g1 * g1
    return math.log(eps) + math.log(lae), g1, min(g2, 0.0)


@compiled(_nrt=False)
def sparse_member(A, nzk, nzm, nzv, cnt):
    """Nonzero entries of one member's matrices A (n, K, K), per actor (linkage couples few issue pairs)."""
    n, K = A.shape[0], A.shape[1]
    for i in range(n):
        c = 0
        for k in range(K):
            for m in range(K):
                v = A[i, k, m]
                if v != 0.0:
                    nzk[i, c] = k
                    nzm[i, c] = m
                    nzv[i, c] = v
                    c += 1
        cnt[i] = c


@compiled(inline="always")
def _weighted_outer_upper(negH, coef, col, G):
    """Overwrite negH's upper triangle with sum_i coef[i, col] G_i G_i' (zero-weight rows skipped)."""
    n, K = G.shape
    for k in range(K):
        for m in range(k, K):
            negH[k, m] = 0.0
    for i in range(n):
        w = coef[i, col]
        if w != 0.0:
            for k in range(K):
                a = w * G[i, k]
                for m in range(k, K):
                    negH[k, m] += a * G[i, m]


@compiled(inline="always")
def _add_sparse_upper(negH, i, w, sparse):
    """Add w A_i to the upper triangle of negH, A_i given as its list of nonzero entries."""
    nzk, nzm, nzv, cnt = sparse
    for c in range(cnt[i]):
        k, m = nzk[i, c], nzm[i, c]
        if m >= k:
            negH[k, m] += w * nzv[i, c]


@compiled(_nrt=False)
def _evaluate(mode, x, want, grad, negH, work, sparse, member, rho, T):
    """Objective of one member at ``x``; fills ``grad`` and ``negH`` when ``want``.

    ``work`` = (Ad, dU, U, coef) scratch arrays; ``sparse`` = (nzk, nzm, nzv, cnt), the member's A_i as
    lists of nonzero entries (from :func:`sparse_member`); ``member`` = (ideal, Ax, lin) (n, K) and (wv,
    wn, thr, eps, span, veto) (n,) and xp (K,).
    """
    phi = _objective(mode, x, work, sparse, member, rho, T)
    if want:
        _derivatives(mode, x, grad, negH, work, sparse, member, rho, T)
    return phi


@compiled(_nrt=False)
def _objective(mode, x, work, sparse, member, rho, T):
    """Objective of one member at ``x``, leaving in ``work`` what :func:`_derivatives` needs at ``x``.

    The derivatives cost about as much again as the value; the solver asks for them only at points it
    accepts, so a trial step that is refused costs the value alone.
    """
    Ad, dU, U, coef = work
    nzk, nzm, nzv, cnt = sparse
    ideal, Ax, lin, wv, wn, thr, eps, span, veto, xp = member
    n, K = ideal.shape[0], ideal.shape[1]
    for i in range(n):
        for k in range(K):
            Ad[i, k] = -Ax[i, k]
        for c in range(cnt[i]):
            Ad[i, nzk[i, c]] += nzv[i, c] * x[nzm[i, c]]
        u = 0.0
        for k in range(K):
            u += lin[i, k] * x[k] - (x[k] - ideal[i, k]) * Ad[i, k]
            dU[i, k] = lin[i, k] - 2.0 * Ad[i, k]
        U[i] = u
    prox = 0.0
    if rho > 0.0:
        for k in range(K):
            dxk = x[k] - xp[k]
            prox += dxk * dxk
    if mode == NASH:
        phi = 0.0
        for i in range(n):
            phi += wn[i] * U[i]
            if wv[i] != 0.0:
                g, g1, g2 = _log_sp(U[i] - thr[i], eps[i])
                phi += wv[i] * g
                coef[i, 0] = wv[i] * g1 + wn[i]  # lambda_i: weight of A_i and of dU_i in the gradient
                coef[i, 1] = -wv[i] * g2  # >= 0: weight of the outer product dU_i dU_i'
            else:
                coef[i, 0] = wn[i]
                coef[i, 1] = 0.0
        return phi - 0.5 * rho * prox
    # Kalai-Smorodinsky: smooth minimum of the veto players' normalised gains
    rmin = np.inf
    for i in range(n):
        if veto[i]:
            r = (U[i] - thr[i]) / span[i]
            coef[i, 0] = r
            rmin = min(rmin, r)
    Z = 0.0
    for i in range(n):
        e = math.exp(-(coef[i, 0] - rmin) / T) if veto[i] else 0.0
        coef[i, 1] = e
        Z += e
    phi = rmin - T * math.log(Z) - 0.5 * rho * prox
    for i in range(n):
        phi += wn[i] * U[i]
    return phi


@compiled(_nrt=False)
def _derivatives(mode, x, grad, negH, work, sparse, member, rho, T):
    """Gradient and negated Hessian at ``x`` from what :func:`_objective` left in ``work`` at ``x``.

    Call it at most once after each :func:`_objective` (the KS weights are normalised in place).
    """
    Ad, dU, U, coef = work
    ideal, Ax, lin, wv, wn, thr, eps, span, veto, xp = member
    n, K = ideal.shape[0], ideal.shape[1]
    if mode == NASH:
        for k in range(K):
            s = 0.0
            for i in range(n):
                s += coef[i, 0] * dU[i, k]
            grad[k] = s - rho * (x[k] - xp[k]) if rho > 0.0 else s
        # negH = 2 sum_i lambda_i A_i - sum_i w_i g2_i dU_i dU_i' + rho I (upper triangle, then mirrored)
        _weighted_outer_upper(negH, coef, 1, dU)
        for i in range(n):
            _add_sparse_upper(negH, i, 2.0 * coef[i, 0], sparse)
        for k in range(K):
            negH[k, k] += rho
            for m in range(k + 1, K):
                negH[m, k] = negH[k, m]
        return
    Z = 0.0  # the same sum, in the same order, as in _objective
    for i in range(n):
        Z += coef[i, 1]
    # p_i = e_i / Z, a_i = dU_i / span_i; reuse Ad for a_i
    for i in range(n):
        coef[i, 1] /= Z
        for k in range(K):
            Ad[i, k] = dU[i, k] / span[i]
    for k in range(K):
        pa = 0.0
        s = 0.0
        for i in range(n):
            pa += coef[i, 1] * Ad[i, k]
            s += wn[i] * dU[i, k]
        coef[0, 2 + k] = pa  # pa_k, kept for the curvature
        grad[k] = pa + s - (rho * (x[k] - xp[k]) if rho > 0.0 else 0.0)
    # negH = 2 sum_i (p_i / span_i + wn_i) A_i + (sum_i p_i a_i a_i' - pa pa') / T + rho I
    _weighted_outer_upper(negH, coef, 1, Ad)
    for k in range(K):
        for m in range(k, K):
            negH[k, m] = (negH[k, m] - coef[0, 2 + k] * coef[0, 2 + m]) / T
    for i in range(n):
        _add_sparse_upper(negH, i, 2.0 * (coef[i, 1] / span[i] + wn[i]), sparse)
    for k in range(K):
        negH[k, k] += rho
        for m in range(k + 1, K):
            negH[m, k] = negH[k, m]


@compiled(inline="always")
def _solve_in_place(M, g, out):
    """Solve M out = g by Gaussian elimination with partial pivoting (M and g are overwritten)."""
    K = g.shape[0]
    for c in range(K):
        p = c
        best = abs(M[c, c])
        for r in range(c + 1, K):
            if abs(M[r, c]) > best:
                best = abs(M[r, c])
                p = r
        if p != c:
            for m in range(K):
                M[c, m], M[p, m] = M[p, m], M[c, m]
            g[c], g[p] = g[p], g[c]
        piv = M[c, c]
        for r in range(c + 1, K):
            f = M[r, c] / piv
            if f != 0.0:
                for m in range(c, K):
                    M[r, m] -= f * M[c, m]
                g[r] -= f * g[c]
    for c in range(K - 1, -1, -1):
        s = g[c]
        for m in range(c + 1, K):
            s -= M[c, m] * out[m]
        out[c] = s / M[c, c]


@compiled(inline="always")
def _newton_step(negH, grad, idx, nf, reg, M, g, delta):
    """Newton step on the free variables ``idx[:nf]``: solve (negH + reg I) d = grad there, 0 elsewhere.

    negH is symmetric and, for concave utilities, positive definite (a weighted sum of the A_i, outer
    products with non-negative weights and the proximal term), so a Cholesky factorisation of the free
    block does it in about half the work of elimination; where a pivot is not positive (a non-concave
    utility), the block is solved by Gaussian elimination with partial pivoting instead.
    """
    K = delta.shape[0]
    for a in range(nf):
        ka = idx[a]
        for b in range(a + 1):
            M[a, b] = negH[ka, idx[b]]
        M[a, a] += reg
        g[a] = grad[ka]
    definite = True
    for a in range(nf):  # M = L L', L in the lower triangle
        s = M[a, a]
        for c in range(a):
            s -= M[a, c] * M[a, c]
        if not s > 0.0:
            definite = False
            break
        d = math.sqrt(s)
        M[a, a] = d
        for b in range(a + 1, nf):
            s = M[b, a]
            for c in range(a):
                s -= M[b, c] * M[a, c]
            M[b, a] = s / d
    if definite:
        for a in range(nf):  # L y = g
            s = g[a]
            for c in range(a):
                s -= M[a, c] * g[c]
            g[a] = s / M[a, a]
        for a in range(nf - 1, -1, -1):  # L' d = y
            s = g[a]
            for c in range(a + 1, nf):
                s -= M[c, a] * g[c]
            g[a] = s / M[a, a]
    else:
        for a in range(nf):
            for b in range(nf):
                M[a, b] = negH[idx[a], idx[b]]
            M[a, a] += reg
            g[a] = grad[idx[a]]
        _solve_in_place(M[:nf, :nf], g[:nf], g[:nf])  # the back substitution may overwrite g in place
    for k in range(K):
        delta[k] = 0.0
    for a in range(nf):
        delta[idx[a]] = g[a]


@compiled()
def scratch(n: int, K: int) -> tuple:
    """Work arrays for :func:`solve_member` (allocate once, reuse for every member)."""
    vec = lambda: np.empty(K)  # noqa: E731
    mat = lambda: np.empty((K, K))  # noqa: E731
    work = (np.empty((n, K)), np.empty((n, K)), np.empty(n), np.empty((n, K + 2)))
    return vec(), vec(), vec(), vec(), mat(), mat(), np.empty(K, np.bool_), work, np.empty(K, np.int64)


@compiled(_nrt=False)
def solve_member(mode, x, lower, upper, sparse, member, rho, T, iters, tol, buf, check_last=True):
    """Projected Newton for one member, in place on ``x`` (K,), from ``x`` (already inside the box).

    ``sparse`` and ``member`` as in :func:`_evaluate`; ``buf`` from :func:`scratch`. With ``check_last``
    false the last of the ``iters`` Newton steps is taken without evaluating the objective there, for a
    caller that line-searches the result on its own, truer objective (the SQP of the mediator's text).
    """
    xc, delta, g, grad, negH, M, free, work, idx = buf
    K = x.shape[0]
    if iters <= 0:
        return
    phi = _evaluate(mode, x, True, grad, negH, work, sparse, member, rho, T)
    for it in range(iters):
        last = it == iters - 1
        scale = 1e-300
        nf = 0
        for k in range(K):
            at_lo = x[k] <= lower[k] + 1e-12 and grad[k] < 0.0
            at_hi = x[k] >= upper[k] - 1e-12 and grad[k] > 0.0
            free[k] = not (at_lo or at_hi)
            scale = max(scale, abs(negH[k, k]))
            if free[k]:
                idx[nf] = k
                nf += 1
        _newton_step(negH, grad, idx, nf, 1e-12 * scale, M, g, delta)
        step = 0.0
        for k in range(K):
            xc[k] = min(max(x[k] + delta[k], lower[k]), upper[k])
            step = max(step, abs(xc[k] - x[k]))
        if step <= tol:
            break  # converged: the Newton step no longer moves the member
        if last and not check_last:
            for k in range(K):
                x[k] = xc[k]
            break
        pc = _objective(mode, xc, work, sparse, member, rho, T)
        accepted = pc > phi
        if not accepted:
            eta = 1.0
            for _ in range(_N_SHRINK):
                eta *= _SHRINK
                for k in range(K):
                    xc[k] = min(max(x[k] + eta * delta[k], lower[k]), upper[k])
                pc = _objective(mode, xc, work, sparse, member, rho, T)
                if pc > phi:
                    accepted = True
                    break
        if not accepted:
            gnorm = 0.0
            for k in range(K):
                gnorm += grad[k] * grad[k]
            gnorm = max(math.sqrt(gnorm), 1e-300)
            for s in _FALLBACK:
                for k in range(K):
                    xc[k] = min(max(x[k] + s * grad[k] / gnorm, lower[k]), upper[k])
                pc = _objective(mode, xc, work, sparse, member, rho, T)
                if pc > phi:
                    accepted = True
                    break
        if not accepted:
            break  # nothing improves: a (numerical) optimum
        moved = 0.0
        for k in range(K):
            moved = max(moved, abs(xc[k] - x[k]))
            x[k] = xc[k]
        phi = pc
        if last or moved <= tol:
            break
        # the last objective evaluated was the accepted point's, so work holds what its derivatives need
        _derivatives(mode, x, grad, negH, work, sparse, member, rho, T)


@compiled(inline="always")
def _edge_best(beta, c, m, lo, hi):
    """Maximiser of beta x - c (x - m)^2 on [lo, hi] (c may be <= 0: then an end point wins)."""
    best_x = lo
    best = beta * lo - c * (lo - m) * (lo - m)
    v = beta * hi - c * (hi - m) * (hi - m)
    if v > best:
        best_x, best = hi, v
    if c > 0.0:
        x = min(max(m + 0.5 * beta / c, lo), hi)
        v = beta * x - c * (x - m) * (x - m)
        if v > best:
            best_x = x
    return best_x


@compiled(_nrt=False)
def box_qp_small_blocks(x, i, sparse, ideal, lin, lower, upper, diag, partner, cross):
    """Maximise lin'x - (x - m)' A_i (x - m) on the box exactly when A_i couples issues at most in pairs.

    The utopia of the Kalai-Smorodinsky text is such a program per veto player (a concave quadratic).
    Linkage couples few issue pairs, so the program splits into one- and two-issue pieces: a one-issue
    piece is a clipped parabola; a two-issue piece is maximised at its stationary point when that lies in
    the box, else on one of the four edges, each a clipped parabola (a concave function's maximum over a
    box lies in its interior or on its boundary). Returns False, with ``x`` untouched, where an issue is
    linked to two others (the caller then runs projected Newton); the maximum value is exact either way,
    which is all the normalisation of the KS gains uses. ``diag``, ``cross`` (K,) float and ``partner``
    (K,) int64 are scratch (the caller allocates them once, not per actor and pass).
    """
    nzk, nzm, nzv, cnt = sparse
    K = x.shape[0]
    for k in range(K):
        diag[k] = 0.0
        partner[k] = -1
        cross[k] = 0.0
    for e in range(cnt[i]):
        k, m = nzk[i, e], nzm[i, e]
        if k == m:
            diag[k] += nzv[i, e]
        elif k < m:  # each pair is stored twice, (k, m) and (m, k)
            if partner[k] >= 0 or partner[m] >= 0:
                return False
            partner[k], partner[m] = m, k
            cross[k] = cross[m] = nzv[i, e]
    for k in range(K):
        l = partner[k]
        if l < 0:
            x[k] = _edge_best(lin[i, k], diag[k], ideal[i, k], lower[k], upper[k])
            continue
        if l < k:
            continue  # solved with its partner
        a, b, c = diag[k], cross[k], diag[l]
        mk, ml, pk, pl = ideal[i, k], ideal[i, l], lin[i, k], lin[i, l]
        det = a * c - b * b
        if det > 0.0 and a > 0.0:  # strictly concave: the stationary point, if inside the box
            xk = mk + 0.5 * (c * pk - b * pl) / det
            xl = ml + 0.5 * (a * pl - b * pk) / det
            if lower[k] <= xk <= upper[k] and lower[l] <= xl <= upper[l]:
                x[k], x[l] = xk, xl
                continue
        best = -np.inf
        for edge in range(4):
            if edge < 2:  # x_k on a bound, x_l free: the cross term shifts x_l's linear coefficient
                xk = lower[k] if edge == 0 else upper[k]
                xl = _edge_best(pl - 2.0 * b * (xk - mk), c, ml, lower[l], upper[l])
            else:
                xl = lower[l] if edge == 2 else upper[l]
                xk = _edge_best(pk - 2.0 * b * (xl - ml), a, mk, lower[k], upper[k])
            dk, dl = xk - mk, xl - ml
            v = pk * xk + pl * xl - (a * dk * dk + 2.0 * b * dk * dl + c * dl * dl)
            if v > best:
                best, x[k], x[l] = v, xk, xl
    return True


@compiled(_nrt=False)
def member_value(mode, x, sparse, member, rho, T, buf):
    """Return the objective of one member at ``x`` (for callers that need the optimum's value)."""
    xc, delta, g, grad, negH, M, free, work, idx = buf
    return _objective(mode, x, work, sparse, member, rho, T)


@compiled()
def solve_batch(mode, x0, lower, upper, A, ideal, Ax, lin, wv, wn, thr, eps, span, veto, xp, rho, T,
                iters, tol, check_last=True):  # fmt: skip
    """Projected Newton for every member of a flat batch; returns the maximisers, shape (B, K).

    Shapes: x0, lower, upper, xp (B, K); A (B, n, K, K); ideal, Ax = A_i x_i, lin (B, n, K); wv, wn, thr,
    eps, span (B, n); veto (B, n) bool. ``rho`` is the proximal weight (0: none), ``T`` the KS temperature;
    ``check_last`` as in :func:`solve_member`.
    """
    B, K = x0.shape
    n = ideal.shape[1]
    X = np.empty((B, K))
    buf = scratch(n, K)
    KK = K * K
    idx = np.empty((n, KK), np.int64)
    sparse = (idx, idx.copy(), np.empty((n, KK)), np.empty(n, np.int64))
    for b in range(B):
        x = X[b]
        for k in range(K):
            x[k] = min(max(x0[b, k], lower[b, k]), upper[b, k])
        sparse_member(A[b], sparse[0], sparse[1], sparse[2], sparse[3])
        member = (ideal[b], Ax[b], lin[b], wv[b], wn[b], thr[b], eps[b], span[b], veto[b], xp[b])
        solve_member(mode, x, lower[b], upper[b], sparse, member, rho, T, iters, tol, buf, check_last)
    return X
