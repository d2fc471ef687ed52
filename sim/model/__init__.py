"""sim.model."""
