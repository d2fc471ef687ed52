"""Questions, reference forecasts and resolutions files: resolvable questions and what others forecast.

Three small YAML formats, read with the scenario loader's safe reader (:func:`read_yaml`) and reported
like a scenario's problems, every one at once: ``FILE:LINE: path: what is wrong (expected ...)``.

``questions/*.yaml``: each question has an ``id``, its ``wording`` (and optionally a short ``label`` for
tables), the date it ``resolves`` and
``answer``: how a run's records answer it, one of two statistics over runs.parquet columns:

* ``{kind: signed_by, record: COLUMN, date: DATE}``: 1 if the week in ``COLUMN`` (weeks from the
  scenario's ``start_date``; empty = never) is at most the end of ``DATE`` in weeks from the same start;
* ``{kind: outcome_in, record: outcome_w<N>, values: [CLASS, ...]}``: 1 if the outcome class at week
  ``N`` is one of ``values``.

Either may carry ``given:`` (another answer of the same two kinds): the probability is then conditional
on it, over the replicates where it holds.

``references/*.yaml``: dated forecasts by others (``kind``: base_rate, market, expert, crowd) for a
question of the questions files, as ``value`` or ``low``/``high``, with ``date``, ``source`` and, for a
base rate, the reference ``class``.

``ledger/resolutions.yaml``: how questions resolved (``question``, ``value`` 0 or 1, ``date``, ``source``).
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path as FsPath
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, model_validator

from sim.scenario.checks import Located
from sim.scenario.problems import Path, Problem, ScenarioError, did_you_mean, dotted
from sim.scenario.schema import OUTCOMES
from sim.scenario.yamlsource import YamlDoc, read_yaml

Id = Annotated[str, StringConstraints(pattern=r"^[A-Za-z][A-Za-z0-9_]*$")]
Column = Annotated[str, StringConstraints(pattern=r"^[A-Za-z][A-Za-z0-9_]*$")]
Text = Annotated[str, StringConstraints(min_length=1)]
Prob = Annotated[float, Field(ge=0.0, le=1.0)]

#: Reference kinds, in the order tables list them.
REFERENCE_KINDS = ("base_rate", "market", "expert", "crowd")
#: Column names an ``outcome_in`` answer may read.
OUTCOME_RECORD = re.compile(r"^outcome_w(\d+)$")


class _Block(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class SignedBy(_Block):
    """1 if the week recorded in ``record`` is at most the end of ``date`` (weeks from the start)."""

    kind: Literal["signed_by"]
    record: Column
    date: dt.date
    given: Answer | None = None


class OutcomeIn(_Block):
    """1 if the outcome class in ``record`` (``outcome_w<N>``) is one of ``values``."""

    kind: Literal["outcome_in"]
    record: Annotated[str, StringConstraints(pattern=r"^outcome_w\d+$")]
    values: Annotated[list[Literal[OUTCOMES]], Field(min_length=1)]  # type: ignore[valid-type]
    given: Answer | None = None


Answer = Annotated[SignedBy | OutcomeIn, Field(discriminator="kind")]
SignedBy.model_rebuild()
OutcomeIn.model_rebuild()


class QuestionSpec(_Block):
    """One resolvable question."""

    id: Id
    wording: Text
    label: Text | None = None
    resolves: dt.date
    answer: Answer


class QuestionsFile(_Block):
    """A questions file."""

    questions_version: Literal[1] = 1
    questions: Annotated[list[QuestionSpec], Field(min_length=1)]


class ReferenceSpec(_Block):
    """One dated forecast by others (a base rate, a market, an expert panel, a crowd)."""

    id: Id
    question: Id
    kind: Literal[REFERENCE_KINDS]  # type: ignore[valid-type]
    value: Prob | None = None
    low: Prob | None = None
    high: Prob | None = None
    date: dt.date
    source: Text
    class_: Text | None = Field(default=None, alias="class")
    note: Text | None = None

    @model_validator(mode="after")
    def _one_number(self) -> ReferenceSpec:
        has_range = self.low is not None or self.high is not None
        if self.value is not None and has_range:
            raise ValueError("both value and low/high given (expected either value, or low and high)")
        if self.value is None and not has_range:
            raise ValueError("no number given (expected value, or low and high)")
        if has_range and (self.low is None or self.high is None or self.low > self.high):
            raise ValueError("low/high incomplete or reversed (expected both low and high, low <= high)")
        if self.kind == "base_rate" and self.class_ is None:
            raise ValueError("a base rate without its reference class (expected class: the reference class "
                             "in words)")
        return self


class ReferencesFile(_Block):
    """A references file."""

    references_version: Literal[1] = 1
    references: Annotated[list[ReferenceSpec], Field(min_length=1)]


class ResolutionSpec(_Block):
    """How one question resolved."""

    question: Id
    value: Literal[0, 1]
    date: dt.date
    source: Text


class ResolutionsFile(_Block):
    """A resolutions file."""

    resolutions: Annotated[list[ResolutionSpec], Field(min_length=1)]


@dataclass(frozen=True)
class Question:
    """A validated question; ``answer`` is the plain mapping of the file (JSON-able, dates as ISO text)."""

    id: str
    wording: str
    resolves: dt.date
    answer: dict[str, Any]
    file: str
    line: int
    label: str | None = None


@dataclass(frozen=True)
class Reference:
    """A validated reference forecast; ``p`` is ``value`` or the middle of ``low``/``high``."""

    id: str
    question: str
    kind: str
    p: float
    low: float | None
    high: float | None
    date: dt.date
    source: str
    ref_class: str | None
    note: str | None

    def to_json(self) -> dict[str, Any]:
        """Return the record summary.json and the ledger's score tables use."""
        out: dict[str, Any] = {"id": self.id, "kind": self.kind, "value": self.p,
                               "date": self.date.isoformat(),
                               "source": self.source}
        if self.low is not None:
            out.update(low=self.low, high=self.high)
        if self.ref_class:
            out["class"] = self.ref_class
        if self.note:
            out["note"] = self.note
        return out


@dataclass(frozen=True)
class Resolution:
    """A validated resolution."""

    question: str
    value: int
    date: dt.date
    source: str


def repository_root() -> FsPath:
    """Return the directory holding ``sim/`` (and, in a checkout, ``questions/`` and ``references/``)."""
    return FsPath(__file__).resolve().parents[2]


def default_files(folder: str) -> list[FsPath]:
    """Return the repository's ``folder/*.yaml`` files, sorted (empty if the folder is not there)."""
    d = repository_root() / folder
    return sorted(d.glob("*.yaml")) if d.is_dir() else []


def file_kind(path: str | os.PathLike[str]) -> str | None:
    """Return ``questions``, ``references`` or ``resolutions`` by a file's top-level key (else ``None``)."""
    doc = read_yaml(FsPath(os.fspath(path)), os.fspath(path))
    if isinstance(doc.data, dict) and "scenario" not in doc.data:
        for kind in ("questions", "references", "resolutions"):
            if kind in doc.data:
                return kind
    return None


def _read(path: str | os.PathLike[str]) -> tuple[YamlDoc, Located]:
    display = os.fspath(path)
    doc = read_yaml(FsPath(display), display)
    if doc.data is None:
        raise ScenarioError(doc.problems, [display])
    return doc, Located(display, doc.locs, doc.key_locs)


def _validate(model: type[_Block], doc: YamlDoc, where: Located) -> Any:
    problems = list(doc.problems)
    try:
        spec = model.model_validate(doc.data)
    except ValidationError as err:
        problems.extend(_translate(e, doc.data, where) for e in err.errors(include_url=False))
        raise ScenarioError(problems, [doc.file]) from None
    if problems:
        raise ScenarioError(problems, [doc.file])
    return spec


def _plain(value: Any) -> Any:
    """Dates as ISO text, recursively (answers are stored in JSON)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _valid_files(paths: Iterable[str | os.PathLike[str]], model: type[_Block], problems: list[Problem],
                 files: list[str]) -> Iterator[tuple[Any, YamlDoc, Located]]:  # fmt: skip
    """Yield each file's validated content with its document and locations, in order.

    Every file read is added to ``files``; a file whose content fails its schema adds its problems to
    ``problems`` and yields nothing, so the caller goes on to the next and reports all of them at once.
    """
    for path in paths:
        doc, where = _read(path)
        files.append(doc.file)
        try:
            spec = _validate(model, doc, where)
        except ScenarioError as err:
            problems.extend(err.problems)
            continue
        yield spec, doc, where


def load_questions(paths: Iterable[str | os.PathLike[str]]) -> dict[str, Question]:
    """Read and check questions files; return ``{id: Question}`` in file order.

    Raises
    ------
    ScenarioError
        Every problem, as ``FILE:LINE: path: what is wrong (expected ...)``; an id given twice (in one
        file or across files) is a problem at its second place.
    """
    out: dict[str, Question] = {}
    problems: list[Problem] = []
    files: list[str] = []
    for spec, doc, where in _valid_files(paths, QuestionsFile, problems, files):
        for i, q in enumerate(spec.questions):
            loc = where.at(("questions", i, "id"))
            if q.id in out:
                first = out[q.id]
                problems.append(where.problem(("questions", i, "id"), f"question '{q.id}' is defined twice "
                                              f"(first at {first.file}:{first.line}; expected unique ids)"))
                continue
            problems.extend(_answer_problems(q.answer, q.resolves, ("questions", i, "answer"), where))
            answer = _plain(q.answer.model_dump())
            out[q.id] = Question(q.id, q.wording, q.resolves, answer, doc.file, loc.line, q.label)
    if problems:
        raise ScenarioError(problems, files)
    return out


def _answer_problems(answer: SignedBy | OutcomeIn, resolves: dt.date, path: Path,
                     where: Located) -> list[Problem]:
    """Report a ``signed_by`` date later than the question's resolution date (unknown when it resolves)."""
    out = []
    if isinstance(answer, SignedBy) and answer.date > resolves:
        out.append(where.problem((*path, "date"), f"{answer.date} is after the question resolves "
                                 f"({resolves}) (expected a date on or before 'resolves')"))
    if answer.given is not None:
        out.extend(_answer_problems(answer.given, resolves, (*path, "given"), where))
    return out


def load_references(paths: Iterable[str | os.PathLike[str]],
                    questions: dict[str, Question]) -> list[Reference]:
    """Read and check references files against the questions; return the references in file order.

    Raises
    ------
    ScenarioError
        Every problem, located; a reference to a question that no questions file defines is one.
    """
    out: list[Reference] = []
    seen: dict[str, str] = {}
    problems: list[Problem] = []
    files: list[str] = []
    for spec, doc, where in _valid_files(paths, ReferencesFile, problems, files):
        for i, r in enumerate(spec.references):
            here = ("references", i)
            if r.id in seen:
                problems.append(where.problem((*here, "id"), f"reference '{r.id}' is defined twice (first at "
                                              f"{seen[r.id]}; expected unique ids)"))
                continue
            seen[r.id] = f"{doc.file}:{where.at((*here, 'id')).line}"
            if r.question not in questions:
                problems.append(where.problem((*here, "question"), f"unknown question '{r.question}' "
                                              f"({did_you_mean(r.question, questions)}expected a question id "
                                              "of the questions files)"))
                continue
            p = r.value if r.value is not None else (float(r.low) + float(r.high)) / 2  # type: ignore[arg-type]
            out.append(Reference(r.id, r.question, r.kind, float(p), r.low, r.high, r.date, r.source,
                                 r.class_,
                                 r.note))
    if problems:
        raise ScenarioError(problems, files)
    return out


def load_resolutions(path: str | os.PathLike[str], questions: dict[str, Question]) -> list[Resolution]:
    """Read and check a resolutions file against the questions.

    Raises
    ------
    ScenarioError
        Every problem, located: an unknown question or a question resolved twice in the file (conflicts
        with resolutions already recorded are the ledger's to check).
    """
    doc, where = _read(path)
    spec: ResolutionsFile = _validate(ResolutionsFile, doc, where)
    problems: list[Problem] = []
    out: list[Resolution] = []
    seen: set[str] = set()
    for i, r in enumerate(spec.resolutions):
        here = ("resolutions", i, "question")
        if r.question not in questions:
            problems.append(where.problem(here, f"unknown question '{r.question}' "
                                          f"({did_you_mean(r.question, questions)}expected a question id of "
                                          "the questions files)"))
            continue
        if r.question in seen:
            problems.append(where.problem(here, f"question '{r.question}' is resolved twice in this file "
                                          "(expected one resolution per question)"))
            continue
        seen.add(r.question)
        out.append(Resolution(r.question, int(r.value), r.date, r.source))
    if problems:
        raise ScenarioError(problems, [doc.file])
    return out


_HELP = {
    "questions": "a list of questions",
    "references": "a list of reference forecasts",
    "resolutions": "a list of resolutions",
    "id": "a name of letters, digits and underscores, starting with a letter",
    "wording": "the question in words",
    "label": "a short label for tables (e.g. 'Ceasefire or deal')",
    "resolves": "the date the question resolves (YYYY-MM-DD)",
    "answer": "how a run answers it: {kind: signed_by, record: COLUMN, date: DATE} or "
              "{kind: outcome_in, record: outcome_w<N>, values: [CLASS, ...]}",
    "kind": "signed_by or outcome_in (answers); base_rate, market, expert or crowd (references)",
    "record": "a column of runs.parquet",
    "date": "a date (YYYY-MM-DD)",
    "values": "a list of outcome classes",
    "question": "a question id",
    "source": "who gave the number, where and when",
    "value": "a probability in [0, 1] (references) or 0 / 1 (resolutions)",
}


def _allowed(path: Sequence[object]) -> list[str]:
    """Keys allowed at ``path`` (for 'did you mean' hints)."""
    names = [str(p) for p in path if not isinstance(p, int)]
    if not names:
        return ["questions_version", "questions", "references_version", "references", "resolutions"]
    head = names[0]
    if head == "questions":
        return list(OutcomeIn.model_fields | SignedBy.model_fields) if "answer" in names else list(
            QuestionSpec.model_fields)
    if head == "references":
        return ["id", "question", "kind", "value", "low", "high", "date", "source", "class", "note"]
    if head == "resolutions":
        return list(ResolutionSpec.model_fields)
    return []


def _translate(e: dict, data: object, where: Located) -> Problem:
    """One pydantic error as a located problem that says what was expected."""
    from sim.scenario.checks import pydantic_error_path

    path, is_key = pydantic_error_path(tuple(e["loc"]), data)
    kind = e["type"]
    leaf = str(path[-1]) if path else ""
    if kind == "missing":
        loc = where.at(path[:-1])
        return Problem(loc.file, loc.line, dotted(path),
                       f"required key is missing (expected {_HELP.get(leaf, 'a value')})")
    if kind == "extra_forbidden":
        allowed = _allowed(path[:-1])
        return where.problem(path, f"unknown key '{leaf}' ({did_you_mean(leaf, allowed)}expected one of: "
                             f"{', '.join(allowed)})", key=True)
    if kind == "value_error":
        return where.problem(path, str(e["msg"]).removeprefix("Value error, "))
    if kind == "union_tag_invalid":
        return where.problem((*path, "kind"), f"got {e['input'].get('kind')!r} (expected signed_by or "
                             "outcome_in)")
    if kind == "union_tag_not_found":
        return where.problem(path, f"no 'kind' (expected {_HELP['answer']})")
    if kind in ("date_type", "date_parsing", "date_from_datetime_inexact"):
        return where.problem(path, f"got {e['input']!r} (expected a date, YYYY-MM-DD, unquoted)")
    msg = str(e["msg"])
    expected = msg[len("Input should be "):] if msg.startswith("Input should be ") else msg
    if leaf == "kind" and kind == "literal_error":
        expected = _HELP["kind"]
    return where.problem(path, f"got {e['input']!r} (expected {expected})", key=is_key)


def week_of(date: dt.date | str, start: dt.date | str) -> float:
    """Weeks from the start of ``start`` to the end of ``date`` (the records' clock: a week ends at t)."""
    d = dt.date.fromisoformat(str(date)) if not isinstance(date, dt.date) else date
    s = dt.date.fromisoformat(str(start)) if not isinstance(start, dt.date) else start
    return ((d - s).days + 1) / 7.0
