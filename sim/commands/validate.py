"""`negsim validate FILE...`: check scenario files and report every problem of every file.

Questions, references and resolutions files (``questions/``, ``references/``, ``ledger/resolutions.yaml``,
told apart by their top-level key) are checked too; references and resolutions against the questions files
given, else the repository's ``questions/*.yaml``.

Exit code 0 if all are valid (``FILE: ok`` per file on stdout), 2 otherwise; problems go to stderr as
``FILE:LINE: path.to.field: what is wrong (expected ...)``, never as a traceback. A valid file whose
inputs are stale (:mod:`sim.scenario.staleness`: information cut-off or newest input more than 90 days
before the start date) also gets a ``warning: FILE: ...`` line on stderr; the exit code is unchanged.
"""

from __future__ import annotations

import argparse
import sys


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register the subcommand."""
    p = sub.add_parser(
        "validate",
        help="check scenario files (exit 0 if all valid, 2 otherwise)",
        description="Check scenario files: YAML, types, ranges, references, extends chains. Every problem "
        "of every file is printed as FILE:LINE: path: what is wrong (expected ...). Questions, references "
        "and resolutions files (docs/forecasting.md) are checked too.",
    )
    p.add_argument("files", nargs="+", metavar="FILE", help="scenario (or questions, references, "
                   "resolutions) YAML files")
    p.set_defaults(handler=main)


def main(args: argparse.Namespace) -> int:
    """Validate each file; print ``FILE: ok`` or its problems; return 0 or 2."""
    from sim.scenario import ScenarioError, load_scenario
    from sim.scenario import questions as qfiles
    from sim.scenario.staleness import staleness_warning

    kinds = {name: qfiles.file_kind(name) for name in args.files}
    given = [n for n, k in kinds.items() if k == "questions"]
    questions = None
    status = 0
    for name in args.files:
        sc = None
        try:
            if kinds[name] is None:
                sc = load_scenario(name)
            elif kinds[name] == "questions":
                qfiles.load_questions([name])
            else:
                if questions is None:
                    questions = qfiles.load_questions(given or qfiles.default_files("questions"))
                if kinds[name] == "references":
                    qfiles.load_references([name], questions)
                else:
                    qfiles.load_resolutions(name, questions)
        except ScenarioError as err:
            print(err.message, file=sys.stderr)
            status = 2
        else:
            print(f"{name}: ok")
            warning = staleness_warning(sc, name) if sc is not None else None
            if warning:
                print(warning, file=sys.stderr)
    return status
