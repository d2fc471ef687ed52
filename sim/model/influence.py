"""P7: influence: BDM pressure and concession on declared positions; temporary levers and sanctions packages.

(a) Declared positions move toward the current text (Zeuthen 1930; Harsanyi 1956 concession) at rate
eta_c e_i MHS_i and toward challengers at rate eta_p Pi_ji, where the pressure weight
Pi_ji = sigma(beta (EU_{j->i} - EU_{i->j})) 1{EU_{j->i} > 0} uses the expected utility of a challenge of
Bueno de Mesquita (1994) as formalised by Scholz, Calbert & Smith (2011) (``sim.engines.bdm_scholz``; the
probability of success in its printed form, risk-neutral exponents); ``bdm_mode: classic`` replaces the
logistic weight by the hard rule (the larger expected utility of challenge prevails). Moves are integrated
exactly over the time since the actor's last update, on the negotiation calendar (positions move when
talks happen), and are projected back along the move so that an actor never declares a position it
would itself refuse (V_i(x^_i) >= W_i + tau_i): actors may bluff, never concede past their reservation
(memo §1.5 P7a).

(b) Real leverage (coercive mediation; Beardsley 2011): levers the mediator applies after failed rounds
(the mediator agent's ``press``), temporary levers that lapse and sanctions packages on a calendar
(:func:`calendar_levers_phase`); each patron agent moves its own lifeline (memo §1.5 P7b).
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit

from sim.engines.bdm_scholz import condorcet_median, eu_challenge
from sim.engines.nash import use_compiled
from sim.model import kernels
from sim.model.commitment import deal_value
from sim.model.state import RELAPSE, WAR, State, in_status, rows_of

BISECTION_STEPS = 6


def calendar_levers_phase(state: State, prm, t: float) -> None:
    """Lapse the mediator's temporary levers and add sanctions packages on their calendars (memo P7b)."""
    lapsed = state.lever_until <= t
    if lapsed.any():
        state.support[lapsed] = state.support_hold[lapsed]
        state.lever_until[lapsed] = np.inf
    if not prm.modules["levers"]:
        return
    fighting = in_status(state.status, (WAR, RELAPSE))
    for i in np.flatnonzero((prm.package_cadence > 0) & (prm.package_increment != 0)):
        c = prm.package_cadence[i]  # packages at weeks c, 2c, 3c, ... whatever the step length
        n_pk = int(np.floor((t + prm.dt) / c + 1e-9) - np.floor(t / c + 1e-9))
        if n_pk > 0:
            col = state.sanctions[:, i]
            col[fighting] = np.minimum(col[fighting] + n_pk * prm.package_increment[i], 1.5)


def _printed_success(d: np.ndarray, w: np.ndarray) -> np.ndarray:
    """BDM's probability that x_i beats x_j, printed form, linear loss, unit range: ``P[..., i, j]``.

    The same numbers as ``prob_success(x, c, s, delta=1, r=1, mode="printed")`` of
    :mod:`sim.engines.bdm_scholz` (Bueno de Mesquita 1994; Scholz, Calbert & Smith 2011, eq. 14), computed
    without its four passes over the (..., k, i, j) vote array: with voter weights w_k = c_k s_k >= 0 the
    denominator is sum_k w_k |d_kj - d_ki| (symmetric: one matrix product over the pairs i < j) and the
    numerator, the votes for i, is half of that plus the net vote sum_k w_k (d_kj - d_ki), which needs only
    the (..., n, n) weighted distances.

    Parameters
    ----------
    d : ndarray, shape (..., n, n)
        Distances |x_k - x_a| between the actors' positions.
    w : ndarray, shape (..., n)
        Voter weights c_k s_k (non-negative).
    """
    n = d.shape[-1]
    lead = np.broadcast_shapes(d.shape[:-2], w.shape[:-1])
    w = np.broadcast_to(w, lead + (n,))
    if np.any(w < 0):  # the identity needs w >= 0; fall back to the engine's general form
        diff = w[..., :, None, None] * (d[..., :, None, :] - d[..., :, :, None])
        num, den = np.maximum(diff, 0.0).sum(axis=-3), np.abs(diff).sum(axis=-3)
    else:
        ii, jj = np.triu_indices(n, 1)  # den is symmetric with a zero diagonal: the pairs i < j suffice
        pair = (w[..., None, :] @ np.abs(d[..., jj] - d[..., ii]))[..., 0, :]
        den = np.zeros(lead + (n, n))
        den[..., ii, jj] = pair
        den[..., jj, ii] = pair
        loss = (w[..., None, :] @ d)[..., 0, :]  # sum_k w_k d_ka
        num = 0.5 * (den + loss[..., None, :] - loss[..., :, None])
    return np.divide(num, den, out=np.full_like(num, 0.5), where=den > 0)


def pressure_weights(prm, x: np.ndarray, rows) -> np.ndarray:
    """Return Pi[r, k, i, j], the BDM pressure of j on i on issue k (memo P7a); x is (R_sub, n, K)."""
    xk = np.swapaxes(x, 1, 2)  # (R_sub, K, n)
    s = np.swapaxes(prm.sal[rows], 1, 2)
    c = prm.cap[rows][:, None, :]
    d = np.abs(xk[..., :, None] - xk[..., None, :])
    P = _printed_success(d, c * s)
    d_im = None
    if prm.Q != 1.0:  # a status quo that may move: its direction is judged from the median (Scholz eq. 25b)
        d_im = np.abs(xk - condorcet_median(xk, c, s)[..., None])[..., :, None]
    E = eu_challenge(P, d, s[..., None, :], 1.0, q=prm.Q, d_im=d_im)  # E[i, j] = EU_{i->j}
    Et = np.swapaxes(E, -1, -2)  # Et[i, j] = EU_{j->i}
    n = x.shape[1]
    if prm.bdm_mode == "classic":  # hard rule: the challenger with the larger expected utility prevails
        return ((Et > E) & (Et > 0)) * (1.0 - np.eye(n))
    return expit(prm.beta_ch * (Et - E)) * (Et > 0) * (1.0 - np.eye(n))


def _moves(prm, x, X, a, eng, tau_y, rows) -> np.ndarray:
    """Positions after pressure and concession, integrated exactly over ``tau_y`` (numpy reference)."""
    Pi = pressure_weights(prm, x, rows) * eng[:, None, :, None]  # (R_sub, K, i, j)
    xk = np.swapaxes(x, 1, 2)
    pull = np.einsum("rkij,rkj->rki", Pi, xk) - Pi.sum(-1) * xk  # sum_j Pi_ij (x_j - x_i)
    drive = a[:, :, None] * (X[:, None, :] - x) + prm.eta_p * np.swapaxes(pull, 1, 2)
    rate = a[:, :, None] + prm.eta_p * np.swapaxes(Pi.sum(-1), 1, 2)
    frac = np.where(
        rate > 1e-12, -np.expm1(-rate * tau_y[:, None, None]) / np.maximum(rate, 1e-12), tau_y[:, None, None]
    )
    return np.clip(x + frac * drive, 0.0, 1.0)


def influence_phase(state: State, prm, rows: np.ndarray, t: float, mhs: np.ndarray, W: np.ndarray) -> None:
    """Move declared positions of the replicates ``rows`` (which hold a round now) (memo P7a)."""
    if not prm.modules["influence"] or rows.size == 0:
        state.t_last_influence[rows] = t
        return
    tau_y = (t - state.t_last_influence[rows]) / 52.18
    state.t_last_influence[rows] = t
    x = rows_of(state.x_decl, rows)
    X = rows_of(state.X_text, rows)
    eng = state.engaged[rows]
    a = prm.eta_c * eng * mhs[rows]  # (R_sub, n)
    if use_compiled() and prm.Q == 1.0:  # the kernel implements the risk-neutral, Q = 1 form used here
        c = lambda v: np.require(v, None, ["C", "W"])  # noqa: E731
        new = kernels.influence_moves(
            c(x), c(X), c(a.astype(float)), c(eng), c(tau_y), kernels.row_index(rows, prm.R),
            kernels.cached(prm, "sal"), kernels.cached(prm, "cap"), float(prm.beta_ch), float(prm.eta_p),
            prm.bdm_mode == "classic",
        )  # fmt: skip
    else:
        new = _moves(prm, x, X, a, eng, tau_y, rows)
    # projection along the move: never declare below one's own reservation value
    L = state.L[rows]
    thr = W + rows_of(prm.tau, rows) + rows_of(state.tau_add, rows)

    if use_compiled():
        c = lambda v: np.require(v, float, ["C", "W"])  # noqa: E731
        state.x_decl[rows] = kernels.project_moves(
            c(x), c(new), kernels.row_index(rows, prm.R), c(L), c(W), c(thr), kernels.cached(prm, "ideal"),
            kernels.kernel_params(prm), BISECTION_STEPS,
        )  # fmt: skip
        return

    state.x_decl[rows] = _project(prm, x, new, rows, L, W, thr)


def _project(prm, x, new, rows, L, W, thr) -> np.ndarray:
    """Cut moves back so no actor declares below its reservation (bisection; numpy reference)."""
    new = new.copy()

    def ok(z: np.ndarray, sub: np.ndarray) -> np.ndarray:
        # V_i evaluated at i's own declared position, for the replicates ``sub`` (positions within rows)
        return deal_value(prm, z, L[sub], W[sub], rows[sub]) >= thr[sub]

    good_new = ok(new, np.arange(len(rows)))
    bad = np.flatnonzero(~good_new.all(axis=1))  # bisect only where some actor would over-concede
    if bad.size:
        xb, nb = x[bad], new[bad]
        good_old = ok(xb, bad)
        lo = np.zeros(good_old.shape)
        hi = np.ones(good_old.shape)
        for _ in range(BISECTION_STEPS):
            mid = 0.5 * (lo + hi)
            fine = ok(xb + mid[..., None] * (nb - xb), bad)
            lo = np.where(fine, mid, lo)
            hi = np.where(fine, hi, mid)
        step = np.where(good_new[bad], 1.0, np.where(good_old, lo, 0.0))
        new[bad] = xb + step[..., None] * (nb - xb)
    return new
