"""The state's helpers: ``in_status`` agrees with set membership; ``rows_of`` with indexing."""

from __future__ import annotations

from itertools import combinations

import numpy as np
import pytest

from sim.model.state import ABSORBING, AGREEMENT, FIGHTING, STATUS_NAMES, in_status, rows_of


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


@pytest.mark.parametrize("shape", [(40,), (40, 5), (40, 5, 10), (40, 1)])
def test_rows_of_equals_fancy_indexing_for_index_arrays_masks_and_slices(shape):
    rng = np.random.default_rng(1)
    a = rng.normal(size=shape)
    mask = rng.random(40) < 0.4  # a boolean mask must select, not be read as indices 0 and 1
    for rows in (np.flatnonzero(mask), mask, np.array([3, 3, 0, 39]), np.arange(0, dtype=np.int64),
                 slice(None), slice(5, 9)):
        got = rows_of(a, rows)
        np.testing.assert_array_equal(got, a[rows])
        assert got.shape == a[rows].shape and got.dtype == a.dtype
    b = np.asfortranarray(a) if a.ndim > 1 else a[::-1]  # any memory layout
    np.testing.assert_array_equal(rows_of(b, np.flatnonzero(mask)), b[np.flatnonzero(mask)])
