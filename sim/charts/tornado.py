"""Chart: tornado of the assumptions that drive one outcome probability (Morris or Sobol')."""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from sim.analysis.sensitivity import importance_column
from sim.charts.style import OKABE_ITO, Footer, add_footer, house_style, new_axes, set_titles


@dataclass
class TornadoChartData:
    """Top parameters (largest first) with importance, its confidence half-width and the title."""

    rows: pd.DataFrame
    measure: str
    outcome: str
    title: str
    subtitle: str


def tornado_chart_data(table: pd.DataFrame, outcome: str, n: int = 12) -> TornadoChartData:
    """Prepare a sensitivity table (``mu_star`` or ``ST``/``S1`` per parameter and output) for one output."""
    col = importance_column(table)
    sel = table[table["outcome"] == outcome].sort_values(col, ascending=False, na_position="last").head(n)
    sel = sel.reset_index(drop=True)
    label = outcome.replace("_", " ").replace("@", " by ")
    if sel.empty or not np.isfinite(sel[col].iloc[0]) or sel[col].iloc[0] <= 0:
        title = f"No parameter moves P({label})"
    else:
        title = f"{sel['parameter'].iloc[0]} drives P({label}) most"
    if col == "ST":
        subtitle = "Sobol' total-order index (bar) and first-order index (dot), with 95% bootstrap intervals"
    elif col == "abs_rho":
        subtitle = (
            "|Spearman rho| of each assumption with the per-draw probability across the run's draws "
            "(association, not a variance share)"
        )
    else:
        subtitle = (
            "Morris mu*: mean absolute change in probability when the assumption moves across its range "
            "(quantile scale), with 95% bootstrap interval"
        )
    return TornadoChartData(sel, col, outcome, title, subtitle)


def plot_tornado(data: TornadoChartData, ax: Axes | None = None, footer: Footer | None = None) -> Figure:
    """Horizontal bars, largest at the top."""
    own = ax is None
    with house_style() if own else nullcontext():
        fig, ax = new_axes(ax)
        rows = data.rows
        y = -np.arange(len(rows), dtype=float)
        val = rows[data.measure].to_numpy(dtype=float)
        conf = rows[f"{data.measure}_conf"].to_numpy(dtype=float)
        ax.barh(
            y,
            val,
            xerr=conf,
            color=OKABE_ITO["blue"],
            alpha=0.85,
            height=0.65,
            error_kw={"ecolor": "#333333", "lw": 1.2, "capsize": 3},
        )
        if data.measure == "ST" and "S1" in rows:
            ax.plot(rows["S1"], y, "D", color=OKABE_ITO["orange"], ms=7, label="first order S1")
            ax.legend(loc="lower right")
        if "noise_floor" in rows and np.isfinite(rows["noise_floor"]).any():
            floor = float(np.nanmax(rows["noise_floor"]))
            ax.axvline(floor, color=OKABE_ITO["vermillion"], ls="--", lw=1.5, label="Monte Carlo noise floor")
            ax.legend(loc="lower right")
        ax.set_yticks(y, rows["parameter"])
        ax.set_xlim(left=0)
        ax.set_xlabel(
            {"ST": "Sobol' total-order index ST", "mu_star": "Morris mu* (probability)"}.get(
                data.measure, "|rank correlation| with the outcome probability"
            )
        )
        ax.grid(axis="y", visible=False)
        set_titles(fig, ax, data.title, data.subtitle, own)
        if own:
            add_footer(fig, footer)
    return fig
