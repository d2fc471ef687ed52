"""`negsim forecast` through a subprocess: every engine, --rounds, --out, --history, errors."""

from __future__ import annotations

import subprocess
import sys
from io import StringIO
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.validation_data import VALIDATION, needs_validation

ROOT = Path(__file__).resolve().parents[1]

CSV = """case,dimension,actor,capability,position,salience
t1,x,A,0.5,0,0.9
t1,x,B,0.3,60,0.5
t1,x,C,0.2,100,0.8
k2,p,A,100,30,0.3
k2,q,A,100,20,0.6
k2,p,B,60,45,0.5
k2,q,B,60,65,0.4
k2,p,C,35,80,0.2
k2,q,C,35,15,0.7
k2,p,D,20,60,0.4
k2,q,D,20,50,0.5
"""


def negsim(*args, cwd=ROOT):
    return subprocess.run(
        [sys.executable, "-m", "sim", *map(str, args)], cwd=cwd, capture_output=True, text=True, timeout=120
    )


@pytest.fixture
def data(tmp_path):
    p = tmp_path / "cases.csv"
    p.write_text(CSV)
    return p


def test_compromise_to_stdout_is_the_weighted_mean(data):
    r = negsim("forecast", data, "--engine", "compromise", "--quiet")
    assert r.returncode == 0, r.stderr
    pred = pd.read_csv(StringIO(r.stdout))
    assert list(pred.columns) == ["case", "dimension", "prediction"]
    t1 = pred[pred.case == "t1"].prediction.item()
    assert t1 == pytest.approx(100 * 0.25 / 0.76, abs=1e-6)  # memo T1: 0.328947 on the unit scale
    assert len(pred) == 3  # t1/x, k2/p, k2/q


def test_bdm_history_round_zero_is_the_input_and_rounds_reach_the_engine(data, tmp_path):
    out, hist = tmp_path / "pred.csv", tmp_path / "hist.csv"
    r = negsim("forecast", data, "--engine", "bdm_scholz", "--rounds", "3", "--out", out, "--history", hist)
    assert r.returncode == 0, r.stderr
    h = pd.read_csv(hist)
    assert list(h.columns) == ["case", "dimension", "round", "actor", "position"]
    assert sorted(h["round"].unique()) == [0, 1, 2, 3]
    inputs = pd.read_csv(data)
    r0 = h[h["round"] == 0].merge(inputs, on=["case", "dimension", "actor"], suffixes=("", "_in"))
    assert len(r0) == len(inputs)
    np.testing.assert_array_equal(r0["position"], r0["position_in"])
    # the prediction is the c x s weighted mean of the last round's positions
    last = h[h["round"] == 3].merge(inputs, on=["case", "dimension", "actor"], suffixes=("", "_in"))
    pred = pd.read_csv(out).set_index(["case", "dimension"])["prediction"]
    for (case, dim), g in last.groupby(["case", "dimension"]):
        w = g.capability * g.salience
        assert pred[(case, dim)] == pytest.approx((w * g.position).sum() / w.sum(), abs=1e-5)


def test_ktab_and_nash_run_on_multidimensional_cases(data, tmp_path):
    hist = tmp_path / "hist.csv"
    r = negsim("forecast", data, "--engine", "ktab_smp", "--rounds", "2", "--history", hist, "--quiet")
    assert r.returncode == 0, r.stderr
    h = pd.read_csv(hist)
    assert h.groupby("case")["round"].max().to_dict() == {"k2": 2, "t1": 2}
    pred = pd.read_csv(StringIO(r.stdout)).set_index(["case", "dimension"])["prediction"]
    # the most probable position is some actor's position at the last turn
    last = h[(h["case"] == "k2") & (h["round"] == 2)].pivot(
        index="actor", columns="dimension", values="position"
    )
    assert np.any(
        np.all(np.isclose(last[["p", "q"]].to_numpy(), [pred[("k2", "p")], pred[("k2", "q")]]), axis=1)
    )
    r = negsim("forecast", data, "--engine", "nash", "--quiet")
    assert r.returncode == 0, r.stderr
    nash = pd.read_csv(StringIO(r.stdout))
    assert nash.prediction.between(0, 100).all()


def test_errors_exit_2_without_traceback(data, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text(CSV.replace("t1,x,B,0.3,60,0.5", "t1,x,B,0.3,sixty,0.5"))
    r = negsim("forecast", bad, "--engine", "compromise")
    assert r.returncode == 2
    assert r.stderr.strip() == f"{bad}:3: position: 'sixty' is not a number"
    r = negsim("forecast", data, "--engine", "bdm_scholz", "--rounds", "-1")
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert r.stderr.strip() == "--rounds: -1 is negative (expected a number of rounds >= 0)"


def test_scale_reaches_the_nash_engine(data):
    base = pd.read_csv(StringIO(negsim("forecast", data, "--engine", "nash", "--quiet").stdout))
    wide = negsim("forecast", data, "--engine", "nash", "--scale", "-100", "200", "--quiet")
    assert wide.returncode == 0, wide.stderr
    wide = pd.read_csv(StringIO(wide.stdout))
    # a wider scale moves every disagreement point, so the Nash solution moves
    assert not np.allclose(base.prediction, wide.prediction, atol=1e-3)
    r = negsim("forecast", data, "--engine", "nash", "--scale", "5", "5")
    assert r.returncode == 2 and r.stderr.strip() == "--scale: 5 5 is empty (expected LO < HI)"


@needs_validation("deu3")
def test_validate_engines_cli_writes_the_page(tmp_path):
    page = tmp_path / "v.md"
    r = negsim("validate-engines", "--data", VALIDATION, "--engines", "compromise", "--out", page, "--quiet")
    assert r.returncode == 0, r.stderr
    text = page.read_text()
    assert f"negsim validate-engines --engines compromise --out {page}" in text
    assert "| `compromise` engine (c × s weighted mean) | 195 | 23.25 |" in text
    assert "compromise" in r.stdout and "23.25" in r.stdout
    from sim.commands.validate_engines import HAND_WRITTEN

    page.write_text(text + "\n" + HAND_WRITTEN + "\n\n## A hand-written section\n")
    r = negsim("validate-engines", "--data", VALIDATION, "--engines", "compromise", "--out", page, "--quiet")
    again = page.read_text()
    assert again.count(HAND_WRITTEN) == 1 and again.endswith("## A hand-written section\n")
    assert again.startswith("# Engine validation") and "| 195 | 23.25 |" in again  # rendered, tail kept once
    r = negsim("validate-engines", "--data", tmp_path, "--out", page)
    assert r.returncode == 2
    assert (
        r.stderr.strip()
        == f"{tmp_path}/deu3/deu3_train.csv: no such file (expected the validation folder, see --data)"
    )


@needs_validation("ktab")
def test_ktab_through_the_cli_matches_the_reference_files(tmp_path):
    hist, prob = tmp_path / "h.csv", tmp_path / "p.csv"
    src = VALIDATION / "ktab" / "ktab_dummy3dim.csv"
    r = negsim("forecast", src, "--engine", "ktab_smp", "--history", hist, "--probabilities", prob, "--quiet")
    assert r.returncode == 0, r.stderr
    key = ["case", "dimension", "round", "actor"]
    ref = pd.read_csv(VALIDATION / "ktab" / "ktab_dummy3dim_reference_rounds.csv", dtype={"dimension": str})
    got = pd.read_csv(hist, dtype={"dimension": str}).merge(ref, on=key, how="outer", indicator=True)
    assert (got["_merge"] == "both").all()
    assert (got["position_x"] - got["position_y"]).abs().max() <= 0.05 + 1e-9
    refp = pd.read_csv(VALIDATION / "ktab" / "ktab_dummy3dim_reference_probabilities.csv")
    gotp = pd.read_csv(prob).merge(refp, on=["case", "actor", "round"], how="outer", indicator=True)
    assert (gotp["_merge"] == "both").all()
    assert (gotp["probability_x"] - gotp["probability_y"]).abs().max() <= 1e-4 + 1e-12
    r = negsim("forecast", src, "--engine", "nash", "--probabilities", prob)
    assert r.returncode == 2
    assert r.stderr.strip() == "--probabilities: only ktab_smp reports probabilities, not nash"
