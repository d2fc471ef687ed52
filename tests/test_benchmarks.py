"""The benchmark scripts still run against the current batch and model layers.

They live outside the package and nothing else imports them, so an API change in ``sim.batch`` or
``sim.model`` would otherwise break ``make bench`` unnoticed. Each test runs the smallest case of a
script's own functions (a few dozen replicates): it checks the plumbing and what the script reports,
not the speed, which only the benchmarks themselves measure.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _load(name: str):
    spec = importlib.util.spec_from_file_location(f"bench_{name}", ROOT / "benchmarks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_block_benchmark_tasks_cover_exactly_the_replicates_it_times():
    bench = _load("bench_batch")
    tasks = bench._tasks(60, 20, paths=20)
    assert [(t.start, t.stop) for t in tasks] == [(0, 20), (20, 40), (40, 60)]
    cost = bench.per_replicate_cost(40, 20)
    assert cost["replicates"] == 40 and cost["block_size"] == 20
    assert cost["per_replicate_s"] == pytest.approx(cost["seconds"] / 40)


def test_model_profile_prints_outcome_shares_that_sum_to_one(capsys):
    profile = _load("profile_model")
    assert profile.main(["--sizes", "30", "--outcomes"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"R=\s+30\s+total", out)
    lines = [line for line in out.splitlines() if line.strip().startswith("outcome_w")]
    assert {line.split(":")[0].strip() for line in lines} == {"outcome_w26", "outcome_w52", "outcome_w104"}
    for line in lines:
        shares = [float(v) for v in re.findall(r"=([0-9.]+)", line)]
        assert len(shares) == 4 and sum(shares) == pytest.approx(1.0)
