"""Run an engine over many cases, with a progress bar, into prediction and history tables."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from sim.casework.adapters import CaseForecast, forecast_case
from sim.casework.data import Case


def run_cases(
    cases: Sequence[Case],
    engine: str,
    rounds: int | None = None,
    scale: tuple[float, float] | None = None,
    progress: bool = True,
) -> list[CaseForecast]:
    """Forecast every case with one engine (``tqdm`` progress bar on stderr unless ``progress`` is False)."""
    it = tqdm(cases, desc=f"{engine}", unit="case", disable=not progress, leave=False)
    return [forecast_case(c, engine, rounds, scale) for c in it]


def predictions_frame(results: Sequence[CaseForecast]) -> pd.DataFrame:
    """``case,dimension,prediction``: one row per case and dimension."""
    rows = [
        (r.case.name, dim, float(p))
        for r in results
        for dim, p in zip(r.case.dimensions, r.prediction, strict=True)
    ]
    return pd.DataFrame(rows, columns=["case", "dimension", "prediction"])


def history_frame(results: Sequence[CaseForecast]) -> pd.DataFrame:
    """Return ``case,dimension,round,actor,position`` rows; round 0 holds the inputs.

    Actors without a position on a dimension are left out.
    """
    parts = []
    for r in results:
        t, n, d = r.history.shape
        tt, aa, dd = np.meshgrid(np.arange(t), np.arange(n), np.arange(d), indexing="ij")
        df = pd.DataFrame(
            {
                "case": r.case.name,
                "dimension": np.asarray(r.case.dimensions, dtype=object)[dd.ravel()],
                "round": tt.ravel(),
                "actor": np.asarray(r.case.actors, dtype=object)[aa.ravel()],
                "position": r.history.ravel(),
            }
        )
        parts.append(df[~np.isnan(df["position"].to_numpy())])
    if not parts:
        return pd.DataFrame(columns=["case", "dimension", "round", "actor", "position"])
    out = pd.concat(parts, ignore_index=True)
    # dimension, then actor in file order, then round: reads like the reference trajectory files
    return out


def probabilities_frame(results: Sequence[CaseForecast]) -> pd.DataFrame:
    """Return ``case,actor,round,probability`` rows (KTAB's reference format) where an engine has them."""
    parts = []
    for r in results:
        if r.probabilities is None:
            continue
        t, n = r.probabilities.shape
        tt, aa = np.meshgrid(np.arange(t), np.arange(n), indexing="ij")
        parts.append(
            pd.DataFrame(
                {
                    "case": r.case.name,
                    "actor": np.asarray(r.case.actors, dtype=object)[aa.ravel()],
                    "round": tt.ravel(),
                    "probability": r.probabilities.ravel(),
                }
            )
        )
    if not parts:
        return pd.DataFrame(columns=["case", "actor", "round", "probability"])
    return pd.concat(parts, ignore_index=True).sort_values(["case", "actor", "round"], kind="stable")
