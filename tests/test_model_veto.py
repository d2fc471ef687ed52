"""T13 veto players (Tsebelis 2002) with noise off: a deal is signed iff the acceptance sets intersect.

The zone-of-agreement depth m* = max_X min_{i in veto} (V_i(X) - W_i - tau_i) is computed independently
(scipy SLSQP on the epigraph) from the model's own utility and outside-option functions; the model's round
(mediated Nash text, quantal acceptance with nu = 0) must sign exactly where m* > 0.
"""

import copy

import numpy as np
import pytest
from scipy.optimize import minimize

from sim.model import simulate
from sim.model.model import NegotiationModel
from sim.model.outside_option import outside_option
from sim.model.preferences import utility
from sim.scenario import load_scenario, materialise, sample_parameters

R = 24


@pytest.fixture(scope="module")
def noiseless():
    sc = load_scenario("scenarios/baseline.yaml")
    p = materialise(sc, sample_parameters(sc, R, np.random.SeedSequence(13)), np.arange(R))
    p["scenario"].update(horizon_weeks=1.0, reporting_horizons_weeks=[1.0])
    p["scenario"]["structure"].update(round_interval_weeks=1.0, text_solver="nash")
    for m in p["modules"]:
        p["modules"][m] = m == "outside_option"
    p["events"] = {}
    p["acceptance_noise"]["sigma_xi"] = 0.0
    md = p["mediator"]
    md.update(misperception_sd=0.0, prox_weight=0.0, ceasefire_threshold=0.0, nonveto_weight=0.0)
    md["bias"] = {a: 0.0 for a in md["bias"]}
    for iss in p["issues"].values():
        iss["options"] = []
    for a in p["actors"].values():
        a["accept"] = {"tau": a["accept"]["tau"], "nu": 0.0}
        for pos in a["positions"].values():
            pos["declared"] = pos["ideal"]
    # open the zone progressively: Russia's acceptance threshold falls across replicates
    p["actors"]["RU"]["accept"]["tau"] = np.linspace(0.12, -0.04, R)
    return p


def depth(p, veto=("EU", "RU", "UA", "US")):
    """m* per replicate from the model's own U, W and tau (independent optimiser)."""
    m = NegotiationModel(p, R, np.random.SeedSequence(0), collect=False)
    prm, st = m.prm, m.state
    rows = np.arange(R)
    W = outside_option(prm, st, rows)
    thr = W + prm.tau - prm.deal_bonus
    idx = [prm.actors.index(a) for a in veto]
    out = np.empty(R)
    for r in range(R):

        def surplus(x, r=r):
            return utility(prm, x[None, :-1], st.L[r : r + 1], np.array([r]))[0, idx] - thr[r, idx]

        best = -np.inf
        for x0 in (np.full(prm.K, 0.5), prm.ideal[r, prm.actors.index("US")]):
            z0 = np.append(x0, surplus(np.append(x0, 0)).min())
            res = minimize(
                lambda z: -z[-1],
                z0,
                method="SLSQP",
                constraints=[{"type": "ineq", "fun": lambda z: surplus(z) - z[-1]}],
                bounds=[(0, 1)] * prm.K + [(None, None)],
                options={"ftol": 1e-12, "maxiter": 500},
            )
            best = max(best, -res.fun)
        out[r] = best
    return out


def test_t13_deal_signed_iff_acceptance_sets_intersect(noiseless):
    m_star = depth(noiseless)
    assert (m_star > 0.01).sum() >= 3 and (m_star < -0.01).sum() >= 3  # both regimes are exercised
    rec = simulate(noiseless, R, np.random.SeedSequence(1))
    signed = rec["agreement_type"] != "none"
    clear = np.abs(m_star) > 0.01  # away from the eps-smoothing of the Nash product
    np.testing.assert_array_equal(signed[clear], m_star[clear] > 0)


def test_t13_adding_a_veto_player_never_creates_a_zone(noiseless):
    full = depth(noiseless)
    fewer = depth(noiseless, veto=("RU", "UA", "US"))
    assert np.all(full <= fewer + 1e-6)


def test_t13_raising_a_belligerents_cost_never_destroys_a_zone(noiseless):
    q = copy.deepcopy(noiseless)
    q["actors"]["RU"]["cost0_per_year"] = 3.0 * np.asarray(q["actors"]["RU"]["cost0_per_year"])
    assert np.all(depth(q) >= depth(noiseless) - 1e-6)
