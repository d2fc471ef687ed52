"""Batch benchmarks (``make bench``): vectorised vs one replicate per block, block size, scaling, profile.

Usage::

    python benchmarks/bench_batch.py                      # everything (several minutes at 1M)
    python benchmarks/bench_batch.py --only vector,blocks --quick
    python benchmarks/bench_batch.py --only scale --sizes 10000,100000,1000000 --workers 2
    python benchmarks/bench_batch.py --only profile

* ``blocks`` / ``vector``: per-replicate cost in one process for block sizes 1 to 8,000; the speedup of
  default blocks (5,000, the vectorised way) over one replicate per block (``--block-size 1``: one model
  per run, the classic way).
* ``scale``: ``negsim run`` in a subprocess at each size: wall time, and peak memory of the whole process
  tree (sampled sum of RSS over the tree with psutil, and ``getrusage(RUSAGE_CHILDREN)`` = largest single
  process). ``--repeat N`` runs each size N times in a row and adds the median, minimum and maximum: this
  VM's speed drifts by 10-15% with the hour, and two runs in a row can differ by several seconds, so one
  run says little about a target near its limit (docs/performance.md).
* ``profile``: cProfile of one block in this process; the top functions by own time.

Results are printed and saved as JSON under ``benchmarks/results/``; docs/performance.md reports them.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import platform
import pstats
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SCENARIO = ROOT / "scenarios" / "baseline.yaml"


def _tasks(n_reps: int, block_size: int, paths: int = 20, seed: int = 1):
    from sim.batch.plan import make_plan
    from sim.batch.runner import make_tasks, sample_draws
    from sim.scenario import load_scenario

    sc = load_scenario(SCENARIO)
    plan = make_plan(seed, runs=n_reps, paths_per_draw=min(paths, n_reps), block_size=block_size)
    draws = sample_draws(sc, plan)
    return list(make_tasks(plan, sc, draws, list(range(plan.n_blocks))))


def per_replicate_cost(n_reps: int, block_size: int) -> dict:
    """Seconds per replicate running ``n_reps`` replicates in blocks of ``block_size`` in this process."""
    from sim.batch.block import execute_block

    tasks = _tasks(n_reps, block_size)
    execute_block(tasks[0])                     # warm-up: imports, caches
    t0 = time.perf_counter()
    for t in tasks:
        execute_block(t)
    dt = time.perf_counter() - t0
    return {"replicates": n_reps, "block_size": block_size, "seconds": dt, "per_replicate_s": dt / n_reps}


def bench_blocks(quick: bool) -> list[dict]:
    """Per-replicate cost by block size; size 1 is one replicate per block (one model per run)."""
    sizes = [1, 25, 250, 1000] if quick else [1, 25, 100, 250, 1000, 2500, 5000, 8000]
    rows = []
    for b in sizes:
        n = (10 if quick else 60) if b == 1 else max(b, min(1000, 8 * b))
        rows.append(per_replicate_cost(n, b))
        print(json.dumps(rows[-1]), flush=True)
    return rows


def vector_speedup(rows: list[dict], big: int | None = None) -> dict:
    """Per-replicate cost of one replicate per block over that of the default block (the plan's target)."""
    from sim.batch.plan import TARGET_BLOCK_REPLICATES

    by = {r["block_size"]: r for r in rows}
    big = big or TARGET_BLOCK_REPLICATES
    big = big if big in by else max(by)
    return {"one_per_block": by[1], "vectorised": by[big],
            "speedup": by[1]["per_replicate_s"] / by[big]["per_replicate_s"]}


class TreeSampler:
    """Sample a process and all its descendants every ``interval`` s: memory peaks and CPU time.

    Memory: the peak of the summed RSS (pages shared between processes count once per process, so this
    overstates) and of the summed PSS (shared pages split between their sharers: the memory the tree
    really holds). Workers forked from ``negsim``'s fork server share its pages, which only PSS shows.
    CPU: user + system seconds of every process seen, at its last sample. ``getrusage(RUSAGE_CHILDREN)``
    misses the workers: they are children of the fork server, which the ``negsim`` process does not wait
    for when it exits.

    PSS is read every ``pss_every``-th sample only: reading it walks each process's page tables (4-10 ms a
    process of a few hundred MB), and at every 0.1 s sample that took some 15% of a core from the run being
    measured. RSS and CPU time (cheap) are read at every sample.
    """

    def __init__(self, pid: int, interval: float = 0.1, pss_every: int = 10) -> None:
        import psutil

        self.proc = psutil.Process(pid)
        self.peak_rss = 0
        self.peak_pss = 0
        self.peak_single_rss = 0  # the largest process (getrusage's ru_maxrss misses the forked workers)
        self.cpu: dict[tuple[int, float], float] = {}  # (pid, create time) -> last user + system seconds
        self.interval = interval
        self.pss_every = pss_every  # PSS (smaps_rollup) costs some 4-10 ms a process: every 10th sample
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        import psutil

        n = 0
        while not self._stop.is_set():
            try:
                procs = [self.proc, *self.proc.children(recursive=True)]
            except psutil.Error:
                procs = []
            rss = pss = 0
            full = n % self.pss_every == 0
            n += 1
            for p in procs:
                try:
                    with p.oneshot():
                        t = p.cpu_times()
                        self.cpu[(p.pid, p.create_time())] = t.user + t.system
                        info = p.memory_full_info() if full else p.memory_info()
                    rss += info.rss
                    pss += getattr(info, "pss", info.rss)
                    self.peak_single_rss = max(self.peak_single_rss, info.rss)
                except psutil.Error:
                    pass
            self.peak_rss = max(self.peak_rss, rss)
            if full:
                self.peak_pss = max(self.peak_pss, pss)
            time.sleep(self.interval)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def cpu_seconds(self) -> float:
        return sum(self.cpu.values())


def bench_scale(sizes: list[int], workers: int, keep: bool, repeat: int = 1) -> list[dict]:
    out = []
    for n in [n for n in sizes for _ in range(repeat)]:
        run_dir = Path(tempfile.mkdtemp(prefix=f"bench-{n}-", dir=ROOT / "results"))
        cmd = [sys.executable, "-m", "sim", "run", str(SCENARIO), "--runs", str(n), "--seed", "1",
               "--workers", str(workers), "--out", str(run_dir), "--force", "--quiet"]
        ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        before = ru0.ru_maxrss
        load0 = os.getloadavg()[0]
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        tree = TreeSampler(proc.pid)
        stdout, stderr = proc.communicate()
        dt = time.perf_counter() - t0
        tree.stop()
        ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        children = ru1.ru_maxrss                 # KiB on Linux: the largest single descendant
        cpu_waited = (ru1.ru_utime + ru1.ru_stime) - (ru0.ru_utime + ru0.ru_stime)
        cpu = max(tree.cpu_seconds, cpu_waited)
        self_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        if proc.returncode != 0:
            raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{stderr}")
        manifest = json.loads((run_dir / "manifest.json").read_text())
        row = {"runs": n, "workers": workers, "seconds": dt, "replicates_per_s": n / dt,
               "cpu_seconds": cpu, "cpu_ms_per_replicate": 1000 * cpu / n,
               "load_avg_1min_start_end": [load0, os.getloadavg()[0]],
               "cpu_seconds_waited_for": cpu_waited,
               "peak_tree_rss_mb": tree.peak_rss / 2**20, "peak_tree_pss_mb": tree.peak_pss / 2**20,
               "max_single_process_rss_mb": max(tree.peak_single_rss / 2**20, max(children, before) / 1024),
               "bench_self_rss_mb": self_rss / 1024,
               "block_size": manifest["block_size"], "n_blocks": manifest["n_blocks"],
               "runs_parquet_mb": (run_dir / "runs.parquet").stat().st_size / 2**20,
               "command": " ".join(cmd)}
        print(json.dumps(row), flush=True)
        out.append(row)
        if not keep:
            shutil.rmtree(run_dir, ignore_errors=True)
    return out


def repeat_summary(rows: list[dict]) -> list[dict]:
    """Median, minimum and maximum wall time (and median CPU per replicate) of the runs of each size."""
    import statistics

    summary = []
    for n in dict.fromkeys(r["runs"] for r in rows):
        secs = [r["seconds"] for r in rows if r["runs"] == n]
        cpu = [r["cpu_ms_per_replicate"] for r in rows if r["runs"] == n]
        summary.append({"runs": n, "repeat": len(secs), "seconds_median": statistics.median(secs),
                        "seconds_min": min(secs), "seconds_max": max(secs),
                        "cpu_ms_per_replicate_median": statistics.median(cpu)})
    return summary


def bench_profile(n: int = 4000, top: int = 25) -> str:
    from sim.batch.block import execute_block

    task = _tasks(n, n)[0]
    execute_block(_tasks(200, 200)[0])          # warm-up
    prof = cProfile.Profile()
    prof.enable()
    execute_block(task)
    prof.disable()
    s = io.StringIO()
    pstats.Stats(prof, stream=s).sort_stats("tottime").print_stats(top)
    return s.getvalue()


def machine() -> dict:
    def sh(cmd: list[str]) -> str:
        try:
            return subprocess.run(cmd, capture_output=True, text=True, timeout=10).stdout.strip()
        except OSError:
            return ""

    mem_kb = 0
    if os.path.exists("/proc/meminfo"):
        for line in open("/proc/meminfo"):
            if line.startswith("MemTotal"):
                mem_kb = int(line.split()[1])
    return {"nproc": sh(["nproc"]), "ram_gb": round(mem_kb / 2**20, 1), "python": platform.python_version(),
            "lscpu": sh(["lscpu"]), "load_avg": os.getloadavg()}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", default="vector,blocks,scale,profile")
    ap.add_argument("--quick", action="store_true", help="small sizes (smoke test)")
    ap.add_argument("--sizes", default="10000,30000,100000,1000000")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--keep", action="store_true", help="keep the run directories of the scale benchmark")
    ap.add_argument("--repeat", type=int, default=1, help="runs of each size in the scale benchmark (median)")
    args = ap.parse_args(argv)
    only = set(args.only.split(","))
    res: dict = {"when": datetime.now(UTC).isoformat(timespec="seconds"), "machine": machine(),
                 "command": " ".join([sys.executable, *sys.argv])}
    if "blocks" in only or "vector" in only:
        res["blocks"] = bench_blocks(args.quick)
        res["vector"] = vector_speedup(res["blocks"])
        print(json.dumps(res["vector"], indent=1), flush=True)
    if "scale" in only:
        res["scale"] = bench_scale([int(s) for s in args.sizes.split(",")], args.workers, args.keep,
                                   max(1, args.repeat))
        if args.repeat > 1:
            res["scale_repeat"] = repeat_summary(res["scale"])
            print(json.dumps(res["scale_repeat"], indent=1), flush=True)
    if "profile" in only:
        res["profile"] = bench_profile(2000 if args.quick else 4000)
        print(res["profile"], flush=True)
    res["load_avg_end"] = os.getloadavg()
    out = ROOT / "benchmarks" / "results"
    out.mkdir(exist_ok=True)
    path = out / f"bench-{datetime.now(UTC).strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(res, indent=1))
    print(f"saved {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
