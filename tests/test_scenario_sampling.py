"""Sampling uncertain parameters: each distribution's moments, the copula, reproducibility, CRN, materialise.

Expected moments are derived from the parameters by hand (the formulas in each test); tolerances are
four standard errors at the sample size (Latin hypercube sampling only makes the errors smaller).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sim.errors import UserError
from sim.scenario import Scenario, load_scenario, materialise, sample_parameters

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "baseline.yaml"
N = 20_000


def toy(specs: dict[str, dict], correlations: list | None = None) -> Scenario:
    """A scenario holding only the given distributions (under ``p.<name>``)."""
    data = {"p": dict(specs), "correlations": correlations or []}
    return Scenario(id="toy", path=Path("toy.yaml"), files=[], data=data, provenance={},
                    uncertain={f"p.{k}": v for k, v in specs.items()})


def check_moments(x: np.ndarray, mean: float, sd: float, excess_kurtosis: float) -> None:
    n = len(x)
    assert abs(x.mean() - mean) < 4 * sd / math.sqrt(n), (x.mean(), mean)
    # se of the sample sd ~ sd * sqrt((kurtosis_excess + 2) / (4 n))
    assert abs(x.std(ddof=1) - sd) < 4 * sd * math.sqrt((excess_kurtosis + 2) / (4 * n)), (x.std(), sd)


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    specs = {
        "beta": {"dist": "beta", "mean": 0.3, "kappa": 10},
        "beta_scaled": {"dist": "beta", "mean": 0.3, "kappa": 10, "low": 0.1, "high": 0.5},
        "annual": {"dist": "annual_prob", "mean": 0.15, "kappa": 20},
        "lognormal": {"dist": "lognormal", "median": 2.0, "gsd": 1.5},
        "gamma": {"dist": "gamma", "mean": 0.5, "cv": 0.4},
        "normal": {"dist": "normal", "mean": 1.0, "sd": 0.3},
        "truncnormal": {"dist": "normal", "mean": 0.2, "sd": 0.5, "low": 0.0, "high": 1.0},
        "uniform": {"dist": "uniform", "low": 2.0, "high": 5.0},
        "weights": {"dist": "dirichlet", "mean": {"a": 0.5, "b": 0.3, "c": 0.2}, "concentration": 20},
        "solver": {"dist": "choice", "options": ["nash", "ks", "bf"], "probs": [0.2, 0.5, 0.3]},
    }
    return sample_parameters(toy(specs), N, np.random.SeedSequence(12345))


def test_beta_moments(table):
    m, k = 0.3, 10
    sd = math.sqrt(m * (1 - m) / (k + 1))
    check_moments(table["p.beta"].to_numpy(), m, sd, stats.beta(m * k, (1 - m) * k).stats("k"))


def test_rescaled_beta_moments(table):
    # mean 0.3 on [0.1, 0.5] is 0.5 on the unit scale; sd scales by the width 0.4
    x = table["p.beta_scaled"].to_numpy()
    assert x.min() > 0.1 and x.max() < 0.5
    check_moments(x, 0.3, 0.4 * math.sqrt(0.25 / 11), stats.beta(5, 5).stats("k"))


def test_annual_prob_is_a_probability_with_beta_moments(table):
    m, k = 0.15, 20
    x = table["p.annual"].to_numpy()
    assert x.min() > 0 and x.max() < 1
    check_moments(x, m, math.sqrt(m * (1 - m) / (k + 1)), stats.beta(m * k, (1 - m) * k).stats("k"))


def test_lognormal_moments(table):
    s2 = math.log(1.5) ** 2
    mean = 2.0 * math.exp(s2 / 2)
    sd = mean * math.sqrt(math.exp(s2) - 1)
    x = table["p.lognormal"].to_numpy()
    kurt = math.exp(4 * s2) + 2 * math.exp(3 * s2) + 3 * math.exp(2 * s2) - 6
    check_moments(x, mean, sd, kurt)
    assert abs(np.median(x) - 2.0) < 0.02


def test_gamma_moments(table):
    # shape 1/cv^2 = 6.25: mean 0.5, sd 0.5 * 0.4, excess kurtosis 6 / shape
    check_moments(table["p.gamma"].to_numpy(), 0.5, 0.2, 6 / 6.25)


def test_normal_moments(table):
    check_moments(table["p.normal"].to_numpy(), 1.0, 0.3, 0.0)


def test_truncated_normal_moments(table):
    a, b = (0.0 - 0.2) / 0.5, (1.0 - 0.2) / 0.5
    mean, var, kurt = stats.truncnorm(a, b, loc=0.2, scale=0.5).stats("mvk")
    x = table["p.truncnormal"].to_numpy()
    assert x.min() >= 0.0 and x.max() <= 1.0
    check_moments(x, float(mean), math.sqrt(var), float(kurt))


def test_uniform_moments(table):
    check_moments(table["p.uniform"].to_numpy(), 3.5, 3 / math.sqrt(12), -1.2)


def test_dirichlet_components(table):
    cols = ["p.weights.a", "p.weights.b", "p.weights.c"]
    w = table[cols].to_numpy()
    np.testing.assert_allclose(w.sum(axis=1), 1.0, rtol=0, atol=1e-12)
    for j, m in enumerate((0.5, 0.3, 0.2)):
        # Dirichlet marginal: Beta(m c, (1 - m) c), sd sqrt(m (1 - m) / (c + 1))
        check_moments(w[:, j], m, math.sqrt(m * (1 - m) / 21), stats.beta(20 * m, 20 * (1 - m)).stats("k"))


def test_choice_frequencies(table):
    freq = table["p.solver"].value_counts(normalize=True)
    for option, p in (("nash", 0.2), ("ks", 0.5), ("bf", 0.3)):
        assert abs(freq[option] - p) < 4 * math.sqrt(p * (1 - p) / N)


def test_column_order_and_fixed_numbers():
    sc = toy({"a": {"dist": "uniform", "low": 0, "high": 1}, "w": {"dist": "dirichlet", "mean": {"x": 0.5,
              "y": 0.5}, "concentration": 4}})
    sc.data["p"]["fixed"] = 3.0
    cols = list(sample_parameters(sc, 5, 1).columns)
    assert cols == ["p.a", "p.w.x", "p.w.y"]


# --- copula ---------------------------------------------------------------------------------------
def test_gaussian_copula_gives_the_written_rank_correlation():
    specs = {
        "drift": {"dist": "lognormal", "median": 0.1, "gsd": 1.6},
        "collapse": {"dist": "annual_prob", "mean": 0.04, "kappa": 30},
        "belief": {"dist": "normal", "mean": 0.15, "sd": 0.03},
        "free": {"dist": "uniform", "low": 0, "high": 1},
    }
    rows = [["p.drift", "p.collapse", 0.5], ["p.belief", "p.drift", -0.3]]
    n = 8000
    draws = sample_parameters(toy(specs, rows), n, np.random.SeedSequence(7))
    rho = draws.corr(method="spearman")
    tol = 4 / math.sqrt(n)  # se of Spearman's rho <= 1 / sqrt(n - 1)
    assert abs(rho.loc["p.drift", "p.collapse"] - 0.5) < tol
    assert abs(rho.loc["p.belief", "p.drift"] + 0.3) < tol
    assert abs(rho.loc["p.free", "p.drift"]) < tol
    # the marginals are untouched by the copula
    s2 = math.log(1.6) ** 2
    mean = 0.1 * math.exp(s2 / 2)
    check_moments(draws["p.drift"].to_numpy(), mean, mean * math.sqrt(math.exp(s2) - 1),
                  math.exp(4 * s2) + 2 * math.exp(3 * s2) + 3 * math.exp(2 * s2) - 6)


# --- reproducibility and common random numbers ----------------------------------------------------
@pytest.fixture(scope="module")
def baseline():
    return load_scenario(BASELINE)


def test_same_seed_same_table_different_seed_different(baseline):
    a = sample_parameters(baseline, 200, np.random.SeedSequence(42))
    b = sample_parameters(baseline, 200, np.random.SeedSequence(42))
    c = sample_parameters(baseline, 200, np.random.SeedSequence(43))
    pd.testing.assert_frame_equal(a, b)
    assert not np.allclose(a["war.drift_per_year"], c["war.drift_per_year"])
    g1 = sample_parameters(baseline, 50, np.random.default_rng(5))
    g2 = sample_parameters(baseline, 50, np.random.default_rng(5))
    pd.testing.assert_frame_equal(g1, g2)


def test_baseline_columns(baseline):
    draws = sample_parameters(baseline, 100, 0)
    assert "actors.RU.positions.TERR_CTRL.ideal" in draws
    assert "events.US_AID_CUTOFF.annual_prob" in draws
    assert "mediator.text_weights0.US" in draws
    assert "war.L0" not in draws  # fixed numbers stay fixed
    assert set(draws["scenario.structure.text_solver"]) <= {"nash", "kalai_smorodinsky"}
    assert len(draws.columns) == len(set(draws.columns))


def test_variant_changes_only_its_own_columns(baseline, tmp_path):
    variant = tmp_path / "variant.yaml"
    variant.write_text(
        f"extends: {BASELINE}\n"
        "scenario: {id: variant}\n"
        "actors:\n  US:\n    deal_bonus: {dist: lognormal, median: 0.09, gsd: 1.2}\n"
        "war:\n  drift_per_year: {dist: lognormal, median: 0.2, gsd: 1.6}\n"
        "  escalation_disutility: {dist: beta, mean: 0.8, kappa: 50}\n",
        encoding="utf-8",
    )
    sc = load_scenario(variant)
    seed = np.random.SeedSequence(2026)
    base = sample_parameters(baseline, 300, seed)
    var = sample_parameters(sc, 300, seed)
    changed = {"actors.US.deal_bonus", "war.drift_per_year"}
    assert set(var.columns) == set(base.columns) | {"war.escalation_disutility"}
    for col in base.columns:
        if col in changed:
            assert not np.allclose(var[col], base[col])
        else:
            pd.testing.assert_series_equal(var[col], base[col])
    # drift is in a correlated group: same uniforms, new marginal -> identical ranks
    np.testing.assert_array_equal(var["war.drift_per_year"].rank(), base["war.drift_per_year"].rank())


# --- materialise ----------------------------------------------------------------------------------
def test_materialise_puts_draws_at_the_leaves(baseline):
    draws = sample_parameters(baseline, 20, np.random.SeedSequence(3))
    idx = np.array([3, 3, 7, 19])
    params = materialise(baseline, draws, idx)
    cap = params["actors"]["RU"]["capability"]
    assert isinstance(cap, np.ndarray) and cap.shape == (4,)
    np.testing.assert_array_equal(cap, draws["actors.RU.capability"].to_numpy()[idx])
    kappa = params["actors"]["UA"]["linkage"][0]["kappa"]
    np.testing.assert_array_equal(kappa, draws["actors.UA.linkage.0.kappa"].to_numpy()[idx])
    weights = params["mediator"]["text_weights0"]
    assert set(weights) == set(baseline.data["mediator"]["text_weights0"]["mean"])
    np.testing.assert_allclose(sum(weights.values()), 1.0)
    assert params["scenario"]["structure"]["text_solver"].shape == (4,)
    assert params["war"]["L0"] == baseline.data["war"]["L0"]  # fixed numbers untouched
    assert isinstance(baseline.data["actors"]["RU"]["capability"], dict)  # sc.data not modified


def test_materialise_refuses_foreign_draws(baseline):
    draws = sample_parameters(baseline, 5, 1).drop(columns=["war.drift_per_year"])
    with pytest.raises(UserError, match="lack columns for war.drift_per_year"):
        materialise(baseline, draws, np.arange(3))
    with pytest.raises(UserError, match="out of range"):
        materialise(baseline, sample_parameters(baseline, 5, 1), np.array([5]))
