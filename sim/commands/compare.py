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
    """Compare through :func:`sim.api.compare`; a line per outcome and horizon; write table and chart."""
    from sim.api import compare

    cmp = compare(args.dir_a, args.dir_b, paired=not args.unpaired)
    written = cmp.save(args.out)
    label_a, label_b = cmp.labels
    how = "paired, common random numbers" if not args.unpaired else "unpaired, independent samples"
    print(f"B = {label_b} ({cmp.b.path}) minus A = {label_a} ({cmp.a.path}); {how}; 95% intervals in points")
    for line in cmp.sentences():
        print("  " + line)
    print(f"written: {', '.join(str(p) for p in written)}")
    return 0
