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
        "strategic_mediator", "P7b, P8",
        "the mediator learns each party's reservation from its verdicts (a probit update of a normal "
        "estimate that fades as reservations drift), tables the package with the higher forecast "
        "acceptance times value and never a refused package unchanged (it waits instead), presses where "
        "leverage times movability is largest, and carries out a missed deadline's threat with a "
        "credibility",
        "Raiffa 1982; Kydd 2003; Svensson 2007; Beardsley 2011; seed 002; record 2025 (F2, F7)",
        "the mediator of memo P7b/P8: a fresh misperception each round, a ceasefire below a forecast "
        "threshold, pressure on the blamed party, deadlines that only add frustration",
        "sim/model/agents.py, sim/model/mediation.py",
    ),
    ModuleInfo(
        "shelving", "P8",
        "the strategic mediator may table its text with territory shelved: the line frozen where the "
        "armies stand, recognition deferred, guarantees, forces, army, sanctions and reconstruction "
        "settled; valued, forecast, refused and remembered like the full text, signed as a comprehensive "
        "deal (``territory_shelved`` in the records), and needing no referendum since it cedes nothing",
        "seed 001 (shelving territory, security and economics first); the Korean armistice and Cyprus; "
        "Raiffa 1982 (packages of the single text)",
        "the mediator chooses between the full text and a bare ceasefire",
        "sim/model/mediation.py, sim/model/agents.py",
    ),
    ModuleInfo(
        "status_vote", "P8, P9",
        "the strategic mediator may table the shelving text plus a UN-supervised vote in the area taken "
        "since February 2022, held once the deal is ratified (after the minimum ceasefire): the area stays "
        "with Russia, recognised, with probability ``p_join``, or returns to Ukraine; each party values the "
        "package by its expected utility over the two results (``territory_vote`` in the records)",
        "seed 001 (a UN-supervised referendum as a way to settle territory); the Saar 1935 and East Timor "
        "1999 plebiscites; von Neumann & Morgenstern 1944",
        "no vote package: territory is ceded, held or shelved by the text",
        "sim/model/status_vote.py, sim/model/mediation.py, sim/model/agents.py",
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
    ModuleInfo(
        "partial_agreements", "P10b",
        "agreements beside the comprehensive text and the ceasefire, declared in partial_agreements: "
        "(minerals fund, prisoner exchanges, energy moratorium, Black Sea, short truces): proposed by the "
        "mediator or a party at a rate, signed by every party under the acceptance rule on its value, in "
        "force until their duration or a breakdown hazard ends them, with event-like effects while in force "
        "(support, revenue, costs, the perceived reneging hazard, the guarantee's credibility); never a "
        "change of status, so the four outcome classes keep their meaning",
        "Osgood 1962 (GRIT); Fortna 2003; seed 000 (exchanges as confidence-building); seeds 002, 004 "
        "(the minerals deal as a US stake); record 2025 (F1, F13)",
        "only the comprehensive text and the ceasefire exist; no partial_* records",
        "sim/model/partials.py",
    ),
)


@dataclass(frozen=True)
class LeverPath:
    """How a shipped lever reaches the outcome: the state it changes, whose value moves, and why."""

    lever: str
    changes: str
    moves: str
    why: str


#: The path of each shipped lever, in the order of ``levers/baseline.yaml`` (their sources are there).
LEVER_PATHS: tuple[LeverPath, ...] = (
    LeverPath("us_aid_cutoff", "the US support level (an event sets it to 0)",
              "the defender's support index, hence the drift (P2) and every forward-looking outlook (P3-P4)",
              "aid slows the advance; without it the front gives way more often (collapse) and Russia "
              "expects more from fighting on"),
    LeverPath("us_walkaway", "the mediator's walk-away hazard and pause",
              "no rounds while it is away; its own support drops to the walk-away level",
              "without the mediator no text is tabled (every 2025 round was US-convened)"),
    LeverPath("us_presses_ukraine", "the mediator's blame bias and its lever on Ukraine",
              "Ukraine's support during the pause, Ukraine's outside option and so its acceptance",
              "pressure on the side that binds rarely moves little"),
    LeverPath("us_presses_russia", "US sanctions on Russia and the lever on Russia",
              "the sanctions index: Russia's strain and revenue (P2, P2a), hence its outlook",
              "sanctions act through Russia's economy and the front, slowly"),
    LeverPath("secondary_tariffs", "the lifeline's response to US secondary sanctions",
              "China's lifeline to Russia: Russia's strain relief and revenue",
              "a smaller lifeline wears Russia down a little faster"),
    LeverPath("europe_unity_shock", "the rate of the European unity shock",
              "European support (the support index) and Europe's force capacity",
              "a split Europe weakens the defender: more collapses, and Russia's outlook improves"),
    LeverPath("european_troops", "Europe's force capacity",
              "the guarantor's consent to the force terms",
              "does not bind in the baseline: the texts ask for less than Europe can field"),
    LeverPath("frozen_assets_to_ukraine", "an event raising European support early",
              "the support index: the drift, Ukraine's strain, every outlook",
              "a stronger defender holds the line: fewer collapses, more war instead"),
    LeverPath("russian_fiscal_squeeze", "Russia's oil and gas revenue and strain growth",
              "Russia's deficit, reserves and fiscal stress (P2a): its strain, war cost, drift and outlook",
              "an unfunded war budget wears Russia down and lowers what it expects from fighting on"),
    LeverPath("china_lifeline_cut, china_lifeline_raised", "China's lifeline policy (an event), which the "
              "flows follow at China's rate", "Russia's oil and gas revenue, hence its deficit, reserves and "
              "fiscal stress (P2a), and its strain relief (P2)",
              "weak within two years: a cut to 0.2 costs Russia about a quarter of its oil and gas revenue, "
              "which reserves and borrowing absorb, as they absorbed the 2025 fall"),
    LeverPath("strong_guarantee, weak_guarantee", "guarantee credibility and the legislature's vote",
              "the perceived reneging hazard (P5) and ratification (P9)",
              "a believed guarantee makes a deal worth more to Ukraine and ratifies more often"),
    LeverPath("ukraine_asks_less_on_guarantees", "Ukraine's SEC_GUAR ideal point and declared position",
              "the text's guarantee (P8) and, through it, Ukraine's perceived reneging hazard (P5)",
              "a weaker guarantee in the text leaves Ukraine's fear of renewed war higher, so it refuses "
              "more; Russia, bound by territory and its outlook, gains little"),
    LeverPath("ukraine_flexible_territory", "Ukraine's declared territorial position and its threshold",
              "the mediator's view of Ukraine (the text) and Ukraine's acceptance",
              "a concession: the text moves toward Russia and Ukraine takes it; moving Ukraine's ideal "
              "instead would raise its outside option and so its bargaining power"),
    LeverPath("russia_flexible_nato", "Russia's NATO ideal and declared position",
              "the text and Russia's alliance fear, measured from its stated demand (P5)",
              "a softer demand lets the text and Russia's fear move together"),
    LeverPath("russia_loses_patience", "Russia's drift prior, fatigue bet and discount rate",
              "Russia's outside option (P4): the weight and value of the war's end terms",
              "Russia's patience and expectations decide most of the baseline's answer"),
    LeverPath("dated_deadline", "a dated deadline of the mediator and its credibility",
              "the mediator's frustration and, where enforced, its lever on the party it blames (P7b)",
              "an enforced threat presses the refuser (mostly Russia: sanctions); nothing speeds agreement "
              "before the date, so only the consequences show"),
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
    lines += [
        "",
        "## How each lever reaches the outcome (`levers/baseline.yaml`; `negsim levers`)",
        "",
        "The sources of each expectation are in the levers file; `docs/levers.md` has the measured effects.",
        "",
        "| lever | what it changes | whose value moves | why |",
        "|---|---|---|---|",
    ]
    lines += [f"| `{p.lever}` | {p.changes} | {p.moves} | {p.why} |" for p in LEVER_PATHS]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(model_doc(), end="")
