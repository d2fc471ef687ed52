"""Questions, references and resolutions files: FILE:LINE problems, and the shipped files are valid."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.analysis.ledger import FORECASTS, RESOLUTIONS, read_jsonl
from sim.scenario.problems import ScenarioError
from sim.scenario.questions import default_files, load_questions, load_references, load_resolutions

ROOT = Path(__file__).resolve().parents[1]

GOOD_Q = """\
questions:
  - id: agree_mar
    wording: An agreement by 31 March 2026
    resolves: 2026-03-31
    answer: {kind: signed_by, record: weeks_to_agreement, date: 2026-03-31}
  - id: war_on
    wording: War on at week 52
    resolves: 2027-01-03
    answer: {kind: outcome_in, record: outcome_w52, values: [continued_war]}
"""


def write(tmp_path: Path, name: str, text: str) -> str:
    p = tmp_path / name
    p.write_text(text)
    return str(p)


def problems(fn, *args) -> list[str]:
    with pytest.raises(ScenarioError) as err:
        fn(*args)
    return [str(p) for p in err.value.problems]


def test_good_questions_load(tmp_path):
    qs = load_questions([write(tmp_path, "q.yaml", GOOD_Q)])
    assert list(qs) == ["agree_mar", "war_on"]
    want = {"kind": "signed_by", "record": "weeks_to_agreement", "date": "2026-03-31"}
    assert qs["agree_mar"].answer == want
    assert qs["war_on"].line == 6


@pytest.mark.parametrize(("old", "new", "line", "what"), [
    ("kind: signed_by", "kind: signed", 5, "questions.0.answer.kind: got 'signed' (expected signed_by or "
     "outcome_in)"),
    ("    resolves: 2026-03-31\n", "", 2, "questions.0.resolves: required key is missing"),
    ("values: [continued_war]", "values: [peace]", 9, "questions.1.answer.values.0: got 'peace'"),
    ("record: outcome_w52", "record: weeks_w52", 9, "questions.1.answer.record: got 'weeks_w52'"),
    ("date: 2026-03-31}", "date: 2026-04-30}", 5, "questions.0.answer.date: 2026-04-30 is after the question "
     "resolves (2026-03-31)"),
    ("resolves: 2026-03-31", "resolves: '31 March'", 4,
     "questions.0.resolves: got '31 March' (expected a date"),
    ("    wording: War on", "    wordng: x\n    wording: War on", 7,
     "questions.1.wordng: unknown key 'wordng' (did you mean 'wording'?"),
    ("id: war_on", "id: agree_mar", 6, "questions.1.id: question 'agree_mar' is defined twice"),
])
def test_question_problems_name_file_and_line(tmp_path, old, new, line, what):
    assert old in GOOD_Q
    path = write(tmp_path, "q.yaml", GOOD_Q.replace(old, new, 1))
    found = problems(load_questions, [path])
    assert any(p.startswith(f"{path}:{line}: {what}") for p in found), found


def test_question_yaml_syntax_error_is_located(tmp_path):
    path = write(tmp_path, "q.yaml", GOOD_Q.replace("values: [continued_war]", "values: [continued_war"))
    found = problems(load_questions, [path])
    assert found[0].startswith(f"{path}:") and "YAML syntax error" in found[0]


GOOD_R = """\
references:
  - id: m1
    question: agree_mar
    kind: market
    value: 0.24
    date: 2025-12-09
    source: a market
  - id: br
    question: agree_mar
    kind: base_rate
    low: 0.1
    high: 0.2
    date: 2010-01-01
    class: wars past four years
    source: COW
"""


def test_good_references_load(tmp_path):
    qs = load_questions([write(tmp_path, "q.yaml", GOOD_Q)])
    refs = load_references([write(tmp_path, "r.yaml", GOOD_R)], qs)
    assert [(r.id, r.p) for r in refs] == [("m1", 0.24), ("br", pytest.approx(0.15))]
    assert refs[1].to_json()["class"] == "wars past four years"


@pytest.mark.parametrize(("old", "new", "line", "what"), [
    ("question: agree_mar\n    kind: market", "question: agree_may\n    kind: market", 3,
     "references.0.question: unknown question 'agree_may' (did you mean 'agree_mar'?"),
    ("value: 0.24", "value: 1.24", 5, "references.0.value: got 1.24 (expected less than or equal to 1"),
    ("kind: market", "kind: poll", 4, "references.0.kind: got 'poll' (expected signed_by or outcome_in "
     "(answers); base_rate, market"),
    ("    class: wars past four years\n", "", 8, "references.1: a base rate without its reference class "
     "(expected class: "),
    ("    value: 0.24\n", "    value: 0.24\n    low: 0.2\n", 2, "references.0: both value and low/high given "
     "(expected either value, or low and high)"),
    ("id: br", "id: m1", 8, "references.1.id: reference 'm1' is defined twice"),
])
def test_reference_problems_name_file_and_line(tmp_path, old, new, line, what):
    assert old in GOOD_R
    qs = load_questions([write(tmp_path, "q.yaml", GOOD_Q)])
    path = write(tmp_path, "r.yaml", GOOD_R.replace(old, new, 1))
    found = problems(load_references, [path], qs)
    assert any(p.startswith(f"{path}:{line}: {what}") for p in found), found


def test_resolution_problems_name_file_and_line(tmp_path):
    qs = load_questions([write(tmp_path, "q.yaml", GOOD_Q)])
    text = ("resolutions:\n"
            "  - {question: agree_mar, value: 0, date: 2026-03-31, source: record}\n"
            "  - {question: agree_mar, value: 0, date: 2026-03-31, source: record}\n"
            "  - {question: war_off, value: 1, date: 2026-03-31, source: record}\n"
            "  - {question: war_on, value: 2, date: 2026-03-31, source: record}\n")
    path = write(tmp_path, "res.yaml", text)
    found = problems(load_resolutions, path, qs)
    assert any(p.startswith(f"{path}:5: resolutions.3.value: got 2") for p in found), found
    fixed = write(tmp_path, "res2.yaml", text.replace("value: 2", "value: 1"))
    found = problems(load_resolutions, fixed, qs)
    assert f"{fixed}:3: resolutions.1.question: question 'agree_mar' is resolved twice in this file " \
           "(expected one resolution per question)" in found
    assert any(p.startswith(f"{fixed}:4: resolutions.2.question: unknown question 'war_off'") for p in found)


def test_shipped_questions_references_and_ledger_are_valid():
    qs = load_questions(default_files("questions"))
    refs = load_references(default_files("references"), qs)
    assert {"any_agreement_by_2026_12_31", "short_truce_by_2026_06_30"} <= set(qs)
    assert {r.kind for r in refs} >= {"base_rate", "market", "expert"}
    res = load_resolutions(ROOT / "ledger" / "resolutions.yaml", qs)
    assert {r.question for r in res} >= {"any_agreement_by_2026_03_31", "short_truce_by_2026_06_30"}
    entries = read_jsonl(ROOT / "ledger" / FORECASTS)
    recorded = {r["question"]: r["value"] for r in read_jsonl(ROOT / "ledger" / RESOLUTIONS)}
    assert all(e["question"] in qs and 0 <= e["p"] <= 1 for e in entries)
    assert recorded == {r.question: r.value for r in res}


def test_negsim_validate_checks_questions_references_and_resolutions(tmp_path):
    import subprocess
    import sys

    q = write(tmp_path, "q.yaml", GOOD_Q)
    bad = write(tmp_path, "r.yaml", GOOD_R.replace("question: agree_mar\n    kind: market",
                                                   "question: agree_may\n    kind: market", 1))
    shipped = ["questions/2026.yaml", "references/2026.yaml", "ledger/resolutions.yaml"]
    r = subprocess.run([sys.executable, "-m", "sim", "validate", *shipped], cwd=ROOT, capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0 and r.stdout.count(": ok") == 3, r.stderr
    r = subprocess.run([sys.executable, "-m", "sim", "validate", q, bad], cwd=ROOT, capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 2 and f"{q}: ok" in r.stdout
    assert f"{bad}:3: references.0.question: unknown question 'agree_may'" in r.stderr
