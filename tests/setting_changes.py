"""The leaves of a scenario, and the material changes to try on each (``tests/test_every_setting.py``).

A leaf is anything a user writes at the end of a path: a number, a distribution's family or parameter,
a name, a switch, a date, a list entry; and the provenance (``src``, ``asof``) the loader keeps apart.
:func:`candidates` lists changes of one leaf, most likely to act first; the probe keeps those the
scenario's validation accepts, so an invalid change is replaced by the next, never run.

Numbers jump far (either end of the unit scale, x5, /5, a flip of sign; a concentration /50 first),
because a setting whose effect is rare in the baseline (a rare event, a clause few texts reach) must act
within a few dozen replicates; a distribution's family becomes a much wider uniform, or a fixed value at
its centre; an option of an issue moves into a gap between the others; texts, switches and dates take
another valid value. Some changes edit more than the leaf because the schema ties values together (the
mediator role and ``mediator.actor``, a branch label and the effects that name it, a correlated parameter
and its correlation rows, shares that sum to one); each says so in its description.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import numpy as np

from sim.model.state import STATUS_NAMES
from sim.scenario import Scenario
from sim.scenario.checks import central, uncertain_paths
from sim.scenario.distributions import is_dist
from sim.scenario.problems import dotted

Edit = Callable[[Any], None]
Candidate = tuple[str, Edit]

PROVENANCE_KEYS = ("src", "asof")
ENUMS = {  # the other valid values of the scenario's enumerated texts (sim/scenario/schema.py)
    "protocol": ("alternating_offers", "proposer", "attrition"),
    "bdm_mode": ("classic",),
    "relapse_counts_as": ("continued_war",),
    "pending_ratification_counts_as": ("continued_war", "comprehensive_deal", "collapse_escalation"),
}
LEVER_TARGETS = {"support": "sanctions", "sanctions": "omega", "omega": "support"}
CONCENTRATIONS = ("kappa", "concentration")  # spread first: a wider prior reaches more extreme draws
RATE_FACTOR = 20  # a state multiplier of an event's rate is scaled by this (rare events must act)
DATE_SHIFTS = (dt.timedelta(days=91), dt.timedelta(days=-91), dt.timedelta(days=-364))


# --------------------------------------------------------------------------------------------- leaves
def data_leaves(node: Any, path: tuple = ()) -> Iterator[tuple[tuple, Any]]:
    """Yield ``(path, value)`` for every leaf of resolved scenario data, in file order."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield from data_leaves(value, (*path, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from data_leaves(value, (*path, i))
    else:
        yield path, node


def leaves(sc: Scenario) -> list[str]:
    """Dotted names of every leaf of ``sc``: its data, then its provenance (``PATH.src``, ``PATH.asof``)."""
    names = [dotted(p) for p, _ in data_leaves(sc.data)]
    for where, prov in sc.provenance.items():
        names.extend(f"{where}.{key}" for key in PROVENANCE_KEYS if prov.get(key) is not None)
    return names


def matches(name: str, patterns: Iterable[str]) -> bool:
    """Whether a dotted leaf name matches any of the wildcard ``patterns`` (``*`` also spans dots)."""
    return any(fnmatch.fnmatchcase(name, p) for p in patterns)


def is_provenance(name: str) -> bool:
    """Whether a leaf name is a ``src``/``asof`` provenance leaf."""
    return name.rsplit(".", 1)[-1] in PROVENANCE_KEYS


# ------------------------------------------------------------------------------------------ edits
def node_at(data: Any, path: tuple) -> Any:
    """The value at ``path`` in nested data."""
    for part in path:
        data = data[part]
    return data


def _set(path: tuple, value: Any) -> Edit:
    def edit(data: Any) -> None:
        node_at(data, path[:-1])[path[-1]] = value

    return edit


def _drop(path: tuple) -> Edit:
    def edit(data: Any) -> None:
        parent = node_at(data, path[:-1])
        if isinstance(parent, list):
            parent.pop(path[-1])
        else:
            del parent[path[-1]]

    return edit


def _both(*edits: Edit) -> Edit:
    def edit(data: Any) -> None:
        for e in edits:
            e(data)

    return edit


# --------------------------------------------------------------------------------------- numbers
def numbers(x: float, spread_first: bool = False) -> list[float]:
    """Material changes of a number, most likely to act first."""
    if spread_first:
        out = [x / 50, x / 5, 5 * x]
    elif x == 0:
        out = [0.5, 1.0, -0.5]
    elif x < 0:
        out = [-x, 5 * x, x / 5]
    elif x < 1:
        out = [0.05, 0.95] if x > 0.5 else [0.95, 0.05]
        out += [5 * x, -x, x / 5, 2 * x, x / 2]
    else:
        out = [5 * x, x / 5, -x, 2 * x, x / 2]
    if isinstance(x, int):  # an int stays an int (some fields need one) unless it would round to 0
        out = [int(round(v)) if abs(v) >= 1 else v for v in out]
    return [round(v, 12) if isinstance(v, float) else v for v in dict.fromkeys(out) if v != x]


def _shares(data: Any, path: tuple) -> bool:
    """Whether the leaf is one of a distribution's shares (``probs`` of a choice, ``mean`` of a dirichlet)."""
    return len(path) > 2 and path[-2] in ("probs", "mean") and is_dist(node_at(data, path[:-2]))


def _renormalised(path: tuple, old: float, new: float) -> Edit:
    def edit(data: Any) -> None:
        parent = node_at(data, path[:-1])
        keys = list(parent) if isinstance(parent, dict) else range(len(parent))
        for k in keys:
            parent[k] = new if k == path[-1] else parent[k] * (1.0 - new) / (1.0 - old)

    return edit


def _number_candidates(data: Any, path: tuple, x: float) -> Iterator[Candidate]:
    spread = path[-1] in CONCENTRATIONS and is_dist(node_at(data, path[:-1]))
    for new in numbers(x, spread_first=spread):
        if _shares(data, path) and 0 < new < 1:
            yield f"{x} -> {new}, the other shares rescaled to sum to 1", _renormalised(path, x, new)
        else:
            yield f"{x} -> {new}", _set(path, new)
    if isinstance(node_at(data, path[:-1]), list):
        yield f"drop {x} from the list", _drop(path)


# ------------------------------------------------------------------------------------ special leaves
def _wider(spec: dict) -> tuple[float, float] | None:
    """Bounds of a uniform distribution around ``spec``'s centre, much wider than ``spec`` (None: none)."""
    kind = spec["dist"]
    if kind == "beta":
        return spec.get("low", 0.0) + 0.001, spec.get("high", 1.0) - 0.001
    if kind == "annual_prob":
        return 0.0, 0.9
    if kind == "lognormal":
        return spec["median"] / spec["gsd"] ** 2, spec["median"] * spec["gsd"] ** 2
    if kind == "normal":
        return (max(spec.get("low", -np.inf), spec["mean"] - 3 * spec["sd"]),
                min(spec.get("high", np.inf), spec["mean"] + 3 * spec["sd"]))
    return None


def _family(data: Any, path: tuple, spec: dict) -> Iterator[Candidate]:
    """Change a distribution's family: a much wider uniform around its centre, or a fixed value there."""
    bounds = _wider(spec)
    if bounds is not None:
        lo, hi = (round(float(b), 12) for b in bounds)
        yield f"{spec['dist']} -> uniform({lo}, {hi})", _set(path, {"dist": "uniform", "low": lo, "high": hi})
    yield from _point_mass(data, path, spec)


def _point_mass(data: Any, path: tuple, spec: dict) -> Iterator[Candidate]:
    """Replace a distribution by a fixed value at its centre (the most likely option of a choice).

    A correlated parameter also loses its correlation rows (they may name uncertain parameters only).
    """
    kind = spec["dist"]
    if kind == "choice":
        value: Any = spec["options"][int(np.argmax(spec["probs"]))]
    elif kind == "dirichlet":
        value = dict(spec["mean"])
    else:
        value = central(spec)
    what = f"{kind} distribution -> fixed {value!r}"
    yield what, _set(path, value)
    name = dotted(path)
    rows = [i for i, row in enumerate(data.get("correlations", [])) if name in row[:2]]
    if rows:
        drop = [_drop(("correlations", i)) for i in reversed(rows)]
        yield f"{what}, its correlation rows {rows} dropped", _both(_set(path, value), *drop)


def _truncation(path: tuple, spec: dict, key: str) -> Iterator[Candidate]:
    """Move a truncation bound into the bulk of the distribution (half an sd from the mean)."""
    centre, sd = spec.get("mean"), spec.get("sd")
    if isinstance(centre, int | float) and isinstance(sd, int | float):
        new = round(centre - 0.5 * sd if key == "low" else centre + 0.5 * sd, 12)
        yield f"{key} {spec[key]} -> {new}", _set(path, new)


def _retype_event(path: tuple, event: dict) -> Iterator[Candidate]:
    """Change an event's type, carrying its effect over (the new type needs its own fields).

    A scheduled event loses its branches, so effects elsewhere that name them (``EVENT.label.p``) go too.
    """
    effect = event.get("effect") or event["branches"][0]["effect"]
    if event["type"] == "poisson":
        trigger = event.get("when") or "t_weeks >= 26"
        yield (f"poisson -> endogenous on {trigger!r}",
               _set(path[:-1], {"type": "endogenous", "trigger": trigger, "effect": effect}))
        return
    new = {"type": "poisson", "annual_prob": 0.5, "effect": effect}
    what = f"{event['type']} -> poisson at annual_prob 0.5"
    yield what, _set(path[:-1], new)
    yield f"{what}, effects naming its branches dropped", _both(_set(path[:-1], new), _unname(path[1]))


def _unname(event: str) -> Edit:
    """Drop every effect that names a branch of ``event``."""

    def edit(data: Any) -> None:
        for ev in data["events"].values():
            for eff in [ev.get("effect")] + [b.get("effect") for b in ev.get("branches", [])]:
                for target in [t for t in (eff or {}) if t.startswith(f"{event}.")]:
                    del eff[target]

    return edit


def _relocate_option(path: tuple, options: list[float]) -> Iterator[Candidate]:
    """Move an option into each gap of the others (widest first): texts between them snap differently."""
    others = [o for i, o in enumerate(options) if i != path[-1]]
    gaps = sorted(zip(others, others[1:], strict=False), key=lambda g: g[0] - g[1])
    for lo, hi in gaps:
        new = round((lo + hi) / 2, 12)
        if new == options[path[-1]]:
            continue
        moved = sorted([*others, new])
        yield f"option {options[path[-1]]} moved to {new} ({moved})", _set(path[:-1], moved)


def _scaled_numbers(text: str, factor: float) -> str:
    return re.sub(r"\d+(\.\d+)?", lambda m: f"{float(m.group()) * factor:g}", text)


def _rename_branch(path: tuple, label: str) -> Iterator[Candidate]:
    """Rename a scheduled event's branch and every effect that names it (``EVENT.label.p``)."""
    event, new = path[1], f"{label}_renamed"

    def edit(data: Any) -> None:
        node_at(data, path[:-1])["label"] = new
        for ev in data["events"].values():
            for eff in [ev.get("effect")] + [b.get("effect") for b in ev.get("branches", [])]:
                if eff and f"{event}.{label}.p" in eff:
                    eff[f"{event}.{new}.p"] = eff.pop(f"{event}.{label}.p")

    yield f"branch label {label!r} -> {new!r} (and the effects naming it)", edit


def _move_mediator(to: str) -> Edit:
    """Make ``to`` the mediator (the schema needs ``mediator.actor`` and the role to agree)."""

    def edit(data: Any) -> None:
        for spec in data["actors"].values():
            if "mediator" in spec["roles"]:
                spec["roles"].remove("mediator")
        data["actors"][to]["roles"].insert(0, "mediator")
        data["mediator"]["actor"] = to

    return edit


def _not_belligerent(path: tuple) -> Edit:
    """Drop an actor's belligerent role and what the checks tie to it: flows to it, its side of the war."""
    actor = path[1]

    def edit(data: Any) -> None:
        _drop(path)(data)
        for spec in data["actors"].values():
            for block, key in (("support", "to"), ("sanctions", "against"), ("lifeline", "to")):
                if (spec.get(block) or {}).get(key) == actor:
                    del spec[block]
        for side in ("advancing", "defending"):
            if data["war"].get(side) == actor:
                del data["war"][side]

    return edit


def _other_correlation_paths(data: Any) -> list[str]:
    taken = {str(x) for row in data.get("correlations", []) for x in row[:2]}
    return [dotted(p) for p, spec in uncertain_paths(data).items()
            if dotted(p) not in taken and spec["dist"] != "dirichlet"]


def _special(data: Any, path: tuple, value: Any) -> Iterator[Candidate]:
    """Changes that need more than the value's type: families, expressions, names, references."""
    name, key, parent = dotted(path), path[-1], node_at(data, path[:-1])
    if key == "dist" and is_dist(parent):
        yield from _family(data, path[:-1], parent)
    elif key in ("low", "high") and is_dist(parent):
        yield from _truncation(path, parent, key)
    elif fnmatch.fnmatchcase(name, "events.*.type"):
        yield from _retype_event(path, parent)
    elif fnmatch.fnmatchcase(name, "events.*.when"):
        yield "condition dropped", _drop(path)
        yield f"{value!r} -> 'not ({value})'", _set(path, f"not ({value})")
    elif fnmatch.fnmatchcase(name, "events.*.state_multiplier"):
        new = f"{RATE_FACTOR} * ({value})"
        yield f"{value!r} -> {new!r}", _set(path, new)
    elif fnmatch.fnmatchcase(name, "events.*.trigger"):
        yield f"{value!r} -> {_scaled_numbers(value, 0.5)!r}", _set(path, _scaled_numbers(value, 0.5))
    elif fnmatch.fnmatchcase(name, "events.*.branches.*.label"):
        yield from _rename_branch(path, value)
    elif name == "mediator.actor" or (value == "mediator" and fnmatch.fnmatchcase(name, "actors.*.roles.*")):
        current = data["mediator"]["actor"]
        for other in (a for a in data["actors"] if a != current):
            yield f"mediator role and mediator.actor moved from {current} to {other}", _move_mediator(other)
    elif value == "belligerent" and fnmatch.fnmatchcase(name, "actors.*.roles.*"):
        yield f"{path[1]} no longer a belligerent (and no longer given support, sanctions or a lifeline, " \
              "nor a side of the war)", _not_belligerent(path)
    elif fnmatch.fnmatchcase(name, "issues.*.options.*"):
        yield from _relocate_option(path, parent)
    elif fnmatch.fnmatchcase(name, "scenario.structure.text_solver.options.*"):
        yield f"options {parent} -> {parent[::-1]}", _set(path[:-1], parent[::-1])
    elif fnmatch.fnmatchcase(name, "correlations.*.[01]"):
        for other in _other_correlation_paths(data)[:3]:
            yield f"{value!r} -> {other!r}", _set(path, other)
    elif fnmatch.fnmatchcase(name, "partial_agreements.*.proposers.*"):
        for other in ("mediator", *data["actors"]):
            if other != value:
                yield f"proposer {value!r} -> {other!r}", _set(path, other)
    elif fnmatch.fnmatchcase(name, "mediator.levers.*.target") and value in LEVER_TARGETS:
        yield f"{value!r} -> {LEVER_TARGETS[value]!r}", _set(path, LEVER_TARGETS[value])


def _text_candidates(data: Any, path: tuple, value: str) -> Iterator[Candidate]:
    """Another enumerated value, issue or actor id, or status; else drop it from its list or edit it."""
    alternatives: list[str] = list(ENUMS.get(str(path[-1]), ()))
    for ids in (list(data["issues"]), list(data["actors"]), list(data.get("packages") or {})):
        if value in ids:
            alternatives = [i for i in ids if i != value]
    if value in STATUS_NAMES:
        alternatives = [s for s in ("CEASEFIRE", "WAR") if s != value]
    for other in alternatives:
        yield f"{value!r} -> {other!r}", _set(path, other)
    if isinstance(node_at(data, path[:-1]), list):
        yield f"drop {value!r} from the list", _drop(path)
    if path[-1] == "role":  # an issue's role is unique and optional: the issue stops playing it
        yield "removed", _drop(path)
    if not alternatives:
        edited = f"{value}_edited" if re.fullmatch(r"\w+", value) else f"{value} [edited]"
        yield "text edited", _set(path, edited)


def _generic(data: Any, path: tuple, value: Any) -> Iterator[Candidate]:
    """Changes by the value's type: flip a switch, shift a date, change a number or a text."""
    if isinstance(value, bool):
        yield f"{value} -> {not value}", _set(path, not value)
    elif isinstance(value, dt.date):
        for shift in DATE_SHIFTS:
            yield f"{value} -> {value + shift}", _set(path, value + shift)
    elif isinstance(value, int | float):
        yield from _number_candidates(data, path, value)
    elif isinstance(value, str):
        yield from _text_candidates(data, path, value)


def candidates(data: Any, path: tuple) -> Iterator[Candidate]:
    """Material changes ``(description, edit)`` of the leaf at ``path``, most likely to act first."""
    value = node_at(data, path)
    yield from _special(data, path, value)
    yield from _generic(data, path, value)


# ----------------------------------------------------------------------------------- provenance
def edit_provenance(node: Any, wanted: set[str], path: tuple = ()) -> None:
    """Edit in place the provenance leaves named in ``wanted`` of raw YAML data (dates to 2001-01-01)."""
    if isinstance(node, dict):
        for key in list(node):
            if key in PROVENANCE_KEYS and dotted((*path, key)) in wanted:
                node[key] = dt.date(2001, 1, 1) if key == "asof" else f"{node[key]} [edited]"
            else:
                edit_provenance(node[key], wanted, (*path, key))
    elif isinstance(node, list):
        for i, item in enumerate(node):
            edit_provenance(item, wanted, (*path, i))
