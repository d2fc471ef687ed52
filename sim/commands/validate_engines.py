"""`negsim validate-engines`: score every engine against real EU outcomes (DEU III) and write the page.

Runs ``compromise``, ``nash``, ``bdm_scholz`` and ``ktab_smp`` on ``deu3/deu3_train.csv``, scores them
against ``deu3_train_outcomes.csv`` next to the simple baselines, fits calibrated variants on one half of
the cases and scores them on the other (fixed split, cluster bootstrap, 500 random grouped splits), prints
the parameters fitted on all cases (``CALIBRATED_LAMBDA`` of the ``calibrated`` engine comes from here), and
writes ``docs/validation.md``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

DEFAULT_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "validation"


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register the subcommand."""
    p = sub.add_parser(
        "validate-engines",
        help="score the bargaining engines against real EU outcomes (DEU III) and write docs/validation.md",
        description="Score every engine and the simple baselines on DEU III against the real outcomes, "
        "test calibrated variants out of sample, and write a Markdown page with the tables.",
    )
    p.add_argument(
        "--data",
        metavar="DIR",
        default=str(DEFAULT_DATA),
        help="validation folder holding deu3/ (default: ../shared/validation next to the project)",
    )
    p.add_argument("--out", metavar="FILE", default="docs/validation.md", help="Markdown page to write")
    p.add_argument(
        "--engines",
        nargs="+",
        choices=("compromise", "nash", "bdm_scholz", "ktab_smp"),
        default=["compromise", "nash", "bdm_scholz", "ktab_smp"],
        metavar="ENGINE",
        help="engines to score (default: all four: compromise nash bdm_scholz ktab_smp)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(handler=main)


#: Everything from this line on in an existing page is written by hand (the hindcast and calibration
#: sections) and is kept when the engines' report above it is rendered again.
HAND_WRITTEN = "<!-- Written by hand from here on: negsim validate-engines keeps it. -->"


def kept_sections(out: Path) -> str:
    """Return the hand-written tail of an existing page (from :data:`HAND_WRITTEN`), or nothing."""
    if not out.is_file():
        return ""
    old = out.read_text(encoding="utf-8")
    at = old.find(HAND_WRITTEN)
    return "" if at < 0 else "\n" + old[at:]


def main(args: argparse.Namespace) -> int:
    """Run the harness, write the page, print the headline table."""
    from sim.casework.validation import validate_engines
    from sim.casework.validation_page import render_markdown

    rep = validate_engines(args.data, engines=tuple(args.engines), progress=not args.quiet)
    data_arg = "" if Path(args.data).resolve() == DEFAULT_DATA.resolve() else f" --data {args.data}"
    all_engines = len(set(args.engines)) == 4
    eng_arg = "" if all_engines else " --engines " + " ".join(args.engines)
    command = f"negsim validate-engines{data_arg}{eng_arg} --out {args.out}"
    text = render_markdown(rep, command)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text + kept_sections(out), encoding="utf-8")
    for name, s in {**rep.engines, **rep.baselines}.items():
        print(f"{name:40s} MAE {s['mae']:6.2f}  median {s['median']:6.2f}")
    for name, s in rep.pooled.items():
        print(f"out of sample, {name:26s} MAE {s['mae']:6.2f}")
    for name, r in rep.repeated.items():
        print(
            f"{rep.n_splits} random splits, {name}: mean difference vs compromise {r['mean']:+.2f} "
            f"[{r['lo']:+.2f}, {r['hi']:+.2f}], wins {100 * r['win_share']:.0f}%"
        )
    for name, params in rep.full_fit.items():
        shown = ", ".join(f"{k}={v:g}" for k, v in params.items())
        print(f"fitted on all deu3_train, {name}: {shown}")
    print(f"{out}: written", file=sys.stderr)
    return 0
