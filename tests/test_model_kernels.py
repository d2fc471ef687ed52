"""The model's formulas are written once, in the kernels of ``sim.model.kernels``; here they meet the memo.

* The compiled batch path and the readable reference are the same source: a simulation run uncompiled
  (``NUMBA_DISABLE_JIT=1``, in a subprocess) gives the compiled run's records exactly.
* Gradients and the kinks' curvature are checked against finite differences of the values.
* The deal value, the reneging probability and the utility are checked against memo §1.3 and §1.5 P5 at
  points where the formula is short (the actor's ideal point, the commitment discount switched off).
* The BDM pressures are checked against the engine ``sim.engines.bdm_scholz`` (which replicates published
  BDM runs), for the status quo certain (Q = 1) and not (Q < 1).
"""

import copy
import json
import os
import subprocess
import sys

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy.special import expit

from sim.engines.bdm_scholz import condorcet_median, eu_challenge, prob_success
from sim.model import influence, kernels
from sim.model.commitment import deal_value, deal_values_both, reneging_prob
from sim.model.constants import KINK_EPS
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


def _side(prm) -> np.ndarray:
    """+1 for the defender, -1 for the advancer, 0 for the others (memo §1.3)."""
    sgn = np.zeros(prm.n)
    sgn[prm.dfd], sgn[prm.adv] = 1.0, -1.0
    return sgn


def test_utility_at_the_ideal_point_is_minus_the_reference_kink(baseline_params):
    # memo §1.3: the quadratic part vanishes at x_i, leaving -zeta_i sp_eps(s_i (X_T - L))
    prm = _prm(baseline_params)
    rows, _, L, _, _ = _inputs(prm, 1)
    L[::2], L[1::2] = 0.0, 1.0  # lines far on either side: each belligerent's ideal is across one of them
    ideal = prm.ideal[rows]
    z = _side(prm) * (ideal[..., prm.k_terr] - L[:, None])
    kink = prm.zeta[rows] * KINK_EPS * np.logaddexp(0.0, z / KINK_EPS)
    assert_allclose(utility(prm, ideal, L, rows), -kink, rtol=1e-12, atol=1e-15)
    assert (kink[:, [prm.dfd, prm.adv]] > 1e-6).any()  # the kink does bite somewhere


@pytest.mark.parametrize("modules", [{}, {"reference_point": False}], ids=["all", "no-reference-point"])
def test_deal_value_is_utility_discounted_by_the_reneging_hazard(baseline_params, modules):
    # memo §1.5 P5: V = (1 - q) U + q (W - vartheta shift) + bonus; with the shift isolated through two
    # outside options, V(W1) - V(W2) = q (W1 - W2), which pins q; and without commitment V = U + bonus
    prm = _prm(baseline_params, **modules)
    rows, X, L, W, _ = _inputs(prm, 2)
    q = reneging_prob(prm, X, L, rows)
    assert ((q >= 0.0) & (q < 1.0)).all() and (q > 0.1).any()  # zero for actors with no hazard (h0 = 0)
    dW = 0.37
    assert_allclose(deal_value(prm, X, L, W + dW, rows) - deal_value(prm, X, L, W, rows), q * dW, rtol=1e-9)
    _, _, wq = deal_value(prm, X, L, W, rows, grad=True)
    assert_allclose(wq, 1.0 - q, rtol=1e-12)
    off = _prm(baseline_params, commitment=False, **modules)
    U = utility(off, X, L, rows)
    assert_allclose(deal_value(off, X, L, W, rows), U + off.deal_bonus[rows], rtol=1e-12)
    assert (reneging_prob(off, X, L, rows) == 0.0).all()


def test_a_stronger_guarantee_lowers_the_reneging_hazard(baseline_params):
    # memo §1.5 P5: h_i falls with theta X_G (Walter 2002): raise the guarantee issue, q falls for all
    prm = _prm(baseline_params)
    rows, X, L, _, _ = _inputs(prm, 3)
    kG = prm.k["guarantee"]
    lo, hi = X.copy(), X.copy()
    lo[:, kG], hi[:, kG] = 0.2, 0.8
    q_lo, q_hi = reneging_prob(prm, lo, L, rows), reneging_prob(prm, hi, L, rows)
    theta = np.broadcast_to(prm.theta, (R,))[rows][:, None]
    has_term = (prm.g_guar * theta > 0) & (prm.h0[rows] > 0)
    assert has_term.any()
    assert (q_hi[has_term] < q_lo[has_term]).all()
    assert_allclose(q_hi[~has_term], q_lo[~has_term], rtol=1e-12)


@pytest.mark.parametrize(
    "modules",
    [{}, {"commitment": False}, {"reference_point": False}, {"linear_utility": True}],
    ids=["all", "no-commitment", "no-reference-point", "linear"],
)
def test_paired_deal_values_equal_two_single_evaluations(baseline_params, modules):
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


def test_a_boolean_row_mask_selects_the_same_replicates_as_their_indices(baseline_params):
    prm = _prm(baseline_params)
    rng = np.random.default_rng(2)
    mask = rng.uniform(size=R) < 0.5
    X = rng.uniform(size=(mask.sum(), prm.K))
    L = rng.uniform(0.3, 0.7, mask.sum())
    np.testing.assert_array_equal(utility(prm, X, L, mask), utility(prm, X, L, np.flatnonzero(mask)))


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


def test_utility_matrices_are_built_once_per_draw_and_equal_those_built_per_replicate():
    """Paths of a draw share one matrix (A_runs, A_run_of); the kernels' sparse form is as from A itself."""
    sc = load_scenario("scenarios/baseline.yaml")
    draws = sample_parameters(sc, 8, np.random.default_rng(5))
    paths = build_params(materialise(sc, draws, np.repeat(np.arange(8), 4)), 32)
    alone = build_params(materialise(sc, draws, np.arange(8)), 8)
    assert paths.A_runs.shape[0] == 8 and list(paths.A_run_of) == list(np.repeat(np.arange(8), 4))
    assert_allclose(paths.A, np.repeat(alone.A, 4, axis=0), rtol=0, atol=0)
    for got, want in zip(paths.kernel[:4], kernels.sparse_linkage(paths.A), strict=True):
        assert_allclose(got, want, rtol=0, atol=0)


def _positions(prm, seed, B=30):
    rng = np.random.default_rng(seed)
    rows = np.sort(rng.choice(R, B, replace=False))
    x = rng.uniform(size=(B, prm.n, prm.K))
    x[:, 1, 3] = x[:, 2, 3]  # ties: no voter separates the pair, P = 1/2
    return rows, x


@pytest.mark.parametrize("Q", [1.0, 0.7])
@pytest.mark.parametrize("mode", ["smooth", "classic"])
def test_pressures_are_the_bdm_engines_challenge_values(baseline_params, mode, Q):
    # Pi_ij = sigma(beta (E_ji - E_ij)) 1{E_ji > 0} (or the hard rule), with E from the engine's printed
    # probability of success and expected utility of a challenge (Scholz et al. 2011 eqs. 14, 25a/b)
    params = copy.deepcopy(baseline_params)
    params["scenario"]["structure"]["bdm_mode"] = mode
    params["influence"]["status_quo_prob"] = Q
    prm = build_params(params, R)
    rows, x = _positions(prm, 4)
    got = influence.pressure_weights(prm, x, rows)
    xk = np.swapaxes(x, 1, 2)  # (B, K, n)
    c, s = prm.cap[rows][:, None, :], np.swapaxes(prm.sal[rows], 1, 2)
    P = prob_success(xk, c, s, delta=np.ones(xk.shape[:-1]), r=1.0, mode="printed")
    d = np.abs(xk[..., :, None] - xk[..., None, :])
    d_im = np.abs(xk - condorcet_median(xk, c, s)[..., None])[..., :, None] if Q != 1.0 else None
    E = eu_challenge(P, d, s[..., None, :], 1.0, q=Q, d_im=d_im)  # E[..., i, j] = EU_{i->j}
    Et = np.swapaxes(E, -1, -2)
    off = 1.0 - np.eye(prm.n)
    if mode == "classic":
        want = ((Et > E) & (Et > 0)) * off
    else:
        want = expit(prm.beta_ch * (Et - E)) * (Et > 0) * off
    assert_allclose(got, want, rtol=1e-10, atol=1e-13)
    assert 0.05 < (got > 0).mean() < 0.95


def test_moves_without_pressure_are_the_exact_concession_toward_the_text(baseline_params):
    # with eta_p = 0, dx_i/dt = a_i (X - x_i) integrates to x_i + (1 - exp(-a_i tau)) (X - x_i) (memo P7a)
    prm = _prm(baseline_params)
    rows, x = _positions(prm, 5)
    rng = np.random.default_rng(6)
    X = rng.uniform(size=(rows.size, prm.K))
    a = rng.uniform(0.0, 3.0, (rows.size, prm.n))
    eng = np.ones((rows.size, prm.n), bool)
    tau = rng.uniform(0.0, 0.2, rows.size)
    sal, cap, beta, classic, Q, median = influence._bdm_args(prm, x, rows)
    got = kernels.influence_moves(x, X, a, eng, tau, rows, sal, cap, beta, 0.0, classic, Q, median)
    frac = -np.expm1(-a * tau[:, None])[..., None]
    assert_allclose(got, x + frac * (X[:, None, :] - x), rtol=1e-12, atol=1e-14)
    pressed = kernels.influence_moves(x, X, a, eng, tau, rows, sal, cap, beta, 2.0, classic, Q, median)
    assert np.abs(pressed - got).max() > 1e-3  # and pressure moves them further


@pytest.mark.parametrize("solver", ["nash", "kalai_smorodinsky"])
def test_the_text_never_lowers_the_mediators_objective(baseline_params, solver):
    # the SQP accepts a pass only as far as it raises Phi (memo P8), so Phi(new text) >= Phi(old text)
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
    old = st.X_text[rows].copy()
    new = solve_text(prm, st, rows, xm, W_m, thr_m)
    assert np.abs(new - old).max() > 1e-3  # the texts move

    def phi(X):
        V = deal_value(prm, X, st.L[rows], W_m, rows, ideal=xm)
        logsp = np.log(prm.eps[rows]) + np.log(np.logaddexp(0.0, (V - thr_m) / prm.eps[rows]))
        om = st.omega[rows]
        mix = np.where(prm.veto_C, om * logsp, prm.nonveto_weight * om * V).sum(axis=1)
        return mix - 0.5 * prm.prox * np.sum((X - old) ** 2, axis=1)

    assert (phi(new) >= phi(old) - 1e-9).all()
    assert (phi(new) > phi(old) + 1e-6).mean() > 0.5


def _compiled_and_uncompiled_records(n: int) -> tuple[dict, dict]:
    code = (
        "import json, sys, numpy as np\n"
        "from sim.scenario import load_scenario, sample_parameters, materialise\n"
        "from sim.model import simulate\n"
        "sc = load_scenario('scenarios/baseline.yaml')\n"
        f"p = materialise(sc, sample_parameters(sc, {n}, np.random.SeedSequence(5)), np.arange({n}))\n"
        f"rec = simulate(p, {n}, np.random.SeedSequence(7))\n"
        "json.dump({k: np.asarray(v).tolist() for k, v in rec.items()}, sys.stdout)\n"
    )
    out = {}
    for jit in ("0", "1"):
        env = {**os.environ, "NUMBA_DISABLE_JIT": jit}
        cmd = [sys.executable, "-c", code]
        run = subprocess.run(cmd, capture_output=True, text=True, env=env, check=True)
        out[jit] = json.loads(run.stdout)
    return out["0"], out["1"]


@pytest.mark.slow
def test_the_compiled_kernels_run_their_python_source_exactly():
    # one source: the batch path is the reference source compiled; uncompiled, it gives the same records
    compiled, uncompiled = _compiled_and_uncompiled_records(12)
    assert compiled.keys() == uncompiled.keys()
    for key in compiled:
        np.testing.assert_array_equal(np.asarray(compiled[key]), np.asarray(uncompiled[key]), err_msg=key)
    assert max(compiled["n_rounds"]) > 0  # rounds were held: texts, values, moves all ran


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


def test_the_projection_keeps_every_actor_at_or_above_its_reservation(baseline_params):
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
    got = kernels.project_moves(x, new, rows, st.L[rows], W, thr, prm.kernel_array("ideal"),
                                prm.kernel, influence.BISECTION_STEPS)  # fmt: skip
    V = deal_value(prm, got, st.L[rows], W, rows)
    held = np.all(np.isclose(got, new), axis=2)
    assert (~held).any() and held.any()  # some moves are cut back, others kept whole
    old_ok = deal_value(prm, x, st.L[rows], W, rows) >= thr
    assert np.all((V >= thr - 1e-12) | ~old_ok)  # nobody who was above its reservation ends below it


@pytest.mark.parametrize("mediator_view", [False, True])
def test_the_outside_option_is_the_war_lotterys_value(baseline_params, mediator_view):
    # memo §1.5 P4 and §3 T2: W_i = (1 - w)(U_i(X^SQ) - cbar_i) + w (U_i(phi(L~_i)) - V_L,i b'A_i b) - esc_i
    from sim.model.model import NegotiationModel
    from sim.model.outside_option import option_value, war_end_terms, war_outlook

    model = NegotiationModel(copy.deepcopy(baseline_params), R, np.random.SeedSequence(8), collect=False)
    for _ in range(20):
        model.step()
    prm, st = model.prm, model.state
    rows = np.flatnonzero(np.arange(R) % 3 != 0)
    ideal = st.x_decl[rows] if mediator_view else None
    o = war_outlook(prm, st, rows)
    phi, b = war_end_terms(prm, o.Lt)
    L = st.L[rows]
    premium = o.VL * np.einsum("rnk,rnkl,rnl->rn", b, prm.A[rows], b)
    xsq = np.broadcast_to(prm.x_sq, phi.shape).copy()
    xsq[..., prm.k_terr] = np.clip(L[:, None] + 0.5 * o.m * prm.H, prm.L_min, 1.0)
    u_end = utility(prm, phi, L, rows, ideal) - premium
    want = (1.0 - o.w) * (utility(prm, xsq, L, rows, ideal) - o.cbar) + o.w * u_end - o.esc
    assert_allclose(option_value(prm, o, ideal), want, rtol=1e-10, atol=1e-12)
    assert (premium > 0).all()  # the lottery's risk premium is part of it


@pytest.mark.parametrize("modules", [{"commitment": False}, {}], ids=["no-commitment", "all"])
def test_value_row_sets_every_output_even_into_uninitialised_buffers(baseline_params, modules):
    # the SQP passes np.empty buffers: 1 - q must be written (as 1) when there is no commitment discount
    prm = _prm(baseline_params, **modules)
    rows, X, L, W, ideal = _inputs(prm, 9)
    X3 = np.ascontiguousarray(np.broadcast_to(X[:1, None, :], (1, prm.n, prm.K)))
    V, dV, wq = (np.full((1, prm.n), np.nan), np.full((1, prm.n, prm.K), np.nan), np.full((1, prm.n), np.nan))
    P = prm.kernel
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
    P, tmp = prm.kernel, np.empty((4, K))
    for j in range(B):
        kernels.value_row(X3, j, rows[j], L[j], W, ideal, True, True, P, V, dV, wq, tmp, kink)
    return kink


def test_kink_curvature_is_the_second_derivative_of_the_reference_kink(baseline_params):
    # without the commitment discount V_i = U_i + bonus, and U_i's only curvature in X_T beyond the quadratic
    # part -2 A_i[T, T] is the reference kink's: finite differences of the exact gradient must give it
    prm = _prm(baseline_params, commitment=False)
    rows, X, L, W, ideal = _kink_inputs(prm, 22)
    k, h = prm.k_terr, 1e-6
    up, down = X.copy(), X.copy()
    up[:, k] += h
    down[:, k] -= h
    d2 = (deal_value(prm, up, L, W, rows, grad=True, ideal=ideal)[1][..., k]
          - deal_value(prm, down, L, W, rows, grad=True, ideal=ideal)[1][..., k]) / (2 * h)  # fmt: skip
    A_TT = prm.A[rows][:, :, k, k]
    got = _compiled_kink(prm, rows, X, L, W, ideal)
    assert_allclose(got, -d2 - 2.0 * A_TT, rtol=1e-5, atol=1e-4)
    assert got.max() > 1.0  # near the line the kink does bend V (curvature up to ~ zeta / (4 * 0.01))


def test_the_withdrawal_kink_adds_curvature_only_with_the_commitment_discount(baseline_params):
    # the softplus of the withdrawal bends the power shift, and through it V_i, only when q > 0
    on, off = _prm(baseline_params, reference_point=False), _prm(baseline_params, reference_point=False,
                                                                  commitment=False)  # fmt: skip
    rows, X, L, W, ideal = _kink_inputs(on, 23)
    assert (_compiled_kink(off, rows, X, L, W, ideal) == 0.0).all()
    bent = _compiled_kink(on, rows, X, L, W, ideal)
    assert (bent >= 0.0).all() and bent.max() > 0.0


def test_snap_takes_the_nearest_option_first_of_ties_and_the_first_for_nan(baseline_params):
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
    for j in snapped:
        o = np.asarray(prm.options[j])
        want = o[np.argmin(np.abs(o[None, :] - X[:, j : j + 1]), axis=1)]
        np.testing.assert_array_equal(got[:, j], want)
    free = [j for j in range(prm.K) if j not in snapped]
    np.testing.assert_array_equal(got[:, free], X[:, free])  # the line and continuous issues stay
    assert got[0, k] in opts[:2] and got[1, k] == opts[0]


def test_the_builder_sets_every_declared_parameter_and_nothing_else(baseline_params):
    from sim.model.parameters import ModelParams

    prm = _prm(baseline_params)
    set_names = {k for k in vars(prm) if not k.startswith("_")}
    assert set_names == set(ModelParams.declared())
    with pytest.raises(AttributeError, match="read-only"):
        prm.rho = prm.rho * 2  # a phase cannot patch a parameter once the model is built
