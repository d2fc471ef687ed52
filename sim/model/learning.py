"""P3: learning from fighting: a Kalman filter on the battlefield drift with forgetting (memo §1.5 P3).

The public signal is y = dL - J (jumps are visible and not attributed to the drift), with
y ~ N(mu I dy, sigma^2 I dy). In sufficient statistics: P <- P exp(-phi dy); P' = P + I dy / sigma^2;
m' = (P m + y / sigma^2) / P'. The update depends only on cumulative signal, so it is step-size invariant,
and common data make beliefs converge (Slantchev 2003's principle of convergence; Wagner 2000; Filson &
Werner 2002; Smith & Stam 2004; Powell 2004). Different priors encode mutual optimism (Blainey 1973).

With ``modules.forward_beliefs`` actors know the drift's structure, mu = mu0 g (g from support and strains,
:func:`sim.model.battlefield.drift_factor`), and learn the base drift mu0: the signal is
y ~ N(g I dy mu0, sigma^2 I dy), so P' = P + g^2 I dy / sigma^2 and m' = (P m + g y / sigma^2) / P' (the
same filter with a known gain). They also learn how fast the defender's support declines ("fatigue",
Russia's bet on Western fatigue in seed 000: 「ロシアが時間を味方につけ」): each actor's expected decline f
moves toward the observed rate of change of the defender's support index, f <- f + (1 - e^{-dy/T})
(f_obs - f) with f_obs = -d ln A / dt, so a year of steady support (memory T = 1 year) wears a prior bet on
fatigue down to about a third and a cut in aid raises it at once.
"""

from __future__ import annotations

import numpy as np

from sim.model.battlefield import support_index
from sim.model.state import ABSORBING, State, in_status

#: The smallest support index whose logarithm the fatigue belief reads (support can be cut to zero).
SUPPORT_FLOOR = 0.01


def learning_phase(state: State, prm, dL: np.ndarray, J: np.ndarray) -> None:
    """Update every actor's posterior mean and precision of the drift from this step's signal."""
    if not (prm.modules["learning"] and prm.modules["battlefield"]):
        return
    live = ~in_status(state.status, ABSORBING)
    s2 = prm.sigma_L**2
    y = np.where(live, dL - J, 0.0)
    gain = state.drift_factor if prm.modules["forward_beliefs"] else np.ones(state.R)
    info = np.where(live, gain * gain * state.I * prm.dy / s2, 0.0)
    Pf = state.P * np.exp(-prm.forget * prm.dy)
    Pn = Pf + info[:, None]
    state.m[:] = (Pf * state.m + (gain * y / s2)[:, None]) / Pn
    state.P[:] = Pn
    if prm.modules["forward_beliefs"] and prm.dfd is not None:
        fatigue_phase(state, prm)


def fatigue_phase(state: State, prm) -> None:
    """Move each actor's expected decline of the defender's support toward the decline it observes."""
    A = np.maximum(support_index(state, prm)[:, prm.dfd], SUPPORT_FLOOR)
    observed = -(np.log(A) - np.log(np.maximum(state.support_seen, SUPPORT_FLOOR))) / prm.dy
    weight = -np.expm1(-prm.dy / prm.fatigue_memory)
    state.fatigue += weight * (observed[:, None] - state.fatigue)
    state.support_seen[:] = A
