"""Partial agreements (sim/model/partials.py; issue 19 item 1): signing, effects while in force, records,
summary, and that they leave the four outcome classes and every other record alone."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy.special import expit

from sim.batch.summary import SummaryAccumulator
from sim.model import OUTCOMES, central_params, simulate
from sim.model.events import state_env
from sim.model.model import NegotiationModel
from sim.model.partials import partials_phase, party_values, signing_probability
from sim.scenario import ScenarioError, load_scenario, materialise, sample_parameters

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "baseline.yaml"


@pytest.fixture(scope="module")
def sc():
    return load_scenario(BASELINE)


@pytest.fixture(scope="module")
def central(sc):
    return central_params(sc.data)


def sampled(sc, R, weeks, seed=11):
    draws = sample_parameters(sc, R, np.random.SeedSequence(seed))
    p = materialise(sc, draws, np.arange(R))
    p["scenario"]["horizon_weeks"] = weeks
    p["scenario"]["reporting_horizons_weeks"] = [h for h in (13, 26, 52) if h <= weeks]
    return p


def with_partials(params, section, on=True):
    """The parameters with ``partial_agreements`` replaced by ``section`` (None: no section)."""
    p = copy.deepcopy(params)
    p["modules"]["partial_agreements"] = on
    p.pop("partial_agreements", None)
    if section is not None:
        p["partial_agreements"] = section
    return p


def model_with(params, section, R):
    return NegotiationModel(with_partials(params, section), R, np.random.SeedSequence(5), collect=False)


# ------------------------------------------------------------------------------------ signing
def test_party_values_and_signing_probability_by_hand(central):
    section = {"BS": {"label": "Black Sea", "parties": ["RU", "UA"], "proposers": ["mediator"],
                      "proposal_rate": 1.0, "value": {"RU": -0.01, "UA": 0.006},
                      "value_expression": {"RU": "-0.05 * US_sanctions"}}}
    m = model_with(central, section, 3)
    prm, st = m.prm, m.state
    us, ru, ua = (prm.actors.index(a) for a in ("US", "RU", "UA"))
    st.sanctions[:, us] = [0.0, -0.4, 0.2]  # relief of 0.4 in the second replicate, more in the third
    pa, rows, env = prm.partials[0], np.arange(3), state_env(st, prm.actors)
    v = party_values(pa, env, rows)
    assert_allclose(v[:, 0], [-0.01, 0.01, -0.02], atol=1e-15)  # uscale 1 in the baseline
    assert_allclose(v[:, 1], 0.006)
    p = signing_probability(pa, prm, env, rows)
    nu_ru, nu_ua = prm.nu[0, ru], prm.nu[0, ua]
    assert nu_ru == nu_ua == 0.003
    assert_allclose(p[:, 0], expit(np.array([-0.01, 0.01, -0.02]) / 0.003))
    assert_allclose(p[:, 1], expit(2.0))


def test_signed_at_the_product_of_the_parties_probabilities(central):
    R = 4000
    section = {"X": {"label": "x", "parties": ["RU", "UA"], "proposers": ["RU"], "proposal_rate": 1e6,
                     "value": {"RU": 0.003, "UA": -0.0015}, "duration_weeks": 1.0}}
    m = model_with(central, section, R)
    u = np.random.default_rng(1).random((R, m.prm.partial_slots))
    partials_phase(m.state, m.prm, u, 0.0)
    expected = expit(1.0) * expit(-0.5)  # 0.731 x 0.378
    got = np.mean(~np.isnan(m.state.pa_first[:, 0]))
    assert abs(got - expected) < 4 * np.sqrt(expected * (1 - expected) / R)
    assert_allclose(m.state.pa_first[~np.isnan(m.state.pa_first[:, 0]), 0], 1.0)  # signed at the step's end


def test_never_signed_when_one_party_values_it_very_negatively(sc):
    R = 40
    section = {"MIN": {"label": "minerals", "parties": ["UA", "US"], "proposers": ["US", "mediator"],
                       "proposal_rate": 50.0, "value": {"UA": 0.05, "US": -1.0}}}
    rec = simulate(with_partials(sampled(sc, R, 26), section), R, np.random.SeedSequence(3))
    assert np.all(np.isnan(rec["partial_MIN_week"]))
    assert_array_equal(rec["partial_MIN_weeks_held"], 0.0)
    section["MIN"]["value"]["US"] = 0.05  # and signed within weeks when both gain
    rec = simulate(with_partials(sampled(sc, R, 26), section), R, np.random.SeedSequence(3))
    assert np.all(rec["partial_MIN_week"] <= 10)


# ------------------------------------------------------------------------------------ effects
def test_effects_hold_while_in_force_and_are_undone_when_it_lapses(central):
    R = 5
    section = {"M": {"label": "stake", "parties": ["UA"], "proposers": ["UA"], "proposal_rate": 1e6,
                     "value": {"UA": 1.0}, "duration_weeks": 3.0,
                     "effect": {"US_support": {"add": 0.1}, "RU_reneging_hazard": {"mul": 0.5},
                                "guarantee_credibility": {"add": 0.1}}}}
    m = model_with(central, section, R)
    prm, st = m.prm, m.state
    us, ru = prm.actors.index("US"), prm.actors.index("RU")
    support0, h0, theta0 = st.support[:, us].copy(), prm.h0[:, ru].copy(), st.theta.copy()
    assert st.h0 is prm.kernel.h0 and st.theta is prm.kernel.theta  # what the value kernels read
    u = np.full((R, prm.partial_slots), 0.5)
    partials_phase(st, prm, u, 0.0)  # proposed and signed: in force from week 1
    in_force = (st.support[:, us].copy(), st.h0[:, ru].copy(), st.theta.copy())
    assert_allclose(in_force[0], support0 + 0.1)
    assert_allclose(in_force[1], 0.5 * h0)
    assert_allclose(in_force[2], theta0 + 0.1)
    assert_array_equal(prm.h0[:, ru], h0)  # the parameters stay as built
    for t in (1.0, 2.0):  # still in force until week 4
        partials_phase(st, prm, u, t)
        assert st.pa_in_force[:, 0].all()
        assert_allclose(st.support[:, us], in_force[0])
    partials_phase(st, prm, u, 3.0)  # lapses at week 4; not repeatable: never signed again
    assert not st.pa_in_force[:, 0].any()
    assert_allclose(st.support[:, us], support0)
    assert_allclose(st.h0[:, ru], h0)
    assert_allclose(st.theta, theta0)
    assert_allclose(st.pa_held[:, 0], 3.0)
    partials_phase(st, prm, u, 4.0)
    assert_array_equal(st.pa_count[:, 0], 1)


def test_an_act_accumulates_and_a_breakdown_ends_an_agreement(central):
    R = 3
    section = {
        "PX": {"label": "exchange", "parties": ["RU", "UA"], "proposers": ["mediator"], "proposal_rate": 1e6,
               "value": {"RU": 1.0, "UA": 1.0}, "repeatable": True,
               "effect": {"UA_reneging_hazard": {"mul": 0.9}}},
        "BS": {"label": "black sea", "parties": ["RU"], "proposers": ["RU"], "proposal_rate": 1e6,
               "value": {"RU": 1.0}, "breakdown_per_year": 1e6,
               "effect": {"RU_revenue_multiplier": {"mul": 1.5}}},
    }
    m = model_with(central, section, R)
    prm, st = m.prm, m.state
    ua, ru = prm.actors.index("UA"), prm.actors.index("RU")
    h0 = prm.h0[:, ua].copy()
    u = np.full((R, prm.partial_slots), 0.5)
    for t in range(3):
        partials_phase(st, prm, u, float(t))
    assert_array_equal(st.pa_count[:, 0], 3)  # an exchange every step, each lowering the hazard again
    assert_allclose(st.h0[:, ua], h0 * 0.9**3)
    # the arrangement is signed at week 1, broken in the next step, and (not repeatable) never signed again
    assert_array_equal(st.pa_count[:, 1], 1)
    assert not st.pa_in_force[:, 1].any()
    assert_allclose(st.revenue_mult[:, ru], 1.0)
    assert_allclose(st.pa_held[:, 1], 1.0)


def test_one_in_force_at_the_start_is_in_the_starting_levels_and_undone_when_it_breaks(central):
    R = 4
    section = {"MIN": {"label": "minerals fund", "parties": ["US", "UA"], "proposers": ["US"],
                       "in_force_at_start": True, "breakdown_per_year": 1e6,
                       "effect": {"US_support": {"add": 0.05}, "guarantee_credibility": {"add": 0.03}}}}
    m = model_with(central, section, R)
    prm, st = m.prm, m.state
    us = prm.actors.index("US")
    assert_array_equal(st.support[:, us], prm.support0[:, us])  # not applied again at t = 0
    assert_array_equal(st.theta, prm.theta)
    assert st.pa_in_force[:, 0].all() and (st.pa_first[:, 0] == 0).all()
    u = np.full((R, prm.partial_slots), 0.5)
    partials_phase(st, prm, u, 0.0)  # the hazard fires: its contribution is taken out of the levels
    assert not st.pa_in_force[:, 0].any()
    assert_allclose(st.support[:, us], prm.support0[:, us] - 0.05)
    assert_allclose(st.theta, prm.theta - 0.03)
    assert_allclose(st.pa_held[:, 0], 1.0)
    partials_phase(st, prm, u, 1.0)  # proposal rate 0 and not repeatable: never signed again
    assert_array_equal(st.pa_count[:, 0], 1)


# ------------------------------------------------------------------------- neutrality and switches
def test_switched_off_or_empty_the_model_is_the_model_without_the_section(sc):
    R = 30
    base = sampled(sc, R, 26)
    ref = simulate(with_partials(base, None, on=False), R, np.random.SeedSequence(3))
    for variant in (with_partials(base, sc.data["partial_agreements"], on=False), with_partials(base, {})):
        rec = simulate(variant, R, np.random.SeedSequence(3))
        assert set(rec) == set(ref)
        for k in ref:
            assert_array_equal(rec[k], ref[k], err_msg=k)


def test_a_short_truce_is_not_a_ceasefire(sc):
    R = 40
    base = sampled(sc, R, 52)
    truce = {"SHORT_TRUCE": {"label": "72-hour truce", "parties": ["RU", "UA"],
                             "proposers": ["RU", "mediator"],
                             "proposal_rate": 50.0, "value": {"RU": 1.0, "UA": 1.0}, "duration_weeks": 0.43,
                             "repeatable": True}}
    ref = simulate(with_partials(base, None, on=False), R, np.random.SeedSequence(3))
    rec = simulate(with_partials(base, truce), R, np.random.SeedSequence(3))
    assert rec["partial_SHORT_TRUCE_count"].sum() > R  # truces signed, many of them
    for k in ref:  # every outcome class and every other record unchanged
        assert_array_equal(rec[k], ref[k], err_msg=k)
    # each truce holds 0.43 weeks; one signed in the last step has held none of it by the horizon
    held, count = rec["partial_SHORT_TRUCE_weeks_held"], rec["partial_SHORT_TRUCE_count"]
    assert np.all((held >= 0.43 * (count - 1) - 1e-9) & (held <= 0.43 * count + 1e-9))


# ------------------------------------------------------------------------------ records and summary
def test_the_datacollector_follows_the_share_in_force(central):
    m = NegotiationModel(central, 20, np.random.SeedSequence(2), collect=True)
    for _ in range(10):
        m.step()
    df = m.datacollector.get_model_vars_dataframe()
    assert_allclose(df["partial_in_force_MINERALS"].iloc[0], 1.0)  # in force at the start, rarely broken
    assert df["partial_in_force_PRISONER_EXCHANGE"].iloc[-1] > 0  # an act: in force from the first signing
    assert_allclose(df["partial_in_force_SHORT_TRUCE"].iloc[-1], m.state.pa_in_force[:, -1].mean())


def test_baseline_records_are_consistent(sc):
    R = 30
    rec = simulate(sampled(sc, R, 52), R, np.random.SeedSequence(4))
    for pid, pa in sc.data["partial_agreements"].items():
        week, held = rec[f"partial_{pid}_week"], rec[f"partial_{pid}_weeks_held"]
        assert week.shape == held.shape == (R,)
        assert np.all(np.isnan(week) | ((week >= 0) & (week <= 52)))
        assert np.all((held >= 0) & (held <= 52 + 1e-9))
        assert_array_equal(held[np.isnan(week)], 0.0)
        if pa.get("repeatable"):
            assert_array_equal(rec[f"partial_{pid}_count"] == 0, np.isnan(week))
    assert_array_equal(rec["partial_MINERALS_week"], 0.0)  # in force since 30 Apr 2025
    assert set(rec["outcome_w52"]) <= set(OUTCOMES)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # between-draw quantiles of draws with no replicate
def test_summary_gives_p_signed_by_each_horizon_with_intervals():
    acc = SummaryAccumulator(OUTCOMES, [26, 52], 52, [], n_draws=2, partials=[("PX", "exchange")])
    assert "partial_PX_week" in acc.columns()
    acc.add({"draw": np.array([0, 0, 1, 1]), "weeks_to_agreement": np.full(4, np.nan),
             "outcome_w26": np.array(["continued_war"] * 4), "outcome_w52": np.array(["continued_war"] * 4),
             "partial_PX_week": np.array([10.0, np.nan, 26.0, 40.0])})
    out = acc.finish(scenario="t")["partial_agreements"]["PX"]
    assert out["label"] == "exchange"
    assert out["by_horizon"]["26"]["p"] == 0.5
    assert out["by_horizon"]["52"]["p"] == 0.75
    for h in ("26", "52"):
        r = out["by_horizon"][h]
        assert 0.0 <= r["lo"] <= r["p"] <= r["hi"] <= 1.0
    assert "partial_agreements" not in SummaryAccumulator(OUTCOMES, [26], 26, [], 1).finish()


def test_a_batch_summarises_what_runs_parquet_records(tmp_path):
    import pyarrow.parquet as pq

    from sim.api import run
    from sim.commands.run import format_table

    res = run(BASELINE, runs=60, seed=2, workers=1, out=tmp_path / "r", quiet=True, paths_per_draw=10)
    df = pq.read_table(tmp_path / "r" / "runs.parquet").to_pandas()
    got = res.summary["partial_agreements"]
    assert list(got) == list(load_scenario(BASELINE).data["partial_agreements"])
    for pid, rec in got.items():
        for h, r in rec["by_horizon"].items():
            assert r["p"] == pytest.approx((df[f"partial_{pid}_week"] <= int(h)).mean())
            assert 0 <= r["lo"] <= r["p"] <= r["hi"] <= 1
    assert "partial agreements (never a ceasefire or a deal), P(signed by week)" in format_table(res.summary)


# ------------------------------------------------------------------------------------ validation
def test_bad_partial_agreements_are_reported_with_file_and_line(tmp_path):
    p = tmp_path / "v.yaml"
    p.write_text(
        f"extends: {BASELINE}\n"
        "partial_agreements:\n"
        "  BAD:\n"
        "    label: bad\n"
        "    parties: [RU, XX]\n"
        "    proposers: [nobody]\n"
        "    proposal_rate: 1.0\n"
        "    value: {RU: 0.01}\n"
        "    effect: {status: {set: CEASEFIRE}, US_support: {set: 0.5}}\n",
        encoding="utf-8",
    )
    with pytest.raises(ScenarioError) as info:
        load_scenario(p)
    text = str(info.value)
    assert f"{p}:5: partial_agreements.BAD.parties.1: undefined actor 'XX'" in text
    assert f"{p}:6: partial_agreements.BAD.proposers.0: 'nobody' (expected mediator or one of" in text
    assert "partial_agreements.BAD.effect.status: 'status' (a partial agreement edits actor or global" in text
    assert "partial_agreements.BAD.effect.US_support: set (expected add or mul" in text
