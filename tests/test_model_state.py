"""The state's status masks: ``in_status`` is a table lookup and must agree with set membership."""

from __future__ import annotations

from itertools import combinations

import numpy as np

from sim.model.state import ABSORBING, AGREEMENT, FIGHTING, STATUS_NAMES, in_status


def test_in_status_agrees_with_set_membership_for_every_subset_of_codes():
    codes = range(len(STATUS_NAMES))
    status = np.random.default_rng(0).integers(0, len(STATUS_NAMES), 500).astype(np.int8)
    for k in range(len(STATUS_NAMES) + 1):
        for subset in combinations(codes, k):
            np.testing.assert_array_equal(in_status(status, subset), np.isin(status, subset))
    for group in (FIGHTING, AGREEMENT, ABSORBING):
        mask = in_status(status, group)
        assert mask.dtype == bool and mask.shape == status.shape
        assert set(np.unique(status[mask])) <= set(group)
