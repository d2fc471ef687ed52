"""Scenario comparison with common random numbers (DESIGN §6).

Two runs made with the same seed and size share their random streams: replicate i of A and replicate i
of B see the same parameter-draw uniforms and the same process noise, so the difference of their outcome
indicators measures the effect of the change, not noise (common random numbers; Law 2015, §11.2). The
paired estimate of the change in probability of an outcome is the mean of ``1[B_i = o] - 1[A_i = o]``.

Its standard error is computed from per-draw mean differences (replicates of one draw share parameters, so
they are not independent; the draws are): ``SE = sd_j(D_j) / sqrt(J)``, which reduces to the ordinary
paired SE with one path per draw. The spread of the per-draw differences (10%-90%) shows how much the
effect itself depends on the other assumptions.

Runs with different seeds or sizes cannot be paired; ``paired=False`` gives independent two-sample
intervals, ``SE = sqrt(SE_A^2 + SE_B^2)`` with each SE clustered by draw.

References
----------
Law, A. M. (2015). Simulation Modeling and Analysis, 5th ed. McGraw-Hill. Ch. 11 (variance reduction).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.analysis.probabilities import Z95
from sim.analysis.rundir import OUTCOMES, RunData
from sim.errors import UserError


def check_pairable(a: RunData, b: RunData) -> None:
    """Raise :class:`UserError` unless replicate i of ``a`` can be paired with replicate i of ``b``."""
    hint = "; use --unpaired for independent two-sample intervals"
    if a.seed is None or b.seed is None or a.seed != b.seed:
        raise UserError(f"cannot pair runs: seeds differ (A: {a.seed}, B: {b.seed}){hint}")
    if len(a.runs) != len(b.runs):
        raise UserError(
            f"cannot pair runs: sizes differ (A: {len(a.runs)} replicates, B: {len(b.runs)}){hint}"
        )
    for col in ("replicate", "draw"):
        if (
            col in a.runs
            and col in b.runs
            and not np.array_equal(a.runs[col].to_numpy(), b.runs[col].to_numpy())
        ):
            raise UserError(f"cannot pair runs: the {col} numbering differs between A and B{hint}")


def cluster_mean_se(values: np.ndarray, draws: np.ndarray) -> tuple[float, float, np.ndarray]:
    """Mean over replicates and its SE clustered by draw; also the per-draw means."""
    codes, inv = np.unique(draws, return_inverse=True)
    sums = np.bincount(inv, weights=values, minlength=codes.size)
    counts = np.bincount(inv, minlength=codes.size)
    per_draw = sums / counts
    mean = float(values.mean())
    j = codes.size
    if j > 1:
        # ratio-estimator (cluster-robust) SE; equals sd(per_draw)/sqrt(J) for equal cluster sizes
        resid = sums - mean * counts
        se = float(np.sqrt(j / (j - 1) * np.sum(resid**2)) / counts.sum())
    else:
        se = float(np.std(values, ddof=1) / np.sqrt(values.size)) if values.size > 1 else 0.0
    return mean, se, per_draw


def compare_runs(a: RunData, b: RunData, paired: bool = True) -> pd.DataFrame:
    """Change in every outcome probability from run ``a`` to run ``b`` at every common horizon.

    Parameters
    ----------
    a, b : RunData
        Baseline and variant.
    paired : bool
        Use common random numbers (requires equal seed and size); otherwise independent samples.

    Returns
    -------
    pandas.DataFrame
        One row per (horizon, outcome): ``p_a``, ``p_b``, ``diff`` (= p_b - p_a), ``se``, ``lo``, ``hi``
        (95%), ``draw_lo80``/``draw_hi80`` (spread of per-draw differences; paired only) and ``method``.
    """
    if paired:
        check_pairable(a, b)
    hs = [h for h in a.horizons if h in set(b.horizons)]
    if not hs:
        raise UserError(f"no common reporting horizon: A has {a.horizons}, B has {b.horizons}")
    rows = []
    for h in hs:
        col = f"outcome_w{h}"
        oa = a.runs[col].to_numpy()
        ob = b.runs[col].to_numpy()
        for o in OUTCOMES:
            xa = (oa == o).astype(float)
            xb = (ob == o).astype(float)
            row = {"horizon": h, "outcome": o, "p_a": float(xa.mean()), "p_b": float(xb.mean())}
            if paired:
                diff, se, per_draw = cluster_mean_se(xb - xa, a.runs["draw"].to_numpy())
                q10, q90 = np.quantile(per_draw, [0.1, 0.9])
                row.update(diff=diff, se=se, draw_lo80=float(q10), draw_hi80=float(q90), method="paired")
            else:
                _, se_a, _ = cluster_mean_se(xa, a.runs["draw"].to_numpy())
                _, se_b, _ = cluster_mean_se(xb, b.runs["draw"].to_numpy())
                diff, se = row["p_b"] - row["p_a"], float(np.hypot(se_a, se_b))
                row.update(diff=diff, se=se, draw_lo80=np.nan, draw_hi80=np.nan, method="unpaired")
            row["lo"] = row["diff"] - Z95 * row["se"]
            row["hi"] = row["diff"] + Z95 * row["se"]
            rows.append(row)
    cols = ["horizon", "outcome", "p_a", "p_b", "diff", "se", "lo", "hi", "draw_lo80", "draw_hi80", "method"]
    return pd.DataFrame(rows)[cols]
