"""Kaplan-Meier time to agreement against a hand computation, and restricted mean time."""

import numpy as np
import pytest

from sim.analysis.survival import agreement_curves, kaplan_meier, restricted_mean
from tests.fixtures_runs import HORIZON, simulate_runs


def test_kaplan_meier_matches_hand_computation_with_censoring():
    # 8 replicates: events at 2, 3, 3, 5, 8; censored at 4, 6 and (no event) at the horizon 10.
    # At risk 8 -> S(2) = 7/8; at risk 7, 2 events -> S(3) = 7/8 * 5/7 = 0.625; censoring at 4;
    # at risk 4 -> S(5) = 0.625 * 3/4 = 0.46875; censoring at 6; at risk 2 -> S(8) = 0.234375.
    times = np.array([2, 3, 3, 5, 8, np.nan, np.nan, np.nan])
    censor = np.array([np.nan] * 5 + [4, 6, 10])
    km = kaplan_meier(times, horizon=10, censor_times=censor)
    assert km.events == 5 and km.n == 8
    np.testing.assert_allclose(
        km.probability_by([0, 1.9, 2, 3, 4.5, 5, 7.9, 8, 10]),
        1 - np.array([1, 1, 0.875, 0.625, 0.625, 0.46875, 0.46875, 0.234375, 0.234375]),
    )
    # area under S: 2*1 + 1*.875 + 2*.625 + 3*.46875 + 2*.234375 = 6.0
    assert km.rmst == pytest.approx(6.0)
    assert km.median() == 5.0
    # exponential Greenwood ("log-log") band at t = 3 (Kalbfleisch & Prentice 2002, eq. 1.11):
    # V = sum d/(n(n-d)) / log(S)^2 = (1/56 + 2/35) / log(0.625)^2; band = S^exp(+-1.96 sqrt(V))
    i = list(km.times).index(3.0)
    v = (1 / 56 + 2 / 35) / np.log(0.625) ** 2
    z = 1.959963984540054
    assert km.lo[i] == pytest.approx(0.625 ** np.exp(z * np.sqrt(v)), rel=1e-9)
    assert km.hi[i] == pytest.approx(0.625 ** np.exp(-z * np.sqrt(v)), rel=1e-9)


def test_censoring_at_the_horizon_is_not_dropping():
    # 10 replicates, 2 agree (weeks 10, 20): P(agreement by 104) is 0.2, not 1.0 (the conditional share)
    t = np.array([10.0, 20.0] + [np.nan] * 8)
    km = kaplan_meier(t, horizon=104)
    assert km.probability_by(104) == pytest.approx(0.2)
    assert km.median() is None
    assert km.rmst == pytest.approx(10 * 1 + 10 * 0.9 + 84 * 0.8)


def test_no_event_gives_flat_curve():
    km = kaplan_meier(np.full(5, np.nan), horizon=52)
    assert km.events == 0 and km.rmst == 52 and km.median() is None
    assert km.probability_by(52) == 0


def test_restricted_mean_of_a_step_curve():
    assert restricted_mean(np.array([0.0, 1.0, 3.0]), np.array([1.0, 0.5, 0.0]), 5.0) == pytest.approx(2.0)


def test_agreement_curves_on_synthetic_run_recover_the_agreement_rate():
    df, _ = simulate_runs(seed=2, n_draws=150, paths_per_draw=20)
    curves = agreement_curves(df, HORIZON)
    share = df["weeks_to_agreement"].notna().mean()
    assert curves["first_agreement"].probability_by(HORIZON) == pytest.approx(share)
    comp = df["weeks_to_comprehensive"].notna().mean()
    assert curves["comprehensive_deal"].probability_by(HORIZON) == pytest.approx(comp)
    # a comprehensive deal never comes before the first agreement
    t = np.linspace(0, HORIZON, 27)
    assert np.all(
        curves["comprehensive_deal"].probability_by(t) <= curves["first_agreement"].probability_by(t)
    )
    tidy = curves["first_agreement"].to_df()
    assert {"t", "survival", "p_event", "p_lo", "p_hi"} <= set(tidy.columns)
    assert np.all(np.diff(tidy["survival"]) <= 0)
