"""Chart: probability of each outcome at each horizon, with Monte Carlo and parameter intervals."""

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
class OutcomeChartData:
    """Rows to draw (one per outcome and horizon, in drawing order) and the title."""

    rows: pd.DataFrame
    title: str
    subtitle: str


def outcome_chart_data(table: pd.DataFrame) -> OutcomeChartData:
    """Prepare :func:`sim.analysis.probabilities.outcome_probabilities` output for drawing.

    The title names the most likely outcome at the last horizon and its probability.
    """
    rows = table.copy()
    rows["order"] = rows["outcome"].map({o: i for i, o in enumerate(OUTCOMES)})
    rows = rows.sort_values(["order", "horizon"]).reset_index(drop=True)
    last = int(rows["horizon"].max())
    at_last = rows[rows["horizon"] == last].sort_values("p", ascending=False)
    top = at_last.iloc[0]
    name = OUTCOME_SHORT.get(top["outcome"], top["outcome"])
    title = f"{name} is the most likely outcome {horizon_phrase(last, 'after')} ({100 * top['p']:.0f}%)"
    ppd = float(rows["paths_per_draw"].iloc[0]) if "paths_per_draw" in rows else np.nan
    subtitle = (
        "Dot: probability over all runs. Thick bar: 80% and thin bar: 95% range across the "
        f"uncertain assumptions ({int(rows['n_draws'].iloc[0])} draws"
        + (f", {ppd:.0f} runs each)" if np.isfinite(ppd) else ")")
    )
    return OutcomeChartData(rows=rows, title=title, subtitle=subtitle)


def plot_outcomes(data: OutcomeChartData, ax: Axes | None = None, footer: Footer | None = None) -> Figure:
    """Dot-and-range chart: one group per outcome, one line per horizon."""
    own = ax is None
    with house_style() if own else nullcontext():
        fig, ax = new_axes(ax)
        rows = data.rows
        horizons = sorted(rows["horizon"].unique())
        nh = len(horizons)
        y = []
        labels = []
        for i, (_, r) in enumerate(rows.iterrows()):
            g = i // nh
            pos = -(g * (nh + 1.2) + (i % nh))
            y.append(pos)
            labels.append(horizon_label(int(r["horizon"])))
        y = np.asarray(y, dtype=float)
        colours = [OUTCOME_COLOURS.get(o, "#333333") for o in rows["outcome"]]
        shade = np.linspace(0.45, 1.0, nh)
        alphas = [shade[horizons.index(h)] for h in rows["horizon"]]
        for yi, r, c, a in zip(y, rows.itertuples(), colours, alphas, strict=True):
            ax.plot([100 * r.lo, 100 * r.hi], [yi, yi], color=c, alpha=a, lw=1.5, solid_capstyle="butt")
            ax.plot([100 * r.lo80, 100 * r.hi80], [yi, yi], color=c, alpha=a, lw=6, solid_capstyle="butt")
            ax.plot(100 * r.p, yi, "o", ms=9, color="white", mec=c, mew=2.2, zorder=3)
            ax.text(100 * r.hi + 1.2, yi, f"{100 * r.p:.0f}%", va="center", fontsize="medium")
        ax.set_yticks(y, labels)
        for g, o in enumerate(rows["outcome"].unique()):
            top = -(g * (nh + 1.2)) + 0.75
            ax.text(
                0,
                top,
                OUTCOME_SHORT.get(o, o),
                transform=ax.get_yaxis_transform(),
                ha="left",
                va="bottom",
                fontsize="large",
                fontweight="bold",
                color=OUTCOME_COLOURS.get(o, "#333333"),
            )
        ax.set_xlim(0, 105)
        ax.set_ylim(y.min() - 0.8, 1.6)
        ax.set_xlabel("Probability (%)")
        ax.grid(axis="y", visible=False)
        set_titles(fig, ax, data.title, data.subtitle, own)
        if own:
            add_footer(fig, footer)
    return fig
