"""P11: outcome classification at each reporting horizon (memo §1.6).

Precedence, highest first: collapse/escalation (ESCALATION, COLLAPSE_MIL, and, by
``outcome_rules.relapse_counts_as``, a war resumed after a signed agreement broke down); comprehensive deal
(status DEAL: signed by every comprehensive veto player and ratified; a comprehensive text settles every
issue); a signed text awaiting ratification (DEAL_PENDING) as ``outcome_rules.pending_ratification_counts_as``
says (a ceasefire by default: the guns are silent, the settlement not yet in force); ceasefire (CEASEFIRE);
continued war otherwise. Mutually exclusive and exhaustive.
"""

from __future__ import annotations

import numpy as np

from sim.model.state import (
    CEASEFIRE,
    COLLAPSE_MIL,
    DEAL,
    DEAL_PENDING,
    ESCALATION,
    RELAPSE,
    WAR,
    State,
)
from sim.scenario.schema import OUTCOMES


def classify(state: State, prm) -> np.ndarray:
    """Outcome class index (into :data:`OUTCOMES`) of every replicate now, (R,) int8."""
    st = state.status
    out = np.full(st.shape, 2, dtype=np.int8)  # continued_war
    out[st == CEASEFIRE] = OUTCOMES.index("ceasefire")
    out[st == DEAL_PENDING] = OUTCOMES.index(prm.pending_counts_as)
    out[st == DEAL] = OUTCOMES.index("comprehensive_deal")
    relapse_class = OUTCOMES.index(prm.relapse_counts_as) if prm.relapse_counts_as in OUTCOMES else 3
    war_after_relapse = ((st == RELAPSE) | (st == WAR)) & state.relapsed
    out[war_after_relapse] = relapse_class
    out[np.isin(st, (COLLAPSE_MIL, ESCALATION))] = 3
    return out
