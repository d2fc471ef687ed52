"""The standard chart set of a run directory (DESIGN §9), each saved as PNG and SVG."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sim.analysis.evppi import variance_shares
from sim.analysis.probabilities import outcome_probabilities
from sim.analysis.rundir import RunData, scenario_data
from sim.analysis.sensitivity import importance_column
from sim.analysis.settlements import issue_options, joint_settlement, settlement_summary
from sim.analysis.survival import agreement_curves
from sim.charts.outcomes import outcome_chart_data, plot_outcomes
from sim.charts.settlements import joint_chart_data, plot_joint, plot_settlements, settlement_chart_data
from sim.charts.style import Footer, save_figure
from sim.charts.survival import plot_survival, survival_chart_data
from sim.charts.tornado import plot_tornado, tornado_chart_data

KEY_OUTCOME = "comprehensive_deal"


def footer_for(run: RunData) -> Footer:
    """Footer naming the run's scenario, id, size and date."""
    return Footer(scenario=run.scenario_id, run_id=run.run_id, n=len(run.runs), date=run.date)


def issue_labels(run: RunData) -> dict[str, str]:
    """``{ISSUE: 'ISSUE: label'}`` from the resolved scenario (short labels for chart axes)."""
    issues = scenario_data(run.manifest).get("issues", {})
    out = {}
    for k, v in issues.items() if isinstance(issues, dict) else []:
        label = v.get("label", "") if isinstance(v, dict) else ""
        out[k] = f"{k}: {textwrap.shorten(label, 30, placeholder='…')}" if label and label != k else k
    return out


@dataclass
class Drivers:
    """Sensitivity table used for the tornado and the briefing, with where it came from."""

    table: pd.DataFrame
    outcome: str
    source: str  # "sensitivity.csv (Sobol')", "sensitivity.csv (Morris)" or "rank correlation across draws"


def key_outcome(run: RunData) -> str:
    """Return the outcome whose drivers the briefing ranks.

    A comprehensive deal, or continued war when deals are too rare (< 5% at the last horizon) for their
    drivers to be estimated from the run's draws.
    """
    col = f"outcome_w{max(run.horizons)}"
    return KEY_OUTCOME if (run.runs[col] == KEY_OUTCOME).mean() >= 0.05 else "continued_war"


def drivers_for(run: RunData) -> Drivers | None:
    """Return the run's ``sensitivity.csv`` if present, else the key outcome's variance shares by regression.

    The shares (:func:`sim.analysis.evppi.variance_shares`; Strong, Oakley & Brennan 2014) need no extra
    runs; a run with fewer than 10 draws, or no sampled assumption, has no drivers.
    """
    horizon = max(run.horizons)
    sens = run.path / "sensitivity.csv"
    if sens.exists():
        table = pd.read_csv(sens)
        wanted = f"{KEY_OUTCOME}@{horizon}w"
        outcome = wanted if wanted in set(table["outcome"]) else str(table["outcome"].iloc[-1])
        method = {"ST": "Sobol'", "mu_star": "Morris"}.get(importance_column(table), "?")
        return Drivers(table, outcome, f"sensitivity.csv ({method})")
    if not run.param_columns or run.runs["draw"].nunique() < 10:
        return None
    key = key_outcome(run)
    y = run.runs[f"outcome_w{horizon}"].eq(key).to_numpy(dtype=float)
    table = variance_shares(run.runs, y)
    if table.empty or not np.isfinite(table["share"]).any():
        return None
    table["outcome"] = f"{key}@{horizon}w"
    table["share_conf"] = 0.0
    source = "each assumption's share of its variance across the run's draws"
    return Drivers(table, f"{key}@{horizon}w", source)


def joint_table(run: RunData) -> tuple[pd.DataFrame | None, int]:
    """Joint settlement of territory and guarantees and the replicates settling both (None, 0 if absent)."""
    cols = set(run.runs.columns)
    if not {"settle_TERR_CTRL", "settle_SEC_GUAR"} <= cols:
        return None, 0
    data = scenario_data(run.manifest)
    joint = joint_settlement(
        run.runs,
        "TERR_CTRL",
        "SEC_GUAR",
        issue_options(data, "TERR_CTRL"),
        issue_options(data, "SEC_GUAR"),
    )
    n = int((run.runs["settle_TERR_CTRL"].notna() & run.runs["settle_SEC_GUAR"].notna()).sum())
    return joint, n


def write_chart_set(run: RunData, out_dir: str | Path) -> dict[str, list[Path]]:
    """Draw every standard chart of ``run`` into ``out_dir``; return ``{name: [png, svg]}``."""
    out = Path(out_dir)
    footer = footer_for(run)
    written: dict[str, list[Path]] = {}
    table = outcome_probabilities(run.runs)
    written["outcomes"] = save_figure(
        plot_outcomes(outcome_chart_data(table), footer=footer), out / "outcomes"
    )
    curves = agreement_curves(run.runs, run.horizon_weeks)
    written["agreement_over_time"] = save_figure(
        plot_survival(survival_chart_data(curves), footer=footer), out / "agreement_over_time"
    )
    # terms in force at the last horizon, grouped by the outcome then (a ceasefire that later became a
    # deal counts as a deal; the first agreement's type would mix the two)
    last = f"outcome_w{max(run.horizons)}"
    summary = settlement_summary(run.runs, by=last)
    when = f"by outcome at week {max(run.horizons)} (terms in force then)"
    written["settlements"] = save_figure(
        plot_settlements(
            settlement_chart_data(summary, issue_labels(run), by=last, when=when), footer=footer
        ),
        out / "settlements",
    )
    joint, n = joint_table(run)
    if joint is not None:
        written["settlement_joint"] = save_figure(
            plot_joint(joint_chart_data(joint, n), footer=footer), out / "settlement_joint"
        )
    drivers = drivers_for(run)
    if drivers is not None:
        written["drivers"] = save_figure(
            plot_tornado(tornado_chart_data(drivers.table, drivers.outcome), footer=footer), out / "drivers"
        )
    return written
