"""P8/P9: settling territory by a UN-supervised status vote in the contested area (module ``status_vote``).

Seed 001 names three ways the territorial question may land: 「国連管理下での住民投票や、領土の非武装化、
あるいは問題を事実上「棚上げ」にして経済協力と安全保障を先行させる」 (a UN-supervised referendum,
demilitarising the territory, or shelving the question and putting economic cooperation and security
first). Shelving is :func:`sim.model.mediation.shelved_terms`; this module is the first.

The package is the shelving text (the line frozen where the armies stand, recognition deferred; the
guarantees, forces, army, sanctions and reconstruction as the text has them) plus a commitment by both
sides to a vote under UN supervision in the area taken since the line of 23 February 2022
(``return_line`` on the territorial scale), held once the deal is ratified. The vote is a lottery: with
probability ``p_join`` the area stays with Russia, recognised (``recognition_if_join``: both sides bound by
the result); otherwise it returns to Ukraine, recognition nothing. The precedents are plebiscites under
international supervision (the Saar, 1935; East Timor, 1999, under UNAMET), the vote Kyiv's 2025 framework
asked for on any territorial change, and the 2022 annexation votes Ukraine and the UN General Assembly
rejected (A/RES/ES-11/4) because no one supervised them.

Each party values the package by its expected utility over the two outcomes, p_join V_i(X_join) +
(1 - p_join) V_i(X_return) (von Neumann & Morgenstern 1944: a party risk-neutral in its utility), the
mediator likewise in its own view; the mediator scores it like any settlement (value 1). Ceding nothing
before the vote, it needs no national referendum (:func:`sim.model.acceptance.referendum_required`); the
vote itself settles the territory.
"""

from __future__ import annotations

import numpy as np

from sim.model.commitment import deal_values_both
from sim.model.state import CEASEFIRE, DEAL, RELAPSE, State, in_status, rows_of

VOTE_NONE, VOTE_PENDING, VOTE_JOIN, VOTE_RETURN = 0, 1, 2, 3
VOTE_LABELS = np.array(["", "pending", "stays_with_russia", "returns_to_ukraine"])


def vote_outcomes(prm, X_frozen: np.ndarray, L: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return the terms after the vote: the area stays with Russia, or returns to Ukraine, (R_sub, K) each.

    ``X_frozen`` is the package before the vote (the line frozen, recognition deferred). If the area stays,
    the territorial term is the line and recognition ``recognition_if_join``; if it returns, the
    territorial term is ``return_line`` and recognition the wartime status quo (nothing recognised).
    """
    X_join, X_return = X_frozen.copy(), X_frozen.copy()
    k_t, k_r = prm.k_terr, prm.k["recognition"]
    if k_t is not None:
        X_join[:, k_t] = L
        X_return[:, k_t] = np.minimum(prm.vote_return_line, L)
    if k_r is not None:
        X_join[:, k_r] = prm.vote_recognition_if_join
        X_return[:, k_r] = prm.x_sq[k_r]
    return X_join, X_return


def contested(prm, L: np.ndarray) -> np.ndarray:
    """Return where there is an area to vote on: the line beyond ``return_line`` by more than a tolerance."""
    return L > prm.vote_return_line + prm.retable_text_tol


def value_vote(prm, X_frozen, L, W, rows, W_m, ideal_m) -> tuple[np.ndarray, np.ndarray]:
    """Return the vote package's expected value to each party and in the mediator's view, (R_sub, n) each."""
    X_join, X_return = vote_outcomes(prm, X_frozen, L)
    V_j, V_m_j = deal_values_both(prm, X_join, L, W, rows, W_m, ideal_m)
    V_r, V_m_r = deal_values_both(prm, X_return, L, W, rows, W_m, ideal_m)
    q = rows_of(prm.vote_p_join, rows)[:, None]
    return q * V_j + (1.0 - q) * V_r, q * V_m_j + (1.0 - q) * V_m_r


def provide_vote(state: State, prm, rows: np.ndarray, with_vote: np.ndarray, t: float) -> None:
    """Record for the agreements just signed in ``rows`` whether they settle territory by the vote.

    ``with_vote`` (rows,) marks the deals that do; the vote is held once the deal is ratified and, like
    Ukraine's referendum on a territorial change, waits for the minimum ceasefire
    (``ratification.referendum.min_ceasefire_days``) when the scenario declares one. Any other agreement
    signed replaces an earlier one's vote: ``state.vote`` describes the last agreement signed.
    """
    state.vote[rows] = np.where(with_vote, VOTE_PENDING, VOTE_NONE)
    voting = rows[with_vote]
    if voting.size and prm.modules["ratification"] and prm.has_referendum:
        state.pending_until[voting] = np.maximum(state.pending_until[voting], t + prm.dt + prm.ref_min_weeks)


def status_vote_phase(state: State, prm, u: np.ndarray) -> None:
    """Hold the vote where a deal providing for one is in force; drop it where the deal failed or broke.

    ``u`` (R, 1) uniforms of the vote's own stream. ``state.vote`` becomes :data:`VOTE_JOIN` (the area
    stays with Russia) or :data:`VOTE_RETURN` (it returns to Ukraine) and the terms in force change.
    """
    pending = state.vote == VOTE_PENDING
    failed = pending & in_status(state.status, (CEASEFIRE, RELAPSE))  # ratification failed or the deal broke
    state.vote[failed] = VOTE_NONE
    due = np.flatnonzero(pending & (state.status == DEAL))
    if due.size == 0:
        return
    X_join, X_return = vote_outcomes(prm, state.X_agree[due], state.L[due])
    join = u[due, 0] < prm.vote_p_join[due]
    state.X_agree[due] = np.where(join[:, None], X_join, X_return)
    state.vote[due] = np.where(join, VOTE_JOIN, VOTE_RETURN)
