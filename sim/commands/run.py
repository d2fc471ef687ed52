"""`negsim run`: run a scenario as a Monte Carlo batch and print where the results are and what they say.

Before the batch, a scenario whose inputs are stale (:mod:`sim.scenario.staleness`) gets a
``warning: FILE: ...`` line on stderr; ``--quiet`` (the progress bar) does not silence it, and the run
goes ahead with the exit code unchanged.
"""

from __future__ import annotations

import argparse
import sys


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``negsim run`` (cheap: no heavy imports here)."""
    p = sub.add_parser(
        "run",
        help="run a scenario as a Monte Carlo batch",
        description="Run a scenario as a two-level Monte Carlo batch (parameter draws x paths per draw) and "
                    "write runs.parquet, summary.json and manifest.json into the run directory.",
    )
    p.add_argument("scenario", metavar="SCENARIO", help="scenario YAML file")
    p.add_argument("--runs", type=int, default=None, metavar="N",
                   help="replicates = draws x paths per draw (default 2000; rounded up to whole draws)")
    p.add_argument("--draws", type=int, default=None, metavar="D",
                   help="number of parameter draws (alternative to --runs; default: runs / paths per draw)")
    p.add_argument("--paths-per-draw", type=int, default=None, metavar="P",
                   help="aleatory paths per parameter draw (default: runs/200 clamped to 10..20)")
    p.add_argument("--seed", type=int, default=1, metavar="S", help="root seed (default 1)")
    p.add_argument("--workers", type=int, default=None, metavar="W",
                   help="local worker processes (default: number of cores; 1 = in this process)")
    p.add_argument("--scheduler", default=None, metavar="ADDR",
                   help="Dask scheduler address, e.g. tcp://host:8786 (instead of local processes)")
    p.add_argument("--out", default=None, metavar="DIR",
                   help="run directory (default results/<scenario>-<YYYYmmdd-HHMMSS>/)")
    p.add_argument("--resume", action="store_true", help="complete the interrupted run in --out")
    p.add_argument("--force", action="store_true", help="overwrite a non-empty --out directory")
    p.add_argument("--block-size", type=int, default=None, metavar="B",
                   help="replicates per block (default: whole draws, 1000-5000 replicates, >= 8 blocks)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(handler=main)


def format_table(summary: dict) -> str:
    """Render the headline outcome probabilities of a summary.json as a short text table."""
    h = summary["horizon_weeks"]
    lines = [
        f"outcomes at {h} weeks ({summary['runs']} runs = {summary['draws']} parameter draws x "
        f"{summary['paths_per_draw']} paths, seed {summary['seed']}):",
        f"  {'outcome':<22}{'p':>7}   {'95% interval':<17}{'MC error only':<17}",
    ]
    for name, o in summary["outcomes"].items():
        lines.append(f"  {name:<22}{o['p']:>7.1%}   [{o['lo']:>5.1%}, {o['hi']:>5.1%}]   "
                     f"[{o['mc_lo']:>5.1%}, {o['mc_hi']:>5.1%}]")
    t = summary["time_to_agreement_weeks"]
    med = "not within the horizon" if t["median"] is None else f"{t['median']:g} weeks"
    lines.append(f"  median time to first agreement: {med}; "
                 f"agreements by week {h}: {summary['n_agreements']} of {summary['runs']}")
    lines.append("  (95% interval: spread across parameter draws, widened to at least the Monte Carlo error)")
    cal = summary.get("calibration") or {}
    if cal.get("calibrated"):
        facts = ", ".join(cal.get("facts", [])) or "(no facts named)"
        lines.append(f"  calibrated by history matching on: {facts}")
    partials = summary.get("partial_agreements") or {}
    if partials:
        lines.append("partial agreements (never a ceasefire or a deal), P(signed by week) with 95% interval:")
        for rec in partials.values():
            cells = "  ".join(f"w{h} {r['p']:>6.1%} [{r['lo']:>5.1%}, {r['hi']:>6.1%}]"
                              for h, r in rec["by_horizon"].items())
            lines.append(f"  {rec['label'][:40]:<42}{cells}")
    return "\n".join(lines)


def check_scenario(scenario: str) -> None:
    """Read ``scenario``: raise its errors (every problem, as ``negsim validate``); warn if it is stale."""
    from sim.scenario import load_scenario
    from sim.scenario.staleness import staleness_warning

    warning = staleness_warning(load_scenario(scenario), scenario)
    if warning:
        print(warning, file=sys.stderr)


def main(args: argparse.Namespace) -> int:
    """Run the batch through :func:`sim.api.run` and print the run directory and the table."""
    from sim.api import check_run_request, run
    from sim.batch.executors import default_workers, start_fork_server

    # a refusal (the options, the run directory, the scenario) comes at once, with no fork server started;
    # then the workers' imports run while this process samples the scenario
    check_run_request(args.seed, args.runs, args.draws, args.paths_per_draw, args.block_size, args.out,
                      force=args.force, resume=args.resume)
    check_scenario(args.scenario)
    if args.scheduler is None and (args.workers or default_workers()) > 1:
        start_fork_server()
    result = run(args.scenario, runs=args.runs, seed=args.seed, workers=args.workers,
                 scheduler=args.scheduler,
                 out=args.out, draws=args.draws, paths_per_draw=args.paths_per_draw,
                 block_size=args.block_size, resume=args.resume, force=args.force, quiet=args.quiet)
    print(f"run directory: {result.path}")
    print(format_table(result.summary))
    return 0
