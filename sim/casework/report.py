"""What the validation harness measured: the report that ``negsim validate-engines`` renders."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

TRAIN, OUTCOMES = "deu3/deu3_train.csv", "deu3/deu3_train_outcomes.csv"
COMPROMISE = "capability × salience weighted mean"
SCORED_ENGINES = ("compromise", "nash", "bdm_scholz", "ktab_smp")  # not `calibrated`: fitted on these cases
SPLIT_SEED = 20261122  # root of the random splits (child 0) and of the bootstrap (child 1)
N_SPLITS = 500
N_BOOT = 2000
SELECTED = "best of the three, chosen on the fit half"


@dataclass
class ValidationReport:
    """Scores of engines, baselines and out-of-sample variants (all MAE on the 0-100 scale)."""

    data_dir: Path
    engines: dict[str, dict[str, float]] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    baselines: dict[str, dict[str, float]] = field(default_factory=dict)
    folds: list[dict[str, object]] = field(default_factory=list)
    pooled: dict[str, dict[str, float]] = field(default_factory=dict)
    n_cases: int = 0
    n_proposals: int = 0
    variants: list[str] = field(default_factory=list)
    variant_names: dict[str, tuple[str, ...]] = field(default_factory=dict)
    fold_params: dict[str, list[dict[str, float]]] = field(default_factory=dict)
    full_fit: dict[str, dict[str, float]] = field(default_factory=dict)
    full_fit_mae: dict[str, float] = field(default_factory=dict)
    equal_blend_mae: float = np.nan
    bootstrap: dict[str, dict[str, float]] = field(default_factory=dict)
    repeated: dict[str, dict[str, float]] = field(default_factory=dict)
    split_params: dict[str, np.ndarray] = field(default_factory=dict)
    selected_share: dict[str, float] = field(default_factory=dict)
    n_splits: int = 0
