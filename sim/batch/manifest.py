"""manifest.json: what a run was (scenario, seed, shape), with what (versions, commit), and how it ended.

The manifest is written when a run starts (status ``running``) and rewritten when it ends (``complete``,
``interrupted`` or ``failed``). ``--resume`` compares the stored identity of the run (scenario file
hashes, seed, runs, draws, paths per draw, block size, parameter-draw hash) with the new request and
refuses on any difference, so a resumed run cannot mix blocks of two different runs.
"""

from __future__ import annotations

import hashlib
import platform
import shlex
import subprocess
import sys
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd

from sim.batch.plan import BatchPlan
from sim.errors import UserError

#: Distributions whose versions are recorded.
PACKAGES = ("negsim", "numpy", "scipy", "pandas", "pyarrow", "mesa", "networkx", "pyyaml", "pydantic",
            "tqdm", "SALib", "dask", "distributed", "matplotlib")

#: Manifest keys that identify a run; --resume requires them all to match.
IDENTITY_KEYS = ("scenario_files", "seed", "runs", "draws", "paths_per_draw", "block_size", "draws_sha256")


def utc_now() -> str:
    """Return the current UTC time, ISO 8601 with seconds."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def package_versions() -> dict[str, str | None]:
    """Installed versions of the packages a result depends on (``None`` if not installed)."""
    out: dict[str, str | None] = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    if out.get("negsim") is None:
        from sim import __version__

        out["negsim"] = __version__
    return out


def git_commit() -> str | None:
    """Commit of the negsim source tree (suffix ``-dirty`` if modified), or ``None`` outside git."""
    root = Path(__file__).resolve().parents[2]
    try:
        sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True,
                             timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--", "sim"],
                               cwd=root, capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return sha + ("-dirty" if dirty else "")


def draws_sha256(draws: pd.DataFrame) -> str:
    """Hash of the parameter draws' values and column names (identifies the epistemic sample)."""
    h = hashlib.sha256()
    h.update("\x1f".join(map(str, draws.columns)).encode())
    h.update(pd.util.hash_pandas_object(draws, index=True).to_numpy().tobytes())
    return h.hexdigest()


def command_line() -> str:
    """Return the command line of this process, shell-quoted."""
    argv = list(sys.argv)
    if argv and argv[0].endswith(("__main__.py", "negsim")):
        argv[0] = "negsim"
    return shlex.join(argv)


def build_manifest(scenario: Any, plan: BatchPlan, draws: pd.DataFrame, executor: str, workers: int | None,
                   resolved: Any) -> dict[str, Any]:
    """Manifest of a run that is starting (DESIGN §5)."""
    return {
        "scenario": getattr(scenario, "id", None),
        "scenario_path": str(getattr(scenario, "path", "")),
        "scenario_files": [[str(p), h] for p, h in getattr(scenario, "files", [])],
        "seed": plan.seed,
        "runs": plan.runs,
        "draws": plan.n_draws,
        "paths_per_draw": plan.paths_per_draw,
        "block_size": plan.block_size,
        "n_blocks": plan.n_blocks,
        "draws_sha256": draws_sha256(draws),
        "streams": {"parameters": "SeedSequence(seed, spawn_key=(0,))",
                    "block b": "SeedSequence(seed, spawn_key=(1, b))"},
        "executor": executor,
        "workers": workers,
        "packages": package_versions(),
        "git_commit": git_commit(),
        "platform": platform.platform(),
        "command_line": command_line(),
        "started": utc_now(),
        "ended": None,
        "status": "running",
        "resolved_scenario": resolved,
    }


def _hashes(files: list) -> list[str]:
    return [h for _p, h in files]


def check_resume(old: dict[str, Any], new: dict[str, Any], run_dir: Path) -> None:
    """Refuse to resume ``run_dir`` if the new request is not the run its manifest describes."""
    problems = []
    for key in IDENTITY_KEYS:
        a, b = old.get(key), new.get(key)
        if key == "scenario_files":
            a, b = _hashes(a or []), _hashes(b or [])
            if a != b:
                problems.append("scenario files changed (their SHA-256 hashes differ)")
            continue
        if a != b:
            problems.append(f"{key} is {b} but the interrupted run used {a}")
    if problems:
        raise UserError(f"cannot resume {run_dir}: " + "; ".join(problems))
