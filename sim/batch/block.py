"""One block of replicates: the unit of work sent to a worker.

A :class:`BlockTask` carries everything a worker needs (the scenario, the parameter draws the block
uses, the block's replicate range and its seed), so it runs the same on a local process and on a remote
Dask worker. :func:`execute_block` runs a block function on it and returns the block's Parquet bytes, the
exact content of ``parts/block-NNNNNN.parquet``; the bytes depend only on the task, which is what makes
``runs.parquet`` identical whatever the executor.

The block function is injectable: :func:`model_block` (the default) calls
``sim.scenario.materialise`` and ``sim.model.simulate``; tests of the batch mechanics pass a small
deterministic function with the same signature.
"""

from __future__ import annotations

import gc
import io
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from sim.batch.seeds import block_seed_sequence, block_spawn_key

#: Prefix of the sampled-parameter columns in runs.parquet.
PARAM_PREFIX = "param."


@dataclass(frozen=True)
class BlockTask:
    """Replicates ``[start, stop)`` of a run, with the draws they use.

    Attributes
    ----------
    index, seed:
        Block index and root seed: the block's stream is ``SeedSequence(seed, spawn_key=(1, index))``.
    start, stop:
        Global replicate range (draw-major order).
    paths_per_draw:
        Paths per parameter draw; replicate ``i`` is path ``i % P`` of draw ``i // P``.
    scenario:
        The loaded scenario (``sim.scenario.Scenario``), or anything the block function understands.
    draws:
        The parameter draws ``first_draw .. last_draw`` (one row each, index reset to 0..).
    """

    index: int
    seed: int
    start: int
    stop: int
    paths_per_draw: int
    scenario: Any
    draws: pd.DataFrame

    @property
    def n_replicates(self) -> int:
        """Number of replicates in the block."""
        return self.stop - self.start

    @property
    def first_draw(self) -> int:
        """Global index of the first draw the block uses."""
        return self.start // self.paths_per_draw

    def draw_index(self) -> np.ndarray:
        """Global draw index of each replicate of the block."""
        return np.arange(self.start, self.stop, dtype=np.int64) // self.paths_per_draw

    def local_draw_index(self) -> np.ndarray:
        """Row of :attr:`draws` for each replicate of the block."""
        return self.draw_index() - self.first_draw

    def seed_sequence(self) -> np.random.SeedSequence:
        """Return the block's model stream."""
        return block_seed_sequence(self.seed, self.index)

    def describe(self) -> str:
        """Human-readable identification, used in error messages so a failing block can be replayed."""
        return (f"block {self.index} (replicates {self.start}..{self.stop - 1}, seed {self.seed}, "
                f"spawn_key {block_spawn_key(self.index)})")


BlockFunction = Callable[[BlockTask], Mapping[str, np.ndarray]]


_imports_frozen = False


def _freeze_long_lived_objects() -> None:
    """Put the objects alive now (the imported modules) out of the cyclic collector's reach, once per process.

    NumPy, SciPy, Numba, Mesa and pandas leave hundreds of thousands of objects behind. A block allocates
    many small containers, so the collector runs often, and its full collections walked all of them: 3.6%
    of a 2,500-replicate block, measured with ``gc.callbacks`` (docs/performance.md). They live as long as
    the process, so there is nothing among them to collect (``gc.freeze``); objects made later, the
    model's among them, are collected as before.
    """
    global _imports_frozen
    if not _imports_frozen:
        gc.freeze()
        _imports_frozen = True


def model_block(task: BlockTask) -> dict[str, np.ndarray]:
    """Run the real model on one block: materialise the block's parameters and simulate its replicates."""
    from sim.model import simulate
    from sim.scenario import materialise

    _freeze_long_lived_objects()
    params = materialise(task.scenario, task.draws, task.local_draw_index())
    return simulate(params, task.n_replicates, task.seed_sequence())


def _to_arrow(name: str, values: Any, n: int) -> pa.Array:
    """Convert one column to Arrow with a type that does not depend on the block's content."""
    arr = np.asarray(values)
    if arr.shape != (n,):
        raise ValueError(f"column {name!r} has shape {arr.shape}, expected ({n},)")
    if arr.dtype.kind in "OUS":
        return pa.array([None if v is None else str(v) for v in arr.tolist()], type=pa.string())
    if arr.dtype.kind == "b":
        return pa.array(arr, type=pa.bool_())
    if arr.dtype.kind in "iu":
        return pa.array(arr.astype(np.int64, copy=False), type=pa.int64())
    if arr.dtype.kind == "f":
        return pa.array(arr.astype(np.float64, copy=False), type=pa.float64())
    raise ValueError(f"column {name!r} has unsupported dtype {arr.dtype}")


def block_table(task: BlockTask, records: Mapping[str, np.ndarray]) -> pa.Table:
    """Assemble the rows of runs.parquet for one block.

    Columns: ``draw``, ``replicate``, ``path``, the model's records in the order it returns them, then
    ``param.<dotted.path>`` for every sampled parameter (the draw's value, repeated along its paths).
    """
    n = task.n_replicates
    replicate = np.arange(task.start, task.stop, dtype=np.int64)
    columns: dict[str, pa.Array] = {
        "draw": pa.array(replicate // task.paths_per_draw, type=pa.int64()),
        "replicate": pa.array(replicate, type=pa.int64()),
        "path": pa.array(replicate % task.paths_per_draw, type=pa.int64()),
    }
    for name, values in records.items():
        if name in columns:
            raise ValueError(f"model record {name!r} clashes with a batch column")
        columns[name] = _to_arrow(name, values, n)
    local = task.local_draw_index()
    for col in task.draws.columns:
        columns[PARAM_PREFIX + str(col)] = _to_arrow(str(col), task.draws[col].to_numpy()[local], n)
    return pa.table(columns)


def table_to_parquet_bytes(table: pa.Table) -> bytes:
    """Encode a table as Parquet (deterministic: same table, same bytes)."""
    sink = io.BytesIO()
    pq.write_table(table, sink, compression="zstd")
    return sink.getvalue()


def execute_block(task: BlockTask, block_fn: BlockFunction | None = None) -> bytes:
    """Run ``block_fn`` (default :func:`model_block`) on ``task``; return the block's Parquet bytes."""
    fn = model_block if block_fn is None else block_fn
    return table_to_parquet_bytes(block_table(task, fn(task)))
