"""Facts files, the statistics of facts on a hand-made records table, and the implausibility by hand."""

from __future__ import annotations

import datetime as dt
import textwrap

import numpy as np
import pandas as pd
import pytest

from sim.calibration.facts import check_columns, check_cutoff, check_within_run, load_facts
from sim.calibration.implausibility import implausibility, max_implausibility, non_implausible, ruled_out_by
from sim.calibration.statistics import fact_statistic, per_draw, statistics_table, week_of
from sim.scenario import ScenarioError

START = dt.date(2025, 2, 10)  # a Monday: week 0 is 10-16 Feb

GOOD = """\
facts_version: 1
discrepancy_sd: 0.1
facts:
  - id: F1
    title: rounds
    date: 2025-12-31
    observed: 3
    obs_sd: 0.5
    source: record
    confidence: C2
    statistic: {kind: value, record: n_rounds, scale: 2}
  - id: F2
    title: minerals by 8 May
    date: 2025-05-08
    observed: 1
    obs_sd: 0.05
    discrepancy_sd: 0.2
    source: record
    confidence: C2
    statistic: {kind: by_date, record: partial_MINERALS_week}
  - id: F3
    title: war at week 2
    date: 2025-03-01
    observed: 1
    obs_sd: 0
    source: record
    confidence: C2
    statistic: {kind: equals, record: outcome_w2, value: continued_war}
  - id: F4
    title: truce weeks in March
    period: {from: 2025-03-03, to: 2025-03-23}
    observed: 0
    obs_sd: 0.5
    source: record
    confidence: C2
    statistic: {kind: weeks_in_force, record: partial_TRUCE_week}
  - id: F5
    title: aid cut
    date: 2025-12-31
    observed: 1
    obs_sd: 0.1
    source: record
    confidence: C2
    statistic: {kind: contains, record: events_fired, token: US_AID_CUTOFF}
"""


def _write(tmp_path, text, name="facts.yaml"):
    p = tmp_path / name
    p.write_text(textwrap.dedent(text))
    return str(p)


@pytest.fixture
def records():
    # two draws of three paths each
    return pd.DataFrame({
        "draw": [0, 0, 0, 1, 1, 1],
        "n_rounds": [1, 2, 3, 4, 4, 4],
        # week of 8 May 2025 from 10 Feb: 87 days -> week 12
        "partial_MINERALS_week": [12.0, 13.0, np.nan, 0.0, -1.0, 11.0],
        "outcome_w2": ["continued_war", "ceasefire", "continued_war", "continued_war", "continued_war",
                       "comprehensive_deal"],
        # March period: 3 Mar = day 21 -> week 3; 23 Mar = day 41 -> week 5; period covers weeks [3, 6)
        "partial_TRUCE_week": [2.0, 4.0, 5.0, np.nan, 0.0, 7.0],
        "partial_TRUCE_weeks_held": [3.0, 1.0, 10.0, 0.0, 1.0, 2.0],
        "events_fired": ["US_AID_CUTOFF;HU", "", "HU;US_AID_CUTOFF_X", "US_AID_CUTOFF", None, "HU"],
    })


def test_statistics_on_a_hand_made_table(tmp_path, records):
    facts = load_facts(_write(tmp_path, GOOD))
    assert facts.ids == ["F1", "F2", "F3", "F4", "F5"]
    f1, f2, f3, f4, f5 = facts.facts
    assert week_of(dt.date(2025, 5, 8), START) == 12
    np.testing.assert_array_equal(fact_statistic(f1, records, START), [2, 4, 6, 8, 8, 8])
    np.testing.assert_array_equal(fact_statistic(f2, records, START), [1, 0, 0, 1, 0, 1])
    np.testing.assert_array_equal(fact_statistic(f3, records, START), [1, 0, 1, 1, 1, 0])
    # spells [2,5) [4,5) [5,15) never [0,1) [7,9) against weeks [3,6): 2, 1, 1, 0, 0, 0
    np.testing.assert_array_equal(fact_statistic(f4, records, START), [2, 1, 1, 0, 0, 0])
    np.testing.assert_array_equal(fact_statistic(f5, records, START), [1, 0, 0, 1, 0, 0])
    table = statistics_table(facts, records, START)
    draws, mean, var = per_draw(table, facts.ids)
    assert list(draws) == [0, 1]
    np.testing.assert_allclose(mean[:, 0], [4, 8])
    np.testing.assert_allclose(var[:, 0], [4, 0])
    np.testing.assert_allclose(mean[:, 1], [1 / 3, 2 / 3])
    np.testing.assert_allclose(var[:, 1], [1 / 3, 1 / 3])


def test_implausibility_by_hand():
    z = np.array([3.0, 1.0])
    obs_var = np.array([0.25, 0.0025])
    md_var = np.array([0.01, 0.04])
    mean = np.array([[4.0, 1 / 3], [8.0, 1.0], [3.0, 0.9]])
    ens = np.array([[4.0, 1 / 3], [0.0, 0.0], [1.0, 0.0]])
    imp = implausibility(z, obs_var, md_var, mean, ens)
    # draw 0: |3-4|/sqrt(0.25+0.01+4) = 1/sqrt(4.26); |1-1/3|/sqrt(0.0025+0.04+1/3)
    expected0 = [1 / np.sqrt(4.26), (2 / 3) / np.sqrt(0.0425 + 1 / 3)]
    # draw 1: 5/sqrt(0.26) = 9.806; 0
    expected1 = [5 / np.sqrt(0.26), 0.0]
    # draw 2: 0; 0.1/sqrt(0.0425) = 0.485
    expected2 = [0.0, 0.1 / np.sqrt(0.0425)]
    np.testing.assert_allclose(imp, [expected0, expected1, expected2], rtol=1e-12)
    np.testing.assert_allclose(max_implausibility(imp), [expected0[1], expected1[0], expected2[1]])
    np.testing.assert_allclose(max_implausibility(imp, 2), [expected0[0], 0.0, 0.0])
    np.testing.assert_array_equal(non_implausible(imp), [True, False, True])
    shares = ruled_out_by(imp)
    np.testing.assert_allclose(shares["alone"], [1 / 3, 0])
    np.testing.assert_allclose(shares["only"], [1 / 3, 0])


def test_implausibility_edge_cases():
    imp = implausibility(np.array([1.0, 1.0, 1.0]), np.zeros(3), np.zeros(3),
                         np.array([[1.0, 0.5, np.nan]]), np.zeros((1, 3)))
    np.testing.assert_array_equal(imp, [[0.0, np.inf, np.inf]])


def test_column_and_cutoff_checks(tmp_path):
    path = _write(tmp_path, GOOD)
    facts = load_facts(path)
    with pytest.raises(ScenarioError) as err:
        check_columns(facts, ["draw", "n_rounds", "partial_MINERALS_wek", "outcome_w2", "events_fired",
                              "param.x"])
    msg = err.value.message
    assert f"{path}:20: facts.1.statistic.record: fact F2: no record 'partial_MINERALS_week'" in msg
    assert "did you mean 'partial_MINERALS_wek'?" in msg
    assert "param.x" not in msg
    assert ":36: facts.3.statistic.duration: fact F4: no record 'partial_TRUCE_weeks_held'" in msg
    check_cutoff(facts, dt.date(2025, 12, 31))
    with pytest.raises(ScenarioError) as err:
        check_cutoff(facts, dt.date(2025, 6, 30), "hindcast")
    msg = err.value.message
    assert (f"{path}:6: facts.0.date: fact F1: dated 2025-12-31, after the information cut-off 2025-06-30 "
            "of scenario hindcast (no look-ahead") in msg
    assert "F2" not in msg and "F4" not in msg


BAD = """\
facts_version: 1
facts:
  - id: F1
    title: rounds
    date: 2025-12-31
    observed: three
    obs_sd: 0.5
    discrepancy_sd: 0.1
    source: record
    confidence: C2
    statistic: {kind: value, record: n_rounds}
  - id: F2
    title: minerals
    date: 2025-05-08
    observed: 1
    discrepancy_sd: 0.1
    source: record
    confidence: C2
    statistic: {kind: by_dat, record: partial_MINERALS_week}
  - id: F3
    title: no discrepancy
    date: 2025-05-08
    observed: 1
    obs_sd: 0.1
    source: record
    confidence: C2
    colour: blue
    statistic: {kind: contains, record: events_fired}
"""


def test_facts_file_errors_with_file_and_line(tmp_path):
    path = _write(tmp_path, BAD)
    with pytest.raises(ScenarioError) as err:
        load_facts(path)
    lines = err.value.message.splitlines()
    assert f"{path}:6: facts.0.observed: got 'three' (expected a valid number)" in lines
    assert any(ln.startswith(f"{path}:12: facts.1.obs_sd: required key is missing") for ln in lines)
    assert any(ln.startswith(f"{path}:19: facts.1.statistic.kind: unknown statistic kind 'by_dat' "
                             "(did you mean 'by_date'?") for ln in lines)
    assert any(ln.startswith(f"{path}:27: facts.2.colour: unknown key 'colour'") for ln in lines)
    assert any(ln.startswith(f"{path}:28: facts.2.statistic.token: required key is missing") for ln in lines)


def test_facts_semantic_errors(tmp_path):
    both = "date: 2025-05-08\n    period: {from: 2025-01-01, to: 2025-02-01}"
    text = GOOD.replace("discrepancy_sd: 0.1\n", "", 1).replace("date: 2025-05-08", both)
    path = _write(tmp_path, text)
    with pytest.raises(ScenarioError) as err:
        load_facts(path)
    msg = err.value.message
    assert f"{path}:3: facts.0: no model discrepancy" in msg
    assert f"{path}:11: facts.1: give exactly one of date and period" in msg
    dup = _write(tmp_path, GOOD, "again.yaml")
    with pytest.raises(ScenarioError, match=r"again.yaml:4: facts.0.id: duplicate fact id 'F1'"):
        load_facts([_write(tmp_path, GOOD, "first.yaml"), dup])
    missing = tmp_path / "none.yaml"
    with pytest.raises(ScenarioError, match=r"none.yaml:1: <document>: file not found"):
        load_facts(str(missing))


def test_dated_statistics_must_fall_within_the_run(tmp_path):
    path = _write(tmp_path, GOOD)
    facts = load_facts(path)
    check_within_run(facts, START, 52)
    with pytest.raises(ScenarioError) as err:
        check_within_run(facts, dt.date(2025, 3, 10), 52)
    lines = err.value.message.splitlines()
    # F2 (by_date 2025-05-08) is inside; F4 (weeks_in_force from 3 March) starts before; value kinds pass
    assert len(lines) == 1
    assert lines[0].startswith(f"{path}:31: facts.3.period: fact F4: weeks_in_force at 2025-03-03 to "
                               "2025-03-23, outside the simulated weeks 2025-03-10 to 2026-03-09")
    with pytest.raises(ScenarioError, match="facts.1.date: fact F2: by_date at 2025-05-08, outside"):
        check_within_run(facts, START, 4)
