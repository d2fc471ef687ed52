"""Batch mechanics: seeds, blocks, executors, atomic storage, resume, failures, interruption.

These use a small deterministic model (``toy_block``) that consumes the block's stream like the real one
(``SeedSequence(seed, spawn_key=(1, b))``, one child per phase) so that they do not depend on the model's
speed; the integration tests with the real model are in test_run_cli.py.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from sim.batch import BlockFailed, execute_run, simulate_draws
from sim.batch.plan import make_plan
from sim.batch.seeds import block_seed_sequence
from sim.batch.storage import done_blocks, part_path
from sim.errors import UserError

CLASSES = ("comprehensive_deal", "ceasefire", "continued_war", "collapse_escalation")
ROOT = Path(__file__).resolve().parents[1]


def toy_scenario() -> SimpleNamespace:
    return SimpleNamespace(
        id="toy", path=Path("toy.yaml"), files=[("toy.yaml", "0" * 64)],
        data={"scenario": {"horizon_weeks": 104, "reporting_horizons_weeks": [26, 52, 104]},
              "issues": {"TERR": {}, "NATO": {}}},
        provenance={}, uncertain={"war.rate": {"dist": "uniform"}},
    )


def toy_draws(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"war.rate": rng.uniform(0.005, 0.03, n),
                         "structure.solver": rng.choice(["nash", "ks"], n)})


def toy_block(task) -> dict[str, np.ndarray]:
    """Weekly agreement hazard from the draw; collapse hazard; settlements. Uses the block's stream."""
    events, settle = (np.random.default_rng(s) for s in task.seed_sequence().spawn(2))
    rate = task.draws["war.rate"].to_numpy()[task.local_draw_index()]
    n = task.n_replicates
    t_agree = np.ceil(events.exponential(1.0 / rate, n))
    t_collapse = np.ceil(events.exponential(1.0 / 0.004, n))
    deal = events.random(n) < 0.4
    out = {}
    for h in (26, 52, 104):
        agreed_h = np.where(deal, "comprehensive_deal", "ceasefire")
        cls = np.where(t_agree <= h, agreed_h, "continued_war")
        cls = np.where(t_collapse <= h, "collapse_escalation", cls)
        out[f"outcome_w{h}"] = cls
    agreed = t_agree <= 104
    out["weeks_to_agreement"] = np.where(agreed, t_agree, np.nan)
    out["agreement_type"] = np.where(agreed, np.where(deal, "comprehensive_deal", "ceasefire"), "none")
    opts = np.array([0.0, 0.25, 0.5, 0.75, 1.0])
    out["settle_TERR"] = np.where(agreed, opts[settle.integers(0, 5, n)], np.nan)
    out["settle_NATO"] = np.where(agreed, settle.beta(2, 2, n), np.nan)
    return out


def failing_block(task):
    if task.index == 2:
        raise RuntimeError("boom")
    return toy_block(task)


def user_error_block(task):
    raise UserError("structure.protocol: must be one value within a run")


def slow_block(task):
    time.sleep(0.4)
    return toy_block(task)


def run_toy(out, runs=2000, seed=5, n_draws=None, block_fn=toy_block, **kw):
    plan = make_plan(seed, runs=runs, paths_per_draw=kw.pop("paths_per_draw", None),
                     block_size=kw.pop("block_size", 125))
    draws = toy_draws(plan.n_draws, seed=n_draws or 0)
    return execute_run(toy_scenario(), plan, draws, Path(out), quiet=True, block_fn=block_fn,
                       classes=CLASSES, **kw)


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The in-process run every other executor must reproduce byte for byte."""
    return run_toy(tmp_path_factory.mktemp("ref") / "run", workers=1)


@pytest.fixture(scope="module")
def dask_cluster():
    distributed = pytest.importorskip("dask.distributed")
    # ":0": any free port for the scheduler's HTTP server (None means 8787, and the two test processes
    # may run a cluster at once: "Port 8787 is already in use")
    cluster = distributed.LocalCluster(processes=True, n_workers=2, threads_per_worker=1, host="127.0.0.1",
                                       dashboard_address=":0")
    yield cluster.scheduler_address
    cluster.close()


def _bytes(run_dir: Path) -> bytes:
    return (run_dir / "runs.parquet").read_bytes()


def test_same_seed_same_bytes_with_two_processes(reference, tmp_path):
    run = run_toy(tmp_path / "p2", workers=2)
    assert _bytes(run) == _bytes(reference)
    summary = json.loads((run / "summary.json").read_text())
    assert summary == json.loads((reference / "summary.json").read_text())
    assert json.loads((run / "manifest.json").read_text())["executor"] == "processes"


def test_same_seed_same_bytes_on_dask(reference, tmp_path, dask_cluster):
    run = run_toy(tmp_path / "dask", scheduler=dask_cluster)
    assert _bytes(run) == _bytes(reference)
    assert json.loads((run / "manifest.json").read_text())["executor"] == "dask"


def test_different_seed_different_results(reference, tmp_path):
    other = run_toy(tmp_path / "s6", seed=6, workers=1)
    a = pq.read_table(reference / "runs.parquet").to_pandas()
    b = pq.read_table(other / "runs.parquet").to_pandas()
    assert not np.array_equal(a["weeks_to_agreement"].to_numpy(), b["weeks_to_agreement"].to_numpy(),
                              equal_nan=True)


def test_block_stream_depends_on_seed_and_index_only():
    a = np.random.default_rng(block_seed_sequence(7, 3)).random(4)
    assert np.array_equal(a, np.random.default_rng(block_seed_sequence(7, 3)).random(4))
    assert not np.array_equal(a, np.random.default_rng(block_seed_sequence(7, 4)).random(4))
    assert not np.array_equal(a, np.random.default_rng(block_seed_sequence(8, 3)).random(4))


def test_rows_columns_and_parts(reference):
    df = pq.read_table(reference / "runs.parquet").to_pandas()
    m = json.loads((reference / "manifest.json").read_text())
    assert m["status"] == "complete" and m["runs"] == 2000 and m["draws"] == 200 and m["paths_per_draw"] == 10
    assert len(df) == 2000 and df["replicate"].tolist() == list(range(2000))
    assert (df["draw"] == df["replicate"] // 10).all() and (df["path"] == df["replicate"] % 10).all()
    assert list(df.columns[:3]) == ["draw", "replicate", "path"]
    # the sampled parameters of each draw are repeated along its paths
    draws = toy_draws(200)
    np.testing.assert_array_equal(df["param.war.rate"].to_numpy(), draws["war.rate"].to_numpy()[df["draw"]])
    assert set(df["param.structure.solver"]) <= {"nash", "ks"}
    assert done_blocks(reference) == set(range(m["n_blocks"]))
    assert not list((reference / "parts").glob(".*.tmp"))


def test_resume_completes_to_identical_bytes(reference, tmp_path):
    run = run_toy(tmp_path / "r", workers=1)
    n = json.loads((run / "manifest.json").read_text())["n_blocks"]
    for b in (1, 4, n - 1):                      # as if interrupted before these blocks finished
        part_path(run, b).unlink()
    (run / "runs.parquet").unlink()
    (run / "summary.json").unlink()
    (run / "parts" / ".block-000004.parquet.abc.tmp").write_bytes(b"partial")   # a killed writer
    run_toy(run, workers=2, resume=True)
    assert _bytes(run) == _bytes(reference)
    assert not list((run / "parts").glob(".*.tmp"))


def test_resume_recomputes_unreadable_part_files_and_names_them(reference, tmp_path, capsys):
    """A half-copied run directory: a truncated block file and one overwritten with other bytes."""
    run = run_toy(tmp_path / "r", workers=1)
    capsys.readouterr()
    truncated = part_path(run, 2).read_bytes()
    part_path(run, 2).write_bytes(truncated[: len(truncated) // 2])
    part_path(run, 5).write_bytes(b"not a parquet file " * 40)
    runs = (run / "runs.parquet").read_bytes()
    (run / "runs.parquet").write_bytes(runs[: len(runs) // 3])
    (run / "summary.json").unlink()
    run_toy(run, workers=2, resume=True)
    assert _bytes(run) == _bytes(reference)
    for b in (2, 5):
        assert part_path(run, b).read_bytes() == part_path(reference, b).read_bytes()
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 2, lines
    for line, b in zip(lines, (2, 5), strict=True):
        assert re.fullmatch(rf"negsim: block {b}: part file unreadable \(Parquet magic bytes not found in "
                            rf"footer\..*\); recomputing it", line), line
    assert json.loads((run / "manifest.json").read_text())["blocks_done"] == 16


def test_resume_refuses_a_different_run(reference, tmp_path):
    run = run_toy(tmp_path / "r", workers=1)
    with pytest.raises(UserError, match=r"cannot resume .*: seed is 9 but the interrupted run used 5"):
        run_toy(run, seed=9, workers=1, resume=True)
    with pytest.raises(UserError, match=r"runs is 1000 but the interrupted run used 2000"):
        run_toy(run, runs=1000, workers=1, resume=True)


def test_refuses_existing_directory_unless_force(reference, tmp_path):
    run = run_toy(tmp_path / "r", runs=200, workers=1)
    with pytest.raises(UserError) as err:
        run_toy(run, runs=200, workers=1)
    assert str(err.value) == (f"{run}: directory exists and is not empty; use --force to overwrite it "
                              f"or --resume to complete an interrupted run")
    run_toy(run, runs=100, workers=1, force=True)
    assert json.loads((run / "manifest.json").read_text())["runs"] == 100
    assert len(pq.read_table(run / "runs.parquet")) == 100


def test_block_size_one(tmp_path):
    run = run_toy(tmp_path / "b1", runs=40, paths_per_draw=4, block_size=1, workers=1)
    assert len(list((run / "parts").iterdir())) == 40
    df = pq.read_table(run / "runs.parquet").to_pandas()
    assert df["replicate"].tolist() == list(range(40))
    # block b's stream is (seed, b): replicate 7 alone in block 7
    solo = toy_block(SimpleNamespace(seed_sequence=lambda: block_seed_sequence(5, 7), n_replicates=1,
                                     draws=toy_draws(10).iloc[1:2].reset_index(drop=True),
                                     local_draw_index=lambda: np.array([0])))
    assert df.loc[7, "outcome_w104"] == solo["outcome_w104"][0]


def test_failing_block_reported_with_index_and_seed_others_kept(tmp_path):
    with pytest.raises(BlockFailed) as err:
        run_toy(tmp_path / "f", runs=1000, workers=2, block_fn=failing_block)
    msg = str(err.value)
    assert err.value.exit_code == 1
    assert "block 2 (replicates 250..374, seed 5, spawn_key (1, 2)) failed: RuntimeError: boom" in msg
    assert "1 of 8 blocks failed, 7 kept" in msg
    assert done_blocks(tmp_path / "f") == {0, 1, 3, 4, 5, 6, 7}
    assert "RuntimeError: boom" in (tmp_path / "f" / "errors.log").read_text()
    assert json.loads((tmp_path / "f" / "manifest.json").read_text())["status"] == "failed"
    # fixed, the run completes from the kept blocks to the same bytes as a clean run
    run_toy(tmp_path / "f", runs=1000, workers=1, resume=True)
    clean = run_toy(tmp_path / "clean", runs=1000, workers=1)
    assert _bytes(tmp_path / "f") == _bytes(clean)


def test_user_error_in_a_block_stops_the_run_with_its_message(tmp_path):
    with pytest.raises(UserError) as err:
        run_toy(tmp_path / "u", runs=1000, workers=2, block_fn=user_error_block)
    assert err.value.exit_code == 2
    assert str(err.value).startswith("structure.protocol: must be one value within a run (raised in block ")
    assert json.loads((tmp_path / "u" / "manifest.json").read_text())["status"] == "failed"


def scenario_toy_block(task):
    """The toy model on a real scenario: its agreement rate follows the sampled war drift."""
    n = task.n_replicates
    rate = 0.005 + 0.05 * task.draws["war.drift_per_year"].to_numpy()[task.local_draw_index()]
    u = np.random.default_rng(task.seed_sequence().spawn(1)[0]).random(n)
    t = np.ceil(-np.log(u) / rate)
    out = {f"outcome_w{h}": np.where(t <= h, "ceasefire", "continued_war") for h in (26, 52, 104)}
    out["weeks_to_agreement"] = np.where(t <= 104, t, np.nan)
    out["u"] = u
    issues = ["TERR_CTRL", "TERR_RECOG", "NATO", "SEC_GUAR", "FORCES", "ARMY_CAP", "SANCTIONS", "ASSETS",
              "MINERALS", "US_RU_NORM"]
    out.update({f"settle_{i}": np.where(t <= 104, 0.5, np.nan) for i in issues})
    return out


def test_common_random_numbers_across_scenarios(tmp_path):
    """Two scenarios, same seed: same block streams, same draws of the parameters the variant leaves."""
    from sim.batch import run_batch

    kw = {"runs": 400, "seed": 3, "workers": 1, "quiet": True, "block_fn": scenario_toy_block}
    a = run_batch(ROOT / "scenarios/baseline.yaml", out=tmp_path / "a", **kw)
    b = run_batch(ROOT / "scenarios/europe_fractures.yaml", out=tmp_path / "b", **kw)
    da = pq.read_table(a / "runs.parquet").to_pandas()
    db = pq.read_table(b / "runs.parquet").to_pandas()
    np.testing.assert_array_equal(da["u"], db["u"])
    np.testing.assert_array_equal(da["param.war.drift_per_year"], db["param.war.drift_per_year"])
    col = "param.actors.EU.force_capacity_max"
    assert not np.array_equal(da[col], db[col])
    c = run_batch(ROOT / "scenarios/baseline.yaml", out=tmp_path / "c", **{**kw, "seed": 4})
    dc = pq.read_table(c / "runs.parquet").to_pandas()
    assert not np.array_equal(da["u"], dc["u"])


def test_simulate_draws_matches_the_batch(reference):
    plan = make_plan(5, runs=2000)
    df = simulate_draws(toy_scenario(), toy_draws(plan.n_draws), plan.paths_per_draw, 5, block_size=125,
                        block_fn=toy_block)
    ref = pq.read_table(reference / "runs.parquet").to_pandas()
    pd.testing.assert_frame_equal(df, ref)


@pytest.mark.parametrize("executor", ["processes", "dask"])
def test_sigint_keeps_finished_blocks_and_resumes(tmp_path, request, executor):
    """Ctrl-C on 2 workers or a Dask cluster: exit 130, the message, blocks kept; --resume: same bytes."""
    out = tmp_path / "int"
    if executor == "processes":
        where = "workers=2"
    else:
        where = f"scheduler={request.getfixturevalue('dask_cluster')!r}"
    script = textwrap.dedent(f"""
        import signal, sys
        signal.signal(signal.SIGINT, signal.default_int_handler)  # even if this test run ignores SIGINT
        sys.path[:0] = [{str(ROOT)!r}, {str(ROOT / 'tests')!r}]
        from test_batch_mechanics import run_toy, slow_block
        from sim.errors import UserError
        try:
            run_toy({str(out)!r}, runs=4000, paths_per_draw=20, block_size=100, {where},
                    block_fn=slow_block)
        except UserError as e:
            print(e.message, file=sys.stderr)
            sys.exit(e.exit_code)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 60
    while len(done_blocks(out)) < 3 and time.time() < deadline and proc.poll() is None:
        time.sleep(0.1)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    n_done = len(done_blocks(out))
    assert 3 <= n_done < 40
    assert (f"interrupted: {n_done} of 40 blocks done; resume with: negsim run toy.yaml --runs 4000 "
            f"--seed 5 --paths-per-draw 20 --block-size 100 --resume --out {out}") in err
    assert json.loads((out / "manifest.json").read_text())["status"] == "interrupted"
    assert not (out / "runs.parquet").exists()
    run_toy(out, runs=4000, paths_per_draw=20, block_size=100, workers=1, resume=True)
    clean = run_toy(tmp_path / "clean", runs=4000, paths_per_draw=20, block_size=100, workers=1)
    assert _bytes(out) == _bytes(clean)


def test_dask_cluster_without_negsim_is_refused_with_a_clear_message():
    """Workers that cannot import negsim: one UserError naming them, not a failed block each."""
    from sim.batch.executors import DaskExecutor

    class FakeClient:
        closed = False

        def run_on_scheduler(self, fn):
            return fn()  # this process can import negsim

        def run(self, fn):
            return {"tcp://10.0.0.2:4000": False, "tcp://10.0.0.1:4000": fn()}

        def close(self):
            self.closed = True

    ex = DaskExecutor.__new__(DaskExecutor)
    ex.client, ex.address, ex.futures = FakeClient(), "tcp://10.0.0.9:8786", []
    with pytest.raises(UserError) as err:
        ex._check_cluster_imports_negsim()
    assert err.value.message == (
        "the Dask cluster at tcp://10.0.0.9:8786 cannot import negsim on tcp://10.0.0.2:4000: install negsim "
        "in the environment the scheduler and workers run in (for example `pip install -e /path/to/negsim`), "
        "or start them from the project directory"
    )
    assert ex.client.closed


def test_workers_started_early_are_stopped_when_the_scenario_is_bad(tmp_path, capsys):
    """`negsim run` starts its workers before it reads the scenario; an invalid one must not leave them."""
    import multiprocessing

    from sim.cli import main

    before = set(multiprocessing.active_children())  # other tests in this process may own some
    missing = tmp_path / "missing.yaml"
    code = main(["run", str(missing), "--runs", "10", "--workers", "2", "--out", str(tmp_path / "out")])
    assert code == 2
    assert "missing.yaml" in capsys.readouterr().err
    assert set(multiprocessing.active_children()) - before == set()


def test_start_local_workers_only_for_local_processes():
    from sim.batch.executors import ProcessExecutor, start_local_workers

    assert start_local_workers(1, None) is None
    assert start_local_workers(4, "tcp://127.0.0.1:1") is None  # Dask: nothing to start here
    ex = start_local_workers(2, None)
    try:
        assert isinstance(ex, ProcessExecutor) and ex.workers == 2
    finally:
        ex.close(cancel=True)
    ex.close(cancel=True)  # idempotent: the starter closes again after the runner did


def test_a_worker_freezes_its_imports_once_before_its_first_block():
    """The import-time objects leave the collector's reach once; later objects are collected as before."""
    code = textwrap.dedent("""
        import gc
        from sim.batch.block import _freeze_long_lived_objects
        before = gc.get_freeze_count()
        _freeze_long_lived_objects()
        first = gc.get_freeze_count()
        junk = [[] for _ in range(1000)]
        _freeze_long_lived_objects()
        print(first > before, gc.get_freeze_count() == first)
    """)
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["True", "True"]


@pytest.mark.skipif(sys.platform == "win32", reason="no fork server on Windows: workers are spawned")
def test_local_workers_start_forked_from_a_server_that_preloaded_the_model():
    """A worker's first task finds the model imported, Numba started and BLAS single-threaded.

    In a fresh process (the fork server is one per process): the workers are the server's children, not
    this process's, and what the server preloaded (sim.batch.preload) they inherit.
    """
    code = textwrap.dedent("""
        import os
        from sim.batch.executors import ProcessExecutor
        ex = ProcessExecutor(2)
        probe = ("(__import__('os').getppid(), 'sim.model.model' in __import__('sys').modules, "
                 "'numba' in __import__('sys').modules, "
                 "__import__('os').environ.get('OPENBLAS_NUM_THREADS'))")
        ppid, model, numba, blas = ex.pool.submit(eval, probe).result()
        ex.close()
        print(ppid != os.getpid(), model, numba, blas)
    """)
    env = {k: v for k, v in __import__("os").environ.items() if k != "OPENBLAS_NUM_THREADS"}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True,
                         env=env, timeout=120)
    assert out.stdout.split() == ["True", "True", "True", "1"]
