"""Quick batches for the what-if page: workers kept alive between runs, progress, cancellation, CRN.

A page that answers a slider in seconds cannot start worker processes for every run (each spends about
two seconds importing the model), so :class:`WhatIf` keeps one pool for the life of the page. Each run is
planned exactly as ``negsim run`` plans it (same blocks, same streams from the same seed), so its rows are
those of ``negsim run`` with the same scenario, size and seed, and two runs of the page with the same seed
and size share their random numbers: the difference from the unchanged scenario is the effect of the
edits, not noise (:mod:`sim.analysis.compare`). The unchanged scenario's run is kept, so moving a slider
runs only the edited scenario.

Results stay in memory (a few MB at 2,000 replicates) and are returned as :class:`sim.api.Run` objects;
nothing is written unless the page asks for a briefing or saves an overlay.
"""

from __future__ import annotations

import io
import os
import shutil
import tempfile
import threading
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, wait
from pathlib import Path
from typing import Any

from sim.api import Run
from sim.errors import UserError


def _stamps(sc: Any) -> tuple:
    """Modification times and sizes of a scenario's files (to notice an edit made since loading it)."""
    out = []
    for p, _ in sc.files:
        try:
            st = os.stat(p)
            out.append((str(p), st.st_mtime_ns, st.st_size))
        except OSError:
            out.append((str(p), None, None))
    return tuple(out)


class Cancelled(UserError):
    """The run was cancelled (the page's Cancel button, or a newer edit superseding it)."""

    def __init__(self) -> None:
        super().__init__("run cancelled", exit_code=130)


class WhatIf:
    """Run scenarios quickly and repeatedly on workers that stay alive.

    Parameters
    ----------
    workers : int, optional
        Local worker processes (default one per core; 1 runs blocks in the calling thread).
    """

    def __init__(self, workers: int | None = None) -> None:
        from sim.batch.executors import ProcessExecutor, default_workers

        self.workers = int(workers or default_workers())
        if self.workers < 1:
            raise UserError(f"--workers must be a positive integer (got {workers})")
        # started now: the workers import the model while the page loads
        self._executor = ProcessExecutor(self.workers) if self.workers > 1 else None
        self._kept: dict[tuple, Run] = {}
        self._scenarios: dict[str, tuple[Any, tuple]] = {}
        self._lock = threading.Lock()
        self.workdir = Path(tempfile.mkdtemp(prefix="negsim-explore-"))

    def close(self) -> None:
        """Stop the workers and remove the working directory."""
        if self._executor is not None:
            self._executor.close(cancel=True)
            self._executor = None
        shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> WhatIf:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def scenario(self, path: str | os.PathLike[str]) -> Any:
        """Load a scenario file, or return it as loaded before if none of its files changed since."""
        from sim.scenario import load_scenario

        key = str(Path(path).resolve())
        kept = self._scenarios.get(key)
        if kept is not None and kept[1] == _stamps(kept[0]):
            return kept[0]
        sc = load_scenario(path)
        self._scenarios[key] = (sc, _stamps(sc))
        return sc

    def simulate(self, scenario: Any, runs: int = 2000, seed: int = 1, *,
                 progress: Callable[[int, int], None] | None = None,
                 cancelled: Callable[[], bool] | None = None, keep: bool = False) -> Run:
        """Run ``scenario`` with ``runs`` replicates from ``seed``; return the result in memory.

        Parameters
        ----------
        scenario : path or sim.scenario.Scenario
            Scenario file (base or variant), or a loaded scenario.
        runs, seed : int
            As ``negsim run --runs --seed`` (same plan, same rows).
        progress : callable, optional
            Called with (blocks done, blocks in all) as blocks finish.
        cancelled : callable, optional
            Polled while blocks run; when it returns True, pending blocks are dropped and
            :class:`Cancelled` is raised (blocks already running finish on their worker, unused).
        keep : bool
            Keep the result for the same scenario files, size and seed, and return it again without
            running (the unchanged scenario, run once per page).
        """
        import pandas as pd
        import pyarrow as pa
        import pyarrow.parquet as pq

        from sim.analysis.rundir import RunData
        from sim.batch.block import execute_block
        from sim.batch.manifest import build_manifest, utc_now
        from sim.batch.plan import plan_from_options
        from sim.batch.runner import (
            complete_summary,
            make_tasks,
            resolved_scenario,
            sample_draws,
            summary_accumulator,
        )
        from sim.scenario import Scenario

        sc = scenario if isinstance(scenario, Scenario) else self.scenario(scenario)
        plan = plan_from_options(seed, runs, None, None, None)
        key = (tuple((str(p), h) for p, h in sc.files), plan.runs, plan.seed)
        if keep and key in self._kept:
            return self._kept[key]
        draws = sample_draws(sc, plan)
        tasks = list(make_tasks(plan, sc, draws, list(range(plan.n_blocks))))
        manifest = build_manifest(sc, plan, draws, "processes" if self._executor else "in-process",
                                  self.workers, resolved_scenario(sc))
        parts: dict[int, bytes] = {}

        def stop_requested() -> bool:
            return bool(cancelled and cancelled())

        if progress:
            progress(0, len(tasks))
        if self._executor is None:
            for t in tasks:
                if stop_requested():
                    raise Cancelled()
                parts[t.index] = execute_block(t)
                if progress:
                    progress(len(parts), len(tasks))
        else:
            with self._lock:  # one batch at a time on the pool; a superseded one is cancelled first
                futures: dict[Future, Any] = {self._executor.pool.submit(execute_block, t): t for t in tasks}
                while futures:
                    done, _ = wait(futures, timeout=0.1, return_when=FIRST_COMPLETED)
                    if stop_requested():
                        for f in futures:
                            f.cancel()
                        raise Cancelled()
                    for f in done:
                        t = futures.pop(f)
                        parts[t.index] = f.result()  # a block's error is the run's error
                    if done and progress:
                        progress(len(parts), len(tasks))
        tables = [pq.read_table(io.BytesIO(parts[i])) for i in range(len(tasks))]
        acc = summary_accumulator(sc, plan, None)
        for t in tables:  # block by block, as the batch does (its quantile sketches depend on the order)
            acc.add(t.select(acc.columns()).to_pandas())
        rows = pa.concat_tables(tables).to_pandas()
        summary = acc.finish(scenario=sc.id, runs=plan.runs, seed=plan.seed, draws=plan.n_draws,
                             paths_per_draw=plan.paths_per_draw)
        complete_summary(summary, sc, plan, pd.DataFrame(rows))
        manifest.update(status="complete", ended=utc_now(), run_id=f"{sc.id}-explore-seed{plan.seed}")
        path = self.workdir / f"{sc.id}-{plan.runs}-seed{plan.seed}"
        result = Run(RunData(path=path, runs=pd.DataFrame(rows), manifest=manifest, summary=summary))
        if keep:
            self._kept[key] = result
        return result
