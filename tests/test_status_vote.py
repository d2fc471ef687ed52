"""The UN-supervised status vote (``modules.status_vote``): its outcomes, its value, the vote, its records.

Seed 001: 「国連管理下での住民投票」 (a referendum under UN administration) as a way to settle territory. The
package is the shelving text plus a vote in the area taken since February 2022, held once the deal is
ratified; each party values it by its expected utility over the two results.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest

from sim.model import central_params, simulate
from sim.model.acceptance import referendum_required
from sim.model.commitment import deal_value
from sim.model.model import NegotiationModel
from sim.model.narrative import narrate
from sim.model.state import CEASEFIRE, DEAL
from sim.model.status_vote import (
    VOTE_JOIN,
    VOTE_NONE,
    VOTE_PENDING,
    VOTE_RETURN,
    status_vote_phase,
    value_vote,
    vote_outcomes,
)
from sim.scenario import load_scenario, materialise, sample_parameters

BASELINE = "scenarios/baseline.yaml"


def model_of(params: dict, R: int = 1, seed: int = 0) -> NegotiationModel:
    return NegotiationModel(params, R, np.random.SeedSequence(seed), collect=False)


@pytest.fixture(scope="module")
def central():
    return central_params(load_scenario(BASELINE).data)


@pytest.fixture(scope="module")
def likely_to_stay():
    """2,000 sampled baseline replicates in which the area would almost surely vote to stay with Russia."""
    sc = load_scenario(BASELINE)
    R = 2000
    params = materialise(sc, sample_parameters(sc, R, 5), np.arange(R))
    params["mediator"]["status_vote"]["p_join"] = np.full(R, 0.95)
    return params, R, simulate(params, R, np.random.SeedSequence(7))


def test_the_two_outcomes_of_the_vote(central):
    prm = model_of(central).prm
    k_t, k_r = prm.k_terr, prm.k["recognition"]
    X = np.full((2, prm.K), 0.4)
    X[:, k_r] = prm.x_sq[k_r]
    L = np.array([0.55, 0.62])
    X_join, X_return = vote_outcomes(prm, X, L)
    np.testing.assert_array_equal(X_join[:, k_t], L)  # the area stays where the line holds it
    np.testing.assert_array_equal(X_join[:, k_r], [1.0, 1.0])  # and both sides recognise the result
    np.testing.assert_array_equal(X_return[:, k_t], [0.25, 0.25])  # back to the line of 23 Feb 2022
    np.testing.assert_array_equal(X_return[:, k_r], [prm.x_sq[k_r]] * 2)
    rest = [k for k in range(prm.K) if k not in (k_t, k_r)]
    np.testing.assert_array_equal(X_join[:, rest], X[:, rest])
    np.testing.assert_array_equal(X_return[:, rest], X[:, rest])


def test_the_package_before_the_vote_needs_no_national_referendum(central):
    prm = model_of(central).prm
    X = np.full((1, prm.K), 0.4)
    X[:, prm.k["recognition"]] = prm.x_sq[prm.k["recognition"]]
    L = np.array([0.55])
    X[:, prm.k_terr] = L
    assert not referendum_required(prm, X, L).any()
    X_join, _ = vote_outcomes(prm, X, L)
    assert referendum_required(prm, X_join, L).all()  # recognition alone would need one


@pytest.mark.parametrize("q", [0.0, 0.3, 1.0])
def test_each_party_values_the_vote_at_its_expected_utility(central, q):
    params = copy.deepcopy(central)
    params["mediator"]["status_vote"]["p_join"] = q
    m = model_of(params, R=3)
    prm, st = m.prm, m.state
    rows = np.arange(3)
    X = np.tile(np.full(prm.K, 0.45), (3, 1))
    L = np.array([0.5, 0.55, 0.6])
    W = np.zeros((3, prm.n))
    V, V_m = value_vote(prm, X, L, W, rows, W, prm.ideal[rows])
    X_join, X_return = vote_outcomes(prm, X, L)
    by_hand = q * deal_value(prm, X_join, L, W, rows) + (1 - q) * deal_value(prm, X_return, L, W, rows)
    np.testing.assert_allclose(V, by_hand, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(V_m, V, rtol=1e-10, atol=1e-12)  # the mediator's view with the true ideals
    assert st.vote.tolist() == [VOTE_NONE] * 3


def test_the_vote_is_held_in_ratified_deals_and_dropped_where_ratification_failed(central):
    params = copy.deepcopy(central)
    params["mediator"]["status_vote"]["p_join"] = 0.5
    m = model_of(params, R=4)
    prm, st = m.prm, m.state
    st.status[:] = [DEAL, DEAL, CEASEFIRE, DEAL]
    st.vote[:] = [VOTE_PENDING, VOTE_PENDING, VOTE_PENDING, VOTE_NONE]
    st.L[:] = 0.6
    st.X_agree[:] = 0.4
    st.X_agree[:, prm.k_terr] = 0.6
    u = np.array([[0.2], [0.8], [0.1], [0.1]])
    status_vote_phase(st, prm, u)
    assert st.vote.tolist() == [VOTE_JOIN, VOTE_RETURN, VOTE_NONE, VOTE_NONE]
    assert st.X_agree[0, prm.k_terr] == 0.6 and st.X_agree[0, prm.k["recognition"]] == 1.0
    assert st.X_agree[1, prm.k_terr] == 0.25 and st.X_agree[1, prm.k["recognition"]] == 0.0
    assert st.X_agree[3, prm.k["recognition"]] == 0.4  # no vote provided for: terms untouched


def test_signed_votes_settle_territory_by_their_result(likely_to_stay):
    _, _, rec = likely_to_stay
    vote = rec["territory_vote"]
    stays, returns = vote == "stays_with_russia", vote == "returns_to_ukraine"
    assert stays.sum() > returns.sum() > 0  # p_join 0.95: mostly stays, sometimes not
    assert set(rec["agreement_type"][stays | returns]) == {"comprehensive_deal"}
    assert (rec["settle_TERR_RECOG"][stays] == 1.0).all() and (rec["settle_TERR_RECOG"][returns] == 0.0).all()
    assert (rec["settle_TERR_CTRL"][returns] == 0.25).all()
    assert (rec["settle_TERR_CTRL"][stays] > 0.25).all()
    assert not rec["territory_shelved"][stays | returns].any()  # a vote is not a shelved text


def test_switched_off_there_is_no_vote_and_the_run_is_the_one_without_it(likely_to_stay):
    params, R, on = likely_to_stay
    off = copy.deepcopy(params)
    off["modules"]["status_vote"] = False
    rec = simulate(off, R, np.random.SeedSequence(7))
    assert set(rec["territory_vote"]) == {""}
    assert any(not np.array_equal(rec[c], on[c], equal_nan=rec[c].dtype.kind == "f") for c in rec)
    changed = copy.deepcopy(off)
    changed["mediator"]["status_vote"]["p_join"] = np.full(R, 0.05)  # off, its parameters cannot act
    again = simulate(changed, R, np.random.SeedSequence(7))
    for c in rec:
        np.testing.assert_array_equal(again[c], rec[c], err_msg=c)


def test_the_trace_names_the_vote_when_one_is_tabled(central):
    params = copy.deepcopy(central)
    params["mediator"]["status_vote"]["p_join"] = 0.95
    for seed in range(1, 40):
        lines = list(narrate(model_of(params, seed=seed), summary_every=0))
        if any("status vote on the land taken since February 2022" in ln for ln in lines):
            return
    pytest.fail("no status vote tabled in 39 traced replicates")
