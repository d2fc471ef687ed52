"""Scenario discovery with PRIM, the Patient Rule Induction Method (Friedman & Fisher 1999).

Question answered: which ranges of the uncertain assumptions make an outcome likely? PRIM looks for a box
(a conjunction of ranges, one per parameter) in which the target is high. Starting from the whole sample
it repeatedly *peels* off the ``alpha`` fraction of the points at the low or high end of one parameter (or
one category), choosing the peel that leaves the highest mean target, until the box holds less than
``min_mass`` of the points. Each step is a point on the *peeling trajectory*; the analyst picks a box by
trading off

* coverage: the share of all cases of interest (sum of the target) that fall inside the box, and
* density: the share of the box's points that are cases of interest (mean target inside the box)

(Bryant & Lempert 2010). The chosen box is then *pasted*: bounds are widened again wherever that raises
density. Further boxes come from the *covering* step: remove the points in the box and start again.

The PyPI package ``prim`` (1.0.0) runs with numpy 2 and pandas 2-3, but it is GPL-3 and pulls in the
interactive ``mplcursors``; this module implements the algorithm in about 200 lines instead.

References
----------
Kwakkel, J. H. (2017). The Exploratory Modeling Workbench. Environ. Model. Softw. 96, 239-250.
Friedman, J. H. & Fisher, N. I. (1999). Bump hunting in high-dimensional data. Stat. Comput. 9, 123-143.
Bryant, B. P. & Lempert, R. J. (2010). Thinking inside the box: a participatory, computer-assisted approach
to scenario discovery. Technol. Forecast. Soc. Change 77, 34-49.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd


@dataclass
class Box:
    """A PRIM box: numeric bounds (inclusive) and allowed categories per restricted parameter.

    Attributes
    ----------
    limits : dict
        ``{name: (lo, hi)}`` for numeric parameters.
    categories : dict
        ``{name: set of allowed values}`` for categorical parameters.
    coverage, density, mass : float
        Share of cases of interest inside, mean target inside, share of points inside.
    n : int
        Points inside.
    """

    limits: dict[str, tuple[float, float]] = field(default_factory=dict)
    categories: dict[str, set] = field(default_factory=dict)
    coverage: float = 1.0
    density: float = 0.0
    mass: float = 1.0
    n: int = 0

    def contains(self, X: pd.DataFrame) -> np.ndarray:
        """Boolean mask of rows of ``X`` inside the box."""
        m = np.ones(len(X), dtype=bool)
        for name, (lo, hi) in self.limits.items():
            v = X[name].to_numpy(dtype=float)
            m &= (v >= lo) & (v <= hi)
        for name, cats in self.categories.items():
            m &= X[name].isin(list(cats)).to_numpy()
        return m

    def restrictions_keys(self, X: pd.DataFrame) -> list[str]:
        """Names of the parameters the box actually restricts."""
        keys = []
        for name, (lo, hi) in self.limits.items():
            v = X[name].to_numpy(dtype=float)
            if lo > np.nanmin(v) or hi < np.nanmax(v):
                keys.append(name)
        keys += [name for name, cats in self.categories.items() if len(cats) < X[name].nunique()]
        return keys

    def without(self, name: str, X: pd.DataFrame) -> Box:
        """Return a copy of the box with the restriction on ``name`` lifted."""
        limits = dict(self.limits)
        cats = {k: set(v) for k, v in self.categories.items()}
        if name in limits:
            v = X[name].to_numpy(dtype=float)
            limits[name] = (float(np.nanmin(v)), float(np.nanmax(v)))
        if name in cats:
            cats[name] = set(pd.unique(X[name]))
        return Box(limits, cats)

    def restrictions(self, X: pd.DataFrame) -> list[str]:
        """Readable ranges for the parameters the box restricts, e.g. ``"war.drift_per_year ≤ 0.08"``."""
        out = []
        for name, (lo, hi) in self.limits.items():
            v = X[name].to_numpy(dtype=float)
            low_cut, high_cut = lo > np.nanmin(v), hi < np.nanmax(v)
            if low_cut and high_cut:
                out.append(f"{_fmt(lo)} ≤ {name} ≤ {_fmt(hi)}")
            elif low_cut:
                out.append(f"{name} ≥ {_fmt(lo)}")
            elif high_cut:
                out.append(f"{name} ≤ {_fmt(hi)}")
        for name, cats in self.categories.items():
            if len(cats) < X[name].nunique():
                out.append(f"{name} ∈ {{{', '.join(sorted(map(str, cats)))}}}")
        return out


def _fmt(x: float) -> str:
    return f"{x:.3g}"


@dataclass
class PrimResult:
    """Peeling trajectory and the selected, pasted boxes.

    Attributes
    ----------
    trajectory : pandas.DataFrame
        Per peeling step of the first box: ``step``, ``coverage``, ``density``, ``mass``, ``n``,
        ``n_restricted``.
    boxes : list of Box
        The selected box of each covering round (pasted).
    base_density : float
        Mean target in the whole sample (the density of the unrestricted box).
    """

    trajectory: pd.DataFrame
    boxes: list[Box]
    base_density: float
    trajectory_boxes: list[Box] = field(default_factory=list)


def _candidate_peels(
    X: pd.DataFrame,
    y: np.ndarray,
    inside: np.ndarray,
    alpha: float,
    box: Box,
    numeric: list[str],
    categorical: list[str],
):
    """Yield (new_inside, name, kind, value) for every possible peel of the current box."""
    n_in = int(inside.sum())
    k = max(1, int(np.floor(alpha * n_in)))
    for name in numeric:
        v = X[name].to_numpy(dtype=float)
        vin = np.sort(v[inside])
        lo_b = vin[k]  # keep values >= lo_b
        new = inside & (v >= lo_b)
        if 0 < new.sum() < n_in:
            yield new, name, "lo", lo_b
        hi_b = vin[n_in - 1 - k]
        new = inside & (v <= hi_b)
        if 0 < new.sum() < n_in:
            yield new, name, "hi", hi_b
    for name in categorical:
        cats = box.categories[name]
        if len(cats) <= 1:
            continue
        col = X[name].to_numpy()
        for c in list(cats):
            new = inside & (col != c)
            if 0 < new.sum() < n_in:
                yield new, name, "cat", c


def _peel(
    X: pd.DataFrame,
    y: np.ndarray,
    inside0: np.ndarray,
    alpha: float,
    min_mass: float,
    numeric: list[str],
    categorical: list[str],
    total_y: float,
    n_total: int,
) -> list[tuple[Box, np.ndarray]]:
    inside = inside0.copy()
    box = Box(
        limits={c: (float(np.nanmin(X[c])), float(np.nanmax(X[c]))) for c in numeric},
        categories={c: set(pd.unique(X[c])) for c in categorical},
    )
    traj = []

    def stamp(b: Box, m: np.ndarray) -> Box:
        b = Box(dict(b.limits), {k: set(v) for k, v in b.categories.items()})
        b.n = int(m.sum())
        b.mass = b.n / n_total
        b.density = float(y[m].mean()) if b.n else 0.0
        b.coverage = float(y[m].sum() / total_y) if total_y > 0 else 0.0
        return b

    traj.append((stamp(box, inside), inside.copy()))
    while inside.sum() / n_total > min_mass:
        best = None
        n_in, mean_in = int(inside.sum()), float(y[inside].mean())
        for new, name, kind, val in _candidate_peels(X, y, inside, alpha, box, numeric, categorical):
            # F&F (1999, §3): gain in mean per point removed, so peels of different sizes (ties,
            # whole categories) compete fairly.
            gain = (float(y[new].mean()) - mean_in) / (n_in - int(new.sum()))
            if best is None or gain > best[0] + 1e-15:
                best = (gain, new, name, kind, val)
        if best is None:
            break
        _, new, name, kind, val = best
        if new.sum() / n_total < min_mass:
            break
        inside = new
        if kind == "lo":
            box.limits[name] = (float(val), box.limits[name][1])
        elif kind == "hi":
            box.limits[name] = (box.limits[name][0], float(val))
        else:
            box.categories[name].discard(val)
        traj.append((stamp(box, inside), inside.copy()))
    return traj


def _paste(
    X: pd.DataFrame, y: np.ndarray, box: Box, active: np.ndarray, alpha: float, numeric: list[str]
) -> Box:
    """Widen numeric bounds one ``alpha`` step at a time while density increases (F&F §4)."""
    current = box
    while True:
        inside = current.contains(X) & active
        base = y[inside].mean() if inside.any() else 0.0
        k = max(1, int(np.floor(alpha * inside.sum())))
        best = None
        for name in numeric:
            v = X[name].to_numpy(dtype=float)
            lo, hi = current.limits[name]
            others = Box({n: b for n, b in current.limits.items() if n != name}, current.categories)
            pool = others.contains(X) & active
            below = np.sort(v[pool & (v < lo)])[::-1]
            above = np.sort(v[pool & (v > hi)])
            for side, cand in (("lo", below), ("hi", above)):
                if cand.size == 0:
                    continue
                edge = cand[min(k, cand.size) - 1]
                new_lim = (edge, hi) if side == "lo" else (lo, edge)
                trial = Box(
                    {**current.limits, name: (float(new_lim[0]), float(new_lim[1]))}, current.categories
                )
                m = trial.contains(X) & active
                mean = y[m].mean()
                if mean > base + 1e-12 and (best is None or mean > best[0]):
                    best = (mean, trial)
        if best is None:
            return current
        current = best[1]


def quasi_p_value(X: pd.DataFrame, y: np.ndarray, box: Box, name: str, active: np.ndarray) -> float:
    """One-sided test that the restriction on ``name`` raises the density (Bryant & Lempert 2010).

    For a 0/1 target, the binomial test of the EMA Workbench: under H0 the box's points are cases at the
    rate of the box with the restriction lifted, ``P(K >= k)`` for ``K ~ Binomial(n, p0)``. For a frequency
    target (per-draw probabilities), the one-sided Mann-Whitney test of the box's values against those of
    the strip the restriction cuts off. "Quasi" because the box was chosen with the same data.
    """
    from scipy import stats

    m = box.contains(X) & active
    wider = box.without(name, X).contains(X) & active
    n = int(m.sum())
    strip = wider & ~m
    if n == 0 or not strip.any():
        return 1.0
    if np.all((y == 0) | (y == 1)):
        p0 = float(y[wider].mean())
        k = int(y[m].sum())
        return float(stats.binom.sf(k - 1, n, p0))
    # rank test: robust to the many ties at 0 of a rare outcome (a t-test degenerates there)
    res = stats.mannwhitneyu(y[m], y[strip], alternative="greater")
    return float(res.pvalue) if np.isfinite(res.pvalue) else 1.0


def preselect(X: pd.DataFrame, y: np.ndarray, k: int) -> list[str]:
    """Return the ``k`` columns most associated with the target, to run PRIM in few dimensions.

    PRIM in many dimensions with few points finds boxes by chance; scenario-discovery practice screens the
    inputs first (Kwakkel 2017, EMA Workbench feature scoring). Numeric columns are scored by |Spearman
    rho| with the target, categorical ones by the Kruskal-Wallis statistic turned into a p-value rank.
    """
    from scipy import stats

    y = np.asarray(y, dtype=float)
    scores = {}
    for c in X.columns:
        col = X[c]
        if pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col):
            if col.nunique() < 2:
                continue
            r = stats.spearmanr(col.to_numpy(dtype=float), y).statistic
            scores[c] = abs(float(r)) if np.isfinite(r) else 0.0
        else:
            groups = [y[(col == v).to_numpy()] for v in pd.unique(col)]
            if len(groups) < 2:
                continue
            pv = stats.kruskal(*groups).pvalue if np.ptp(y) > 0 else 1.0
            scores[c] = 1.0 - float(pv)  # on the same 0-1 "stronger is larger" footing
    return sorted(scores, key=scores.get, reverse=True)[:k]


def _prune(X: pd.DataFrame, y: np.ndarray, box: Box, active: np.ndarray, level: float) -> Box:
    """Lift restrictions whose quasi-p-value exceeds ``level`` (Bonferroni), the least significant first.

    Bryant & Lempert (2010) ask for boxes an analyst can read; peeling in many dimensions picks up
    restrictions that only exclude a few unlucky points. Those fail the test and are lifted.
    """
    current = box
    while True:
        qps = {name: quasi_p_value(X, y, current, name, active) for name in current.restrictions_keys(X)}
        if not qps:
            return current
        worst = max(qps, key=qps.get)
        # Bonferroni over the restrictions still in the box: each was picked because it cut off low
        # values, so the tests are optimistic and many are run at once
        if qps[worst] <= level / len(qps):
            return current
        current = current.without(worst, X)


def prim(
    X: pd.DataFrame,
    y: np.ndarray,
    alpha: float = 0.05,
    min_mass: float = 0.05,
    min_coverage: float = 0.5,
    n_boxes: int = 1,
    prune: float = 0.05,
) -> PrimResult:
    """Run PRIM: peel, select a box on the trajectory, paste, and repeat on the uncovered points.

    Parameters
    ----------
    X : pandas.DataFrame
        Sampled parameters (numeric or categorical columns).
    y : array_like
        Target in [0, 1]: a 0/1 indicator of the case of interest or a per-draw outcome frequency.
    alpha : float
        Peeling fraction (F&F recommend 0.05-0.10).
    min_mass : float
        Smallest box, as a share of all points.
    min_coverage : float
        Box selection rule: the densest box on the trajectory whose coverage is at least this (in later
        covering rounds: of the cases not yet covered).
    n_boxes : int
        Covering rounds.
    prune : float
        Lift restrictions whose quasi-p-value exceeds this level (0 keeps them all).

    Returns
    -------
    PrimResult
    """
    y = np.asarray(y, dtype=float)
    X = X.reset_index(drop=True)
    numeric = [
        c for c in X.columns if pd.api.types.is_numeric_dtype(X[c]) and not pd.api.types.is_bool_dtype(X[c])
    ]
    categorical = [c for c in X.columns if c not in numeric]
    n_total = len(X)
    total_y = float(y.sum())
    active = np.ones(n_total, dtype=bool)
    boxes: list[Box] = []
    first_traj: list[tuple[Box, np.ndarray]] = []
    for round_ in range(n_boxes):
        if active.sum() < 2 or y[active].sum() <= 0:
            break
        traj = _peel(X, y, active, alpha, min_mass, numeric, categorical, total_y, n_total)
        if round_ == 0:
            first_traj = traj
        # coverage of what is still uncovered in this round (equals plain coverage in the first round)
        share = total_y / float(y[active].sum())
        eligible = [b for b, _ in traj if b.coverage * share >= min_coverage - 1e-12] or [traj[0][0]]
        chosen = max(eligible, key=lambda b: (b.density, b.coverage))
        if not chosen.restrictions(X):
            break  # nothing left that a box can separate
        pasted = _paste(X, y, chosen, active, alpha, numeric)
        if prune > 0:
            pasted = _prune(X, y, pasted, active, prune)
            if not pasted.restrictions_keys(X):
                break  # no restriction survives the test: no box worth reporting
        m = pasted.contains(X) & active
        pasted.n = int(m.sum())
        pasted.mass = pasted.n / n_total
        pasted.density = float(y[m].mean()) if pasted.n else 0.0
        pasted.coverage = float(y[m].sum() / total_y) if total_y > 0 else 0.0
        if pasted.density <= float(y.mean()):
            break  # a box no denser than the whole sample is not a finding
        boxes.append(pasted)
        active &= ~m
    trajectory = pd.DataFrame(
        [
            {
                "step": i,
                "coverage": b.coverage,
                "density": b.density,
                "mass": b.mass,
                "n": b.n,
                "n_restricted": len(b.restrictions(X)),
            }
            for i, (b, _) in enumerate(first_traj)
        ]
    )
    return PrimResult(
        trajectory=trajectory,
        boxes=boxes,
        base_density=float(y.mean()),
        trajectory_boxes=[b for b, _ in first_traj],
    )
