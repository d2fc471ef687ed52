"""``negsim calibrate``: history matching of a scenario against facts files, each wave a batch run.

Each wave is an ordinary run directory ``OUT/wave_<k>/`` made by the batch engine
(:func:`sim.batch.runner.execute_run`): local worker processes or a Dask scheduler, a progress bar,
blocks written as they finish. The worker processes start once and serve every wave. Running
``calibrate`` again with the same arguments and ``--out`` keeps the finished waves, completes an
interrupted one and goes on: the draws of every wave follow from the root seed and the waves before it
(:mod:`sim.calibration.waves`), so they are the same, and the batch engine checks a wave directory holds
the same run before completing it.

Outputs in ``OUT``: ``calibrated_draws.parquet`` (the non-implausible draws of the last wave: one column
per dotted parameter path, and ``weight``, equal), ``<scenario id>_calibrated.yaml`` (a variant that
``extends`` the scenario and names the draws and facts in its ``calibration:`` section, which ``negsim
run`` honours), ``calibration.json`` (the numbers of the report) and ``calibration.md`` with its charts
(:mod:`sim.calibration.report`).
"""

from __future__ import annotations

import os
import shlex
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.batch.runner import BatchInterrupted
from sim.calibration.facts import FactSet, check_columns, check_cutoff, check_within_run, load_facts
from sim.calibration.implausibility import ruled_out_by
from sim.calibration.statistics import per_draw, record_columns, statistics_table
from sim.calibration.waves import Targets, Wave, history_match
from sim.errors import UserError

#: The calibrated draws file, in OUT.
DRAWS_FILE = "calibrated_draws.parquet"
#: The machine-readable summary of the calibration, in OUT.
SUMMARY_FILE = "calibration.json"


def wave_seed(seed: int, wave: int) -> int:
    """Return the batch seed of wave ``wave``: ``SeedSequence(seed, spawn_key=(3, wave))``'s first word."""
    return int(np.random.SeedSequence(seed, spawn_key=(3, wave)).generate_state(1)[0])


@dataclass
class Calibration:
    """A finished calibration: its waves, where they are, and what was written."""

    out: Path
    scenario: Any
    facts: FactSet
    waves: list[Wave]
    wave_dirs: list[Path]
    seed: int
    paths: int
    written: list[Path] = field(default_factory=list)
    # the scenario whose runs matched the facts (the replay), and the draws' columns carried over to
    # ``scenario`` (None: every column; the replay is then the scenario itself)
    replay: Any = None
    carried: list[str] | None = None

    @property
    def final(self) -> Wave:
        """The last wave."""
        return self.waves[-1]

    def calibrated_draws(self) -> pd.DataFrame:
        """Return the non-implausible draws of the last wave, with equal ``weight``."""
        kept = self.final.draws[self.final.keep].reset_index(drop=True)
        if self.carried is not None:
            kept = kept[self.carried]
        return kept.assign(weight=1.0 / max(1, len(kept)))

    def summary(self) -> dict[str, Any]:
        """``calibration.json``: per wave its size and non-implausible share, per fact what it ruled out."""
        waves = []
        for w, d in zip(self.waves, self.wave_dirs, strict=True):
            shares = ruled_out_by(w.imp)
            waves.append({
                "wave": w.index, "run_dir": d.name, "draws": len(w.draws), "paths_per_draw": self.paths,
                "prior_candidates_screened": int(w.screened), "non_implausible": int(w.keep.sum()),
                "non_implausible_share": float(w.keep.mean()),
                # robust to one fact the model cannot match (Vernon et al. 2010, 3.1)
                "second_max_non_implausible_share": float((w.i_second <= 3.0).mean()),
                "facts": {fid: {"ruled_out_share": float(shares["alone"][j]),
                                "only_fact_ruling_out_share": float(shares["only"][j]),
                                "median_implausibility": float(np.median(w.imp[:, j]))}
                          for j, fid in enumerate(self.facts.ids)},
            })
        return {"scenario": self.scenario.id, "scenario_path": str(self.scenario.path), "seed": self.seed,
                "facts_files": self.facts.files, "facts": self.facts.ids, "waves": waves,
                "calibrated_draws": int(self.final.keep.sum()), "cutoff": 3.0}


def calibrate(scenario_path: str | os.PathLike[str], facts_paths: list[str | os.PathLike[str]],
              out: str | os.PathLike[str], *, draws: int = 200, paths: int = 16, waves: int = 3,
              seed: int = 1, workers: int | None = None, scheduler: str | None = None,
              block_size: int | None = None, quiet: bool = False, block_fn: Any = None,
              report: bool = True, keep: tuple[str, ...] = ()) -> Calibration:
    """History-match a scenario against facts in ``waves`` waves of ``draws`` x ``paths`` replicates.

    ``block_fn`` replaces the model in every block (tests; :mod:`sim.batch.block`), and then the facts'
    records are checked against the runs' columns only. ``keep``: parameters of the facts' ``calibrates``
    list the scenario keeps as it has them (it re-based them on later evidence). Raises ``UserError``
    (``ScenarioError``) for a bad scenario or facts file, a fact after the scenario's ``info_cutoff``, a fact
    reading a record the runs lack, and an empty non-implausible region.
    """
    from sim.analysis.lever_runs import SharedExecutor
    from sim.batch.executors import make_executor
    from sim.scenario import load_scenario, sample_parameters

    for name, value in (("--draws", draws), ("--paths", paths), ("--waves", waves)):
        if int(value) < 1:
            raise UserError(f"{name} must be a positive integer (got {value})")
    if paths < 2:
        raise UserError("--paths must be at least 2: the implausibility needs each draw's ensemble variance")
    target = load_scenario(scenario_path)
    facts = load_facts(facts_paths)
    # the facts are matched on the replays' runs (hindcasts of their periods) or on the scenario's own; the
    # first replay's draws are the waves' draws, the others run them with their own other parameters
    replays = {path: load_scenario(path) for path in facts.replays} or {None: target}
    sc = next(iter(replays.values()))
    check_cutoff(facts, target.data["scenario"]["info_cutoff"], target.id)
    for path, replay in replays.items():
        info = replay.data["scenario"]
        check_within_run(facts.on(path), info["start_date"], info["horizon_weeks"])
    carried = carried_columns(facts, target, sc, keep)
    for other in list(replays.values())[1:]:
        carried_columns(facts, target, other, keep)  # the carried parameters exist there too
    if block_fn is None:
        for path, replay in replays.items():
            check_columns(facts.on(path), record_columns(replay))
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    targets = Targets.from_facts(facts.facts)
    wave_dirs: list[Path] = []
    shared: SharedExecutor | None = None

    def sampler(n: int, ss: np.random.SeedSequence) -> pd.DataFrame:
        return sample_parameters(sc, n, ss)

    def simulate(k: int, table: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        mean = np.full((len(table), len(facts.ids)), np.nan)
        var = np.full_like(mean, np.nan)
        for j, (path, replay) in enumerate(replays.items()):
            run_dir = out / (f"wave_{k}" if j == 0 else f"wave_{k}_{replay.id}")
            rows = table if j == 0 else replay_draws(replay, table, carried, seed, k, j)
            if j == 0:
                wave_dirs.append(run_dir)
            records = _run_wave(replay, rows, run_dir, wave_seed(seed, k), paths, block_size, workers,
                                scheduler, quiet, block_fn, lambda: shared_executor())
            on = facts.on(path)
            check_columns(on, records.columns)
            stats = statistics_table(on, records, replay.data["scenario"]["start_date"])
            _, m, v = per_draw(stats, on.ids)
            cols = [facts.ids.index(i) for i in on.ids]
            mean[:, cols], var[:, cols] = m, v
        return mean, var

    def shared_executor() -> SharedExecutor:
        nonlocal shared
        if shared is None:
            shared = SharedExecutor(make_executor(workers, scheduler, 2 * waves,
                                                  import_model=block_fn is None))
        return shared

    try:
        result = history_match(sampler, simulate, targets, draws, waves, seed)
    except BatchInterrupted as err:
        if shared is not None:
            shared.close_for_good(cancel=True)
        again = shlex.join(["negsim", "calibrate", str(scenario_path), "--facts", *map(str, facts_paths),
                            "--waves", str(waves), "--draws", str(draws), "--paths", str(paths), "--seed",
                            str(seed), *(["--block-size", str(block_size)] if block_size else []),
                            "--out", str(out)])
        raise BatchInterrupted(f"{err.message.split('; resume with:')[0]} ({wave_dirs[-1].name}); finished "
                               f"waves are kept; resume with the same command: {again}") from None
    except BaseException:
        if shared is not None:
            shared.close_for_good(cancel=True)
        raise
    if shared is not None:
        shared.close_for_good()
    cal = Calibration(out, target, facts, result, wave_dirs, seed, paths, replay=sc, carried=carried)
    cal.written.extend(write_outputs(cal))
    if report:
        from sim.calibration.report import write_report

        cal.written.extend(write_report(cal))
    if not cal.final.keep.any():
        raise UserError(f"no draw of wave {cal.final.index} is non-implausible: every draw is ruled out by "
                        f"the facts (see {out / 'calibration.md'} for which); no calibrated scenario written")
    return cal


def carried_columns(facts: FactSet, target: Any, replay: Any, keep: tuple[str, ...] = ()) -> list[str] | None:
    """Return the draws' columns a calibration carries into ``target`` (None: all; no replay).

    With a replay, only the parameters the facts files list under ``calibrates``: each must be uncertain
    in both scenarios, with the same columns (a dirichlet's components), else a ``FILE:LINE`` error at its
    entry. Without ``calibrates`` a replay carries nothing over, which is refused: a replay's own
    parameters (positions, budgets, the line on its own unit) describe another date. A path in ``keep``
    must be in the list and is left out: the scenario keeps its own prior for it.
    """
    from sim.scenario.problems import Problem, ScenarioError
    from sim.scenario.sampling import expected_columns

    if replay is target:
        return None
    if not facts.calibrates:
        raise UserError(f"the facts name a replay scenario ({facts.replay}) but no parameters to carry "
                        f"over to {target.id} (expected a 'calibrates:' list of parameter paths in the facts "
                        "file)")
    unknown = [k for k in keep if k not in facts.calibrates]
    if unknown:
        raise UserError(f"--keep {' '.join(unknown)}: not in the facts files' 'calibrates' list (expected "
                        f"one of: {', '.join(facts.calibrates)})")
    in_replay, in_target = expected_columns(replay), set(expected_columns(target))
    out: list[str] = []
    problems = []
    for path, where in facts.calibrates.items():
        if path in keep:
            continue
        cols = [c for c in in_replay if c == path or c.startswith(path + ".")]
        file, _, line = where.rpartition(":")
        if not cols:
            problems.append(Problem(file, int(line), "calibrates", f"'{path}' is not an uncertain "
                                    f"parameter of the replay {replay.id} (expected a parameter with a "
                                    "distribution there)"))
        elif not set(cols) <= in_target:
            problems.append(Problem(file, int(line), "calibrates", f"'{path}' is not an uncertain "
                                    f"parameter of {target.id} (expected one with a distribution in both "
                                    "scenarios)"))
        else:
            out.extend(c for c in cols if c not in out)
    if problems:
        raise ScenarioError(problems, facts.files)
    return out


def replay_draws(replay: Any, table: pd.DataFrame, carried: list[str] | None, seed: int, wave: int,
                 index: int) -> pd.DataFrame:
    """Return the draws of a second replay for a wave: its own prior, with the carried columns of ``table``.

    Its other parameters (its own positions and state) are sampled from its prior on the stream
    ``SeedSequence(seed, spawn_key=(4, wave, index))``, so the wave's draws of the shared parameters are
    matched on every replay's facts at once.
    """
    from sim.scenario import sample_parameters

    rows = sample_parameters(replay, len(table), np.random.SeedSequence(seed, spawn_key=(4, wave, index)))
    for col in carried or []:
        rows[col] = table[col].to_numpy()
    return rows


def _run_wave(sc: Any, table: pd.DataFrame, run_dir: Path, seed: int, paths: int, block_size: int | None,
              workers: int | None, scheduler: str | None, quiet: bool, block_fn: Any,
              executor: Any) -> pd.DataFrame:
    """Run one wave as a batch into ``run_dir`` (or keep it if complete); return its runs.parquet."""
    from sim.batch import storage
    from sim.batch.manifest import build_manifest, check_resume
    from sim.batch.plan import make_plan
    from sim.batch.runner import execute_run

    plan = make_plan(seed, n_draws=len(table), paths_per_draw=paths, block_size=block_size)
    manifest = run_dir / storage.MANIFEST
    done = False
    if manifest.is_file():
        old = storage.read_json(manifest)
        check_resume(old, build_manifest(sc, plan, table, "", workers, None), run_dir)
        done = old.get("status") == "complete" and (run_dir / storage.RUNS).is_file()
    if done:
        if not quiet:
            print(f"negsim: {run_dir} is complete; kept", file=sys.stderr)
    else:
        execute_run(sc, plan, table, run_dir, workers=workers, scheduler=scheduler,
                    resume=manifest.is_file(), quiet=quiet, block_fn=block_fn, executor=executor())
    return pd.read_parquet(run_dir / storage.RUNS)


def write_outputs(cal: Calibration) -> list[Path]:
    """Write ``calibration.json`` and, when the region is not empty, the draws and calibrated scenario."""
    from sim.batch import storage

    written = []
    summary_path = cal.out / SUMMARY_FILE
    storage.write_json(summary_path, cal.summary())
    written.append(summary_path)
    if not cal.final.keep.any():
        return written
    draws_path = cal.out / DRAWS_FILE
    cal.calibrated_draws().to_parquet(draws_path, index=False)
    written.append(draws_path)
    written.append(write_calibrated_scenario(cal))
    return written


def _relative(path: Path, start: Path) -> str:
    """``path`` relative to ``start`` when they share a folder below the root, else absolute."""
    a, b = path.resolve(), start.resolve()
    common = Path(os.path.commonpath([a, b]))
    return os.path.relpath(a, b) if len(common.parts) > 1 else str(a)


def write_calibrated_scenario(cal: Calibration) -> Path:
    """Write ``OUT/<id>_calibrated.yaml``: it ``extends`` the scenario and names the draws and facts."""
    import yaml

    sc = cal.scenario
    path = cal.out / f"{sc.id}_calibrated.yaml"
    parent = _relative(Path(sc.path), cal.out)
    files = [_relative(Path(f), cal.out) for f in cal.facts.files]
    body = {
        "extends": parent,
        "scenario": {"id": f"{sc.id}_calibrated",
                     "title": f"{sc.data['scenario'].get('title', sc.id)} (history-matched)"},
        "calibration": {"draws": DRAWS_FILE, "facts": list(cal.facts.ids), "facts_files": files,
                        "waves": len(cal.waves), "seed": cal.seed},
    }
    head = (f"# History-matched variant of {sc.path} (negsim calibrate, {len(cal.waves)} waves, seed "
            f"{cal.seed}).\n# negsim run draws the calibrated parameters as rows of {DRAWS_FILE} "
            "(the non-implausible region); see calibration.md.\n")
    path.write_text(head + yaml.safe_dump(body, sort_keys=False, allow_unicode=True))
    return path

