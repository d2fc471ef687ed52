"""'Why' diagnostics: binding veto shares, event and lever frequencies."""

import pandas as pd
import pytest

from sim.analysis.diagnostics import diagnostics


def test_diagnostics_counts():
    runs = pd.DataFrame(
        {
            "binding_veto": ["RU", "RU", "UA", "", "RU"],
            "events_fired": ["A;B", "B", "", "A;A", "C"],
            "levers_fired": [0, 2, 1, 0, 0],
            "n_rounds": [3, 5, 7, 0, 9],
        }
    )
    d = diagnostics(runs)
    assert d.binding_veto.to_dict() == {"RU": 0.75, "UA": 0.25}  # over the 4 runs with a round
    assert d.events.to_dict() == pytest.approx({"A": 0.4, "B": 0.4, "C": 0.2})  # A counted once in run 4
    assert d.lever_share == 0.4 and d.rounds_median == 5
    assert d.sentence() == (
        "Party with least to gain at the last round (the one to move): RU 75%, UA 25%; "
        "mediator levers used in 40% of runs; median 5 negotiating rounds."
    )


def test_diagnostics_without_rounds_or_events():
    runs = pd.DataFrame(
        {"binding_veto": ["", ""], "events_fired": ["", ""], "levers_fired": [0, 0], "n_rounds": [0, 0]}
    )
    d = diagnostics(runs)
    assert d.binding_veto.empty and d.events.empty
    assert d.sentence() == "mediator levers used in 0% of runs; median 0 negotiating rounds."
