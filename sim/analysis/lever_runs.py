"""Run the base scenario and every lever of a levers file as batches with common random numbers.

Each run is an ordinary run directory (``OUT/base``, ``OUT/<lever>``) made by the batch layer
(:func:`sim.batch.execute_run`) with the same seed and plan, so replicate i pairs across all of them and
``--resume`` completes each one as ``negsim run --resume`` would. The worker processes are started once
and shared by every run (:class:`SharedExecutor`): starting a pool per lever would spend the workers' model
import (about two seconds) twenty times over.
"""

from __future__ import annotations

import shlex
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from sim.analysis.leverfile import BASE, LeverSet
from sim.analysis.levers import lever_effects
from sim.analysis.rundir import load_run
from sim.batch import storage
from sim.batch.block import BlockFunction
from sim.batch.executors import Executor, make_executor
from sim.batch.manifest import build_manifest, check_resume
from sim.batch.plan import BatchPlan, plan_from_options
from sim.batch.runner import BatchInterrupted, execute_run
from sim.batch.seeds import parameter_seed_sequence
from sim.errors import UserError


class SharedExecutor:
    """An executor lent to several runs: a run's ordinary close leaves it open; a cancel stops it.

    :func:`sim.batch.execute_run` closes its executor when the run ends; here the same workers serve the
    next lever, and :meth:`close_for_good` ends them once all runs are done. A cancel (Ctrl-C, a failed
    scenario) is passed on at once, so an interrupted ``negsim levers`` leaves no worker behind.
    """

    def __init__(self, inner: Executor) -> None:
        self.inner = inner
        self.name = inner.name

    def run(self, tasks: Iterable[Any], block_fn: BlockFunction | None) -> Iterator[Any]:
        """Run the tasks on the shared workers."""
        return self.inner.run(tasks, block_fn)

    def close(self, cancel: bool = False, wait: bool = True) -> None:
        """Keep the workers for the next run unless cancelling."""
        if cancel:
            self.inner.close(cancel=True)

    def close_for_good(self, cancel: bool = False) -> None:
        """Shut the workers down."""
        self.inner.close(cancel=cancel)


@dataclass
class LeverRuns:
    """The run directories of a levers run: ``base`` and one per lever, in file order."""

    out: Path
    base: Path
    levers: dict[str, Path] = field(default_factory=dict)
    plan: BatchPlan | None = None


def sample(scenario: Any, plan: BatchPlan) -> pd.DataFrame:
    """Parameter draws of a scenario for ``plan`` (the same streams as ``negsim run``: keyed by path).

    A lever's draws equal the base's in every parameter the lever does not change.
    """
    from sim.scenario import sample_parameters

    return sample_parameters(scenario, plan.n_draws, parameter_seed_sequence(plan.seed))


def run_levers(levers: LeverSet, out: str | Path, *, runs: int = 2000, seed: int = 1,
               workers: int | None = None, scheduler: str | None = None, resume: bool = False,
               quiet: bool = False, block_fn: BlockFunction | None = None,
               executor: Executor | None = None, block_size: int | None = None) -> LeverRuns:
    """Run the base scenario and every lever into ``out``; return the run directories.

    With ``resume`` a complete run directory is kept (after checking it is the run asked for), an
    interrupted one is completed and a missing one is made. Without it, ``out`` must not hold any of them.

    Raises
    ------
    BatchInterrupted
        On Ctrl-C, with the command that resumes every run (exit code 130).
    """
    out = Path(out)
    plan = plan_from_options(seed, runs, None, None, block_size)
    if not resume:
        taken = [d for d in [BASE, *(lv.name for lv in levers.levers)] if (out / d).is_dir()
                 and any((out / d).iterdir())]
        if taken:
            raise UserError(f"{out}: already holds the runs {', '.join(taken)}; use --resume to complete "
                            "them or choose another --out")
    jobs: list[tuple[str, Any]] = [(BASE, levers.base), *((lv.name, lv.scenario) for lv in levers.levers)]
    result = LeverRuns(out, out / BASE, plan=plan)
    shared = SharedExecutor(executor or make_executor(workers, scheduler, 2 * len(jobs),
                                                      import_model=block_fn is None))
    try:
        for name, scenario in jobs:
            run_dir = out / name
            draws = sample(scenario, plan)
            if resume and _complete(run_dir, scenario, plan, draws, workers):
                if not quiet:
                    print(f"negsim: {run_dir} is complete; kept", file=sys.stderr)
            else:
                again = resume and (run_dir / storage.MANIFEST).is_file()
                execute_run(scenario, plan, draws, run_dir, workers=workers, scheduler=scheduler,
                            resume=again, quiet=quiet, block_fn=block_fn, executor=shared)
            if name == BASE:
                result.base = run_dir
            else:
                result.levers[name] = run_dir
    except BatchInterrupted as err:
        shared.close_for_good(cancel=True)
        again = resume_command(levers, out, plan)
        raise BatchInterrupted(f"{err.message.split('; resume with:')[0]} (lever run {run_dir.name}); "
                               f"resume every run with: {again}") from None
    except BaseException:
        shared.close_for_good(cancel=True)
        raise
    shared.close_for_good()
    return result


def _complete(run_dir: Path, scenario: Any, plan: BatchPlan, draws: pd.DataFrame,
              workers: int | None) -> bool:
    """Whether ``run_dir`` holds this very run, finished (a different run there is refused)."""
    manifest_path = run_dir / storage.MANIFEST
    if not manifest_path.is_file():
        return False
    old = storage.read_json(manifest_path)
    new = build_manifest(scenario, plan, draws, "", workers, None)
    check_resume(old, new, run_dir)
    return old.get("status") == "complete" and (run_dir / storage.RUNS).is_file()


def resume_command(levers: LeverSet, out: Path, plan: BatchPlan) -> str:
    """Return the command that completes an interrupted levers run."""
    return shlex.join(["negsim", "levers", str(levers.base.path), "--levers", str(levers.path), "--runs",
                       str(plan.runs), "--seed", str(plan.seed), "--block-size", str(plan.block_size),
                       "--out", str(out), "--resume"])


def effect_table(levers: LeverSet, runs: LeverRuns) -> pd.DataFrame:
    """``levers.csv``: the paired effects of every lever (:func:`sim.analysis.levers.lever_effects`)."""
    base = load_run(runs.base)
    frames = [lever_effects(lv.name, base, load_run(runs.levers[lv.name]), lv.expected_signs)
              for lv in levers.levers]
    return pd.concat(frames, ignore_index=True)


def write_table(table: pd.DataFrame, path: str | Path) -> Path:
    """Write ``levers.csv`` (four decimals: the same runs give the same bytes)."""
    path = Path(path)
    table.to_csv(path, index=False, float_format="%.4f")
    return path
