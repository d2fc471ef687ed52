"""Reusable field types of the scenario schema (pydantic v2).

* :data:`Number`, :data:`Probability`, :data:`NonNegative`, :data:`Positive`, :data:`Linkage`: a finite
  number or any distribution of the grammar (:mod:`sim.scenario.distributions`) whose values all lie in
  the field's range (a probability may be a beta but not a lognormal; a normal may stand for a
  probability only if truncated to [0, 1]).
* :func:`OneOf` ``("nash", "kalai_smorodinsky")``: one of some names, or a ``choice`` among them.
* :data:`Simplex`: a ``dirichlet``, or fixed shares that sum to 1.
* ``IssueMap[T]`` / ``ActorMap[T]``: mappings keyed by issue / actor ids; the keys are checked against the
  ids the scenario defines by :func:`sim.scenario.checks.check_references`; ``IssueMapAll[T]`` also
  requires every issue.

Problems are raised as one ``PydanticCustomError`` of type ``negsim`` whose context carries the list of
``(subpath, message)`` found, so that :mod:`sim.scenario.checks` can report each at its own line.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import PlainValidator, WithJsonSchema
from pydantic_core import PydanticCustomError

from sim.scenario.distributions import DISTS, SUM_TOL, check_spec, is_dist, support
from sim.scenario.problems import did_you_mean

#: Placeholder for the distribution grammar in JSON Schemas (pydantic cannot resolve a ref it did not
#: make); :func:`sim.scenario.schema.json_schema` turns it into ``{"$ref": "#/$defs/Distribution"}``.
DIST_REF = {"x-negsim": "distribution"}


def fail(problems: list[tuple[tuple[str, ...], str]]) -> None:
    """Raise the problems found in one field (first one as the pydantic message)."""
    raise PydanticCustomError("negsim", "{message}", {"message": problems[0][1], "problems": problems})


def _is_num(v: object) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


@dataclass(frozen=True)
class Range:
    """The values a numeric field accepts."""

    lo: float
    hi: float
    lo_open: bool
    hi_open: bool
    expected: str

    def contains(self, x: float) -> bool:
        """Whether a fixed number is acceptable."""
        above = x > self.lo if self.lo_open else x >= self.lo
        below = x < self.hi if self.hi_open else x <= self.hi
        return above and below

    def covers(self, lo: float, hi: float) -> bool:
        """Whether a continuous support (lo, hi) lies inside the range (endpoints have probability 0)."""
        return lo >= self.lo and hi <= self.hi

    def json(self) -> dict:
        """JSON Schema bounds for a fixed number."""
        out: dict[str, Any] = {"type": "number"}
        if math.isfinite(self.lo):
            out["exclusiveMinimum" if self.lo_open else "minimum"] = self.lo
        if math.isfinite(self.hi):
            out["exclusiveMaximum" if self.hi_open else "maximum"] = self.hi
        return out


REAL = Range(-math.inf, math.inf, True, True, "a number")
PROB = Range(0.0, 1.0, False, False, "a probability in [0, 1]")
NONNEG = Range(0.0, math.inf, False, True, "a number >= 0")
POS = Range(0.0, math.inf, True, True, "a number > 0")
LINK = Range(-2.0, 2.0, True, True, "|kappa| < 2, which keeps the preference matrix positive definite "
             "(memo 1.3)")


def _check_number(value: object, rng: Range, names: tuple[str, ...] = ()) -> list:
    """Problems with a number/distribution value for a field of range ``rng`` (or names ``names``)."""
    if isinstance(value, bool) or value is None or isinstance(value, list):
        return [((), f"got {value!r} (expected {_expect(rng, names)})")]
    if _is_num(value):
        if not math.isfinite(value):
            return [((), f"got {value} (expected a finite number)")]
        if names:
            return [((), f"got {value!r} (expected {_expect(rng, names)})")]
        if not rng.contains(value):
            return [((), f"{value:g} is out of range (expected {rng.expected})")]
        return []
    if isinstance(value, str):
        if names and value in names:
            return []
        hint = did_you_mean(value, names) if names else ""
        return [((), f"got text {value!r} ({hint}expected {_expect(rng, names)})")]
    if not isinstance(value, dict):
        return [((), f"got {type(value).__name__} {value!r} (expected {_expect(rng, names)})")]
    if "dist" not in value:
        return [((), "a mapping here must be a distribution with a 'dist' key (expected "
                 f"{_expect(rng, names)})")]
    issues = check_spec(value)
    if issues:
        return issues
    name = value["dist"]
    if name == "dirichlet":
        return [(("dist",), "dirichlet gives shares, not one value (expected a one-dimensional "
                 f"distribution: {', '.join(d for d in DISTS if d != 'dirichlet')})")]
    if name == "choice":
        out = []
        for i, opt in enumerate(value["options"]):
            for sub, msg in _check_number(opt, rng, names):
                out.append((("options", str(i), *sub), msg))
        return out
    if names:
        return [(("dist",), f"{name} gives numbers (expected {_expect(rng, names)})")]
    lo, hi = support(value)
    if not rng.covers(lo, hi):
        return [(("dist",), f"a {name} can take values in ({lo:g}, {hi:g}), outside the allowed range "
                 f"(expected {rng.expected}; use a bounded distribution or truncate with low/high)")]
    return []


def _expect(rng: Range, names: tuple[str, ...]) -> str:
    if names:
        return "one of: " + ", ".join(names) + " (or a choice among them)"
    return f"{rng.expected}, or a distribution"


def _number_type(rng: Range) -> Any:
    def validate(value: object) -> object:
        problems = _check_number(value, rng)
        if problems:
            fail(problems)
        return value

    schema = {"anyOf": [rng.json(), DIST_REF, value_wrapper(rng.json())]}
    return Annotated[Any, PlainValidator(validate), WithJsonSchema(schema)]


def value_wrapper(inner: dict) -> dict:
    """JSON Schema of ``{value: x, src: ..., asof: ...}``, the way to cite the source of one number."""
    return {"type": "object", "properties": {"value": inner, "src": {"type": "string"},
                                             "asof": {"type": "string"}},
            "required": ["value"], "additionalProperties": False}


#: Any finite number or distribution.
Number = _number_type(REAL)
#: A number or distribution within [0, 1].
Probability = _number_type(PROB)
#: A number or distribution >= 0.
NonNegative = _number_type(NONNEG)
#: A number or distribution > 0.
Positive = _number_type(POS)
#: A linkage coefficient, |kappa| < 2.
Linkage = _number_type(LINK)


def _number_or_name(value: object) -> object:
    if isinstance(value, str) and value.isidentifier():
        return value
    problems = _check_number(value, REAL)
    if problems:
        fail([(sub, msg.replace("(expected ", "(expected a state name or ")) for sub, msg in problems])
    return value


#: A number, a distribution, or a state name such as ``ESCALATION``.
NumberOrName = Annotated[
    Any, PlainValidator(_number_or_name),
    WithJsonSchema({"anyOf": [{"type": "number"}, {"type": "string"}, DIST_REF]}),
]


def OneOf(*names: str) -> Any:  # noqa: N802 - reads like a type
    """One of the given names, or ``{dist: choice, options: [...]}`` among them."""

    def validate(value: object) -> object:
        problems = _check_number(value, REAL, names)
        if problems:
            fail(problems)
        return value

    schema = {"anyOf": [{"enum": list(names)}, DIST_REF]}
    return Annotated[Any, PlainValidator(validate), WithJsonSchema(schema)]


def _check_simplex(value: object) -> object:
    if is_dist(value):
        issues = check_spec(value)  # type: ignore[arg-type]
        if not issues and value["dist"] != "dirichlet":  # type: ignore[index]
            issues = [(("dist",), f"got {value['dist']} (expected dirichlet, or fixed shares)")]  # type: ignore[index]
        if issues:
            fail(issues)
        return value
    if not isinstance(value, dict) or not value:
        fail([((), f"got {value!r} (expected a dirichlet or a mapping KEY: share summing to 1)")])
    issues = []
    for k, v in value.items():  # type: ignore[union-attr]
        if not _is_num(v) or not math.isfinite(v) or v < 0:
            issues.append(((str(k),), f"got {v!r} (expected a share >= 0)"))
    if not issues and abs(sum(value.values()) - 1.0) > SUM_TOL:  # type: ignore[union-attr]
        issues.append(((), f"shares sum to {sum(value.values()):g} (expected shares summing to 1)"))  # type: ignore[union-attr]
    if issues:
        fail(issues)
    return value


#: Shares over actors: a dirichlet or fixed shares summing to 1 (keys checked against the actors).
Simplex = Annotated[
    Any,
    PlainValidator(_check_simplex),
    WithJsonSchema({"anyOf": [{"type": "object", "additionalProperties": {"type": "number", "minimum": 0}},
                              DIST_REF]}),
]


@dataclass(frozen=True)
class KeysOf:
    """Marker: the mapping's keys are ids of ``kind`` ("issues" or "actors"); ``complete``: all of them.

    Checked by :func:`sim.scenario.checks.check_references` on the raw data (so a bad key is reported
    even when a value beside it is also wrong).
    """

    kind: str
    complete: bool = False


@dataclass(frozen=True)
class RefTo:
    """Marker: the string is the id of an item of ``kind`` ("issues" or "actors")."""

    kind: str


class IssueMap:
    """``IssueMap[T]``: a mapping from issue ids (defined in ``issues:``) to T."""

    def __class_getitem__(cls, item: Any) -> Any:
        return Annotated[dict[str, item], KeysOf("issues")]


class IssueMapAll:
    """``IssueMapAll[T]``: like ``IssueMap[T]`` but every defined issue must have an entry."""

    def __class_getitem__(cls, item: Any) -> Any:
        return Annotated[dict[str, item], KeysOf("issues", complete=True)]


class ActorMap:
    """``ActorMap[T]``: a mapping from actor ids (defined in ``actors:``) to T."""

    def __class_getitem__(cls, item: Any) -> Any:
        return Annotated[dict[str, item], KeysOf("actors")]


#: The id of an issue defined in ``issues:``.
IssueId = Annotated[str, RefTo("issues")]
#: The id of an actor defined in ``actors:``.
ActorId = Annotated[str, RefTo("actors")]
#: The id of a named negotiating text defined in ``packages:``.
PackageId = Annotated[str, RefTo("packages")]
