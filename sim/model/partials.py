"""Partial agreements: accords beside the comprehensive text and the ceasefire (``partial_agreements``).

The humanitarian and economic tracks delivered when the main text did not: the US-Ukraine minerals and
reconstruction fund (signed 30 Apr 2025, ratified 8 May), prisoner exchanges through 2025 and 2026, a
30-day energy-strike moratorium that lapsed, a Black Sea arrangement Russia tied to sanctions relief, and
truces of 30 to 72 hours (shared/reference/record-2025-2026.md, F1 and F13). Such steps are the
confidence-building measures of the conflict-resolution literature (Osgood 1962, GRIT; Fortna 2003 on the
measures that make agreements last); seed 000 calls the exchanges confidence-building, seeds 002 and 004
read the minerals deal as a US stake in Ukraine.

Each scenario type (``partial_agreements.<ID>``) is a small contract, run once a step after the negotiation
protocol, for every live replicate at once:

1. *Ending.* A type in force lapses when its ``duration_weeks`` is over (at that date) and breaks down at
   its ``breakdown_per_year`` hazard (at the end of the step); its effects are then undone.
2. *Proposal.* While it is not in force, its ``proposers`` put it on the table at ``proposal_rate`` per
   year (exact per-step probability, :func:`sim.model.events.step_probability`), if ``when`` holds and a
   proposer is there: the mediator while it is at the table (not paused after a walk-away), an actor while
   it is engaged in the talks (ripeness, memo P6).
3. *Signature.* Each party signs with the model's one acceptance rule
   (:func:`sim.model.acceptance.acceptance_probability`, quantal in its ``value`` with its own noise
   ``nu``; McKelvey & Palfrey 1995); all parties must sign. The value is stated in normalised utility units
   (times the actor's ``utility_scale``), plus ``value_expression`` evaluated on the state when proposed
   (Russia's value of the Black Sea arrangement rises with the sanctions relief on offer).
4. *Effects.* Written like event effects, add or mul only: applied at signature, undone (the inverse edit)
   when the agreement ends. The rule undoes the agreement's own contribution, not the state before it:
   what else moved the quantity meanwhile stays, and a clip at a box edge may make the undo inexact.

A type ``in_force_at_start`` was signed before the scenario starts: it is in force (signed in week 0) and
its effects are already in the starting levels, so they are not applied again, only undone if it ends.
A type that is not ``repeatable`` is signed at most once; a ``repeatable`` one may be signed again once it
has ended; a repeatable type without a duration is an act
(an exchange of prisoners): it may be signed at any time, never ends, and each signing applies its effects
again, so they accumulate. A partial agreement never touches the war's status: the four outcome classes
keep their meaning (a 72-hour truce is not a ceasefire).

References
----------
Osgood, C. E. (1962). *An Alternative to War or Surrender*. University of Illinois Press.
Fortna, V. P. (2003). Scraps of paper? Agreements and the durability of peace. *International
Organization* 57(2), 337-372.
McKelvey, R. D. & Palfrey, T. R. (1995). Quantal response equilibria for normal form games. *Games and
Economic Behavior* 10(1), 6-38.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.errors import UserError
from sim.model.acceptance import acceptance_probability
from sim.model.events import (
    Effect,
    apply_effects,
    compile_effects,
    expression_names,
    state_env,
)
from sim.model.expressions import compile_expression
from sim.model.state import ABSORBING, State, in_status


@dataclass
class PartialSpec:
    """A compiled partial-agreement type (one ``partial_agreements.<ID>`` entry).

    ``parties`` (m,) actor indices that must sign; ``value`` (R, m) in each party's own units;
    ``value_expr`` one compiled expression (or None) per party; ``duration`` (R,) weeks or None (until it
    breaks down); ``undo`` the inverse edits of ``effects``; ``slot`` its first column of the phase's
    uniforms (one for the proposal, one per party, one for the breakdown).
    """

    id: str
    label: str
    parties: np.ndarray
    mediated: bool
    proposers: np.ndarray
    rate: np.ndarray
    value: np.ndarray
    value_expr: list
    when: object
    duration: np.ndarray | None
    breakdown: np.ndarray
    repeatable: bool
    effects: list[Effect]
    undo: list[Effect]
    slot: int
    at_start: bool = False
    # the per-step probabilities of a proposal and of a breakdown (R,): fixed rates, computed once per model
    p_propose: np.ndarray | None = None
    p_break: np.ndarray | None = None

    @property
    def is_act(self) -> bool:
        """A repeatable type without a duration: each signing is an act whose effects stay."""
        return self.repeatable and self.duration is None

    @property
    def width(self) -> int:
        """Uniform columns it draws each step."""
        return 2 + self.parties.size


def _R(v: object, R: int, where: str) -> np.ndarray:
    if isinstance(v, (str, dict, list)) or v is None:
        raise UserError(f"{where}: expected a number, got {v!r}")
    return np.broadcast_to(np.asarray(v, dtype=float), (R,)).astype(float)


def _given(pa: dict, key: str) -> object:
    """Return the value of ``key`` (a number or an (R,) array), 0 when the scenario leaves it out."""
    v = pa.get(key)
    return 0.0 if v is None else v


def _inverse(effects: list[Effect], where: str) -> list[Effect]:
    """Return the edits that undo ``effects`` (add -> add -v, mul -> mul 1/v), in reverse order."""
    out = []
    for e in reversed(effects):
        if e.op == "add":
            out.append(Effect(e.kind, e.index, "add", -e.value))
        elif e.op == "mul" and np.all(e.value > 0):
            out.append(Effect(e.kind, e.index, "mul", 1.0 / e.value))
        else:
            raise UserError(f"{where}.effect: {e.kind} {e.op} cannot be undone (expected add, or mul by a "
                            "positive factor)")
    return out


def compile_partials(section: dict, actors: list[str], R: int, uscale: np.ndarray) -> list[PartialSpec]:
    """Compile the scenario's ``partial_agreements`` block (declaration order; see the module docstring)."""
    names = expression_names(actors)
    out: list[PartialSpec] = []
    slot = 0
    for pid, pa in (section or {}).items():
        where = f"partial_agreements.{pid}"
        parties = np.array([actors.index(a) for a in pa["parties"]], dtype=np.int64)
        given = pa.get("value") or {}
        value = np.stack(
            [_R(given.get(a, 0.0), R, f"{where}.value.{a}") * uscale[:, i]
             for a, i in zip(pa["parties"], parties, strict=True)],
            axis=1,
        )
        exprs = pa.get("value_expression") or {}
        value_expr = [compile_expression(exprs[a], names, f"{where}.value_expression.{a}") if a in exprs
                      else None for a in pa["parties"]]
        duration = (None if pa.get("duration_weeks") is None
                    else _R(pa["duration_weeks"], R, f"{where}.duration_weeks"))
        breakdown = _R(_given(pa, "breakdown_per_year"), R, f"{where}.breakdown_per_year")
        repeatable = bool(pa.get("repeatable", False))
        if repeatable and duration is None and np.any(breakdown > 0):
            raise UserError(f"{where}.breakdown_per_year: a repeatable agreement without a duration is an "
                            "act that never ends (expected no breakdown_per_year, or a duration_weeks)")
        effects = compile_effects(pa.get("effect") or {}, actors, [], R, where, uscale)
        proposers = list(pa["proposers"])
        spec = PartialSpec(
            id=pid, label=str(pa.get("label", pid)), parties=parties, mediated="mediator" in proposers,
            proposers=np.array([actors.index(p) for p in proposers if p != "mediator"], dtype=np.int64),
            rate=_R(_given(pa, "proposal_rate"), R, f"{where}.proposal_rate"), value=value,
            value_expr=value_expr,
            when=compile_expression(pa["when"], names, f"{where}.when") if pa.get("when") else None,
            duration=duration, breakdown=breakdown, repeatable=repeatable, effects=effects,
            undo=_inverse(effects, where), slot=slot, at_start=bool(pa.get("in_force_at_start", False)),
        )
        slot += spec.width
        out.append(spec)
    return out


def init_partials(state: State, prm) -> None:
    """Give the state its partial-agreement columns (none in force at t = 0)."""
    R, T = state.R, len(prm.partials)
    state.pa_in_force = np.zeros((R, T), bool)
    state.pa_since = np.full((R, T), np.nan)
    state.pa_first = np.full((R, T), np.nan)
    state.pa_held = np.zeros((R, T))
    state.pa_count = np.zeros((R, T), np.int64)
    for j, pa in enumerate(prm.partials):
        if pa.at_start:  # signed before the start: its effects are already in the starting levels
            state.pa_in_force[:, j] = not pa.is_act
            state.pa_since[:, j] = 0.0 if not pa.is_act else np.nan
            state.pa_first[:, j] = 0.0
            state.pa_count[:, j] = 1


def party_values(pa: PartialSpec, env: dict, rows: np.ndarray) -> np.ndarray:
    """Return each party's value of signing ``pa`` in ``rows`` (R_sub, m), own units, with its expression."""
    v = pa.value[rows].copy()
    for c, expr in enumerate(pa.value_expr):
        if expr is not None:
            extra = np.broadcast_to(np.asarray(expr(env), dtype=float), (env["L"].shape[0],))
            v[:, c] += extra[rows]
    return v


def signing_probability(pa: PartialSpec, prm, env: dict, rows: np.ndarray) -> np.ndarray:
    """Return each party's probability of signing ``pa`` (R_sub, m): the acceptance rule on its value."""
    return acceptance_probability(party_values(pa, env, rows), prm.nu[rows][:, pa.parties])


def proposed_by(pa: PartialSpec, state: State, prm, t: float) -> np.ndarray:
    """Return where some proposer of ``pa`` is there to table it (R,).

    The mediator is there while not paused after a walk-away, an actor while engaged in the talks
    (ripeness, memo P6).
    """
    here = np.zeros(state.R, bool)
    if pa.mediated and prm.mediator is not None:
        here |= state.pause_until <= t
    if pa.proposers.size:
        here |= state.engaged[:, pa.proposers].any(axis=1)
    return here


def partials_phase(state: State, prm, u: np.ndarray, t: float) -> None:
    """End, propose and sign partial agreements for one step (module docstring; memo-style phase).

    Parameters
    ----------
    state : State
    prm : ModelParams
    u : ndarray, shape (R, prm.partial_slots)
        This step's uniforms: per type one for the proposal, one per party, one for the breakdown.
    t : float
        Time at the start of the step, in weeks.
    """
    t_end = t + prm.dt
    live = ~in_status(state.status, ABSORBING)
    # (type, what happened, where (R,)[, who refused (R, m)]) for the trace narrative
    log = state.log.setdefault("partials", [])
    env = None
    for j, pa in enumerate(prm.partials):
        on = state.pa_in_force[:, j]
        m = pa.parties.size
        # 1. lapse at the end of the duration, or break down at the hazard (an act never ends)
        if on.any() and not pa.is_act:
            since = state.pa_since[:, j]
            lapse = (on & (since + pa.duration <= t_end + 1e-9) if pa.duration is not None
                     else np.zeros_like(on))
            broke = on & ~lapse & (u[:, pa.slot + 1 + m] < pa.p_break)
            end = lapse | broke
            if end.any():
                stop = np.where(lapse, since + (pa.duration if pa.duration is not None else 0.0), t_end)
                state.pa_held[end, j] += (stop - since)[end]
                apply_effects(state, pa.undo, end)
                state.pa_in_force[end, j] = False
                state.pa_since[end, j] = np.nan
                log.append((pa, "lapsed", lapse))
                log.append((pa, "broke down", broke))
        # 2. proposals: by the mediator while it is at the table, or by an actor while it is engaged (P6)
        if pa.is_act:
            may = live
        elif pa.repeatable:
            may = live & ~state.pa_in_force[:, j]
        else:  # signed at most once
            may = live & np.isnan(state.pa_first[:, j])
        may = may & proposed_by(pa, state, prm, t)
        arrive = may & (u[:, pa.slot] < pa.p_propose)
        env = None  # the state as the proposal finds it (effects signed earlier this step included)
        if pa.when is not None and arrive.any():
            env = state_env(state, prm.actors)
            arrive &= np.asarray(pa.when(env), dtype=bool)
        if not arrive.any():
            continue
        # 3. every party signs or refuses
        env = state_env(state, prm.actors) if env is None else env
        rows = np.flatnonzero(arrive)
        p = signing_probability(pa, prm, env, rows)
        yes = u[rows, pa.slot + 1: pa.slot + 1 + m] < p
        signed = yes.all(axis=1)
        won = rows[signed]
        mask = np.zeros(state.R, bool)
        mask[won] = True
        refusers = np.zeros((state.R, m), bool)
        refusers[rows] = ~yes
        log.append((pa, "signed", mask))
        log.append((pa, "refused", arrive & ~mask, refusers))
        if not won.size:
            continue
        # 4. in force from the end of the step; its effects hold until it ends
        state.pa_first[won, j] = np.where(np.isnan(state.pa_first[won, j]), t_end, state.pa_first[won, j])
        state.pa_count[won, j] += 1
        apply_effects(state, pa.effects, mask)
        fresh = won[~state.pa_in_force[won, j]]
        state.pa_in_force[fresh, j] = True
        state.pa_since[fresh, j] = t_end


def weeks_held(state: State, t: float) -> np.ndarray:
    """Return the weeks each type has been in force by ``t`` (R, T): finished spells plus the current one."""
    current = np.where(state.pa_in_force, t - np.nan_to_num(state.pa_since, nan=t), 0.0)
    return state.pa_held + current
