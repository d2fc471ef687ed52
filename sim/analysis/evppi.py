"""What is worth finding out: EVPPI and variance shares from the draws a run already stored, no extra runs.

A run's replicates pair each parameter draw ``theta`` with an outcome ``Y`` (1 if the outcome holds at a
horizon). The conditional mean g(phi) = E[Y | phi] of one parameter, or a group, ``phi`` is estimated by
non-parametric regression of ``Y`` on ``phi`` over all replicates (Strong, Oakley & Brennan 2014): a cubic
regression spline in each input with a ridge penalty chosen by generalised cross-validation
(scikit-learn's ``SplineTransformer`` and ``RidgeCV``), additive over the inputs of a group (Strong et al.
use a GAM; the additive form drops interactions inside a group, which makes a group's value a lower
bound).

* Without a decision, each parameter's (or group's) **share** of the outcome probability's variance is
  Var(g(phi)) / Var_theta(E[Y | theta]), the first-order variance share (Sobol' 1993; Saltelli et al. 2008)
  of the part of the variance the assumptions explain. The denominator removes the simulation's own
  noise: Var(Y) minus the mean within-draw variance over the run's paths.
* With a decision between options run with common random numbers (the same seed, so the same draws of
  every parameter the options share), each option d has a net benefit NB_d (the outcome's indicator) and
  EVPPI(phi) = E_phi[max_d g_d(phi)] - max_d E[NB_d] (Strong et al. 2014, eq. 6): what knowing phi before
  choosing would be worth, in probability points of the outcome. It is zero when the same option is best
  whatever phi is.

References
----------
Strong, M., Oakley, J. E. & Brennan, A. (2014). Estimating multiparameter partial expected value of
perfect information from a probabilistic sensitivity analysis sample: a nonparametric regression approach.
Medical Decision Making 34(3), 311-326.
Sobol', I. M. (1993). Sensitivity estimates for nonlinear mathematical models. Math. Modeling Comput.
Experiment 1, 407-414.
Saltelli, A. et al. (2008). Global Sensitivity Analysis: The Primer. Wiley.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from sklearn.linear_model import RidgeCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import SplineTransformer

from sim.analysis.rundir import PARAM_PREFIX, param_columns

#: Groups of assumptions an analyst asks about, as patterns over parameter paths (fnmatch).
DEFAULT_GROUPS: dict[str, tuple[str, ...]] = {
    "Russia's patience": ("actors.RU.discount_rate_per_year",),
    "Russia's belief about the front and Western fatigue": ("beliefs.drift_prior_mean.RU",
                                                            "beliefs.support_fatigue_per_year.RU"),
    "the guarantee's credibility": ("commitment.guarantee_credibility",
                                    "commitment.perceived.UA.h0_per_year"),
    "Ukraine's reservation": ("actors.UA.accept.tau", "actors.UA.discount_rate_per_year"),
    "Russia's war economy": ("actors.RU.economy.*",),
    "the reservation shocks": ("acceptance_noise.*",),
    "a NATO-Russia clash": ("events.NATO_RU_CLASH.annual_prob",),
}
RIDGE_ALPHAS = np.logspace(-4, 3, 15)
N_KNOTS = 6
#: At most this many inputs in one group's additive fit.
MAX_GROUP_INPUTS = 8
#: Random inputs whose chance shares make the noise floor, and their fixed seed (the floor is reproducible).
NOISE_REPEATS, NOISE_SEED = 5, 20140301


def conditional_mean(phi: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Return the fitted E[y | phi] at each row: an additive penalised cubic spline in the columns of ``phi``.

    ``phi`` (N,) or (N, k); inputs are ranked to (0, 1) first, so skewed priors (lognormal rates) get knots
    where their draws are.
    """
    X = np.asarray(phi, dtype=float)
    X = X.reshape(len(X), -1)
    ranks = (pd.DataFrame(X).rank(method="average").to_numpy() - 0.5) / len(X)
    model = make_pipeline(SplineTransformer(n_knots=N_KNOTS, degree=3), RidgeCV(alphas=RIDGE_ALPHAS))
    model.fit(ranks, np.asarray(y, dtype=float))
    return model.predict(ranks)


def explained_variance(runs: pd.DataFrame, y: np.ndarray) -> float:
    """Var_theta(E[Y | theta]): the variance of ``y`` less the mean within-draw (path) variance."""
    s = pd.Series(np.asarray(y, dtype=float), index=runs.index)
    within = s.groupby(runs["draw"].to_numpy()).var(ddof=1).mean()
    total = float(s.var(ddof=1))
    return max(total - (float(within) if np.isfinite(within) else 0.0), 0.0)


def numeric_parameters(runs: pd.DataFrame) -> list[str]:
    """Parameter paths (without ``param.``) whose columns are numeric and vary across draws."""
    out = []
    for c in param_columns(runs):
        col = runs[c]
        if pd.api.types.is_numeric_dtype(col) and col.nunique() > 1:
            out.append(c[len(PARAM_PREFIX):])
    return out


def group_members(params: Sequence[str], patterns: Sequence[str]) -> list[str]:
    """Return the parameters a group's patterns match, in the run's order."""
    return [p for p in params if any(fnmatch.fnmatchcase(p, pat) for pat in patterns)]


def _targets(groups: Mapping[str, Sequence[str]] | None, params: list[str]) -> dict[str, list[str]]:
    out = {p: [p] for p in params}
    for name, patterns in (DEFAULT_GROUPS if groups is None else groups).items():
        members = group_members(params, patterns)
        if len(members) > 1:  # a group of one is the parameter's own row
            out[f"group: {name}"] = members[:MAX_GROUP_INPUTS]
    return out


def per_draw(runs: pd.DataFrame, values: np.ndarray) -> tuple[pd.DataFrame, np.ndarray]:
    """Return the draws' parameters (a row per draw) and the mean of ``values`` (N,) or (N, D) over paths.

    Every draw of a run has the same number of paths, so regressing the draws' means on their parameters
    estimates the same conditional mean as regressing the replicates, on P times fewer rows.
    """
    draw = runs["draw"].to_numpy()
    frame = pd.DataFrame(np.asarray(values, dtype=float).reshape(len(runs), -1))
    means = frame.groupby(draw, sort=True).mean().to_numpy()
    params = runs.groupby("draw", sort=True)[param_columns(runs)].first()
    return params, means


def variance_shares(runs: pd.DataFrame, y: np.ndarray,
                    groups: Mapping[str, Sequence[str]] | None = None) -> pd.DataFrame:  # fmt: skip
    """Each parameter's and group's share of the variance the assumptions explain, largest first.

    Returns ``parameter`` (a path or ``group: NAME``), ``members``, ``share`` (0-1; may exceed the others'
    sum, since shares of correlated inputs and of groups overlap) and ``explained`` (the denominator).
    """
    params = numeric_parameters(runs)
    denom = explained_variance(runs, y)
    draws, means = per_draw(runs, y)
    rows = []
    for name, members in _targets(groups, params).items():
        g = conditional_mean(draws[[PARAM_PREFIX + m for m in members]].to_numpy(dtype=float), means[:, 0])
        share = float(np.var(g, ddof=1) / denom) if denom > 0 else float("nan")
        rows.append({"parameter": name, "members": ", ".join(members), "share": min(share, 1.0),
                     "explained": denom})  # fmt: skip
    out = pd.DataFrame(rows, columns=["parameter", "members", "share", "explained"])
    out["noise_floor"] = noise_floor(means[:, 0], denom)
    return out.sort_values("share", ascending=False, na_position="last").reset_index(drop=True)


def noise_floor(means: np.ndarray, denom: float, repeats: int = NOISE_REPEATS) -> float:
    """Return the share an input unrelated to the outcome gets by chance (the mean over random inputs).

    The spline fits some of the draws' Monte Carlo noise whatever its input; a share near this floor says
    nothing (the role of the dummy parameter in Sobol' analyses; Saltelli et al. 2008).
    """
    if not denom > 0:
        return float("nan")
    rng = np.random.default_rng(NOISE_SEED)
    shares = [np.var(conditional_mean(rng.random(len(means)), means), ddof=1) / denom for _ in range(repeats)]
    return float(np.mean(shares))


def evppi(phi: np.ndarray, net_benefits: np.ndarray) -> float:
    """EVPPI of ``phi`` for options with per-replicate ``net_benefits`` (N, D) (Strong et al. 2014, eq. 6)."""
    nb = np.asarray(net_benefits, dtype=float)
    fitted = np.column_stack([conditional_mean(phi, nb[:, d]) for d in range(nb.shape[1])])
    return max(float(np.mean(fitted.max(axis=1)) - nb.mean(axis=0).max()), 0.0)


def decision_table(option_runs: Mapping[str, pd.DataFrame], outcome_of,
                   groups: Mapping[str, Sequence[str]] | None = None) -> pd.DataFrame:  # fmt: skip
    """EVPPI of every parameter and group for choosing among ``option_runs`` (run with the same seed).

    ``outcome_of(runs)`` gives each replicate's net benefit. The options must hold the same replicates
    (draw, path) and the same values of every parameter ranked; those that differ between options (the
    decision itself) are left out.
    """
    names = list(option_runs)
    first = option_runs[names[0]]
    for name in names[1:]:
        other = option_runs[name]
        if len(other) != len(first) or not (other[["draw", "path"]].to_numpy() == first[["draw", "path"]]
                                            .to_numpy()).all():  # fmt: skip
            raise ValueError(f"option '{name}' does not hold the same replicates as '{names[0]}' (run every "
                             "option with the same --seed and --runs)")
    shared = [p for p in numeric_parameters(first)
              if all(PARAM_PREFIX + p in r.columns and np.array_equal(r[PARAM_PREFIX + p].to_numpy(),
                                                                      first[PARAM_PREFIX + p].to_numpy())
                     for r in option_runs.values())]  # fmt: skip
    nb = np.column_stack([np.asarray(outcome_of(option_runs[n]), dtype=float) for n in names])
    means = nb.mean(axis=0)
    draws, nb_draws = per_draw(first, nb)
    rows = []
    for name, members in _targets(groups, shared).items():
        value = evppi(draws[[PARAM_PREFIX + m for m in members]].to_numpy(dtype=float), nb_draws)
        rows.append({"parameter": name, "members": ", ".join(members), "evppi": value})
    out = pd.DataFrame(rows, columns=["parameter", "members", "evppi"])
    out.attrs["options"] = dict(zip(names, means.tolist(), strict=True))
    return out.sort_values("evppi", ascending=False).reset_index(drop=True)
