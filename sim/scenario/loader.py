"""``load_scenario``: read, overlay, validate; the :class:`Scenario` the other layers use.

The contract (``docs/contracts.md``): ``sc.data`` is the fully resolved nested dict (overlays applied,
``src``/``asof`` stripped, ``{value: x}`` unwrapped, distribution specs kept as dicts with key ``dist``),
``sc.provenance`` maps dotted paths to ``{"src", "asof"}``, ``sc.uncertain`` maps the dotted path of every
distribution leaf (in file order) to its spec. Any problem raises :class:`ScenarioError` listing all of
them as ``FILE:LINE: path: message``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path as FsPath
from typing import Any

from sim.scenario.checks import (
    Located,
    calibration_draws_path,
    check_no_look_ahead,
    uncertain_paths,
    validate_data,
)
from sim.scenario.overlay import resolve
from sim.scenario.problems import Loc, Path, ScenarioError, dotted


@dataclass(frozen=True)
class Scenario:
    """A loaded, valid scenario (see the module docstring and ``docs/contracts.md``)."""

    id: str
    path: FsPath
    files: list[tuple[FsPath, str]]
    data: dict[str, Any]
    provenance: dict[str, dict[str, str | None]]
    uncertain: dict[str, dict[str, Any]]
    locations: dict[Path, Loc] = field(default_factory=dict, repr=False, compare=False)

    @property
    def calibration(self) -> dict[str, Any] | None:
        """The ``calibration:`` section (history-matched draws and the facts), or None."""
        return self.data.get("calibration")

    def calibration_draws(self) -> FsPath | None:
        """Return the calibrated draws file (``calibration.draws``, relative to the file naming it)."""
        if not self.calibration:
            return None
        loc = self.line_of("calibration.draws")
        base = FsPath(loc.file).parent if loc is not None else self.path.parent
        return base / str(self.calibration["draws"])

    def line_of(self, dotted_path: str) -> Loc | None:
        """Where a dotted path was written (file and line), if known."""
        for path, loc in self.locations.items():
            if dotted(path) == dotted_path:
                return loc
        return None


def load_scenario(path: str | os.PathLike[str]) -> Scenario:
    """Load and validate a scenario file and every file it ``extends``.

    Parameters
    ----------
    path
        The scenario file; messages name it as given here.

    Raises
    ------
    ScenarioError
        Listing every problem found, one per line, as ``FILE:LINE: path.to.field: what (expected ...)``.
    """
    display = os.fspath(path)
    resolved = resolve(FsPath(display), display)
    problems = list(resolved.problems)
    if resolved.data is not None:
        where = Located(display, resolved.locs, resolved.key_locs)
        seen = {(p.file, p.line, p.path) for p in problems}
        found = validate_data(resolved.data, where)
        found += check_no_look_ahead(resolved.data, resolved.provenance, where)
        problems.extend(p for p in found if (p.file, p.line, p.path) not in seen)
    if problems or resolved.data is None:
        raise ScenarioError(problems, resolved.displays)
    data = resolved.data
    files = list(resolved.files)
    draws = calibration_draws_path(data, where)
    if draws is not None:  # the calibrated draws are part of the scenario: a run records their hash
        files.append((FsPath(draws), hashlib.sha256(FsPath(draws).read_bytes()).hexdigest()))
    return Scenario(
        id=str(data["scenario"]["id"]),
        path=FsPath(display),
        files=files,
        data=data,
        provenance={_prov_key(p): v for p, v in resolved.provenance.items()},
        uncertain={dotted(p): spec for p, spec in uncertain_paths(data).items()},
        locations=resolved.locs,
    )


def _prov_key(path: Path) -> str:
    return dotted(path) if path else ""


def jsonable(value: Any) -> Any:
    """Turn resolved data into JSON-able data: dates as ISO strings, all mapping keys as strings."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def resolved_for_manifest(sc: Scenario) -> dict[str, Any]:
    """Return the scenario as recorded in a run's ``manifest.json``.

    Returns the resolved data (distribution specs included, so a run can be redone), the provenance of
    every value that has one, the uncertain parameters, and each file with its SHA-256.
    """
    return {
        "id": sc.id,
        "path": str(sc.path),
        "files": [{"path": str(p), "sha256": h} for p, h in sc.files],
        "data": jsonable(sc.data),
        "provenance": dict(sc.provenance),
        "uncertain": list(sc.uncertain),
    }
