"""summary.json, computed by streaming over the block files so memory stays flat as the run grows.

:class:`SummaryAccumulator` holds only fixed-size state: per-draw outcome counts at each reporting horizon
(``D x C`` integers), and histograms of the time to first agreement and of each issue's settlement
(:class:`Sketch`). The runner feeds it each block's table as ``storage.RunsWriter`` appends the block to
runs.parquet, one block at a time. The statistics themselves are the pure functions of
:mod:`sim.batch.stats`.

Time to agreement is right-censored at the scenario horizon: a replicate without an agreement counts as
"later than the horizon". Because every replicate is followed to the same horizon (administrative
censoring only) the empirical distribution is the Kaplan-Meier estimate up to the horizon, and a quantile
that falls among the censored replicates is reported as ``null`` (memo §4.5, "Censoring").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from sim.batch.stats import binned_quantile, draw_counts, outcome_probabilities


class Sketch:
    """Fixed-memory histogram of values in ``[lo, hi]`` that remembers each bin's smallest value.

    Quantiles come from :func:`sim.batch.stats.binned_quantile`: exact for discrete values, within one
    bin width otherwise. The mean is exact.
    """

    def __init__(self, lo: float, hi: float, n_bins: int) -> None:
        self.lo, self.hi, self.n_bins = float(lo), float(hi), int(n_bins)
        self.counts = np.zeros(self.n_bins, dtype=np.int64)
        self.mins = np.full(self.n_bins, np.inf)
        self.total = 0.0
        self.n = 0

    def add(self, values: np.ndarray) -> None:
        """Add finite values (NaN are ignored)."""
        v = np.asarray(values, dtype=float)
        v = v[np.isfinite(v)]
        if v.size == 0:
            return
        idx = np.clip(((v - self.lo) / (self.hi - self.lo) * (self.n_bins - 1)).astype(np.int64),
                      0, self.n_bins - 1)
        self.counts += np.bincount(idx, minlength=self.n_bins)
        np.minimum.at(self.mins, idx, v)
        self.total += float(v.sum())
        self.n += int(v.size)

    def quantile(self, q: float, total: int | None = None) -> float | None:
        """Inverted-CDF quantile; ``total`` > ``n`` means the excess are censored beyond ``hi``."""
        return binned_quantile(self.counts, self.mins, q, self.n if total is None else int(total))

    def mean(self) -> float | None:
        """Exact mean of the values added (``None`` if none)."""
        return self.total / self.n if self.n else None


def _codes(values: np.ndarray, classes: Sequence[str], column: str) -> np.ndarray:
    codes = pd.Index(list(classes)).get_indexer(np.asarray(values, dtype=object))
    if (codes < 0).any():
        bad = sorted({str(v) for v in np.asarray(values, dtype=object)[codes < 0]})
        raise ValueError(f"{column}: unknown outcome class(es) {bad}; expected one of {list(classes)}")
    return codes


class SummaryAccumulator:
    """Streaming statistics of a batch (everything summary.json reports).

    Parameters
    ----------
    classes:
        Outcome classes in report order (``sim.model.OUTCOMES``).
    horizons:
        Reporting horizons in weeks (columns ``outcome_w{h}``).
    horizon_weeks:
        The scenario horizon: headline ``outcomes`` and the censoring time of time to agreement.
    issues:
        Issue ids (columns ``settle_<ISSUE>``).
    n_draws:
        Number of parameter draws (rows of the per-draw count arrays).
    partials:
        The partial agreements recorded, as (id, label) (columns ``partial_<ID>_week``): P(signed by each
        horizon) is a two-class outcome (signed, not yet) with the same intervals as the outcome classes.
    """

    #: the two classes of a partial agreement at a horizon
    SIGNED = ("signed", "not_signed")

    def __init__(self, classes: Sequence[str], horizons: Sequence[int], horizon_weeks: float,
                 issues: Sequence[str], n_draws: int, partials: Sequence[tuple[str, str]] = ()) -> None:
        self.classes = list(classes)
        self.horizons = [int(h) for h in horizons]
        self.horizon_weeks = float(horizon_weeks)
        self.issues = list(issues)
        self.n_draws = int(n_draws)
        self.counts = {h: np.zeros((self.n_draws, len(self.classes)), dtype=np.int64) for h in self.horizons}
        # 1/100-week bins: exact for the model's weekly (or finer, round-aligned) clock
        self.time = Sketch(0.0, self.horizon_weeks, int(self.horizon_weeks * 100) + 1)
        self.settle = {i: Sketch(0.0, 1.0, 10_001) for i in self.issues}
        self.partials = [(str(pid), str(label)) for pid, label in partials]
        self.signed = {(pid, h): np.zeros((self.n_draws, 2), dtype=np.int64)
                       for pid, _ in self.partials for h in self.horizons}
        self.n = 0

    #: columns :meth:`add` reads (besides ``outcome_w{h}`` and ``settle_<ISSUE>``).
    BASE_COLUMNS = ("draw", "weeks_to_agreement")

    def columns(self) -> list[str]:
        """Columns of runs.parquet the accumulator needs."""
        return [*self.BASE_COLUMNS, *(f"outcome_w{h}" for h in self.horizons),
                *(f"settle_{i}" for i in self.issues), *(f"partial_{pid}_week" for pid, _ in self.partials)]

    def add(self, cols: Mapping[str, Any]) -> None:
        """Add one block's rows (a mapping column -> array, e.g. a DataFrame)."""
        draw = np.asarray(cols["draw"], dtype=np.int64)
        self.n += int(draw.size)
        for h in self.horizons:
            name = f"outcome_w{h}"
            codes = _codes(np.asarray(cols[name]), self.classes, name)
            self.counts[h] += draw_counts(draw, codes, self.n_draws, len(self.classes))
        weeks = np.asarray(cols["weeks_to_agreement"], dtype=float)
        self.time.add(np.where(weeks <= self.horizon_weeks, weeks, np.nan))
        for i in self.issues:
            self.settle[i].add(np.asarray(cols[f"settle_{i}"], dtype=float))
        for pid, _ in self.partials:
            week = np.asarray(cols[f"partial_{pid}_week"], dtype=float)
            for h in self.horizons:
                codes = np.where(week <= h + 1e-9, 0, 1)  # NaN (never signed) compares False
                self.signed[pid, h] += draw_counts(draw, codes, self.n_draws, 2)

    def headline_horizon(self) -> int:
        """Horizon of the headline ``outcomes``: the scenario horizon if reported, else the last one."""
        h = int(round(self.horizon_weeks))
        return h if h in self.counts else max(self.horizons)

    def finish(self, **header: Any) -> dict[str, Any]:
        """Return summary.json as a dict (``header`` keys first: scenario, runs, seed, ...)."""
        by_h = {str(h): {"outcomes": outcome_probabilities(self.counts[h], self.classes)}
                for h in self.horizons}
        t = self.time
        return {
            **header,
            "horizon_weeks": self.horizon_weeks if self.horizon_weeks % 1 else int(self.horizon_weeks),
            "outcomes": by_h[str(self.headline_horizon())]["outcomes"],
            "by_horizon": by_h,
            "time_to_agreement_weeks": {
                "median": t.quantile(0.5, self.n), "p10": t.quantile(0.1, self.n),
                "p90": t.quantile(0.9, self.n),
            },
            "n_agreements": t.n,
            "issues": {
                i: {"mean": s.mean(), "p10": s.quantile(0.1), "p50": s.quantile(0.5), "p90": s.quantile(0.9)}
                for i, s in self.settle.items()
            },
            **({"partial_agreements": self._partials_summary()} if self.partials else {}),
        }

    def _partials_summary(self) -> dict[str, Any]:
        """P(signed by each horizon) of every partial agreement, with the outcome classes' intervals."""
        return {
            pid: {"label": label, "by_horizon": {
                str(h): outcome_probabilities(self.signed[pid, h], self.SIGNED)["signed"]
                for h in self.horizons
            }}
            for pid, label in self.partials
        }
