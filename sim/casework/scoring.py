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

    def predict_one(self, case: Case, procedure: str, d: int = 0) -> float:
        """Predict dimension ``d`` of one case under its procedure."""
        m = case.present(d)
        x, c, s = case.position[m, d], case.capability[m], case.salience[m, d]
        actors = np.asarray(case.actors)[m]
        k = np.array([self.mult.get((procedure, a), 1.0) for a in actors])
        return float(_wmean(x, c * s**self.gamma * k))

    def predict(self, cases: Sequence[Case], procedures: dict[str, str]) -> pd.DataFrame:
        """Predictions for every case and dimension."""
        rows = [
            (c.name, dim, self.predict_one(c, procedures.get(c.name, ""), d))
            for c in cases
            for d, dim in enumerate(c.dimensions)
        ]
        return pd.DataFrame(rows, columns=["case", "dimension", "prediction"])

    def fit(self, cases: Sequence[Case], outcomes: pd.DataFrame) -> ProcedureWeightedMean:
        """Choose γ, then the multipliers of each procedure separately, minimising the MAE on ``cases``."""
        procs = outcomes.drop_duplicates("case").set_index("case")["procedure"].astype(str).to_dict()
        y = outcomes.set_index(["case", "dimension"])["outcome"]

        def mae(model):
            p = model.predict(cases, procs).set_index(["case", "dimension"])["prediction"]
            return float((p - y.reindex(p.index)).abs().mean())

        best = (np.inf, self.gamma, dict(self.mult))
        for g in self.gamma_grid:
            trial = ProcedureWeightedMean(self.special, self.gamma_grid, self.mult_grid, g, {})
            for proc in sorted(set(procs.values())):
                sub = [c for c in cases if procs.get(c.name) == proc]
                best_p = (np.inf, {})
                for combo in itertools.product(self.mult_grid, repeat=len(self.special)):
                    mult = {(proc, a): v for a, v in zip(self.special, combo, strict=True)}
                    t2 = ProcedureWeightedMean(self.special, self.gamma_grid, self.mult_grid, g, mult)
                    p = t2.predict(sub, procs).set_index(["case", "dimension"])["prediction"]
                    e = float((p - y.reindex(p.index)).abs().mean())
                    if e < best_p[0] - 1e-12:
                        best_p = (e, mult)
                trial.mult.update(best_p[1])
            e = mae(trial)
            if e < best[0] - 1e-12:
                best = (e, g, dict(trial.mult))
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
