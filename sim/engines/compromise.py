"""The compromise model: capability x salience weighted mean of positions.

The compromise model (van den Bos 1991; Achen 2006; Thomson et al. 2006) predicts the outcome on each issue
as the mean of the actors' positions weighted by capability times salience. It is the limit of the weighted
Nash bargaining solution when every actor's disagreement value is far below the feasible set (memo §3, T1),
and in EU legislative data it forecasts as well as strategic models (Achen 2006).

References
----------
Achen, C. H. (2006). Institutional realism and bargaining models. In Thomson et al. (eds.), *The European
Union Decides*. Cambridge University Press.
van den Bos, J. M. M. (1991). *Dutch EC Policy Making*. Thesis Publishers.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray


def compromise(positions: ArrayLike, capability: ArrayLike, salience: ArrayLike) -> NDArray[np.float64]:
    """Capability x salience weighted mean of positions, per issue.

    Parameters
    ----------
    positions : array_like, shape (..., n, K)
        Position of each of n actors on each of K issues.
    capability : array_like, shape (..., n)
        Capability (clout) of each actor; broadcast over issues.
    salience : array_like, shape (..., n, K)
        Salience of each issue to each actor.

    Returns
    -------
    ndarray, shape (..., K)
        The weighted mean per issue. Where every weight on an issue is zero the plain mean is returned.
    """
    x = np.asarray(positions, dtype=float)
    c = np.asarray(capability, dtype=float)[..., :, None]
    s = np.asarray(salience, dtype=float)
    w = np.broadcast_to(c * s, x.shape)
    tot = w.sum(axis=-2)
    num = (w * x).sum(axis=-2)
    safe = tot > 0
    return np.where(safe, num / np.where(safe, tot, 1.0), x.mean(axis=-2))


def weighted_median(positions: ArrayLike, weights: ArrayLike) -> NDArray[np.float64]:
    """Weighted median per issue: the position no weighted majority wants to move away from (1-D).

    With linear loss and votes proportional to capability x salience this is BDM's Condorcet winner on one
    issue (memo §3, T1b; Black 1948). Ties go to the lower position.

    Parameters
    ----------
    positions : array_like, shape (..., n, K)
    weights : array_like, shape (..., n, K) or (..., n)
        Votes of each actor (e.g. capability x salience).

    Returns
    -------
    ndarray, shape (..., K)
    """
    x = np.asarray(positions, dtype=float)
    w = np.asarray(weights, dtype=float)
    if w.ndim == x.ndim - 1:
        w = w[..., None]
    w = np.broadcast_to(w, x.shape)
    order = np.argsort(x, axis=-2, kind="stable")
    xs = np.take_along_axis(x, order, axis=-2)
    ws = np.take_along_axis(w, order, axis=-2)
    cum = np.cumsum(ws, axis=-2)
    half = 0.5 * cum[..., -1:, :]
    idx = np.argmax(cum >= half, axis=-2)
    return np.take_along_axis(xs, idx[..., None, :], axis=-2)[..., 0, :]
