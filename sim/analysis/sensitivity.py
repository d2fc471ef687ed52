"""Global sensitivity analysis of outcome probabilities (memo §4.2, guard 5) with SALib.

Two methods, both run in the unit cube so that any model can be plugged in:

* Morris elementary-effects screening (Morris 1991; Campolongo, Cariboni & Saltelli 2007 for ``mu_star``):
  cheap (``r (k + 1)`` model runs), ranks many parameters, says nothing exact about variance.
* Sobol' first- and total-order indices (Sobol' 2001; Saltelli et al. 2010 estimators), from SALib's
  Sobol'-sequence Saltelli design (``N (k + 2)`` runs): the share of output variance each parameter
  explains alone (``S1``) and with all its interactions (``ST``).

The model is any vectorised function ``f(U) -> Y`` from an ``(n, k)`` array of unit-cube points to an
``(n, m)`` array of outputs. For negsim (:mod:`sim.analysis.negsim_model`) ``f`` maps each column through the
marginal quantile function of its parameter and runs the batch engine; the tests pass the Ishigami
function through the same code path. Inputs are treated as independent (the scenario's copula
correlations are not used here), as both methods assume.

References
----------
Morris, M. D. (1991). Factorial sampling plans for preliminary computational experiments. Technometrics 33.
Campolongo, F., Cariboni, J. & Saltelli, A. (2007). An effective screening design for sensitivity analysis of
large models. Environ. Model. Softw. 22, 1509-1518.
Sobol', I. M. (2001). Global sensitivity indices for nonlinear mathematical models and their Monte Carlo
estimates. Math. Comput. Simul. 55, 271-280.
Saltelli, A. et al. (2010). Variance based sensitivity analysis of model output. Comput. Phys. Commun. 181.
Herman, J. & Usher, W. (2017). SALib: an open-source Python library for sensitivity analysis. JOSS 2(9).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

ModelFn = Callable[[np.ndarray], np.ndarray]


def unit_problem(names: Sequence[str]) -> dict:
    """SALib problem over the unit cube for the given parameter names."""
    return {"num_vars": len(names), "names": list(names), "bounds": [[0.0, 1.0]] * len(names)}


def _as_2d(y: np.ndarray, n: int) -> np.ndarray:
    y = np.asarray(y, dtype=float)
    if y.ndim == 1:
        y = y[:, None]
    if y.shape[0] != n:
        raise ValueError(f"model returned {y.shape[0]} rows for {n} points")
    return y


def morris_indices(
    model: ModelFn,
    names: Sequence[str],
    output_names: Sequence[str],
    trajectories: int = 10,
    levels: int = 4,
    seed: int | None = None,
    paths: int | None = None,
) -> pd.DataFrame:
    """Morris screening of ``model`` over the unit cube.

    Parameters
    ----------
    paths : int, optional
        If the outputs are probabilities estimated from ``paths`` independent replicates per design
        point, also report ``noise_floor``: the ``mu_star`` a parameter with no effect at all would show
        from Monte Carlo noise alone (see :func:`noise_floor_morris`).

    Returns
    -------
    pandas.DataFrame
        One row per (parameter, output): ``mu_star``, ``mu_star_conf`` (95% bootstrap half-width),
        ``mu``, ``sigma`` (and ``noise_floor``). Elementary effects are per unit of the parameter's
        quantile (0-1) scale.
    """
    from SALib.analyze import morris as morris_analyze
    from SALib.sample import morris as morris_sample

    problem = unit_problem(names)
    X = morris_sample.sample(problem, trajectories, num_levels=levels, seed=seed)
    Y = _as_2d(model(X), X.shape[0])
    rows = []
    for j, out in enumerate(output_names):
        with warnings.catch_warnings():  # one trajectory: sigma is undefined (NaN), not an error
            warnings.simplefilter("ignore", RuntimeWarning)
            res = morris_analyze.analyze(problem, X, Y[:, j], num_levels=levels, conf_level=0.95, seed=seed)
        floor = noise_floor_morris(Y[:, j], paths, levels) if paths else None
        for i, name in enumerate(names):
            rows.append(
                {
                    "parameter": name,
                    "outcome": out,
                    "mu_star": float(res["mu_star"][i]),
                    "mu_star_conf": float(res["mu_star_conf"][i]),
                    "mu": float(res["mu"][i]),
                    "sigma": float(res["sigma"][i]),
                    **({"noise_floor": floor} if floor is not None else {}),
                }
            )
    return pd.DataFrame(rows)


def sobol_indices(
    model: ModelFn,
    names: Sequence[str],
    output_names: Sequence[str],
    samples: int = 256,
    seed: int | None = None,
    paths: int | None = None,
) -> pd.DataFrame:
    """Sobol' first- and total-order indices of ``model`` over the unit cube.

    ``samples`` is the base sample size N (a power of two keeps the Sobol' sequence balanced); the model
    is run at ``N (k + 2)`` points. With ``paths`` (outputs are probabilities from ``paths`` replicates
    per point) the table also gives ``noise_floor``, the ``ST`` of a parameter with no effect
    (:func:`noise_floor_sobol`).

    Returns
    -------
    pandas.DataFrame
        One row per (parameter, output): ``S1``, ``S1_conf``, ``ST``, ``ST_conf`` (95% bootstrap
        half-widths). Outputs with zero variance get NaN indices.
    """
    from SALib.analyze import sobol as sobol_analyze
    from SALib.sample import sobol as sobol_sample

    problem = unit_problem(names)
    X = sobol_sample.sample(problem, samples, calc_second_order=False, seed=seed)
    Y = _as_2d(model(X), X.shape[0])
    rows = []
    for j, out in enumerate(output_names):
        if np.var(Y[:, j]) == 0:
            res = {k: np.full(len(names), np.nan) for k in ("S1", "S1_conf", "ST", "ST_conf")}
        else:
            res = sobol_analyze.analyze(problem, Y[:, j], calc_second_order=False, conf_level=0.95, seed=seed)
        floor = noise_floor_sobol(Y[:, j], paths) if paths else None
        for i, name in enumerate(names):
            rows.append(
                {
                    "parameter": name,
                    "outcome": out,
                    "S1": float(res["S1"][i]),
                    "S1_conf": float(res["S1_conf"][i]),
                    "ST": float(res["ST"][i]),
                    "ST_conf": float(res["ST_conf"][i]),
                    **({"noise_floor": floor} if floor is not None else {}),
                }
            )
    return pd.DataFrame(rows)


def _mc_variance(y: np.ndarray, paths: int) -> float:
    """Average Monte Carlo variance of a frequency estimated from ``paths`` replicates.

    ``E[p_hat (1 - p_hat)] = p (1 - p) (1 - 1/P)``, so ``mean(y (1 - y)) / (P - 1)`` is unbiased for the
    average ``p (1 - p) / P``.
    """
    y = np.asarray(y, dtype=float)
    return float(np.mean(y * (1.0 - y)) / max(paths - 1, 1))


def noise_floor_morris(y: np.ndarray, paths: int, levels: int = 4) -> float:
    """``mu_star`` that Monte Carlo noise alone gives a parameter with no effect.

    An elementary effect of such a parameter is ``(e1 - e2) / Delta`` with independent errors of variance
    ``s^2`` at the two points, so ``E|EE| = 2 s / (sqrt(pi) Delta)``, ``Delta = p / (2 (p - 1))`` for ``p``
    levels (Morris 1991). Parameters whose ``mu_star`` is near this floor are indistinguishable from noise.
    """
    delta = levels / (2.0 * (levels - 1))
    return float(2.0 * np.sqrt(_mc_variance(y, paths)) / (np.sqrt(np.pi) * delta))


def noise_floor_sobol(y: np.ndarray, paths: int) -> float:
    """``ST`` that Monte Carlo noise alone gives a parameter with no effect: ``s^2 / Var(Y)``.

    The Jansen total-order estimator averages ``(f(A) - f(AB_i))^2 / 2`` over the design; with an
    independent error of variance ``s^2`` at every point each term gains ``s^2`` (Saltelli et al. 2010).
    """
    var = float(np.var(np.asarray(y, dtype=float)))
    return float(_mc_variance(y, paths) / var) if var > 0 else float("nan")


def importance_column(table: pd.DataFrame) -> str:
    """Return the ranking column of a sensitivity table (``ST``, ``mu_star``, ``share`` or ``abs_rho``).

    ``share`` is the regression estimate of a first-order variance share (:mod:`sim.analysis.evppi`).
    """
    for col in ("ST", "mu_star", "share", "abs_rho"):
        if col in table.columns:
            return col
    raise KeyError("not a sensitivity table: no ST, mu_star, share or abs_rho column")


def top_parameters(table: pd.DataFrame, outcome: str | None = None, n: int = 5) -> pd.DataFrame:
    """Return the ``n`` most influential parameters for one output (default: the table's first)."""
    out = outcome if outcome is not None else str(table["outcome"].iloc[0])
    col = importance_column(table)
    sel = table[table["outcome"] == out]
    if sel.empty:
        raise KeyError(f"no sensitivity rows for {out}")
    return sel.sort_values(col, ascending=False, na_position="last").head(n).reset_index(drop=True)
