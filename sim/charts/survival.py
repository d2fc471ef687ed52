"""Chart: probability of agreement over time (Kaplan-Meier, censored at the horizon)."""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass

from matplotlib.axes import Axes
from matplotlib.figure import Figure

from sim.analysis.survival import SurvivalCurve
from sim.charts.style import OKABE_ITO, OUTCOME_COLOURS, Footer, add_footer, house_style, new_axes, set_titles


@dataclass
class SurvivalChartData:
    """Curves to draw (label -> tidy table), colours and the title."""

    curves: dict[str, object]
    colours: dict[str, str]
    horizon: float
    title: str
    subtitle: str


def survival_chart_data(curves: dict[str, SurvivalCurve]) -> SurvivalChartData:
    """Prepare :func:`sim.analysis.survival.agreement_curves` output for drawing.

    The title gives the probability of any agreement and of a comprehensive deal by the horizon, and the
    median time to any agreement if it falls within the horizon.
    """
    first = curves["first_agreement"]
    comp = curves["comprehensive_deal"]
    h = first.horizon
    p_any = float(first.probability_by(h))
    p_comp = float(comp.probability_by(h))
    med = first.median()
    when = f"; half of all runs agree by week {med:.0f}" if med is not None else ""
    title = (
        f"By week {h:.0f}: {100 * p_any:.0f}% reach some agreement, {100 * p_comp:.0f}% a comprehensive deal"
    )
    subtitle = (
        f"Kaplan-Meier estimate with 95% band; runs without agreement censored at week {h:.0f}{when}. "
        f"Restricted mean weeks without agreement: {first.rmst:.0f} of {h:.0f}"
    )
    tables = {
        "Any agreement (ceasefire or deal)": first.to_df(),
        "Comprehensive deal": comp.to_df(),
    }
    colours = {
        "Any agreement (ceasefire or deal)": OKABE_ITO["blue"],
        "Comprehensive deal": OUTCOME_COLOURS["comprehensive_deal"],
    }
    return SurvivalChartData(tables, colours, h, title, subtitle)


def plot_survival(data: SurvivalChartData, ax: Axes | None = None, footer: Footer | None = None) -> Figure:
    """Step curves of P(agreement by week t) with their bands."""
    own = ax is None
    with house_style() if own else nullcontext():
        fig, ax = new_axes(ax)
        for label, t in data.curves.items():
            c = data.colours[label]
            ax.step(t["t"], 100 * t["p_event"], where="post", color=c, lw=2.4, label=label)
            ax.fill_between(t["t"], 100 * t["p_lo"], 100 * t["p_hi"], step="post", color=c, alpha=0.18, lw=0)
        ax.set_xlim(0, data.horizon)
        ax.set_ylim(0, 100)
        ax.set_xlabel("Weeks from the start of the scenario")
        ax.set_ylabel("Probability of agreement (%)")
        ax.legend(loc="upper left")
        set_titles(fig, ax, data.title, data.subtitle, own)
        if own:
            add_footer(fig, footer)
    return fig
