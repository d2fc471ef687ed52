"""`negsim levers`: the levers file, the paired effects and verdicts, resume, and the shipped levers.

The runs here use the real scenario and the real model at a few hundred replicates: enough for a lever
with a strong known direction (an operational collapse made a 60%-a-year event) to be distinguished from
zero, and for a no-op lever to show that pairing makes its effect exactly zero.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.analysis.leverfile import load_levers
from sim.analysis.levers import lever_line, verdict
from sim.batch.block import model_block
from sim.errors import UserError
from sim.scenario import ScenarioError

ROOT = Path(__file__).resolve().parents[1]
BASELINE = str(ROOT / "scenarios" / "baseline.yaml")
pytestmark = pytest.mark.xdist_group("levers")

#: A lever that restates the baseline's own value (war.L0 is 0.50) and two that make an operational
#: collapse of Ukraine's front a 60%-a-year event, one expecting more collapses (right), one fewer (wrong).
LEVERS = """\
levers:
  noop:
    label: No change
    question: Does restating a baseline value change anything?
    overlay:
      war: {L0: 0.50}
    expect:
      comprehensive_deal: {sign: "+", src: "test: none expected"}
  crumble_right:
    label: Front crumbles
    question: What if an operational collapse becomes likely?
    overlay:
      war:
        collapse_jump:
          annual_prob: {dist: annual_prob, mean: 0.6, kappa: 30}
    expect:
      collapse_escalation: {sign: "+", src: "test: the jump is what collapse_escalation counts"}
  crumble_wrong:
    label: Front crumbles, wrong expectation
    question: The same lever with the opposite expectation
    overlay:
      war:
        collapse_jump:
          annual_prob: {dist: annual_prob, mean: 0.6, kappa: 30}
    expect:
      collapse_escalation: {sign: "-", src: "test: deliberately wrong"}
"""


def negsim(*args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sim", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout)


def write(tmp_path: Path, text: str, name: str = "levers.yaml") -> str:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return str(path)


# --- the file ----------------------------------------------------------------------------------------
def test_a_bad_field_is_reported_at_its_line(tmp_path):
    path = write(tmp_path, LEVERS.replace('{sign: "-", src: "test: deliberately wrong"}',
                                          '{sign: "down!", src: "test"}'))
    with pytest.raises(ScenarioError) as err:
        load_levers(path, BASELINE)
    assert err.value.message == (f'{path}:26: levers.crumble_wrong.expect.collapse_escalation.sign: got '
                                 "'down!' (expected a direction: \"+\" or \"-\", quoted, or up / down)")


def test_an_unknown_key_gets_a_suggestion(tmp_path):
    path = write(tmp_path, LEVERS.replace("    question: What if an operational", "    questoin: What if an "
                                          "operational"))
    with pytest.raises(ScenarioError) as err:
        load_levers(path, BASELINE)
    lines = err.value.message.splitlines()
    assert f"{path}:9: levers.crumble_right.question: required key is missing (expected the question the " \
           "lever answers, in plain words)" in lines
    assert f"{path}:11: levers.crumble_right.questoin: unknown key 'questoin' (did you mean 'question'? " \
           "expected one of: label, question, overlay, expect)" in lines


def test_an_overlay_path_the_scenario_lacks_is_an_error_naming_the_lever(tmp_path):
    path = write(tmp_path, LEVERS.replace("          annual_prob: {dist: annual_prob, mean: 0.6, kappa: 30}\n"
                                          "    expect:\n      collapse_escalation: {sign: \"-\"",
                                          "          anual_prob: 0.6\n"
                                          "    expect:\n      collapse_escalation: {sign: \"-\""))
    with pytest.raises(ScenarioError) as err:
        load_levers(path, BASELINE)
    assert err.value.message == (
        f"{path}:24: levers.crumble_wrong.overlay.war.collapse_jump.anual_prob: no such setting in the "
        "scenario (did you mean 'annual_prob'? expected one of: annual_prob, k_strain, size_low, size_high)")


def test_an_overlay_value_out_of_range_and_an_unknown_outcome_are_reported_together(tmp_path):
    path = write(tmp_path, LEVERS.replace("war: {L0: 0.50}", "war: {L0: 1.5}")
                 .replace("comprehensive_deal: {sign", "comprehensive_dael: {sign"))
    with pytest.raises(ScenarioError) as err:
        load_levers(path, BASELINE)
    lines = err.value.message.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith(f"{path}:6: levers.noop.overlay.war.L0: 1.5 is out of range")
    assert lines[1].startswith(f"{path}:8: levers.noop.expect.comprehensive_dael: unknown outcome "
                               "'comprehensive_dael' (did you mean 'comprehensive_deal'?")


def test_the_cli_reports_file_errors_without_a_traceback(tmp_path):
    path = write(tmp_path, LEVERS.replace("war: {L0: 0.50}", "war: {LO: 0.50}"))
    res = negsim("levers", BASELINE, "--levers", path, "--runs", "10", "--out", str(tmp_path / "o"))
    assert res.returncode == 2
    assert res.stderr.startswith(f"{path}:6: levers.noop.overlay.war.LO: no such setting in the scenario "
                                 "(expected one of: advancing, defending, L0, L_min,")
    assert "Traceback" not in res.stderr and not (tmp_path / "o").exists()


def test_a_lever_scenario_changes_only_its_overlay_and_shares_the_other_draws(tmp_path):
    from sim.analysis.lever_runs import sample
    from sim.batch.plan import make_plan

    levers = load_levers(write(tmp_path, LEVERS), BASELINE)
    crumble = levers.levers[1].scenario
    assert crumble.data["war"]["collapse_jump"]["annual_prob"]["mean"] == 0.6
    assert levers.base.data["war"]["collapse_jump"]["annual_prob"]["mean"] == 0.04
    plan = make_plan(5, n_draws=20, paths_per_draw=10)
    a, b = sample(levers.base, plan), sample(crumble, plan)
    changed = [c for c in a.columns if not np.array_equal(a[c].to_numpy(), b[c].to_numpy())]
    assert changed == ["war.collapse_jump.annual_prob"]


def test_verdicts():
    assert verdict(0.5, 2.0, +1) == "yes" and verdict(-2.0, -0.5, +1) == "no"
    assert verdict(-2.0, -0.5, -1) == "yes" and verdict(-0.1, 0.3, -1) == "unclear"
    assert verdict(0.0, 0.0, +1) == "unclear" and verdict(0.5, 2.0, None) == ""


# --- runs --------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def cli_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("levers")
    path = write(tmp, LEVERS)
    out = tmp / "out"
    res = negsim("levers", BASELINE, "--levers", path, "--runs", "300", "--seed", "3", "--workers", "2",
                 "--out", str(out), "--quiet")
    assert res.returncode == 0, res.stderr
    return out, res, pd.read_csv(out / "levers.csv", keep_default_na=False)


def test_a_no_op_lever_has_exactly_zero_effect(cli_run):
    _, _, table = cli_run
    noop = table[table["lever"] == "noop"]
    assert len(noop) == 4 * 3 + 1  # four outcomes at three horizons, and where TERR_CTRL settles
    assert (noop[["effect", "lo", "hi"]].to_numpy(dtype=float) == 0.0).all()
    assert (noop["consistent"] == "").sum() == len(noop) - 3
    assert set(noop.loc[noop["expected"] == "+", "consistent"]) == {"unclear"}


def test_a_strong_lever_is_consistent_and_a_wrong_expectation_contradicts(cli_run):
    out, res, table = cli_run
    right = table[(table["lever"] == "crumble_right") & (table["outcome"] == "collapse_escalation")]
    wrong = table[(table["lever"] == "crumble_wrong") & (table["outcome"] == "collapse_escalation")]
    assert (right["lo"] > 0).all() and set(right["consistent"]) == {"yes"}
    assert set(wrong["consistent"]) == {"no"} and set(wrong["expected"]) == {"-"}
    np.testing.assert_array_equal(right["effect"].to_numpy(), wrong["effect"].to_numpy())  # same overlay
    lines = {ln.split(" ", 1)[0]: ln for ln in res.stdout.splitlines() if ln.startswith(("noop", "crumble"))}
    assert "CONTRADICTS expectation (-) on collapse@104" in lines["crumble_wrong"]
    assert "CONTRADICTS" not in lines["crumble_right"] and "confirms: collapse" in lines["crumble_right"]
    assert "no effect distinguishable from zero | cannot confirm: deal +" in lines["noop"]
    for name in ("levers-collapse_escalation.png", "levers-settle_TERR_CTRL.svg", "base/runs.parquet",
                 "crumble_right/summary.json"):
        assert (out / name).is_file(), name


class StopAfter:
    """A block function that runs the real model for ``n`` blocks, then acts as Ctrl-C."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.calls = 0

    def __call__(self, task):
        self.calls += 1
        if self.calls > self.n:
            raise KeyboardInterrupt
        return model_block(task)


def test_resume_after_an_interruption_gives_the_same_table(tmp_path, cli_run):
    from sim.analysis.lever_runs import effect_table, run_levers, write_table
    from sim.batch import BatchInterrupted

    out_ref, _, _ = cli_run
    levers = load_levers(write(tmp_path, LEVERS), BASELINE)
    out = tmp_path / "out"
    with pytest.raises(BatchInterrupted) as err:
        # one block per run at this size: base and noop finish, crumble_right is stopped, crumble_wrong
        # never starts; resume keeps the first two, completes the third and makes the fourth
        run_levers(levers, out, runs=300, seed=3, workers=1, quiet=True, block_fn=StopAfter(2))
    assert "resume every run with: negsim levers" in err.value.message and "--resume" in err.value.message
    assert (out / "base" / "runs.parquet").is_file() and (out / "noop" / "runs.parquet").is_file()
    assert json.loads((out / "crumble_right" / "manifest.json").read_text())["status"] == "interrupted"
    assert not (out / "crumble_wrong").exists()
    with pytest.raises(UserError, match="use --resume"):
        run_levers(levers, out, runs=300, seed=3, workers=1, quiet=True)
    runs = run_levers(levers, out, runs=300, seed=3, workers=1, quiet=True, resume=True)
    table = effect_table(levers, runs)
    path = write_table(table, out / "levers.csv")
    assert path.read_bytes() == (out_ref / "levers.csv").read_bytes()


def test_the_line_of_a_lever_names_what_it_cannot_confirm():
    rows = pd.DataFrame({"outcome": ["comprehensive_deal"] * 2, "horizon": [52, 104], "effect": [0.4, 0.9],
                         "lo": [-0.2, 0.1], "hi": [1.0, 1.7], "expected": ["-", "-"],
                         "consistent": ["unclear", "no"], "unit": ["percentage points"] * 2})
    line = lever_line("x", "X", rows)
    assert line.startswith("x (X): moves deal@104 +0.9 [+0.1, +1.7]")
    assert "CONTRADICTS expectation (-) on deal@104" in line and "cannot confirm" not in line


# --- the shipped levers ---------------------------------------------------------------------------
@pytest.mark.parametrize("name, at_least", [("baseline.yaml", 17), ("mechanisms.yaml", 4)])
def test_the_shipped_levers_validate_and_each_changes_the_scenario(name, at_least):
    levers = load_levers(ROOT / "levers" / name, BASELINE)
    names = [lv.name for lv in levers.levers]
    assert len(names) >= at_least
    for lv in levers.levers:
        assert lv.scenario.data != levers.base.data, lv.name
        assert lv.expect and all(e.src.strip() for e in lv.expect.values()), lv.name


def test_cli_resume_of_a_complete_run_keeps_every_run_and_reprints_the_same_table(cli_run, tmp_path):
    out, res, _ = cli_run
    before = (out / "levers.csv").read_bytes()
    again = negsim("levers", BASELINE, "--levers", str(tmp_path / "x.yaml"), "--runs", "300", "--seed", "3",
                   "--out", str(out), "--resume", "--quiet")
    assert again.returncode == 2 and "file not found" in again.stderr  # the levers file is read first
    path = out.parent / "levers.yaml"
    again = negsim("levers", BASELINE, "--levers", str(path), "--runs", "300", "--seed", "3", "--out",
                   str(out), "--resume")  # not --quiet: it would silence the notes on kept runs
    assert again.returncode == 0, again.stderr
    assert again.stderr.count("is complete; kept") == 4
    assert (out / "levers.csv").read_bytes() == before
    assert again.stdout.split("written:")[0] == res.stdout.split("written:")[0]
    refused = negsim("levers", BASELINE, "--levers", str(path), "--runs", "300", "--seed", "4", "--out",
                     str(out), "--resume", "--quiet")
    assert refused.returncode == 2 and "cannot resume" in refused.stderr and "seed" in refused.stderr


def test_a_dask_cluster_gives_the_same_table(cli_run, tmp_path):
    distributed = pytest.importorskip("dask.distributed")
    out_ref, _, _ = cli_run
    with distributed.LocalCluster(processes=True, n_workers=2, threads_per_worker=1, host="127.0.0.1",
                                  dashboard_address=":0") as cluster:
        res = negsim("levers", BASELINE, "--levers", str(out_ref.parent / "levers.yaml"), "--runs", "300",
                     "--seed", "3", "--scheduler", cluster.scheduler_address, "--out", str(tmp_path / "dk"),
                     "--quiet")
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "dk" / "levers.csv").read_bytes() == (out_ref / "levers.csv").read_bytes()
    for run in ("base", "noop", "crumble_right", "crumble_wrong"):
        assert json.loads((tmp_path / "dk" / run / "manifest.json").read_text())["executor"] == "dask"


def test_a_new_event_is_checked_in_full_at_the_lever_line(tmp_path):
    path = write(tmp_path, LEVERS.replace("      war: {L0: 0.50}\n", "      events:\n        DEADLINE:\n"
                                          "          dates: [2026-06-30]\n"))
    with pytest.raises(ScenarioError) as err:
        load_levers(path, BASELINE)
    assert err.value.message == (f"{path}:8: levers.noop.overlay.events.DEADLINE.type: got None "
                                 "(expected type: poisson, scheduled or endogenous)")


def test_the_tornado_data_names_the_largest_clear_effect():
    from sim.charts.tornado import effect_tornado_data, plot_effect_tornado

    table = pd.DataFrame({"lever": ["a", "b", "c"], "outcome": ["ceasefire"] * 3, "horizon": [104] * 3,
                          "unit": ["percentage points"] * 3, "effect": [1.0, -4.0, 6.0],
                          "lo": [0.5, -5.0, -1.0], "hi": [1.5, -3.0, 13.0], "consistent": ["yes", "no", ""]})
    data = effect_tornado_data(table, "ceasefire", 104, {"b": "Lever B"})
    assert list(data.rows["lever"]) == ["c", "b", "a"]  # by size of effect
    assert data.title == "Lever B moves ceasefire most: -4.0 points"  # c's interval spans zero
    none = effect_tornado_data(table.assign(lo=-1.0, hi=1.0), "ceasefire", 104)
    assert none.title == "No lever moves ceasefire distinguishably from zero"
    fig = plot_effect_tornado(data)
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == ["c", "Lever B", "a"]
