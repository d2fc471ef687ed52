"""The compiled text solver equals the numpy reference (same algorithm, same iterates up to rounding).

The numpy projected Newton of :mod:`sim.engines.nash` is the readable reference; the Numba kernel of
:mod:`sim.engines.compiled_newton` is what the model runs. Random problems cover linkage (non-diagonal A),
the proximal term, linear terms, non-veto actors and texts pressed against the box.
"""

import numpy as np
import pytest
from numpy.testing import assert_allclose

from sim.engines import nash


def _problem(seed: int, B: int = 400, n: int = 5, K: int = 6, sparse: bool = False):
    rng = np.random.default_rng(seed)
    if sparse:  # the model's shape: saliences on the diagonal, linkage on one issue pair per actor
        A = np.eye(K) * rng.uniform(0.05, 1.0, (B, n, K, 1))
        k, m = 1, 3
        A[..., k, m] = A[..., m, k] = 0.4 * np.sqrt(A[..., k, k] * A[..., m, m]) * rng.uniform(-1, 1, (B, n))
    else:
        M = rng.normal(size=(B, n, K, K)) * 0.3
        A = M @ np.swapaxes(M, -1, -2) / K + np.eye(K) * rng.uniform(0.05, 1.0, (B, n, 1, 1))
    ideal = rng.uniform(-0.3, 1.3, (B, n, K))  # ideal points outside the box: active bounds
    weight = rng.uniform(0.2, 1.0, (B, n))
    thr = -rng.uniform(0.02, 0.8, (B, n))
    lin = rng.normal(0.0, 0.2, (B, n, K))
    x_prev = rng.uniform(0.0, 1.0, (B, K))
    return A, ideal, weight, thr, dict(
        veto=np.array([1, 1, 1, 0, 0], bool)[:n],
        nonveto_weight=0.1,
        x_prev=x_prev,
        prox=0.05,
        eps=rng.uniform(0.005, 0.05, (B, n)),
        linear=lin,
    )


def _both(monkeypatch, solver, *args, **kw):
    compiled = solver(*args, **kw)
    monkeypatch.setenv("NEGSIM_NUMPY", "1")
    assert not nash.use_compiled()
    reference = solver(*args, **kw)
    monkeypatch.delenv("NEGSIM_NUMPY")
    return compiled, reference


pytestmark = pytest.mark.skipif(nash._compiled is None, reason="numba not installed")


@pytest.mark.parametrize("seed, sparse", [(0, False), (1, True)])
def test_compiled_nash_equals_numpy_reference(monkeypatch, seed, sparse):
    A, ideal, w, thr, kw = _problem(seed, sparse=sparse)
    got, ref = _both(monkeypatch, nash.nash_solution, A, ideal, w, thr, iters=25, **kw)
    assert nash.use_compiled()
    assert_allclose(got, ref, rtol=0, atol=1e-7)  # both stop once a step moves < 1e-8
    on_bound = np.mean((ref < 1e-9) | (ref > 1 - 1e-9))
    assert on_bound > 0.05  # the box constraint is exercised


@pytest.mark.parametrize("seed, sparse", [(2, False), (3, True)])
def test_compiled_kalai_smorodinsky_equals_numpy_reference(monkeypatch, seed, sparse):
    A, ideal, w, thr, kw = _problem(seed, sparse=sparse)
    got, ref = _both(monkeypatch, nash.kalai_smorodinsky, A, ideal, w, thr, iters=12, temperature=0.05, **kw)
    assert_allclose(got, ref, rtol=0, atol=1e-7)


def test_compiled_utopia_is_each_actors_best_point(monkeypatch):
    # separable diagonal A: the utopia point is the ideal point clipped to the box, value l'x - d'Ad there
    rng = np.random.default_rng(4)
    B, n, K = 50, 3, 4
    a = rng.uniform(0.1, 1.0, (B, n, K))
    A = a[..., None] * np.eye(K)
    ideal = rng.uniform(-0.5, 1.5, (B, n, K))
    lin = np.zeros((B, n, K))
    lo, hi = np.zeros((B, K)), np.ones((B, K))
    got, ref = _both(monkeypatch, nash.utopia, np.ascontiguousarray(A), ideal, lin, lo, hi)
    clipped = np.clip(ideal, 0.0, 1.0)
    expected = -np.sum(a * (clipped - ideal) ** 2, axis=-1)
    assert_allclose(got, expected, rtol=0, atol=1e-10)
    assert_allclose(ref, expected, rtol=0, atol=1e-10)


def test_compiled_solver_handles_an_empty_batch():
    A, ideal, w, thr, kw = _problem(5, B=1)
    kw["x_prev"] = kw["x_prev"][:0]
    kw["eps"], kw["linear"] = kw["eps"][:0], kw["linear"][:0]
    out = nash.nash_solution(A[:0], ideal[:0], w[:0], thr[:0], **kw)
    assert out.shape == (0, ideal.shape[-1])
