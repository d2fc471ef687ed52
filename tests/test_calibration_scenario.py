"""A scenario's `calibration:` section: its draws replace the priors of the calibrated parameters."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.batch.runner import calibration_summary
from sim.scenario import ScenarioError, load_scenario, sample_parameters

BASELINE = Path(__file__).resolve().parents[1] / "scenarios" / "baseline.yaml"
COLS = ["war.drift_per_year", "scenario.structure.text_solver"]


def _variant(tmp_path, draws: str = "draws.parquet") -> Path:
    p = tmp_path / "calibrated.yaml"
    p.write_text(f"extends: {BASELINE}\nscenario:\n  id: cal\ncalibration:\n  draws: {draws}\n"
                 "  facts: [F1, F2]\n  waves: 2\n")
    return p


def test_calibrated_columns_are_resampled_rows(tmp_path):
    pd.DataFrame({COLS[0]: [0.01, 0.2], COLS[1]: ["nash", "kalai_smorodinsky"], "weight": [0.25, 0.75],
                  "not.a.parameter": [1.0, 2.0]}).to_parquet(tmp_path / "draws.parquet")
    sc = load_scenario(_variant(tmp_path))
    assert sc.files[-1][0] == tmp_path / "draws.parquet"
    draws = sample_parameters(sc, 400, np.random.SeedSequence(3))
    # systematic resampling: exactly a quarter of the draws take row 0, whole rows (joint structure)
    first = draws[COLS[0]] == 0.01
    assert first.sum() == 100
    assert (draws.loc[first, COLS[1]] == "nash").all()
    assert (draws.loc[~first, COLS[1]] == "kalai_smorodinsky").all()
    assert "not.a.parameter" not in draws.columns
    # reproducible; the other parameters keep the prior's draws (common random numbers)
    pd.testing.assert_frame_equal(draws, sample_parameters(sc, 400, np.random.SeedSequence(3)))
    prior = sample_parameters(load_scenario(BASELINE), 400, np.random.SeedSequence(3))
    other = [c for c in prior.columns if c not in COLS]
    pd.testing.assert_frame_equal(draws[other], prior[other])
    assert calibration_summary(sc) == {"calibrated": True, "facts": ["F1", "F2"], "facts_files": [],
                                       "waves": 2, "draws": "draws.parquet"}
    assert calibration_summary(load_scenario(BASELINE)) == {"calibrated": False, "facts": []}


def test_a_missing_or_bad_draws_file_is_an_error_with_its_line(tmp_path):
    path = _variant(tmp_path, "none.parquet")
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    assert err.value.message.startswith(f"{path}:5: calibration.draws: {tmp_path / 'none.parquet'}: file not "
                                        "found")
    pd.DataFrame({COLS[0]: [0.1]}).to_parquet(tmp_path / "none.parquet")
    with pytest.raises(ScenarioError, match="no 'weight' column"):
        load_scenario(path)
