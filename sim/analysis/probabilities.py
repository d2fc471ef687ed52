"""Outcome probabilities with honest intervals (memo §4.1, guard 1: two-level Monte Carlo).

Two kinds of uncertainty are reported side by side and never mixed up:

* Monte Carlo error of the pooled probability: the Wilson score interval (the batch layer's
  :func:`sim.batch.stats.wilson_interval`, shared with summary.json) (Wilson 1927; Brown, Cai &
  DasGupta 2001 recommend it over the Wald interval for the sample sizes and small probabilities met here).
  It shrinks with the number of replicates and says nothing about whether the assumptions are right.
* Parameter (epistemic) uncertainty: the spread across outer draws of the true per-draw outcome
  probability, reported as the median and the 80% and 95% ranges. The observed per-draw frequencies
  also carry binomial noise from the few paths per draw; :func:`sim.batch.stats.between_draw_quantiles`
  removes it (beta-binomial method of moments), as summary.json does. It does not shrink with more
  replicates.

References
----------
Wilson, E. B. (1927). Probable inference, the law of succession, and statistical inference. JASA 22, 209-212.
Brown, L. D., Cai, T. T. & DasGupta, A. (2001). Interval estimation for a binomial proportion. Stat. Sci. 16.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from sim.analysis.rundir import OUTCOMES, horizons_of
from sim.batch.stats import Z95, between_draw_quantiles, wilson_interval

__all__ = ["Z95", "outcome_probabilities", "per_draw_frequencies", "probability_of", "wilson_interval"]


def per_draw_frequencies(
    runs: pd.DataFrame, horizon: int, outcomes: Sequence[str] = OUTCOMES
) -> pd.DataFrame:
    """Frequency of each outcome class within each parameter draw at one horizon.

    Returns
    -------
    pandas.DataFrame
        Index ``draw``; one column per outcome class (rows sum to 1) and ``n_paths``.
    """
    col = f"outcome_w{horizon}"
    counts = pd.crosstab(runs["draw"], runs[col])
    counts = counts.reindex(columns=list(outcomes), fill_value=0)
    n = counts.sum(axis=1)
    freq = counts.div(n, axis=0)
    freq["n_paths"] = n
    return freq


def outcome_probabilities(
    runs: pd.DataFrame,
    horizons: Sequence[int] | None = None,
    outcomes: Sequence[str] = OUTCOMES,
) -> pd.DataFrame:
    """Pooled probability of every outcome class at every horizon, with both kinds of interval.

    Parameters
    ----------
    runs : pandas.DataFrame
        ``runs.parquet`` (needs ``draw`` and ``outcome_w<h>``).
    horizons : sequence of int, optional
        Horizons in weeks; default: every ``outcome_w<h>`` column.
    outcomes : sequence of str
        Outcome classes, in display order.

    Returns
    -------
    pandas.DataFrame
        One row per (horizon, outcome): ``n``, ``k``, ``p`` (pooled), ``mc_lo``/``mc_hi`` (95% Wilson,
        Monte Carlo error only), ``draw_median``, ``draw_lo80``/``draw_hi80``, ``draw_lo95``/``draw_hi95``
        (quantiles of the true per-draw probability, binomial noise removed: parameter uncertainty),
        ``n_draws`` and ``paths_per_draw`` (median paths per draw), and
        the intervals a reader sees: ``lo``/``hi`` (95%) and ``lo80``/``hi80`` (80%), the range across draws
        widened where needed to contain the Wilson interval, as in summary.json.
    """
    hs = list(horizons) if horizons is not None else horizons_of(runs)
    rows = []
    n = len(runs)
    for h in hs:
        col = f"outcome_w{h}"
        k = runs[col].value_counts().reindex(list(outcomes), fill_value=0).to_numpy()
        lo, hi = wilson_interval(k, np.full(k.shape, n))
        freq = per_draw_frequencies(runs, h, outcomes)
        q = between_draw_quantiles(
            freq[list(outcomes)].to_numpy(), freq["n_paths"].to_numpy(), [0.5, 0.1, 0.9, 0.025, 0.975]
        )
        ppd = float(freq["n_paths"].median())
        for j, o in enumerate(outcomes):
            rows.append(
                {
                    "horizon": int(h),
                    "outcome": o,
                    "n": n,
                    "k": int(k[j]),
                    "p": k[j] / n,
                    "mc_lo": lo[j],
                    "mc_hi": hi[j],
                    "draw_median": q[0, j],
                    "draw_lo80": q[1, j],
                    "draw_hi80": q[2, j],
                    "draw_lo95": q[3, j],
                    "draw_hi95": q[4, j],
                    "n_draws": len(freq),
                    "paths_per_draw": ppd,
                    # What the reader sees (summary.json convention, sim.batch.stats): the range across
                    # draws, widened where needed to contain the Monte Carlo interval.
                    "lo": min(q[3, j], lo[j]),
                    "hi": max(q[4, j], hi[j]),
                    "lo80": min(q[1, j], lo[j]),
                    "hi80": max(q[2, j], hi[j]),
                }
            )
    return pd.DataFrame(rows)


def probability_of(table: pd.DataFrame, outcome: str, horizon: int) -> pd.Series:
    """Return the row of :func:`outcome_probabilities` for one outcome and horizon."""
    sel = table[(table["outcome"] == outcome) & (table["horizon"] == horizon)]
    if sel.empty:
        raise KeyError(f"no row for {outcome} at {horizon} weeks")
    return sel.iloc[0]
