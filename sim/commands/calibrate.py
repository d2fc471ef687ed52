"""`negsim calibrate SCENARIO --facts FILE...`: history matching in waves against dated facts.

Each wave is a batch run directory ``OUT/wave_<k>/``; the non-implausible draws of the last wave are
written as ``OUT/calibrated_draws.parquet`` with a variant ``OUT/<id>_calibrated.yaml`` that ``negsim
run`` accepts, and the report ``OUT/calibration.md`` with charts. See docs/calibration.md.
"""

from __future__ import annotations

import argparse


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``negsim calibrate`` (cheap: no heavy imports here)."""
    p = sub.add_parser(
        "calibrate",
        help="history matching: rule out the assumptions that cannot reproduce dated facts",
        description="History-match SCENARIO's uncertain assumptions against the facts of one or more facts "
        "files (Craig et al. 1997; Vernon et al. 2010), in waves: each wave runs --draws parameter draws "
        "x --paths paths as a batch (OUT/wave_<k>/), computes every draw's implausibility against every "
        "fact and rules out those above 3; later waves sample the prior again through Gaussian-process "
        "emulators of the waves before. Facts dated after the scenario's info_cutoff are refused (no "
        "look-ahead). Writes OUT/calibrated_draws.parquet, OUT/<scenario>_calibrated.yaml (a variant "
        "negsim run accepts), OUT/calibration.json and the report OUT/calibration.md with charts. Running "
        "it again with the same arguments keeps finished waves and completes an interrupted one.",
    )
    p.add_argument("scenario", metavar="SCENARIO", help="scenario YAML file to calibrate")
    p.add_argument("--facts", nargs="+", required=True, metavar="FILE",
                   help="facts YAML files (format in docs/calibration.md)")
    p.add_argument("--waves", type=int, default=3, metavar="K", help="number of waves (default 3)")
    p.add_argument("--draws", type=int, default=200, metavar="N",
                   help="parameter draws run per wave (default 200)")
    p.add_argument("--paths", type=int, default=16, metavar="P",
                   help="paths (replicates) per draw, for each draw's mean and ensemble variance "
                   "(default 16, at least 2)")
    p.add_argument("--seed", type=int, default=1, metavar="S", help="root seed (default 1)")
    p.add_argument("--out", default=None, metavar="DIR",
                   help="output directory (default results/calibrate-<scenario>-<YYYYmmdd-HHMMSS>/)")
    p.add_argument("--workers", type=int, default=None, metavar="W",
                   help="local worker processes (default: number of cores; 1 = in this process)")
    p.add_argument("--scheduler", default=None, metavar="ADDR",
                   help="Dask scheduler address, e.g. tcp://host:8786 (instead of local processes)")
    p.add_argument("--block-size", type=int, default=None, metavar="B",
                   help="replicates per block (default: whole draws, 1000-5000 replicates)")
    p.add_argument("--keep", nargs="+", default=(), metavar="PATH",
                   help="parameters of the facts files' 'calibrates' list the scenario keeps as it has them "
                   "(re-based there on later evidence): not carried over")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(handler=main)


def main(args: argparse.Namespace) -> int:
    """Run the waves, write the calibrated draws, scenario and report; print one line per wave."""
    from datetime import datetime
    from pathlib import Path

    from sim.calibration.run import calibrate

    out = Path(args.out) if args.out else Path("results") / (
        f"calibrate-{Path(args.scenario).stem}-{datetime.now().strftime('%Y%m%d-%H%M%S')}")
    cal = calibrate(args.scenario, args.facts, out, draws=args.draws, paths=args.paths, waves=args.waves,
                    seed=args.seed, workers=args.workers, scheduler=args.scheduler,
                    block_size=args.block_size, quiet=args.quiet, keep=tuple(args.keep))
    for w in cal.waves:
        print(f"wave {w.index}: {len(w.draws)} draws x {cal.paths} paths ({w.screened} prior draws "
              f"screened): {int(w.keep.sum())} non-implausible ({w.keep.mean():.1%})")
    print(f"calibrated on {', '.join(cal.facts.ids)}: {int(cal.final.keep.sum())} draws")
    if cal.carried is not None:
        print(f"carried into {cal.scenario.id}: {len(cal.carried)} parameter columns"
              + (f"; kept as the scenario has them: {', '.join(args.keep)}" if args.keep else ""))
    print(f"written: {', '.join(str(p) for p in cal.written if p.suffix != '.svg')}")
    return 0
