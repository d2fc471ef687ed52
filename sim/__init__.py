"""negsim: an agent-based Monte Carlo model of the Russia-Ukraine war-termination negotiations.

Layers (each imports only the ones below it; DESIGN.md section 2)::

    sim.commands / sim.cli   the `negsim` command, a thin layer over the Python API
    sim.charts               matplotlib figures and the one-page briefing
    sim.analysis             probabilities with intervals, survival, comparison, sensitivity, discovery
    sim.batch                seeded blocks of replicates, executors, run directories
    sim.model                the Mesa model over replicate arrays, one function per phase
    sim.scenario             YAML scenarios: load, overlay, validate, sample parameters
    sim.engines              pure numpy bargaining solvers (compromise, nash, bdm_scholz, ktab_smp)
    sim.errors               the user-facing error type shared by every layer
"""

__version__ = "0.1.0"
