"""The negotiation model: a Mesa model whose state is arrays over replicates (DESIGN §2; memo §1.7).

``NegotiationModel(params, n_replicates, seed_seq)`` builds the parameter arrays, the state and one agent
per actor, its class composed from the actor's roles (:mod:`sim.model.agents`); ``step()`` runs the phases
and the agents' decisions in this fixed order (one step = ``dt_weeks``):

1. P1 events (Poisson, scheduled, triggered);
2. intensity from status; temporary levers lapse and sanctions packages arrive on their calendars (P7b);
   each patron moves its lifeline (P7b);
3. supporters rally as the advancer nears victory, and each war budget runs a step (P2a, module
   ``war_economy``: revenue, deficit, reserves, fiscal stress);
4. P2 battlefield, strain, jumps and military collapse;
5. P3 learning from the fighting (and, with ``forward_beliefs``, from the support observed);
6. persistent reservation shocks (P9 noise);
7. P6 ripeness: each belligerent reconsiders its engagement;
8. the negotiation protocol (``scenario.structure.protocol``): for ``mediated_text`` the mediator convenes
   rounds on their own calendar and in each round values the war (P4) while declared positions move
   (P7a), drafts the single negotiating text with the commitment discount (P5, P8), chooses between the
   text and a ceasefire, asks every veto player and guarantor (P9), records signatures and presses the
   party it blames (P7b); or one of the textbook protocols of :mod:`sim.model.protocols`;
9. P9 ratification of pending deals;
10. P10 breakdown of agreements;
10b. partial agreements (module ``partial_agreements``): those in force lapse or break down, proposals
    arrive and every party signs or refuses (:mod:`sim.model.partials`);
11. P11 classification at each reporting horizon, and the DataCollector's per-step aggregates.
"""

from __future__ import annotations

import mesa
import numpy as np

from sim.engines.compromise import compromise
from sim.model.acceptance import ou_phase, ratification_phase
from sim.model.agents import ActorAgent, Belligerent, Guarantor, Patron, VetoPlayer, agent_class
from sim.model.agreement import breakdown_phase
from sim.model.battlefield import battlefield_phase, intensity_phase
from sim.model.economy import economy_phase
from sim.model.events import events_phase
from sim.model.influence import calendar_levers_phase, rally_phase
from sim.model.learning import learning_phase
from sim.model.mediation import Round
from sim.model.outcomes import classify
from sim.model.params import build_params
from sim.model.partials import init_partials, partials_phase
from sim.model.protocols import protocol_phase
from sim.model.ripeness import engagement_phase
from sim.model.state import NO_AGREEMENT, STATUS_NAMES, WAR, State
from sim.model.status_vote import VOTE_PENDING, status_vote_phase
from sim.model.streams import Streams


def init_state(prm, streams: Streams) -> State:
    """Return the state at t = 0 (December 2025 in the baseline)."""
    R, n, K = prm.R, prm.n, prm.K
    f = lambda v: np.full(R, float(v))  # noqa: E731
    xi0 = prm.sigma_xi * streams.normal("init", -1, n)
    X0 = compromise(prm.decl0, prm.cap, prm.sal)
    if prm.X_open is not None and prm.protocol == "mediated_text":  # the mediator's live draft (P8)
        X0 = np.broadcast_to(prm.X_open, X0.shape).copy()
    st = State(
        L=f(prm.L0),
        I=f(1.0),
        strain=np.zeros((R, n)),
        strain_rate=np.zeros((R, n)),
        drift_factor=f(1.0),
        reserves=prm.econ["reserves0"].copy(),
        fiscal_stress=np.zeros((R, n)),
        revenue_mult=np.ones((R, n)),
        fatigue=prm.fatigue0.copy(),
        support_seen=prm.A0.copy(),
        support=prm.support0.copy(),
        sanctions=prm.sanctions0.copy(),
        lifeline=prm.lifeline["l0"].copy(),
        lifeline_policy=prm.lifeline["l0"].copy(),
        m=prm.m0.copy(),
        P=prm.P0.copy(),
        xi=xi0,
        engaged=np.ones((R, n), bool),
        way_out=np.ones((R, n), bool),
        x_decl=prm.decl0.copy(),
        omega=prm.omega0.copy(),
        F=f(0.0),
        pause_until=f(-np.inf),
        lever_until=f(np.inf),
        support_hold=prm.support0.copy(),
        X_text=X0,
        t_last_influence=f(0.0),
        status=np.full(R, WAR, dtype=np.int8),
        X_agree=np.full((R, K), np.nan),
        t_first=f(np.nan),
        t_comp=f(np.nan),
        first_kind=np.full(R, NO_AGREEMENT, dtype=np.int8),
        t_signed=f(np.nan),
        t_last_lever=f(-np.inf),
        coerced=np.zeros(R, bool),
        shelved=np.zeros(R, bool),
        relapsed=np.zeros(R, bool),
        relapse_until=f(-np.inf),
        pending_until=f(np.inf),
        cf_since=f(np.nan),
        cost_mult=np.ones((R, n)),
        tau_add=np.zeros((R, n)),
        force_cap=prm.force_cap0.copy(),
        legislature_add=f(0.0),
        branch_mult=np.ones((R, max(len(prm.branch_keys), 1))),
        n_rounds=np.zeros(R, np.int64),
        n_levers=np.zeros(R, np.int64),
        binding=np.full(R, -1, np.int64),
        fired=np.zeros((R, len(prm.events)), bool),
        levers_on=np.zeros((R, n), np.int64),
        first_yes=np.full((R, n, 2), np.nan),
        walkaways=np.zeros(R, np.int64),
        vote=np.zeros(R, np.int8),
    )
    st.private_u = streams.uniform("protocol", -1, 1)[:, 0]
    # the commitment parameters effects edit: views of the value kernels' own copies (the parameters stay
    # as built); without the commitment module the kernels ignore theta, which still sets the true hazard
    st.h0 = prm.kernel.h0
    st.theta = prm.kernel.theta if prm.modules["commitment"] else np.array(prm.theta, float)
    init_partials(st, prm)
    return st


class NegotiationModel(mesa.Model):
    """Mesa model of the negotiations over R replicates at once (one agent per actor).

    Parameters
    ----------
    params : dict
        Materialised scenario parameters (see :func:`sim.model.params.build_params`).
    n_replicates : int
        R, the leading axis of every state array.
    seed_seq : numpy.random.SeedSequence
        The only source of randomness; one child stream per stochastic phase.
    collect : bool
        Run the DataCollector every step (per-step aggregates over replicates).
    """

    def __init__(
        self, params: dict, n_replicates: int, seed_seq: np.random.SeedSequence, collect: bool = True
    ):
        super().__init__(rng=int(seed_seq.generate_state(1)[0]))
        self.prm = prm = build_params(params, int(n_replicates))
        self.streams = Streams(seed_seq, prm.R)
        self.state = init_state(prm, self.streams)
        self.actor_agents: list[ActorAgent] = [
            agent_class(tuple(prm.roles[a]))(self, a, i, prm.roles[a]) for i, a in enumerate(prm.actors)
        ]
        self.mediator = next((ag for ag in self.actor_agents if ag.i == prm.mediator), None)
        self._cast: dict[type, list[ActorAgent]] = {}  # agents by role; roles are fixed for a model
        self.t = 0.0
        self.step_index = 0
        self.outcome_at: dict[float, np.ndarray] = {}
        # the line and the budgets' reserves at each reporting horizon (records for the facts of a hindcast)
        self.line0 = self.state.L.copy()
        self.line_at: dict[float, np.ndarray] = {}
        self.reserves_at: dict[float, np.ndarray] = {}
        self.collect = collect
        self.datacollector = mesa.DataCollector(
            model_reporters={
                **{
                    f"share_{name}": (lambda m, c=c: float(np.mean(m.state.status == c)))
                    for c, name in enumerate(STATUS_NAMES)
                },
                "mean_L": lambda m: float(m.state.L.mean()),
                **{
                    f"mean_strain_{a}": (lambda m, i=i: float(m.state.strain[:, i].mean()))
                    for a, i in prm.bell_index.items()
                },
                "mean_frustration": lambda m: float(m.state.F.mean()),
                "share_engaged_all": lambda m: float(np.mean(m.state.engaged.all(axis=1))),
                **{
                    f"partial_in_force_{pa.id}": (lambda m, j=j: float(m.state.pa_in_force[:, j].mean()))
                    for j, pa in enumerate(prm.partials)
                },
            }
        )

    def by_role(self, role: type) -> list[ActorAgent]:
        """Return the agents playing ``role`` (a role mixin of :mod:`sim.model.agents`), in actor order."""
        if role not in self._cast:
            self._cast[role] = [ag for ag in self.actor_agents if isinstance(ag, role)]
        return self._cast[role]

    def verdicts(self, rnd: Round, u: np.ndarray) -> np.ndarray:
        """Ask every veto player and guarantor about the round's text: (len(rows), n) yes/no.

        Veto players accept or refuse on their own column (``u`` their uniforms); guarantors add their
        consent to the force terms; actors without a say are counted as yes.
        """
        yes = np.ones(u.shape, dtype=bool)
        for ag in self.by_role(VetoPlayer):
            yes[:, ag.i] = ag.accept(rnd.rows, rnd.S[:, ag.i], u[:, ag.i])
        for ag in self.by_role(Guarantor):
            yes[:, ag.i] &= ag.consents(rnd)
        return yes

    def step(self) -> None:
        """Advance every replicate by one step: phases and agents' decisions in the documented order."""
        prm, st, S = self.prm, self.state, self.streams
        s, t = self.step_index, self.t
        st.t_weeks = t
        st.log = {}
        events_phase(st, prm, S.uniform("events", s, prm.n_event_slots), t)
        intensity_phase(st, prm, t)
        calendar_levers_phase(st, prm, t)
        if prm.modules["levers"]:
            for patron in self.by_role(Patron):
                patron.move_lifeline()
        rally_phase(st, prm)
        economy_phase(st, prm)
        dL, J = battlefield_phase(st, prm, S.uniform("battlefield", s, 5), t)
        st.log["dL"], st.log["J"] = dL, J
        learning_phase(st, prm, dL, J)
        ou_phase(st, prm, S.normal("ou", s, prm.n))
        mhs = engagement_phase(st, prm, self.by_role(Belligerent), S.uniform("engagement", s, prm.n))
        if prm.protocol == "mediated_text" and self.mediator is not None:
            u_dated = S.uniform("deadlines", s, 1) if prm.deadline_weeks else None
            rows = self.mediator.convene(S.uniform("rounds", s, 3), t, u_dated)
            u_med, u_acc = S.uniform("mediator", s, prm.n), S.uniform("acceptance", s, prm.n)
            self.mediator.hold_round(rows, t, mhs, u_med, u_acc, S.uniform("levers", s, 1))
        elif prm.protocol == "mediated_text":  # no mediator: no rounds
            st.log["round"] = None
        else:
            protocol_phase(st, prm, S, s, t)
        ratification_phase(st, prm, S.uniform("ratification", s, 3), t)
        if prm.modules["status_vote"] and (st.vote == VOTE_PENDING).any():
            status_vote_phase(st, prm, S.uniform("status_vote", s, 1))
        breakdown_phase(st, prm, S.uniform("breakdown", s, 1), t)
        if prm.partials:
            partials_phase(st, prm, S.uniform("partials", s, prm.partial_slots), t)
        self.step_index += 1
        self.t = self.step_index * prm.dt
        for h in prm.horizons:
            if h not in self.outcome_at and self.t >= h - 1e-9:
                self.outcome_at[h] = classify(st, prm)
                self.line_at[h], self.reserves_at[h] = st.L.copy(), st.reserves.copy()
        if self.collect:
            self.datacollector.collect(self)

    def run(self) -> None:
        """Run to the scenario horizon."""
        for _ in range(self.prm.n_steps):
            self.step()
