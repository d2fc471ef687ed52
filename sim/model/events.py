"""P1: events: Poisson hazards, scheduled dates with branches, state-triggered rules (memo §1.5 P1).

Every hazard is an annual rate converted exactly for the step, P(fire in step) = 1 - exp(-lambda Delta_y)
(memo §1.1), so the probability of an event by a date does not depend on the step length (memo §3, T12).
An ``annual_prob`` p is the probability of at least one event in a year, lambda = -ln(1 - p). Effects are
declarative edits of named state quantities; simultaneous events are applied in the order the scenario
declares them (a fixed, documented priority). Conditions and multipliers use the whitelisted expression
language of :mod:`sim.model.expressions`.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field

import numpy as np

from sim.errors import UserError
from sim.model.expressions import compile_expression
from sim.model.state import ABSORBING, AGREEMENT, STATUS_NAMES, State, in_status
from sim.scenario.checks import split_actor_target

WEEKS_PER_YEAR = 52.18

#: Per-actor effect targets ``ACTOR_<suffix>`` that edit a column of an (R, n) state array: the array and
#: the box it is clipped to (None: no clipping). The suffixes are listed once, in the scenario schema.
ACTOR_TARGETS = {
    "support": ("support", (0.0, 1.5)),
    "sanctions": ("sanctions", (-0.5, 1.5)),
    "lifeline": ("lifeline_policy", (0.0, 1.0)),  # the patron's policy; its lifeline follows (P7b)
    "force_capacity": ("force_cap", (0.0, 1.0)),
    "tau": ("tau_add", None),
    "cost_multiplier": ("cost_mult", (0.0, np.inf)),
    "drift_belief": ("m", None),
    "revenue_multiplier": ("revenue_mult", (0.0, np.inf)),
    # the actor's perceived reneging hazard h0 (memo P5): the state's view of the value kernels' own copy
    "reneging_hazard": ("h0", (0.0, np.inf)),
}
#: Global effect targets on (R,) state arrays, with their boxes. ``guarantee_credibility`` is theta (memo
#: P5), read by the perceived reneging hazard and by the true breakdown hazard.
GLOBAL_TARGETS = {
    "legislature_p_pass": ("legislature_add", (-1.0, 1.0)),
    "guarantee_credibility": ("theta", (0.0, 1.0)),
}


@dataclass
class Effect:
    """One edit: ``target`` (kind, actor index or branch index), ``op`` in set/add/mul, ``value`` (R,)."""

    kind: str
    index: int
    op: str
    value: np.ndarray


@dataclass
class Branch:
    """One branch of a scheduled event: fires with probability p (times any multiplier)."""

    label: str
    p: np.ndarray
    effects: list[Effect]
    slot: int
    key: int = 0


@dataclass
class EventSpec:
    """A compiled event."""

    id: str
    type: str
    rate: np.ndarray | None = None
    when: object = None
    multiplier: object = None
    trigger: object = None
    weeks: list[float] = field(default_factory=list)
    branches: list[Branch] = field(default_factory=list)
    effects: list[Effect] = field(default_factory=list)
    slot: int = -1
    step_p: np.ndarray | None = None  # a Poisson event's probability per step, when its rate is fixed


def fix_step_probabilities(events: list[EventSpec], dt: float) -> None:
    """Set ``step_p`` of each Poisson event without a state multiplier: its rate, and so this, is fixed.

    Computed once per model instead of at every step (about 25 events a step).
    """
    for ev in events:
        if ev.type == "poisson" and ev.multiplier is None:
            ev.step_p = step_probability(ev.rate, dt)


def poisson_step_probability(ev: EventSpec, env: dict, dt: float) -> np.ndarray:
    """Return the probability that Poisson event ``ev`` occurs this step (its rate times any multiplier)."""
    if ev.step_p is not None:
        return ev.step_p
    rate = ev.rate if ev.multiplier is None else ev.rate * np.asarray(ev.multiplier(env), dtype=float)
    return step_probability(rate, dt)


def annual_rate(p: np.ndarray) -> np.ndarray:
    """Annual rate lambda = -ln(1 - p) of an event with probability p of at least one occurrence a year."""
    p = np.asarray(p, dtype=float)
    if np.any((p < 0) | (p >= 1)):
        raise UserError("annual_prob must be in [0, 1)")
    return -np.log1p(-p)


def step_probability(rate: np.ndarray, dt_weeks: float) -> np.ndarray:
    """Exact probability of at least one event in a step of ``dt_weeks`` at annual rate ``rate``."""
    return -np.expm1(-np.asarray(rate, dtype=float) * dt_weeks / WEEKS_PER_YEAR)


#: Per-actor state quantities an expression may read, as ``ACTOR_<name>`` (e.g. ``RU_strain``).
EXPRESSION_QUANTITIES = ("strain", "support", "sanctions", "lifeline")


def expression_names(actors: list[str]) -> list[str]:
    """Names the event expressions may use."""
    base = ["L", "I", "F", "status", "ceasefire_weeks", "t_weeks"]
    per_actor = [f"{a}_{q}" for a in actors for q in EXPRESSION_QUANTITIES]
    return base + per_actor + list(STATUS_NAMES)


STATUS_CONSTANTS = {name: code for code, name in enumerate(STATUS_NAMES)}


def state_env(state: State, actors: list[str]) -> dict[str, object]:
    """Return the environment an expression sees: current state arrays and status constants.

    The per-actor entries are views of the state's (R, n) arrays, which the phases edit in place, so they
    are made once per state and stay current.
    """
    if state.env_columns is None:
        state.env_columns = {
            f"{a}_{q}": getattr(state, q)[:, i] for i, a in enumerate(actors) for q in EXPRESSION_QUANTITIES
        }
    return {
        "L": state.L,
        "I": state.I,
        "F": state.F,
        "status": state.status,
        "t_weeks": state.t_weeks,
        "ceasefire_weeks": np.where(in_status(state.status, AGREEMENT), state.t_weeks - state.t_signed, 0.0),
        **state.env_columns,
        **STATUS_CONSTANTS,
    }


def _as_R(v: object, R: int, where: str) -> np.ndarray:
    if isinstance(v, str):
        raise UserError(f"{where}: expected a number, got {v!r}")
    return np.broadcast_to(np.asarray(v, dtype=float), (R,)).astype(float)


def compile_events(
    events: dict, actors: list[str], R: int, start_date: object, uscale: np.ndarray
) -> tuple[list[EventSpec], list[str], int]:
    """Compile the scenario's ``events`` block.

    Returns the event specs in declaration order, the branch keys (``EVENT.label``) in slot order, and the
    number of uniform draws per step (one per Poisson event and one per scheduled branch).
    """
    names = expression_names(actors)
    specs: list[EventSpec] = []
    branch_keys: list[str] = []
    slot = 0
    start = _to_date(start_date)
    for eid, ev in (events or {}).items():
        where = f"events.{eid}"
        kind = ev.get("type")
        spec = EventSpec(id=eid, type=kind)
        if kind == "poisson":
            spec.rate = annual_rate(_as_R(ev.get("annual_prob", 0.0), R, where + ".annual_prob"))
            if ev.get("when"):
                spec.when = compile_expression(ev["when"], names, where + ".when")
            if ev.get("state_multiplier"):
                spec.multiplier = compile_expression(
                    str(ev["state_multiplier"]), names, where + ".state_multiplier"
                )
            spec.slot, slot = slot, slot + 1
        elif kind == "scheduled":
            dates = ev.get("dates") or ([ev["date"]] if "date" in ev else [])
            spec.weeks = [(_to_date(d) - start).days / 7.0 for d in dates]
            for b in ev.get("branches", []):
                key = f"{eid}.{b['label']}"
                branch_keys.append(key)
                spec.branches.append(
                    Branch(
                        b["label"],
                        _as_R(b.get("p", 1.0), R, f"{where}.{b['label']}.p"),
                        [],
                        slot,
                        len(branch_keys) - 1,
                    )
                )
                slot += 1
        elif kind == "endogenous":
            spec.trigger = compile_expression(ev["trigger"], names, where + ".trigger")
        else:
            raise UserError(
                f"{where}.type: unknown event type {kind!r} (expected poisson, scheduled, endogenous)"
            )
        specs.append(spec)
    # effects are compiled after all branch keys are known (effects may target another event's branch)
    for spec, (eid, ev) in zip(specs, (events or {}).items(), strict=True):
        where = f"events.{eid}"
        if spec.type == "scheduled":
            for br, b in zip(spec.branches, ev.get("branches", []), strict=True):
                br.effects = compile_effects(
                    b.get("effect", {}), actors, branch_keys, R, f"{where}.{br.label}", uscale
                )
        else:
            spec.effects = compile_effects(ev.get("effect", {}), actors, branch_keys, R, where, uscale)
    return specs, branch_keys, slot


def _to_date(d: object) -> _dt.date:
    if isinstance(d, _dt.datetime):
        return d.date()
    if isinstance(d, _dt.date):
        return d
    return _dt.date.fromisoformat(str(d))


def compile_effects(
    eff: dict, actors: list[str], branch_keys: list[str], R: int, where: str, uscale
) -> list[Effect]:
    """Compile an ``effect:`` mapping (target -> {set|add|mul: value}) into :class:`Effect` edits.

    Events and partial agreements (:mod:`sim.model.partials`) write their effects in this one language.
    """
    out = []
    for target, opspec in (eff or {}).items():
        if not isinstance(opspec, dict) or len(opspec) != 1:
            raise UserError(f"{where}.effect.{target}: expected one of {{set: x}}, {{add: x}}, {{mul: x}}")
        ((op, val),) = opspec.items()
        if op not in ("set", "add", "mul"):
            raise UserError(f"{where}.effect.{target}: unknown operation {op!r} (expected set, add, mul)")
        if target == "status":
            if val not in STATUS_NAMES:
                raise UserError(
                    f"{where}.effect.status: unknown status {val!r} (expected one of {STATUS_NAMES})"
                )
            out.append(Effect("status", STATUS_NAMES.index(val), "set", np.zeros(R)))
            continue
        v = _as_R(val, R, f"{where}.effect.{target}")
        if target in GLOBAL_TARGETS:
            out.append(Effect(target, -1, op, v))
            continue
        if target.endswith(".p") and target[:-2] in branch_keys:
            out.append(Effect("branch", branch_keys.index(target[:-2]), op, v))
            continue
        split = split_actor_target(target, actors)
        if split is not None and split[1] in ACTOR_TARGETS:
            actor, what = split
            i = actors.index(actor)
            if what == "tau" and op != "mul":
                v = v * uscale[:, i]  # stated in normalised utility units
            out.append(Effect(what, i, op, v))
            continue
        raise UserError(
            f"{where}.effect: unknown target {target!r} "
            f"(expected one of {', '.join(GLOBAL_TARGETS)}, status, "
            f"{', '.join('ACTOR_' + x for x in ACTOR_TARGETS)}, EVENT.branch.p)"
        )
    return out


def _edit(arr: np.ndarray, mask: np.ndarray, op: str, v: np.ndarray) -> None:
    if op == "set":
        arr[mask] = v[mask]
    elif op == "add":
        arr[mask] += v[mask]
    else:
        arr[mask] *= v[mask]


def apply_effects(state: State, effects: list[Effect], mask: np.ndarray) -> None:
    """Apply effects to the replicates in ``mask`` (in order), then clip edited quantities to their boxes.

    A permanent edit of an actor's support also moves the level a temporary lever returns to.
    """
    if not mask.any():
        return
    for e in effects:
        if e.kind == "status":
            state.status[mask] = e.index
        elif e.kind == "branch":
            col = state.branch_mult[:, e.index]
            _edit(col, mask, e.op, e.value)
            state.branch_mult[:, e.index] = col
        elif e.kind in GLOBAL_TARGETS:
            name, (lo, hi) = GLOBAL_TARGETS[e.kind]
            arr = getattr(state, name)
            _edit(arr, mask, e.op, e.value)
            np.clip(arr, lo, hi, out=arr)
        else:
            name, box = ACTOR_TARGETS[e.kind]
            columns = [getattr(state, name)] + ([state.support_hold] if e.kind == "support" else [])
            for arr in columns:
                col = arr[:, e.index]
                _edit(col, mask, e.op, e.value)
                arr[:, e.index] = col if box is None else np.clip(col, *box)


def events_phase(state: State, prm, u: np.ndarray, t: float) -> None:
    """P1: fire this step's events and apply their effects (memo §1.5 P1).

    Parameters
    ----------
    state : State
    prm : ModelParams
    u : ndarray, shape (R, n_slots)
        This step's uniforms (one column per Poisson event and per scheduled branch, always drawn).
    t : float
        Time at the start of the step, in weeks.
    """
    if not prm.modules["events"] or not prm.events:
        return
    env = state_env(state, prm.actors)
    dt = prm.dt
    live = ~in_status(state.status, ABSORBING)  # nothing happens after collapse or escalation
    for k, ev in enumerate(prm.events):
        if ev.type == "poisson":
            fire = (u[:, ev.slot] < poisson_step_probability(ev, env, dt)) & live
            if ev.when is not None:
                fire &= np.asarray(ev.when(env), dtype=bool)
            apply_effects(state, ev.effects, fire)
        elif ev.type == "scheduled":
            fire = np.zeros(state.R, dtype=bool)
            if any(t <= w < t + dt for w in ev.weeks):
                for b in ev.branches:
                    p = np.clip(b.p * state.branch_mult[:, b.key], 0.0, 1.0)
                    hit = (u[:, b.slot] < p) & live
                    apply_effects(state, b.effects, hit)
                    fire |= hit
        else:
            fire = np.asarray(ev.trigger(env), dtype=bool) & live & ~state.fired[:, k]
            apply_effects(state, ev.effects, fire)
        state.fired[:, k] |= fire
        if fire.any():  # effects edit the state arrays the env holds in place; only a status change is new
            env = state_env(state, prm.actors)
