"""Calibrated variants and their out-of-sample evaluation: the weight shrinkage (the `calibrated` engine),
power weights, the agenda-setter core, grouped splits, cross-fitting, the cluster bootstrap."""

from __future__ import annotations

import subprocess
import sys
from io import StringIO
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.casework import adapters
from sim.casework.adapters import forecast_case
from sim.casework.data import Case, read_cases, read_outcomes
from sim.casework.outofsample import (
    cluster_bootstrap,
    cross_fit,
    grouped_split_masks,
    split_table,
)
from sim.casework.scoring import (
    AgendaSetterCore,
    PaddedCases,
    PowerWeights,
    WeightShrinkage,
    baseline_predictions,
    blend,
)
from sim.engines.compromise import compromise
from tests.validation_data import VALIDATION, needs_validation

ROOT = Path(__file__).resolve().parents[1]


def random_cases(rng: np.random.Generator, n: int, dims: int = 1, prefix: str = "c") -> list[Case]:
    """Cases shaped like DEU: 4-9 actors, positions on a coarse 0-100 grid, a few missing positions."""
    cases = []
    for k in range(n):
        m = int(rng.integers(4, 10))
        pos = rng.choice([0.0, 20.0, 50.0, 70.0, 100.0], (m, dims))
        sal = rng.uniform(0, 1, (m, dims))
        if dims > 1:
            pos[0, 1] = np.nan  # one actor silent on one dimension
            sal[0, 1] = 0.0
        actors = ("com", "ep", *(f"m{j}" for j in range(m - 2)))
        dnames = tuple(f"d{j}" for j in range(dims))
        cases.append(Case(f"{prefix}{k:03d}i1", dnames, actors, rng.uniform(1, 10, m), pos, sal))
    return cases


def test_blend_ends_are_the_compromise_engine_and_the_plain_mean_exactly():
    rng = np.random.default_rng(11)
    cases = random_cases(rng, 6, dims=2)
    padded = PaddedCases.from_cases(cases)
    comp = np.concatenate(
        [
            compromise(
                c.position[c.present(d), d][:, None],
                c.capability[c.present(d)],
                c.salience[c.present(d), d][:, None],
            )
            for c in cases
            for d in range(2)
        ]
    )
    plain = np.array([np.nanmean(c.position[:, d]) for c in cases for d in range(2)])
    np.testing.assert_allclose(WeightShrinkage(1.0).predict_array(padded), comp, rtol=1e-13, atol=0)
    np.testing.assert_allclose(WeightShrinkage(0.0).predict_array(padded), plain, rtol=1e-13, atol=0)
    # the blend function itself returns its inputs exactly at the ends
    a, b = rng.uniform(0, 100, 7), rng.uniform(0, 100, 7)
    np.testing.assert_array_equal(blend(a, b, 1.0), a)
    np.testing.assert_array_equal(blend(a, b, 0.0), b)
    assert blend(a, b, 0.25) == pytest.approx(0.25 * a + 0.75 * b)


def test_calibrated_engine_is_the_blend_per_dimension(monkeypatch):
    rng = np.random.default_rng(12)
    case = random_cases(rng, 1, dims=3)[0]
    ref = forecast_case(case, "compromise").prediction
    monkeypatch.setattr(adapters, "CALIBRATED_LAMBDA", 1.0)
    np.testing.assert_array_equal(forecast_case(case, "calibrated").prediction, ref)
    monkeypatch.setattr(adapters, "CALIBRATED_LAMBDA", 0.0)
    np.testing.assert_allclose(
        forecast_case(case, "calibrated").prediction, np.nanmean(case.position, axis=0), rtol=1e-14
    )
    monkeypatch.setattr(adapters, "CALIBRATED_LAMBDA", 0.35)
    np.testing.assert_allclose(
        forecast_case(case, "calibrated").prediction,
        WeightShrinkage(0.35).predict_array(PaddedCases.from_cases([case])),
        rtol=1e-12,
    )


def test_fit_recovers_a_planted_lambda_under_laplace_noise():
    rng = np.random.default_rng(2026)
    cases = random_cases(rng, 400)
    padded = PaddedCases.from_cases(cases)
    truth = WeightShrinkage(0.35).predict_array(padded)
    y = truth + rng.laplace(0.0, 2.0, truth.shape)
    outcomes = pd.DataFrame({"case": [c.name for c in cases], "dimension": "d0", "outcome": y})
    fit = WeightShrinkage().fit(cases, outcomes)
    assert abs(fit.lam - 0.35) <= 0.05 + 1e-12
    assert fit.lam != 1.0  # the compromise end would be a failure to see the planted blend


def test_power_weights_recover_planted_exponents_exactly():
    rng = np.random.default_rng(5)
    cases = random_cases(rng, 60)
    padded = PaddedCases.from_cases(cases)
    y = PowerWeights(0.5, 2.0).predict_array(padded)
    outcomes = pd.DataFrame({"case": [c.name for c in cases], "dimension": "d0", "outcome": y})
    assert PowerWeights().fit(padded, outcomes).params == (0.5, 2.0)
    # alpha = gamma = 1 is the compromise baseline
    ref = baseline_predictions(cases)["capability × salience weighted mean"]["prediction"]
    np.testing.assert_allclose(PowerWeights(1.0, 1.0).predict_array(padded), ref, rtol=1e-13)


def test_agenda_setter_core_by_hand_and_direction_free():
    # members at 0 (3 votes), 40 (2), 100 (5); the Commission at 10; the Parliament does not vote
    x = np.array([[10.0], [90.0], [0.0], [40.0], [100.0]])
    c = np.array([1.0, 1.0, 3.0, 2.0, 5.0])
    case = Case("h1", ("d",), ("com", "ep", "a", "b", "e"), c, x, np.full((5, 1), 0.5))
    padded = PaddedCases.from_cases([case])
    # tau = 0.7: 7 of 10 votes needed; 0 has 7 votes above it, 40 only 5 -> core [40, 100] -> 40
    assert AgendaSetterCore(0.7).predict_array(padded)[0] == 40.0
    # tau = 0.75: 7 < 7.5, so 0 is in the core and the Commission gets its own position
    assert AgendaSetterCore(0.75).predict_array(padded)[0] == 10.0
    lo, hi = AgendaSetterCore().core(padded, [0.55, 0.7, 1.0])
    np.testing.assert_array_equal(lo[:, 0], [40.0, 40.0, 0.0])
    np.testing.assert_array_equal(hi[:, 0], [100.0, 100.0, 100.0])
    # flipping the scale flips every prediction: the rule does not care which end is 0
    rng = np.random.default_rng(9)
    cases = random_cases(rng, 30)
    flipped = [
        Case(k.name, k.dimensions, k.actors, k.capability, 100 - k.position, k.salience) for k in cases
    ]
    v = AgendaSetterCore()
    np.testing.assert_allclose(
        v.grid_predictions(PaddedCases.from_cases(flipped)),
        100 - v.grid_predictions(PaddedCases.from_cases(cases)),
        atol=1e-12,
    )


def test_grouped_splits_keep_proposals_together_and_are_seeded():
    names = [f"d{p:05d}i{i}" for p in range(23) for i in range(1, 1 + p % 4 + 1)]
    tab = split_table(names, n_splits=200, seed=7)
    assert len(tab) == 200 * len(names)
    assert (tab.groupby(["split", "proposal"])["fit"].nunique() == 1).all()
    per_split = tab.drop_duplicates(["split", "proposal"]).groupby("split")["fit"].sum()
    assert (per_split == 23 // 2).all()
    pd.testing.assert_frame_equal(tab, split_table(names, n_splits=200, seed=7))
    other = split_table(names, n_splits=200, seed=8)
    assert not other["fit"].equals(tab["fit"])
    # the splits differ from one another (not one split repeated)
    assert tab.pivot(index="split", columns="case", values="fit").drop_duplicates().shape[0] > 150


def test_cross_fit_equals_fitting_each_side_separately():
    rng = np.random.default_rng(4)
    cases = random_cases(rng, 40)
    padded = PaddedCases.from_cases(cases)
    y = rng.uniform(0, 100, len(cases))
    outcomes = pd.DataFrame({"case": [c.name for c in cases], "dimension": "d0", "outcome": y})
    v = WeightShrinkage()
    errors = np.abs(v.grid_predictions(padded) - y)
    masks = grouped_split_masks(np.arange(len(cases)), 5, np.random.SeedSequence(1))
    held, ca, cb = cross_fit(errors, masks)
    for s in range(5):
        a = [c for c, m in zip(cases, masks[s], strict=True) if m]
        b = [c for c, m in zip(cases, masks[s], strict=True) if not m]
        fa = WeightShrinkage().fit(a, outcomes)
        fb = WeightShrinkage().fit(b, outcomes)
        assert (fa.lam, fb.lam) == (v.grid[ca[s]][0], v.grid[cb[s]][0])
        expect = np.where(
            masks[s],
            np.abs(WeightShrinkage(fb.lam).predict_array(padded) - y),
            np.abs(WeightShrinkage(fa.lam).predict_array(padded) - y),
        )
        np.testing.assert_allclose(held[s], expect, rtol=1e-12)


def test_cluster_bootstrap_resamples_whole_proposals():
    groups = np.repeat(np.arange(10), 3)
    const = cluster_bootstrap(np.full(30, -0.4), groups, 200, np.random.SeedSequence(3))
    np.testing.assert_allclose(const, -0.4)
    # a difference that is constant within proposals only takes the proposals' values, with equal sizes the
    # bootstrap mean is an average of 10 proposal values drawn with replacement
    diff = np.repeat(np.arange(10.0), 3)
    draws = cluster_bootstrap(diff, groups, 4000, np.random.SeedSequence(3))
    np.testing.assert_array_equal(draws, cluster_bootstrap(diff, groups, 4000, np.random.SeedSequence(3)))
    assert np.allclose(draws * 10, np.round(draws * 10))  # sums of 10 whole proposal values, over 10
    assert draws.mean() == pytest.approx(4.5, abs=0.05)
    assert draws.std() == pytest.approx(np.sqrt(8.25 / 10), rel=0.05)  # var of one draw 8.25, n = 10


needs_data = needs_validation("deu3")


@needs_data
def test_calibrated_constant_is_what_fit_returns_on_deu3_train():
    cases = read_cases(VALIDATION / "deu3" / "deu3_train.csv")
    outcomes = read_outcomes(VALIDATION / "deu3" / "deu3_train_outcomes.csv")
    assert WeightShrinkage().fit(cases, outcomes).lam == adapters.CALIBRATED_LAMBDA
    assert 0.0 < adapters.CALIBRATED_LAMBDA < 1.0


@needs_validation("bdm")
def test_forecast_cli_calibrated_on_the_bdm_case():
    src = VALIDATION / "bdm" / "ec_emissions.csv"
    r = subprocess.run(
        [sys.executable, "-m", "sim", "forecast", str(src), "--engine", "calibrated", "--quiet"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr
    pred = pd.read_csv(StringIO(r.stdout))
    data = pd.read_csv(src)
    assert len(pred) == data.groupby(["case", "dimension"]).ngroups
    for row in pred.itertuples():
        g = data[(data.case == row.case) & (data.dimension.astype(str) == str(row.dimension))]
        assert g.position.min() <= row.prediction <= g.position.max()
        w = g.capability * g.salience
        lam = adapters.CALIBRATED_LAMBDA
        expect = lam * (w * g.position).sum() / w.sum() + (1 - lam) * g.position.mean()
        assert row.prediction == pytest.approx(expect, abs=1e-8)
