"""Charts: where each issue settles (per agreement type) and the land-for-guarantees joint view."""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from sim.charts.style import OUTCOME_COLOURS, Footer, add_footer, house_style, new_axes, set_titles

TYPE_LABELS = {"comprehensive_deal": "Comprehensive deal", "ceasefire": "Ceasefire"}


@dataclass
class SettlementChartData:
    """Per-issue summary rows (issue, agreement type, median, 10-90% range, n) and the title."""

    rows: pd.DataFrame
    issues: list[str]
    labels: dict[str, str]
    title: str
    subtitle: str


def settlement_chart_data(
    summary: pd.DataFrame, labels: dict[str, str] | None = None, by: str = "agreement_type", when: str = ""
) -> SettlementChartData:
    """Prepare :func:`sim.analysis.settlements.settlement_summary` output for drawing.

    ``by`` is the grouping column of the summary: the first agreement's type or the outcome class at a
    horizon (``outcome_w104``: the terms in force at the horizon, the default of the chart set), described
    by ``when``.

    The title reports the median territorial line and guarantee level in comprehensive deals, the two
    terms the December-2025 texts traded against each other.
    """
    rows = summary[summary[by].isin(list(TYPE_LABELS))].rename(columns={by: "agreement_type"}).copy()
    issues = list(dict.fromkeys(summary["issue"]))
    comp = rows[rows["agreement_type"] == "comprehensive_deal"].set_index("issue")
    if {"TERR_CTRL", "SEC_GUAR"} <= set(comp.index):
        title = (
            f"In a comprehensive deal the line settles near {comp.loc['TERR_CTRL', 'p50']:.2f} "
            f"and guarantees near {comp.loc['SEC_GUAR', 'p50']:.2f} on the 0-1 issue scales"
        )
    elif not comp.empty:
        title = f"Settlements on {len(comp)} issues in comprehensive deals"
    else:
        title = "No comprehensive deal in this run: settlements shown for ceasefires only"
    kind = when or ("by kind of first agreement" if by == "agreement_type" else f"by {by}")
    subtitle = f"Dot: median; bar: 10-90% range of the terms signed, {kind}"
    return SettlementChartData(rows.reset_index(drop=True), issues, dict(labels or {}), title, subtitle)


def plot_settlements(
    data: SettlementChartData, ax: Axes | None = None, footer: Footer | None = None
) -> Figure:
    """Dot-and-range chart, one row per issue, one marker per agreement type."""
    own = ax is None
    with house_style() if own else nullcontext():
        fig, ax = new_axes(ax)
        offsets = {"comprehensive_deal": -0.17, "ceasefire": 0.17}
        ypos = {k: -i for i, k in enumerate(data.issues)}
        for kind, off in offsets.items():
            sel = data.rows[data.rows["agreement_type"] == kind]
            if sel.empty:
                continue
            y = np.array([ypos[i] for i in sel["issue"]]) + off
            c = OUTCOME_COLOURS[kind]
            ax.hlines(y, sel["p10"], sel["p90"], color=c, lw=5, alpha=0.55)
            ax.plot(sel["p50"], y, "o", color=c, ms=8, label=f"{TYPE_LABELS[kind]} (n = {sel['n'].max():,})")
        ax.set_yticks(list(ypos.values()), [data.labels.get(i, i) for i in data.issues])
        ax.set_xlim(-0.02, 1.02)
        ax.set_xlabel("Settlement on the issue's anchored 0-1 scale")
        ax.grid(axis="y", visible=False)
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0)
        set_titles(fig, ax, data.title, data.subtitle, own)
        if own:
            add_footer(fig, footer)
    return fig


@dataclass
class JointChartData:
    """Share of agreements per (option of A, option of B) and the title."""

    table: pd.DataFrame
    a: str
    b: str
    n: int
    title: str


def joint_chart_data(table: pd.DataFrame, n: int) -> JointChartData:
    """Prepare :func:`sim.analysis.settlements.joint_settlement` output; the title names the modal pair."""
    a, b = table.index.name or "A", table.columns.name or "B"
    if n > 0 and table.to_numpy().sum() > 0:
        i, j = np.unravel_index(np.argmax(table.to_numpy()), table.shape)
        title = (
            f"Most common package: {a} {table.index[i]:.2f} with {b} {table.columns[j]:.2f} "
            f"({100 * table.to_numpy()[i, j]:.0f}% of agreements)"
        )
    else:
        title = f"No agreement settled both {a} and {b}"
    return JointChartData(table, a, b, int(n), title)


def plot_joint(data: JointChartData, ax: Axes | None = None, footer: Footer | None = None) -> Figure:
    """Heat map of the joint settlement with the share printed in each cell."""
    own = ax is None
    with house_style() if own else nullcontext():
        fig, ax = new_axes(ax, size=(7.5, 5.6))
        m = 100 * data.table.to_numpy()
        im = ax.imshow(m, origin="lower", cmap="Blues", vmin=0, vmax=max(1.0, m.max()), aspect="auto")
        for (i, j), v in np.ndenumerate(m):
            if v >= 0.5:
                ax.text(
                    j,
                    i,
                    f"{v:.0f}",
                    ha="center",
                    va="center",
                    fontsize="medium",
                    color="white" if v > 0.6 * m.max() else "black",
                )
        ax.set_xticks(range(m.shape[1]), [f"{x:.2f}" for x in data.table.columns])
        ax.set_yticks(range(m.shape[0]), [f"{x:.2f}" for x in data.table.index])
        ax.set_xlabel(f"{data.b} (settled option)")
        ax.set_ylabel(f"{data.a} (settled option)")
        ax.grid(False)
        fig.colorbar(im, ax=ax, label="% of agreements")
        set_titles(fig, ax, data.title, f"{data.n:,} agreements that settled both issues", own)
        if own:
            add_footer(fig, footer)
    return fig
