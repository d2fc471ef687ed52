"""sim.analysis."""
