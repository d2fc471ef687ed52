"""`negsim schema`: print the JSON Schema of scenario files (for editors' autocompletion and checks).

The shipped copy is ``scenarios/scenario.schema.json`` (regenerate with
``negsim schema > scenarios/scenario.schema.json``); scenario files point at it with a
``# yaml-language-server: $schema=scenario.schema.json`` comment.
"""

from __future__ import annotations

import argparse


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register the subcommand."""
    p = sub.add_parser(
        "schema",
        help="print the JSON Schema of scenario files",
        description="Print the JSON Schema of the scenario format (generated from the typed schema).",
    )
    p.set_defaults(handler=main)


def main(args: argparse.Namespace) -> int:
    """Print the schema as indented JSON."""
    import json

    from sim.scenario.schema import json_schema

    print(json.dumps(json_schema(), indent=2, ensure_ascii=False))
    return 0
