"""Read a run directory (DESIGN §5) into memory for analysis.

A run directory holds ``runs.parquet`` (one row per replicate), ``manifest.json`` (seed, runs, resolved
scenario with provenance, run id) and usually ``summary.json``. Everything downstream of the batch layer
(probabilities, survival curves, comparison, discovery, the briefing) starts from :class:`RunData`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from sim.errors import UserError
from sim.scenario.schema import OUTCOMES as MODEL_OUTCOMES

#: The four outcome classes in the order every table and chart shows them (DESIGN §3, memo §1.6).
OUTCOMES: tuple[str, ...] = MODEL_OUTCOMES

#: Plain-language names used in sentences and chart labels.
OUTCOME_LABELS: dict[str, str] = {
    "comprehensive_deal": "comprehensive deal",
    "ceasefire": "ceasefire / frozen conflict",
    "continued_war": "continued war",
    "collapse_escalation": "collapse or escalation",
}

_HORIZON_RE = re.compile(r"^outcome_w(\d+)$")
PARAM_PREFIX = "param."


@dataclass
class RunData:
    """A run directory loaded into memory.

    Attributes
    ----------
    path : Path
        The directory.
    runs : pandas.DataFrame
        ``runs.parquet``: one row per replicate.
    manifest : dict
        ``manifest.json`` (empty dict if absent).
    summary : dict
        ``summary.json`` (empty dict if absent).
    """

    path: Path
    runs: pd.DataFrame
    manifest: dict[str, Any] = field(default_factory=dict)
    summary: dict[str, Any] = field(default_factory=dict)

    @property
    def horizons(self) -> list[int]:
        """Reporting horizons in weeks, read from the ``outcome_w<h>`` columns."""
        return horizons_of(self.runs)

    @property
    def param_columns(self) -> list[str]:
        """Names of the ``param.<dotted.path>`` columns."""
        return param_columns(self.runs)

    @property
    def run_id(self) -> str:
        """Run id from the manifest, else the directory name."""
        return str(self.manifest.get("run_id") or self.path.name)

    @property
    def seed(self) -> Any:
        """Root seed from the manifest (None if unknown)."""
        return self.manifest.get("seed", self.summary.get("seed"))

    @property
    def scenario_id(self) -> str:
        """Scenario id from the manifest (or its resolved scenario, or the summary)."""
        sc = self.manifest.get("scenario")
        if isinstance(sc, str) and sc:
            return sc
        if isinstance(sc, dict) and isinstance(sc.get("id"), str):
            return sc["id"]
        meta = scenario_data(self.manifest).get("scenario")
        if isinstance(meta, dict) and meta.get("id"):
            return str(meta["id"])
        return str(self.summary.get("scenario", "?"))

    @property
    def title(self) -> str:
        """Scenario title from the resolved scenario ('' if none)."""
        meta = scenario_data(self.manifest).get("scenario")
        return str(meta.get("title", "")) if isinstance(meta, dict) else ""

    @property
    def horizon_weeks(self) -> int:
        """Simulation horizon (censoring time for survival curves)."""
        h = self.summary.get("horizon_weeks")
        if h is None:
            data = scenario_data(self.manifest)
            h = data.get("scenario", {}).get("horizon_weeks") if isinstance(data, dict) else None
        return int(h) if h is not None else max(self.horizons)

    @property
    def provenance(self) -> dict[str, dict[str, Any]]:
        """``{dotted.path: {"src": ..., "asof": ...}}`` from the manifest's resolved scenario."""
        return scenario_provenance(self.manifest)

    @property
    def date(self) -> str:
        """Date of the run (end time from the manifest, ISO date), or '' if unknown."""
        for key in ("ended", "end_time", "started", "start_time"):
            v = self.manifest.get(key)
            if isinstance(v, str) and len(v) >= 10:
                return v[:10]
        return ""


def horizons_of(runs: pd.DataFrame) -> list[int]:
    """Return the reporting horizons (weeks) present as ``outcome_w<h>`` columns, ascending."""
    hs = sorted(int(m.group(1)) for c in runs.columns if (m := _HORIZON_RE.match(str(c))))
    return hs


def param_columns(runs: pd.DataFrame) -> list[str]:
    """Return the ``param.<dotted.path>`` columns of a runs table, in table order."""
    return [c for c in runs.columns if str(c).startswith(PARAM_PREFIX)]


def _resolved(manifest: dict[str, Any]) -> dict[str, Any]:
    """Return the resolved-scenario record: ``resolved_scenario`` (batch layer) or ``scenario``."""
    for key in ("resolved_scenario", "scenario"):
        rec = manifest.get(key)
        if isinstance(rec, dict):
            return rec
    return {}


def scenario_data(manifest: dict[str, Any]) -> dict[str, Any]:
    """Return the resolved scenario dict stored in a manifest (``{}`` if absent)."""
    rec = _resolved(manifest)
    for key in ("data", "resolved"):
        if isinstance(rec.get(key), dict):
            return rec[key]
    return rec if "scenario" in rec or "issues" in rec else {}


def scenario_provenance(manifest: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Provenance records (``src``/``asof`` per dotted path) from a manifest, or ``{}``."""
    rec = _resolved(manifest)
    for holder in (rec, manifest):
        if isinstance(holder.get("provenance"), dict):
            return holder["provenance"]
    return {}


def plain_source(src: str) -> str:
    """Drop the quoted original-language passage: ``FILE: 「...」 (gloss); rest`` -> ``FILE: (gloss); rest``.

    The seed articles are Japanese; the scenario quotes them in 「」 followed by an English gloss. Charts and
    the briefing show the file, the gloss and the rest (DejaVu Sans has no CJK glyphs).
    """
    s, n = src, 1
    while n:  # innermost first: a quotation may quote another (「...「...」...」)
        s, n = re.subn(r"「[^「」]*」\s*", "", s)
    return re.sub(r"\s+", " ", s).strip()


def source_for(provenance: dict[str, dict[str, Any]], dotted: str) -> str:
    """Return the ``src`` recorded for a parameter path, looking up its parents if the leaf has none.

    Dirichlet components (``mediator.text_weights0.US``) and sub-keys of a distribution spec inherit the
    source of the enclosing value. The look-up stops at a value a variant set without a source
    (``set_by``, :mod:`sim.scenario.overlay`): the parent's source on an enclosing mapping does not
    describe the variant's number.
    """
    parts = dotted.split(".")
    while parts:
        rec = provenance.get(".".join(parts))
        if isinstance(rec, dict) and rec.get("src"):
            src = plain_source(str(rec["src"]))
            asof = rec.get("asof")
            return f"{src} (as of {asof})" if asof else src
        if isinstance(rec, dict) and rec.get("set_by"):
            return f"set by {rec['set_by']}, which gives no source"
        parts.pop()
    return "no source recorded"


def load_run(path: str | Path) -> RunData:
    """Load a run directory; raise :class:`UserError` with a clear message if it is not one."""
    p = Path(path)
    if not p.is_dir():
        raise UserError(f"{p}: not a run directory (no such directory)")
    runs_file = p / "runs.parquet"
    if not runs_file.exists():
        # an interrupted run has block parts but no runs.parquet: analysing a part would mislead
        raise UserError(f"{p}: not a run directory (runs.parquet missing; did the run finish?)")
    runs = pd.read_parquet(runs_file)
    if not horizons_of(runs):
        raise UserError(f"{runs_file}: no outcome_w<weeks> columns; not a negsim runs table")
    manifest = _read_json(p / "manifest.json")
    summary = _read_json(p / "summary.json")
    if "replicate" in runs.columns:
        runs = runs.sort_values("replicate", kind="stable").reset_index(drop=True)
    return RunData(path=p, runs=runs, manifest=manifest, summary=summary)


def _read_json(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise UserError(f"{path}:{err.lineno}: invalid JSON ({err.msg})") from err
