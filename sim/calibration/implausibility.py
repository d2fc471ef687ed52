"""The implausibility of a parameter draw against observed facts (pure numpy).

For a draw ``x`` and a fact ``j`` with observed value ``z_j``::

    I_j(x) = |z_j - E[f_j(x)]| / sqrt(V_obs,j + V_md,j + V_s,j(x))

``E[f_j(x)]`` and ``V_s,j(x)`` are the mean and the variance of the fact's statistic over the ``P`` paths
(replicates) run at the same draw: a stochastic simulator's ensemble variance, the part of the mismatch
that the world's own randomness explains, because the observed history is one path (Andrianakis et al.
2015, eq. 4). ``V_obs`` is the observation uncertainty and ``V_md`` the model discrepancy, the known
inadequacy of the model that keeps history matching from over-fitting (Kennedy & O'Hagan 2001; Craig et
al. 1997; Vernon, Goldstein & Bower 2010, eq. 6). The draw's implausibility is the largest over the facts,
``I(x) = max_j I_j(x)``; the second largest is reported too, being robust to one fact the model cannot
match (Vernon et al. 2010, §3.1). A draw is non-implausible when ``I(x) <= 3``: by Pukelsheim's (1994)
three-sigma rule any unimodal distribution puts at least 95% of its mass within three standard deviations
of its mean, so a draw beyond 3 is ruled out at that level whatever the statistic's distribution.

References
----------
Andrianakis I. et al. (2015) Bayesian history matching of complex infectious disease models using
emulation. PLoS Comput Biol 11(1): e1003968.
Craig P.S., Goldstein M., Seheult A.H., Smith J.A. (1997) Pressure matching for hydrocarbon reservoirs.
Case Studies in Bayesian Statistics III, 37-93.
Kennedy M.C., O'Hagan A. (2001) Bayesian calibration of computer models. JRSS B 63(3): 425-464.
Pukelsheim F. (1994) The three sigma rule. The American Statistician 48(2): 88-91.
Vernon I., Goldstein M., Bower R.G. (2010) Galaxy formation: a Bayesian uncertainty analysis. Bayesian
Analysis 5(4): 619-669.
"""

from __future__ import annotations

import numpy as np

#: Pukelsheim's three-sigma rule: the cut-off of the implausibility.
CUTOFF = 3.0


def implausibility(observed: np.ndarray, obs_var: np.ndarray, md_var: np.ndarray, mean: np.ndarray,
                   ens_var: np.ndarray) -> np.ndarray:
    """``I_j(x) = |z_j - E_j(x)| / sqrt(V_obs,j + V_md,j + V_s,j(x))`` for every draw and fact.

    Parameters
    ----------
    observed, obs_var, md_var
        Per fact, shape (J,): ``z_j``, ``V_obs,j`` and ``V_md,j``.
    mean, ens_var
        Per draw and fact, shape (N, J): the statistic's mean and variance over the draw's paths.

    Returns
    -------
    numpy.ndarray
        Shape (N, J). A zero total variance gives 0 for an exact match and infinity otherwise; a NaN mean
        (the statistic undefined on every path) gives infinity: nothing shows the draw can match.
    """
    z = np.asarray(observed, dtype=float)[None, :]
    total = np.asarray(obs_var, dtype=float)[None, :] + np.asarray(md_var, dtype=float)[None, :] \
        + np.asarray(ens_var, dtype=float)
    gap = np.abs(z - np.asarray(mean, dtype=float))
    with np.errstate(divide="ignore", invalid="ignore"):
        out = gap / np.sqrt(total)
    out = np.where(gap == 0, 0.0, out)
    return np.where(np.isnan(out), np.inf, out)


def max_implausibility(imp: np.ndarray, k: int = 1) -> np.ndarray:
    """Return the ``k``-th largest implausibility of each draw over the facts (``k=1``: the maximum).

    With fewer than ``k`` facts the result is the smallest one's.
    """
    imp = np.asarray(imp, dtype=float)
    k = min(k, imp.shape[1])
    return -np.sort(-imp, axis=1)[:, k - 1]


def non_implausible(imp: np.ndarray, cutoff: float = CUTOFF) -> np.ndarray:
    """Boolean (N,): ``max_j I_j(x) <= cutoff``."""
    return max_implausibility(imp) <= cutoff


def ruled_out_by(imp: np.ndarray, cutoff: float = CUTOFF) -> dict[str, np.ndarray]:
    """Per fact, the share of draws it rules out, alone (``I_j > cutoff``) and as the only fact doing so.

    Returns ``{"alone": (J,), "only": (J,)}``: ``alone[j]`` is the share of draws with ``I_j > cutoff``;
    ``only[j]`` the share that fact ``j`` alone rules out (every other fact would keep them).
    """
    imp = np.asarray(imp, dtype=float)
    out = imp > cutoff
    n = max(1, imp.shape[0])
    only = out & (out.sum(axis=1, keepdims=True) == 1)
    return {"alone": out.sum(axis=0) / n, "only": only.sum(axis=0) / n}
