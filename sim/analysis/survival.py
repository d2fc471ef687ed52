"""Time to agreement: Kaplan-Meier curves, right-censored at the horizon (memo §1.6).

Replicates that reach no agreement by the end of the simulation are right-censored at the horizon, not
dropped: dropping them (the "median time among runs that agree") answers a different, conditional
question and makes agreement look faster than it is. The estimator is scipy's
``ecdf(CensoredData(...))`` (Kaplan & Meier 1958), with exponential-Greenwood ("log-log") 95% bands
(Kalbfleisch & Prentice 2002), which stay inside [0, 1]. The restricted mean time to agreement is the
area under the survival curve up to the horizon (Royston & Parmar 2013): the expected number of weeks
without agreement within the horizon, well defined even when most runs never agree.

References
----------
Kaplan, E. L. & Meier, P. (1958). Nonparametric estimation from incomplete observations. JASA 53, 457-481.
Kalbfleisch, J. D. & Prentice, R. L. (2002). The Statistical Analysis of Failure Time Data, 2nd ed. Wiley.
Royston, P. & Parmar, M. K. B. (2013). Restricted mean survival time. BMC Med. Res. Methodol. 13, 152.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats


@dataclass
class SurvivalCurve:
    """A Kaplan-Meier curve of time to an event, censored at ``horizon``.

    Attributes
    ----------
    times : numpy.ndarray
        Distinct event and censoring times (ascending), starting with 0.
    survival, lo, hi : numpy.ndarray
        ``S(t)`` (probability of no event by ``t``) and its 95% band at ``times`` (step functions,
        right-continuous).
    horizon : float
        Censoring horizon (end of the simulation).
    n, events : int
        Replicates and observed events.
    rmst : float
        Restricted mean time to the event up to ``horizon`` (weeks).
    label : str
        What the event is.
    """

    times: np.ndarray
    survival: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    horizon: float
    n: int
    events: int
    rmst: float
    label: str = ""

    def probability_by(self, t: float | np.ndarray) -> np.ndarray:
        """Probability of the event by time ``t`` (1 - S(t))."""
        idx = np.searchsorted(self.times, np.asarray(t, dtype=float), side="right") - 1
        return 1.0 - self.survival[np.clip(idx, 0, None)]

    def median(self) -> float | None:
        """Median time to the event, or None if ``S`` never falls to 0.5 within the horizon."""
        below = np.nonzero(self.survival <= 0.5)[0]
        return float(self.times[below[0]]) if below.size else None

    def to_df(self) -> pd.DataFrame:
        """Tidy table: ``t``, ``survival``, ``lo``, ``hi``, ``p_event`` (= 1 - survival) and its band."""
        return pd.DataFrame(
            {
                "t": self.times,
                "survival": self.survival,
                "lo": self.lo,
                "hi": self.hi,
                "p_event": 1.0 - self.survival,
                "p_lo": 1.0 - self.hi,
                "p_hi": 1.0 - self.lo,
            }
        )


def kaplan_meier(
    times: np.ndarray, horizon: float, censor_times: np.ndarray | None = None, label: str = ""
) -> SurvivalCurve:
    """Kaplan-Meier estimate of time to an event with right-censoring.

    Parameters
    ----------
    times : array_like
        Event time per replicate; NaN means no event observed.
    horizon : float
        End of observation; replicates without an event are censored here (and curves stop here).
    censor_times : array_like, optional
        Per-replicate censoring time for replicates without an event (default: ``horizon``).
    label : str
        Name of the event, for charts.

    Returns
    -------
    SurvivalCurve
    """
    t = np.asarray(times, dtype=float)
    event = np.isfinite(t) & (t <= horizon)
    cens = np.full(t.shape, float(horizon)) if censor_times is None else np.asarray(censor_times, dtype=float)
    n = int(t.size)
    n_events = int(event.sum())
    if n_events == 0:
        grid = np.array([0.0, float(horizon)])
        one = np.ones(2)
        return SurvivalCurve(grid, one, one.copy(), one.copy(), float(horizon), n, 0, float(horizon), label)
    data = stats.CensoredData(uncensored=t[event], right=cens[~event])
    res = stats.ecdf(data)
    sf = res.sf
    ci = sf.confidence_interval(0.95, method="log-log")
    q = np.asarray(sf.quantiles, dtype=float)
    s = np.asarray(sf.probabilities, dtype=float)
    lo = np.asarray(ci.low.probabilities, dtype=float)
    hi = np.asarray(ci.high.probabilities, dtype=float)
    # Where the log-log band is undefined (S = 0 or 1) it collapses onto the estimate.
    lo = np.where(np.isfinite(lo), lo, s)
    hi = np.where(np.isfinite(hi), hi, s)
    keep = q <= horizon
    grid = np.concatenate([[0.0], q[keep]])
    surv = np.concatenate([[1.0], s[keep]])
    lo = np.concatenate([[1.0], lo[keep]])
    hi = np.concatenate([[1.0], hi[keep]])
    return SurvivalCurve(
        grid, surv, lo, hi, float(horizon), n, n_events, restricted_mean(grid, surv, horizon), label
    )


def restricted_mean(times: np.ndarray, survival: np.ndarray, horizon: float) -> float:
    """Area under a right-continuous step survival curve from 0 to ``horizon``.

    ``times`` must start at 0 with ``survival[0] = 1``.
    """
    t = np.append(np.asarray(times, dtype=float), float(horizon))
    t = np.minimum(t, horizon)
    return float(np.sum(np.asarray(survival, dtype=float) * np.diff(t)))


def agreement_curves(runs: pd.DataFrame, horizon: float) -> dict[str, SurvivalCurve]:
    """Kaplan-Meier curves for the first agreement of any kind and for a comprehensive deal.

    Returns
    -------
    dict
        ``{"first_agreement": SurvivalCurve, "comprehensive_deal": SurvivalCurve}``.
    """
    return {
        "first_agreement": kaplan_meier(
            runs["weeks_to_agreement"].to_numpy(dtype=float),
            horizon,
            label="any agreement (ceasefire or deal)",
        ),
        "comprehensive_deal": kaplan_meier(
            runs["weeks_to_comprehensive"].to_numpy(dtype=float), horizon, label="comprehensive deal"
        ),
    }
