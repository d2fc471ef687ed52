"""The engine validation harness.

Every engine and baseline on DEU III, and calibrated variants scored out of sample (a fixed split by
proposal, a cluster bootstrap, and repeated grouped random half-splits); renders ``docs/validation.md``
(:mod:`sim.casework.outofsample` scores the variants, :mod:`sim.casework.validation_page` writes the page).
"""

from __future__ import annotations

import time
from pathlib import Path

import pandas as pd

from sim.casework.data import read_cases, read_outcomes
from sim.casework.outofsample import out_of_sample
from sim.casework.report import COMPROMISE, OUTCOMES, SCORED_ENGINES, TRAIN, ValidationReport
from sim.casework.run import predictions_frame, run_cases
from sim.casework.scoring import baseline_predictions, join_outcomes, summarise
from sim.errors import UserError


def validate_engines(
    data_dir: str | Path, engines: tuple[str, ...] = SCORED_ENGINES, progress: bool = False
) -> ValidationReport:
    """Score every engine and baseline on ``deu3_train`` against the real outcomes.

    Then fit the calibrated variants on each half of the cases and score them on the other half.

    Raises
    ------
    UserError
        If the DEU files are missing under ``data_dir``.
    """
    data_dir = Path(data_dir)
    for rel in (TRAIN, OUTCOMES):
        if not (data_dir / rel).is_file():
            raise UserError(f"{data_dir / rel}: no such file (expected the validation folder, see --data)")
    cases = read_cases(data_dir / TRAIN)
    outcomes = read_outcomes(data_dir / OUTCOMES)
    rep = ValidationReport(data_dir=data_dir, n_cases=len(cases))
    preds: dict[str, pd.DataFrame] = {}
    for eng in engines:
        t0 = time.perf_counter()
        preds[eng] = predictions_frame(run_cases(cases, eng, progress=progress))
        rep.seconds[eng] = time.perf_counter() - t0
        rep.engines[eng] = summarise(join_outcomes(preds[eng], outcomes))
    for name, p in baseline_predictions(cases).items():
        rep.baselines[name] = summarise(join_outcomes(p, outcomes))
        preds[name] = p

    out_of_sample(rep, cases, outcomes, preds[COMPROMISE])
    return rep
