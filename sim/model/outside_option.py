"""P4: each actor's outside option W_i, the value of continuing the war as a costly lottery (memo §1.5 P4).

War is a drifting lottery over the front line whose odds move with the battlefield (Fearon 1995; Powell
1999, 2004). Under actor i's beliefs over the horizon H the line has mean L~_i = L + m_i H + lambda^_i H E[J]
and variance V_L,i = sigma^2 H + H^2 / P_i + lambda^_i H E[J^2]; if the war ends by force at line L the
other issues lie on the segment between the sides' maximal terms, phi(L) = X^UA* + (X^RU* - X^UA*) pi(L),
which is affine on the interior with slope b. Quadratic utility gives the exact identity
E[U(phi(L))] = U(phi(L~)) - V_L b'Ab (memo §3, T2), the risk premium that widens the bargaining range.
Flows are normalised as in Powell (1999), so W is comparable with the flow utility of a permanent deal:

W_i = (1 - w_i)[U_i(X^SQ(L + m_i H / 2)) - c_bar_i] + w_i[U_i(phi(L~_i)) - V_L,i b'A_i b]
      - (1 - exp(-lambda_esc H)) D_i,  with w_i = exp(-rho_i H).

With ``modules.outside_option: false`` W_i is the fixed ``actors.<id>.disagreement_value`` (default -1,
the worst outcome on the normalised scale): the textbook fixed disagreement point of the reductions.
"""

from __future__ import annotations

import numpy as np

from sim.model import kernels
from sim.model.battlefield import drift_factor, support_index
from sim.model.state import FIGHTING, in_status, rows_of


def war_cost(prm, state, rows, intensity: np.ndarray) -> np.ndarray:
    """Return the expected cost flow of war per year for every actor, shape (R_sub, n) (memo §1.5 P2).

    Belligerents: c0 I (1 + eta strain) (strain projected half a horizon ahead); an actor that supports a
    belligerent: c0 (support + pivot) I, its aid plus the opportunity cost of the delayed pivot; others
    c0 I. Event multipliers (``ACTOR_cost_multiplier``) apply, and with ``modules.war_economy`` the
    belligerent's fiscal stress: 1 + cost_per_stress stress (:mod:`sim.model.economy`).
    """
    strain = rows_of(state.strain, rows)
    proj = strain + 0.5 * prm.H * rows_of(prm.strain_a, rows) * intensity[:, None]
    factor = 1.0 + rows_of(prm.eta, rows) * np.where(prm.is_bell, proj, 0.0)
    supplying = rows_of(state.support, rows) + rows_of(prm.pivot, rows)
    factor = np.where(prm.is_supporter, supplying, factor)
    if prm.modules["war_economy"]:  # an unfunded war budget (sim.model.economy)
        stress = rows_of(prm.econ["cost_per_stress"], rows) * rows_of(state.fiscal_stress, rows)
        factor = factor * (1.0 + stress)
    return rows_of(prm.c0, rows) * rows_of(state.cost_mult, rows) * intensity[:, None] * factor


def war_end_terms(prm, Lt: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """phi(L) and its slope b = d phi / d L for lines Lt of shape (R_sub, n): (R_sub, n, K) each."""
    span = prm.L_hi - prm.L_lo
    pi = np.clip((Lt - prm.L_lo) / span, 0.0, 1.0)
    gap = prm.x_adv_max - prm.x_dfd_max
    phi = prm.x_dfd_max + gap * pi[..., None]
    inside = ((Lt > prm.L_lo) & (Lt < prm.L_hi))[..., None]
    b = np.where(inside, gap / span, 0.0) * np.ones_like(phi)
    if prm.k_terr is not None:
        phi[..., prm.k_terr] = np.clip(Lt, prm.L_min, 1.0)
        b[..., prm.k_terr] = 1.0
    return phi, b


def escalation_rate(prm, rows, intensity: np.ndarray) -> np.ndarray:
    """Believed annual escalation hazard: the escalation events' base rates scaled by intensity, (R_sub,)."""
    lam = np.zeros(intensity.shape[0])
    for ev in prm.esc_events:
        if ev.rate is not None:
            lam = lam + ev.rate[rows] * intensity
    return lam


def outside_option(prm, state, rows, ideal: np.ndarray | None = None) -> np.ndarray:
    """W_i for the replicates ``rows`` (index array or mask), shape (R_sub, n).

    ``ideal`` (R_sub, n, K) replaces the true ideal points (the mediator's model uses declared positions).
    """
    return option_value(prm, war_outlook(prm, state, rows), ideal)


class WarOutlook:
    """What W_i needs from the state, whichever ideal points value it (see :func:`war_outlook`)."""

    __slots__ = ("rows", "L", "m", "Lt", "VL", "cbar", "w", "esc", "fixed")


def expected_drift_factor(prm, state, rows) -> np.ndarray | float:
    """Each actor's expectation of the drift's structural factor g over the horizon, (R_sub, n) (P3, P4).

    With ``modules.forward_beliefs``, an actor's expected drift is its belief about the base drift times g
    (:func:`sim.model.battlefield.drift_factor`) at the midpoint of the horizon: the defender's support
    declining at the rate the actor expects (its fatigue belief), the strains growing at their current
    rate. So an aid cut, a sanctions squeeze or a fiscal crisis moves every actor's outlook as soon as it
    is seen, not only as the line's movements reveal it. Without the module: 1 (beliefs about the drift
    itself, memo P3).
    """
    if not (prm.modules["forward_beliefs"] and prm.modules["battlefield"]) or prm.dfd is None:
        return 1.0
    half = 0.5 * prm.H
    A = support_index(state, prm)[rows, prm.dfd][:, None] * np.exp(-rows_of(state.fatigue, rows) * half)
    strain = np.maximum(rows_of(state.strain, rows) + half * rows_of(state.strain_rate, rows), 0.0)
    s_adv = strain[:, [prm.adv]] if prm.adv is not None else 0.0
    return drift_factor(prm, A, s_adv, strain[:, [prm.dfd]], rows)


def war_outlook(prm, state, rows) -> WarOutlook:
    """Return the believed war lottery and its costs for ``rows``: the part of W_i not tied to ideals.

    A mediated round values the same war twice, with the parties' true ideal points and with the
    mediator's view of them (their declared positions); this is computed once for both.
    """
    o = WarOutlook()
    o.rows = rows
    o.L = L = state.L[rows]
    if not prm.modules["outside_option"]:
        o.fixed = prm.W_fixed[rows]
        return o
    o.fixed = None
    H = prm.H
    fighting = in_status(state.status[rows], FIGHTING)
    intensity = np.where(fighting, np.maximum(state.I[rows], 1.0), 1.0)
    g = expected_drift_factor(prm, state, rows)
    o.m = m = rows_of(state.m, rows) * g
    lam = rows_of(prm.col_belief, rows)
    EJ = 0.5 * (prm.col_lo + prm.col_hi)
    EJ2 = (prm.col_lo**2 + prm.col_lo * prm.col_hi + prm.col_hi**2) / 3.0
    o.Lt = L[:, None] + m * H + lam * H * EJ
    o.VL = prm.sigma_L[rows, None] ** 2 * H + g * g * H * H / rows_of(state.P, rows) + lam * H * EJ2
    o.w = np.exp(-rows_of(prm.rho, rows) * H)
    o.cbar = war_cost(prm, state, rows, intensity)
    o.esc = -np.expm1(-escalation_rate(prm, rows, intensity) * H)[:, None] * rows_of(prm.D, rows)
    return o


def option_value(prm, o: WarOutlook, ideal: np.ndarray | None = None) -> np.ndarray:
    """W_i from a :class:`WarOutlook`, valued at the true ideal points or at ``ideal`` (R_sub, n, K)."""
    if o.fixed is not None:
        return o.fixed.copy()
    H, rows, L, m = prm.H, o.rows, o.L, o.m
    c = lambda v: np.require(v, float, ["C", "W"])  # noqa: E731
    idx = kernels.row_index(rows, prm.R)
    # the true ideal points are read in place (no copy for the batch), a given view from its own rows
    ideal_c, ideal_rows = (prm.kernel_array("ideal"), idx) if ideal is None else (c(ideal), None)
    u_end_net, u_sq = kernels.war_lottery_values(
        idx, c(L), c(o.Lt), c(o.VL), c(L[:, None] + 0.5 * m * H), ideal_c,
        np.arange(idx.size) if ideal_rows is None else ideal_rows,
        float(prm.L_lo), float(prm.L_hi), float(prm.L_min), -1 if prm.k_terr is None else int(prm.k_terr),
        c(prm.x_dfd_max), c(prm.x_adv_max), c(prm.x_sq), prm.kernel,
    )  # fmt: skip
    return (1.0 - o.w) * (u_sq - o.cbar) + o.w * u_end_net - o.esc

