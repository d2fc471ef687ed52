"""P5: the commitment problem: a deal's value is discounted by the risk the other side reneges.

V_i(X) = (1 - q_i(X)) U_i(X) + q_i(X)[W_i - vartheta_i shift_i(X)] + beta_i^deal, with
q_i = 1 - exp(-H_c h_i(X)) and h_i = h0_i exp(-gamma_g theta X_G - gamma_f X_F - gamma_d dmz(X)
+ gamma_s shift_i(X)) (memo §1.5 P5). Guarantees, foreign forces and demilitarised zones lower the
perceived hazard (Walter 1997, 2002; Fortna 2003, 2004); a deal-induced power shift raises it and makes
renewed war worse (Fearon 1995; Powell 2006). With ``modules.commitment: false`` q = 0 and V = U + beta^deal.

The formulas, their gradient and the kinks' curvature are written once, per replicate and actor, in
:func:`sim.model.kernels.value_row` (compiled for batches; run uncompiled with ``NUMBA_DISABLE_JIT=1`` as
the readable reference). This module is their array interface; ``tests/test_model_kernels.py`` checks the
gradient and the curvature against finite differences.
"""

from __future__ import annotations

import numpy as np

from sim.model import kernels


def reneging_prob(prm, X: np.ndarray, L: np.ndarray, rows) -> np.ndarray:
    """q_i(X): perceived probability the counterpart reneges within H_c, shape (R_sub, n); X is (R_sub, K)."""
    return kernels.reneging(prm, X, L, rows)


def utility_and_reneging(prm, X: np.ndarray, L: np.ndarray, rows) -> tuple[np.ndarray, np.ndarray]:
    """U_i(X) (:func:`sim.model.preferences.utility`) and q_i(X) (:func:`reneging_prob`) in one pass."""
    return kernels.utility_and_reneging(prm, X, L, rows)


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
    """
    return kernels.evaluate(prm, X, L, W, rows, ideal=ideal, grad=grad, commitment=True)


def deal_values_both(prm, X, L, W, rows, W_m, ideal_m) -> tuple[np.ndarray, np.ndarray]:
    """V_i(X) for the parties (true ideal points, W) and for the mediator's model (``ideal_m``, ``W_m``).

    A round judges its text both ways; the text's own terms (the kinks, the reneging discount) are computed
    once for both (:func:`sim.model.kernels.values_pair`), with the numbers of two :func:`deal_value` calls.
    """
    return kernels.evaluate_pair(prm, X, L, W, rows, W_m, ideal_m)
