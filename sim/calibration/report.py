"""The calibration report: ``OUT/calibration.md`` and its charts.

What a reader needs to judge a history match: per wave the draws run and the share left non-implausible;
per fact the share of draws it rules out (alone, and as the only fact that does); the parameters whose
distribution moved most from prior to the non-implausible region (Kolmogorov-Smirnov distance between the
draws of wave 1, a prior sample, and the non-implausible draws of the last wave; total-variation distance
for a choice among names), with histograms; and the outcome probabilities at the scenario's horizons
under the prior and in the region, each with the 95% between-draw interval of ``negsim run``
(:func:`sim.batch.stats.between_draw_quantiles`). Data functions return tables; drawing functions take
them (and an optional ``ax``), as the other charts (:mod:`sim.charts.style`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.calibration.implausibility import ruled_out_by

#: Parameters shown with histograms.
TOP_PARAMETERS = 6


def wave_table(cal: Any) -> pd.DataFrame:
    """One row per wave: draws run, prior candidates screened, non-implausible draws and share."""
    return pd.DataFrame([{"wave": w.index, "draws": len(w.draws), "screened": int(w.screened),
                          "non_implausible": int(w.keep.sum()), "share": float(w.keep.mean()),
                          "share_second": float((w.i_second <= 3.0).mean())}
                         for w in cal.waves])


def fact_table(cal: Any) -> pd.DataFrame:
    """One row per fact: what it is, the share of the prior (wave 1) it rules out, and its mean statistic.

    The statistic's mean is given under the prior and in the non-implausible region (the last wave).
    """
    first, last = cal.waves[0], cal.final
    alone = ruled_out_by(first.imp)
    rows = []
    for j, f in enumerate(cal.facts.facts):
        kept = last.mean[last.keep, j]
        rows.append({"fact": f.id, "title": f.title, "statistic": f.describe(), "observed": f.observed,
                     "sd": float(np.sqrt(f.obs_sd ** 2 + f.discrepancy_sd ** 2)),
                     "ruled_out_prior": float(alone["alone"][j]), "only_fact_prior": float(alone["only"][j]),
                     "prior_mean": float(np.nanmean(first.mean[:, j])),
                     "calibrated_mean": float(np.nanmean(kept)) if kept.size else np.nan})
    return pd.DataFrame(rows)


def moved_parameters(prior: pd.DataFrame, post: pd.DataFrame) -> pd.DataFrame:
    """Every parameter's distance between prior and calibrated draws, largest first.

    Numeric columns: the two-sample Kolmogorov-Smirnov statistic and its p-value (SciPy); other columns
    (a choice among names): the total-variation distance between the option frequencies.
    """
    from scipy.stats import ks_2samp

    rows = []
    for col in prior.columns:
        a, b = prior[col], post[col]
        if len(b) == 0:
            continue
        if pd.api.types.is_numeric_dtype(a):
            res = ks_2samp(a.to_numpy(float), b.to_numpy(float))
            rows.append({"parameter": col, "distance": float(res.statistic), "measure": "KS",
                         "p_value": float(res.pvalue), "prior_median": float(a.median()),
                         "calibrated_median": float(b.median())})
        else:
            pa, pb = a.value_counts(normalize=True), b.value_counts(normalize=True)
            keys = pa.index.union(pb.index)
            tv = 0.5 * float(np.abs(pa.reindex(keys, fill_value=0) - pb.reindex(keys, fill_value=0)).sum())
            rows.append({"parameter": col, "distance": tv, "measure": "TV", "p_value": np.nan,
                         "prior_median": np.nan, "calibrated_median": np.nan})
    table = pd.DataFrame(rows, columns=["parameter", "distance", "measure", "p_value", "prior_median",
                                        "calibrated_median"])
    return table.sort_values("distance", ascending=False, kind="stable").reset_index(drop=True)


def outcome_table(prior_runs: pd.DataFrame, post_runs: pd.DataFrame) -> pd.DataFrame:
    """Outcome probabilities per horizon under the prior and in the region, with 95% between-draw intervals.

    ``prior_runs`` and ``post_runs`` are runs.parquet rows (``draw`` and ``outcome_w<h>`` columns).
    """
    from sim.batch.stats import between_draw_quantiles
    from sim.model import OUTCOMES

    rows = []
    horizons = sorted(int(c[len("outcome_w"):]) for c in prior_runs.columns if c.startswith("outcome_w"))
    for h in horizons:
        col = f"outcome_w{h}"
        for label, runs in (("prior", prior_runs), ("calibrated", post_runs)):
            if runs.empty:
                continue
            freq = pd.crosstab(runs["draw"], runs[col], normalize="index").reindex(columns=list(OUTCOMES),
                                                                                    fill_value=0.0)
            paths = runs.groupby("draw").size().to_numpy(dtype=float)
            f = freq.to_numpy(dtype=float)
            lo, hi = between_draw_quantiles(f, paths, (0.025, 0.975))
            for c, outcome in enumerate(OUTCOMES):
                rows.append({"horizon": h, "outcome": outcome, "which": label, "p": float(f[:, c].mean()),
                             "lo": float(lo[c]), "hi": float(hi[c])})
    return pd.DataFrame(rows, columns=["horizon", "outcome", "which", "p", "lo", "hi"])


def plot_parameters(prior: pd.DataFrame, post: pd.DataFrame, columns: list[str], footer: Any = None):
    """Histograms of prior against calibrated draws, one panel per parameter."""
    from matplotlib.figure import Figure

    from sim.charts.style import OKABE_ITO, add_footer, house_style

    n = max(1, len(columns))
    ncol = min(3, n)
    nrow = int(np.ceil(n / ncol))
    with house_style():
        fig = Figure(figsize=(10.0, 2.6 * nrow + 0.8), layout="constrained")
        axes = fig.subplots(nrow, ncol, squeeze=False).ravel()
        for ax, col in zip(axes, columns, strict=False):
            a = prior[col].to_numpy(float)
            b = post[col].to_numpy(float)
            bins = np.histogram_bin_edges(np.concatenate([a, b]), bins=20)
            ax.hist(a, bins=bins, density=True, color=OKABE_ITO["grey"], alpha=0.5, label="prior")
            ax.hist(b, bins=bins, density=True, histtype="step", linewidth=2, color=OKABE_ITO["blue"],
                    label="calibrated")
            ax.set_title(col if len(col) <= 40 else "..." + col[-37:], fontsize="small", loc="left")
            ax.set_yticks([])
        for ax in axes[len(columns):]:
            ax.set_visible(False)
        axes[0].legend(loc="best")
        fig.suptitle("Parameters the facts moved most: prior and non-implausible draws", x=0.01, ha="left",
                     fontsize=14, fontweight="bold")
        add_footer(fig, footer)
    return fig


def plot_outcomes(table: pd.DataFrame, footer: Any = None):
    """Outcome probabilities under the prior and in the non-implausible region, per horizon."""
    from matplotlib.figure import Figure

    from sim.charts.style import OUTCOME_COLOURS, OUTCOME_SHORT, add_footer, horizon_label, house_style

    horizons = sorted(table["horizon"].unique())
    with house_style():
        fig = Figure(figsize=(10.0, 5.6), layout="constrained")
        axes = fig.subplots(1, max(1, len(horizons)), squeeze=False, sharey=True).ravel()
        for ax, h in zip(axes, horizons, strict=False):
            sub = table[table["horizon"] == h]
            outcomes = list(dict.fromkeys(sub["outcome"]))
            x = np.arange(len(outcomes))
            for k, (which, hatch) in enumerate((("prior", "//"), ("calibrated", ""))):
                s = sub[sub["which"] == which].set_index("outcome").reindex(outcomes)
                if s["p"].isna().all():
                    continue
                ax.bar(x + (k - 0.5) * 0.38, s["p"], width=0.36, hatch=hatch, edgecolor="#333333",
                       color=[OUTCOME_COLOURS.get(o, "#999999") for o in outcomes],
                       alpha=0.55 if which == "prior" else 1.0, label=which)
                ax.errorbar(x + (k - 0.5) * 0.38, s["p"], yerr=[s["p"] - s["lo"], s["hi"] - s["p"]],
                            fmt="none", ecolor="#333333", capsize=3)
            ax.set_xticks(x, [OUTCOME_SHORT.get(o, o).replace(" / ", "/\n") for o in outcomes],
                          fontsize="small")
            ax.set_title(horizon_label(h), fontsize="medium", loc="left")
            ax.set_ylim(0, 1)
        axes[0].set_ylabel("probability")
        axes[0].legend(loc="upper left")
        fig.suptitle("Outcome probabilities: prior (hatched) and calibrated, 95% between-draw intervals",
                     x=0.01, ha="left", fontsize=14, fontweight="bold")
        add_footer(fig, footer)
    return fig


def plot_facts(table: pd.DataFrame, footer: Any = None):
    """Share of the prior's draws each fact rules out (alone, and as the only fact doing so)."""
    from sim.charts.style import OKABE_ITO, add_footer, new_axes, set_titles

    fig, ax = new_axes(size=(10.0, 1.2 + 0.45 * max(1, len(table))))
    y = np.arange(len(table))[::-1]
    ax.barh(y, table["ruled_out_prior"], color=OKABE_ITO["orange"], label="rules out (I > 3)")
    ax.barh(y, table["only_fact_prior"], color=OKABE_ITO["vermillion"], label="the only fact ruling out")
    ax.set_yticks(y, table["fact"])
    ax.set_xlim(0, 1)
    ax.set_xlabel("share of the prior's draws (wave 1)")
    ax.legend(loc="lower right")
    set_titles(fig, ax, "How much each fact rules out of the prior")
    add_footer(fig, footer)
    return fig


def write_report(cal: Any) -> list[Path]:
    """Write ``calibration.md`` and its charts (PNG and SVG) into the calibration's ``OUT``."""
    from sim.batch import storage
    from sim.charts.style import Footer, save_figure

    out = cal.out
    footer = Footer(scenario=f"{cal.scenario.id}, history-matched on {', '.join(cal.facts.ids)}",
                    run_id=out.name, n=sum(len(w.draws) for w in cal.waves) * cal.paths)
    written: list[Path] = []
    waves, facts = wave_table(cal), fact_table(cal)
    prior_draws = cal.waves[0].draws
    post_draws = cal.final.draws[cal.final.keep]
    numeric = [c for c in prior_draws.columns if pd.api.types.is_numeric_dtype(prior_draws[c])]
    moved = moved_parameters(prior_draws, post_draws)
    written.extend(save_figure(plot_facts(facts, footer), out / "calibration-facts"))
    top = [p for p in moved["parameter"] if p in numeric][:TOP_PARAMETERS]
    if top and len(post_draws):
        written.extend(save_figure(plot_parameters(prior_draws, post_draws, top, footer),
                                   out / "calibration-parameters"))
    prior_runs = pd.read_parquet(cal.wave_dirs[0] / storage.RUNS)
    last_runs = pd.read_parquet(cal.wave_dirs[-1] / storage.RUNS)
    kept_ids = np.flatnonzero(cal.final.keep)
    post_runs = last_runs[last_runs["draw"].isin(kept_ids)]
    outcomes = outcome_table(prior_runs, post_runs)
    if not outcomes.empty:
        written.extend(save_figure(plot_outcomes(outcomes, footer), out / "calibration-outcomes"))
    md = _markdown(cal, waves, facts, moved, outcomes, [p.name for p in written if p.suffix == ".png"])
    path = out / "calibration.md"
    path.write_text(md)
    return [path, *written]


def _markdown(cal: Any, waves: pd.DataFrame, facts: pd.DataFrame, moved: pd.DataFrame,
              outcomes: pd.DataFrame, charts: list[str]) -> str:
    n_kept = int(cal.final.keep.sum())
    lines = [
        f"# Calibration of {cal.scenario.id}",
        "",
        f"History matching (Craig et al. 1997; Vernon, Goldstein & Bower 2010) of `{cal.scenario.path}` "
        f"against {len(cal.facts.facts)} facts from {', '.join(f'`{f}`' for f in cal.facts.files)}: "
        f"{len(cal.waves)} waves, {cal.paths} paths per draw, seed {cal.seed}. A draw is ruled out when "
        "its implausibility I = |z - E f| / sqrt(V_obs + V_md + V_s) exceeds 3 for any fact (the mean and "
        "variance of the statistic over the draw's paths; observation and model-discrepancy variances from "
        "the facts file). Later waves sample the prior again and keep only the draws that Gaussian-process "
        "emulators of the waves before find non-implausible (docs/calibration.md).",
        "",
        f"**Result:** {n_kept} non-implausible draws in the last wave"
        + (f", written to `calibrated_draws.parquet` with the variant `{cal.scenario.id}_calibrated.yaml` "
           "for `negsim run`." if n_kept else "; none: no calibrated scenario was written."),
        "",
        "## Waves",
        "",
        "The last column applies the cut to the second-largest implausibility instead of the largest: a "
        "draw kept there fails at most one fact (Vernon et al. 2010, §3.1).",
        "",
        "| wave | draws run | prior draws screened | non-implausible | share | share, second-largest I |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for r in waves.itertuples():
        lines.append(f"| {r.wave} | {r.draws} | {r.screened} | {r.non_implausible} | {r.share:.1%} | "
                     f"{r.share_second:.1%} |")
    lines += ["", "## Facts", "",
              "Share of the prior's draws (wave 1) each fact rules out alone, and as the only fact that "
              "does; "
              "the statistic's mean under the prior and in the non-implausible region (last wave).", "",
              "| fact | statistic | observed | sd (obs + discrepancy) | rules out | only fact | prior mean "
              "| calibrated mean |",
              "|---|---|---:|---:|---:|---:|---:|---:|"]
    for r in facts.itertuples():
        lines.append(f"| {r.fact}: {r.title} | `{r.statistic}` | {r.observed:g} | {r.sd:.3g} | "
                     f"{r.ruled_out_prior:.1%} | {r.only_fact_prior:.1%} | {r.prior_mean:.3g} | "
                     f"{r.calibrated_mean:.3g} |")
    lines += ["", "## Parameters that moved most", "",
              "Distance between the prior's draws (wave 1) and the non-implausible draws: Kolmogorov-Smirnov "
              "(KS) for numbers, total variation (TV) for a choice among names. With few non-implausible "
              "draws small distances are noise: compare with the p-value.", "",
              "| parameter | distance | p-value | prior median | calibrated median |",
              "|---|---:|---:|---:|---:|"]
    for r in moved.head(12).itertuples():
        lines.append(f"| `{r.parameter}` | {r.distance:.3f} ({r.measure}) | {r.p_value:.3g} | "
                     f"{r.prior_median:.4g} | {r.calibrated_median:.4g} |")
    if not outcomes.empty:
        lines += ["", "## Outcome probabilities", "",
                  "Prior (wave 1) against the non-implausible draws of the last wave, with 95% between-draw "
                  "intervals.", "", "| horizon (weeks) | outcome | prior | calibrated |",
                  "|---:|---|---|---|"]
        for (h, o), g in outcomes.groupby(["horizon", "outcome"], sort=False):
            cells = {}
            for r in g.itertuples():
                cells[r.which] = f"{r.p:.2f} [{r.lo:.2f}, {r.hi:.2f}]"
            lines.append(f"| {h} | {o} | {cells.get('prior', '')} | {cells.get('calibrated', '')} |")
    if charts:
        lines += ["", "## Charts", ""] + [f"![{c}]({c})" for c in charts]
    return "\n".join(lines) + "\n"
