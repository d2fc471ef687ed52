"""What each switchable module of the model is: a small metadata record per ``modules:`` switch.

STYLE.md asks that every module carry a record (name, what it models, the literature, what switching it
off leaves) that documentation and narratives read instead of repeating. :data:`MODULE_INFO` is that
record; :func:`model_doc` renders it (with the phase order of :mod:`sim.model.model`) as
``docs/model.md``, and a test keeps it in step with the scenario schema's ``modules:`` block and with
:data:`sim.model.params.MODULES`.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ModuleInfo:
    """One switchable module: its YAML switch, phase, what it models, sources, and its switched-off case."""

    switch: str
    phase: str
    models: str
    literature: str
    when_off: str
    code: str


MODULE_INFO: tuple[ModuleInfo, ...] = (
    ModuleInfo(
        "events", "P1",
        "Poisson hazards (annual rates converted exactly per step), scheduled dates with branches, "
        "state-triggered rules; effects are declarative edits of named state quantities",
        "memo §1.5 P1; exact rate conversion (memo §1.1, T12)",
        "no event fires", "sim/model/events.py, sim/model/expressions.py",
    ),
    ModuleInfo(
        "battlefield", "P2",
        "the front line as a jump-diffusion whose drift moves with aid and strain; intensity, costs and "
        "strain; operational collapse and counter-offensive jumps",
        "Wagner 2000; Slantchev 2003; memo §1.5 P2",
        "the line and strain stay where they start (and learning stops: it has no signal)",
        "sim/model/battlefield.py",
    ),
    ModuleInfo(
        "learning", "P3",
        "each actor's Kalman posterior on the war's trend from common fighting signals, with forgetting",
        "Slantchev 2003; Smith & Stam 2004; Powell 2004; Blainey 1973 (mutual optimism)",
        "beliefs stay at their priors", "sim/model/learning.py",
    ),
    ModuleInfo(
        "outside_option", "P4",
        "the value of continuing the war: a drifting, costly lottery over the front line with its risk "
        "premium, and the disutility of escalation",
        "Fearon 1995; Powell 1999, 2004 (T2, T6)",
        "each actor's outside option is the fixed actors.<id>.disagreement_value",
        "sim/model/outside_option.py",
    ),
    ModuleInfo(
        "commitment", "P5",
        "a deal's value discounted by the perceived risk that the other side reneges, lowered by "
        "guarantees, foreign forces and DMZs and raised by deal-induced power shifts",
        "Fearon 1995; Powell 2006; Walter 1997, 2002; Fortna 2003, 2004 (T11 metamorphic)",
        "q = 0: a deal is worth its utility plus the deal bonus", "sim/model/commitment.py",
    ),
    ModuleInfo(
        "ripeness", "P6",
        "a mutually hurting stalemate plus a way out gates each belligerent's engagement",
        "Zartman 1989, 2000; Mooradian & Druckman 1999",
        "everyone is engaged: the rationalist model", "sim/model/ripeness.py",
    ),
    ModuleInfo(
        "influence", "P7a",
        "declared positions concede toward the text and yield to BDM-style pressure, never past the "
        "actor's own reservation",
        "Zeuthen 1930; Harsanyi 1956; Bueno de Mesquita 1994; Scholz, Calbert & Smith 2011 (T7, T10)",
        "declared positions stay at their starting values", "sim/model/influence.py",
    ),
    ModuleInfo(
        "levers", "P7b",
        "coercive mediation after failed rounds (aid pauses, sanctions, text weights), walk-away, "
        "sanctions packages on a calendar, each patron's lifeline to its client",
        "Beardsley 2011; Kydd 2003; memo §1.5 P7b",
        "no lever, walk-away, package or lifeline drift",
        "sim/model/agents.py, sim/model/influence.py, sim/model/mediation.py",
    ),
    ModuleInfo(
        "ratification", "P9",
        "a signed comprehensive text must pass the instruments the scenario declares: a referendum "
        "(Ukraine's), a legislature (the US Congress), unanimity (the EU's)",
        "Putnam 1988 (two-level games)",
        "a signed text is in force at once", "sim/model/acceptance.py, sim/model/agreement.py",
    ),
    ModuleInfo(
        "breakdown", "P10",
        "signed agreements break down at a hazard that falls with agreement strength and rises when "
        "coerced or no longer self-enforcing",
        "Fortna 2003, 2004; Werner & Yuen 2005; Beardsley 2011; Powell 2006",
        "signed agreements never break down", "sim/model/agreement.py",
    ),
    ModuleInfo(
        "reference_point", "utility",
        "a loss-aversion kink at the current line makes the contact line focal",
        "Kahneman & Tversky 1979; Levy 1996; Schelling 1960",
        "pure quadratic spatial utility", "sim/model/preferences.py",
    ),
    ModuleInfo(
        "war_economy", "P2",
        "each declared war budget (revenue against sanctions and lifeline, deficit, borrowing, reserves) "
        "and its fiscal stress, which adds to the belligerent's strain growth and war cost; supporters "
        "raise their aid as the advancer nears victory",
        "seed 001 (sanctions and attrition make indefinite war hard); seed 002; record F9, F10; Zartman 2000",
        "no budget, no fiscal stress, no rally: costs and strain as in memo P2",
        "sim/model/economy.py, sim/model/influence.py",
    ),
    ModuleInfo(
        "forward_beliefs", "P3-P4",
        "actors learn the base drift knowing how support and strains move it, project it with the support "
        "they expect (a belief about Western fatigue that observed support updates) and the strains' "
        "growth; so aid, sanctions and fiscal stress reach every outlook when they are seen",
        "seed 000 (Russia counts on time and Western fatigue); Slantchev 2003; Fearon 1995",
        "beliefs about the drift itself, projected unchanged (memo P3, P4)",
        "sim/model/learning.py, sim/model/outside_option.py",
    ),
)


def model_doc() -> str:
    """Render the module records, the roles and the step's phase order as Markdown (``docs/model.md``)."""
    from sim.model import model as model_module
    from sim.model.agents import ROLE_MIXINS

    order = (model_module.__doc__ or "").split("phases in this fixed order", 1)[-1]
    order = order.split(":", 1)[-1].strip()
    lines = [
        "# The negsim model: modules and phase order",
        "",
        "Generated from `sim/model/modules.py` and the docstring of `sim/model/model.py` by",
        "`python -m sim.model.modules > docs/model.md`; a test checks it is current.",
        "Equations: model memo §1.",
        "",
        "## One step (`NegotiationModel.step`)",
        "",
        order,
        "",
        "## Switchable modules (`modules:` in a scenario)",
        "",
        "| switch | phase | what it models | literature | switched off | code |",
        "|---|---|---|---|---|---|",
    ]
    lines += [
        f"| `{m.switch}` | {m.phase} | {m.models} | {m.literature} | {m.when_off} | `{m.code}` |"
        for m in MODULE_INFO
    ]
    lines += [
        "",
        "## Roles (`actors.<id>.roles` in a scenario)",
        "",
        "An actor's agent is composed of one mixin per role (`sim/model/agents.py`); its decisions are the",
        "mixin's methods, acting on that actor's column of every replicate.",
        "",
        "| role | agent mixin | what it decides | source |",
        "|---|---|---|---|",
    ]
    lines += [
        f"| `{role}` | `{cls.__name__}` | {cls.meta['models']} | {cls.meta['source']} |"
        for role, cls in ROLE_MIXINS.items()
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(model_doc(), end="")
