"""Compiled per-replicate kernels for the two functions every phase calls: U_i(X) and the deal value V_i(X).

A round evaluates utilities and deal values a dozen times (the mediator's text, its backtracking, each
party's verdict, the bisection that keeps declared positions above reservation). In numpy each
evaluation gathers the (R_sub, n, K, K) utility matrices and runs stacked 10 x 10 products whose
per-matrix overhead dominates; these Numba loops (Lam, Pitrou & Seibert 2015) read each replicate's
matrices in place. The formulas are those of :mod:`sim.model.preferences` (quadratic utility with linkage,
the reference kink; memo §1.3) and :mod:`sim.model.commitment` (the reneging discount; memo §1.5 P5), whose
functions are the array interface to these kernels. Each formula is written here once, per replicate and
actor; run uncompiled (``NUMBA_DISABLE_JIT=1``) the same source is the readable reference, and
``tests/test_model_kernels.py`` checks that compiled and uncompiled runs give the same records, the
gradients and curvatures against finite differences, and the BDM pressures against the engine
:mod:`sim.engines.bdm_scholz`.

References
----------
Lam, S. K., Pitrou, A. & Seibert, S. (2015). Numba: a LLVM-based Python JIT compiler. *LLVM-HPC '15*.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from sim.engines import compiled_newton as cn
from sim.engines.jit import compiled
from sim.model.constants import DMZ_WIDTH, KINK_EPS
from sim.model.constants import WITHDRAWAL_EPS as PARTS_EPS


@compiled(inline="always")
def _softplus_expit(z, eps, memo):
    """Return (eps log(1 + exp(z / eps)), 1 / (1 + exp(-z / eps)), memo), stable for large |z| / eps.

    One exponential serves both. Beyond |z / eps| > 37, exp(-|z / eps|) < 2^-53 no longer changes either
    result in double precision, so it is skipped where that saves work (the same numbers, bit for bit).
    ``memo`` = (|u|, exp(-|u|), log1p(exp(-|u|))) for u = z / eps of an earlier call (|u| = -1: none) is
    reused when |u| repeats, and returned updated: the actors of one text share its distance to the line,
    so their kinks repeat |u| (the same numbers again, with a third of the exponentials).
    """
    u = z / eps
    if u > 37.0:
        return eps * u, 1.0, memo
    a = abs(u)
    if a != memo[0]:
        e = math.exp(-a)
        memo = (a, e, math.log1p(e))
    e = memo[1]
    sp = eps * (max(u, 0.0) + memo[2])
    return sp, (1.0 / (1.0 + e) if u >= 0.0 else e / (1.0 + e)), memo


@compiled(inline="always")
def _quadratic_part(X, j, i, r, ideal, Adiag, pk, pl, pv, linear, d, g, want_grad):
    """-(x - x_i)' A_i (x - x_i) (or its linear form) of actor i at X[j, i]; its gradient into g if asked."""
    K = X.shape[2]
    U = 0.0
    for k in range(K):
        d[k] = X[j, i, k] - ideal[j, i, k]
    if linear:
        for k in range(K):
            a = Adiag[r, i, k]
            U -= a * abs(d[k])
            if want_grad:
                g[k] = -a * (1.0 if d[k] > 0.0 else (-1.0 if d[k] < 0.0 else 0.0))
        return U
    for k in range(K):
        a = Adiag[r, i, k]
        U -= a * d[k] * d[k]
        if want_grad:
            g[k] = -2.0 * a * d[k]
    for p in range(pk.shape[1]):
        k = pk[i, p]
        if k < 0:
            break
        m = pl[i, p]
        a = pv[r, i, p]
        U -= 2.0 * a * d[k] * d[m]
        if want_grad:
            g[k] -= 2.0 * a * d[m]
            g[m] -= 2.0 * a * d[k]
    return U


@compiled(_nrt=False)
def value_row(X, j, r, Lj, W, ideal, want_grad, with_commitment, P, V, dV, wq, tmp, kink=None, actor=-1,
              second=None, q_out=None, u_out=None):  # fmt: skip
    """U_i or V_i of every actor of batch member ``j`` (replicate ``r`` of the parameters) into V, dV, wq.

    X, ideal, dV (B, n, K); W, V, wq (B, n); tmp (4, K) scratch; only member ``j`` is read and written
    (indices rather than views: a view per call costs more than the arithmetic). See :func:`values_batch`.
    ``kink`` (B, n), filled with ``want_grad``: the curvature -d2 V_i / dX_TERR^2 of the two smoothed kinks
    at the contact line (the reference point's and the withdrawal's in the power shift), where they bend
    V_i down (>= 0; 0 elsewhere). :func:`solve_texts` adds it to its quadratic model of V_i: without it,
    a text near the line sees no curvature there, and its steps overshoot the kink.
    ``actor`` >= 0: evaluate that actor only (each actor's value depends on its own row alone), for the
    bisection of :func:`project_moves`, which cuts back one actor's move at a time.
    ``second`` = (W2, ideal2, V2), shaped as W, ideal, V: also the values with these outside options and
    ideal points, into V2 (no gradient). The kinks and the reneging discount depend on X alone, so the
    second set costs only its quadratic part: a round values its text for the parties and for the
    mediator's model of them (:func:`values_pair`).
    ``q_out``, ``u_out`` (B, n): also the reneging probability q_i(X) (0 without the commitment discount)
    and the utility U_i(X) (the value without it), for :func:`utility_reneging_batch`.
    """
    (Adiag, pk, pl, pv, linear, zeta, sgn, k_terr, ref_on, commit_on, bonus, shift_const, shift_lin,
     shift_wd, theta, g_guar, g_forces, g_dmz, g_shift, kG, kF, h0, H_c, vartheta) = P  # fmt: skip
    n, K = X.shape[1], X.shape[2]
    d, g, dlogh, dshift = tmp[0], tmp[1], tmp[2], tmp[3]
    first, stop = (0, n) if actor < 0 else (actor, actor + 1)
    # memos of the smoothed kinks: the reference kink of actors without a side (sgn 0: u = 0) and with one
    # (sgn +-1: the same |u| for both sides), and the withdrawal's (one u for all actors of a text)
    memo_flat = memo_side = memo_wd = (-1.0, 0.0, 0.0)
    for i in range(first, stop):
        wq[j, i] = 1.0  # 1 - q_i, 1 without the commitment discount (callers may pass np.empty buffers)
        bend = 0.0  # -d2 U_i / dX_TERR^2 of the reference kink
        # quadratic (or linear) part -(x - x_i)' A_i (x - x_i), gradient -2 A_i (x - x_i)
        U = _quadratic_part(X, j, i, r, ideal, Adiag, pk, pl, pv, linear, d, g, True)
        U2 = 0.0
        if second is not None:
            U2 = _quadratic_part(X, j, i, r, second[1], Adiag, pk, pl, pv, linear, d, g, False)
        if k_terr >= 0 and ref_on:  # the reference kink at the contact line
            z = sgn[i] * (X[j, i, k_terr] - Lj)
            if sgn[i] == 0.0:
                sp, sig, memo_flat = _softplus_expit(z, KINK_EPS, memo_flat)
            else:
                sp, sig, memo_side = _softplus_expit(z, KINK_EPS, memo_side)
            U -= zeta[r, i] * sp
            U2 -= zeta[r, i] * sp
            g[k_terr] -= zeta[r, i] * sgn[i] * sig
            bend = zeta[r, i] * sgn[i] * sgn[i] * sig * (1.0 - sig) / KINK_EPS
        if kink is not None and want_grad:
            kink[j, i] = max(bend, 0.0)
        if u_out is not None:
            u_out[j, i] = U
        if q_out is not None:
            q_out[j, i] = 0.0
        if not with_commitment:
            V[j, i] = U
            if second is not None:
                second[2][j, i] = U2
            if want_grad:
                for k in range(K):
                    dV[j, i, k] = g[k]
            continue
        if not commit_on:
            V[j, i] = U + bonus[r, i]
            if second is not None:
                second[2][j, i] = U2 + bonus[r, i]
            if want_grad:
                for k in range(K):
                    dV[j, i, k] = g[k]
            continue
        # reneging discount: shift_i(X), dmz(X), hazard h_i(X), q_i = 1 - exp(-H_c h_i)
        wd = (X[j, i, k_terr] if k_terr >= 0 else 0.0) - Lj
        sp_wd, sig_wd, memo_wd = _softplus_expit(wd, PARTS_EPS, memo_wd)
        shift = shift_const[r, i] + shift_wd[i] * sp_wd
        for k in range(K):
            shift += shift_lin[i, k] * X[j, i, k]
        dmz = min(max(wd / DMZ_WIDTH, 0.0), 1.0)
        XG = X[j, i, kG] if kG >= 0 else 0.0
        XF = X[j, i, kF] if kF >= 0 else 0.0
        logh = -g_guar[i] * theta[r] * XG - g_forces[i] * XF - g_dmz[i] * dmz + g_shift[i] * shift
        h = h0[r, i] * math.exp(logh)
        q = -math.expm1(-H_c * h)
        if q_out is not None:
            q_out[j, i] = q
        fallback = W[j, i] - vartheta[r, i] * shift
        V[j, i] = (1.0 - q) * U + q * fallback + bonus[r, i]
        if second is not None:
            second[2][j, i] = (1.0 - q) * U2 + q * (second[0][j, i] - vartheta[r, i] * shift) + bonus[r, i]
        if not want_grad:
            continue
        for k in range(K):
            dshift[k] = shift_lin[i, k]
            dlogh[k] = 0.0
        if k_terr >= 0:
            dshift[k_terr] += shift_wd[i] * sig_wd
            if wd > 0.0 and wd < DMZ_WIDTH:
                dlogh[k_terr] = -g_dmz[i] / DMZ_WIDTH
        for k in range(K):
            dlogh[k] += g_shift[i] * dshift[k]
        if kG >= 0:
            dlogh[kG] -= g_guar[i] * theta[r]
        if kF >= 0:
            dlogh[kF] -= g_forces[i]
        c = (1.0 - q) * H_c * h * (fallback - U)
        for k in range(K):
            dV[j, i, k] = (1.0 - q) * g[k] + c * dlogh[k] - q * vartheta[r, i] * dshift[k]
        wq[j, i] = 1.0 - q
        if kink is not None and k_terr >= 0:
            # the withdrawal softplus bends shift, and through it the hazard and the fallback: its second
            # derivative s'' enters V_i'' as (c g_shift - q vartheta) s''
            s2 = shift_wd[i] * sig_wd * (1.0 - sig_wd) / PARTS_EPS
            kink[j, i] = max((1.0 - q) * bend - (c * g_shift[i] - q * vartheta[r, i]) * s2, 0.0)


@compiled()
def values_batch(X, rows, L, W, ideal, ideal_rows, want_grad, with_commitment, P):
    """U_i or V_i (and gradients) for every replicate of a batch and every actor.

    Parameters
    ----------
    X : (B, n, K) each actor's point (its own position), or (B, 1, K) one point for all (a text)
    rows : (B,) replicate index of each batch member into the per-replicate arrays of ``P``
    L : (B,) front lines; W : (B, n) outside options (ignored without commitment)
    ideal, ideal_rows : ideal points (true or declared) of member j are ``ideal[ideal_rows[j]]`` (n, K):
        the model's (R, n, K) array with ``rows``, or a batch's own (B, n, K) with 0..B-1, so neither the
        repeated text nor the ideal points are copied out for the whole batch first
    want_grad : also fill dV/dX and 1 - q
    with_commitment : V_i (deal value with bonus and reneging discount) instead of U_i (utility)
    P : the model's parameters (see :func:`kernel_params`); the utility matrices A_i come as their
        diagonal (R, n, K) and their off-diagonal linkage pairs k < l (``pk``, ``pl``: (n, Pmax) indices,
        -1 padded; ``pv``: (R, n, Pmax) values), since linkage couples only a few issue pairs.

    Returns
    -------
    V (B, n), dV (B, n, K) (all zero, and (1, n, K), unless ``want_grad``), wq (B, n) (ones unless
    commitment and grad)
    """
    B, n, K = X.shape[0], ideal.shape[1], X.shape[2]
    shared = X.shape[1] == 1
    V = np.empty((B, n))
    dV = np.zeros((B if want_grad else 1, n, K))
    wq = np.ones((B, n))
    tmp = np.empty((4, K))
    Xn = np.empty((1, n, K))
    idl = np.empty((1, n, K))
    Wn = np.empty((1, n))
    V1 = np.empty((1, n))
    dV1 = np.empty((1, n, K))
    wq1 = np.empty((1, n))
    for j in range(B):
        s = ideal_rows[j]
        for i in range(n):
            a = 0 if shared else i
            for k in range(K):
                Xn[0, i, k] = X[j, a, k]
                idl[0, i, k] = ideal[s, i, k]
            Wn[0, i] = W[j, i]
        value_row(Xn, 0, rows[j], L[j], Wn, idl, want_grad, with_commitment, P, V1, dV1, wq1, tmp)
        for i in range(n):
            V[j, i] = V1[0, i]
            wq[j, i] = wq1[0, i]
            if want_grad:
                for k in range(K):
                    dV[j, i, k] = dV1[0, i, k]
    return V, dV, wq


@compiled()
def values_pair(X, rows, L, W, ideal, ideal_rows, W2, ideal2, P):
    """V_i of one text per member for two sets of outside options and ideal points (no gradient).

    A round values its text for the parties (their true ideal points and outside options) and for the
    mediator's model of them (declared positions, the mediator's outside options). The kinks and the
    reneging discount depend on the text alone, so :func:`value_row` computes them once for both; each
    result equals that of :func:`values_batch` with the same inputs, bit for bit.

    Shapes: X (B, 1, K) texts; rows, L (B,); W, W2 (B, n); the first ideal points of member j are
    ``ideal[ideal_rows[j]]`` (as in :func:`values_batch`), the second ``ideal2[j]`` (B, n, K).
    Returns V, V2 (B, n).
    """
    B, n, K = X.shape[0], ideal.shape[1], X.shape[2]
    V = np.empty((B, n))
    V2 = np.empty((B, n))
    tmp = np.empty((4, K))
    Xn = np.empty((1, n, K))
    idl = np.empty((1, n, K))
    idl2 = np.empty((1, n, K))
    Wn = np.empty((1, n))
    Wn2 = np.empty((1, n))
    V1 = np.empty((1, n))
    V12 = np.empty((1, n))
    dV1 = np.empty((1, n, K))
    wq1 = np.empty((1, n))
    second = (Wn2, idl2, V12)
    for j in range(B):
        s = ideal_rows[j]
        for i in range(n):
            for k in range(K):
                Xn[0, i, k] = X[j, 0, k]
                idl[0, i, k] = ideal[s, i, k]
                idl2[0, i, k] = ideal2[j, i, k]
            Wn[0, i] = W[j, i]
            Wn2[0, i] = W2[j, i]
        value_row(Xn, 0, rows[j], L[j], Wn, idl, False, True, P, V1, dV1, wq1, tmp, None, -1, second)
        for i in range(n):
            V[j, i] = V1[0, i]
            V2[j, i] = V12[0, i]
    return V, V2


@compiled()
def utility_reneging_batch(X, rows, L, ideal, ideal_rows, P):
    """U_i(X) and q_i(X) of one text per member in one pass (a ceasefire's terms need both; memo P5, P8).

    U is what :func:`values_batch` returns without the commitment discount; q_i = 1 - exp(-H_c h_i(X)), the
    hazard of :func:`value_row` (zero without commitment), depends on the text alone.
    Shapes: X (B, 1, K) texts; rows, L (B,); member j's ideal points are ``ideal[ideal_rows[j]]``.
    Returns U, q (B, n).
    """
    B, n, K = X.shape[0], ideal.shape[1], X.shape[2]
    U = np.empty((B, n))
    q = np.empty((B, n))
    Xn = np.empty((1, n, K))
    idl = np.empty((1, n, K))
    Wn = np.zeros((1, n))
    V1 = np.empty((1, n))
    dV1 = np.empty((1, n, K))
    wq1 = np.empty((1, n))
    q1 = np.empty((1, n))
    u1 = np.empty((1, n))
    tmp = np.empty((4, K))
    for j in range(B):
        s = ideal_rows[j]
        for i in range(n):
            for k in range(K):
                Xn[0, i, k] = X[j, 0, k]
                idl[0, i, k] = ideal[s, i, k]
        value_row(Xn, 0, rows[j], L[j], Wn, idl, False, True, P, V1, dV1, wq1, tmp, None, -1, None, q1, u1)
        for i in range(n):
            U[j, i] = u1[0, i]
            q[j, i] = q1[0, i]
    return U, q


def sparse_linkage(A: np.ndarray, row_of: np.ndarray | None = None
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Split symmetric A (R, n, K, K) into its diagonal and its off-diagonal pairs k < l.

    The pattern is the union over replicates of the nonzero pairs of each actor, so one index list serves
    every replicate. Returns (diag (R, n, K), pk, pl (n, Pmax) int64 padded with -1, pv (R, n, Pmax)).
    With ``row_of`` (R,), A holds the distinct matrices only and replicate r has ``A[row_of[r]]``.
    """
    if row_of is not None:
        diag, pk, pl, pv = sparse_linkage(A)
        return np.ascontiguousarray(diag[row_of]), pk, pl, np.ascontiguousarray(pv[row_of])
    R, n, K, _ = A.shape
    diag = np.ascontiguousarray(np.diagonal(A, axis1=-2, axis2=-1))
    upper = np.triu(np.ones((K, K), bool), 1)
    nz = (np.abs(A) > 0).any(axis=0) & upper  # (n, K, K)
    pmax = max(1, int(nz.sum(axis=(1, 2)).max()))
    pk = np.full((n, pmax), -1, np.int64)
    pl = np.full((n, pmax), -1, np.int64)
    pv = np.zeros((R, n, pmax))
    for i in range(n):
        ks, ls = np.nonzero(nz[i])
        pk[i, : ks.size], pl[i, : ks.size] = ks, ls
        pv[:, i, : ks.size] = A[:, i, ks, ls]
    return diag, pk, pl, pv


class KernelParams(NamedTuple):
    """The parameters every value kernel reads, by name (a Numba named tuple; built by :func:`kernel_params`).

    The utility matrices in sparse form (:func:`sparse_linkage`); utilities linear or quadratic; the
    reference kink (zeta, each actor's side ``sgn``, the territorial issue ``k_terr``, its switch); the
    commitment block (switch, deal bonus, the power shift's constant, linear and withdrawal terms,
    guarantee credibility theta, the hazard's gammas, the guarantee and forces issues ``kG``/``kF``, h0,
    the horizon ``H_c``, vartheta). -1 marks an issue the scenario does not have.
    """

    Adiag: np.ndarray
    pk: np.ndarray
    pl: np.ndarray
    pv: np.ndarray
    linear: bool
    zeta: np.ndarray
    sgn: np.ndarray
    k_terr: int
    ref_on: bool
    commit_on: bool
    bonus: np.ndarray
    shift_const: np.ndarray
    shift_lin: np.ndarray
    shift_wd: np.ndarray
    theta: np.ndarray
    g_guar: np.ndarray
    g_forces: np.ndarray
    g_dmz: np.ndarray
    g_shift: np.ndarray
    kG: int
    kF: int
    h0: np.ndarray
    H_c: float
    vartheta: np.ndarray


def kernel_params(prm) -> KernelParams:
    """Return the parameters of :func:`values_batch` (``ModelParams.kernel`` keeps them, once per model)."""
    n, K = prm.n, prm.K
    sgn = np.zeros(n)
    if prm.dfd is not None:
        sgn[prm.dfd] = 1.0
    if prm.adv is not None:
        sgn[prm.adv] = -1.0
    f = lambda a: np.require(a, float, ["C", "W"])  # noqa: E731
    idx = lambda k: -1 if k is None else int(k)  # noqa: E731
    commit = bool(prm.modules["commitment"])
    zeros_n = np.zeros(n)
    out = KernelParams(
        *sparse_linkage(np.asarray(prm.A_runs, float), prm.A_run_of),
        bool(prm.linear_utility),
        f(prm.zeta),
        sgn,
        idx(prm.k_terr),
        bool(prm.modules["reference_point"]),
        commit,
        f(prm.deal_bonus),
        f(prm.shift_const) if commit else np.zeros((prm.R, n)),
        f(prm.shift_lin) if commit else np.zeros((n, K)),
        f(prm.shift_wd) if commit else zeros_n,
        f(np.broadcast_to(prm.theta, (prm.R,))) if commit else np.zeros(prm.R),
        f(prm.g_guar) if commit else zeros_n,
        f(prm.g_forces) if commit else zeros_n,
        f(prm.g_dmz) if commit else zeros_n,
        f(prm.g_shift) if commit else zeros_n,
        idx(prm.k["guarantee"]),
        idx(prm.k["forces"]),
        # a copy: the state's ``h0`` is a view of it that effects edit (sim/model/events.py, ACTOR_TARGETS)
        np.array(prm.h0, float, order="C") if commit else np.zeros((prm.R, n)),
        float(prm.H_c) if commit else 0.0,
        f(prm.vartheta) if commit else np.zeros((prm.R, n)),
    )
    return out


def row_index(rows, R: int) -> np.ndarray:
    """Replicate indices (int64) of a row selection given as indices, a boolean mask or a slice."""
    if isinstance(rows, slice):
        return np.arange(R)[rows]
    rows = np.asarray(rows)
    if rows.dtype == bool:
        return np.flatnonzero(rows)
    return rows.astype(np.int64, copy=False)


def evaluate(prm, X, L, W, rows, ideal=None, grad: bool = False, commitment: bool = True):
    """U_i (``commitment=False``) or V_i for a selection of replicates, by :func:`values_batch`.

    Same arguments and shapes as :func:`sim.model.commitment.deal_value`; X is (R_sub, K) or (R_sub, n, K).
    Returns V, or (V, dV, 1 - q) with ``grad``.
    """
    idx = row_index(rows, prm.R)
    B, n, K = idx.size, prm.n, prm.K
    c = lambda a: np.require(a, float, ["C", "W"])  # noqa: E731  (one array type: one compiled version)
    X3 = c(X[:, None, :] if X.ndim == 2 else X)  # a text: one row per member, read for every actor
    if ideal is None:
        ideal_src, ideal_rows = prm.kernel_array("ideal"), idx
    else:
        ideal_src, ideal_rows = c(np.broadcast_to(ideal, (B, n, K))), np.arange(B)
    Wc = np.zeros((B, n)) if W is None else c(np.broadcast_to(W, (B, n)))
    Lc = c(np.broadcast_to(L, (B,)))
    V, dV, wq = values_batch(X3, idx, Lc, Wc, ideal_src, ideal_rows, grad, commitment, prm.kernel)
    return (V, dV, wq) if grad else V


def evaluate_pair(prm, X, L, W, rows, W2, ideal2) -> tuple[np.ndarray, np.ndarray]:
    """V_i of the texts X (R_sub, K) with the true ideal points and W, and with ``ideal2`` and ``W2``.

    By :func:`values_pair`: the same numbers as two calls of :func:`evaluate`, with the text's own terms
    computed once.
    """
    idx = row_index(rows, prm.R)
    B, n, K = idx.size, prm.n, prm.K
    c = lambda a: np.require(a, float, ["C", "W"])  # noqa: E731
    return values_pair(
        c(X[:, None, :]), idx, c(np.broadcast_to(L, (B,))), c(np.broadcast_to(W, (B, n))),
        prm.kernel_array("ideal"), idx, c(np.broadcast_to(W2, (B, n))), c(np.broadcast_to(ideal2, (B, n, K))),
        prm.kernel,
    )  # fmt: skip


def utility_and_reneging(prm, X, L, rows) -> tuple[np.ndarray, np.ndarray]:
    """U_i(X) (true ideal points) and q_i(X) of the texts X (R_sub, K), by :func:`utility_reneging_batch`."""
    idx = row_index(rows, prm.R)
    c = lambda a: np.require(a, float, ["C", "W"])  # noqa: E731
    return utility_reneging_batch(c(X[:, None, :]), idx, c(np.broadcast_to(L, (idx.size,))),
                                  prm.kernel_array("ideal"), idx, prm.kernel)  # fmt: skip


def reneging(prm, X, L, rows) -> np.ndarray:
    """q_i(X) of the texts X (R_sub, K) for every actor, shape (R_sub, n) (:func:`utility_reneging_batch`)."""
    return utility_and_reneging(prm, X, L, rows)[1]


@compiled(inline="always")
def _pressure(xj, r, sal, cap, beta, classic, Q, med, w, D, E, PI, num_it, num_ti, den):
    """Fill E[i, t, k] = EU_{i->t}, BDM's challenge values, and the pressures PI[t, i, k] of one replicate.

    xj (n, K) the declared positions, ``med`` (K,) the issues' medians (read when Q != 1); w, D, E, PI
    and the (K,) vectors are scratch filled here. PI[t, i, k] is the pressure of t on i, meaningful where
    E[t, i, k] > 0 (a challenge t expects to gain from); the callers apply that gate.
    """
    n, K = xj.shape
    for v in range(n):
        for k in range(K):
            w[v, k] = cap[r, v] * sal[r, v, k]
            D[v, v, k] = 0.0
        for t in range(v + 1, n):
            for k in range(K):
                D[v, t, k] = D[t, v, k] = abs(xj[v, k] - xj[t, k])
    # each unordered pair once: the votes for t over i are the votes against i over t (diff flips sign
    # exactly), and the logistic of -z reuses the exponential of z (same numbers, half the work)
    for i in range(n):
        for k in range(K):
            E[i, i, k] = 0.0
        for t in range(i + 1, n):
            for k in range(K):
                num_it[k] = 0.0
                num_ti[k] = 0.0
                den[k] = 0.0
            for v in range(n):
                for k in range(K):
                    diff = w[v, k] * (D[v, t, k] - D[v, i, k])
                    num_it[k] += max(diff, 0.0)
                    num_ti[k] += max(-diff, 0.0)
                    den[k] += abs(diff)
            for k in range(K):
                P_it = num_it[k] / den[k] if den[k] > 0.0 else 0.5
                P_ti = num_ti[k] / den[k] if den[k] > 0.0 else 0.5
                s_t = sal[r, t, k]
                s_i = sal[r, i, k]
                E[i, t, k] = 2.0 * D[i, t, k] * (s_t * (2.0 * P_it - 1.0) + 1.0 - s_t)
                E[t, i, k] = 2.0 * D[t, i, k] * (s_i * (2.0 * P_ti - 1.0) + 1.0 - s_i)
                if Q != 1.0:  # the status quo may move: toward the challenger if it is nearer the median
                    d_im = abs(xj[i, k] - med[k])
                    d_tm = abs(xj[t, k] - med[k])
                    T_it = 1.0 if d_im < D[i, t, k] else 0.0
                    T_ti = 1.0 if d_tm < D[t, i, k] else 0.0
                    E[i, t, k] -= (1.0 - Q) * (2.0 * T_it - 1.0) * (d_im + D[i, t, k])
                    E[t, i, k] -= (1.0 - Q) * (2.0 * T_ti - 1.0) * (d_tm + D[t, i, k])
    for i in range(n):
        for t in range(i + 1, n):
            for k in range(K):
                if classic:
                    PI[t, i, k] = 1.0 if E[t, i, k] > E[i, t, k] else 0.0
                    PI[i, t, k] = 1.0 if E[i, t, k] > E[t, i, k] else 0.0
                    continue
                if not (E[t, i, k] > 0.0 or E[i, t, k] > 0.0):
                    continue
                z = beta * (E[t, i, k] - E[i, t, k])  # pressure of t on i; that of i on t has -z exactly
                e = math.exp(-abs(z))
                big, small = 1.0 / (1.0 + e), e / (1.0 + e)
                PI[t, i, k] = big if z >= 0.0 else small
                PI[i, t, k] = small if z > 0.0 else big


@compiled(inline="always")
def _pressure_scratch(n, K):
    """Return the scratch arrays of :func:`_pressure`: w, D, E, PI and three (K,) vectors.

    Per (actor, actor, issue) with the issue innermost, so the loops over issues run on whole vectors.
    """
    return (np.empty((n, K)), np.empty((n, n, K)), np.empty((n, n, K)), np.zeros((n, n, K)), np.empty(K),
            np.empty(K), np.empty(K))  # fmt: skip


@compiled()
def pressure_batch(x, rows, sal, cap, beta, classic, Q, median):
    """Return Pi (B, K, i, j), the BDM pressure of j on i on issue k (0 where j expects no gain; memo P7a).

    The pressures :func:`influence_moves` integrates, for inspection and tests. Shapes as there.
    """
    B, n, K = x.shape
    out = np.zeros((B, K, n, n))
    w, D, E, PI, num_it, num_ti, den = _pressure_scratch(n, K)
    for j in range(B):
        _pressure(x[j], rows[j], sal, cap, beta, classic, Q, median[j], w, D, E, PI, num_it, num_ti, den)
        for i in range(n):
            for t in range(n):
                if t != i:
                    for k in range(K):
                        if E[t, i, k] > 0.0:
                            out[j, k, i, t] = PI[t, i, k]
    return out


@compiled()
def influence_moves(x, X_text, a, eng, tau_y, rows, sal, cap, beta, eta_p, classic, Q, median):
    """Return declared positions after BDM pressure and concession toward the text (memo §1.5 P7a).

    Per replicate and issue: the printed probability that i's position beats j's (the c·s-weighted votes
    of every actor k, Bueno de Mesquita 1994; Scholz, Calbert & Smith 2011, eq. 14), the expected utility of
    a challenge for risk-neutral actors (r = 1): E_ij = 2 d_ij (s_j (2 P_ij - 1) + 1 - s_j) when the status
    quo is certain to persist absent a challenge (Q = 1); otherwise minus (1 - Q)(2 T_ij - 1)(d_im + d_ij),
    the status quo's expected move toward i (T_ij = 1 when i is nearer the median mu than j, Eftekhari &
    Rahimi 2014; Scholz et al. eq. 25b at r = 1, where U_b = d_im + d_ij = -U_w), the pressure weight of j
    on i Pi_ij = sigma(beta (E_ji - E_ij)) 1{E_ji > 0} (or the hard rule with ``classic``), then the exact
    integration of dx_i/dt = a_i (X - x_i) + eta_p sum_j Pi_ij (x_j - x_i) over ``tau_y`` years, clipped to
    [0, 1]. The engine :mod:`sim.engines.bdm_scholz` computes the same expected utilities in general form
    (any r, Q; ``tests/test_model_kernels.py`` checks the kernel against it).

    Shapes: x (B, n, K), X_text (B, K), a (B, n), eng (B, n) bool, tau_y (B,), rows (B,); sal (R, n, K),
    cap (R, n) indexed by ``rows``; Q the status quo's probability of persisting; median (B, K) the
    c·s-weighted median position mu of each issue (read only when Q != 1).
    """
    B, n, K = x.shape
    new = np.empty((B, n, K))
    w, D, E, PI, num_it, num_ti, den = _pressure_scratch(n, K)
    pull = np.empty(K)
    tot = np.empty(K)
    for j in range(B):
        xj = x[j]
        _pressure(xj, rows[j], sal, cap, beta, classic, Q, median[j], w, D, E, PI, num_it, num_ti, den)
        for i in range(n):
            for k in range(K):
                pull[k] = 0.0
                tot[k] = 0.0
            if eng[j, i]:
                for t in range(n):
                    if t == i:
                        continue
                    for k in range(K):
                        if E[t, i, k] > 0.0:
                            pull[k] += PI[t, i, k] * (xj[t, k] - xj[i, k])
                            tot[k] += PI[t, i, k]
            last_rate, last_frac = -1.0, 0.0  # issues without pressure share i's rate: one expm1 for them
            for k in range(K):
                xi = xj[i, k]
                drive = a[j, i] * (X_text[j, k] - xi) + eta_p * pull[k]
                rate = a[j, i] + eta_p * tot[k]
                if rate != last_rate:
                    last_rate = rate
                    last_frac = -math.expm1(-rate * tau_y[j]) / rate if rate > 1e-12 else tau_y[j]
                new[j, i, k] = min(max(xi + last_frac * drive, 0.0), 1.0)
    return new


@compiled(inline="always")
def _text_objective(x, Xn, j, r, Lj, x_prev, want_grad, ctx):
    """Return the mediator's objective Phi(X) with the full deal values (memo P8; see mediation.solve_text).

    ``ctx`` = (W, ideal, thr, om, veto, eps, nonveto_weight, prox, P, V, dV, wq, kink, tmp): member ``j`` of
    the batch arrays W, ideal, thr, om, eps is used; Xn, V, dV, wq, kink are (1, n, ...) buffers, left
    holding the deal values at ``x`` (and, with ``want_grad``, their gradients, 1 - q and the kinks'
    curvature: what the next SQP pass linearises, so it need not evaluate them again).
    """
    W, ideal, thr, om, veto, eps, nonveto_weight, prox, P, V, dV, wq, kink, tmp = ctx
    n, K = Xn.shape[1], Xn.shape[2]
    for i in range(n):
        for k in range(K):
            Xn[0, i, k] = x[k]
    value_row(Xn, 0, r, Lj, W[j : j + 1], ideal[j : j + 1], want_grad, True, P, V, dV, wq, tmp, kink)
    phi = 0.0
    for i in range(n):
        if veto[i]:
            z = (V[0, i] - thr[j, i]) / eps[j, i]  # log of the smooth positive part, stable for z << 0
            lsp = z if z < -30.0 else math.log(max(z, 0.0) + math.log1p(math.exp(-abs(z))))
            phi += om[j, i] * (math.log(eps[j, i]) + lsp)
        else:
            phi += nonveto_weight * om[j, i] * V[0, i]
    s = 0.0
    for k in range(K):
        s += (x[k] - x_prev[k]) ** 2
    return phi - 0.5 * prox * s


@compiled()
def solve_texts(rows, X_prev, L, ideal_m, W_m, thr_m, om, is_ks, eps, veto, nonveto_weight, prox, iters,
                settled, ks_iters, ks_T, ks_tol, P):  # fmt: skip
    """Return the mediator's texts for a batch: SQP over the weighted Nash / KS engine (memo P8).

    Per replicate: the deal values are linearised around the current text (``value_row`` with gradient,
    plus the curvature of the kinks at the contact line), the quadratic program of
    :mod:`sim.engines.compiled_newton` is solved (Nash with ``iters[p]`` Newton steps in pass ``p``, the
    last one checked only against the true objective below; or Kalai-Smorodinsky with each actor's utopia
    value, at most ``ks_iters`` steps, converged at a step below ``ks_tol``), and the step is accepted as
    far as it raises the true objective (steps 1, 1/2, 1/4); a text that moved less than ``settled`` is
    not re-linearised. ``iters`` (int64 array): one entry per pass. Called by
    :func:`sim.model.mediation.solve_text`.
    """
    B, K = X_prev.shape
    n = ideal_m.shape[1]
    out = X_prev.copy()
    Xn = np.empty((1, n, K))
    V1 = np.empty((1, n))
    dV1 = np.empty((1, n, K))
    wq1 = np.empty((1, n))
    kink1 = np.empty((1, n))
    tmp = np.empty((4, K))
    lin = np.empty((n, K))
    Ax = np.empty((n, K))
    Ad = np.empty((n, K))
    thr = np.empty(n)
    wv = np.empty(n)
    wn = np.empty(n)
    span = np.ones(n)
    lower = np.zeros(K)
    upper = np.ones(K)
    new = np.empty(K)
    cand = np.empty(K)
    KK = K * K
    nzk = np.empty((n, KK), np.int64)
    nzm = np.empty((n, KK), np.int64)
    nzv = np.empty((n, KK))
    cnt = np.empty(n, np.int64)
    buf = cn.scratch(n, K)
    buf1 = cn.scratch(1, K)
    one1 = np.ones(1)
    zero1 = np.zeros(1)
    no_veto1 = np.zeros(1, np.bool_)
    xu = np.empty(K)
    qp_diag, qp_cross, qp_partner = np.empty(K), np.empty(K), np.empty(K, np.int64)
    work = (Xn, V1, dV1, wq1, kink1, tmp, lin, Ax, Ad, thr, wv, wn, span, lower, upper, new, cand,
            nzk, nzm, nzv, cnt, buf, buf1, one1, zero1, no_veto1, xu, qp_diag, qp_cross, qp_partner)
    _solve_text_rows(out, rows, X_prev, L, ideal_m, W_m, thr_m, om, is_ks, eps, veto, nonveto_weight, prox,
                     iters, settled, ks_iters, ks_T, ks_tol, P, work)
    return out


@compiled(_nrt=False)
def _solve_text_rows(out, rows, X_prev, L, ideal_m, W_m, thr_m, om, is_ks, eps, veto, nonveto_weight, prox,
                     iters, settled, ks_iters, ks_T, ks_tol, P, work):  # fmt: skip
    """Run the row loop of :func:`solve_texts` into ``out`` (B, K; X_prev on entry) with its scratch arrays.

    Compiled without the reference-counting runtime (see :mod:`sim.engines.jit`): the loop takes a view
    or builds a tuple of arrays for every row, pass and actor, and each would otherwise cost an atomic
    increment and decrement per array. :func:`solve_texts` allocates; this function cannot.
    """
    (Xn, V1, dV1, wq1, kink1, tmp, lin, Ax, Ad, thr, wv, wn, span, lower, upper, new, cand,
     nzk, nzm, nzv, cnt, buf, buf1, one1, zero1, no_veto1, xu, qp_diag, qp_cross, qp_partner) = work
    Adiag, pk, pl, pv, linear, k_terr = P.Adiag, P.pk, P.pl, P.pv, P.linear, P.k_terr
    B, K = X_prev.shape
    n = ideal_m.shape[1]
    n_passes = iters.shape[0]
    V, dV, wq, kink = V1[0], dV1[0], wq1[0], kink1[0]
    sparse = (nzk, nzm, nzv, cnt)
    ctx = (W_m, ideal_m, thr_m, om, veto, eps, nonveto_weight, prox, P, V1, dV1, wq1, kink1, tmp)
    for j in range(B):
        r = rows[j]
        x = out[j]
        xp = X_prev[j]
        xm = ideal_m[j]
        for i in range(n):
            wv[i] = om[j, i] if veto[i] else 0.0
            wn[i] = 0.0 if veto[i] else nonveto_weight * om[j, i]
        # the deal values, gradients and 1 - q at x, which the first linearisation needs anyway
        phi = _text_objective(x, Xn, j, r, L[j], xp, True, ctx)
        fresh = True
        for p in range(n_passes):  # SQP passes: one linearisation each
            if p > 0 and not fresh:  # the accepted step was shorter than 1: evaluate at the new text
                for i in range(n):
                    for k in range(K):
                        Xn[0, i, k] = x[k]
                value_row(Xn, 0, r, L[j], W_m[j : j + 1], ideal_m[j : j + 1], True, True, P, V1, dV1, wq1,
                          tmp, kink1)
            # A_i as entry lists scaled by 1 - q_i; linear utility has no quadratic part to pass on
            for i in range(n):
                c = 0
                for k in range(K):
                    Ad[i, k] = 0.0
                if not linear:
                    for k in range(K):
                        a = Adiag[r, i, k]
                        if k == k_terr and wq[i] > 0.0:  # the kinks' curvature, in units of A_i
                            a += 0.5 * kink[i] / wq[i]
                        Ad[i, k] += a * (x[k] - xm[i, k])
                        if a != 0.0:
                            nzk[i, c], nzm[i, c], nzv[i, c] = k, k, wq[i] * a
                            c += 1
                    for pair in range(pk.shape[1]):  # (not p: that is the pass)
                        k = pk[i, pair]
                        if k < 0:
                            break
                        m = pl[i, pair]
                        a = pv[r, i, pair]
                        Ad[i, k] += a * (x[m] - xm[i, m])
                        Ad[i, m] += a * (x[k] - xm[i, k])
                        nzk[i, c], nzm[i, c], nzv[i, c] = k, m, wq[i] * a
                        nzk[i, c + 1], nzm[i, c + 1], nzv[i, c + 1] = m, k, wq[i] * a
                        c += 2
                cnt[i] = c
                quad = 0.0
                lx = 0.0
                for k in range(K):
                    lin[i, k] = dV[i, k] + 2.0 * wq[i] * Ad[i, k]
                    quad -= wq[i] * (x[k] - xm[i, k]) * Ad[i, k]
                    lx += lin[i, k] * x[k]
                    Ax[i, k] = 0.0
                for e in range(c):
                    Ax[i, nzk[i, e]] += nzv[i, e] * xm[i, nzm[i, e]]
                thr[i] = thr_m[j, i] - (V[i] - quad - lx)
            for k in range(K):
                new[k] = x[k]
            if is_ks[j]:  # normalise gains by each actor's utopia: its best value of the quadratic on the box
                for i in range(n):
                    if not veto[i]:  # only the veto players' gains enter the smooth minimum (span stays 1)
                        continue
                    s1 = (nzk[i : i + 1], nzm[i : i + 1], nzv[i : i + 1], cnt[i : i + 1])
                    a1 = (xm[i : i + 1], Ax[i : i + 1], lin[i : i + 1])
                    m1 = (a1[0], a1[1], a1[2], zero1, one1, zero1, one1, one1, no_veto1, xu)
                    # exact in closed form when linkage couples issues at most in pairs (the usual case);
                    # else projected Newton from the clipped optimum of the diagonal part
                    if not cn.box_qp_small_blocks(xu, i, sparse, xm, lin, lower, upper, qp_diag, qp_partner,
                                                  qp_cross):
                        for k in range(K):
                            xu[k] = xm[i, k]
                        for e in range(cnt[i]):
                            if nzk[i, e] == nzm[i, e] and nzv[i, e] > 0.0:
                                k = nzk[i, e]
                                xu[k] = xm[i, k] + lin[i, k] / (2.0 * nzv[i, e])
                        for k in range(K):
                            xu[k] = min(max(xu[k], 0.0), 1.0)
                        cn.solve_member(cn.NASH, xu, lower, upper, s1, m1, 0.0, 1.0, 30, 1e-8, buf1)
                    umax = cn.member_value(cn.NASH, xu, s1, m1, 0.0, 1.0, buf1)
                    span[i] = max(umax - thr[i], max(eps[j, i], 1e-9))
                member = (xm, Ax, lin, wv, wn, thr, eps[j], span, veto, xp)
                cn.solve_member(cn.KS, new, lower, upper, sparse, member, prox, ks_T, ks_iters, ks_tol, buf)
            else:
                member = (xm, Ax, lin, wv, wn, thr, eps[j], span, veto, xp)
                cn.solve_member(
                    cn.NASH, new, lower, upper, sparse, member, prox, 1.0, iters[p], 1e-8, buf, False
                )
            moved = 0.0
            fresh = False  # whether V1, dV1, wq1 now hold the values and gradients at the accepted text
            for step in (1.0, 0.5, 0.25):
                for k in range(K):
                    cand[k] = x[k] + step * (new[k] - x[k])
                grad_here = step == 1.0 and p < n_passes - 1  # most full steps are kept and re-linearised
                pc = _text_objective(cand, Xn, j, r, L[j], xp, grad_here, ctx)
                if pc > phi:
                    for k in range(K):
                        moved = max(moved, abs(cand[k] - x[k]))
                        x[k] = cand[k]
                    phi = pc
                    fresh = grad_here
                    break
            if moved <= settled:
                break


@compiled()
def snap_to_options(X, options, n_options):
    """Each issue ``k`` with ``n_options[k] > 0`` snapped to its nearest option (the first of equals).

    ``options`` (K, max options) holds issue k's options in its first ``n_options[k]`` entries. The same
    numbers as numpy's ``argmin(abs(options - x))`` (first minimum; an issue that is NaN takes its first
    option), without its (B, options) temporaries per issue. Called by :func:`sim.model.mediation.snap`.
    """
    B, K = X.shape
    out = X.copy()
    for j in range(B):
        for k in range(K):
            m = n_options[k]
            if m == 0:
                continue
            best_o = 0
            best = abs(options[k, 0] - X[j, k])
            for o in range(1, m):
                dist = abs(options[k, o] - X[j, k])
                if dist < best:
                    best, best_o = dist, o
            out[j, k] = options[k, best_o]
    return out


def option_table(prm) -> tuple[np.ndarray, np.ndarray]:
    """Return the snapped issues' options as arrays for :func:`snap_to_options` (kept by ``ModelParams``).

    Issues without options, and the territorial line (snapped to no option: see ``mediation.snap``), get
    ``n_options`` 0.
    """
    counts = [0 if (not opts or k == prm.k_terr) else len(opts) for k, opts in enumerate(prm.options)]
    table = np.zeros((prm.K, max([1, *counts])))
    for k, m in enumerate(counts):
        table[k, :m] = prm.options[k][:m]
    return table, np.asarray(counts, np.int64)


@compiled()
def repeats_refusal(rows, kind, X, W_m0, has, refused_X, refused_L, refused_W, refused_levers, refused_events,
                    L, n_levers, fired, text_tol, line_tol, option_tol, counted):  # fmt: skip
    """Return where tabling the packages X (B, K) of ``kind`` would table a refused package unchanged.

    True for member j (replicate ``rows[j]``) where a package of that kind was refused (``has``), no issue
    of X moved by more than ``text_tol`` from it, the line L by at most ``line_tol``, no outside option in
    ``W_m0`` (B, n) by more than ``option_tol`` (R, n) for the actors ``counted`` (n,), and neither the
    count of levers applied nor of events fired changed. The per-replicate arrays (the refused package's
    record, (R, kinds, ...), L, n_levers, fired (R, events)) are read in place. A NaN difference counts as a
    move. Called by :func:`sim.model.mediation.unchanged_since_refusal`, whose docstring says why.
    """
    B, K = X.shape
    n = W_m0.shape[1]
    out = np.zeros(B, np.bool_)
    for j in range(B):
        r = rows[j]
        if not has[r, kind] or not abs(L[r] - refused_L[r, kind]) <= line_tol:
            continue
        if n_levers[r] != refused_levers[r, kind]:
            continue
        same = True
        for k in range(K):
            if not abs(X[j, k] - refused_X[r, kind, k]) <= text_tol:
                same = False
                break
        for i in range(n):
            if same and counted[i] and not abs(W_m0[j, i] - refused_W[r, kind, i]) <= option_tol[r, i]:
                same = False
        if not same:
            continue
        n_fired = 0
        for e in range(fired.shape[1]):
            n_fired += fired[r, e]
        out[j] = n_fired == refused_events[r, kind]
    return out


@compiled()
def project_moves(x, new, rows, L, W, thr, ideal_all, P, steps):
    """Pull each actor's move x -> new back so that it never declares below its reservation (memo P7a).

    Actor i's deal value at its own declared position must stay >= ``thr`` (W_i + tau_i): where the new
    position violates it, bisect ``steps`` times along the move (keeping the old position if that already
    violates it). Called by :func:`sim.model.influence.influence_phase`.
    Shapes: x, new (B, n, K); rows, L (B,); W, thr (B, n); ideal_all (R, n, K) true ideal points.
    """
    B, n, K = x.shape
    out = new.copy()
    Xb = np.empty((1, n, K))
    V = np.empty((1, n))
    dV = np.zeros((1, n, K))
    wq = np.empty((1, n))
    tmp = np.empty((4, K))
    good_new = np.empty(n, np.bool_)
    good_old = np.empty(n, np.bool_)
    lo = np.empty(n)
    hi = np.empty(n)
    for j in range(B):
        r = rows[j]
        Wj = W[j : j + 1]
        ideal = ideal_all[r : r + 1]
        Xb[0] = new[j]
        value_row(Xb, 0, r, L[j], Wj, ideal, False, True, P, V, dV, wq, tmp)
        all_good = True
        for i in range(n):
            good_new[i] = V[0, i] >= thr[j, i]
            all_good = all_good and good_new[i]
        if all_good:
            continue
        Xb[0] = x[j]
        value_row(Xb, 0, r, L[j], Wj, ideal, False, True, P, V, dV, wq, tmp)
        bisect = False  # only an actor whose old position is fine but whose new one is not needs a cut
        for i in range(n):
            good_old[i] = V[0, i] >= thr[j, i]
            bisect = bisect or (good_old[i] and not good_new[i])
            lo[i] = 0.0
            hi[i] = 1.0
        for i in range(n if bisect else 0):  # the actors whose move must be cut, one at a time
            if not good_old[i] or good_new[i]:
                continue
            for _ in range(steps):
                mid = 0.5 * (lo[i] + hi[i])
                for k in range(K):
                    Xb[0, i, k] = x[j, i, k] + mid * (new[j, i, k] - x[j, i, k])
                value_row(Xb, 0, r, L[j], Wj, ideal, False, True, P, V, dV, wq, tmp, None, i)
                if V[0, i] >= thr[j, i]:
                    lo[i] = mid
                else:
                    hi[i] = mid
        for i in range(n):
            step = 1.0 if good_new[i] else (lo[i] if good_old[i] else 0.0)
            for k in range(K):
                out[j, i, k] = x[j, i, k] + step * (new[j, i, k] - x[j, i, k])
    return out


@compiled()
def war_lottery_values(rows, L, Lt, VL, sq_line, ideal, ideal_rows, L_lo, L_hi, L_min, k_terr, x_ua, x_ru,
                       x_sq, P):  # fmt: skip
    """Each actor's value of the war lottery's end point and of the wartime status quo (memo §1.5 P4).

    Returns (U_i(phi(L~_i)) - V_L,i b'A_i b, U_i(X^SQ)): the expected utility of the imposed terms at the
    believed end line L~_i, with the exact quadratic risk premium (memo §3, T2; zero for linear utility),
    and the utility of the status quo with the line at ``sq_line``. phi(L) = X^UA* + (X^RU* - X^UA*) pi(L)
    on the other issues, TERR = clip(L, L_min, 1). Called by
    :func:`sim.model.outside_option.option_value`. Shapes: rows, L (B,); Lt, VL, sq_line (B, n);
    x_ua, x_ru, x_sq (K,); member j's ideal points are ``ideal[ideal_rows[j]]`` (n, K), as in
    :func:`values_batch`.
    """
    Adiag, pk, pl, pv, linear = P.Adiag, P.pk, P.pl, P.pv, P.linear
    B, n, K = rows.shape[0], ideal.shape[1], ideal.shape[2]
    u_end = np.empty((B, n))
    u_sq = np.empty((B, n))
    Xb = np.empty((1, n, K))
    V = np.empty((1, n))
    dV = np.zeros((1, n, K))
    wq = np.empty((1, n))
    tmp = np.empty((4, K))
    b = np.empty((n, K))
    W0 = np.zeros((1, n))
    span = L_hi - L_lo
    for j in range(B):
        r = rows[j]
        idl = ideal[ideal_rows[j] : ideal_rows[j] + 1]
        for i in range(n):
            lt = Lt[j, i]
            pi = min(max((lt - L_lo) / span, 0.0), 1.0)
            inside = lt > L_lo and lt < L_hi
            for k in range(K):
                gap = x_ru[k] - x_ua[k]
                Xb[0, i, k] = x_ua[k] + gap * pi
                b[i, k] = gap / span if inside else 0.0
            if k_terr >= 0:
                Xb[0, i, k_terr] = min(max(lt, L_min), 1.0)
                b[i, k_terr] = 1.0
        value_row(Xb, 0, r, L[j], W0, idl, False, False, P, V, dV, wq, tmp)
        for i in range(n):
            bAb = 0.0
            if not linear:
                for k in range(K):
                    bAb += Adiag[r, i, k] * b[i, k] * b[i, k]
                for p in range(pk.shape[1]):
                    k = pk[i, p]
                    if k < 0:
                        break
                    bAb += 2.0 * pv[r, i, p] * b[i, k] * b[i, pl[i, p]]
            u_end[j, i] = V[0, i] - VL[j, i] * bAb
            for k in range(K):
                Xb[0, i, k] = x_sq[k]
            if k_terr >= 0:
                Xb[0, i, k_terr] = min(max(sq_line[j, i], L_min), 1.0)
        value_row(Xb, 0, r, L[j], W0, idl, False, False, P, V, dV, wq, tmp)
        for i in range(n):
            u_sq[j, i] = V[0, i]
    return u_end, u_sq
