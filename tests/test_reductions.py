"""Reductions to published models through the production code path (memo §3, T3-T8, T11-T13).

Each test switches modules off or selects a textbook protocol in the baseline scenario (loaded with
``load_scenario``) and runs the model's own phases; stochastic checks use fixed seeds and 3-SE tolerances.
"""

import copy

import numpy as np
import pytest
from numpy.testing import assert_allclose

from sim.engines.bdm_scholz import eu_challenge, prob_success
from sim.model import central_params, simulate
from sim.model.acceptance import ou_phase
from sim.model.commitment import deal_value
from sim.model.influence import pressure_weights
from sim.model.learning import learning_phase
from sim.model.model import NegotiationModel
from sim.scenario import load_scenario

ISSUES = None


@pytest.fixture(scope="module")
def base():
    sc = load_scenario("scenarios/baseline.yaml")
    return central_params(sc.data)


def quiet(base, weeks, dt=1.0, protocol="mediated_text"):
    """Baseline with every module off, no rounds, no events: the bare step loop."""
    p = copy.deepcopy(base)
    p["scenario"]["horizon_weeks"] = weeks
    p["scenario"]["dt_weeks"] = dt
    p["scenario"]["reporting_horizons_weeks"] = [weeks]
    p["scenario"]["structure"]["protocol"] = protocol
    p["modules"] = {m: False for m in p["modules"]}
    p["events"] = {}
    p["mediator"]["round_rate_per_week"] = 0.0
    p["mediator"]["deadlines"]["rate_per_week"] = 0.0
    return p


def two_party_pie(p, rho=(0.10, 0.30), cost=(0.0, 0.0)):
    """RU wants 1, UA wants 0 on TERR_CTRL, which alone is salient; identical elsewhere."""
    for a, ideal in (("RU", 1.0), ("UA", 0.0)):
        for iss, pos in p["actors"][a]["positions"].items():
            pos["ideal"] = ideal if iss == "TERR_CTRL" else 0.5
            pos["declared"] = pos["ideal"]
            pos["salience"] = 1.0 if iss == "TERR_CTRL" else 0.0
        p["actors"][a]["linkage"] = []
    p["actors"]["RU"]["discount_rate_per_year"], p["actors"]["UA"]["discount_rate_per_year"] = rho
    p["actors"]["RU"]["cost0_per_year"], p["actors"]["UA"]["cost0_per_year"] = cost
    return p


# ---------------------------------------------------------------------------------------------- T3
RUBINSTEIN = [(1.0, 0.786162), (0.25, 0.759295), (1 / 12, 0.753116), (1 / 52, 0.750721), (1 / 365, 0.750103)]


@pytest.mark.parametrize(("years", "share"), RUBINSTEIN)
def test_t3_rubinstein_alternating_offers(base, years, share):
    weeks = years * 52.18
    p = two_party_pie(quiet(base, weeks, dt=weeks, protocol="alternating_offers"))
    p["scenario"]["structure"]["round_interval_weeks"] = weeks
    p["scenario"]["structure"]["first_proposer"] = "RU"
    rec = simulate(p, 2, np.random.SeedSequence(1))
    assert_allclose(rec["settle_TERR_CTRL"], share, atol=5e-7)
    assert np.all(rec["agreement_type"] == "comprehensive_deal")
    assert_allclose(rec["weeks_to_agreement"], weeks)


def test_t3_limit_is_nash_with_weights_inverse_to_discount_rates(base):
    weeks = 52.18 / 3650
    p = two_party_pie(quiet(base, weeks, dt=weeks, protocol="alternating_offers"))
    p["scenario"]["structure"]["round_interval_weeks"] = weeks
    p["scenario"]["structure"]["first_proposer"] = "UA"  # the first mover's advantage vanishes as dt -> 0
    rec = simulate(p, 1, np.random.SeedSequence(1))
    assert abs(rec["settle_TERR_CTRL"][0] - 0.75) < 1e-4


# ---------------------------------------------------------------------------------------------- T4
def test_t4_fearon_risk_return_tradeoff(base):
    p = two_party_pie(quiet(base, 1.0, protocol="proposer"), cost=(0.1, 0.0))
    p["scenario"]["structure"]["win_prob"] = 0.5
    p["scenario"]["structure"]["private_cost_high"] = 0.3
    R = 6000
    rec = simulate(p, R, np.random.SeedSequence(4))
    agreed = rec["agreement_type"] == "comprehensive_deal"
    assert_allclose(rec["settle_TERR_CTRL"][agreed], 0.60, atol=1e-12)  # x* = p + (cbar - c_A)/2
    p_war = 1.0 - agreed.mean()
    se = np.sqrt((1 / 3) * (2 / 3) / R)
    assert abs(p_war - 1 / 3) < 3 * se
    eu = np.where(agreed, 0.6, 0.5 - 0.1)  # proposer's payoff: demand if accepted, p - c_A if war
    assert abs(eu.mean() - (0.5 + 1 / 30)) < 3 * eu.std() / np.sqrt(R)


def test_t4_no_war_when_private_costs_cannot_exceed_proposers(base):
    p = two_party_pie(quiet(base, 1.0, protocol="proposer"), cost=(0.1, 0.0))
    p["scenario"]["structure"]["win_prob"] = 0.5
    p["scenario"]["structure"]["private_cost_high"] = 0.05
    rec = simulate(p, 500, np.random.SeedSequence(4))
    assert np.all(rec["agreement_type"] == "comprehensive_deal")
    assert_allclose(rec["settle_TERR_CTRL"], 0.5)


# ---------------------------------------------------------------------------------------------- T5
@pytest.mark.parametrize("dt", [1.0, 4.0])
def test_t5_war_of_attrition_exact_discretisation(base, dt):
    per_week = np.array([0.02, 0.03])  # flow costs of RU, UA per week; prizes 1
    p = two_party_pie(quiet(base, 400.0, dt=dt, protocol="attrition"), cost=tuple(per_week * 52.18))
    R = 20000
    rec = simulate(p, R, np.random.SeedSequence(7))
    T = rec["weeks_to_agreement"]
    assert not np.isnan(T).any()
    h = per_week.sum()  # RU concedes at c_UA / V_UA = 0.03, UA at c_RU / V_RU = 0.02
    mean = dt / -np.expm1(-h * dt)  # 20.504 at dt = 1, 22.07 at dt = 4
    assert_allclose(mean, {1.0: 20.504, 4.0: 22.07}[dt], atol=5e-3)
    assert abs(T.mean() - mean) < 3 * T.std() / np.sqrt(R)
    s52 = np.mean(T > 52)
    assert abs(s52 - np.exp(-2.6)) < 3 * np.sqrt(np.exp(-2.6) * (1 - np.exp(-2.6)) / R)
    pa, pb = -np.expm1(-0.03 * dt), -np.expm1(-0.02 * dt)
    p_ru_first = pa / (pa + (1 - pa) * pb)  # -> 0.6 as dt -> 0
    ru_first = rec["settle_TERR_CTRL"] == 0.0  # RU conceded: UA's terms
    assert abs(ru_first.mean() - p_ru_first) < 3 * np.sqrt(p_ru_first * (1 - p_ru_first) / R)


# ---------------------------------------------------------------------------------------------- T6
@pytest.mark.parametrize("dt", [1 / 7, 1.0, 4.0])
def test_t6_kalman_learning_is_step_size_invariant(base, dt):
    p = quiet(base, 52.18)
    p["modules"]["battlefield"] = p["modules"]["learning"] = True
    p["scenario"]["dt_weeks"] = dt
    p["beliefs"]["forgetting_per_year"] = 0.0
    p["beliefs"]["drift_prior_sd"] = 0.05
    p["war"]["vol_per_sqrt_year"] = 0.05
    m = NegotiationModel(p, 1, np.random.SeedSequence(1))
    st = m.state
    i_ru, i_ua = m.prm.actors.index("RU"), m.prm.actors.index("UA")
    st.m[:, i_ru], st.m[:, i_ua] = 0.15, 0.06
    steps = int(round(52.18 / dt))
    T = steps * dt / 52.18
    y = 0.10 * T  # cumulative signal D, spread evenly; jumps zero
    for _ in range(steps):
        learning_phase(st, m.prm, np.full(1, 0.10 * dt / 52.18), np.zeros(1))
    assert_allclose(st.m[0, i_ru], (0.15 + y) / (1 + T), atol=1e-12)
    assert_allclose(st.m[0, i_ua], (0.06 + y) / (1 + T), atol=1e-12)
    if abs(T - 1.0) < 1e-9:
        assert_allclose([st.m[0, i_ru], st.m[0, i_ua]], [0.125, 0.08], atol=1e-12)


def test_t6_common_data_shrink_the_optimism_gap_by_one_over_one_plus_t(base):
    p = quiet(base, 52.18)
    p["modules"]["battlefield"] = p["modules"]["learning"] = True
    p["beliefs"]["forgetting_per_year"] = 0.0
    p["beliefs"]["drift_prior_sd"] = 0.05
    p["war"]["vol_per_sqrt_year"] = 0.05
    p["war"]["collapse_jump"]["annual_prob"] = 0.0
    p["war"]["counteroffensive_jump"]["annual_prob"] = 0.0
    p["war"]["L0"] = 0.3  # far from the box so the line is never clipped
    p["scenario"]["horizon_weeks"] = 52
    p["scenario"]["reporting_horizons_weeks"] = [52]
    m = NegotiationModel(p, 50, np.random.SeedSequence(3))
    gap0 = m.state.m[:, 2] - m.state.m[:, 3]
    m.run()
    T = 52 / 52.18
    assert_allclose(m.state.m[:, 2] - m.state.m[:, 3], gap0 / (1 + T), atol=1e-12)
    D = m.state.L - 0.3
    assert_allclose(m.state.m[:, 2], (m.prm.m0[:, 2] + D) / (1 + T), atol=1e-12)


def fearon_learning(base, weeks, g0=0.3, interval=1.0, rate=0.0):
    """1-D Fearon setting with beliefs over the war's trend (memo §3, T6 corollary), noise off.

    RU (ideal 1) and UA (ideal 0) split TERR_CTRL with linear utilities -|X - x_i|; the line starts at 0.5
    with no drift and no jumps. With H = 1 year and w = exp(-rho H) = 1/2 the outside option is
    W_RU = L + (1 + w)/2 m_RU H - (1 - w) c0_RU (and symmetrically for UA), so a text beats both outside
    options iff g = (1 + w)/2 (m_RU - m_UA) H <= (1 - w)(c0_RU + c0_UA) = c_A + c_B = 0.1 with c0 = 0.1
    each. Common signals shrink the belief gap by 1/(1 + t/T0), T0 = tau0 / tau_s: the prior precision is
    tau0 = 1/0.05^2 and the data precision 1/sigma_L^2 per year, so sigma_L^2 = T0 / tau0 gives T0 = 26 weeks.
    """
    p = quiet(base, weeks)
    st = p["scenario"]["structure"]
    st["utility_shape"], st["text_solver"], st["round_interval_weeks"] = "linear", "nash", interval
    for m in ("battlefield", "learning", "outside_option"):
        p["modules"][m] = True
    p["mediator"]["round_rate_per_week"], p["mediator"]["frustration_round_multiplier"] = rate, 0.0
    p["mediator"]["misperception_sd"], p["mediator"]["bias"] = 0.0, {}
    p["mediator"]["nonveto_weight"], p["mediator"]["text_weights0"] = 0.0, {"RU": 0.5, "UA": 0.5}
    p["acceptance_noise"]["sigma_xi"] = 0.0
    for a, d in p["actors"].items():
        d.pop("exclusion_penalty", None)
        d["roles"] = ["belligerent", "veto_comprehensive"] if a in ("RU", "UA") else ["patron"]
    p["actors"]["US"]["roles"] = ["mediator"]
    for a, ideal in (("RU", 1.0), ("UA", 0.0)):
        d = p["actors"][a]
        for iss, pos in d["positions"].items():
            pos["ideal"] = pos["declared"] = ideal if iss == "TERR_CTRL" else 0.5
            pos["salience"] = 1.0 if iss == "TERR_CTRL" else 0.0
        d["linkage"] = []
        d["discount_rate_per_year"], d["cost0_per_year"], d["cost_strain_multiplier"] = np.log(2.0), 0.1, 0.0
        d["accept"], d["deal_bonus"] = {"tau": 0.0, "nu": 0.0}, 0.0
    w = p["war"]
    w["L0"], w["drift_per_year"], w["horizon_years"] = 0.5, 0.0, 1.0
    w["collapse_jump"]["annual_prob"] = w["counteroffensive_jump"]["annual_prob"] = 0.0
    w["vol_per_sqrt_year"] = float(np.sqrt(26 / 52.18 / 400))
    b = p["beliefs"]
    b["forgetting_per_year"], b["drift_prior_sd"], b["collapse_hazard_belief_per_year"] = 0.0, 0.05, {}
    b["drift_prior_mean"] = {"RU": g0 / 0.75 / 2, "UA": -g0 / 0.75 / 2}  # (1 + w)/2 = 0.75
    return p


def test_t6_convergence_to_agreement_round_every_step(base):
    from sim.model.outside_option import outside_option

    p = fearon_learning(base, 80)
    m = NegotiationModel(p, 4, np.random.SeedSequence(5))
    prm, st = m.prm, m.state
    ru, ua = prm.actors.index("RU"), prm.actors.index("UA")
    # the optimism gap after t weeks of common data, whatever the data: g0 / (1 + t / T0)
    for _ in range(40):
        m.step()
    W = outside_option(prm, st, np.arange(4))
    g = 0.3 / (1 + 40 / 26)
    assert_allclose(0.75 * (st.m[:, ru] - st.m[:, ua]), g, atol=1e-12)
    assert_allclose(W[:, ru] + W[:, ua], -1.0 + (g - 0.1), atol=1e-12)  # U_RU + U_UA = -1 for any text
    # t* = T0 (g0 / (c_A + c_B) - 1) = 26 (3 - 1) = 52 weeks. The round in the step [s, s + 1) sees s + 1
    # weeks of fighting and signs at its end, s + 1: at 52 weeks of data the range is a single point (zero
    # surplus, either way under round-off), from 53 it is open. So the deal is recorded in week 52 or 53.
    rec = simulate(p, 8, np.random.SeedSequence(5))
    T = rec["weeks_to_agreement"]
    assert np.all(np.abs(T - 52) <= 1), T
    assert np.all(rec["agreement_type"] == "comprehensive_deal")


def test_t6_convergence_to_agreement_poisson_rounds(base):
    # g0 = 0.31 puts t* = 26 (3.1 - 1) = 54.6 weeks off the weekly grid: the first round that can sign is in
    # the step [54, 55) (55 weeks of data), recorded 55. Rounds come with probability q = 1 - exp(-nu) per
    # step, so E[T] = 55 + (1 - q)/q = 59.517 at nu = 0.2 -> t* + 1/nu = 59.6 as the step goes to zero.
    nu, R = 0.2, 600
    p = fearon_learning(base, 130, g0=0.31, interval=None, rate=nu)
    T = simulate(p, R, np.random.SeedSequence(6))["weeks_to_agreement"]
    assert not np.isnan(T).any()
    q = -np.expm1(-nu)
    mean = 55 + (1 - q) / q
    assert abs(mean - (26 * (0.31 / 0.1 - 1) + 1 / nu)) < 0.1
    assert T.min() >= 55
    assert abs(T.mean() - mean) < 3 * np.sqrt((1 - q) / q**2 / R)


# ---------------------------------------------------------------------------------------------- T7
def test_t7_bdm_challenge_arithmetic_and_pressure_direction(base):
    x = np.array([0.0, 1.0])
    P = prob_success(x, [2.0, 1.0], [1.0, 1.0], delta=1.0, mode="printed")
    assert_allclose(P[0, 1], 2 / 3)
    assert_allclose(eu_challenge(P[0, 1], 1.0, 1.0), 2 / 3)
    assert_allclose(eu_challenge(P[1, 0], 1.0, 1.0), -2 / 3)
    assert_allclose(eu_challenge(P[0, 1], 1.0, 0.5), 4 / 3)
    assert_allclose(1 + (0 - 1) * (2 / 3) / (4 / 3), 0.5)  # classic compromise of the target B
    # the model's pressure weights: the strong actor presses the weak one, not the reverse
    p = copy.deepcopy(base)
    m = NegotiationModel(p, 1, np.random.SeedSequence(0))
    prm = m.prm
    prm.cap[:] = 0.0
    ru, ua = prm.actors.index("RU"), prm.actors.index("UA")
    prm.cap[:, ru], prm.cap[:, ua] = 2.0, 1.0
    prm.sal[:] = 1.0 / prm.K  # equal saliences: only capability differs
    xd = np.full((1, prm.n, prm.K), 0.5)
    xd[0, ru], xd[0, ua] = 1.0, 0.0
    Pi = pressure_weights(prm, xd, np.arange(1))
    assert np.all(Pi[0, :, ua, ru] > 0.5)  # pressure of RU on UA
    assert np.all(Pi[0, :, ru, ua] < 0.5)  # UA's pressure on RU is weaker
    assert_allclose(
        Pi[0, :, ua, ru] + Pi[0, :, ru, ua], 1.0
    )  # sigma(z) + sigma(-z), both challenges positive


# ---------------------------------------------------------------------------------------------- T8
def three_player_pies(p, delta, order=("RU", "UA", "US")):
    """Each bargainer wants 1 on its own issue and 0 on the others', so settle_<its issue> is its share."""
    own = dict(zip(order, ("TERR_CTRL", "NATO", "SANCTIONS"), strict=True))
    for a in order:
        for iss, pos in p["actors"][a]["positions"].items():
            pos["ideal"] = pos["declared"] = 1.0 if iss == own[a] else 0.0
            pos["salience"] = 1.0 if iss in own.values() else 0.0
        p["actors"][a]["linkage"] = []
        p["actors"][a]["discount_rate_per_year"] = -np.log(delta)  # one round a year: delta per round
    p["scenario"]["structure"]["round_interval_weeks"] = 52.18
    p["scenario"]["structure"]["bargainers"] = list(order)
    return p, own


@pytest.mark.parametrize(
    ("delta", "shares"), [(0.9, (0.369004, 0.332103, 0.298893)), (0.99, (0.336689, 0.333322, 0.329989))]
)
@pytest.mark.parametrize("first", ["RU", "UA"])
def test_t8_krishna_serrano_rotating_proposer_in_the_model(base, delta, shares, first):
    p, own = three_player_pies(quiet(base, 52.18, dt=52.18, protocol="alternating_offers"), delta)
    p["scenario"]["structure"]["first_proposer"] = first
    rec = simulate(p, 2, np.random.SeedSequence(1))
    order = ["RU", "UA", "US"]
    i = order.index(first)
    order = order[i:] + order[:i]  # the proposer, then the next to propose, then the last
    x = 1 / (1 + delta + delta**2)  # proposer's share; the next get delta x and delta^2 x
    assert_allclose([x, delta * x, delta**2 * x], shares, atol=5e-7)
    for a, share in zip(order, shares, strict=True):
        assert_allclose(rec[f"settle_{own[a]}"], share, atol=5e-7)
    assert np.all(rec["agreement_type"] == "comprehensive_deal")


def test_t8_rotating_shares_match_the_engine_with_unequal_discount_factors():
    from sim.engines.nash import rotating_proposer_shares as engine
    from sim.model.protocols import rotating_proposer_shares, rubinstein_share

    d = np.array([[0.9, 0.8, 0.95, 0.7], [0.5, 0.99, 0.6, 0.9]])
    x = rotating_proposer_shares(d)
    for r in range(2):
        assert_allclose(x[r], np.diag(engine(d[r])), atol=1e-12)
    two = rotating_proposer_shares(d[:, :2])  # n = 2 is Rubinstein
    assert_allclose(two[:, 0], rubinstein_share(d[:, 0], d[:, 1]), atol=1e-12)


def test_t8_bargainers_must_be_two_different_actors(base):
    from sim.errors import UserError

    p, _ = three_player_pies(quiet(base, 52.18, dt=52.18, protocol="alternating_offers"), 0.9)
    p["scenario"]["structure"]["bargainers"] = ["RU", "RU", "UA"]
    msg = "^scenario.structure.bargainers: name at least two different actors$"
    with pytest.raises(UserError, match=msg):
        simulate(p, 1, np.random.SeedSequence(1))


# ---------------------------------------------------------------------------------------------- T11
def test_t11_commitment_metamorphic(base):
    """gamma_s up => UA's deal value down; theta up => up; h0 -> 0 => V = U + bonus (memo T11)."""
    terms = base["packages"]["framework_20_point"]["terms"]

    def v_ua(**edit):
        p = copy.deepcopy(base)
        per = p["commitment"]["perceived"]["UA"]
        for k, v in edit.items():
            if k == "theta":
                p["commitment"]["guarantee_credibility"] = v
            else:
                per[k] = v
        m = NegotiationModel(p, 1, np.random.SeedSequence(0))
        X = np.array([[terms[i] for i in m.prm.issues]])
        from sim.model.outside_option import outside_option

        W = outside_option(m.prm, m.state, np.arange(1))  # the war option (below the deal's utility)
        ua = m.prm.actors.index("UA")
        return deal_value(m.prm, X, m.state.L, W, np.arange(1))[0, ua], m, X, W

    v0 = v_ua()[0]
    assert v_ua(gamma_shift=4.0)[0] < v0
    assert v_ua(theta=0.95)[0] > v0 > v_ua(theta=0.2)[0]
    v, m, X, W = v_ua(h0_per_year=0.0)
    from sim.model.preferences import utility

    ua = m.prm.actors.index("UA")
    assert_allclose(
        v, utility(m.prm, X, m.state.L, np.arange(1))[0, ua] + m.prm.deal_bonus[0, ua], atol=1e-12
    )


def test_t11_powell_power_shift_inequality():
    """Powell (2006): the declining side fights iff delta p1 - p0 > (1 - delta)(c_A + delta c_B)."""
    d, p0, c = 0.9, 0.3, 0.1
    rhs = (1 - d) * (c + d * c)
    assert_allclose(rhs, 0.019)
    assert d * 0.6 - p0 > rhs  # war for p1 = 0.6 (0.24 > 0.019)
    assert d * 0.35 - p0 < rhs  # peace for p1 = 0.35 (0.015 < 0.019)


# ---------------------------------------------------------------------------------------------- T12
@pytest.mark.parametrize("dt", [1 / 7, 1.0, 4.0])
def test_t12_event_hazard_is_step_size_invariant(base, dt):
    n = int(round(52.18 / dt))
    p = quiet(base, n * dt, dt=dt)
    p["modules"]["events"] = True
    p["events"] = {"E": {"type": "poisson", "annual_prob": 0.15, "effect": {"US_sanctions": {"add": 0.0}}}}
    R = 20000
    rec = simulate(p, R, np.random.SeedSequence(12))
    hit = np.mean(rec["events_fired"] == "E")
    expected = 1 - 0.85 ** (n * dt / 52.18)  # = 0.15 at one year
    assert abs(expected - 0.15) < 0.003
    assert abs(hit - expected) < 3 * np.sqrt(expected * (1 - expected) / R)


@pytest.mark.parametrize("dt", [0.5, 2.0])
def test_t12_ou_shocks_have_stationary_variance_and_exponential_autocorrelation(base, dt):
    p = quiet(base, 10.0, dt=dt)
    p["acceptance_noise"] = {"sigma_xi": 0.02, "T_xi_weeks": 26.0}
    m = NegotiationModel(p, 20000, np.random.SeedSequence(5))
    st, prm = m.state, m.prm
    rng = np.random.default_rng(0)
    x0 = st.xi.copy()
    lag = 26.0
    for _ in range(int(lag / dt)):
        ou_phase(st, prm, rng.standard_normal(st.xi.shape))
    v = st.xi.ravel()
    n = v.size
    assert abs(v.var() - 0.02**2) < 3 * 0.02**2 * np.sqrt(2 / n)
    rho = np.corrcoef(x0.ravel(), v)[0, 1]
    assert abs(rho - np.exp(-lag / 26.0)) < 3 * (1 - np.exp(-2.0)) / np.sqrt(n)
