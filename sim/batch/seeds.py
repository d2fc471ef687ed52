"""Random streams of a batch, planned up front from one root seed.

Every stream is a :class:`numpy.random.SeedSequence` derived from the root seed and a fixed
``spawn_key``, never from the order in which work is done:

* ``spawn_key=(0,)``: the parameter draws (epistemic level), drawn once for the whole run;
* ``spawn_key=(1, b)``: the model stream of block ``b`` (aleatory level); the model spawns one child per
  stochastic phase from it.

Because a block's stream depends on (root seed, block index) alone, the same seed gives byte-identical
results whatever the number of workers, the executor or the completion order, and two scenarios run with
the same seed share their streams (common random numbers; Law 2015, *Simulation Modeling and Analysis*,
ch. 11; L'Ecuyer 2017, "Random number generation with multiple streams for sequential and parallel
computing", WSC).
"""

from __future__ import annotations

import numpy as np

#: First element of the spawn key of the parameter-draw stream.
PARAMS_KEY = 0
#: First element of the spawn key of the block streams.
BLOCKS_KEY = 1


def parameter_seed_sequence(seed: int) -> np.random.SeedSequence:
    """Return the stream from which the parameter draws of the whole run are sampled."""
    return np.random.SeedSequence(seed, spawn_key=(PARAMS_KEY,))


def block_spawn_key(block: int) -> tuple[int, int]:
    """Return the spawn key of block ``block`` (reported with a failing block so it can be replayed)."""
    return (BLOCKS_KEY, int(block))


def block_seed_sequence(seed: int, block: int) -> np.random.SeedSequence:
    """Return the model stream of block ``block``: a function of (root seed, block index) alone."""
    return np.random.SeedSequence(seed, spawn_key=block_spawn_key(block))
