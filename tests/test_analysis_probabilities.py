"""Outcome probabilities: Wilson coverage, recovery of known probabilities, ICD 203 words."""

import numpy as np
import pandas as pd
import pytest

from sim.analysis.probabilities import outcome_probabilities, per_draw_frequencies, wilson_interval
from sim.analysis.rundir import OUTCOMES
from sim.analysis.words import change_sentence, headline_sentence, icd203_term
from sim.batch.stats import between_draw_quantiles
from tests.fixtures_runs import HORIZONS, simulate_runs, true_probabilities


@pytest.mark.parametrize(("p", "n"), [(0.3, 200), (0.05, 400), (0.12, 3000)])
def test_wilson_95_interval_covers_true_p_at_nominal_rate(p, n):
    # 20,000 simulated datasets: the coverage estimate has sd sqrt(.95*.05/20000) = 0.0015; Wilson's
    # actual coverage oscillates around 95% by about a point for these n (Brown, Cai & DasGupta 2001, Fig. 5).
    rng = np.random.default_rng(20260105)
    k = rng.binomial(n, p, size=20_000)
    lo, hi = wilson_interval(k, np.full(k.shape, n))
    coverage = np.mean((lo <= p) & (p <= hi))
    assert abs(coverage - 0.95) < 0.02, coverage


def test_wald_would_undercover_where_wilson_does_not():
    # a failure the chosen interval must avoid: p = 0.02, n = 100, Wald coverage ~ 0.87
    rng = np.random.default_rng(7)
    k = rng.binomial(100, 0.02, size=20_000)
    ph = k / 100
    half = 1.96 * np.sqrt(ph * (1 - ph) / 100)
    wald = np.mean((ph - half <= 0.02) & (0.02 <= ph + half))
    lo, hi = wilson_interval(k, np.full(k.shape, 100))
    wilson = np.mean((lo <= 0.02) & (0.02 <= hi))
    assert wald < 0.9 < wilson


def test_pooled_probabilities_recover_known_truth():
    df, params = simulate_runs(seed=11, n_draws=400, paths_per_draw=25)
    table = outcome_probabilities(df)
    assert list(table["horizon"].unique()) == list(HORIZONS)
    for h in HORIZONS:
        truth = true_probabilities(params, h).mean()  # exact expectation given these draws
        rows = table[table["horizon"] == h].set_index("outcome")
        assert rows["p"].sum() == pytest.approx(1.0)
        for o in OUTCOMES:
            se = np.sqrt(truth[o] * (1 - truth[o]) / len(df))
            assert abs(rows.loc[o, "p"] - truth[o]) < 4.5 * se, (h, o)


def test_per_draw_spread_is_the_deconvolved_spread_of_per_draw_frequencies():
    df, _ = simulate_runs(seed=3, n_draws=120, paths_per_draw=10)
    table = outcome_probabilities(df, horizons=[52])
    freq = per_draw_frequencies(df, 52)
    assert (freq["n_paths"] == 10).all()
    np.testing.assert_allclose(freq[list(OUTCOMES)].sum(axis=1), 1.0)
    for o in OUTCOMES:
        row = table[table["outcome"] == o].iloc[0]
        raw = np.quantile(freq[o], [0.025, 0.975])
        q = between_draw_quantiles(freq[[o]].to_numpy(), 10, [0.5, 0.1, 0.9, 0.025, 0.975])[:, 0]
        cols = ["draw_median", "draw_lo80", "draw_hi80", "draw_lo95", "draw_hi95"]
        np.testing.assert_allclose(row[cols].to_numpy(dtype=float), q)
        # binomial noise removed: the parameter range lies inside the raw range of frequencies
        assert raw[0] - 1e-12 <= row["draw_lo95"] <= row["draw_hi95"] <= raw[1] + 1e-12
        assert row["lo"] <= row["mc_lo"] <= row["p"] <= row["mc_hi"] <= row["hi"]
        assert row["lo80"] >= row["lo"] and row["hi80"] <= row["hi"]


def test_parameter_spread_does_not_shrink_with_more_paths_but_mc_error_does():
    small, _ = simulate_runs(seed=5, n_draws=300, paths_per_draw=40)
    big, _ = simulate_runs(seed=5, n_draws=300, paths_per_draw=160)
    a = outcome_probabilities(small, [104]).set_index("outcome").loc["comprehensive_deal"]
    b = outcome_probabilities(big, [104]).set_index("outcome").loc["comprehensive_deal"]
    assert (b["mc_hi"] - b["mc_lo"]) < 0.6 * (a["mc_hi"] - a["mc_lo"])
    assert (b["draw_hi80"] - b["draw_lo80"]) > 0.7 * (a["draw_hi80"] - a["draw_lo80"])


@pytest.mark.parametrize(
    ("p", "term"),
    [
        (0.0, "almost no chance"),
        (0.049, "almost no chance"),
        (0.05, "very unlikely"),
        (0.2, "unlikely"),
        (0.449, "unlikely"),
        (0.45, "roughly even chance"),
        (0.55, "likely"),
        (0.8, "very likely"),
        (0.95, "almost certain"),
        (1.0, "almost certain"),
    ],
)
def test_icd203_bands(p, term):
    assert icd203_term(p)[0] == term


def test_headline_sentence_matches_the_briefing_format():
    s = headline_sentence("comprehensive_deal", 52, 0.27, 0.19, 0.36)
    assert s == "A comprehensive deal within a year is unlikely (20–45%): 27% [19, 36]"
    s = headline_sentence("continued_war", 104, 0.5, 0.4, 0.6)
    assert s == "Fighting still going on after two years has a roughly even chance (45–55%): 50% [40, 60]"


def test_headline_term_follows_the_rounded_number():
    assert "very unlikely (5–20%): 5%" in headline_sentence("comprehensive_deal", 52, 0.0496, 0.0, 0.13)
    assert "almost no chance (1–5%): 4%" in headline_sentence("comprehensive_deal", 52, 0.0449, 0.0, 0.13)


def test_change_sentence_direction():
    up = change_sentence("comprehensive_deal", 52, 0.09, 0.05, 0.13, "variant")
    assert up == "A comprehensive deal within a year becomes more likely under variant: +9 points [+5, +13]"
    assert "no clear change" in change_sentence("ceasefire", 104, 0.01, -0.02, 0.04)
    assert "less likely" in change_sentence("ceasefire", 104, -0.05, -0.08, -0.02)
    small = change_sentence("continued_war", 104, -0.012, -0.019, -0.004, "v")
    assert (
        small
        == "Fighting still going on after two years becomes less likely under v: -1.2 points [-1.9, -0.4]"
    )


def test_icd203_rejects_non_probabilities():
    with pytest.raises(ValueError):
        icd203_term(1.2)
    with pytest.raises(ValueError):
        icd203_term(float("nan"))


def test_missing_class_gets_zero_probability():
    df = pd.DataFrame({"draw": [0, 0, 1, 1], "outcome_w52": ["continued_war"] * 3 + ["ceasefire"]})
    t = outcome_probabilities(df).set_index("outcome")
    assert t.loc["comprehensive_deal", "p"] == 0 and t.loc["ceasefire", "p"] == 0.25
