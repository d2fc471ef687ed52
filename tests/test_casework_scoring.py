"""Scoring against DEU III outcomes: the README baselines, the fixed split, the LAD fit, the harness."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim.casework import predictions_frame, read_cases, read_outcomes, run_cases
from sim.casework.scoring import (
    Shrinkage,
    baseline_predictions,
    half_of,
    join_outcomes,
    proposal_id,
    summarise,
)
from sim.casework.validation import validate_engines
from sim.casework.validation_page import render_markdown
from tests.validation_data import VALIDATION, needs_validation

needs_data = needs_validation("deu3")


@pytest.fixture(scope="module")
def deu():
    return read_cases(VALIDATION / "deu3" / "deu3_train.csv"), read_outcomes(
        VALIDATION / "deu3" / "deu3_train_outcomes.csv"
    )


@needs_data
def test_compromise_engine_mae_matches_readme(deu):
    cases, outcomes = deu
    assert len(cases) >= 150
    s = summarise(join_outcomes(predictions_frame(run_cases(cases, "compromise", progress=False)), outcomes))
    assert s["n"] == len(cases)
    assert s["mae"] == pytest.approx(23.25, abs=0.01)
    assert set(s) >= {"mae_COD", "mae_CNS"}  # by procedure, since the outcomes give it


@needs_data
def test_baselines_match_readme(deu):
    cases, outcomes = deu
    got = {k: summarise(join_outcomes(p, outcomes))["mae"] for k, p in baseline_predictions(cases).items()}
    expected = [23.25, 23.74, 23.23, 27.75, 29.34]
    np.testing.assert_allclose(list(got.values()), expected, atol=0.005)


def test_split_keeps_proposals_together_and_is_fixed():
    assert proposal_id("d00060i12") == "d00060" and proposal_id("ec_emissions") == "ec_emissions"
    assert half_of("d00060i1") == half_of("d00060i2")
    # SHA-256, not Python's salted hash: the same half in every process
    assert [half_of(f"d{k:05d}i1") for k in range(8)] == [half_of(f"d{k:05d}i3") for k in range(8)]
    assert {half_of(f"p{k}") for k in range(50)} == {0, 1}


def test_shrinkage_is_least_absolute_deviations():
    rng = np.random.default_rng(3)
    x = rng.uniform(0, 100, 41)
    y = 5.0 + 0.8 * x
    y[::5] += 40.0  # outliers a least-squares fit would follow, LAD ignores
    fit = Shrinkage().fit(x, y)
    assert fit.a == pytest.approx(5.0, abs=1e-6) and fit.b == pytest.approx(0.8, abs=1e-8)


@needs_data
def test_validation_harness_and_page():
    rep = validate_engines(VALIDATION, engines=("compromise",))
    assert rep.engines["compromise"]["mae"] == pytest.approx(23.25, abs=0.01)
    pooled = rep.pooled["compromise"]
    assert pooled["n"] == rep.n_cases and pooled["mae"] == pytest.approx(rep.engines["compromise"]["mae"])
    assert sum(f["n_test"] for f in rep.folds) == rep.n_cases
    page = render_markdown(rep, "negsim validate-engines --out X")
    assert "negsim validate-engines --out X" in page and "| 23.25 |" in page and "**Verdict.**" in page
    # out of sample: every pooled score is the case-weighted mean of the two held-out halves
    for name, s in rep.pooled.items():
        halves = sum(f["n_test"] * f[name] for f in rep.folds) / rep.n_cases
        assert s["mae"] == pytest.approx(halves, rel=1e-12)
        if name != "compromise":
            assert rep.bootstrap[name]["diff"] == pytest.approx(s["mae"] - pooled["mae"], rel=1e-12)
            assert rep.bootstrap[name]["lo"] <= rep.bootstrap[name]["diff"] <= rep.bootstrap[name]["hi"]
    # the grid variants nest the compromise model, so fitted on all cases they cannot be worse in sample
    for name, mae in rep.full_fit_mae.items():
        if name != "agenda-setter core":
            assert mae <= pooled["mae"] + 1e-12
    assert rep.n_splits == 500 and set(rep.repeated) >= set(rep.variants)
    for r in rep.repeated.values():
        assert r["lo"] <= r["median"] <= r["hi"] and 0.0 <= r["win_share"] <= 1.0


def test_procedure_weighted_mean_recovers_a_planted_rule():
    from sim.casework.data import Case
    from sim.casework.scoring import ProcedureWeightedMean

    rng = np.random.default_rng(7)
    cases, rows = [], []
    for k in range(40):
        x = rng.choice([0.0, 25.0, 50.0, 100.0], 5)
        c, s = rng.uniform(1, 10, 5), rng.uniform(0.2, 1, 5)
        case = Case(f"c{k}", ("d1",), ("com", "ep", "a", "b", "e"), c, x[:, None], s[:, None])
        proc = "CNS" if k % 2 else "COD"
        w = c * s * np.array([1.0, 0.0 if proc == "CNS" else 2.0, 1, 1, 1])  # planted: EP 0 / 2
        cases.append(case)
        rows.append((case.name, "d1", float((w * x).sum() / w.sum()), proc))
    outcomes = pd.DataFrame(rows, columns=["case", "dimension", "outcome", "procedure"])
    plain = ProcedureWeightedMean().predict(cases, {})
    ref = baseline_predictions(cases)["capability × salience weighted mean"]
    np.testing.assert_allclose(plain["prediction"], ref["prediction"])
    fit = ProcedureWeightedMean().fit(cases, outcomes)
    assert fit.gamma == 1.0
    assert fit.mult[("CNS", "ep")] == 0.0 and fit.mult[("COD", "ep")] == 2.0
    assert fit.mult[("CNS", "com")] == 1.0 and fit.mult[("COD", "com")] == 1.0
    procs = dict(zip(outcomes.case, outcomes.procedure, strict=True))
    np.testing.assert_allclose(fit.predict(cases, procs)["prediction"], outcomes["outcome"], atol=1e-9)
