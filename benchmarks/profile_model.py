"""Per-replicate cost of ``sim.model.simulate`` on a scenario, and optionally a cProfile of one run.

Usage (from the repository root)::

    .venv/bin/python benchmarks/profile_model.py --sizes 1000 5000 20000
    .venv/bin/python benchmarks/profile_model.py --sizes 4000 --profile 30   # top 30 functions
    .venv/bin/python benchmarks/profile_model.py --sizes 4000 --outcomes    # outcome shares at each horizon
    .venv/bin/python benchmarks/profile_model.py --sizes 20000 --outcomes --solver-iters 1,1,1  # 3 passes

Parameters are sampled with ``numpy.random.default_rng(param_seed)`` (one draw per replicate) and the model
runs from ``SeedSequence(model_seed)``, so two versions of the model can be compared on the same inputs.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import resource
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sim.model import OUTCOMES, simulate  # noqa: E402
from sim.scenario import load_scenario, materialise, sample_parameters  # noqa: E402


def inputs(scenario: str, R: int, param_seed: int) -> dict:
    """Materialised parameters with one draw per replicate."""
    sc = load_scenario(scenario)
    draws = sample_parameters(sc, R, np.random.default_rng(param_seed))
    return materialise(sc, draws, np.arange(R))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", default="scenarios/baseline.yaml")
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 5000, 20000])
    ap.add_argument("--param-seed", type=int, default=7)
    ap.add_argument("--model-seed", type=int, default=1)
    ap.add_argument("--profile", type=int, default=0, help="print the top N functions by cumulative time")
    ap.add_argument("--outcomes", action="store_true", help="print outcome shares at every horizon")
    ap.add_argument("--solver-iters", type=lambda v: tuple(int(i) for i in v.split(",")), default=None,
                    help="Newton steps of the Nash text in each SQP pass with quadratic utilities, e.g. 2,1 "
                         "(default: the model's)")
    ap.add_argument("--ks-iters", type=int, default=None,
                    help="Newton iterations of the KS text per SQP pass (default: the model's)")
    ap.add_argument("--settled", type=float, default=None, help="text movement that ends the SQP passes")
    args = ap.parse_args(argv)
    import sim.model.mediation as mediation  # what-ifs for docs/performance.md, not model options

    for name, value in (("SOLVER_ITERS", args.solver_iters), ("KS_ITERS", args.ks_iters),
                        ("SETTLED", args.settled)):  # fmt: skip
        if value is not None:
            setattr(mediation, name, value)
    import sim.model.model  # noqa: F401  (Mesa's import costs ~1 s once per process: not the model's cost)

    for R in args.sizes:
        params = inputs(args.scenario, R, args.param_seed)
        prof = cProfile.Profile() if args.profile else None
        t0, c0 = time.perf_counter(), time.process_time()
        if prof:
            prof.enable()
        rec = simulate(params, R, np.random.SeedSequence(args.model_seed))
        if prof:
            prof.disable()
        dt, cpu = time.perf_counter() - t0, time.process_time() - c0
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: kB
        per, per_cpu = 1e3 * dt / R, 1e3 * cpu / R
        print(f"R={R:>7d}  total {dt:8.2f} s  per replicate {per:7.3f} ms (CPU {per_cpu:7.3f})", end="")
        print(f"  peak RSS {rss:7.0f} MB", flush=True)
        if args.outcomes:
            for key in sorted(k for k in rec if k.startswith("outcome_w")):
                shares = {o: float(np.mean(rec[key] == o)) for o in OUTCOMES}
                print(f"  {key}: " + "  ".join(f"{o}={p:.4f}" for o, p in shares.items()))
            print(
                "  agreement_type: "
                + "  ".join(
                    f"{k}={float(np.mean(rec['agreement_type'] == k)):.4f}"
                    for k in ("comprehensive_deal", "ceasefire", "none")
                )
            )
            print(
                f"  mean n_rounds {np.mean(rec['n_rounds']):.4f}  mean weeks_to_agreement "
                f"{np.nanmean(rec['weeks_to_agreement']):.4f}"
            )
        if prof:
            pstats.Stats(prof).sort_stats("cumulative").print_stats(args.profile)
            pstats.Stats(prof).sort_stats("tottime").print_stats(args.profile)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
