"""`negsim report DIR`: the chart set (PNG and SVG) and a one-page briefing PDF into a run directory."""

from __future__ import annotations

import argparse


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``negsim report`` (cheap: no heavy imports here)."""
    p = sub.add_parser(
        "report",
        help="charts (PNG and SVG) and a one-page briefing PDF for a run",
        description="Draw the standard charts of a run directory (outcome probabilities, agreement over "
        "time, settlements, drivers) as PNG and SVG, and a one-page A4 briefing.pdf with the headline in "
        "ICD 203 probability words, the key charts and the assumptions that matter most with their sources.",
    )
    p.add_argument("run_dir", metavar="DIR", help="run directory written by `negsim run`")
    p.add_argument("--out", default=None, metavar="OUTDIR", help="where to write (default: DIR/report/)")
    p.set_defaults(handler=main)


def main(args: argparse.Namespace) -> int:
    """Write the charts and the briefing through :mod:`sim.api`; print what was written and the headline."""
    from sim.api import load, write_report

    run = load(args.run_dir)
    rep = write_report(run, args.out)
    from sim.charts.briefing import calibration_line

    print(f"report for run {run.run_id} ({len(run):,} replicates) in {rep.out}/")
    print(f"  {calibration_line(run.summary)}")
    for line in rep.headlines:
        print(f"  {line}")
    if rep.references:
        print("beside other forecasts:")
        for line in rep.references:
            print(f"  {line}")
    print("written:")
    for name, paths in rep.charts.items():
        print(f"  {name}: {', '.join(p.name for p in paths)}")
    print(f"  briefing: {rep.pdf.name}")
    return 0
