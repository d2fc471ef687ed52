"""negsim as a vectorised function of the unit cube, for the sensitivity designs.

Each uncertain parameter of the scenario (``sc.uncertain``) becomes one or more unit-cube coordinates:
one for a scalar distribution, one per component for a dirichlet (its independent gamma variates before
normalisation). A design point ``u`` is mapped to parameter values by each marginal's exact quantile
function, the scenario layer's :class:`sim.scenario.distributions.Marginal` ``.ppf`` (the same functions
its sampler uses), so a Morris level or a Sobol' point at ``u = 0.9`` is the 90% quantile of that
assumption. Parameters left out of the design are held at their median (``u = 0.5``). Correlations
between parameters are not imposed: the indices are those of independent inputs.

Every design point is run as one parameter draw with ``paths`` replicates through
:func:`sim.batch.simulate_draws` (same blocks and streams as a batch, so design points see common random
numbers between chunks); the outputs are the per-draw frequencies of each outcome class at each horizon.
With ``crn=True`` every point is its own batch call with the same streams (full common random numbers).

References
----------
Law, A. M. (2015). Simulation Modeling and Analysis, 5th ed. McGraw-Hill.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from sim.analysis.rundir import OUTCOMES


class NegsimModel:
    """Callable ``f(U) -> Y`` running the negsim batch engine at unit-cube design points.

    Parameters
    ----------
    sc : Scenario
        A loaded scenario (``sim.scenario.load_scenario``).
    paths : int
        Replicates per design point.
    seed : int
        Root seed passed to the batch engine.
    include : sequence of str, optional
        Glob patterns of parameter paths (or dirichlet component names ``path.KEY``) to vary (default:
        all uncertain parameters).
    horizons : sequence of int
        Horizons (weeks) of the outputs.
    chunk : int
        Design points per batch call (progress-bar granularity).
    progress : bool
        Show a tqdm progress bar.
    crn : bool
        Common random numbers across design points: every point is simulated on its own with the same
        streams, so two points differ only through their parameters (Law 2015, §11.2). Elementary effects
        and Sobol' differences then carry (almost) no Monte Carlo noise; each point costs one model set-up.
    """

    def __init__(
        self,
        sc: Any,
        paths: int,
        seed: int,
        include: Sequence[str] | None = None,
        horizons: Sequence[int] = (52, 104),
        chunk: int = 64,
        progress: bool = True,
        crn: bool = False,
    ) -> None:
        from sim.scenario.distributions import Marginal

        self.sc = sc
        self.paths = int(paths)
        self.seed = int(seed)
        self.horizons = [int(h) for h in horizons]
        self.chunk = int(chunk)
        self.progress = progress
        self.crn = bool(crn)
        self.marginals = [Marginal(path, spec) for path, spec in sc.uncertain.items()]
        self.names: list[str] = []
        self._slots: list[tuple[int, int]] = []  # (marginal index, component) per design coordinate

        def wanted(name: str, path: str) -> bool:
            # a pattern may name the parameter path or (dirichlet) one of its components
            return not include or any(fnmatch.fnmatchcase(n, pat) for pat in include for n in (name, path))

        for i, m in enumerate(self.marginals):
            coords = [(f"{m.path}.{key}", j) for j, key in enumerate(m.keys)] if m.keys else [(m.path, 0)]
            for name, j in coords:
                if wanted(name, m.path):
                    self.names.append(name)
                    self._slots.append((i, j))
        if not self.names:
            from sim.errors import UserError

            raise UserError(f"no uncertain parameter matches {list(include or [])}")
        self.output_names = [f"{o}@{h}w" for h in self.horizons for o in OUTCOMES]
        self.evaluations = 0

    def draws_from_unit(self, U: np.ndarray) -> pd.DataFrame:
        """Parameter draws (scenario-layer columns) for unit-cube points ``U`` of shape (n, k)."""
        U = np.atleast_2d(np.asarray(U, dtype=float))
        n = U.shape[0]
        eps = 1e-9  # keep the extreme Morris levels (0 and 1) off infinite quantiles
        U = np.clip(U, eps, 1.0 - eps)
        full = [np.full((n, m.width), 0.5) for m in self.marginals]
        for col, (i, j) in enumerate(self._slots):
            full[i][:, j] = U[:, col]
        cols: dict[str, np.ndarray] = {}
        for m, u in zip(self.marginals, full, strict=True):
            v = m.ppf(u)
            if m.keys:
                for j, key in enumerate(m.keys):
                    cols[f"{m.path}.{key}"] = v[:, j]
            else:
                cols[m.path] = v
        return pd.DataFrame(cols)

    def __call__(self, U: np.ndarray) -> np.ndarray:
        """Outcome frequencies, shape (n, len(horizons) * 4), columns as :attr:`output_names`."""
        from tqdm import tqdm

        from sim.batch import simulate_draws

        draws = self.draws_from_unit(U)
        n = len(draws)
        out = np.empty((n, len(self.output_names)))
        with tqdm(total=n * self.paths, unit="run", desc="sensitivity", disable=not self.progress) as bar:
            step = 1 if self.crn else self.chunk
            for start in range(0, n, step):
                part = draws.iloc[start : start + step].reset_index(drop=True)
                runs = simulate_draws(self.sc, part, self.paths, self.seed)
                out[start : start + len(part)] = outcome_matrix(runs, len(part), self.horizons)
                bar.update(len(part) * self.paths)
        self.evaluations += n
        return out


def outcome_matrix(runs: pd.DataFrame, n_draws: int, horizons: Sequence[int]) -> np.ndarray:
    """Per-draw frequency of every outcome class at every horizon: (n_draws, len(horizons) * 4)."""
    draw = runs["draw"].to_numpy(dtype=np.int64)
    counts = np.bincount(draw, minlength=n_draws).astype(float)
    cols = []
    for h in horizons:
        o = runs[f"outcome_w{h}"].to_numpy()
        for name in OUTCOMES:
            cols.append(np.bincount(draw, weights=(o == name).astype(float), minlength=n_draws) / counts)
    return np.column_stack(cols)
