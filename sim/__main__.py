"""Allow ``python -m sim`` as a synonym for the ``negsim`` command."""

from sim.cli import main

raise SystemExit(main())
