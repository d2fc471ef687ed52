"""The named texts of 2025 are live: the mediator opens from ``mediator.opening_text`` and revises it.

The single negotiating text (Raiffa 1982): the mediator tables a draft and each round moves it toward the
weighted Nash solution of its view, a move held back by the proximal weight ``mediator.prox_weight``.
So the opening text is where the talks start, the terms of the package it names reach the results, and a
heavier proximal weight keeps the first text nearer the draft.
"""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest

from sim.model import central_params
from sim.model.model import NegotiationModel
from sim.model.records import make_records
from sim.scenario import ScenarioError, load_scenario

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "baseline.yaml"


@pytest.fixture(scope="module")
def base():
    return central_params(load_scenario(BASELINE).data)


def first_text(p: dict, R: int = 64, seed: int = 3) -> tuple[NegotiationModel, np.ndarray, np.ndarray]:
    """Run until every replicate has held a round; return the model, the opening and the first texts."""
    m = NegotiationModel(p, R, np.random.SeedSequence(seed), collect=False)
    opening = m.state.X_text.copy()
    first = np.full_like(opening, np.nan)
    while np.isnan(first).any() and m.step_index < m.prm.n_steps:
        m.step()
        rnd = m.state.log.get("round")
        if rnd is not None and len(rnd["rows"]):
            new = np.isnan(first[rnd["rows"], 0])
            first[rnd["rows"][new]] = rnd["X"][new]
    return m, opening, first


def terms(p: dict, name: str) -> np.ndarray:
    return np.array([p["packages"][name]["terms"][iss] for iss in p["issues"]], float)


def test_the_mediator_opens_from_the_named_text(base):
    assert base["mediator"]["opening_text"] == "framework_20_point"
    _, opening, _ = first_text(base, R=4)
    np.testing.assert_array_equal(opening, np.tile(terms(base, "framework_20_point"), (4, 1)))


def test_a_heavier_proximal_weight_keeps_the_first_text_nearer_the_draft(base):
    draft = terms(base, "framework_20_point")
    moved = {}
    for prox in (0.05, 50.0):
        p = copy.deepcopy(base)
        p["mediator"]["prox_weight"] = prox
        _, _, first = first_text(p)
        moved[prox] = np.abs(first - draft).mean()
    assert moved[50.0] < 0.25 * moved[0.05], moved


def test_the_opening_text_s_terms_reach_the_texts_and_the_records(base):
    p = copy.deepcopy(base)
    p["mediator"]["prox_weight"] = 5.0
    q = copy.deepcopy(p)
    q["packages"]["framework_20_point"]["terms"]["NATO"] = 1.0  # constitutional neutrality in the draft
    k = list(base["issues"]).index("NATO")
    assert first_text(q)[2][:, k].mean() > first_text(p)[2][:, k].mean()
    runs = []
    for params in (p, q):
        m = NegotiationModel(params, 200, np.random.SeedSequence(5), collect=False)
        m.run()
        runs.append(make_records(m))
    a, b = runs
    assert [c for c in a if not np.array_equal(a[c], b[c], equal_nan=a[c].dtype.kind == "f")]


def test_without_an_opening_text_the_first_draft_is_the_compromise(base):
    from sim.engines.compromise import compromise

    p = copy.deepcopy(base)
    del p["mediator"]["opening_text"]
    m, opening, _ = first_text(p, R=4)
    np.testing.assert_allclose(opening, compromise(m.prm.decl0, m.prm.cap, m.prm.sal))


def test_an_opening_text_that_is_not_a_package_is_reported_at_its_line(tmp_path):
    path = tmp_path / "v.yaml"
    path.write_text(f"extends: {BASELINE}\nmediator:\n  opening_text: framework_20_points\n")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert str(info.value).splitlines()[-1] == (
        f"{path}:3: mediator.opening_text: undefined package 'framework_20_points' (did you mean "
        "'framework_20_point'? expected one of the packages defined: plan_28_point, framework_20_point)"
    )
