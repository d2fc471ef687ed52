"""`negsim evppi DIR [--decision DIR ...]`: what is worth finding out, from the draws a run already stored.

Without ``--decision``: each assumption's (and each named group's) share of the variance of an outcome's
probability that the assumptions explain. With ``--decision``: the runs of the options of a decision (the
same seed and runs, so the same draws), and the expected value of partial perfect information of each
assumption for choosing among them (Strong, Oakley & Brennan 2014; :mod:`sim.analysis.evppi`).
"""

from __future__ import annotations

import argparse

OUTCOMES = ("comprehensive_deal", "ceasefire", "continued_war", "collapse_escalation", "any_agreement")


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``negsim evppi`` (cheap: no heavy imports here)."""
    p = sub.add_parser(
        "evppi",
        help="what is worth finding out: variance shares, or EVPPI for a decision, from a run's draws",
        description="Rank the sampled assumptions by what knowing them is worth, by non-parametric "
        "regression on the draws a run already stored (Strong, Oakley & Brennan 2014), no extra runs. "
        "Without --decision: each assumption's share of the variance of P(outcome) across the draws. With "
        "--decision: DIR and each --decision DIR are the options of a decision, run with the same --seed and "
        "--runs (e.g. the baseline and strong_guarantee); the table gives each assumption's EVPPI for "
        "choosing the option with the higher P(outcome), in probability points.",
    )
    p.add_argument("run_dir", metavar="DIR", help="run directory written by `negsim run`")
    p.add_argument("--decision", nargs="+", metavar="DIR", default=None,
                   help="run directories of the other options of a decision (same seed and runs)")
    p.add_argument("--outcome", choices=OUTCOMES, default="comprehensive_deal",
                   help="the outcome whose probability is ranked or maximised (default comprehensive_deal; "
                   "any_agreement: a deal or a ceasefire)")
    p.add_argument("--horizon", type=int, default=None, metavar="WEEKS",
                   help="the horizon in weeks (default: the run's last reporting horizon)")
    p.add_argument("--top", type=int, default=15, metavar="N", help="rows to print (default 15)")
    p.add_argument("--out", default=None, metavar="CSV", help="write the whole table (default DIR/evppi.csv)")
    p.set_defaults(handler=main)


def outcome_indicator(runs, outcome: str, horizon: int):
    """Return 1.0 where the outcome at ``horizon`` is ``outcome`` (any_agreement: a deal or a ceasefire)."""
    col = runs[f"outcome_w{horizon}"]
    wanted = ("comprehensive_deal", "ceasefire") if outcome == "any_agreement" else (outcome,)
    return col.isin(wanted).to_numpy(dtype=float)


def main(args: argparse.Namespace) -> int:
    """Print the ranking and write the table as CSV."""
    from pathlib import Path

    from sim.analysis.evppi import decision_table, variance_shares
    from sim.analysis.rundir import load_run, source_for
    from sim.errors import UserError

    run = load_run(args.run_dir)
    horizon = args.horizon if args.horizon is not None else max(run.horizons)
    if horizon not in run.horizons:
        raise UserError(f"negsim evppi: --horizon {horizon} is not a reporting horizon of {args.run_dir} "
                        f"(expected one of {', '.join(map(str, run.horizons))})")
    if run.runs["draw"].nunique() < 20:
        raise UserError(f"negsim evppi: {args.run_dir} has {run.runs['draw'].nunique()} parameter draws "
                        "(expected at least 20 to regress on; run more --runs)")
    name = f"P({args.outcome} at week {horizon})"
    if args.decision:
        options = {Path(args.run_dir).name: run.runs}
        for d in args.decision:
            other = load_run(d)
            if f"outcome_w{horizon}" not in other.runs.columns:
                raise UserError(f"negsim evppi: {d} has no outcome at week {horizon}")
            options[Path(d).name] = other.runs
        try:
            table = decision_table(options, lambda r: outcome_indicator(r, args.outcome, horizon))
        except ValueError as err:
            raise UserError(f"negsim evppi: {err}") from None
        print(f"Decision: the option with the higher {name}; expected value of partial perfect information "
              "(points of probability), Strong, Oakley & Brennan 2014:")
        for opt, p in table.attrs["options"].items():
            print(f"  option {opt}: {100 * p:.1f}%")
        measure, fmt = "evppi", (lambda v: f"{100 * v:5.2f} pts")
    else:
        table = variance_shares(run.runs, outcome_indicator(run.runs, args.outcome, horizon))
        explained = float(table["explained"].iloc[0]) if len(table) else float("nan")
        floor = float(table["noise_floor"].iloc[0]) if len(table) else float("nan")
        print(f"What is worth finding out about {name}: each assumption's share of the variance its draws "
              f"explain (sd of P across the assumptions {100 * explained ** 0.5:.1f} points; "
              "Strong, Oakley & Brennan 2014 regression; an unrelated input gets "
              f"{100 * floor:.1f}% by chance):")
        measure, fmt = "share", (lambda v: f"{100 * v:5.1f}%")
    table["source"] = [source_for(run.provenance, p) if not p.startswith("group: ") else ""
                       for p in table["parameter"]]  # fmt: skip
    for _, r in table.head(args.top).iterrows():
        label = r["parameter"]
        if label.startswith("group: "):
            label += f" ({r['members']})"
        print(f"  {fmt(r[measure])}  {label}")
    out = Path(args.out) if args.out else Path(args.run_dir) / "evppi.csv"
    table.to_csv(out, index=False)
    print(f"written: {out}")
    return 0
