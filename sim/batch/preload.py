"""What a local worker needs before its first block, loaded once in the fork server its workers come from.

:class:`sim.batch.executors.ProcessExecutor` starts a ``forkserver`` (where the platform has one) that
imports this module and then forks each worker: the workers begin with the model imported and Numba
started, paying for the imports (about 2 s of CPU) once instead of once each, and sharing those pages.
Python runs this module's body in the fork server only; nothing here is for other callers.

Order matters: the BLAS libraries read their thread counts when NumPy first loads, so the single-threaded
settings (:data:`sim.batch.executors.SINGLE_THREADED_BLAS`, a variable the user set is kept) come first.
"""

from __future__ import annotations

import gc
import os

from sim.batch.executors import SINGLE_THREADED_BLAS

for _name, _value in SINGLE_THREADED_BLAS.items():
    os.environ.setdefault(_name, _value)

import sim.batch.block  # noqa: E402,F401  (pandas, pyarrow: a block's table)
import sim.model.model  # noqa: E402,F401  (Mesa, SciPy, Numba: the model)
import sim.scenario.sampling  # noqa: E402,F401  (materialise: a block's parameters)
from sim.model.warmup import start_runtime  # noqa: E402

start_runtime()
# the imported objects live as long as every worker: out of the cyclic collector's reach before the fork,
# so that no collection in a worker touches (and copies) the pages it shares with the others
gc.freeze()
