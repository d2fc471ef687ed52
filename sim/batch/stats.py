"""Outcome statistics of a two-level Monte Carlo batch, as small pure functions over arrays.

The batch summary and the analysis layer share these. Conventions:

* ``counts`` is an integer array of shape ``(D, C)``: for each parameter draw ``d``, how many of its
  paths ended in class ``c``.
* ``p`` is the pooled probability (all replicates), the Monte Carlo estimate of the probability averaged
  over parameter uncertainty.
* ``lo``/``hi`` is the 95% interval the user reads. It must show parameter uncertainty, not only Monte
  Carlo error (memo §4.1 guard 1): it is the 2.5%/97.5% range of the *true* per-draw probability
  across parameter draws, widened where needed to contain the pooled Wilson interval
  (``lo = min(q2.5, wilson_lo)``, ``hi = max(q97.5, wilson_hi)``), hence ``lo <= p <= hi`` always, and
  when parameters are nearly certain the interval never shrinks below Monte Carlo error.
  The observed per-draw frequency of a draw with ``n`` paths is the true probability plus binomial noise;
  with the default 10-20 paths that noise dominates (frequencies are multiples of 1/n, and their raw
  2.5-97.5% range is often [0, 1]). :func:`between_draw_quantiles` therefore separates the two by the
  beta-binomial method of moments (Kleinman 1973; Williams 1975): ``Var(theta) = (Var(f) - mu(1-mu)/n) /
  (1 - 1/n)``, then a beta distribution with that mean and variance gives the quantiles.
  ``p10``/``p50``/``p90`` are quantiles of the same distribution.
* ``mc_lo``/``mc_hi``: Wilson 95% interval of ``p`` from all ``N`` replicates (Monte Carlo error only;
  Wilson 1927), ``se``: standard error of ``p`` with draws as clusters, ``sqrt(var_d(p_d) / D)``, which is
  the Monte Carlo error of ``p`` under two-level sampling (Cochran 1977, *Sampling Techniques*, §9.2);
  with a single draw it falls back to the binomial ``sqrt(p (1 - p) / N)`` (memo §4.5).

References
----------
Wilson, E. B. (1927). Probable inference, the law of succession, and statistical inference. JASA 22,
209-212.
Brown, L. D., Cai, T. T. & DasGupta, A. (2001). Interval estimation for a binomial proportion.
Statistical Science 16, 101-133.
Kleinman, J. C. (1973). Proportions with extraneous variance: single and independent samples. JASA 68,
46-54.
Williams, D. A. (1975). The analysis of binary responses from toxicological experiments involving
reproduction and teratogenicity. Biometrics 31, 949-952.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import beta, norm

#: Two-sided 95% normal quantile.
Z95 = float(norm.ppf(0.975))


def wilson_interval(
    k: np.ndarray | float, n: np.ndarray | float, z: float = Z95
) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval for ``k`` successes in ``n`` trials (vectorised).

    ``center = (p + z^2/2n) / (1 + z^2/n)``, ``half = z / (1 + z^2/n) * sqrt(p(1-p)/n + z^2/4n^2)``.
    It contains ``p = k/n`` and stays inside [0, 1]; with ``n = 0`` it is ``(0, 1)``.
    """
    k = np.asarray(k, dtype=float)
    n = np.asarray(n, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = np.where(n > 0, k / n, 0.5)
        denom = 1.0 + z * z / n
        center = (p + z * z / (2 * n)) / denom
        half = z / denom * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
        lo = np.where(n > 0, np.clip(center - half, 0.0, 1.0), 0.0)
        hi = np.where(n > 0, np.clip(center + half, 0.0, 1.0), 1.0)
    # guard against rounding at the ends: the interval contains p
    lo = np.minimum(lo, np.where(n > 0, p, 0.0))
    hi = np.maximum(hi, np.where(n > 0, p, 1.0))
    return lo, hi


def draw_counts(draw: np.ndarray, codes: np.ndarray, n_draws: int, n_classes: int) -> np.ndarray:
    """Count replicates per (draw, class): ``(D, C)`` int64 array (one ``bincount``, no Python loop)."""
    flat = np.asarray(draw, dtype=np.int64) * n_classes + np.asarray(codes, dtype=np.int64)
    return np.bincount(flat, minlength=n_draws * n_classes).reshape(n_draws, n_classes)


def per_draw_probabilities(counts: np.ndarray) -> np.ndarray:
    """Per-draw class probabilities ``counts / paths``; draws without replicates are dropped."""
    counts = np.asarray(counts)
    totals = counts.sum(axis=1)
    keep = totals > 0
    return counts[keep] / totals[keep, None]


def quantiles(x: np.ndarray, qs: tuple[float, ...] | list[float], axis: int = 0) -> np.ndarray:
    """Quantiles of ``x`` along ``axis`` (numpy's default linear interpolation, Hyndman & Fan type 7)."""
    return np.quantile(np.asarray(x, dtype=float), qs, axis=axis)


def between_draw_quantiles(
    per_draw: np.ndarray, paths: np.ndarray | float, qs: tuple[float, ...] | list[float]
) -> np.ndarray:
    """Quantiles of the true per-draw probability across draws, binomial noise removed.

    Parameters
    ----------
    per_draw : numpy.ndarray
        ``(D, C)`` observed per-draw frequencies.
    paths : numpy.ndarray or float
        Paths behind each draw's frequency (``(D,)`` or one number).
    qs : sequence of float
        Probabilities of the quantiles wanted.

    Returns
    -------
    numpy.ndarray
        ``(len(qs), C)``. Method of moments for the beta-binomial (Kleinman 1973; Williams 1975): with
        ``mu`` the mean frequency, ``f`` the observed frequencies and ``1/n`` the mean inverse path count,
        ``Var(theta) = max(0, (Var(f) - mu(1-mu)/n) / (1 - 1/n))``, capped just below ``mu(1-mu)``;
        a beta distribution with that mean and variance gives the quantiles. Without spread left (or
        a class never or always seen) every quantile is ``mu``. With a single path per draw the two
        variances cannot be separated and the raw quantiles of ``f`` are returned (conservative).
    """
    f = np.asarray(per_draw, dtype=float)
    qs = np.asarray(qs, dtype=float)
    n_draws, n_classes = f.shape
    mu = f.mean(axis=0)
    inv_n = float(np.mean(1.0 / np.asarray(paths, dtype=float)))
    if n_draws < 2:
        return np.broadcast_to(mu, (len(qs), n_classes)).copy()
    if inv_n >= 1.0:
        return quantiles(f, qs)
    binom = mu * (1.0 - mu)
    var_theta = np.clip((f.var(axis=0, ddof=1) - binom * inv_n) / (1.0 - inv_n), 0.0, 0.999 * binom)
    out = np.broadcast_to(mu, (len(qs), n_classes)).copy()
    spread = var_theta > 1e-12
    if np.any(spread):
        nu = binom[spread] / var_theta[spread] - 1.0
        out[:, spread] = beta.ppf(qs[:, None], mu[spread] * nu, (1.0 - mu[spread]) * nu)
    return out


def clustered_se(per_draw: np.ndarray, pooled: np.ndarray, n: int) -> np.ndarray:
    """Return the standard error of the pooled probability, draws as clusters (binomial if one draw)."""
    per_draw = np.asarray(per_draw, dtype=float)
    d = per_draw.shape[0]
    if d < 2:
        return np.sqrt(np.asarray(pooled) * (1 - np.asarray(pooled)) / max(n, 1))
    return np.sqrt(per_draw.var(axis=0, ddof=1) / d)


def outcome_probabilities(
    counts: np.ndarray, classes: list[str] | tuple[str, ...]
) -> dict[str, dict[str, float]]:
    """Summarise ``(D, C)`` outcome counts into the summary.json record of every class.

    Returns ``{class: {p, lo, hi, mc_lo, mc_hi, p10, p50, p90, se}}`` (rules in the module docstring).
    The ``p`` of all classes sum to 1 (up to floating point).
    """
    counts = np.asarray(counts, dtype=np.int64)
    n = int(counts.sum())
    k = counts.sum(axis=0)
    pooled = k / n if n else np.full(len(classes), np.nan)
    pd_ = per_draw_probabilities(counts)
    totals = counts.sum(axis=1)
    q = between_draw_quantiles(pd_, totals[totals > 0], [0.025, 0.10, 0.50, 0.90, 0.975])
    mc_lo, mc_hi = wilson_interval(k, n)
    lo = np.minimum(q[0], mc_lo)
    hi = np.maximum(q[4], mc_hi)
    se = clustered_se(pd_, pooled, n)
    out = {}
    for c, name in enumerate(classes):
        out[name] = {
            "p": float(pooled[c]), "lo": float(lo[c]), "hi": float(hi[c]),
            "mc_lo": float(mc_lo[c]), "mc_hi": float(mc_hi[c]),
            "p10": float(q[1, c]), "p50": float(q[2, c]), "p90": float(q[3, c]), "se": float(se[c]),
        }
    return out


def binned_quantile(counts: np.ndarray, mins: np.ndarray, q: float, total: int) -> float | None:
    """Inverted-CDF quantile from a histogram that keeps each bin's smallest value.

    The ``q`` quantile is the smallest value ``x`` with ``#(values <= x) >= q * total`` (Hyndman & Fan
    type 1). ``total`` may exceed ``counts.sum()``: the excess are right-censored values beyond the last
    bin, so the quantile is ``None`` when it falls among them. The answer is the smallest value seen in
    the bin where the CDF crosses ``q``: exact when values are discrete (weeks, option points), within
    one bin width otherwise, with memory independent of the number of values.
    """
    if total <= 0:
        return None
    cum = np.cumsum(counts)
    need = max(1, int(np.ceil(q * total - 1e-9)))
    idx = int(np.searchsorted(cum, need, side="left"))
    if idx >= len(cum):
        return None
    return float(mins[idx])
