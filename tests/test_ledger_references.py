"""Reference forecasts beside the model: summary.json's references, the briefing's lines and their reason."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from sim.analysis.references import comparison_line, divergence_reason, latest_crowd, reference_lines
from sim.analysis.rundir import load_run
from sim.batch.answers import load_default, question_probability, summary_references
from sim.charts.briefing import briefing_data
from tests.test_ledger import small_run

ROOT = Path(__file__).resolve().parents[1]


def veto_runs(n: int = 20, ru: int = 18, no_round: int = 0) -> pd.DataFrame:
    """``n`` runs: Russia the binding veto player in ``ru`` of the runs with a round, Ukraine in the rest."""
    veto = np.array(["RU"] * ru + ["UA"] * (n - ru), dtype=object)
    rounds = np.full(n, 5)
    rounds[:no_round] = 0
    veto[:no_round] = ""
    levers = np.r_[np.ones(5), np.zeros(n - 5)]
    return pd.DataFrame({"binding_veto": veto, "n_rounds": rounds, "levers_fired": levers,
                         "events_fired": [""] * n})


def test_reason_names_the_binding_veto_player_when_the_model_is_lower():
    why = divergence_reason(veto_runs(), 0.05, 0.30, names={"RU": "Russia"})
    assert why == ("Why the model is lower (5% vs the crowd 30%): Russia is the binding veto player in 90% "
                   "of runs with a round.")


def test_reason_adds_runs_without_a_round_and_is_empty_within_the_margin():
    why = divergence_reason(veto_runs(20, 18, no_round=4), 0.05, 0.30)
    # 14 of the 16 runs with a round have RU binding; 4 of 20 runs hold no round
    assert "RU is the binding veto player in 88% of runs with a round; no round is held in 20% of runs." \
        in why
    assert divergence_reason(veto_runs(), 0.20, 0.30) == ""
    assert divergence_reason(veto_runs(), 0.15, 0.30, margin=0.15) == ""  # exactly the margin: no reason
    higher = divergence_reason(veto_runs(), 0.60, 0.30)
    assert higher == ("Why the model is higher (60% vs the crowd 30%): the mediator pulls a lever in 25% of "
                      "runs; median 5 rounds.")


REC = {"label": "Ceasefire or deal by 31 Dec 2026", "resolves": "2026-12-31", "model": {"p": 0.12},
       "references": [
           {"id": "b1", "kind": "base_rate", "value": 0.444, "date": "2010-01-01",
            "class": "wars past 4 years: 4 of 9"},
           {"id": "b2", "kind": "base_rate", "value": 0.18, "date": "2010-01-01",
            "class": "wars past 3 years"},
           {"id": "m1", "kind": "market", "value": 0.24, "date": "2025-12-09", "after_cutoff": False},
           {"id": "m2", "kind": "market", "value": 0.27, "date": "2026-04-27", "after_cutoff": True}]}


def test_comparison_line_shows_the_first_base_rate_and_the_latest_crowd_number():
    assert latest_crowd(REC)["id"] == "m2"
    assert comparison_line(REC) == ("Ceasefire or deal by 31 Dec 2026: model 12% | base rate 44% "
                                    "(wars past 4 years) | market 27% (27 Apr 2026, after cut-off)")


def test_summary_references_of_a_run_from_the_repository_files(tmp_path):
    run = small_run(tmp_path / "r")
    scenario = json.loads((run / "manifest.json").read_text())["resolved_scenario"]["data"]
    refs = summary_references(run, scenario, 4)
    questions, _ = load_default()
    # a 52-week run answers the 2026 questions, not those that resolve later
    assert "any_agreement_by_2026_12_31" in refs and "any_agreement_by_2027_06_30" not in refs
    rec = refs["any_agreement_by_2026_12_31"]
    runs = load_run(run).runs
    assert rec["model"]["p"] == question_probability(questions["any_agreement_by_2026_12_31"], runs,
                                                     "2026-01-05", 52)["p"]
    after = {r["id"]: r["after_cutoff"] for r in rec["references"]}
    assert after["cow_past4y_12m"] is False and after["market_ceasefire_2026_20260427"] is True
    dates = [r["date"] for r in rec["references"]]
    assert dates == sorted(dates)


def test_briefing_lines_for_a_run_with_references(tmp_path):
    path = small_run(tmp_path / "r")
    summary = json.loads((path / "summary.json").read_text())
    scenario = json.loads((path / "manifest.json").read_text())["resolved_scenario"]["data"]
    summary["references"] = {"any_agreement_by_2026_12_31": REC}
    (path / "summary.json").write_text(json.dumps(summary))
    run = load_run(path)
    run.runs["binding_veto"] = veto_runs()["binding_veto"]
    run.runs["n_rounds"] = 5
    lines = reference_lines(run)
    assert lines[0] == comparison_line(REC)
    assert lines[1].startswith("Why the model is lower (12% vs market 27%): RU is")
    assert scenario["scenario"]["start_date"] == "2026-01-05"


def test_briefing_without_references_has_no_lines(tmp_path):
    from tests.fixtures_runs import write_run_dir

    run = load_run(write_run_dir(tmp_path / "base", seed=6, n_draws=20, paths_per_draw=5))
    assert briefing_data(run).references == []  # no start date: no question can be answered


def test_negsim_run_writes_references_into_summary(tmp_path):
    out = tmp_path / "run"
    cmd = [sys.executable, "-m", "sim", "run", "scenarios/baseline.yaml", "--runs", "100", "--seed", "3",
           "--out", str(out), "--quiet"]
    res = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    s = json.loads((out / "summary.json").read_text())
    rec = s["references"]["any_agreement_by_2026_12_31"]
    df = pq.read_table(out / "runs.parquet").to_pandas()
    # end of 31 Dec 2026 is week 360/7 = 51.4 from 5 Jan 2026
    assert rec["model"]["p"] == pytest.approx((df["weeks_to_agreement"] <= 360 / 7).mean())
    assert rec["model"]["lo"] <= rec["model"]["p"] <= rec["model"]["hi"]
    assert {r["kind"] for r in rec["references"]} >= {"base_rate", "market"}
    assert set(s["references"]) >= {"war_on_at_week_52", "comprehensive_deal_by_2026_12_31"}
