"""P3: learning from fighting: a Kalman filter on the battlefield drift with forgetting (memo §1.5 P3).

The public signal is y = dL - J (jumps are visible and not attributed to the drift), with y ~ N(mu I dy,
sigma^2 I dy). In sufficient statistics: P <- P exp(-phi dy); P' = P + I dy / sigma^2;
m' = (P m + y / sigma^2) / P'. The update depends only on cumulative signal, so it is step-size invariant,
and common data make beliefs converge (Slantchev 2003's principle of convergence; Wagner 2000; Filson &
Werner 2002; Smith & Stam 2004; Powell 2004). Different priors encode mutual optimism (Blainey 1973).
"""

from __future__ import annotations

import numpy as np

from sim.model.state import ABSORBING, State, in_status


def learning_phase(state: State, prm, dL: np.ndarray, J: np.ndarray) -> None:
    """Update every actor's posterior mean and precision of the drift from this step's signal."""
    if not (prm.modules["learning"] and prm.modules["battlefield"]):
        return
    live = ~in_status(state.status, ABSORBING)
    s2 = prm.sigma_L**2
    y = np.where(live, dL - J, 0.0)
    info = np.where(live, state.I * prm.dy / s2, 0.0)
    Pf = state.P * np.exp(-prm.forget * prm.dy)
    Pn = Pf + info[:, None]
    state.m[:] = (Pf * state.m + (y / s2)[:, None]) / Pn
    state.P[:] = Pn
