"""P8: the mediator's single negotiating text, the ceasefire fallback, and coercive levers (memo §1.5 P8).

Rounds follow their own Poisson calendar at rate nu0 (1 + nu_F F) per week while the mediator is active, so
results do not depend on the step length (memo §4.4; T3 shows what goes wrong otherwise). In a round the
mediator (Raiffa 1982's single-text procedure) proposes the text maximising the weighted Nash product of
the veto players' surpluses over their thresholds, as the mediator perceives them: utilities around the
declared positions, outside options with bias and noise (a biased mediator; Kydd 2003), plus a weak term
for non-veto actors and a proximal term that makes the text path dependent (Nash 1950; Kalai 1977; the
compromise model as a limit, Achen 2006). Kalai-Smorodinsky is the alternative ``text_solver``. The deal
value V (with the commitment discount) is not quadratic; it is linearised around the current text, with the
curvature of the two kinks at the contact line, and the quadratic solver of :mod:`sim.engines.nash` re-run
(sequential quadratic programming: :func:`solver_schedule` gives the Newton steps in each pass).
Discrete issues are snapped to their options (TERR_CTRL also to the current line: "freeze where we stand").

If the predicted chance that every veto player accepts is below ``ceasefire_threshold`` and the war is on,
the mediator proposes a ceasefire (TERR = L, monitors, the rest deferred) whose value includes the option
of a later settlement. After a failed round frustration rises, the mediator blames the party furthest from
yes and, with probability 1 - exp(-lambda_lev F), applies a lever on it (aid pause on Ukraine, sanctions
on Russia; Beardsley 2011 on coercive mediation); missed deadlines add frustration and frustration may make
the mediator walk away for a while.
"""

from __future__ import annotations

import numpy as np
from scipy.special import ndtr, ndtri

from sim.engines.nash import kalai_smorodinsky, nash_solution, softplus, use_compiled
from sim.model import kernels
from sim.model.acceptance import accept_prob, referendum_required
from sim.model.commitment import deal_value, deal_values_both, kink_curvature, reneging_prob
from sim.model.events import step_probability
from sim.model.influence import influence_phase
from sim.model.outside_option import option_value, war_cost, war_outlook
from sim.model.preferences import take, utility
from sim.model.state import (
    CEASEFIRE,
    DEAL,
    DEAL_PENDING,
    KIND_CEASEFIRE,
    KIND_COMPREHENSIVE,
    RELAPSE,
    WAR,
    State,
    in_status,
    rows_of,
)

# Projected-Newton steps on each linearisation of the SQP (one entry per pass; an inexact SQP).
# docs/performance.md ("How exactly the text is solved") compares schedules against argmax Phi: with quadratic
# utilities the engine's model carries each A_i, so one step per pass is as close to argmax Phi as
# (2, 1) at 82% of the Nash text's cost. With linear utilities its only curvature is the log of the
# smoothed surplus, which one step does not capture: (1, 1) then lags where the bargaining range is narrow
# (memo §3 T6 with Poisson rounds agrees 1.4 weeks late), so those keep a second step in the first pass.
SOLVER_ITERS = (1, 1)
SOLVER_ITERS_LINEAR = (2, 1)
SETTLED = 1e-4  # a text that moved less than this in a pass is not re-linearised
KS_TEMPERATURE = 0.05  # smooth minimum of normalised gains (shares of each party's maximal gain)
KS_ITERS = 12  # warm-started from the previous text; the smooth minimum converges slowly near its kinks
# A KS Newton step below this counts as converged: the next would move the text by far less than SETTLED;
# 1e-8 took one more Newton step for the same texts (docs/performance.md, "How exactly the text is solved").
KS_TOL = 1e-5
COERCION_WINDOW_WEEKS = 8.0


def effective_tau(state: State, prm, rows) -> np.ndarray:
    """tau_i + event edits + not-engaged penalty + "made without us" exclusion penalty, (R_sub, n)."""
    tau = rows_of(prm.tau, rows) + rows_of(state.tau_add, rows)
    tau += rows_of(prm.tau_ne, rows) * ~rows_of(state.engaged, rows)
    om = rows_of(state.omega, rows)
    excl_min = rows_of(prm.excl_min, rows)
    excluded = np.any((excl_min > 0) & (om < excl_min), axis=1)
    return tau + rows_of(prm.excl_tau, rows) * excluded[:, None]


def snap(prm, X: np.ndarray, L: np.ndarray) -> np.ndarray:
    """Snap each discrete issue to its nearest option; the issue tied to the front line stays continuous.

    TERR_CTRL is measured on the same scale as the line L (an armistice line can run anywhere), so it is
    not snapped; every other issue with ``options`` is rounded to the nearest one (a simplification of the
    memo's greedy snapping with re-optimisation, which would cost a solve per issue). Compiled:
    :func:`sim.model.kernels.snap_to_options` (the same numbers); this loop is its numpy reference.
    """
    if use_compiled():
        return kernels.snap_to_options(np.require(X, float, ["C", "W"]), *kernels.option_table(prm))
    out = X.copy()
    for k, opts in enumerate(prm.options):
        if not opts or k == prm.k_terr:
            continue
        cand = np.broadcast_to(np.asarray(opts), (X.shape[0], len(opts)))
        j = np.argmin(np.abs(cand - X[:, k : k + 1]), axis=1)
        out[:, k] = cand[np.arange(X.shape[0]), j]
    return out


def text_objective(prm, X, L, rows, ideal_m, W_m, thr_m, X_prev, om) -> np.ndarray:
    """Return the mediator's objective Phi(X) with the full (non-quadratic) deal values (memo P8)."""
    V = deal_value(prm, X, L, W_m, rows, ideal=ideal_m)
    eps = prm.eps[rows]
    z = (V - thr_m) / eps  # log sp_eps(S) = log eps + log log(1 + e^z); log eps + z far below 0 (never -inf)
    logsp = np.log(eps) + np.where(z < -30.0, z, np.log(np.logaddexp(0.0, np.maximum(z, -30.0))))
    dx = X - X_prev
    phi = np.sum(np.where(prm.veto_C, om * logsp, prm.nonveto_weight * om * V), axis=1)
    return phi - 0.5 * prm.prox * np.einsum("bk,bk->b", dx, dx)


def solver_schedule(prm) -> tuple[int, ...]:
    """Return the Newton steps of the Nash text in each SQP pass (linear utilities: one more at first)."""
    return SOLVER_ITERS_LINEAR if prm.linear_utility else SOLVER_ITERS


def solve_text(prm, state: State, rows, ideal_m, W_m, thr_m) -> np.ndarray:
    """Return the mediator's text for ``rows``: weighted Nash (or KS) on linearised deal values (memo P8).

    Sequential quadratic programming: the deal value of each party is linearised around the current text
    and the quadratic engine solved; each pass is accepted only as far as it raises the mediator's true
    objective (a backtracking merit-function step), so passes cannot cycle between local optima.
    """
    if use_compiled():
        c = lambda v: np.require(v, float, ["C", "W"])  # noqa: E731
        return kernels.solve_texts(
            kernels.row_index(rows, prm.R), c(rows_of(state.X_text, rows)), c(state.L[rows]), c(ideal_m),
            c(W_m), c(thr_m), c(rows_of(state.omega, rows)), np.require(prm.is_ks[rows], bool, ["C", "W"]),
            c(rows_of(prm.eps, rows)),
            np.require(prm.veto_C, bool, ["C", "W"]), float(prm.nonveto_weight), float(prm.prox),
            np.asarray(solver_schedule(prm), np.int64), SETTLED, KS_ITERS, KS_TEMPERATURE, KS_TOL,
            kernels.kernel_params(prm),
        )  # fmt: skip
    L = state.L[rows]
    A = take(prm, "A", rows)
    if prm.linear_utility:  # deal values are linearised exactly; no quadratic part for the engine
        A = np.zeros_like(A)
    X_prev = state.X_text[rows]
    X = X_prev.copy()
    om = state.omega[rows]
    ks = prm.is_ks[rows]
    eps = prm.eps[rows]
    phi = text_objective(prm, X, L, rows, ideal_m, W_m, thr_m, X_prev, om)
    act = np.arange(len(L))  # positions (within rows) still moving; later passes skip settled texts
    for iters in solver_schedule(prm):
        if act.size == 0:
            break
        r, x, xm, wm, tm = rows[act], X[act], ideal_m[act], W_m[act], thr_m[act]
        V, dV, wq = deal_value(prm, x, L[act], wm, r, grad=True, ideal=xm)
        A_act = A[act]
        if not prm.linear_utility and prm.k_terr is not None:  # the kinks' curvature, in units of A_i
            A_act = A_act.copy()
            bend = kink_curvature(prm, x, L[act], wm, r, ideal=xm)
            safe = np.where(wq > 0, wq, 1.0)
            A_act[..., prm.k_terr, prm.k_terr] += np.where(wq > 0, 0.5 * bend / safe, 0.0)
        d = x[:, None, :] - xm
        Ad = (A_act @ d[..., None])[..., 0]
        lin = dV + 2.0 * wq[..., None] * Ad
        Aeff = wq[..., None, None] * A_act
        quad = -wq * np.einsum("bnk,bnk->bn", d, Ad)
        const = V - quad - np.einsum("bnk,bk->bn", lin, x)
        thr = tm - const
        new = np.empty_like(x)
        k_act = ks[act]
        for mask, solver, extra in (
            (~k_act, nash_solution, {"check_last": False}),  # the true objective checks it below
            (k_act, kalai_smorodinsky, {"temperature": KS_TEMPERATURE, "iters": KS_ITERS, "tol": KS_TOL}),
        ):
            if mask.any():
                new[mask] = solver(
                    Aeff[mask],
                    xm[mask],
                    om[act][mask],
                    thr[mask],
                    veto=prm.veto_C,
                    nonveto_weight=prm.nonveto_weight,
                    x_prev=X_prev[act][mask],
                    prox=prm.prox,
                    eps=eps[act][mask],
                    linear=lin[mask],
                    x0=x[mask],
                    **{"iters": iters, **extra},
                )
        # backtracking: each text takes the longest of the steps 1, 1/2, 1/4 that raises the true objective
        # (Armijo-style; most accept the full step, so the shorter ones are evaluated only for the rest)
        best, best_phi = x.copy(), phi[act].copy()
        left = np.arange(act.size)
        for step in (1.0, 0.5, 0.25):
            if left.size == 0:
                break
            cand = x[left] + step * (new[left] - x[left])
            a = act[left]
            pc = text_objective(prm, cand, L[a], rows[a], xm[left], wm[left], tm[left], X_prev[a], om[a])
            better = pc > best_phi[left]
            best[left[better]], best_phi[left[better]] = cand[better], pc[better]
            left = left[~better]
        moved = np.max(np.abs(best - x), axis=1)
        X[act], phi[act] = best, best_phi
        act = act[moved > SETTLED]
    return X


def round_calendar(state: State, prm, u: np.ndarray, t: float) -> np.ndarray:
    """Decide which replicates hold a round this step; update frustration, deadlines, walk-aways.

    Parameters
    ----------
    u : ndarray, shape (R, 3)
        Uniforms: round occurrence, missed deadline, walk-away.

    Returns
    -------
    ndarray of int
        Indices of the replicates with a round now.
    """
    state.F *= np.exp(-prm.phi_F * prm.dy)
    talks = in_status(state.status, (WAR, RELAPSE, CEASEFIRE)) & (state.pause_until <= t)
    if prm.mediator is None:
        return np.flatnonzero(np.zeros(state.R, bool))
    rate = prm.nu0 * (1.0 + prm.nu_F * state.F)
    if prm.round_interval:
        k = float(prm.round_interval)
        has_round = talks & (np.floor((t + prm.dt) / k + 1e-9) > np.floor(t / k + 1e-9))
    else:
        has_round = talks & (u[:, 0] < -np.expm1(-rate * prm.dt))
    missed = talks & (u[:, 1] < -np.expm1(-prm.deadline_rate * prm.dt))
    state.F[missed] += prm.deadline_add
    if prm.modules["levers"] and prm.walk_rate > 0:
        walk = talks & (u[:, 2] < step_probability(prm.walk_rate * state.F, prm.dt))
        state.pause_until[walk] = t + prm.walk_pause
        _set_support(state, walk, prm.mediator, prm.walk_support, t, np.inf)
        has_round &= ~walk
    return np.flatnonzero(has_round)


def _set_support(state: State, mask: np.ndarray, actor: int, value, t: float, until) -> None:
    """Set ``actor``'s support; with a finite ``until`` the change is temporary and support then returns."""
    if not np.any(mask):
        return
    value = np.broadcast_to(np.asarray(value, dtype=float), mask.shape)
    until = np.broadcast_to(np.asarray(until, dtype=float), mask.shape)
    temp = mask & np.isfinite(until)
    state.lever_until[temp] = np.maximum(
        np.where(np.isfinite(state.lever_until[temp]), state.lever_until[temp], 0), until[temp]
    )
    perm = mask & ~np.isfinite(until)
    state.support_hold[perm, actor] = value[perm]
    state.support[mask, actor] = value[mask]


def ceasefire_terms(prm, L: np.ndarray) -> np.ndarray:
    """Ceasefire package: freeze at the line, monitors, everything else deferred at the wartime status quo."""
    X = np.broadcast_to(prm.x_sq, (L.shape[0], prm.K)).copy()
    if prm.k_terr is not None:
        X[:, prm.k_terr] = L
    if prm.k["forces"] is not None:
        X[:, prm.k["forces"]] = prm.cf_forces
    return X


def ceasefire_value(prm, state: State, rows, W, V_text) -> np.ndarray:
    """V^CF_i: a truce now plus the option of a later settlement, minus i's ceasefire penalty (memo P8)."""
    L = state.L[rows]
    Xc = ceasefire_terms(prm, L)
    Uc = utility(prm, Xc, L, rows)
    qc = reneging_prob(prm, Xc, L, rows)
    c_cf = war_cost(prm, state, rows, np.full(L.shape[0], prm.I_cf))
    w = np.exp(-rows_of(prm.rho, rows) * prm.H)
    ps = prm.cf_settle[rows][:, None]
    later = ps * V_text + (1.0 - ps) * ((1.0 - qc) * Uc + qc * W)
    return (1.0 - w) * (Uc - c_cf) + w * later - rows_of(prm.psi, rows)


def negotiation_phase(
    state: State,
    prm,
    rows: np.ndarray,
    t: float,
    mhs: np.ndarray,
    u_med: np.ndarray,
    u_acc: np.ndarray,
    u_lev: np.ndarray,
    decide=None,
) -> None:
    """One mediated round for the replicates ``rows`` (P4, P5, P7a, P8, P9 acceptance).

    Parameters
    ----------
    u_med : ndarray, shape (R, n)
        Uniforms for the mediator's misperception of outside options (made normal for ``rows`` only).
    u_acc : ndarray, shape (R, n)
        Uniforms for each actor's accept/refuse draw (canonical actor order).
    u_lev : ndarray, shape (R, 1)
        Uniforms for the lever decision.
    decide : callable, optional
        ``decide(rows, surplus, u) -> accepted`` (the model's agents); default the quantal rule.
    """
    if rows.size == 0:
        state.log["round"] = None
        return
    L = state.L[rows]
    war = war_outlook(prm, state, rows)  # the influence moves change positions, not the war's prospects
    W = option_value(prm, war)
    influence_phase(state, prm, rows, t, mhs, W)
    tau = effective_tau(state, prm, rows)
    xm = rows_of(state.x_decl, rows)
    W_m = option_value(prm, war, ideal=xm) + rows_of(prm.med_bias, rows)
    W_m += rows_of(prm.sigma_med, rows) * ndtri(rows_of(u_med, rows))  # the mediator's misperception
    thr_m = W_m + tau
    X_cont = solve_text(prm, state, rows, xm, W_m, thr_m)
    state.X_text[rows] = X_cont  # the continuous text carries the path dependence to the next round
    X = snap(prm, X_cont, L)  # what is put on the table
    V, V_m = deal_values_both(prm, X, L, W, rows, W_m, xm)
    xi = rows_of(state.xi, rows)  # the persistent reservation shock at this round
    S = V - W - tau - xi
    S_m = V_m - thr_m
    sd = np.sqrt(rows_of(prm.sigma_xi, rows) ** 2 + (1.8 * rows_of(prm.nu, rows)) ** 2)
    p_each = np.where(sd > 0, ndtr(S_m / np.where(sd > 0, sd, 1.0)), (S_m >= 0).astype(float))
    p_hat = np.prod(np.where(prm.veto_C, p_each, 1.0), axis=1)
    at_war = in_status(state.status[rows], (WAR, RELAPSE))
    propose_cf = at_war & (p_hat < prm.cf_threshold) & prm.veto_F.any()
    # ceasefire proposals: acceptance on the ceasefire value by the ceasefire veto players (valued only
    # where a ceasefire is proposed; every term is per replicate, so the others need not be)
    S_use = S.copy()
    if propose_cf.any():
        cf_rows = rows[propose_cf]
        Vc = ceasefire_value(prm, state, cf_rows, W[propose_cf], V[propose_cf])
        S_use[propose_cf] = Vc - W[propose_cf] - tau[propose_cf] - state.xi[cf_rows]
    veto = np.where(propose_cf[:, None], prm.veto_F, prm.veto_C)
    if decide is not None:  # the model's agents own the decision, each on its own column
        acc = decide(rows, S_use, u_acc[rows])
    else:
        acc = u_acc[rows] < accept_prob(S_use, prm.nu[rows])
    if prm.k["forces"] is not None:  # a guarantor consents only to forces it can field (memo P9)
        fits = X[:, prm.k["forces"], None] <= rows_of(state.force_cap, rows) + 1e-9
        acc &= ~prm.is_guar | propose_cf[:, None] | fits
    signed = np.all(acc | ~veto, axis=1)
    t_end = t + prm.dt
    # diagnostics
    us = rows_of(prm.uscale, rows)
    state.binding[rows] = np.argmin(np.where(veto, S_use / us, np.inf), axis=1)
    state.n_rounds[rows] += 1
    state.way_out[rows] = (V - W - tau) > 0
    # signatures
    comp = rows[signed & ~propose_cf]
    cf = rows[signed & propose_cf]
    for r_idx, kind in ((comp, KIND_COMPREHENSIVE), (cf, KIND_CEASEFIRE)):
        if r_idx.size == 0:
            continue
        first = np.isnan(state.t_first[r_idx])
        state.t_first[r_idx[first]] = t_end
        state.first_kind[r_idx[first]] = kind
        state.coerced[r_idx] = (t - state.t_last_lever[r_idx]) <= COERCION_WINDOW_WEEKS
        state.t_signed[r_idx] = np.where(state.status[r_idx] == CEASEFIRE, state.t_signed[r_idx], t_end)
        state.F[r_idx] = 0.0
    if cf.size:
        state.X_agree[cf] = ceasefire_terms(prm, state.L[cf])
        state.status[cf] = CEASEFIRE
    if comp.size:
        state.X_agree[comp] = X[signed & ~propose_cf]
        if prm.modules["ratification"]:
            need_ref = referendum_required(prm, state.X_agree[comp], state.L[comp])
            wait = np.where(need_ref, max(prm.rat_delay, prm.ref_min_weeks), prm.rat_delay)
            state.pending_until[comp] = t_end + wait
            state.status[comp] = DEAL_PENDING
        else:
            state.status[comp] = DEAL
            state.t_comp[comp] = np.where(np.isnan(state.t_comp[comp]), t_end, state.t_comp[comp])
    # failed rounds: frustration, blame, levers
    failed = ~signed
    fr = rows[failed]
    blamed = np.full(rows.size, -1)
    lever = np.zeros(rows.size, dtype=bool)
    if fr.size:
        state.F[fr] += 1.0
        # blame the refuser furthest from yes, with the mediator's biases (memo P7b)
        score = (1.0 + prm.blame_bias) * softplus(-S_use / us, 0.01)
        score = np.where(veto & ~acc, score, -np.inf)
        blamed = np.where(failed, np.argmax(score, axis=1), -1)
        if prm.modules["levers"] and prm.levers:
            p_lev = -np.expm1(-prm.lev_rate * state.F[rows])
            lever = failed & (u_lev[rows, 0] < p_lev)
            for a, lv in prm.levers.items():
                hit = lever & (blamed == a)
                if not hit.any():
                    continue
                idx = rows[hit]
                mask = np.zeros(state.R, dtype=bool)
                mask[idx] = True
                _apply_lever(state, prm, lv, mask, t, a)
            lever &= np.isin(blamed, list(prm.levers))
            state.n_levers[rows[lever]] += 1
            state.t_last_lever[rows[lever]] = t
    state.log["round"] = {
        "rows": rows,
        "X": X,
        "S": S_use,
        "accepted": acc,
        "veto": veto,
        "ceasefire": propose_cf,
        "signed": signed,
        "blamed": blamed,
        "lever": lever,
        "p_hat": p_hat,
        "W": W,
        "V": V,
        "tau": tau,  # demand: the effective reservation margin tau_i^eff (memo P9)
        "xi": xi,
    }


def _apply_lever(state: State, prm, lv, mask: np.ndarray, t: float, actor: int) -> None:
    """Apply one mediator lever to the replicates in ``mask``.

    ``support``: the mediator's own support to the belligerent it backs (an aid pause when set to 0 for a
    while); ``sanctions``: the mediator's own sanctions; ``omega``: the pressed party's text weight.
    """
    med = prm.mediator
    if lv.target == "support":
        col = state.support[:, med]
        val = lv.value if lv.op == "set" else col + lv.value if lv.op == "add" else col * lv.value
        _set_support(state, mask, med, np.clip(val, 0.0, 1.5), t, t + lv.duration)
        return
    arr, col_index, box = (
        (state.omega, actor, (0.0, 1.0)) if lv.target == "omega" else (state.sanctions, med, (-0.5, 1.5))
    )
    col = arr[:, col_index]
    new = lv.value if lv.op == "set" else col + lv.value if lv.op == "add" else col * lv.value
    arr[mask, col_index] = np.clip(new, *box)[mask]
