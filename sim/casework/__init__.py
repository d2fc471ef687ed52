"""Casework: spatial bargaining cases from CSV, engines run over many cases, scores against outcomes.

This is I/O and lives above :mod:`sim.engines` (which stays pure numpy). Used by ``negsim forecast`` and
``negsim validate-engines``.
"""

from __future__ import annotations

from sim.casework.adapters import ENGINES, CaseForecast, default_scale, forecast_case
from sim.casework.data import Case, read_cases, read_cases_frame, read_outcomes
from sim.casework.run import history_frame, predictions_frame, probabilities_frame, run_cases

__all__ = [
    "ENGINES",
    "Case",
    "CaseForecast",
    "default_scale",
    "forecast_case",
    "history_frame",
    "predictions_frame",
    "probabilities_frame",
    "read_cases",
    "read_cases_frame",
    "read_outcomes",
    "run_cases",
]
