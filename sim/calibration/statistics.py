"""A fact's statistic, computed per replicate from a run's records (the rows of ``runs.parquet``).

The statistic kinds are generic over record columns, so a new fact needs no new model code when the
records carry what it measures (``docs/contracts.md`` lists the records):

* ``value``: a numeric record as it is, times ``scale`` (``n_rounds``; NaN stays NaN: "not defined");
* ``by_date``: 1 if the week in the record is on or before the fact's date's week, else 0 ("never", a NaN
  or negative week, is 0);
* ``equals``: 1 if a categorical record equals a value (``outcome_w46 == continued_war``), else 0;
* ``weeks_in_force``: the number of weeks a spell (start week + duration in weeks) overlaps the fact's
  period, both ends' weeks included; a record of the first signing and the total weeks held is read as one
  spell from the first signing;
* ``contains``: 1 if a ';'-joined record (``events_fired``) holds a token, else 0.

Weeks are counted from the scenario's ``scenario.start_date``: the week of a date is
``floor((date - start_date).days / 7)``, the index of the model's weekly step that contains it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd

from sim.calibration.facts import (
    ByDateStat,
    ContainsStat,
    EqualsStat,
    Fact,
    FactSet,
    ValueStat,
    WeeksInForceStat,
    duration_column,
)


def week_of(date: dt.date, start_date: dt.date) -> int:
    """Index of the model week that contains ``date`` (negative before the start)."""
    return (date - start_date).days // 7


def fact_statistic(fact: Fact, records: pd.DataFrame, start_date: dt.date) -> np.ndarray:
    """Return the fact's statistic for every row of ``records``, as floats (NaN where it is not defined)."""
    st = fact.statistic
    col = records[st.record]
    if isinstance(st, ValueStat):
        return pd.to_numeric(col, errors="coerce").to_numpy(dtype=float) * st.scale
    if isinstance(st, ByDateStat):
        w = pd.to_numeric(col, errors="coerce").to_numpy(dtype=float)
        limit = week_of(fact.date, start_date)
        with np.errstate(invalid="ignore"):
            return ((w >= 0) & (w <= limit)).astype(float)
    if isinstance(st, EqualsStat):
        return _equals(col, st.value).astype(float)
    if isinstance(st, WeeksInForceStat):
        assert fact.period is not None
        start = pd.to_numeric(col, errors="coerce").to_numpy(dtype=float)
        dur = pd.to_numeric(records[duration_column(st)], errors="coerce").to_numpy(dtype=float)
        lo, hi = week_of(fact.period[0], start_date), week_of(fact.period[1], start_date) + 1
        ok = np.isfinite(start) & (start >= 0) & np.isfinite(dur)
        s = np.where(ok, start, 0.0)
        e = s + np.where(ok, dur, 0.0)
        overlap = np.clip(np.minimum(e, hi) - np.maximum(s, lo), 0.0, None)
        return np.where(ok, overlap, 0.0)
    assert isinstance(st, ContainsStat)
    tokens = col.fillna("").astype(str).str.split(";")
    return np.fromiter((st.token in t for t in tokens), dtype=float, count=len(tokens))


def _equals(col: pd.Series, value: Any) -> np.ndarray:
    if isinstance(value, bool) or col.dtype == bool:
        return (col.astype(bool) == bool(value)).to_numpy()
    if pd.api.types.is_numeric_dtype(col) and not isinstance(value, str):
        return (pd.to_numeric(col, errors="coerce") == float(value)).to_numpy()
    return (col.astype(str) == str(value)).to_numpy()


def statistics_table(facts: FactSet, records: pd.DataFrame, start_date: dt.date) -> pd.DataFrame:
    """One column per fact (its id), one row per record row; ``draw`` kept when the records have it."""
    out = {f.id: fact_statistic(f, records, start_date) for f in facts.facts}
    table = pd.DataFrame(out, index=records.index)
    if "draw" in records.columns:
        table.insert(0, "draw", records["draw"].to_numpy())
    return table


def per_draw(table: pd.DataFrame, ids: list[str]) -> tuple[pd.Index, np.ndarray, np.ndarray]:
    """Mean and variance over each draw's paths of every fact's statistic.

    Returns ``(draws, mean, var)`` with ``mean`` and ``var`` of shape (n_draws, n_facts). The variance is
    the sample variance over the paths (``ddof=1``; 0 for a single path); paths where a statistic is NaN
    are left out of that statistic (NaN if every path is).
    """
    grouped = table.groupby("draw", sort=True)[ids]
    mean = grouped.mean().to_numpy(dtype=float)
    var = grouped.var(ddof=1).fillna(0.0).to_numpy(dtype=float)
    return grouped.mean().index, mean, var


def record_columns(sc: Any) -> list[str]:
    """Return the per-replicate records the model writes for scenario ``sc``, from a two-replicate run.

    The model's records have one definition (:func:`sim.model.records.make_records`, ``docs/contracts.md``);
    running it is cheaper than keeping a second list in step with it.
    """
    from sim.model import simulate
    from sim.scenario import materialise, sample_parameters

    params = materialise(sc, sample_parameters(sc, 2, 0), np.arange(2))
    return list(simulate(params, 2, np.random.SeedSequence(0)))
