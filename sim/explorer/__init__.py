"""The what-if page of ``negsim explore``: a local Solara app over the Python API (:mod:`sim.api`).

Modules: :mod:`~sim.explorer.assumptions` (which values the page offers, with meaning and source),
:mod:`~sim.explorer.whatif` (quick batches on workers kept alive between runs, with progress and
cancellation, compared with the unchanged scenario under common random numbers),
:mod:`~sim.explorer.app` (the page), :mod:`~sim.explorer.server` (serving it on 127.0.0.1).
"""
