"""P5: the commitment problem: a deal's value is discounted by the risk the other side reneges.

V_i(X) = (1 - q_i(X)) U_i(X) + q_i(X)[W_i - vartheta_i shift_i(X)] + beta_i^deal, with
q_i = 1 - exp(-H_c h_i(X)) and h_i = h0_i exp(-gamma_g theta X_G - gamma_f X_F - gamma_d dmz(X)
+ gamma_s shift_i(X)) (memo §1.5 P5). Guarantees, foreign forces and demilitarised zones lower the
perceived hazard (Walter 1997, 2002; Fortna 2003, 2004); a deal-induced power shift raises it and makes
renewed war worse (Fearon 1995; Powell 2006). With ``modules.commitment: false`` q = 0 and V = U + beta^deal.
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit

from sim.engines.nash import softplus, use_compiled
from sim.model import kernels
from sim.model.constants import DMZ_WIDTH, KINK_EPS, WITHDRAWAL_EPS
from sim.model.preferences import _bc, ref_sign, utility, utility_grad


def _parts(prm, X, L, rows, grad: bool = True):
    """shift_i(X), dmz(X), log h_i(X) and, if ``grad``, their gradients (else None)."""
    Xb = _bc(X, prm.n)
    R, n, K = Xb.shape
    eps = WITHDRAWAL_EPS
    XT = Xb[..., prm.k_terr] if prm.k_terr is not None else np.zeros((R, n))
    wd = XT - L[:, None]
    shift = prm.shift_const + np.einsum("nk,rnk->rn", prm.shift_lin, Xb) + prm.shift_wd * softplus(wd, eps)
    dmz = np.clip(wd / DMZ_WIDTH, 0.0, 1.0)
    theta = prm.theta[rows][:, None]
    kG, kF = prm.k["guarantee"], prm.k["forces"]
    XG = Xb[..., kG] if kG is not None else 0.0
    XF = Xb[..., kF] if kF is not None else 0.0
    logh_rest = -prm.g_guar * theta * XG - prm.g_forces * XF - prm.g_dmz * dmz + prm.g_shift * shift
    if not grad:  # values only: the gradient arrays are (R, n, K) and most callers do not need them
        return shift, None, logh_rest, None
    dshift = np.broadcast_to(prm.shift_lin, (R, n, K)).copy()
    ddmz = np.zeros((R, n, K))
    if prm.k_terr is not None:
        dshift[..., prm.k_terr] += prm.shift_wd * expit(wd / eps)
        ddmz[..., prm.k_terr] = ((wd > 0) & (wd < DMZ_WIDTH)) / DMZ_WIDTH
    dlogh = -prm.g_dmz[:, None] * ddmz + prm.g_shift[:, None] * dshift
    if kG is not None:
        dlogh[..., kG] -= prm.g_guar * theta
    if kF is not None:
        dlogh[..., kF] -= prm.g_forces
    return shift, dshift, logh_rest, dlogh


def reneging_prob(prm, X, L, rows) -> np.ndarray:
    """q_i(X): perceived probability the counterpart reneges within H_c, shape (R_sub, n)."""
    if not prm.modules["commitment"]:
        return np.zeros((L.shape[0], prm.n))
    _, _, logh, _ = _parts(prm, X, L, rows, grad=False)
    h = prm.h0[rows] * np.exp(logh)
    return -np.expm1(-prm.H_c * h)


def deal_value(prm, X, L, W, rows, grad: bool = False, ideal=None):
    """V_i(X) for every actor (and optionally its gradient and the quadratic weight 1 - q).

    Parameters
    ----------
    X : (R_sub, K) or (R_sub, n, K)
    L : (R_sub,)
    W : (R_sub, n) outside options
    rows : index array or mask into the replicate axis
    grad : bool
        Also return dV/dX (R_sub, n, K) and 1 - q (R_sub, n).
    ideal : (R_sub, n, K), optional
        Ideal points to use instead of the true ones (the mediator's model of the parties).

    Notes
    -----
    The model runs the compiled :func:`sim.model.kernels.values_batch`; this numpy code is the reference
    it is tested against (``NEGSIM_NUMPY=1`` runs it instead).
    """
    if use_compiled():
        return kernels.evaluate(prm, X, L, W, rows, ideal=ideal, grad=grad, commitment=True)
    if grad:
        U, dU = utility_grad(prm, X, L, rows, ideal)
    else:
        U, dU = utility(prm, X, L, rows, ideal), None
    bonus = prm.deal_bonus[rows]
    if not prm.modules["commitment"]:
        V = U + bonus
        return (V, dU, np.ones_like(V)) if grad else V
    shift, dshift, logh, dlogh = _parts(prm, X, L, rows, grad=grad)
    h = prm.h0[rows] * np.exp(logh)
    q = -np.expm1(-prm.H_c * h)
    vt = prm.vartheta[rows]
    fallback = W - vt * shift
    V = (1.0 - q) * U + q * fallback + bonus
    if not grad:
        return V
    dq = ((1.0 - q) * prm.H_c * h)[..., None] * dlogh
    dV = (1.0 - q)[..., None] * dU + dq * (fallback - U)[..., None] - (q * vt)[..., None] * dshift
    return V, dV, 1.0 - q


def deal_values_both(prm, X, L, W, rows, W_m, ideal_m) -> tuple[np.ndarray, np.ndarray]:
    """V_i(X) for the parties (true ideal points, W) and for the mediator's model (``ideal_m``, ``W_m``).

    As two calls of :func:`deal_value`. A round judges its text both ways; compiled, the text's own terms
    (the kinks, the reneging discount) are computed once for both (:func:`sim.model.kernels.values_pair`),
    with the same numbers.
    """
    if use_compiled():
        return kernels.evaluate_pair(prm, X, L, W, rows, W_m, ideal_m)
    return deal_value(prm, X, L, W, rows), deal_value(prm, X, L, W_m, rows, ideal=ideal_m)


def kink_curvature(prm, X, L, W, rows, ideal=None) -> np.ndarray:
    """-d2 V_i / dX_TERR^2 of the two smoothed kinks at the contact line, clipped at 0, (R_sub, n).

    The reference point's kink zeta sp(s (X_T - L)) bends U_i; the withdrawal's softplus in the power shift
    bends shift_i, and through it the hazard and the fallback. Their curvature (width 0.01 in TERR units)
    is what the mediator's SQP adds to its quadratic model of V_i (:func:`sim.model.mediation.solve_text`):
    without it the model is flat across the kink and its steps overshoot it. Second derivatives of the
    smooth parts only; the other terms of the Hessian (the hazard's gradient times U's) are left out, as
    they are not negative semidefinite. The compiled twin is ``kernels.value_row``'s ``kink`` output.
    """
    R = L.shape[0]
    if prm.k_terr is None:
        return np.zeros((R, prm.n))
    XT = _bc(X, prm.n)[..., prm.k_terr]
    bend = np.zeros((R, prm.n))
    if prm.modules["reference_point"]:
        sgn = ref_sign(prm)
        sig = expit(sgn * (XT - L[:, None]) / KINK_EPS)
        bend = prm.zeta[rows] * sgn * sgn * sig * (1.0 - sig) / KINK_EPS
    if not prm.modules["commitment"]:
        return np.maximum(bend, 0.0)
    U = utility(prm, X, L, rows, ideal)
    shift, _, logh, _ = _parts(prm, X, L, rows, grad=False)
    h = prm.h0[rows] * np.exp(logh)
    q = -np.expm1(-prm.H_c * h)
    vt = prm.vartheta[rows]
    c = (1.0 - q) * prm.H_c * h * (W - vt * shift - U)
    sig_wd = expit((XT - L[:, None]) / WITHDRAWAL_EPS)
    s2 = prm.shift_wd * sig_wd * (1.0 - sig_wd) / WITHDRAWAL_EPS
    return np.maximum((1.0 - q) * bend - (c * prm.g_shift - q * vt) * s2, 0.0)
