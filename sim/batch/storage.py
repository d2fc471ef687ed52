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
from collections.abc import Iterator
from pathlib import Path
from typing import Any

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


def prepare_run_dir(run_dir: Path, force: bool, resume: bool) -> None:
    """Create ``run_dir`` or check it may be used.

    A non-empty directory is refused unless ``resume`` (keep its blocks) or ``force`` (remove the files a
    run writes there, and only those, then start afresh).
    """
    run_dir = Path(run_dir)
    if run_dir.exists() and not run_dir.is_dir():
        raise UserError(f"{run_dir}: exists and is not a directory")
    non_empty = run_dir.is_dir() and any(run_dir.iterdir())
    if resume:
        if not (run_dir / MANIFEST).is_file():
            raise UserError(f"{run_dir}: nothing to resume (no {MANIFEST})")
    elif non_empty:
        if not force:
            raise UserError(f"{run_dir}: directory exists and is not empty; use --force to overwrite it "
                            f"or --resume to complete an interrupted run")
        shutil.rmtree(run_dir / PARTS, ignore_errors=True)
        for name in (RUNS, SUMMARY, MANIFEST, ERRORS):
            (run_dir / name).unlink(missing_ok=True)
    (run_dir / PARTS).mkdir(parents=True, exist_ok=True)
    for tmp in (run_dir / PARTS).glob(".*.tmp"):   # left by a killed writer
        tmp.unlink(missing_ok=True)


def iter_parts(run_dir: Path, n_blocks: int) -> Iterator[Path]:
    """Block files in block order."""
    for b in range(n_blocks):
        yield part_path(run_dir, b)


def concatenate_parts(run_dir: Path, n_blocks: int) -> Path:
    """Write runs.parquet from the block files, one block in memory at a time, one row group per block.

    The output bytes depend only on the block files, so they are identical whatever executor produced
    them. Written to a temporary file and renamed, like the blocks.
    """
    run_dir = Path(run_dir)
    out = run_dir / RUNS
    fd, tmp = tempfile.mkstemp(dir=run_dir, prefix=f".{RUNS}.", suffix=".tmp")
    os.fchmod(fd, FILE_MODE)
    os.close(fd)
    try:
        writer = None
        for path in iter_parts(run_dir, n_blocks):
            table = pq.read_table(path)
            if writer is None:
                writer = pq.ParquetWriter(tmp, table.schema, compression="zstd")
            elif table.schema != writer.schema:
                raise ValueError(f"{path.name}: columns differ from block 0 "
                                 f"({table.schema} vs {writer.schema})")
            writer.write_table(table, row_group_size=max(1, table.num_rows))
            del table
        if writer is not None:
            writer.close()
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return out
