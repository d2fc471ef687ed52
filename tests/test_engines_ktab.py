"""KTAB Spatial Model of Politics: the two KTAB reference runs (validation/ktab) and building blocks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from sim.engines import ktab_smp as smp
from tests.validation_data import VALIDATION, needs_validation

needs_data = needs_validation("ktab")


def _load(case):
    folder = VALIDATION / "ktab"
    d = pd.read_csv(folder / f"{case}.csv", dtype={"dimension": str})
    dims, actors = list(dict.fromkeys(d.dimension)), list(dict.fromkeys(d.actor))
    x = d.pivot(index="actor", columns="dimension", values="position").loc[actors, dims].to_numpy() / 100
    s = d.pivot(index="actor", columns="dimension", values="salience").loc[actors, dims].to_numpy()
    c = d.groupby("actor", sort=False).capability.first().loc[actors].to_numpy()
    ref = pd.read_csv(folder / f"{case}_reference_rounds.csv", dtype={"dimension": str})
    turns = int(ref["round"].max())
    pos = np.stack(
        [
            ref[ref["round"] == t]
            .pivot(index="actor", columns="dimension", values="position")
            .loc[actors, dims]
            .to_numpy()
            for t in range(turns + 1)
        ]
    )
    refp = pd.read_csv(folder / f"{case}_reference_probabilities.csv")
    prob = refp.pivot(index="round", columns="actor", values="probability")[actors].to_numpy()
    return x, c, s, pos, prob


@needs_data
@pytest.mark.parametrize(("case", "turns"), [("ktab_dummy3dim", 10), ("ktab_soe_pol_comp", 27)])
def test_reference_runs_every_turn(case, turns):
    x, c, s, ref_pos, ref_prob = _load(case)
    res = smp.simulate(x, c, s)
    assert res.turns == turns == ref_pos.shape[0] - 1  # the 2 % stopping rule fires where KTAB's did
    # KTAB prints positions x 100 to 0.1 and probabilities to 1e-4
    assert_allclose(res.positions * 100, ref_pos, atol=0.05 + 1e-9, rtol=0)
    assert_allclose(res.probabilities, ref_prob, atol=1e-4 + 1e-12, rtol=0)


@needs_data
def test_dummy3dim_first_step_internals():
    x, c, s, _, _ = _load("ktab_dummy3dim")
    d = smp.bv_diff(x, x, s)
    p = smp.scalar_pce(c, smp.bs_util(d, 0.0))
    assert_allclose(p, [0.0018, 0.0209, 0.0021, 0.1078, 0.7054, 0.1276, 0.0345], atol=5e-5)
    assert_allclose(
        smp.risk_attitudes(d, c), [-0.500, -0.459, -0.499, -0.274, 1.0, -0.232, -0.430], atol=5e-4
    )
    res = smp.simulate(x, c, s)
    expected = [0.9999, 0.7631, 0.1780, 0.0801, 0.0853, 0.0686, 0.0639, 0.1058, 0.0398, 0.0045]
    assert_allclose(res.fractional_change, expected, atol=5e-5)


def test_utility_shapes_and_risk_range():
    assert_allclose(smp.bs_util(0.3, 0.0), 0.7)
    assert_allclose(smp.bs_util(0.3, 1.0), 1 - 0.09)
    assert_allclose(smp.bs_util(0.3, -1.0), 0.49)
    r = smp.big_r_from_prob(np.array([0.1, 0.2, 0.7]))
    assert_allclose(r, [-0.5, -0.25, 1.0])  # Mid range: [-1/2, 1]


def test_pce_two_options_and_symmetry():
    # two options, two voters: strengths 3 (for a) vs 1 (for b) -> P(a) = 3/4 under Linear + Conditional
    u = np.array([[1.0, 0.0], [0.0, 1.0]])
    assert_allclose(smp.scalar_pce([3.0, 1.0], u), [0.75, 0.25], atol=1e-7)
    # permuting options permutes probabilities
    u3 = np.array([[1.0, 0.2, 0.5], [0.1, 1.0, 0.4], [0.3, 0.6, 1.0]])
    p = smp.scalar_pce([1.0, 2.0, 3.0], u3)
    perm = [2, 0, 1]
    assert_allclose(smp.scalar_pce([1.0, 2.0, 3.0], u3[:, perm]), p[perm], atol=1e-12)


def test_bargain_interpolation_and_equal_positions():
    bi, bj = smp.interp_bargain(
        np.array([[0.2]]), np.array([[0.8]]), np.array([[0.5]]), np.array([[0.5]]), np.array([0.5])
    )
    # equal weights: both points at the midpoint (up to the 1e-6 tie-breaker), rounded to 1e-4
    assert_allclose(bi, [[0.5]])
    assert_allclose(bj, [[0.5]])
    uniq, owner = smp.unique_positions(np.array([[0.1], [0.1004], [0.5], [0.1]]))
    assert uniq == [0, 2] and owner.tolist() == [0, 0, 1, 0]


def test_input_errors():
    with pytest.raises(ValueError, match="sum to at most 1"):
        smp.simulate([[0.1], [0.5], [0.9]], [1, 1, 1], [[0.5], [1.5], [0.5]])
    with pytest.raises(ValueError, match="capabilities must be positive"):
        smp.simulate([[0.1], [0.5], [0.9]], [1, 0, 1], [[0.5], [0.5], [0.5]])
