"""Fast paths of the model layer give the same numbers as the general code they replace (perf work)."""

import numpy as np
import pytest
from numpy.testing import assert_allclose

from sim.engines.bdm_scholz import prob_success
from sim.engines.nash import nash_solution, projected_newton
from sim.model.influence import _printed_success


@pytest.mark.parametrize("signed", [False, True])
def test_printed_success_equals_the_engine(signed):
    rng = np.random.default_rng(5)
    x = rng.uniform(size=(40, 3, 5))
    x[0, 0, 1] = x[0, 0, 2]  # ties: P = 1/2 where no voter cares
    x[1, 1, :] = 0.3
    c, s = rng.uniform(0.1, 2.0, size=(40, 1, 5)), rng.uniform(size=(40, 3, 5))
    if signed:  # negative voter weights take the general branch
        c[::3] *= -1.0
    d = np.abs(x[..., :, None] - x[..., None, :])
    expected = prob_success(x, c, s, delta=np.ones(x.shape[:-1]), r=1.0, mode="printed")
    assert_allclose(_printed_success(d, c * s), expected, atol=1e-13)
    assert_allclose(expected[1, 1], 0.5)


def test_projected_newton_reaches_the_kkt_point_of_a_non_quadratic_box_problem():
    """Derivatives carried over from the line search must belong to the accepted iterate (else no KKT)."""
    rng = np.random.default_rng(2)
    B, K = 30, 4
    G = rng.normal(size=(B, K, K))
    H = G @ np.swapaxes(G, 1, 2) + 0.5 * np.eye(K)
    c = rng.uniform(-0.5, 1.5, size=(B, K))  # unconstrained optimum, partly outside the box

    def objective(X, idx, value_only):
        d = X - c[idx]
        Hd = (H[idx] @ d[..., None])[..., 0]
        phi = -0.5 * np.einsum("bk,bk->b", d, Hd) - 0.1 * np.sum(X**4, -1)
        if value_only:
            return phi
        return phi, -Hd - 0.4 * X**3, H[idx] + np.eye(K) * 1.2 * X[:, None, :] ** 2

    X = projected_newton(objective, np.full((B, K), 0.5), np.zeros((B, K)), np.ones((B, K)), iters=40)
    # KKT conditions of the box problem at the returned point
    _, g, _ = objective(X, np.arange(B), False)
    inner = (X > 1e-9) & (X < 1 - 1e-9)
    assert np.max(np.abs(g[inner])) < 1e-7
    assert np.all(g[X <= 1e-9] <= 1e-7) and np.all(g[X >= 1 - 1e-9] >= -1e-7)


def test_nash_text_is_independent_of_the_batch_it_is_solved_in():
    """Per-member stopping: a member's text does not depend on the other members of its batch."""
    rng = np.random.default_rng(9)
    B, n, K = 25, 3, 4
    G = rng.normal(size=(B, n, K, K))
    A = G @ np.swapaxes(G, -1, -2) / K + 0.1 * np.eye(K)
    ideal = rng.uniform(size=(B, n, K))
    w = rng.uniform(0.5, 1.0, size=(B, n))
    thr = -rng.uniform(0.5, 2.0, size=(B, n))
    X = nash_solution(A, ideal, w, thr, eps=0.05)
    for b in (0, 7, 24):
        xb = nash_solution(A[b : b + 1], ideal[b : b + 1], w[b : b + 1], thr[b : b + 1], eps=0.05)
        assert_allclose(xb[0], X[b], atol=1e-12)
