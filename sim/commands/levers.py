"""`negsim levers SCENARIO`: named interventions against a scenario, with paired effects and verdicts.

Runs the scenario and every lever of a levers file with common random numbers, writes ``levers.csv`` and
a tornado chart per outcome, and prints one line per lever that flags every effect contradicting the
lever's stated expectation and every expectation the run cannot confirm.
"""

from __future__ import annotations

import argparse

DEFAULT_LEVERS = "levers/baseline.yaml"


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``negsim levers`` (cheap: no heavy imports here)."""
    p = sub.add_parser(
        "levers",
        help="what-if: named interventions against a scenario, checked against their expected direction",
        description="Run SCENARIO and every lever of a levers file (small overlays, each with a question "
        "and an expected direction on named outcomes, with sources) with the same seed and size, so "
        "replicate i pairs across all runs (common random numbers). Writes OUT/base and OUT/<lever> run "
        "directories, OUT/levers.csv (lever, outcome, horizon, effect in points with 95% interval, "
        "expected sign, consistent yes/no/unclear) and tornado charts OUT/levers-<outcome>.png/.svg, and "
        "prints one line per lever: CONTRADICTS expectation when an interval excludes zero on the other "
        "side, 'cannot confirm' when it spans zero. See docs/levers.md.",
    )
    p.add_argument("scenario", metavar="SCENARIO", help="scenario YAML file the levers apply to")
    p.add_argument("--levers", default=DEFAULT_LEVERS, metavar="FILE",
                   help=f"levers YAML file (default {DEFAULT_LEVERS})")
    p.add_argument("--runs", type=int, default=2000, metavar="N",
                   help="replicates per run, the same for the scenario and every lever (default 2000)")
    p.add_argument("--seed", type=int, default=1, metavar="S",
                   help="root seed shared by every run (default 1)")
    p.add_argument("--out", default=None, metavar="DIR",
                   help="output directory (default results/levers-<scenario>-<YYYYmmdd-HHMMSS>/)")
    p.add_argument("--workers", type=int, default=None, metavar="W",
                   help="local worker processes (default: number of cores; 1 = in this process)")
    p.add_argument("--scheduler", default=None, metavar="ADDR",
                   help="Dask scheduler address, e.g. tcp://host:8786 (instead of local processes)")
    p.add_argument("--block-size", type=int, default=None, metavar="B",
                   help="replicates per block, the same for every run (default: whole draws, 1000-5000 "
                   "replicates, >= 8 blocks)")
    p.add_argument("--resume", action="store_true",
                   help="complete an interrupted levers run in --out (finished runs are kept)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(handler=main)


def main(args: argparse.Namespace) -> int:
    """Validate the levers file, run everything, write the table and charts, print one line per lever."""
    from datetime import datetime
    from pathlib import Path

    from sim.analysis.lever_runs import effect_table, run_levers
    from sim.analysis.leverfile import load_levers
    from sim.errors import UserError

    if args.runs is not None and args.runs < 1:
        raise UserError(f"--runs must be a positive integer (got {args.runs})")
    if args.resume and args.out is None:
        raise UserError("--resume needs --out: the directory of the interrupted levers run")
    levers = load_levers(args.levers, args.scenario)
    out = Path(args.out) if args.out else Path("results") / (
        f"levers-{levers.base.id}-{datetime.now().strftime('%Y%m%d-%H%M%S')}")
    runs = run_levers(levers, out, runs=args.runs, seed=args.seed, workers=args.workers,
                      scheduler=args.scheduler, resume=args.resume, quiet=args.quiet,
                      block_size=args.block_size)
    table = effect_table(levers, runs)
    paths = write_outputs(levers, runs, table)
    print(report(levers, table, runs.plan.runs if runs.plan else args.runs, args.seed))
    print(f"written: {', '.join(str(p) for p in paths)}")
    return 0


def write_outputs(levers, runs, table) -> list:
    """Write ``levers.csv`` and one tornado chart per outcome at the last horizon; return the paths."""
    from sim.analysis.lever_runs import write_table
    from sim.analysis.rundir import load_run
    from sim.charts.style import Footer, save_figure
    from sim.charts.tornado import effect_tornado_data, plot_effect_tornado

    csv = write_table(table, runs.out / "levers.csv")
    base = load_run(runs.base)
    footer = Footer(scenario=f"{levers.base.id} with levers from {levers.path}", run_id=runs.out.name,
                    n=len(base.runs), date=base.date)
    labels = {lv.name: lv.label for lv in levers.levers}
    horizon = int(table.loc[table["unit"] == "percentage points", "horizon"].max())
    paths = [csv]
    for outcome in table["outcome"].unique():
        h = horizon if outcome in set(table.loc[table["unit"] == "percentage points", "outcome"]) else int(
            table.loc[table["outcome"] == outcome, "horizon"].max())
        fig = plot_effect_tornado(effect_tornado_data(table, outcome, h, labels), footer=footer)
        paths.extend(save_figure(fig, runs.out / f"levers-{outcome}"))
    return paths


def report(levers, table, runs: int, seed: int) -> str:
    """Return the printed result: each lever's effects at the last horizon, then one verdict line per lever.

    The full table (every horizon) is ``levers.csv``.
    """
    from sim.analysis.levers import lever_line

    pp = table[table["unit"] == "percentage points"]
    h = int(pp["horizon"].max())
    cols = [*dict.fromkeys(pp["outcome"]), *dict.fromkeys(table.loc[table["unit"] != "percentage points",
                                                                    "outcome"])]
    short = {"comprehensive_deal": "deal", "ceasefire": "ceasefire", "continued_war": "war",
             "collapse_escalation": "collapse"}
    lines = [f"levers on {levers.base.id}: {runs} runs each, seed {seed}, paired (common random numbers). "
             f"Effect at {h} weeks in percentage points (settle_*: hundredths of the issue scale, over "
             "replicates that settle in both runs) with 95% interval; * expected sign confirmed, "
             "! contradicted, ? not confirmed. Every horizon: levers.csv",
             "  " + f"{'lever':<28}" + "".join(f"{short.get(c, c):>25}" for c in cols)]
    mark = {"yes": "*", "no": "!", "unclear": "?", "": " "}
    for lv in levers.levers:
        rows = table[(table["lever"] == lv.name) & ((table["horizon"] == h) | (table["unit"] != "percentage "
                                                                                "points"))]
        cells = []
        for c in cols:
            r = rows[rows["outcome"] == c]
            if r.empty:
                cells.append("")
                continue
            r = r.iloc[0]
            sign = f"{r['expected']}{mark[str(r['consistent'])]}" if r["expected"] else ""
            d = 1 if r["unit"] == "percentage points" else 2
            cells.append(f"{r['effect']:>+6.{d}f} [{r['lo']:>+5.{d}f},{r['hi']:>+5.{d}f}]{sign:>3}")
        lines.append("  " + f"{lv.name:<28}" + "".join(f"{c:>25}" for c in cells))
    lines.append("")
    for lv in levers.levers:
        lines.append(lever_line(lv.name, lv.label, table[table["lever"] == lv.name]))
    return "\n".join(lines)
