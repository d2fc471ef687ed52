"""Random streams: one child of the SeedSequence per stochastic phase, one generator per phase and step.

Each phase draws one fixed-shape block of uniforms (R, m) per step, whether or not it uses them, from a
generator seeded by (root seed, phase, step) alone. Hence
* two scenarios run with the same seed share their streams (common random numbers),
* masks never shift a stream, and
* replicate r's draws do not depend on how many replicates run with it (row r of a row-major block is the
  same numbers whatever R), so an R = 1 run reproduces the first replicate of a larger run.
The root SeedSequence is never mutated (children are built from its entropy and spawn key).
"""

from __future__ import annotations

import numpy as np
from scipy.special import ndtri

PHASES = (
    "init",
    "events",
    "battlefield",
    "ou",
    "engagement",
    "rounds",
    "mediator",
    "acceptance",
    "levers",
    "ratification",
    "breakdown",
    "protocol",
    "deadlines",
    "partials",
    "status_vote",
)


class Streams:
    """Per-(phase, step) uniform blocks from one root :class:`numpy.random.SeedSequence`."""

    def __init__(self, seed_seq: np.random.SeedSequence, R: int) -> None:
        self.root = seed_seq
        self.R = R

    def _seq(self, phase: str, step: int) -> np.random.SeedSequence:
        key = tuple(self.root.spawn_key) + (PHASES.index(phase), int(step) + 1)
        return np.random.SeedSequence(entropy=self.root.entropy, spawn_key=key, pool_size=self.root.pool_size)

    def uniform(self, phase: str, step: int, m: int) -> np.ndarray:
        """Uniforms in (0, 1) of shape (R, m) for ``phase`` at ``step`` (step -1 for initial draws)."""
        g = np.random.Generator(np.random.PCG64(self._seq(phase, step)))
        u = g.random((self.R, max(int(m), 1)))
        # into (0, 1): random() is in [0, 1 - 2^-53], so only the lower end needs a floor (in place)
        return np.maximum(u, 1e-16, out=u)

    def normal(self, phase: str, step: int, m: int) -> np.ndarray:
        """Return standard normals of shape (R, m) (inverse CDF of this phase's uniforms)."""
        return ndtri(self.uniform(phase, step, m))
