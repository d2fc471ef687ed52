"""`negsim validate`: placeholder until its issue lands (the owning helper replaces this module)."""

from __future__ import annotations

import argparse

from sim.errors import UserError


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register the subcommand."""
    p = sub.add_parser("validate", help="(not built yet)", description="Not built yet.")
    p.set_defaults(handler=main)


def main(args: argparse.Namespace) -> int:
    """Refuse clearly: this command is not built yet."""
    raise UserError("negsim validate: not built yet")
