"""negsim: an agent-based Monte Carlo model of the Russia-Ukraine war-termination negotiations.

Layers (each imports only the ones below it; DESIGN.md section 2)::

    sim.commands / sim.cli   the `negsim` command, a thin layer over the Python API
    sim.charts               matplotlib figures and the one-page briefing
    sim.analysis             probabilities with intervals, survival, comparison, sensitivity, discovery
    sim.calibration          facts files, statistics of facts, history matching in waves (negsim calibrate)
    sim.batch                seeded blocks of replicates, executors, run directories
    sim.model                the Mesa model over replicate arrays, one function per phase
    sim.scenario             YAML scenarios: load, overlay, validate, sample parameters
    sim.engines              pure numpy bargaining solvers (compromise, nash, bdm_scholz, ktab_smp)
    sim.errors               the user-facing error type shared by every layer
"""

__version__ = "0.1.0"

#: The Python API (:mod:`sim.api`), loaded on first use (PEP 562) so that ``import sim`` and
#: ``negsim --help`` do not import pandas, matplotlib or the model.
_API = ("run", "load", "compare", "write_overlay", "Run", "Comparison")
__all__ = [*_API, "__version__"]


def __getattr__(name: str):
    """Return ``sim.run``, ``sim.load``, ... from :mod:`sim.api` on first use."""
    if name in _API:
        import importlib

        return getattr(importlib.import_module("sim.api"), name)
    raise AttributeError(f"module 'sim' has no attribute {name!r}")
