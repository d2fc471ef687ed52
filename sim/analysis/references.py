"""The model's numbers beside the reference forecasts (base rates, markets, experts, crowds) for a briefing.

The references come from summary.json (``references``, written by the batch layer), or, for a run
written before summary.json carried them, are computed from runs.parquet and the repository's
``questions/`` and ``references/`` files. For a few headline questions the briefing says "model X% |
base rate Y% (class) | market Z% (date)", marks a number given after the scenario's information cut-off
(a later number, for comparison: the model never saw it), and, where the model and the latest market,
expert or crowd number differ by more than a margin, gives one line of reason from the run's own
diagnostics (who is the binding veto player, how often no round was held).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from sim.analysis.diagnostics import diagnostics
from sim.analysis.rundir import RunData, scenario_data

#: Questions the briefing shows, in order, when the run answers them and a reference speaks to them.
HEADLINE_QUESTIONS = ("any_agreement_by_2026_12_31", "comprehensive_deal_by_2026_12_31",
                      "any_agreement_by_2026_06_30")
#: Difference (in probability) between the model and the latest crowd number that calls for a reason.
MARGIN = 0.15
#: Reference kinds that are forecasts of people, not base rates ("the crowd" in the briefing).
CROWD_KINDS = ("market", "expert", "crowd")
#: Names of the kinds in sentences.
KIND_WORDS = {"base_rate": "base rate", "market": "market", "expert": "experts", "crowd": "crowd"}


def run_references(run: RunData) -> dict[str, Any]:
    """Return ``references`` of summary.json, computed from the run and the repository's files if absent."""
    refs = run.summary.get("references")
    if isinstance(refs, dict):
        return refs
    from sim.batch.answers import load_default, references_block

    try:
        questions, references = load_default()
    except Exception:  # noqa: BLE001 - a bad questions file must not stop a report; validate shows it
        return {}
    if not questions or not references:
        return {}
    return references_block(run.runs, scenario_data(run.manifest), questions, references,
                            run.manifest.get("draws"))


def _pct(p: float) -> str:
    return f"{100 * p:.0f}%"


def _date(text: str) -> str:
    d = dt.date.fromisoformat(text)
    return f"{d.day} {d.strftime('%b %Y')}"


def latest_crowd(rec: Mapping[str, Any]) -> dict[str, Any] | None:
    """Return the latest market, expert or crowd number on a question (after the cut-off too), or None."""
    crowd = [r for r in rec.get("references", []) if r.get("kind") in CROWD_KINDS]
    return max(crowd, key=lambda r: (r["date"], r["id"])) if crowd else None


def comparison_line(rec: Mapping[str, Any]) -> str:
    """``Any agreement by 31 Dec 2026: model 12% | base rate 44% (class) | market 27% (27 Apr 2026, ...)``.

    The first base rate listed (the references file lists the closest reference class first) and the
    latest crowd number are shown.
    """
    title = str(rec.get("label") or rec.get("wording", ""))
    parts = [f"{title}: model {_pct(rec['model']['p'])}"]
    base = [r for r in rec.get("references", []) if r.get("kind") == "base_rate"]
    if base:
        b = base[0]
        cls = str(b.get("class", "")).split(":")[0].split(",")[0]
        parts.append(f"base rate {_pct(b['value'])} ({cls})")
    c = latest_crowd(rec)
    if c is not None:
        after = ", after cut-off" if c.get("after_cutoff") else ""
        parts.append(f"{KIND_WORDS.get(c['kind'], c['kind'])} {_pct(c['value'])} ({_date(c['date'])}{after})")
    return " | ".join(parts)


def divergence_reason(runs: pd.DataFrame, model_p: float, crowd_p: float, margin: float = MARGIN,
                      names: Mapping[str, str] | None = None, against: str = "the crowd") -> str:
    """One line of reason from the run's diagnostics when model and crowd differ by more than ``margin``.

    Lower than the crowd: who is the binding veto player (the party with least to gain at the last
    round) and in what share of runs, and the share of runs without a round (when any). Higher: the share
    of runs in which the mediator pulled a lever and the median number of rounds. ``""`` within the
    margin. ``names`` maps actor ids to names (the scenario's ``actors.ID.name``); ``against`` names who
    gave the number compared with.
    """
    if abs(model_p - crowd_p) <= margin:
        return ""
    d = diagnostics(runs)
    rounds = runs.get("n_rounds")
    no_round = float((rounds.to_numpy(dtype=float) == 0).mean()) if rounds is not None and len(runs) else 0.0
    if model_p < crowd_p:
        bits = []
        if not d.binding_veto.empty:
            who, share = str(d.binding_veto.index[0]), float(d.binding_veto.iloc[0])
            who = (names or {}).get(who, who)
            bits.append(f"{who} is the binding veto player in {_pct(share)} of runs with a round")
        if no_round >= 0.005:
            bits.append(f"no round is held in {_pct(no_round)} of runs")
        head = f"Why the model is lower ({_pct(model_p)} vs {against} {_pct(crowd_p)})"
        return f"{head}: " + "; ".join(bits) + "."
    head = f"Why the model is higher ({_pct(model_p)} vs {against} {_pct(crowd_p)})"
    return f"{head}: the mediator pulls a lever in {_pct(d.lever_share)} of runs; median " \
        f"{d.rounds_median:.0f} rounds."


def reference_lines(run: RunData, questions: Sequence[str] = HEADLINE_QUESTIONS, n: int = 2,
                    margin: float = MARGIN) -> list[str]:
    """Return the briefing's lines: up to ``n`` headline comparisons, then at most one line of reason.

    The reason is given for the first shown question whose model number differs from the latest crowd
    number by more than ``margin``. Empty when the run answers none of the questions.
    """
    refs = run_references(run)
    actors = scenario_data(run.manifest).get("actors", {})
    names = {str(k): str(v.get("name", k)).split(" (")[0] for k, v in actors.items() if isinstance(v, dict)}
    chosen = [q for q in questions if q in refs and refs[q].get("model", {}).get("p") is not None][:n]
    lines = [comparison_line(refs[q]) for q in chosen]
    for q in chosen:
        c = latest_crowd(refs[q])
        if c is None:
            continue
        against = KIND_WORDS.get(c["kind"], c["kind"])
        why = divergence_reason(run.runs, float(refs[q]["model"]["p"]), float(c["value"]), margin, names,
                                against)
        if why:
            lines.append(why)
            break
    return lines
