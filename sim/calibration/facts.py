"""Facts files: dated observations, each mapped to a statistic of the model's per-replicate records.

A facts file says what the world did, how sure we are of it, and which number computed from a run's
records (``runs.parquet``) it is to be compared with (model memo §4.1 guard 6; DESIGN §8 step 7)::

    facts_version: 1
    discrepancy_sd: 0.1            # optional file default of every fact's model discrepancy
    facts:
      - id: F13a
        title: US-Ukraine minerals agreement signed by 8 May 2025
        date: 2025-05-08           # or period: {from: 2025-02-12, to: 2025-12-31}
        observed: 1
        obs_sd: 0.05               # observation uncertainty (sd, in the statistic's units)
        discrepancy_sd: 0.1        # model discrepancy (Kennedy & O'Hagan 2001)
        source: "record-2025-2026.md §1 F13"
        confidence: C2
        statistic: {kind: by_date, record: partial_MINERALS_week}

Files are read with the scenario loader's safe YAML reader and checked with a strict pydantic schema;
every problem is reported as ``FILE:LINE: facts.N.field: what is wrong (expected ...)``, all in one pass
(:class:`sim.scenario.ScenarioError`, exit code 2). The statistic kinds are in
:mod:`sim.calibration.statistics`; a fact whose statistic names a record the scenario's runs do not have,
and a fact dated after the scenario's ``info_cutoff`` (look-ahead), are refused with the fact's line
(:func:`check_columns`, :func:`check_cutoff`).
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path as FsPath
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from sim.scenario.checks import Located
from sim.scenario.problems import Loc, Path, Problem, ScenarioError, did_you_mean, dotted
from sim.scenario.yamlsource import read_yaml

FactId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z][A-Za-z0-9_.\-]*$")]
Text = Annotated[str, StringConstraints(min_length=1)]
Column = Annotated[str, StringConstraints(min_length=1)]
NonNegative = Annotated[float, Field(ge=0, allow_inf_nan=False)]


class _Block(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False, populate_by_name=True)


class Period(_Block):
    """``period: {from: DATE, to: DATE}``, both days included."""

    start: dt.date = Field(alias="from")
    to: dt.date


class ValueStat(_Block):
    """A numeric record as it is, times ``scale`` (e.g. ``n_rounds``)."""

    kind: Literal["value"]
    record: Column
    scale: Annotated[float, Field(allow_inf_nan=False)] = 1.0


class ByDateStat(_Block):
    """1 if the week in ``record`` is on or before the fact's date's week, else 0 (never: 0)."""

    kind: Literal["by_date"]
    record: Column


class EqualsStat(_Block):
    """1 if the categorical ``record`` equals ``value`` (e.g. ``outcome_w46 == war``), else 0."""

    kind: Literal["equals"]
    record: Column
    value: str | int | float | bool


class WeeksInForceStat(_Block):
    """Weeks the spell starting at week ``record`` and lasting ``duration`` weeks overlaps the period."""

    kind: Literal["weeks_in_force"]
    record: Column
    duration: Column | None = None


class ContainsStat(_Block):
    """1 if the ';'-joined ``record`` (e.g. ``events_fired``) contains ``token``, else 0."""

    kind: Literal["contains"]
    record: Column
    token: Text


Statistic = Annotated[ValueStat | ByDateStat | EqualsStat | WeeksInForceStat | ContainsStat,
                      Field(discriminator="kind")]

#: Statistic kinds, in the order the messages list them.
KINDS = ("value", "by_date", "equals", "weeks_in_force", "contains")


class FactSpec(_Block):
    """One fact as written."""

    id: FactId
    title: Text
    date: dt.date | None = None
    period: Period | None = None
    observed: Annotated[float, Field(allow_inf_nan=False)]
    obs_sd: NonNegative
    discrepancy_sd: NonNegative | None = None
    source: Text
    confidence: Text
    statistic: Statistic


class FactsFile(_Block):
    """A whole facts file.

    ``replay``: the scenario (a path relative to the facts file) whose runs the facts are matched on, when it
    is not the scenario being calibrated: a hindcast that starts at the facts' period, while the scenario
    calibrated starts after it. ``calibrates``: the uncertain parameters the replay shares with the
    scenario being calibrated, with the same meaning in both; only these are carried over.
    """

    facts_version: Literal[1]
    discrepancy_sd: NonNegative | None = None
    replay: Text | None = None
    calibrates: list[Text] | None = None
    facts: Annotated[list[FactSpec], Field(min_length=1)]


@dataclass(frozen=True)
class Fact:
    """A validated fact, with where it was written.

    ``date`` is the fact's date, or the end of its period; ``period`` is ``(from, to)`` or None.
    ``discrepancy_sd`` is the fact's own or the file's default.
    """

    id: str
    title: str
    date: dt.date
    period: tuple[dt.date, dt.date] | None
    observed: float
    obs_sd: float
    discrepancy_sd: float
    source: str
    confidence: str
    statistic: ValueStat | ByDateStat | EqualsStat | WeeksInForceStat | ContainsStat
    file: str
    line: int
    index: int
    lines: dict[str, int] = field(default_factory=dict, compare=False, repr=False)
    replay: str | None = None  # the replay scenario its file names (None: the scenario calibrated)

    def line_of(self, key: str) -> int:
        """Return the line of ``key`` in the fact (``statistic.record``, ...), else of its nearest parent."""
        while key:
            if key in self.lines:
                return self.lines[key]
            key = key.rpartition(".")[0]
        return self.line

    @property
    def where(self) -> str:
        """``FILE:LINE`` of the fact."""
        return f"{self.file}:{self.line}"

    def columns(self) -> list[str]:
        """Return the record columns the fact's statistic reads."""
        st = self.statistic
        if isinstance(st, WeeksInForceStat):
            return [st.record, duration_column(st)]
        return [st.record]

    def describe(self) -> str:
        """One line for reports: what the statistic is."""
        st = self.statistic
        when = f"{self.period[0]} to {self.period[1]}" if self.period else str(self.date)
        if isinstance(st, ValueStat):
            return f"{st.record}" + (f" x {st.scale:g}" if st.scale != 1 else "")
        if isinstance(st, ByDateStat):
            return f"{st.record} <= week of {self.date}"
        if isinstance(st, EqualsStat):
            return f"{st.record} == {st.value}"
        if isinstance(st, WeeksInForceStat):
            return f"weeks of {st.record}+{duration_column(st)} in {when}"
        return f"{st.record} contains {st.token}"


def duration_column(st: WeeksInForceStat) -> str:
    """Return the duration column of a ``weeks_in_force`` statistic (given, or ``X_weeks_held``)."""
    if st.duration is not None:
        return st.duration
    base = st.record[: -len("_week")] if st.record.endswith("_week") else st.record
    return f"{base}_weeks_held"


@dataclass(frozen=True)
class FactSet:
    """Every fact of one or more files, in file order.

    ``replay`` the first replay scenario's path (resolved against its facts file) if the files name one, and
    ``replays`` every one in file order: files may name different replays (2025 facts on the 2025 hindcast,
    2026 facts on the December-2025 baseline), each fact matched on its own file's;
    ``calibrates`` the parameters carried over to the scenario calibrated (None: all of them), each with
    the ``FILE:LINE`` it was written at.
    """

    files: list[str]
    facts: list[Fact]
    replay: str | None = None
    calibrates: dict[str, str] | None = None

    @property
    def replays(self) -> list[str]:
        """Return the replay scenarios the facts name, in file order (empty: none)."""
        return list(dict.fromkeys(f.replay for f in self.facts if f.replay is not None))

    def on(self, replay: str | None) -> FactSet:
        """Return the facts matched on ``replay``."""
        return FactSet(self.files, [f for f in self.facts if f.replay == replay], replay, self.calibrates)

    @property
    def ids(self) -> list[str]:
        """Fact ids in order."""
        return [f.id for f in self.facts]


_FIELD_HELP = {
    "facts_version": "1",
    "facts": "a list of facts",
    "id": "a fact id such as F13a",
    "title": "what the fact says, in plain words",
    "observed": "the observed value of the statistic (a number)",
    "obs_sd": "the observation uncertainty, an sd >= 0 in the statistic's units",
    "source": "where the fact comes from",
    "confidence": "a confidence grade such as C2",
    "statistic": "a statistic such as {kind: value, record: n_rounds}",
    "kind": "one of: " + ", ".join(KINDS),
    "record": "the name of a per-replicate record (a runs.parquet column)",
    "value": "the value the record must equal",
    "token": "the token to look for",
    "from": "the first day of the period",
    "to": "the last day of the period",
}


def load_facts(paths: str | os.PathLike[str] | Sequence[str | os.PathLike[str]]) -> FactSet:
    """Read and validate one or more facts files.

    Raises
    ------
    ScenarioError
        Every problem of every file, as ``FILE:LINE: path: what is wrong (expected ...)``.
    """
    if isinstance(paths, str | os.PathLike):
        paths = [paths]
    displays = [os.fspath(p) for p in paths]
    problems: list[Problem] = []
    facts: list[Fact] = []
    replays: dict[str, str] = {}  # replay path -> the file naming it
    calibrates: dict[str, str] | None = None
    for display in displays:
        found, fs, header = _load_one(display)
        problems.extend(found)
        facts.extend(fs)
        if header.get("replay"):
            replays.setdefault(header["replay"], display)
        if header.get("calibrates") is not None:
            calibrates = {**(calibrates or {}), **header["calibrates"]}
    if replays and len({f.replay for f in facts}) > len(replays):
        bare = next(f for f in facts if f.replay is None)
        named = next(iter(replays.values()))
        problems.append(Problem(bare.file, 1, "replay", f"no replay scenario, while {named} names one "
                                "(expected every facts file of a calibration on another scenario's runs to "
                                "name its replay)"))
    seen: dict[str, Fact] = {}
    for f in facts:
        if f.id in seen:
            problems.append(Problem(f.file, f.line, f"facts.{f.index}.id", f"duplicate fact id '{f.id}' "
                                    f"(first at {seen[f.id].where}; expected unique ids)"))
        else:
            seen[f.id] = f
    if problems:
        raise ScenarioError(problems, displays)
    return FactSet(displays, facts, next(iter(replays), None), calibrates)


def _load_one(display: str) -> tuple[list[Problem], list[Fact], dict]:
    doc = read_yaml(FsPath(display), display)
    if doc.data is None:
        return list(doc.problems), [], {}
    where = Located(display, doc.locs, doc.key_locs)
    problems = list(doc.problems)
    try:
        spec = FactsFile.model_validate(doc.data)
    except ValidationError as err:
        problems.extend(_translate(e, doc.data, where) for e in err.errors(include_url=False))
        return problems, [], {}
    header: dict = {}
    if spec.replay is not None:
        header["replay"] = os.path.normpath(os.path.join(os.path.dirname(display), spec.replay))
        if not FsPath(header["replay"]).is_file():
            problems.append(where.problem(("replay",), f"'{spec.replay}' not found (expected a scenario file "
                                          f"relative to {display})"))
    if spec.calibrates is not None:
        header["calibrates"] = {p: f"{display}:{where.at(('calibrates', i)).line}"
                                for i, p in enumerate(spec.calibrates)}
    facts: list[Fact] = []
    for i, f in enumerate(spec.facts):
        path: Path = ("facts", i)
        loc = where.at(path)
        if (f.date is None) == (f.period is None):
            problems.append(where.problem(path, "give exactly one of date and period (expected date: "
                                          "YYYY-MM-DD or period: {from: YYYY-MM-DD, to: YYYY-MM-DD})"))
            continue
        if f.period is not None and f.period.to < f.period.start:
            problems.append(where.problem((*path, "period", "to"), f"{f.period.to} is before "
                                          f"{f.period.start} (expected the period's end on or after its "
                                          "start)"))
            continue
        if isinstance(f.statistic, WeeksInForceStat) and f.period is None:
            problems.append(where.problem((*path, "statistic", "kind"), "weeks_in_force needs a period "
                                          "(expected period: {from: ..., to: ...} instead of date)"))
            continue
        md = f.discrepancy_sd if f.discrepancy_sd is not None else spec.discrepancy_sd
        if md is None:
            problems.append(where.problem(path, "no model discrepancy (expected discrepancy_sd on the fact, "
                                          "or a file-level default discrepancy_sd)"))
            continue
        period = (f.period.start, f.period.to) if f.period is not None else None
        date = f.date if f.date is not None else f.period.to  # type: ignore[union-attr]
        facts.append(Fact(id=f.id, title=f.title, date=date, period=period, observed=f.observed,
                          obs_sd=f.obs_sd, discrepancy_sd=md, source=f.source, confidence=f.confidence,
                          statistic=f.statistic, file=display, line=loc.line, index=i,
                          lines={dotted(p[2:]): v.line for p, v in doc.locs.items()
                                 if len(p) > 2 and p[:2] == path}, replay=header.get("replay")))
    return problems, facts, header


def check_columns(facts: FactSet, columns: Iterable[str]) -> None:
    """Refuse any fact whose statistic reads a record the runs do not have; list the available ones.

    Raises
    ------
    ScenarioError
        ``FILE:LINE: facts.N.statistic.record: no record 'X' in the scenario's runs (did you mean ...?
        expected one of: ...)``.
    """
    available = [c for c in columns if not c.startswith("param.")]
    have = set(available)
    problems = []
    for f in facts.facts:
        for key, col in zip(("record", "duration"), f.columns(), strict=False):
            if col not in have:
                problems.append(Problem(f.file, f.line_of(f"statistic.{key}"),
                                        f"facts.{f.index}.statistic.{key}",
                                        f"fact {f.id}: no record '{col}' in the scenario's runs "
                                        f"({did_you_mean(col, available)}expected one of: "
                                        f"{', '.join(available)})"))
    if problems:
        raise ScenarioError(problems, facts.files)


def check_cutoff(facts: FactSet, info_cutoff: dt.date, scenario_id: str = "the scenario") -> None:
    """Refuse every fact dated (or ending) after the scenario's information cut-off: no look-ahead.

    A calibration may only use what was known at ``scenario.info_cutoff``; a later fact would let the
    outcome being forecast shape the assumptions that forecast it (DESIGN §8 step 7).

    Raises
    ------
    ScenarioError
        One line per fact: ``FILE:LINE: facts.N.date: fact F: dated D, after the information cut-off C of
        scenario S (no look-ahead: ...)``.
    """
    problems = []
    for f in facts.facts:
        if f.date > info_cutoff:
            key = "period.to" if f.period else "date"
            problems.append(Problem(f.file, f.line_of(key), f"facts.{f.index}.{key}",
                                    f"fact {f.id}: dated {f.date}, after the information cut-off "
                                    f"{info_cutoff} of scenario {scenario_id} (no look-ahead: expected "
                                    f"facts dated on or before {info_cutoff})"))
    if problems:
        raise ScenarioError(problems, facts.files)


def check_within_run(facts: FactSet, start_date: dt.date, horizon_weeks: int) -> None:
    """Refuse a dated statistic (``by_date``, ``weeks_in_force``) whose date or period the runs do not cover.

    The runs simulate the weeks from ``start_date`` to ``start_date + horizon_weeks``; a ``by_date`` fact
    before the start would be 0 in every replicate, and a period beyond the horizon would be cut short,
    whatever the parameters: such a fact rules out nothing, or everything, for no reason the facts give.

    Raises
    ------
    ScenarioError
        ``FILE:LINE: facts.N.date: fact F: ... outside the simulated weeks (expected ...)``.
    """
    end = start_date + dt.timedelta(weeks=int(horizon_weeks))
    problems = []
    for f in facts.facts:
        if not isinstance(f.statistic, ByDateStat | WeeksInForceStat):
            continue
        first = f.period[0] if f.period else f.date
        if first < start_date or f.date > end:
            key = "period" if f.period else "date"
            problems.append(Problem(f.file, f.line_of(key), f"facts.{f.index}.{key}",
                                    f"fact {f.id}: {f.statistic.kind} at {first if f.period is None else
                                    f'{first} to {f.date}'}, outside the simulated weeks {start_date} to "
                                    f"{end} (expected dates within the run: its statistic would not depend "
                                    "on the parameters)"))
    if problems:
        raise ScenarioError(problems, facts.files)


def _translate(e: dict, data: Any, where: Located) -> Problem:
    """One pydantic error on a facts file as a located problem saying what was expected."""
    from sim.scenario.checks import pydantic_error_path

    loc = tuple(e["loc"])
    kind = e["type"]
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        path, _ = pydantic_error_path(loc, data)
        got = e.get("ctx", {}).get("tag") if kind == "union_tag_invalid" else None
        if got is None:
            return Problem(where.at(path).file, where.at(path).line, dotted((*path, "kind")),
                           f"required key is missing (expected {_FIELD_HELP['kind']})")
        return where.problem((*path, "kind"), f"unknown statistic kind {got!r} ("
                             f"{did_you_mean(got, KINDS)}expected one of: {', '.join(KINDS)})")
    path, is_key = pydantic_error_path(loc, data)
    if kind == "missing":
        at: Loc = where.at(path[:-1], key=True)
        what = _FIELD_HELP.get(str(path[-1]), "a value")
        return Problem(at.file, at.line, dotted(path), f"required key is missing (expected {what})")
    if kind == "extra_forbidden":
        return where.problem(path, f"unknown key '{path[-1]}' (expected one of: "
                             f"{', '.join(_allowed(path[:-1], data))})", key=True)
    if kind in ("too_short", "string_too_short"):
        return where.problem(path, f"is empty (expected {_FIELD_HELP.get(str(path[-1]), 'a value')})")
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return where.problem(path, f"got {e['input']!r} (expected a mapping of keys)")
    if kind == "string_pattern_mismatch":
        return where.problem(path, f"got {e['input']!r} (expected an id of letters, digits, '_', '.', '-', "
                             "starting with a letter)")
    if kind in ("date_type", "date_from_datetime_parsing", "date_parsing"):
        return where.problem(path, f"got {e['input']!r} (expected a date, YYYY-MM-DD)")
    msg = str(e["msg"])
    expected = msg[len("Input should be "):] if msg.startswith("Input should be ") else msg
    return where.problem(path, f"got {e['input']!r} (expected {expected})", key=is_key)


def _allowed(path: Path, data: Any) -> list[str]:
    """Keys allowed at ``path`` of a facts file."""
    if len(path) == 0:
        return list(FactsFile.model_fields)
    if len(path) == 2:
        return [("from" if k == "start" else k) for k in FactSpec.model_fields]
    if len(path) == 3 and path[2] == "period":
        return ["from", "to"]
    if len(path) == 3 and path[2] == "statistic":
        node = data
        for p in path:
            node = node[p]
        cls = {"value": ValueStat, "by_date": ByDateStat, "equals": EqualsStat,
               "weeks_in_force": WeeksInForceStat, "contains": ContainsStat}.get(node.get("kind"))
        if cls is not None:
            return list(cls.model_fields)
    return []
