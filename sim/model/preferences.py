"""Preferences: quadratic spatial utility with issue linkage and a reference-point kink (memo §1.3).

U_i(X) = -(X - x_i)' A_i (X - x_i) - zeta_i sp_eps(+-(X_T - L_t)), where A_i holds normalised saliences on
the diagonal and linkage (issue complementarity; Sebenius 1983) off it, and the kink makes the contact
line focal: the defender pays for ceding held ground, the advancer for withdrawing (Kahneman & Tversky
1979; Levy 1996; Schelling 1960). With ``modules.reference_point: false`` the kink is off. With
``scenario.structure.utility_shape: linear`` the quadratic part is -sum_k A_i,kk |X_k - x_i,k| (linkage
ignored): risk-neutral shares of a pie between ideal points, the textbook games of memo §3 (T6's
convergence corollary; Fearon 1995).
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit

from sim.engines.nash import softplus, use_compiled
from sim.model import kernels
from sim.model.constants import KINK_EPS

TAKE_CACHE_SIZE = 4  # row sets remembered per array


def take(prm, name: str, rows) -> np.ndarray:
    """``getattr(prm, name)[rows]`` with a small cache per array (rounds evaluate the same rows often).

    Gathering the (R_sub, n, K, K) utility matrices dominates a round's cost if repeated; the cache is keyed
    by the row indices' bytes and keeps the last few row sets (a round alternates between its rows and the
    subsets still moving), and slices are views anyway.
    """
    arr = getattr(prm, name)
    if isinstance(rows, slice):
        return arr[rows]
    rows = np.asarray(rows)
    key = (rows.dtype.str, rows.shape, rows.tobytes())
    cache = prm.__dict__.setdefault("_take_cache", {}).setdefault(name, {})
    out = cache.get(key)
    if out is None:
        out = arr[rows]
        if len(cache) >= TAKE_CACHE_SIZE:
            del cache[next(iter(cache))]  # the oldest entry
        cache[key] = out
    return out


def ref_sign(prm) -> np.ndarray:
    """+1 for the defender (pays for X_T > L), -1 for the advancer (pays for X_T < L), 0 for others."""
    s = np.zeros(prm.n)
    if prm.dfd is not None:
        s[prm.dfd] = 1.0
    if prm.adv is not None:
        s[prm.adv] = -1.0
    return s


def _bc(X: np.ndarray, n: int) -> np.ndarray:
    """(R, K) -> (R, n, K); (R, n, K) unchanged."""
    return X if X.ndim == 3 else np.broadcast_to(X[:, None, :], (X.shape[0], n, X.shape[-1]))


def quad_utility(prm, X: np.ndarray, rows, ideal: np.ndarray | None = None) -> np.ndarray:
    """Quadratic part -(X - x_i)' A_i (X - x_i), shape (R_sub, n); X is (R_sub, K) or (R_sub, n, K).

    ``ideal`` (R_sub, n, K) overrides the true ideal points (the mediator's model uses declared positions).
    """
    d = _bc(X, prm.n) - (take(prm, "ideal", rows) if ideal is None else ideal)
    if prm.linear_utility:
        return -np.einsum("...k,...k->...", np.abs(d), np.diagonal(take(prm, "A", rows), axis1=-2, axis2=-1))
    return -np.einsum("...k,...k->...", d, (take(prm, "A", rows) @ d[..., None])[..., 0])


def kink(prm, X: np.ndarray, L: np.ndarray, rows) -> tuple[np.ndarray, np.ndarray]:
    """Return the reference penalty zeta_i sp(s_i (X_T - L)) and its derivative in X_T, (R_sub, n) each."""
    R = L.shape[0]
    if prm.k_terr is None or not prm.modules["reference_point"]:
        z = np.zeros((R, prm.n))
        return z, z
    XT = _bc(X, prm.n)[..., prm.k_terr]
    sgn = ref_sign(prm)
    z = sgn * (XT - L[:, None])
    eps = KINK_EPS
    zeta = prm.zeta[rows]
    return zeta * softplus(z, eps), zeta * sgn * expit(z / eps)


def utility(prm, X: np.ndarray, L: np.ndarray, rows, ideal: np.ndarray | None = None) -> np.ndarray:
    """Full utility U_i(X) of every actor (quadratic minus the reference kink), shape (R_sub, n).

    Compiled by :func:`sim.model.kernels.values_batch` unless ``NEGSIM_NUMPY=1`` (this code is the reference).
    """
    if use_compiled():
        return kernels.evaluate(prm, X, L, None, rows, ideal=ideal, commitment=False)
    return quad_utility(prm, X, rows, ideal) - kink(prm, X, L, rows)[0]


def utility_grad(
    prm, X: np.ndarray, L: np.ndarray, rows, ideal: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """U_i(X) and its gradient in X, shapes (R_sub, n) and (R_sub, n, K)."""
    d = _bc(X, prm.n) - (take(prm, "ideal", rows) if ideal is None else ideal)
    if prm.linear_utility:
        a = np.diagonal(take(prm, "A", rows), axis1=-2, axis2=-1)
        U = -np.einsum("...k,...k->...", np.abs(d), a)
        g = -a * np.sign(d)
    else:
        Ad = (take(prm, "A", rows) @ d[..., None])[..., 0]
        U = -np.einsum("...k,...k->...", d, Ad)
        g = -2.0 * Ad
    pen, dpen = kink(prm, X, L, rows)
    if prm.k_terr is not None:
        g[..., prm.k_terr] -= dpen
    return U - pen, g
