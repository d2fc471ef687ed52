"""Run a scenario as a batch: plan, sample the parameters once, run the blocks, write the run directory.

:func:`run_batch` is what ``negsim run`` calls; :func:`execute_run` does the work for an already loaded
scenario and parameter draws; :func:`simulate_draws` runs given draws in memory for the analysis layer
(sensitivity), with the same streams as a batch of the same shape.
"""

from __future__ import annotations

import shlex
import sys
import traceback
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from sim.batch import storage
from sim.batch.block import BlockFunction, BlockTask, block_table, model_block
from sim.batch.executors import Executor, make_executor
from sim.batch.manifest import build_manifest, check_resume, utc_now
from sim.batch.plan import BatchPlan, make_plan, plan_from_options
from sim.batch.seeds import parameter_seed_sequence
from sim.errors import UserError


class BatchInterrupted(UserError):
    """Ctrl-C: finished blocks are kept; the message says how to resume (exit code 130)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, exit_code=130)


class BlockFailed(UserError):
    """One or more blocks raised; the others were kept; the message names them (exit code 1)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, exit_code=1)


def default_run_dir(scenario_id: str, root: Path | str = "results") -> Path:
    """``results/<scenario id>-<YYYYmmdd-HHMMSS>/`` (local time, as users read it)."""
    return Path(root) / f"{scenario_id}-{datetime.now().strftime('%Y%m%d-%H%M%S')}"


def make_tasks(plan: BatchPlan, scenario: Any, draws: pd.DataFrame, blocks: list[int]) -> Iterator[BlockTask]:
    """One :class:`BlockTask` per block index, each carrying only the draws it uses."""
    for b in blocks:
        start, stop = plan.block_range(b)
        first, last = start // plan.paths_per_draw, (stop - 1) // plan.paths_per_draw
        yield BlockTask(index=b, seed=plan.seed, start=start, stop=stop, paths_per_draw=plan.paths_per_draw,
                        scenario=scenario, draws=draws.iloc[first:last + 1].reset_index(drop=True))


def _scenario_meta(scenario: Any) -> tuple[list[int], float, list[str]]:
    data = scenario.data
    sc = data.get("scenario", {})
    horizon = sc.get("horizon_weeks", 104)
    horizons = sc.get("reporting_horizons_weeks") or [horizon]
    return [int(h) for h in horizons], float(horizon), list(data.get("issues", {}))


def _outcome_classes() -> tuple[str, ...]:
    from sim.model import OUTCOMES

    return tuple(OUTCOMES)


def summary_accumulator(scenario: Any, plan: BatchPlan, classes: tuple[str, ...] | None,
                         model_blocks: bool = True) -> Any:
    """Return the streaming statistics of summary.json for this run (a ``SummaryAccumulator``).

    The partial agreements are summarised from the model's blocks (``model_blocks``); a custom block
    function records only what it records.
    """
    from sim.batch.summary import SummaryAccumulator  # SciPy: imported by the sampling already, or now

    horizons, horizon, issues = _scenario_meta(scenario)
    return SummaryAccumulator(classes or _outcome_classes(), horizons, horizon, issues, plan.n_draws,
                              partials=_partial_types(scenario) if model_blocks else ())


def _partial_types(scenario: Any) -> list[tuple[str, str]]:
    """Return the partial agreements the model records, as (id, label): none unless their module is on."""
    data = scenario.data
    if not (data.get("modules") or {}).get("partial_agreements"):
        return []
    return [(pid, str(pa.get("label", pid))) for pid, pa in (data.get("partial_agreements") or {}).items()]


def resolved_scenario(scenario: Any) -> Any:
    """Return what the manifest records of a scenario: its resolved data and provenance (``resolved``)."""
    try:
        from sim.scenario import resolved_for_manifest
    except ImportError:
        return {"data": getattr(scenario, "data", None), "provenance": getattr(scenario, "provenance", None)}
    return resolved_for_manifest(scenario)


def _warm_up(scenario: Any, draws: pd.DataFrame, quiet: bool) -> None:
    """Compile the model's Numba kernels before any block goes to a worker, unless all are cached already."""
    from sim.model.warmup import N_REPLICATES, compile_kernels, kernels_cached
    from sim.scenario import materialise

    if kernels_cached():
        return
    seconds = compile_kernels(materialise(scenario, draws.iloc[:1], np.zeros(N_REPLICATES, dtype=int)))
    if seconds > 5 and not quiet:
        print(f"negsim: compiled the numerical kernels in {seconds:.0f} s (cached for later runs)",
              file=sys.stderr)


def resume_command(scenario: Any, plan: BatchPlan, run_dir: Path) -> str:
    """Return the command that completes an interrupted run."""
    return shlex.join(["negsim", "run", str(getattr(scenario, "path", "SCENARIO")), "--runs", str(plan.runs),
                       "--seed", str(plan.seed), "--paths-per-draw", str(plan.paths_per_draw),
                       "--block-size", str(plan.block_size), "--resume", "--out", str(run_dir)])


def execute_run(scenario: Any, plan: BatchPlan, draws: pd.DataFrame, run_dir: Path, *,
                workers: int | None = None, scheduler: str | None = None, resume: bool = False,
                force: bool = False, quiet: bool = False, block_fn: BlockFunction | None = None,
                classes: tuple[str, ...] | None = None, executor: Executor | None = None) -> Path:
    """Run ``plan`` for a loaded scenario and its parameter draws into ``run_dir``.

    Parameters
    ----------
    scenario:
        A loaded scenario (``id``, ``path``, ``files``, ``data``).
    plan:
        Shape of the batch (:func:`sim.batch.plan.make_plan`).
    draws:
        Parameter draws, ``plan.n_draws`` rows (``sim.scenario.sample_parameters``).
    run_dir:
        Output directory (see :mod:`sim.batch.storage`).
    workers, scheduler:
        Executor choice (:func:`sim.batch.executors.make_executor`).
    resume, force:
        Complete an interrupted run in ``run_dir`` / overwrite a non-empty ``run_dir``. A block file
        that cannot be used (:func:`sim.batch.storage.check_parts`) is reported in one line on stderr
        and its block computed again.
    quiet:
        No progress bar.
    block_fn:
        Function that runs one block (default: the real model, :func:`sim.batch.block.model_block`).
    classes:
        Outcome classes (default ``sim.model.OUTCOMES``).
    executor:
        Workers already started (:func:`sim.batch.executors.start_local_workers`) to use instead of
        ``workers`` and ``scheduler``; closed here when the run ends, as any executor made here.

    Raises
    ------
    BatchInterrupted
        On Ctrl-C, after keeping the finished blocks and shutting the workers down (exit code 130).
    BlockFailed
        If any block raised; every other block is kept (exit code 1).
    """
    from tqdm import tqdm

    run_dir = Path(run_dir)
    if len(draws) != plan.n_draws:
        raise ValueError(f"{len(draws)} parameter draws for a plan of {plan.n_draws}")
    storage.prepare_run_dir(run_dir, force=force, resume=resume)
    started = executor
    executor_name = started.name if started else ("dask" if scheduler else ("in-process" if workers == 1
                                                                               else "processes"))
    manifest = build_manifest(scenario, plan, draws, executor_name, workers, resolved_scenario(scenario))
    manifest["scheduler"] = scheduler
    if resume:
        old = storage.read_json(run_dir / storage.MANIFEST)
        check_resume(old, manifest, run_dir)
        manifest["started"] = old.get("started")
        manifest["resumed"] = [*old.get("resumed", []), utc_now()]
    storage.write_json(run_dir / storage.MANIFEST, manifest)

    done = _kept_blocks(run_dir, plan)
    todo = [b for b in range(plan.n_blocks) if b not in done]
    failures: list[tuple[BlockTask, BaseException]] = []
    n_done_reps = sum(stop - start for start, stop in map(plan.block_range, done))
    bar = tqdm(total=plan.runs, initial=n_done_reps, unit="rep", unit_scale=True, disable=quiet,
               file=sys.stderr, desc=f"{scenario.id}: blocks {len(done)}/{plan.n_blocks}", dynamic_ncols=True)
    executor = finished = started
    # runs.parquet and the summary grow block by block while the workers run (see storage.RunsWriter)
    acc = summary_accumulator(scenario, plan, classes, model_blocks=block_fn is None)
    runs_writer = storage.RunsWriter(run_dir, plan.n_blocks,
                                     on_table=lambda table: acc.add(table.select(acc.columns()).to_pandas()))
    try:
        if todo:
            # workers start (and import the model) while this process compiles or loads the kernels once;
            # they get blocks only afterwards, so they load the cache instead of each compiling
            executor = started or make_executor(workers, scheduler, len(todo), import_model=block_fn is None)
            if block_fn is None:
                _warm_up(scenario, draws, quiet)
            manifest["executor"] = executor.name
            for task, result in executor.run(make_tasks(plan, scenario, draws, todo), block_fn):
                if isinstance(result, UserError):
                    # the scenario cannot run (every block would say the same): stop, exit 2
                    executor.close(cancel=True)
                    executor = None
                    _finish_manifest(run_dir, manifest, "failed", len(done))
                    raise UserError(f"{result.message} (raised in {task.describe()})") from None
                if isinstance(result, BaseException):
                    failures.append((task, result))
                else:
                    storage.atomic_write_bytes(storage.part_path(run_dir, task.index), result)
                    done.add(task.index)
                    runs_writer.advance(done)
                bar.update(task.n_replicates)
                bar.set_description(f"{scenario.id}: blocks {len(done)}/{plan.n_blocks}", refresh=False)
            finished, executor = executor, None
            finished.close(wait=False)  # the workers exit while the last blocks are appended below
    except KeyboardInterrupt:
        if executor is not None:
            executor.close(cancel=True)
            executor = None
        bar.close()
        runs_writer.abort()
        _finish_manifest(run_dir, manifest, "interrupted", len(done))
        raise BatchInterrupted(f"interrupted: {len(done)} of {plan.n_blocks} blocks done; resume with: "
                               f"{resume_command(scenario, plan, run_dir)}") from None
    except BaseException:
        runs_writer.abort()  # a stopped or failed run leaves no partial runs.parquet (its blocks remain)
        raise
    finally:
        if executor is not None:
            executor.close(cancel=True)
        bar.close()

    try:
        if failures:
            runs_writer.abort()
            _report_failures(run_dir, manifest, failures, len(done), plan, scenario)
        runs_writer.finish()
        summary = acc.finish(scenario=scenario.id, runs=plan.runs, seed=plan.seed, draws=plan.n_draws,
                             paths_per_draw=plan.paths_per_draw)
        complete_summary(summary, scenario, plan, run_dir / storage.RUNS)
        storage.write_json(run_dir / storage.SUMMARY, summary)
        _finish_manifest(run_dir, manifest, "complete", len(done))
    finally:
        if finished is not None:  # wait for the workers that were left to exit during the assembly
            finished.close()
    return run_dir


def calibration_summary(scenario: Any) -> dict[str, Any]:
    """``summary.json``'s ``calibration``: whether the scenario's parameters are history-matched, and on what.

    ``{"calibrated": false, "facts": []}``, or ``{"calibrated": true, "facts": [ids], "facts_files": [...],
    "waves": K, "draws": FILE}`` from the scenario's ``calibration:`` section (``negsim calibrate``).
    """
    cal = (getattr(scenario, "data", None) or {}).get("calibration")
    if not cal:
        return {"calibrated": False, "facts": []}
    return {"calibrated": True, "facts": [str(f) for f in cal.get("facts", [])],
            "facts_files": [str(f) for f in cal.get("facts_files", [])], "waves": cal.get("waves"),
            "draws": str(cal["draws"])}


def _kept_blocks(run_dir: Path, plan: BatchPlan) -> set[int]:
    """Return the blocks of ``plan`` whose files can be used; report the others, which are computed again."""
    found = [b for b in storage.done_blocks(run_dir) if b < plan.n_blocks]
    problems = storage.check_parts(run_dir, {b: plan.block_range(b) for b in found})
    for b, why in problems.items():
        print(f"negsim: block {b}: part file {why}; recomputing it", file=sys.stderr)
    return set(found) - problems.keys()


def _finish_manifest(run_dir: Path, manifest: dict, status: str, n_done: int) -> None:
    manifest["status"] = status
    manifest["blocks_done"] = n_done
    manifest["ended"] = utc_now()
    storage.write_json(run_dir / storage.MANIFEST, manifest)


def _report_failures(run_dir: Path, manifest: dict, failures: list, n_done: int, plan: BatchPlan,
                     scenario: Any) -> None:
    failures.sort(key=lambda f: f[0].index)
    with open(run_dir / storage.ERRORS, "a") as fh:
        for task, err in failures:
            fh.write(f"== {task.describe()}\n")
            fh.write("".join(traceback.format_exception(err)))
    _finish_manifest(run_dir, manifest, "failed", n_done)
    lines = [f"{task.describe()} failed: {type(err).__name__}: {err}" for task, err in failures]
    raise BlockFailed("\n".join([
        *lines,
        f"{len(failures)} of {plan.n_blocks} blocks failed, {n_done} kept (tracebacks in "
        f"{run_dir / storage.ERRORS}); after fixing, complete the run with: "
        f"{resume_command(scenario, plan, run_dir)}",
    ]))


def sample_draws(scenario: Any, plan: BatchPlan) -> pd.DataFrame:
    """Return the run's parameter draws: ``plan.n_draws`` rows from the plan's parameter stream."""
    from sim.scenario import sample_parameters

    # a SeedSequence (not a Generator): the scenario layer keys each parameter's stream by its path, so
    # variants of a scenario share the draws of every parameter they do not change
    return sample_parameters(scenario, plan.n_draws, parameter_seed_sequence(plan.seed))


def run_batch(scenario_path: str | Path, out: str | Path | None = None, runs: int | None = 2000,
              seed: int = 1, workers: int | None = None, scheduler: str | None = None,
              block_size: int | None = None, paths_per_draw: int | None = None, resume: bool = False,
              force: bool = False, quiet: bool = False, draws: pd.DataFrame | int | None = None,
              block_fn: BlockFunction | None = None, executor: Executor | None = None) -> Path:
    """Run a scenario file as a Monte Carlo batch; return the run directory (DESIGN §5-§6).

    ``runs`` replicates = parameter draws x ``paths_per_draw`` (two-level Monte Carlo, memo §1.7).
    ``draws`` may be the number of draws, or a DataFrame of draws to use instead of sampling them (then
    ``runs`` is ignored unless ``paths_per_draw`` is None, in which case it must be a multiple of the draws).
    Parameter draws come from ``SeedSequence(seed, spawn_key=(0,))``; block ``b`` from
    ``SeedSequence(seed, spawn_key=(1, b))``. See :func:`execute_run` for the rest.
    """
    from sim.scenario import load_scenario

    scenario = load_scenario(scenario_path)
    given = draws if isinstance(draws, pd.DataFrame) else None
    n_draws = len(given) if given is not None else draws
    plan = plan_from_options(seed, runs, n_draws, paths_per_draw, block_size)
    table = given.reset_index(drop=True) if given is not None else sample_draws(scenario, plan)
    run_dir = Path(out) if out is not None else default_run_dir(scenario.id)
    return execute_run(scenario, plan, table, run_dir, workers=workers, scheduler=scheduler, resume=resume,
                       force=force, quiet=quiet, block_fn=block_fn, executor=executor)


def simulate_draws(sc: Any, draws: pd.DataFrame, paths_per_draw: int, seed: int, *,
                   block_size: int | None = None, block_fn: BlockFunction | None = None) -> pd.DataFrame:
    """Simulate given parameter draws in this process; return one row per replicate (runs.parquet columns).

    Uses the same blocks and streams as a batch of the same shape and seed, so its rows equal that batch's
    runs.parquet (common random numbers across the analysis layer's designs).
    """
    draws = draws.reset_index(drop=True)
    plan = make_plan(seed, n_draws=len(draws), paths_per_draw=paths_per_draw, block_size=block_size)
    fn = model_block if block_fn is None else block_fn
    tables = [block_table(t, fn(t)) for t in make_tasks(plan, sc, draws, list(range(plan.n_blocks)))]
    return pa.concat_tables(tables).to_pandas()


def complete_summary(summary: dict[str, Any], scenario: Any, plan: BatchPlan,
                     runs: Path | pd.DataFrame) -> None:
    """Add what a summary says beyond the accumulated outcomes: calibration and reference forecasts.

    ``runs``: the run's records (``runs.parquet`` or the table itself). Every path that makes a summary
    (the batch, the what-if page) calls this, so their summaries agree.
    """
    summary["calibration"] = calibration_summary(scenario)
    summary.update(_references(runs, scenario, plan))


def _references(runs: Path | pd.DataFrame, scenario: Any, plan: BatchPlan) -> dict[str, Any]:
    """Return summary.json's ``references`` (:mod:`sim.batch.answers`); ``{}`` without the files.

    The run's answers to the repository's questions beside the reference forecasts.

    A questions or references file with problems does not fail a finished run: it is reported on stderr
    and the summary has no references.
    """
    from sim.batch.answers import summary_references

    try:
        refs = summary_references(runs, scenario.data, plan.n_draws)
    except UserError as err:
        print(f"negsim: references left out of summary.json:\n{err.message}", file=sys.stderr)
        return {}
    return {"references": refs} if refs else {}
