"""Every setting of the baseline reaches the results, or is declared inert (DESIGN §2, "One source of truth").

Every leaf of ``scenarios/baseline.yaml`` (numbers, distribution families and parameters, names, switches,
dates, list entries, ``src``/``asof`` provenance) is changed materially, validated as the loader validates
it, and run with the baseline's seeds over the full horizon; see :mod:`setting_probe` for how, and why
runs are stacked. Each leaf is in exactly one class:

* live: it must move some per-replicate record (one test per block of the scenario; a leaf gets up to
  ``ATTEMPTS`` changes with R = 24, then two with ``RARE_REPLICATES``);
* declared inert in :data:`sim.model.inert.INERT`: it must move none, and every entry must match a leaf;
* in a :data:`RARELY_PIVOTAL` family: the family as a whole must move a record;
* in :data:`KNOWN_DEAD` (temporary): an ``xfail(strict=True)`` test that fails once the setting acts,
  when its entry must go.
"""

from __future__ import annotations

import copy
import functools

import numpy as np
import pytest
from numpy.testing import assert_array_equal
from pandas.testing import assert_frame_equal
from setting_changes import data_leaves, is_provenance, leaves
from setting_probe import RARE_REPLICATES, Prober, Variant, compare, stacked

from sim.model import simulate
from sim.model.inert import INERT, declared_inert, matches
from sim.scenario import load_scenario, materialise, sample_parameters
from sim.scenario.problems import dotted

BASELINE = "scenarios/baseline.yaml"

# TEMPORARY. Settings that ought to act but change no record today, and why. Fix the model (or the
# scenario) and delete the entry: its xfail(strict) test fails as soon as the setting acts.
KNOWN_DEAD: dict[str, str] = {}

# Families the model reads whose single leaves decide a replicate too rarely to show one by one within
# RARE_REPLICATES replicates: the family as a whole must move a record.
RARELY_PIVOTAL = {
    "actors.US.positions.*.ideal.*":
        "the mediator drafts from declared positions, so the US's true ideal enters only its own acceptance "
        "and outside option; binding_veto is US in 3 of the 1,680 replicates of the R=240 baseline",
    "{ratification.unanimity.p_if_assets_returned.*,issues.ASSETS.role}":
        "unanimity is harder only for a text that returns the assets (ASSETS >= 0.75), which few signed "
        "texts do (sim/model/acceptance.py, ratification_phase)",
    "actors.EU.{roles.0,force_capacity_max.dist,force_capacity_max.mean,force_capacity_max.kappa}":
        "Europe's consent binds only where a text asks for more foreign forces than it can field, which "
        "the baseline's texts seldom do (sim/model/agents.py, Guarantor.consents)",
    "events.EU_UNITY_SHOCK.effect.EU_force_capacity.add":
        "the shock's cut of Europe's force cap matters only when it brings the cap below the foreign forces "
        "a text asks for, which the baseline's texts (FORCES near 0.1 against a cap near 0.6) seldom do "
        "(sim/model/agents.py, Guarantor.consents)",
    "partial_agreements.BLACK_SEA.value.*":
        "Russia's refusal decides almost every Black Sea proposal (about 2% of baseline replicates sign one, "
        "as in 2025, when Moscow tied it to sanctions relief), so Ukraine's value decides very few "
        "(sim/model/partials.py, partials_phase)",
    "commitment.true_breakdown.{gamma.*,coerced_multiplier}":
        "the base hazard h0 exp(-gamma'z)(1 + coerced) is small beside the enforcement term that breaks "
        "most baseline agreements (sim/model/agreement.py, breakdown_hazard)",
}

SCENARIO = load_scenario(BASELINE)
LEAVES = leaves(SCENARIO)
VALUES = {dotted(path): value for path, value in data_leaves(SCENARIO.data)}


def first_match(leaf: str, table: dict[str, str]) -> str | None:
    """The first pattern of ``table`` that ``leaf`` matches (None if none)."""
    return next((pattern for pattern in table if matches(leaf, pattern)), None)


def classes(leaf: str) -> list[str]:
    """The lists that name ``leaf``: inert, known dead, rarely pivotal (empty for a live leaf)."""
    found = [declared_inert(leaf), first_match(leaf, KNOWN_DEAD), first_match(leaf, RARELY_PIVOTAL)]
    return [kind for kind, hit in zip(("inert", "dead", "rarely pivotal"), found, strict=True) if hit]


def block(leaf: str) -> str:
    """The test a live leaf belongs to: its block of the scenario (an actor for ``actors``)."""
    parts = leaf.split(".")
    return ".".join(parts[:2]) if parts[0] == "actors" else parts[0]


DEAD = [leaf for leaf in LEAVES if classes(leaf) == ["dead"]]
LIVE: dict[str, list[str]] = {}
for _leaf in LEAVES:
    if not classes(_leaf):
        LIVE.setdefault(block(_leaf), []).append(_leaf)


@pytest.fixture(scope="module")
def probe() -> Prober:
    return Prober(BASELINE, rare=Prober(BASELINE, replicates=RARE_REPLICATES, chunk=6, attempts=2))


# ------------------------------------------------------------------------------------------ the walk
def test_every_leaf_is_walked_once_and_in_one_class():
    provenance = sum(1 for prov in SCENARIO.provenance.values() for v in prov.values() if v is not None)
    assert len(LEAVES) == len(set(LEAVES)) == len(VALUES) + provenance
    assert not [leaf for leaf in LEAVES if len(classes(leaf)) > 1]


@pytest.mark.parametrize("name", sorted(LIVE))
def test_every_setting_reaches_the_records(probe, name):
    verdicts = probe.verdicts(LIVE[name])
    silent = [str(v) for v in verdicts.values() if not v.acts]
    assert not silent, (
        f"{len(silent)} setting(s) of {name} change no record; make them act, or declare them inert in "
        "sim/model/inert.py with the reason:\n" + "\n".join(silent)
    )


@pytest.mark.parametrize("pattern", RARELY_PIVOTAL)
def test_rarely_pivotal_family_reaches_the_records(probe, pattern):
    names = [leaf for leaf in LEAVES if matches(leaf, pattern)]
    verdicts = probe.verdicts(names, escalate=False)
    if not any(v.acts for v in verdicts.values()):
        verdicts = probe.verdicts(names)
    assert any(v.acts for v in verdicts.values()), "\n".join(map(str, verdicts.values()))


# ------------------------------------------------------------------------------------------ known dead
@functools.cache
def _stacked_dead_verdicts(probe: Prober) -> dict:
    """The known-dead leaves that run stacked, probed together once (each test reads its verdict)."""
    return probe.verdicts([leaf for leaf in DEAD if probe.stacks(leaf)], escalate=False)


def _xfail(leaf: str) -> pytest.MarkDecorator:
    return pytest.mark.xfail(strict=True, reason=KNOWN_DEAD[first_match(leaf, KNOWN_DEAD)])


@pytest.mark.parametrize("leaf", [pytest.param(leaf, marks=_xfail(leaf)) for leaf in DEAD])
def test_known_dead_setting_reaches_the_records(probe, leaf):
    verdicts = _stacked_dead_verdicts(probe)
    verdict = verdicts[leaf] if leaf in verdicts else probe.verdicts([leaf], escalate=False)[leaf]
    assert verdict.acts, str(verdict)


# --------------------------------------------------------------------------------------- declared inert
@pytest.mark.parametrize("entry", INERT, ids=[e.pattern for e in INERT])
def test_declared_inert_setting_changes_no_record(probe, entry):
    names = [leaf for leaf in LEAVES if matches(leaf, entry.pattern)]
    sources = [n for n in names if is_provenance(n)]
    texts = [n for n in names if not is_provenance(n) and isinstance(VALUES[n], str)]
    numbers = [n for n in names if not is_provenance(n) and n not in texts]
    variants = [probe.provenance_variant(sources)] if sources else []
    if texts:  # changed together, in one run
        variants.append(probe.joint_variant({n: probe.change(n, 0) for n in texts}))
    acting = [f"{', '.join(v.leaves)[:100]}: {v.change[:200]} -> {', '.join(moved)}"
              for v, moved in probe.run(variants).values() if moved]
    stacking = [n for n in numbers if probe.stacks(n)]  # cheap: every change, then RARE_REPLICATES
    alone = [n for n in numbers if n not in stacking]  # one run each: the first change only
    verdicts = {**probe.verdicts(stacking), **probe.verdicts(alone, attempts=1, escalate=False)}
    acting += [str(v) for v in verdicts.values() if v.acts]
    assert not acting, f"declared inert ({entry.reason}) but changes records:\n" + "\n".join(acting)


def test_lists_have_no_stale_entries():
    patterns = [e.pattern for e in INERT] + list(KNOWN_DEAD) + list(RARELY_PIVOTAL)
    stale = [p for p in patterns if not any(matches(leaf, p) for leaf in LEAVES)]
    assert not stale, f"patterns that match no leaf of {BASELINE}: {stale}"


# --------------------------------------------------------------------------------- the probe's own checks
def test_stacked_runs_equal_separate_runs(probe):
    names = ["war.drift_per_year.median", "actors.RU.positions.NATO.declared", "mediator.bias.UA"]
    variants = [probe.variant(n, probe.change(n, 0)) for n in names]
    blocks = len(variants) + 1
    seed = np.random.SeedSequence(probe.model_seed)
    together = simulate(stacked(probe.params, [v.params for v in variants], blocks, probe.R),
                        blocks * probe.R, seed)
    assert compare(probe.base_records(), together, 0, probe.R, set()) == []
    for j, v in enumerate(variants, start=1):
        alone = simulate(stacked(v.params, [], blocks, probe.R), blocks * probe.R, seed)
        assert compare(alone, together, j * probe.R, probe.R, set()) == [], v.leaves


def test_shortcuts_equal_the_product_path(probe):
    for name in ("actors.UA.positions.SEC_GUAR.ideal.mean", "war.drift_per_year.dist", "correlations.0.2",
                 "mediator.text_weights0.mean.RU", "war.L0"):
        v = probe.variant(name, probe.change(name, 0))
        draws = sample_parameters(v.scenario, probe.R, np.random.SeedSequence(probe.param_seed))
        assert_frame_equal(probe.draws_for(v.scenario), draws)
        expected = materialise(v.scenario, draws, np.arange(probe.R))
        for (path, a), (_, b) in zip(data_leaves(expected), data_leaves(v.params), strict=True):
            assert_array_equal(np.asarray(a), np.asarray(b), err_msg=dotted(path))


def test_probe_tells_a_setting_the_model_reads_from_one_it_ignores(probe):
    ignored = copy.deepcopy(probe.params)
    ignored["scenario"]["title"] = "changed"
    read = probe.variant("war.L0", probe.change("war.L0", 0))
    runs = probe.run([Variant(("scenario.title",), "changed", params=ignored), read])
    assert runs[("scenario.title",)][1] == []
    assert runs[("war.L0",)][1] != []
