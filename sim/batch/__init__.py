"""sim.batch."""
