"""Morris and Sobol' through the production code path, on functions with known answers."""

import numpy as np
import pandas as pd
import pytest

from sim.analysis.negsim_model import NegsimModel, outcome_matrix
from sim.analysis.sensitivity import morris_indices, sobol_indices, top_parameters

A, B = 7.0, 0.1
# Ishigami & Homma (1990); analytic indices e.g. Saltelli et al. (2008), Primer §4.9 / SALib's tests
V1 = 0.5 * (1 + B * np.pi**4 / 5) ** 2
V2 = A**2 / 8
V13 = B**2 * np.pi**8 * (1 / 18 - 1 / 50)
V = V1 + V2 + V13
S1_TRUE = np.array([V1, V2, 0.0]) / V
ST_TRUE = np.array([V1 + V13, V2, V13]) / V


def ishigami(u: np.ndarray) -> np.ndarray:
    x = -np.pi + 2 * np.pi * u
    y = np.sin(x[:, 0]) + A * np.sin(x[:, 1]) ** 2 + B * x[:, 2] ** 4 * np.sin(x[:, 0])
    return np.column_stack([y, -y])  # two outputs: the code handles several


def test_sobol_recovers_ishigami_indices():
    table = sobol_indices(ishigami, ["x1", "x2", "x3"], ["y", "minus_y"], samples=2048, seed=3)
    for out in ("y", "minus_y"):
        t = table[table["outcome"] == out].set_index("parameter").loc[["x1", "x2", "x3"]]
        np.testing.assert_allclose(t["S1"], S1_TRUE, atol=0.04)
        np.testing.assert_allclose(t["ST"], ST_TRUE, atol=0.04)
        assert (t["S1_conf"] < 0.08).all()
    assert top_parameters(table, "y", 1)["parameter"].iloc[0] == "x1"


def test_morris_exact_on_a_linear_function_and_ranks_ishigami():
    coef = np.array([1.0, 2.0, 0.0, -3.0])
    table = morris_indices(lambda u: u @ coef, list("abcd"), ["lin"], trajectories=12, seed=1)
    t = table.set_index("parameter")
    np.testing.assert_allclose(t["mu_star"], np.abs(coef), atol=1e-12)
    np.testing.assert_allclose(t["mu"], coef, atol=1e-12)
    np.testing.assert_allclose(t["sigma"], 0.0, atol=1e-12)
    ish = morris_indices(ishigami, ["x1", "x2", "x3"], ["y", "minus_y"], trajectories=60, seed=2)
    y = ish[ish["outcome"] == "y"].set_index("parameter")
    # x3 acts only through its interaction with x1: large sigma relative to mu; x2's effect is even in x2
    assert y.loc["x3", "sigma"] > y.loc["x3", "mu_star"] * 0.9
    assert abs(y.loc["x2", "mu"]) < 0.25 * y.loc["x2", "mu_star"]
    assert (y["mu_star"] > 0.5).all()


class FakeScenario:
    uncertain = {
        "war.drift_per_year": {"dist": "lognormal", "median": 0.10, "gsd": 1.6},
        "commitment.guarantee_credibility": {"dist": "beta", "mean": 0.7, "kappa": 15},
        "mediator.text_weights0": {
            "dist": "dirichlet",
            "mean": {"US": 0.5, "RU": 0.3, "UA": 0.2},
            "concentration": 60,
        },
        "scenario.structure.text_solver": {
            "dist": "choice",
            "options": ["nash", "kalai_smorodinsky"],
            "probs": [0.8, 0.2],
        },
    }


def test_unit_cube_maps_through_each_marginal_quantile_function():
    from scipy import stats

    m = NegsimModel(FakeScenario(), paths=2, seed=1, progress=False)
    assert m.names == [
        "war.drift_per_year",
        "commitment.guarantee_credibility",
        "mediator.text_weights0.US",
        "mediator.text_weights0.RU",
        "mediator.text_weights0.UA",
        "scenario.structure.text_solver",
    ]
    u = np.array([[0.5, 0.9, 0.5, 0.5, 0.5, 0.79], [0.0, 0.1, 0.2, 0.9, 0.5, 0.81]])
    d = m.draws_from_unit(u)
    assert d.loc[0, "war.drift_per_year"] == pytest.approx(0.10)
    assert d.loc[0, "commitment.guarantee_credibility"] == pytest.approx(stats.beta.ppf(0.9, 10.5, 4.5))
    assert d.loc[1, "war.drift_per_year"] > 0  # u = 0 is kept off the infinite quantile
    w = d[["mediator.text_weights0.US", "mediator.text_weights0.RU", "mediator.text_weights0.UA"]]
    np.testing.assert_allclose(w.sum(axis=1), 1.0)
    assert list(d["scenario.structure.text_solver"]) == ["nash", "kalai_smorodinsky"]
    sub = NegsimModel(FakeScenario(), paths=2, seed=1, include=["war.*"], progress=False)
    assert sub.names == ["war.drift_per_year"]
    held = sub.draws_from_unit(np.array([[0.3]]))
    assert held.loc[0, "commitment.guarantee_credibility"] == pytest.approx(stats.beta.ppf(0.5, 10.5, 4.5))


def test_outcome_matrix_is_per_draw_frequency():
    runs = pd.DataFrame(
        {
            "draw": [0, 0, 1, 1],
            "outcome_w52": ["ceasefire", "continued_war"] * 2,
            "outcome_w104": ["comprehensive_deal"] * 3 + ["collapse_escalation"],
        }
    )
    y = outcome_matrix(runs, 2, [52, 104])
    np.testing.assert_allclose(y[0], [0, 0.5, 0.5, 0, 1, 0, 0, 0])
    np.testing.assert_allclose(y[1], [0, 0.5, 0.5, 0, 0.5, 0, 0, 0.5])


def test_noise_floor_is_what_a_parameter_without_effect_shows():
    # outputs = frequencies of P Bernoulli(0.3) draws, independent of the inputs: every index is pure noise
    rng = np.random.default_rng(17)
    paths = 20

    def noise(u):
        return rng.binomial(paths, 0.3, size=(u.shape[0], 1)) / paths

    m = morris_indices(noise, ["a", "b", "c"], ["p"], trajectories=300, seed=4, paths=paths)
    np.testing.assert_allclose(m["mu_star"], m["noise_floor"], rtol=0.12)
    s = sobol_indices(noise, ["a", "b", "c"], ["p"], samples=1024, seed=4, paths=paths)
    np.testing.assert_allclose(s["ST"], s["noise_floor"], rtol=0.12)
    assert s["noise_floor"].iloc[0] == pytest.approx(1.0, rel=0.1)  # all variance is noise
