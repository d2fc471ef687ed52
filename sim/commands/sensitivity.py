"""`negsim sensitivity SCENARIO`: global sensitivity of the outcome probabilities (SALib), tornado chart."""

from __future__ import annotations

import argparse


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``negsim sensitivity`` (cheap: no heavy imports here)."""
    p = sub.add_parser(
        "sensitivity",
        help="global sensitivity of the outcome probabilities (Morris or Sobol'); tornado chart",
        description="Vary the scenario's uncertain parameters over a Morris or Sobol' design in the unit "
        "cube (each coordinate mapped through the parameter's quantile function; parameters left out sit at "
        "their median), run every design point with P paths through the batch engine, and rank the "
        "parameters by their effect on the probability of each outcome at 52 and 104 weeks. Writes "
        "sensitivity.csv and a tornado chart.",
    )
    p.add_argument("scenario", metavar="SCENARIO", help="scenario YAML file")
    p.add_argument("--method", choices=("morris", "sobol"), default="morris", help="default morris")
    p.add_argument(
        "--trajectories", type=int, default=10, metavar="N", help="Morris trajectories (default 10)"
    )
    p.add_argument(
        "--samples",
        type=int,
        default=64,
        metavar="N",
        help="Sobol' base sample N (runs N(k+2) design points; default 64)",
    )
    p.add_argument(
        "--paths", type=int, default=50, metavar="P", help="replicates per design point (default 50)"
    )
    p.add_argument(
        "--params",
        default=None,
        metavar="GLOBS",
        help="comma-separated glob patterns of parameter paths to vary (default: all uncertain)",
    )
    p.add_argument(
        "--top-from",
        default=None,
        metavar="CSV",
        help="vary only the --top most influential parameters of an earlier sensitivity.csv (Morris, then "
        "Sobol' on the top ones: memo 4.2)",
    )
    p.add_argument("--top", type=int, default=20, metavar="K", help="with --top-from: how many (default 20)")
    p.add_argument("--horizons", default="52,104", metavar="W,W", help="outcome horizons in weeks")
    p.add_argument("--seed", type=int, default=1, metavar="S", help="seed of the design and of the runs")
    p.add_argument(
        "--out",
        default=None,
        metavar="DIR",
        help="output directory (default results/sensitivity-<scenario>-<method>-<timestamp>/)",
    )
    p.add_argument(
        "--crn",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="common random numbers across design points (default): each point is run alone with the same "
        "streams, so indices carry almost no Monte Carlo noise; --no-crn batches the points (several times "
        "faster for few paths) and reports the noise floor instead",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(handler=main)


def main(args: argparse.Namespace) -> int:
    """Run the design, write sensitivity.csv and the tornado chart, print the top parameters."""
    import json
    import time
    from pathlib import Path

    from sim.analysis.negsim_model import NegsimModel
    from sim.analysis.sensitivity import morris_indices, sobol_indices, top_parameters
    from sim.charts.style import Footer, save_figure
    from sim.charts.tornado import plot_tornado, tornado_chart_data
    from sim.errors import UserError
    from sim.scenario import load_scenario

    for name in ("trajectories", "samples", "paths"):
        if getattr(args, name) < 1:
            raise UserError(f"--{name} {getattr(args, name)}: expected a positive integer")
    try:
        horizons = [int(x) for x in args.horizons.split(",") if x.strip()]
    except ValueError as err:
        raise UserError(f"--horizons {args.horizons}: expected weeks separated by commas") from err
    sc = load_scenario(args.scenario)
    include = [g.strip() for g in args.params.split(",")] if args.params else None
    if args.top_from:
        include = (include or []) + _top_from(args.top_from, args.top, max(horizons))
    model = NegsimModel(
        sc,
        paths=args.paths,
        seed=args.seed,
        include=include,
        horizons=horizons,
        progress=not args.quiet,
        crn=args.crn,
    )
    k = len(model.names)
    points = args.trajectories * (k + 1) if args.method == "morris" else args.samples * (k + 2)
    print(
        f"{args.method}: {k} parameters, {points:,} design points x {args.paths} paths = "
        f"{points * args.paths:,} runs"
    )
    t0 = time.time()
    if args.method == "morris":
        table = morris_indices(
            model,
            model.names,
            model.output_names,
            trajectories=args.trajectories,
            seed=args.seed,
            paths=None if args.crn else args.paths,
        )
    else:
        table = sobol_indices(
            model,
            model.names,
            model.output_names,
            samples=args.samples,
            seed=args.seed,
            paths=None if args.crn else args.paths,
        )
    stamp = time.strftime("%Y%m%d-%H%M%S")
    out = Path(args.out) if args.out else Path("results") / f"sensitivity-{sc.id}-{args.method}-{stamp}"
    out.mkdir(parents=True, exist_ok=True)
    table.to_csv(out / "sensitivity.csv", index=False)
    key = f"comprehensive_deal@{max(horizons)}w"
    footer = Footer(scenario=sc.id, run_id=out.name, n=points * args.paths, date=time.strftime("%Y-%m-%d"))
    paths = save_figure(plot_tornado(tornado_chart_data(table, key), footer=footer), out / "tornado")
    (out / "sensitivity.json").write_text(
        json.dumps(
            {
                "scenario": str(args.scenario),
                "method": args.method,
                "seed": args.seed,
                "paths": args.paths,
                "crn": args.crn,
                "trajectories": args.trajectories if args.method == "morris" else None,
                "samples": args.samples if args.method == "sobol" else None,
                "parameters": model.names,
                "outputs": model.output_names,
                "design_points": points,
                "seconds": round(time.time() - t0, 1),
                "mapping": "unit cube -> each marginal's quantile function; others at median; no copula",
            },
            indent=2,
        )
    )
    print(f"top parameters for P({key}):")
    col = "ST" if args.method == "sobol" else "mu_star"
    top = top_parameters(table, key, 5)
    floor = float(top["noise_floor"].iloc[0]) if "noise_floor" in top and len(top) else float("nan")
    for r in top.itertuples():
        flag = "  (within Monte Carlo noise)" if getattr(r, col) <= 1.5 * floor else ""
        print(f"  {r.parameter:<50} {col} = {getattr(r, col):.3f}{flag}")
    if args.crn:
        print(
            "  common random numbers: differences between design points carry (almost) no Monte Carlo noise"
        )
    else:
        print(
            f"  noise floor ({args.paths} paths per point): {col} of a parameter with no effect ~ {floor:.3f}"
        )
    print(f"written: {out / 'sensitivity.csv'}, {', '.join(str(p) for p in paths)}")
    print("copy sensitivity.csv into a run directory to rank its assumptions in `negsim report`")
    return 0


def _top_from(path: str, k: int, horizon: int) -> list[str]:
    """Names of the ``k`` most influential parameters for a comprehensive deal in an earlier table."""
    from pathlib import Path

    import pandas as pd

    from sim.analysis.sensitivity import top_parameters
    from sim.errors import UserError

    if not Path(path).is_file():
        raise UserError(f"--top-from {path}: no such file")
    try:
        table = pd.read_csv(path)
        key = f"comprehensive_deal@{horizon}w"
        if key not in set(table["outcome"]):
            key = str(table["outcome"].iloc[0])
        return list(top_parameters(table, key, k)["parameter"])
    except (KeyError, ValueError, pd.errors.ParserError) as err:
        raise UserError(f"--top-from {path}: not a sensitivity.csv ({err})") from err
