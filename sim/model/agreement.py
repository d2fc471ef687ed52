"""P10: agreement dynamics: breakdown of signed ceasefires and deals, relapse into war (memo §1.5 P10).

The true breakdown hazard is h = h0 exp(-gamma' z(X)) (1 + gamma_lev coerced)
+ h_enf sum_{i in belligerents} sp((W_i - V_i(X)) / s_h). z holds Fortna's (2003, 2004) agreement-strength
features (a credible third-party guarantee theta X_G, foreign forces, a demilitarised zone, a
comprehensive settlement, a joint commission); settlements forced by outside pressure shortly before
signing are less durable (Werner & Yuen 2005; Beardsley 2011); a deal that a side's war option now beats is
no longer self-enforcing (Fearon 1995; Powell 2006). On breakdown the war resumes at relapse intensity.
"""

from __future__ import annotations

import numpy as np

from sim.engines.nash import softplus
from sim.model.acceptance import referendum_required
from sim.model.commitment import deal_value
from sim.model.constants import DMZ_WIDTH
from sim.model.events import step_probability
from sim.model.outside_option import outside_option
from sim.model.state import (
    AGREEMENT,
    CEASEFIRE,
    DEAL,
    DEAL_PENDING,
    KIND_CEASEFIRE,
    RELAPSE,
    State,
    in_status,
    rows_of,
)

ENF_SMOOTHING = 0.1  # in units of the enforcement scale s_h
COERCION_WINDOW_WEEKS = 8.0  # a lever this recent makes a signature coerced (Werner & Yuen 2005)


def sign(state: State, prm, rows: np.ndarray, X: np.ndarray, kind: int, t: float) -> None:
    """Record agreements of ``kind`` signed in ``rows`` at the end of the step starting at ``t``.

    A ceasefire is in force at once; a comprehensive text awaits ratification (a referendum after the
    minimum ceasefire, memo P9) unless ``modules.ratification`` is off. The first signature's time and kind,
    whether it was coerced, and the week the agreement took effect are recorded; frustration resets.
    """
    if rows.size == 0:
        return
    t_end = t + prm.dt
    first = np.isnan(state.t_first[rows])
    state.t_first[rows[first]] = t_end
    state.first_kind[rows[first]] = kind
    state.coerced[rows] = (t - state.t_last_lever[rows]) <= COERCION_WINDOW_WEEKS
    state.t_signed[rows] = np.where(state.status[rows] == CEASEFIRE, state.t_signed[rows], t_end)
    state.F[rows] = 0.0
    state.X_agree[rows] = X
    if kind == KIND_CEASEFIRE:
        state.status[rows] = CEASEFIRE
    elif prm.modules["ratification"]:
        wait = np.full(rows.size, prm.rat_delay)
        if prm.has_referendum:  # a referendum only after the minimum ceasefire
            need_ref = referendum_required(prm, X, state.L[rows])
            wait = np.where(need_ref, max(prm.rat_delay, prm.ref_min_weeks), wait)
        state.pending_until[rows] = t_end + wait
        state.status[rows] = DEAL_PENDING
    else:
        state.status[rows] = DEAL
        state.t_comp[rows] = np.where(np.isnan(state.t_comp[rows]), t_end, state.t_comp[rows])


def first_yes(state: State, rows: np.ndarray, said_yes: np.ndarray, ceasefire: np.ndarray, t: float) -> None:
    """Note the week ``t`` where a veto player first says yes to a tabled text or ceasefire (``said_yes``).

    Evidence, not a decision input: the record shows who accepted what and when (record-2025-2026.md F2:
    Ukraine accepted the US ceasefire at Jeddah, Russia did not; F12: Russia had not accepted the text).
    """
    kind = ceasefire.astype(np.int64)
    seen = state.first_yes[rows, :, kind]  # (rows, n)
    state.first_yes[rows, :, kind] = np.where(said_yes & np.isnan(seen), t, seen)


def breakdown_hazard(state: State, prm, rows: np.ndarray) -> np.ndarray:
    """Annual breakdown hazard of the agreements in force in ``rows``, (R_sub,)."""
    X = state.X_agree[rows]
    L = state.L[rows]
    g = prm.gb
    kG, kF = prm.k["guarantee"], prm.k["forces"]
    comp = in_status(state.status[rows], (DEAL, DEAL_PENDING))
    z = np.zeros(rows.size)
    if kG is not None:
        z += g["guarantee"] * state.theta[rows] * X[:, kG]
    if kF is not None:
        z += g["forces"] * X[:, kF]
    if prm.k_terr is not None:
        z += g["dmz"] * np.clip((X[:, prm.k_terr] - L) / DMZ_WIDTH, 0.0, 1.0)
    z += (g["comprehensive"] + g["joint_commission"]) * comp
    h = prm.hb0[rows] * np.exp(-z) * (1.0 + prm.coerced_mult * state.coerced[rows])
    if prm.h_enf > 0 and prm.is_bell.any():
        W = outside_option(prm, state, rows)
        V = deal_value(prm, X, L, W, rows)
        # smooth positive part of the shortfall in units of s_h: ~0 while the deal is self-enforcing (V > W),
        # about (W - V)/s_h once a side's war option beats it (memo P10)
        gap = softplus((W - V) / rows_of(prm.enf_scale, rows), ENF_SMOOTHING)
        h = h + prm.h_enf * np.sum(np.where(prm.is_bell, gap, 0.0), axis=1)
    return h


def breakdown_phase(state: State, prm, u: np.ndarray, t: float) -> None:
    """Break down agreements at the true hazard; broken ones relapse into war (memo P10).

    Parameters
    ----------
    u : ndarray, shape (R, 1)
    """
    if not prm.modules["breakdown"]:
        return
    rows = np.flatnonzero(in_status(state.status, AGREEMENT))
    if rows.size == 0:
        return
    h = breakdown_hazard(state, prm, rows)
    broke = rows[u[rows, 0] < step_probability(h, prm.dt)]
    state.status[broke] = RELAPSE
    state.relapsed[broke] = True
    state.relapse_until[broke] = t + prm.dt + prm.relapse_weeks
