"""Outcome statistics of a batch (sim.batch.stats, sim.batch.summary, sim.batch.plan)."""

from __future__ import annotations

import gc
import weakref

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from sim.batch import storage
from sim.batch.block import table_to_parquet_bytes
from sim.batch.plan import default_block_size, default_paths_per_draw, make_plan
from sim.batch.stats import (
    between_draw_quantiles,
    binned_quantile,
    clustered_se,
    draw_counts,
    outcome_probabilities,
    wilson_interval,
)
from sim.batch.summary import Sketch, SummaryAccumulator
from sim.errors import UserError

CLASSES = ("comprehensive_deal", "ceasefire", "continued_war", "collapse_escalation")


@pytest.mark.parametrize(("k", "n", "lo", "hi"), [
    # hand-computed from Wilson (1927):
    # center (p + z^2/2n)/(1 + z^2/n) -+ z/(1 + z^2/n) sqrt(p q/n + z^2/4n^2)
    (12, 40, 0.180748, 0.454300),
    (50, 100, 0.403832, 0.596168),
    (0, 10, 0.0, 0.277533),        # z^2 / (n + z^2)
    (10, 10, 0.722467, 1.0),
])
def test_wilson_against_hand_computed(k, n, lo, hi):
    got = wilson_interval(k, n)
    np.testing.assert_allclose(got, (lo, hi), atol=1e-6)


def test_wilson_vectorised_and_contains_p():
    k = np.array([0, 1, 7, 99, 100])
    lo, hi = wilson_interval(k, 100)
    assert np.all(lo <= k / 100) and np.all(k / 100 <= hi) and np.all((0 <= lo) & (hi <= 1))


def test_draw_counts():
    draw = np.array([0, 0, 1, 1, 1, 2])
    codes = np.array([0, 2, 2, 2, 3, 1])
    np.testing.assert_array_equal(draw_counts(draw, codes, 3, 4), [[1, 0, 1, 0], [0, 0, 2, 1], [0, 1, 0, 0]])


def test_outcome_invariants_random_counts():
    rng = np.random.default_rng(3)
    p = rng.dirichlet([2, 3, 5, 1], size=300)
    counts = np.stack([rng.multinomial(20, pi) for pi in p])
    out = outcome_probabilities(counts, CLASSES)
    assert sum(o["p"] for o in out.values()) == pytest.approx(1.0, abs=1e-12)
    for o in out.values():
        assert 0 <= o["lo"] <= o["mc_lo"] <= o["p"] <= o["mc_hi"] <= o["hi"] <= 1
        assert o["p10"] <= o["p50"] <= o["p90"]


def test_interval_is_parameter_spread_when_draws_differ():
    # half the draws always deal, half never: the 95% range spans 0..1, far wider than MC error
    counts = np.array([[20, 0, 0, 0]] * 50 + [[0, 0, 20, 0]] * 50)
    out = outcome_probabilities(counts, CLASSES)["comprehensive_deal"]
    assert out["p"] == 0.5
    assert out["lo"] == pytest.approx(0.0, abs=1e-6) and out["hi"] == pytest.approx(1.0, abs=1e-6)
    assert out["mc_hi"] - out["mc_lo"] < 0.1
    # clustered SE: per-draw probabilities 0/1, var (ddof 1) = 0.25 * 100/99, D = 100
    assert out["se"] == pytest.approx(np.sqrt(0.25 * 100 / 99 / 100))


def test_interval_falls_back_to_wilson_without_parameter_spread():
    counts = np.array([[3, 0, 7, 0]] * 10)     # every draw 30% deal: no parameter uncertainty
    out = outcome_probabilities(counts, CLASSES)["comprehensive_deal"]
    lo, hi = wilson_interval(30, 100)
    assert out["lo"] == pytest.approx(float(lo)) and out["hi"] == pytest.approx(float(hi))
    assert out["p10"] == pytest.approx(0.3) and out["p90"] == pytest.approx(0.3)


def test_clustered_se_single_draw_is_binomial():
    se = clustered_se(np.array([[0.3]]), np.array([0.3]), 100)
    assert float(se[0]) == pytest.approx(np.sqrt(0.21 / 100))


def test_binned_quantile_with_censoring():
    # values 1..10 observed, 10 more censored beyond the horizon (20 in all)
    s = Sketch(0, 104, 10401)
    s.add(np.arange(1, 11, dtype=float))
    assert s.quantile(0.5, 20) == 10.0     # 10 of 20 at or below 10
    assert s.quantile(0.1, 20) == 2.0
    assert s.quantile(0.55, 20) is None    # falls among the censored
    assert s.quantile(0.5) == 5.0          # uncensored: inverted CDF
    assert binned_quantile(np.zeros(3), np.zeros(3), 0.5, 0) is None


def test_sketch_exact_on_discrete_values_and_close_on_continuous():
    rng = np.random.default_rng(0)
    opts = np.array([0.0, 0.25, 0.33, 0.5, 0.67, 0.75, 1.0])
    x = rng.choice(opts, 5001)
    s = Sketch(0.0, 1.0, 10_001)
    for chunk in np.array_split(x, 7):
        s.add(chunk)
    for q in (0.1, 0.5, 0.9):
        assert s.quantile(q) == np.quantile(x, q, method="inverted_cdf")
    y = rng.beta(2, 5, 5000)
    s = Sketch(0.0, 1.0, 10_001)
    s.add(np.append(y, np.nan))
    assert s.n == 5000 and s.mean() == pytest.approx(y.mean())
    assert abs(s.quantile(0.5) - np.quantile(y, 0.5, method="inverted_cdf")) <= 1e-4


def _fake_block(rng, draws, paths):
    n = len(draws) * paths
    out = {"draw": np.repeat(draws, paths)}
    for h in (26, 52, 104):
        out[f"outcome_w{h}"] = rng.choice(CLASSES, n, p=[0.1, 0.2, 0.6, 0.1])
    w = np.ceil(rng.exponential(80, n))
    out["weeks_to_agreement"] = np.where(w <= 104, w, np.nan)
    out["settle_TERR"] = np.where(w <= 104, rng.choice([0.5, 0.75], n), np.nan)
    return pd.DataFrame(out)


def test_summary_streaming_equals_one_shot_and_shape():
    rng = np.random.default_rng(1)
    blocks = [_fake_block(rng, np.arange(b * 10, b * 10 + 10), 5) for b in range(6)]
    acc = SummaryAccumulator(CLASSES, [26, 52, 104], 104, ["TERR"], 60)
    for blk in blocks:
        acc.add(blk)
    streamed = acc.finish(scenario="x", runs=300)
    one = SummaryAccumulator(CLASSES, [26, 52, 104], 104, ["TERR"], 60)
    one.add(pd.concat(blocks))
    assert one.finish(scenario="x", runs=300) == streamed
    assert set(streamed["by_horizon"]) == {"26", "52", "104"}
    assert streamed["outcomes"] == streamed["by_horizon"]["104"]["outcomes"]
    for h in streamed["by_horizon"].values():
        assert sum(o["p"] for o in h["outcomes"].values()) == pytest.approx(1.0)
        assert all(o["lo"] <= o["p"] <= o["hi"] for o in h["outcomes"].values())
    allw = pd.concat(blocks)["weeks_to_agreement"].fillna(np.inf).to_numpy()
    assert streamed["time_to_agreement_weeks"]["median"] == np.quantile(allw, 0.5, method="inverted_cdf")
    assert streamed["n_agreements"] == int(np.isfinite(allw).sum())
    assert streamed["issues"]["TERR"]["p50"] in (0.5, 0.75)


def test_summary_rejects_unknown_class():
    acc = SummaryAccumulator(CLASSES, [104], 104, [], 1)
    with pytest.raises(ValueError, match=r"outcome_w104: unknown outcome class\(es\) \['peace'\]"):
        acc.add({"draw": np.array([0]), "outcome_w104": np.array(["peace"]),
                 "weeks_to_agreement": np.array([np.nan])})


def test_summary_and_runs_file_hold_one_block_at_a_time(monkeypatch, tmp_path):
    """Memory stays flat: no earlier block is alive when the next one is read (storage.RunsWriter feeding
    the accumulator, as the runner does)."""
    rng = np.random.default_rng(2)
    storage.prepare_run_dir(tmp_path, force=False, resume=False)
    for b in range(8):
        table = pa.Table.from_pandas(_fake_block(rng, np.arange(b * 4, b * 4 + 4), 5), preserve_index=False)
        storage.atomic_write_bytes(storage.part_path(tmp_path, b), table_to_parquet_bytes(table))
    alive: set[int] = set()
    most = []
    read_table = storage.pq.read_table

    def tracked_read(path, *args, **kw):
        gc.collect()
        most.append(len(alive))
        table = read_table(path, *args, **kw)
        alive.add(id(table))
        weakref.finalize(table, alive.discard, id(table))
        return table

    monkeypatch.setattr(storage.pq, "read_table", tracked_read)
    acc = SummaryAccumulator(CLASSES, [26, 52, 104], 104, ["TERR"], 32)
    writer = storage.RunsWriter(tmp_path, 8, on_table=lambda t: acc.add(t.select(acc.columns()).to_pandas()))
    writer.advance({0, 1, 2})
    writer.finish()
    assert len(most) == 8 and max(most) == 0 and acc.n == 160


def test_plan_defaults_and_layout():
    assert default_paths_per_draw(2000) == 10 and default_paths_per_draw(100_000) == 20
    assert default_paths_per_draw(50) == 10 and make_plan(1, runs=50).n_draws == 5
    p = make_plan(1, runs=2000)
    assert (p.n_draws, p.paths_per_draw, p.runs, p.block_size) == (200, 10, 2000, 1000)
    assert make_plan(1, runs=20_000).block_size == 2500            # ceil(1000 draws / 8) x 20 paths
    assert make_plan(1, runs=10_000).block_size == 1260            # ceil(500 / 8) = 63 draws x 20
    assert make_plan(1, runs=100_000).block_size == 5000           # capped: 20 blocks, even on 2 and 4
    assert make_plan(1, runs=50_000).block_size == 5000            # ceil(2500 / 8) = 313 draws, capped
    assert make_plan(1, runs=300).block_size == 300                # one block: the whole run
    big = make_plan(1, runs=1_000_000)
    assert big.block_size == default_block_size(50_000, 20) and big.block_size % 20 == 0
    assert make_plan(1, runs=1001, paths_per_draw=10).runs == 1010     # rounded up to whole draws
    q = make_plan(1, runs=95, paths_per_draw=5, block_size=10)
    ranges = [q.block_range(b) for b in range(q.n_blocks)]
    assert ranges[0] == (0, 10) and ranges[-1] == (90, 95)
    np.testing.assert_array_equal(q.draw_of(8, 12), [1, 1, 2, 2])
    assert make_plan(1, n_draws=30, paths_per_draw=4).runs == 120


@pytest.mark.parametrize(("kw", "msg"), [
    ({"runs": 0}, "--runs must be a positive integer (got 0)"),
    ({"runs": 100, "n_draws": 7}, "--runs 100 is not a multiple of --draws 7"),
    ({"runs": 100, "n_draws": 7, "paths_per_draw": 3}, "--runs 100 is not --draws 7 x --paths-per-draw 3"),
])
def test_plan_refuses_inconsistent_options(kw, msg):
    with pytest.raises(UserError) as err:
        make_plan(1, **kw)
    assert str(err.value) == msg


def test_plan_refuses_negative_seed():
    with pytest.raises(UserError, match="--seed must be a non-negative integer"):
        make_plan(-1, runs=10)


def test_between_draw_quantiles_remove_binomial_noise():
    # true per-draw probabilities theta ~ Beta(2, 8) (mean 0.2, sd 0.121), 10 paths per draw: the raw
    # frequencies' 95% range is about [0, 0.5]; the deconvolved one recovers Beta(2, 8)'s quantiles.
    from scipy.stats import beta

    rng = np.random.default_rng(11)
    theta = rng.beta(2, 8, size=4000)
    k = rng.binomial(10, theta)
    f = np.stack([k / 10, 1 - k / 10], axis=1)
    q = between_draw_quantiles(f, 10, [0.025, 0.5, 0.975])
    want = beta.ppf([0.025, 0.5, 0.975], 2, 8)
    # moment estimates from 4,000 draws: the sd of theta is recovered to ~3%, quantiles to ~0.02
    np.testing.assert_allclose(q[:, 0], want, atol=0.02)
    np.testing.assert_allclose(q[:, 1], 1 - want[::-1], atol=0.02)
    raw = np.quantile(f[:, 0], [0.025, 0.975])
    assert raw[1] - raw[0] > (q[2, 0] - q[0, 0]) + 0.1


def test_between_draw_quantiles_pure_binomial_noise_is_a_point():
    # every draw has the same true probability 0.3: the observed spread is all Monte Carlo noise
    rng = np.random.default_rng(5)
    k = rng.binomial(20, 0.3, size=3000)
    q = between_draw_quantiles(np.stack([k / 20, 1 - k / 20], axis=1), 20, [0.025, 0.975])
    raw = np.quantile(k / 20, [0.025, 0.975])      # about [0.10, 0.50]
    # what is left is the sampling error of the variance estimate (relative sd sqrt(2/3000))
    assert q[1, 0] - q[0, 0] < 0.25 * (raw[1] - raw[0])
    # one path per draw: not separable, raw quantiles (conservative)
    one = between_draw_quantiles(np.array([[0.0], [1.0], [1.0], [0.0]]), 1, [0.0, 1.0])
    np.testing.assert_array_equal(one[:, 0], [0.0, 1.0])
