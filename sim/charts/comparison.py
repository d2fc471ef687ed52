"""Chart: how a variant changes each outcome probability (paired differences with intervals)."""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from sim.analysis.rundir import OUTCOMES
from sim.analysis.words import horizon_phrase
from sim.charts.style import (
    OUTCOME_COLOURS,
    OUTCOME_SHORT,
    Footer,
    add_footer,
    horizon_label,
    house_style,
    new_axes,
    set_titles,
)


@dataclass
class ComparisonChartData:
    """Rows (horizon, outcome, diff, lo, hi in points) in drawing order and the title."""

    rows: pd.DataFrame
    label_a: str
    label_b: str
    title: str
    subtitle: str


def comparison_chart_data(table: pd.DataFrame, label_a: str, label_b: str) -> ComparisonChartData:
    """Prepare :func:`sim.analysis.compare.compare_runs` output; the title names the largest clear change."""
    rows = table.copy()
    rows["order"] = rows["outcome"].map({o: i for i, o in enumerate(OUTCOMES)})
    rows = rows.sort_values(["order", "horizon"]).reset_index(drop=True)
    for c in ("diff", "lo", "hi"):
        rows[c + "_pts"] = 100 * rows[c]
    clear = rows[(rows["lo"] > 0) | (rows["hi"] < 0)]
    if clear.empty:
        title = f"{label_b} vs {label_a}: no outcome changes beyond simulation noise"
    else:
        top = clear.loc[clear["diff"].abs().idxmax()]
        verb = "raises" if top["diff"] > 0 else "lowers"
        title = (
            f"{label_b} {verb} the chance of {OUTCOME_SHORT[top['outcome']].lower()} "
            f"{horizon_phrase(int(top['horizon']))} by {abs(100 * top['diff']):.0f} points"
        )
    method = rows["method"].iloc[0]
    how = "common random numbers, paired" if method == "paired" else "independent samples"
    subtitle = (
        f"Change in probability, {label_b} minus {label_a}, percentage points with 95% interval ({how})"
    )
    return ComparisonChartData(rows, label_a, label_b, title, subtitle)


def plot_comparison(
    data: ComparisonChartData, ax: Axes | None = None, footer: Footer | None = None
) -> Figure:
    """Dot-and-interval chart of the differences around a zero line."""
    own = ax is None
    with house_style() if own else nullcontext():
        fig, ax = new_axes(ax)
        rows = data.rows
        nh = rows["horizon"].nunique()
        y = np.array([-((i // nh) * (nh + 1.2) + i % nh) for i in range(len(rows))], dtype=float)
        for yi, r in zip(y, rows.itertuples(), strict=True):
            c = OUTCOME_COLOURS.get(r.outcome, "#333333")
            ax.plot([r.lo_pts, r.hi_pts], [yi, yi], color=c, lw=4, solid_capstyle="butt")
            ax.plot(r.diff_pts, yi, "o", ms=8, color="white", mec=c, mew=2)
        ax.axvline(0, color="black", lw=1)
        ax.set_yticks(y, [horizon_label(int(h)) for h in rows["horizon"]])
        for g, o in enumerate(rows["outcome"].unique()):
            ax.text(
                0.0,
                -(g * (nh + 1.2)) + 0.75,
                OUTCOME_SHORT.get(o, o),
                transform=ax.get_yaxis_transform(),
                fontsize="large",
                fontweight="bold",
                color=OUTCOME_COLOURS.get(o, "#333333"),
                va="bottom",
            )
        span = max(5.0, float(np.nanmax(np.abs(rows[["lo_pts", "hi_pts"]].to_numpy()))) * 1.15)
        ax.set_xlim(-span, span)
        ax.set_ylim(y.min() - 0.8, 1.6)
        ax.set_xlabel(f"Change in probability (percentage points): {data.label_b} minus {data.label_a}")
        ax.grid(axis="y", visible=False)
        set_titles(fig, ax, data.title, data.subtitle, own)
        if own:
            add_footer(fig, footer)
    return fig
