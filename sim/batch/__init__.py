"""The batch layer: blocks of replicates, planned seeds, executors (local processes or Dask), storage.

Public API (docs/contracts.md): :func:`run_batch`, :func:`simulate_draws`; the statistics in
:mod:`sim.batch.stats` are shared with the analysis layer.
"""

from sim.batch.runner import BatchInterrupted, BlockFailed, execute_run, run_batch, simulate_draws

__all__ = ["BatchInterrupted", "BlockFailed", "execute_run", "run_batch", "simulate_draws"]
