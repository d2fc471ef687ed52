"""Engines owned by the model helper: compromise, weighted median, Nash and Kalai-Smorodinsky texts.

Known answers from memo §3 (T1, T1b, T2, T8 companion, T9), recomputed analytically where possible.
"""

import numpy as np
import pytest
from numpy.testing import assert_allclose

from sim.engines.bdm_scholz import condorcet_median
from sim.engines.compromise import compromise, weighted_median
from sim.engines.nash import kalai_smorodinsky, nash_solution, quadratic_utility

# T1 configuration: one issue, three actors
X1 = np.array([[0.0], [0.6], [1.0]])
C1 = np.array([0.5, 0.3, 0.2])
S1 = np.array([[0.9], [0.5], [0.8]])


def test_t1_compromise_is_weighted_mean():
    assert_allclose(compromise(X1, C1, S1), [0.25 / 0.76], rtol=0, atol=1e-12)
    assert_allclose(0.25 / 0.76, 0.328947, atol=5e-7)


def test_t1_compromise_vectorised_over_batches():
    batch = np.stack([X1, 1.0 - X1])
    assert_allclose(compromise(batch, C1, S1)[:, 0], [0.25 / 0.76, 1 - 0.25 / 0.76], atol=1e-12)


def test_t1_nash_limit_approaches_compromise():
    # separable quadratics U_i = -s_i (X - x_i)^2, omega_i = c_i, common disagreement -M: error O(1/M)
    A = S1[:, :, None]
    for M, tol in ((1e2, 1e-2), (1e4, 1e-4)):
        x = nash_solution(A, X1, C1, -M * np.ones(3), eps=1e-9)
        assert abs(x[0] - 0.25 / 0.76) < tol
    far = abs(nash_solution(A, X1, C1, -1e2 * np.ones(3), eps=1e-9)[0] - 0.25 / 0.76)
    near = abs(nash_solution(A, X1, C1, -1e4 * np.ones(3), eps=1e-9)[0] - 0.25 / 0.76)
    assert near < far / 50  # O(1/M)


def test_t1b_bdm_median_differs_from_mean():
    w = C1[:, None] * S1  # votes 0.45, 0.15, 0.16: the actor at 0 holds more than half
    assert_allclose(weighted_median(X1, w), [0.0])
    assert_allclose(condorcet_median(X1[:, 0], C1, S1[:, 0]), 0.0)


@pytest.mark.parametrize(("w", "expected"), [((0.5, 0.5), 0.65), ((0.7, 0.3), 0.71)])
def test_t2_fearon_nash_linear(w, expected):
    # A's share x: U_A = x, U_B = 1 - x; W = (p - c_A, 1 - p - c_B) = (0.5, 0.2)
    A0 = np.zeros((2, 1, 1))
    lin = np.array([[1.0], [-1.0]])
    x = nash_solution(A0, np.zeros((2, 1)), w, [0.5, 0.2 - 1.0], linear=lin, eps=1e-9, x0=[0.6])
    assert_allclose(x, [expected], atol=1e-7)


@pytest.mark.parametrize(("w", "expected"), [((0.5, 0.5), 0.583992), ((0.7, 0.3), 0.673104)])
def test_t2_fearon_nash_quadratic(w, expected):
    A = np.ones((2, 1, 1))
    ideal = np.array([[1.0], [0.0]])
    p, cA, cB = 0.6, 0.1, 0.2
    WA, WB = -(1 - p) - cA, -p - cB
    x = nash_solution(A, ideal, w, [WA, WB], eps=1e-10)
    assert_allclose(x, [expected], atol=5e-7)
    # the same answer from scipy on the exact (unsmoothed) Nash product
    from scipy.optimize import minimize_scalar

    f = lambda z: -(w[0] * np.log(-((1 - z) ** 2) - WA) + w[1] * np.log(-(z**2) - WB))  # noqa: E731
    ref = minimize_scalar(
        f, bounds=(1 - np.sqrt(0.5) + 1e-9, np.sqrt(0.8) - 1e-9), method="bounded", options={"xatol": 1e-12}
    ).x
    assert_allclose(x[0], ref, atol=1e-7)


def test_t2_quadratic_bargaining_range_and_lottery_identity():
    p, cA, cB = 0.6, 0.1, 0.2
    WA, WB = -(1 - p) - cA, -p - cB
    lo, hi = 1 - np.sqrt(-WA), np.sqrt(-WB)
    assert_allclose([lo, hi], [0.292893, 0.894427], atol=5e-7)
    # E[u_A] over the lottery {1 w.p. p, 0} equals u_A(mean) - Var * b'Ab (memo P4 identity)
    mean, var = p, p * (1 - p)
    assert_allclose(-((1 - mean) ** 2) - var, -(1 - p))
    # the Nash text lies inside the range and both surpluses are positive there
    x = nash_solution(np.ones((2, 1, 1)), [[1.0], [0.0]], [0.5, 0.5], [WA, WB], eps=1e-10)[0]
    assert lo < x < hi


def test_t2_kalai_smorodinsky_coincides_with_nash_on_symmetric_linear_problem():
    A0 = np.zeros((2, 1, 1))
    lin = np.array([[1.0], [-1.0]])
    # utopia on the box: A gets 1 at x=1 -> but B's threshold caps at 0.8; KS equalises shares of the range
    x = kalai_smorodinsky(
        A0,
        np.zeros((2, 1)),
        [0.5, 0.5],
        [0.5, -0.8],
        linear=lin,
        eps=1e-9,
        upper=[0.8],
        lower=[0.5],
        temperature=1e-5,
    )
    assert_allclose(x, [0.65], atol=1e-4)


def test_t2_kalai_smorodinsky_quadratic_equalises_normalised_gains():
    A = np.ones((2, 1, 1))
    ideal = np.array([[1.0], [0.0]])
    x = kalai_smorodinsky(A, ideal, [0.5, 0.5], [-0.5, -0.8], eps=1e-9, temperature=1e-5)[0]
    # (0.5 - (1-x)^2)/0.5 = (0.8 - x^2)/0.8  =>  sqrt(2)(1-x) = sqrt(1.25) x
    assert_allclose(x, np.sqrt(2) / (np.sqrt(2) + np.sqrt(1.25)), atol=1e-4)


def test_t8_asymmetric_nash_linear_zero_disagreement_gives_weight_shares():
    # three players split a unit pie; X = (x1, x2), x3 = 1 - x1 - x2; disagreement 0
    w = np.array([0.5, 0.3, 0.2])
    A0 = np.zeros((3, 2, 2))
    lin = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, -1.0]])
    thr = np.array([0.0, 0.0, -1.0])  # U_3 = 1 - x1 - x2 >= 0  <=>  -x1 - x2 >= -1
    x = nash_solution(A0, np.zeros((3, 2)), w, thr, linear=lin, eps=1e-10, x0=[0.3, 0.3])
    assert_allclose(x, [0.5, 0.3], atol=1e-7)


T9 = {0.0: (0.7173, 0.7115), 0.5: (0.7445, 0.7661), 0.8: (0.7880, 0.8345)}


def _t9(kappa):
    A = np.array([[[1.0, -kappa / 2], [-kappa / 2, 0.4]], [[0.6, -kappa / 2], [-kappa / 2, 0.8]]])
    ideal = np.array([[1.0, 0.3], [0.4, 0.85]])
    thr = quadratic_utility(np.zeros(2), A, ideal)  # disagreement at (g, m) = (0, 0)
    return nash_solution(A, ideal, [0.5, 0.5], thr, eps=1e-10)


@pytest.mark.parametrize("kappa", sorted(T9))
def test_t9_linkage_table(kappa):
    assert_allclose(_t9(kappa), T9[kappa], atol=1e-4)


def test_t9_linkage_monotone_and_matches_lbfgs():
    from scipy.optimize import minimize

    prev = np.zeros(2)
    for kappa in np.linspace(0.0, 0.8, 9):
        x = _t9(kappa)
        assert np.all(x >= prev - 1e-9)
        prev = x
        A = np.array([[[1.0, -kappa / 2], [-kappa / 2, 0.4]], [[0.6, -kappa / 2], [-kappa / 2, 0.8]]])
        ideal = np.array([[1.0, 0.3], [0.4, 0.85]])
        thr = quadratic_utility(np.zeros(2), A, ideal)
        f = lambda z, A=A, ideal=ideal, thr=thr: -np.sum(np.log(quadratic_utility(z, A, ideal) - thr))  # noqa: E731
        ref = minimize(
            f,
            x0=[0.6, 0.6],
            method="L-BFGS-B",
            bounds=[(0, 1), (0, 1)],
            options={"ftol": 1e-15, "gtol": 1e-12},
        ).x
        assert_allclose(x, ref, atol=1e-4)


def test_nash_box_constraint_with_linkage_is_exact():
    # the unconstrained optimum lies outside the box; compare with a fine grid on the box
    A = np.array([[[1.0, -0.6], [-0.6, 0.5]], [[0.5, 0.3], [0.3, 0.4]]])
    ideal = np.array([[1.3, 0.9], [0.2, -0.4]])
    thr = np.array([-2.0, -2.0])
    x = nash_solution(A, ideal, [0.6, 0.4], thr, eps=1e-9)
    g = np.linspace(0, 1, 401)
    G = np.stack(np.meshgrid(g, g, indexing="ij"), -1).reshape(-1, 2)
    U = quadratic_utility(G, A[None], ideal[None])
    phi = 0.6 * np.log(U[:, 0] + 2) + 0.4 * np.log(U[:, 1] + 2)
    best = G[np.argmax(phi)]
    assert_allclose(x, best, atol=3e-3)
    phi_x = 0.6 * np.log(quadratic_utility(x, A, ideal)[0] + 2) + 0.4 * np.log(
        quadratic_utility(x, A, ideal)[1] + 2
    )
    assert phi_x >= phi.max() - 1e-9


def test_nash_batch_equals_single():
    rng = np.random.default_rng(3)
    B, n, K = 7, 3, 4
    M = rng.normal(size=(B, n, K, K))
    A = M @ np.swapaxes(M, -1, -2) / K + 0.1 * np.eye(K)
    ideal = rng.uniform(size=(B, n, K))
    w = rng.dirichlet(np.ones(n), size=B)
    thr = -rng.uniform(0.5, 2.0, size=(B, n))
    batch = nash_solution(A, ideal, w, thr, eps=0.01)
    for b in range(B):
        assert_allclose(batch[b], nash_solution(A[b], ideal[b], w[b], thr[b], eps=0.01), atol=1e-7)


def test_nash_without_zone_of_agreement_still_returns_a_text():
    # thresholds above everyone's utopia: no text is acceptable, the smooth product still has a maximiser
    A = np.ones((2, 1, 1))
    x = nash_solution(A, [[1.0], [0.0]], [0.5, 0.5], [0.05, 0.05], eps=0.01)
    assert 0.0 < x[0] < 1.0
    assert_allclose(x, [0.5], atol=1e-6)  # symmetric problem: the max-min point


def test_t10_zeuthen_concession_converges_to_nash():
    from sim.engines.nash import zeuthen_concession

    # opening demands: each side's best point inside the bargaining range [0.5, 0.8]
    x = zeuthen_concession(lambda z: z, lambda z: 1.0 - z, (0.5, 0.2), x_a=0.8, x_b=0.5)
    assert abs(x - 0.65) < 2e-3
    ua, ub = (lambda z: -((1 - z) ** 2)), (lambda z: -(z**2))
    xq = zeuthen_concession(ua, ub, (-0.5, -0.8), x_a=np.sqrt(0.8), x_b=1 - np.sqrt(0.5))
    assert abs(xq - 0.583992) < 2e-3


@pytest.mark.parametrize(
    ("delta", "shares"), [(0.9, (0.369004, 0.332103, 0.298893)), (0.99, (0.336689, 0.333322, 0.329989))]
)
def test_t8_krishna_serrano_rotating_proposer_shares(delta, shares):
    from sim.engines.nash import rotating_proposer_shares

    v = rotating_proposer_shares([delta] * 3)
    # proposer 0, then the next proposer (1), then the last (2): x, delta x, delta^2 x
    assert_allclose(v[0], shares, atol=5e-7)
    assert_allclose(v.sum(axis=1), 1.0)
    assert_allclose(v[1], np.roll(shares, 1), atol=5e-7)  # stationarity: the same split, rotated


def test_t8_two_players_reduce_to_rubinstein():
    from sim.engines.nash import rotating_proposer_shares

    dA, dB = np.exp(-0.1), np.exp(-0.3)
    v = rotating_proposer_shares([dA, dB])
    assert_allclose(v[0, 0], (1 - dB) / (1 - dA * dB), atol=1e-12)
    assert_allclose(v[0, 0], 0.786162, atol=5e-7)
