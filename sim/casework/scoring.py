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
