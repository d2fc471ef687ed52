"""`negsim trace SCENARIO [--seed S] [--weeks N]`: one replicate told week by week in plain English."""

from __future__ import annotations

import argparse


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register the subcommand (cheap: no heavy imports)."""
    p = sub.add_parser(
        "trace",
        help="one replicate, week by week, as a readable narrative",
        description="Simulate one replicate of SCENARIO (one parameter draw, one path; the same code as a "
        "batch with R = 1) and tell it week by week: events, the front line, each round's text, who "
        "accepted, who refused and by how much, levers, partial agreements, and the outcome.",
    )
    p.add_argument("scenario", metavar="SCENARIO", help="scenario YAML file")
    p.add_argument("--seed", type=int, default=1, help="root seed (default 1)")
    p.add_argument(
        "--weeks", type=float, default=None, help="stop after N weeks (default: the scenario horizon)"
    )
    p.set_defaults(handler=main)


def main(args: argparse.Namespace) -> int:
    """Load the scenario, draw one parameter set and narrate one path."""
    import numpy as np

    from sim.errors import UserError
    from sim.model.model import NegotiationModel
    from sim.model.narrative import narrate
    from sim.scenario import load_scenario, materialise, sample_parameters

    if args.seed is not None and args.seed < 0:
        raise UserError("negsim trace: --seed must be a non-negative integer")
    if args.weeks is not None and args.weeks <= 0:
        raise UserError("negsim trace: --weeks must be positive")
    sc = load_scenario(args.scenario)
    root = np.random.SeedSequence(args.seed)
    param_seq, model_seq = root.spawn(2)
    draws = sample_parameters(sc, 1, param_seq)
    params = materialise(sc, draws, np.array([0]))
    model = NegotiationModel(params, 1, model_seq, collect=False)
    print(f"negsim trace: scenario {sc.id} ({sc.path}), seed {args.seed}")
    for line in narrate(model, args.weeks):
        print(line)
    return 0
