"""Where each issue settles, conditional on the kind of agreement (memo §1.6).

Settlements are summarised per issue and per agreement type (the first agreement signed: comprehensive
deal or ceasefire), since pooling both would average a frozen line with a full settlement and describe
neither. The joint view of territorial control against security guarantees snaps both to the scenario's
option grid (the discrete packages negotiators actually table) and shows how often each pair occurs: the
central trade-off of the December-2025 texts (land for guarantees).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

SETTLE_PREFIX = "settle_"
DEFAULT_OPTIONS = (0.0, 0.25, 0.5, 0.75, 1.0)


def issue_names(runs: pd.DataFrame) -> list[str]:
    """Issue ids present as ``settle_<ISSUE>`` columns, in table order."""
    return [c[len(SETTLE_PREFIX) :] for c in runs.columns if str(c).startswith(SETTLE_PREFIX)]


def settlement_summary(runs: pd.DataFrame, by: str = "agreement_type") -> pd.DataFrame:
    """Distribution of the settled value of every issue, per agreement type.

    Returns
    -------
    pandas.DataFrame
        One row per (issue, group): ``n`` (replicates with a settlement on the issue), ``mean``, ``p10``,
        ``p50``, ``p90``. Groups with no settlement are omitted; the group ``all`` pools every agreement.
    """
    rows = []
    groups = [("all", runs)] + [(str(k), g) for k, g in runs.groupby(by, sort=True) if str(k) != "none"]
    for issue in issue_names(runs):
        col = SETTLE_PREFIX + issue
        for name, g in groups:
            v = g[col].to_numpy(dtype=float)
            v = v[np.isfinite(v)]
            if v.size == 0:
                continue
            p10, p50, p90 = np.quantile(v, [0.1, 0.5, 0.9])
            rows.append(
                {
                    "issue": issue,
                    by: name,
                    "n": int(v.size),
                    "mean": float(v.mean()),
                    "p10": float(p10),
                    "p50": float(p50),
                    "p90": float(p90),
                }
            )
    return pd.DataFrame(rows, columns=["issue", by, "n", "mean", "p10", "p50", "p90"])


def snap_to_options(values: np.ndarray, options: Sequence[float]) -> np.ndarray:
    """Nearest option for every value (NaN stays NaN); ties go to the lower option."""
    v = np.asarray(values, dtype=float)
    opts = np.sort(np.asarray(options, dtype=float))
    idx = np.argmin(np.abs(v[:, None] - opts[None, :]), axis=1)
    out = opts[idx]
    out[~np.isfinite(v)] = np.nan
    return out


def issue_options(scenario: dict, issue: str) -> list[float]:
    """Return the option grid of an issue from a resolved scenario dict (default: quarters)."""
    opts = scenario.get("issues", {}).get(issue, {}).get("options") if isinstance(scenario, dict) else None
    return [float(x) for x in opts] if opts else list(DEFAULT_OPTIONS)


def joint_settlement(
    runs: pd.DataFrame,
    a: str = "TERR_CTRL",
    b: str = "SEC_GUAR",
    options_a: Sequence[float] = DEFAULT_OPTIONS,
    options_b: Sequence[float] = DEFAULT_OPTIONS,
    agreement_type: str | None = None,
) -> pd.DataFrame:
    """Share of agreements at each (option of ``a``, option of ``b``) pair.

    Parameters
    ----------
    agreement_type : str, optional
        Restrict to one agreement type; default: every replicate with both issues settled.

    Returns
    -------
    pandas.DataFrame
        Rows: options of ``a``; columns: options of ``b``; cells sum to 1 (all zeros if nothing settled).
    """
    sel = runs if agreement_type is None else runs[runs["agreement_type"] == agreement_type]
    va = sel[SETTLE_PREFIX + a].to_numpy(dtype=float)
    vb = sel[SETTLE_PREFIX + b].to_numpy(dtype=float)
    both = np.isfinite(va) & np.isfinite(vb)
    sa = snap_to_options(va[both], options_a)
    sb = snap_to_options(vb[both], options_b)
    table = pd.crosstab(pd.Series(sa, name=a), pd.Series(sb, name=b))
    table = table.reindex(index=sorted(options_a), columns=sorted(options_b), fill_value=0).astype(float)
    total = table.to_numpy().sum()
    return table / total if total > 0 else table
