"""The effect table of ``negsim levers``: paired effects of each lever, checked against its expectation.

Every lever is run with the base scenario's seed and size, so replicate i of the lever and replicate i of
the base share their random streams (common random numbers, :mod:`sim.analysis.compare`): the effect on an
outcome is the paired difference of the outcome indicators, in percentage points, with a 95% interval
clustered by parameter draw (:func:`sim.analysis.compare.compare_runs`).

Where an issue settles (``settle_<ISSUE>``, the first agreement's term, memo §1.6) exists only in the
replicates that reach an agreement. Its effect is the paired difference over the replicates that settle
in both runs (so it compares like with like), again clustered by draw, reported in hundredths of the issue
scale; the table also gives the mean settled value of each run over all its settling replicates.

An expectation is *consistent* when the interval excludes zero on the expected side, *contradicted* when it
excludes zero on the other side, and *unclear* when it spans zero: the run cannot confirm it.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from sim.analysis.compare import check_pairable, cluster_mean_se, compare_runs
from sim.analysis.probabilities import Z95
from sim.analysis.rundir import RunData
from sim.analysis.settlements import SETTLE_PREFIX

#: Columns of ``levers.csv``.
COLUMNS = ["lever", "outcome", "horizon", "unit", "base", "with_lever", "effect", "lo", "hi", "n_pairs",
           "expected", "consistent"]
PP = "percentage points"
SCALE = "hundredths of the issue scale"


def verdict(lo: float, hi: float, sign: int | None) -> str:
    """``yes`` / ``no`` / ``unclear`` for an expected sign and a 95% interval (``""`` if nothing expected)."""
    if sign is None:
        return ""
    if lo > 0 or hi < 0:
        return "yes" if (1 if lo > 0 else -1) == sign else "no"
    return "unclear"


def settle_effect(base: RunData, lever: RunData, issue: str) -> dict[str, float]:
    """Mean settled value of ``issue`` in each run and the paired difference over replicates settling in both.

    Returns ``base``, ``with_lever`` (means over each run's settled replicates), ``effect``, ``lo``, ``hi``
    (paired, clustered by draw, in units of the issue scale) and ``n_pairs``; NaN where nothing settles.
    """
    col = SETTLE_PREFIX + issue
    a = base.runs[col].to_numpy(dtype=float)
    b = lever.runs[col].to_numpy(dtype=float)
    both = np.isfinite(a) & np.isfinite(b)
    out = {"base": float(np.nanmean(a)) if np.isfinite(a).any() else np.nan,
           "with_lever": float(np.nanmean(b)) if np.isfinite(b).any() else np.nan,
           "effect": np.nan, "lo": np.nan, "hi": np.nan, "n_pairs": int(both.sum())}
    if both.any():
        diff, se, _ = cluster_mean_se(b[both] - a[both], base.runs["draw"].to_numpy()[both])
        out.update(effect=diff, lo=diff - Z95 * se, hi=diff + Z95 * se)
    return out


def lever_effects(name: str, base: RunData, lever: RunData, expected: Mapping[str, int],
                  issues: tuple[str, ...] = ("TERR_CTRL",)) -> pd.DataFrame:
    """Rows of ``levers.csv`` for one lever: every outcome at every horizon, and where ``issues`` settle.

    Parameters
    ----------
    expected
        ``{outcome or settle_ISSUE: +1 | -1}``; outcomes absent from it are reported without a verdict.
    issues
        Issues whose settlement is reported (always those named in ``expected``).
    """
    check_pairable(base, lever)
    rows = []
    for r in compare_runs(base, lever, paired=True).itertuples():
        sign = expected.get(r.outcome)
        rows.append({"lever": name, "outcome": r.outcome, "horizon": int(r.horizon), "unit": PP,
                     "base": 100 * r.p_a, "with_lever": 100 * r.p_b, "effect": 100 * r.diff,
                     "lo": 100 * r.lo, "hi": 100 * r.hi, "n_pairs": len(base.runs),
                     "expected": _sign_text(sign), "consistent": verdict(r.lo, r.hi, sign)})
    named = [k[len(SETTLE_PREFIX):] for k in expected if k.startswith(SETTLE_PREFIX)]
    horizon = max(base.horizons)
    for issue in dict.fromkeys([*issues, *named]):
        if SETTLE_PREFIX + issue not in base.runs or SETTLE_PREFIX + issue not in lever.runs:
            continue
        s = settle_effect(base, lever, issue)
        sign = expected.get(SETTLE_PREFIX + issue)
        rows.append({"lever": name, "outcome": SETTLE_PREFIX + issue, "horizon": horizon, "unit": SCALE,
                     "base": 100 * s["base"], "with_lever": 100 * s["with_lever"],
                     "effect": 100 * s["effect"],
                     "lo": 100 * s["lo"], "hi": 100 * s["hi"], "n_pairs": s["n_pairs"],
                     "expected": _sign_text(sign), "consistent": verdict(s["lo"], s["hi"], sign)})
    return pd.DataFrame(rows, columns=COLUMNS)


def _sign_text(sign: int | None) -> str:
    return "" if sign is None else ("+" if sign > 0 else "-")


def lever_line(name: str, label: str, rows: pd.DataFrame) -> str:
    """One line per lever: what it moves, what contradicts its expectation, what the run cannot confirm.

    Effects whose interval excludes zero are listed (largest first, at most four); every contradicted
    expectation is flagged ``CONTRADICTS expectation``; expectations whose interval spans zero at every
    horizon are named as not confirmed.
    """
    clear = rows[(rows["lo"] > 0) | (rows["hi"] < 0)].copy()
    clear = clear.reindex(clear["effect"].abs().sort_values(ascending=False).index)
    moved = [f"{_short(r.outcome)}@{r.horizon} {_num(r.effect, r.unit)} [{_num(r.lo, r.unit)}, "
             f"{_num(r.hi, r.unit)}]" for r in clear.head(4).itertuples()]
    parts = []
    parts.append("moves " + "; ".join(moved) if moved else "no effect distinguishable from zero")
    bad = rows[rows["consistent"] == "no"]
    for r in bad.itertuples():
        parts.append(f"CONTRADICTS expectation ({r.expected}) on {_short(r.outcome)}@{r.horizon}: "
                     f"{_num(r.effect, r.unit)} [{_num(r.lo, r.unit)}, {_num(r.hi, r.unit)}]")
    stated = rows[rows["expected"] != ""]
    unconfirmed = [o for o, g in stated.groupby("outcome", sort=False)
                   if (g["consistent"] == "unclear").all()]
    if unconfirmed:
        signs = stated.groupby("outcome", sort=False)["expected"].first()
        parts.append("cannot confirm: " + ", ".join(f"{_short(o)} {signs[o]}" for o in unconfirmed))
    confirmed = [o for o, g in stated.groupby("outcome", sort=False) if (g["consistent"] == "yes").any()
                 and not (g["consistent"] == "no").any()]
    if confirmed:
        parts.append("confirms: " + ", ".join(_short(o) for o in confirmed))
    return f"{name} ({label}): " + " | ".join(parts)


def _num(x: float, unit: str) -> str:
    """Points with one decimal; settled positions (hundredths of a scale) with two."""
    return f"{x:+.1f}" if unit == PP else f"{x:+.2f}"


_SHORT = {"comprehensive_deal": "deal", "ceasefire": "ceasefire", "continued_war": "war",
          "collapse_escalation": "collapse"}


def _short(outcome: str) -> str:
    return _SHORT.get(outcome, outcome)
