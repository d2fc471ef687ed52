"""EVPPI and variance shares by non-parametric regression (Strong, Oakley & Brennan 2014), on toy cases."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim.analysis.evppi import conditional_mean, decision_table, evppi, explained_variance, variance_shares


def toy_runs(n_draws: int = 2000, paths: int = 4, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """Draws of two parameters, a and b; P(outcome) = 0.2 + 0.6 a, b irrelevant; Bernoulli paths."""
    rng = np.random.default_rng(seed)
    a, b = rng.random(n_draws), rng.random(n_draws)
    draw = np.repeat(np.arange(n_draws), paths)
    runs = pd.DataFrame({"draw": draw, "path": np.tile(np.arange(paths), n_draws),
                         "param.a": a[draw], "param.b": b[draw]})
    y = (rng.random(len(runs)) < 0.2 + 0.6 * a[draw]).astype(float)
    return runs, y


def test_conditional_mean_recovers_a_smooth_curve():
    rng = np.random.default_rng(1)
    x = rng.random(20000)
    y = np.sin(3 * x) + rng.normal(0, 0.5, x.size)
    g = conditional_mean(x, y)
    assert np.sqrt(np.mean((g - np.sin(3 * x)) ** 2)) < 0.03


def test_the_explained_variance_removes_the_paths_noise():
    runs, y = toy_runs()
    # Var(0.2 + 0.6 a) with a ~ U(0, 1) is 0.36 / 12 = 0.03; Var(y) is about 0.25
    assert explained_variance(runs, y) == pytest.approx(0.03, abs=0.004)


def test_the_parameter_that_sets_the_probability_explains_it_and_the_other_nothing():
    runs, y = toy_runs()
    shares = variance_shares(runs, y, groups={}).set_index("parameter")["share"]
    assert shares["a"] == pytest.approx(1.0, abs=0.12)
    assert shares["b"] < 0.05


def test_evppi_on_a_decision_with_a_closed_form_answer():
    # theta ~ U(0, 1); option 1 pays theta (plus noise), option 0 pays 0.5:
    # EVPPI = E[max(theta, 0.5)] - max(E[theta], 0.5) = (0.5 * 0.5 + 0.5 * 0.75) - 0.5 = 0.125
    rng = np.random.default_rng(2)
    theta = rng.random(40000)
    nb = np.column_stack([np.full(theta.size, 0.5), theta + rng.normal(0, 0.3, theta.size)])
    assert evppi(theta, nb) == pytest.approx(0.125, abs=0.01)
    # an irrelevant parameter is worth nothing to know
    assert evppi(rng.random(theta.size), nb) == pytest.approx(0.0, abs=0.01)


def test_decision_table_ranks_the_parameter_that_decides_and_refuses_unpaired_options():
    runs, _ = toy_runs(n_draws=3000, paths=2, seed=3)
    rng = np.random.default_rng(4)
    a = runs["param.a"].to_numpy()
    offer = runs.assign(win=(rng.random(len(runs)) < a).astype(float))
    hold = runs.assign(win=(rng.random(len(runs)) < 0.5).astype(float))
    table = decision_table({"hold": hold, "offer": offer}, lambda r: r["win"], groups={})
    assert list(table["parameter"])[0] == "a"
    assert table.set_index("parameter").loc["a", "evppi"] == pytest.approx(0.125, abs=0.02)
    assert table.set_index("parameter").loc["b", "evppi"] < 0.01
    with pytest.raises(ValueError, match="does not hold the same replicates"):
        decision_table({"hold": hold, "offer": offer.iloc[:-2]}, lambda r: r["win"], groups={})
