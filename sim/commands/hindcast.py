"""`negsim hindcast DIR --facts FILE...`: a run against the record, fact by fact."""

from __future__ import annotations

import argparse


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``negsim hindcast`` (cheap: no heavy imports here)."""
    p = sub.add_parser(
        "hindcast",
        help="a run against the record: each fact, the model's distribution, the observation, plausible?",
        description="Compare a run (typically of scenarios/hindcast_2025.yaml) with facts files: for each "
        "fact the distribution of its statistic over the run's replicates, the observed value and its "
        "implausibility under the run, I = |z - E f| / sqrt(V_obs + V_md + V f); plausible when I <= 3 "
        "(docs/calibration.md). Prints a Markdown table and writes it to DIR/hindcast.md.",
    )
    p.add_argument("run_dir", metavar="DIR", help="run directory written by `negsim run`")
    p.add_argument("--facts", nargs="+", required=True, metavar="FILE", help="facts files (facts/2025.yaml)")
    p.set_defaults(handler=main)


def main(args: argparse.Namespace) -> int:
    """Print the table and write DIR/hindcast.md."""
    import datetime as dt
    from pathlib import Path

    from sim.analysis.rundir import load_run, scenario_data
    from sim.calibration.facts import check_columns, load_facts
    from sim.calibration.hindcast import fact_table, markdown
    from sim.errors import UserError

    run = load_run(args.run_dir)
    facts = load_facts(args.facts)
    check_columns(facts, run.runs.columns)
    start = (scenario_data(run.manifest).get("scenario") or {}).get("start_date")
    if not start:
        raise UserError(f"negsim hindcast: {args.run_dir}/manifest.json has no scenario start_date")
    table = fact_table(facts, run.runs, dt.date.fromisoformat(str(start)))
    text = (f"Run {Path(args.run_dir).name} (scenario {run.scenario_id}, {len(run.runs):,} replicates) "
            f"against {', '.join(args.facts)}; I: implausibility of the observation under the run "
            "(plausible: I <= 3).\n\n" + markdown(table))
    print(text, end="")
    out = Path(args.run_dir) / "hindcast.md"
    out.write_text(text, encoding="utf-8")
    n_bad = int((~table["plausible"]).sum())
    print(f"\n{len(table) - n_bad} of {len(table)} observations plausible under the run; written: {out}")
    return 0
