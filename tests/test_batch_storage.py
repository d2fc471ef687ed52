"""runs.parquet written block by block while a run goes on (sim.batch.storage.RunsWriter), and the check of
the block files a resumed run keeps (sim.batch.storage.check_parts)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from sim.batch import storage
from sim.batch.block import table_to_parquet_bytes

N_BLOCKS = 5


def _write_table(path, replicates, **extra):
    table = pa.table({"replicate": pa.array(replicates, pa.int64()), "x": pa.array(np.sqrt(replicates + 0.5)),
                      **extra})
    storage.atomic_write_bytes(path, table_to_parquet_bytes(table))


def _write_parts(run_dir, n_blocks=N_BLOCKS):
    storage.prepare_run_dir(run_dir, force=False, resume=False)
    for b in range(n_blocks):
        _write_table(storage.part_path(run_dir, b), np.arange(3 * b, 3 * b + 3))


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


def test_check_parts_names_every_file_that_is_not_its_block(tmp_path):
    _write_parts(tmp_path)
    ranges = {b: (3 * b, 3 * b + 3) for b in range(N_BLOCKS)}
    assert storage.check_parts(tmp_path, ranges) == {}

    def part(b):
        return storage.part_path(tmp_path, b)

    part(1).write_bytes(b"")                                             # an empty copy
    part(2).write_bytes(part(3).read_bytes())                            # the next block's file
    _write_table(part(3), np.arange(9, 11))                              # one row short
    _write_table(part(4), np.arange(12, 15), y=pa.array([1, 2, 3]))      # a column more
    problems = storage.check_parts(tmp_path, ranges)
    assert problems.keys() == {1, 2, 3, 4}
    assert problems[1].startswith("unreadable (") and "\n" not in problems[1]
    assert problems[2] == "holds replicates 9..11, not the block's 6..8"
    assert problems[3] == "has 2 rows, not the block's 3"
    assert problems[4] == "has other columns than block 0's"
    # the lowest good file sets the columns the others must have: block 3 here, then block 4 alone
    _write_table(part(3), np.arange(9, 12))
    assert storage.check_parts(tmp_path, {b: ranges[b] for b in (3, 4)}) == {
        4: "has other columns than block 3's"}
    assert storage.check_parts(tmp_path, {b: ranges[b] for b in (4,)}) == {}
