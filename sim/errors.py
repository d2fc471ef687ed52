"""User-facing errors.

Every problem a user can cause (a bad scenario, a missing file, a refused comparison) is raised as a
:class:`UserError`. The CLI prints its message and exits with its code, never with a traceback.
"""

from __future__ import annotations


class UserError(Exception):
    """An error caused by the user's input, reported as a message and an exit code (default 2)."""

    def __init__(self, message: str, exit_code: int = 2) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code

    def __str__(self) -> str:
        return self.message
