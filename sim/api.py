"""The Python API: run, load and compare scenarios, and get result objects with ``.to_df()`` and ``.plot()``.

``negsim run``, ``negsim compare`` and ``negsim report`` are clients of these functions, and the what-if
page (``negsim explore``) builds on them, so a notebook and the command line give the same numbers from
the same seed::

    import sim
    base = sim.run("scenarios/baseline.yaml", runs=2000, seed=1)
    base.probabilities()                       # outcome x horizon, with 95% and 80% intervals
    base.plot("outcomes")                      # a matplotlib Figure
    what_if = sim.run("scenarios/baseline.yaml", runs=2000, seed=1,
                      overlay={"war.drift_per_year.median": 0.2})
    sim.compare(base, what_if).to_df()         # paired differences (common random numbers)

The result objects follow SALib and pandas: the data is a table (``.to_df()``), the picture is a
``.plot()`` that returns a :class:`matplotlib.figure.Figure` (drawn on ``ax=`` if given). Nothing here
computes statistics of its own: it is a thin layer over :mod:`sim.batch`, :mod:`sim.analysis` and
:mod:`sim.charts`, which is why the numbers agree with the command line byte for byte.

Heavy libraries (pandas, matplotlib, the model) are imported inside the functions, so ``import sim``
and ``negsim --help`` stay fast.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.errors import UserError

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from sim.analysis.rundir import RunData
    from sim.scenario import Scenario

__all__ = ["Comparison", "Run", "compare", "load", "run", "write_overlay"]

#: Chart kinds of :meth:`Run.plot`, as named in ``negsim report`` (file stems of the chart set).
PLOT_KINDS: tuple[str, ...] = (
    "outcomes", "agreement_over_time", "settlements", "settlement_joint", "drivers",
)


class Run:
    """A finished run: its run directory (DESIGN §5) loaded into memory.

    Made by :func:`run` or :func:`load`; not constructed directly.

    Attributes
    ----------
    data : sim.analysis.rundir.RunData
        The loaded directory (``runs``, ``manifest``, ``summary``), for everything the methods do not cover.
    """

    def __init__(self, data: RunData) -> None:
        self.data = data

    def __repr__(self) -> str:
        return f"<negsim Run {self.run_id!r}: scenario {self.scenario_id!r}, {len(self)} replicates, " \
               f"seed {self.seed}>"

    def __len__(self) -> int:
        return len(self.data.runs)

    @property
    def path(self) -> Path:
        """The run directory."""
        return self.data.path

    @property
    def run_id(self) -> str:
        """Run id from the manifest (else the directory name)."""
        return self.data.run_id

    @property
    def scenario_id(self) -> str:
        """Id of the scenario that was run."""
        return self.data.scenario_id

    @property
    def seed(self) -> Any:
        """Root seed of the run."""
        return self.data.seed

    @property
    def summary(self) -> dict[str, Any]:
        """``summary.json`` as a dict (the headline numbers the batch wrote; DESIGN §5)."""
        return self.data.summary

    @property
    def manifest(self) -> dict[str, Any]:
        """``manifest.json`` as a dict (seed, sizes, resolved scenario, versions)."""
        return self.data.manifest

    def to_df(self) -> pd.DataFrame:
        """Return the per-replicate table (``runs.parquet``): one row per replicate, a copy.

        Columns: ``draw``, ``replicate``, ``outcome_w<h>`` per horizon, ``weeks_to_agreement``,
        ``agreement_type``, ``settle_<ISSUE>`` and the sampled value of every uncertain parameter
        (``param.<dotted.path>``).
        """
        return self.data.runs.copy()

    def probabilities(self, horizon: int | None = None) -> pd.DataFrame:
        """Probability of every outcome class with its intervals, per horizon.

        Parameters
        ----------
        horizon : int, optional
            Only this horizon (weeks); default every horizon of the run.

        Returns
        -------
        pandas.DataFrame
            One row per (horizon, outcome), as :func:`sim.analysis.probabilities.outcome_probabilities`:
            ``p``, ``lo``/``hi`` (95%, parameter uncertainty included, as in summary.json),
            ``lo80``/``hi80``, ``mc_lo``/``mc_hi`` (Monte Carlo error only) and the per-draw quantiles.
        """
        from sim.analysis.probabilities import outcome_probabilities

        if horizon is not None and horizon not in self.data.horizons:
            raise UserError(f"no horizon {horizon} weeks in run {self.run_id} (it has {self.data.horizons})")
        return outcome_probabilities(self.data.runs, None if horizon is None else [horizon])

    def agreement_over_time(self) -> pd.DataFrame:
        """Kaplan-Meier probability of no agreement yet, week by week (any agreement; comprehensive deal).

        Returns
        -------
        pandas.DataFrame
            Columns ``curve`` (``first_agreement`` or ``comprehensive_deal``), ``week``, ``p_agreed``
            (1 - survival) and ``lo``/``hi`` (95% pointwise interval of ``p_agreed``).
        """
        import pandas as pd

        from sim.analysis.survival import agreement_curves

        frames = []
        for name, c in agreement_curves(self.data.runs, self.data.horizon_weeks).items():
            t = c.to_df()
            frames.append(pd.DataFrame({"curve": name, "week": t["t"], "p_agreed": t["p_event"],
                                        "lo": t["p_lo"], "hi": t["p_hi"]}))
        return pd.concat(frames, ignore_index=True)

    def settlements(self, by: str | None = None) -> pd.DataFrame:
        """Where each issue settles: quantiles of the settled value per issue and group.

        Parameters
        ----------
        by : str, optional
            Grouping column; default the outcome at the last horizon (the terms in force then), as in
            the report's settlements chart.
        """
        from sim.analysis.settlements import settlement_summary

        return settlement_summary(self.data.runs, by=by or f"outcome_w{max(self.data.horizons)}")

    def plot(self, kind: str = "outcomes", ax: Axes | None = None) -> Figure:
        """Draw one of the report's charts and return its figure.

        Parameters
        ----------
        kind : {"outcomes", "agreement_over_time", "settlements", "settlement_joint", "drivers"}
            The chart, named as its file in ``negsim report``.
        ax : matplotlib.axes.Axes, optional
            Draw on this axes (the figure is then the axes' figure, without the house title block).
        """
        from sim.charts import chartset
        from sim.charts.outcomes import outcome_chart_data, plot_outcomes
        from sim.charts.settlements import (
            joint_chart_data,
            plot_joint,
            plot_settlements,
            settlement_chart_data,
        )
        from sim.charts.survival import plot_survival, survival_chart_data
        from sim.charts.tornado import plot_tornado, tornado_chart_data

        run = self.data
        footer = chartset.footer_for(run) if ax is None else None
        if kind == "outcomes":
            return plot_outcomes(outcome_chart_data(self.probabilities()), ax=ax, footer=footer)
        if kind == "agreement_over_time":
            from sim.analysis.survival import agreement_curves

            curves = agreement_curves(run.runs, run.horizon_weeks)
            return plot_survival(survival_chart_data(curves), ax=ax, footer=footer)
        if kind == "settlements":
            last = f"outcome_w{max(run.horizons)}"
            data = settlement_chart_data(self.settlements(last), chartset.issue_labels(run), by=last,
                                         when=f"by outcome at week {max(run.horizons)} (terms in force then)")
            return plot_settlements(data, ax=ax, footer=footer)
        if kind == "settlement_joint":
            table, n = chartset.joint_table(run)
            if table is None:
                raise UserError(f"run {run.run_id} has no TERR_CTRL and SEC_GUAR settlements to draw jointly")
            return plot_joint(joint_chart_data(table, n), ax=ax, footer=footer)
        if kind == "drivers":
            drivers = chartset.drivers_for(run)
            if drivers is None:
                raise UserError(f"run {run.run_id}: too few parameter draws (or none sampled) to rank "
                                f"drivers; run more replicates or `negsim sensitivity`")
            return plot_tornado(tornado_chart_data(drivers.table, drivers.outcome), ax=ax, footer=footer)
        raise UserError(f"unknown chart kind {kind!r} (expected one of {', '.join(PLOT_KINDS)})")

    def report(self, out: str | os.PathLike[str] | None = None) -> Path:
        """Write the chart set (PNG and SVG) and the one-page briefing; return the briefing PDF's path.

        Parameters
        ----------
        out : path, optional
            Directory to write into (default ``<run directory>/report/``), as ``negsim report --out``.
        """
        return write_report(self, out).pdf

    def compare(self, other: Run | str | os.PathLike[str], paired: bool = True) -> Comparison:
        """Compare this run (A) with ``other`` (B); see :func:`compare`."""
        return compare(self, other, paired=paired)


@dataclass
class Report:
    """What :func:`write_report` wrote: the directory, the charts by name, the briefing and its headlines."""

    out: Path
    charts: dict[str, list[Path]]
    pdf: Path
    headlines: list[str]
    references: list[str] = field(default_factory=list)  # the briefing's lines beside other forecasts


def write_report(run: Run, out: str | os.PathLike[str] | None = None) -> Report:
    """Write the charts and the briefing of ``run`` into ``out`` (default ``<run>/report/``)."""
    from sim.charts.briefing import write_briefing
    from sim.charts.chartset import write_chart_set

    where = Path(out) if out is not None else run.path / "report"
    where.mkdir(parents=True, exist_ok=True)
    charts = write_chart_set(run.data, where)
    pdf = where / "briefing.pdf"
    data = write_briefing(run.data, pdf)
    return Report(where, charts, pdf, list(data.headlines), list(data.references))


class Comparison:
    """Change in every outcome probability from run A to run B, with 95% intervals.

    Made by :func:`compare`. Paired comparisons use common random numbers (both runs with the same seed
    and size): replicate i of A against replicate i of B.

    Attributes
    ----------
    a, b : Run
        Baseline and variant.
    paired : bool
        Whether replicates were paired.
    """

    def __init__(self, a: Run, b: Run, table: pd.DataFrame, paired: bool) -> None:
        self.a, self.b, self.paired = a, b, paired
        self._table = table

    def __repr__(self) -> str:
        return f"<negsim Comparison {self.labels[1]!r} minus {self.labels[0]!r}, " \
               f"{'paired' if self.paired else 'unpaired'}>"

    @property
    def labels(self) -> tuple[str, str]:
        """Names of A and B: scenario ids, or directory names when both runs share a scenario id."""
        la, lb = self.a.scenario_id, self.b.scenario_id
        if la == lb:
            la, lb = self.a.path.name, self.b.path.name
        return la, lb

    def to_df(self) -> pd.DataFrame:
        """One row per (horizon, outcome): ``p_a``, ``p_b``, ``diff`` = p_b - p_a, ``se``, ``lo``, ``hi``.

        See :func:`sim.analysis.compare.compare_runs` for the columns and the method.
        """
        return self._table.copy()

    def sentences(self) -> list[str]:
        """One plain-language line per outcome and horizon (what ``negsim compare`` prints)."""
        from sim.analysis.words import change_sentence

        label_b = self.labels[1]
        return [change_sentence(r.outcome, int(r.horizon), r.diff, r.lo, r.hi, label_b)
                for r in self._table.itertuples()]

    def plot(self, ax: Axes | None = None) -> Figure:
        """Dot-and-interval chart of the differences in percentage points."""
        from sim.charts.comparison import comparison_chart_data, plot_comparison
        from sim.charts.style import Footer

        footer = None
        if ax is None:
            footer = Footer(scenario=" vs ".join(self.labels), run_id=f"{self.a.run_id} vs {self.b.run_id}",
                            n=len(self.b), date=self.b.data.date)
        return plot_comparison(comparison_chart_data(self._table, *self.labels), ax=ax, footer=footer)

    def save(self, out: str | os.PathLike[str] | None = None) -> list[Path]:
        """Write ``comparison.csv`` and the chart (PNG, SVG) into ``out`` (default ``B/compare-<A>/``)."""
        from sim.charts.style import save_figure

        where = Path(out) if out is not None else self.b.path / f"compare-{self.a.path.name}"
        where.mkdir(parents=True, exist_ok=True)
        self._table.to_csv(where / "comparison.csv", index=False)
        return [where / "comparison.csv", *save_figure(self.plot(), where / "comparison")]


def load(path: str | os.PathLike[str]) -> Run:
    """Load a run directory written by ``negsim run`` or :func:`run`.

    Raises
    ------
    UserError
        If ``path`` is not a finished run directory (the message ``negsim report`` and ``compare`` give).
    """
    from sim.analysis.rundir import load_run

    return Run(load_run(path))


def _as_run(x: Run | str | os.PathLike[str]) -> Run:
    return x if isinstance(x, Run) else load(x)


def compare(a: Run | str | os.PathLike[str], b: Run | str | os.PathLike[str],
            paired: bool = True) -> Comparison:
    """Compare run ``b`` with run ``a``: the change in every outcome probability, with 95% intervals.

    Parameters
    ----------
    a, b : Run or path
        Baseline and variant (result objects or run directories).
    paired : bool
        Pair replicate i of A with replicate i of B (common random numbers; needs the same seed and
        size, else a :class:`~sim.errors.UserError` says why); ``False`` for independent samples.
    """
    from sim.analysis.compare import compare_runs

    ra, rb = _as_run(a), _as_run(b)
    return Comparison(ra, rb, compare_runs(ra.data, rb.data, paired=paired), paired)


def run(scenario: str | os.PathLike[str], runs: int | None = 2000, seed: int = 1, *,
        workers: int | None = None, scheduler: str | None = None, out: str | os.PathLike[str] | None = None,
        overlay: Mapping[str, Any] | None = None, draws: int | None = None, paths_per_draw: int | None = None,
        block_size: int | None = None, resume: bool = False, force: bool = False, quiet: bool = False) -> Run:
    """Run a scenario as a Monte Carlo batch (as ``negsim run``) and return the result.

    Parameters
    ----------
    scenario : path
        Scenario YAML file (a base scenario or a variant that ``extends`` one).
    runs : int, optional
        Replicates = parameter draws x paths per draw (rounded up to whole draws).
    seed : int
        Root seed. The same seed and size give byte-identical ``runs.parquet`` whatever the workers, and
        common random numbers across scenarios (what :func:`compare` pairs).
    workers, scheduler : optional
        Local worker processes (default one per core; 1 = this process) or a Dask scheduler address.
    out : path, optional
        Run directory (default ``results/<scenario id>-<time>/``).
    overlay : mapping, optional
        Edits to apply on top of ``scenario``: ``{"dotted.path": value}`` (a path may end inside a
        distribution, ``"war.drift_per_year.median"``). Written as a variant file (:func:`write_overlay`,
        validated; kept in the run directory as ``overlay.yaml``) and run in place of ``scenario``.
    draws, paths_per_draw, block_size, resume, force, quiet :
        As the ``negsim run`` options of the same names.

    Raises
    ------
    UserError
        Invalid scenario or overlay (every problem, as ``negsim validate`` lists them), inconsistent
        options, or a run that cannot complete.
    """
    from sim.batch import run_batch
    from sim.batch.executors import start_local_workers

    check_run_request(seed, runs, draws, paths_per_draw, block_size, out, force=force, resume=resume)
    with tempfile.TemporaryDirectory(prefix="negsim-overlay-") as tmp:
        path = Path(scenario)
        if overlay:
            path = write_overlay(scenario, overlay, Path(tmp) / "overlay.yaml")
        # the workers import the model while this process reads the scenario and samples the parameters
        executor = start_local_workers(workers, scheduler)
        try:
            run_dir = run_batch(path, out=out, runs=runs, seed=seed, workers=workers, scheduler=scheduler,
                                block_size=block_size, paths_per_draw=paths_per_draw, resume=resume,
                                force=force, quiet=quiet, draws=draws, executor=executor)
        finally:
            if executor is not None:  # already closed after a complete run; terminated after an error
                executor.close(cancel=True)
        if overlay:
            (run_dir / "overlay.yaml").write_text(path.read_text())
    return load(run_dir)


def check_run_request(seed: int, runs: int | None, draws: int | None, paths_per_draw: int | None,
                      block_size: int | None, out: str | os.PathLike[str] | None, *, force: bool = False,
                      resume: bool = False) -> None:
    """Raise :class:`UserError` for inconsistent options or a run directory the run may not use.

    Cheap and without side effects: :func:`run` and ``negsim run`` call it before they read the scenario
    or start a worker, which would start only to be stopped.
    """
    from sim.batch.plan import plan_from_options
    from sim.batch.storage import check_run_dir

    plan_from_options(seed, runs, draws, paths_per_draw, block_size)
    if out is not None:
        check_run_dir(Path(out), force=force, resume=resume)


def overlay_tree(base: Mapping[str, Any], edits: Mapping[str, Any], src: str) -> dict[str, Any]:
    """Nest dotted-path ``edits`` into an overlay mapping, each edited value carrying ``src``.

    A value inside a distribution (``war.drift_per_year.median``) gets ``src`` on the distribution's
    mapping (where ``src:`` is allowed); any other value is written ``{value: x, src: ...}``.

    Parameters
    ----------
    base : mapping
        The resolved data of the base scenario (to tell distributions from plain values).
    edits : mapping
        ``{"dotted.path": value}``.
    src : str
        Provenance for every edited value.
    """
    tree: dict[str, Any] = {}
    for dotted, value in edits.items():
        keys = str(dotted).split(".")
        node: Any = base
        for k in keys[:-1]:
            node = node.get(k) if isinstance(node, Mapping) else None
        parent_is_dist = isinstance(node, Mapping) and "dist" in node
        holder = tree
        for k in keys[:-1]:
            holder = holder.setdefault(k, {})
            if not isinstance(holder, dict):
                raise UserError(f"overlay: {dotted}: a parent of this path is also edited as a value")
        leaf = keys[-1]
        value = value.item() if hasattr(value, "item") else value  # numpy scalars are not YAML
        if parent_is_dist:
            holder[leaf] = value
            holder["src"] = src
        else:
            holder[leaf] = {"value": value, "src": src}
    return tree


def write_overlay(base: str | os.PathLike[str] | Scenario, edits: Mapping[str, Any],
                  path: str | os.PathLike[str], *, scenario_id: str | None = None, title: str | None = None,
                  src: str | None = None, question: str | None = None) -> Path:
    """Write ``edits`` as a variant scenario that ``extends`` ``base``, validate it, return its path.

    The file has the format of the variants in ``scenarios/`` (``extends:`` plus the changed values,
    each with ``src:``), so ``negsim validate``, ``negsim run`` and ``negsim compare`` take it as it is.

    Parameters
    ----------
    base : path or sim.scenario.Scenario
        The scenario the edits apply to (a loaded one is not read again).
    edits : mapping
        ``{"dotted.path": value}``; a path may end inside a distribution (``...annual_prob.mean``).
    path : path
        Where to write (parent directories are created).
    scenario_id, title : str, optional
        Id and title of the variant (default ``<base id>_whatif`` and a list of the edits).
    src : str, optional
        Provenance of every edited value (default ``analyst assumption, <today>``).
    question : str, optional
        The question the variant answers, written as the file's opening comment.

    Raises
    ------
    sim.scenario.ScenarioError
        If the base or the written variant is invalid: the same message ``negsim validate`` gives for
        the written file (which is left in place, so the line numbers can be read).
    """
    return write_variant(base, edits, path, scenario_id=scenario_id, title=title, src=src,
                         question=question).path


def write_variant(base: str | os.PathLike[str] | Scenario, edits: Mapping[str, Any],
                  path: str | os.PathLike[str], **kw: Any) -> Scenario:
    """Write a variant as :func:`write_overlay` does; return it loaded.

    The what-if page runs the variant at once, so it is not read a third time.
    """
    import yaml

    from sim.scenario import Scenario, load_scenario

    base_sc = base if isinstance(base, Scenario) else load_scenario(base)
    scenario_id, title, src, question = (kw.get(k) for k in ("scenario_id", "title", "src", "question"))
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    src = src or f"analyst assumption, {dt.date.today().isoformat()}"
    # beside the base (or below its directory): a relative path, as scenarios/*.yaml write it; elsewhere
    # (a temporary directory) the absolute path, so the variant still finds its base
    base_path, here = Path(base_sc.path).resolve(), out.parent.resolve()
    extends = str(base_path.relative_to(here)) if base_path.is_relative_to(here) else str(base_path)
    changed = ", ".join(f"{k} = {v}" for k, v in edits.items())
    doc: dict[str, Any] = {
        "extends": extends,
        "scenario": {"id": scenario_id or f"{base_sc.id}_whatif",
                     "title": title or f"{base_sc.id} with {changed}"},
    }
    doc.update(overlay_tree(base_sc.data, edits, src))
    lines = []
    if (out.parent / "scenario.schema.json").exists():
        lines.append("# yaml-language-server: $schema=scenario.schema.json")
    lines.append(f"# Variant of {base_sc.id}. Question: {question or 'what if these assumptions change?'}")
    lines.append(f"# Overrides: {changed} ({src}). Everything else is {base_sc.id}.")
    text = "\n".join(lines) + "\n" + yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=110)
    out.write_text(text)
    return load_scenario(out)  # raises ScenarioError, as `negsim validate` on this file would
