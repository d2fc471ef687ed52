"""The compiled text solver finds the optimum of the objectives it is defined by.

The Numba kernel of :mod:`sim.engines.compiled_newton` is the one source of the Nash and Kalai-Smorodinsky
texts. Its texts are checked against SciPy's L-BFGS-B on the same objectives written out here from their
definitions (memo §1.5 P8, §4.3). Random problems cover linkage (non-diagonal A), the proximal term,
linear terms, non-veto actors and texts pressed against the box.
"""

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy.optimize import minimize

from sim.engines import nash
from sim.engines.nash import quadratic_utility


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


def _phi(X, A, ideal, w, thr, kw, ks_span=None, temperature=None):
    """The text's objective from its definition: one member, X (K,)."""
    U = quadratic_utility(X, A, ideal, kw["linear"])
    veto = kw["veto"]
    if ks_span is None:  # weighted Nash: sum_veto w log sp_eps(U - t)
        S = U - thr
        core = np.sum(np.where(veto, w * np.log(kw["eps"] * np.logaddexp(0.0, S / kw["eps"])), 0.0))
    else:  # KS: the smooth minimum of the veto players' shares of their maximal gains
        r = (U - thr)[veto] / ks_span[veto]
        core = -temperature * np.log(np.sum(np.exp(-(r - r.min()) / temperature))) + r.min()
    nonveto = kw["nonveto_weight"] * np.sum(np.where(veto, 0.0, w * U))
    return core + nonveto - 0.5 * kw["prox"] * np.sum((X - kw["x_prev"]) ** 2)


def _member(b, A, ideal, w, thr, kw):
    one = {k: (v[b] if isinstance(v, np.ndarray) and k in ("x_prev", "eps", "linear") else v)
           for k, v in kw.items()}  # fmt: skip
    return A[b], ideal[b], w[b], thr[b], one


def _scipy_best(phi, x0):
    res = minimize(lambda x: -phi(x), x0, method="L-BFGS-B", bounds=[(0.0, 1.0)] * x0.size,
                   options={"ftol": 1e-15, "gtol": 1e-11, "maxiter": 2000})  # fmt: skip
    return -res.fun


@pytest.mark.parametrize("seed, sparse", [(0, False), (1, True)])
def test_the_nash_text_is_the_maximum_of_its_objective(seed, sparse):
    A, ideal, w, thr, kw = _problem(seed, B=40, sparse=sparse)
    X = nash.nash_solution(A, ideal, w, thr, iters=25, **kw)
    on_bound = np.mean((X < 1e-9) | (X > 1 - 1e-9))
    assert on_bound > 0.05  # the box constraint is exercised
    for b in range(len(X)):
        phi = lambda x, b=b: _phi(x, *_member(b, A, ideal, w, thr, kw))  # noqa: E731
        assert phi(X[b]) >= _scipy_best(phi, kw["x_prev"][b]) - 1e-8


def test_the_nash_text_without_concavity_still_climbs():
    """Non-concave utilities make the Newton matrix indefinite: the step then falls back from Cholesky to
    elimination with pivoting, and the line search accepts only steps that raise Phi (no optimum is
    promised: the method is for concave programs)."""
    A, ideal, w, thr, kw = _problem(6, B=30)
    A -= 1.5 * np.eye(A.shape[-1])  # every actor's utility is convex in every issue
    kw["prox"] = 0.0
    assert (np.linalg.eigvalsh(A) < 0).all()
    X = nash.nash_solution(A, ideal, w, thr, iters=25, **kw)
    assert np.isfinite(X).all() and (X >= 0).all() and (X <= 1).all()
    gains = []
    for b in range(len(X)):  # started at x_prev, each text is at least as good as its start
        phi = lambda x, b=b: _phi(x, *_member(b, A, ideal, w, thr, kw))  # noqa: E731
        gains.append(phi(X[b]) - phi(np.clip(kw["x_prev"][b], 0.0, 1.0)))
    assert min(gains) >= -1e-12 and np.mean(np.array(gains) > 1e-6) > 0.5


@pytest.mark.parametrize("seed, sparse", [(2, False), (3, True)])
def test_the_kalai_smorodinsky_text_is_the_maximum_of_its_objective(seed, sparse):
    A, ideal, w, thr, kw = _problem(seed, B=40, sparse=sparse)
    T = 0.05
    X = nash.kalai_smorodinsky(A, ideal, w, thr, iters=40, temperature=T, **kw)
    lo, hi = np.zeros((len(X), X.shape[1])), np.ones((len(X), X.shape[1]))
    span = np.maximum(nash.utopia(np.ascontiguousarray(A), ideal, kw["linear"], lo, hi) - thr,
                      np.maximum(kw["eps"], 1e-9))  # fmt: skip
    for b in range(len(X)):
        args = _member(b, A, ideal, w, thr, kw)
        phi = lambda x, args=args, b=b: _phi(x, *args, ks_span=span[b], temperature=T)  # noqa: E731
        assert phi(X[b]) >= _scipy_best(phi, kw["x_prev"][b]) - 1e-7


def test_compiled_utopia_is_each_actors_best_point():
    # separable diagonal A: the utopia point is the ideal point clipped to the box, value l'x - d'Ad there
    rng = np.random.default_rng(4)
    B, n, K = 50, 3, 4
    a = rng.uniform(0.1, 1.0, (B, n, K))
    A = a[..., None] * np.eye(K)
    ideal = rng.uniform(-0.5, 1.5, (B, n, K))
    lin = np.zeros((B, n, K))
    lo, hi = np.zeros((B, K)), np.ones((B, K))
    got = nash.utopia(np.ascontiguousarray(A), ideal, lin, lo, hi)
    clipped = np.clip(ideal, 0.0, 1.0)
    expected = -np.sum(a * (clipped - ideal) ** 2, axis=-1)
    assert_allclose(got, expected, rtol=0, atol=1e-10)


def test_compiled_solver_handles_an_empty_batch():
    A, ideal, w, thr, kw = _problem(5, B=1)
    kw["x_prev"] = kw["x_prev"][:0]
    kw["eps"], kw["linear"] = kw["eps"][:0], kw["linear"][:0]
    out = nash.nash_solution(A[:0], ideal[:0], w[:0], thr[:0], **kw)
    assert out.shape == (0, ideal.shape[-1])


def _qp_scratch(K):
    return np.empty(K), np.empty(K, np.int64), np.empty(K)


def _pairs_problem(rng, K, pairs, definite=True):
    """One actor's sparse A (diagonal plus the given linked pairs), an ideal point and a linear term."""
    diag = rng.uniform(0.0, 1.0, K) * (rng.random(K) > 0.15)  # some issues purely linear (a_kk = 0)
    entries = [(k, k, diag[k]) for k in range(K) if diag[k] != 0.0]
    for k, m in pairs:
        bound = np.sqrt(diag[k] * diag[m]) if definite else 1.0
        b = rng.uniform(-1.0, 1.0) * bound
        entries += [(k, m, b), (m, k, b)]
    nzk, nzm = np.zeros((1, K * K), np.int64), np.zeros((1, K * K), np.int64)
    nzv, cnt = np.zeros((1, K * K)), np.array([len(entries)])
    A = np.zeros((K, K))
    for e, (k, m, v) in enumerate(entries):
        nzk[0, e], nzm[0, e], nzv[0, e] = k, m, v
        A[k, m] += v
    ideal, lin = rng.uniform(-0.5, 1.5, (1, K)), rng.normal(0.0, 1.0, (1, K))
    return (nzk, nzm, nzv, cnt), A, ideal, lin


@pytest.mark.parametrize("definite", [True, False])
def test_box_qp_small_blocks_finds_the_maximum_value(definite):
    """The closed form (clipped parabolas, a 2 x 2 stationary point or the best of four edges) against a
    brute-force search over the 2-D pieces: the maximum value agrees (the maximiser need not be unique)."""
    from sim.engines.compiled_newton import box_qp_small_blocks

    rng = np.random.default_rng(11 if definite else 12)
    K = 6
    grid = np.linspace(0.0, 1.0, 401)
    gk, gl = np.meshgrid(grid, grid, indexing="ij")
    for _ in range(40):
        sparse, A, ideal, lin = _pairs_problem(rng, K, [(0, 3), (2, 5)], definite)
        x = np.full(K, 0.5)
        assert box_qp_small_blocks(x, 0, sparse, ideal, lin, np.zeros(K), np.ones(K), *_qp_scratch(K))
        value = lin[0] @ x - (x - ideal[0]) @ A @ (x - ideal[0])
        # the pieces are independent: search each pair on a grid, each single issue on the grid too
        z = np.zeros(K)
        for k in (1, 4):
            vals = lin[0, k] * grid - A[k, k] * (grid - ideal[0, k]) ** 2
            z[k] = grid[np.argmax(vals)]
        best_pairs = []
        for k, m in ((0, 3), (2, 5)):
            dk, dm = gk - ideal[0, k], gl - ideal[0, m]
            f = lin[0, k] * gk + lin[0, m] * gl - (A[k, k] * dk**2 + 2 * A[k, m] * dk * dm + A[m, m] * dm**2)
            best_pairs.append(f.max())
        single = sum(lin[0, k] * z[k] - A[k, k] * (z[k] - ideal[0, k]) ** 2 for k in (1, 4))
        best = single + sum(best_pairs)
        assert np.all((x >= 0.0) & (x <= 1.0))
        assert value >= best - 1e-12  # at least as good as the finest grid point
        assert value <= best + 1e-4  # and the grid (step 1/400) comes within its resolution


def test_box_qp_small_blocks_declines_an_issue_linked_twice():
    from sim.engines.compiled_newton import box_qp_small_blocks

    sparse, _, ideal, lin = _pairs_problem(np.random.default_rng(13), 5, [(0, 3), (3, 4)])
    x = np.full(5, 0.25)
    assert not box_qp_small_blocks(x, 0, sparse, ideal, lin, np.zeros(5), np.ones(5), *_qp_scratch(5))
    assert np.all(x == 0.25)


def test_a_change_to_any_kernel_source_invalidates_every_cached_kernel(monkeypatch, tmp_path):
    """solve_texts inlines the Newton solver: a change to compiled_newton.py alone must recompile it."""
    from numba.core.dispatcher import Dispatcher

    from sim.engines import compiled_newton, jit
    from sim.model import kernels

    compiled_fns = [fn for module in (kernels, compiled_newton) for fn in vars(module).values()
                    if isinstance(fn, Dispatcher) and fn.__module__ == module.__name__]
    # the caller and the callee whose separate stamps let stale code through are among them
    assert {"solve_texts", "solve_member"} <= {fn.__name__ for fn in compiled_fns}
    for fn in compiled_fns:  # each one caches, and through a locator that stamps every kernel source
        assert isinstance(fn._cache._impl._locator, jit._AllKernelSources), fn.__name__
    files = [tmp_path / f"k{i}.py" for i in range(3)]
    for f in files:
        f.write_text("x = 1\n")
    monkeypatch.setattr(jit, "KERNEL_SOURCES", tuple(map(str, files)))
    before = jit.kernel_sources_stamp()
    assert jit.kernel_sources_stamp() == before
    files[1].write_text("x = 22\n")  # the solver's file changes, the caller's does not
    assert jit.kernel_sources_stamp() != before
    other = tmp_path / "elsewhere.py"  # a compiled function outside the list still follows its own file
    other.write_text("y = 1\n")
    with_other = jit.kernel_sources_stamp(str(other))
    assert with_other != jit.kernel_sources_stamp()
    other.write_text("y = 333\n")
    assert jit.kernel_sources_stamp(str(other)) != with_other


def test_kernels_without_the_refcount_runtime_never_return_an_argument():
    """A kernel compiled with _nrt=False takes no reference to what it returns: returning an array it was
    lent would hand its caller a reference it never got, and the caller's release would free the array
    under its owner (heap corruption, seen once when a row loop was split out of solve_texts)."""
    import ast
    import inspect

    from numba.core.dispatcher import Dispatcher

    from sim.engines import compiled_newton
    from sim.model import kernels

    checked = set()
    for module in (kernels, compiled_newton):
        for fn in vars(module).values():
            if not (isinstance(fn, Dispatcher) and fn.targetoptions.get("_nrt") is False):
                continue
            tree = ast.parse(inspect.getsource(fn.py_func))
            params = {a.arg for a in tree.body[0].args.args}
            for node in ast.walk(tree):
                if isinstance(node, ast.Return) and node.value is not None:
                    returned = node.value.elts if isinstance(node.value, ast.Tuple) else [node.value]
                    lent = [r.id for r in returned if isinstance(r, ast.Name) and r.id in params]
                    assert not lent, f"{fn.__name__} returns its argument(s) {lent}"
            checked.add(fn.__name__)
    assert {"value_row", "_evaluate", "solve_member", "_solve_text_rows"} <= checked
