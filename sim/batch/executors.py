"""Executors: where blocks run. In this process, in local worker processes, or on a Dask cluster.

All three have the same small interface: :meth:`run` yields ``(task, result)`` as blocks finish, in
completion order, where ``result`` is the block's Parquet bytes or the exception it raised (one failing
block does not stop the others); :meth:`close` shuts the workers down, cancelling pending blocks when
asked (Ctrl-C). Completion order never matters downstream: each block's bytes depend only on its task.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.context
import os
import signal
import uuid
from collections.abc import Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from typing import TYPE_CHECKING, Protocol

from sim.errors import UserError

if TYPE_CHECKING:  # the block module imports pandas and pyarrow: only the methods that run blocks need it
    from sim.batch.block import BlockFunction, BlockTask

    Outcome = tuple[BlockTask, bytes | BaseException]


class Executor(Protocol):
    """What the batch runner needs from an executor."""

    name: str

    def run(self, tasks: Iterable[BlockTask], block_fn: BlockFunction | None) -> Iterator[Outcome]:
        """Run every task; yield ``(task, bytes | exception)`` as each finishes."""
        ...

    def close(self, cancel: bool = False, wait: bool = True) -> None:
        """Shut down; with ``cancel`` drop pending blocks and stop running ones.

        ``wait=False`` lets workers exit in the background; a later ``close()`` waits for them.
        """
        ...


class InProcessExecutor:
    """Run blocks one after another in this process (``--workers 1``; easiest to debug and profile)."""

    name = "in-process"

    def run(self, tasks: Iterable[BlockTask], block_fn: BlockFunction | None) -> Iterator[Outcome]:
        """Run the tasks in order."""
        from sim.batch.block import execute_block

        for task in tasks:
            try:
                result: bytes | BaseException = execute_block(task, block_fn)
            except Exception as err:  # noqa: BLE001 - reported per block, the run goes on
                result = err
            yield task, result

    def close(self, cancel: bool = False, wait: bool = True) -> None:
        """Nothing to shut down."""


#: Environment of a worker's BLAS libraries, set before it imports NumPy: one thread each.
SINGLE_THREADED_BLAS = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def _init_worker() -> None:
    """Worker initialiser: Ctrl-C is the parent's business; BLAS runs in the worker's own thread.

    Ctrl-C: the parent cancels and shuts the pool down. BLAS: the model's few matrix products (R x n
    by n x m) are large enough for OpenBLAS to hand half to a helper thread, which on a machine with one
    worker per core waits for a core another worker holds; each product's entries are computed the same way
    on one thread (the records are the same bit for bit). Set before the worker imports NumPy (in the fork
    server, :mod:`sim.batch.preload`; a spawned worker here, before its imports); a variable the user set
    is kept.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for name, value in SINGLE_THREADED_BLAS.items():
        os.environ.setdefault(name, value)


def _import_model() -> None:
    """First task of each spawned worker: import the model (Mesa, SciPy, Numba: ~2 s) and start Numba.

    Both happen while the parent samples the parameters and warms up (:func:`sim.model.warmup.start_runtime`).
    """
    import sim.model.model  # noqa: F401
    from sim.model.warmup import start_runtime

    start_runtime()


def start_fork_server() -> bool:
    """Start the fork server that local workers are forked from; return False where there is none.

    A fork server is a fresh, single-threaded interpreter, so forking it is safe where forking this
    process (which may hold threads) is not. It preloads :mod:`sim.batch.preload` (single-threaded BLAS,
    the model, Numba's runtime) while this process goes on: ``negsim run`` starts it once its options,
    run directory and scenario are checked, so it imports while the command samples the parameters, and each
    worker forked from it starts ready, the imports paid once instead of once per worker. Returns at once;
    the first worker waits for the preload. The server lives until this process exits and serves every
    later pool.
    """
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return False
    from multiprocessing import forkserver

    multiprocessing.get_context("forkserver").set_forkserver_preload(["sim.batch.preload"])
    forkserver.ensure_running()
    return True


def worker_context(import_model: bool) -> multiprocessing.context.BaseContext:
    """Return how local workers start: forked from the fork server (:func:`start_fork_server`), else spawned.

    Without ``import_model`` (blocks that do not run the model) a server already running serves as it is
    and none is started for them. Without a fork server (Windows) workers are spawned.
    """
    if import_model:
        start_fork_server()
    has_server = "forkserver" in multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("forkserver" if has_server else "spawn")


class ProcessExecutor:
    """Run blocks on ``workers`` local processes (:class:`concurrent.futures.ProcessPoolExecutor`).

    Workers are forked from a ``forkserver`` (:func:`worker_context`) and ignore SIGINT, so Ctrl-C in a
    terminal reaches only the parent, which then cancels the pending blocks and terminates the workers.
    """

    name = "processes"

    def __init__(self, workers: int, import_model: bool = True) -> None:
        self.workers = int(workers)
        self.closed = False
        context = worker_context(import_model)
        self.pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=context,
                                        initializer=_init_worker)
        if import_model and context.get_start_method() == "spawn":  # start every worker now (the pool
            for _ in range(self.workers):  # would start them one per block)
                self.pool.submit(_import_model)

    def run(self, tasks: Iterable[BlockTask], block_fn: BlockFunction | None) -> Iterator[Outcome]:
        """Keep ``2 * workers`` blocks in flight (memory flat in the run size), yield results as they end."""
        from sim.batch.block import execute_block

        pending = iter(tasks)
        futures: dict = {}

        def top_up() -> None:
            while len(futures) < 2 * self.workers:
                t = next(pending, None)
                if t is None:
                    return
                futures[self.pool.submit(execute_block, t, block_fn)] = t

        top_up()
        while futures:
            done, _ = wait(futures, return_when=FIRST_COMPLETED)
            for fut in sorted(done, key=lambda f: futures[f].index):
                task = futures.pop(fut)
                try:
                    result: bytes | BaseException = fut.result()
                except Exception as err:  # noqa: BLE001
                    result = err
                yield task, result
            top_up()

    def close(self, cancel: bool = False, wait: bool = True) -> None:
        """Shut the pool down; with ``cancel`` terminate the workers instead of waiting for them.

        With ``wait=False`` the workers exit in the background (half a second, which the runner spends
        assembling the results); a later ``close()`` waits for them. Idempotent: a pool started early
        (:func:`start_local_workers`) is closed again by its starter.
        """
        if self.closed:
            return
        if not wait and not cancel:
            self.pool.shutdown(wait=False)
            return
        self.closed = True
        if cancel:
            procs = list((getattr(self.pool, "_processes", None) or {}).values())
            results = getattr(self.pool, "_result_queue", None)
            self.pool.shutdown(wait=False, cancel_futures=True)
            for p in procs:
                if p.is_alive():
                    p.terminate()
            for p in procs:
                p.join(timeout=5)
            # A worker killed while sending a block's bytes leaves half a message in the result pipe, and
            # the pool's manager thread would wait for the rest forever: negsim would never exit (seen
            # under load after Ctrl-C and SIGTERM). With the workers gone, this process holds the pipe's
            # last write end; closing it gives the thread an end of file, so it ends as on a broken pool.
            writer = getattr(results, "_writer", None)
            if writer is not None and not any(p.is_alive() for p in procs):
                writer.close()
        else:
            self.pool.shutdown(wait=True)


class DaskExecutor:
    """Send blocks to a Dask distributed scheduler (``--scheduler tcp://host:8786``).

    Workers need negsim importable. Results (Parquet bytes) come back to this process, which writes the
    run directory, so workers need no shared filesystem. About two blocks per worker thread are in flight
    at a time, so the client's memory does not grow with the run.
    """

    name = "dask"

    def __init__(self, address: str, timeout: str = "20s") -> None:
        from dask.distributed import Client

        try:
            self.client = Client(address, timeout=timeout, set_as_default=False)
        except (OSError, TimeoutError) as err:
            raise UserError(f"cannot connect to the Dask scheduler at {address}: {err}") from None
        self.address = address
        self.futures: list = []
        self._check_cluster_imports_negsim()

    def _check_cluster_imports_negsim(self) -> None:
        """Fail early, with a clear message, where the scheduler or a worker cannot import negsim.

        Otherwise every block fails with "Error during deserialization of the task graph" and a
        ``ModuleNotFoundError: No module named 'sim'`` deep in its traceback.
        """
        # a lambda travels by value (cloudpickle); a module-level function would itself need negsim there
        probe = lambda: __import__("importlib.util", fromlist=["find_spec"]).find_spec("sim") is not None  # noqa: E731
        missing: list[str] = []
        try:
            if not self.client.run_on_scheduler(probe):
                missing.append("the scheduler")
            missing += [w for w, ok in sorted(self.client.run(probe).items()) if not ok]
        except Exception:  # noqa: BLE001  (an old or restricted cluster: let the blocks report instead)
            return
        if missing:
            self.client.close()
            raise UserError(
                f"the Dask cluster at {self.address} cannot import negsim on {', '.join(missing)}: install "
                "negsim in the environment the scheduler and workers run in (for example "
                "`pip install -e /path/to/negsim`), or start them from the project directory"
            )

    def run(self, tasks: Iterable[BlockTask], block_fn: BlockFunction | None) -> Iterator[Outcome]:
        """Submit every task (one Dask task per block), yield results as they complete."""
        from dask.distributed import as_completed as dask_as_completed

        from sim.batch.block import execute_block

        token = uuid.uuid4().hex[:8]
        by_key: dict[str, BlockTask] = {}
        pending = iter(tasks)
        window = 2 * max(1, sum(self.client.nthreads().values())) + 2

        def submit_next():
            t = next(pending, None)
            if t is None:
                return None
            key = f"negsim-block-{t.index:06d}-{token}"
            by_key[key] = t
            fut = self.client.submit(execute_block, t, block_fn, key=key, pure=False)
            self.futures.append(fut)
            return fut

        first = [f for f in (submit_next() for _ in range(window)) if f is not None]
        stream = dask_as_completed(first, loop=self.client.loop)
        for fut in stream:
            try:
                result: bytes | BaseException = fut.result()
            except Exception as err:  # noqa: BLE001
                result = err
            yield by_key.pop(fut.key), result
            self.futures.remove(fut)
            fut.release()
            nxt = submit_next()
            if nxt is not None:
                stream.add(nxt)

    def close(self, cancel: bool = False, wait: bool = True) -> None:
        """Cancel pending blocks if asked, then disconnect (the cluster itself keeps running).

        Idempotent: after Ctrl-C the runner closes the executor and its ``finally`` may close it again;
        a second ``cancel`` on a closed client would raise "IOLoop is closed".
        """
        if self.client.status in ("closed", "closing"):
            return
        if cancel and self.futures:
            try:
                self.client.cancel(self.futures, force=True)
            except (RuntimeError, OSError, TimeoutError):  # the connection is already gone: nothing to cancel
                pass
        self.client.close()


def default_workers() -> int:
    """Return the number of cores this process may use (the ``--workers`` default)."""
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def start_local_workers(workers: int | None, scheduler: str | None) -> ProcessExecutor | None:
    """Start the local worker processes now, for a ``negsim run`` that will need them; else return None.

    Called by :func:`sim.api.run` once the options and the run directory are known to be usable: the
    workers spend about two seconds importing the model, and they can do so while this process imports the
    batch layer, reads the scenario and samples the parameters (instead of after). The caller passes the
    executor to :func:`sim.batch.runner.execute_run` and closes it in all cases (an invalid scenario
    terminates the workers at once).
    """
    if scheduler or (workers if workers is not None else default_workers()) < 2:
        return None
    return ProcessExecutor(workers or default_workers())


def make_executor(workers: int | None, scheduler: str | None, n_tasks: int,
                  import_model: bool = True) -> Executor:
    """Choose the executor: Dask if ``scheduler``, in-process if one worker, else local processes.

    ``import_model``: local workers import the model as soon as they start (runs of the real model).
    """
    if scheduler:
        return DaskExecutor(scheduler)
    if workers is None:
        workers = default_workers()
    if workers < 1:
        raise UserError(f"--workers must be a positive integer (got {workers})")
    workers = min(workers, max(1, n_tasks))
    return InProcessExecutor() if workers == 1 else ProcessExecutor(workers, import_model)
