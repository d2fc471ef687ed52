"""runs.parquet written block by block while a run goes on (sim.batch.storage.RunsWriter)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from sim.batch import storage
from sim.batch.block import table_to_parquet_bytes

N_BLOCKS = 5


def _write_parts(run_dir, n_blocks=N_BLOCKS):
    storage.prepare_run_dir(run_dir, force=False, resume=False)
    for b in range(n_blocks):
        rows = np.arange(3 * b, 3 * b + 3)
        table = pa.table({"replicate": pa.array(rows, pa.int64()), "x": pa.array(np.sqrt(rows + 0.5))})
        storage.atomic_write_bytes(storage.part_path(run_dir, b), table_to_parquet_bytes(table))


def test_blocks_appended_as_they_finish_give_the_bytes_of_one_concatenation(tmp_path):
    """Blocks finish in any order; each is appended once all before it are done, and the file is the one
    written from all block files at the end."""
    at_end, as_they_come = tmp_path / "end", tmp_path / "incremental"
    _write_parts(at_end)
    _write_parts(as_they_come)
    reference = storage.RunsWriter(at_end, N_BLOCKS).finish().read_bytes()  # all blocks at the end

    seen = []
    writer = storage.RunsWriter(as_they_come, N_BLOCKS,
                                on_table=lambda table: seen.append(table["replicate"][0].as_py()))
    done: set[int] = set()
    appended_after = []
    for b in (3, 0, 4, 1, 2):  # completion order
        done.add(b)
        writer.advance(done)
        appended_after.append(writer.next_block)
    assert appended_after == [0, 1, 1, 2, 5]  # block 0 alone, then 1, then 2..4 at once
    assert seen == [0, 3, 6, 9, 12]  # every block shown once, in block order
    assert writer.finish().read_bytes() == reference
    assert pq.read_table(as_they_come / storage.RUNS)["replicate"].to_pylist() == list(range(15))
    assert not list(as_they_come.glob(".*.tmp"))


def test_an_aborted_writer_leaves_no_partial_file_and_a_killed_ones_is_removed_on_resume(tmp_path):
    _write_parts(tmp_path)
    writer = storage.RunsWriter(tmp_path, N_BLOCKS)
    writer.advance({0, 1})
    assert len(list(tmp_path.glob(f".{storage.RUNS}.*.tmp"))) == 1  # being written
    writer.abort()
    assert not list(tmp_path.glob(".*.tmp")) and not (tmp_path / storage.RUNS).exists()

    killed = storage.RunsWriter(tmp_path, N_BLOCKS)
    killed.advance({0})  # the process dies here: nothing closes the writer
    storage.write_json(tmp_path / storage.MANIFEST, {"status": "interrupted"})
    storage.prepare_run_dir(tmp_path, force=False, resume=True)
    assert not list(tmp_path.glob(".*.tmp"))
    assert [p.name for p in sorted((tmp_path / storage.PARTS).iterdir())] == [
        f"block-{b:06d}.parquet" for b in range(N_BLOCKS)]  # the blocks, which resume uses, are kept
