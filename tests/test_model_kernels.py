"""The compiled model kernels give the numbers of the numpy reference code they replace.

``sim.model.kernels`` compiles utility, deal value (with gradient) and the influence moves; the numpy code
in ``preferences``, ``commitment`` and ``influence`` is the readable reference (``NEGSIM_NUMPY=1``). Both
run here on baseline parameters drawn with uncertainty, with the modules that change the formulas
switched on and off.
"""

import copy

import numpy as np
import pytest
from numpy.testing import assert_allclose

from sim.model import influence, kernels
from sim.model.commitment import deal_value, deal_values_both
from sim.model.params import build_params
from sim.model.preferences import utility
from sim.scenario import load_scenario, materialise, sample_parameters

R = 64


@pytest.fixture(scope="module")
def baseline_params():
    sc = load_scenario("scenarios/baseline.yaml")
    draws = sample_parameters(sc, R, np.random.default_rng(11))
    return materialise(sc, draws, np.arange(R))


def _prm(params, **modules):
    p = copy.deepcopy(params)
    p.setdefault("modules", {}).update(modules)
    return build_params(p, R)


def _reference(monkeypatch, fn, *args, **kw):
    monkeypatch.setenv("NEGSIM_NUMPY", "1")
    try:
        return fn(*args, **kw)
    finally:
        monkeypatch.delenv("NEGSIM_NUMPY")


def _inputs(prm, seed):
    rng = np.random.default_rng(seed)
    rows = np.sort(rng.choice(R, 40, replace=False))
    X = rng.uniform(0.0, 1.0, (rows.size, prm.K))
    L = rng.uniform(0.2, 0.8, rows.size)
    half = rows.size // 2  # half the texts inside the DMZ range of the line
    X[:half, prm.k_terr] = L[:half] + rng.uniform(-0.05, 0.3, half)
    W = rng.normal(-0.3, 0.2, (rows.size, prm.n))
    ideal = rng.uniform(0.0, 1.0, (rows.size, prm.n, prm.K))
    return rows, X, L, W, ideal


@pytest.mark.parametrize(
    "modules",
    [{}, {"commitment": False}, {"reference_point": False}],
    ids=["all", "no-commitment", "no-reference-point"],
)
def test_deal_value_and_gradient_match_numpy(monkeypatch, baseline_params, modules):
    prm = _prm(baseline_params, **modules)
    rows, X, L, W, ideal = _inputs(prm, 1)
    for kw in ({}, {"ideal": ideal}):
        got = deal_value(prm, X, L, W, rows, grad=True, **kw)
        ref = _reference(monkeypatch, deal_value, prm, X, L, W, rows, grad=True, **kw)
        for g, r in zip(got, ref, strict=True):
            assert_allclose(g, r, rtol=1e-10, atol=1e-12)
        assert_allclose(deal_value(prm, X, L, W, rows, **kw), ref[0], rtol=1e-10, atol=1e-12)
    # per-actor points (the influence phase evaluates each actor at its own declared position)
    X3 = ideal + 0.1
    assert_allclose(
        deal_value(prm, X3, L, W, rows), _reference(monkeypatch, deal_value, prm, X3, L, W, rows), rtol=1e-10
    )


@pytest.mark.parametrize(
    "modules",
    [{}, {"commitment": False}, {"reference_point": False}, {"linear_utility": True}],
    ids=["all", "no-commitment", "no-reference-point", "linear"],
)
def test_paired_deal_values_equal_two_single_evaluations(monkeypatch, baseline_params, modules):
    # the round's V (true ideal points, W) and the mediator's V_m (declared positions, W_m) in one pass
    # share the text's own terms: the same numbers as two evaluations, bit for bit
    if "linear_utility" in modules:
        params = copy.deepcopy(baseline_params)
        params.setdefault("scenario", {}).setdefault("structure", {})["utility_shape"] = "linear"
        prm = build_params(params, R)
    else:
        prm = _prm(baseline_params, **modules)
    rows, X, L, W, ideal = _inputs(prm, 5)
    W_m = W + np.random.default_rng(6).normal(0.0, 0.1, W.shape)
    V, V_m = deal_values_both(prm, X, L, W, rows, W_m, ideal)
    np.testing.assert_array_equal(V, deal_value(prm, X, L, W, rows))
    np.testing.assert_array_equal(V_m, deal_value(prm, X, L, W_m, rows, ideal=ideal))
    assert not np.allclose(V, V_m)  # the two sets differ, so a mix-up would show
    ref = _reference(monkeypatch, deal_values_both, prm, X, L, W, rows, W_m, ideal)
    for got, want in zip((V, V_m), ref, strict=True):
        assert_allclose(got, want, rtol=1e-10, atol=1e-12)


def test_utility_matches_numpy_with_a_boolean_row_mask(monkeypatch, baseline_params):
    prm = _prm(baseline_params)
    rng = np.random.default_rng(2)
    mask = rng.uniform(size=R) < 0.5
    X = rng.uniform(size=(mask.sum(), prm.K))
    L = rng.uniform(0.3, 0.7, mask.sum())
    assert_allclose(utility(prm, X, L, mask), _reference(monkeypatch, utility, prm, X, L, mask), rtol=1e-10)


def test_gradient_is_the_derivative_of_the_deal_value(baseline_params):
    # central differences away from the kinks of the DMZ clip
    prm = _prm(baseline_params)
    rows, X, L, W, _ = _inputs(prm, 3)
    _, dV, _ = deal_value(prm, X, L, W, rows, grad=True)
    h = 1e-6
    for k in range(prm.K):
        e = np.zeros(prm.K)
        e[k] = h
        num = (deal_value(prm, X + e, L, W, rows) - deal_value(prm, X - e, L, W, rows)) / (2 * h)
        wd = X[:, prm.k_terr] - L
        smooth = (np.abs(wd) > 1e-4) & (np.abs(wd - 0.25) > 1e-4)
        assert_allclose(dV[smooth, :, k], num[smooth], rtol=1e-5, atol=1e-6)


def test_linkage_is_stored_sparsely_without_loss(baseline_params):
    prm = _prm(baseline_params)
    diag, pk, pl, pv = kernels.sparse_linkage(prm.A)
    rebuilt = np.zeros_like(prm.A)
    idx = np.arange(prm.K)
    rebuilt[..., idx, idx] = diag
    for i in range(prm.n):
        for p in range(pk.shape[1]):
            if pk[i, p] >= 0:
                rebuilt[:, i, pk[i, p], pl[i, p]] = rebuilt[:, i, pl[i, p], pk[i, p]] = pv[:, i, p]
    assert_allclose(rebuilt, prm.A, rtol=0, atol=0)
    assert (pk >= 0).any()  # the baseline has linkage


@pytest.mark.parametrize("mode", ["smooth", "classic"])
def test_influence_moves_match_numpy(baseline_params, mode):
    prm = _prm(baseline_params)
    prm.bdm_mode = mode
    rng = np.random.default_rng(4)
    rows = np.sort(rng.choice(R, 30, replace=False))
    x = rng.uniform(size=(rows.size, prm.n, prm.K))
    x[:, 1, 3] = x[:, 2, 3]  # ties: den = 0 for some pairs
    X = rng.uniform(size=(rows.size, prm.K))
    a = rng.uniform(0.0, 3.0, (rows.size, prm.n))
    eng = rng.uniform(size=(rows.size, prm.n)) < 0.8
    tau_y = rng.uniform(0.0, 0.2, rows.size)
    ref = influence._moves(prm, x, X, a, eng, tau_y, rows)
    got = kernels.influence_moves(
        x, X, a, eng, tau_y, rows, kernels.cached(prm, "sal"), kernels.cached(prm, "cap"),
        float(prm.beta_ch), float(prm.eta_p), mode == "classic",
    )  # fmt: skip
    assert_allclose(got, ref, rtol=1e-10, atol=1e-12)
    assert np.abs(got - x).max() > 1e-3  # positions do move


@pytest.mark.parametrize("solver", ["nash", "kalai_smorodinsky"])
def test_compiled_text_solve_matches_numpy_sqp(monkeypatch, baseline_params, solver):
    # a realistic state: the baseline stepped 12 weeks, then one round's text solved both ways
    from sim.model.mediation import effective_tau, solve_text
    from sim.model.model import NegotiationModel
    from sim.model.outside_option import outside_option

    p = copy.deepcopy(baseline_params)
    p["scenario"]["structure"]["text_solver"] = solver
    model = NegotiationModel(p, R, np.random.SeedSequence(5), collect=False)
    for _ in range(12):
        model.step()
    prm, st = model.prm, model.state
    rows = np.arange(R)
    xm = st.x_decl[rows]
    W_m = outside_option(prm, st, rows, ideal=xm)
    thr_m = W_m + effective_tau(st, prm, rows)
    got = solve_text(prm, st, rows, xm, W_m, thr_m)
    ref = _reference(monkeypatch, solve_text, prm, st, rows, xm, W_m, thr_m)
    assert np.abs(got - st.X_text[rows]).max() > 1e-3  # the texts move
    assert_allclose(got, ref, rtol=0, atol=1e-6)


def test_warm_up_compiles_every_model_kernel(baseline_params):
    from sim.engines import compiled_newton
    from sim.model.warmup import N_REPLICATES, compile_kernels, kernels_cached

    sc = load_scenario("scenarios/baseline.yaml")
    params = materialise(sc, sample_parameters(sc, 1, np.random.default_rng(0)), np.zeros(N_REPLICATES, int))
    assert compile_kernels(params) > 0
    for fn in (kernels.solve_texts, kernels.values_batch, kernels.influence_moves, kernels.war_lottery_values,
               compiled_newton.solve_batch):  # fmt: skip
        assert fn.signatures, fn.__name__
    # and every kernel is now in the on-disk cache, so `negsim run` may skip its own warm-up
    assert kernels_cached()


def test_worker_runtime_start_loads_from_the_cache_and_never_compiles():
    # a fresh interpreter, as a worker of `negsim run` (in this one the kernels may be loaded already)
    import subprocess
    import sys

    from sim.model.warmup import compile_kernels, kernels_cached

    if not kernels_cached():  # the cache of a fresh checkout is filled by the warm-up (make install)
        sc = load_scenario("scenarios/baseline.yaml")
        compile_kernels(materialise(sc, sample_parameters(sc, 1, np.random.default_rng(0)), np.zeros(8, int)))
    code = (
        "import sim.model.warmup as w\n"
        "from sim.engines.compiled_newton import scratch\n"
        "cached = w.kernels_cached\n"
        "w.kernels_cached = lambda: False\n"
        "print(w.start_runtime(), len(scratch.signatures))\n"
        "w.kernels_cached = cached\n"
        "print(w.start_runtime(), len(scratch.signatures))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split("\n")[:2] == ["False 0", "True 1"]  # stale cache: nothing compiled; else one loaded


def test_compiled_projection_of_moves_matches_numpy(monkeypatch, baseline_params):
    # positions pushed far toward the text: some actors would concede past their reservation
    from sim.model.model import NegotiationModel
    from sim.model.outside_option import outside_option

    model = NegotiationModel(copy.deepcopy(baseline_params), R, np.random.SeedSequence(6), collect=False)
    for _ in range(8):
        model.step()
    prm, st = model.prm, model.state
    rows = np.arange(R)
    W = outside_option(prm, st, rows)
    x, X = st.x_decl[rows].copy(), st.X_text[rows]
    rng = np.random.default_rng(7)
    new = np.clip(x + rng.uniform(0.0, 1.0, (R, prm.n, 1)) * (X[:, None, :] - x), 0.0, 1.0)
    thr = W + prm.tau[rows] + st.tau_add[rows]
    got = kernels.project_moves(x, new, rows, st.L[rows], W, thr, kernels.cached(prm, "ideal"),
                                kernels.kernel_params(prm), influence.BISECTION_STEPS)  # fmt: skip
    ref = _reference(monkeypatch, influence._project, prm, x, new, rows, st.L[rows], W, thr)
    assert_allclose(got, ref, rtol=0, atol=1e-12)
    V = _reference(monkeypatch, deal_value, prm, got, st.L[rows], W, rows)
    held = np.all(np.isclose(got, new), axis=2)
    assert (~held).any() and held.any()  # some moves are cut back, others kept whole
    old_ok = _reference(monkeypatch, deal_value, prm, x, st.L[rows], W, rows) >= thr
    assert np.all((V >= thr - 1e-12) | ~old_ok)  # nobody who was above its reservation ends below it


@pytest.mark.parametrize("mediator_view", [False, True])
def test_compiled_outside_option_matches_numpy(monkeypatch, baseline_params, mediator_view):
    from sim.model.model import NegotiationModel
    from sim.model.outside_option import outside_option

    model = NegotiationModel(copy.deepcopy(baseline_params), R, np.random.SeedSequence(8), collect=False)
    for _ in range(20):
        model.step()
    prm, st = model.prm, model.state
    rows = np.flatnonzero(np.arange(R) % 3 != 0)
    ideal = st.x_decl[rows] if mediator_view else None
    got = outside_option(prm, st, rows, ideal=ideal)
    ref = _reference(monkeypatch, outside_option, prm, st, rows, ideal=ideal)
    assert_allclose(got, ref, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("modules", [{"commitment": False}, {}], ids=["no-commitment", "all"])
def test_value_row_sets_every_output_even_into_uninitialised_buffers(baseline_params, modules):
    # the SQP passes np.empty buffers: 1 - q must be written (as 1) when there is no commitment discount
    prm = _prm(baseline_params, **modules)
    rows, X, L, W, ideal = _inputs(prm, 9)
    X3 = np.ascontiguousarray(np.broadcast_to(X[:1, None, :], (1, prm.n, prm.K)))
    V, dV, wq = (np.full((1, prm.n), np.nan), np.full((1, prm.n, prm.K), np.nan), np.full((1, prm.n), np.nan))
    P = kernels.kernel_params(prm)
    kernels.value_row(X3, 0, rows[0], L[0], W[:1], ideal[:1], True, True, P, V, dV, wq, np.empty((4, prm.K)))
    ref = deal_value(prm, X[:1], L[:1], W[:1], rows[:1], grad=True, ideal=ideal[:1])
    for got, want in zip((V, dV, wq), ref, strict=True):
        assert_allclose(got, want, rtol=1e-10, atol=1e-12)


def _kink_inputs(prm, seed):
    """Texts on and near the contact line, where the kinks bend V (their width is 0.01 TERR units)."""
    rows, X, L, W, ideal = _inputs(prm, seed)
    X[:, prm.k_terr] = L + np.random.default_rng(seed).uniform(-0.03, 0.03, rows.size)
    return rows, X, L, W, ideal


def _compiled_kink(prm, rows, X, L, W, ideal):
    B, n, K = rows.size, prm.n, prm.K
    X3 = np.ascontiguousarray(np.broadcast_to(X[:, None, :], (B, n, K)))
    V, dV, wq, kink = np.empty((B, n)), np.empty((B, n, K)), np.empty((B, n)), np.full((B, n), np.nan)
    P, tmp = kernels.kernel_params(prm), np.empty((4, K))
    for j in range(B):
        kernels.value_row(X3, j, rows[j], L[j], W, ideal, True, True, P, V, dV, wq, tmp, kink)
    return kink


@pytest.mark.parametrize(
    "modules",
    [{}, {"commitment": False}, {"reference_point": False}],
    ids=["all", "no-commitment", "no-reference"],
)
def test_kink_curvature_matches_numpy(baseline_params, modules):
    from sim.model.commitment import kink_curvature

    prm = _prm(baseline_params, **modules)
    rows, X, L, W, ideal = _kink_inputs(prm, 21)
    got = _compiled_kink(prm, rows, X, L, W, ideal)
    ref = kink_curvature(prm, X, L, W, rows, ideal=ideal)
    assert_allclose(got, ref, rtol=1e-9, atol=1e-9)
    assert (got >= 0).all()
    assert got.max() > 1.0  # near the line the kinks do bend V (curvature up to ~ zeta / (4 * 0.01))


def test_kink_curvature_is_the_second_derivative_of_the_reference_kink(baseline_params):
    # without the commitment discount V_i = U_i + bonus, and U_i's only curvature in X_T beyond the quadratic
    # part -2 A_i[T, T] is the reference kink's: finite differences of the exact gradient must give it
    from sim.model.commitment import kink_curvature

    prm = _prm(baseline_params, commitment=False)
    rows, X, L, W, ideal = _kink_inputs(prm, 22)
    k, h = prm.k_terr, 1e-6
    up, down = X.copy(), X.copy()
    up[:, k] += h
    down[:, k] -= h
    d2 = (deal_value(prm, up, L, W, rows, grad=True, ideal=ideal)[1][..., k]
          - deal_value(prm, down, L, W, rows, grad=True, ideal=ideal)[1][..., k]) / (2 * h)  # fmt: skip
    A_TT = prm.A[rows][:, :, k, k]
    assert_allclose(kink_curvature(prm, X, L, W, rows, ideal=ideal), -d2 - 2.0 * A_TT, rtol=1e-5, atol=1e-4)


def test_compiled_snap_gives_numpys_nearest_option_ties_and_nan_included(monkeypatch, baseline_params):
    from sim.model.mediation import snap

    prm = build_params(copy.deepcopy(baseline_params), R)
    snapped = [k for k, opts in enumerate(prm.options) if opts and k != prm.k_terr]
    assert snapped  # the baseline has discrete issues
    rng = np.random.default_rng(5)
    X = rng.uniform(-0.1, 1.1, (200, prm.K))
    k = snapped[0]
    opts = prm.options[k]
    X[0, k] = 0.5 * (opts[0] + opts[1])  # halfway, up to rounding: both must take the same option
    X[1, k] = np.nan
    L = rng.uniform(0.2, 0.8, 200)
    got = snap(prm, X, L)
    ref = _reference(monkeypatch, snap, prm, X, L)
    np.testing.assert_array_equal(got, ref)
    assert got[0, k] in opts[:2] and got[1, k] == opts[0]  # NaN: the first option, as numpy's argmin
    unsnapped = [j for j in range(prm.K) if j not in snapped]
    np.testing.assert_array_equal(got[:, unsnapped], X[:, unsnapped])  # TERR_CTRL and continuous issues
    assert all(np.isin(got[:, j], prm.options[j]).all() for j in snapped)
