"""The one-page briefing (DESIGN §9): headline in ICD 203 words, key charts, the assumptions that matter.

One A4 landscape page, drawn as a single matplotlib figure and written with ``PdfPages``: the headline
numbers in words with their intervals, the outcome and time-to-agreement charts, the five assumptions
that move the key outcome most with their sources from the scenario's provenance, and the run id.
Probabilities use the ICD 203 expressions of likelihood (ODNI 2015) so the words and the numbers agree.

References
----------
Office of the Director of National Intelligence (2015). Intelligence Community Directive 203.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib as mpl
import pandas as pd
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure

from sim.analysis.diagnostics import diagnostics
from sim.analysis.probabilities import outcome_probabilities, probability_of
from sim.analysis.references import reference_lines
from sim.analysis.rundir import RunData, scenario_data, source_for
from sim.analysis.sensitivity import importance_column
from sim.analysis.survival import agreement_curves
from sim.analysis.words import headline_sentence, horizon_phrase
from sim.charts.chartset import Drivers, drivers_for, footer_for
from sim.charts.outcomes import outcome_chart_data, plot_outcomes
from sim.charts.style import OKABE_ITO, RC
from sim.charts.survival import plot_survival, survival_chart_data

A4_LANDSCAPE = (11.69, 8.27)


@dataclass
class Assumption:
    """One row of the 'assumptions that matter most' table."""

    parameter: str
    effect: str
    source: str


@dataclass
class BriefingData:
    """Everything the page says, prepared (and testable) before drawing."""

    title: str
    subtitle: str
    headlines: list[str]
    assumptions: list[Assumption]
    drivers_note: str
    notes: list[str]
    footer: str
    why: str = ""
    extra: dict = field(default_factory=dict)
    partials: list[str] = field(default_factory=list)
    calibration: str = ""
    references: list[str] = field(default_factory=list)


def _effect_text(row: pd.Series, measure: str) -> str:
    """Short effect description (fits the table column): what moving the assumption does."""
    floor = row.get("noise_floor", float("nan"))
    noisy = " (within noise)" if pd.notna(floor) and row[measure] <= 1.5 * floor else ""
    if measure in ("ST", "share"):
        return f"{100 * row[measure]:.0f}% of the variance{noisy}"
    if measure == "mu_star":
        sign = "+" if row.get("mu", 0.0) > 0 else "−"
        return f"{sign}{100 * row['mu_star']:.0f} points over its range{noisy}"
    word = "more" if row["rho"] > 0 else "less"
    return f"rank corr. {row['rho']:+.2f}: higher, {word} likely"


def _outcome_phrase(output: str) -> str:
    """``comprehensive_deal@104w`` -> ``P(comprehensive deal within two years)``."""
    name, _, h = output.partition("@")
    kind = "after" if name in ("continued_war", "ceasefire") else "within"
    when = horizon_phrase(int(h.rstrip("w")), kind) if h.rstrip("w").isdigit() else h
    return f"P({name.replace('_', ' ')} {when})"


def key_assumptions(drivers: Drivers | None, provenance: dict, n: int = 5) -> list[Assumption]:
    """Return the ``n`` most influential parameters for the drivers' outcome, with their sources."""
    if drivers is None:
        return []
    measure = importance_column(drivers.table)
    sel = drivers.table[drivers.table["outcome"] == drivers.outcome]
    sel = sel.sort_values(measure, ascending=False, na_position="last").head(n)
    return [
        Assumption(str(r["parameter"]), _effect_text(r, measure), source_for(provenance, str(r["parameter"])))
        for _, r in sel.iterrows()
    ]


def _percent(p: float) -> str:
    """Write a probability in whole percent, never rounding a possibility to certainty or to nothing."""
    if 0.0 < p < 0.005:
        return "<1"
    if 0.995 <= p < 1.0:
        return ">99"
    return f"{100 * p:.0f}"


def partial_lines(summary: dict, scenario: dict, horizons: list[int]) -> list[str]:
    """Say P(signed by each horizon) of the partial agreements beside the outcomes, from summary.json.

    They are never a ceasefire or a deal (sim/model/partials.py), so the page keeps them apart from the
    four outcome classes; one signed before the scenario starts is said to be in force from the start.
    Returns up to two lines (empty if the run has no partial agreements).
    """
    found = summary.get("partial_agreements") or {}
    if not found:
        return []
    declared = scenario.get("partial_agreements") or {}
    shown = [str(h) for h in horizons if str(h) in next(iter(found.values()))["by_horizon"]]
    bits, at_start = [], []
    for pid, rec in found.items():
        if (declared.get(pid) or {}).get("in_force_at_start"):
            at_start.append(rec["label"])
            continue
        ps = "/".join(_percent(rec["by_horizon"][h]["p"]) for h in shown)
        bits.append(f"{rec['label']} {ps}%")
    when = "/".join(shown)
    already = f"; in force from the start: {', '.join(at_start)}" if at_start else ""
    head = f"Partial agreements beside these outcomes (none is a ceasefire{already})"
    return [f"{head}, P(signed by week {when}):", "; ".join(bits) + "."] if bits else [head + "."]


def calibration_line(summary: dict) -> str:
    """One line: whether the run's parameters were history-matched (``summary.json``'s ``calibration``)."""
    cal = summary.get("calibration") or {}
    if not cal.get("calibrated"):
        return "Not calibrated: every assumption drawn from its prior."
    facts = [str(f) for f in cal.get("facts", [])]
    waves = cal.get("waves")
    return (f"Calibrated by history matching on {len(facts)} fact{'s' if len(facts) != 1 else ''} ("
            f"{', '.join(facts) or 'none named'})" + (f", {waves} waves" if waves else "") + ".")


def briefing_data(run: RunData) -> BriefingData:
    """Prepare the page: ICD 203 headlines, drivers with sources, notes and footer."""
    table = outcome_probabilities(run.runs)
    hs = run.horizons
    last = max(hs)
    year = 52 if 52 in hs else min(hs)
    picks = [
        ("comprehensive_deal", year),
        ("comprehensive_deal", last),
        ("ceasefire", last),
        ("continued_war", last),
        ("collapse_escalation", last),
    ]
    seen = set()
    headlines = []
    for outcome, h in picks:
        if (outcome, h) in seen:
            continue
        seen.add((outcome, h))
        r = probability_of(table, outcome, h)
        headlines.append(headline_sentence(outcome, h, float(r["p"]), float(r["lo80"]), float(r["hi80"])))
    data = scenario_data(run.manifest)
    meta = data.get("scenario", {}) if isinstance(data, dict) else {}
    start = meta.get("start_date", "")
    title = "Russia–Ukraine negotiations: how likely is a settlement?"
    subtitle = f"Scenario '{run.scenario_id}'" + (f": {meta['title']}" if meta.get("title") else "")
    if start:
        subtitle += f"  ·  horizons counted from {start}"
    drivers = drivers_for(run)
    assumptions = key_assumptions(drivers, run.provenance)
    drivers_note = (
        f"What is worth finding out about {_outcome_phrase(drivers.outcome)} — {drivers.source}"
        if drivers is not None
        else "No sampled assumptions in this run: run `negsim sensitivity` to rank the drivers"
    )
    curves = agreement_curves(run.runs, run.horizon_weeks)
    med = curves["first_agreement"].median()
    ppd = float(table["paths_per_draw"].iloc[0])
    n_draws = int(table["n_draws"].iloc[0])
    notes = [
        "Numbers: probability over all simulated runs; brackets: 80% range of that probability across the "
        f"uncertain assumptions ({n_draws} parameter draws of {ppd:.0f} runs each), never narrower than "
        "the simulation's own 95% error.",
        "Words follow ICD 203: almost no chance 1–5%, very unlikely 5–20%, unlikely 20–45%, roughly even "
        "45–55%, likely 55–80%, very likely 80–95%, almost certain 95–99%.",
        (
            f"Half of all runs reach some agreement by week {med:.0f}."
            if med is not None
            else f"Fewer than half of all runs reach any agreement within {run.horizon_weeks} weeks."
        )
        + f" Expected weeks without agreement in the first {run.horizon_weeks}: "
        f"{curves['first_agreement'].rmst:.0f}.",
        "A model of stated assumptions, not a prediction market: the ranges show how much the answer "
        "depends on them.",
    ]
    f = footer_for(run)
    commit = str(run.manifest.get("git_commit") or "")[:10]
    footer = f.text() + (f"  ·  commit {commit}" if commit else "")
    why = "Why: " + diagnostics(run.runs).sentence()
    return BriefingData(
        title,
        subtitle,
        headlines,
        assumptions,
        drivers_note,
        notes,
        footer,
        extra={"table": table, "curves": curves},
        why=why,
        partials=partial_lines(run.summary, data if isinstance(data, dict) else {}, hs),
        calibration=calibration_line(run.summary),
        references=reference_lines(run),
    )


BRIEF_RC = {
    **RC,
    "font.size": 8,
    "axes.titlesize": 9.5,
    "xtick.labelsize": 7.5,
    "ytick.labelsize": 7.5,
    "axes.labelsize": 8,
    "legend.fontsize": 7.5,
}


def plot_briefing(data: BriefingData) -> Figure:
    """Draw the page on one A4 landscape figure."""
    with mpl.rc_context(BRIEF_RC):
        fig = Figure(figsize=A4_LANDSCAPE)
        ink = "#1A1A1A"
        fig.text(0.035, 0.955, data.title, fontsize=17, fontweight="bold", color=ink, va="top")
        fig.text(0.035, 0.915, data.subtitle, fontsize=9.5, color="#444444", va="top")
        fig.add_artist(mpl.lines.Line2D([0.035, 0.965], [0.895, 0.895], color=OKABE_ITO["blue"], lw=2))
        y = 0.875
        fig.text(0.035, y, "Bottom line", fontsize=11, fontweight="bold", color=OKABE_ITO["blue"], va="top")
        if data.calibration:  # whether the assumptions were history-matched, and on which facts
            fig.text(0.965, y, textwrap.shorten(data.calibration, 110, placeholder="…"), fontsize=8.5,
                     color="#444444", ha="right", va="top")
        y -= 0.03
        step = 0.028 if data.partials else 0.031  # room for the partial agreements above the charts
        for line in data.headlines:
            fig.text(0.045, y, "■  " + line, fontsize=11, color=ink, va="top")
            y -= step
        for line in data.partials:
            fig.text(0.062, y, textwrap.shorten(line, 200, placeholder="…"), fontsize=8, color="#444444",
                     va="top")
            y -= 0.016
        draw_references(fig, data.references)
        lower = 0.03 if data.partials else 0.0  # the charts make room for the partial agreements' lines
        ax_out = fig.add_axes((0.13, 0.335, 0.33, 0.325 - lower))
        plot_outcomes(outcome_chart_data(data.extra["table"]), ax=ax_out)
        ax_out.set_title(
            "Probability of each outcome (dot) with 80% and 95% ranges",
            loc="left",
            fontsize=9.5,
            fontweight="bold",
            x=-0.28,
        )
        ax_km = fig.add_axes((0.56, 0.375, 0.40, 0.285 - lower))
        plot_survival(survival_chart_data(data.extra["curves"]), ax=ax_km)
        ax_km.set_title(
            "Probability that an agreement has been signed, by week",
            loc="left",
            fontsize=9.5,
            fontweight="bold",
        )
        # assumptions table
        y = 0.265
        fig.text(
            0.035, y, data.drivers_note, fontsize=10.5, fontweight="bold", color=OKABE_ITO["blue"], va="top"
        )
        y -= 0.027
        if data.assumptions:
            fig.text(0.045, y, "Assumption (scenario path)", fontsize=8, color="#666666", va="top")
            fig.text(0.33, y, "Effect", fontsize=8, color="#666666", va="top")
            fig.text(0.53, y, "Source", fontsize=8, color="#666666", va="top")
            y -= 0.02
        for i, a in enumerate(data.assumptions, start=1):
            fig.text(0.045, y, f"{i}. {a.parameter}", fontsize=8.5, color=ink, va="top", fontweight="bold")
            fig.text(
                0.33, y, textwrap.shorten(a.effect, 40, placeholder="…"), fontsize=8.5, color=ink, va="top"
            )
            fig.text(
                0.53, y, textwrap.shorten(a.source, 76, placeholder="…"), fontsize=8.5, color=ink, va="top"
            )
            y -= 0.021
        if data.why:
            fig.text(
                0.045,
                min(y - 0.004, 0.108),
                textwrap.shorten(data.why, 190, placeholder="…"),
                fontsize=8.5,
                color=ink,
                va="top",
                style="italic",
            )
        fig.text(0.035, 0.042, "  ".join(data.notes), fontsize=7, color="#555555", va="bottom", wrap=True)
        fig.text(0.035, 0.014, data.footer, fontsize=7.5, color="#777777", va="bottom")
    return fig


def draw_references(fig: Figure, lines: list[str], x: float = 0.69, top: float = 0.85) -> None:
    """Write the model's numbers beside the reference forecasts in the top right of the page.

    The block sits right of the bottom-line sentences (which end before ``x``), below the calibration
    line and above the partial agreements' lines; each line wraps at 62 characters, at most 7 wrapped
    lines in all.
    """
    if not lines:
        return
    ink = "#1A1A1A"
    fig.text(x, top, "Beside other forecasts", fontsize=9, fontweight="bold", color=OKABE_ITO["blue"],
             va="top")
    y = top - 0.021
    wrapped = [(i, part) for i, line in enumerate(lines) for part in textwrap.wrap(line, 62)][:7]
    for k, (i, part) in enumerate(wrapped):
        first = k == 0 or wrapped[k - 1][0] != i
        is_why = lines[i].startswith("Why")
        fig.text(x + (0.0 if first else 0.01), y, ("▸ " if first and not is_why else "") + part, fontsize=7,
                 color=ink if not is_why else "#444444", style="italic" if is_why else "normal", va="top")
        y -= 0.0152 + (0.003 if k + 1 < len(wrapped) and wrapped[k + 1][0] != i else 0.0)


def save_briefing(data: BriefingData, path: str | Path, subject: str = "") -> Path:
    """Draw ``data`` and write it as a one-page PDF at ``path``."""
    p = Path(path)
    fig = plot_briefing(data)
    meta = {"Title": data.title, "Subject": subject, "Creator": "negsim report"}
    with mpl.rc_context(BRIEF_RC), PdfPages(p, metadata=meta) as pdf:
        pdf.savefig(fig)
    return p


def write_briefing(run: RunData, path: str | Path) -> BriefingData:
    """Prepare and write ``briefing.pdf`` (one page) for ``run``; return what it says."""
    data = briefing_data(run)
    save_briefing(data, path, run.run_id)
    return data
