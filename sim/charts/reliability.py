"""Reliability diagram of the forecast ledger: forecast probability against observed frequency.

The data step is :func:`reliability_chart_data` (one reliability table per source, from
:func:`sim.analysis.ledger.reliability`); :func:`plot_reliability` draws it on a given ``ax``. Points on
the diagonal are perfectly calibrated; the area of a point is the number of forecasts in its bin.
"""

from __future__ import annotations

import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from sim.analysis.ledger import reliability
from sim.charts.style import OKABE_ITO, Footer, add_footer, new_axes, set_titles

#: Colour of each reference kind.
SOURCE_COLOURS = {"base_rate": OKABE_ITO["grey"], "market": OKABE_ITO["orange"],
                  "expert": OKABE_ITO["bluish_green"], "crowd": OKABE_ITO["reddish_purple"]}
#: Colours of the model sources, in order of appearance.
MODEL_COLOURS = (OKABE_ITO["blue"], OKABE_ITO["vermillion"], OKABE_ITO["sky_blue"], OKABE_ITO["black"])


def reliability_chart_data(table: pd.DataFrame, n_bins: int = 10) -> dict[str, pd.DataFrame]:
    """``{source: reliability table}`` for each source in a ledger score table."""
    return {str(src): reliability(g["p"].to_numpy(float), g["outcome"].to_numpy(float), n_bins)
            for src, g in table.groupby("source", sort=False)}


def plot_reliability(data: dict[str, pd.DataFrame], ax: Axes | None = None,
                     footer: Footer | None = None) -> Figure:
    """Draw the reliability diagram: one series per source, the diagonal, point area = forecasts."""
    own = ax is None
    fig, ax = new_axes(ax, size=(7.0, 6.0))
    ax.plot([0, 1], [0, 1], color="#999999", lw=1, ls="--", label="perfectly calibrated")
    models = [src for src in data if src.startswith("model")]
    for src, rel in data.items():
        if rel.empty:
            continue
        colour = (MODEL_COLOURS[models.index(src) % len(MODEL_COLOURS)] if src in models
                  else SOURCE_COLOURS.get(src, OKABE_ITO["black"]))
        ax.plot(rel["mean_p"], rel["freq"], color=colour, lw=1, alpha=0.6)
        ax.scatter(rel["mean_p"], rel["freq"], s=40 * rel["n"], color=colour, alpha=0.85,
                   label=f"{src} ({int(rel['n'].sum())})", zorder=3)
    ax.set_xlim(-0.02, 1.02)
    ax.set_ylim(-0.05, 1.05)
    ax.set_xlabel("forecast probability (mean of the bin)")
    ax.set_ylabel("observed frequency")
    ax.legend(loc="lower right", fontsize="small")
    set_titles(fig, ax, "Forecast ledger: reliability", "10 equal-width bins of the forecast, empty bins "
               "skipped; point area = number of forecasts", own_figure=own)
    add_footer(fig, footer)
    return fig
