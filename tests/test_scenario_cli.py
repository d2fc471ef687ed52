"""`negsim validate` and `negsim schema` through a subprocess, and the shipped JSON Schema."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import yaml

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = sorted((ROOT / "scenarios").glob("*.yaml"))
SCHEMA_FILE = ROOT / "scenarios" / "scenario.schema.json"


def negsim(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sim", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)


def test_validate_shipped_scenarios_ok():
    names = [str(p.relative_to(ROOT)) for p in SHIPPED]
    res = negsim("validate", *names)
    assert res.returncode == 0, res.stderr
    assert res.stdout.splitlines() == [f"{n}: ok" for n in names]
    assert res.stderr == ""


def test_validate_reports_every_problem_of_every_file(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        f"extends: {ROOT / 'scenarios' / 'baseline.yaml'}\nwar:\n  L0: 2\n  escalation_disutility: -1\n",
        "utf-8",
    )
    evil = tmp_path / "evil.yaml"
    evil.write_text(f"a: !!python/object/apply:os.system ['touch {tmp_path / 'MARKER'}']\n", "utf-8")
    missing = tmp_path / "missing.yaml"
    res = negsim("validate", "scenarios/baseline.yaml", str(bad), str(evil), str(missing))
    assert res.returncode == 2
    assert res.stdout == "scenarios/baseline.yaml: ok\n"
    err = res.stderr.splitlines()
    assert f"{bad}:3: war.L0: 2 is out of range (expected a probability in [0, 1])" in err
    assert f"{bad}:4: war.escalation_disutility: -1 is out of range (expected a number >= 0)" in err
    assert any(line.startswith(f"{evil}:1: a: YAML tag ") for line in err)
    assert f"{missing}:1: <document>: file not found (expected an existing YAML file)" in err
    assert "Traceback" not in res.stderr
    assert not (tmp_path / "MARKER").exists()


def test_validate_needs_a_file():
    res = negsim("validate")
    assert res.returncode == 2 and "FILE" in res.stderr


def jsonable(node: object) -> object:
    """YAML data as an editor's YAML language server sees it: dates are strings, keys are strings."""
    if isinstance(node, dict):
        return {str(k): jsonable(v) for k, v in node.items()}
    if isinstance(node, list):
        return [jsonable(v) for v in node]
    if isinstance(node, dt.date):
        return node.isoformat()
    return node


def test_shipped_schema_is_what_negsim_schema_prints_and_accepts_every_scenario():
    res = negsim("schema")
    assert res.returncode == 0, res.stderr
    stale = "scenarios/scenario.schema.json is stale: run `negsim schema > scenarios/scenario.schema.json`"
    assert res.stdout == SCHEMA_FILE.read_text(encoding="utf-8"), stale
    schema = json.loads(res.stdout)
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    for path in SHIPPED:
        doc = jsonable(yaml.safe_load(path.read_text(encoding="utf-8")))
        errors = [f"{list(e.path)}: {e.message}" for e in validator.iter_errors(doc)]
        assert errors == [], f"{path.name}: {errors[:3]}"


def test_schema_rejects_what_the_loader_rejects():
    validator = jsonschema.Draft202012Validator(json.loads(SCHEMA_FILE.read_text(encoding="utf-8")))
    base = jsonable(yaml.safe_load((ROOT / "scenarios" / "baseline.yaml").read_text(encoding="utf-8")))
    base["actors"]["US"]["capabilty"] = 1.0
    base["war"]["L0"] = 1.5
    base["scenario"]["structure"]["bdm_mode"] = "clasic"
    del base["modules"]
    messages = sorted(e.message for e in validator.iter_errors(base))
    assert len(messages) == 4, messages
    overlay = {"extends": "baseline.yaml", "war": {"L0": {"dist": "betta", "mean": 0.5}}}
    assert len(list(validator.iter_errors(overlay))) == 1
    assert list(validator.iter_errors({"extends": "baseline.yaml", "war": {"L0": 0.4}})) == []
