"""Hooks for the whole test suite: the validation data rule of tests/validation_data.py."""

from __future__ import annotations

import pytest

from tests.validation_data import MARKER, require_validation


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", f"{MARKER}(name): needs the validation set `name`; skipped where "
                                       f"it is absent, failed where it is absent and CI=true")


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Skip a marked test, or fail it if CI=true, before its fixtures if its validation set is absent."""
    for mark in item.iter_markers(MARKER):
        require_validation(*mark.args)
