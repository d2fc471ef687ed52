"""README "Scaling out": the documented `dask scheduler`, `dask worker` and `negsim run --scheduler` commands,
run as subprocesses on 127.0.0.1, give the runs.parquet of a local run byte for byte."""

from __future__ import annotations

import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import sim
from sim.explorer.server import free_port

ROOT = Path(__file__).resolve().parents[1]
DASK = Path(sys.executable).parent / "dask"

pytestmark = pytest.mark.xdist_group("dask")


def documented_commands() -> list[str]:
    """The command lines of the README's scaling-out section, in order."""
    text = (ROOT / "README.md").read_text()
    section = text.split("## Scaling out", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```\n(.*?)```", section, re.S).group(1)
    return [line.split("#", 1)[0].strip() for line in block.splitlines() if line.strip()]


def _wait_for(proc: subprocess.Popen, pattern: str, timeout: float = 60) -> None:
    """Read the process's log (stderr) until a line matches ``pattern``."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        line = proc.stderr.readline()
        if not line and proc.poll() is not None:
            raise AssertionError(f"{proc.args} exited with {proc.returncode}")
        if re.search(pattern, line):
            # keep reading the log in the background, so a full pipe never blocks the process
            threading.Thread(target=proc.stderr.read, daemon=True).start()
            return
    raise AssertionError(f"{proc.args}: no {pattern!r} within {timeout} s")


def test_the_documented_dask_commands_reproduce_a_local_run(tmp_path):
    if not DASK.exists():
        pytest.skip(f"no dask command next to {sys.executable}")
    scheduler_cmd, worker_cmd, run_cmd = documented_commands()
    assert scheduler_cmd.startswith("dask scheduler") and worker_cmd.startswith("dask worker")
    assert run_cmd.startswith("negsim run") and "--scheduler" in run_cmd
    port = free_port()
    addr = f"tcp://127.0.0.1:{port}"
    # the documented lines, with this machine's loopback and a free port for SCHEDULER:8786
    sched_args = scheduler_cmd.split()[2:] + ["--host", "127.0.0.1", "--no-dashboard"]
    sched_args = [str(port) if a == "8786" else a for a in sched_args]
    worker_args = [a.replace("tcp://SCHEDULER:8786", addr) for a in worker_cmd.split()[2:]]
    worker_args += ["--no-dashboard"]
    procs = []
    try:
        procs.append(subprocess.Popen([str(DASK), "scheduler", *sched_args], cwd=tmp_path,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True))
        _wait_for(procs[-1], r"Scheduler at:\s+tcp://127\.0\.0\.1")
        procs.append(subprocess.Popen([str(DASK), "worker", *worker_args], cwd=tmp_path,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True))
        _wait_for(procs[-1], r"Registered to:")
        remote = tmp_path / "remote"
        argv = [a.replace("tcp://SCHEDULER:8786", addr) for a in run_cmd.split()[2:]]
        argv = ["1000" if prev == "--runs" else a for prev, a in zip(["", *argv[:-1]], argv, strict=True)]
        res = subprocess.run([sys.executable, "-m", "sim", "run", *argv, "--out", str(remote), "--quiet"],
                             cwd=ROOT, capture_output=True, text=True, timeout=300)
        assert res.returncode == 0, res.stderr
    finally:
        for p in reversed(procs):
            p.terminate()
            p.wait(timeout=30)
    seed = int(argv[argv.index("--seed") + 1])
    local = sim.run(ROOT / argv[0], runs=1000, seed=seed, workers=1, out=tmp_path / "local", quiet=True)
    assert (remote / "runs.parquet").read_bytes() == (local.path / "runs.parquet").read_bytes()
    assert sim.load(remote).manifest["executor"] == "dask"
