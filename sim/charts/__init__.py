"""sim.charts."""
