"""One adapter per engine: a :class:`~sim.casework.data.Case` in, a prediction and a history out.

The engines in :mod:`sim.engines` work on arrays; these adapters decide the per-engine conventions that a
forecast over real cases needs (scale, treatment of zero salience, what the "prediction" of a dynamic
model is) and document why.

Predictions (``docs/validation.md`` discusses the choices):

* ``compromise``: the capability × salience weighted mean (van den Bos 1991; Achen 2006).
* ``nash``: the capability-weighted Nash bargaining solution with quadratic salience-weighted losses and,
  as disagreement point, each actor's worst end of the issue scale (the data carry no status quo).
* ``bdm_scholz``: the capability × salience weighted mean of the positions after the last round, the
  statistic Scholz et al. (2011) and BDM (1994) report as the model's forecast (their "mean position").
* ``ktab_smp``: the most probable position at the last turn (KTAB's reported outcome distribution).
* ``calibrated``: the compromise model with its weights shrunk toward equal weights,
  ``λ · compromise + (1 − λ) · plain mean`` per dimension (forecast combination; Bates & Granger 1969),
  λ = :data:`CALIBRATED_LAMBDA` fitted on all of DEU III ``deu3_train``. Out of sample it is about as good
  as the compromise model, not reliably better (``docs/validation.md``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from sim.casework.data import Case
from sim.errors import UserError

ENGINES = ("compromise", "nash", "bdm_scholz", "ktab_smp", "calibrated")
# λ of the `calibrated` engine: sim.casework.scoring.WeightShrinkage().fit(cases, outcomes).lam on all of
# ../shared/validation/deu3/deu3_train.csv (the grid's first MAE minimum; 21 values in [0, 1]). Refit with
#   .venv/bin/python -m sim validate-engines
# which prints "fitted on all deu3_train, weight shrinkage: lambda=...".
# tests/test_casework_calibration.py fails if this constant and the fit on the data disagree.
CALIBRATED_LAMBDA = 0.4
KTAB_MIN_SALIENCE = 1e-6  # KTAB needs every actor to care a little (bvDiff divides by the saliences)
KTAB_MIN_CAPABILITY = 1e-9  # and to vote with a positive weight (Model::vote)


@dataclass(frozen=True)
class CaseForecast:
    """Prediction per dimension and the position history of one case.

    ``history`` has shape (T + 1, n, D) in the data's units; row 0 holds the inputs; NaN where an actor
    gives no position on a dimension. ``probabilities`` (T + 1, n), for engines that report one: the
    probability that each actor's position prevails at each turn.
    """

    case: Case
    prediction: np.ndarray
    history: np.ndarray
    probabilities: np.ndarray | None = None


def default_scale(case: Case) -> tuple[float, float]:
    """Return the issue scale of a case: 0-100 if all positions lie in [0, 100] (KTAB, DEU), else the range.

    KTAB and the Nash disagreement point need the ends of the scale, not only the spread of positions.
    """
    x = case.position[~np.isnan(case.position)]
    if x.size and x.min() >= 0 and x.max() <= 100:
        return 0.0, 100.0
    lo, hi = float(x.min()), float(x.max())
    return (lo, hi) if hi > lo else (lo, lo + 1.0)


def _weighted_mean(x, c, s):
    w = c * s
    return float((w * x).sum() / w.sum()) if w.sum() > 0 else float(x.mean())


def _compromise(case: Case, rounds: int | None, scale) -> CaseForecast:
    from sim.engines.compromise import compromise

    pred = np.empty(len(case.dimensions))
    for d in range(len(case.dimensions)):
        m = case.present(d)
        pred[d] = compromise(case.position[m, d][:, None], case.capability[m], case.salience[m, d][:, None])[
            0
        ]
    return CaseForecast(case, pred, case.position[None].copy())


def nash_1d(x: np.ndarray, c: np.ndarray, s: np.ndarray, lo: float, hi: float) -> float:
    """Capability-weighted Nash solution on one issue, disagreement at each actor's worst end of the scale.

    Utilities ``U_i = -s_i (X - x_i)^2`` on the unit scale, ``W_i = U_i(worst end)``; maximises
    ``sum_i c_i log(U_i - W_i)`` (Nash 1950; asymmetric form, Kalai 1977) with the shared solver.
    Actors with zero salience have no stake and drop out; with no stake left, the compromise answer.
    """
    from sim.engines.nash import nash_solution

    span = hi - lo
    xu = (x - lo) / span
    keep = (s > 0) & (c > 0)
    if not keep.any():
        return _weighted_mean(x, c, s)
    xu, cw, sw = xu[keep], c[keep], s[keep]
    far = np.maximum(xu, 1.0 - xu)
    a = sw[:, None, None]
    thr = -sw * far**2
    # disagreement is an end of the scale; the actor(s) at the far end of everyone have zero surplus
    # at that end only, so eps in utility units small against the scale of surpluses
    eps = 1e-4 * np.maximum(sw, 1e-12)
    xstar = nash_solution(a, xu[:, None], cw, thr, eps=eps, iters=100)
    return float(lo + span * xstar[0])


def _nash(case: Case, rounds: int | None, scale) -> CaseForecast:
    lo, hi = scale
    pred = np.empty(len(case.dimensions))
    for d in range(len(case.dimensions)):
        m = case.present(d)
        pred[d] = nash_1d(case.position[m, d], case.capability[m], case.salience[m, d], lo, hi)
    return CaseForecast(case, pred, case.position[None].copy())


def _bdm(case: Case, rounds: int | None, scale) -> CaseForecast:
    from sim.engines.bdm_scholz import simulate

    n_rounds = 10 if rounds is None else rounds
    hist = np.full((n_rounds + 1, *case.position.shape), np.nan)
    pred = np.empty(len(case.dimensions))
    for d in range(len(case.dimensions)):
        m = case.present(d)
        x, c, s = case.position[m, d], case.capability[m], case.salience[m, d]
        res = simulate(x, c, s, rounds=n_rounds)
        hist[:, m, d] = res.positions
        pred[d] = _weighted_mean(res.positions[-1], c, s)
    return CaseForecast(case, pred, hist)


def _ktab(case: Case, rounds: int | None, scale) -> CaseForecast:
    from sim.engines.ktab_smp import simulate

    if np.isnan(case.position).any():
        i, d = np.argwhere(np.isnan(case.position))[0]
        raise UserError(
            f"case {case.name!r}: actor {case.actors[i]!r} has no position on dimension "
            f"{case.dimensions[d]!r} (ktab_smp needs every actor on every dimension)"
        )
    tot = case.salience.sum(axis=1)
    if np.any(tot > 1 + 1e-9):
        i = int(np.argmax(tot))
        raise UserError(
            f"case {case.name!r}: actor {case.actors[i]!r} has saliences summing to {tot[i]:g} over the "
            f"case's dimensions (ktab_smp needs at most 1)"
        )
    lo, hi = scale
    span = hi - lo
    x = (case.position - lo) / span
    sal = np.maximum(case.salience, KTAB_MIN_SALIENCE / case.salience.shape[1])
    cap = np.maximum(case.capability, KTAB_MIN_CAPABILITY)
    kw = {} if rounds is None else {"max_turns": rounds}
    res = simulate(x, cap, sal, **kw)
    hist = lo + span * res.positions
    return CaseForecast(case, lo + span * res.most_probable_position(), hist, res.probabilities)


def _calibrated(case: Case, rounds: int | None, scale) -> CaseForecast:
    """``λ · compromise + (1 − λ) · plain mean`` per dimension over the actors present (scale-free)."""
    from sim.engines.compromise import compromise

    lam = CALIBRATED_LAMBDA
    pred = np.empty(len(case.dimensions))
    for d in range(len(case.dimensions)):
        m = case.present(d)
        x = case.position[m, d]
        comp = compromise(x[:, None], case.capability[m], case.salience[m, d][:, None])[0]
        pred[d] = comp if lam == 1.0 else lam * comp + (1.0 - lam) * x.mean()
    return CaseForecast(case, pred, case.position[None].copy())


ADAPTERS: dict[str, Callable[[Case, int | None, tuple[float, float]], CaseForecast]] = {
    "compromise": _compromise,
    "nash": _nash,
    "bdm_scholz": _bdm,
    "ktab_smp": _ktab,
    "calibrated": _calibrated,
}


def forecast_case(
    case: Case, engine: str, rounds: int | None = None, scale: tuple[float, float] | None = None
) -> CaseForecast:
    """Run one engine on one case (``rounds``: BDM rounds, default 10; KTAB maximum turns, default 100)."""
    if engine not in ADAPTERS:
        raise UserError(f"unknown engine {engine!r} (expected one of {', '.join(ENGINES)})")
    return ADAPTERS[engine](case, rounds, scale if scale is not None else default_scale(case))
