"""Levers files: named interventions, each a small overlay on a scenario with its expected effect.

A levers file asks several what-if questions of one scenario at once (``negsim levers``, DESIGN §5 and §8
step 5). Each lever carries the question in plain words, an ``overlay`` in the scenario variants' own
language (``extends`` rules: mappings merge, lists and distributions are replaced; ``src``/``asof`` are
provenance), and ``expect``: the direction the lever should move named outcomes, each with the source of
that expectation. The overlay is merged onto the scenario by :func:`sim.scenario.overlay.merge` and the
result checked by :func:`sim.scenario.checks.validate_data`, so a lever is exactly a variant file that
was not written to disk, and its problems are reported like a scenario's:
``FILE:LINE: levers.NAME.overlay.path: what is wrong (expected ...)``, every problem in one pass.

A lever may only change what the scenario has: a path that does not exist in it is an error (a typo would
otherwise add an unread key, and the lever would measure nothing). New entries are accepted only in the
scenario's open collections (``events``, ``packages``, ``mediator.levers``, event effects), where the
schema then checks them in full.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path as FsPath
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from sim.scenario.checks import Located, allowed_keys, validate_data
from sim.scenario.loader import Scenario, jsonable
from sim.scenario.overlay import Resolved, merge, resolve, strip_provenance
from sim.scenario.problems import Path, Problem, ScenarioError, did_you_mean, dotted
from sim.scenario.schema import OUTCOMES
from sim.scenario.yamlsource import YamlDoc, read_yaml

#: Directions an expectation may state (quote "+" and "-" in YAML).
UP = ("+", "up", "increase")
DOWN = ("-", "\u2212", "down", "decrease")
#: Prefix of an expectation on where an issue settles: ``settle_TERR_CTRL``.
SETTLE = "settle_"
#: The run directory of the unchanged scenario under OUT; no lever may take this name.
BASE = "base"

LeverId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z][A-Za-z0-9_]*$")]
Text = Annotated[str, StringConstraints(min_length=1)]


class _Block(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class Expectation(_Block):
    """The direction a lever should move one outcome (or settled issue), and who says so."""

    sign: Literal[UP + DOWN]  # type: ignore[valid-type]
    src: Text

    @property
    def direction(self) -> int:
        """+1 or -1."""
        return 1 if self.sign in UP else -1


class LeverSpec(_Block):
    """One named intervention."""

    label: Text
    question: Text
    overlay: dict[str, Any] = Field(min_length=1)
    expect: dict[str, Expectation] = Field(min_length=1)


class LeversFile(_Block):
    """A whole levers file: ``levers: {NAME: lever, ...}`` and an optional ``scenario`` it was written for."""

    scenario: Text | None = None
    levers: Annotated[dict[LeverId, LeverSpec], Field(min_length=1)]


@dataclass(frozen=True)
class Lever:
    """A validated lever and the scenario it makes."""

    name: str
    label: str
    question: str
    expect: dict[str, Expectation]
    scenario: Scenario

    @property
    def expected_signs(self) -> dict[str, int]:
        """``{outcome or settle_ISSUE: +1 | -1}``."""
        return {k: e.direction for k, e in self.expect.items()}


@dataclass(frozen=True)
class LeverSet:
    """The base scenario and every lever of a levers file, validated against it."""

    path: FsPath
    base: Scenario
    levers: list[Lever]


def load_levers(levers_path: str | os.PathLike[str], scenario_path: str | os.PathLike[str]) -> LeverSet:
    """Read a levers file and check every lever against the scenario; build each lever's scenario.

    Raises
    ------
    ScenarioError
        Every problem of the scenario, or of the levers file and every lever, as ``FILE:LINE: path: what``.
    """
    scen_display = os.fspath(scenario_path)
    display = os.fspath(levers_path)
    base_resolved = resolve(FsPath(scen_display), scen_display)
    from sim.scenario import load_scenario

    base = load_scenario(scen_display)  # raises the scenario's own problems first
    doc = read_yaml(FsPath(display), display)
    if doc.data is None:
        raise ScenarioError(doc.problems, [display])
    where = Located(display, doc.locs, doc.key_locs)
    problems = list(doc.problems)
    try:
        spec = LeversFile.model_validate(doc.data)
    except ValidationError as err:
        problems.extend(_translate(e, doc.data, where) for e in err.errors(include_url=False))
        raise ScenarioError(problems, [display]) from None
    if problems:
        raise ScenarioError(problems, [display])
    levers: list[Lever] = []
    if BASE in spec.levers:
        problems.append(where.problem(("levers", BASE), f"the name '{BASE}' is the unchanged scenario's "
                                      "(expected another lever name)", key=True))
    issues = [str(i) for i in base.data.get("issues", {})]
    for name, lever in spec.levers.items():
        prefix: Path = ("levers", name)
        known = [*OUTCOMES, *(SETTLE + i for i in issues)]
        for key in lever.expect:
            if key not in known:
                hint = did_you_mean(key, known)
                problems.append(where.problem((*prefix, "expect", key), f"unknown outcome '{key}' "
                                              f"({hint}expected one of: {', '.join(known)})", key=True))
        sc, found = lever_scenario(base, base_resolved, name, doc, prefix)
        problems.extend(found)
        if sc is not None:
            levers.append(Lever(name, lever.label, lever.question, dict(lever.expect), sc))
    if problems:
        raise ScenarioError(problems, [display, *base_resolved.displays])
    return LeverSet(FsPath(display), base, levers)


def lever_scenario(base: Scenario, base_resolved: Resolved, name: str, doc: YamlDoc,
                   prefix: Path) -> tuple[Scenario | None, list[Problem]]:
    """Merge one lever's overlay onto the scenario and validate the result, as ``extends`` would.

    The overlay's locations are those in the levers file, so every problem points at the lever's line;
    problem paths are given in the levers file (``levers.NAME.overlay.<scenario path>``).
    """
    opath = (*prefix, "overlay")
    n = len(opath)
    sub = {p[n:]: loc for p, loc in doc.locs.items() if p[:n] == opath}
    sub_keys = {p[n:]: loc for p, loc in doc.key_locs.items() if p[:n] == opath}
    overlay = copy.deepcopy(doc.data["levers"][name]["overlay"])  # type: ignore[index]
    odoc = YamlDoc(file=doc.file, locs=sub, key_locs=sub_keys)
    provenance = strip_provenance(overlay, (), odoc)
    overlay.pop("extends", None)
    where = Located(doc.file, sub, sub_keys)
    problems = [_in_lever(p, opath) for p in odoc.problems]
    problems.extend(_in_lever(p, opath) for p in missing_paths(base_resolved.data or {}, overlay, where))
    if problems:
        return None, problems
    merged = merge(base_resolved, overlay, sub, sub_keys, provenance, display=f"{doc.file} (lever {name})")
    data = merged.data
    assert data is not None
    data["scenario"] = {**data["scenario"], "id": f"{base.id}__{name}"}
    found = validate_data(data, Located(doc.file, merged.locs, merged.key_locs))
    problems = [_in_lever(p, opath) if p.file == doc.file else p for p in found]
    if problems:
        return None, problems
    from sim.scenario.checks import uncertain_paths

    digest = hashlib.sha256(json.dumps(jsonable(overlay), sort_keys=True).encode()).hexdigest()
    return Scenario(
        id=str(data["scenario"]["id"]),
        path=base.path,
        files=[*base.files, (FsPath(f"{doc.file}#{name}"), digest)],
        data=data,
        provenance={dotted(p) if p else "": v for p, v in merged.provenance.items()},
        uncertain={dotted(p): spec for p, spec in uncertain_paths(data).items()},
        locations=merged.locs,
    ), []


def missing_paths(base: dict, overlay: object, where: Located) -> list[Problem]:
    """Every key of ``overlay`` that names nothing in ``base`` (the scenario's resolved data).

    The walk stops where the overlay replaces a value whole (a list, a distribution, a scalar). A key the
    schema knows for that block but the scenario leaves at its default is accepted; so is a new entry in
    an open collection (``events``, ``packages``, ...), which the schema checks in full after the merge.
    """
    out: list[Problem] = []

    def walk(node: object, over: object, path: Path) -> None:
        if not isinstance(over, dict) or not isinstance(node, dict) or "dist" in over or "dist" in node:
            return
        for key, value in over.items():
            if key in node:
                walk(node[key], value, (*path, key))
                continue
            fields = allowed_keys(path, base)
            if key in fields or (not fields and _is_open(path)):
                continue
            choices = [str(k) for k in node]
            out.append(where.problem((*path, key), f"no such setting in the scenario "
                                     f"({did_you_mean(key, choices)}expected one of: {', '.join(choices)})",
                                     key=True))

    walk(base, overlay, ())
    return out


def _is_open(path: Path) -> bool:
    """Whether the mapping at ``path`` takes new ids (an event, a package, a mediator lever, an effect)."""
    top = path[:1]
    return top in (("events",), ("packages",)) or path == ("mediator", "levers")


def _in_lever(problem: Problem, opath: Path) -> Problem:
    """Give a problem found in an overlay the path a reader finds in the levers file."""
    inner = "" if problem.path == "<document>" else f".{problem.path}"
    return Problem(problem.file, problem.line, f"{dotted(opath)}{inner}", problem.message)


def _translate(e: dict, data: object, where: Located) -> Problem:
    """One pydantic error on the levers file as a located problem saying what was expected."""
    from sim.scenario.checks import pydantic_error_path

    path, is_key = pydantic_error_path(tuple(e["loc"]), data)
    kind = e["type"]
    if kind == "missing":
        loc = where.at(path[:-1], key=True)
        what = _FIELD_HELP.get(str(path[-1]), "a value")
        return Problem(loc.file, loc.line, dotted(path), f"required key is missing (expected {what})")
    if kind == "extra_forbidden":
        allowed = _allowed(path[:-1])
        return where.problem(path, f"unknown key '{path[-1]}' ({did_you_mean(path[-1], allowed)}expected "
                             f"one of: {', '.join(allowed)})", key=True)
    if kind == "literal_error":
        return where.problem(path, f"got {e['input']!r} (expected a direction: \"+\" or \"-\", quoted, "
                             "or up / down)")
    if kind == "string_pattern_mismatch":
        return where.problem(path, f"got {e['input']!r} (expected a name of letters, digits and underscores, "
                             "starting with a letter)", key=is_key)
    if kind in ("too_short", "string_too_short"):
        return where.problem(path, f"is empty (expected {_FIELD_HELP.get(str(path[-1]), 'a value')})")
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return where.problem(path, f"got {e['input']!r} (expected a mapping of keys)")
    msg = str(e["msg"])
    expected = msg[len("Input should be "):] if msg.startswith("Input should be ") else msg
    return where.problem(path, f"got {e['input']!r} (expected {expected})", key=is_key)


_FIELD_HELP = {
    "levers": "a mapping of lever names to levers",
    "label": "a short label for tables and charts",
    "question": "the question the lever answers, in plain words",
    "overlay": "the changes to the scenario, in the language of a variant file",
    "expect": "the expected direction on named outcomes, e.g. comprehensive_deal: {sign: \"+\", src: ...}",
    "sign": "\"+\" or \"-\"",
    "src": "the source of the expectation (a seed article and passage, or a dated source)",
}


def _allowed(path: Path) -> list[str]:
    """Keys allowed at ``path`` of a levers file."""
    if len(path) == 0:
        return list(LeversFile.model_fields)
    if len(path) == 2:
        return list(LeverSpec.model_fields)
    if len(path) == 4 and path[2] == "expect":
        return list(Expectation.model_fields)
    return []
