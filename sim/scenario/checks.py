"""Validate resolved scenario data: the typed schema plus the checks that span blocks.

:func:`validate_data` runs the pydantic schema (:mod:`sim.scenario.schema`) with the scenario's own issue
and actor ids as context, translates every pydantic error into a located :class:`Problem`, and adds the
cross-block rules a schema cannot express: correlations name uncertain parameters and form a positive
definite matrix; each actor's linkage keeps its preference matrix A_i positive definite (memo 1.3);
effects, levers and the mediator refer to things that exist; reporting horizons fit the horizon.
"""

from __future__ import annotations

import math
import types
import typing
from typing import Any

import numpy as np
from pydantic import BaseModel, ValidationError

from sim.scenario.distributions import is_dist
from sim.scenario.fields import KeysOf, RefTo
from sim.scenario.problems import DOCUMENT, Loc, Path, Problem, did_you_mean, dotted
from sim.scenario.schema import ACTOR_EFFECT_SUFFIXES, ScenarioFile

_HEADS = frozenset({"[key]"})
#: Effect targets that are not per actor (beside ``status`` and ``EVENT.BRANCH.p``).
GLOBAL_EFFECT_TARGETS = ("status", "legislature_p_pass", "guarantee_credibility")


class Located:
    """Find the line of a path, falling back to the nearest ancestor that has one."""

    def __init__(self, file: str, locs: dict[Path, Loc], key_locs: dict[Path, Loc]) -> None:
        self.file = file
        self.locs = {tuple(str(p) for p in k): v for k, v in locs.items()}
        self.key_locs = {tuple(str(p) for p in k): v for k, v in key_locs.items()}

    def at(self, path: Path, key: bool = False) -> Loc:
        """Location of ``path`` (its key's line if ``key``), or of its nearest located ancestor."""
        p = tuple(str(x) for x in path)
        if key and p in self.key_locs:
            return self.key_locs[p]
        while p:
            if p in self.locs:
                return self.locs[p]
            p = p[:-1]
        return self.locs.get((), Loc(self.file, 1))

    def problem(self, path: Path, message: str, key: bool = False) -> Problem:
        """Make a problem located at ``path``."""
        loc = self.at(path, key)
        return Problem(loc.file, loc.line, dotted(path), message)


def validate_data(data: dict, where: Located) -> list[Problem]:
    """Return every problem in a resolved scenario (empty list if it is valid)."""
    problems: list[Problem] = []
    context = {
        "issues": [str(k) for k in data["issues"]] if isinstance(data.get("issues"), dict) else None,
        "actors": [str(k) for k in data["actors"]] if isinstance(data.get("actors"), dict) else None,
        "packages": [str(k) for k in data["packages"]] if isinstance(data.get("packages"), dict) else [],
    }
    try:
        ScenarioFile.model_validate(data)
    except ValidationError as err:
        for e in err.errors(include_url=False):
            problems.extend(_translate(e, data, where))
    problems.extend(check_references(ScenarioFile, data, (), where, context))
    problems.extend(cross_checks(data, where, context))
    return problems


def _undefined(kind: str, key: object, known: list[str]) -> str:
    noun = kind[:-1]
    return (f"undefined {noun} '{key}' ({did_you_mean(key, known)}expected one of the {kind} defined: "
            f"{', '.join(known)})")


def check_references(tp: Any, node: Any, path: Path, where: Located, known: dict) -> list[Problem]:
    """Check every issue/actor id against those defined, walking the data along the schema's types.

    The fields marked :class:`~sim.scenario.fields.KeysOf` (``IssueMap``, ``ActorMap``) and
    :class:`~sim.scenario.fields.RefTo` (``IssueId``, ``ActorId``) are checked wherever they occur, on the
    raw data, so a misspelt id is reported even when other values in the same block are wrong too.
    """
    out: list[Problem] = []
    markers: list[Any] = []
    for _ in range(10):
        origin = typing.get_origin(tp)
        if origin is typing.Annotated:
            args = typing.get_args(tp)
            tp, markers = args[0], [*markers, *args[1:]]
        elif origin in (typing.Union, types.UnionType):
            members = [a for a in typing.get_args(tp) if a is not type(None)]
            tp = members[0] if len(members) == 1 else _unwrap(tp, node)  # Optional keeps its markers
        else:
            break
    for m in markers:
        ids = known.get(getattr(m, "kind", ""), None)
        if ids is None:
            continue
        if isinstance(m, RefTo) and isinstance(node, str) and node not in ids:
            out.append(where.problem(path, _undefined(m.kind, node, ids)))
        if isinstance(m, KeysOf) and isinstance(node, dict):
            for key in node:
                if key not in ids:
                    out.append(where.problem((*path, key), _undefined(m.kind, key, ids), key=True))
            missing = [k for k in ids if k not in node]
            if m.complete and missing:
                noun = m.kind[:-1] + ("s" if len(missing) > 1 else "")
                out.append(where.problem(path, f"no entry for {noun} {', '.join(missing)} (expected one "
                                         f"for every {m.kind[:-1]})"))
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        if isinstance(node, dict):
            for name, field in tp.model_fields.items():
                if name in node:
                    ftype = typing.Annotated[field.annotation, *field.metadata] if field.metadata \
                        else field.annotation
                    out += check_references(ftype, node[name], (*path, name), where, known)
        return out
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin is dict and len(args) == 2 and isinstance(node, dict):
        for k, v in node.items():
            out += check_references(args[1], v, (*path, k), where, known)
    elif origin is list and args and isinstance(node, list):
        for i, v in enumerate(node):
            out += check_references(args[0], v, (*path, i), where, known)
    return out


def pydantic_error_path(loc: tuple, data: object) -> tuple[Path, bool]:
    """Drop pydantic's union tags from an error location; say whether it points at a dict key."""
    out: list[object] = []
    node = data
    is_key = False
    for i, part in enumerate(loc):
        last = i == len(loc) - 1
        if part in _HEADS:
            is_key = True
            continue
        if isinstance(node, dict) and part in node:
            out.append(part)
            node = node[part]
        elif isinstance(node, list | tuple) and isinstance(part, int) and 0 <= part < len(node):
            out.append(part)
            node = node[part]
        elif last or not isinstance(node, dict | list | tuple):
            out.append(part)
            node = None
        # else: a union tag such as 'poisson' or 'function-plain[...]': skip it
    return tuple(out), is_key


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _translate(e: dict, data: dict, where: Located) -> list[Problem]:
    path, is_key = pydantic_error_path(tuple(e["loc"]), data)
    kind = e["type"]
    ctx = e.get("ctx") or {}
    if kind == "negsim":
        return [where.problem((*path, *sub), msg, key=bool(sub) and "undefined" in msg)
                for sub, msg in ctx["problems"]]
    if kind == "missing":
        # a key an overlay removed (remove:) is located at its entry there; any other at its parent's key
        loc = where.locs.get(tuple(str(x) for x in path)) or where.at(path[:-1], key=True)
        return [Problem(loc.file, loc.line, dotted(path), "required key is missing (expected a value here; "
                        "see scenarios/baseline.yaml)")]
    if kind == "extra_forbidden":
        allowed = allowed_keys(path[:-1], data)
        hint = did_you_mean(path[-1], allowed) if allowed else ""
        expect = f"expected one of: {', '.join(allowed)}" if allowed else "expected no such key"
        return [where.problem(path, f"unknown key '{path[-1]}' ({hint}{expect})", key=True)]
    if kind == "literal_error":
        options = [o.strip().strip("'") for o in str(ctx.get("expected", "")).replace(" or ", ",").split(",")]
        hint = did_you_mean(e["input"], [o for o in options if o])
        return [where.problem(path, f"got {_short(e['input'])} ({hint}expected {ctx.get('expected')})")]
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        return [where.problem((*path, "type"), f"got {_short(ctx.get('tag'))} (expected type: "
                              f"{ctx.get('expected_tags', 'poisson, scheduled or endogenous')})")]
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        return [where.problem(path, f"got {_short(e['input'])} (expected a mapping of keys)")]
    if kind == "string_pattern_mismatch":
        return [where.problem(path, f"got {_short(e['input'])} (expected a name of letters, digits and "
                              "underscores, starting with a letter)", key=is_key)]
    if kind in ("too_short", "too_long"):
        bound = ctx.get("min_length") if kind == "too_short" else ctx.get("max_length")
        word = "at least" if kind == "too_short" else "at most"
        return [where.problem(path, f"got {_short(e['input'])} (expected {word} {bound} "
                              f"item{'s' if bound != 1 else ''})")]
    if kind in ("date_type", "date_parsing", "date_from_datetime_parsing"):
        return [where.problem(path, f"got {_short(e['input'])} (expected a date written YYYY-MM-DD, "
                              "without quotes)")]
    msg = e["msg"]
    expected = msg[len("Input should be "):] if msg.startswith("Input should be ") else msg
    suffix = " (as a key)" if is_key else ""
    return [where.problem(path, f"got {_short(e['input'])}{suffix} (expected {expected})", key=is_key)]


def allowed_keys(path: Path, data: dict) -> list[str]:
    """Return the keys the schema allows in the mapping at ``path`` (``[]`` if not a fixed-key mapping)."""
    tp: Any = ScenarioFile
    node: Any = data
    for part in path:
        tp = _unwrap(tp, node)
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            field = tp.model_fields.get(str(part))
            if field is None:
                return []
            tp = field.annotation
        else:
            origin = typing.get_origin(tp)
            args = typing.get_args(tp)
            if origin is dict and len(args) == 2:
                tp = args[1]
            elif origin in (list, tuple) and args:
                tp = args[0]
            else:
                return []
        node = node.get(part) if isinstance(node, dict) else (
            node[part] if isinstance(node, list) and isinstance(part, int) and part < len(node) else None)
    tp = _unwrap(tp, node)
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return list(tp.model_fields)
    return []


def _unwrap(tp: Any, node: Any) -> Any:
    """Strip Annotated / Optional; pick the union member matching the data's ``type`` key."""
    for _ in range(10):
        origin = typing.get_origin(tp)
        if origin is typing.Annotated:
            tp = typing.get_args(tp)[0]
        elif origin in (typing.Union, types.UnionType):
            members = [a for a in typing.get_args(tp) if a is not type(None)]
            models = [m for m in members if isinstance(m, type) and issubclass(m, BaseModel)]
            chosen = None
            for m in models:
                t = m.model_fields.get("type")
                tags = typing.get_args(t.annotation) if t is not None else ()
                if isinstance(node, dict) and node.get("type") in tags:
                    chosen = m
            tp = chosen or (models[0] if models else members[0])
        else:
            return tp
    return tp


# --- cross-block rules ----------------------------------------------------------------------------
def uncertain_paths(data: object, path: Path = ()) -> dict[Path, dict]:
    """Every distribution leaf, in file order."""
    out: dict[Path, dict] = {}
    if is_dist(data):
        out[path] = data  # type: ignore[assignment]
    elif isinstance(data, dict):
        for k, v in data.items():
            out.update(uncertain_paths(v, (*path, k)))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            out.update(uncertain_paths(v, (*path, i)))
    return out


def central(value: object) -> float | None:
    """Return a central value of a number or distribution (mean or median), ``None`` if not numeric."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if is_dist(value):
        spec: dict = value  # type: ignore[assignment]
        for key in ("mean", "median"):
            if isinstance(spec.get(key), int | float):
                return float(spec[key])
        if spec.get("dist") == "uniform" and isinstance(spec.get("low"), int | float):
            return (spec["low"] + spec["high"]) / 2 if isinstance(spec.get("high"), int | float) else None
    return None


def cross_checks(data: dict, where: Located, context: dict) -> list[Problem]:
    """Rules that span blocks (run even if the schema found problems; each rule guards its own types)."""
    out: list[Problem] = []
    out += _check_correlations(data, where)
    out += _check_linkage(data, where)
    out += _check_mediator(data, where, context)
    out += _check_effects(data, where)
    out += _check_partials(data, where)
    out += _check_observed_events(data, where)
    out += _check_issue_roles(data, where)
    out += _check_flows(data, where)
    out += _check_scenario_block(data, where)
    out += _check_ranges(data, where)
    out += _check_calibration(data, where)
    return out


def calibration_draws_path(data: dict, where: Located) -> str | None:
    """Return the calibrated draws file of ``calibration.draws``, relative to the file that names it."""
    import os

    cal = data.get("calibration")
    if not isinstance(cal, dict) or not isinstance(cal.get("draws"), str) or not cal["draws"]:
        return None
    base = os.path.dirname(where.at(("calibration", "draws")).file)
    return os.path.join(base, cal["draws"])


def _check_calibration(data: dict, where: Located) -> list[Problem]:
    """``calibration.draws`` must be a readable Parquet file of parameter draws with a ``weight`` column."""
    path = calibration_draws_path(data, where)
    if path is None:
        return []
    import pyarrow.parquet as pq

    try:
        names = pq.read_schema(path).names
    except FileNotFoundError:
        return [where.problem(("calibration", "draws"), f"{path}: file not found (expected the "
                              "calibrated_draws.parquet written by negsim calibrate)")]
    except Exception as err:  # noqa: BLE001 - any unreadable file is the same problem for the user
        return [where.problem(("calibration", "draws"), f"{path}: cannot read it as Parquet ({err}) "
                              "(expected the calibrated_draws.parquet written by negsim calibrate)")]
    if "weight" not in names:
        return [where.problem(("calibration", "draws"), f"{path}: no 'weight' column (expected parameter "
                              "columns by dotted path and a weight column)")]
    return []


def correlation_rows(data: dict) -> list[tuple[int, str, str, float]]:
    """Well-formed correlation rows ``(index, path_a, path_b, rho)``."""
    rows = data.get("correlations")
    out = []
    if isinstance(rows, list):
        for i, row in enumerate(rows):
            if (isinstance(row, list) and len(row) == 3 and all(isinstance(x, str) for x in row[:2])
                    and isinstance(row[2], int | float) and not isinstance(row[2], bool)):
                out.append((i, row[0], row[1], float(row[2])))
    return out


def spearman_to_pearson(rho_s: float) -> float:
    """Gaussian-copula parameter giving Spearman rank correlation ``rho_s``: 2 sin(pi rho_s / 6).

    References
    ----------
    Kruskal (1958), "Ordinal measures of association", JASA 53: 814-861.
    """
    return 2.0 * math.sin(math.pi * rho_s / 6.0)


def correlation_groups(data: dict) -> list[tuple[list[str], np.ndarray]]:
    """Return the connected groups of correlated paths (sorted) with their Gaussian-copula matrix."""
    rows = [(a, b, r) for _, a, b, r in correlation_rows(data) if a != b]
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b, _ in rows:
        parent[find(a)] = find(b)
    groups: dict[str, list[str]] = {}
    for x in list(parent):
        groups.setdefault(find(x), []).append(x)
    out = []
    for members in groups.values():
        names = sorted(members)
        idx = {n: i for i, n in enumerate(names)}
        mat = np.eye(len(names))
        for a, b, r in rows:
            if a in idx and b in idx:
                mat[idx[a], idx[b]] = mat[idx[b], idx[a]] = spearman_to_pearson(r)
        out.append((names, mat))
    return sorted(out, key=lambda g: g[0])


def _check_correlations(data: dict, where: Located) -> list[Problem]:
    out: list[Problem] = []
    uncertain = {dotted(p): spec for p, spec in uncertain_paths(data).items()}
    seen: dict[frozenset, int] = {}
    for i, a, b, _rho in correlation_rows(data):
        for j, name in ((0, a), (1, b)):
            spec = uncertain.get(name)
            if spec is None:
                hint = did_you_mean(name, uncertain)
                out.append(where.problem(("correlations", i, j), f"'{name}' is not an uncertain parameter "
                                         f"({hint}expected the dotted path of a distribution)"))
            elif spec.get("dist") == "dirichlet":
                out.append(where.problem(("correlations", i, j), f"'{name}' is a dirichlet (expected a "
                                         "one-dimensional distribution)"))
        if a == b:
            out.append(where.problem(("correlations", i), f"'{a}' is correlated with itself (expected two "
                                     "different parameters)"))
        pair = frozenset((a, b))
        if pair in seen:
            out.append(where.problem(("correlations", i), f"pair already correlated in row {seen[pair]} "
                                     "(expected each pair once)"))
        seen.setdefault(pair, i)
    if out:
        return out
    for names, mat in correlation_groups(data):
        if len(names) > 1 and np.linalg.eigvalsh(mat).min() <= 1e-10:
            first = next(i for i, a, b, _ in correlation_rows(data) if a in names or b in names)
            out.append(where.problem(("correlations", first), "the correlations among " + ", ".join(names)
                                     + " are inconsistent: the matrix is not positive definite (expected "
                                     "correlations that some joint distribution can have)"))
    return out


def _check_linkage(data: dict, where: Located) -> list[Problem]:
    """Each actor's A_i must be positive definite at the central linkage values (memo 1.3).

    With all saliences positive, A_i = D^1/2 M D^1/2 where M = I - 1/2 sum kappa_ab (e_a e_b' + e_b e_a'),
    so A_i is positive definite exactly when M is, whatever the saliences.
    """
    out: list[Problem] = []
    actors = data.get("actors")
    if not isinstance(actors, dict):
        return out
    for actor, spec in actors.items():
        pairs = spec.get("linkage") if isinstance(spec, dict) else None
        if not isinstance(pairs, list):
            continue
        issues: dict[str, int] = {}
        entries = []
        seen: dict[frozenset, int] = {}
        for i, pair in enumerate(pairs):
            if not isinstance(pair, dict):
                continue
            a, b, k = pair.get("a"), pair.get("b"), central(pair.get("kappa"))
            if not isinstance(a, str) or not isinstance(b, str):
                continue
            if a == b:
                out.append(where.problem(("actors", actor, "linkage", i, "b"), f"links {a} with itself "
                                         "(expected two different issues)"))
                continue
            key = frozenset((a, b))
            if key in seen:
                out.append(where.problem(("actors", actor, "linkage", i), f"{a}-{b} already linked in item "
                                         f"{seen[key]} (expected each pair once)"))
                continue
            seen[key] = i
            if k is not None:
                entries.append((issues.setdefault(a, len(issues)), issues.setdefault(b, len(issues)), k))
        if entries:
            m = np.eye(len(issues))
            for ia, ib, k in entries:
                m[ia, ib] -= k / 2
                m[ib, ia] -= k / 2
            low = float(np.linalg.eigvalsh(m).min())
            if low <= 0:
                msg = (f"at the central kappa values the preference matrix is not positive definite (least "
                       f"eigenvalue of the normalised matrix {low:.3g}; expected > 0, memo 1.3)")
                out.append(where.problem(("actors", actor, "linkage"), msg, key=True))
    return out


def _check_mediator(data: dict, where: Located, context: dict) -> list[Problem]:
    out: list[Problem] = []
    med = data.get("mediator")
    actors = data.get("actors")
    if not isinstance(med, dict) or not isinstance(actors, dict):
        return out
    known = context.get("actors") or []
    who = med.get("actor")
    if isinstance(who, str) and isinstance(actors.get(who), dict):
        roles = actors[who].get("roles")
        if isinstance(roles, list) and "mediator" not in roles:
            out.append(where.problem(("mediator", "actor"), f"actor '{who}' does not have the role mediator "
                                     f"(expected an actor with 'mediator' in its roles)"))
    weights = med.get("text_weights0")
    keys = weights.get("mean") if is_dist(weights) else weights
    sub = ("mean",) if is_dist(weights) else ()
    if isinstance(keys, dict):
        for k in keys:
            if k not in known:
                out.append(where.problem(("mediator", "text_weights0", *sub, k), f"undefined actor '{k}' "
                                         f"({did_you_mean(k, known)}expected one of the actors defined: "
                                         f"{', '.join(known)})", key=True))
    levers = med.get("levers")
    if isinstance(levers, dict):
        for name, lever in levers.items():
            target = str(name).removeprefix("on_")
            if not str(name).startswith("on_") or target not in known:
                out.append(where.problem(("mediator", "levers", name), f"lever '{name}' (expected on_ACTOR "
                                         f"with ACTOR one of: {', '.join(known)})", key=True))
            out += _one_op(lever, ("mediator", "levers", name), where)
    return out


def _one_op(op: object, path: Path, where: Located) -> list[Problem]:
    if not isinstance(op, dict):
        return []
    given = [k for k in ("set", "add", "mul") if op.get(k) is not None]
    if len(given) != 1:
        what = "none" if not given else " and ".join(given)
        return [where.problem(path, f"gives {what} (expected exactly one of set, add, mul)")]
    return []


def _check_effects(data: dict, where: Located) -> list[Problem]:
    """Effects name a scheduled event's branch (EVENT.BRANCH.p) or, per actor, a defined actor.

    Other targets are state variables of the model, checked when the model compiles the events.
    """
    out: list[Problem] = []
    actors = [str(a) for a in data["actors"]] if isinstance(data.get("actors"), dict) else None
    events = data.get("events")
    if not isinstance(events, dict):
        return out
    labels = {
        eid: [b.get("label") for b in ev.get("branches", []) if isinstance(b, dict)]
        for eid, ev in events.items() if isinstance(ev, dict) and isinstance(ev.get("branches"), list)
    }

    def effects(eid: str, ev: dict) -> list[tuple[Path, dict]]:
        found = []
        if isinstance(ev.get("effect"), dict):
            found.append((("events", eid, "effect"), ev["effect"]))
        for i, br in enumerate(ev.get("branches") or []):
            if isinstance(br, dict) and isinstance(br.get("effect"), dict):
                found.append((("events", eid, "branches", i, "effect"), br["effect"]))
        return found

    for eid, ev in events.items():
        if not isinstance(ev, dict):
            continue
        for path, eff in effects(eid, ev):
            for target, op in eff.items():
                out += _one_op(op, (*path, target), where)
                parts = str(target).split(".")
                if len(parts) == 1 and actors is not None:
                    out += _check_actor_target(str(target), actors, (*path, target), where)
                if len(parts) == 1:
                    continue
                if len(parts) != 3 or parts[0] not in labels or parts[1] not in labels[parts[0]]:
                    out.append(where.problem((*path, target), f"'{target}' does not name a scheduled event's "
                                             "branch (expected EVENT.BRANCH.p, e.g. "
                                             "EU_SANCTIONS_RENEWAL.blocked.p)", key=True))
                elif parts[2] != "p":
                    out.append(where.problem((*path, target), f"'{parts[2]}' (expected EVENT.BRANCH.p)",
                                             key=True))
    return out


def _check_observed_events(data: dict, where: Located) -> list[Problem]:
    """Check that an observed event (a hindcast's forcing) happened: one branch, with probability 1."""
    out: list[Problem] = []
    events = data.get("events") if isinstance(data.get("events"), dict) else {}
    for eid, ev in events.items():
        if not (isinstance(ev, dict) and ev.get("observed") is True):
            continue
        branches = ev.get("branches")
        if not isinstance(branches, list):
            continue
        if len(branches) != 1:
            out.append(where.problem(("events", eid, "branches"), f"{len(branches)} branches (expected one "
                                     "branch for an observed event: it happened)"))
        elif isinstance(branches[0], dict) and branches[0].get("p") != 1:
            out.append(where.problem(("events", eid, "branches", 0, "p"), f"{_short(branches[0].get('p'))} "
                                     "(expected 1 for an observed event: it happened)"))
    return out


def _check_partials(data: dict, where: Located) -> list[Problem]:
    """Check the partial agreements: proposers, values and reversible effects.

    Proposers are ``mediator`` or actors; every party of a type that may be proposed has a value; effects
    are reversible edits of actor or global quantities (add, or mul by a positive factor; no status).

    A partial agreement never changes the war's status: the four outcome classes keep their meaning.
    """
    out: list[Problem] = []
    actors = [str(a) for a in data["actors"]] if isinstance(data.get("actors"), dict) else None
    partials = data.get("partial_agreements")
    if not isinstance(partials, dict) or actors is None:
        return out
    for pid, pa in partials.items():
        if not isinstance(pa, dict):
            continue
        base = ("partial_agreements", pid)
        for i, who in enumerate(pa.get("proposers") or []):
            if who != "mediator" and who not in actors:
                out.append(where.problem((*base, "proposers", i), f"'{who}' (expected mediator or one of: "
                                         f"{', '.join(actors)})"))
        value = pa.get("value") if isinstance(pa.get("value"), dict) else {}
        proposed = pa.get("proposal_rate") not in (None, 0, 0.0)
        for who in (pa.get("parties") or []) if proposed else []:
            if isinstance(who, str) and who in actors and who not in value:
                out.append(where.problem((*base, "value"), f"no value for party {who} (expected one for "
                                         "every party)"))
        eff = pa.get("effect")
        if not isinstance(eff, dict):
            continue
        for target, op in eff.items():
            path = (*base, "effect", target)
            out += _one_op(op, path, where)
            if str(target) == "status" or "." in str(target):
                out.append(where.problem(path, f"'{target}' (a partial agreement edits actor or global "
                                         "quantities, never the status or an event's branch)", key=True))
                continue
            out += _check_actor_target(str(target), actors, path, where)
            if isinstance(op, dict) and op.get("set") is not None:
                out.append(where.problem(path, "set (expected add or mul: the edit is undone when the "
                                         "agreement ends)"))
            mul = op.get("mul") if isinstance(op, dict) else None
            if isinstance(mul, int | float) and not isinstance(mul, bool) and mul <= 0:
                out.append(where.problem(path, f"mul {mul} (expected a positive factor: the edit is undone "
                                         "when the agreement ends)"))
    return out


def split_actor_target(target: str, actors: list[str]) -> tuple[str, str] | None:
    """Split ``ACTOR_suffix`` into (actor, suffix) for a defined actor and a per-actor suffix, else None."""
    for suffix in ACTOR_EFFECT_SUFFIXES:
        actor = target.removesuffix("_" + suffix)
        if actor != target and actor in actors:
            return actor, suffix
    return None


def _check_actor_target(target: str, actors: list[str], path: Path, where: Located) -> list[Problem]:
    """Check that a target other than a global quantity is ``ACTOR_suffix`` for a defined actor."""
    if target in GLOBAL_EFFECT_TARGETS or split_actor_target(target, actors) is not None:
        return []
    for suffix in ACTOR_EFFECT_SUFFIXES:
        if target.endswith("_" + suffix):
            who = target.removesuffix("_" + suffix)
            msg = (f"undefined actor '{who}' in '{target}' ({did_you_mean(who, actors)}expected "
                   f"ACTOR_{suffix} with ACTOR one of: {', '.join(actors)})")
            return [where.problem(path, msg, key=True)]
    per_actor = [f"ACTOR_{x}" for x in ACTOR_EFFECT_SUFFIXES]
    wanted = ", ".join([*GLOBAL_EFFECT_TARGETS, *per_actor, "EVENT.BRANCH.p"])
    return [where.problem(path, f"unknown target '{target}' (expected one of {wanted})", key=True)]


def _check_issue_roles(data: dict, where: Located) -> list[Problem]:
    """Each issue role is played by one issue at most; the territorial issue is the one tied to the line."""
    out: list[Problem] = []
    issues = data.get("issues")
    if not isinstance(issues, dict):
        return out
    seen: dict[str, str] = {}
    for iid, issue in issues.items():
        role = issue.get("role") if isinstance(issue, dict) else None
        if not isinstance(role, str):
            continue
        if role in seen:
            out.append(where.problem(("issues", iid, "role"), f"role '{role}' is already played by issue "
                                     f"'{seen[role]}' (expected each issue role once)"))
        seen[role] = iid
    return out


def _check_flows(data: dict, where: Located) -> list[Problem]:
    """Support, sanctions and lifelines go to belligerents."""
    out: list[Problem] = []
    actors = data.get("actors")
    if not isinstance(actors, dict):
        return out
    bells = [a for a, d in actors.items() if isinstance(d, dict) and "belligerent" in (d.get("roles") or [])]
    for block, key in (("support", "to"), ("sanctions", "against"), ("lifeline", "to")):
        for aid, d in actors.items():
            flow = d.get(block) if isinstance(d, dict) else None
            if not isinstance(flow, dict) or not isinstance(flow.get(key), str):
                continue
            if flow[key] in actors and flow[key] not in bells:
                out.append(where.problem(("actors", aid, block, key), f"'{flow[key]}' is not a belligerent "
                                         f"(expected one of: {', '.join(bells)})"))
    return out


def _check_scenario_block(data: dict, where: Located) -> list[Problem]:
    out: list[Problem] = []
    sc = data.get("scenario")
    if not isinstance(sc, dict):
        return out
    horizon = sc.get("horizon_weeks")
    hs = sc.get("reporting_horizons_weeks")
    if isinstance(hs, list) and all(isinstance(h, int) and not isinstance(h, bool) for h in hs):
        if not hs:
            out.append(where.problem(("scenario", "reporting_horizons_weeks"), "empty (expected at least one "
                                     "horizon)"))
        if any(b <= a for a, b in zip(hs, hs[1:], strict=False)):
            out.append(where.problem(("scenario", "reporting_horizons_weeks"), f"{hs} (expected strictly "
                                     "increasing horizons)"))
        if isinstance(horizon, int) and hs and max(hs) > horizon:
            out.append(where.problem(("scenario", "reporting_horizons_weeks"), f"{max(hs)} exceeds "
                                     f"horizon_weeks {horizon} (expected horizons within the horizon)"))
    a, b = sc.get("info_cutoff"), sc.get("start_date")
    if hasattr(a, "isoformat") and hasattr(b, "isoformat") and type(a) is type(b) and a > b:
        out.append(where.problem(("scenario", "info_cutoff"), f"{a} is after start_date {b} (expected the "
                                 "information cut-off on or before the start)"))
    mediator = data.get("mediator")
    deadlines = mediator.get("deadlines") if isinstance(mediator, dict) else None
    dates = deadlines.get("dates") if isinstance(deadlines, dict) else None
    if hasattr(b, "isoformat") and isinstance(dates, list):
        for j, d in enumerate(dates):
            if hasattr(d, "isoformat") and type(d) is type(b) and d < b:
                out.append(where.problem(("mediator", "deadlines", "dates", j),
                                         f"{d} is before start_date {b} (expected a deadline on or after "
                                         "the start)"))
    return out


def check_no_look_ahead(data: dict, provenance: dict[Path, dict], where: Located) -> list[Problem]:
    """No input dated after the information cut-off: a later ``asof`` is the scenario's future (look-ahead).

    A scenario answers "what could be known on ``info_cutoff``"; a value sourced later would leak what
    happened next into the inputs and make a hindcast or a forecast ledger meaningless. The exception is a
    hindcast's forcings: scheduled events marked ``observed`` are what happened outside the model's
    decisions (an EU sanctions package, an oil price), imposed on their dates as a climate hindcast imposes
    observed forcings. ``provenance`` maps the path of each sourced value to its ``{"src", "asof"}``.

    The other exception is named: ``scenario.accepted_after_cutoff`` maps the dotted path of an input dated
    later to the reason the scenario keeps it (a structural assumption a hindcast inherits from a parent
    that sourced it later), so the look-ahead is declared where a reader sees it, never silent. An entry
    for an input not dated after the cut-off has no effect: a variant that re-sources an inherited input
    cannot delete its parent's entry (``remove:`` takes dotted paths, and these keys are dotted paths).
    """
    sc = data.get("scenario")
    cutoff = sc.get("info_cutoff") if isinstance(sc, dict) else None
    if not hasattr(cutoff, "isoformat"):
        return []
    accepted = sc.get("accepted_after_cutoff") or {}
    accepted = accepted if isinstance(accepted, dict) else {}
    events = data.get("events") if isinstance(data.get("events"), dict) else {}
    forcings = {eid for eid, ev in events.items() if isinstance(ev, dict) and ev.get("observed") is True}
    out: list[Problem] = []
    for path, prov in provenance.items():
        if len(path) >= 2 and path[0] == "events" and path[1] in forcings:
            continue  # an observed event of a hindcast: what happened, imposed as a forcing
        asof = prov.get("asof") if isinstance(prov, dict) else None
        if asof is not None and str(asof) > cutoff.isoformat():
            if dotted(path) not in accepted:
                out.append(where.problem((*path, "asof"), f"{asof} is after the information cut-off {cutoff} "
                                         "(expected every input dated on or before scenario.info_cutoff, or "
                                         "its path in scenario.accepted_after_cutoff with the reason)"))
    for key, reason in accepted.items():
        if not isinstance(reason, str) or len(reason.split()) < 3:
            out.append(where.problem(("scenario", "accepted_after_cutoff", key), f"got {reason!r} (expected "
                                     "the reason the input does not leak what happened next, in words)"))
    return out


def _check_ranges(data: dict, where: Located) -> list[Problem]:
    """Pairs of fixed numbers that must be ordered (size_low < size_high, L_lo < L_hi), sorted options."""
    out: list[Problem] = []
    war = data.get("war") if isinstance(data.get("war"), dict) else {}
    pairs = [(("war", "collapse_jump"), "size_low", "size_high"),
             (("war", "counteroffensive_jump"), "size_low", "size_high"),
             (("war", "war_end_terms"), "L_lo", "L_hi")]
    for path, lo_key, hi_key in pairs:
        block = war.get(path[1]) if isinstance(war, dict) else None
        if not isinstance(block, dict):
            continue
        lo, hi = block.get(lo_key), block.get(hi_key)
        if all(isinstance(x, int | float) and not isinstance(x, bool) for x in (lo, hi)) and lo >= hi:
            out.append(where.problem((*path, hi_key), f"{hi_key} {hi} must exceed {lo_key} {lo} (expected "
                                     f"{lo_key} < {hi_key})"))
    issues = data.get("issues")
    if isinstance(issues, dict):
        for iid, issue in issues.items():
            opts = issue.get("options") if isinstance(issue, dict) else None
            if isinstance(opts, list) and all(isinstance(o, int | float) for o in opts):
                if any(b <= a for a, b in zip(opts, opts[1:], strict=False)):
                    out.append(where.problem(("issues", iid, "options"), f"{opts} (expected strictly "
                                             "increasing points on the 0-1 scale)"))
    return out


def whole_document(file: str, message: str) -> Problem:
    """Make a problem about a whole file."""
    return Problem(file, 1, DOCUMENT, message)
