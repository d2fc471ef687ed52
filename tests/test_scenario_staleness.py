"""The staleness warning (sim/scenario/staleness.py) and where `negsim validate` and `negsim run` print it."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import pytest

from sim.scenario import load_scenario
from sim.scenario.staleness import MAX_AGE_DAYS, staleness, staleness_warning

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "baseline.yaml"
SHIPPED = sorted((ROOT / "scenarios").glob("*.yaml"))
CUTOFF = dt.date(2025, 12, 31)  # the baseline's information cut-off (and its newest asof)


def negsim(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sim", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)


def data(cutoff: str, start: str, events: dict | None = None) -> dict:
    sc = {"info_cutoff": dt.date.fromisoformat(cutoff), "start_date": dt.date.fromisoformat(start)}
    return {"scenario": sc, "events": events or {}}


PROV = {
    "war.drift_per_year": {"src": "s", "asof": "2026-03-20"},
    "actors.RU.positions.NATO": {"src": "s", "asof": "2025-02-15"},
    "ripeness": {"src": "literature", "asof": "1989-01-01"},
    "actors.US.capability": {"src": "s", "asof": None},  # undated: not counted
}


def test_cutoff_100_days_before_the_start_warns():
    found = staleness(data("2026-03-23", "2026-07-01"), PROV)
    assert found.stale and (found.start - found.cutoff).days == 100
    msg = found.message("x.yaml")
    assert msg == ("warning: x.yaml: info_cutoff 2026-03-23 is 100 days before start_date 2026-07-01 "
                   "(more than 90); 3 of 3 dated inputs are more than 90 days older than the start (oldest: "
                   "ripeness asof 1989-01-01); re-source them or say why they still hold")


def test_cutoff_30_days_before_the_start_does_not_warn():
    prov = dict(PROV, **{"war.drift_per_year": {"src": "s", "asof": "2026-06-01"}})
    found = staleness(data("2026-06-01", "2026-07-01"), prov)
    assert not found.stale
    # old structural constants alone never warn: two of three inputs are older than 90 days here
    assert len(found.old) == 2


def test_boundary_is_more_than_90_days():
    prov = {"a": {"src": "s", "asof": "2026-04-02"}}
    assert (dt.date(2026, 7, 1) - dt.date(2026, 4, 2)).days == MAX_AGE_DAYS
    assert not staleness(data("2026-04-02", "2026-07-01"), prov).stale
    assert staleness(data("2026-04-01", "2026-07-01"), {"a": {"src": "s", "asof": "2026-04-01"}}).stale


def test_a_cutoff_moved_forward_without_re_sourcing_warns():
    # cut-off the day before the start, but nothing dated after 20 Mar: the inputs were not re-based
    found = staleness(data("2026-06-30", "2026-07-01"), PROV)
    assert found.stale and found.effective == dt.date(2026, 3, 20)
    msg = found.message("y.yaml")
    assert msg.startswith("warning: y.yaml: the newest dated input (war.drift_per_year asof 2026-03-20) is "
                          "103 days before start_date 2026-07-01 (more than 90), though info_cutoff is "
                          "2026-06-30; 3 of 3 dated inputs")


def test_observed_forcings_are_not_inputs():
    # a hindcast's forcings are dated after the cut-off by design: they neither freshen nor age a scenario
    events = {"OIL": {"type": "scheduled", "observed": True}}
    prov = {"events.OIL": {"src": "s", "asof": "2026-06-30"}, "a": {"src": "s", "asof": "2026-01-01"}}
    found = staleness(data("2026-06-30", "2026-07-01", events), prov)
    assert found.dated == 1 and found.newest == ("a", dt.date(2026, 1, 1)) and found.stale


def test_no_start_date_no_verdict():
    assert staleness({"scenario": {}}, PROV) is None


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_shipped_scenarios_are_fresh(path):
    # includes baseline.yaml (cut-off 5 days before its start) and baseline_2026h2.yaml (1 day)
    assert staleness_warning(load_scenario(path), str(path)) is None


def overlay(tmp_path: Path, start: dt.date) -> Path:
    f = tmp_path / f"start_{start.isoformat()}.yaml"
    f.write_text(f"extends: {BASELINE}\nscenario:\n  id: stale_probe\n  start_date: {start.isoformat()}\n",
                 "utf-8")
    return f


def test_validate_warns_on_stderr_and_keeps_exit_code(tmp_path):
    stale = overlay(tmp_path, CUTOFF + dt.timedelta(days=100))
    fresh = overlay(tmp_path, CUTOFF + dt.timedelta(days=30))
    res = negsim("validate", str(stale), str(fresh))
    assert res.returncode == 0, res.stderr
    assert res.stdout.splitlines() == [f"{stale}: ok", f"{fresh}: ok"]
    err = res.stderr.splitlines()
    assert len(err) == 1
    assert err[0].startswith(f"warning: {stale}: info_cutoff 2025-12-31 is 100 days before start_date "
                             "2026-04-10 (more than 90); ")
    assert "dated inputs are more than 90 days older than the start (oldest: " in err[0]


def test_run_warns_even_when_quiet(tmp_path):
    stale = overlay(tmp_path, CUTOFF + dt.timedelta(days=100))
    res = negsim("run", str(stale), "--runs", "2", "--paths-per-draw", "2", "--workers", "1", "--quiet",
                 "--out", str(tmp_path / "run"))
    assert res.returncode == 0, res.stderr
    assert res.stderr.startswith(f"warning: {stale}: info_cutoff 2025-12-31 is 100 days before start_date")
    assert "run directory:" in res.stdout
