"""P2: the battlefield line, intensity, strain and operational jumps (memo §1.5 P2).

Under war the front line on the TERR scale follows a jump-diffusion whose drift falls with the support the
defender receives and the advancer's strain and rises with the defender's strain:
mu = mu0 exp(-beta_A (A - A0)) exp(-beta_adv strain_adv) exp(beta_dfd strain_dfd), where A is the
defender's support index, the supporters' levels weighted by their shares (memo 1.4), and A0 its t0 value,
L <- clip(L + mu I Delta_y + sigma sqrt(I Delta_y) eps + J). Jumps are compound Poisson at exact step
probabilities: a Ukrainian operational collapse at rate lambda_col exp(k strain_UA), a counter-offensive at
rate lambda_cnt (cf. Wagner 2000; Slantchev 2003 on the war as an information-generating process). Strain
accumulates with intensity and support (and, with ``modules.war_economy``, fiscal stress:
:mod:`sim.model.economy`) and recovers under a ceasefire. A jump of at least
``collapse_jump_threshold`` or a line beyond ``collapse_line_threshold`` is a military collapse
(COLLAPSE_MIL).
"""

from __future__ import annotations

import numpy as np
from scipy.special import ndtri

from sim.model.events import step_probability
from sim.model.state import ABSORBING, AGREEMENT, ALL, COLLAPSE_MIL, RELAPSE, WAR, State, in_status


def intensity_phase(state: State, prm, t: float) -> None:
    """Set intensity from status: 1 at war, the relapse level after a breakdown, low under a truce."""
    ended = (state.status == RELAPSE) & (t >= state.relapse_until)
    state.status[ended] = WAR
    state.I[:] = 1.0
    state.I[state.status == RELAPSE] = prm.I_relapse
    state.I[in_status(state.status, AGREEMENT)] = prm.I_cf


def support_index(state: State, prm) -> np.ndarray:
    """Support each belligerent receives, (R, n): its supporters' levels weighted by their shares."""
    return state.support @ prm.support_w


def sanctions_index(state: State, prm) -> np.ndarray:
    """Sanctions each belligerent faces, (R, n): the sanctioning actors' levels weighted by their shares."""
    return state.sanctions @ prm.sanctions_w


def lifeline_index(state: State, prm) -> np.ndarray:
    """Economic lifeline each belligerent receives from its patrons, (R, n)."""
    return state.lifeline @ prm.lifeline_to


def drift_factor(prm, A_dfd: np.ndarray, strain_adv, strain_dfd, rows=ALL) -> np.ndarray:
    """Return g = exp(-beta_A (A - A0) - beta_adv s_adv + beta_dfd s_dfd); the drift is mu0 g (memo P2).

    The one place the drift's structure is written: the battlefield moves the line with it, and actors
    who know the structure learn mu0 from the signal and project g with the support and strains they
    expect (:mod:`sim.model.learning`, :mod:`sim.model.outside_option`). Arguments broadcast, (R_sub,) or
    (R_sub, n), for the replicates ``rows``.
    """
    zeros = np.zeros(prm.R)
    bR = (prm.beta_strain[:, prm.adv] if prm.adv is not None else zeros)[rows]
    bU = (prm.beta_strain[:, prm.dfd] if prm.dfd is not None else zeros)[rows]
    shape = np.broadcast_shapes(np.shape(A_dfd), np.shape(strain_adv), np.shape(strain_dfd))
    col = (lambda a: a[:, None]) if len(shape) == 2 else (lambda a: a)  # noqa: E731
    beta_A, A0 = prm.beta_A[rows], prm.A0[rows]
    return np.exp(-col(beta_A) * (A_dfd - col(A0)) - col(bR) * strain_adv + col(bU) * strain_dfd)


def battlefield_phase(state: State, prm, u: np.ndarray, t: float) -> tuple[np.ndarray, np.ndarray]:
    """Advance line, strain and jumps by one step; return (dL, J) for the learning phase.

    Parameters
    ----------
    u : ndarray, shape (R, 5)
        Uniforms: diffusion, collapse occurrence, collapse size, counter-offensive occurrence, its size.
    """
    R = state.R
    dL = np.zeros(R)
    J = np.zeros(R)
    if not prm.modules["battlefield"]:
        return dL, J
    dy = prm.dy
    fighting = in_status(state.status, (WAR, RELAPSE))
    live = ~in_status(state.status, ABSORBING)
    support = support_index(state, prm)
    A = support[:, prm.dfd] if prm.dfd is not None else np.zeros(R)
    sU = state.strain[:, prm.dfd] if prm.dfd is not None else np.zeros(R)
    sR = state.strain[:, prm.adv] if prm.adv is not None else np.zeros(R)
    state.drift_factor[:] = drift_factor(prm, A, sR, sU)
    mu = prm.mu0 * state.drift_factor

    eps = ndtri(u[:, 0])
    I = state.I
    move = mu * I * dy + prm.sigma_L * np.sqrt(I * dy) * eps
    col = fighting & (u[:, 1] < step_probability(prm.col_rate * np.exp(prm.col_k * sU), prm.dt))
    cnt = fighting & (u[:, 3] < step_probability(prm.cnt_rate, prm.dt))
    J = np.where(col, prm.col_lo + (prm.col_hi - prm.col_lo) * u[:, 2], 0.0)
    J = J - np.where(cnt, prm.cnt_lo + (prm.cnt_hi - prm.cnt_lo) * u[:, 4], 0.0)
    newL = np.clip(state.L + np.where(live, move + J, 0.0), prm.L_min, 1.0)
    dL = newL - state.L
    state.L[:] = newL
    collapsed = fighting & (
        (col & (J >= prm.collapse_jump_threshold)) | (newL >= prm.collapse_line_threshold)
    )
    state.status[collapsed] = COLLAPSE_MIL
    # strain (memo P2): grows with intensity and sanctions, falls with support and a patron's lifeline,
    # recovers in a truce
    b = prm.strain_b
    drive = (
        prm.strain_a * I[:, None]
        - b["b_support"] * support
        + b["b_sanctions"] * sanctions_index(state, prm)
        - b["b_lifeline"] * lifeline_index(state, prm)
    )
    if prm.modules["war_economy"]:  # an unfunded war budget wears the belligerent down (sim.model.economy)
        drive = drive + prm.econ["strain_per_stress"] * state.fiscal_stress
    state.strain_rate[:] = np.where(fighting[:, None] & prm.is_bell, drive, 0.0)
    grown = np.maximum(state.strain + dy * drive, 0.0)
    state.strain[:] = np.where(fighting[:, None] & prm.is_bell, grown, state.strain)
    calm = in_status(state.status, AGREEMENT)
    state.strain[calm] *= np.exp(-prm.strain_recovery * dy)
    return dL, J
