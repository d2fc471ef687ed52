"""Model layer: reproducibility, invariances, records, stylised facts (DESIGN §8 items 4-5; memo §4-5)."""

import copy

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from sim.errors import UserError
from sim.model import OUTCOMES, central_params, simulate
from sim.model.diagnostics import package_surpluses
from sim.model.expressions import compile_expression
from sim.model.model import NegotiationModel
from sim.scenario import load_scenario, materialise, sample_parameters

BASELINE = "scenarios/baseline.yaml"


@pytest.fixture(scope="module")
def sc():
    return load_scenario(BASELINE)


@pytest.fixture(scope="module")
def central(sc):
    return central_params(sc.data)


def sampled(sc, R, seed=11):
    draws = sample_parameters(sc, R, np.random.SeedSequence(seed))
    return materialise(sc, draws, np.arange(R))


def short(params, weeks=26):
    p = copy.deepcopy(params)
    p["scenario"]["horizon_weeks"] = weeks
    p["scenario"]["reporting_horizons_weeks"] = [h for h in (13, 26, 52) if h <= weeks]
    return p


def assert_records_equal(a, b, rows_b=slice(None)):
    assert set(a) == set(b)
    for k in a:
        x, y = a[k], b[k][rows_b]
        if x.dtype.kind == "f":
            assert_allclose(x, y, atol=1e-9, equal_nan=True, err_msg=k)
        else:
            assert_array_equal(x, y, err_msg=k)


# ---------------------------------------------------------------------------------------------- records
def test_records_follow_the_contract(sc):
    R = 6
    rec = simulate(short(sampled(sc, R)), R, np.random.SeedSequence(3))
    issues = list(sc.data["issues"])
    expected = {
        "outcome_w13",
        "outcome_w26",
        "weeks_to_agreement",
        "weeks_to_comprehensive",
        "agreement_type",
        "binding_veto",
        "n_rounds",
        "levers_fired",
        "rounds_waited",
        "territory_shelved",
        "territory_vote",
        "events_fired",
    } | {f"settle_{i}" for i in issues}
    for pid, pa in sc.data["partial_agreements"].items():  # modules.partial_agreements is on in the baseline
        expected |= {f"partial_{pid}_week", f"partial_{pid}_weeks_held"}
        expected |= {f"partial_{pid}_count"} if pa.get("repeatable") else set()
    expected |= {"line_gain_w13", "line_gain_w26", "reserves_RU_w13", "reserves_RU_w26", "walkaways"}
    expected |= {f"first_yes_{kind}_{a}" for kind in ("text", "ceasefire") for a in ("US", "RU", "UA", "EU")}
    expected |= {"levers_on_RU", "levers_on_UA"}
    assert set(rec) == expected
    for k, v in rec.items():
        assert v.shape == (R,), k
    assert set(rec["outcome_w26"]) <= set(OUTCOMES)
    assert set(rec["agreement_type"]) <= {"comprehensive_deal", "ceasefire", "none"}
    none = rec["agreement_type"] == "none"
    assert_array_equal(np.isnan(rec["weeks_to_agreement"]), none)
    assert np.all(np.isnan(rec["settle_TERR_CTRL"][none]))
    assert set(rec["binding_veto"]) <= {"", "US", "RU", "UA", "EU"}  # veto players only
    assert np.all(rec["n_rounds"] >= 0) and np.all(rec["rounds_waited"] >= 0)
    assert np.all(rec["levers_on_RU"] + rec["levers_on_UA"] <= rec["levers_fired"])
    known = set(sc.data["events"])
    for s in rec["events_fired"]:
        assert s == "" or set(s.split(";")) <= known


def test_every_signatory_said_yes_by_the_week_of_its_signature(sc):
    R = 300
    rec = simulate(sampled(sc, R), R, np.random.SeedSequence(7))
    first = rec["weeks_to_agreement"]
    for kind, cls, vetoes in (("text", "comprehensive_deal", ("US", "RU", "UA", "EU")),
                              ("ceasefire", "ceasefire", ("RU", "UA"))):  # fmt: skip
        signed = rec["agreement_type"] == cls
        assert signed.any(), cls
        for a in vetoes:
            assert np.all(rec[f"first_yes_{kind}_{a}"][signed] <= first[signed]), (kind, a)
    assert np.all(np.isnan(rec["first_yes_ceasefire_US"]))  # not a ceasefire veto player
    # Ukraine said yes to some ceasefire where none was signed: the record's Jeddah pattern (F2) can occur
    assert np.any(~np.isnan(rec["first_yes_ceasefire_UA"]) & (rec["agreement_type"] == "none"))


def test_same_seed_same_records_and_different_seed_differs(sc):
    p = short(sampled(sc, 6))
    a = simulate(p, 6, np.random.SeedSequence(5))
    b = simulate(p, 6, np.random.SeedSequence(5))
    assert_records_equal(a, b)
    c = simulate(p, 6, np.random.SeedSequence(6))
    assert any(not np.array_equal(a[k], c[k], equal_nan=a[k].dtype.kind == "f") for k in a)


def test_seed_sequence_is_not_mutated(sc):
    p = short(sampled(sc, 2), 13)
    ss = np.random.SeedSequence(9)
    a = simulate(p, 2, ss)
    b = simulate(p, 2, ss)
    assert_records_equal(a, b)
    assert ss.n_children_spawned == 0


def test_single_replicate_equals_first_replicate_of_a_block(sc):
    draws = sample_parameters(sc, 4, np.random.SeedSequence(2))
    p4 = short(materialise(sc, draws, np.arange(4)), 52)
    p1 = short(materialise(sc, draws, np.array([0])), 52)
    ss = np.random.SeedSequence(21)
    r4 = simulate(p4, 4, ss)
    r1 = simulate(p1, 1, ss)
    assert_records_equal(r1, r4, rows_b=slice(0, 1))


# ---------------------------------------------------------------------------------------------- invariances
def test_permuting_actor_order_leaves_outcomes_identical(sc):
    p = short(sampled(sc, 6), 52)
    q = copy.deepcopy(p)
    q["actors"] = dict(reversed(list(q["actors"].items())))
    q["mediator"]["text_weights0"] = dict(reversed(list(q["mediator"]["text_weights0"].items())))
    a = simulate(p, 6, np.random.SeedSequence(8))
    b = simulate(q, 6, np.random.SeedSequence(8))
    assert_records_equal(a, b)


OWN_UTILITY_PARAMS = ("cost0_per_year", "deal_bonus", "reference_penalty", "ceasefire_penalty")


def _rescale_actor(p, actor, c):
    q = copy.deepcopy(p)
    a = q["actors"][actor]
    a["utility_scale"] = c * np.asarray(a.get("utility_scale", 1.0))
    for key in OWN_UTILITY_PARAMS:
        a[key] = c * np.asarray(a.get(key, 0.0))
    a["accept"] = {k: c * np.asarray(v) for k, v in a["accept"].items()}
    if "exclusion_penalty" in a:
        a["exclusion_penalty"]["tau_add"] = c * np.asarray(a["exclusion_penalty"]["tau_add"])
    q["mediator"]["bias"][actor] = c * np.asarray(q["mediator"]["bias"][actor])
    per = q["commitment"]["perceived"].get(actor)
    if per is not None:
        per["vartheta"] = c * np.asarray(per["vartheta"])
    return q


@pytest.mark.parametrize("actor", ["RU", "UA"])
def test_rescaling_an_actors_utility_leaves_outcomes_identical(sc, actor):
    """Memo §4.2 guard 1: multiply all of one actor's utility-scale parameters by a constant."""
    p = short(sampled(sc, 6), 52)
    a = simulate(p, 6, np.random.SeedSequence(4))
    b = simulate(_rescale_actor(p, actor, 4.0), 6, np.random.SeedSequence(4))
    for k in a:
        if a[k].dtype.kind == "f":
            assert_allclose(a[k], b[k], atol=1e-6, equal_nan=True, err_msg=k)
        else:
            assert_array_equal(a[k], b[k], err_msg=k)


def test_rescaling_only_salience_changes_nothing_but_rescaling_costs_alone_does(sc, central):
    """Saliences are normalised (memo §1.3): their scale is irrelevant; a cost's scale is not."""
    m0 = NegotiationModel(central, 1, np.random.SeedSequence(1))
    q = copy.deepcopy(central)
    for pos in q["actors"]["RU"]["positions"].values():
        pos["salience"] = 3.0 * pos["salience"]
    m1 = NegotiationModel(q, 1, np.random.SeedSequence(1))
    terms = central["packages"]["plan_28_point"]["terms"]
    assert_allclose(
        package_surpluses(m0, terms)["surplus"], package_surpluses(m1, terms)["surplus"], atol=1e-12
    )
    q2 = copy.deepcopy(central)
    q2["actors"]["RU"]["cost0_per_year"] = 10 * q2["actors"]["RU"]["cost0_per_year"]
    m2 = NegotiationModel(q2, 1, np.random.SeedSequence(1))
    assert (
        package_surpluses(m2, terms)["W"][0, m2.prm.actors.index("RU")]
        < package_surpluses(m0, terms)["W"][0, 2]
    )


# ------------------------------------------------------------------------------------------ stylised facts
def test_t0_stylised_facts_28_point_and_20_point(central):
    """Memo §5.1: at central values with no noise, 28-pt acceptable to RU not UA; 20-pt the reverse."""
    m = NegotiationModel(central, 1, np.random.SeedSequence(0))
    RU, UA = m.prm.actors.index("RU"), m.prm.actors.index("UA")
    s28 = package_surpluses(m, central["packages"]["plan_28_point"]["terms"])["surplus"][0]
    s20 = package_surpluses(m, central["packages"]["framework_20_point"]["terms"])["surplus"][0]
    assert s28[RU] > 0 > s28[UA]
    assert s20[UA] > 0 > s20[RU]


def test_t0_outside_options_match_the_memo_prototype(central):
    """Memo §5.1 W column (prototype, rounded): RU -0.161, UA -0.242, US -0.120, EU -0.120."""
    m = NegotiationModel(central, 1, np.random.SeedSequence(0))
    W = package_surpluses(m, central["packages"]["plan_28_point"]["terms"])["W"][0]
    got = {a: W[i] for i, a in enumerate(m.prm.actors)}
    for a, ref in {"RU": -0.161, "UA": -0.242, "US": -0.120, "EU": -0.120}.items():
        assert abs(got[a] - ref) < 0.02, (a, got[a])


# ---------------------------------------------------------------------------------------------- expressions
def test_expression_language_is_whitelisted():
    f = compile_expression(
        "exp(1.5 * RU_strain) * (status == WAR) + max(L, 0.2)", ["RU_strain", "status", "WAR", "L"]
    )
    env = {"RU_strain": np.array([0.0, 1.0]), "status": np.array([0, 1]), "WAR": 0, "L": np.array([0.1, 0.5])}
    assert_allclose(f(env), [1.0 + 0.2, 0.5])
    with pytest.raises(UserError, match="unknown name 'os'"):
        compile_expression("os", ["L"], "events.X.when")
    with pytest.raises(UserError, match="Attribute is not allowed"):
        compile_expression("L.__class__", ["L"], "events.X.when")
    with pytest.raises(UserError, match="Call is not allowed"):
        compile_expression("__import__('os')", ["L"], "events.X.when")


def test_datacollector_shares_sum_to_one(central):
    m = NegotiationModel(short(central, 13), 5, np.random.SeedSequence(1))
    m.run()
    df = m.datacollector.get_model_vars_dataframe()
    assert len(df) == 13
    shares = df[[c for c in df.columns if c.startswith("share_") and c != "share_engaged_all"]].sum(axis=1)
    assert_allclose(shares, 1.0)


def test_every_module_switch_runs(central):
    p = short(central, 13)
    for mod in p["modules"]:
        q = copy.deepcopy(p)
        q["modules"][mod] = False
        rec = simulate(q, 3, np.random.SeedSequence(1))
        assert set(rec["outcome_w13"]) <= set(OUTCOMES)


def test_lever_on_the_blamed_party_cuts_its_text_weight(central):
    """A lever ``on_EU: {target: omega, mul: 0.5}`` halves Europe's text weight when Europe is blamed."""
    from sim.model.mediation import apply_lever

    p = copy.deepcopy(central)
    p["mediator"]["levers"]["on_EU"] = {"target": "omega", "mul": 0.5}
    m = NegotiationModel(p, 3, np.random.SeedSequence(0))
    eu = m.prm.actors.index("EU")
    before = m.state.omega.copy()
    mask = np.array([True, False, True])
    apply_lever(m.state, m.prm, m.prm.levers[eu], mask, 0.0, eu)
    assert_allclose(m.state.omega[mask, eu], 0.5 * before[mask, eu])
    assert_allclose(m.state.omega[~mask], before[~mask])


def test_outside_option_off_uses_fixed_disagreement_values(central):
    p = copy.deepcopy(central)
    p["modules"]["outside_option"] = False
    p["actors"]["RU"]["disagreement_value"] = -0.3
    m = NegotiationModel(p, 2, np.random.SeedSequence(0))
    W = package_surpluses(m, central["packages"]["plan_28_point"]["terms"])["W"]
    ru, ua = m.prm.actors.index("RU"), m.prm.actors.index("UA")
    assert_allclose(W[:, ru], -0.3)
    assert_allclose(W[:, ua], -1.0)  # default: the worst outcome on the normalised scale


def test_classic_bdm_mode_uses_the_hard_challenge_rule(central):
    from sim.model.influence import pressure_weights

    p = copy.deepcopy(central)
    p["scenario"]["structure"]["bdm_mode"] = "classic"
    m = NegotiationModel(p, 1, np.random.SeedSequence(0))
    Pi = pressure_weights(m.prm, m.prm.decl0, np.arange(1))
    assert set(np.unique(Pi)) <= {0.0, 1.0}
    assert Pi.sum() > 0


def test_a_varying_draw_of_a_structural_parameter_is_a_named_user_error(central):
    p = copy.deepcopy(central)
    p["war"]["relapse_intensity"] = np.array([1.2, 1.4])
    with pytest.raises(UserError) as err:
        simulate(p, 2, np.random.SeedSequence(1))
    assert err.value.message == (
        "relapse_intensity: this parameter must be fixed (the same in every draw); "
        "make it a number instead of a distribution"
    )
    p["war"]["relapse_intensity"] = np.array([1.3, 1.3])  # a constant column is fine
    assert simulate(short(p, 13), 2, np.random.SeedSequence(1))["outcome_w13"].shape == (2,)


def test_positive_definite_repair_shrinks_only_the_indefinite_draws_and_counts_them():
    """_make_pd gets each draw's matrices once (build_params repeats them along the paths, which
    tests/test_model_kernels.py checks): it repairs the indefinite one and warns once per actor and draw."""
    import warnings

    from sim.model.params import _make_pd

    rng = np.random.default_rng(3)
    K, n = 4, 2
    draws = []
    for kappa in (0.5, 2.5, 0.0):  # positive definite, indefinite (repaired), diagonal
        A = np.zeros((n, K, K))
        A[:, np.arange(K), np.arange(K)] = rng.uniform(0.1, 0.4, (n, K))
        off = -0.5 * kappa * np.sqrt(A[:, 0, 0] * A[:, 1, 1])
        A[:, 0, 1] = A[:, 1, 0] = off
        draws.append(A)
    A = np.stack(draws)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        got = _make_pd(A, ["X", "Y"])
    assert np.array_equal(got[[0, 2]], A[[0, 2]]) and not np.array_equal(got[1], A[1])
    assert np.linalg.eigvalsh(got).min() > 0
    assert np.array_equal(np.diagonal(got, axis1=-2, axis2=-1), np.diagonal(A, axis1=-2, axis2=-1))
    # one indefinite draw, both actors' matrices indefinite: 2
    assert [str(w.message).split(" in ")[1].split(" draw")[0] for w in caught] == ["2"]
