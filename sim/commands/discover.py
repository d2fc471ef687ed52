"""`negsim discover DIR --outcome NAME`: which ranges of the assumptions make an outcome likely (PRIM)."""

from __future__ import annotations

import argparse


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``negsim discover`` (cheap: no heavy imports here)."""
    p = sub.add_parser(
        "discover",
        help="scenario discovery: assumption ranges that make an outcome likely (PRIM boxes)",
        description="Scenario discovery with PRIM (Friedman & Fisher 1999) over the sampled parameters of a "
        "run: peel the parameter space towards the draws where OUTCOME is frequent, print the boxes as "
        "readable ranges with coverage and density, and draw the coverage-density trade-off.",
    )
    p.add_argument("run_dir", metavar="DIR", help="run directory with sampled parameters (param.* columns)")
    p.add_argument(
        "--outcome",
        required=True,
        metavar="NAME",
        help="comprehensive_deal | ceasefire | continued_war | collapse_escalation",
    )
    p.add_argument(
        "--horizon", type=int, default=None, metavar="W", help="horizon in weeks (default: the last)"
    )
    p.add_argument(
        "--threshold",
        type=float,
        default=None,
        metavar="P",
        help="a draw is a case of interest when P(outcome) >= P (default: use the per-draw "
        "probability itself as the target)",
    )
    p.add_argument(
        "--per-replicate",
        action="store_true",
        help="target = the outcome indicator of each replicate instead of per-draw frequencies",
    )
    p.add_argument(
        "--min-coverage",
        type=float,
        default=0.5,
        metavar="C",
        help="pick the densest box on the trajectory with at least this coverage (default 0.5)",
    )
    p.add_argument("--alpha", type=float, default=0.05, help="peeling fraction (default 0.05)")
    p.add_argument("--boxes", type=int, default=2, metavar="K", help="covering rounds (default 2)")
    p.add_argument(
        "--max-params",
        type=int,
        default=12,
        metavar="M",
        help="run PRIM on the M parameters most associated with the outcome (default 12; 0 = all)",
    )
    p.add_argument(
        "--prune",
        type=float,
        default=0.05,
        metavar="Q",
        help="lift restrictions whose quasi-p-value exceeds Q/(restrictions) (default 0.05; 0 keeps all)",
    )
    p.add_argument("--out", default=None, metavar="OUTDIR", help="where to write (default: DIR/discover/)")
    p.set_defaults(handler=main)


def main(args: argparse.Namespace) -> int:
    """Run PRIM on the run's parameters and print the boxes."""
    from pathlib import Path

    import numpy as np

    from sim.analysis.drivers import per_draw_table
    from sim.analysis.prim import preselect, prim
    from sim.analysis.rundir import OUTCOME_LABELS, OUTCOMES, PARAM_PREFIX, load_run
    from sim.charts.chartset import footer_for
    from sim.charts.prim import plot_prim, prim_chart_data
    from sim.charts.style import save_figure
    from sim.errors import UserError

    if args.outcome not in OUTCOMES:
        raise UserError(f"--outcome {args.outcome}: unknown outcome (expected one of {', '.join(OUTCOMES)})")
    run = load_run(args.run_dir)
    h = args.horizon if args.horizon is not None else max(run.horizons)
    if h not in run.horizons:
        raise UserError(f"--horizon {h}: no outcome_w{h} column (horizons in this run: {run.horizons})")
    if not run.param_columns:
        raise UserError(f"{run.path}: no sampled parameters (param.* columns); nothing to discover")
    if not 0.0 < args.min_coverage <= 1.0:
        raise UserError(f"--min-coverage {args.min_coverage}: expected a share in (0, 1]")
    if args.per_replicate:
        X = run.runs[run.param_columns].rename(columns=lambda c: c[len(PARAM_PREFIX) :])
        y = (run.runs[f"outcome_w{h}"] == args.outcome).to_numpy(dtype=float)
        unit = "replicates"
    else:
        table = per_draw_table(run.runs, args.outcome, h)
        y = table.pop("target").to_numpy(dtype=float)
        X = table.reset_index(drop=True)
        unit = "draws"
    if args.threshold is not None:
        y = (y >= args.threshold).astype(float)
    X = X.loc[:, [c for c in X.columns if X[c].nunique() > 1]]
    if X.empty or not np.any(y > 0):
        raise UserError(f"nothing to discover: no {args.outcome} at week {h} or no varying parameter")
    note = ""
    if args.max_params and X.shape[1] > args.max_params:
        n_all = X.shape[1]
        X = X[preselect(X, y, args.max_params)]
        note = f"  screened: PRIM on the {X.shape[1]} of {n_all} parameters most associated with the target"
    res = prim(X, y, alpha=args.alpha, min_coverage=args.min_coverage, n_boxes=args.boxes, prune=args.prune)
    target = (
        f"P({args.outcome}, week {h}) >= {args.threshold}"
        if args.threshold is not None
        else f"{OUTCOME_LABELS[args.outcome].capitalize()} by week {h}"
    )
    out = Path(args.out) if args.out else run.path / "discover"
    out.mkdir(parents=True, exist_ok=True)
    res.trajectory.to_csv(out / f"prim_{args.outcome}_w{h}_trajectory.csv", index=False)
    paths = save_figure(
        plot_prim(prim_chart_data(res, X, target), footer=footer_for(run)), out / f"prim_{args.outcome}_w{h}"
    )
    print(f"PRIM on {len(X):,} {unit}, target: {target}; overall density {res.base_density:.1%}")
    if note:
        print(note)
    if len(X) < max(200, 2 * X.shape[1]):
        print(
            f"  caution: {len(X)} {unit} for {X.shape[1]} parameters; boxes found in so few points are "
            "fragile: check them on a larger run"
        )
    if not res.boxes:
        print(
            "  no box: no range of the assumptions concentrates this outcome significantly "
            f"(quasi-p-value <= {args.prune})"
        )
    for i, box in enumerate(res.boxes, start=1):
        print(
            f"box {i}: density {box.density:.1%} (vs {res.base_density:.1%} overall), coverage "
            f"{box.coverage:.1%}, mass {box.mass:.1%} of {unit}"
        )
        for line in box.restrictions(X):
            print(f"  {line}")
    print(f"written: {out / f'prim_{args.outcome}_w{h}_trajectory.csv'}, {', '.join(str(p) for p in paths)}")
    return 0
