"""P6: ripeness: a mutually hurting stalemate plus a way out gates engagement (memo §1.5 P6).

For belligerent i, MHS_i = sigma(kappa_c (c_i / c_bar_i - 1)) sigma(kappa_p (p_bar - pi^win_i)), where
c_bar_i is ``cost_threshold_rel`` times i's war cost at the start and pi^win_i is i's belief that it reaches
its victory threshold within the horizon (the advancer: L above an absolute level; the defender: L below
the current line by the stated margin). Each belligerent agent switches its engagement on at rate
lambda_eng MHS WO (WO: the last text gave it a positive predicted surplus) and off at rate
lambda_dis (1 - MHS) (Zartman 1989, 2000; Mooradian & Druckman 1999). A disengaged actor adds
``not_engaged_tau`` to its acceptance threshold and does not concede its declared positions.
``modules.ripeness: false`` keeps everyone engaged (the rationalist model).
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit, ndtr

from sim.model.outside_option import war_cost
from sim.model.state import ABSORBING, ALL, State, in_status


def mhs(state: State, prm) -> np.ndarray:
    """Mutually-hurting-stalemate index of every actor, (R, n); 1 for non-belligerents."""
    R = state.R
    out = np.ones((R, prm.n))
    intensity = np.maximum(state.I, 1.0)
    c = war_cost(prm, state, ALL, intensity)
    H = prm.H
    sd = np.sqrt(prm.sigma_L[:, None] ** 2 * H + H * H / state.P)
    Lt = state.L[:, None] + state.m * H
    for i in np.flatnonzero(prm.is_bell):
        ratio = c[:, i] / np.maximum(prm.c_ref[:, i], 1e-12)
        if i == prm.adv:
            pwin = ndtr((Lt[:, i] - prm.victory[i]) / sd[:, i])
        else:
            pwin = ndtr((state.L + prm.victory[i] - Lt[:, i]) / sd[:, i])
        out[:, i] = expit(prm.kappa_c * (ratio - 1.0)) * expit(prm.kappa_p * (prm.p_bar - pwin))
    return out


def engagement_phase(state: State, prm, belligerents, u: np.ndarray) -> np.ndarray:
    """Let each belligerent agent reconsider its engagement; return MHS (R, n) for the influence phase.

    Parameters
    ----------
    belligerents : iterable of agents with ``reconsider_engagement`` (the belligerent role)
    u : ndarray, shape (R, n)
        Uniforms, one per actor (canonical order); a belligerent uses its own column.
    """
    if not prm.modules["ripeness"]:
        return np.ones((state.R, prm.n))
    M = mhs(state, prm)
    live = ~in_status(state.status, ABSORBING)
    for agent in belligerents:
        agent.reconsider_engagement(M[:, agent.i], u[:, agent.i], live)
    return M
