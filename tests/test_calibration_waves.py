"""History matching on a small synthetic model whose non-implausible region is known exactly."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim.calibration.implausibility import CUTOFF
from sim.calibration.waves import Emulator, Targets, evaluate, history_match, propose
from sim.errors import UserError

P = 16
NOISE = 0.2
TARGETS = Targets(["A", "B"], np.array([5.0, 2.0]), np.array([0.3 ** 2, 0.3 ** 2]), np.array([0.0, 0.0]))


def sampler(n: int, ss: np.random.SeedSequence) -> pd.DataFrame:
    """Three independent U(0, 10) parameters (Latin hypercube) and an inert label."""
    gen = np.random.default_rng(ss)
    u = (np.stack([gen.permutation(n) for _ in range(3)], axis=1) + gen.random((n, 3))) / n
    frame = pd.DataFrame(10 * u, columns=["t1", "t2", "t3"])
    frame["label"] = np.where(gen.random(n) < 0.5, "x", "y")
    return frame


def simulate(wave: int, draws: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Statistic A = t1 + noise, B = t2 + noise (sd 0.2), P paths per draw."""
    gen = np.random.default_rng([7, wave])
    theta = draws[["t1", "t2"]].to_numpy()
    paths = theta[:, None, :] + NOISE * gen.standard_normal((len(draws), P, 2))
    return paths.mean(axis=1), paths.var(axis=1, ddof=1)


def half_width() -> float:
    # |z - theta| <= 3 sqrt(V_obs + V_s): the region each fact allows, up to the paths' Monte Carlo error
    return CUTOFF * np.sqrt(0.3 ** 2 + NOISE ** 2)


def test_history_matching_recovers_the_known_region():
    waves = history_match(sampler, simulate, TARGETS, n_draws=300, n_waves=3, seed=11)
    assert len(waves) == 3
    h = half_width()  # 1.08: t1 in [3.92, 6.08], t2 in [0.92, 3.08]; 4.7% of the prior
    first, last = waves[0], waves[-1]
    assert first.keep.mean() == pytest.approx((2 * h / 10) ** 2, abs=0.03)
    # the refocused waves run almost only inside the region, so they find many more draws in it
    assert last.keep.mean() > 0.7
    kept = last.draws[last.keep]
    assert len(kept) > 200
    # inside the region (up to the Monte Carlo error of a path mean and the sampled ensemble variance)
    tol = 0.15
    assert kept.t1.between(5 - h - tol, 5 + h + tol).all()
    assert kept.t2.between(2 - h - tol, 2 + h + tol).all()
    # and covering it: each margin reaches near both ends, and the inert parameter keeps its prior
    assert kept.t1.min() < 5 - h + 0.3 and kept.t1.max() > 5 + h - 0.3
    assert kept.t2.min() < 2 - h + 0.3 and kept.t2.max() > 2 + h - 0.3
    assert kept.t3.min() < 1 and kept.t3.max() > 9
    assert set(kept.label) == {"x", "y"}
    # the prior restricted to the region: t1 roughly uniform over it
    inner = kept.t1.between(5 - h / 2, 5 + h / 2).mean()
    assert inner == pytest.approx(0.5, abs=0.12)
    # the screens made the later waves sample the prior many times over
    assert last.acceptance < 0.2


def test_history_matching_is_reproducible():
    a = history_match(sampler, simulate, TARGETS, n_draws=100, n_waves=2, seed=3)
    b = history_match(sampler, simulate, TARGETS, n_draws=100, n_waves=2, seed=3)
    pd.testing.assert_frame_equal(a[-1].draws, b[-1].draws)


def test_wave_logic_by_hand():
    # a deterministic statistic A = t1, B = t2 known exactly on a grid: the emulator reproduces it, and
    # the screen keeps exactly the draws whose hand-computed implausibility is <= 3
    g = np.linspace(0, 10, 11)
    t1, t2 = np.meshgrid(g, g)
    draws = pd.DataFrame({"t1": t1.ravel(), "t2": t2.ravel(), "t3": 5.0})
    mean = draws[["t1", "t2"]].to_numpy()
    var = np.full_like(mean, 0.04)
    wave = evaluate(1, draws, mean, var, TARGETS, screened=len(draws))
    # I_A at t1 = 4: |5 - 4| / sqrt(0.09 + 0.04) = 2.774 (kept); at t1 = 3: 5.547 (out)
    row = draws.index[(draws.t1 == 4) & (draws.t2 == 2)][0]
    assert wave.imp[row, 0] == pytest.approx(1 / np.sqrt(0.13))
    assert wave.keep.sum() == 9  # t1 in {4, 5, 6} and t2 in {1, 2, 3}
    em = Emulator(draws, mean, var, TARGETS)
    probe = pd.DataFrame({"t1": [4.0, 5.5, 7.0], "t2": [2.0, 1.5, 2.0], "t3": 5.0, "label": "x"})
    m, v = em.predict(probe)
    np.testing.assert_allclose(m, probe[["t1", "t2"]].to_numpy(), atol=0.05)
    assert (v < 0.01).all()
    i_em = em.implausibility(probe)
    np.testing.assert_allclose(i_em[:, 0], np.abs(5 - probe.t1) / np.sqrt(0.13 + v[:, 0]), rtol=0.05)
    # proposals: only draws that pass the screen, reproducibly from the seed
    got, tried = propose(sampler, [em], 50, seed=5, wave=2)
    again, _ = propose(sampler, [em], 50, seed=5, wave=2)
    pd.testing.assert_frame_equal(got, again)
    assert len(got) == 50 and tried > 50
    assert (em.implausibility(got).max(axis=1) <= CUTOFF).all()


def test_an_empty_region_is_a_clear_error():
    draws = sampler(50, np.random.SeedSequence(0))
    mean = np.full((50, 2), 100.0) + draws[["t1", "t2"]].to_numpy()
    em = Emulator(draws, mean, np.zeros((50, 2)), TARGETS)
    with pytest.raises(UserError, match="rule out the whole prior"):
        propose(sampler, [em], 10, seed=1, wave=2, max_pools=2)
