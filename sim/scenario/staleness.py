"""Staleness of a scenario's inputs against its start date (a warning, never an error).

A scenario answers "what could be known on ``info_cutoff``" about a run that begins on ``start_date``.
When the two are far apart, the run starts from a world its inputs no longer describe: the front, the
texts, the support levels have moved on. The rule (``negsim validate`` and ``negsim run`` print it):

* the *effective date* of a scenario is the earlier of its ``info_cutoff`` and its newest dated input
  (the newest provenance ``asof``); a cut-off moved forward without re-sourcing anything is not fresh;
* the scenario is stale when its effective date is more than :data:`MAX_AGE_DAYS` (90) days before
  ``start_date``;
* a stale scenario's warning counts the dated inputs (provenance ``asof``) more than 90 days older than
  the start and names the oldest, so the author knows what to re-source.

Why not count old inputs alone: structural constants (the literature, a constitution, a 1994 memorandum)
keep old dates for good reason, and a re-based scenario inherits many values whose ``asof`` is still the
best source (the December-2025 baseline cites February-2025 seeds; the 2026h2 baseline keeps values the
first half of 2026 did not change). Counting them would warn on every scenario and so on none. The cut-off
and the newest input say whether anyone looked at the world near the start; the count says how much of it.

Scheduled events marked ``observed: true`` (a hindcast's forcings, dated after the cut-off by design) are
left out of the count and of the newest date.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

#: Inputs more than this many days older than the start date are stale.
MAX_AGE_DAYS = 90


@dataclass(frozen=True)
class Staleness:
    """What :func:`staleness` found: ``stale`` says whether to warn; ``message(file)`` is the warning."""

    start: dt.date
    cutoff: dt.date | None
    newest: tuple[str, dt.date] | None
    # (dotted path, asof) of the inputs older than MAX_AGE_DAYS before the start, oldest first
    old: list[tuple[str, dt.date]]
    dated: int  # dated inputs counted

    @property
    def effective(self) -> dt.date | None:
        """The earlier of the cut-off and the newest dated input."""
        dates = [d for d in (self.cutoff, self.newest[1] if self.newest else None) if d is not None]
        return min(dates) if dates else None

    @property
    def stale(self) -> bool:
        """Whether the effective date is more than MAX_AGE_DAYS before the start."""
        eff = self.effective
        return eff is not None and (self.start - eff).days > MAX_AGE_DAYS

    def message(self, file: str) -> str:
        """Return the one-line warning (``warning: FILE: ...``); meaningful only when :attr:`stale`."""
        if self.cutoff is not None and (self.start - self.cutoff).days > MAX_AGE_DAYS:
            why = (f"info_cutoff {self.cutoff} is {(self.start - self.cutoff).days} days before start_date "
                   f"{self.start} (more than {MAX_AGE_DAYS})")
        else:
            path, date = self.newest  # type: ignore[misc]
            why = (f"the newest dated input ({path} asof {date}) is {(self.start - date).days} days before "
                   f"start_date {self.start} (more than {MAX_AGE_DAYS}), though info_cutoff is {self.cutoff}")
        count = (f"{len(self.old)} of {self.dated} dated inputs are more than {MAX_AGE_DAYS} days older than "
                 "the start")
        if self.old:
            count += f" (oldest: {self.old[0][0]} asof {self.old[0][1]})"
        return f"warning: {file}: {why}; {count}; re-source them or say why they still hold"


def _date(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip()[:10])
        except ValueError:
            return None
    return None


def staleness(data: dict[str, Any], provenance: dict[str, dict[str, Any]]) -> Staleness | None:
    """Apply the rule of the module docstring to resolved scenario data and its provenance.

    Parameters
    ----------
    data
        The resolved scenario (``Scenario.data``).
    provenance
        ``{dotted path: {"src", "asof"}}`` (``Scenario.provenance``).

    Returns
    -------
    Staleness or None
        None when the scenario has no start date.
    """
    sc = data.get("scenario") if isinstance(data.get("scenario"), dict) else {}
    start = _date(sc.get("start_date"))
    if start is None:
        return None
    cutoff = _date(sc.get("info_cutoff"))
    events = data.get("events") if isinstance(data.get("events"), dict) else {}
    forcings = {eid for eid, ev in events.items() if isinstance(ev, dict) and ev.get("observed") is True}
    dated: list[tuple[str, dt.date]] = []
    for path, prov in provenance.items():
        parts = path.split(".")
        if len(parts) >= 2 and parts[0] == "events" and parts[1] in forcings:
            continue
        d = _date(prov.get("asof")) if isinstance(prov, dict) else None
        if d is not None:
            dated.append((path, d))
    newest = max(dated, key=lambda pd: (pd[1], pd[0])) if dated else None
    limit = start - dt.timedelta(days=MAX_AGE_DAYS)
    old = sorted(((p, d) for p, d in dated if d < limit), key=lambda pd: (pd[1], pd[0]))
    return Staleness(start=start, cutoff=cutoff, newest=newest, old=old, dated=len(dated))


def staleness_warning(sc: Any, file: str) -> str | None:
    """Return the warning for a loaded :class:`~sim.scenario.Scenario`, or None when its inputs are fresh."""
    found = staleness(sc.data, sc.provenance)
    return found.message(file) if found is not None and found.stale else None
