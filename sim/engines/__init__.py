"""sim.engines."""
