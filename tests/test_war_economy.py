"""Russia's war economy, beliefs about the base drift and Western fatigue, the rally, the alliance fear.

Each mechanism is checked against its formula (sim.model.economy, sim.model.learning,
sim.model.outside_option, sim.model.influence.rally_phase) and for the direction its sources give.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest
from numpy.testing import assert_allclose

from sim.model.battlefield import support_index
from sim.model.commitment import reneging_prob
from sim.model.economy import fiscal_revenue, fiscal_stress
from sim.model.model import NegotiationModel
from sim.model.outside_option import expected_drift_factor
from sim.model.params import build_params
from sim.scenario import load_scenario, materialise, sample_parameters

R = 200


@pytest.fixture(scope="module")
def params():
    sc = load_scenario("scenarios/baseline.yaml")
    return materialise(sc, sample_parameters(sc, R, np.random.default_rng(3)), np.arange(R))


def _model(params, edit=None, seed=1):
    p = copy.deepcopy(params)
    if edit:
        edit(p)
    return NegotiationModel(p, R, np.random.SeedSequence(seed), collect=False)


def test_fiscal_stress_is_the_share_of_the_horizons_gap_the_reserves_cannot_cover():
    reserves = np.array([2.0, 1.0, 0.0, 1.0, 0.5])
    gap = np.array([1.0, 2.0, 1.0, -1.0, 0.0])
    assert_allclose(fiscal_stress(reserves, gap, 1.0), [0.0, 0.5, 1.0, 0.0, 0.0])
    assert_allclose(fiscal_stress(reserves, gap, 2.0), [0.0, 0.75, 1.0, 0.0, 0.0])


def test_sanctions_cut_the_revenue_by_their_elasticity(params):
    m = _model(params)
    prm, st = m.prm, m.state
    ru = prm.actors.index("RU")
    base = fiscal_revenue(st, prm)[:, ru]
    assert_allclose(base, prm.econ["revenue0"][:, ru])  # at t0 the indices are at their reference
    st.sanctions[:, prm.actors.index("EU")] += 0.4
    dS = 0.4 * prm.sanctions_w[prm.actors.index("EU"), ru]
    assert dS > 0
    elasticity = prm.econ["sanctions_elasticity"][:, ru]
    assert_allclose(fiscal_revenue(st, prm)[:, ru], base * np.exp(-elasticity * dS))


def _ru_strain_after(params, weeks, edit=None):
    m = _model(params, edit)
    for _ in range(weeks):
        m.step()
    ru = m.prm.actors.index("RU")
    return m.state.reserves[:, ru], m.state.fiscal_stress[:, ru], m.state.strain[:, ru], m.state.status


def test_an_oil_revenue_collapse_drains_the_reserves_and_wears_russia_down(params):
    def collapse(p):
        p["actors"]["RU"]["economy"]["revenue0"] = 3.9
        p["actors"]["RU"]["economy"]["deficit0"] = 2.6 + 0.4 * 3.9  # revenue 40% lower from the start

    r0, s0, strain0, status0 = _ru_strain_after(params, 52)
    r1, s1, strain1, status1 = _ru_strain_after(params, 52, collapse)
    both = (status0 == status1) & (status0 == 0)  # still at war in both
    assert both.sum() > 20
    assert (r1[both] <= r0[both] + 1e-12).all() and (r1[both] < r0[both]).mean() > 0.9
    assert s1[both].mean() > s0[both].mean() + 0.2
    assert (strain1[both] >= strain0[both] - 1e-12).all() and strain1[both].mean() > strain0[both].mean()


def test_without_the_module_there_is_no_fiscal_stress(params):
    def off(p):
        p["modules"]["war_economy"] = False
        p["actors"]["RU"]["economy"]["deficit0"] = 9.0

    _, stress, _, _ = _ru_strain_after(params, 20, off)
    assert (stress == 0).all()


def test_steady_support_wears_the_bet_on_fatigue_down_exponentially(params):
    def steady(p):  # nothing moves the support: no events, no levers, no rally, no partial agreement ending
        p["modules"].update(events=False, levers=False, war_economy=False, partial_agreements=False)

    m = _model(params, steady)
    prm = m.prm
    f0 = m.state.fatigue.copy()
    for _ in range(52):
        m.step()
    assert_allclose(support_index(m.state, prm)[:, prm.dfd], prm.A0)  # support did not move
    assert_allclose(m.state.fatigue, f0 * np.exp(-52 * prm.dy / prm.fatigue_memory), rtol=1e-9)


def test_an_aid_cut_raises_every_actors_expected_drift_at_once(params):
    m = _model(params)
    prm, st = m.prm, m.state
    rows = np.arange(R)
    before = expected_drift_factor(prm, st, rows)
    st.support[:, prm.actors.index("US")] = 0.0
    after = expected_drift_factor(prm, st, rows)
    helps = prm.beta_A > 0  # aid slows the advance (a draw may have it the other way round)
    assert helps.mean() > 0.9 and (after[helps] > before[helps]).all()
    A0, A1 = prm.A0, support_index(st, prm)[:, prm.dfd]
    # the change is the structural one, exp(-beta_A (A1 - A0)) at the same expected fatigue
    ratio = np.exp(-prm.beta_A * (A1 * np.exp(-st.fatigue[:, 0] * 0.5 * prm.H) - A0 * np.exp(
        -st.fatigue[:, 0] * 0.5 * prm.H)))  # fmt: skip
    assert_allclose(after[:, 0] / before[:, 0], ratio, rtol=1e-10)


def test_the_base_drift_filter_recovers_mu0_when_the_structure_moves(params):
    # the signal is mu0 g I dy + noise: a filter that knows g converges to mu0 whatever g is
    prm = build_params(copy.deepcopy(params), R)
    from sim.model.learning import learning_phase

    m = _model(params, lambda p: p["modules"].update(events=False))
    st = m.state
    rng = np.random.default_rng(0)
    mu0, g = 0.12, 0.6
    st.drift_factor[:] = g
    for _ in range(2000):
        y = mu0 * g * prm.dy + prm.sigma_L * np.sqrt(prm.dy) * rng.standard_normal(R)
        learning_phase(st, m.prm, y, np.zeros(R))
    assert abs(np.median(st.m) - mu0) < 0.02


def test_supporters_rally_as_the_advancer_nears_victory(params):
    m = _model(params, lambda p: p["modules"].update(events=False, levers=False))
    prm, st = m.prm, m.state
    from sim.model.influence import rally_phase

    eu = prm.actors.index("EU")
    assert np.isfinite(prm.rally_line[eu])
    st.L[:] = prm.rally_line[eu] + 0.1
    before = st.support[:, eu].copy()
    rally_phase(st, prm)
    assert_allclose(st.support[:, eu] - before, prm.rally_rate[eu] * 0.1 * prm.dy)
    st.L[:] = prm.rally_line[eu] - 0.1
    held = st.support[:, eu].copy()
    rally_phase(st, prm)
    assert_allclose(st.support[:, eu], held)  # short of the line: no rally


def test_a_softer_stated_nato_demand_lowers_russias_fear_of_the_deal(params):
    # the alliance term of Russia's power shift follows its declared position (issue 18's reversal)
    def soft(p):
        p["actors"]["RU"]["positions"]["NATO"]["declared"] = 0.6

    prm = build_params(copy.deepcopy(params), R)
    prm_soft = build_params(_edited(params, soft), R)
    X = np.tile(prm.x_sq, (R, 1))
    X[:, prm.k["alliance"]] = 0.7
    ru = prm.actors.index("RU")
    L = np.full(R, 0.5)
    rows = np.arange(R)
    q, q_soft = reneging_prob(prm, X, L, rows)[:, ru], reneging_prob(prm_soft, X, L, rows)[:, ru]
    assert (q_soft < q).all()


def _edited(params, edit):
    p = copy.deepcopy(params)
    edit(p)
    return p
