"""The briefing's content: ICD 203 headlines, drivers with sources, sensitivity.csv preferred."""

import pandas as pd
import pytest

from sim.analysis.probabilities import outcome_probabilities, probability_of
from sim.analysis.rundir import load_run, plain_source, source_for
from sim.analysis.words import headline_sentence
from sim.charts.briefing import briefing_data, plot_briefing
from tests.fixtures_runs import PROVENANCE, write_run_dir


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    return load_run(
        write_run_dir(tmp_path_factory.mktemp("brief") / "base", seed=6, n_draws=200, paths_per_draw=10)
    )


def test_headlines_are_icd203_sentences_of_the_80pct_range(run):
    data = briefing_data(run)
    table = outcome_probabilities(run.runs)
    r = probability_of(table, "comprehensive_deal", 52)
    assert data.headlines[0] == headline_sentence("comprehensive_deal", 52, r["p"], r["lo80"], r["hi80"])
    assert len(data.headlines) == 5
    assert data.headlines[3].startswith("Fighting still going on after two years")
    assert data.why.startswith("Why: Party with least to gain at the last round")
    assert "run base" in data.footer and "N = 2,000 replicates" in data.footer


def test_assumptions_rank_by_variance_share_and_carry_their_sources(run):
    data = briefing_data(run)
    names = [a.parameter for a in data.assumptions]
    assert len(names) == 5
    # the fixture's planted drivers of a comprehensive deal
    assert set(names[:2]) == {"commitment.guarantee_credibility", "war.drift_per_year"}
    src = {a.parameter: a.source for a in data.assumptions}
    assert src["war.drift_per_year"] == "ISW assessments of 2025 front movement (as of 2025-12-31)"
    # a leaf inherits its parent's source
    assert (
        source_for(PROVENANCE, "actors.UA.positions.TERR_CTRL.salience")
        == "seed article 01: Kyiv's red lines"
    )
    assert "share of its variance" in data.drivers_note
    assert data.drivers_note.startswith("What is worth finding out")
    assert data.assumptions[0].effect.endswith("% of the variance")
    fig = plot_briefing(data)
    assert tuple(round(x, 2) for x in fig.get_size_inches()) == (11.69, 8.27)


def test_sensitivity_csv_in_the_run_directory_takes_precedence(run):
    table = pd.DataFrame(
        {
            "parameter": ["a.b", "war.drift_per_year", "c"],
            "outcome": "comprehensive_deal@104w",
            "mu_star": [0.02, 0.2, 0.1],
            "mu_star_conf": 0.01,
            "mu": [0.02, -0.2, 0.1],
            "sigma": 0.0,
            "noise_floor": 0.05,
        }
    )
    path = run.path / "sensitivity.csv"
    table.to_csv(path, index=False)
    try:
        data = briefing_data(run)
    finally:
        path.unlink()
    assert [a.parameter for a in data.assumptions] == ["war.drift_per_year", "c", "a.b"]
    assert data.assumptions[0].effect == "−20 points over its range"
    assert data.assumptions[1].effect == "+10 points over its range"
    assert data.assumptions[2].effect == "+2 points over its range (within noise)"
    assert data.assumptions[2].source == "no source recorded"
    assert "sensitivity.csv (Morris)" in data.drivers_note


def test_sources_drop_the_original_language_passage():
    src = "001_99fc.txt: 「トランプ政権は」 (the Trump administration drives the talks); cepa.org"
    assert plain_source(src) == "001_99fc.txt: (the Trump administration drives the talks); cepa.org"
    # a quotation that quotes another (as in the baseline's mediator.round_rate_per_week) goes whole
    nested = "000.txt: 「交渉が「建設的」と報じられた」 (reported as constructive); rounds"
    assert plain_source(nested) == "000.txt: (reported as constructive); rounds"
    assert source_for(PROVENANCE, "mediator.round_rate_per_week") == "seed article 03, rounds in Nov-Dec 2025"
    assert source_for({}, "x.y") == "no source recorded"


def test_partial_agreements_line_beside_the_outcomes(run):
    from sim.charts.briefing import partial_lines

    assert briefing_data(run).partials == []  # a run without partial agreements: the page as before
    rec = lambda *ps: {str(h): {"p": p} for h, p in zip((26, 52, 104), ps, strict=True)}  # noqa: E731
    summary = {"partial_agreements": {
        "MINERALS": {"label": "minerals fund", "by_horizon": rec(1.0, 1.0, 1.0)},
        "PX": {"label": "prisoner exchange", "by_horizon": rec(0.914, 0.99, 0.995)},
        "TRUCE": {"label": "short truce", "by_horizon": rec(0.3, 0.48, 0.6)},
    }}
    scenario = {"partial_agreements": {"MINERALS": {"in_force_at_start": True}, "PX": {}, "TRUCE": {}}}
    lines = partial_lines(summary, scenario, [26, 52, 104])
    assert lines == [
        "Partial agreements beside these outcomes (none is a ceasefire; in force from the start: minerals "
        "fund), P(signed by week 26/52/104):",
        "prisoner exchange 91/99/>99%; short truce 30/48/60%.",
    ]
