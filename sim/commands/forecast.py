"""`negsim forecast DATA.csv --engine E`: run a classic bargaining engine on spatial bargaining cases.

Input: the long CSV format ``case,dimension,actor,capability,position,salience`` (``validation/README.md``).
Output: ``case,dimension,prediction`` (stdout, or ``--out``), and with ``--history`` the positions of every
actor in every round, ``case,dimension,round,actor,position`` (round 0 = the inputs); for ``ktab_smp``,
``--probabilities`` writes ``case,actor,round,probability``.
"""

from __future__ import annotations

import argparse
import sys

ENGINE_CHOICES = ("compromise", "nash", "bdm_scholz", "ktab_smp", "calibrated")


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register the subcommand."""
    p = sub.add_parser(
        "forecast",
        help="run a bargaining engine (compromise, nash, bdm_scholz, ktab_smp, calibrated) on cases in a CSV",
        description="Run a classic bargaining engine on spatial bargaining cases given as a long CSV "
        "(case,dimension,actor,capability,position,salience). Prints case,dimension,prediction. "
        "calibrated: the compromise model with its capability x salience weights shrunk toward equal "
        "weights, lambda * compromise + (1 - lambda) * plain mean per dimension, lambda fitted on DEU III "
        "(deu3_train); out of sample about as accurate as compromise, not reliably better "
        "(docs/validation.md).",
    )
    p.add_argument("data", metavar="DATA.csv", help="cases in the long CSV format")
    p.add_argument("--engine", required=True, choices=ENGINE_CHOICES, help="which engine to run")
    p.add_argument(
        "--rounds",
        type=int,
        default=None,
        metavar="N",
        help="bdm_scholz: number of rounds (default 10); ktab_smp: maximum turns (default 100, KTAB's "
        "2%% stopping rule still applies); ignored by compromise, nash and calibrated",
    )
    p.add_argument(
        "--scale",
        type=float,
        nargs=2,
        default=None,
        metavar=("LO", "HI"),
        help="ends of the issue scale (default 0 100 when all positions lie in [0, 100], else each "
        "case's range); used by ktab_smp and nash",
    )
    p.add_argument("--out", metavar="PRED.csv", default=None, help="write predictions here, not stdout")
    p.add_argument("--history", metavar="HIST.csv", default=None, help="write the position history here")
    p.add_argument(
        "--probabilities",
        metavar="PROB.csv",
        default=None,
        help="ktab_smp only: write case,actor,round,probability (the probability that each actor's "
        "position prevails, every turn)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(handler=main)


def main(args: argparse.Namespace) -> int:
    """Read the cases, run the engine over them, write predictions (and history)."""
    from sim.casework import history_frame, predictions_frame, probabilities_frame, read_cases, run_cases
    from sim.errors import UserError

    if args.rounds is not None and args.rounds < 0:
        raise UserError(f"--rounds: {args.rounds} is negative (expected a number of rounds >= 0)")
    if args.probabilities and args.engine != "ktab_smp":
        raise UserError(f"--probabilities: only ktab_smp reports probabilities, not {args.engine}")
    if args.scale is not None and not args.scale[1] > args.scale[0]:
        raise UserError(f"--scale: {args.scale[0]:g} {args.scale[1]:g} is empty (expected LO < HI)")
    cases = read_cases(args.data)
    results = run_cases(
        cases, args.engine, args.rounds, tuple(args.scale) if args.scale else None, progress=not args.quiet
    )
    pred = predictions_frame(results)
    if args.out:
        pred.to_csv(args.out, index=False, float_format="%.10g")
        print(f"{args.out}: {len(pred)} predictions ({args.engine})", file=sys.stderr)
    else:
        pred.to_csv(sys.stdout, index=False, float_format="%.10g")
    if args.history:
        hist = history_frame(results)
        hist.to_csv(args.history, index=False, float_format="%.10g")
        print(f"{args.history}: {len(hist)} rows", file=sys.stderr)
    if args.probabilities:
        prob = probabilities_frame(results)
        prob.to_csv(args.probabilities, index=False, float_format="%.10g")
        print(f"{args.probabilities}: {len(prob)} rows", file=sys.stderr)
    return 0
