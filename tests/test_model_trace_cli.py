"""`negsim trace` through a subprocess: the narrative of one replicate (R = 1, the batch code path)."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]  # the checkout under test


def run(*args):
    return subprocess.run(
        [sys.executable, "-m", "sim", "trace", *args], cwd=ROOT, capture_output=True, text=True, timeout=300
    )


@pytest.fixture(scope="module")
def baseline_trace():
    return run("scenarios/baseline.yaml", "--seed", "3")


def test_trace_tells_the_baseline_week_by_week(baseline_trace):
    res = baseline_trace
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    assert len(lines) >= 20
    assert lines[0].startswith("negsim trace: scenario baseline")
    text = res.stdout
    assert "round 1: the mediator tabled" in text
    assert "against its outside option" in text
    assert "Outcome at week 26:" in text and "Outcome at week 104:" in text
    assert "[summary]" in text
    # partial agreements stand beside the status lines (modules.partial_agreements is on in the baseline)
    assert "In force at the start: US-Ukraine minerals and reconstruction fund" in text
    assert "partial agreement: prisoner exchange signed by RU, UA." in text


def test_trace_is_reproducible_and_the_seed_reaches_the_model(baseline_trace):
    again = run("scenarios/baseline.yaml", "--seed", "3", "--weeks", "104")
    assert again.stdout == baseline_trace.stdout
    other = run("scenarios/baseline.yaml", "--seed", "4", "--weeks", "104")
    assert other.stdout != baseline_trace.stdout


def test_trace_weeks_option_stops_early():
    res = run("scenarios/baseline.yaml", "--seed", "3", "--weeks", "13")
    assert res.returncode == 0, res.stderr
    assert "Week 14:" not in res.stdout and "Week 13:" in res.stdout
    assert "in 13 weeks" in res.stdout or "First agreement" in res.stdout


def test_trace_user_errors_exit_2_without_traceback(tmp_path):
    res = run(str(tmp_path / "missing.yaml"))
    assert res.returncode == 2
    assert "Traceback" not in res.stderr
    res = run("scenarios/baseline.yaml", "--weeks", "-1")
    assert res.returncode == 2
    assert res.stderr.strip() == "negsim trace: --weeks must be positive"


def test_refusal_with_a_positive_surplus_names_its_threshold():
    import numpy as np

    from sim.model.narrative import _verdict

    # net surplus S = V - W - tau - xi; gross V - W = S + tau + xi
    rnd = {
        "S": np.array([[-0.013, 0.004, -0.030]]),
        "tau": np.array([[0.010, 0.010, 0.010]]),
        "xi": np.array([[0.005, -0.002, 0.0]]),
        "accepted": np.array([[False, False, False]]),
    }
    assert _verdict("UA", rnd, 0) == (
        "UA refused (surplus +0.002 against its outside option, short of its threshold +0.015: "
        "demand +0.010 and reservation shock +0.005)"
    )
    assert "above its threshold +0.008: a random refusal" in _verdict("RU", rnd, 1)
    assert _verdict("EU", rnd, 2) == "EU refused (surplus -0.020 against its outside option)"
    rnd["accepted"][0, 2] = True
    assert _verdict("EU", rnd, 2) == "EU accepted (surplus -0.020 against its outside option)"
