"""Paired comparison with common random numbers, its refusal, and the unpaired fallback."""

import numpy as np
import pytest

from sim.analysis.compare import compare_runs
from sim.analysis.rundir import load_run
from sim.errors import UserError
from tests.fixtures_runs import simulate_runs, true_probabilities, write_run_dir


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("cmp")
    a = load_run(write_run_dir(root / "a", seed=4, n_draws=300, paths_per_draw=10))
    b = load_run(
        write_run_dir(
            root / "b", seed=4, n_draws=300, paths_per_draw=10, agree_mult=1.5, scenario_id="faster_talks"
        )
    )
    c = load_run(write_run_dir(root / "c", seed=5, n_draws=300, paths_per_draw=10, agree_mult=1.5))
    d = load_run(write_run_dir(root / "d", seed=4, n_draws=200, paths_per_draw=10, agree_mult=1.5))
    return a, b, c, d


def test_paired_difference_covers_the_true_effect(runs):
    a, b, _, _ = runs
    table = compare_runs(a, b, paired=True).set_index(["horizon", "outcome"])
    _, params = simulate_runs(seed=4, n_draws=300, paths_per_draw=10)
    for h in (52, 104):
        truth = (true_probabilities(params, h, 1.5) - true_probabilities(params, h, 1.0)).mean()
        row = table.loc[(h, "comprehensive_deal")]
        assert row["diff"] == pytest.approx(row["p_b"] - row["p_a"])
        assert row["lo"] > 0  # a faster agreement hazard clearly raises P(deal)
        assert abs(row["diff"] - truth["comprehensive_deal"]) < 3.5 * row["se"]
        assert row["draw_lo80"] <= row["diff"] <= row["draw_hi80"] or row["draw_lo80"] == row["draw_hi80"]
    # differences over the four classes sum to zero
    for h in (26, 52, 104):
        assert table.loc[h, "diff"].sum() == pytest.approx(0.0, abs=1e-12)


def test_common_random_numbers_shrink_the_interval(runs):
    a, b, _, _ = runs
    paired = compare_runs(a, b, paired=True).set_index(["horizon", "outcome"])
    unpaired = compare_runs(a, b, paired=False).set_index(["horizon", "outcome"])
    np.testing.assert_allclose(paired["diff"], unpaired["diff"])
    key = (104, "comprehensive_deal")
    assert paired.loc[key, "se"] < 0.6 * unpaired.loc[key, "se"]


def test_refuses_to_pair_different_seeds(runs):
    a, _, c, _ = runs
    with pytest.raises(UserError) as err:
        compare_runs(a, c)
    assert err.value.message == (
        "cannot pair runs: seeds differ (A: 4, B: 5); use --unpaired for independent two-sample intervals"
    )
    assert compare_runs(a, c, paired=False)["method"].eq("unpaired").all()


def test_refuses_to_pair_different_sizes(runs):
    a, _, _, d = runs
    with pytest.raises(UserError) as err:
        compare_runs(a, d)
    assert err.value.message == (
        "cannot pair runs: sizes differ (A: 3000 replicates, B: 2000); "
        "use --unpaired for independent two-sample intervals"
    )


def test_same_run_compared_with_itself_is_exactly_zero(runs):
    a = runs[0]
    t = compare_runs(a, a)
    assert (t["diff"] == 0).all() and (t["se"] == 0).all()
