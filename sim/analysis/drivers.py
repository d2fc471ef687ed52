"""Which sampled assumptions move an outcome, read off an existing run (no extra model runs).

Across the outer draws of a run, the per-draw frequency of an outcome is paired with the draw's parameter
values; the Spearman rank correlation measures monotone association (Saltelli et al. 2008, §1.2.4 on
rank-based screening). It is a cheap fallback for the briefing when no variance-based
``sensitivity.csv`` exists; unlike Sobol' indices it misses non-monotone effects and interactions, and
with few paths per draw the per-draw frequencies are noisy (which biases |rho| towards zero, never up).

References
----------
Saltelli, A. et al. (2008). Global Sensitivity Analysis: The Primer. Wiley.
Fieller, E. C., Hartley, H. O. & Pearson, E. S. (1957). Tests for rank correlation coefficients. I.
Biometrika 44, 470-481.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from sim.analysis.probabilities import Z95, per_draw_frequencies
from sim.analysis.rundir import PARAM_PREFIX, param_columns


def per_draw_table(runs: pd.DataFrame, outcome: str, horizon: int) -> pd.DataFrame:
    """One row per draw: its parameters (without the ``param.`` prefix) and ``target`` = outcome frequency."""
    freq = per_draw_frequencies(runs, horizon)
    cols = param_columns(runs)
    params = runs.groupby("draw", sort=True)[cols].first()
    params.columns = [c[len(PARAM_PREFIX) :] for c in cols]
    params["target"] = freq[outcome].reindex(params.index).to_numpy()
    return params


def rank_associations(runs: pd.DataFrame, outcome: str, horizon: int) -> pd.DataFrame:
    """Spearman correlation of every numeric parameter with the per-draw outcome frequency.

    Returns
    -------
    pandas.DataFrame
        ``parameter``, ``outcome`` (``NAME@<h>w``), ``rho``, ``abs_rho``, ``abs_rho_conf`` (approximate 95%
        half-width), ``p_value``, sorted by ``|rho|`` descending. Constant parameters are skipped.
    """
    table = per_draw_table(runs, outcome, horizon)
    y = table.pop("target").to_numpy(dtype=float)
    rows = []
    for name in table.columns:
        col = table[name]
        if not pd.api.types.is_numeric_dtype(col) or col.nunique() < 2 or np.ptp(y) == 0:
            continue
        res = stats.spearmanr(col.to_numpy(dtype=float), y)
        rows.append({"parameter": name, "rho": float(res.statistic), "p_value": float(res.pvalue)})
    out = pd.DataFrame(rows, columns=["parameter", "rho", "p_value"])
    out["abs_rho"] = out["rho"].abs()
    # 95% half-width of |rho| from Fisher's z (approximate for Spearman; Fieller et al. 1957)
    out["abs_rho_conf"] = Z95 * (1.0 - out["rho"] ** 2) / np.sqrt(max(len(y) - 3, 1))
    out["outcome"] = f"{outcome}@{horizon}w"
    out = out.sort_values("abs_rho", ascending=False).reset_index(drop=True)
    return out[["parameter", "outcome", "rho", "abs_rho", "abs_rho_conf", "p_value"]]
