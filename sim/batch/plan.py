"""The layout of a batch: how many parameter draws, paths per draw, and blocks of replicates.

Two-level Monte Carlo (model memo §1.7, §4.1 guard 1): ``D`` epistemic parameter draws, each simulated
along ``P`` aleatory paths, flattened draw-major into ``R = D * P`` replicates, so replicate ``i`` belongs
to draw ``i // P`` and is path ``i % P`` of it. Replicates are cut into blocks of ``block_size``
consecutive replicates: the unit of work, of storage and of random streams (:mod:`sim.batch.seeds`).
When ``block_size`` is a multiple of ``P`` (every default is) a block holds whole draws.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sim.errors import UserError

#: Default paths per draw once the run is large enough (see :func:`default_paths_per_draw`).
PATHS_PER_DRAW = 20
#: Minimum number of parameter draws the defaults aim for (memo §4.5: >= 200 outer draws).
MIN_DRAWS = 200
#: Fewest paths per draw the defaults use: below this a per-draw probability is too coarse (0, 1/P, ...)
#: for the spread across draws to mean anything.
MIN_PATHS_PER_DRAW = 10
#: Replicates per block the defaults aim for (measured in docs/performance.md): each step's fixed Python
#: cost (a dozen phases, each a few numpy calls) is shared by the block's replicates, so a block of 5,000
#: costs clearly less per replicate than one of 2,500 and one of 10,000 little less again; 5,000 cuts
#: 100k runs into 20 blocks, which 2 or 4 workers share evenly (4,000 gave 25 blocks: on two workers one
#: ran 13 while the other idled for the last).
TARGET_BLOCK_REPLICATES = 5000
#: Fewest replicates per block the defaults use: the model's per-step cost is largely independent of the
#: number of replicates, so smaller blocks cost much more per replicate (docs/performance.md).
MIN_BLOCK_REPLICATES = 1000
#: Above that floor, the defaults cut a run into at least this many blocks so that workers share it.
MIN_BLOCKS = 8


def default_paths_per_draw(runs: int) -> int:
    """Paths per parameter draw when the user gives none.

    ``P = clamp(runs // 200, 10, 20)``. ``lo``/``hi`` are quantiles of per-draw probabilities, each
    estimated from ``P`` paths, so its binomial noise (sd up to ``0.5 / sqrt(P)``) widens the reported
    spread: with ``P = 1`` every per-draw probability is 0 or 1 and the interval is [0, 1], useless. Ten
    paths is the floor (sd <= 0.16), twenty the target (sd <= 0.11); between, the memo's >= 200 outer
    draws (§4.5) decide: 2,000 runs give 200 draws of 10 paths, 4,000 and more give ``runs / 20`` draws
    of 20 paths. For a fixed budget more draws always lower the variance of the pooled probability, so
    ``P`` never grows beyond what the interval needs.
    """
    return max(MIN_PATHS_PER_DRAW, min(PATHS_PER_DRAW, runs // MIN_DRAWS))


def default_block_size(n_draws: int, paths_per_draw: int) -> int:
    """Replicates per block when the user gives none: whole draws, 1,000 to 5,000 replicates.

    ``ceil(D / 8)`` draws per block (so that a run has >= 8 blocks to share among workers), clamped to
    1,000..5,000 replicates: below 1,000 the per-block cost of the model dominates, above 5,000 the gain
    is small and memory per worker grows. Depends only on the run's shape, never on the number of
    workers, so the streams (and the bytes) do not depend on the machine.
    """
    lo = max(1, math.ceil(MIN_BLOCK_REPLICATES / paths_per_draw))
    hi = max(lo, TARGET_BLOCK_REPLICATES // paths_per_draw)
    draws_per_block = min(max(math.ceil(n_draws / MIN_BLOCKS), lo), hi, n_draws)
    return max(1, draws_per_block) * paths_per_draw


@dataclass(frozen=True)
class BatchPlan:
    """Shape of a batch: ``n_draws * paths_per_draw`` replicates in blocks of ``block_size``."""

    seed: int
    n_draws: int
    paths_per_draw: int
    block_size: int

    @property
    def runs(self) -> int:
        """Total number of replicates."""
        return self.n_draws * self.paths_per_draw

    @property
    def n_blocks(self) -> int:
        """Number of blocks (the last one may be shorter)."""
        return math.ceil(self.runs / self.block_size)

    def block_range(self, block: int) -> tuple[int, int]:
        """Replicates ``[start, stop)`` of block ``block``."""
        if not 0 <= block < self.n_blocks:
            raise IndexError(f"block {block} out of range 0..{self.n_blocks - 1}")
        start = block * self.block_size
        return start, min(start + self.block_size, self.runs)

    def draw_of(self, start: int, stop: int) -> np.ndarray:
        """Draw index of each replicate in ``[start, stop)``."""
        return np.arange(start, stop, dtype=np.int64) // self.paths_per_draw


def plan_from_options(seed: int, runs: int | None, n_draws: int | None, paths_per_draw: int | None,
                      block_size: int | None) -> BatchPlan:
    """Return :func:`make_plan` of ``negsim run``'s options (``--runs`` is ignored given both others).

    With both ``--draws`` and ``--paths-per-draw``, ``--runs`` follows from them and is not checked.
    """
    return make_plan(seed, runs=None if (n_draws is not None and paths_per_draw is not None) else runs,
                     n_draws=n_draws, paths_per_draw=paths_per_draw, block_size=block_size)


def make_plan(
    seed: int,
    runs: int | None = None,
    n_draws: int | None = None,
    paths_per_draw: int | None = None,
    block_size: int | None = None,
) -> BatchPlan:
    """Resolve the user's options into a :class:`BatchPlan`, refusing inconsistent ones.

    Any two of ``runs``, ``n_draws`` and ``paths_per_draw`` fix the third; with ``runs`` alone the paths
    follow :func:`default_paths_per_draw` and the draws are ``ceil(runs / P)`` (so ``runs`` is rounded up
    to whole draws).
    """
    if seed is None or int(seed) < 0:
        raise UserError(f"--seed must be a non-negative integer (got {seed})")
    for name, value in (("--runs", runs), ("--draws", n_draws), ("--paths-per-draw", paths_per_draw),
                        ("--block-size", block_size)):
        if value is not None and int(value) < 1:
            raise UserError(f"{name} must be a positive integer (got {value})")
    if n_draws is not None and paths_per_draw is not None:
        if runs is not None and runs != n_draws * paths_per_draw:
            raise UserError(f"--runs {runs} is not --draws {n_draws} x --paths-per-draw {paths_per_draw}")
    elif n_draws is not None:
        if runs is None:
            paths_per_draw = PATHS_PER_DRAW
        elif runs % n_draws:
            raise UserError(f"--runs {runs} is not a multiple of --draws {n_draws}")
        else:
            paths_per_draw = runs // n_draws
    else:
        runs = 2000 if runs is None else runs
        if paths_per_draw is None:
            paths_per_draw = default_paths_per_draw(runs)
        n_draws = math.ceil(runs / paths_per_draw)
    if block_size is None:
        block_size = default_block_size(n_draws, paths_per_draw)
    return BatchPlan(seed=int(seed), n_draws=int(n_draws), paths_per_draw=int(paths_per_draw),
                     block_size=int(block_size))
