"""Reading and checking spatial bargaining cases in the long CSV format.

One row per actor per case and dimension (``validation/README.md``)::

    case,dimension,actor,capability,position,salience

Every problem a user can cause is reported as a :class:`~sim.errors.UserError` whose lines read
``FILE:LINE: column: what is wrong (expected ...)``, LINE being the 1-based line of the CSV file (the header
is line 1), so that the message points at the row to fix.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sim.errors import UserError

COLUMNS = ("case", "dimension", "actor", "capability", "position", "salience")
NUMERIC = ("capability", "position", "salience")
MAX_PROBLEMS = 20


@dataclass(frozen=True)
class Case:
    """One bargaining case: n actors on D dimensions, in the dataset's own units.

    Attributes
    ----------
    name : case id.
    dimensions : the D dimension names, in file order.
    actors : the n actor names, in file order.
    capability : (n,) capability of each actor (the first value given for the actor).
    position : (n, D) positions; NaN where an actor gives no position on a dimension.
    salience : (n, D) saliences in [0, 1]; 0 where an actor gives no position.
    """

    name: str
    dimensions: tuple[str, ...]
    actors: tuple[str, ...]
    capability: np.ndarray
    position: np.ndarray
    salience: np.ndarray

    def present(self, d: int) -> np.ndarray:
        """Boolean mask of the actors with a position on dimension ``d``."""
        return ~np.isnan(self.position[:, d])


def _problem_list(path: Path, problems: list[str]) -> UserError:
    shown = problems[:MAX_PROBLEMS]
    more = len(problems) - len(shown)
    if more:
        shown.append(f"{path}: ... and {more} more problem(s)")
    return UserError("\n".join(shown))


def read_cases_frame(path: str | Path) -> pd.DataFrame:
    """Read and check a cases CSV; return a DataFrame with numeric columns and a ``line`` column.

    Raises
    ------
    UserError
        For a missing or unreadable file, missing columns, empty or non-numeric values, negative
        capability, salience outside [0, 1], duplicate rows, and a case dimension with one actor only.
    """
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: no such file")
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as err:
        raise UserError(f"{path}: cannot read as CSV ({str(err).strip()})") from None
    raw.columns = [str(c).strip() for c in raw.columns]
    missing = [c for c in COLUMNS if c not in raw.columns]
    if missing:
        raise UserError(
            f"{path}: missing column(s) {', '.join(missing)} (expected columns {','.join(COLUMNS)})"
        )
    if raw.empty:
        raise UserError(f"{path}: no data rows (expected one row per actor, case and dimension)")
    df = raw[list(COLUMNS)].copy()
    for col in COLUMNS:
        df[col] = df[col].astype(str).str.strip()
    df["line"] = np.arange(len(df)) + 2
    problems: list[str] = []
    for col in ("case", "dimension", "actor"):
        for line in df.loc[df[col] == "", "line"]:
            problems.append(f"{path}:{line}: {col}: value is missing")
    for col in NUMERIC:
        num = pd.to_numeric(df[col], errors="coerce")
        bad = num.isna() | ~np.isfinite(num)
        for line, value in zip(df.loc[bad, "line"], df.loc[bad, col], strict=True):
            if value == "":
                problems.append(f"{path}:{line}: {col}: value is missing (expected a number)")
            else:
                problems.append(f"{path}:{line}: {col}: {value!r} is not a number")
        df[col] = num
    for line, v in zip(df["line"], df["capability"], strict=True):
        if v < 0:
            problems.append(f"{path}:{line}: capability: {v:g} is negative (expected >= 0)")
    for line, v in zip(df["line"], df["salience"], strict=True):
        if v < 0 or v > 1:
            problems.append(f"{path}:{line}: salience: {v:g} is outside [0, 1]")
    key = ["case", "dimension", "actor"]
    dup = df.duplicated(key, keep=False)
    if dup.any():
        first = df[dup].groupby(key, sort=False)["line"].transform("min")
        for line, f0, (c, d, a) in zip(
            df.loc[dup, "line"], first, df.loc[dup, key].itertuples(index=False), strict=True
        ):
            if line != f0:
                problems.append(
                    f"{path}:{line}: duplicate row for case {c!r}, dimension {d!r}, actor {a!r} "
                    f"(first on line {f0})"
                )
    sizes = df.groupby(["case", "dimension"], sort=False)["actor"].transform("size")
    for line, c, d in zip(
        df.loc[sizes < 2, "line"], df.loc[sizes < 2, "case"], df.loc[sizes < 2, "dimension"], strict=True
    ):
        problems.append(
            f"{path}:{line}: case {c!r}, dimension {d!r} has only one actor (expected at least 2)"
        )
    if problems:
        raise _problem_list(path, sorted(set(problems), key=_line_of))
    return df


def _line_of(msg: str) -> tuple[int, str]:
    parts = msg.split(":")
    try:
        return int(parts[1]), msg
    except (IndexError, ValueError):
        return 10**9, msg


def cases_from_frame(df: pd.DataFrame) -> list[Case]:
    """Group a checked cases DataFrame into :class:`Case` objects (file order)."""
    out = []
    for name, g in df.groupby("case", sort=False):
        dims = tuple(dict.fromkeys(g["dimension"]))
        actors = tuple(dict.fromkeys(g["actor"]))
        pos = g.pivot(index="actor", columns="dimension", values="position").reindex(
            index=actors, columns=dims
        )
        sal = g.pivot(index="actor", columns="dimension", values="salience").reindex(
            index=actors, columns=dims
        )
        cap = g.groupby("actor", sort=False)["capability"].first().reindex(actors)
        out.append(
            Case(
                name=str(name),
                dimensions=dims,
                actors=actors,
                capability=cap.to_numpy(dtype=float),
                position=pos.to_numpy(dtype=float),
                salience=np.nan_to_num(sal.to_numpy(dtype=float), nan=0.0),
            )
        )
    return out


def read_cases(path: str | Path) -> list[Case]:
    """Read, check and group a cases CSV (see :func:`read_cases_frame`)."""
    return cases_from_frame(read_cases_frame(path))


def read_outcomes(path: str | Path) -> pd.DataFrame:
    """Read an outcomes CSV (``case,dimension,outcome[,...]``); extra columns such as procedure are kept."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: no such file")
    df = pd.read_csv(path, dtype={"case": str, "dimension": str})
    missing = [c for c in ("case", "dimension", "outcome") if c not in df.columns]
    if missing:
        raise UserError(
            f"{path}: missing column(s) {', '.join(missing)} (expected columns case,dimension,outcome)"
        )
    out = pd.to_numeric(df["outcome"], errors="coerce")
    if out.isna().any():
        line = int(np.flatnonzero(out.isna().to_numpy())[0]) + 2
        raise UserError(f"{path}:{line}: outcome: {df['outcome'].iloc[line - 2]!r} is not a number")
    df["outcome"] = out.astype(float)
    return df
