"""The shipped facts files and the calibrated baseline: they load, name records their replays write, and
respect every scenario's information cut-off."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from sim.calibration.facts import check_columns, check_cutoff, check_within_run, load_facts
from sim.calibration.run import carried_columns
from sim.calibration.statistics import record_columns
from sim.scenario import ScenarioError, load_scenario

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("name, replay_id", [("2025", "hindcast_2025"), ("2026h1", "baseline")])
def test_each_facts_file_reads_records_its_replay_writes_within_its_run(name, replay_id):
    facts = load_facts([ROOT / "facts" / f"{name}.yaml"])
    replay = load_scenario(facts.replay)
    assert replay.id == replay_id
    check_columns(facts, record_columns(replay))
    info = replay.data["scenario"]
    check_within_run(facts, info["start_date"], info["horizon_weeks"])


def test_the_2025_facts_calibrate_the_december_baseline_and_the_2026_facts_only_a_later_one():
    facts_2025 = load_facts([ROOT / "facts" / "2025.yaml"])
    facts_2026 = load_facts([ROOT / "facts" / "2026h1.yaml"])
    baseline = load_scenario(ROOT / "scenarios" / "baseline.yaml")
    later = load_scenario(ROOT / "scenarios" / "baseline_2026h2.yaml")
    check_cutoff(facts_2025, baseline.data["scenario"]["info_cutoff"], baseline.id)
    check_cutoff(facts_2026, later.data["scenario"]["info_cutoff"], later.id)
    with pytest.raises(ScenarioError, match="after the information cut-off 2025-12-31 of scenario baseline"):
        check_cutoff(facts_2026, baseline.data["scenario"]["info_cutoff"], baseline.id)
    carried = carried_columns(facts_2025, baseline, load_scenario(facts_2025.replay))
    assert "mediator.round_rate_per_week" in carried and "war.drift_per_year" not in carried


def test_the_calibrated_baseline_draws_the_carried_parameters_from_its_file():
    sc = load_scenario(ROOT / "scenarios" / "baseline_calibrated.yaml")
    draws = pd.read_parquet(ROOT / "scenarios" / "calibrated" / "baseline_2025.parquet")
    facts = load_facts([ROOT / "facts" / "2025.yaml"])
    carried = carried_columns(facts, load_scenario(ROOT / "scenarios" / "baseline.yaml"),
                              load_scenario(facts.replay))  # fmt: skip
    assert sorted(c for c in draws.columns if c != "weight") == sorted(carried)
    assert sc.calibration["facts"] == facts.ids
    assert len(draws) >= 50 and draws["weight"].sum() == pytest.approx(1.0)


def test_the_calibrated_mid_2026_baseline_keeps_what_it_re_based_on_2026():
    sc = load_scenario(ROOT / "scenarios" / "baseline_2026h2_calibrated.yaml")
    draws = pd.read_parquet(ROOT / sc.path.parent / sc.calibration["draws"])
    kept = {"mediator.round_rate_per_week", "mediator.deadlines.credibility",
            "partial_agreements.ENERGY_MORATORIUM.proposal_rate",
            "partial_agreements.PRISONER_EXCHANGE.proposal_rate",
            "partial_agreements.SHORT_TRUCE.proposal_rate"}
    assert not kept & set(draws.columns) and "acceptance_noise.sigma_xi" in draws.columns
    both = load_facts([ROOT / "facts" / "2025.yaml", ROOT / "facts" / "2026h1.yaml"])
    assert sc.calibration["facts"] == both.ids
