"""KTAB's Spatial Model of Politics (SMP) with its default parameters, in numpy.

A re-implementation of the KAPSARC Toolkit for Behavioral Analysis SMP (``smpc``), multi-dimensional,
deterministic, with the defaults of ``SMPModel::getDefaultModelParameters``: inferred risk attitudes
(BigRRange Mid), OneThird perception of others' risk, proportional voting, Linear victory probability,
Conditional probabilistic Condorcet election (PCE), SemiCommit third parties, S2P2 InitOnlyInterp
bargains, ActorQueues deterministic resolution and the 2 % stopping rule (``bdm-ktab-spec.md`` §2.4).
It reproduces KTAB's 2017-05-30 reference runs (positions every turn to the printed 0.1, probabilities
to the printed 1e-4).

Positions are on [0, 1] per dimension (KTAB divides its 0-100 inputs by 100); saliences are per actor
and dimension with a total per actor in (0, 1]; capabilities are positive. Array work is vectorised over
actors, pairs and third parties; only the turns and each actor's bargain queue are Python loops.

References
----------
Wise, B., Efird, B., Lester, L., et al. (2015-2017). KTAB: KAPSARC Toolkit for Behavioral Analysis,
`SMPLib` (smp.cpp, smpbcn.cpp) and `KBase` (kmodel.cpp). MIT licence. https://github.com/KAPSARC/KTAB
Wise, B. (2016). Markov voting with incentives in KTAB (kmodel/doc).
Efird, B., Lester, L., Wise, B., Lee, S. (2016). An Introduction to KTAB; Multidimensional Bargaining Using
KTAB. KAPSARC discussion papers.
Bueno de Mesquita, B. (1994): the target's salience as its probability of resisting a challenge.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "SMPResult",
    "bs_util",
    "bv_diff",
    "big_r_from_prob",
    "challenge",
    "cond_pce",
    "coalitions",
    "position_probabilities",
    "risk_attitudes",
    "simulate",
    "unique_positions",
]

MIN_COALITION = 1e-8  # Model::coalitions
MIN_CHALLENGE = 1e-10  # probEduChlg
MIN_SIG_EDU = 1e-5  # bestChallenge
MIN_BARGAIN_W = 1e-6  # interpBrgnSnPm
POS_TOL = 1e-3  # SMPModel::posTol (equivalent positions)


# ----------------------------------------------------------------------------------------------------------
# Building blocks
# ----------------------------------------------------------------------------------------------------------
def bv_diff(ideal: ArrayLike, pos: ArrayLike, sal: ArrayLike) -> NDArray[np.float64]:
    """Salience-weighted normalised distance ``d[i, j]`` from actor i's ideal to position j (``bvDiff``).

    ``d_ij = sqrt( sum_d (sal_id (ideal_i - pos_j)_d)^2 / sum_d sal_id^2 )``; on [0, 1] for positions on
    the unit cube. Shapes: ideal (n, D), pos (m, D), sal (n, D) -> (n, m).
    """
    ideal, pos, sal = (np.asarray(a, dtype=float) for a in (ideal, pos, sal))
    diff = ideal[:, None, :] - pos[None, :, :]
    num = ((diff * sal[:, None, :]) ** 2).sum(axis=-1)
    return np.sqrt(num / (sal**2).sum(axis=-1)[:, None])


def bs_util(d: ArrayLike, big_r: ArrayLike) -> NDArray[np.float64]:
    """Return the utility of distance d with risk attitude R in [-1, 1] (``bsUtil``): ``(1 - d)(1 + d R)``.

    R = 0 is linear, R = 1 gives 1 - d^2 (risk-averse), R = -1 gives (1 - d)^2 (risk-seeking); beyond
    d = 1 (round-off) KTAB uses (1 - d)(1 + R).
    """
    d = np.asarray(d, dtype=float)
    big_r = np.asarray(big_r, dtype=float)
    return np.where(d <= 1.0, (1.0 - d) * (1.0 + d * big_r), (1.0 - d) * (1.0 + big_r))


def coalitions(w: ArrayLike, u: ArrayLike) -> NDArray[np.float64]:
    """Coalition strengths ``C[a, b] = 1e-8 + sum_k [w_k (u_ka - u_kb)]^+`` (proportional voting).

    ``w`` (n,) voting weights, ``u`` (n, m) utility to actor k of option a. Diagonal 1e-8
    (``Model::coalitions`` with ``VotingRule::Proportional``).
    """
    w = np.asarray(w, dtype=float)
    u = np.asarray(u, dtype=float)
    v = w[:, None, None] * (u[:, :, None] - u[:, None, :])  # (k, a, b)
    c = MIN_COALITION + np.maximum(v, 0.0).sum(axis=0)
    np.fill_diagonal(c, MIN_COALITION)
    return c


def cond_pce(c: ArrayLike) -> NDArray[np.float64]:
    """Conditional probabilistic Condorcet election (``Model::condPCE`` with Linear victory probability).

    ``P(a > b) = C_ab / (C_ab + C_ba)`` (1/2 on the diagonal) and ``P(a) ∝ prod_b P(a > b)``: the
    probability that a beats every alternative, conditional on one option doing so.
    """
    c = np.asarray(c, dtype=float)
    pv = c / (c + c.T)
    p = np.prod(pv, axis=1)
    return p / p.sum()


def scalar_pce(w: ArrayLike, u: ArrayLike) -> NDArray[np.float64]:
    """Probability of each option (columns of ``u``) under weights ``w`` (``Model::scalarPCE``)."""
    return cond_pce(coalitions(w, u))


def big_r_from_prob(p: ArrayLike) -> NDArray[np.float64]:
    """Risk attitudes from option probabilities, BigRRange Mid (``Model::bigRfromProb``).

    ``R_i = (3 p_i - (p_max + 2 p_min)) / (2 (p_max - p_min))`` in [-1/2, 1]: the actor whose position is
    most likely to win is risk-averse (R = 1).
    """
    p = np.asarray(p, dtype=float)
    lo, hi = p.min(), p.max()
    if hi - lo <= 0:
        return np.zeros_like(p)
    return (3.0 * p - (hi + 2.0 * lo)) / (2.0 * (hi - lo))


def risk_attitudes(d: ArrayLike, cap: ArrayLike) -> NDArray[np.float64]:
    """Inferred risk attitudes (``SMPState::setAllAUtil``).

    A risk-neutral PCE over all actors' positions with weights = capability only, then BigRRange Mid.
    """
    u0 = bs_util(d, 0.0)
    return big_r_from_prob(scalar_pce(cap, u0))


def perceived_utilities(d: NDArray[np.float64], big_r: NDArray[np.float64]) -> NDArray[np.float64]:
    """``A[h, i, j]``: h's estimate of the utility to i of j's position, BigRAdjust OneThird.

    h estimates i's risk attitude as ``(2 R_h + R_i) / 3`` (so ``A[h, h, :]`` uses h's own R).
    """
    r_hi = (2.0 * big_r[:, None] + big_r[None, :]) / 3.0
    return bs_util(d[None, :, :], r_hi[:, :, None])


def challenge(
    a: NDArray[np.float64], cap: NDArray[np.float64], s_tot: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Each actor's own estimate of challenging every other actor (``probEduChlg(i, i, i, j)``).

    Returns ``(P, dEU)``, both (n, n): i's estimate of the probability that i beats j and of i's gain in
    utility from challenging j compared with the status quo. Principals vote with weight ``s c`` (total
    salience times capability); each third party n weighs in on the little three-actor contest, with
    SemiCommit utilities, against the principals-only base; the target's salience is its probability of
    resisting (BDM 1994): ``EU = (1 - s_j) 2U_ii + s_j (P 2U_ii + (1 - P) 2U_ij)``, minus ``U_ii + U_ij``.
    """
    n = a.shape[0]
    idx = np.arange(n)
    w = s_tot * cap
    au = np.einsum("iij->ij", a)  # A[i, i, j]: i's utility of j's position (own view)
    a_ji = np.einsum("iji->ij", a)  # A[i, j, i]: i's estimate of j's utility of i's position
    a_jj = np.einsum("ijj->ij", a)  # A[i, j, j]
    uii = au.diagonal()[:, None]
    uij = au
    ci = w[:, None] * (uii - uij)
    cj = w[None, :] * (a_ji - a_jj)
    chij0 = MIN_CHALLENGE + np.maximum(ci, 0) + np.maximum(cj, 0)
    chji0 = MIN_CHALLENGE + np.maximum(-ci, 0) + np.maximum(-cj, 0)
    # third parties: T[i, j, n] with h = i
    uni = a_ji[:, None, :]  # A[i, n, i] as (i, 1, n)
    unj = np.swapaxes(a, 1, 2)  # A[i, n, j] as (i, j, n)
    unn = a_jj[:, None, :]  # A[i, n, n] as (i, 1, n)
    wn = w[None, None, :]
    vn = wn * (uni - unj)
    cni = chij0[:, :, None] + np.maximum(vn, 0)
    cnj = chji0[:, :, None] + np.maximum(-vn, 0)
    pin = cni / (cni + cnj)
    u_ik_j = pin * (2 * uni + unn) + (1 - pin) * (3 * unj)
    u_i_jk = pin * (3 * uni) + (1 - pin) * (2 * unj + unn)
    vt = wn * (u_ik_j - u_i_jk)
    third = np.ones((n, n, n), dtype=bool)
    third[idx, :, idx] = False  # n == i
    third[:, idx, idx] = False  # n == j
    vt = np.where(third, vt, 0.0)
    chij = chij0 + np.maximum(vt, 0).sum(axis=-1)
    chji = chji0 + np.maximum(-vt, 0).sum(axis=-1)
    p = chij / (chij + chji)
    eu_vict = 2 * uii
    eu_cntst = p * 2 * uii + (1 - p) * 2 * uij
    sj = s_tot[None, :]
    eu_chlg = (1 - sj) * eu_vict + sj * eu_cntst
    deu = eu_chlg - (uii + uij)
    np.fill_diagonal(deu, -np.inf)
    return p, deu


def _round4(x: NDArray[np.float64]) -> NDArray[np.float64]:
    """KTAB's ``round4``: ``(int)(0.5 + 1e4 x) / 1e4`` (truncation toward zero of x + 0.5e-4)."""
    return np.trunc(0.5 + x * 1e4) / 1e4


def interp_bargain(
    xi: NDArray[np.float64],
    xj: NDArray[np.float64],
    si: NDArray[np.float64],
    sj: NDArray[np.float64],
    p: NDArray[np.float64],
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """S2P2 bargain per dimension (``interpBrgnSnPm(2, 2)``), from the initiator's probability p.

    ``w_i = s_i^2 p^2``, ``w_j = s_j^2 (1 - p)^2``; the initiator's point
    ``((w_i + 1e-6) x_i + w_j x_j) / (w_i + 1e-6 + w_j)``, the receiver's
    ``(w_i x_i + (w_j + 1e-6) x_j) / (w_i + 1e-6 + w_j)``, both rounded to 1e-4.
    """
    wi = si**2 * p[..., None] ** 2
    wj = sj**2 * (1 - p[..., None]) ** 2
    den = wi + MIN_BARGAIN_W + wj
    bi = _round4(((wi + MIN_BARGAIN_W) * xi + wj * xj) / den)
    bj = _round4((wi * xi + (MIN_BARGAIN_W + wj) * xj) / den)
    return bi, bj


def unique_positions(x: ArrayLike, tol: float = POS_TOL) -> tuple[list[int], NDArray[np.int64]]:
    """Return indices of unique positions (first of each equivalence class, Euclidean distance < tol).

    Returns ``(uniq, owner)``: ``owner[i]`` is the index into ``uniq`` of actor i's position (the last
    equivalent unique position, as ``State::posProb`` scans).
    """
    x = np.asarray(x, dtype=float)
    dist = np.sqrt(((x[:, None, :] - x[None, :, :]) ** 2).sum(axis=-1))
    uniq: list[int] = []
    for i in range(x.shape[0]):
        if not any(dist[i, u] < tol for u in uniq):
            uniq.append(i)
    eq = dist[:, uniq] < tol
    owner = (len(uniq) - 1 - np.argmax(eq[:, ::-1], axis=1)).astype(np.int64)
    return uniq, owner


def position_probabilities(a: NDArray[np.float64], x: NDArray[np.float64], cap: NDArray[np.float64]):
    """Probability of each actor's position winning (``SMPState::pDist(-1)`` then ``posProb``).

    A PCE over the unique positions, each actor voting with its own utilities ``A[i, i, :]`` and weight
    equal to its capability. Co-located actors share a number, so the values can sum to more than 1.
    """
    n = x.shape[0]
    uniq, owner = unique_positions(x)
    idx = np.arange(n)
    u = a[idx, idx, :][:, uniq]
    p = scalar_pce(cap, u)
    return p[owner]


# ----------------------------------------------------------------------------------------------------------
# Turns
# ----------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SMPResult:
    """Trajectory of an SMP run.

    Attributes
    ----------
    positions : array (T + 1, n, D); row 0 holds the inputs, on the [0, 1] scale.
    probabilities : array (T + 1, n); at each turn, the probability that actor i's position wins.
    risk : array (T + 1, n); inferred risk attitudes R_i at each turn.
    fractional_change : array (T,); KTAB's stopping statistic after each turn.
    """

    positions: NDArray[np.float64]
    probabilities: NDArray[np.float64]
    risk: NDArray[np.float64]
    fractional_change: NDArray[np.float64]

    @property
    def turns(self) -> int:
        """Number of turns run."""
        return self.positions.shape[0] - 1

    def most_probable_position(self, turn: int = -1) -> NDArray[np.float64]:
        """Return the position (D,) with the highest probability at a turn (default: the last)."""
        i = int(np.argmax(self.probabilities[turn]))
        return self.positions[turn, i]


def _state_dist(x1: NDArray[np.float64], x2: NDArray[np.float64]) -> float:
    """``SMPModel::stateDist``: sum over actors of the Euclidean change of position."""
    return float(np.sqrt(((x1 - x2) ** 2).sum(axis=-1)).sum())


def _turn(x, cap, sal, s_tot):
    """One SMP turn from positions x: risk, perceived utilities, challenges, bargains, resolution."""
    n = x.shape[0]
    idx = np.arange(n)
    d = bv_diff(x, x, sal)
    big_r = risk_attitudes(d, cap)
    a = perceived_utilities(d, big_r)
    prob_now = position_probabilities(a, x, cap)
    p, deu = challenge(a, cap, s_tot)
    # best target: first j with the largest gain above the significance threshold
    ok = deu > MIN_SIG_EDU
    masked = np.where(ok, deu, -np.inf)
    target = np.argmax(masked, axis=1)
    has = ok.any(axis=1)
    inits = idx[has]
    rcvrs = target[has]
    p_best = p[inits, rcvrs]
    b_init, b_rcvr = interp_bargain(x[inits], x[rcvrs], sal[inits], sal[rcvrs], p_best)
    # utility of every bargain to every actor: (1/N)[u_a(b_init) + u_a(b_rcvr) + sum of other positions]
    own = a[idx, idx, :]  # own[a, m] = A[a, a, m]
    sq_util = own.sum(axis=1) / n  # (actor,)
    if inits.size:
        u_bi = bs_util(bv_diff(x, b_init, sal), big_r[:, None])  # (actor, bargain)
        u_br = bs_util(bv_diff(x, b_rcvr, sal), big_r[:, None])
        rest = own.sum(axis=1)[:, None] - own[:, inits] - own[:, rcvrs]
        brg_util = (u_bi + u_br + rest) / n
    new_x = x.copy()
    for k in range(n):
        # queue order as KTAB builds it: offers from lower-index initiators, then k's SQ, then k's own
        # offer, then offers from higher-index initiators
        members = [m for m in range(inits.size) if inits[m] == k or rcvrs[m] == k]
        before = [m for m in members if inits[m] < k]
        after = [m for m in members if inits[m] >= k]
        ordered = [*before, -1, *after]
        u = np.column_stack([sq_util if m < 0 else brg_util[:, m] for m in ordered])
        pk = scalar_pce(cap, u)
        m = ordered[int(np.argmax(pk))]
        if m >= 0:
            new_x[k] = b_init[m] if inits[m] == k else b_rcvr[m]
    return new_x, big_r, prob_now


def simulate(
    x0: ArrayLike,
    cap: ArrayLike,
    sal: ArrayLike,
    max_turns: int = 100,
    min_turns: int = 2,
    min_delta_ratio: float = 0.02,
    fixed_turns: int | None = None,
) -> SMPResult:
    """Run the SMP from positions ``x0`` until KTAB's stopping rule (``smpStopFn``) fires.

    Stops after turn t >= ``min_turns`` when ``dist(x_t, x_{t-1}) / (dist(x_1, x_0) + 1e-4) < 0.02``
    (sum over actors of Euclidean moves), or at ``max_turns``. ``fixed_turns`` overrides the rule.

    Parameters
    ----------
    x0 : array (n, D) or (n,)
        Positions on [0, 1].
    cap : array (n,)
        Capabilities (> 0).
    sal : array (n, D) or (n,)
        Saliences per dimension, each actor's total in (0, 1].
    """
    x = np.asarray(x0, dtype=float)
    if x.ndim == 1:
        x = x[:, None]
    sal = np.asarray(sal, dtype=float).reshape(x.shape)
    cap = np.asarray(cap, dtype=float)
    n = x.shape[0]
    if cap.shape != (n,):
        raise ValueError(f"cap must have shape ({n},), got {cap.shape}")
    if np.any(cap <= 0):
        raise ValueError("ktab_smp: capabilities must be positive")
    if np.any(sal < 0) or np.any((sal**2).sum(axis=1) <= 0):
        raise ValueError("ktab_smp: every actor needs a positive salience on some dimension")
    s_tot = sal.sum(axis=1)
    if np.any(s_tot > 1.0 + 1e-9):
        raise ValueError("ktab_smp: an actor's saliences must sum to at most 1")
    positions, risks, probs, frac = [x.copy()], [], [], []
    t = 0
    d01 = None
    limit = fixed_turns if fixed_turns is not None else max_turns
    while t < limit:
        new_x, big_r, prob_now = _turn(x, cap, sal, s_tot)
        risks.append(big_r)
        probs.append(prob_now)
        t += 1
        positions.append(new_x)
        if d01 is None:
            d01 = _state_dist(positions[0], positions[1]) + 1e-4
        ratio = _state_dist(new_x, x) / d01
        frac.append(ratio)
        x = new_x
        if fixed_turns is None and t >= min_turns and ratio < min_delta_ratio:
            break
    # the final state's risk attitudes and probabilities
    d = bv_diff(x, x, sal)
    big_r = risk_attitudes(d, cap)
    risks.append(big_r)
    probs.append(position_probabilities(perceived_utilities(d, big_r), x, cap))
    return SMPResult(
        positions=np.stack(positions),
        probabilities=np.stack(probs),
        risk=np.stack(risks),
        fractional_change=np.asarray(frac),
    )
