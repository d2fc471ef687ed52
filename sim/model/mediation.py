"""P8: the numerics of a mediated round: the single negotiating text, the ceasefire's value, levers (memo P8).

The mediator agent (:class:`sim.model.agents.Mediator`) makes the decisions: it convenes rounds on their
own calendar, drafts, chooses the package and presses; this module values and solves for it. In a round the
mediator (Raiffa 1982's single-text procedure) proposes the text maximising the weighted Nash product of
the veto players' surpluses over their thresholds, as the mediator perceives them: utilities around the
declared positions, outside options with bias and noise (a biased mediator; Kydd 2003), plus a weak term
for non-veto actors and a proximal term that makes the text path dependent (Nash 1950; Kalai 1977; the
compromise model as a limit, Achen 2006). Kalai-Smorodinsky is the alternative ``text_solver``. The deal
value V (with the commitment discount) is not quadratic; it is linearised around the current text, with the
curvature of the two kinks at the contact line, and the quadratic solver of :mod:`sim.engines.nash` re-run
(sequential quadratic programming: :func:`solver_schedule` gives the Newton steps in each pass).
Discrete issues are snapped to their options; the territorial issue stays continuous (it shares the front
line's scale, so the text can freeze where the armies stand). The first text on the table is the named draft
``mediator.opening_text`` (in the baseline the 20-point framework of 24 Dec 2025, which replaced the
28-point draft of 20 Nov by way of a 19-point Geneva text), else the compromise of the declared positions;
each round revises the standing text, and ``prox_weight`` sets how far one round may move it.

A ceasefire (TERR = L, monitors, the rest deferred) is valued with the option of a later settlement
(:func:`ceasefire_value`); :func:`blame` picks the refuser furthest from yes, and :func:`apply_lever`
applies the mediator's lever on it (an aid pause, sanctions, a cut of its say in the text; Beardsley 2011).

The strategic mediator (``modules.strategic_mediator``) keeps, per replicate and party, a normal estimate of
where the party's reservation lies relative to its own view of that party's outside option, learns it from
every verdict (:func:`learn_reservations`, a probit update) and lets it fade as reservations drift
(:func:`predict_reservations`); forecasts every package with the one acceptance rule
(:func:`forecast_acceptance`); compares the packages it could table (:func:`package_scores`; partial
agreements join there); does not table a refused package unchanged (:func:`unchanged_since_refusal`); and
presses where leverage times movability is largest (:func:`pressure_gain`). Kydd (2003): a biased mediator
is credible when it reports bad news about its favourite; Beardsley (2011): leverage is what a mediator can
add to or take from each party; Svensson (2007): a mediator's bias toward a side shapes what it can deliver;
Raiffa (1982): the single negotiating text moves after each refusal rather than being tabled again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from scipy.special import log_ndtr, ndtri

from sim.engines.nash import softplus
from sim.model import kernels
from sim.model.acceptance import LOGIT_AS_PROBIT, acceptance_probability
from sim.model.commitment import deal_values_both, utility_and_reneging
from sim.model.influence import influence_phase
from sim.model.outside_option import option_value, war_cost, war_outlook
from sim.model.state import State, rows_of
from sim.model.status_vote import value_vote

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
    memo's greedy snapping with re-optimisation, which would cost a solve per issue), by
    :func:`sim.model.kernels.snap_to_options`.
    """
    return kernels.snap_to_options(np.require(X, float, ["C", "W"]), *prm.option_table)


def solver_schedule(prm) -> tuple[int, ...]:
    """Return the Newton steps of the Nash text in each SQP pass (linear utilities: one more at first)."""
    return SOLVER_ITERS_LINEAR if prm.linear_utility else SOLVER_ITERS


def solve_text(prm, state: State, rows, ideal_m, W_m, thr_m) -> np.ndarray:
    """Return the mediator's text for ``rows``: weighted Nash (or KS) on linearised deal values (memo P8).

    Sequential quadratic programming: the deal value of each party is linearised around the current text
    and the quadratic engine solved; each pass is accepted only as far as it raises the mediator's true
    objective (a backtracking merit-function step), so passes cannot cycle between local optima. The
    objective is Phi(X) = sum_veto omega_i log sp_eps(V_i(X) - thr_i) + nonveto_weight sum_other omega_j
    V_j(X) - prox/2 ||X - X_prev||^2 with the full deal values V_i. Computed per replicate by
    :func:`sim.model.kernels.solve_texts` over the engine :mod:`sim.engines.compiled_newton`.
    """
    c = lambda v: np.require(v, float, ["C", "W"])  # noqa: E731
    return kernels.solve_texts(
        kernels.row_index(rows, prm.R), c(rows_of(state.X_text, rows)), c(state.L[rows]), c(ideal_m),
        c(W_m), c(thr_m), c(rows_of(state.omega, rows)), np.require(prm.is_ks[rows], bool, ["C", "W"]),
        c(rows_of(prm.eps, rows)),
        np.require(prm.veto_C, bool, ["C", "W"]), float(prm.nonveto_weight), float(prm.prox),
        np.asarray(solver_schedule(prm), np.int64), SETTLED, KS_ITERS, KS_TEMPERATURE, KS_TOL,
        prm.kernel,
    )  # fmt: skip


def set_support(state: State, mask: np.ndarray, actor: int, value, t: float, until) -> None:
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


def shelved_terms(prm, X: np.ndarray, L: np.ndarray) -> np.ndarray:
    """Return the text with territory shelved: the line frozen where the armies stand, recognition deferred.

    Every other issue (guarantees, forces, army, sanctions, assets, reconstruction) is settled as the
    text has it: the Korean-armistice and Cyprus pattern of seed 001, 「問題を事実上「棚上げ」にして経済協力と
    安全保障を先行させる」 (shelve the issue and put economic cooperation and security first), unlike a
    bare ceasefire, which defers everything. Holding the line and recognising nothing, it needs no
    referendum (:func:`sim.model.acceptance.referendum_required`).
    """
    Xs = X.copy()
    if prm.k_terr is not None:
        Xs[:, prm.k_terr] = L
    if prm.k["recognition"] is not None:
        Xs[:, prm.k["recognition"]] = prm.x_sq[prm.k["recognition"]]
    return Xs


def package_values(state: State, prm, rnd: Round, where: np.ndarray, X: np.ndarray,
                   values=deal_values_both) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # fmt: skip
    """Value another settlement package ``X`` (one row per round row) where it may be tabled, NaN elsewhere.

    Returns its value to the parties ``V``, in the mediator's view ``V_m``, and ``v``, the latter net of the
    mediator's view of the outside options and the demands; ``values`` computes the first two
    (:func:`sim.model.commitment.deal_values_both`, or the status vote's expected values).
    """
    V_all, V_m_all, v_all = (np.full(rnd.W.shape, np.nan) for _ in range(3))
    if where.any():
        rows = rnd.rows[where]
        V, V_m = values(prm, X[where], state.L[rows], rnd.W[where], rows, rnd.W_m[where], rnd.ideal_m[where])
        V_all[where], V_m_all[where] = V, V_m
        v_all[where] = V_m - rnd.W_m0[where] - rnd.tau[where]
    return V_all, V_m_all, v_all


def value_shelved(state: State, prm, rnd: Round, where: np.ndarray) -> None:
    """Value the round's shelving package ``rnd.X_sh`` where it may be tabled (NaN elsewhere)."""
    rnd.V_sh, rnd.V_m_sh, rnd.v_sh = package_values(state, prm, rnd, where, rnd.X_sh)


def table_package(rnd: Round, where: np.ndarray, X, V, V_m, v, p) -> None:
    """Put another settlement package on the table in ``where``: it becomes the round's text and its values.

    ``X`` its terms, ``V``/``V_m`` its value to the parties and in the mediator's view, ``v`` that value
    net of the mediator's view of the outside options and the demands, ``p`` the forecast that all accept.
    """
    w = where[:, None]
    rnd.X = np.where(w, X, rnd.X)
    rnd.V = np.where(w, V, rnd.V)
    rnd.V_m = np.where(w, V_m, rnd.V_m)
    rnd.S = rnd.V - rnd.W - rnd.tau - rnd.xi
    rnd.v_text = np.where(w, v, rnd.v_text)
    rnd.p_hat = np.where(where, p, rnd.p_hat)


def table_shelved(rnd: Round, where: np.ndarray, p_sh: np.ndarray) -> None:
    """Put the shelving package on the table in ``where``: it becomes the round's text and its values."""
    table_package(rnd, where, rnd.X_sh, rnd.V_sh, rnd.V_m_sh, rnd.v_sh, p_sh)
    rnd.shelved = where


def value_vote_package(state: State, prm, rnd: Round, where: np.ndarray) -> None:
    """Value the round's status-vote package where it may be tabled (NaN elsewhere; see status_vote.py)."""
    rnd.V_vote, rnd.V_m_vote, rnd.v_vote = package_values(state, prm, rnd, where, rnd.X_vote, value_vote)


def table_vote(rnd: Round, where: np.ndarray, p_vote: np.ndarray) -> None:
    """Put the status-vote package on the table in ``where``: the shelving terms until the vote is held."""
    table_package(rnd, where, rnd.X_vote, rnd.V_vote, rnd.V_m_vote, rnd.v_vote, p_vote)
    rnd.vote = where


class CeasefireOutlook(NamedTuple):
    """What a ceasefire is worth to each party whoever values it, for the replicates ``rows`` (memo P8).

    ``U`` the utility of its terms (true ideal points), ``q`` the reneging hazard on them, ``cost`` the
    war's cost flow at ceasefire intensity, ``w`` the weight exp(-rho H) of the later part, ``settle``
    (R_sub, 1) the chance it becomes a settlement, ``psi`` each party's ceasefire penalty: all (R_sub, n).
    """

    U: np.ndarray
    q: np.ndarray
    cost: np.ndarray
    w: np.ndarray
    settle: np.ndarray
    psi: np.ndarray

    def take(self, keep: np.ndarray) -> CeasefireOutlook:
        """Return the outlook of the replicates ``keep`` (a mask over its rows)."""
        return CeasefireOutlook(*(a[keep] for a in self))


def ceasefire_outlook(prm, state: State, rows) -> CeasefireOutlook:
    """Return the parts of V^CF that depend on the ceasefire's terms and the state, not on W or the text.

    A strategic round values the ceasefire twice, in the mediator's view and then, where it is tabled, for
    the parties: the terms, the hazard and the war's cost are computed once for both.
    """
    L = state.L[rows]
    Xc = ceasefire_terms(prm, L)
    U, q = utility_and_reneging(prm, Xc, L, rows)
    return CeasefireOutlook(
        U=U, q=q, cost=war_cost(prm, state, rows, np.full(L.shape[0], prm.I_cf)),
        w=np.exp(-rows_of(prm.rho, rows) * prm.H), settle=prm.cf_settle[rows][:, None],
        psi=rows_of(prm.psi, rows),
    )  # fmt: skip


def ceasefire_value(prm, state: State, rows, W, V_text,
                    outlook: CeasefireOutlook | None = None) -> np.ndarray:  # fmt: skip
    """V^CF_i: a truce now plus the option of a later settlement, minus i's ceasefire penalty (memo P8).

    ``outlook``: :func:`ceasefire_outlook` of ``rows``, if already computed.
    """
    o = ceasefire_outlook(prm, state, rows) if outlook is None else outlook
    later = o.settle * V_text + (1.0 - o.settle) * ((1.0 - o.q) * o.U + o.q * W)
    return (1.0 - o.w) * (o.U - o.cost) + o.w * later - o.psi


@dataclass
class Round:
    """What a mediated round knows about the replicates ``rows`` that hold it now (memo P4, P7a, P8).

    ``W`` the parties' outside options, ``tau`` their effective demands, ``ideal_m``/``W_m``/``thr_m`` the
    mediator's view (declared positions, misperceived outside options and their thresholds), ``X`` the text
    on the table, ``V``/``V_m`` its value to the parties and in the mediator's view, ``xi`` the reservation
    shocks, ``S`` the net surpluses (of the ceasefire where one is proposed), ``p_hat`` the mediator's
    forecast that every veto player accepts the comprehensive text, ``ceasefire`` where a ceasefire is put.
    """

    rows: np.ndarray
    W: np.ndarray
    tau: np.ndarray
    ideal_m: np.ndarray
    W_m: np.ndarray
    thr_m: np.ndarray
    X: np.ndarray | None = None
    V: np.ndarray | None = None
    V_m: np.ndarray | None = None
    xi: np.ndarray | None = None
    S: np.ndarray | None = None
    p_hat: np.ndarray | None = None
    ceasefire: np.ndarray | None = None
    # the strategic mediator: its view of the outside options before its learned offset, its estimate's
    # mean and variance, and each package's value to each party net of that view and the demand
    W_m0: np.ndarray | None = None
    res_mean: np.ndarray | None = None
    res_var: np.ndarray | None = None
    v_text: np.ndarray | None = None
    v_cf: np.ndarray | None = None
    X_cf: np.ndarray | None = None
    # the package that shelves territory (modules.shelving): its terms and values, and where it is tabled
    # (set by the package choice; all False unless it is tabled)
    X_sh: np.ndarray | None = None
    V_sh: np.ndarray | None = None
    V_m_sh: np.ndarray | None = None
    v_sh: np.ndarray | None = None
    shelved: np.ndarray | None = None
    # the package that settles territory by a UN-supervised vote (modules.status_vote): its terms until the
    # vote (the shelving terms), its expected values over the vote's two outcomes, and where it is tabled
    X_vote: np.ndarray | None = None
    V_vote: np.ndarray | None = None
    V_m_vote: np.ndarray | None = None
    v_vote: np.ndarray | None = None
    vote: np.ndarray | None = None


def take_rows(rnd: Round, keep: np.ndarray) -> Round:
    """Return the round restricted to the replicates ``keep`` (a mask over ``rnd.rows``)."""
    idx = np.flatnonzero(keep)  # row gathers by index (:func:`sim.model.state.rows_of`)
    fields = {k: (rows_of(v, idx) if isinstance(v, np.ndarray) else v) for k, v in vars(rnd).items()}
    return Round(**fields)


def open_round(
    state: State, prm, rows: np.ndarray, t: float, mhs: np.ndarray, u_med: np.ndarray,
    estimate: tuple[np.ndarray, np.ndarray] | None = None,
) -> Round:  # fmt: skip
    """Value the war for ``rows``, let declared positions move (P7a), and form the mediator's view.

    ``u_med`` (R, n): uniforms for the mediator's misperception of outside options (normal for ``rows``),
    drawn afresh each round. The strategic mediator passes instead its ``estimate`` (mean, variance), each
    (len(rows), n): its learned offset of each party's reservation from its own view of the outside option.
    """
    war = war_outlook(prm, state, rows)  # the influence moves change positions, not the war's prospects
    W = option_value(prm, war)
    influence_phase(state, prm, rows, t, mhs, W)
    tau = effective_tau(state, prm, rows)
    xm = rows_of(state.x_decl, rows)
    W_m = option_value(prm, war, ideal=xm) + rows_of(prm.med_bias, rows)
    if estimate is not None:
        mean, var = estimate
        return Round(rows=rows, W=W, tau=tau, ideal_m=xm, W_m=W_m + mean, thr_m=W_m + mean + tau, W_m0=W_m,
                     res_mean=mean, res_var=var)  # fmt: skip
    W_m += rows_of(prm.sigma_med, rows) * ndtri(rows_of(u_med, rows))  # the mediator's misperception
    return Round(rows=rows, W=W, tau=tau, ideal_m=xm, W_m=W_m, thr_m=W_m + tau)


def value_text(state: State, prm, rnd: Round) -> None:
    """Value the text on the table for the parties and in the mediator's view; forecast acceptance (P9).

    The forecast is the chance that each veto player's surplus clears its reservation shock, as the
    mediator sees it (:func:`sim.model.acceptance.acceptance_probability` with the shock's spread).
    """
    rows, L = rnd.rows, state.L[rnd.rows]
    rnd.V, rnd.V_m = deal_values_both(prm, rnd.X, L, rnd.W, rows, rnd.W_m, rnd.ideal_m)
    rnd.xi = rows_of(state.xi, rows)  # the persistent reservation shock at this round
    rnd.S = rnd.V - rnd.W - rnd.tau - rnd.xi
    if rnd.res_mean is not None:  # the strategic mediator forecasts with its learned estimate
        rnd.v_text = rnd.V_m - rnd.W_m0 - rnd.tau
        rnd.p_hat = forecast_acceptance(prm, rows, rnd.v_text, rnd.res_mean, rnd.res_var, prm.veto_C)
        return
    p_each = acceptance_probability(rnd.V_m - rnd.thr_m, rows_of(prm.nu, rows), rows_of(prm.sigma_xi, rows))
    rnd.p_hat = np.prod(np.where(prm.veto_C, p_each, 1.0), axis=1)


# --- the strategic mediator (modules.strategic_mediator) ----------------------------------------------
def forecast_acceptance(prm, rows, v: np.ndarray, mean: np.ndarray, var: np.ndarray, veto: np.ndarray,
                        each: bool = False) -> np.ndarray:  # fmt: skip
    """Return the mediator's forecast that every veto player in ``veto`` accepts a package (memo P9).

    ``v`` (R_sub, n) is the package's value to each party net of the mediator's view of its outside option
    and its demand; the party's reservation sits ``mean`` above that view, give or take sqrt(``var``). The
    rule is :func:`sim.model.acceptance.acceptance_probability` with the estimate's spread as the unknown
    shock. ``each``: return the (R_sub, n) probabilities instead of their product over ``veto``.
    """
    p = acceptance_probability(v - mean, rows_of(prm.nu, rows), np.sqrt(var))
    return p if each else np.prod(np.where(veto, p, 1.0), axis=1)


def predict_reservations(mean, var, mean0, var0, elapsed, T_xi):
    """Let the mediator's estimate fade toward its prior as reservations drift (Kalman prediction step).

    The reservation shocks are Ornstein-Uhlenbeck with correlation time ``T_xi`` weeks (memo P9), so what a
    refusal taught ``elapsed`` weeks ago holds with weight a = exp(-elapsed / T_xi): mean0 + a (mean -
    mean0), variance a^2 var + (1 - a^2) var0. Returns (mean, var).
    """
    a = np.exp(-np.asarray(elapsed, float) / T_xi)[:, None]
    return mean0 + a * (mean - mean0), a * a * var + (1.0 - a * a) * var0


def learn_reservations(mean, var, v, refused, asked, nu, weight=1.0):
    """Update the estimate from verdicts: a probit (truncated-normal) moment-matching step.

    A party asked about a package worth ``v`` to it (net of the mediator's view of its outside option and
    demand) that refuses reveals that its reservation offset d exceeds v, up to its quantal tremble of
    spread 1.8 nu (:data:`sim.model.acceptance.LOGIT_AS_PROBIT`); one that accepts, that d is below v. With
    prior N(m, s^2), s_t^2 = s^2 + (1.8 nu)^2, z = (m - v)/s_t for a refusal (-(m - v)/s_t for an
    acceptance) and lam = phi(z)/Phi(z): m' = m +- s^2 lam / s_t, s'^2 = s^2 - s^4 lam (lam + z) / s_t^2
    (assumed-density filtering of a probit observation; e.g. Minka 2001). ``asked`` (R_sub, n) masks the
    parties whose verdict counts. ``weight`` (R_sub,) in [0, 1] damps the step (m + w (m' - m), s^2 +
    w (s'^2 - s^2); damped updates as in expectation propagation, Minka 2001): verdicts given in quick
    succession on a persistent reservation are not independent evidence. Returns (mean, var).
    """
    st2 = var + (LOGIT_AS_PROBIT * nu) ** 2
    st = np.sqrt(st2)
    sign_ = np.where(refused, 1.0, -1.0)
    z = sign_ * (mean - v) / st
    lam = np.exp(_norm_logpdf(z) - log_ndtr(z))
    new_mean = mean + sign_ * var * lam / st
    new_var = np.maximum(var - var * var * lam * (lam + z) / st2, 1e-12 * (var + 1e-300))
    w = np.asarray(weight, float)
    w = w[:, None] if w.ndim == 1 else w
    new_mean, new_var = mean + w * (new_mean - mean), var + w * (new_var - var)
    return np.where(asked, new_mean, mean), np.where(asked, new_var, var)


def _norm_logpdf(z):
    return -0.5 * z * z - 0.5 * np.log(2.0 * np.pi)


def unchanged_since_refusal(prm, state: State, rows, kind: int, X: np.ndarray, W_m0: np.ndarray):
    """Return where tabling ``X`` of ``kind`` would repeat a refusal.

    Kinds: 0 comprehensive, 1 ceasefire, 2 shelved, 3 status vote.

    True where a package of that kind was refused, its terms moved by at most ``text_tolerance`` on every
    issue, the line by at most ``line_tolerance``, no party's outside option (as the mediator sees it) by
    more than ``option_tolerance``, and no lever or event fired since (Raiffa 1982: the single text is
    revised after a refusal, not tabled again).
    """
    c = lambda v: np.require(v, float, ["C", "W"])  # noqa: E731
    return kernels.repeats_refusal(
        kernels.row_index(rows, prm.R), int(kind), c(X), c(W_m0), state.refused_has, state.refused_X,
        state.refused_L, state.refused_W, state.refused_levers, state.refused_events, state.L, state.n_levers,
        state.fired, float(prm.retable_text_tol), float(prm.retable_line_tol), c(prm.retable_option_tol),
        np.require(prm.veto_C | prm.veto_F, bool, ["C"]),
    )  # fmt: skip


def remember_refusal(state: State, rows, kind: int, X: np.ndarray, W_m0: np.ndarray) -> None:
    """Record the refused package of ``kind`` in ``rows`` and the state it was refused in."""
    state.refused_has[rows, kind] = True
    state.refused_X[rows, kind] = X
    state.refused_L[rows, kind] = state.L[rows]
    state.refused_W[rows, kind] = W_m0
    state.refused_levers[rows, kind] = state.n_levers[rows]
    state.refused_events[rows, kind] = state.fired[rows].sum(axis=1)


def package_scores(p: dict[str, np.ndarray], value: dict[str, np.ndarray],
                   allowed: dict[str, np.ndarray]) -> tuple[list[str], np.ndarray]:  # fmt: skip
    """Score each package a round could table: forecast acceptance times its value to the mediator.

    ``p``, ``value`` and ``allowed`` map a package name ("comprehensive", "ceasefire", "shelved", "vote") to
    (R_sub,) arrays. Returns the names and an (R_sub, n_packages) score, -inf where a package may not be
    tabled (Raiffa 1982; the mediator's choice of package, Beardsley 2011).
    """
    names = list(p)
    score = np.stack([np.where(allowed[k], p[k] * value[k], -np.inf) for k in names], axis=1)
    return names, score


def pressure_gain(prm, rows, v, mean, var, veto, lever_actors, leverage) -> np.ndarray:
    """Return the forecast gain in P(all accept) from one application of each lever, (R_sub, n_levers).

    Movability times leverage: pressing party a lowers its reservation, by the mediator's expectation, by
    the lever's ``leverage`` (from the scenario); the gain is P(all accept | v_a + leverage) - P(all
    accept | v), with the mediator's current estimate, at the package just refused. A party close to yes by
    that estimate moves the joint forecast most per unit of lever (Beardsley 2011).
    """
    p = forecast_acceptance(prm, rows, v, mean, var, veto, each=True)
    p = np.where(veto, p, 1.0)
    base = np.prod(p, axis=1)
    nu = rows_of(prm.nu, rows)
    gains = []
    for a, lev in zip(lever_actors, leverage, strict=True):
        # pressing a moves a's forecast only: the others' columns are those of the base forecast
        pressed = p.copy()
        p_a = acceptance_probability(v[:, a] + lev - mean[:, a], nu[:, a], np.sqrt(var[:, a]))
        pressed[:, a] = np.where(veto[:, a], p_a, 1.0)
        gains.append(np.where(veto[:, a], np.prod(pressed, axis=1) - base, 0.0))
    return np.stack(gains, axis=1) if gains else np.zeros((v.shape[0], 0))


def record_round(state: State, prm, rnd: Round, accepted, veto, signed, blamed, lever) -> None:
    """Round diagnostics (binding party, rounds held, a way out) and the log the trace narrates."""
    rows = rnd.rows
    us = rows_of(prm.uscale, rows)
    state.binding[rows] = np.argmin(np.where(veto, rnd.S / us, np.inf), axis=1)
    state.n_rounds[rows] += 1
    state.way_out[rows] = (rnd.V - rnd.W - rnd.tau) > 0
    state.log["round"] = {
        "rows": rows,
        "X": rnd.X,
        "S": rnd.S,
        "accepted": accepted,
        "veto": veto,
        "ceasefire": rnd.ceasefire,
        "shelved": rnd.shelved,
        "vote": rnd.vote,
        "signed": signed,
        "blamed": blamed,
        "lever": lever,
        "p_hat": rnd.p_hat,
        "W": rnd.W,
        "V": rnd.V,
        "tau": rnd.tau,  # demand: the effective reservation margin tau_i^eff (memo P9)
        "xi": rnd.xi,
    }


def blame(prm, rnd: Round, accepted: np.ndarray, veto: np.ndarray, failed: np.ndarray) -> np.ndarray:
    """Return the refuser furthest from yes, with the mediator's biases (memo P7b); -1 where none failed."""
    us = rows_of(prm.uscale, rnd.rows)
    score = (1.0 + prm.blame_bias) * softplus(-rnd.S / us, 0.01)
    score = np.where(veto & ~accepted, score, -np.inf)
    return np.where(failed, np.argmax(score, axis=1), -1)


def apply_lever(state: State, prm, lv, mask: np.ndarray, t: float, actor: int) -> None:
    """Apply one mediator lever to the replicates in ``mask``.

    ``support``: the mediator's own support to the belligerent it backs (an aid pause when set to 0 for a
    while); ``sanctions``: the mediator's own sanctions; ``omega``: the pressed party's text weight.
    """
    med = prm.mediator
    if lv.target == "support":
        col = state.support[:, med]
        val = lv.value if lv.op == "set" else col + lv.value if lv.op == "add" else col * lv.value
        set_support(state, mask, med, np.clip(val, 0.0, 1.5), t, t + lv.duration)
        return
    arr, col_index, box = (
        (state.omega, actor, (0.0, 1.0)) if lv.target == "omega" else (state.sanctions, med, (-0.5, 1.5))
    )
    col = arr[:, col_index]
    new = lv.value if lv.op == "set" else col + lv.value if lv.op == "add" else col * lv.value
    arr[mask, col_index] = np.clip(new, *box)[mask]
