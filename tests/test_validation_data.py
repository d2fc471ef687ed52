"""The validation data rule (tests/validation_data.py): skip where a set is absent, fail if CI=true."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests import validation_data

ROOT = Path(__file__).resolve().parents[1]
#: One of the exact replication tests: the BDM rounds of the EC car-emissions case.
BDM_TEST = "tests/test_engines_bdm.py::test_ec_emissions_rounds_and_risk_match_reference"


@pytest.mark.parametrize("ci", ["true", None, "false", "1"])
def test_an_absent_set_fails_only_if_ci_is_true(tmp_path, monkeypatch, ci):
    monkeypatch.setattr(validation_data, "VALIDATION", tmp_path)
    if ci is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", ci)
    outcome = pytest.fail.Exception if ci == "true" else pytest.skip.Exception
    with pytest.raises(outcome) as err:
        validation_data.require_validation("bdm")
    assert str(err.value).startswith(f"validation data folder {tmp_path / 'bdm'} is absent")


def test_a_present_set_is_returned_under_ci(tmp_path, monkeypatch):
    (tmp_path / "bdm").mkdir()
    monkeypatch.setattr(validation_data, "VALIDATION", tmp_path)
    monkeypatch.setenv("CI", "true")
    assert validation_data.require_validation("bdm") == tmp_path / "bdm"


def _run_hidden(tmp_path: Path, ci: str | None) -> subprocess.CompletedProcess:
    """Run the BDM replication test in a new pytest with the validation folder pointed at nothing."""
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env["NEGSIM_VALIDATION"] = str(tmp_path / "hidden")
    if ci is not None:
        env["CI"] = ci
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist",
                           BDM_TEST], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def test_a_replication_test_without_its_data_fails_under_ci_and_skips_elsewhere(tmp_path):
    absent = f"validation data folder {tmp_path / 'hidden' / 'bdm'} is absent"
    res = _run_hidden(tmp_path, "true")
    assert res.returncode == 1, res.stdout
    assert f"{absent}, and CI=true: CI must check the reference runs" in res.stdout
    assert "1 error" in res.stdout and "skipped" not in res.stdout
    assert "FileNotFoundError" not in res.stdout  # stopped before its fixture reads the files
    res = _run_hidden(tmp_path, None)
    assert res.returncode == 0, res.stdout
    assert "1 skipped" in res.stdout and absent in res.stdout
