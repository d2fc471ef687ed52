"""The scenario layer: load, overlay and validate scenario files; sample their uncertain parameters.

Public API (``docs/contracts.md``)::

    sc = load_scenario(path)                          # raises ScenarioError listing every problem
    draws = sample_parameters(sc, n_draws, seed_seq)  # DataFrame, one column per uncertain value
    params = materialise(sc, draws, draw_index)       # sc.data with (R,) arrays at uncertain leaves
    resolved_for_manifest(sc)                         # JSON-able record for manifest.json

Modules: :mod:`~sim.scenario.yamlsource` (safe YAML with lines), :mod:`~sim.scenario.overlay`
(``extends`` and provenance), :mod:`~sim.scenario.distributions` (the grammar),
:mod:`~sim.scenario.fields` and :mod:`~sim.scenario.schema` (typed schema), :mod:`~sim.scenario.checks`
(cross-block rules, error translation), :mod:`~sim.scenario.loader`, :mod:`~sim.scenario.sampling`.
"""

from typing import Any

from sim.scenario.loader import Scenario, load_scenario, resolved_for_manifest
from sim.scenario.problems import Problem, ScenarioError

_LAZY = {"expected_columns", "materialise", "sample_parameters"}


def __getattr__(name: str) -> Any:
    """Import the sampling functions on first use (pandas and scipy are slow; `validate` needs neither)."""
    if name in _LAZY:
        from sim.scenario import sampling

        return getattr(sampling, name)
    raise AttributeError(f"module 'sim.scenario' has no attribute {name!r}")

__all__ = [
    "Problem",
    "Scenario",
    "ScenarioError",
    "expected_columns",
    "load_scenario",
    "materialise",
    "resolved_for_manifest",
    "sample_parameters",
]
