"""The forecast ledger: dated forecasts frozen for resolvable questions, their resolutions, proper scores.

Two append-only JSON-lines files in a ledger directory (default: the repository's ``ledger/``):

* ``forecasts.jsonl``: one line per (question, run): the run's probability with its 95% interval, the
  question as it was worded and answered, the run (id, identity hash, seed, size), the scenario (id and
  SHA-256 of its files), the git commit, ``registered`` (the scenario's information cut-off unless
  given) and whether the run was calibrated (summary.json's ``calibration.calibrated``; a run without
  a calibration entry was not).
  An entry stands alone: the run directory is not needed to score it.
* ``resolutions.jsonl``: one line per resolved question: ``value`` 0 or 1, date, source.

Lines are only ever appended (the file is opened in append mode; nothing is rewritten). A second entry
for the same (question, run) is refused, and so is a resolution that contradicts one already recorded.

Scores (lower Brier is better; higher log score is better):

* Brier score ``(p - o)^2`` (Brier 1950), ``o`` the outcome 0 or 1;
* log score ``log(p)`` if the event happened, ``log(1 - p)`` if not: the log of the probability given to
  what happened (Good 1952), with ``p`` clipped into ``[1e-6, 1 - 1e-6]`` so that a forecast of 0 or 1
  scores ``log(1e-6) = -13.8`` instead of minus infinity;
* reliability: forecasts binned in ``n`` equal-width bins of ``p`` (``[0, 0.1), [0.1, 0.2), ...,
  [0.9, 1.0]``, the last closed), empty bins skipped; each bin gives the number of forecasts, their
  mean probability and the observed frequency (Murphy & Winkler 1977).

A reference forecast (``references/*.yaml``) is scored beside a model entry on the same question: for
each reference kind, the latest reference dated on or before the entry's ``registered`` date (a number
given later could have used information the model did not have).

References
----------
Brier, G. W. (1950). Verification of forecasts expressed in terms of probability. Monthly Weather
Review 78, 1-3.
Good, I. J. (1952). Rational decisions. JRSS B 14, 107-114.
Murphy, A. H. & Winkler, R. L. (1977). Reliability of subjective probability forecasts of precipitation
and temperature. JRSS C 26, 41-47.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import subprocess
import textwrap
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.errors import UserError
from sim.scenario.questions import Question, Reference, Resolution, repository_root

FORECASTS = "forecasts.jsonl"
RESOLUTIONS = "resolutions.jsonl"
#: Clip of probabilities in the log score.
EPS = 1e-6
#: Manifest keys that identify a run (as ``--resume`` uses them) and make its ``run_key``.
RUN_IDENTITY = ("scenario_files", "seed", "runs", "draws", "paths_per_draw", "block_size", "draws_sha256",
                "git_commit")


def default_ledger() -> Path:
    """Return the repository's ``ledger/`` directory."""
    return repository_root() / "ledger"


# --- scores ------------------------------------------------------------------------------------------

def brier(p: np.ndarray | float, o: np.ndarray | float) -> np.ndarray:
    """Brier score ``(p - o)^2`` of probability ``p`` for outcome ``o`` (0 or 1); 0 is perfect."""
    return (np.asarray(p, dtype=float) - np.asarray(o, dtype=float)) ** 2


def log_score(p: np.ndarray | float, o: np.ndarray | float, eps: float = EPS) -> np.ndarray:
    """Log of the probability given to what happened: ``log p`` if ``o = 1``, ``log(1 - p)`` if ``o = 0``.

    ``p`` is clipped into ``[eps, 1 - eps]`` first; 0 is perfect, more negative is worse.
    """
    q = np.clip(np.asarray(p, dtype=float), eps, 1.0 - eps)
    o = np.asarray(o, dtype=float)
    return np.where(o > 0.5, np.log(q), np.log1p(-q))


def reliability(p: Sequence[float] | np.ndarray, o: Sequence[float] | np.ndarray,
                n_bins: int = 10) -> pd.DataFrame:
    """Reliability table: ``n_bins`` equal-width bins of ``p``, empty bins skipped.

    Bin ``k`` holds ``k / n <= p < (k + 1) / n``; the last bin also holds ``p = 1``. Columns: ``lo``,
    ``hi`` (the bin's edges), ``n`` (forecasts), ``mean_p`` (their mean probability), ``freq`` (share
    of them whose event happened).
    """
    p = np.asarray(p, dtype=float)
    o = np.asarray(o, dtype=float)
    idx = np.minimum((p * n_bins).astype(int), n_bins - 1)
    rows = []
    for k in range(n_bins):
        sel = idx == k
        if sel.any():
            rows.append({"lo": k / n_bins, "hi": (k + 1) / n_bins, "n": int(sel.sum()),
                         "mean_p": float(p[sel].mean()), "freq": float(o[sel].mean())})
    return pd.DataFrame(rows, columns=["lo", "hi", "n", "mean_p", "freq"])


# --- the files ---------------------------------------------------------------------------------------

def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """Read a JSON-lines file (``[]`` if absent); a bad line is a :class:`UserError` naming ``FILE:LINE``."""
    if not path.exists():
        return []
    out = []
    for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as err:
            raise UserError(f"{path}:{i}: invalid JSON ({err.msg}); the ledger is append-only: restore the "
                            "line from git") from None
        if not isinstance(rec, dict):
            raise UserError(f"{path}:{i}: expected a JSON object per line")
        out.append(rec)
    return out


def append_jsonl(path: Path, records: Iterable[Mapping[str, Any]]) -> int:
    """Append records as JSON lines; the file is opened for appending only, never rewritten."""
    lines = [json.dumps(r, sort_keys=False, ensure_ascii=False) + "\n" for r in records]
    if not lines:
        return 0
    path.parent.mkdir(parents=True, exist_ok=True)
    prefix = ""
    if path.exists() and path.stat().st_size:
        with path.open("rb") as f:
            f.seek(-1, os.SEEK_END)
            prefix = "" if f.read(1) == b"\n" else "\n"
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    with os.fdopen(fd, "a", encoding="utf-8") as f:
        f.write(prefix + "".join(lines))
    return len(lines)


# --- adding a run's forecasts -----------------------------------------------------------------------

def run_key(manifest: Mapping[str, Any]) -> str:
    """SHA-256 of what identifies a run: scenario file hashes, seed, size, parameter draws, commit."""
    ident = {k: manifest.get(k) for k in RUN_IDENTITY}
    return hashlib.sha256(json.dumps(ident, sort_keys=True, default=str).encode()).hexdigest()


def head_commit() -> str | None:
    """``git rev-parse HEAD`` of the repository (``None`` outside git)."""
    try:
        return subprocess.run(["git", "rev-parse", "HEAD"], cwd=repository_root(), capture_output=True,
                              text=True, timeout=10, check=True).stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None


def is_calibrated(summary: Mapping[str, Any]) -> bool:
    """Whether summary.json says the run's parameters were history-matched (``calibration.calibrated``)."""
    cal = summary.get("calibration")
    return bool(cal.get("calibrated")) if isinstance(cal, Mapping) else bool(cal)


@dataclass
class AddResult:
    """What ``ledger add`` appended, and what it refused and why."""

    added: list[dict[str, Any]]
    refused: list[str]


def forecast_entries(run: Any, questions: Mapping[str, Question], as_of: dt.date | None = None,
                     now: str | None = None) -> AddResult:
    """Return the ledger entries of a run (a :class:`~sim.analysis.rundir.RunData`), one per question.

    A question is refused (with the reason) when the run cannot answer it, or when it resolved on or
    before the registration date (a forecast must precede its resolution).
    """
    from sim.analysis.rundir import scenario_data
    from sim.batch.answers import Unanswerable, question_probability

    meta = scenario_data(run.manifest).get("scenario", {})
    start, cutoff = str(meta.get("start_date", "")), meta.get("info_cutoff")
    if not start:
        raise UserError(f"{run.path}: the manifest has no resolved scenario with a start_date (expected a "
                        "run "
                        "directory written by `negsim run`)")
    cutoff_date = dt.date.fromisoformat(str(cutoff)) if cutoff else None
    registered = as_of or cutoff_date
    if registered is None:
        raise UserError(f"{run.path}: the scenario has no info_cutoff; give --as-of DATE")
    if cutoff_date is not None and registered < cutoff_date:
        raise UserError(f"--as-of {registered} is before the scenario's information cut-off ({cutoff_date}): "
                        "the run used information after that date (expected a date on or after it)")
    horizon = float(meta.get("horizon_weeks") or run.horizon_weeks)
    n_draws = run.manifest.get("draws")
    commit = run.manifest.get("git_commit") or head_commit()
    key = run_key(run.manifest)
    added, refused = [], []
    for q in questions.values():
        if q.resolves <= registered:
            refused.append(f"{q.id}: resolves on {q.resolves}, not after the registration date {registered}")
            continue
        try:
            ans = question_probability(q, run.runs, start, horizon, n_draws)
        except Unanswerable as err:
            refused.append(err.message)
            continue
        if ans["p"] is None:
            refused.append(f"{q.id}: no replicate meets its condition (given): the run gives no probability")
            continue
        added.append({
            "question": q.id, "wording": q.wording, "resolves": q.resolves.isoformat(), "answer": q.answer,
            "p": ans["p"], "lo": ans["lo"], "hi": ans["hi"], "n": ans["n"],
            "registered": registered.isoformat(), "info_cutoff": str(cutoff) if cutoff else None,
            "run": run.run_id, "run_key": key, "scenario": run.scenario_id,
            "scenario_files": run.manifest.get("scenario_files"), "seed": run.seed,
            "runs": len(run.runs), "draws": n_draws, "commit": commit,
            "calibrated": is_calibrated(run.summary),
            "added": now or dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        })
    return AddResult(added, refused)


def add_forecasts(ledger: Path, result: AddResult) -> AddResult:
    """Append the entries not already in the ledger; an entry for a (question, run) it holds is refused."""
    path = ledger / FORECASTS
    held = {(e.get("question"), e.get("run_key")) for e in read_jsonl(path)}
    fresh, refused = [], list(result.refused)
    for e in result.added:
        if (e["question"], e["run_key"]) in held:
            refused.append(f"{e['question']}: already in {path} for run {e['run']} (the ledger is "
                           "append-only: a frozen entry is never rewritten)")
            continue
        held.add((e["question"], e["run_key"]))
        fresh.append(e)
    append_jsonl(path, fresh)
    return AddResult(fresh, refused)


# --- resolutions ------------------------------------------------------------------------------------

def add_resolutions(ledger: Path, resolutions: Sequence[Resolution], file: str,
                    now: str | None = None) -> tuple[list[dict[str, Any]], list[str]]:
    """Append resolutions not yet recorded; return (appended, already recorded).

    Raises
    ------
    UserError
        If any resolution contradicts one recorded (another value): nothing is appended.
    """
    path = ledger / RESOLUTIONS
    held = {r["question"]: r for r in read_jsonl(path)}
    conflicts, same, fresh = [], [], []
    stamp = now or dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    for r in resolutions:
        old = held.get(r.question)
        if old is not None:
            if int(old["value"]) != r.value:
                conflicts.append(f"{r.question}: {file} says {r.value}, {path} already holds {old['value']} "
                                 f"(resolved {old['date']}, {old['source']})")
            else:
                same.append(r.question)
            continue
        fresh.append({"question": r.question, "value": r.value, "date": r.date.isoformat(),
                      "source": r.source,
                      "recorded": stamp})
    if conflicts:
        raise UserError("refused: a resolved question cannot be resolved again with another value "
                        "(the ledger is append-only):\n  " + "\n  ".join(conflicts))
    append_jsonl(path, fresh)
    return fresh, same


# --- scoring ----------------------------------------------------------------------------------------

def model_label(entry: Mapping[str, Any]) -> str:
    """Name the source of a model entry: ``model: <scenario>`` (``, calibrated`` when it was)."""
    cal = ", calibrated" if entry.get("calibrated") else (", uncalibrated" if "calibrated" in entry else "")
    return f"model: {entry.get('scenario', '?')}{cal}"


def score_table(entries: Sequence[Mapping[str, Any]], resolutions: Sequence[Mapping[str, Any]],
                references: Sequence[Reference] = ()) -> pd.DataFrame:
    """One row per scored forecast: the model's entries and the references beside them.

    Columns: ``source`` (``model: <scenario>`` or the reference kind), ``question``, ``p``, ``outcome``,
    ``brier``, ``log``, ``date`` (registered, or the reference's date), ``ref`` (run id or reference id).
    Only resolved questions are scored, and only entries registered before the resolution's date (the
    day the outcome was known: an event may happen well before the question's resolution date). For
    each model entry and reference kind, the latest reference of that kind on the question dated on or
    before the entry's registration is scored once.
    """
    outcome = {r["question"]: int(r["value"]) for r in resolutions}
    known = {r["question"]: str(r.get("date", "9999-12-31")) for r in resolutions}
    rows: list[dict[str, Any]] = []
    seen_refs: set[str] = set()
    for e in entries:
        q = e["question"]
        if q not in outcome or str(e["registered"]) >= known[q]:
            continue
        rows.append({"source": model_label(e), "question": q, "p": float(e["p"]), "outcome": outcome[q],
                     "date": e["registered"], "ref": e.get("run", "")})
        for kind in dict.fromkeys(r.kind for r in references):
            usable = [r for r in references if r.question == q and r.kind == kind
                      and r.date.isoformat() <= str(e["registered"])]
            if not usable:
                continue
            r = max(usable, key=lambda r: (r.date, r.id))
            if r.id in seen_refs:
                continue
            seen_refs.add(r.id)
            rows.append({"source": kind, "question": q, "p": r.p, "outcome": outcome[q],
                         "date": r.date.isoformat(), "ref": r.id})
    df = pd.DataFrame(rows, columns=["source", "question", "p", "outcome", "date", "ref"])
    df["brier"] = brier(df["p"].to_numpy(float), df["outcome"].to_numpy(float)) if len(df) else []
    df["log"] = log_score(df["p"].to_numpy(float), df["outcome"].to_numpy(float)) if len(df) else []
    return df


def score_means(table: pd.DataFrame) -> pd.DataFrame:
    """Mean Brier and log score per source, with the number of forecasts (model sources first)."""
    if table.empty:
        return pd.DataFrame(columns=["source", "n", "brier", "log"])
    g = table.groupby("source", sort=False).agg(n=("p", "size"), brier=("brier", "mean"), log=("log", "mean"))
    g = g.reset_index()
    return g.sort_values("source", key=lambda s: s.map(lambda x: (not str(x).startswith("model"), str(x))),
                         kind="stable").reset_index(drop=True)


def paired_means(table: pd.DataFrame) -> pd.DataFrame:
    """Each reference kind beside each model source on the questions both forecast (the fair comparison).

    Columns: ``model``, ``reference``, ``n`` (questions in common), ``model_brier``, ``ref_brier``,
    ``model_log``, ``ref_log``.
    """
    cols = ["model", "reference", "n", "model_brier", "ref_brier", "model_log", "ref_log"]
    if table.empty:
        return pd.DataFrame(columns=cols)
    is_model = table["source"].str.startswith("model")
    models, refs = table[is_model], table[~is_model]
    rows = []
    for m_src, m in models.groupby("source", sort=False):
        for r_src, r in refs.groupby("source", sort=False):
            both = m.merge(r, on="question", suffixes=("_m", "_r"))
            if both.empty:
                continue
            rows.append({"model": m_src, "reference": r_src, "n": len(both),
                         "model_brier": both["brier_m"].mean(), "ref_brier": both["brier_r"].mean(),
                         "model_log": both["log_m"].mean(), "ref_log": both["log_r"].mean()})
    return pd.DataFrame(rows, columns=cols)


def format_scores(table: pd.DataFrame, means: pd.DataFrame, pending: int = 0) -> str:
    """Return the text ``negsim ledger score`` prints."""
    if table.empty:
        return "no resolved question has a forecast in the ledger yet" + (
            f" ({pending} forecasts wait for their questions to resolve)" if pending else "")
    w = max(14, *(len(str(x)) for x in table["source"]))
    wq = max(8, *(len(str(x)) for x in table["question"]))
    lines = [f"{'source':<{w}} {'question':<{wq}} {'date':<10} {'p':>6} {'o':>2} {'Brier':>7} {'log':>7}"]
    for r in table.itertuples():
        lines.append(f"{r.source!s:<{w}} {r.question!s:<{wq}} {r.date:<10} {r.p:6.3f} "
                     f"{int(r.outcome):2d} {r.brier:7.4f} {r.log:7.3f}")
    lines += ["", f"{'mean by source':<{w}} {'n':>3} {'Brier':>7} {'log':>7}"]
    for r in means.itertuples():
        lines.append(f"{r.source!s:<{w}} {int(r.n):3d} {r.brier:7.4f} {r.log:7.3f}")
    paired = paired_means(table)
    if not paired.empty:
        pairs = [f"{r.model} vs {r.reference}" for r in paired.itertuples()]
        wp = max(len(p) for p in pairs)
        head = f"{'on the same questions':<{wp}} {'n':>3} {'Brier: model, ref':>17} {'log: model, ref':>17}"
        lines += ["", head]
        for label, r in zip(pairs, paired.itertuples(), strict=True):
            lines.append(f"{label:<{wp}} {int(r.n):3d}   {r.model_brier:7.4f} {r.ref_brier:7.4f}   "
                         f"{r.model_log:7.3f} {r.ref_log:7.3f}")
    note = (f"Brier = (p - o)^2, lower is better. log = ln p if it happened, ln(1 - p) if not, higher is "
            f"better; p clipped into [{EPS:g}, 1 - {EPS:g}]. A reference is scored beside a model entry when "
            "dated on or before the entry's registration (the latest of each kind). Means compare sources "
            "fairly only on the same questions.")
    lines += ["", *textwrap.wrap(note, 104)]
    if pending:
        lines.append(f"{pending} further forecast(s) wait for their questions to resolve.")
    return "\n".join(lines)
