"""Preferences: quadratic spatial utility with issue linkage and a reference-point kink (memo §1.3).

U_i(X) = -(X - x_i)' A_i (X - x_i) - zeta_i sp_eps(+-(X_T - L_t)), where A_i holds normalised saliences on
the diagonal and linkage (issue complementarity; Sebenius 1983) off it, and the kink makes the contact
line focal: the defender pays for ceding held ground, the advancer for withdrawing (Kahneman & Tversky
1979; Levy 1996; Schelling 1960). With ``modules.reference_point: false`` the kink is off. With
``scenario.structure.utility_shape: linear`` the quadratic part is -sum_k A_i,kk |X_k - x_i,k| (linkage
ignored): risk-neutral shares of a pie between ideal points, the textbook games of memo §3 (T6's
convergence corollary; Fearon 1995).

The formula is written once, per replicate and actor, in :func:`sim.model.kernels.value_row`: compiled
with Numba for batches, and the same Python source run uncompiled (``NUMBA_DISABLE_JIT=1``) is the
readable reference. This module is its array interface.
"""

from __future__ import annotations

import numpy as np

from sim.model import kernels


def utility(prm, X: np.ndarray, L: np.ndarray, rows, ideal: np.ndarray | None = None) -> np.ndarray:
    """Full utility U_i(X) of every actor (quadratic minus the reference kink), shape (R_sub, n).

    X is (R_sub, K) (one text for all actors) or (R_sub, n, K) (each actor's own point); ``ideal``
    (R_sub, n, K) overrides the true ideal points (the mediator's model uses declared positions).
    """
    return kernels.evaluate(prm, X, L, None, rows, ideal=ideal, commitment=False)

