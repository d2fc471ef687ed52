"""Roles, not names (DESIGN §2): behaviour follows the roles a scenario gives, never an actor's id."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from sim.model import simulate
from sim.scenario import load_scenario, materialise, sample_parameters

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "baseline.yaml"
# New ids keep the sorted order of the old ones (CN < EU < RU < UA < US), so the canonical actor order, and
# with it the column of every random stream, is the same: any difference in the records is then behaviour
# tied to a name.
ACTOR_RENAME = {"CN": "Alpha", "EU": "Bravo", "RU": "Charlie", "UA": "Delta", "US": "Echo"}
ISSUE_RENAME = {
    "TERR_CTRL": "I00", "TERR_RECOG": "I01", "NATO": "I02", "SEC_GUAR": "I03", "FORCES": "I04",
    "ARMY_CAP": "I05", "SANCTIONS": "I06", "ASSETS": "I07", "MINERALS": "I08", "US_RU_NORM": "I09",
}  # fmt: skip


def _sub(text: str, mapping: dict[str, str], glue: str) -> str:
    """Replace whole ids; ``glue`` lists the characters that may not touch an id on either side."""
    for old, new in mapping.items():
        text = re.sub(rf"(?<![{glue}]){re.escape(old)}(?![{glue}])", new, text)
    return text


def rename(text: str) -> str:
    """Rename every issue id, then every actor id (actor ids also stand in ``RU_tau``, ``on_UA`` ...)."""
    return _sub(_sub(text, ISSUE_RENAME, "A-Za-z0-9_"), ACTOR_RENAME, "A-Za-z0-9")


def unrename(text: str) -> str:
    """The inverse of :func:`rename` on record keys and values."""
    back = _sub(text, {v: k for k, v in ACTOR_RENAME.items()}, "A-Za-z0-9")
    return _sub(back, {v: k for k, v in ISSUE_RENAME.items()}, "A-Za-z0-9")


def _records(path: Path, draws, R: int) -> dict[str, np.ndarray]:
    sc = load_scenario(path)
    params = materialise(sc, draws, np.arange(R) // 2)
    params["scenario"]["horizon_weeks"] = 104
    return simulate(params, R, np.random.SeedSequence(2024))


def test_renaming_every_actor_and_issue_gives_identical_records(tmp_path):
    renamed = tmp_path / "renamed.yaml"
    text = BASELINE.read_text(encoding="utf-8")
    renamed.write_text(rename(text), encoding="utf-8")
    assert "US_RU_NORM" not in renamed.read_text(encoding="utf-8")
    R = 240
    draws = sample_parameters(load_scenario(BASELINE), R // 2, np.random.SeedSequence(77))
    base = _records(BASELINE, draws, R)
    other = _records(renamed, draws.rename(columns=rename), R)
    assert sorted(base) == sorted(unrename(k) for k in other)
    for key, value in other.items():
        expected = base[unrename(key)]
        got = np.array([unrename(str(v)) for v in value]) if value.dtype.kind in "OU" else value
        np.testing.assert_array_equal(got, expected, err_msg=key)
    # the run is not trivial: agreements and collapses both occur
    assert np.isin(base["outcome_w104"], ["comprehensive_deal", "ceasefire"]).any()
    assert np.any(base["outcome_w104"] == "collapse_escalation")


def test_model_code_compares_no_actor_id_with_a_literal():
    hits = [
        f"{p.relative_to(ROOT)}:{i}: {line.strip()}"
        for p in sorted((ROOT / "sim" / "model").glob("*.py"))
        for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
        if re.search(r"""["'](US|EU|RU|UA|CN)["']""", line)
    ]
    assert hits == []


@pytest.fixture(scope="module")
def uk_runs():
    R = 1200
    base_sc = load_scenario(BASELINE)
    uk_sc = load_scenario(ROOT / "scenarios" / "uk_guarantor.yaml")
    out = {}
    for name, sc in (("base", base_sc), ("uk", uk_sc)):
        draws = sample_parameters(sc, R // 4, np.random.SeedSequence(5))
        params = materialise(sc, draws, np.arange(R) // 4)
        out[name] = simulate(params, R, np.random.SeedSequence(6))
    return out


def test_sixth_actor_from_yaml_alone_is_a_veto_player_that_binds(uk_runs):
    """The United Kingdom as a second guarantor (scenarios/uk_guarantor.yaml) runs and acts by its roles.

    As a veto player on comprehensive texts it is sometimes the party furthest from yes, and one more
    signature to collect cannot make comprehensive deals markedly likelier; ceasefires need no British
    signature.
    """
    uk = uk_runs["uk"]
    assert np.any(uk["binding_veto"] == "UK")
    deal = {k: np.mean(v["outcome_w104"] == "comprehensive_deal") for k, v in uk_runs.items()}
    se = np.sqrt(deal["base"] * (1 - deal["base"]) / len(uk["outcome_w104"]))
    assert deal["uk"] <= deal["base"] + 2 * se
