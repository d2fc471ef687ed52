"""Mesa agents by role: one agent per actor, deciding for that actor's column of every replicate at once.

An actor's agent class is composed from the roles the scenario gives it (``actors.<id>.roles``), never
from its id: a veto player accepts or refuses texts, a guarantor consents only to the forces it can field,
a belligerent engages in talks when the war hurts and victory looks remote, a patron moves its lifeline to
its client, and the mediator convenes rounds, drafts the single negotiating text, chooses between the
comprehensive text and a ceasefire, and presses the party it blames. Each role is a mixin with a typed
parameter block (its columns of the model's parameter arrays) and its decision methods; each carries a
metadata record (name, what it models, source) that the documentation and the ``trace`` narrative read.
The numerical work a decision needs (valuing the war and texts, solving for the text) lives in the phase
modules the methods call.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import mesa
import numpy as np

from sim.model.acceptance import acceptance_probability
from sim.model.agreement import first_yes, sign
from sim.model.events import step_probability
from sim.model.mediation import (
    CeasefireOutlook,
    Round,
    apply_lever,
    blame,
    ceasefire_outlook,
    ceasefire_terms,
    ceasefire_value,
    forecast_acceptance,
    learn_reservations,
    open_round,
    package_scores,
    predict_reservations,
    pressure_gain,
    record_round,
    remember_refusal,
    set_support,
    shelved_terms,
    snap,
    solve_text,
    table_shelved,
    table_vote,
    take_rows,
    unchanged_since_refusal,
    value_shelved,
    value_text,
    value_vote_package,
)
from sim.model.state import CEASEFIRE, KIND_CEASEFIRE, KIND_COMPREHENSIVE, RELAPSE, WAR, in_status, rows_of
from sim.model.status_vote import contested, provide_vote

# the kinds of package whose last refusal the mediator remembers
COMPREHENSIVE_TEXT, CEASEFIRE_TEXT, SHELVED_TEXT, VOTE_TEXT = 0, 1, 2, 3
# A refusal after a long silence (a walk-away, waiting) counts as at most this many reference rounds of
# frustration and pressure: about a quarter at the baseline tempo.
MAX_ROUND_WEIGHT = 4.0


class ActorAgent(mesa.Agent):
    """An actor of the scenario: column ``i`` of every per-actor array (canonical, sorted-id order)."""

    meta = {"name": "actor", "models": "an actor with spatial preferences", "source": "memo §1.3"}

    def __init__(self, model: mesa.Model, actor_id: str, index: int, roles: list[str]) -> None:
        super().__init__(model)
        self.actor_id = actor_id
        self.i = index
        self.roles = tuple(roles)
        for base in type(self).__mro__:
            setup = base.__dict__.get("_setup_role")
            if setup is not None:
                setup(self)

    @property
    def prm(self):
        """The model's parameter arrays."""
        return self.model.prm

    @property
    def state(self):
        """The model's state arrays."""
        return self.model.state


# --- veto players --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class VetoParams:
    """A veto player's quantal-response scale nu (R,), in its own utility units (memo P9)."""

    nu: np.ndarray


class VetoPlayer:
    """Accepts or refuses a text on its own column: quantal response around its reservation (memo P9)."""

    meta = {
        "name": "veto player",
        "models": "accepts a text whose value clears its outside option, demand and reservation shock",
        "source": "McKelvey & Palfrey 1995; Signorino 1999; memo P9",
    }

    def _setup_role(self) -> None:
        self.veto = VetoParams(nu=self.prm.nu[:, self.i])

    def accept(self, rows: np.ndarray, surplus: np.ndarray, u: np.ndarray) -> np.ndarray:
        """Accept where the uniform ``u`` falls below the acceptance probability of the net ``surplus``."""
        return u < acceptance_probability(surplus, self.veto.nu[rows])


# --- guarantors ------------------------------------------------------------------------------------------
class Guarantor:
    """Consents to a text's force terms only up to the force it can field (memo P9; Walter 2002)."""

    meta = {
        "name": "guarantor",
        "models": "guarantee consent, force capacity",
        "source": "Walter 2002; memo P9",
    }

    def consents(self, rnd: Round) -> np.ndarray:
        """Consent per round: any ceasefire (monitors only); a text whose foreign forces fit its capacity."""
        k = self.prm.k["forces"]
        if k is None:
            return np.ones(rnd.rows.size, bool)
        fits = rnd.X[:, k] <= self.state.force_cap[rnd.rows, self.i] + 1e-9
        return rnd.ceasefire | fits


# --- belligerents ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class EngagementParams:
    """Rates (per year) at which a belligerent engages in and walks out of serious talks (memo P6)."""

    engage_rate: float
    disengage_rate: float


class Belligerent:
    """A party at war: engages in talks when the stalemate hurts and it sees a way out (Zartman 2000)."""

    meta = {
        "name": "belligerent",
        "models": "war party; ripeness gates its engagement",
        "source": "Zartman 1989, 2000; Mooradian & Druckman 1999; memo P6",
    }

    def _setup_role(self) -> None:
        self.engagement = EngagementParams(self.prm.eng_rate, self.prm.dis_rate)

    def reconsider_engagement(self, mhs: np.ndarray, u: np.ndarray, live: np.ndarray) -> None:
        """Engage at rate lambda_eng MHS WO, disengage at rate lambda_dis (1 - MHS), on its own column."""
        st, i, dt = self.state, self.i, self.prm.dt
        p_on = step_probability(self.engagement.engage_rate * mhs * st.way_out[:, i], dt)
        p_off = step_probability(self.engagement.disengage_rate * (1.0 - mhs), dt)
        engaged = st.engaged[:, i]
        st.engaged[:, i] = np.where(engaged, ~(live & (u < p_off)), live & (u < p_on))


# --- patrons ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class LifelineParams:
    """A patron's lifeline parameters (memo P7b).

    Level l0, adjustment rate kappa_l, elasticities to the text's normalisation and to feared secondary
    sanctions, (R,) each; ``feared`` (n,) marks whose sanctions it fears.
    """

    l0: np.ndarray
    kappa_l: np.ndarray
    alpha_norm: np.ndarray
    alpha_sanctions: np.ndarray
    feared: np.ndarray


class Patron:
    """Props up its client with an economic lifeline that follows the text and secondary sanctions."""

    meta = {
        "name": "patron",
        "models": "economic lifeline to a belligerent",
        "source": "memo §1.5 P7b (Wang Yi, Jul 2025: China cannot accept a Russian defeat)",
    }

    def _setup_role(self) -> None:
        prm, i = self.prm, self.i
        columns = {k: v[:, i] for k, v in prm.lifeline.items()}
        self.lifeline = LifelineParams(**columns, feared=prm.secondary[i])

    def move_lifeline(self) -> None:
        """Relax the lifeline toward l* = clip(l_policy + alpha_N (X_NORM - 0.5) - alpha_S S_feared).

        Beijing props Moscow up when a US-Russia realignment looms in the text and backs off when
        secondary sanctions bite (memo §1.5 P7b). l_policy starts at ``l0`` and is what events change (a
        decision to cut or raise purchases), so a cut lasts and the flows follow it at rate ``kappa_l``;
        ``l0`` is also the level Russia's 2025 revenue was observed at (the economy's reference).
        """
        prm, st, lf = self.prm, self.state, self.lifeline
        k_norm = prm.k["normalisation"]
        if k_norm is None or not self.prm.is_patron[self.i]:
            return
        feared = st.sanctions[:, lf.feared].sum(axis=1)
        pull = lf.alpha_norm * (st.X_text[:, k_norm] - 0.5) - lf.alpha_sanctions * feared
        target = np.clip(st.lifeline_policy[:, self.i] + pull, 0.0, 1.0)
        st.lifeline[:, self.i] = target + (st.lifeline[:, self.i] - target) * np.exp(-lf.kappa_l * prm.dy)


# --- the mediator ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class MediatorParams:
    """The mediator's calendar, patience and leverage (memo P7b, P8)."""

    round_rate: np.ndarray  # (R,) rounds per week
    frustration_round_multiplier: float
    frustration_decay: float  # per year
    round_interval: float | None  # weeks, a fixed calendar instead of Poisson rounds
    deadline_rate: float  # per week
    deadline_weeks: tuple[float, ...]  # dated deadlines, weeks from the start
    deadline_frustration: float
    walkaway_rate: float  # per year and unit of frustration
    walkaway_pause: float  # weeks
    walkaway_support: float
    leverage_rate: float  # P(lever after a failed round) = 1 - exp(-rate F)
    ceasefire_threshold: float
    strategic: bool  # modules.strategic_mediator
    deadline_credibility: np.ndarray  # (R,) chance a missed deadline triggers the threatened lever


class Mediator:
    """Convenes rounds, drafts the single negotiating text, chooses the package and presses the blamed.

    A biased mediator that is also a party (Kydd 2003), proposing Raiffa's (1982) single negotiating text
    and using its leverage after failed rounds (Beardsley 2011).

    With ``modules.strategic_mediator`` it is strategic: it keeps an estimate of each party's reservation
    (mean and variance, starting from its misperceived view) and learns it from every verdict; it tables
    the package (comprehensive text or ceasefire) with the higher forecast acceptance times value, never
    a refused package unchanged (it waits instead); it presses where leverage times movability promises
    the largest gain in acceptance, tilted by its blame biases; a missed deadline triggers the threatened
    lever with the scenario's credibility. Sources: Raiffa 1982 (the single text moves after refusals);
    Kydd 2003 (biased mediators); Beardsley 2011 (leverage); Svensson 2007 (a mediator's bias and what
    it can deliver); seed 002: "bold proposals, then adjusts or insists"; record F7 (deadlines to
    Moscow, none enforced on its date).
    """

    meta = {
        "name": "mediator",
        "models": "round calendar, single negotiating text, ceasefire fallback, coercive levers, walk-away",
        "source": "Raiffa 1982; Kydd 2003; Beardsley 2011; memo P7b, P8",
    }

    def _setup_role(self) -> None:
        p = self.prm
        self.mediation = MediatorParams(
            round_rate=p.nu0, frustration_round_multiplier=p.nu_F, frustration_decay=p.phi_F,
            round_interval=float(p.round_interval) if p.round_interval else None,
            deadline_rate=p.deadline_rate, deadline_weeks=p.deadline_weeks,
            deadline_frustration=p.deadline_add, walkaway_rate=p.walk_rate, walkaway_pause=p.walk_pause,
            walkaway_support=p.walk_support, leverage_rate=p.lev_rate,
            ceasefire_threshold=p.cf_threshold, strategic=bool(p.modules["strategic_mediator"]),
            deadline_credibility=p.deadline_cred,
        )  # fmt: skip
        if self.mediation.strategic:
            self._start_estimates()

    def _start_estimates(self) -> None:
        """Start the reservation estimates from the mediator's misperceived view; nothing refused yet.

        The mean starts at the mediator's misperception (sd ``misperception_sd``, drawn once: a view, not a
        per-round draw), the variance at misperception plus reservation-shock variance (memo P8, P9).
        """
        st, p = self.state, self.prm
        R, n, K = p.R, p.n, p.K
        st.res_mean0 = p.sigma_med * self.model.streams.normal("mediator", -1, n)
        st.res_var0 = p.sigma_med**2 + p.sigma_xi**2
        st.res_mean, st.res_var = st.res_mean0.copy(), st.res_var0.copy()
        st.t_estimate = np.zeros(R)
        st.t_last_round = np.zeros(R)
        st.blamed_last = np.full(R, -1, np.int64)
        st.refused_has = np.zeros((R, 4), bool)
        st.refused_X = np.full((R, 4, K), np.nan)
        st.refused_L = np.full((R, 4), np.nan)
        st.refused_W = np.full((R, 4, n), np.nan)
        st.refused_levers = np.zeros((R, 4), np.int64)
        st.refused_events = np.zeros((R, 4), np.int64)
        st.n_waits = np.zeros(R, np.int64)

    def convene(self, u: np.ndarray, t: float, u_dated: np.ndarray | None = None) -> np.ndarray:
        """Decide which replicates hold a round this step; frustration, missed deadlines, walk-aways.

        Rounds follow their own calendar at rate nu0 (1 + nu_F F) a week while talks are possible and the
        mediator is not away, so results do not depend on the step length (memo §4.4). ``u`` (R, 3):
        uniforms for the round, a missed deadline and a walk-away; ``u_dated`` (R, 1) whether a dated
        deadline that passes in this step is enforced. Deadlines come at a rate or on dates; each one
        missed adds frustration and, for the strategic mediator, fires the threatened lever with the
        deadline credibility (record F7: five US deadlines to Moscow in 2025, none enforced on its date).
        Returns the replicates with a round.
        """
        prm, st, m = self.prm, self.state, self.mediation
        st.F *= np.exp(-m.frustration_decay * prm.dy)
        talks = in_status(st.status, (WAR, RELAPSE, CEASEFIRE)) & (st.pause_until <= t)
        if m.round_interval:
            k = m.round_interval
            has_round = talks & (np.floor((t + prm.dt) / k + 1e-9) > np.floor(t / k + 1e-9))
        else:
            rate = m.round_rate * (1.0 + m.frustration_round_multiplier * st.F)
            has_round = talks & (u[:, 0] < -np.expm1(-rate * prm.dt))
        p_missed = -np.expm1(-m.deadline_rate * prm.dt)
        missed = talks & (u[:, 1] < p_missed)
        st.F[missed] += m.deadline_frustration
        enforces = m.strategic and prm.modules["levers"] and bool(prm.levers)  # threats it can carry out
        if enforces:
            # given a missed deadline, u / p_missed is a fresh uniform: enforced with the credibility
            self.enforce_deadlines(missed & (u[:, 1] < p_missed * m.deadline_credibility), t)
        if any(t <= w < t + prm.dt for w in m.deadline_weeks):  # a dated deadline passes with the war on
            dated = in_status(st.status, (WAR, RELAPSE))
            st.F[dated] += m.deadline_frustration
            if enforces and u_dated is not None:
                self.enforce_deadlines(dated & (u_dated[:, 0] < m.deadline_credibility), t)
        if prm.modules["levers"] and m.walkaway_rate > 0:
            walk = talks & (u[:, 2] < step_probability(m.walkaway_rate * st.F, prm.dt))
            st.pause_until[walk] = t + m.walkaway_pause
            st.walkaways[walk] += 1
            set_support(st, walk, self.i, m.walkaway_support, t, np.inf)
            has_round &= ~walk
        return np.flatnonzero(has_round)

    def draft(self, rnd: Round) -> np.ndarray:
        """Return the text put on the table: the mediator's Nash (or KS) text, discrete issues snapped.

        The continuous text is kept as the next round's starting point (the single text's path dependence).
        """
        st, prm = self.state, self.prm
        X_cont = solve_text(prm, st, rnd.rows, rnd.ideal_m, rnd.W_m, rnd.thr_m)
        st.X_text[rnd.rows] = X_cont
        return snap(prm, X_cont, st.L[rnd.rows])

    def enforce_deadlines(self, enforced: np.ndarray, t: float) -> None:
        """Carry out the threat of a missed deadline: the lever on the party the mediator blames.

        The deadline is addressed to the party blamed for the last failed round (memo P7b's blame, with the
        mediator's biases); where it has a lever and the threat is carried out (``enforced``, R), the lever
        fires.
        """
        st, prm = self.state, self.prm
        for a, lv in prm.levers.items():
            hit = enforced & (st.blamed_last == a)
            if hit.any():
                apply_lever(st, prm, lv, hit, t, a)
                st.n_levers[hit] += 1
                st.levers_on[hit, a] += 1
                st.t_last_lever[hit] = t

    def estimates(self, rows: np.ndarray, t: float) -> tuple[np.ndarray, np.ndarray]:
        """Bring the reservation estimates of ``rows`` up to week ``t`` and return (mean, variance)."""
        st, prm = self.state, self.prm
        mean, var = predict_reservations(
            rows_of(st.res_mean, rows), rows_of(st.res_var, rows), rows_of(st.res_mean0, rows),
            rows_of(st.res_var0, rows), t - st.t_estimate[rows], prm.T_xi[rows],
        )  # fmt: skip
        st.res_mean[rows], st.res_var[rows], st.t_estimate[rows] = mean, var, t
        return mean, var

    def learn(self, rnd: Round, accepted: np.ndarray, veto: np.ndarray, signed: np.ndarray, t: float) -> None:
        """Update the estimates from the verdicts and remember what was refused, in what state.

        A verdict given w = (weeks since the last round) / ``reference_round_interval_weeks`` < 1 after the
        last one updates the estimate by the fraction w of a full step (a damped update), so the mediator
        learns per week of talks, not per meeting: meeting twice as often does not teach it twice as fast.
        """
        st, prm, rows = self.state, self.prm, rnd.rows
        v = np.where(rnd.ceasefire[:, None], rnd.v_cf, rnd.v_text)
        # verdicts in quick succession on a persistent reservation count for less (the calendar's weight)
        w = np.minimum((t - st.t_last_round[rows]) / prm.ref_round_interval, 1.0)
        nu = rows_of(prm.nu, rows)
        mean, var = learn_reservations(rnd.res_mean, rnd.res_var, v, ~accepted, veto, nu, w)
        st.res_mean[rows], st.res_var[rows] = mean, var
        rnd.res_mean, rnd.res_var = mean, var
        cf, failed = rnd.ceasefire, ~signed
        sh, vote = rnd.shelved, rnd.vote
        for kind, refused in ((COMPREHENSIVE_TEXT, failed & ~cf & ~sh & ~vote), (CEASEFIRE_TEXT, failed & cf),
                              (SHELVED_TEXT, failed & sh), (VOTE_TEXT, failed & vote)):  # fmt: skip
            if refused.any():
                X = (rnd.X_cf if kind == CEASEFIRE_TEXT else rnd.X)[refused]  # rnd.X: that package's terms
                remember_refusal(st, rows[refused], kind, X, rnd.W_m0[refused])
        st.refused_has[rows[signed]] = False

    def choose_package(self, rnd: Round) -> np.ndarray:
        """Choose what to table in each round; return where something is tabled (elsewhere it waits).

        Put a ceasefire instead where the war is on and the text looks hopeless (memo P8). Hopeless: the
        forecast that every comprehensive veto player accepts is below the threshold. The ceasefire veto
        players then judge the ceasefire's value, which includes the option of a later settlement.

        The strategic mediator instead scores each package it may table by its forecast acceptance times
        its value to the mediator: 1 for the comprehensive text, for the text with territory shelved
        (``modules.shelving``) and for that text with a UN-supervised status vote on the contested area
        (``modules.status_vote``), the chance a ceasefire later becomes a settlement
        (``ceasefire_settlement_prob``) for a ceasefire. A package refused before and unchanged
        since (:func:`sim.model.mediation.unchanged_since_refusal`) may not be tabled; where none may, the
        mediator waits.
        """
        prm, st, rows = self.prm, self.state, rnd.rows
        at_war = in_status(st.status[rows], (WAR, RELAPSE))
        rnd.shelved = np.zeros(rows.size, bool)  # where the text with territory shelved is tabled
        rnd.vote = np.zeros(rows.size, bool)  # where the text with a status vote is tabled
        if self.mediation.strategic:
            return self._choose_strategic(rnd, at_war)
        rnd.ceasefire = at_war & (rnd.p_hat < self.mediation.ceasefire_threshold) & prm.veto_F.any()
        self._ceasefire_surplus(rnd)
        return np.ones(rows.size, bool)

    def _choose_strategic(self, rnd: Round, at_war: np.ndarray) -> np.ndarray:
        prm, st, rows = self.prm, self.state, rnd.rows
        n = rows.size
        rnd.X_cf = ceasefire_terms(prm, st.L[rows])
        allowed = {
            "comprehensive": ~unchanged_since_refusal(prm, st, rows, COMPREHENSIVE_TEXT, rnd.X, rnd.W_m0),
            "ceasefire": at_war & prm.veto_F.any()
            & ~unchanged_since_refusal(prm, st, rows, CEASEFIRE_TEXT, rnd.X_cf, rnd.W_m0),
        }
        rnd.v_cf = np.full(rnd.v_text.shape, np.nan)
        p_cf = np.zeros(n)
        cf = allowed["ceasefire"]  # a ceasefire that may not be tabled is not worth valuing
        outlook = None
        if cf.any():
            outlook = ceasefire_outlook(prm, st, rows[cf])
            Vc_m = ceasefire_value(prm, st, rows[cf], rnd.W_m[cf], rnd.V_m[cf], outlook)
            rnd.v_cf[cf] = Vc_m - rnd.W_m0[cf] - rnd.tau[cf]
            p_cf[cf] = forecast_acceptance(prm, rows[cf], rnd.v_cf[cf], rnd.res_mean[cf], rnd.res_var[cf],
                                           prm.veto_F)  # fmt: skip
        p = {"comprehensive": rnd.p_hat, "ceasefire": p_cf}
        value = {"comprehensive": np.ones(n), "ceasefire": prm.cf_settle[rows]}
        if prm.modules["shelving"]:  # the text with territory shelved, where that changes it
            rnd.X_sh = shelved_terms(prm, rnd.X, st.L[rows])
            moved = np.max(np.abs(rnd.X_sh - rnd.X), axis=1) > prm.retable_text_tol
            sh = moved & ~unchanged_since_refusal(prm, st, rows, SHELVED_TEXT, rnd.X_sh, rnd.W_m0)
            value_shelved(st, prm, rnd, sh)
            allowed["shelved"] = sh
            p["shelved"] = np.zeros(n)
            p["shelved"][sh] = forecast_acceptance(prm, rows[sh], rnd.v_sh[sh], rnd.res_mean[sh],
                                                   rnd.res_var[sh], prm.veto_C)  # fmt: skip
            value["shelved"] = np.ones(n)  # a ratified settlement, like the full text
        if prm.modules["status_vote"]:  # the shelving terms plus a UN-supervised vote on the contested area
            L = st.L[rows]
            rnd.X_vote = rnd.X_sh if rnd.X_sh is not None else shelved_terms(prm, rnd.X, L)
            vt = contested(prm, L) & ~unchanged_since_refusal(prm, st, rows, VOTE_TEXT, rnd.X_vote, rnd.W_m0)
            value_vote_package(st, prm, rnd, vt)
            allowed["vote"] = vt
            p["vote"] = np.zeros(n)
            p["vote"][vt] = forecast_acceptance(prm, rows[vt], rnd.v_vote[vt], rnd.res_mean[vt],
                                                rnd.res_var[vt], prm.veto_C)  # fmt: skip
            value["vote"] = np.ones(n)  # a settlement once the vote is held
        names, score = package_scores(p, value, allowed)
        tabled = np.isfinite(score.max(axis=1))
        choice = np.argmax(score, axis=1)
        rnd.ceasefire = tabled & (choice == names.index("ceasefire"))
        rnd.p_hat = np.where(rnd.ceasefire, p_cf, rnd.p_hat)
        self._ceasefire_surplus(rnd, None if outlook is None else outlook.take(rnd.ceasefire[cf]))
        if "shelved" in names:
            table_shelved(rnd, tabled & (choice == names.index("shelved")), p["shelved"])
        if "vote" in names:
            table_vote(rnd, tabled & (choice == names.index("vote")), p["vote"])
        return tabled

    def _ceasefire_surplus(self, rnd: Round, outlook: CeasefireOutlook | None = None) -> None:
        """Set the parties' true surplus from the ceasefire where one is tabled (memo P8).

        ``outlook``: the ceasefire's :func:`sim.model.mediation.ceasefire_outlook` where it is tabled, if
        the package choice computed it (a ceasefire is tabled only where it was allowed and valued).
        """
        prm, st, rows = self.prm, self.state, rnd.rows
        if rnd.ceasefire.any():
            cf = rnd.ceasefire
            Vc = ceasefire_value(prm, st, rows[cf], rnd.W[cf], rnd.V[cf], outlook)
            rnd.S = rnd.S.copy()
            rnd.S[cf] = Vc - rnd.W[cf] - rnd.tau[cf] - st.xi[rows[cf]]

    def press(self, rnd: Round, accepted: np.ndarray, veto: np.ndarray, failed: np.ndarray, u: np.ndarray,
              t: float) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
        """After failed rounds: frustration rises, the party furthest from yes is blamed and maybe pressed.

        With probability 1 - exp(-lambda_lev F) the mediator applies its lever on the blamed party (an aid
        pause, sanctions, a cut of its say in the text; Beardsley 2011). ``u`` (R, 1) uniforms. Returns the
        blamed actor (-1 if none) and whether a lever was applied, per round. The strategic mediator presses
        instead the party :meth:`pressure_target` picks, and returns it as the blamed party where it does.

        The strategic mediator's frustration and pressure follow the calendar, not the count of rounds:
        a failed round adds, and the lever's hazard is scaled by, w = (weeks since its last round) /
        ``reference_round_interval_weeks`` (at most 4), the tempo at which frustration and
        ``leverage_rate`` are calibrated, so meeting twice as often neither doubles the frustration nor
        the levers pulled per year (memo §4.4: rates, never per-round probabilities).
        """
        prm, st, rows = self.prm, self.state, rnd.rows
        blamed = np.full(rows.size, -1)
        lever = np.zeros(rows.size, dtype=bool)
        w = np.ones(rows.size)
        if self.mediation.strategic:
            w = np.minimum((t - st.t_last_round[rows]) / prm.ref_round_interval, MAX_ROUND_WEIGHT)
            st.t_last_round[rows] = t
        fr = rows[failed]
        if fr.size == 0:
            return blamed, lever
        st.F[fr] += w[failed] if self.mediation.strategic else 1.0
        blamed = blame(prm, rnd, accepted, veto, failed)
        if self.mediation.strategic:
            st.blamed_last[fr] = blamed[failed]
        if prm.modules["levers"] and prm.levers:
            p_lev = -np.expm1(-self.mediation.leverage_rate * st.F[rows] * w)
            lever = failed & (u[rows, 0] < p_lev)
            if self.mediation.strategic and lever.any():
                blamed = np.where(lever, self.pressure_target(rnd, veto, blamed), blamed)
            for a, lv in prm.levers.items():
                hit = lever & (blamed == a)
                if hit.any():
                    mask = np.zeros(st.R, dtype=bool)
                    mask[rows[hit]] = True
                    apply_lever(st, prm, lv, mask, t, a)
                    st.levers_on[mask, a] += 1
            lever &= np.isin(blamed, list(prm.levers))
            st.n_levers[rows[lever]] += 1
            st.t_last_lever[rows[lever]] = t
        return blamed, lever

    def pressure_target(self, rnd: Round, veto: np.ndarray, blamed: np.ndarray) -> np.ndarray:
        """Return whom to press in each round: the largest forecast gain per application of a lever.

        Leverage (each lever's ``leverage`` from the scenario) times movability (how close the party is to
        yes by the mediator's estimate): :func:`sim.model.mediation.pressure_gain`, weighted by the
        mediator's blame biases (1 + beta_blame; a biased mediator, Kydd 2003; Svensson 2007). Where no
        lever promises a gain, the blamed party is pressed (memo P7b).
        """
        prm, rows = self.prm, rnd.rows
        actors = list(prm.levers)
        leverage = [rows_of(prm.levers[a].leverage, rows) for a in actors]
        v = np.where(rnd.ceasefire[:, None], rnd.v_cf, rnd.v_text)
        veto2 = np.broadcast_to(veto, v.shape)
        gain = pressure_gain(prm, rows, v, rnd.res_mean, rnd.res_var, veto2, actors, leverage)
        score = (1.0 + prm.blame_bias[actors]) * gain
        best = np.asarray(actors)[np.argmax(score, axis=1)]
        return np.where(score.max(axis=1) > 0.0, best, blamed)

    def hold_round(
        self, rows: np.ndarray, t: float, mhs: np.ndarray, u_med: np.ndarray, u_acc: np.ndarray,
        u_lev: np.ndarray,
    ) -> None:  # fmt: skip
        """One mediated round in ``rows``: view, draft, package, verdicts, signatures, pressure (P4-P9).

        ``u_med`` (R, n) the mediator's misperception, ``u_acc`` (R, n) each actor's verdict, ``u_lev``
        (R, 1) the lever decision: uniforms drawn for every replicate, used for ``rows``.
        """
        st, prm = self.state, self.prm
        if rows.size == 0:
            st.log["round"] = None
            return
        strategic = self.mediation.strategic
        rnd = open_round(st, prm, rows, t, mhs, u_med, self.estimates(rows, t) if strategic else None)
        rnd.X = self.draft(rnd)
        value_text(st, prm, rnd)
        tabled = self.choose_package(rnd)
        if not tabled.all():  # the strategic mediator waits rather than re-table a refused package
            st.n_waits[rows[~tabled]] += 1
            rnd = take_rows(rnd, tabled)
            rows = rnd.rows
            if rows.size == 0:
                st.log["round"] = None
                return
        if strategic:  # what was tabled and in what state (the trace and the re-tabling test read it)
            st.log["tabled"] = {
                "rows": rows, "ceasefire": rnd.ceasefire,
                "shelved": rnd.shelved, "vote": rnd.vote,
                "terms": np.where(rnd.ceasefire[:, None], rnd.X_cf, rnd.X),
                "L": st.L[rows].copy(), "W_m0": rnd.W_m0, "levers": st.n_levers[rows].copy(),
                "events": st.fired[rows].sum(axis=1), "p_hat": rnd.p_hat,
            }  # fmt: skip
        veto = np.where(rnd.ceasefire[:, None], prm.veto_F, prm.veto_C)
        accepted = self.model.verdicts(rnd, u_acc[rows])
        signed = np.all(accepted | ~veto, axis=1)
        first_yes(st, rows, accepted & veto, rnd.ceasefire, t + prm.dt)
        comp, cf = signed & ~rnd.ceasefire, signed & rnd.ceasefire
        sign(st, prm, rows[comp], rnd.X[comp], KIND_COMPREHENSIVE, t)
        sign(st, prm, rows[cf], ceasefire_terms(prm, st.L[rows[cf]]), KIND_CEASEFIRE, t)
        st.shelved[rows[signed]] = rnd.shelved[signed]
        provide_vote(st, prm, rows[signed], rnd.vote[signed], t)
        if strategic:
            self.learn(rnd, accepted, veto, signed, t)
        blamed, lever = self.press(rnd, accepted, veto, ~signed, u_lev, t)
        record_round(st, prm, rnd, accepted, veto, signed, blamed, lever)


ROLE_MIXINS = {
    "mediator": Mediator,
    "belligerent": Belligerent,
    "guarantor": Guarantor,
    "veto_comprehensive": VetoPlayer,
    "veto_ceasefire": VetoPlayer,
    "patron": Patron,
}


@cache
def agent_class(roles: tuple[str, ...]) -> type[ActorAgent]:
    """Compose the agent class of an actor from its roles (one mixin per role, in a fixed order)."""
    mixins = tuple(dict.fromkeys(ROLE_MIXINS[r] for r in sorted(set(roles), key=list(ROLE_MIXINS).index)))
    if not mixins:
        return ActorAgent
    name = "".join(m.__name__ for m in mixins) + "Agent"
    return type(name, (*mixins, ActorAgent), {"__doc__": "An actor playing: " + ", ".join(sorted(roles))})

