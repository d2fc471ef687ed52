"""Textbook bargaining protocols as alternatives to the mediated text (``scenario.structure.protocol``).

Same state, same step loop, a different P8/P9 (memo §3):

* ``attrition`` — war of attrition with complete information (Maynard Smith 1974; Hendricks, Weiss &
  Wilson 1988): each belligerent concedes at the stationary mixed-equilibrium hazard that makes the other
  indifferent, h_i = c_j / V_j, with V_j the prize (U_j of j's terms minus U_j of i's terms) and c_j j's
  flow cost of war; per-step probability 1 - exp(-h_i dt), so survival at grid points is exact (T5).
* ``alternating_offers`` — Rubinstein (1982): the belligerents alternate proposals on the round calendar
  (``round_interval_weeks``); the proposer demands the stationary subgame-perfect split, the responder
  accepts at once; delta_i = exp(-rho_i Delta) between offers (T3). With ``structure.bargainers`` naming
  n >= 3 players it is unanimity bargaining with a rotating proposer (Krishna & Serrano 1996; T8): in the
  stationary subgame-perfect equilibrium the proposer offers every other player delta_j times what j gets
  in the next round and keeps the rest.
* ``proposer`` — take-it-or-leave-it offers with one-sided private information (Fearon 1995's risk-return
  trade-off): the responder's flow cost of war is private, uniform on [0, ``private_cost_high``], drawn once
  per replicate; the proposer maximises its expected utility; the responder accepts iff the offer beats war
  (T4).

For the two-party protocols the "pie" is TERR_CTRL-like: the first issue on which the two belligerents'
ideal points differ most; utilities along it are taken as linear shares (risk-neutral textbook games), and
the agreed split is signed as a comprehensive agreement. With three or more bargainers there is no single
line to split: the signed text is the share-weighted mix of their ideal points on every issue, so a player
whose ideal is 1 on its own issue and 0 on the others' reads its share off that issue.
"""

from __future__ import annotations

import numpy as np

from sim.errors import UserError
from sim.model.state import DEAL, KIND_COMPREHENSIVE, RELAPSE, WAR, State, in_status


def _pair(prm):
    if prm.adv is None or prm.dfd is None:
        raise ValueError("textbook protocols need two belligerents (war.advancing / war.defending)")
    return prm.adv, prm.dfd


def _sign(state: State, prm, rows: np.ndarray, X: np.ndarray, t: float) -> None:
    t_end = t + prm.dt
    first = np.isnan(state.t_first[rows])
    state.t_first[rows[first]] = t_end
    state.first_kind[rows[first]] = KIND_COMPREHENSIVE
    state.t_comp[rows] = np.where(np.isnan(state.t_comp[rows]), t_end, state.t_comp[rows])
    state.X_agree[rows] = X
    state.X_text[rows] = X
    state.status[rows] = DEAL
    state.t_signed[rows] = t_end


def _pie_issue(prm) -> int:
    a, b = _pair(prm)
    gap = np.abs(prm.ideal[:, a, :] - prm.ideal[:, b, :]).mean(0)
    return int(np.argmax(gap))


def attrition(state: State, prm, u: np.ndarray, t: float) -> None:
    """War of attrition: concession hazards h_i = c_j / V_j per year; the conceder gets the other's terms."""
    a, b = _pair(prm)
    fighting = in_status(state.status, (WAR, RELAPSE))
    ideal = prm.ideal

    # prize for j: its utility at its own ideal minus at the other's ideal (quadratic, A_j)
    def prize(j, k):
        d = ideal[:, k, :] - ideal[:, j, :]
        return np.einsum("rk,rkl,rl->r", d, prm.A[:, j], d)

    c = prm.c0 * state.cost_mult
    h_a = c[:, b] / np.maximum(prize(b, a), 1e-300)  # a concedes at the rate that makes b indifferent
    h_b = c[:, a] / np.maximum(prize(a, b), 1e-300)
    p_a = -np.expm1(-h_a * prm.dy)
    p_b = -np.expm1(-h_b * prm.dy)
    con_a = fighting & (u[:, 0] < p_a)
    con_b = fighting & ~con_a & (u[:, 1] < p_b)
    for mask, winner in ((con_a, b), (con_b, a)):
        rows = np.flatnonzero(mask)
        if rows.size:
            _sign(state, prm, rows, ideal[rows, winner, :], t)
    state.log["attrition"] = {"a_conceded": con_a, "b_conceded": con_b}


def rubinstein_share(delta_p: np.ndarray, delta_r: np.ndarray) -> np.ndarray:
    """Return the proposer's stationary SPE share, (1 - d_r) / (1 - d_p d_r) (Rubinstein 1982)."""
    return (1.0 - delta_r) / (1.0 - delta_p * delta_r)


def rotating_proposer_shares(delta: np.ndarray) -> np.ndarray:
    """Stationary SPE shares of unanimity bargaining with a rotating proposer, per replicate (T8).

    Players are in proposing order 0, 1, ..., n-1, 0, ... Let x_j be j's share when it proposes. When the
    player m proposes, j (who proposes d = (j - m) mod n rounds later) is offered delta_j times its share
    in the next round, i.e. delta_j^d x_j, and the proposer keeps the rest, so for every m
    sum_j delta_j^((j - m) mod n) x_j = 1: n linear equations per replicate (Krishna & Serrano 1996; for
    n = 2 this is Rubinstein's x_A = (1 - delta_B) / (1 - delta_A delta_B)). Same fixed point as
    :func:`sim.engines.nash.rotating_proposer_shares`, solved directly and vectorised over replicates.

    Parameters
    ----------
    delta : ndarray, shape (R, n)
        Per-round discount factors in proposing order.

    Returns
    -------
    ndarray, shape (R, n)
        x_j: each player's share when it is the proposer.
    """
    R, n = delta.shape
    d = (np.arange(n)[None, :] - np.arange(n)[:, None]) % n  # d[m, j]: rounds until j proposes after m
    M = delta[:, None, :] ** d[None, :, :]
    return np.linalg.solve(M, np.ones((R, n, 1)))[..., 0]


def _bargainers(prm) -> list[int]:
    """Return the players of ``alternating_offers`` in proposing order, from ``first_proposer`` on."""
    if prm.bargainers:
        if len(set(prm.bargainers)) != len(prm.bargainers) or len(prm.bargainers) < 2:
            raise UserError("scenario.structure.bargainers: name at least two different actors")
        order = [prm.actors.index(a) for a in prm.bargainers]
    else:
        order = list(_pair(prm))
    if prm.first_proposer in prm.actors and prm.actors.index(prm.first_proposer) in order:
        i = order.index(prm.actors.index(prm.first_proposer))
        order = order[i:] + order[:i]
    return order


def alternating_offers(state: State, prm, u: np.ndarray, t: float) -> None:
    """Alternating offers on the round calendar: Rubinstein (T3), or rotating unanimity bargaining (T8)."""
    order = _bargainers(prm)
    n = len(order)
    interval = float(prm.round_interval or prm.dt)
    n_round = int(np.floor(t / interval + 1e-9))
    if not (np.floor((t + prm.dt) / interval + 1e-9) > np.floor(t / interval + 1e-9) or t == 0):
        return
    fighting = in_status(state.status, (WAR, RELAPSE))
    rows = np.flatnonzero(fighting)
    if rows.size == 0:
        return
    m = n_round % n
    delta = np.exp(-prm.rho[np.ix_(rows, order)] * interval / 52.18)  # (rows, n) in proposing order
    X = state.X_text[rows].copy()
    if n == 2:
        proposer, responder = order[m], order[1 - m]
        share = rubinstein_share(delta[:, m], delta[:, 1 - m])
        k = _pie_issue(prm)
        xp, xr = prm.ideal[rows, proposer, k], prm.ideal[rows, responder, k]
        X[:, k] = xr + share * (xp - xr)
    else:
        x = rotating_proposer_shares(delta)
        w = delta ** ((np.arange(n) - m) % n) * x  # what each gets when the m-th in order proposes
        X = np.einsum("rj,rjk->rk", w, prm.ideal[rows][:, order, :])
    state.n_rounds[rows] += 1
    _sign(state, prm, rows, X, t)


def proposer(state: State, prm, u: np.ndarray, t: float) -> None:
    """Take-it-or-leave-it offers under private costs (Fearon 1995): the risk-return trade-off (T4)."""
    a, b = _pair(prm)
    k = _pie_issue(prm)
    fighting = in_status(state.status, (WAR, RELAPSE))
    rows = np.flatnonzero(fighting)
    if rows.size == 0:
        return
    xa, xb = prm.ideal[rows, a, k], prm.ideal[rows, b, k]
    # linear shares along the pie: 1 = a's ideal, 0 = b's; war: a wins with prob p (belief), costs c
    p = prm.win_prob[rows]
    ca = prm.c0[rows, a]
    cbar = prm.private_cost_high
    demand = p + np.maximum(cbar - ca, 0.0) / 2.0 if cbar > 0 else p
    demand = np.clip(demand, 0.0, 1.0)
    cb = cbar * state.private_u[rows]
    accept = (1.0 - demand) >= (1.0 - p - cb)
    state.n_rounds[rows] += 1
    X = state.X_text[rows].copy()
    X[:, k] = xb + demand * (xa - xb)
    ok = rows[accept]
    _sign(state, prm, ok, X[accept], t)
    state.log["proposer"] = {"rows": rows, "demand": demand, "accept": accept}


def protocol_phase(state: State, prm, streams, step: int, t: float) -> None:
    """Dispatch to the selected textbook protocol (one uniform block per step from the protocol stream)."""
    u = streams.uniform("protocol", step, 2)
    if prm.protocol == "attrition":
        attrition(state, prm, u, t)
    elif prm.protocol == "alternating_offers":
        alternating_offers(state, prm, u, t)
    elif prm.protocol == "proposer":
        proposer(state, prm, u, t)
