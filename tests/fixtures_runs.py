"""Synthetic run directories with known outcome probabilities, for the analysis, chart and report tests.

The generator imitates the batch layer's output (docs/contracts.md: the exact ``runs.parquet`` columns and
a manifest with seed, runs, resolved scenario with provenance and run id) with a model simple enough that
every probability is known in closed form:

* per draw, an agreement hazard ``la`` (per week) and a collapse hazard ``lc`` while at war, functions of
  the sampled parameters with a planted box: ``la`` is high when ``commitment.guarantee_credibility > 0.75``
  and ``war.drift_per_year < 0.10``;
* the first agreement is comprehensive with probability ``q``, otherwise a ceasefire that turns into a
  comprehensive deal after an exponential delay with rate ``mu``;
* no collapse after an agreement.

Common random numbers: the same seed gives the same uniforms, so a variant with ``agree_mult != 1`` is a
paired comparison in which replicate i of A and B differ only through the change.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

ISSUES = (
    "TERR_CTRL",
    "TERR_RECOG",
    "NATO",
    "SEC_GUAR",
    "FORCES",
    "ARMY_CAP",
    "SANCTIONS",
    "ASSETS",
    "MINERALS",
    "US_RU_NORM",
)
HORIZONS = (26, 52, 104)
HORIZON = 104
MU = 1.0 / 40.0  # ceasefire -> comprehensive conversion rate per week
PARAMS = (
    "commitment.guarantee_credibility",
    "war.drift_per_year",
    "mediator.round_rate_per_week",
    "actors.RU.cost0_per_year",
    "actors.UA.positions.TERR_CTRL.salience",
    "scenario.structure.text_solver",
)
PROVENANCE = {
    "commitment.guarantee_credibility": {
        "src": "memo §5.2: theta 0.7 -> 0.4 cuts P(deal)",
        "asof": "2025-12-31",
    },
    "war.drift_per_year": {"src": "ISW assessments of 2025 front movement", "asof": "2025-12-31"},
    "mediator.round_rate_per_week": {"src": "seed article 03, rounds in Nov-Dec 2025"},
    "actors.RU.cost0_per_year": {"src": "SIPRI military expenditure 2025"},
    "actors.UA": {"src": "seed article 01: Kyiv's red lines"},
}


def sample_params(n_draws: int, rng: np.random.Generator) -> pd.DataFrame:
    """Parameter draws in the scenario layer's format (dotted-path columns, one row per draw)."""
    mean, kappa = 0.7, 15.0
    return pd.DataFrame(
        {
            "commitment.guarantee_credibility": rng.beta(mean * kappa, (1 - mean) * kappa, n_draws),
            "war.drift_per_year": 0.10 * np.exp(np.log(1.6) * rng.standard_normal(n_draws)),
            "mediator.round_rate_per_week": 0.35 * np.exp(np.log(1.5) * rng.standard_normal(n_draws)),
            "actors.RU.cost0_per_year": 0.03 * np.exp(np.log(1.8) * rng.standard_normal(n_draws)),
            "actors.UA.positions.TERR_CTRL.salience": rng.beta(18.0, 2.0, n_draws),
            "scenario.structure.text_solver": np.where(
                rng.random(n_draws) < 0.8, "nash", "kalai_smorodinsky"
            ),
        }
    )


def hazards(params: pd.DataFrame, agree_mult: float = 1.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Weekly agreement hazard, weekly collapse hazard and comprehensive share per draw."""
    g = params["commitment.guarantee_credibility"].to_numpy()
    d = params["war.drift_per_year"].to_numpy()
    r = params["mediator.round_rate_per_week"].to_numpy()
    box = (g > 0.75) & (d < 0.10)
    la = agree_mult * (0.003 + 0.02 * box + 0.004 * np.minimum(r, 1.0))
    lc = 0.0015 * (1.0 + 3.0 * (d > 0.2))
    q = np.clip(0.3 + 0.6 * (g - 0.5), 0.05, 0.95)
    return la, lc, q


def true_probabilities(params: pd.DataFrame, horizon: int, agree_mult: float = 1.0) -> pd.DataFrame:
    """Closed-form per-draw probability of each outcome class at ``horizon`` weeks."""
    la, lc, q = hazards(params, agree_mult)
    lam = la + lc
    first = 1.0 - np.exp(-lam * horizon)
    p_col = lc / lam * first
    p_agree = la / lam * first
    # P(agree at t <= h and conversion delay <= h - t) for the ceasefire branch
    conv = p_agree - la * np.exp(-MU * horizon) * (1.0 - np.exp(-(lam - MU) * horizon)) / (lam - MU)
    p_comp = q * p_agree + (1.0 - q) * conv
    p_cf = p_agree - p_comp
    return pd.DataFrame(
        {
            "comprehensive_deal": p_comp,
            "ceasefire": p_cf,
            "continued_war": 1.0 - p_agree - p_col,
            "collapse_escalation": p_col,
        }
    )


def simulate_runs(
    seed: int = 1, n_draws: int = 200, paths_per_draw: int = 15, agree_mult: float = 1.0
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A runs table (``runs.parquet`` columns) and the per-draw parameter table behind it."""
    ss = np.random.SeedSequence(seed)
    rng_p, rng_r = (np.random.default_rng(s) for s in ss.spawn(2))
    params = sample_params(n_draws, rng_p)
    la, lc, q = hazards(params, agree_mult)
    n = n_draws * paths_per_draw
    draw = np.repeat(np.arange(n_draws), paths_per_draw)
    e_agree, e_col, e_conv = rng_r.standard_exponential((3, n))
    u_type = rng_r.random(n)
    noise = rng_r.standard_normal((len(ISSUES), n))
    u_misc = rng_r.random((3, n))
    t_agree = e_agree / la[draw]
    t_col = e_col / lc[draw]
    comp_first = u_type < q[draw]
    agreed = t_agree < t_col
    t_comp = np.where(comp_first, t_agree, t_agree + e_conv / MU)
    t_comp = np.where(agreed, t_comp, np.inf)
    df = pd.DataFrame(
        {"draw": draw, "replicate": np.arange(n), "path": np.tile(np.arange(paths_per_draw), n_draws)}
    )
    for h in HORIZONS:
        out = np.full(n, "continued_war", dtype=object)
        out[agreed & (t_agree <= h)] = "ceasefire"
        out[t_comp <= h] = "comprehensive_deal"
        out[~agreed & (t_col <= h)] = "collapse_escalation"
        df[f"outcome_w{h}"] = out
    signed = agreed & (t_agree <= HORIZON)
    df["weeks_to_agreement"] = np.where(signed, np.ceil(t_agree), np.nan)
    df["weeks_to_comprehensive"] = np.where(t_comp <= HORIZON, np.ceil(t_comp), np.nan)
    df["agreement_type"] = np.where(signed, np.where(comp_first, "comprehensive_deal", "ceasefire"), "none")
    g = params["commitment.guarantee_credibility"].to_numpy()[draw]
    centre = {
        "TERR_CTRL": 0.64,
        "TERR_RECOG": 0.64,
        "NATO": 0.90,
        "SEC_GUAR": 0.60,
        "FORCES": 0.22,
        "ARMY_CAP": 0.52,
        "SANCTIONS": 0.59,
        "ASSETS": 0.57,
        "MINERALS": 0.50,
        "US_RU_NORM": 0.64,
    }
    is_comp = t_comp <= HORIZON
    for i, issue in enumerate(ISSUES):
        val = centre[issue] + 0.06 * noise[i]
        if issue == "SEC_GUAR":
            val = val + 0.5 * (g - 0.7)
        if issue == "TERR_CTRL":
            val = np.where(is_comp, val, 0.5 + 0.02 * noise[i])
        keep = is_comp if issue not in ("TERR_CTRL", "FORCES") else signed
        df[f"settle_{issue}"] = np.where(keep, np.clip(val, 0.0, 1.0), np.nan)
    vetoes = np.array(["RU", "UA", "EU", "US"])
    df["binding_veto"] = vetoes[np.minimum((u_misc[0] * 4).astype(int), 3)]
    df["n_rounds"] = np.floor(u_misc[1] * 40).astype(np.int64)
    df["levers_fired"] = (u_misc[2] < 0.3).astype(np.int64)
    df["events_fired"] = np.where(
        u_misc[2] < 0.1, "US_AID_CUTOFF;HU_ELECTION", np.where(u_misc[2] < 0.5, "HU_ELECTION", "")
    )
    for c in PARAMS:
        df[f"param.{c}"] = params[c].to_numpy()[draw]
    return df, params


def write_run_dir(
    path: str | Path,
    seed: int = 1,
    n_draws: int = 200,
    paths_per_draw: int = 15,
    agree_mult: float = 1.0,
    scenario_id: str = "baseline",
) -> Path:
    """Write ``runs.parquet``, ``manifest.json`` and ``summary.json`` into ``path``; return it."""
    p = Path(path)
    p.mkdir(parents=True, exist_ok=True)
    df, _ = simulate_runs(seed, n_draws, paths_per_draw, agree_mult)
    df.to_parquet(p / "runs.parquet", index=False)
    manifest = {  # the batch layer's layout (sim/batch/manifest.py)
        "run_id": p.name,
        "scenario": scenario_id,
        "seed": seed,
        "runs": len(df),
        "draws": n_draws,
        "paths_per_draw": paths_per_draw,
        "block_size": 500,
        "started": "2026-01-05T10:00:00+00:00",
        "ended": "2026-01-05T10:05:00+00:00",
        "status": "complete",
        "resolved_scenario": {
            "data": {
                "scenario": {
                    "id": scenario_id,
                    "title": "Synthetic test scenario",
                    "horizon_weeks": HORIZON,
                    "reporting_horizons_weeks": list(HORIZONS),
                },
                "issues": {k: {"label": k, "options": [0.0, 0.25, 0.5, 0.75, 1.0]} for k in ISSUES},
            },
            "provenance": PROVENANCE,
        },
    }
    (p / "manifest.json").write_text(json.dumps(manifest, indent=2))
    # summary.json as the batch layer computes it (sim.batch.summary), so the fixture is a faithful run dir
    from sim.batch.summary import SummaryAccumulator
    from sim.model import OUTCOMES

    acc = SummaryAccumulator(OUTCOMES, HORIZONS, HORIZON, ISSUES, n_draws)
    acc.add(df)
    summary = acc.finish(
        scenario=scenario_id, runs=len(df), seed=seed, draws=n_draws, paths_per_draw=paths_per_draw
    )
    (p / "summary.json").write_text(json.dumps(summary, indent=2))
    return p
