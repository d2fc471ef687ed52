"""Compile the model's Numba kernels once, before the work starts, so that workers find them cached.

The kernels of :mod:`sim.model.kernels` and :mod:`sim.engines.compiled_newton` are compiled on first use
(about half a minute) and cached on disk beside their modules. ``negsim run`` calls :func:`compile_kernels`
in the parent before it sends any block to a worker process, so the workers load the cache instead of
each compiling it, and ``make install`` runs this module once so a newcomer's first run does not wait.
When :func:`kernels_cached` finds every kernel in the cache already, the parent skips that warm-up (a
couple of seconds of a core that the workers need while they start).
Usage: ``python -m sim.model.warmup [SCENARIO.yaml]`` (default ``scenarios/baseline.yaml``).
"""

from __future__ import annotations

import sys
import time

import numpy as np

N_REPLICATES = 8  # enough for rounds, texts and influence to occur, so every kernel is compiled


def kernels_cached() -> bool:
    """Whether every kernel has a cache entry on disk that this CPU can load and its source still matches.

    Reads Numba's cache index of each compiled function (not inlined ones, which live inside their callers)
    and looks for an entry compiled for this CPU; the index is empty when the source file changed since.
    Numba does not document this lookup, so any error answers False and the caller warms up as before.
    """
    try:
        from numba.core.dispatcher import Dispatcher

        from sim.engines import compiled_newton
        from sim.model import kernels

        found = 0
        for module in (kernels, compiled_newton):
            for fn in vars(module).values():
                if not isinstance(fn, Dispatcher) or fn.targetoptions.get("inline") == "always":
                    continue
                magic = fn.targetctx.codegen().magic_tuple()
                if not any(key[1] == magic for key in fn._cache._cache_file._load_index()):
                    return False
                found += 1
        return found > 0
    except Exception:  # noqa: BLE001 - an undocumented Numba internal: when in doubt, warm up
        return False


def start_runtime() -> bool:
    """Start Numba in this process by loading one small kernel from the cache; never compile.

    The first kernel a process loads pays for Numba's typing and lowering registries (0.2-0.4 s here); each
    later one costs milliseconds. A worker of ``negsim run`` calls this after its imports, while the parent
    is still sampling the parameters, instead of paying in its first block (10k runs: 0.4 s sooner,
    docs/performance.md). Where the cache is stale the parent is compiling, and a worker must not compete
    with it: nothing is loaded then, and False is returned.
    """
    if not kernels_cached():
        return False
    from sim.engines.compiled_newton import scratch

    scratch(1, 1)
    return True


def compile_kernels(params: dict) -> float:
    """Run the model on a few replicates of ``params`` (materialised for N_REPLICATES) and the engines once.

    Returns the seconds it took (about 30 s when the kernels are compiled, 1-3 s when they load from cache).
    """
    from sim.engines.nash import kalai_smorodinsky, nash_solution
    from sim.model import kernels, simulate

    t0 = time.perf_counter()
    simulate(params, N_REPLICATES, np.random.SeedSequence(0))
    # the BDM pressures alone (inspection and tests; a simulation integrates them inside influence_moves)
    x = np.zeros((1, 2, 2))
    rows, cap, median = np.zeros(1, np.int64), np.ones((1, 2)), np.zeros((1, 2))
    kernels.pressure_batch(x, rows, x.copy(), cap, 1.0, False, 1.0, median)
    A = np.broadcast_to(np.eye(2), (1, 2, 2, 2))
    ideal = np.array([[[0.0, 0.0], [1.0, 1.0]]])
    nash_solution(A, ideal, np.ones(2), -np.ones(2))
    kalai_smorodinsky(A, ideal, np.ones(2), -np.ones(2))
    return time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    """Compile (or load) the kernels for a scenario's parameter types and say how long it took."""
    from sim.scenario import load_scenario, materialise, sample_parameters

    args = sys.argv[1:] if argv is None else argv
    sc = load_scenario(args[0] if args else "scenarios/baseline.yaml")
    draws = sample_parameters(sc, 1, np.random.SeedSequence(0))
    seconds = compile_kernels(materialise(sc, draws, np.zeros(N_REPLICATES, dtype=int)))
    print(f"negsim: numerical kernels ready ({seconds:.0f} s; compiled once, then cached)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
