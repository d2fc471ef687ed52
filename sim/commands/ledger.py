"""`negsim ledger add|resolve|score`: an append-only ledger of dated forecasts, resolved and scored.

``add RUN_DIR --questions FILE`` freezes the run's probability for each question it can answer;
``resolve FILE`` records how questions resolved; ``score`` prints Brier and log scores of the model's
entries and of the reference forecasts on the same questions, and draws a reliability diagram
(``docs/forecasting.md``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (expected YYYY-MM-DD)") from None


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``negsim ledger`` and its three actions (cheap: no heavy imports here)."""
    p = sub.add_parser(
        "ledger",
        help="append-only ledger of dated forecasts for resolvable questions; Brier and log scores",
        description="An append-only forecast ledger (default: the repository's ledger/): add a run's "
        "forecasts for resolvable questions, record resolutions, score the resolved ones (Brier, log score, "
        "reliability) beside the reference forecasts. Lines are only appended, never rewritten.",
    )
    acts = p.add_subparsers(dest="action", metavar="ACTION")
    acts.required = True
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--ledger", default=None, metavar="DIR", help="ledger directory (default: ledger/ "
                        "of the repository)")
    common.add_argument("--questions", nargs="+", default=None, metavar="FILE",
                        help="questions files (default: questions/*.yaml of the repository)")

    a = acts.add_parser("add", parents=[common], help="freeze a run's probability for each question",
                        description="Append the run's probability (with its 95% interval across parameter "
                        "draws) for each question it can answer, dated by the scenario's information cut-off "
                        "(or --as-of). Refuses a (question, run) already in the ledger, and questions the "
                        "run "
                        "cannot answer (beyond its horizon, a missing record) or that resolve by that date.")
    a.add_argument("run_dir", metavar="RUN_DIR", help="run directory written by `negsim run`")
    a.add_argument("--as-of", type=_date, default=None, metavar="DATE",
                   help="registration date (default: the scenario's info_cutoff; not earlier than it)")
    a.set_defaults(handler=main_add)

    r = acts.add_parser("resolve", parents=[common], help="record how questions resolved",
                        description="Validate a resolutions file (question, value 0/1, date, source) and "
                        "append the new resolutions to resolutions.jsonl; a resolution that contradicts one "
                        "recorded is refused and nothing is appended.")
    r.add_argument("file", metavar="FILE", help="resolutions YAML file (e.g. ledger/resolutions.yaml)")
    r.set_defaults(handler=main_resolve)

    s = acts.add_parser("score", parents=[common], help="Brier and log scores, reliability diagram",
                        description="Score every resolved forecast of the ledger, and the reference "
                        "forecasts on the same questions dated on or before the entry's registration: Brier "
                        "(p-o)^2 and "
                        "log score (ln of the probability given to what happened, p clipped into "
                        "[1e-6, 1-1e-6]); means per source; a reliability diagram (10 equal-width bins).")
    s.add_argument("--references", nargs="*", default=None, metavar="FILE",
                   help="references files (default: references/*.yaml of the repository; given without a "
                   "file: score the ledger's forecasts alone)")
    s.add_argument("--out", default=None, metavar="STEM",
                   help="reliability diagram path without suffix (default: LEDGER/reliability; PNG and SVG)")
    s.add_argument("--bins", type=int, default=10, metavar="N", help="reliability bins (default 10)")
    s.set_defaults(handler=main_score)


def _ledger(args: argparse.Namespace) -> Path:
    from sim.analysis.ledger import default_ledger

    return Path(args.ledger) if args.ledger else default_ledger()


def _questions(args: argparse.Namespace):
    from sim.errors import UserError
    from sim.scenario.questions import default_files, load_questions

    files = args.questions if args.questions is not None else default_files("questions")
    if not files:
        raise UserError("no questions files: give --questions FILE (or add questions/*.yaml)")
    return load_questions(files)


def main_add(args: argparse.Namespace) -> int:
    """Append a run's forecasts; print what was added and what was refused and why."""
    from sim.analysis.ledger import add_forecasts, forecast_entries
    from sim.analysis.rundir import load_run
    from sim.errors import UserError

    questions = _questions(args)
    ledger = _ledger(args)
    run = load_run(args.run_dir)
    res = add_forecasts(ledger, forecast_entries(run, questions, args.as_of))
    for e in res.added:
        print(f"added {e['question']}: p = {e['p']:.3f} [{e['lo']:.3f}, {e['hi']:.3f}] registered "
              f"{e['registered']} (run {e['run']})")
    for why in res.refused:
        print(f"refused {why}", file=sys.stderr)
    if not res.added:
        raise UserError(f"nothing added to {ledger}")
    print(f"{len(res.added)} forecast(s) appended to {ledger}/forecasts.jsonl")
    return 0


def main_resolve(args: argparse.Namespace) -> int:
    """Append resolutions; refuse contradictions."""
    from sim.analysis.ledger import add_resolutions
    from sim.scenario.questions import load_resolutions

    questions = _questions(args)
    ledger = _ledger(args)
    resolutions = load_resolutions(args.file, questions)
    fresh, same = add_resolutions(ledger, resolutions, args.file)
    for r in fresh:
        print(f"resolved {r['question']} = {r['value']} ({r['date']})")
    if same:
        print(f"already recorded: {', '.join(same)}")
    print(f"{len(fresh)} resolution(s) appended to {ledger}/resolutions.jsonl")
    return 0


def main_score(args: argparse.Namespace) -> int:
    """Print the scores and write the reliability diagram."""
    from sim.analysis.ledger import (
        FORECASTS,
        RESOLUTIONS,
        format_scores,
        read_jsonl,
        score_means,
        score_table,
    )
    from sim.charts.reliability import plot_reliability, reliability_chart_data
    from sim.charts.style import Footer, save_figure
    from sim.errors import UserError
    from sim.scenario.questions import default_files, load_references

    if args.bins < 1:
        raise UserError(f"--bins: {args.bins} (expected a positive number of bins)")
    ledger = _ledger(args)
    entries = read_jsonl(ledger / FORECASTS)
    if not entries:
        raise UserError(f"{ledger / FORECASTS}: no forecasts (add some with `negsim ledger add RUN_DIR`)")
    resolutions = read_jsonl(ledger / RESOLUTIONS)
    questions = _questions(args)
    rfiles = args.references if args.references is not None else default_files("references")
    references = load_references(rfiles, questions) if rfiles else []
    table = score_table(entries, resolutions, references)
    resolved = {r["question"] for r in resolutions}
    pending = sum(e["question"] not in resolved for e in entries)
    print(format_scores(table, score_means(table), pending))
    if not table.empty:
        fig = plot_reliability(reliability_chart_data(table, args.bins),
                               footer=Footer(source=f"negsim forecast ledger: {len(table)} scored forecasts "
                                             f"on {table['question'].nunique()} resolved questions"))
        paths = save_figure(fig, args.out or ledger / "reliability")
        print(f"reliability diagram: {', '.join(str(p) for p in paths)}")
    return 0
