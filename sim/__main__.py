"""Allow ``python -m sim`` as a synonym for the ``negsim`` command."""

from sim.cli import entry_point

raise SystemExit(entry_point())
