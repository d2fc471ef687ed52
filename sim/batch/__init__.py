"""The batch layer: blocks of replicates, planned seeds, executors (local processes or Dask), storage.

Public API (docs/contracts.md): :func:`run_batch`, :func:`simulate_draws`; the statistics in
:mod:`sim.batch.stats` are shared with the analysis layer.

The public names are loaded lazily (PEP 562): a worker process that only runs blocks imports
:mod:`sim.batch.block`, and importing this package first must not pull in the runner's summary statistics
(SciPy's stats module, about a second of every worker's start-up).
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["BatchInterrupted", "BlockFailed", "execute_run", "run_batch", "simulate_draws"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        return getattr(importlib.import_module("sim.batch.runner"), name)
    raise AttributeError(f"module 'sim.batch' has no attribute {name!r}")
