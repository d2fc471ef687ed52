"""A run against the record: each fact, the model's distribution of its statistic, and whether it fits.

The hindcast's report (``negsim hindcast RUN_DIR --facts FILE``): for every fact the statistic over the
run's replicates (its mean, the share of replicates where a yes/no statistic is 1, its 5th-95th
percentiles), the observed value, and the observation's implausibility under the whole run, the pooled
(prior-predictive) form of the history-matching measure (Craig et al. 1997; Vernon et al. 2010):
``I = |z - E f| / sqrt(V_obs + V_md + V f)``, with ``E f`` and ``V f`` over every replicate. An
observation with ``I <= 3`` is plausible under the model (Pukelsheim 1994); a larger one says that no mix
of the run's assumptions and luck reproduces it.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from sim.calibration.facts import ByDateStat, ContainsStat, EqualsStat, FactSet
from sim.calibration.implausibility import CUTOFF, implausibility
from sim.calibration.statistics import statistics_table

YES_NO = (ByDateStat, EqualsStat, ContainsStat)


def fact_table(facts: FactSet, records: pd.DataFrame, start_date: dt.date) -> pd.DataFrame:
    """One row per fact: the run's distribution of its statistic, the observation, the implausibility."""
    stats = statistics_table(facts, records, start_date)
    rows = []
    for f in facts.facts:
        x = stats[f.id].to_numpy(dtype=float)
        x = x[np.isfinite(x)]
        mean = float(x.mean()) if x.size else float("nan")
        var = float(x.var(ddof=1)) if x.size > 1 else 0.0
        # the pooled form: the whole run is one "draw" whose ensemble is every replicate
        imp = implausibility(np.array([f.observed]), np.array([f.obs_sd**2]), np.array([f.discrepancy_sd**2]),
                             np.array([[mean]]), np.array([[var]]))[0, 0]  # fmt: skip
        rows.append({
            "fact": f.id, "title": f.title, "statistic": f.describe(),
            "yes_no": isinstance(f.statistic, YES_NO),
            "mean": mean, "q05": float(np.quantile(x, 0.05)) if x.size else float("nan"),
            "q95": float(np.quantile(x, 0.95)) if x.size else float("nan"), "observed": f.observed,
            "implausibility": float(imp),
        })  # fmt: skip
    out = pd.DataFrame(rows)
    out["plausible"] = out["implausibility"] <= CUTOFF
    return out


def markdown(table: pd.DataFrame) -> str:
    """Return the table as Markdown: a yes/no fact's share of runs where it holds, a number's spread."""
    lines = ["| fact | model | observed | I | plausible |", "|---|---|---:|---:|---|"]
    for _, r in table.iterrows():
        if r["yes_no"]:
            model = f"yes in {100 * r['mean']:.1f}% of runs"
            obs = "yes" if r["observed"] == 1 else "no" if r["observed"] == 0 else f"{r['observed']:g}"
        else:
            model = f"mean {r['mean']:.3g}, 90% of runs {r['q05']:.3g} to {r['q95']:.3g}"
            obs = f"{r['observed']:g}"
        lines.append(f"| {r['fact']}: {r['title']} | {model} | {obs} | {r['implausibility']:.2f} | "
                     f"{'yes' if r['plausible'] else '**no**'} |")
    return "\n".join(lines) + "\n"
