"""Loading scenarios: the contract's attributes, extends overlays (merge rules, chains) and provenance."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from sim.scenario import load_scenario, resolved_for_manifest

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "baseline.yaml"
SHIPPED = sorted((ROOT / "scenarios").glob("*.yaml"))


def keys_anywhere(node: object) -> set:
    if isinstance(node, dict):
        return set(node) | set().union(*(keys_anywhere(v) for v in node.values()))
    if isinstance(node, list):
        return set().union(*(keys_anywhere(v) for v in node)) if node else set()
    return set()


@pytest.fixture(scope="module")
def base():
    return load_scenario(BASELINE)


def test_baseline_contract_attributes(base):
    assert base.id == "baseline"
    assert base.path == BASELINE
    assert base.files == [(BASELINE, hashlib.sha256(BASELINE.read_bytes()).hexdigest())]
    assert {"src", "asof", "extends"}.isdisjoint(keys_anywhere(base.data))
    # every uncertain leaf is a distribution spec at that path, and every spec in the data is listed
    for path, spec in base.uncertain.items():
        node = base.data
        for part in path.split("."):
            node = node[int(part)] if isinstance(node, list) else node[part]
        assert node is spec and "dist" in spec
    n_specs = json.dumps(base.data, default=str).count('"dist":')
    assert len(base.uncertain) == n_specs
    assert list(base.uncertain)[0] == "scenario.structure.text_solver"  # file order


def test_every_shipped_scenario_loads_and_keeps_its_schema_comment():
    for path in SHIPPED:
        sc = load_scenario(path)
        assert sc.files[0][0] == path
        first = path.read_text(encoding="utf-8").splitlines()[0]
        assert first == "# yaml-language-server: $schema=scenario.schema.json"


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture()
def chain(tmp_path):
    """baseline <- mid.yaml <- child.yaml, exercising every merge rule."""
    write(tmp_path / "mid.yaml", f"""\
extends: {BASELINE}
scenario: {{id: mid}}
war:
  L0: 0.45
  escalation_disutility: {{value: 0.7, src: mid says escalation_disutility, asof: 2025-12-30}}
  drift_per_year: {{dist: lognormal, median: 0.2, gsd: 1.6}}
actors:
  US:
    deal_bonus: 0.05
    src: mid on the US
""")
    child = write(tmp_path / "child.yaml", """\
extends: mid.yaml
scenario: {id: child}
war:
  L0: 0.55
  drift_per_year: {dist: gamma, mean: 0.1, cv: 0.5}
actors:
  UA:
    linkage:
      - {a: NATO, b: SEC_GUAR, kappa: 0.5, src: child linkage}
  RU:
    pivot_cost: {dist: uniform, low: 0.0, high: 0.2}
events:
  US_AID_CUTOFF:
    annual_prob: {mean: 0.5}
""")
    return child


def test_chain_merges_by_the_rules(chain, tmp_path, base):
    sc = load_scenario(chain)
    war = sc.data["war"]
    assert sc.id == "child"
    assert war["L0"] == 0.55  # child overrides mid overrides baseline
    assert war["escalation_disutility"] == 0.7  # from mid, unwrapped from {value: ...}
    assert war["vol_per_sqrt_year"] == base.data["war"]["vol_per_sqrt_year"]  # deep merge keeps the rest
    assert war["drift_per_year"] == {"dist": "gamma", "mean": 0.1, "cv": 0.5}  # dist replaced whole
    assert sc.data["actors"]["US"]["deal_bonus"] == 0.05  # dist -> number
    # number -> dist; lists replaced whole
    assert sc.data["actors"]["RU"]["pivot_cost"] == {"dist": "uniform", "low": 0.0, "high": 0.2}
    assert sc.data["actors"]["UA"]["linkage"] == [{"a": "NATO", "b": "SEC_GUAR", "kappa": 0.5}]
    expected = dict(base.data["events"]["US_AID_CUTOFF"]["annual_prob"], mean=0.5)
    assert sc.data["events"]["US_AID_CUTOFF"]["annual_prob"] == expected  # partial dist merge
    assert [p for p, _ in sc.files] == [chain, tmp_path / "mid.yaml", BASELINE]
    assert "actors.RU.pivot_cost" in sc.uncertain and "actors.US.deal_bonus" not in sc.uncertain


def test_provenance_survives_overlays(chain, base):
    sc = load_scenario(chain)
    prov = sc.provenance
    expected = {"src": "mid says escalation_disutility", "asof": "2025-12-30"}
    assert prov["war.escalation_disutility"] == expected
    assert prov["actors.US"] == {"src": "mid on the US", "asof": None}
    assert prov["actors.UA.linkage.0"] == {"src": "child linkage", "asof": None}
    # untouched parent provenance survives; replaced values lose theirs
    untouched = [p for p in base.provenance if p.startswith("actors.EU.")]
    assert untouched and all(prov[p] == base.provenance[p] for p in untouched)
    replaced = [p for p in base.provenance if p.startswith("actors.UA.linkage.")]
    assert all(p not in prov or p == "actors.UA.linkage.0" for p in replaced)
    if "actors.UA.linkage.0" in base.provenance:
        assert prov["actors.UA.linkage.0"] != base.provenance["actors.UA.linkage.0"]


def test_a_variants_numbers_are_not_credited_to_its_parents_sources(chain, tmp_path, base):
    """A value an overlay sets without a src shows that, not a src the parent wrote on an enclosing key."""
    from sim.analysis.rundir import source_for

    grandchild = write(tmp_path / "grandchild.yaml", """\
extends: child.yaml
scenario: {id: grandchild}
mediator:
  bias: {CN: 0.01}
  walkaway: {pause_weeks: 20, src: the grandchild on walk-aways}
""")
    sc = load_scenario(grandchild)
    assert "mediator.bias" in base.provenance  # the parent cites the whole mapping
    unsourced = {
        "mediator.bias.CN": "grandchild.yaml",  # a key added under a cited mapping
        "events.US_AID_CUTOFF.annual_prob": "child.yaml",  # one parameter of a cited distribution changed
        "actors.RU.pivot_cost": "child.yaml",  # replaced whole
        "war.L0": "child.yaml",
    }
    for path, file in unsourced.items():
        assert source_for(sc.provenance, path) == f"set by {tmp_path / file}, which gives no source", path
    # a src the overlay writes on an enclosing mapping describes the overlay's values below it
    assert source_for(sc.provenance, "mediator.walkaway.pause_weeks") == "the grandchild on walk-aways"
    own = source_for(sc.provenance, "war.escalation_disutility")
    assert own == "mid says escalation_disutility (as of 2025-12-30)"
    for kept in ("mediator.bias.RU", "war.vol_per_sqrt_year", "ripeness.kappa_c"):
        assert source_for(sc.provenance, kept) == source_for(base.provenance, kept) != "no source recorded"


def test_manifest_record_is_json_and_complete(chain):
    sc = load_scenario(chain)
    record = json.loads(json.dumps(resolved_for_manifest(sc)))
    assert record["id"] == "child"
    assert [f["path"] for f in record["files"]] == [str(p) for p, _ in sc.files]
    assert record["data"]["scenario"]["start_date"] == sc.data["scenario"]["start_date"].isoformat()
    assert record["data"]["war"]["drift_per_year"]["dist"] == "gamma"
    assert record["provenance"]["war.escalation_disutility"]["src"] == "mid says escalation_disutility"
    assert record["uncertain"] == list(sc.uncertain)


def test_errors_in_an_overlay_point_into_the_overlay(chain, tmp_path):
    from sim.scenario import ScenarioError

    bad = write(tmp_path / "bad.yaml", "extends: child.yaml\nwar:\n  L0: {value: 1.5, src: typo}\n")
    with pytest.raises(ScenarioError) as info:
        load_scenario(bad)
    assert str(info.value) == f"{bad}:3: war.L0: 1.5 is out of range (expected a probability in [0, 1])"
