"""Chart data steps (values and titles) and the house style's files."""

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from sim.analysis.compare import compare_runs
from sim.analysis.probabilities import outcome_probabilities
from sim.analysis.rundir import load_run
from sim.analysis.settlements import joint_settlement, settlement_summary, snap_to_options
from sim.analysis.survival import agreement_curves
from sim.charts.comparison import comparison_chart_data, plot_comparison
from sim.charts.outcomes import outcome_chart_data, plot_outcomes
from sim.charts.settlements import joint_chart_data, plot_joint, plot_settlements, settlement_chart_data
from sim.charts.style import OUTCOME_COLOURS, Footer, save_figure
from sim.charts.survival import plot_survival, survival_chart_data
from sim.charts.tornado import plot_tornado, tornado_chart_data
from tests.fixtures_runs import simulate_runs, write_run_dir


@pytest.fixture(scope="module")
def df():
    return simulate_runs(seed=8, n_draws=150, paths_per_draw=10)[0]


def test_outcome_chart_orders_rows_and_names_the_most_likely_outcome(df):
    table = outcome_probabilities(df)
    data = outcome_chart_data(table)
    assert list(data.rows["outcome"].unique()) == list(OUTCOME_COLOURS)
    assert list(data.rows["horizon"][:3]) == [26, 52, 104]
    last = table[table["horizon"] == 104].sort_values("p").iloc[-1]
    assert data.title.endswith(f"after two years ({100 * last['p']:.0f}%)")
    fig = plot_outcomes(data, footer=Footer("baseline", "r1", len(df), "2026-01-05"))
    assert isinstance(fig, Figure)
    assert "N = 1,500 replicates" in " ".join(t.get_text() for t in fig.texts)


def test_survival_chart_title_reports_km_probabilities(df):
    curves = agreement_curves(df, 104)
    data = survival_chart_data(curves)
    p_any = 100 * df["weeks_to_agreement"].notna().mean()
    p_comp = 100 * df["weeks_to_comprehensive"].notna().mean()
    assert data.title == f"By week 104: {p_any:.0f}% reach some agreement, {p_comp:.0f}% a comprehensive deal"
    plot_survival(data)


def test_settlement_summary_and_joint_view(df):
    s = settlement_summary(df).set_index(["issue", "agreement_type"])
    v = df.loc[df["agreement_type"] == "comprehensive_deal", "settle_SEC_GUAR"].dropna()
    row = s.loc[("SEC_GUAR", "comprehensive_deal")]
    assert row["n"] == len(v) and row["p50"] == pytest.approx(v.median())
    assert row["p10"] <= row["p50"] <= row["p90"]
    opts = [0.0, 0.33, 0.5, 0.67, 0.85, 1.0]
    np.testing.assert_allclose(
        snap_to_options(np.array([0.1, 0.42, 0.6, np.nan]), opts), [0.0, 0.5, 0.67, np.nan]
    )
    joint = joint_settlement(df, "TERR_CTRL", "SEC_GUAR", [0.0, 0.25, 0.5, 0.75, 1.0], opts)
    assert joint.to_numpy().sum() == pytest.approx(1.0)
    assert list(joint.columns) == opts
    n = int((df["settle_TERR_CTRL"].notna() & df["settle_SEC_GUAR"].notna()).sum())
    jd = joint_chart_data(joint, n)
    i, j = np.unravel_index(np.argmax(joint.to_numpy()), joint.shape)
    assert f"TERR_CTRL {joint.index[i]:.2f} with SEC_GUAR {joint.columns[j]:.2f}" in jd.title
    plot_joint(jd)
    by = settlement_summary(df, by="outcome_w104")
    data = settlement_chart_data(by, by="outcome_w104", when="at week 104")
    assert set(data.rows["agreement_type"]) <= {"comprehensive_deal", "ceasefire"}
    assert "line settles near" in data.title
    plot_settlements(data)


def test_comparison_chart_names_largest_clear_change(tmp_path):
    a = load_run(write_run_dir(tmp_path / "a", seed=2, n_draws=200, paths_per_draw=10))
    b = load_run(write_run_dir(tmp_path / "b", seed=2, n_draws=200, paths_per_draw=10, agree_mult=2.0))
    table = compare_runs(a, b)
    data = comparison_chart_data(table, "baseline", "variant")
    clear = table[(table["lo"] > 0) | (table["hi"] < 0)]
    top = clear.loc[clear["diff"].abs().idxmax()]
    assert f"by {abs(100 * top['diff']):.0f} points" in data.title
    np.testing.assert_allclose(data.rows["diff_pts"].abs().max(), 100 * table["diff"].abs().max())
    plot_comparison(data)


def test_tornado_orders_by_importance():
    table = pd.DataFrame(
        {
            "parameter": list("abcd"),
            "outcome": "comprehensive_deal@104w",
            "ST": [0.1, 0.5, np.nan, 0.3],
            "ST_conf": 0.02,
            "S1": [0.05, 0.4, np.nan, 0.2],
            "S1_conf": 0.02,
        }
    )
    data = tornado_chart_data(table, "comprehensive_deal@104w", n=3)
    assert list(data.rows["parameter"]) == ["b", "d", "a"]
    assert data.measure == "ST" and data.title.startswith("b drives")
    plot_tornado(data)


def test_save_figure_writes_png_and_svg(tmp_path, df):
    fig = plot_outcomes(outcome_chart_data(outcome_probabilities(df)))
    png, svg = save_figure(fig, tmp_path / "sub" / "outcomes")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert b"<svg" in svg.read_bytes()[:500]
