"""The assumptions the what-if page offers: a short documented list, resolved against a scenario.

The list lives in ``scenarios/explore/assumptions.yaml`` beside the scenarios (a reviewer sees and edits
it like any assumption). Each entry names a value by dotted path; a path may end inside a distribution
(``war.drift_per_year.median``) to move its centre and keep its spread. The current value and its source
(``src:``/``asof:``) are read from the scenario, so the page shows what the slider replaces and why.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sim.errors import UserError

#: The list shipped with negsim (``scenarios/explore/assumptions.yaml`` of the checkout).
DEFAULT_LIST = Path(__file__).resolve().parents[2] / "scenarios" / "explore" / "assumptions.yaml"
_KEYS = {"path": str, "label": str, "meaning": str, "min": (int, float), "max": (int, float),
         "step": (int, float)}


@dataclass(frozen=True)
class Assumption:
    """One slider: a value of the scenario, its range, meaning, current value and source."""

    path: str
    label: str
    meaning: str
    min: float
    max: float
    step: float
    value: float
    source: str


def read_list(path: str | os.PathLike[str] = DEFAULT_LIST) -> list[dict[str, Any]]:
    """Read and check the list of assumptions; raise :class:`UserError` naming every problem."""
    import yaml

    p = Path(path)
    try:
        data = yaml.safe_load(p.read_text())
    except OSError as err:
        raise UserError(f"{p}: cannot read the list of assumptions ({err.strerror})") from err
    except yaml.YAMLError as err:
        raise UserError(f"{p}: not valid YAML ({err})") from err
    entries = data.get("assumptions") if isinstance(data, dict) else None
    if not isinstance(entries, list) or not entries:
        raise UserError(f"{p}: assumptions: expected a list of entries "
                        f"(path, label, meaning, min, max, step)")
    problems = []
    for i, e in enumerate(entries):
        for key, kind in _KEYS.items():
            if not isinstance(e, dict) or not isinstance(e.get(key), kind) or isinstance(e.get(key), bool):
                what = "a string" if kind is str else "a number"
                problems.append(f"{p}: assumptions[{i}].{key}: missing or wrong type (expected {what})")
        if isinstance(e, dict) and all(isinstance(e.get(k), (int, float)) for k in ("min", "max", "step")):
            if not (e["min"] < e["max"] and e["step"] > 0):
                problems.append(f"{p}: assumptions[{i}]: expected min < max and step > 0")
    if problems:
        raise UserError("\n".join(problems))
    return entries


def _lookup(data: Any, keys: list[str]) -> Any:
    for k in keys:
        if not isinstance(data, dict) or k not in data:
            return None
        data = data[k]
    return data


def resolve(scenario: Any, entries: list[dict[str, Any]]) -> tuple[list[Assumption], list[str]]:
    """Resolve the list against a loaded scenario.

    Returns
    -------
    (assumptions, skipped)
        The entries whose path holds a number in ``scenario`` (with that number and its source), and a
        line for each entry that does not (a variant may lack an actor; the page says what it left out).
    """
    from sim.analysis.rundir import source_for

    found, skipped = [], []
    for e in entries:
        keys = e["path"].split(".")
        value = _lookup(scenario.data, keys)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            skipped.append(f"{e['path']}: not a number in scenario {scenario.id}")
            continue
        # a value inside a distribution takes the distribution's source
        parent = _lookup(scenario.data, keys[:-1])
        where = ".".join(keys[:-1]) if isinstance(parent, dict) and "dist" in parent else e["path"]
        found.append(Assumption(e["path"], e["label"], e["meaning"], float(e["min"]), float(e["max"]),
                                float(e["step"]), float(value), source_for(scenario.provenance, where)))
    return found, skipped
