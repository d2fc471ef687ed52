"""The analysis layer and summary.json (batch layer) report the same numbers for the same run."""

import pytest

from sim.analysis.probabilities import outcome_probabilities
from sim.analysis.rundir import load_run
from sim.analysis.survival import agreement_curves
from tests.fixtures_runs import write_run_dir


def test_probabilities_and_median_time_match_summary_json(tmp_path):
    run = load_run(write_run_dir(tmp_path / "r", seed=12, n_draws=200, paths_per_draw=10, agree_mult=3.0))
    table = outcome_probabilities(run.runs).set_index(["horizon", "outcome"])
    for h, block in run.summary["by_horizon"].items():
        for outcome, rec in block["outcomes"].items():
            row = table.loc[(int(h), outcome)]
            for ours, theirs in (
                ("p", "p"),
                ("lo", "lo"),
                ("hi", "hi"),
                ("mc_lo", "mc_lo"),
                ("mc_hi", "mc_hi"),
                ("draw_lo80", "p10"),
                ("draw_median", "p50"),
                ("draw_hi80", "p90"),
            ):
                assert row[ours] == pytest.approx(rec[theirs], abs=1e-12), (h, outcome, ours)
    km = agreement_curves(run.runs, run.horizon_weeks)["first_agreement"]
    median = run.summary["time_to_agreement_weeks"]["median"]
    assert median is not None  # agree_mult=3: most runs agree within the horizon
    assert km.median() == pytest.approx(median)
