"""`negsim compare DIR_A DIR_B`: change in outcome probabilities from run A to run B, with intervals."""

from __future__ import annotations

import argparse


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``negsim compare`` (cheap: no heavy imports here)."""
    p = sub.add_parser(
        "compare",
        help="differences in outcome probabilities between two runs (common random numbers)",
        description="Compare two run directories: B minus A for every outcome at every horizon, with 95% "
        "intervals. By default replicate i of A is paired with replicate i of B (common random numbers: "
        "both runs must have the same seed and size); --unpaired compares independent samples.",
    )
    p.add_argument("dir_a", metavar="DIR_A", help="baseline run directory")
    p.add_argument("dir_b", metavar="DIR_B", help="variant run directory")
    p.add_argument("--unpaired", action="store_true", help="independent two-sample intervals (no pairing)")
    p.add_argument(
        "--out",
        default=None,
        metavar="OUTDIR",
        help="where to write comparison.csv and the chart (default: DIR_B/compare-<name of A>/)",
    )
    p.set_defaults(handler=main)


def main(args: argparse.Namespace) -> int:
    """Compare, print one plain-language line per outcome and horizon, write the table and chart."""
    from pathlib import Path

    from sim.analysis.compare import compare_runs
    from sim.analysis.rundir import load_run
    from sim.analysis.words import change_sentence
    from sim.charts.comparison import comparison_chart_data, plot_comparison
    from sim.charts.style import Footer, save_figure

    a = load_run(args.dir_a)
    b = load_run(args.dir_b)
    table = compare_runs(a, b, paired=not args.unpaired)
    label_a, label_b = _labels(a, b)
    out = Path(args.out) if args.out else b.path / f"compare-{a.path.name}"
    out.mkdir(parents=True, exist_ok=True)
    table.to_csv(out / "comparison.csv", index=False)
    footer = Footer(
        scenario=f"{label_a} vs {label_b}", run_id=f"{a.run_id} vs {b.run_id}", n=len(b.runs), date=b.date
    )
    paths = save_figure(
        plot_comparison(comparison_chart_data(table, label_a, label_b), footer=footer), out / "comparison"
    )
    how = "paired, common random numbers" if not args.unpaired else "unpaired, independent samples"
    print(f"B = {label_b} ({b.path}) minus A = {label_a} ({a.path}); {how}; 95% intervals in points")
    for r in table.itertuples():
        print("  " + change_sentence(r.outcome, int(r.horizon), r.diff, r.lo, r.hi, label_b))
    print(f"written: {out / 'comparison.csv'}, {', '.join(str(p) for p in paths)}")
    return 0


def _labels(a, b) -> tuple[str, str]:
    """Scenario ids, or directory names when both runs share a scenario id."""
    la, lb = a.scenario_id, b.scenario_id
    if la == lb:
        la, lb = a.path.name, b.path.name
    return la, lb
