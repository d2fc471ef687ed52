"""The house style of every negsim chart: readable at slide size, colour-blind safe, sourced.

* Palette: Okabe & Ito (2008), distinguishable under the common colour-vision deficiencies; each outcome
  class keeps its colour on every chart.
* Type large enough for a projected slide (11-pt ticks, 14-pt titles at 10 x 5.6 in).
* The title states the finding, not the chart type; a footer names scenario, run id, sample size and date.
* Figures are built with :class:`matplotlib.figure.Figure` (no pyplot state, safe in any backend) and saved
  as PNG (200 dpi) and SVG.

References
----------
Okabe, M. & Ito, K. (2008). Color Universal Design (CUD): how to make figures and presentations that are
friendly to colorblind people. https://jfly.uni-koeln.de/color/
"""

from __future__ import annotations

import textwrap
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import matplotlib as mpl
from matplotlib.axes import Axes
from matplotlib.figure import Figure

OKABE_ITO: dict[str, str] = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "bluish_green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish_purple": "#CC79A7",
    "grey": "#7F7F7F",
}

OUTCOME_COLOURS: dict[str, str] = {
    "comprehensive_deal": OKABE_ITO["bluish_green"],
    "ceasefire": OKABE_ITO["sky_blue"],
    "continued_war": OKABE_ITO["orange"],
    "collapse_escalation": OKABE_ITO["vermillion"],
}

OUTCOME_SHORT: dict[str, str] = {
    "comprehensive_deal": "Comprehensive deal",
    "ceasefire": "Ceasefire / frozen",
    "continued_war": "Continued war",
    "collapse_escalation": "Collapse / escalation",
}

HORIZON_SHORT: dict[int, str] = {
    26: "6 months",
    52: "1 year",
    78: "18 months",
    104: "2 years",
    156: "3 years",
}

SLIDE_SIZE = (10.0, 5.6)

RC = {
    "font.size": 11,
    "axes.titlesize": 14,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
    "axes.labelsize": 11,
    "xtick.labelsize": 11,
    "ytick.labelsize": 11,
    "legend.fontsize": 10,
    "legend.frameon": False,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#DDDDDD",
    "grid.linewidth": 0.8,
    "axes.axisbelow": True,
    "svg.fonttype": "none",
    "pdf.fonttype": 42,
}


def horizon_label(weeks: int) -> str:
    """'1 year' for 52 weeks, else 'N weeks'."""
    return HORIZON_SHORT.get(int(weeks), f"{int(weeks)} weeks")


@contextmanager
def house_style():
    """Context in which figures are created and drawn with the house rcParams."""
    with mpl.rc_context(RC):
        yield


@dataclass
class Footer:
    """What the footer of every chart names."""

    scenario: str = ""
    run_id: str = ""
    n: int | None = None
    date: str = ""
    source: str = "negsim Monte Carlo model"

    def text(self) -> str:
        """Return the footer line: 'Scenario: baseline · run ... · N = 3,000 replicates · date · source'."""
        parts = []
        if self.scenario:
            parts.append(f"Scenario: {self.scenario}")
        if self.run_id:
            parts.append(f"run {self.run_id}")
        if self.n is not None:
            parts.append(f"N = {self.n:,} replicates")
        if self.date:
            parts.append(self.date)
        parts.append(self.source)
        return "  ·  ".join(parts)


def new_axes(ax: Axes | None = None, size: tuple[float, float] = SLIDE_SIZE) -> tuple[Figure, Axes]:
    """Return the axes to draw on: the given one, or a new slide-sized figure's."""
    if ax is not None:
        return ax.figure, ax
    with house_style():
        fig = Figure(figsize=size, layout="constrained")
        return fig, fig.add_subplot()


def add_footer(fig: Figure, footer: Footer | None) -> None:
    """Write the footer line at the bottom left of the figure."""
    if footer is None:
        return
    engine = fig.get_layout_engine()
    if engine is not None and hasattr(engine, "set") and "rect" in engine.get():
        engine.set(rect=(0.0, 0.035, 1.0, 0.965))  # leave room for the footer line
    fig.text(0.005, 0.003, footer.text(), ha="left", va="bottom", fontsize=8.5, color=OKABE_ITO["grey"])


def set_titles(fig: Figure, ax: Axes, title: str, subtitle: str = "", own_figure: bool = True) -> None:
    """Set the finding as the figure title (bold, left) and a one-line reading guide under it.

    On a shared figure (the briefing) only a short axes title is set: the page has its own headline.
    """
    if own_figure:
        title = "\n".join(textwrap.wrap(title, width=int(fig.get_figwidth() * 7.4)))
        fig.suptitle(title, x=0.01, ha="left", fontsize=15, fontweight="bold")
        if subtitle:
            # the axes may start well inside the figure (long tick labels): wrap to stay on the page
            subtitle = "\n".join(textwrap.wrap(subtitle, width=int(fig.get_figwidth() * 8.5)))
            ax.set_title(subtitle, fontsize="small", fontweight="normal", color="#555555", loc="left")
    else:
        ax.set_title(title, fontsize="medium", fontweight="bold", loc="left")


def save_figure(fig: Figure, stem: str | Path) -> list[Path]:
    """Save ``fig`` as ``stem.png`` (200 dpi) and ``stem.svg``; return both paths."""
    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    paths = [stem.with_suffix(".png"), stem.with_suffix(".svg")]
    with house_style():
        fig.savefig(paths[0], dpi=200)
        fig.savefig(paths[1])
    return paths
