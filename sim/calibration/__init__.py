"""Calibration: facts files, statistics of facts over a run's records, history matching in waves.

Modules, one job each: :mod:`~sim.calibration.facts` (the facts file: schema, loader, FILE:LINE errors,
the look-ahead and record checks), :mod:`~sim.calibration.statistics` (a fact's per-replicate statistic),
:mod:`~sim.calibration.implausibility` (the implausibility measure), :mod:`~sim.calibration.waves`
(sampling and refocusing), :mod:`~sim.calibration.run` (the waves as batches of the batch engine),
:mod:`~sim.calibration.report` (Markdown and charts). ``docs/calibration.md`` describes the method.
"""
