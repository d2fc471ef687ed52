"""Bueno de Mesquita's expected-utility ("challenge") model in the Scholz, Calbert & Smith (2011) form.

Pure numpy, vectorised over any leading batch axes: every array argument has shape ``(..., n)`` for ``n``
actors on one issue dimension (replicates, issues, ... in front). Nothing here knows of Mesa, YAML or files.

Two layers:

* primitives (votes, Condorcet median, probability of success, the utilities U_s, U_f, U_b, U_w, U_sq,
  the expected utility of a challenge, the security-based risk exponents), used by the model's influence
  phase (memo P7) and by the round engine;
* :func:`simulate`, the discrete round engine (offers of confrontation, compromise and capitulation,
  simultaneous update) in the variant that reproduces the published EC car-emissions rounds.

The variant (``mode="scholz"``) follows what the replication that reproduces Scholz's published rounds
does, which departs from the printed equations (``bdm-ktab-spec.md`` §1.4, §1.9):

* the probability of success divides by the sum of absolute votes over *all* ordered actor pairs;
* each voter raises normalised distances to its own risk exponent; the utilities of a challenge use the
  risk exponent of the actor from whose perspective it is evaluated, for both principals;
* the position range is fixed at the initial positions;
* an actor chooses, among confrontations, the one that moves it least; failing that, among compromises,
  the one with the lowest EU-weighted average position (Scholz's own ranking); capitulation, written so that
  it never fires in that code, is off unless asked for.

``mode="printed"`` uses the per-pair denominator as printed in the paper (and in memo P7).

References
----------
Bueno de Mesquita, B. (1994). Political forecasting: an expected utility method. In Bueno de Mesquita &
Stokman (eds.), *European Community Decision Making*, ch. 4. Yale University Press.
Scholz, J. B., Calbert, G. J. & Smith, G. A. (2011). Unravelling Bueno de Mesquita's group decision model.
*Journal of Theoretical Politics* 23(4), 510-531. doi:10.1177/0951629811418142.
Eftekhari, Z. & Rahimi, S. (2014). Preana: game theory based prediction with reinforcement learning.
*Natural Science* 6, 1108-1121 (the rule for T when Q < 1).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

Mode = Literal["scholz", "printed"]

__all__ = [
    "BDMResult",
    "condorcet_median",
    "distance_powers",
    "eu_challenge",
    "pairwise_votes",
    "position_range",
    "prob_success",
    "resolve_offers",
    "risk_exponents",
    "security",
    "simulate",
    "t_eftekhari",
    "u_better",
    "u_failure",
    "u_status_quo",
    "u_success",
    "u_worse",
    "weighted_mean",
]


# ----------------------------------------------------------------------------------------------------------
# Votes, median, probability of success
# ----------------------------------------------------------------------------------------------------------
def position_range(x: ArrayLike) -> NDArray[np.float64]:
    """Range of positions Δ = max x - min x over the actor axis (shape ``(...,)``).

    All distances of the model are divided by Δ (Scholz et al. 2011, §3).
    """
    x = np.asarray(x, dtype=float)
    return x.max(axis=-1) - x.min(axis=-1)


def distance_powers(x: ArrayLike, delta: ArrayLike, r: ArrayLike = 1.0) -> NDArray[np.float64]:
    """Normalised distances raised to each voter's risk exponent: ``D[..., k, a] = (|x_k - x_a| / Δ)^r_k``.

    Parameters
    ----------
    x : array (..., n)
        Positions.
    delta : array (...,)
        Position range used for normalisation (kept fixed at the initial range by the replications).
    r : array (..., n) or scalar
        Risk exponent of each voter k (BDM 2002 raises distances to r_k; r = 1 is linear loss).
    """
    x = np.asarray(x, dtype=float)
    delta = np.asarray(delta, dtype=float)
    r = np.broadcast_to(np.asarray(r, dtype=float), x.shape)
    safe = np.where(delta > 0, delta, 1.0)[..., None, None]
    d = np.abs(x[..., :, None] - x[..., None, :]) / safe
    return d ** r[..., :, None]


def _vote_parts(x, c, s, delta, r):
    """Per-voter votes ``v[..., k, i, j] = c_k s_k (D_kj - D_ki)`` for x_i over x_j (BDM 1994; Sch. §3.2)."""
    x = np.asarray(x, dtype=float)
    w = np.broadcast_to(np.asarray(c, dtype=float) * np.asarray(s, dtype=float), x.shape)
    dp = distance_powers(x, delta, r)  # (..., k, a)
    return w[..., :, None, None] * (dp[..., :, None, :] - dp[..., :, :, None]), w, dp


def pairwise_votes(
    x: ArrayLike, c: ArrayLike, s: ArrayLike, delta: ArrayLike | None = None, r: ArrayLike = 1.0
) -> NDArray[np.float64]:
    """Net votes for x_i over x_j: ``V[..., i, j] = sum_k c_k s_k (d_kj^r_k - d_ki^r_k)``.

    The vote function of Bueno de Mesquita (1994) and Scholz et al. (2011, §3.2); it is linear in the
    voters, so it is computed as a difference of weighted distance sums, without an n^3 array.
    """
    x = np.asarray(x, dtype=float)
    if delta is None:
        delta = position_range(x)
    w = np.broadcast_to(np.asarray(c, dtype=float) * np.asarray(s, dtype=float), x.shape)
    a = np.einsum("...k,...ka->...a", w, distance_powers(x, delta, r))  # weighted loss of position a
    return a[..., None, :] - a[..., :, None]


def condorcet_median(
    x: ArrayLike, c: ArrayLike, s: ArrayLike, delta: ArrayLike | None = None
) -> NDArray[np.float64]:
    """BDM's median voter position: the actor position with the largest total pairwise vote.

    With linear loss the total vote of position i against all others is ``sum_j V_ij = sum_j A_j - n A_i``
    where ``A_i = sum_k c_k s_k |x_k - x_i|``, so the Condorcet winner is the c·s-weighted median among the
    actors' positions (Black 1958; BDM 1994). Ties go to the first actor. Shape ``(...,)``.
    """
    x = np.asarray(x, dtype=float)
    w = np.broadcast_to(np.asarray(c, dtype=float) * np.asarray(s, dtype=float), x.shape)
    loss = np.einsum("...k,...ka->...a", w, np.abs(x[..., :, None] - x[..., None, :]))
    idx = np.argmin(loss, axis=-1)
    return np.take_along_axis(x, idx[..., None], axis=-1)[..., 0]


def weighted_mean(x: ArrayLike, c: ArrayLike, s: ArrayLike) -> NDArray[np.float64]:
    """Capability × salience weighted mean position (the compromise model; BDM's "mean position")."""
    x = np.asarray(x, dtype=float)
    w = np.broadcast_to(np.asarray(c, dtype=float) * np.asarray(s, dtype=float), x.shape)
    return (w * x).sum(axis=-1) / w.sum(axis=-1)


def _sum_abs_pairwise(v: NDArray[np.float64]) -> NDArray[np.float64]:
    """``sum_a sum_b |v_a - v_b|`` over the last axis in O(n log n) (sorted-rank identity)."""
    n = v.shape[-1]
    srt = np.sort(v, axis=-1)
    coef = 2.0 * np.arange(1, n + 1) - n - 1
    return 2.0 * (srt * coef).sum(axis=-1)


def prob_success(
    x: ArrayLike,
    c: ArrayLike,
    s: ArrayLike,
    delta: ArrayLike | None = None,
    r: ArrayLike = 1.0,
    mode: Mode = "scholz",
) -> NDArray[np.float64]:
    """Probability that x_i beats x_j in a contest: ``P[..., i, j]``.

    Numerator: the votes of i's supporters, ``sum_k max(0, c_k s_k (d_kj^r_k - d_ki^r_k))``.

    * ``mode="scholz"``: divided by ``sum_k sum_a sum_b |c_k s_k (d_kb^r_k - d_ka^r_k)|`` over all actor
      pairs (a, b) — the variant in Scholz's code that reproduces his published rounds; P = 0 when
      x_i = x_j. Probabilities are tiny and P_ij + P_ji != 1.
    * ``mode="printed"``: divided by ``sum_k |c_k s_k (d_kj^r_k - d_ki^r_k)|`` (Scholz et al. 2011 as
      printed; BDM 1994), so P_ij + P_ji = 1; P = 1/2 where no voter cares (x_i = x_j).
    """
    x = np.asarray(x, dtype=float)
    if delta is None:
        delta = position_range(x)
    parts, w, dp = _vote_parts(x, c, s, delta, r)
    num = np.maximum(parts, 0.0).sum(axis=-3)
    same = x[..., :, None] == x[..., None, :]
    if mode == "scholz":
        den = (w * _sum_abs_pairwise(dp)).sum(axis=-1)[..., None, None]
        p = np.divide(num, den, out=np.zeros_like(num), where=den > 0)
        return np.where(same, 0.0, p)
    if mode == "printed":
        den = np.abs(parts).sum(axis=-3)
        return np.divide(num, den, out=np.full_like(num, 0.5), where=den > 0)
    raise ValueError(f"unknown mode {mode!r} (expected 'scholz' or 'printed')")


# ----------------------------------------------------------------------------------------------------------
# Utilities (Scholz et al. 2011, eqs. 15, 16, 18, 19, 24) and the expected utility of a challenge (25a/b)
# ----------------------------------------------------------------------------------------------------------
def u_success(d: ArrayLike, r: ArrayLike = 1.0) -> NDArray[np.float64]:
    """Return the utility of a successful challenge at normalised distance d: ``2 - 4 (0.5 - 0.5 d)^r``."""
    return 2.0 - 4.0 * (0.5 - 0.5 * np.asarray(d, dtype=float)) ** np.asarray(r, dtype=float)


def u_failure(d: ArrayLike, r: ArrayLike = 1.0) -> NDArray[np.float64]:
    """Return the utility of a failed challenge at normalised distance d: ``2 - 4 (0.5 + 0.5 d)^r``."""
    return 2.0 - 4.0 * (0.5 + 0.5 * np.asarray(d, dtype=float)) ** np.asarray(r, dtype=float)


def u_better(d_im: ArrayLike, d_ij: ArrayLike, r: ArrayLike = 1.0) -> NDArray[np.float64]:
    """Return the utility when the status quo moves in i's favour: ``2 - 4 (0.5 - 0.25 (d_im + d_ij))^r``."""
    return 2.0 - 4.0 * (0.5 - 0.25 * (np.asarray(d_im, float) + np.asarray(d_ij, float))) ** np.asarray(r)


def u_worse(d_im: ArrayLike, d_ij: ArrayLike, r: ArrayLike = 1.0) -> NDArray[np.float64]:
    """Return the utility when the status quo moves against i: ``2 - 4 (0.5 + 0.25 (d_im + d_ij))^r``."""
    return 2.0 - 4.0 * (0.5 + 0.25 * (np.asarray(d_im, float) + np.asarray(d_ij, float))) ** np.asarray(r)


def u_status_quo(r: ArrayLike = 1.0) -> NDArray[np.float64]:
    """Return the utility of the status quo: ``2 - 4 (0.5)^r`` (0 for a risk-neutral actor)."""
    return 2.0 - 4.0 * 0.5 ** np.asarray(r, dtype=float)


def t_eftekhari(d_im: ArrayLike, d_ij: ArrayLike) -> NDArray[np.float64]:
    """T = 1 if |x_i - μ| < |x_i - x_j| else 0 (Eftekhari & Rahimi 2014, §2.6)."""
    return (np.asarray(d_im, float) < np.asarray(d_ij, float)).astype(float)


def eu_challenge(
    p: ArrayLike,
    d_ij: ArrayLike,
    s_j: ArrayLike,
    r: ArrayLike = 1.0,
    q: float = 1.0,
    t: ArrayLike | None = None,
    d_im: ArrayLike | None = None,
) -> NDArray[np.float64]:
    """Return the expected utility to i of challenging j (Scholz et al. 2011, eqs. 25a/b; BDM 1994).

    ``E = s_j (P U_s + (1 - P) U_f) + (1 - s_j) U_s - Q U_sq - (1 - Q)(T U_b + (1 - T) U_w)``

    Elementwise and broadcasting: the caller decides whose risk exponent ``r`` and whose probability ``p``
    enter (in the replications the evaluating actor's r is used for both principals). The target's
    salience ``s_j`` is its probability of resisting.

    Parameters
    ----------
    p : probability that i's position beats j's.
    d_ij : normalised distance |x_i - x_j| / Δ.
    s_j : salience of the target j.
    r : risk exponent of the evaluating actor.
    q : probability Q that the status quo persists absent a challenge.
    t : probability T that a status-quo move favours i; default: Eftekhari's 0/1 rule (needs ``d_im``).
    d_im : normalised distance |x_i - μ| / Δ to the median; only needed when q < 1.
    """
    p = np.asarray(p, dtype=float)
    s_j = np.asarray(s_j, dtype=float)
    us, uf = u_success(d_ij, r), u_failure(d_ij, r)
    eu = s_j * (p * us + (1.0 - p) * uf) + (1.0 - s_j) * us - q * u_status_quo(r)
    if q != 1.0:
        if d_im is None:
            raise ValueError("eu_challenge: q < 1 needs d_im, the distance of the challenger to the median")
        tt = t_eftekhari(d_im, d_ij) if t is None else np.asarray(t, dtype=float)
        eu = eu - (1.0 - q) * (tt * u_better(d_im, d_ij, r) + (1.0 - tt) * u_worse(d_im, d_ij, r))
    return eu


def _challenge_matrices(x, s, p, delta, r_eval, q, t, mu):
    """EU matrices from the receiver's view: ``E_own[i, j] = E^i(U_ij)``, ``E_other[i, j] = E^i(U_ji)``."""
    safe = np.where(delta > 0, delta, 1.0)
    d = np.abs(x[..., :, None] - x[..., None, :]) / safe[..., None, None]
    r_row = np.asarray(r_eval, dtype=float)[..., :, None]
    d_im = d_jm = None
    if q != 1.0:
        dm = np.abs(x - mu[..., None]) / safe[..., None]
        d_im, d_jm = dm[..., :, None], dm[..., None, :]
    e_own = eu_challenge(p, d, s[..., None, :], r_row, q, t, d_im)
    e_other = eu_challenge(np.swapaxes(p, -1, -2), d, s[..., :, None], r_row, q, t, d_jm)
    return e_own, e_other


def security(
    x: ArrayLike,
    c: ArrayLike,
    s: ArrayLike,
    delta: ArrayLike | None = None,
    q: float = 1.0,
    t: ArrayLike | None = None,
    mode: Mode = "scholz",
) -> NDArray[np.float64]:
    """Return the danger to each actor, ``sum_{j != i} E^j(U_ji)``, all risk exponents 1 (Scholz eq. 32).

    The more the others expect to gain by challenging i, the less secure i's position.
    """
    x = np.asarray(x, dtype=float)
    c = np.broadcast_to(np.asarray(c, dtype=float), x.shape)
    s = np.broadcast_to(np.asarray(s, dtype=float), x.shape)
    if delta is None:
        delta = position_range(x)
    delta = np.asarray(delta, dtype=float)
    p = prob_success(x, c, s, delta, 1.0, mode)
    mu = condorcet_median(x, c, s) if q != 1.0 else None
    _, e_other = _challenge_matrices(x, s, p, delta, np.ones_like(x), q, t, mu)
    n = x.shape[-1]
    return (e_other * (1.0 - np.eye(n))).sum(axis=-1)


def risk_exponents(danger: ArrayLike) -> NDArray[np.float64]:
    """Risk exponents from the danger levels (Scholz et al. 2011, eqs. 32-33; BDM 1994).

    ``R_i = (2 S_i - S_max - S_min) / (S_max - S_min)`` in [-1, 1] and ``r_i = (1 - R_i/3)/(1 + R_i/3)`` in
    [0.5, 2]: the most endangered actor (R = 1) becomes risk-acceptant (r = 0.5), the safest risk-averse
    (r = 2). Where all dangers are equal, R = 0 and r = 1.
    """
    sec = np.asarray(danger, dtype=float)
    hi, lo = sec.max(axis=-1, keepdims=True), sec.min(axis=-1, keepdims=True)
    span = hi - lo
    big_r = np.divide(2.0 * sec - hi - lo, span, out=np.zeros_like(sec), where=span > 0)
    return (1.0 - big_r / 3.0) / (1.0 + big_r / 3.0)


# ----------------------------------------------------------------------------------------------------------
# Rounds
# ----------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class BDMResult:
    """Trajectory of a BDM run.

    Attributes
    ----------
    positions : array (rounds + 1, ..., n); row 0 holds the inputs.
    risk : array (rounds, ..., n); the risk exponents r_i used in each round (round t is row t - 1).
    offer_type : int array (rounds, ..., n); 0 none, 1 confrontation, 2 compromise, 3 capitulation.
    proposer : int array (rounds, ..., n); index of the actor whose offer was accepted, -1 if none.
    """

    positions: NDArray[np.float64]
    risk: NDArray[np.float64]
    offer_type: NDArray[np.int64]
    proposer: NDArray[np.int64]


NONE, CONFRONTATION, COMPROMISE, CAPITULATION = 0, 1, 2, 3


def resolve_offers(
    x: NDArray[np.float64],
    e_own: NDArray[np.float64],
    e_other: NDArray[np.float64],
    capitulation: bool = False,
) -> tuple[NDArray[np.float64], NDArray[np.int64], NDArray[np.int64]]:
    """Each receiver i picks one offer among those it receives; returns new positions, types, proposers.

    ``e_own[i, j] = E^i(U_ij)`` (i challenging j, in i's view), ``e_other[i, j] = E^i(U_ji)``. Offer types
    (BDM 1994; Scholz et al. 2011, §1.9 of the spec):

    * confrontation, ``E_ji > E_ij > 0``: i moves to x_j;
    * compromise, ``E_ji > 0 > E_ij`` and ``E_ji > |E_ij|``: i moves to ``x_i + (x_j - x_i)|E_ij/E_ji|``;
    * capitulation, ``E_ji > 0 > E_ij`` and ``E_ji < |E_ij|``: i moves to x_j (only if ``capitulation``).

    Confrontations come first (least movement), then compromises ranked by the lowest EU-weighted average
    position ``(|E_ij| x_i + |E_ji| x_j)/(|E_ij| + |E_ji|)`` (Scholz's ranking), then capitulations (least
    movement). Ties go to the proposer listed first.
    """
    xi, xj = x[..., :, None], x[..., None, :]
    valid = xi != xj
    conf = valid & (e_other > e_own) & (e_own > 0)
    comp_base = valid & (e_other > 0) & (e_own < 0)
    comp = comp_base & (e_other > np.abs(e_own))
    cap = comp_base & (e_other < np.abs(e_own)) if capitulation else np.zeros_like(comp)
    with np.errstate(divide="ignore", invalid="ignore"):
        comp_pos = xi + (xj - xi) * np.abs(e_own / e_other)
        comp_key = (np.abs(e_own) * xi + np.abs(e_other) * xj) / (np.abs(e_own) + np.abs(e_other))
    move = np.abs(xi - xj)
    inf = np.inf

    def pick(mask, key):
        k = np.where(mask, key, inf)
        j = np.argmin(k, axis=-1)
        return mask.any(axis=-1), j

    has_conf, j_conf = pick(conf, move)
    has_comp, j_comp = pick(comp, comp_key)
    has_cap, j_cap = pick(cap, move)

    def take(a, j):
        return np.take_along_axis(a, j[..., None], axis=-1)[..., 0]

    new = np.where(
        has_conf,
        take(np.broadcast_to(xj, move.shape), j_conf),
        np.where(
            has_comp,
            take(comp_pos, j_comp),
            np.where(has_cap, take(np.broadcast_to(xj, move.shape), j_cap), x),
        ),
    )
    kind = np.where(
        has_conf, CONFRONTATION, np.where(has_comp, COMPROMISE, np.where(has_cap, CAPITULATION, NONE))
    )
    who = np.where(has_conf, j_conf, np.where(has_comp, j_comp, np.where(has_cap, j_cap, -1)))
    return new, kind.astype(np.int64), who.astype(np.int64)


def simulate(
    x0: ArrayLike,
    c: ArrayLike,
    s: ArrayLike,
    rounds: int = 10,
    q: float = 1.0,
    t: ArrayLike | None = None,
    mode: Mode = "scholz",
    capitulation: bool = False,
) -> BDMResult:
    """Run the BDM challenge model for a fixed number of rounds (Scholz et al. 2011, appendix).

    Per round: risk exponents from the security of each actor's position (all r = 1), then with the new r
    each actor evaluates the challenge with every other actor from its own perspective, picks one offer
    (:func:`resolve_offers`) and all actors move at once. There is no convergence criterion; positions can
    oscillate (the EC example does).

    Parameters
    ----------
    x0, c, s : arrays (..., n)
        Initial positions, capabilities, saliences in [0, 1]. Leading axes are independent problems.
    rounds : number of rounds (the paper uses 10).
    q, t : Q and T of eq. 25 (q = 1 as in the replications, where T drops out).
    mode : probability of success, ``"scholz"`` (reproduces the published rounds) or ``"printed"``.
    capitulation : let capitulation offers fire (the reproducing code never fires them).
    """
    x = np.asarray(x0, dtype=float).copy()
    c = np.broadcast_to(np.asarray(c, dtype=float), x.shape)
    s = np.broadcast_to(np.asarray(s, dtype=float), x.shape)
    if rounds < 0:
        raise ValueError("rounds must be >= 0")
    delta = position_range(x)  # fixed at the initial positions, as in the replications
    positions = [x.copy()]
    risks, kinds, whos = [], [], []
    for _ in range(rounds):
        r = risk_exponents(security(x, c, s, delta, q, t, mode))
        p = prob_success(x, c, s, delta, r, mode)
        mu = condorcet_median(x, c, s) if q != 1.0 else None
        e_own, e_other = _challenge_matrices(x, s, p, delta, r, q, t, mu)
        x, kind, who = resolve_offers(x, e_own, e_other, capitulation)
        positions.append(x.copy())
        risks.append(r)
        kinds.append(kind)
        whos.append(who)
    shape = (0, *x.shape)
    return BDMResult(
        positions=np.stack(positions),
        risk=np.stack(risks) if risks else np.zeros(shape),
        offer_type=np.stack(kinds) if kinds else np.zeros(shape, dtype=np.int64),
        proposer=np.stack(whos) if whos else np.zeros(shape, dtype=np.int64),
    )
