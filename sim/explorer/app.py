"""The what-if page (Solara): edit the assumptions that matter most and see what changes, with intervals.

Served by ``negsim explore`` (:mod:`sim.explorer.server`). Layout: a sidebar with the scenario, the size
and seed of the quick batch, one slider and one field per assumption (its meaning and source beneath),
and the buttons to save the edits as a variant file and to write the briefing; the main area shows the
progress of a run (with Cancel), the outcome probabilities of the unchanged and the edited scenario and
their paired difference with 95% intervals, then the charts.

Every edit starts a run: the edited scenario is written as a variant file (:func:`sim.api.write_overlay`,
so a bad value gives the message ``negsim validate`` gives) and run with the same seed and size as the
unchanged scenario, which is run once and kept (:class:`sim.explorer.whatif.WhatIf`). A newer edit
cancels the run in progress. The numbers appear first; the charts are drawn after them.

Module-level state: the page serves one analyst on 127.0.0.1, so every browser tab shares it.
"""

from __future__ import annotations

import datetime as dt
import functools
import html
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import solara
import solara.lab

from sim.analysis.rundir import OUTCOME_LABELS, OUTCOMES
from sim.api import Comparison, Run, compare, write_overlay, write_variant
from sim.errors import UserError
from sim.explorer.assumptions import read_list, resolve
from sim.explorer.whatif import Cancelled, WhatIf

#: Environment set by ``negsim explore`` (the server imports this module by name).
ENV_SCENARIO = "NEGSIM_EXPLORE_SCENARIO"
ENV_WORKERS = "NEGSIM_EXPLORE_WORKERS"
ENV_RUNS = "NEGSIM_EXPLORE_RUNS"
DEFAULT_SCENARIO = Path(__file__).resolve().parents[2] / "scenarios" / "baseline.yaml"

#: The lever chooser's "no lever" entry.
NO_LEVER = "none"
#: The levers file whose interventions the page offers (`negsim levers`' default file).
LEVERS_FILE = Path(__file__).resolve().parents[2] / "levers" / "baseline.yaml"

scenario_file = solara.reactive(os.environ.get(ENV_SCENARIO) or str(DEFAULT_SCENARIO))
runs = solara.reactive(int(os.environ.get(ENV_RUNS) or 2000))
seed = solara.reactive(1)
edits: solara.Reactive[dict[str, Any]] = solara.reactive({})
lever_name = solara.reactive(NO_LEVER)
horizon = solara.reactive(104)
save_as = solara.reactive("")
saved_message = solara.reactive("")
#: the last finished run, shown until the next one finishes (a run in progress or cancelled leaves it)
shown: solara.Reactive[Any] = solara.reactive(None)

_engine: WhatIf | None = None


def engine() -> WhatIf:
    """Return the page's worker pool, started on first use and kept for the life of the server."""
    global _engine
    if _engine is None:
        n = os.environ.get(ENV_WORKERS)
        _engine = WhatIf(int(n) if n else None)
    return _engine


def shutdown() -> None:
    """Stop the workers (the server calls this when it stops)."""
    global _engine
    if _engine is not None:
        _engine.close()
        _engine = None


def parse(text: str) -> Any:
    """Return a field's text as a number if it is one, else as written (for the validator to name)."""
    try:
        return float(text)
    except ValueError:
        return text.strip()


@dataclass
class Outcome:
    """What a run of the page produced."""

    base: Run
    edited: Run
    comparison: Comparison
    overlay: Path | None
    edits: dict[str, Any]


@solara.lab.task
def whatif(scenario: str, n_runs: int, root_seed: int, changes: dict[str, Any],
           lever: str = NO_LEVER) -> Outcome | None:
    """Run the unchanged scenario (once, kept) and the edited one with the same seed; compare them.

    With a ``lever`` of the levers file chosen, the edited scenario is that lever's (the slider edits are
    cleared when a lever is chosen).
    """
    eng = engine()
    steps = {"base": 0.0}

    def cancelled() -> bool:
        return not whatif.is_current()

    def report(phase: str, share: float):
        def progress(done: int, total: int) -> None:
            if whatif.is_current():
                whatif.progress = 100 * (share * done / max(total, 1) + steps[phase])
        return progress

    overlay = None
    if lever != NO_LEVER:
        overlay = _levers(scenario)[lever].scenario
        changes = {f"lever {lever}": _levers(scenario)[lever].label}
    elif changes:
        # written (and validated) first: a bad value is reported before anything runs
        overlay = write_variant(eng.scenario(scenario), changes, eng.workdir / "whatif.yaml", src=_src())
    steps["edited"] = 0.5 if changes else 0.0
    try:
        base = eng.simulate(scenario, n_runs, root_seed, keep=True, cancelled=cancelled,
                            progress=report("base", 0.5 if changes else 1.0))
        edited = base if overlay is None else eng.simulate(overlay, n_runs, root_seed, cancelled=cancelled,
                                                           progress=report("edited", 0.5))
    except Cancelled:
        return None  # superseded or cancelled: the task is no longer current, its value is not used
    written = overlay.path if overlay is not None and lever == NO_LEVER else None
    outcome = Outcome(base, edited, compare(base, edited), written, dict(changes))
    if whatif.is_current():
        shown.set(outcome)
    return outcome


@solara.lab.task
def charts(outcome: Outcome) -> dict[str, bytes]:
    """Draw the charts of a finished run as PNG (after the numbers are on the page)."""
    import io

    out = {}
    figures = {
        "Outcomes (edited scenario)": lambda: outcome.edited.plot("outcomes"),
        "Difference from the unchanged scenario": outcome.comparison.plot,
        "Agreement over time (edited scenario)": lambda: outcome.edited.plot("agreement_over_time"),
        "Where issues settle (edited scenario)": lambda: outcome.edited.plot("settlements"),
    }
    for title, draw in figures.items():
        if not charts.is_current():
            break
        buf = io.BytesIO()
        draw().savefig(buf, format="png", dpi=72)
        out[title] = buf.getvalue()
    return out


@solara.lab.task
def briefing(outcome: Outcome) -> Path:
    """Write the chart set and the one-page briefing of the edited scenario; return the PDF's path."""
    stamp = dt.datetime.now().strftime("%H%M%S")
    return outcome.edited.report(engine().workdir / f"report-{outcome.edited.scenario_id}-{stamp}")


def _src() -> str:
    return f"analyst assumption, {dt.date.today().isoformat()}"


def _scenarios(current: str) -> list[str]:
    folder = Path(current).parent
    found = sorted(str(p) for p in folder.glob("*.yaml"))
    return found if current in found else [current, *found]


def _save() -> None:
    if not edits.value:
        saved_message.set("nothing to save: no assumption was changed")
        return
    target = Path(save_as.value or _default_save_path())
    try:
        path = write_overlay(scenario_file.value, edits.value, target, scenario_id=target.stem, src=_src(),
                             question="what if these assumptions change? (saved from negsim explore)")
    except UserError as err:
        saved_message.set(f"not saved as a valid scenario:\n{err.message}")
        return
    saved_message.set(f"saved {path} (valid: `negsim validate {path}` says ok)")


def _default_save_path() -> str:
    base = Path(scenario_file.value)
    return str(base.parent / f"{base.stem}_whatif.yaml")


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def outcome_table(outcome: Outcome, h: int) -> str:
    """HTML of the outcome probabilities at horizon ``h``: unchanged, edited, paired difference."""
    a = outcome.base.probabilities(h).set_index("outcome")
    b = outcome.edited.probabilities(h).set_index("outcome")
    d = outcome.comparison.to_df()
    d = d[d["horizon"] == h].set_index("outcome")
    rows = []
    for o in OUTCOMES:
        rows.append(
            f"<tr data-outcome='{o}'><th>{html.escape(OUTCOME_LABELS[o])}</th>"
            f"<td class='base'>{_pct(a.loc[o, 'p'])} <small>[{_pct(a.loc[o, 'lo'])}, {_pct(a.loc[o, 'hi'])}]"
            f"</small></td>"
            f"<td class='edited'>{_pct(b.loc[o, 'p'])} <small>[{_pct(b.loc[o, 'lo'])}, "
            f"{_pct(b.loc[o, 'hi'])}]</small></td>"
            f"<td class='diff'>{100 * d.loc[o, 'diff']:+.1f} <small>[{100 * d.loc[o, 'lo']:+.1f}, "
            f"{100 * d.loc[o, 'hi']:+.1f}]</small></td></tr>"
        )
    head = ("<tr><th>outcome</th><th>unchanged scenario</th><th>edited scenario</th>"
            "<th>difference (points)</th></tr>")
    n = len(outcome.edited)
    caption = (f"Probability at {h} weeks, {n:,} replicates, seed {outcome.edited.seed}; brackets: 95% "
               "interval (parameter uncertainty for the probabilities; common random numbers, paired, "
               "for the difference)")
    return (f"<table id='outcomes' style='border-collapse:collapse;width:100%'><caption "
            f"style='caption-side:bottom;text-align:left;font-size:85%'>{html.escape(caption)}</caption>"
            f"{head}{''.join(rows)}</table>"
            "<style>#outcomes td,#outcomes th{padding:4px 10px;border-bottom:1px solid #ddd;"
            "text-align:left}</style>")


@solara.component
def ReleasedSlider(value: float, low: float, high: float, step: float, on_release) -> None:
    """Show a slider that reports its value when released (a drag is one run, not one per position).

    Vuetify's slider emits ``change`` on release of the mouse and on each arrow key; its ``v_model``
    follows the thumb while it is dragged, which would start (and cancel) a run per position.
    """
    import reacton.ipyvuetify as rv

    el = rv.Slider(v_model=value, min=low, max=high, step=step, thumb_label=True, hide_details=True,
                   class_="negsim-slider")
    rv.use_event(el, "change", lambda _widget, _event, data: on_release(data))
    return el


@solara.component
def AssumptionControl(a: Any) -> None:
    """Show a slider and a field for one assumption, with its meaning and source."""
    current = edits.value.get(a.path, a.value)
    numeric = isinstance(current, float)

    def set_value(v: Any) -> None:
        new = dict(edits.value)
        if isinstance(v, float) and abs(v - a.value) < 1e-12:
            new.pop(a.path, None)
        else:
            new[a.path] = v
        lever_name.set(NO_LEVER)  # an edit replaces a chosen lever: one what-if at a time
        edits.set(new)

    with solara.Column(gap="0px", classes=["negsim-assumption"], style="margin-bottom:14px"):
        Text(f"<b>{html.escape(a.label)}</b>")
        ReleasedSlider(current if numeric else a.value, a.min, a.max, a.step,
                       on_release=lambda v: set_value(round(float(v), 10)))
        solara.InputText(a.path, value=f"{current:g}" if numeric else str(current),
                         on_value=lambda t: set_value(parse(t)), dense=True)
        Text(f"{html.escape(a.meaning)} Scenario value {a.value:g}. <i>Source: {html.escape(a.source)}</i>",
             style="font-size:80%")


@solara.component
def Page() -> None:
    """Lay out the what-if page."""
    scenario = scenario_file.value
    loaded = solara.use_memo(lambda: _load(scenario), [scenario])

    key = [scenario, runs.value, seed.value, tuple(sorted(edits.value.items(), key=str)), lever_name.value]
    def start() -> None:
        if loaded[0] is not None:
            whatif(scenario, runs.value, seed.value, dict(edits.value), lever_name.value)

    solara.use_effect(start, key)
    result = shown.value
    solara.use_effect(lambda: charts(result) if result is not None else None, [id(result)])

    solara.Title("negsim what-if")
    with solara.Sidebar():
        solara.Select("Scenario", values=_scenarios(scenario), value=scenario_file,
                      on_value=lambda _: (edits.set({}), lever_name.set(NO_LEVER)))
        levers = _levers(scenario)
        if levers:
            solara.Select("Lever (levers/baseline.yaml)", values=[NO_LEVER, *levers], value=lever_name,
                          on_value=lambda _: edits.set({}))
            if lever_name.value in levers:
                Text(f"<i class='negsim-lever'>{html.escape(levers[lever_name.value].question)}</i>",
                     style="font-size:85%")
        with solara.Row():
            solara.InputInt("Replicates", value=runs)
            solara.InputInt("Seed", value=seed)
        sliders, skipped = loaded[1], loaded[2]
        for a in sliders:
            AssumptionControl(a)
        for line in skipped:
            solara.Warning(line, dense=True)
        solara.Button("Reset to the scenario", on_click=lambda: (edits.set({}), lever_name.set(NO_LEVER)),
                      text=True)
        solara.InputText("Save the edits as", value=save_as.value or _default_save_path(),
                         on_value=save_as.set)
        with solara.Row():
            solara.Button("Save overlay", on_click=_save, classes=["negsim-save"])
            solara.Button("Briefing PDF", disabled=result is None or briefing.pending,
                          on_click=lambda: briefing(result), classes=["negsim-briefing"])
        if saved_message.value:
            solara.HTML(tag="pre", unsafe_innerHTML=html.escape(saved_message.value),
                        classes=["negsim-saved"], style="white-space:pre-wrap;font-size:80%")
        if briefing.finished and briefing.value is not None:
            pdf = briefing.value
            Text(f"Briefing written: <code class='negsim-pdf'>{html.escape(str(pdf))}</code>",
                 style="font-size:85%")
            solara.FileDownload(lambda: pdf.read_bytes(), filename=pdf.name, label="Download the briefing")
        elif briefing.error:
            solara.Error(str(briefing.exception))

    if loaded[0] is None:
        solara.Error(loaded[3], classes=["negsim-error"])
        return
    sc = loaded[0]
    solara.HTML(tag="h2", unsafe_innerHTML=html.escape(sc.data["scenario"].get("title") or sc.id))
    Text(f"What if the assumptions on the left were different? Each edit runs {runs.value:,} replicates of "
         f"the edited scenario with seed {seed.value} and compares them, replicate by replicate, with the "
         "unchanged scenario (common random numbers).")
    if whatif.pending:
        with solara.Row(classes=["negsim-running"]):
            solara.ProgressLinear(whatif.progress if whatif.progress is not None else True)
            solara.Button("Cancel", on_click=whatif.cancel, classes=["negsim-cancel"])
    if whatif.error:
        err = whatif.exception
        message = err.message if isinstance(err, UserError) else f"{type(err).__name__}: {err}"
        solara.HTML(tag="pre", unsafe_innerHTML=html.escape(message), classes=["negsim-error"],
                    style="white-space:pre-wrap;color:#b00020")
    elif whatif.cancelled:
        solara.Info("Run cancelled: change an assumption to run again.")
    latest = shown.value
    if latest is not None:
        solara.ToggleButtonsSingle(value=horizon, values=sorted(latest.edited.data.horizons))
        hs = latest.edited.data.horizons
        h = horizon.value if horizon.value in hs else max(hs)
        solara.HTML(tag="div", unsafe_innerHTML=outcome_table(latest, h))
        if latest.edits:
            Text("Edits: " + ", ".join(f"<code>{html.escape(k)}</code> = {html.escape(str(v))}"
                                       for k, v in latest.edits.items()))
        if charts.finished and charts.value:
            with solara.ColumnsResponsive(12, large=6):
                for title, png in charts.value.items():
                    with solara.Column():
                        Text(f"<b>{html.escape(title)}</b>")
                        solara.Image(png, classes=["negsim-chart"])
        elif charts.pending:
            solara.Text("drawing the charts...")


def Text(inner_html: str, style: str = "") -> Any:
    """Show a paragraph of trusted HTML (solara.Markdown would fetch KaTeX from a CDN: none offline)."""
    return solara.HTML(tag="p", unsafe_innerHTML=inner_html, style=style or "margin:4px 0")


@functools.cache
def _levers(scenario: str) -> dict[str, Any]:
    """Return the levers of ``levers/baseline.yaml`` by name, checked against ``scenario`` ({} if unfit)."""
    from sim.analysis.leverfile import load_levers

    if not LEVERS_FILE.is_file():
        return {}
    try:
        return {lv.name: lv for lv in load_levers(LEVERS_FILE, scenario).levers}
    except UserError:  # written for another scenario: its paths do not all exist here
        return {}


def _load(path: str) -> tuple[Any, list, list, str]:
    """Load the scenario and resolve the assumption list; on a bad scenario return its message."""
    from sim.scenario import load_scenario

    try:
        sc = load_scenario(path)
        found, skipped = resolve(sc, read_list())
    except UserError as err:
        return None, [], [], err.message
    return sc, found, skipped, ""
