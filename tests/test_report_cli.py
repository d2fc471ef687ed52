"""CLI through subprocesses on synthetic run directories: report, compare, discover."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fixtures_runs import write_run_dir

ROOT = Path(__file__).resolve().parents[1]


def negsim(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "sim", *args], cwd=ROOT, capture_output=True, text=True, timeout=180
    )


def pdf_pages(path: Path) -> int:
    """Count page objects (``/Type /Page``, not ``/Pages``) in a PDF written by matplotlib."""
    return len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", path.read_bytes()))


@pytest.fixture(scope="module")
def rundirs(tmp_path_factory):
    root = tmp_path_factory.mktemp("runs")
    return (
        write_run_dir(root / "base", seed=3, n_draws=200, paths_per_draw=10),
        write_run_dir(
            root / "variant",
            seed=3,
            n_draws=200,
            paths_per_draw=10,
            agree_mult=1.6,
            scenario_id="faster_talks",
        ),
        write_run_dir(root / "other", seed=9, n_draws=200, paths_per_draw=10),
    )


def test_report_writes_one_page_briefing_and_chart_set(rundirs, tmp_path):
    out = tmp_path / "rep"
    r = negsim("report", str(rundirs[0]), "--out", str(out))
    assert r.returncode == 0, r.stderr
    assert "A comprehensive deal within a year is" in r.stdout
    assert pdf_pages(out / "briefing.pdf") == 1
    assert len(list(out.glob("*.png"))) >= 4 and len(list(out.glob("*.svg"))) >= 4
    text = (out / "briefing.pdf").read_bytes()
    assert b"/MediaBox [ 0 0 841" in text  # A4 landscape: 841.7 x 595.4 pt


def test_report_refuses_a_directory_that_is_not_a_run(tmp_path, capsys):
    # in-process through the same entry point (sim.cli.main), to spare a subprocess
    from sim.cli import main

    assert main(["report", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.strip() == f"{tmp_path}: not a run directory (runs.parquet missing; did the run finish?)"


def test_compare_paired_prints_one_line_per_outcome_and_writes_chart(rundirs, tmp_path):
    r = negsim("compare", str(rundirs[0]), str(rundirs[1]), "--out", str(tmp_path))
    assert r.returncode == 0, r.stderr
    lines = [s for s in r.stdout.splitlines() if "under faster_talks" in s]
    assert len(lines) == 12
    assert any(s.startswith("  A comprehensive deal within two years becomes more likely") for s in lines)
    assert (tmp_path / "comparison.csv").exists() and (tmp_path / "comparison.png").exists()


def test_compare_refuses_to_pair_different_seeds_and_unpaired_works(rundirs, tmp_path):
    r = negsim("compare", str(rundirs[0]), str(rundirs[2]), "--out", str(tmp_path))
    assert r.returncode == 2
    assert r.stderr.strip() == (
        "cannot pair runs: seeds differ (A: 3, B: 9); use --unpaired for independent two-sample intervals"
    )
    r = negsim("compare", str(rundirs[0]), str(rundirs[2]), "--unpaired", "--out", str(tmp_path))
    assert r.returncode == 0, r.stderr
    assert "unpaired, independent samples" in r.stdout


def test_discover_finds_the_planted_box(rundirs, tmp_path):
    # the fixture's agreement hazard jumps when guarantee_credibility > 0.75 and drift_per_year < 0.10
    r = negsim(
        "discover",
        str(rundirs[0]),
        "--outcome",
        "comprehensive_deal",
        "--horizon",
        "104",
        "--min-coverage",
        "0.4",
        "--out",
        str(tmp_path),
    )
    assert r.returncode == 0, r.stderr
    box1 = r.stdout.split("box 1:")[1].split("box 2:")[0]
    pattern = r"0\.7\d+ ≤ commitment\.guarantee_credibility|commitment\.guarantee_credibility ≥ 0\.7\d"
    assert re.search(pattern, box1), r.stdout
    assert re.search(r"war\.drift_per_year ≤ 0\.(09|1\d)", box1), r.stdout
    assert list(tmp_path.glob("prim_comprehensive_deal_w104.png"))


def test_discover_rejects_unknown_outcome_and_horizon(rundirs, capsys):
    from sim.cli import main

    assert main(["discover", str(rundirs[0]), "--outcome", "peace"]) == 2
    assert capsys.readouterr().err.strip() == (
        "--outcome peace: unknown outcome (expected one of comprehensive_deal, ceasefire, "
        "continued_war, collapse_escalation)"
    )
    assert main(["discover", str(rundirs[0]), "--outcome", "ceasefire", "--horizon", "30"]) == 2
    assert (
        capsys.readouterr().err.strip()
        == "--horizon 30: no outcome_w30 column (horizons in this run: [26, 52, 104])"
    )


def test_sensitivity_cli_runs_the_model_at_design_points(tmp_path):
    # the real baseline, one parameter, one Morris trajectory (2 design points) of 2 paths: the options reach
    # the core (written design matches --params/--trajectories/--paths/--seed)
    import json

    import pandas as pd

    out = tmp_path / "sens"
    r = negsim(
        "sensitivity",
        "scenarios/baseline.yaml",
        "--method",
        "morris",
        "--trajectories",
        "1",
        "--paths",
        "2",
        "--params",
        "war.drift_per_year",
        "--seed",
        "3",
        "--out",
        str(out),
        "--quiet",
        "--no-crn",
    )
    assert r.returncode == 0, r.stderr
    assert "noise floor (2 paths per point)" in r.stdout
    assert "morris: 1 parameters, 2 design points x 2 paths = 4 runs" in r.stdout
    table = pd.read_csv(out / "sensitivity.csv")
    assert set(table["parameter"]) == {"war.drift_per_year"}
    assert len(table) == 8  # 4 outcome classes x horizons 52 and 104
    assert (table["mu_star"] >= 0).all()
    meta = json.loads((out / "sensitivity.json").read_text())
    assert meta["seed"] == 3 and meta["paths"] == 2 and meta["design_points"] == 2 and meta["crn"] is False
    assert (out / "tornado.png").exists() and (out / "tornado.svg").exists()


def test_discover_options_reach_the_core(rundirs, tmp_path, capsys):
    # in-process through the CLI entry point: threshold, per-replicate target, boxes, prune, alpha
    from sim.cli import main

    args = ["discover", str(rundirs[0]), "--outcome", "comprehensive_deal", "--out", str(tmp_path)]
    assert main([*args, "--threshold", "0.6", "--boxes", "1"]) == 0
    out = capsys.readouterr().out
    assert "target: P(comprehensive_deal, week 104) >= 0.6" in out and "box 2:" not in out
    assert main([*args, "--per-replicate", "--boxes", "1", "--min-coverage", "0.3"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("PRIM on 2,000 replicates")
    assert main([*args, "--prune", "0", "--alpha", "0.1", "--boxes", "1"]) == 0
    raw = capsys.readouterr().out
    assert main([*args, "--alpha", "0.1", "--boxes", "1"]) == 0
    pruned = capsys.readouterr().out

    def restrictions(out: str) -> list[str]:
        section = out.split("box 1:")[1].split("written:")[0]
        return [line for line in section.splitlines()[1:] if line.startswith("  ")]

    assert len(restrictions(raw)) >= len(restrictions(pruned)) >= 1


def test_sensitivity_sobol_options_reach_the_core(tmp_path, capsys):
    import pandas as pd

    from sim.cli import main

    out = tmp_path / "sobol"
    code = main(
        [
            "sensitivity",
            "scenarios/baseline.yaml",
            "--method",
            "sobol",
            "--samples",
            "2",
            "--paths",
            "2",
            "--params",
            "war.drift_per_year,commitment.guarantee_credibility",
            "--horizons",
            "104",
            "--out",
            str(out),
            "--quiet",
            "--no-crn",
        ]
    )
    assert code == 0
    assert "sobol: 2 parameters, 8 design points x 2 paths = 16 runs" in capsys.readouterr().out
    table = pd.read_csv(out / "sensitivity.csv")
    assert set(table["outcome"]) == {
        f"{o}@104w" for o in ("comprehensive_deal", "ceasefire", "continued_war", "collapse_escalation")
    }
    assert {"S1", "ST", "S1_conf", "ST_conf", "noise_floor"} <= set(table.columns)
    assert main(["sensitivity", "scenarios/baseline.yaml", "--params", "nothing.*", "--out", str(out)]) == 2
    assert capsys.readouterr().err.strip() == "no uncertain parameter matches ['nothing.*']"


def test_sensitivity_top_from_an_earlier_table(tmp_path, capsys):
    import pandas as pd

    from sim.cli import main

    earlier = tmp_path / "morris.csv"
    pd.DataFrame(
        {
            "parameter": ["war.drift_per_year", "mediator.text_weights0.UA", "war.vol_per_sqrt_year"],
            "outcome": "comprehensive_deal@104w",
            "mu_star": [0.3, 0.2, 0.01],
        }
    ).to_csv(earlier, index=False)
    out = tmp_path / "top"
    code = main(
        [
            "sensitivity",
            "scenarios/baseline.yaml",
            "--method",
            "morris",
            "--trajectories",
            "1",
            "--paths",
            "1",
            "--top-from",
            str(earlier),
            "--top",
            "2",
            "--horizons",
            "104",
            "--out",
            str(out),
            "--quiet",
        ]
    )
    assert code == 0
    assert "morris: 2 parameters, 3 design points x 1 paths = 3 runs" in capsys.readouterr().out
    assert set(pd.read_csv(out / "sensitivity.csv")["parameter"]) == {
        "war.drift_per_year",
        "mediator.text_weights0.UA",
    }
    assert main(["sensitivity", "scenarios/baseline.yaml", "--top-from", str(tmp_path / "nope.csv")]) == 2
    assert capsys.readouterr().err.strip() == f"--top-from {tmp_path / 'nope.csv'}: no such file"


def test_sensitivity_crn_gives_identical_points_identical_outputs(tmp_path, capsys):
    # --crn reaches NegsimModel: two identical design points see the same random numbers
    import numpy as np

    from sim.analysis.negsim_model import NegsimModel
    from sim.cli import main
    from sim.scenario import load_scenario

    sc = load_scenario("scenarios/baseline.yaml")
    model = NegsimModel(
        sc, paths=12, seed=2, include=["war.drift_per_year"], horizons=[104], progress=False, crn=True
    )
    y = model(np.array([[0.3], [0.3], [0.9]]))
    np.testing.assert_array_equal(y[0], y[1])
    assert (
        main(
            [
                "sensitivity",
                "scenarios/baseline.yaml",
                "--trajectories",
                "1",
                "--paths",
                "1",
                "--params",
                "war.drift_per_year",
                "--horizons",
                "104",
                "--crn",
                "--out",
                str(tmp_path),
                "--quiet",
            ]
        )
        == 0
    )
    assert "common random numbers" in capsys.readouterr().out
