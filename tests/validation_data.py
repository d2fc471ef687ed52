"""The validation data (``../shared/validation``) that the replication tests compare against.

A test that needs one of its sets is marked ``@needs_validation("bdm")`` (the set's folder name); the hook
in conftest.py calls :func:`require_validation` before the test and its fixtures are set up. Where the
folder is absent the test is skipped, except when the environment variable ``CI`` is ``true``: there it
fails, because CI must never pass without checking the reference runs. ``NEGSIM_VALIDATION`` points the
tests at another validation folder.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

#: The validation folder: ``$NEGSIM_VALIDATION``, else ``shared/validation`` beside the project root.
VALIDATION = Path(os.environ.get("NEGSIM_VALIDATION")
                  or Path(__file__).resolve().parents[2] / "shared" / "validation")
#: Name of the marker that :func:`needs_validation` puts on a test.
MARKER = "validation_data"


def needs_validation(name: str) -> pytest.MarkDecorator:
    """Mark a test as needing the validation set ``name`` (a folder of :data:`VALIDATION`)."""
    return getattr(pytest.mark, MARKER)(name)


def require_validation(name: str) -> Path:
    """Return the folder of validation set ``name``; skip the test if it is absent, or fail it if CI=true."""
    folder = VALIDATION / name
    if folder.is_dir():
        return folder
    absent = f"validation data folder {folder} is absent"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{absent}, and CI=true: CI must check the reference runs (set NEGSIM_VALIDATION to "
                    f"the validation folder)", pytrace=False)
    pytest.skip(f"{absent} (set NEGSIM_VALIDATION)")
