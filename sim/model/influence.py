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

from sim.engines.bdm_scholz import condorcet_median
from sim.model import kernels
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


def rally_phase(state: State, prm) -> None:
    """Supporters raise their support as the advancer nears victory (module ``war_economy``; seed 002).

    While the war is on and the line is beyond a supporter's ``rally_line``, its support (and the level it
    returns to after a lever lapses) grows by ``rally_per_year`` (L - rally_line) a year, up to 1.5: an
    imminent victory of the advancer raises the aid of the defender's backers (seed 002: allies kept aiding
    Ukraine despite nuclear threats).
    """
    if not (prm.modules["war_economy"] and np.isfinite(prm.rally_line).any()):
        return
    fighting = in_status(state.status, (WAR, RELAPSE))
    push = prm.rally_rate * np.maximum(state.L[:, None] - prm.rally_line, 0.0) * prm.dy
    push = np.where(fighting[:, None] & np.isfinite(prm.rally_line), push, 0.0)
    state.support[:] = np.minimum(state.support + push, 1.5)
    state.support_hold[:] = np.minimum(state.support_hold + push, 1.5)


def issue_medians(prm, x: np.ndarray, rows) -> np.ndarray:
    """Each issue's c·s-weighted median of the declared positions x (R_sub, n, K), shape (R_sub, K).

    Where a challenge may move the status quo (Q < 1), its direction is judged from the median (Scholz,
    Calbert & Smith 2011, eq. 25b; :func:`sim.engines.bdm_scholz.condorcet_median`). Zeros when Q = 1,
    where the median is not read.
    """
    if prm.Q == 1.0:
        return np.zeros((x.shape[0], x.shape[2]))
    xk = np.swapaxes(x, 1, 2)  # (R_sub, K, n)
    c, s = prm.cap[rows][:, None, :], np.swapaxes(prm.sal[rows], 1, 2)
    return np.ascontiguousarray(condorcet_median(xk, c, s))


def _bdm_args(prm, x: np.ndarray, rows) -> tuple:
    """Return the BDM arguments of :func:`kernels.pressure_batch` and :func:`kernels.influence_moves`."""
    sal, cap = prm.kernel_array("sal"), prm.kernel_array("cap")
    return sal, cap, float(prm.beta_ch), prm.bdm_mode == "classic", float(prm.Q), issue_medians(prm, x, rows)


def pressure_weights(prm, x: np.ndarray, rows) -> np.ndarray:
    """Return Pi[r, k, i, j], the BDM pressure of j on i on issue k (memo P7a); x is (R_sub, n, K)."""
    c = lambda v: np.require(v, float, ["C", "W"])  # noqa: E731
    return kernels.pressure_batch(c(x), kernels.row_index(rows, prm.R), *_bdm_args(prm, x, rows))


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
    c = lambda v: np.require(v, None, ["C", "W"])  # noqa: E731
    idx = kernels.row_index(rows, prm.R)
    sal, cap, beta, classic, Q, median = _bdm_args(prm, x, rows)
    new = kernels.influence_moves(
        c(x), c(X), c(a.astype(float)), c(eng), c(tau_y), idx, sal, cap, beta, float(prm.eta_p), classic, Q,
        median,
    )
    # projection along the move: never declare below one's own reservation value
    thr = W + rows_of(prm.tau, rows) + rows_of(state.tau_add, rows)
    f = lambda v: np.require(v, float, ["C", "W"])  # noqa: E731
    state.x_decl[rows] = kernels.project_moves(
        f(x), f(new), idx, f(state.L[rows]), f(W), f(thr), prm.kernel_array("ideal"),
        prm.kernel, BISECTION_STEPS,
    )
