"""The forecast ledger: scores on hand-computed cases, run answers, append-only files, the CLI."""

from __future__ import annotations

import datetime as dt
import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.analysis.ledger import (
    FORECASTS,
    RESOLUTIONS,
    add_forecasts,
    add_resolutions,
    brier,
    forecast_entries,
    log_score,
    paired_means,
    read_jsonl,
    reliability,
    score_means,
    score_table,
)
from sim.analysis.rundir import load_run
from sim.batch.answers import Unanswerable, question_probability, references_block
from sim.errors import UserError
from sim.scenario.questions import Question, Reference, Resolution, week_of

ROOT = Path(__file__).resolve().parents[1]


def negsim(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sim", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=180)


# --- scores, hand-computed --------------------------------------------------------------------------

def test_brier_hand_cases():
    got = brier([0.8, 0.8, 0.0, 1.0, 0.5], [1, 0, 1, 1, 0])
    np.testing.assert_allclose(got, [0.04, 0.64, 1.0, 0.0, 0.25])


def test_log_score_hand_cases_and_clip():
    got = log_score([0.8, 0.8, 0.5, 0.0, 1.0, 1.0], [1, 0, 0, 1, 1, 0])
    want = [math.log(0.8), math.log(0.2), math.log(0.5), math.log(1e-6), math.log(1 - 1e-6), math.log(1e-6)]
    np.testing.assert_allclose(got, want, rtol=1e-9)  # log1p(-(1 - 1e-6)) vs log(1e-6): rounding of 1 - 1e-6
    assert np.all(np.isfinite(got))


def test_reliability_binning_hand_case():
    p = [0.05, 0.15, 0.12, 0.10, 0.95, 1.0, 0.55]
    o = [0, 1, 0, 0, 1, 1, 0]
    rel = reliability(p, o, n_bins=10)
    # bins 0 ([0, .1)), 1 ([.1, .2): 0.10, 0.12, 0.15), 5 (0.55) and 9 ([.9, 1], 1.0 included); others empty
    assert rel["lo"].tolist() == [0.0, 0.1, 0.5, 0.9]
    assert rel["n"].tolist() == [1, 3, 1, 2]
    np.testing.assert_allclose(rel["mean_p"], [0.05, (0.15 + 0.12 + 0.10) / 3, 0.55, 0.975])
    np.testing.assert_allclose(rel["freq"], [0.0, 1 / 3, 0.0, 1.0])


def test_reliability_bin_edges_fall_in_the_upper_bin():
    edges = [k / 10 for k in range(11)]
    rel = reliability(edges, [0] * 11, n_bins=10)
    assert rel["n"].tolist() == [1] * 9 + [2]  # 0.9 and 1.0 share the last, closed bin
    rel5 = reliability([0.0, 0.2, 0.39, 0.4, 1.0], [0, 0, 1, 1, 1], n_bins=5)
    assert rel5["lo"].tolist() == [0.0, 0.2, 0.4, 0.8] and rel5["n"].tolist() == [1, 2, 1, 1]


# --- a small run directory -------------------------------------------------------------------------

START = "2026-01-05"


def small_run(path: Path, seed: int = 1, horizon: int = 52) -> Path:
    """4 draws x 5 paths with hand-set records; start 2026-01-05, cut-off 2025-12-31."""
    path.mkdir(parents=True, exist_ok=True)
    n = 20
    weeks = np.array([5, 12, 13, np.nan, 30] * 4, dtype=float)  # per path: signed in week ...
    out52 = np.array(["ceasefire", "comprehensive_deal", "collapse_escalation", "continued_war",
                      "continued_war"] * 4, dtype=object)
    runs = pd.DataFrame({"draw": np.repeat(np.arange(4), 5), "replicate": np.arange(n),
                         "weeks_to_agreement": weeks, "outcome_w26": out52, "outcome_w52": out52,
                         "partial_SHORT_TRUCE_week": np.where(np.arange(n) < 10, 3.0, np.nan)})
    runs.to_parquet(path / "runs.parquet", index=False)
    manifest = {"scenario": "tiny", "scenario_files": [["scenarios/tiny.yaml", "ab" * 32]], "seed": seed,
                "runs": n, "draws": 4, "paths_per_draw": 5, "block_size": 10, "draws_sha256": "00",
                "git_commit": "c0ffee", "resolved_scenario": {"data": {"scenario": {
                    "id": "tiny", "start_date": START, "info_cutoff": "2025-12-31", "horizon_weeks": horizon,
                    "reporting_horizons_weeks": [26, 52]}}}}
    (path / "manifest.json").write_text(json.dumps(manifest))
    (path / "summary.json").write_text(json.dumps({"scenario": "tiny", "horizon_weeks": horizon}))
    return path


def q(qid: str, resolves: str, answer: dict) -> Question:
    return Question(qid, qid.replace("_", " "), dt.date.fromisoformat(resolves), answer, "q.yaml", 1)


AGREE_MAR = q("agree_mar", "2026-03-31", {"kind": "signed_by", "record": "weeks_to_agreement",
                                          "date": "2026-03-31"})
WAR_ON = q("war_on", "2027-01-03", {"kind": "outcome_in", "record": "outcome_w52",
                                    "values": ["continued_war", "collapse_escalation"]})
BROKEN = q("broken", "2027-01-03", {"kind": "outcome_in", "record": "outcome_w52",
                                    "values": ["collapse_escalation"],
                                    "given": {"kind": "signed_by", "record": "weeks_to_agreement",
                                              "date": "2027-01-03"}})
TRUCE = q("truce", "2026-06-30", {"kind": "signed_by", "record": "partial_SHORT_TRUCE_week",
                                  "date": "2026-06-30"})


def test_week_of_counts_to_the_end_of_the_date():
    assert week_of("2026-01-11", START) == 1.0  # the first week ends on Sunday 11 January
    assert week_of("2026-03-31", START) == pytest.approx(86 / 7)  # 12.29: week 12 is in, week 13 is not


def test_answers_of_a_run(tmp_path):
    runs = load_run(small_run(tmp_path / "r")).runs
    # signed in weeks 5 and 12 of every 5 paths by 31 March (week 12.29): 8 of 20
    assert question_probability(AGREE_MAR, runs, START, 52)["p"] == pytest.approx(0.4)
    assert question_probability(WAR_ON, runs, START, 52)["p"] == pytest.approx(0.6)
    # given a signed agreement (4 of 5 paths), collapse in 1 of 4
    got = question_probability(BROKEN, runs, START, 52)
    assert got["p"] == pytest.approx(0.25) and got["n"] == 16
    truce = question_probability(TRUCE, runs, START, 52)
    assert truce["p"] == pytest.approx(0.5) and truce["lo"] < 0.5 < truce["hi"]  # draws disagree: 1,1,0,0


def test_unanswerable_questions_are_refused(tmp_path):
    runs = load_run(small_run(tmp_path / "r")).runs
    late = q("late", "2027-06-30", {"kind": "signed_by", "record": "weeks_to_agreement",
                                    "date": "2027-06-30"})
    with pytest.raises(Unanswerable, match="after this run's horizon"):
        question_probability(late, runs, START, 52)
    missing = q("m", "2026-06-30", {"kind": "signed_by", "record": "partial_BLACK_SEA_week",
                                    "date": "2026-06-30"})
    with pytest.raises(Unanswerable, match="no record 'partial_BLACK_SEA_week'"):
        question_probability(missing, runs, START, 52)
    shifted = q("s", "2026-12-15", WAR_ON.answer)  # more than half a week from the end of week 52
    with pytest.raises(Unanswerable, match="end of week 52 = 2027-01-03"):
        question_probability(shifted, runs, START, 52)


# --- the ledger files ------------------------------------------------------------------------------

def test_ledger_refuses_to_rewrite_a_frozen_entry(tmp_path):
    run = load_run(small_run(tmp_path / "r"))
    ledger = tmp_path / "ledger"
    questions = {x.id: x for x in (AGREE_MAR, WAR_ON)}
    first = add_forecasts(ledger, forecast_entries(run, questions, now="2026-01-01T00:00:00+00:00"))
    assert [e["question"] for e in first.added] == ["agree_mar", "war_on"]
    e = first.added[0]
    assert e["registered"] == "2025-12-31" and e["seed"] == 1 and e["commit"] == "c0ffee"
    assert e["calibrated"] is False  # summary.json without a calibration
    assert e["scenario_files"][0][1] == "ab" * 32 and e["lo"] <= e["p"] <= e["hi"]
    before = (ledger / FORECASTS).read_bytes()
    again = add_forecasts(ledger, forecast_entries(run, questions))
    assert again.added == [] and all("append-only" in r for r in again.refused)
    assert (ledger / FORECASTS).read_bytes() == before
    # another run (seed) is a new entry; the file only grows, its old bytes untouched
    other = load_run(small_run(tmp_path / "r2", seed=2))
    third = add_forecasts(ledger, forecast_entries(other, {"war_on": WAR_ON}))
    assert len(third.added) == 1
    after = (ledger / FORECASTS).read_bytes()
    assert after.startswith(before) and len(read_jsonl(ledger / FORECASTS)) == 3


def test_add_refuses_as_of_before_the_cutoff_and_resolved_questions(tmp_path):
    run = load_run(small_run(tmp_path / "r"))
    with pytest.raises(UserError, match="before the scenario's information cut-off"):
        forecast_entries(run, {"war_on": WAR_ON}, as_of=dt.date(2025, 6, 1))
    res = forecast_entries(run, {"agree_mar": AGREE_MAR, "war_on": WAR_ON}, as_of=dt.date(2026, 4, 1))
    assert [e["question"] for e in res.added] == ["war_on"]
    assert "not after the registration date 2026-04-01" in res.refused[0]


def test_resolutions_append_and_refuse_contradictions(tmp_path):
    ledger = tmp_path / "ledger"
    r1 = [Resolution("agree_mar", 0, dt.date(2026, 3, 31), "record")]
    fresh, same = add_resolutions(ledger, r1, "res.yaml")
    assert len(fresh) == 1 and same == []
    before = (ledger / RESOLUTIONS).read_bytes()
    fresh, same = add_resolutions(ledger, r1, "res.yaml")
    assert fresh == [] and same == ["agree_mar"]
    with pytest.raises(UserError, match="cannot be resolved again"):
        add_resolutions(ledger, [Resolution("truce", 1, dt.date(2026, 5, 1), "x"),
                                 Resolution("agree_mar", 1, dt.date(2026, 3, 31), "y")], "res.yaml")
    assert (ledger / RESOLUTIONS).read_bytes() == before  # nothing appended, not even the new one


def ref(rid: str, question: str, kind: str, p: float, date: str) -> Reference:
    return Reference(rid, question, kind, p, None, None, dt.date.fromisoformat(date), "src", None, None)


def test_score_table_uses_only_references_dated_by_the_entry():
    entries = [{"question": "a", "p": 0.2, "registered": "2025-12-31", "scenario": "s", "run": "r"},
               {"question": "b", "p": 0.9, "registered": "2025-12-31", "scenario": "s", "run": "r"},
               {"question": "c", "p": 0.5, "registered": "2025-12-31", "scenario": "s", "run": "r"}]
    resolutions = [{"question": "a", "value": 0, "date": "2026-03-31"}, {"question": "b", "value": 1,
                                                                         "date": "2026-02-01"}]
    refs = [ref("m_old", "a", "market", 0.3, "2025-11-01"), ref("m_new", "a", "market", 0.4, "2025-12-09"),
            ref("m_late", "a", "market", 0.1, "2026-02-01"), ref("br", "b", "base_rate", 0.5, "2010-01-01")]
    t = score_table(entries, resolutions, refs)
    assert t["ref"].tolist() == ["r", "m_new", "r", "br"]  # c unresolved; the latest market by 31 Dec
    np.testing.assert_allclose(t["brier"], [0.04, 0.16, 0.01, 0.25])
    np.testing.assert_allclose(t["log"], np.log([0.8, 0.6, 0.9, 0.5]))
    means = score_means(t).set_index("source")
    assert means.loc["model: s", "n"] == 2
    assert means.loc["model: s", "brier"] == pytest.approx(0.025)
    paired = paired_means(t).set_index("reference")
    assert paired.loc["market", "n"] == 1 and paired.loc["market", "model_brier"] == pytest.approx(0.04)


def test_references_block_marks_numbers_after_the_cutoff(tmp_path):
    runs = load_run(small_run(tmp_path / "r")).runs
    scenario = {"scenario": {"start_date": START, "info_cutoff": "2025-12-31", "horizon_weeks": 52}}
    refs = [ref("early", "agree_mar", "market", 0.24, "2025-12-09"),
            ref("later", "agree_mar", "market", 0.13, "2026-02-01"),
            ref("beyond", "late", "market", 0.5, "2025-12-01")]
    late = q("late", "2027-06-30", {"kind": "signed_by", "record": "weeks_to_agreement",
                                    "date": "2027-06-30"})
    block = references_block(runs, scenario, {"agree_mar": AGREE_MAR, "late": late}, refs)
    assert list(block) == ["agree_mar"]  # a question the run cannot answer is left out
    got = block["agree_mar"]
    assert got["model"]["p"] == pytest.approx(0.4)
    assert [(r["id"], r["after_cutoff"]) for r in got["references"]] == [("early", False), ("later", True)]


# --- the command ------------------------------------------------------------------------------------

QUESTIONS_YAML = """\
questions:
  - id: agree_mar
    wording: An agreement by 31 March 2026
    resolves: 2026-03-31
    answer: {kind: signed_by, record: weeks_to_agreement, date: 2026-03-31}
  - id: agree_2027
    wording: An agreement by mid-2027
    resolves: 2027-06-30
    answer: {kind: signed_by, record: weeks_to_agreement, date: 2027-06-30}
"""


def test_cli_add_resolve_score(tmp_path):
    run = small_run(tmp_path / "run")
    (tmp_path / "q.yaml").write_text(QUESTIONS_YAML)
    (tmp_path / "refs.yaml").write_text("references:\n  - {id: m, question: agree_mar, kind: market, "
                                        "value: 0.24,"
                                        " date: 2025-12-09, source: a market}\n")
    (tmp_path / "res.yaml").write_text("resolutions:\n  - {question: agree_mar, value: 0, date: 2026-03-31, "
                                       "source: the record}\n")
    led = str(tmp_path / "ledger")
    common = ["--ledger", led, "--questions", str(tmp_path / "q.yaml")]
    r = negsim("ledger", "add", str(run), *common)
    assert r.returncode == 0, r.stderr
    assert "added agree_mar: p = 0.400" in r.stdout
    assert "agree_2027' resolves on 2027-06-30, after this run's horizon" in r.stderr
    r = negsim("ledger", "add", str(run), *common)
    assert r.returncode == 2 and "append-only" in r.stderr and "Traceback" not in r.stderr
    r = negsim("ledger", "resolve", str(tmp_path / "res.yaml"), *common)
    assert r.returncode == 0, r.stderr
    r = negsim("ledger", "score", *common, "--references", str(tmp_path / "refs.yaml"))
    assert r.returncode == 0, r.stderr
    assert "0.1600" in r.stdout and "0.0576" in r.stdout  # Brier 0.4^2 and 0.24^2
    assert (tmp_path / "ledger" / "reliability.png").exists()


def test_cli_errors_are_clean(tmp_path):
    (tmp_path / "q.yaml").write_text(QUESTIONS_YAML.replace("kind: signed_by", "kind: signed", 1))
    r = negsim("ledger", "score", "--ledger", str(tmp_path), "--questions", str(tmp_path / "q.yaml"))
    assert r.returncode == 2 and "no forecasts" in r.stderr
    r = negsim("ledger", "add", str(tmp_path), "--ledger", str(tmp_path), "--questions",
               str(tmp_path / "q.yaml"))
    assert r.returncode == 2 and f"{tmp_path / 'q.yaml'}:5: questions.0.answer.kind" in r.stderr
    assert "Traceback" not in r.stderr


def test_cli_options_reach_the_core(tmp_path):
    run = small_run(tmp_path / "run")
    (tmp_path / "q.yaml").write_text(QUESTIONS_YAML.replace("2027-06-30", "2026-06-30"))
    (tmp_path / "res.yaml").write_text("resolutions:\n  - {question: agree_2027, value: 1, date: 2026-06-30, "
                                       "source: the record}\n")
    common = ["--ledger", str(tmp_path / "led"), "--questions", str(tmp_path / "q.yaml")]
    r = negsim("ledger", "add", str(run), "--as-of", "2026-04-01", *common)
    assert r.returncode == 0, r.stderr
    assert "registered 2026-04-01" in r.stdout and "agree_mar: resolves on 2026-03-31, not after" in r.stderr
    r = negsim("ledger", "add", str(run), "--as-of", "April", *common)
    assert r.returncode == 2 and "'April' is not a date" in r.stderr
    assert negsim("ledger", "resolve", str(tmp_path / "res.yaml"), *common).returncode == 0
    r = negsim("ledger", "score", *common, "--references", "--bins", "2", "--out", str(tmp_path / "rel"))
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "rel.png").exists() and (tmp_path / "rel.svg").exists()
    assert "model: tiny, uncalibrated" in r.stdout and "market" not in r.stdout  # --references with no file
    r = negsim("ledger", "score", *common, "--bins", "0")
    assert r.returncode == 2 and "--bins: 0" in r.stderr


def test_entries_registered_once_the_outcome_was_known_are_not_scored():
    entries = [{"question": "a", "p": 0.2, "registered": "2026-02-01", "scenario": "s", "run": "early"},
               {"question": "a", "p": 0.9, "registered": "2026-03-01", "scenario": "s", "run": "late"}]
    # the event happened (and was known) on 1 March, long before the question resolves
    t = score_table(entries, [{"question": "a", "value": 1, "date": "2026-03-01"}])
    assert t["ref"].tolist() == ["early"]


def test_calibrated_is_read_from_the_summary():
    from sim.analysis.ledger import is_calibrated

    assert is_calibrated({"calibration": {"calibrated": True, "facts": ["F1"]}})
    assert not is_calibrated({"calibration": {"calibrated": False, "facts": []}})
    assert not is_calibrated({"calibration": None}) and not is_calibrated({})
