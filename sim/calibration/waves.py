"""History matching in waves: which draws each wave runs, and how a wave narrows the next one's.

Method (Vernon, Goldstein & Bower 2010, §3; Andrianakis et al. 2015; Williamson et al. 2013):

1. Wave 1 runs ``N`` draws of the scenario's prior (its own Latin hypercube sample).
2. After wave ``k`` has run, every draw's implausibility against every fact is computed from its paths
   (:mod:`sim.calibration.implausibility`), and an *emulator* of each fact's statistic is fitted to the
   wave's draws: a Gaussian process (scikit-learn's ``GaussianProcessRegressor``) on the few parameters
   most correlated with that statistic (its *active* inputs, Vernon et al. 2010 §3.2), with an
   anisotropic squared-exponential kernel and a white-noise term that absorbs the other parameters and
   the Monte Carlo error of the mean. The emulator's implausibility adds its predictive variance to the
   denominator, ``|z - m(x)| / sqrt(V_obs + V_md + V_s + V_em(x))``, so where it knows little it rules
   out nothing.
3. Wave ``k + 1`` draws candidates from the *prior* again, in pools, and keeps those that every emulator
   so far finds non-implausible (``<= 3``), until it has ``N``; those are run and matched in turn. The
   non-implausible region of the last wave is the draws it ran whose simulated implausibility is <= 3.

Why screening the prior with emulators rather than resampling the survivors (a smoothed bootstrap, as in
ABC-SMC): what survives is a sample of the *prior restricted to the non-implausible region*, each draw with
equal weight, so the calibrated scenario keeps the prior's shape (and its copula) inside the region and
needs no importance weights, which in the ~200 dimensions of the baseline would be degenerate. The
emulators are cheap to evaluate, so the prior can be screened in pools many times the wave's size;
scikit-learn's GP is a well-kept implementation. Its cost is cubic in the wave's size (a few hundred to a
few thousand draws: seconds).

Every random choice derives from the root seed: the pool ``r`` of wave ``k`` is sampled with
``SeedSequence(seed, spawn_key=(2, k, r))``, so re-running gives the same draws (and a batch run
directory that ``--resume`` can complete).

References
----------
Andrianakis I. et al. (2015) PLoS Comput Biol 11(1): e1003968.
Vernon I., Goldstein M., Bower R.G. (2010) Bayesian Analysis 5(4): 619-669.
Williamson D. et al. (2013) History matching for exploring and reducing climate model parameter space
using observations and a large perturbed physics ensemble. Climate Dynamics 41: 1703-1729.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from sim.calibration.implausibility import CUTOFF, implausibility, max_implausibility
from sim.errors import UserError

#: ``sampler(n, seed_sequence) -> DataFrame`` of ``n`` prior draws (``sim.scenario.sample_parameters``).
Sampler = Callable[[int, np.random.SeedSequence], pd.DataFrame]
#: ``simulate(wave, draws) -> (mean, var)``, each (N, J): the facts' statistics over each draw's paths.
Simulator = Callable[[int, pd.DataFrame], tuple[np.ndarray, np.ndarray]]

#: Active inputs per emulated fact (Vernon et al. 2010 use 5-10).
ACTIVE_INPUTS = 6
#: Draws an emulator is fitted on at most (the first ones of the wave, a random sample of it): a GP's fit
#: costs O(n^3) (about a second per fact at 300 draws, with one BLAS thread).
MAX_TRAIN = 300
#: Candidates screened per pool, as a multiple of the wave's draws.
POOL_FACTOR = 10
#: Pools screened at most per wave before running with the candidates found.
MAX_POOLS = 20


@dataclass(frozen=True)
class Targets:
    """What the draws are matched against: per fact its id, observed value and variances."""

    ids: list[str]
    observed: np.ndarray
    obs_var: np.ndarray
    md_var: np.ndarray

    @classmethod
    def from_facts(cls, facts: Sequence) -> Targets:
        """Targets of :class:`sim.calibration.facts.Fact` objects."""
        return cls([f.id for f in facts], np.array([f.observed for f in facts], dtype=float),
                   np.array([f.obs_sd ** 2 for f in facts], dtype=float),
                   np.array([f.discrepancy_sd ** 2 for f in facts], dtype=float))


@dataclass
class Wave:
    """One wave: the draws run, their statistics and implausibilities, and how they were found."""

    index: int
    draws: pd.DataFrame
    mean: np.ndarray
    var: np.ndarray
    imp: np.ndarray
    screened: int = 0
    emulators: list[Emulator] = field(default_factory=list, repr=False)

    @property
    def i_max(self) -> np.ndarray:
        """``max_j I_j`` of each draw."""
        return max_implausibility(self.imp)

    @property
    def i_second(self) -> np.ndarray:
        """Second-largest ``I_j`` of each draw."""
        return max_implausibility(self.imp, 2)

    @property
    def keep(self) -> np.ndarray:
        """Whether each draw is non-implausible (``I <= 3``)."""
        return self.i_max <= CUTOFF

    @property
    def acceptance(self) -> float:
        """Share of the prior candidates screened that the emulators kept (1 in wave 1)."""
        return len(self.draws) / self.screened if self.screened else 1.0


def one_blas_thread() -> Any:
    """Limit BLAS to one thread while the emulators fit and predict.

    Their matrices are small (hundreds of rows), and BLAS threads contending for shared cores made a fit
    15 times slower (13 s against 0.9 s for 300 draws on 2 busy cores).
    """
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1, user_api="blas")


def numeric_inputs(draws: pd.DataFrame) -> pd.DataFrame:
    """Return the draws' numeric columns (a choice among names is left out of the emulators' inputs)."""
    return draws.select_dtypes(include=[np.number, bool]).astype(float)


class Emulator:
    """Gaussian-process emulators of every fact's mean statistic, fitted on one wave's draws.

    Fitted on the wave's first ``MAX_TRAIN`` draws. Per fact: the ``ACTIVE_INPUTS`` parameters with the
    largest absolute Spearman correlation with the statistic, standardised; kernel
    ``C * RBF(ARD) + White`` (scikit-learn), ``normalize_y``. A statistic that is constant over the wave
    is emulated by that constant with no uncertainty.
    """

    def __init__(self, draws: pd.DataFrame, mean: np.ndarray, var: np.ndarray, targets: Targets,
                 active: int = ACTIVE_INPUTS, seed: int = 0) -> None:
        from sklearn.gaussian_process import GaussianProcessRegressor
        from sklearn.gaussian_process.kernels import RBF, ConstantKernel, WhiteKernel

        self.targets = targets
        draws, mean, var = draws.iloc[:MAX_TRAIN], mean[:MAX_TRAIN], var[:MAX_TRAIN]
        x = numeric_inputs(draws)
        self.columns = list(x.columns)
        self.loc = x.mean().to_numpy()
        self.scale = x.std().replace(0, 1).fillna(1).to_numpy()
        xs = (x.to_numpy() - self.loc) / self.scale
        ranks = pd.DataFrame(xs).rank().to_numpy()
        self.models: list[tuple[np.ndarray, object | None, float]] = []
        self.ens_var = np.nanmean(np.where(np.isfinite(var), var, np.nan), axis=0)
        self.ens_var = np.where(np.isfinite(self.ens_var), self.ens_var, 0.0)
        for j in range(mean.shape[1]):
            y = mean[:, j]
            ok = np.isfinite(y)
            if ok.sum() < 3 or np.ptp(y[ok]) == 0:
                const = float(y[ok][0]) if ok.any() else np.nan
                self.models.append((np.array([], dtype=int), None, const))
                continue
            yr = pd.Series(y[ok]).rank().to_numpy()
            with np.errstate(invalid="ignore", divide="ignore"):
                rho = np.array([abs(np.corrcoef(ranks[ok, c], yr)[0, 1]) for c in range(xs.shape[1])])
            rho = np.nan_to_num(rho)
            # parameters constant in the wave, or unrelated to the statistic, are not inputs
            cols = np.argsort(-rho, kind="stable")[:min(active, int((rho > 0).sum()) or 1)]
            kernel = ConstantKernel(1.0, (1e-3, 1e3)) * RBF(np.ones(len(cols)), (1e-2, 1e3)) \
                + WhiteKernel(0.1, (1e-6, 1e1))
            gp = GaussianProcessRegressor(kernel, normalize_y=True, random_state=seed)
            with warnings.catch_warnings(), one_blas_thread():
                warnings.simplefilter("ignore")  # bounds reached: the fit is still usable
                gp.fit(xs[ok][:, cols], y[ok])
            self.models.append((cols, gp, np.nan))

    def predict(self, draws: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """Emulated mean and variance of every fact's statistic at ``draws``: each (N, J)."""
        xs = (draws[self.columns].to_numpy(dtype=float) - self.loc) / self.scale
        n = len(draws)
        mean = np.empty((n, len(self.models)))
        var = np.zeros_like(mean)
        for j, (cols, gp, const) in enumerate(self.models):
            if gp is None:
                mean[:, j] = const
                continue
            with one_blas_thread():
                m, sd = gp.predict(xs[:, cols], return_std=True)  # type: ignore[attr-defined]
            mean[:, j] = m
            var[:, j] = sd ** 2
        return mean, var

    def implausibility(self, draws: pd.DataFrame) -> np.ndarray:
        """``|z - m(x)| / sqrt(V_obs + V_md + V_s + V_em(x))`` per draw and fact, (N, J)."""
        m, v = self.predict(draws)
        return implausibility(self.targets.observed, self.targets.obs_var, self.targets.md_var, m,
                              v + self.ens_var[None, :])


def propose(sampler: Sampler, emulators: Sequence[Emulator], n: int, seed: int, wave: int,
            pool_factor: int = POOL_FACTOR, max_pools: int = MAX_POOLS) -> tuple[pd.DataFrame, int]:
    """Draw ``n`` prior draws that every emulator finds non-implausible; return them and how many were tried.

    With no emulators (wave 1) this is the prior sample itself. Pools of ``n * pool_factor`` prior draws
    are screened until ``n`` pass or ``max_pools`` pools have been tried; fewer than ``n`` are then
    returned.

    Raises
    ------
    UserError
        If no candidate passes: the region the facts allow is empty or too small to find by screening.
    """
    if not emulators:
        return sampler(n, np.random.SeedSequence(seed, spawn_key=(2, wave, 0))).reset_index(drop=True), n
    kept: list[pd.DataFrame] = []
    found = tried = 0
    for r in range(max_pools):
        pool = sampler(n * pool_factor, np.random.SeedSequence(seed, spawn_key=(2, wave, r)))
        pool = pool.reset_index(drop=True)
        ok = np.ones(len(pool), dtype=bool)
        for em in emulators:
            ok &= max_implausibility(em.implausibility(pool)) <= CUTOFF
        take = pool[ok].iloc[: n - found]
        tried += len(pool) if found + ok.sum() < n else int(np.flatnonzero(ok)[n - found - 1]) + 1
        kept.append(take)
        found += len(take)
        if found >= n:
            break
    if found == 0:
        raise UserError(f"wave {wave}: none of {tried} prior draws is non-implausible by the emulators of "
                        "the waves before: the facts rule out the whole prior (check the facts' values and "
                        "uncertainties, or widen the scenario's distributions)")
    return pd.concat(kept, ignore_index=True), tried


def evaluate(index: int, draws: pd.DataFrame, mean: np.ndarray, var: np.ndarray, targets: Targets,
             screened: int) -> Wave:
    """Return a wave with the implausibilities of its simulated statistics."""
    imp = implausibility(targets.observed, targets.obs_var, targets.md_var, mean, var)
    return Wave(index, draws.reset_index(drop=True), mean, var, imp, screened)


def history_match(sampler: Sampler, simulate: Simulator, targets: Targets, n_draws: int, n_waves: int,
                  seed: int) -> list[Wave]:
    """Run ``n_waves`` waves of ``n_draws`` draws; return every wave (the last one's ``keep`` is the result).

    Stops early, after a wave, if none of its draws is non-implausible (no emulator could be trusted to
    find the region): the last wave then reports an empty region.
    """
    waves: list[Wave] = []
    emulators: list[Emulator] = []
    for k in range(1, n_waves + 1):
        draws, tried = propose(sampler, emulators, n_draws, seed, k)
        mean, var = simulate(k, draws)
        wave = evaluate(k, draws, mean, var, targets, tried)
        waves.append(wave)
        if k == n_waves or not wave.keep.any():
            break
        emulators.append(Emulator(wave.draws, mean, var, targets, seed=seed))
        wave.emulators = list(emulators)
    return waves
