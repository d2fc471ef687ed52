"""A run's answer to a resolvable question (``questions/*.yaml``), and the ``references`` of summary.json.

A question's ``answer`` is a yes/no statistic of each replicate's records (:mod:`sim.scenario.questions`);
its probability is the share of replicates that say yes, with the same 95% interval as the outcome
classes (:func:`sim.batch.stats.outcome_probabilities`: the spread of the per-draw probability across
parameter draws, never narrower than the Monte Carlo error). A conditional answer (``given``) counts only
the replicates where the condition holds.

A question is refused for a run when the run cannot answer it: it resolves after the run's horizon, a
record it reads is not in runs.parquet, or an ``outcome_in`` record's week does not fall on the date the
question resolves in this run's calendar (within half a week).
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.batch.stats import draw_counts, outcome_probabilities
from sim.errors import UserError
from sim.scenario.questions import (
    OUTCOME_RECORD,
    Question,
    Reference,
    default_files,
    load_questions,
    load_references,
    week_of,
)

#: Classes of a yes/no answer, in the order ``outcome_probabilities`` reports them.
YES_NO = ("yes", "no")


class Unanswerable(UserError):
    """A question a run cannot answer (beyond its horizon, a record it lacks, a calendar mismatch)."""


def records_of(answer: Mapping[str, Any]) -> list[str]:
    """Columns of runs.parquet an answer reads (``draw`` not included)."""
    out = [str(answer["record"])]
    if answer.get("given"):
        out += records_of(answer["given"])
    return out


def check_answerable(question: Question, start: str, horizon_weeks: float, columns: Iterable[str]) -> None:
    """Refuse (:class:`Unanswerable`) a question the run cannot answer; say why."""
    cols = set(columns)
    end = dt.date.fromisoformat(str(start)) + dt.timedelta(days=int(round(7 * horizon_weeks)) - 1)
    if week_of(question.resolves, start) > horizon_weeks + 1e-9:
        raise Unanswerable(f"question '{question.id}' resolves on {question.resolves}, after this run's "
                           f"horizon ({horizon_weeks:g} weeks from {start}, to {end})")
    _check_answer(question, question.answer, start, cols)


def _check_answer(question: Question, answer: Mapping[str, Any], start: str, cols: set[str]) -> None:
    record = str(answer["record"])
    if record not in cols:
        raise Unanswerable(f"question '{question.id}': this run has no record '{record}' (runs.parquet has "
                           "no such column)")
    if answer["kind"] == "outcome_in":
        weeks = int(OUTCOME_RECORD.match(record).group(1))  # type: ignore[union-attr]
        at = week_of(question.resolves, start)
        if abs(at - weeks) > 0.5:
            when = dt.date.fromisoformat(str(start)) + dt.timedelta(days=7 * weeks - 1)
            raise Unanswerable(f"question '{question.id}': {record} is the end of week {weeks} = {when} in "
                               "this "
                               f"run (start {start}), but the question resolves on {question.resolves}")
    if answer.get("given"):
        _check_answer(question, answer["given"], start, cols)


def answer_yes(answer: Mapping[str, Any], cols: Mapping[str, Any], start: str) -> np.ndarray:
    """Per-replicate yes (True) / no of one answer (its ``given`` condition not applied)."""
    values = np.asarray(cols[str(answer["record"])])
    if answer["kind"] == "signed_by":
        limit = week_of(answer["date"], start)
        with np.errstate(invalid="ignore"):
            return np.asarray(values, dtype=float) <= limit + 1e-9  # NaN (never) compares False
    if answer["kind"] == "outcome_in":
        return np.isin(values.astype(str), [str(v) for v in answer["values"]])
    raise ValueError(f"unknown answer kind {answer['kind']!r}")  # pragma: no cover - the loader checks


def answer_counts(answer: Mapping[str, Any], cols: Mapping[str, Any], start: str, n_draws: int) -> np.ndarray:
    """``(D, 2)`` counts of (yes, no) per parameter draw, over the replicates where ``given`` holds."""
    yes = answer_yes(answer, cols, start)
    keep = np.ones(yes.shape, dtype=bool)
    given = answer.get("given")
    while given:
        keep &= answer_yes(given, cols, start)
        given = given.get("given")
    draw = np.asarray(cols["draw"], dtype=np.int64)
    return draw_counts(draw[keep], np.where(yes[keep], 0, 1), n_draws, 2)


def question_probability(question: Question, runs: pd.DataFrame, start: str, horizon_weeks: float,
                         n_draws: int | None = None) -> dict[str, Any]:
    """Return the run's probability for ``question``: ``{p, lo, hi, n}`` (``n`` replicates counted).

    Raises
    ------
    Unanswerable
        If the run cannot answer the question.
    """
    check_answerable(question, start, horizon_weeks, runs.columns)
    d = int(n_draws) if n_draws is not None else int(np.asarray(runs["draw"]).max()) + 1
    counts = answer_counts(question.answer, runs, start, d)
    n = int(counts.sum())
    if n == 0:
        return {"p": None, "lo": None, "hi": None, "n": 0}
    rec = outcome_probabilities(counts, YES_NO)["yes"]
    return {"p": rec["p"], "lo": rec["lo"], "hi": rec["hi"], "n": n}


def load_default(questions: Iterable[str | os.PathLike[str]] | None = None,
                 references: Iterable[str | os.PathLike[str]] | None = None
                 ) -> tuple[dict[str, Question], list[Reference]]:
    """Questions and references: the files given, else the repository's ``questions/`` and ``references/``."""
    qfiles = list(questions) if questions is not None else default_files("questions")
    rfiles = list(references) if references is not None else default_files("references")
    qs = load_questions(qfiles) if qfiles else {}
    refs = load_references(rfiles, qs) if (rfiles and qs) else []
    return qs, refs


def references_block(runs: pd.DataFrame, scenario: Mapping[str, Any], questions: Mapping[str, Question],
                     references: Iterable[Reference], n_draws: int | None = None) -> dict[str, Any]:
    """summary.json's ``references``: for each question the run can answer and a reference speaks to.

    ``{question_id: {wording, label, resolves, model: {p, lo, hi, n}, references: [{kind, value, date,
    source, after_cutoff, ...}]}}``, references by date (file order within a date). A reference dated
    after the scenario's ``info_cutoff`` is kept (a later number, for comparison) with
    ``after_cutoff: true``. Questions the run cannot answer are left out.
    """
    meta = scenario.get("scenario", {}) if isinstance(scenario, Mapping) else {}
    start = str(meta.get("start_date", ""))
    horizon = float(meta.get("horizon_weeks", 0) or 0)
    cutoff = str(meta.get("info_cutoff", "")) or None
    by_q: dict[str, list[Reference]] = {}
    for r in references:
        by_q.setdefault(r.question, []).append(r)
    out: dict[str, Any] = {}
    if not start or not horizon:
        return out
    for qid, refs in by_q.items():
        q = questions.get(qid)
        if q is None:
            continue
        try:
            model = question_probability(q, runs, start, horizon, n_draws)
        except Unanswerable:
            continue
        out[qid] = {
            "wording": q.wording, "label": q.label or q.wording, "resolves": q.resolves.isoformat(),
            "model": model,
            "references": [{**r.to_json(), "after_cutoff": bool(cutoff and r.date.isoformat() > cutoff)}
                           for r in sorted(refs, key=lambda r: r.date)],
        }
    return out


def summary_references(runs: str | os.PathLike[str] | pd.DataFrame, scenario: Mapping[str, Any],
                       n_draws: int | None = None) -> dict[str, Any]:
    """Return the ``references`` entry of a finished run's summary.json, from the repository's files.

    ``runs``: the run's records, as a table or a ``runs.parquet`` file (or the run directory holding it),
    of which only the columns the questions need are read. A repository without questions or references
    files gives ``{}``.
    """
    questions, refs = load_default()
    if not questions or not refs:
        return {}
    if not isinstance(runs, pd.DataFrame):
        import pyarrow.parquet as pq

        path = Path(runs)
        path = path / "runs.parquet" if path.is_dir() else path
        have = set(pq.read_schema(path).names)
        wanted = {"draw"} | {c for q in questions.values() for c in records_of(q.answer) if c in have}
        runs = pd.read_parquet(path, columns=sorted(wanted))
    return references_block(runs, scenario, questions, refs, n_draws)
