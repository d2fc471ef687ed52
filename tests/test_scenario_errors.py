"""Every class of scenario error: exact message, exact line, all problems in one pass, nothing executed.

Small files are written by each test (tmp_path); overlays extend the shipped baseline by absolute path so
that line numbers are those of the small file, never of the baseline (which other people edit).
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from sim.scenario import ScenarioError, load_scenario

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "baseline.yaml"
ISSUES = "TERR_CTRL, TERR_RECOG, NATO, SEC_GUAR, FORCES, ARMY_CAP, SANCTIONS, ASSETS, MINERALS, US_RU_NORM"
ACTORS = "US, RU, UA, EU, CN"


def problems_of(path: Path) -> list[str]:
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    return str(info.value).splitlines()


def write(tmp_path: Path, text: str | bytes, name: str = "s.yaml") -> Path:
    p = tmp_path / name
    if isinstance(text, bytes):
        p.write_bytes(text)
    else:
        p.write_text(text, encoding="utf-8")
    return p


def overlay(tmp_path: Path, body: str, name: str = "v.yaml") -> Path:
    """An overlay of the baseline; ``body`` starts on line 2."""
    return write(tmp_path, f"extends: {BASELINE}\n" + body, name)


# --- whole-document problems ----------------------------------------------------------------------
def test_missing_file(tmp_path):
    p = tmp_path / "nope.yaml"
    assert problems_of(p) == [f"{p}:1: <document>: file not found (expected an existing YAML file)"]


def test_empty_file_and_comment_only_file(tmp_path):
    for text in ("", "# yaml-language-server: $schema=scenario.schema.json\n\n"):
        p = write(tmp_path, text)
        assert problems_of(p) == [f"{p}:1: <document>: file is empty (expected a mapping of scenario blocks)"]


def test_binary_file_with_nul_bytes(tmp_path):
    p = write(tmp_path, b"a: 1\nb: \x00\x01\n")
    assert problems_of(p) == [
        f"{p}:2: <document>: file contains NUL bytes, it looks binary (expected a UTF-8 text YAML file)"
    ]


def test_invalid_utf8(tmp_path):
    p = write(tmp_path, b"a: 1\n\nb: caf\xe9\n")
    assert problems_of(p) == [f"{p}:3: <document>: invalid UTF-8 byte 0xe9 (expected a UTF-8 text YAML file)"]


def test_tabs_in_indentation_every_line_reported(tmp_path):
    p = write(tmp_path, "a:\n\tb: 1\n  c: 2\n\t\td: 3\n")
    msg = "<document>: tab character in indentation (expected spaces: YAML forbids tabs for indentation)"
    assert problems_of(p) == [f"{p}:2: {msg}", f"{p}:4: {msg}"]


def test_yaml_syntax_error_points_at_line(tmp_path):
    p = write(tmp_path, "a: 1\nb: [1, 2\nc: 3\n")
    (line,) = problems_of(p)
    assert line == (f"{p}:3: <document>: YAML syntax error: while parsing a flow sequence expected ',' or "
                    "']', but got ':' (expected valid YAML)")


def test_top_level_not_a_mapping(tmp_path):
    p = write(tmp_path, "- 1\n- 2\n")
    assert problems_of(p) == [f"{p}:1: <document>: top level is a list (expected a mapping of scenario "
        "blocks)"]
    p = write(tmp_path, "just text\n")
    assert problems_of(p) == [
        f"{p}:1: <document>: top level is a str ('just text') (expected a mapping of scenario blocks)"
    ]


def test_duplicate_keys_detected_with_both_lines(tmp_path):
    p = overlay(tmp_path, "war:\n  L0: 0.5\n  escalation_disutility: 0.7\n  L0: 0.6\n")
    assert problems_of(p) == [
        f"{p}:5: war.L0: duplicate key 'L0' (first defined on line 3; expected each key once)"
    ]


def test_nan_and_infinities(tmp_path):
    p = overlay(
        tmp_path, "war:\n  L0: .nan\n  escalation_disutility: .inf\n  strain_recovery_per_year: -.Inf\n"
    )
    assert problems_of(p) == [
        f"{p}:3: war.L0: .nan is not a finite number (expected a finite number)",
        f"{p}:4: war.escalation_disutility: .inf is not a finite number (expected a finite number)",
        f"{p}:5: war.strain_recovery_per_year: -.Inf is not a finite number (expected a finite number)",
    ]


# --- hostile files --------------------------------------------------------------------------------
def test_python_tags_rejected_and_never_run(tmp_path):
    marker = tmp_path / "MARKER"
    p = overlay(tmp_path, f"war:\n  L0: !!python/object/apply:os.system [\"touch {marker}\"]\n")
    lines = problems_of(p)
    assert not marker.exists()
    assert lines == [
        f"{p}:3: war.L0: YAML tag 'tag:yaml.org,2002:python/object/apply:os.system' is not allowed (expected "
        "plain YAML data: mappings, lists, strings, numbers, booleans, dates)"
    ]
    p = write(tmp_path, f"!!python/object/apply:os.system [\"touch {marker}\"]\n", "top.yaml")
    assert "is not allowed" in problems_of(p)[0]
    assert not marker.exists()


def test_billion_laughs_rejected_fast(tmp_path):
    rows = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True):
        rows.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    p = write(tmp_path, "\n".join(rows) + "\n")
    start = time.process_time()  # CPU time: other processes on a busy machine do not count
    lines = problems_of(p)
    assert time.process_time() - start < 2.0
    # a holds 10 values, b 91, c 820, d 7,381, e 66,430: the budget of 50,000 runs out inside e (line 5)
    assert lines == [
        f"{p}:5: e: more than 50000 values after expanding aliases (expected a scenario, not an alias bomb)"
    ]


def test_absurd_nesting_rejected_fast(tmp_path):
    p = write(tmp_path, "a: " + "[" * 20000 + "]" * 20000 + "\n")
    start = time.process_time()
    assert problems_of(p) == [
        f"{p}:1: <document>: nesting deeper than 64 levels (expected a scenario, not this)"
    ]
    assert time.process_time() - start < 2.0


def test_recursive_alias_rejected(tmp_path):
    p = write(tmp_path, "x: 1\na: &r [*r]\n")
    assert problems_of(p) == [f"{p}:2: a: nesting deeper than 64 levels (expected a scenario, not a "
        "recursive "
                              "alias)"]


# --- extends --------------------------------------------------------------------------------------
def test_extends_cycle(tmp_path):
    write(tmp_path, "extends: b.yaml\n", "a.yaml")
    write(tmp_path, "# b\nextends: a.yaml\n", "b.yaml")
    p = tmp_path / "a.yaml"
    assert problems_of(p) == [
        f"{tmp_path / 'b.yaml'}:2: extends: extends cycle: a.yaml -> b.yaml -> a.yaml (expected a chain of "
        "parents that ends)"
    ]


def test_extends_self(tmp_path):
    p = write(tmp_path, "extends: s.yaml\n")
    assert problems_of(p) == [f"{p}:1: extends: extends cycle: s.yaml -> s.yaml (expected a chain of parents "
                              "that ends)"]


def test_missing_parent(tmp_path):
    p = write(tmp_path, "# a variant\nextends: gone.yaml\n")
    assert problems_of(p) == [
        f"{p}:2: extends: parent file 'gone.yaml' not found (expected a path relative to {p})"
    ]


def test_problem_in_parent_names_the_parent_file(tmp_path):
    write(tmp_path, f"extends: {BASELINE}\nwar:\n  L0: 7\n", "mid.yaml")
    p = write(tmp_path, "extends: mid.yaml\nwar:\n  escalation_disutility: 0.5\n")
    assert problems_of(p) == [f"{tmp_path / 'mid.yaml'}:3: war.L0: 7 is out of range (expected a probability "
                              "in [0, 1])"]


# --- schema: keys, types, ranges ------------------------------------------------------------------
def test_unknown_key_with_did_you_mean(tmp_path):
    p = overlay(tmp_path, "actors:\n  RU:\n    capabilty: 2\n")
    (line,) = problems_of(p)
    assert line.startswith(f"{p}:4: actors.RU.capabilty: unknown key 'capabilty' (did you mean 'capability'? "
                           "expected one of: name, roles, capability, positions,")


def test_unknown_top_level_block(tmp_path):
    p = overlay(tmp_path, "\nmediatr:\n  actor: US\n")
    (line,) = problems_of(p)
    assert line.startswith(f"{p}:3: mediatr: unknown key 'mediatr' (did you mean 'mediator'? expected "
        "one of: "
                           "schema_version, scenario, modules,")


def test_wrong_types(tmp_path):
    p = overlay(tmp_path, "modules:\n  events: yes please\nscenario:\n  horizon_weeks: 10.5\n"
                          "war:\n  L0: [0.5]\n  escalation_disutility: high\n")
    assert problems_of(p) == [
        f"{p}:3: modules.events: got 'yes please' (expected a valid boolean)",
        f"{p}:5: scenario.horizon_weeks: got 10.5 (expected a valid integer)",
        f"{p}:7: war.L0: got [0.5] (expected a probability in [0, 1], or a distribution)",
        f"{p}:8: war.escalation_disutility: got text 'high' (expected a number >= 0, or a distribution)",
    ]


def test_out_of_range_fixed_values(tmp_path):
    p = overlay(tmp_path, "actors:\n  RU:\n    capability: 0\n    positions:\n      NATO: {salience: -0.1}\n"
                          "war:\n  L_min: 1.2\n  vol_per_sqrt_year: -0.05\n")
    assert problems_of(p) == [
        f"{p}:4: actors.RU.capability: 0 is out of range (expected a number > 0)",
        f"{p}:6: actors.RU.positions.NATO.salience: -0.1 is out of range (expected a number >= 0)",
        f"{p}:8: war.L_min: 1.2 is out of range (expected a probability in [0, 1])",
        f"{p}:9: war.vol_per_sqrt_year: -0.05 is out of range (expected a number >= 0)",
    ]


def test_bad_distribution_parameters_each_reported(tmp_path):
    body = """\
war:
  drift_per_year: {dist: lognormal, median: 0.1, gsd: 1.0}
  aid_sensitivity: {dist: normal, mean: 0.8, sd: 0}
  escalation_disutility: {dist: normal, mean: 0.8, sd: 0.1, low: 1.0, high: 0.5}
  L0: {dist: beta, mean: 0.5, kappa: 0}
  L_min: {dist: beta, mean: 1.0, kappa: 10}
  strain_recovery_per_year: {dist: gamma, mean: 0.3, cv: -1}
  ceasefire_intensity: {dist: uniform, low: 0.2, high: 0.1}
  relapse_intensity: {dist: betta, mean: 0.5, kappa: 3}
  relapse_weeks: {dist: lognormal, median: 8, gsd: 1.5, sd: 2}
scenario:
  structure:
    text_solver: {dist: choice, options: [nash, kalai_smorodinsky], probs: [0.5, 0.6]}
    bdm_mode: {dist: choice, options: [smooth, clasic], probs: [0.5, 0.5]}
mediator:
  text_weights0: {dist: dirichlet, mean: {US: 0.5, RU: 0.6}, concentration: 10}
"""
    p = overlay(tmp_path, body)
    assert problems_of(p) == [
        f"{p}:3: war.drift_per_year.gsd: must be > 1, got 1.0 (expected a geometric sd > 1, e.g. 1.5)",
        f"{p}:4: war.aid_sensitivity.sd: must be > 0, got 0 (expected a positive standard deviation)",
        f"{p}:5: war.escalation_disutility.high: high 0.5 must exceed low 1.0 (expected low < high)",
        f"{p}:6: war.L0.kappa: must be > 0, got 0 (expected a positive concentration)",
        f"{p}:7: war.L_min.mean: must be strictly between 0 and 1, got 1.0 (expected 0 < mean < 1)",
        f"{p}:8: war.strain_recovery_per_year.cv: must be > 0, got -1 (expected a positive coefficient of "
        "variation)",
        f"{p}:9: war.ceasefire_intensity.high: high 0.1 must exceed low 0.2 (expected low < high)",
        f"{p}:10: war.relapse_intensity.dist: unknown distribution 'betta' (did you mean 'beta'? "
        "expected one of: "
        "beta, annual_prob, lognormal, gamma, normal, dirichlet, choice, uniform)",
        f"{p}:11: war.relapse_weeks.sd: unknown key for lognormal (did you mean 'gsd'? expected: "
        "median, gsd)",
        f"{p}:14: scenario.structure.text_solver.probs: probs sum to 1.1 (expected probs summing to 1)",
        f"{p}:15: scenario.structure.bdm_mode.options.1: got text 'clasic' (did you mean 'classic'? "
        "expected one "
        "of: smooth, classic (or a choice among them))",
        f"{p}:17: mediator.text_weights0.mean: shares sum to 1.1 (expected shares summing to 1)",
    ]


def test_distribution_outside_field_range(tmp_path):
    p = overlay(tmp_path, "war:\n  L0: {dist: lognormal, median: 0.5, gsd: 1.2}\n"
                          "  escalation_disutility: {dist: normal, mean: 0.8, sd: 0.1}\n"
                          "  L_min: {dist: normal, mean: 0.1, "
                          "sd: 0.05, "
                          "low: 0, high: 1}\n")
    assert problems_of(p) == [
        f"{p}:3: war.L0.dist: a lognormal can take values in (0, inf), outside the allowed range (expected a "
        "probability in [0, 1]; use a bounded distribution or truncate with low/high)",
        f"{p}:4: war.escalation_disutility.dist: a normal can take values in (-inf, inf), "
        "outside the allowed range (expected a "
        "number >= 0; use a bounded distribution or truncate with low/high)",
    ]


def test_missing_required_key_in_a_new_actor(tmp_path):
    p = overlay(tmp_path, "actors:\n  TR:\n    name: Turkey\n    roles: [guarantor]\n")
    lines = problems_of(p)
    assert f"{p}:3: actors.TR.capability: required key is missing (expected a value here; see " \
           "scenarios/baseline.yaml)" in lines
    assert f"{p}:3: actors.TR.positions: required key is missing (expected a value here; see " \
           "scenarios/baseline.yaml)" in lines


# --- references -----------------------------------------------------------------------------------
def test_undefined_issues_and_actors_everywhere(tmp_path):
    body = """\
actors:
  RU:
    positions:
      NATOO: {ideal: 0.5, declared: 0.5, salience: 0.5}
    linkage: [{a: SANCTION, b: US_RU_NORM, kappa: 0.3}]
mediator:
  actor: USA
  bias: {RUS: 0.01}
war:
  status_quo_during_war: {ASSET: 0.2}
beliefs:
  collapse_hazard_belief_per_year: {XX: 0.1}
scenario:
  structure:
    bargainers: [RU, UKR]
"""
    p = overlay(tmp_path, body)
    assert problems_of(p) == [
        f"{p}:5: actors.RU.positions.NATOO: undefined issue 'NATOO' (did you mean 'NATO'? expected one "
        "of the "
        f"issues defined: {ISSUES})",
        f"{p}:6: actors.RU.linkage.0.a: undefined issue 'SANCTION' (did you mean 'SANCTIONS'? expected "
        "one of the "
        f"issues defined: {ISSUES})",
        f"{p}:8: mediator.actor: undefined actor 'USA' (did you mean 'US'? expected one of the actors "
        "defined: "
        f"{ACTORS})",
        f"{p}:9: mediator.bias.RUS: undefined actor 'RUS' (did you mean 'US'? expected one of the "
        "actors defined: "
        f"{ACTORS})",
        f"{p}:11: war.status_quo_during_war.ASSET: undefined issue 'ASSET' (did you mean 'ASSETS'? "
        "expected one "
        f"of the issues defined: {ISSUES})",
        f"{p}:13: beliefs.collapse_hazard_belief_per_year.XX: undefined actor 'XX' (expected one of the "
        "actors "
        f"defined: {ACTORS})",
        f"{p}:16: scenario.structure.bargainers.1: undefined actor 'UKR' "
        f"(expected one of the actors defined: {ACTORS})",
    ]


def test_every_actor_needs_every_issue(tmp_path):
    p = overlay(tmp_path, "issues:\n  ZNPP:\n    label: Zaporizhzhia plant\n    anchors: {0.0: Ukraine}\n"
                          "    options: [0.0, 1.0]\n")
    lines = problems_of(p)
    assert len(lines) == 7  # 5 actors x positions + 2 packages x terms
    expected = "actors.US.positions: no entry for issue ZNPP (expected one for every issue)"
    assert f"{BASELINE}:" in lines[0] and expected in "\n".join(lines)


def test_correlation_checks(tmp_path):
    body = """\
correlations:
  - [war.drift_per_year, war.L0, 0.5]
  - [war.drift_per_yr, war.vol_per_sqrt_year, 0.2]
  - [war.vol_per_sqrt_year, war.vol_per_sqrt_year, 0.2]
  - [mediator.text_weights0, war.vol_per_sqrt_year, 0.1]
  - [war.aid_sensitivity, war.drift_per_year, 1.0]
"""
    p = overlay(tmp_path, body)
    assert problems_of(p) == [
        f"{p}:3: correlations.0.1: 'war.L0' is not an uncertain parameter (expected the dotted path of a "
        "distribution)",
        f"{p}:4: correlations.1.0: 'war.drift_per_yr' is not an uncertain parameter (did you mean "
        "'war.drift_per_year'? expected the dotted path of a distribution)",
        f"{p}:5: correlations.2: 'war.vol_per_sqrt_year' is correlated with itself (expected two different "
        "parameters)",
        f"{p}:6: correlations.3.0: 'mediator.text_weights0' is a dirichlet (expected a one-dimensional "
        "distribution)",
        f"{p}:7: correlations.4.2: got 1.0 (expected a correlation rho with -1 < rho < 1)",
    ]


def test_correlation_matrix_must_be_positive_definite(tmp_path):
    body = """\
correlations:
  - [war.drift_per_year, war.vol_per_sqrt_year, 0.9]
  - [war.vol_per_sqrt_year, war.aid_sensitivity, 0.9]
  - [war.drift_per_year, war.aid_sensitivity, -0.9]
"""
    p = overlay(tmp_path, body)
    assert problems_of(p) == [
        f"{p}:3: correlations.0: the correlations among war.aid_sensitivity, war.drift_per_year, "
        "war.vol_per_sqrt_year are inconsistent: the matrix is not positive definite (expected correlations "
        "that some joint distribution can have)"
    ]


def test_linkage_positive_definite(tmp_path):
    body = """\
actors:
  UA:
    linkage:
      - {a: MINERALS, b: SEC_GUAR, kappa: 1.5}
      - {a: NATO, b: SEC_GUAR, kappa: 1.5}
      - {a: TERR_CTRL, b: SEC_GUAR, kappa: {dist: normal, mean: 1.2, sd: 0.1, low: -1.9, high: 1.9}}
  RU:
    linkage: [{a: NATO, b: NATO, kappa: 0.5}, {a: NATO, b: FORCES, kappa: 2.0}]
"""
    p = overlay(tmp_path, body)
    # star of three links on SEC_GUAR: eigenvalues 1 -+ sqrt(1.5^2 + 1.5^2 + 1.2^2) / 2
    assert problems_of(p) == [
        f"{p}:4: actors.UA.linkage: at the central kappa values the preference matrix is not positive "
        "definite "
        "(least eigenvalue of the normalised matrix -0.219; expected > 0, memo 1.3)",
        f"{p}:9: actors.RU.linkage: at the central kappa values the preference matrix is not positive "
        "definite "
        "(least eigenvalue of the normalised matrix 0; expected > 0, memo 1.3)",
        f"{p}:9: actors.RU.linkage.0.b: links NATO with itself (expected two different issues)",
        f"{p}:9: actors.RU.linkage.1.kappa: 2 is out of range (expected |kappa| < 2, which keeps the "
        "preference "
        "matrix positive definite (memo 1.3))",
    ]


def test_effects_levers_and_mediator_role(tmp_path):
    body = """\
mediator:
  actor: CN
  levers:
    on_XX: {target: support, set: 0.0}
    on_RU: {target: sanctions, add: 0.1, mul: 2.0}
events:
  HU_ELECTION:
    branches:
      - {label: orban_loses, p: 0.5, effect: {EU_SANCTIONS_RENEWAL.blokked.p: {mul: 0.3}}}
  NEW_EVENT:
    type: poisson
    annual_prob: 0.1
    effect: {US_support: {}, UK_tau: {add: 0.01}}
"""
    p = overlay(tmp_path, body)
    assert problems_of(p) == [
        f"{p}:3: mediator.actor: actor 'CN' does not have the role mediator (expected an actor with "
        "'mediator' "
        "in its roles)",
        f"{p}:5: mediator.levers.on_XX: lever 'on_XX' (expected on_ACTOR with ACTOR one of: {ACTORS})",
        f"{p}:6: mediator.levers.on_RU: gives add and mul (expected exactly one of set, add, mul)",
        f"{p}:10: events.HU_ELECTION.branches.0.effect.EU_SANCTIONS_RENEWAL.blokked.p: "
        "'EU_SANCTIONS_RENEWAL.blokked.p' does not name a scheduled event's branch (expected EVENT.BRANCH.p, "
        "e.g. EU_SANCTIONS_RENEWAL.blocked.p)",
        f"{p}:14: events.NEW_EVENT.effect.UK_tau: undefined actor 'UK' in 'UK_tau' (expected ACTOR_tau "
        f"with ACTOR one of: {ACTORS})",
        f"{p}:14: events.NEW_EVENT.effect.US_support: gives none (expected exactly one of set, add, mul)",
    ]


def test_event_type_and_horizons(tmp_path):
    body = """\
events:
  NEW_EVENT: {type: poison, annual_prob: 0.1, effect: {}}
scenario:
  reporting_horizons_weeks: [52, 26, 208]
"""
    p = overlay(tmp_path, body)
    assert problems_of(p) == [
        f"{p}:3: events.NEW_EVENT.type: got 'poison' (expected type: 'poisson', 'scheduled', 'endogenous')",
        f"{p}:5: scenario.reporting_horizons_weeks: 208 exceeds horizon_weeks 104 (expected horizons "
        "within the "
        "horizon)",
        f"{p}:5: scenario.reporting_horizons_weeks: [52, 26, 208] (expected strictly increasing horizons)",
    ]


# --- mutants of the baseline ----------------------------------------------------------------------
MUTATIONS = [
    # (regex on a non-comment baseline line, replacement, text expected in the message at that line)
    (r"^(\s+ideal: \{dist: beta, mean: [0-9.]+, kappa: )[0-9.]+\}", r"\g<1>-20}", "kappa: must be > 0"),
    (r"^(\s+gsd: )[0-9.]+$", r"\g<1>0.6", "must be > 1"),
    (r"^(\s+\w+: \{dist: normal, mean: [-0-9.]+, sd: )[0-9.]+\}", r"\g<1>-0.03}", "sd: must be > 0"),
    (r"^(\s+declared: )[0-9.]+", r"\g<1>1.70", "is out of range (expected a probability in [0, 1])"),
    (r"^(  L0: \{value: )[0-9.]+", r"\g<1>.nan", "is not a finite number"),
    (r"^(  horizon_weeks: )\d+", r"\g<1>forever", "expected a valid integer"),
    (r"^  dt_weeks:", "  dt_wekes:", "unknown key 'dt_wekes' (did you mean 'dt_weeks'?"),
    (r"^(  ripeness: )(true|false)$", r"\g<1>\g<2>\n  ripeness: false", "duplicate key 'ripeness'"),
    (r"^(\s+median: )[0-9.]+$", r"\g<1>-0.80", "median: must be > 0"),
    (r"(probs: \[)[0-9.]+", r"\g<1>9", "(expected a probability in [0, 1])"),
    (r"^(  actor: )US", r"\g<1>UK", "undefined actor 'UK'"),
    (r"^(\s+type: )poisson", r"\g<1>poison", "got 'poison'"),
    (r"^  (relapse_weeks: )", "\t\\g<1>", "tab character in indentation"),
    (r"^(  kappa_p: )[0-9.]+$", r"\g<1>!!python/name:os.system", "is not allowed"),
]


@pytest.mark.parametrize("pattern,replacement,expected", MUTATIONS,
                         ids=[m[1].strip()[:24] for m in MUTATIONS])
def test_baseline_mutants_fail_at_the_mutated_line(tmp_path, pattern, replacement, expected):
    lines = BASELINE.read_text(encoding="utf-8").splitlines()
    hit = next((i for i, line in enumerate(lines)
                if not line.lstrip().startswith("#") and re.search(pattern, line)), None)
    assert hit is not None, f"pattern {pattern!r} no longer in the baseline"
    lines[hit] = re.sub(pattern, replacement, lines[hit], count=1)
    p = write(tmp_path, "\n".join(lines) + "\n", "mutant.yaml")
    start = time.perf_counter()
    found = problems_of(p)
    assert time.perf_counter() - start < 5.0
    target = hit + 2 if "duplicate" in expected else hit + 1
    assert any(f.startswith(f"{p}:{target}: ") and expected in f for f in found), found


def test_every_problem_of_a_file_in_one_pass(tmp_path):
    p = overlay(tmp_path, "war:\n  L0: 2\n  escalation_disutility: -1\nactors:\n  RU:\n    capabilty: 1\n")
    assert [line.split(":")[1] for line in problems_of(p)] == ["3", "4", "7"]


def test_every_block_style_number_of_the_baseline_rejects_text(tmp_path):
    """Mutate every ``key: <number>`` line at once; each must be reported at its own line, nothing else."""
    lines = BASELINE.read_text(encoding="utf-8").splitlines()
    mutated = set()
    for i, line in enumerate(lines):
        m = re.match(r"^(\s+)(\w+): (-?[0-9][0-9.]*)\s*$", line)
        if m and m.group(2) != "set":
            lines[i] = f"{m.group(1)}{m.group(2)}: \"x\""
            mutated.add(i + 1)
    assert len(mutated) > 20
    p = write(tmp_path, "\n".join(lines) + "\n", "mutant.yaml")
    found = problems_of(p)
    assert {int(f.split(":")[1]) for f in found} == mutated


def test_literal_choices_and_fixed_shares(tmp_path):
    body = """\
scenario:
  outcome_rules: {relapse_counts_as: colapse_escalation}
mediator:
  text_weights0: {US: 0.5, RU: 0.6}
actors:
  US:
    roles: [mediator, guarantr]
"""
    p = overlay(tmp_path, body)
    assert problems_of(p) == [
        f"{p}:3: scenario.outcome_rules.relapse_counts_as: got 'colapse_escalation' (did you mean "
        "'collapse_escalation'? expected 'collapse_escalation' or 'continued_war')",
        f"{p}:5: mediator.text_weights0: shares sum to 1.1 (expected shares summing to 1)",
        f"{p}:8: actors.US.roles.1: got 'guarantr' (did you mean 'guarantor'? expected 'mediator', "
        "'guarantor', 'veto_comprehensive', 'veto_ceasefire', 'belligerent' or 'patron')",
    ]
    ok = overlay(tmp_path, "mediator:\n  text_weights0: {US: 0.4, RU: 0.3, UA: 0.3}\n", "ok.yaml")
    assert load_scenario(ok).data["mediator"]["text_weights0"] == {"US": 0.4, "RU": 0.3, "UA": 0.3}


def test_problems_listed_child_first_then_parents(tmp_path):
    write(tmp_path, f"extends: {BASELINE}\nwar:\n  L0: 7\n", "a_parent.yaml")
    p = write(tmp_path, "extends: a_parent.yaml\nwar:\n  escalation_disutility: -1\n", "z_child.yaml")
    assert problems_of(p) == [
        f"{p}:3: war.escalation_disutility: -1 is out of range (expected a number >= 0)",
        f"{tmp_path / 'a_parent.yaml'}:3: war.L0: 7 is out of range (expected a probability in [0, 1])",
    ]


def test_empty_blocks_lists_and_quoted_dates(tmp_path):
    body = """\
influence:
correlations: {}
issues:
  TERR_CTRL: {options: []}
scenario:
  start_date: "2026-01-05"
"""
    p = overlay(tmp_path, body)
    assert problems_of(p) == [
        f"{p}:2: influence: got None (expected a mapping of keys)",
        f"{p}:3: correlations: got {{}} (expected a valid list)",
        f"{p}:5: issues.TERR_CTRL.options: got [] (expected at least 1 item)",
        f"{p}:7: scenario.start_date: got '2026-01-05' (expected a date written YYYY-MM-DD, without quotes)",
    ]


def test_dirichlet_components(tmp_path):
    body = "mediator:\n  text_weights0: {dist: dirichlet, mean: {US: -0.1, RU: 1.1}, concentration: 0}\n"
    p = overlay(tmp_path, body)
    assert problems_of(p) == [
        f"{p}:3: mediator.text_weights0.concentration: must be > 0, got 0 (expected a positive "
        "concentration)",
        f"{p}:3: mediator.text_weights0.mean.US: got -0.1 (expected a share > 0)",
    ]
    p = overlay(tmp_path, "mediator:\n  text_weights0: {dist: dirichlet, mean: {US: 1.0}, "
                          "concentration: 5}\n")
    assert problems_of(p) == [
        f"{p}:3: mediator.text_weights0.mean: got {{'US': 1.0}} (expected a mapping KEY: share with at least "
        "2 keys)"
    ]


def test_an_input_dated_after_the_information_cutoff_is_refused(tmp_path):
    p = overlay(tmp_path, "mediator:\n  walkaway_hazard_per_year_per_F:\n    value: 0.1\n"
                "    src: 'a later report'\n    asof: 2026-03-01\n")
    assert problems_of(p) == [
        f"{p}:6: mediator.walkaway_hazard_per_year_per_F.asof: 2026-03-01 is after the information cut-off "
        "2025-12-31 (expected every input dated on or before scenario.info_cutoff, or its path in "
        "scenario.accepted_after_cutoff with the reason)"
    ]


def test_a_later_input_is_kept_only_where_the_scenario_names_it_with_its_reason(tmp_path):
    later = ("mediator:\n  walkaway_hazard_per_year_per_F:\n    value: 0.1\n    src: 'a later report'\n"
             "    asof: 2026-03-01\n")
    accept = ("scenario:\n  accepted_after_cutoff:\n    mediator.walkaway_hazard_per_year_per_F: the report "
              "only restates a 2024 estimate\n")
    sc = load_scenario(overlay(tmp_path, later + accept))
    assert sc.provenance["mediator.walkaway_hazard_per_year_per_F"]["asof"] == "2026-03-01"
    # the entry covers that path only: another later input is refused as before
    other = "  prox_weight: {value: 0.05, src: 'a later memo', asof: 2026-01-02}\n"
    p = overlay(tmp_path, later + other + accept, "other.yaml")
    assert problems_of(p) == [
        f"{p}:7: mediator.prox_weight.asof: 2026-01-02 is after the information cut-off 2025-12-31 (expected "
        "every input dated on or before scenario.info_cutoff, or its path in scenario.accepted_after_cutoff "
        "with the reason)"
    ]
    terse = accept.replace("the report only restates a 2024 estimate", "ok")  # a reason must say something
    p = overlay(tmp_path, later + terse, "short.yaml")
    assert problems_of(p) == [
        f"{p}:9: scenario.accepted_after_cutoff.mediator.walkaway_hazard_per_year_per_F: got 'ok' (expected "
        "the reason the input does not leak what happened next, in words)"
    ]


def test_moving_the_cutoff_before_an_input_turns_it_into_look_ahead(tmp_path):
    p = overlay(tmp_path, "scenario:\n  info_cutoff: 2025-12-20\n")
    found = problems_of(p)
    assert found and all("is after the information cut-off 2025-12-20" in line for line in found)
    assert any("mediator.text_weights0.asof: 2025-12-21" in line for line in found)


OBSERVED_EVENT = """events:
  EU_PACKAGE_16:
    src: 'a record of what happened'
    asof: 2026-02-24
    type: scheduled
    observed: true
    dates: [2026-02-24]
    branches:
      - {label: adopted, p: PROB, effect: {EU_sanctions: {add: 0.05}}}
"""


def test_an_observed_event_may_be_dated_after_the_cutoff_and_must_have_happened(tmp_path):
    load_scenario(overlay(tmp_path, OBSERVED_EVENT.replace("PROB", "1")))
    p = overlay(tmp_path, OBSERVED_EVENT.replace("PROB", "0.5"), "half.yaml")
    assert problems_of(p) == [
        f"{p}:10: events.EU_PACKAGE_16.branches.0.p: 0.5 (expected 1 for an observed event: it happened)"
    ]
    unmarked = OBSERVED_EVENT.replace("PROB", "1").replace("    observed: true\n", "")
    p = overlay(tmp_path, unmarked, "unmarked.yaml")
    assert problems_of(p) == [
        f"{p}:5: events.EU_PACKAGE_16.asof: 2026-02-24 is after the information cut-off 2025-12-31 (expected "
        "every input dated on or before scenario.info_cutoff, or its path in scenario.accepted_after_cutoff "
        "with the reason)"
    ]


def test_an_overlay_removes_keys_of_its_parent_and_each_must_exist(tmp_path):
    sc = load_scenario(overlay(tmp_path, "remove: [packages.plan_28_point]\n"))
    assert "plan_28_point" not in sc.data["packages"] and "framework_20_point" in sc.data["packages"]
    assert not any(k.startswith("packages.plan_28_point") for k in sc.provenance)
    p = overlay(tmp_path, "remove:\n  - packages.plan_99_point\n  - mediator.walkaway\n", "bad.yaml")
    assert problems_of(p) == [
        f"{p}:3: remove.0: 'packages.plan_99_point' is not a key of the parent scenario (expected a dotted "
        "path such as packages.plan_28_point)",
        f"{p}:4: mediator.walkaway: required key is missing (expected a value here; see "
        "scenarios/baseline.yaml)",
    ]
    p = write(tmp_path, "remove: [a.b]\n", "alone.yaml")
    alone = f"{p}:1: remove: only an overlay may remove keys (expected 'extends:' beside 'remove:')"
    assert alone in problems_of(p)
