"""The settings of the baseline scenario that cannot reach the model's results, each with the reason.

DESIGN §2, "One source of truth": every setting a user can write reaches the results, or is declared
inert, with a reason, in this one table. ``tests/test_every_setting.py`` walks every leaf of
``scenarios/baseline.yaml`` (numbers, distribution parameters, names, switches, list entries, and the
``src``/``asof`` provenance), changes each one materially and reruns the model with common random numbers.
A leaf that no entry matches must move a per-replicate record; a leaf that an entry matches must move
none, so the table cannot hide a live setting; and every entry must match some leaf, so none goes stale.

Inert means *cannot act in the baseline configuration*: a label or a source, a date only the checks
read, a value the schema fixes, a parameter of a role its actor does not play. A setting that ought to act
and does not is a defect to fix in the model, never an entry here.

A pattern is a dotted leaf path (list entries by index) with ``fnmatch`` wildcards (``*`` also spans
dots) and shell-style alternatives: ``actors.{US,EU}.name``.
"""

from __future__ import annotations

import fnmatch
import re
from typing import NamedTuple


class Inert(NamedTuple):
    """A leaf pattern of the baseline and why no value written there can change a result."""

    pattern: str
    reason: str


INERT: tuple[Inert, ...] = (
    Inert("*.src", "provenance: the loader moves it into Scenario.provenance (sim/scenario/overlay.py, "
                   "strip_provenance); it never reaches the parameters"),
    Inert("*.asof", "provenance date: moved into Scenario.provenance with its src"),
    Inert("schema_version", "the file format's version; the schema accepts the value 1 only"),
    Inert("scenario.{id,title}", "names the scenario in run directories, manifests and charts"),
    Inert("scenario.info_cutoff", "the date of the assumptions' information; only the scenario checks read "
                                  "it (info_cutoff <= start_date), no model phase"),
    Inert("issues.*.{label,anchors.*}", "documents the issue's 0-1 scale for readers and charts"),
    Inert("issues.TERR_CTRL.options.*", "the territorial issue shares the front line's scale and stays "
                                        "continuous: snap() skips it (sim/model/mediation.py)"),
    Inert("actors.*.name", "the actor's display name; the model uses the id"),
    Inert("packages.*.label", "names the package for readers and diagnostics"),
    Inert("packages.plan_28_point.terms.*",
          "a superseded draft: the mediator opens from mediator.opening_text (the 20-point framework that "
          "replaced it); the diagnostics' package surpluses and a scenario opening from it read it"),
    Inert("events.*.branches.*.label", "names the branch; effects refer to it as EVENT.label.p, which "
                                       "compile_events resolves to the branch's slot (sim/model/events.py)"),
    Inert("partial_agreements.*.label", "names the agreement in the trace and summary.json; the model and "
                                        "its records use the id"),
    Inert("partial_agreements.MINERALS.{parties.*,proposers.*}",
          "the minerals fund is in force at the start and not repeatable, so it is never proposed or signed "
          "again: who would sign or propose it cannot act (sim/model/partials.py, partials_phase)"),
    Inert("actors.{US,EU,CN}.cost_strain_multiplier",
          "strain is a belligerent's: war_cost multiplies it only for belligerents "
          "(sim/model/outside_option.py, war_cost)"),
    Inert("actors.{US,EU,CN}.reference_penalty",
          "the reference point is the contact line, held by the belligerents: the kink's side sgn is 0 "
          "for the others (sim/model/kernels.py, kernel_params)"),
    Inert("actors.{US,EU,CN}.ceasefire_penalty",
          "enters the value of a ceasefire, which only the veto_ceasefire players (RU, UA) vote on "
          "(sim/model/agents.py, Mediator.choose_package)"),
    Inert("actors.CN.accept.nu", "CN is no veto player, so its acceptance draw never decides a round"),
    Inert("ratification.referendum.required_if.terr_cession_gt",
          "shadowed by recog_ge: every comprehensive text of the baseline recognises occupation at 0.33 or "
          "more, which already calls the referendum (sim/model/acceptance.py, referendum_required)"),
    Inert("actors.{RU,UA,CN}.pivot_cost",
          "the pivot is the opportunity cost of supporting a belligerent: war_cost adds it to the aid of "
          "an actor with a support: block (sim/model/outside_option.py), and these give none"),
    Inert("mediator.nonveto_weight",
          "weighs the non-veto actors in the text, and the baseline's only non-veto actor (CN) has no share "
          "of text_weights0 (weight 0; sim/model/mediation.py, solve_text)"),
    Inert("mediator.ceasefire_threshold",
          "the rule of the mediator with modules.strategic_mediator off (a ceasefire when the text's "
          "forecast falls below it); the baseline's strategic mediator chooses the package by forecast "
          "acceptance times value instead (sim/model/agents.py, Mediator.choose_package)"),
    Inert("actors.US.roles.1",
          "the US as guarantor consents to any force level: it declares no force_capacity_max (default 1, "
          "the top of the FORCES scale; sim/model/agents.py, Guarantor.consents)"),
)


def _alternatives(pattern: str) -> list[str]:
    """Expand shell-style ``{a,b}`` alternatives (not nested) into plain ``fnmatch`` patterns."""
    match = re.search(r"\{([^{}]*)\}", pattern)
    if match is None:
        return [pattern]
    head, tail = pattern[: match.start()], pattern[match.end() :]
    return [p for alt in match.group(1).split(",") for p in _alternatives(head + alt + tail)]


def matches(leaf: str, pattern: str) -> bool:
    """Whether the dotted ``leaf`` path matches ``pattern`` (wildcards and ``{a,b}`` alternatives)."""
    return any(fnmatch.fnmatchcase(leaf, p) for p in _alternatives(pattern))


def declared_inert(leaf: str) -> Inert | None:
    """Return the entry of :data:`INERT` that matches ``leaf``, or None."""
    return next((entry for entry in INERT if matches(leaf, entry.pattern)), None)
