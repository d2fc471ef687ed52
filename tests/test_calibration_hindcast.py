"""The hindcast table: a run's distribution of each fact's statistic against the observation, by hand."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from sim.calibration.facts import load_facts
from sim.calibration.hindcast import fact_table, markdown

FACTS = """facts_version: 1
discrepancy_sd: 0.1
facts:
  - id: NONE_SIGNED
    title: no agreement signed by 31 December
    date: 2025-12-31
    observed: 0
    obs_sd: 0.0
    source: test
    confidence: test
    statistic: {kind: by_date, record: weeks_to_agreement}
  - id: ROUNDS
    title: rounds held
    date: 2025-12-31
    observed: 22
    obs_sd: 3.0
    discrepancy_sd: 4.0
    source: test
    confidence: test
    statistic: {kind: value, record: n_rounds}
"""


def test_the_table_by_hand(tmp_path):
    path = tmp_path / "f.yaml"
    path.write_text(FACTS)
    facts = load_facts([path])
    # start 2025-02-12: 31 December is in week 46; two of four replicates signed by then
    records = pd.DataFrame({"weeks_to_agreement": [10.0, 46.0, 47.0, np.nan], "n_rounds": [2, 4, 6, 8]})
    table = fact_table(facts, records, dt.date(2025, 2, 12)).set_index("fact")
    signed = table.loc["NONE_SIGNED"]
    assert signed["mean"] == 0.5 and signed["yes_no"]
    # I = |0 - 0.5| / sqrt(0 + 0.01 + var([1, 1, 0, 0], ddof=1) = 1/3)
    assert signed["implausibility"] == pytest.approx(0.5 / np.sqrt(0.01 + 1 / 3))
    assert signed["plausible"]
    rounds = table.loc["ROUNDS"]
    # mean 5, sample variance 20/3: I = 17 / sqrt(9 + 16 + 20/3) = 3.02 > 3: not plausible
    assert rounds["mean"] == 5 and rounds["implausibility"] == pytest.approx(17 / np.sqrt(25 + 20 / 3))
    assert not rounds["plausible"]
    text = markdown(table.reset_index())
    assert "| NONE_SIGNED: no agreement signed by 31 December | yes in 50.0% of runs | no | 0.85 | yes |" \
        in text
    assert "| ROUNDS: rounds held | mean 5, 90% of runs 2.3 to 7.7 | 22 | 3.02 | **no** |" in text
