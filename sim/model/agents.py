"""Mesa agents: one per actor, acting on that actor's slice of every replicate at once.

Roles come from the scenario's ``roles`` lists. The agents own the actor-level decisions: every veto
player decides whether to accept a text (the quantal rule of memo P9 on its own column of surpluses),
the mediator runs the negotiation calendar and proposes texts, a guarantor also checks that it can field
the force a text asks of it, the patron moves its lifeline. Each class carries a small metadata record
(name, what it models, source) that documentation and the ``trace`` narrative read.
"""

from __future__ import annotations

import mesa
import numpy as np

from sim.model.acceptance import accept_prob


class ActorAgent(mesa.Agent):
    """Base class: an actor of the scenario, index ``i`` in the model's canonical actor order."""

    meta = {"name": "actor", "models": "an actor with spatial preferences", "source": "memo §1.3"}

    def __init__(self, model: mesa.Model, actor_id: str, index: int, roles: list[str]) -> None:
        super().__init__(model)
        self.actor_id = actor_id
        self.i = index
        self.roles = roles

    def accept(self, surplus: np.ndarray, u: np.ndarray, nu: np.ndarray) -> np.ndarray:
        """Accept a text with probability sigma(surplus / nu) (McKelvey & Palfrey 1995), per replicate."""
        return u < accept_prob(surplus, nu)


class BelligerentAgent(ActorAgent):
    """A party at war (Russia, Ukraine): a veto player whose ripeness gates its engagement."""

    meta = {
        "name": "belligerent",
        "models": "war party; ripeness, acceptance",
        "source": "Zartman 2000; memo P6, P9",
    }


class MediatorAgent(ActorAgent):
    """The mediator (the US): holds rounds, drafts the single negotiating text, applies levers."""

    meta = {
        "name": "mediator",
        "models": "single negotiating text, coercive levers",
        "source": "Raiffa 1982; Kydd 2003; Beardsley 2011; memo P7b, P8",
    }


class GuarantorAgent(ActorAgent):
    """A guarantor (Europe): consents to guarantee and force terms it can actually field."""

    meta = {
        "name": "guarantor",
        "models": "guarantee consent, force capacity",
        "source": "Walter 2002; memo P9",
    }


class PatronAgent(ActorAgent):
    """A patron without a veto (China): its lifeline to one belligerent follows the text and sanctions."""

    meta = {"name": "patron", "models": "economic lifeline to Russia", "source": "memo P7b"}


def agent_class(roles: list[str]) -> type[ActorAgent]:
    """Pick the agent class from an actor's roles (mediator > belligerent > guarantor > patron)."""
    if "mediator" in roles:
        return MediatorAgent
    if "belligerent" in roles:
        return BelligerentAgent
    if "guarantor" in roles:
        return GuarantorAgent
    if "patron" in roles:
        return PatronAgent
    return ActorAgent
