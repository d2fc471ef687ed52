"""`negsim explore [SCENARIO]`: a local what-if page on 127.0.0.1 (sim/explorer)."""

from __future__ import annotations

import argparse


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``negsim explore`` (cheap: no heavy imports here)."""
    p = sub.add_parser(
        "explore",
        help="a local what-if page in the browser",
        description="Serve a what-if page on 127.0.0.1: choose a scenario, move the assumptions that "
        "matter most (scenarios/explore/assumptions.yaml), and see the outcome probabilities of a quick "
        "batch against the unchanged scenario (same seed and size: common random numbers), with 95%% "
        "intervals, agreement over time and where the issues settle; save the edits as a validated "
        "variant file and write the briefing PDF. Stop with Ctrl-C.",
    )
    p.add_argument("scenario", metavar="SCENARIO", nargs="?", default=None,
                   help="scenario to open (default scenarios/baseline.yaml)")
    p.add_argument("--port", type=int, default=8765, metavar="P", help="port on 127.0.0.1 (default 8765)")
    p.add_argument("--runs", type=int, default=2000, metavar="N", help="replicates per run (default 2000)")
    p.add_argument("--workers", type=int, default=None, metavar="W",
                   help="worker processes for the page's runs (default: number of cores)")
    p.add_argument("--open", action="store_true", help="open the page in the default web browser")
    p.set_defaults(handler=main)


def main(args: argparse.Namespace) -> int:
    """Check the scenario, then serve the page until Ctrl-C."""
    import sys

    from sim.errors import UserError

    if args.runs < 1:
        raise UserError(f"--runs must be a positive integer (got {args.runs})")
    if not 0 < args.port < 65536:
        raise UserError(f"--port must be between 1 and 65535 (got {args.port})")
    if args.scenario is not None:
        from sim.scenario import load_scenario

        load_scenario(args.scenario)  # a bad scenario is reported here, as `negsim validate` does

    def ready(url: str) -> None:
        print(f"negsim explore: the what-if page is at {url} (Ctrl-C stops it)", flush=True)
        if args.open:
            import webbrowser

            webbrowser.open(url)

    from sim.explorer.server import serve

    try:
        serve(args.scenario, args.port, workers=args.workers, runs=args.runs, on_ready=ready)
    except KeyboardInterrupt:
        print("negsim explore: stopped", file=sys.stderr)
    return 0
