"""`negsim calibrate` end to end on the baseline (13-week horizon), the look-ahead refusal, and the
calibrated scenario's draws honoured by `negsim run`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.calibration.facts import load_facts
from sim.calibration.implausibility import implausibility
from sim.calibration.run import calibrate
from sim.calibration.statistics import per_draw, statistics_table
from sim.charts.briefing import calibration_line
from sim.scenario import ScenarioError, load_scenario

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data" / "calibration"
SHORT = DATA / "short.yaml"
FACTS = DATA / "facts.yaml"


def negsim(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sim", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout)


@pytest.fixture(scope="module")
def calibrated(tmp_path_factory):
    out = tmp_path_factory.mktemp("calibrate") / "out"
    cal = calibrate(SHORT, [FACTS], out, draws=100, paths=8, waves=2, seed=4, workers=1, quiet=True)
    return cal


def test_calibrate_end_to_end(calibrated):
    cal = calibrated
    out = cal.out
    assert [d.name for d in cal.wave_dirs] == ["wave_1", "wave_2"]
    summary = json.loads((out / "calibration.json").read_text())
    assert summary["facts"] == ["ROUNDS", "EXCHANGES"] and len(summary["waves"]) == 2
    facts = load_facts([FACTS])
    start = load_scenario(SHORT).data["scenario"]["start_date"]
    for wave, d in zip(summary["waves"], cal.wave_dirs, strict=True):
        # each wave is an ordinary batch run: 100 draws x 8 paths
        runs = pd.read_parquet(d / "runs.parquet")
        assert len(runs) == 800 and runs["draw"].nunique() == 100
        assert json.loads((d / "manifest.json").read_text())["status"] == "complete"
        # the shares in calibration.json are the implausibility recomputed from the wave's records
        _, mean, var = per_draw(statistics_table(facts, runs, start), facts.ids)
        obs_var = np.array([f.obs_sd ** 2 for f in facts.facts])
        md_var = np.array([f.discrepancy_sd ** 2 for f in facts.facts])
        imp = implausibility(np.array([1.0, 1.0]), obs_var, md_var, mean, var)
        keep = imp.max(axis=1) <= 3
        assert wave["non_implausible"] == keep.sum()
        assert 0 < keep.sum() < 100  # the facts rule out part of the prior, not all of it
    draws = pd.read_parquet(out / "calibrated_draws.parquet")
    assert len(draws) == summary["calibrated_draws"] == cal.final.keep.sum()
    np.testing.assert_allclose(draws["weight"].sum(), 1.0)
    # the calibrated draws are the non-implausible rows of the last wave
    last = pd.read_parquet(cal.wave_dirs[-1] / "runs.parquet").groupby("draw").first()
    col = "war.drift_per_year"
    kept = last["param." + col].to_numpy()[cal.final.keep]
    np.testing.assert_array_equal(np.sort(draws[col]), np.sort(kept))
    sc = load_scenario(out / "baseline_short_calibrated.yaml")
    assert sc.calibration["facts"] == ["ROUNDS", "EXCHANGES"] and sc.calibration["waves"] == 2
    assert sc.files[-1][0].name == "calibrated_draws.parquet"
    md = (out / "calibration.md").read_text()
    for part in ("## Waves", "## Facts", "## Parameters that moved most", "## Outcome probabilities",
                 "calibration-outcomes.png", "ROUNDS"):
        assert part in md
    assert (out / "calibration-facts.png").is_file() and (out / "calibration-parameters.png").is_file()


def test_calibrate_again_keeps_the_waves(calibrated, capsys):
    before = (calibrated.out / "calibrated_draws.parquet").read_bytes()
    again = calibrate(SHORT, [FACTS], calibrated.out, draws=100, paths=8, waves=2, seed=4, workers=1)
    err = capsys.readouterr().err
    assert "wave_1 is complete; kept" in err and "wave_2 is complete; kept" in err
    assert (again.out / "calibrated_draws.parquet").read_bytes() == before


def test_run_honours_the_calibrated_draws(calibrated, tmp_path):
    out = tmp_path / "run"
    proc = negsim("run", str(calibrated.out / "baseline_short_calibrated.yaml"), "--runs", "200",
                  "--workers", "1", "--quiet", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    assert "calibrated by history matching on: ROUNDS, EXCHANGES" in proc.stdout
    summary = json.loads((out / "summary.json").read_text())
    assert summary["calibration"]["calibrated"] is True
    assert summary["calibration"]["facts"] == ["ROUNDS", "EXCHANGES"]
    draws = pd.read_parquet(calibrated.out / "calibrated_draws.parquet")
    runs = pd.read_parquet(out / "runs.parquet").groupby("draw").first()
    cols = [c for c in draws.columns if c != "weight"]
    # every run draw is a whole row of the calibrated draws (the joint structure is kept)
    rows = set(map(tuple, draws[cols].astype(str).to_numpy()))
    got = runs[["param." + c for c in cols]].astype(str).to_numpy()
    assert all(tuple(r) in rows for r in got)
    line = "Calibrated by history matching on 2 facts (ROUNDS, EXCHANGES), 2 waves."
    assert calibration_line(summary) == line
    assert calibration_line({"calibration": {"calibrated": False, "facts": []}}).startswith("Not calibrated")
    assert calibration_line({}).startswith("Not calibrated")  # a run made before calibration existed


@pytest.mark.slow
def test_report_says_the_run_is_calibrated(calibrated, tmp_path):
    out = tmp_path / "run"
    assert negsim("run", str(calibrated.out / "baseline_short_calibrated.yaml"), "--runs", "100",
                  "--workers", "1", "--quiet", "--out", str(out)).returncode == 0
    rep = negsim("report", str(out))
    assert rep.returncode == 0, rep.stderr
    assert "Calibrated by history matching on 2 facts (ROUNDS, EXCHANGES), 2 waves." in rep.stdout
    from sim.analysis.rundir import load_run
    from sim.charts.briefing import briefing_data

    assert briefing_data(load_run(out)).calibration.startswith("Calibrated by history matching")


def test_calibrate_refuses_look_ahead(tmp_path):
    out = tmp_path / "cal"
    proc = negsim("calibrate", "scenarios/baseline.yaml", "--facts", str(DATA / "late.yaml"), "--out",
                  str(out), timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.strip() == (
        f"{DATA / 'late.yaml'}:14: facts.1.period.to: fact LATE: dated 2026-02-01, after the information "
        "cut-off 2025-12-31 of scenario baseline (no look-ahead: expected facts dated on or before "
        "2025-12-31)")
    assert "Traceback" not in proc.stderr
    assert not out.exists()


def test_calibrate_names_an_unknown_record(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(FACTS.read_text().replace("record: n_rounds", "record: n_round"))
    with pytest.raises(ScenarioError) as err:
        calibrate(SHORT, [bad], tmp_path / "out", draws=10, paths=2, waves=1, workers=1, quiet=True)
    msg = err.value.message
    assert msg.startswith(f"{bad}:13: facts.0.statistic.record: fact ROUNDS: no record 'n_round' in the "
                          "scenario's runs (did you mean 'n_rounds'? expected one of: outcome_w13,")
    assert not (tmp_path / "out").exists()


def test_calibrate_help():
    proc = negsim("calibrate", "--help", timeout=60)
    assert proc.returncode == 0
    for opt in ("--facts", "--waves", "--draws", "--paths", "--seed", "--out", "--workers", "--scheduler"):
        assert opt in proc.stdout


def _drift_block(task):
    """A stand-in model: record = the draw's war.drift_per_year plus noise (sd 0.01) per path (and the
    records the batch summary reads, constant)."""
    gen = np.random.default_rng(task.seed_sequence())
    n = task.n_replicates
    drift = task.draws["war.drift_per_year"].to_numpy()[task.local_draw_index()]
    records = {"outcome_w13": np.full(n, "continued_war"), "weeks_to_agreement": np.full(n, np.nan)}
    records.update({f"settle_{i}": np.full(n, np.nan) for i in task.scenario.data["issues"]})
    records["drift_seen"] = drift + 0.01 * gen.standard_normal(n)
    return records


def test_calibrate_with_an_injected_simulator(tmp_path):
    facts = tmp_path / "drift.yaml"
    facts.write_text("facts_version: 1\nfacts:\n  - id: DRIFT\n    title: drift\n    date: 2025-12-01\n"
                     "    observed: 0.1\n    obs_sd: 0.01\n    discrepancy_sd: 0.0\n    source: test\n"
                     "    confidence: test\n    statistic: {kind: value, record: drift_seen}\n")
    cal = calibrate(SHORT, [facts], tmp_path / "out", draws=200, paths=4,
                    waves=2, seed=2, workers=1, quiet=True, block_fn=_drift_block)
    first, last = cal.waves
    # |0.1 - drift| <= 3 sqrt(0.01^2 + 0.01^2) = 0.042: the prior mostly outside, the second wave inside
    kept = last.draws.loc[last.keep, "war.drift_per_year"]
    assert kept.between(0.1 - 0.05, 0.1 + 0.05).all()
    assert last.keep.mean() > first.keep.mean()
    assert (tmp_path / "out" / "calibration.md").is_file()


def _interrupting_block(task):
    raise KeyboardInterrupt


def test_an_interrupted_calibration_says_how_to_resume(tmp_path):
    from sim.batch.runner import BatchInterrupted

    with pytest.raises(BatchInterrupted) as err:
        calibrate(SHORT, [FACTS], tmp_path / "out", draws=20, paths=2, waves=2, seed=2, workers=1,
                  quiet=True, block_fn=_interrupting_block)
    msg = err.value.message
    assert "(wave_1); finished waves are kept; resume with the same command: negsim calibrate " in msg
    assert msg.endswith(f"--waves 2 --draws 20 --paths 2 --seed 2 --out {tmp_path / 'out'}")
    assert err.value.exit_code == 130


REPLAY_FACTS = """facts_version: 1
replay: replay.yaml
calibrates:
  - war.drift_per_year
  - CALIBRATED
facts:
  - id: DRIFT
    title: drift seen in the replay's first week
    date: 2025-12-31
    observed: 0.1
    obs_sd: 0.01
    discrepancy_sd: 0.0
    source: test
    confidence: test
    statistic: {kind: value, record: drift_seen}
"""


def test_a_replay_matches_the_facts_and_carries_only_the_listed_parameters(tmp_path):
    facts = DATA / "replay_facts.yaml"  # beside replay.yaml, which it names relative to itself
    facts.write_text(REPLAY_FACTS.replace("CALIBRATED", "actors.RU.discount_rate_per_year"))
    try:
        cal = calibrate(SHORT, [facts], tmp_path / "out", draws=120, paths=4, waves=1, seed=2, workers=1,
                        quiet=True, block_fn=_drift_block, keep=("actors.RU.discount_rate_per_year",))
    finally:
        facts.unlink()
    assert cal.replay.id == "baseline_short_replay" and cal.scenario.id == "baseline_short"
    assert json.loads((cal.wave_dirs[0] / "manifest.json").read_text())["scenario"] == "baseline_short_replay"
    draws = pd.read_parquet(tmp_path / "out" / "calibrated_draws.parquet")
    assert list(draws.columns) == ["war.drift_per_year", "weight"]
    assert draws["war.drift_per_year"].between(0.04, 0.16).all()  # |0.1 - drift| <= 3 sd, sample variance
    sc = load_scenario(tmp_path / "out" / "baseline_short_calibrated.yaml")  # extends the target, not replay
    assert sc.data["scenario"]["start_date"].isoformat() == "2026-01-05"


def test_a_replay_refuses_parameters_it_cannot_carry_and_facts_after_the_targets_cutoff(tmp_path):
    facts = DATA / "replay_facts.yaml"
    facts.write_text(REPLAY_FACTS.replace("CALIBRATED", "war.L0"))
    try:
        with pytest.raises(ScenarioError) as err:
            calibrate(SHORT, [facts], tmp_path / "out", draws=10, paths=2, waves=1, workers=1, quiet=True,
                      block_fn=_drift_block)
        assert str(err.value).splitlines() == [
            f"{facts}:5: calibrates: 'war.L0' is not an uncertain parameter of the replay "
            "baseline_short_replay (expected a parameter with a distribution there)"]
        facts.write_text(REPLAY_FACTS.replace("  - CALIBRATED\n", "").replace("2025-12-31", "2026-01-02"))
        with pytest.raises(ScenarioError) as err:  # inside the replay's run, after the target's cut-off
            calibrate(SHORT, [facts], tmp_path / "out", draws=10, paths=2, waves=1, workers=1, quiet=True,
                      block_fn=_drift_block)
        assert "after the information cut-off 2025-12-31 of scenario baseline_short" in str(err.value)
    finally:
        facts.unlink()


def test_facts_on_two_replays_are_matched_on_the_same_draws_of_the_shared_parameters(tmp_path):
    first, second = DATA / "replay_facts.yaml", DATA / "replay2_facts.yaml"
    first.write_text(REPLAY_FACTS.replace("  - CALIBRATED\n", ""))
    second.write_text(REPLAY_FACTS.replace("  - CALIBRATED\n", "").replace("replay.yaml", "replay2.yaml")
                      .replace("id: DRIFT", "id: DRIFT2"))
    try:
        cal = calibrate(SHORT, [first, second], tmp_path / "out", draws=60, paths=4, waves=1, seed=3,
                        workers=1, quiet=True, block_fn=_drift_block)
    finally:
        first.unlink()
        second.unlink()
    a = pd.read_parquet(tmp_path / "out" / "wave_1" / "runs.parquet")
    b = pd.read_parquet(tmp_path / "out" / "wave_1_baseline_short_replay2" / "runs.parquet")
    assert json.loads((tmp_path / "out" / "wave_1_baseline_short_replay2" / "manifest.json").read_text())[
        "scenario"] == "baseline_short_replay2"
    col = "param.war.drift_per_year"
    np.testing.assert_array_equal(a[col].to_numpy(), b[col].to_numpy())  # the shared parameter, row by row
    assert not np.array_equal(a["param.actors.RU.discount_rate_per_year"].to_numpy(),
                              b["param.actors.RU.discount_rate_per_year"].to_numpy())  # its own prior
    assert cal.final.imp.shape == (60, 2)  # each draw judged on both replays' facts
    assert np.isfinite(cal.final.imp).all()
