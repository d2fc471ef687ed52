"""The Python API (`sim.run`, `sim.load`, `sim.compare`, result objects) against the command line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

import sim
from sim.api import PLOT_KINDS
from sim.errors import UserError
from sim.scenario import ScenarioError

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "baseline.yaml"
SMALL = {"runs": 100, "block_size": 25}   # 10 draws x 10 paths in 4 blocks


def negsim(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sim", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)


@pytest.fixture(scope="module")
def cli_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "run"
    res = negsim("run", str(BASELINE), "--runs", "100", "--block-size", "25", "--seed", "5",
                 "--out", str(out), "--quiet")
    assert res.returncode == 0, res.stderr
    return out, res


@pytest.fixture(scope="module")
def api_run(tmp_path_factory):
    return sim.run(BASELINE, seed=5, workers=1, out=tmp_path_factory.mktemp("api") / "run", quiet=True,
                   **SMALL)


def test_run_equals_the_cli_byte_for_byte(cli_run, api_run):
    out, res = cli_run
    assert (api_run.path / "runs.parquet").read_bytes() == (out / "runs.parquet").read_bytes()
    assert api_run.summary == sim.load(out).summary
    # the CLI prints the run through the same result object
    assert f"run directory: {out}" in res.stdout
    assert "(100 runs = 10 parameter draws x 10 paths, seed 5)" in res.stdout


def test_result_tables(api_run):
    df = api_run.to_df()
    assert len(df) == len(api_run) == 100 == api_run.summary["runs"]
    assert df["replicate"].tolist() == list(range(100))
    df.loc[0, "draw"] = -1                      # a copy: the run's own table is unchanged
    assert api_run.to_df().loc[0, "draw"] == 0
    probs = api_run.probabilities()
    assert set(probs["horizon"]) == {26, 52, 104}
    assert probs.groupby("horizon")["p"].sum().to_numpy() == pytest.approx(1.0)
    last = api_run.probabilities(104).set_index("outcome")
    for name, o in api_run.summary["outcomes"].items():
        assert last.loc[name, "p"] == pytest.approx(o["p"])
        assert last.loc[name, "p"] == pytest.approx((df["outcome_w104"] == name).mean())
        assert last.loc[name, "lo"] <= last.loc[name, "p"] <= last.loc[name, "hi"]
    curve = api_run.agreement_over_time()
    first = curve[curve["curve"] == "first_agreement"]
    assert np.all(np.diff(first["p_agreed"].to_numpy()) >= 0)       # agreement only accumulates
    agreed = (df["weeks_to_agreement"] <= first["week"].max()).mean()
    assert first["p_agreed"].iloc[-1] == pytest.approx(agreed)
    settled = api_run.settlements()
    assert set(settled["issue"]) <= {c.removeprefix("settle_") for c in df if c.startswith("settle_")}
    with pytest.raises(UserError, match="no horizon 13 weeks"):
        api_run.probabilities(13)


def test_compare_with_itself_is_zero_and_with_a_variant_is_not(api_run, tmp_path):
    same = sim.compare(api_run, api_run.path).to_df()
    assert len(same) == 3 * 4
    assert (same["diff"] == 0).all() and (same["lo"] == 0).all() and (same["hi"] == 0).all()
    assert (same["p_a"] == same["p_b"]).all()
    # a variant with the same seed: the edited parameter moves, the others keep their draws (CRN)
    edits = {"war.drift_per_year.median": 0.4}
    variant = sim.run(BASELINE, seed=5, workers=1, out=tmp_path / "v", quiet=True, overlay=edits, **SMALL)
    a, b = api_run.to_df(), variant.to_df()
    assert (b["param.war.drift_per_year"] > a["param.war.drift_per_year"]).all()
    assert b["param.war.vol_per_sqrt_year"].equals(a["param.war.vol_per_sqrt_year"])
    cmp = api_run.compare(variant)
    table = cmp.to_df()
    assert table["diff"].to_numpy() == pytest.approx((table["p_b"] - table["p_a"]).to_numpy())
    assert (table["diff"] != 0).any()
    assert cmp.labels == ("baseline", "baseline_whatif")
    assert isinstance(cmp.plot(), Figure)
    assert len(cmp.sentences()) == len(table)
    # the variant file is kept with the run and is a valid scenario
    kept = variant.path / "overlay.yaml"
    assert "median: 0.4" in kept.read_text() and "src: analyst assumption, " in kept.read_text()
    assert negsim("validate", str(kept)).returncode == 0


def test_compare_refuses_runs_that_cannot_be_paired(api_run, tmp_path):
    other = sim.run(BASELINE, seed=6, workers=1, out=tmp_path / "s6", quiet=True, **SMALL)
    with pytest.raises(UserError, match=r"cannot pair runs: seeds differ \(A: 5, B: 6\)"):
        sim.compare(api_run, other)
    assert sim.compare(api_run, other, paired=False).to_df()["method"].eq("unpaired").all()


@pytest.mark.parametrize("kind", PLOT_KINDS)
def test_every_chart_kind_is_a_figure(api_run, kind):
    import matplotlib.pyplot as plt

    fig = api_run.plot(kind)
    assert isinstance(fig, Figure) and fig.axes
    fig2, ax = plt.subplots()
    assert api_run.plot(kind, ax=ax) is fig2             # drawn on the axes it was given
    plt.close("all")


def test_unknown_chart_kind_is_a_user_error(api_run):
    with pytest.raises(UserError, match="unknown chart kind 'pie' \\(expected one of outcomes, "):
        api_run.plot("pie")


def test_report_writes_the_briefing(api_run, tmp_path):
    pdf = api_run.report(tmp_path / "rep")
    assert pdf == tmp_path / "rep" / "briefing.pdf"
    assert pdf.read_bytes().startswith(b"%PDF")
    assert (tmp_path / "rep" / "outcomes.png").exists()


def test_bad_paths_give_the_cli_messages(tmp_path):
    missing = tmp_path / "nowhere"
    with pytest.raises(UserError) as err:
        sim.load(missing)
    res = negsim("report", str(missing))
    assert res.returncode == 2 and res.stderr.strip() == err.value.message
    with pytest.raises(UserError) as err:
        sim.run(tmp_path / "missing.yaml", runs=10, workers=1)
    res = negsim("run", str(tmp_path / "missing.yaml"), "--runs", "10", "--workers", "1")
    assert res.returncode == 2 and res.stderr.strip() == err.value.message


def test_write_overlay_refuses_what_validate_refuses(tmp_path):
    target = tmp_path / "bad.yaml"
    with pytest.raises(ScenarioError) as err:
        sim.write_overlay(BASELINE, {"mediator.walkaway_hazard_per_year_per_F": -1.0}, target)
    res = negsim("validate", str(target))
    assert res.returncode == 2 and res.stderr.strip() == err.value.message
    assert "mediator.walkaway_hazard_per_year_per_F" in err.value.message


def test_write_overlay_beside_the_base_uses_a_relative_extends(tmp_path):
    import shutil

    base = tmp_path / "baseline.yaml"
    shutil.copy(BASELINE, base)
    path = sim.write_overlay(base, {"events.US_AID_CUTOFF.annual_prob.mean": 0.6}, tmp_path / "v.yaml",
                             scenario_id="aid_cut", src="analyst assumption, 2026-01-02")
    text = path.read_text()
    assert "extends: baseline.yaml\n" in text and "id: aid_cut\n" in text
    from sim.scenario import load_scenario

    sc = load_scenario(path)
    assert sc.data["events"]["US_AID_CUTOFF"]["annual_prob"]["mean"] == 0.6
    assert sc.data["events"]["US_AID_CUTOFF"]["annual_prob"]["kappa"] == 20      # the rest is the base
    assert sc.provenance["events.US_AID_CUTOFF.annual_prob"]["src"] == "analyst assumption, 2026-01-02"


def test_import_sim_stays_cheap():
    code = ("import sys, sim; assert callable(sim.run) and callable(sim.compare); "
            "print(sorted(m for m in ('pandas', 'matplotlib', 'sim.model') if m in sys.modules))")
    res = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert res.stdout.strip() == "[]"


def test_example_notebook_runs(tmp_path, monkeypatch):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    monkeypatch.setenv("NEGSIM_NOTEBOOK_OUT", str(tmp_path))       # the kernel inherits the environment
    monkeypatch.setenv("PYTHONPATH", str(ROOT))                       # and imports this checkout's sim
    nb = nbformat.read(ROOT / "docs" / "api_example.ipynb", as_version=4)
    nbclient.NotebookClient(nb, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(ROOT / "docs")}}).execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    text = "".join(o.get("text", "") or o.get("data", {}).get("text/plain", "") for o in outputs)
    assert "comprehensive_deal" in text and "'briefing.pdf'" in text
    assert sum("image/png" in o.get("data", {}) for o in outputs) == 3        # the three charts were drawn
    base = sim.load(tmp_path / "nb-base")
    assert len(base) == 400 and base.seed == 1
    table = pd.read_csv(tmp_path / "nb-compare.csv")
    expected = sim.compare(base, tmp_path / "nb-whatif").to_df()
    assert table["diff"].to_numpy() == pytest.approx(expected["diff"].to_numpy())
