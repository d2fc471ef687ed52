"""Chart: PRIM's coverage-density trade-off along the peeling trajectory, with the chosen box."""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass

import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from sim.analysis.prim import PrimResult
from sim.charts.style import OKABE_ITO, Footer, add_footer, house_style, new_axes, set_titles


@dataclass
class PrimChartData:
    """Trajectory points, the chosen box's point, its readable ranges and the title."""

    trajectory: pd.DataFrame
    chosen: tuple[float, float]
    ranges: list[str]
    base_density: float
    title: str
    subtitle: str


def prim_chart_data(result: PrimResult, X: pd.DataFrame, target_label: str) -> PrimChartData:
    """Prepare a :class:`sim.analysis.prim.PrimResult` for drawing; title states the first box's effect."""
    if result.boxes:
        box = result.boxes[0]
        chosen = (box.coverage, box.density)
        ranges = box.restrictions(X)
        title = (
            f"{target_label}: {100 * box.density:.0f}% inside the box vs {100 * result.base_density:.0f}% "
            f"overall, covering {100 * box.coverage:.0f}% of cases"
        )
    else:
        chosen, ranges = (1.0, result.base_density), []
        title = f"{target_label}: no range of the assumptions concentrates the outcome"
    subtitle = (
        "Each dot is one PRIM peeling step (colour: number of restricted assumptions); ring: chosen box"
    )
    return PrimChartData(result.trajectory, chosen, ranges, result.base_density, title, subtitle)


def plot_prim(data: PrimChartData, ax: Axes | None = None, footer: Footer | None = None) -> Figure:
    """Coverage (x) against density (y) along the trajectory, with the chosen box's ranges listed."""
    own = ax is None
    with house_style() if own else nullcontext():
        fig, ax = new_axes(ax)
        t = data.trajectory
        sc = ax.scatter(
            100 * t["coverage"], 100 * t["density"], c=t["n_restricted"], cmap="viridis", s=36, zorder=2
        )
        fig.colorbar(sc, ax=ax, label="restricted assumptions")
        ax.plot(
            100 * data.chosen[0],
            100 * data.chosen[1],
            "o",
            ms=16,
            mfc="none",
            mec=OKABE_ITO["vermillion"],
            mew=2.5,
            zorder=3,
        )
        ax.axhline(100 * data.base_density, color=OKABE_ITO["grey"], lw=1, ls="--")
        if data.ranges:
            ax.text(
                0.02,
                0.03,
                "Chosen box:\n" + "\n".join(data.ranges),
                transform=ax.transAxes,
                fontsize="medium",
                va="bottom",
                bbox={"facecolor": "white", "edgecolor": "#BBBBBB", "alpha": 0.9},
            )
        ax.set_xlim(0, 102)
        ax.set_ylim(0, 102)
        ax.set_xlabel("Coverage: share of all cases inside the box (%)")
        ax.set_ylabel("Density: share of the box that are cases (%)")
        set_titles(fig, ax, data.title, data.subtitle, own)
        if own:
            add_footer(fig, footer)
    return fig
