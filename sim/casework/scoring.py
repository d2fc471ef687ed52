"""Scoring forecasts against real outcomes, simple baselines, and calibrated variants fitted out of sample.

The yardstick is the mean absolute error on the dataset's scale (0-100 for DEU), as in Thomson et al.
(2006) and Achen (2006), who find the capability × salience weighted mean as good as or better than
strategic models on EU legislative data. Variants with fitted parameters are fitted on one half of the
cases and scored on the other (a fixed split by a hash of the proposal id, so that the issues of one
legislative proposal never straddle the split), then the halves swap.

References
----------
Thomson, R., Stokman, F. N., Achen, C. H. & König, T. (eds.) (2006). *The European Union Decides*.
Cambridge University Press.
Arregui, J. & Perarnaud, C. (2021). The Decision-Making in the European Union (DEU III) dataset.
doi:10.34810/data53.
"""

from __future__ import annotations

import hashlib
import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.optimize import linprog

from sim.casework.data import Case


def proposal_id(case: str) -> str:
    """Proposal part of a DEU case id (``d00060i2`` -> ``d00060``); other ids are returned unchanged."""
    return re.sub(r"i\d+$", "", case)


def half_of(case: str) -> int:
    """Return the fixed half (0 or 1) of a case: SHA-256 of its proposal id, modulo 2 (stable across runs)."""
    return int(hashlib.sha256(proposal_id(case).encode()).hexdigest(), 16) % 2


def join_outcomes(pred: pd.DataFrame, outcomes: pd.DataFrame) -> pd.DataFrame:
    """Inner-join predictions (``case,dimension,prediction``) with outcomes; add ``abs_error``."""
    m = pred.merge(outcomes, on=["case", "dimension"], how="inner")
    m["abs_error"] = (m["prediction"] - m["outcome"]).abs()
    return m


def summarise(joined: pd.DataFrame) -> dict[str, float]:
    """``n``, mean and median absolute error, and the MAE per procedure when the outcomes give one."""
    out: dict[str, float] = {
        "n": int(len(joined)),
        "mae": float(joined["abs_error"].mean()),
        "median": float(joined["abs_error"].median()),
    }
    if "procedure" in joined.columns:
        for proc, g in joined.groupby("procedure", sort=True):
            out[f"mae_{proc}"] = float(g["abs_error"].mean())
    return out


def _frame(cases: Sequence[Case], fn) -> pd.DataFrame:
    rows = []
    for c in cases:
        for d, dim in enumerate(c.dimensions):
            m = c.present(d)
            rows.append((c.name, dim, float(fn(c.position[m, d], c.capability[m], c.salience[m, d]))))
    return pd.DataFrame(rows, columns=["case", "dimension", "prediction"])


def _wmean(x, w):
    return (w * x).sum() / w.sum() if w.sum() > 0 else x.mean()


def _wmedian(x, w):
    if w.sum() <= 0:
        w = np.ones_like(x)
    order = np.argsort(x, kind="stable")
    cum = np.cumsum(w[order])
    return x[order][np.argmax(cum >= 0.5 * cum[-1])]


BASELINES = {
    "capability × salience weighted mean": lambda x, c, s: _wmean(x, c * s),
    "salience-weighted mean": lambda x, c, s: _wmean(x, s),
    "plain mean": lambda x, c, s: x.mean(),
    "capability × salience weighted median": lambda x, c, s: _wmedian(x, c * s),
    "midpoint 50": lambda x, c, s: 50.0,
}


def baseline_predictions(cases: Sequence[Case]) -> dict[str, pd.DataFrame]:
    """Predict with the simple baselines of ``validation/README.md``.

    Weighted means fall back to the plain mean where every weight of a case is zero.
    """
    return {name: _frame(cases, fn) for name, fn in BASELINES.items()}


# ----------------------------------------------------------------------------------------------------------
# Variants fitted on one half, scored on the other
# ----------------------------------------------------------------------------------------------------------
@dataclass
class ProcedureWeightedMean:
    """Weighted mean with weights ``c · s^γ · m[procedure, actor]``, the multipliers fitted by grid search.

    Why: the legislative procedure is known before the outcome, and it changes who holds a veto: under
    co-decision (COD) the Parliament co-legislates, under consultation (CNS) it only gives an opinion, and
    the Commission's agenda-setting power differs (Tsebelis & Garrett 2000; Thomson et al. 2006). The
    plain compromise model gives them fixed vote-like weights. Parameters: γ and a multiplier for the
    Commission (``com``) and the Parliament (``ep``) per procedure, on a small grid.
    """

    special: tuple[str, ...] = ("com", "ep")
    gamma_grid: tuple[float, ...] = (0.0, 0.5, 1.0)
    mult_grid: tuple[float, ...] = (0.0, 0.5, 1.0, 2.0, 4.0)
    gamma: float = 1.0
    mult: dict[tuple[str, str], float] = field(default_factory=dict)

    def _arrays(self, cases: Sequence[Case], procedures: dict[str, str]):
        """Pad every case dimension to one row: positions, c, s, presence, special-actor flags, procedure."""
        rows = [(c, d) for c in cases for d in range(len(c.dimensions))]
        width = max((len(c.actors) for c in cases), default=1)
        shape = (len(rows), width)
        x, cap, sal, here = np.zeros(shape), np.zeros(shape), np.zeros(shape), np.zeros(shape, dtype=bool)
        flag = np.zeros((*shape, len(self.special)), dtype=bool)
        for r, (c, d) in enumerate(rows):
            n = len(c.actors)
            m = c.present(d)
            x[r, :n] = np.nan_to_num(c.position[:, d])
            cap[r, :n], sal[r, :n], here[r, :n] = c.capability, c.salience[:, d], m
            for k, a in enumerate(self.special):
                flag[r, :n, k] = np.asarray(c.actors) == a
        proc = np.array([procedures.get(c.name, "") for c, _ in rows], dtype=object)
        index = pd.MultiIndex.from_tuples(
            [(c.name, c.dimensions[d]) for c, d in rows], names=["case", "dimension"]
        )
        return index, x, cap, sal, here, flag, proc

    def _predict_arrays(self, arrays, gamma, mult) -> np.ndarray:
        _, x, cap, sal, here, flag, proc = arrays
        k = np.ones(x.shape)
        for j, a in enumerate(self.special):
            m = np.array([mult.get((p, a), 1.0) for p in proc])
            k = np.where(flag[..., j], m[:, None], k)
        w = np.where(here, cap * sal**gamma * k, 0.0)
        tot = w.sum(axis=1)
        plain = np.where(here, x, 0.0).sum(axis=1) / here.sum(axis=1)
        return np.where(tot > 0, (w * x).sum(axis=1) / np.where(tot > 0, tot, 1.0), plain)

    def predict(self, cases: Sequence[Case], procedures: dict[str, str]) -> pd.DataFrame:
        """Predictions for every case and dimension (``procedures``: case -> procedure)."""
        arrays = self._arrays(cases, procedures)
        pred = self._predict_arrays(arrays, self.gamma, self.mult)
        return pd.DataFrame({"prediction": pred}, index=arrays[0]).reset_index()

    def fit(self, cases: Sequence[Case], outcomes: pd.DataFrame) -> ProcedureWeightedMean:
        """Choose γ and, per procedure, the multipliers that minimise the MAE on ``cases`` (grid search)."""
        procs = outcomes.drop_duplicates("case").set_index("case")["procedure"].astype(str).to_dict()
        arrays = self._arrays(cases, procs)
        y = outcomes.set_index(["case", "dimension"])["outcome"].reindex(arrays[0]).to_numpy()
        proc = arrays[-1]
        best = (np.inf, self.gamma, dict(self.mult))
        for g in self.gamma_grid:
            mult: dict[tuple[str, str], float] = {}
            for pr in sorted(set(proc)):
                rows = proc == pr
                best_p = (np.inf, {})
                for combo in itertools.product(self.mult_grid, repeat=len(self.special)):
                    trial = {(pr, a): v for a, v in zip(self.special, combo, strict=True)}
                    e = float(np.abs(self._predict_arrays(arrays, g, trial) - y)[rows].mean())
                    if e < best_p[0] - 1e-12:
                        best_p = (e, trial)
                mult.update(best_p[1])
            e = float(np.abs(self._predict_arrays(arrays, g, mult) - y).mean())
            if e < best[0] - 1e-12:
                best = (e, g, mult)
        self.gamma, self.mult = best[1], best[2]
        return self


@dataclass
class Shrinkage:
    """``a + b · compromise``, fitted by least absolute deviations (a linear programme).

    Why: a compromise forecast that is systematically too extreme or too central would be corrected by
    b != 1 (shrinkage toward a fixed point a / (1 - b)); the fit says whether the data want it.
    """

    a: float = 0.0
    b: float = 1.0

    def fit(self, x: np.ndarray, y: np.ndarray) -> Shrinkage:
        """Minimise ``sum |y - a - b x|`` exactly (HiGHS)."""
        n = len(x)
        # variables: a, b, u (n), v (n) >= 0 ; a + b x + u - v = y ; minimise sum(u + v)
        cost = np.r_[0.0, 0.0, np.ones(2 * n)]
        a_eq = np.hstack([np.ones((n, 1)), x[:, None], np.eye(n), -np.eye(n)])
        bounds = [(None, None), (None, None)] + [(0, None)] * (2 * n)
        res = linprog(cost, A_eq=a_eq, b_eq=y, bounds=bounds, method="highs")
        if res.status == 0:
            self.a, self.b = float(res.x[0]), float(res.x[1])
        return self

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Apply the fitted line."""
        return self.a + self.b * np.asarray(x, dtype=float)


# ----------------------------------------------------------------------------------------------------------
# Grid-fitted variants (fixed before any held-out score was seen), evaluated on padded arrays
# ----------------------------------------------------------------------------------------------------------
COUNCIL_OUTSIDERS = ("com", "ep")  # DEU actor codes of the Commission and the Parliament


@dataclass(frozen=True)
class PaddedCases:
    """Every case dimension as one row of actors, padded to a common width.

    ``x`` (positions, 0 where absent), ``c`` (capabilities), ``s`` (saliences), ``here`` (actor has a
    position), ``actor`` (actor names, "" where padded); ``index`` is the (case, dimension) of each row.
    """

    index: pd.MultiIndex
    x: np.ndarray
    c: np.ndarray
    s: np.ndarray
    here: np.ndarray
    actor: np.ndarray

    @classmethod
    def from_cases(cls, cases: Sequence[Case]) -> PaddedCases:
        """Pad a list of cases (any number of dimensions each; the weighting is per dimension)."""
        rows = [(c, d) for c in cases for d in range(len(c.dimensions))]
        width = max((len(c.actors) for c in cases), default=1)
        shape = (len(rows), width)
        x, cap, sal = np.zeros(shape), np.zeros(shape), np.zeros(shape)
        here, actor = np.zeros(shape, dtype=bool), np.full(shape, "", dtype=object)
        for r, (c, d) in enumerate(rows):
            n = len(c.actors)
            m = c.present(d)
            x[r, :n] = np.where(m, c.position[:, d], 0.0)
            cap[r, :n], sal[r, :n], here[r, :n] = c.capability, c.salience[:, d], m
            actor[r, :n] = c.actors
        index = pd.MultiIndex.from_tuples(
            [(c.name, c.dimensions[d]) for c, d in rows], names=["case", "dimension"]
        )
        return cls(index, x, cap, sal, here, actor)

    def outcomes(self, outcomes: pd.DataFrame) -> np.ndarray:
        """Outcome of every row (NaN where the outcomes table has none)."""
        return outcomes.set_index(["case", "dimension"])["outcome"].reindex(self.index).to_numpy(float)

    def plain_mean(self) -> np.ndarray:
        """Unweighted mean of the present actors' positions, per row."""
        return np.where(self.here, self.x, 0.0).sum(axis=1) / self.here.sum(axis=1)

    def weighted_mean(self, w: np.ndarray) -> np.ndarray:
        """Weighted mean of positions per row (``w``: (..., rows, width)); plain mean where all weights are 0.

        The same arithmetic and the same fallback as :func:`sim.engines.compromise.compromise`.
        """
        w = np.where(self.here, w, 0.0)
        tot = w.sum(axis=-1)
        num = (w * self.x).sum(axis=-1)
        safe = tot > 0
        return np.where(safe, num / np.where(safe, tot, 1.0), self.plain_mean())


class GridVariant:
    """A forecast rule with a small parameter grid, fitted by minimising the MAE over the grid.

    Subclasses give ``grid`` (parameter tuples, in a fixed order), ``names`` (parameter names) and
    ``rule(padded, params)``: predictions (P, rows) for a (P, k) array of parameter values. Fitting picks
    the first grid point with the smallest MAE, so that the evaluation harness can fit thousands of splits
    at once from one prediction matrix (:func:`sim.casework.outofsample.out_of_sample`).
    """

    label = ""
    names: tuple[str, ...] = ()
    grid: tuple[tuple[float, ...], ...] = ()
    params: tuple[float, ...] = ()

    def rule(self, padded: PaddedCases, params: np.ndarray) -> np.ndarray:
        """Predict every row for each parameter row of ``params`` (P, k); returns (P, rows)."""
        raise NotImplementedError

    def grid_predictions(self, padded: PaddedCases) -> np.ndarray:
        """Predictions (len(grid), rows) at every grid point."""
        return self.rule(padded, np.array(self.grid, dtype=float))

    def fit(self, cases: Sequence[Case] | PaddedCases, outcomes: pd.DataFrame) -> GridVariant:
        """Choose the grid point with the smallest MAE on ``cases`` (first one on ties)."""
        padded = cases if isinstance(cases, PaddedCases) else PaddedCases.from_cases(cases)
        y = padded.outcomes(outcomes)
        ok = ~np.isnan(y)
        if not ok.any():
            raise ValueError("no outcome for any of the cases to fit on")
        err = np.abs(self.grid_predictions(padded)[:, ok] - y[ok]).mean(axis=1)
        self.params = tuple(float(v) for v in self.grid[int(np.argmin(err))])
        return self

    def predict_array(self, padded: PaddedCases) -> np.ndarray:
        """Predictions per row at the fitted parameters."""
        return self.rule(padded, np.array([self.params], dtype=float))[0]

    def predict(self, cases: Sequence[Case] | PaddedCases) -> pd.DataFrame:
        """``case,dimension,prediction`` at the fitted parameters."""
        padded = cases if isinstance(cases, PaddedCases) else PaddedCases.from_cases(cases)
        return pd.DataFrame({"prediction": self.predict_array(padded)}, index=padded.index).reset_index()

    def param_dict(self) -> dict[str, float]:
        """Fitted parameters by name."""
        return dict(zip(self.names, self.params, strict=True))


class WeightShrinkage(GridVariant):
    """Compromise weights shrunk toward equal weights: ``λ · (c·s)/Σ(c·s) + (1 − λ) / n``.

    Why: capability × salience weights are noisy estimates (saliences in DEU are expert judgements on a
    coarse scale, Achen 2006), and a combination of forecasts with weights shrunk toward equal weights
    usually beats the "optimal" weights estimated from few cases (Bates & Granger 1969; Clemen 1989; the
    forecast-combination puzzle, Smith & Wallis 2009). Because both weight vectors sum to one, the rule is
    exactly the blend ``λ · compromise + (1 − λ) · plain mean``: λ = 1 is the compromise model, λ = 0 the
    plain mean. One parameter, λ on a grid of 21 values in [0, 1], fitted by minimising the MAE.

    References
    ----------
    Bates, J. M. & Granger, C. W. J. (1969). The combination of forecasts. *Oper. Res. Q.* 20(4), 451-468.
    Clemen, R. T. (1989). Combining forecasts: a review and annotated bibliography. *Int. J. Forecasting*
    5(4), 559-583.
    Smith, J. & Wallis, K. F. (2009). A simple explanation of the forecast combination puzzle. *Oxford
    Bull. Econ. Stat.* 71(3), 331-355.
    """

    label = "weight shrinkage"
    names = ("lambda",)
    grid = tuple((k / 20,) for k in range(21))

    def __init__(self, lam: float = 1.0):
        self.params = (float(lam),)

    @property
    def lam(self) -> float:
        """The fitted (or given) shrinkage weight λ."""
        return self.params[0]

    def rule(self, padded: PaddedCases, params: np.ndarray) -> np.ndarray:
        """Return ``λ · compromise + (1 − λ) · plain mean`` for each λ in ``params[:, 0]``."""
        lam = params[:, :1]
        comp = padded.weighted_mean(padded.c * padded.s)
        return blend(comp, padded.plain_mean(), lam)


def blend(compromise: np.ndarray, plain: np.ndarray, lam) -> np.ndarray:
    """``λ · compromise + (1 − λ) · plain``, written so that λ = 1 and λ = 0 return the inputs exactly."""
    lam = np.asarray(lam, dtype=float)
    return np.where(lam == 1.0, compromise, np.where(lam == 0.0, plain, lam * compromise + (1 - lam) * plain))


class PowerWeights(GridVariant):
    """Weighted mean with weights ``c^α · s^γ``, (α, γ) on a small grid.

    Why: the compromise model fixes both exponents at 1, but nothing in the bargaining literature pins
    them down: Achen (2006) and Thomson et al. (2006) try several weightings, and whether capability (the
    Council vote weight) or salience should count more, or less than linearly, is an empirical question.
    α = γ = 1 is the compromise model; α = γ = 0 the plain mean; γ = 0 the capability-weighted mean
    (``s^0 = 1``, also for actors with zero salience). Grid: α in {0, ½, 1, 3/2, 2}, γ in {0, ½, 1, 2}.
    """

    label = "power weights"
    names = ("alpha", "gamma")
    grid = tuple((a, g) for a in (0.0, 0.5, 1.0, 1.5, 2.0) for g in (0.0, 0.5, 1.0, 2.0))

    def __init__(self, alpha: float = 1.0, gamma: float = 1.0):
        self.params = (float(alpha), float(gamma))

    def rule(self, padded: PaddedCases, params: np.ndarray) -> np.ndarray:
        """Return the weighted mean for each (α, γ) row of ``params``."""
        a = params[:, 0, None, None]
        g = params[:, 1, None, None]
        return padded.weighted_mean(np.power(padded.c, a) * np.power(padded.s, g))


class AgendaSetterCore(GridVariant):
    """The Commission's position, moved into the Council's qualified-majority core.

    Why: in the spatial models of EU legislation the Commission sets the agenda and the Council amends
    or accepts by qualified majority, so the outcome is the point of the Council's QMV core (the interval
    no coalition holding a share τ of the votes can leave) closest to the Commission's ideal point
    (Tsebelis & Garrett 2000; Crombez 1996; Thomson 2011). Without a status quo in the data this is the
    unconditional version. The core is ``[lo, hi]``: ``lo`` the lowest member-state position with less
    than τ of the vote weight strictly above it, ``hi`` the highest with less than τ strictly below;
    the rule is symmetric, so it does not depend on which end of the scale is 0. Vote weight =
    capability (the Council vote weight in DEU); salience does not count in a vote. τ in {0.55, 0.60, …,
    1} is fitted; τ ≈ 0.71-0.74 is the treaty threshold. Without a Commission position, the core's
    midpoint; without member states, the compromise model.

    References
    ----------
    Crombez, C. (1996). Legislative procedures in the European Community. *Br. J. Polit. Sci.* 26(2),
    199-228.
    Tsebelis, G. & Garrett, G. (2000). Legislative politics in the European Union. *European Union
    Politics* 1(1), 9-36.
    Thomson, R. (2011). *Resolving Controversy in the European Union*. Cambridge University Press.
    """

    label = "agenda-setter core"
    names = ("tau",)
    grid = tuple((round(0.55 + 0.05 * k, 2),) for k in range(10))
    setter = "com"

    def __init__(self, tau: float = 0.75):
        self.params = (float(tau),)

    def core(self, padded: PaddedCases, tau) -> tuple[np.ndarray, np.ndarray]:
        """Return the ends ``lo, hi`` of the QMV core per row, for each τ (shape (len(tau), rows))."""
        tau = np.atleast_1d(np.asarray(tau, dtype=float))[:, None]
        member = padded.here & ~np.isin(padded.actor, COUNCIL_OUTSIDERS) & (padded.c > 0)
        w = np.where(member, padded.c, 0.0)
        x = padded.x
        total = w.sum(axis=1)
        above = (w[:, None, :] * (x[:, None, :] > x[:, :, None])).sum(axis=2)  # weight strictly above x_k
        below = (w[:, None, :] * (x[:, None, :] < x[:, :, None])).sum(axis=2)
        ok_lo = member[None] & (above[None] < tau[..., None] * total[None, :, None])
        ok_hi = member[None] & (below[None] < tau[..., None] * total[None, :, None])
        lo = np.where(ok_lo, x[None], np.inf).min(axis=2)
        hi = np.where(ok_hi, x[None], -np.inf).max(axis=2)
        mid = 0.5 * (lo + hi)
        crossed = lo > hi  # cannot happen for τ > ½; kept symmetric all the same
        return np.where(crossed, mid, lo), np.where(crossed, mid, hi)

    def rule(self, padded: PaddedCases, params: np.ndarray) -> np.ndarray:
        """Clip the setter's position to the core, for each τ in ``params[:, 0]``."""
        lo, hi = self.core(padded, params[:, 0])
        is_setter = padded.here & (padded.actor == self.setter)
        has = is_setter.any(axis=1)
        xs = np.where(is_setter, padded.x, 0.0).sum(axis=1) / np.maximum(is_setter.sum(axis=1), 1)
        no_members = ~np.isfinite(lo)
        lo_f, hi_f = np.where(no_members, 0.0, lo), np.where(no_members, 0.0, hi)
        pred = np.where(has, np.clip(xs, lo_f, hi_f), 0.5 * (lo_f + hi_f))
        comp = padded.weighted_mean(padded.c * padded.s)
        return np.where(no_members, comp, pred)


VARIANTS: tuple[type[GridVariant], ...] = (WeightShrinkage, PowerWeights, AgendaSetterCore)
