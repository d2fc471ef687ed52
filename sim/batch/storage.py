"""The run directory (DESIGN §5): block files written atomically, then runs.parquet, summary and manifest.

Layout::

    DIR/manifest.json             what was run, by whom, with what (written first, updated at the end)
    DIR/parts/block-000123.parquet   one file per finished block (temp file + os.replace: never partial)
    DIR/runs.parquet              all blocks concatenated in block order (one row group per block)
    DIR/summary.json              outcome probabilities with intervals
    DIR/errors.log                tracebacks of failed blocks, if any
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Container, Mapping
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from sim.errors import UserError

PARTS = "parts"
RUNS = "runs.parquet"
SUMMARY = "summary.json"
MANIFEST = "manifest.json"
ERRORS = "errors.log"
#: Permissions of the files written (mkstemp would make them private to the user).
FILE_MODE = 0o644
_PART_RE = re.compile(r"^block-(\d{6,})\.parquet$")


def part_path(run_dir: Path, block: int) -> Path:
    """Path of block ``block``'s file."""
    return Path(run_dir) / PARTS / f"block-{block:06d}.parquet"


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see the old file or the whole new one, never a part.

    The bytes go to a temporary file in the same directory, are flushed to disk, and the file is renamed
    over ``path`` with :func:`os.replace` (atomic on POSIX and Windows).
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.fchmod(fd, FILE_MODE)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_json(path: Path, obj: Any) -> None:
    """Write ``obj`` as indented JSON, atomically."""
    atomic_write_bytes(path, (json.dumps(obj, indent=2, allow_nan=False) + "\n").encode())


def read_json(path: Path) -> Any:
    """Read a JSON file."""
    return json.loads(Path(path).read_text())


def done_blocks(run_dir: Path) -> set[int]:
    """Return the indices of the blocks whose files exist."""
    d = Path(run_dir) / PARTS
    if not d.is_dir():
        return set()
    return {int(m.group(1)) for p in d.iterdir() if (m := _PART_RE.match(p.name))}


def check_parts(run_dir: Path, ranges: Mapping[int, tuple[int, int]]) -> dict[int, str]:
    """Return ``{block: what is wrong}`` for the block files of ``ranges`` that cannot be used.

    ``ranges`` maps each block whose file exists to its replicates ``(start, stop)``. Only each file's
    Parquet footer is read. Parquet writes it last, behind its length and the magic ``PAR1``, so a file
    that was truncated (a half-finished copy), zero-filled or overwritten has no readable footer. The
    footer's row count must be the block's, and its ``replicate`` statistics the block's first and last
    replicates, so that a readable file of another block or shape is refused too; and the files must have
    the columns of the first good one (the lowest block), as all blocks of a run do, since runs.parquet
    is their concatenation. The data pages are not decoded: negsim replaces a block file whole
    (:func:`atomic_write_bytes`), so an interrupted write or copy does not leave damage that spares the
    footer, and decoding would not find such damage reliably either (the pages carry no checksums, so
    damaged data can decode without an error).
    """
    problems: dict[int, str] = {}
    first: tuple[int, pq.ParquetSchema] | None = None
    for b in sorted(ranges):
        meta = _footer(part_path(run_dir, b))
        why = meta if isinstance(meta, str) else _shape_problem(meta, *ranges[b])
        if why is None:
            if first is None:
                first = (b, meta.schema)
            elif not meta.schema.equals(first[1]):
                why = f"has other columns than block {first[0]}'s"
        if why is not None:
            problems[b] = why
    return problems


def _footer(path: Path) -> pq.FileMetaData | str:
    """Return the footer of Parquet file ``path``, or why it cannot be read (one line)."""
    try:
        return pq.read_metadata(path)
    except (OSError, pa.ArrowException) as err:
        return f"unreadable ({' '.join(str(err).split())})"


def _shape_problem(meta: pq.FileMetaData, start: int, stop: int) -> str | None:
    """Return why a file's footer is not that of replicates ``[start, stop)`` (``None`` if it is)."""
    if meta.num_rows != stop - start:
        return f"has {meta.num_rows} rows, not the block's {stop - start}"
    got = _replicate_range(meta)
    if got != (start, stop - 1):
        held = "no replicate statistics" if got is None else f"replicates {got[0]}..{got[1]}"
        return f"holds {held}, not the block's {start}..{stop - 1}"
    return None


def _replicate_range(meta: pq.FileMetaData) -> tuple[int, int] | None:
    """First and last ``replicate`` of a file from its footer's statistics (``None`` if it has none)."""
    names = meta.schema.names
    if "replicate" not in names or meta.num_row_groups == 0:
        return None
    col = names.index("replicate")
    stats = [meta.row_group(g).column(col).statistics for g in range(meta.num_row_groups)]
    if any(s is None or not s.has_min_max for s in stats):
        return None
    return min(s.min for s in stats), max(s.max for s in stats)


def check_run_dir(run_dir: Path, force: bool, resume: bool) -> bool:
    """Raise :class:`UserError` if a run may not use ``run_dir``; return whether it holds files already.

    A non-empty directory is refused unless ``resume`` (keep its blocks) or ``force`` (start afresh).
    Changes nothing, so a command can refuse at once, before it reads the scenario or starts workers.
    """
    run_dir = Path(run_dir)
    if run_dir.exists() and not run_dir.is_dir():
        raise UserError(f"{run_dir}: exists and is not a directory")
    non_empty = run_dir.is_dir() and any(run_dir.iterdir())
    if resume:
        if not (run_dir / MANIFEST).is_file():
            raise UserError(f"{run_dir}: nothing to resume (no {MANIFEST})")
    elif non_empty and not force:
        raise UserError(f"{run_dir}: directory exists and is not empty; use --force to overwrite it "
                        f"or --resume to complete an interrupted run")
    return non_empty


def prepare_run_dir(run_dir: Path, force: bool, resume: bool) -> None:
    """Create ``run_dir`` once :func:`check_run_dir` allows it; with ``force``, remove a run's files first.

    ``force`` removes the files a run writes there, and only those.
    """
    run_dir = Path(run_dir)
    if check_run_dir(run_dir, force, resume) and not resume:
        shutil.rmtree(run_dir / PARTS, ignore_errors=True)
        for name in (RUNS, SUMMARY, MANIFEST, ERRORS):
            (run_dir / name).unlink(missing_ok=True)
    (run_dir / PARTS).mkdir(parents=True, exist_ok=True)
    # left by a killed writer
    for tmp in [*(run_dir / PARTS).glob(".*.tmp"), *run_dir.glob(f".{RUNS}.*.tmp")]:
        tmp.unlink(missing_ok=True)


class RunsWriter:
    """runs.parquet, written block by block in block order while the run goes on.

    The parent has little to do while the workers run. Each block is appended as soon as it and every block
    before it are done, so only the last ones remain when the workers finish (writing the whole file after
    the workers would add 1.7 s to a 100k run, with one core idle). One block is in memory at a time, one
    row group per block; the bytes are those of appending every block at the end (the same tables in the
    same order through one writer), so they do not depend on the executor or the completion order.
    ``on_table`` is shown each block's table, so a summary can be accumulated without reading the block
    files again. Written to a temporary file and renamed by :meth:`finish`, like the blocks;
    :meth:`abort` removes it (and :func:`prepare_run_dir` any that a killed run left).
    """

    def __init__(self, run_dir: Path, n_blocks: int, on_table: Callable[[Any], None] | None = None) -> None:
        self.run_dir = Path(run_dir)
        self.n_blocks = int(n_blocks)
        self.on_table = on_table
        self.next_block = 0  # the first block not yet appended
        self._tmp: str | None = None
        self._writer: pq.ParquetWriter | None = None

    def advance(self, done: Container[int]) -> None:
        """Append the blocks from :attr:`next_block` on, as long as each is in ``done``."""
        while self.next_block < self.n_blocks and self.next_block in done:
            self._append(part_path(self.run_dir, self.next_block))
            self.next_block += 1

    def _open(self) -> None:
        fd, self._tmp = tempfile.mkstemp(dir=self.run_dir, prefix=f".{RUNS}.", suffix=".tmp")
        os.fchmod(fd, FILE_MODE)
        os.close(fd)

    def _append(self, path: Path) -> None:
        table = pq.read_table(path)
        if self._writer is None:
            self._open()
            self._writer = pq.ParquetWriter(self._tmp, table.schema, compression="zstd")
        elif table.schema != self._writer.schema:
            raise ValueError(f"{path.name}: columns differ from block 0 "
                             f"({table.schema} vs {self._writer.schema})")
        self._writer.write_table(table, row_group_size=max(1, table.num_rows))
        if self.on_table is not None:
            self.on_table(table)

    def finish(self) -> Path:
        """Append the remaining blocks (all must be done), close and rename; return runs.parquet's path."""
        try:
            self.advance(range(self.n_blocks))
            if self._tmp is None:
                self._open()
            if self._writer is not None:
                self._writer.close()
                self._writer = None
            out = self.run_dir / RUNS
            os.replace(self._tmp, out)
            self._tmp = None
            return out
        except BaseException:
            self.abort()
            raise

    def abort(self) -> None:
        """Drop the partial file (an interrupted or failed run: the block files are what resumes)."""
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        if self._tmp is not None:
            Path(self._tmp).unlink(missing_ok=True)
            self._tmp = None
