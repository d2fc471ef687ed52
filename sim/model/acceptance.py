"""P9: acceptance: persistent reservation shocks, quantal acceptance, guarantor consent, ratification.

Each veto player accepts a text independently with P(accept_i) = sigma((V_i - W_i - tau_i^eff - xi_i) / nu_i)
(quantal response; McKelvey & Palfrey 1995; Signorino 1999), where xi_i is a persistent Ornstein-Uhlenbeck
reservation shock with exact discretisation xi' = exp(-dt/T) xi + sigma sqrt(1 - exp(-2 dt/T)) eps, so its
stationary variance is sigma^2 and its autocorrelation exp(-h/T) at any step length (memo §3, T12). The
persistent shock, not i.i.d. per-round noise, carries most of the uncertainty; otherwise P(deal) rises
with the number of rounds (the "lottery-ticket" artefact, memo §4.4). A signed comprehensive text is then
ratified (two-level games; Putnam 1988) by the instruments the scenario gives to named actors: a referendum
if territory is ceded or recognised (Ukraine's), a legislature for an Article-5-like guarantee (the US
Congress), unanimity for the sanctions and asset components (the EU's).
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit, ndtr

from sim.engines.nash import softplus
from sim.model.state import CEASEFIRE, DEAL, DEAL_PENDING, State


def ou_phase(state: State, prm, z: np.ndarray) -> None:
    """Advance the persistent reservation shocks by one step (exact OU discretisation); z (R, n) normals."""
    a = np.exp(-prm.dt / prm.T_xi)[:, None]
    state.xi[:] = a * state.xi + prm.sigma_xi * np.sqrt(-np.expm1(-2.0 * prm.dt / prm.T_xi))[:, None] * z


#: sigma(z) is close to Phi(z / 1.8) over the range that matters (the logit-probit scale factor, about 1.6 to
#: 1.8 in the literature; Amemiya 1981): the spread of a quantal tremble of scale nu as a normal one.
LOGIT_AS_PROBIT = 1.8


def acceptance_probability(
    surplus: np.ndarray, nu: np.ndarray, shock_sd: np.ndarray | None = None
) -> np.ndarray:
    """Return the chance that a veto player accepts a text, the one acceptance rule of the model (memo P9).

    The party itself knows its reservation shock (``surplus`` is net of it) and accepts with the quantal
    probability sigma(surplus / nu) (McKelvey & Palfrey 1995), a step function when nu = 0. Someone who does
    not know the shock, the mediator forecasting a round, passes its spread ``shock_sd`` (and a surplus
    gross of the shock): the quantal rule averaged over a normal shock, Phi(surplus / sqrt(sd^2 +
    (1.8 nu)^2)), by the logit-probit scaling :data:`LOGIT_AS_PROBIT`.
    """
    if shock_sd is None:
        nu = np.asarray(nu, dtype=float)
        if np.all(nu > 0):  # the usual case: no step functions to merge (the same numbers)
            return expit(surplus / nu)
        safe = np.where(nu > 0, nu, 1.0)
        return np.where(nu > 0, expit(surplus / safe), (surplus >= 0).astype(float))
    sd = np.sqrt(shock_sd**2 + (LOGIT_AS_PROBIT * nu) ** 2)
    if np.all(sd > 0):
        return ndtr(surplus / sd)
    return np.where(sd > 0, ndtr(surplus / np.where(sd > 0, sd, 1.0)), (surplus >= 0).astype(float))


def referendum_required(prm, X: np.ndarray, L: np.ndarray) -> np.ndarray:
    """Return whether the referendum is required: the text cedes held ground or recognises occupation (P9)."""
    req = np.zeros(X.shape[0], dtype=bool)
    if not prm.has_referendum:
        return req
    if prm.k_terr is not None:
        req |= X[:, prm.k_terr] > L + prm.ref_cession
    if prm.k["recognition"] is not None:
        req |= X[:, prm.k["recognition"]] >= prm.ref_recog
    return req


def referendum_pass_prob(prm, X: np.ndarray, L: np.ndarray) -> np.ndarray:
    """P(pass) = Phi((pi^pub(X) - 0.5) / sigma_poll), pi^pub a logit calibrated to KIIS Nov-Dec 2025."""
    c = prm.ref_logit
    z = np.full(X.shape[0], c.get("alpha0", 0.0))
    kk = prm.k
    if prm.k_terr is not None:
        z += c.get("beta_T", 0.0) * softplus(X[:, prm.k_terr] - L, 0.01)
    if kk["recognition"] is not None:
        z += c.get("beta_R", 0.0) * X[:, kk["recognition"]]
    if kk["guarantee"] is not None:
        z += c.get("beta_G", 0.0) * (X[:, kk["guarantee"]] - 0.67)
    if kk["army_cap"] is not None:
        z += c.get("beta_A", 0.0) * (X[:, kk["army_cap"]] - 0.5)
    return ndtr((expit(z) - 0.5) / prm.ref_sigma)


def ratification_phase(state: State, prm, u: np.ndarray, t: float) -> None:
    """Ratify pending deals whose waiting time is over; failure reverts to a ceasefire (memo P9).

    Parameters
    ----------
    u : ndarray, shape (R, 3)
        Uniforms for the referendum, the legislature and unanimity.
    """
    due = (state.status == DEAL_PENDING) & (state.pending_until <= t + prm.dt + 1e-9)
    if not due.any():
        return
    rows = np.flatnonzero(due)
    X = state.X_agree[rows]
    L = state.L[rows]
    ok = np.ones(rows.size, dtype=bool)
    if prm.has_referendum:
        need = referendum_required(prm, X, L)
        ok &= ~need | (u[rows, 0] < referendum_pass_prob(prm, X, L))
    if prm.k["guarantee"] is not None and prm.has_legislature:
        need = X[:, prm.k["guarantee"]] >= prm.legislature_guar
        p = np.clip(prm.legislature_p[rows] + state.legislature_add[rows], 0.0, 1.0)
        ok &= ~need | (u[rows, 1] < p)
    if prm.has_unanimity:
        ka = prm.k["assets"]
        back = X[:, ka] >= 0.75 if ka is not None else np.zeros(rows.size, bool)
        p = np.where(back, prm.unanimity_p_assets[rows], prm.unanimity_p_base[rows])
        ok &= u[rows, 2] < p
    t_end = t + prm.dt
    won = rows[ok]
    state.status[won] = DEAL
    state.t_comp[won] = np.where(np.isnan(state.t_comp[won]), t_end, state.t_comp[won])
    state.status[rows[~ok]] = CEASEFIRE
