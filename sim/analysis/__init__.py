"""sim.analysis: what a run directory says, with honest intervals (DESIGN §2, §5).

One module per question; import the one you need (nothing heavy is imported here):

- :mod:`~sim.analysis.rundir`: load a run directory (runs.parquet, manifest.json, summary.json).
- :mod:`~sim.analysis.probabilities`: outcome probabilities, Wilson (Monte Carlo) and per-draw intervals.
- :mod:`~sim.analysis.survival`: Kaplan-Meier time to agreement, censored at the horizon; restricted mean.
- :mod:`~sim.analysis.settlements`: per-issue settlements by kind of agreement; TERR_CTRL x SEC_GUAR.
- :mod:`~sim.analysis.compare`: paired (common random numbers) or unpaired differences between runs.
- :mod:`~sim.analysis.leverfile`: named overlays with sourced expectations, checked as scenarios are.
- :mod:`~sim.analysis.lever_runs`: the base and every lever as batches with common random numbers; resume.
- :mod:`~sim.analysis.levers`: paired effects of each lever and the verdict on its expectation.
- :mod:`~sim.analysis.sensitivity`: Morris and Sobol' indices of any vectorised model over the unit cube.
- :mod:`~sim.analysis.negsim_model`: negsim as such a model (quantile mapping + batch engine).
- :mod:`~sim.analysis.prim`: PRIM scenario discovery (peeling, pasting, pruning, covering).
- :mod:`~sim.analysis.drivers`: rank association of sampled parameters with an outcome across draws.
- :mod:`~sim.analysis.diagnostics`: why: binding veto player, levers, events.
- :mod:`~sim.analysis.words`: ICD 203 probability words and plain-language sentences.
"""
