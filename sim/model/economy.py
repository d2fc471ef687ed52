"""P2a: the belligerents' war economies: budget, reserves, and the fiscal stress that bends their war.

A belligerent that declares ``economy:`` runs a budget in % of GDP a year. Its war-sensitive revenue (oil
and gas for Russia) falls with the sanctions it faces and rises with its patrons' lifeline,

    revenue_t = revenue0 exp(-e_S (S_t - S_0)) exp(e_L (l_t - l_0)) m_t,

where S and l are the sanctions and lifeline indices (S_0, l_0 their values at t0) and m_t a multiplier
events may set (an oil-price shock: ``ACTOR_revenue_multiplier``). The deficit is
deficit0 + (revenue0 - revenue_t) + war_spending (I_t - 1): lost revenue widens it, a truce (I < 1) frees
the war budget. Borrowing finances up to ``borrowing`` a year and the liquid reserves the rest,
dR/dt = -(deficit - borrowing), floored at zero (surpluses refill them). Fiscal stress is the share of
the next H years' financing gap the reserves cannot cover,

    stress_t = clip(1 - R_t / (H max(deficit_t - borrowing, 0)), 0, 1),

zero while the reserves' runway is longer than the war lottery's horizon H (memo P4), one once they are
gone. Stress adds ``strain_per_stress`` a year to the belligerent's strain growth (the recruitment bonuses
and war production are paid from the budget; strain slows its advance, memo P2) and multiplies its war
cost by 1 + ``cost_per_stress`` stress, which the outside option weighs (P4) and the ripeness test reads
(P6; Zartman 2000). Seed 001: 「ロシアもまた、経済制裁と軍事的な消耗により、無期限の戦争継続は困難になりつつ
あります」 (Russia too finds indefinite war harder under sanctions and attrition). With
``modules.war_economy`` off, or for a belligerent without ``economy:``, stress stays zero.
"""

from __future__ import annotations

import numpy as np

from sim.model.battlefield import lifeline_index, sanctions_index
from sim.model.state import ABSORBING, State, in_status


def fiscal_revenue(state: State, prm) -> np.ndarray:
    """War-sensitive revenue of every actor with an economy, % of GDP a year, (R, n) (0 for the others)."""
    e = prm.econ
    dS = sanctions_index(state, prm) - prm.econ_S0
    dl = lifeline_index(state, prm) - prm.econ_l0
    return e["revenue0"] * np.exp(-e["sanctions_elasticity"] * dS + e["lifeline_elasticity"] * dl) * (
        state.revenue_mult
    )


def fiscal_stress(reserves: np.ndarray, gap: np.ndarray, horizon_years: float) -> np.ndarray:
    """Return the share of the next ``horizon_years`` of financing gap the reserves cannot cover."""
    need = horizon_years * np.maximum(gap, 0.0)
    return np.clip(1.0 - reserves / np.where(need > 0, need, 1.0), 0.0, 1.0) * (need > 0)


def economy_phase(state: State, prm) -> None:
    """Run every declared budget one step: revenue, deficit, reserves, stress (module ``war_economy``)."""
    if not (prm.modules["war_economy"] and prm.has_economy.any()):
        return
    e = prm.econ
    live = ~in_status(state.status, ABSORBING)
    deficit = e["deficit0"] + (e["revenue0"] - fiscal_revenue(state, prm)) + e["war_spending"] * (
        state.I[:, None] - 1.0
    )
    gap = deficit - e["borrowing"]
    drawn = np.maximum(state.reserves - gap * prm.dy, 0.0)
    state.reserves[:] = np.where(live[:, None] & prm.has_economy, drawn, state.reserves)
    stress = fiscal_stress(state.reserves, gap, prm.H)
    state.fiscal_stress[:] = np.where(prm.has_economy, stress, 0.0)
