from pathlib import Path

from sim.model.modules import MODULE_INFO, model_doc
from sim.model.params import MODULES
from sim.scenario.schema import Modules

ROOT = Path(__file__).resolve().parents[1]


def test_every_switch_has_one_record_and_matches_the_schema():
    switches = [m.switch for m in MODULE_INFO]
    assert len(switches) == len(set(switches))
    assert set(switches) == set(MODULES) == set(Modules.model_fields)


def test_records_name_literature_and_existing_code():
    for m in MODULE_INFO:
        assert m.literature and m.when_off and m.models
        for path in m.code.split(", "):
            assert (ROOT / path).is_file(), path


def test_docs_model_md_is_current():
    assert (ROOT / "docs" / "model.md").read_text() == model_doc(), (
        "regenerate with: python -m sim.model.modules > docs/model.md"
    )


def test_every_shipped_lever_has_its_path_documented():
    import yaml

    from sim.model.modules import LEVER_PATHS

    shipped = set(yaml.safe_load((ROOT / "levers" / "baseline.yaml").read_text())["levers"])
    documented = {name for p in LEVER_PATHS for name in p.lever.split(", ")}
    assert shipped == documented
