"""Problems found in a scenario, and the error that reports all of them at once.

Every problem knows the file and the 1-based line it comes from, the dotted path of the offending value
and a message that says what is wrong and what was expected, so that editors and humans can jump to it::

    scenarios/variant.yaml:12: actors.RU.capability: must be > 0 (expected a positive number)

The loader never stops at the first problem: it collects them all, sorts them by file and line and raises
one :class:`ScenarioError` listing every one.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass

from sim.errors import UserError

#: A path inside the scenario: mapping keys (str, or float for issue anchors) and list indices (int).
Path = tuple[object, ...]

#: Path label used for problems that concern the whole document (syntax, encoding, empty file).
DOCUMENT = "<document>"


@dataclass(frozen=True)
class Loc:
    """Where a YAML node starts: the file as the user named it and the 1-based line and column."""

    file: str
    line: int
    col: int = 1


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a scenario."""

    file: str
    line: int
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.path}: {self.message}"


def dotted(path: Iterable[object]) -> str:
    """Join a path into its dotted form (``actors.RU.positions.NATO.ideal``); the root is ``<document>``."""
    parts = [str(p) for p in path]
    return ".".join(parts) if parts else DOCUMENT


def did_you_mean(word: object, choices: Iterable[object]) -> str:
    """Return ``" (did you mean X?)"``-style hint text for a misspelt key, or ``""`` if nothing is close.

    Uses :func:`difflib.get_close_matches` (ratio >= 0.6), the same heuristic as Python's own
    ``NameError`` suggestions.
    """
    names = [str(c) for c in choices]
    close = difflib.get_close_matches(str(word), names, n=1, cutoff=0.6)
    return f"did you mean '{close[0]}'? " if close else ""


class ScenarioError(UserError):
    """A scenario that cannot be used, with every problem found (``.problems``), one per line.

    Problems are ordered by file (``files``: the file given first, then its parents), then line.
    """

    def __init__(self, problems: list[Problem], files: list[str] | None = None) -> None:
        rank = {f: i for i, f in enumerate(files or [])}
        ordered = sorted(set(problems), key=lambda p: (rank.get(p.file, len(rank)), p.file, p.line, p.path,
                                                       p.message))
        self.problems = ordered
        super().__init__("\n".join(str(p) for p in ordered))
