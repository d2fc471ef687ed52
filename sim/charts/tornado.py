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
    elif col == "share":
        subtitle = (
            "Share of the variance of the probability across the run's draws that each assumption (or group) "
            "explains alone (regression on the draws; Strong, Oakley & Brennan 2014)"
        )
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


# --- effects of named levers (negsim levers) --------------------------------------------------------
#: Colour of a lever's bar by the verdict on its expectation for the outcome shown.
VERDICT_COLOURS = {"yes": OKABE_ITO["bluish_green"], "no": OKABE_ITO["vermillion"],
                   "unclear": OKABE_ITO["grey"], "": OKABE_ITO["blue"]}
VERDICT_LABELS = {"yes": "as expected", "no": "contradicts the expectation", "unclear": "cannot confirm",
                  "": "no expectation stated"}


@dataclass
class EffectTornadoData:
    """Levers sorted by the size of their effect on one outcome at one horizon, with 95% intervals."""

    rows: pd.DataFrame
    outcome: str
    horizon: int
    unit: str
    title: str
    subtitle: str


def effect_tornado_data(table: pd.DataFrame, outcome: str, horizon: int,
                        labels: dict[str, str] | None = None) -> EffectTornadoData:
    """Select one outcome and horizon of a ``levers.csv`` table; largest absolute effect first.

    The title names the lever that moves the outcome most among those whose interval excludes zero, or
    says that none does.
    """
    sel = table[(table["outcome"] == outcome) & (table["horizon"] == horizon)].copy()
    sel["label"] = [(labels or {}).get(n, n) for n in sel["lever"]]
    sel = sel.reindex(sel["effect"].abs().sort_values(ascending=False, na_position="last").index)
    sel = sel.reset_index(drop=True)
    name = outcome.replace("settle_", "where ").replace("_", " ")
    clear = sel[(sel["lo"] > 0) | (sel["hi"] < 0)]
    if clear.empty:
        title = f"No lever moves {name} distinguishably from zero"
    else:
        top = clear.iloc[0]
        title = f"{top['label']} moves {name} most: {top['effect']:+.1f} {_unit_word(top['unit'])}"
    unit = str(sel["unit"].iloc[0]) if len(sel) else ""
    subtitle = (f"Paired effect of each lever against the unchanged scenario (common random numbers) at "
                f"{horizon} weeks, {unit}, with 95% interval; colour: verdict on the stated expectation")
    return EffectTornadoData(sel, outcome, horizon, unit, title, subtitle)


def _unit_word(unit: str) -> str:
    return "points" if unit.startswith("percentage") else "hundredths of the scale"


def plot_effect_tornado(data: EffectTornadoData, ax: Axes | None = None,
                        footer: Footer | None = None) -> Figure:
    """Horizontal bars of the effects with interval whiskers, largest at the top, zero line marked."""
    own = ax is None
    with house_style() if own else nullcontext():
        height = max(3.5, 0.9 + 0.32 * len(data.rows))
        fig, ax = new_axes(ax, size=(10.0, min(height, 11.0)))
        rows = data.rows
        y = -np.arange(len(rows), dtype=float)
        eff = rows["effect"].to_numpy(dtype=float)
        err = np.vstack([eff - rows["lo"].to_numpy(dtype=float), rows["hi"].to_numpy(dtype=float) - eff])
        colours = [VERDICT_COLOURS.get(str(v), OKABE_ITO["blue"]) for v in rows["consistent"].fillna("")]
        ax.barh(y, np.nan_to_num(eff), xerr=np.nan_to_num(err), color=colours, alpha=0.85, height=0.65,
                error_kw={"ecolor": "#333333", "lw": 1.2, "capsize": 3})
        ax.axvline(0.0, color="#333333", lw=1.0)
        seen = [v for v in VERDICT_LABELS if v in set(rows["consistent"].fillna(""))]
        for v in seen:
            ax.barh([np.nan], [np.nan], color=VERDICT_COLOURS[v], label=VERDICT_LABELS[v])
        if seen:
            ax.legend(loc="lower right")
        ax.set_yticks(y, rows["label"])
        ax.set_xlabel(f"effect ({data.unit})")
        ax.grid(axis="y", visible=False)
        set_titles(fig, ax, data.title, data.subtitle, own)
        if own:
            add_footer(fig, footer)
    return fig
