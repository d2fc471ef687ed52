"""The typed schema of a scenario file: one pydantic class per top-level block.

It accepts exactly the structure of ``scenarios/baseline.yaml``: unknown keys are errors
(``extra="forbid"``), types are strict, and every number may be a distribution within the field's range
(:mod:`sim.scenario.fields`). Ids of issues and actors are checked against those the file defines
(by :func:`sim.scenario.checks.check_references`). Meaning of each
parameter: model memo sections 1.5 and 2.3; to add a parameter, add a field to the class of its block.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainValidator, StringConstraints, WithJsonSchema

from sim.scenario.fields import (
    DIST_REF,
    ActorId,
    ActorMap,
    IssueId,
    IssueMap,
    IssueMapAll,
    Linkage,
    NonNegative,
    Number,
    NumberOrName,
    OneOf,
    PackageId,
    Positive,
    Probability,
    Simplex,
    fail,
    value_wrapper,
)

OUTCOMES = ("comprehensive_deal", "ceasefire", "continued_war", "collapse_escalation")
PROTOCOLS = ("mediated_text", "alternating_offers", "proposer", "attrition")
ROLES = ("mediator", "guarantor", "veto_comprehensive", "veto_ceasefire", "belligerent", "patron")
#: What an issue means to the model (``issues.<id>.role``): the rules that read an issue find it by role,
#: never by its id, so issues can be renamed or added in YAML (memo 1.2 anchors each scale).
ISSUE_ROLES = (
    "territory", "recognition", "alliance", "guarantee", "forces", "army_cap", "sanctions_relief", "assets",
    "normalisation",
)
#: Per-actor quantities an event effect may edit, written ``ACTOR_<suffix>`` (e.g. ``RU_tau``,
#: ``EU_force_capacity``); :mod:`sim.model.events` applies them, :mod:`sim.scenario.checks` checks the actor.
ACTOR_EFFECT_SUFFIXES = (
    "tau", "cost_multiplier", "drift_belief", "support", "sanctions", "lifeline", "force_capacity",
    "revenue_multiplier", "reneging_hazard",
)
Id = Annotated[str, StringConstraints(pattern=r"^[A-Za-z][A-Za-z0-9_]*$")]
Expression = Annotated[str, StringConstraints(min_length=1)]
Unit = Annotated[float, Field(ge=0.0, le=1.0)]


class Block(BaseModel):
    """Base of every block: unknown keys are errors, no type coercion."""

    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)


# --- scenario -------------------------------------------------------------------------------------
class OutcomeRules(Block):
    """How a replicate's end state maps to an outcome class (memo 1.6)."""

    relapse_counts_as: Literal["collapse_escalation", "continued_war"]
    pending_ratification_counts_as: Literal[OUTCOMES]  # type: ignore[valid-type]
    collapse_jump_threshold: Probability
    collapse_line_threshold: Probability


class Structure(Block):
    """Structural alternatives (memo 4.3): may be drawn with ``dist: choice``."""

    protocol: OneOf(*PROTOCOLS)
    text_solver: OneOf("nash", "kalai_smorodinsky")
    bdm_mode: OneOf("smooth", "classic")
    # textbook protocols (memo 3, T3/T4): fixed round calendar, first proposer, private-cost range, p(win)
    round_interval_weeks: Positive | None = None
    first_proposer: ActorId | None = None
    # alternating_offers with n >= 3 players: rotating-proposer unanimity bargaining (memo 3, T8), proposing
    # in this order; default the two belligerents (Rubinstein, T3)
    bargainers: list[ActorId] | None = None
    # linear: U_i = -sum_k A_i,kk |X_k - x_i,k| (risk-neutral textbook games, e.g. the 1-D Fearon setting of
    # the convergence corollary, memo 3 T6); default quadratic (memo 1.3)
    utility_shape: OneOf("quadratic", "linear") = "quadratic"
    private_cost_high: NonNegative = 0.0
    win_prob: Probability = 0.5


class ScenarioInfo(Block):
    """``scenario:``: identity, clock and outcome rules."""

    id: Id
    title: str
    info_cutoff: dt.date
    # inputs dated after info_cutoff that the scenario keeps knowingly (a hindcast inheriting a structural
    # assumption its parent sourced later): dotted path -> why it does not leak what happened next
    accepted_after_cutoff: dict[str, str] = {}
    start_date: dt.date
    horizon_weeks: Annotated[int, Field(gt=0)]
    dt_weeks: Annotated[float, Field(gt=0)]
    reporting_horizons_weeks: list[Annotated[int, Field(gt=0)]]
    outcome_rules: OutcomeRules
    structure: Structure


# --- modules --------------------------------------------------------------------------------------
class Modules(Block):
    """``modules:``: each phase switch (off: the model reduces to a published special case, memo 3)."""

    events: bool
    battlefield: bool
    learning: bool
    outside_option: bool
    commitment: bool
    ripeness: bool
    influence: bool
    levers: bool
    ratification: bool
    breakdown: bool
    reference_point: bool
    # mechanisms whose absence is the published special case (memo 3): off unless a scenario asks
    war_economy: bool = False  # budgets, reserves and fiscal stress; supporters rallying (issue 18)
    forward_beliefs: bool = False  # beliefs about the base drift, projected with expected support
    # the mediator learns reservations from refusals, does not re-table a refused text unchanged, chooses
    # packages and whom to press by leverage and movability, enforces deadlines with a credibility; off: the
    # mediator of memo P7b/P8 (a fresh misperception each round, pressure on the blamed party)
    strategic_mediator: bool = False
    # with the strategic mediator: it may also table the text with territory shelved (the line frozen,
    # recognition deferred, the rest settled; seed 001); off: only the full text and a bare ceasefire
    shelving: bool = False
    # with the strategic mediator: it may also table the shelving text plus a UN-supervised vote in the area
    # taken since February 2022 (``mediator.status_vote``; seed 001); off: no vote package
    status_vote: bool = False
    # agreements beside the comprehensive text and the ceasefire (``partial_agreements:``): minerals, prisoner
    # exchanges, moratoria, truces; off: only the comprehensive text and the ceasefire exist
    partial_agreements: bool = False


# --- issues ---------------------------------------------------------------------------------------
class Issue(Block):
    """One anchored 0-1 issue scale (memo 1.2)."""

    label: str
    anchors: dict[Unit, str]
    options: Annotated[list[Unit], Field(min_length=1)]
    # what the issue means to the model; the territorial issue shares the front line's scale (memo 1.2)
    role: Literal[ISSUE_ROLES] | None = None  # type: ignore[valid-type]


# --- actors ---------------------------------------------------------------------------------------
class Position(Block):
    """An actor on one issue: true ideal point, declared stance, raw salience (memo 1.3)."""

    ideal: Probability
    declared: Probability
    salience: NonNegative


class LinkagePair(Block):
    """Issue complementarity kappa_{i,ab} (memo 1.3)."""

    a: IssueId
    b: IssueId
    kappa: Linkage


class Accept(Block):
    """Acceptance threshold tau and per-round noise nu."""

    tau: Number
    nu: NonNegative


class ExclusionPenalty(Block):
    """Penalty when the actor's text weight falls below omega_min."""

    tau_add: Number
    omega_min: Probability


class Lifeline(Block):
    """A patron's economic lifeline to a belligerent (memo 1.5 P7b): it relieves that belligerent's strain."""

    to: ActorId
    l0: Probability  # the lifeline moves within [0, 1] (the patron's move and events clip it there)
    kappa_l: NonNegative
    alpha_norm: Number
    alpha_sanctions: Number
    secondary_sanctions_from: list[ActorId] = []  # whose sanctions make the patron back off


class SupportFlow(Block):
    """An actor's military and financial support to a belligerent: level 1 = the 2025 norm (memo 1.4)."""

    to: ActorId
    level0: NonNegative
    weight: Probability  # the actor's relative share in the belligerent's support index
    # with modules.war_economy: support rises by rally_per_year (L - rally_line) a year while the war is on
    # and the line is beyond rally_line (an imminent victory of the advancer raises aid; seed 002)
    rally_line: Unit | None = None
    rally_per_year: NonNegative = 0.0


class Economy(Block):
    """A belligerent's war budget in % of GDP (module ``war_economy``; ``sim.model.economy``)."""

    reserves0: NonNegative  # liquid reserves at t0
    deficit0: Number  # budget deficit at t0, a year
    borrowing: NonNegative  # deficit financed without reserves, a year
    revenue0: NonNegative  # war-sensitive revenue at t0 (oil and gas), a year
    sanctions_elasticity: NonNegative  # relative revenue loss per unit of the sanctions index
    lifeline_elasticity: NonNegative  # relative revenue gain per unit of the patrons' lifeline
    war_spending: NonNegative  # war spending at intensity 1, a year (the deficit moves with intensity)
    strain_per_stress: NonNegative  # strain growth added per year at full fiscal stress
    cost_per_stress: NonNegative  # war cost multiplier added at full fiscal stress


class Sanctions(Block):
    """An actor's sanctions on a belligerent beyond the December-2025 regime (memo 1.4)."""

    against: ActorId
    level0: Number
    weight: Probability  # the actor's relative share in the belligerent's sanctions index
    package_cadence_weeks: Positive | None = None  # new packages on a calendar while the war goes on
    package_increment: Number | None = None


class Actor(Block):
    """One actor: roles, capability, preferences on every issue, costs and acceptance."""

    name: str
    roles: list[Literal[ROLES]]  # type: ignore[valid-type]
    capability: Positive
    positions: IssueMapAll[Position]
    linkage: list[LinkagePair]
    discount_rate_per_year: NonNegative
    cost0_per_year: NonNegative
    cost_strain_multiplier: NonNegative
    pivot_cost: NonNegative
    deal_bonus: NonNegative
    reference_penalty: NonNegative
    ceasefire_penalty: NonNegative
    accept: Accept
    exclusion_penalty: ExclusionPenalty | None = None
    force_capacity_max: Probability = 1.0  # a guarantor consents to foreign forces up to this
    support: SupportFlow | None = None
    sanctions: Sanctions | None = None
    lifeline: Lifeline | None = None
    economy: Economy | None = None
    utility_scale: Positive = 1.0  # unit of this actor's utility-scale parameters (memo 4.2)
    disagreement_value: Number | None = None  # fixed W when modules.outside_option is off (memo 3)


# --- packages -------------------------------------------------------------------------------------
class Package(Block):
    """A named negotiating text: a point on every issue."""

    label: str
    terms: IssueMapAll[Unit]


# --- mediator -------------------------------------------------------------------------------------
class Lever(Block):
    """A lever the mediator pulls on a party (set, add or multiply).

    ``support`` and ``sanctions`` edit the mediator's own support and sanctions; ``omega`` the pressed
    party's weight in the text.
    """

    target: Literal["support", "sanctions", "omega"]
    set: Number | None = None
    add: Number | None = None
    mul: Number | None = None
    duration_weeks: NonNegative | None = None
    # strategic mediator: how far one application is expected to lower the pressed party's reservation, in
    # normalised utility units (its leverage over that party; Beardsley 2011); default 0 (none expected)
    leverage: NonNegative | None = None


class Walkaway(Block):
    """The mediator walks away for a while and cuts support."""

    pause_weeks: NonNegative
    support_set: Probability  # the mediator's support while it is away


class Deadlines(Block):
    """Deadline diplomacy: deadlines arrive at a rate, or fall on dates, and add frustration."""

    rate_per_week: NonNegative
    frustration_add: NonNegative
    # deadlines on dates (Rubio's year-end, a Thanksgiving deadline): each one that passes with the war on
    # adds frustration and, for the strategic mediator, is enforced with the credibility below
    dates: list[dt.date] = []
    # strategic mediator: the chance a missed deadline triggers the threatened lever (otherwise only
    # frustration rises); default 0, deadlines never enforced
    credibility: Probability = 0.0


class Strategy(Block):
    """When the strategic mediator may table a refused package again (``modules.strategic_mediator``).

    A refused package is tabled again only if its terms moved by more than ``text_tolerance`` on some
    issue (0-1 scales), or the state moved: the front line by more than ``line_tolerance``, a party's outside
    option (as the mediator sees it) by more than ``option_tolerance`` normalised utility units, a lever or
    an event fired.
    """

    text_tolerance: Probability = 0.02
    # the tempo (weeks between rounds) at which frustration and leverage_rate are calibrated: the strategic
    # mediator's frustration and pressure per failed round scale with the weeks since its last round over this
    reference_round_interval_weeks: Positive = 2.86
    line_tolerance: Probability = 0.02
    option_tolerance: NonNegative = 0.02


class StatusVote(Block):
    """The UN-supervised status vote the strategic mediator may table (``modules.status_vote``; seed 001).

    The contested area is the ground taken since ``return_line`` (the line of 23 February 2022 on the
    territorial scale); with probability ``p_join`` it votes to stay with Russia and both sides recognise the
    result at ``recognition_if_join``; otherwise it returns to Ukraine.
    """

    p_join: Probability
    return_line: Probability = 0.25
    recognition_if_join: Probability = 1.0


class Mediator(Block):
    """``mediator:``: the single negotiating text and the mediator's levers (memo 1.5, step 8)."""

    actor: ActorId
    text_weights0: Simplex
    nonveto_weight: NonNegative
    round_rate_per_week: NonNegative
    frustration_round_multiplier: NonNegative
    frustration_decay_per_year: NonNegative
    prox_weight: NonNegative
    # The named text (``packages:``) the mediator tables first and revises round by round (the single
    # negotiating text, Raiffa 1982); none: it opens from the compromise of the declared positions.
    opening_text: PackageId | None = None
    misperception_sd: NonNegative
    bias: ActorMap[Number]
    blame_bias: ActorMap[Number]
    leverage_rate: NonNegative
    levers: dict[Id, Lever]
    walkaway_hazard_per_year_per_F: NonNegative
    walkaway: Walkaway
    deadlines: Deadlines
    ceasefire_threshold: Number
    ceasefire_monitoring_forces: Probability
    ceasefire_settlement_prob: Probability
    strategy: Strategy | None = None
    status_vote: StatusVote | None = None


# --- war ------------------------------------------------------------------------------------------
class StrainGrowth(Block):
    """Growth of a belligerent's strain and what drives it."""

    a: NonNegative
    b_support: Number = 0.0
    b_sanctions: Number = 0.0
    b_lifeline: Number = 0.0


class CollapseJump(Block):
    """Operational collapse: a jump of the line (memo 1.5)."""

    annual_prob: Probability
    k_strain: Number
    size_low: Probability
    size_high: Probability


class CounteroffensiveJump(Block):
    """A successful counteroffensive: a jump of the line back."""

    annual_prob: Probability
    size_low: Probability
    size_high: Probability


class WarEndTerms(Block):
    """phi(L): terms a military end would impose, between the defender's and the advancer's maximum."""

    defender_max: IssueMap[Unit]
    advancer_max: IssueMap[Unit]
    L_lo: Probability
    L_hi: Probability


class War(Block):
    """``war:``: battlefield line, intensity, strain, jumps (memo 1.5, step 2)."""

    L0: Probability
    L_min: Probability
    drift_per_year: Number
    vol_per_sqrt_year: NonNegative
    aid_sensitivity: Number  # drift falls by exp(-aid_sensitivity (A - A0)), A0 the support index at t0
    strain_sensitivity: ActorMap[Number]
    strain_growth_per_year: ActorMap[StrainGrowth]
    strain_recovery_per_year: NonNegative
    collapse_jump: CollapseJump
    counteroffensive_jump: CounteroffensiveJump
    war_end_terms: WarEndTerms
    status_quo_during_war: IssueMap[Unit]
    ceasefire_intensity: NonNegative
    relapse_intensity: NonNegative
    relapse_weeks: NonNegative
    horizon_years: Positive
    escalation_disutility: NonNegative
    advancing: ActorId | None = None  # the belligerent whose gains raise L
    defending: ActorId | None = None  # the other belligerent


# --- beliefs --------------------------------------------------------------------------------------
class Beliefs(Block):
    """``beliefs:``: priors on the war's drift, learned from fighting (memo 1.5, step 3)."""

    drift_prior_mean: ActorMap[Number]
    drift_prior_sd: Positive
    forgetting_per_year: NonNegative
    collapse_hazard_belief_per_year: ActorMap[NonNegative]
    # with modules.forward_beliefs: the decline each actor expects in the defender's support (a year),
    # updated from the support it observes with this memory (years)
    support_fatigue_per_year: ActorMap[Number] | None = None
    fatigue_memory_years: Positive = 1.0


# --- commitment -----------------------------------------------------------------------------------
class Shift(Block):
    """What shifts the balance after a deal, raising the other side's temptation to renege."""

    army_cap: Number | None = None
    withdrawal: Number | None = None
    sanctions_relief: Number | None = None
    nato_open: Number | None = None
    forces: Number | None = None
    army_uncapped: Number | None = None


class Perceived(Block):
    """An actor's perceived hazard that the other side reneges (Fearon 1995; memo 1.5, step 5)."""

    h0_per_year: NonNegative
    gamma_guarantee: Number
    gamma_forces: Number
    gamma_dmz: Number
    gamma_shift: Number
    vartheta: NonNegative
    shift: Shift


class BreakdownGamma(Block):
    """How each provision lowers the true breakdown hazard (Fortna 2004)."""

    guarantee: Number
    forces: Number
    dmz: Number
    comprehensive: Number
    joint_commission: Number


class Enforcement(Block):
    """Enforcement effect on breakdown."""

    h_enf: NonNegative
    scale: NonNegative


class TrueBreakdown(Block):
    """The true hazard that a signed agreement breaks down."""

    h0_per_year: NonNegative
    gamma: BreakdownGamma
    coerced_multiplier: NonNegative
    enforcement: Enforcement


class Commitment(Block):
    """``commitment:``: the commitment problem and guarantees (memo 1.5, step 5)."""

    horizon_years: Positive
    guarantee_credibility: Probability
    perceived: ActorMap[Perceived]
    true_breakdown: TrueBreakdown


# --- ripeness, influence, noise -------------------------------------------------------------------
class Ripeness(Block):
    """``ripeness:``: mutually hurting stalemate gating engagement (Zartman 2000)."""

    cost_threshold_rel: ActorMap[NonNegative]
    victory_threshold: ActorMap[Number]
    kappa_c: Positive
    kappa_p: Positive
    p_bar: Probability
    engage_rate_per_year: NonNegative
    disengage_rate_per_year: NonNegative
    not_engaged_tau: Number


class Influence(Block):
    """``influence:``: BDM-style pressure on declared positions."""

    concession_rate_per_year: NonNegative
    pressure_rate_per_year: NonNegative
    challenge_sharpness: Positive
    status_quo_prob: Probability


class AcceptanceNoise(Block):
    """``acceptance_noise:``: persistent reservation shocks (OU process)."""

    sigma_xi: NonNegative
    T_xi_weeks: Positive


# --- ratification ---------------------------------------------------------------------------------
class RequiredIf(Block):
    """When a referendum is required."""

    terr_cession_gt: Number
    recog_ge: Probability


class SupportLogit(Block):
    """Referendum support model (logit coefficients)."""

    alpha0: Number
    beta_T: Number
    beta_R: Number
    beta_G: Number
    beta_A: Number


class Referendum(Block):
    """A popular vote on the territorial terms of a comprehensive text (Ukraine's, seed 001)."""

    required_if: RequiredIf
    min_ceasefire_days: NonNegative
    support_logit: SupportLogit
    sigma_poll: NonNegative


class Legislature(Block):
    """A legislature's approval of a binding guarantee (the US Congress)."""

    p_pass: Probability
    required_if_guarantee_ge: Probability


class Unanimity(Block):
    """Unanimity of a union's members on the sanctions and asset components (the EU's)."""

    p_base: Probability
    p_if_assets_returned: Probability


class Ratification(Block):
    """``ratification:``: referendum, legislature, unanimity, each optional: a declared one is held (P9)."""

    referendum: Referendum | None = None
    legislature: Legislature | None = None
    unanimity: Unanimity | None = None
    delay_weeks: NonNegative


# --- events ---------------------------------------------------------------------------------------
class EffectOp(Block):
    """Change one state variable: exactly one of set / add / mul."""

    set: NumberOrName | None = None
    add: Number | None = None
    mul: Number | None = None


Effect = dict[Annotated[str, StringConstraints(pattern=r"^[A-Za-z][A-Za-z0-9_.]*$")], EffectOp]


class PoissonEvent(Block):
    """An event arriving at a constant (possibly state-multiplied) rate."""

    type: Literal["poisson"]
    annual_prob: Probability
    when: Expression | None = None
    state_multiplier: Expression | None = None
    effect: Effect


class Branch(Block):
    """One possible outcome of a scheduled event."""

    label: Id
    p: Probability
    effect: Effect


class ScheduledEvent(Block):
    """An event on fixed dates, with branch probabilities."""

    type: Literal["scheduled"]
    dates: Annotated[list[dt.date], Field(min_length=1)]
    branches: Annotated[list[Branch], Field(min_length=1)]
    observed: bool = Field(False, description=(
        "a forcing of a hindcast: the event happened on its dates, after the information cut-off, and is "
        "imposed as it happened (one branch, p 1); its sources may be dated after scenario.info_cutoff"))


class EndogenousEvent(Block):
    """An event that fires when a state condition holds."""

    type: Literal["endogenous"]
    trigger: Expression
    effect: Effect


Event = Annotated[PoissonEvent | ScheduledEvent | EndogenousEvent, Field(discriminator="type")]


# --- partial agreements ---------------------------------------------------------------------------
class PartialAgreement(Block):
    """An agreement beside the comprehensive text and the ceasefire (``modules.partial_agreements``).

    ``parties`` must all sign; ``proposers`` (``mediator`` or actor ids) put it on the table at
    ``proposal_rate`` per year while ``when`` holds; each party signs with the quantal acceptance rule on
    its ``value`` (normalised utility units) plus ``value_expression`` (the event expression language,
    evaluated on the state when proposed). It stays in force ``duration_weeks`` (omitted: until it breaks
    down) unless its ``breakdown_per_year`` hazard ends it first; ``effects`` hold while it is in force.
    A ``repeatable`` agreement may be signed again; one without a duration is then an act whose effects
    accumulate (a prisoner exchange). One ``in_force_at_start`` was signed before the start: its effects are
    in the starting levels and are undone if it ends. Semantics in :mod:`sim.model.partials`.
    """

    label: str
    parties: Annotated[list[ActorId], Field(min_length=1)]
    proposers: Annotated[list[Id], Field(min_length=1)]
    proposal_rate: NonNegative = 0.0
    value: ActorMap[Number] = {}
    value_expression: ActorMap[Expression] | None = None
    when: Expression | None = None
    duration_weeks: Positive | None = None
    breakdown_per_year: NonNegative = 0.0
    repeatable: bool = False
    in_force_at_start: bool = False
    effect: Effect = {}


# --- the whole file -------------------------------------------------------------------------------
def _correlation_row(row: object) -> object:
    """``[path_a, path_b, rho]`` with rho in (-1, 1); the paths are checked in :mod:`~sim.scenario.checks`."""
    if not isinstance(row, list) or len(row) != 3:
        fail([((), f"got {row!r} (expected [path_a, path_b, rho])")])
    problems = [((str(i),), f"got {row[i]!r} (expected the dotted path of an uncertain parameter)")
                for i in (0, 1) if not isinstance(row[i], str)]
    rho = row[2]
    if isinstance(rho, bool) or not isinstance(rho, int | float) or not -1.0 < rho < 1.0:
        problems.append((("2",), f"got {rho!r} (expected a correlation rho with -1 < rho < 1)"))
    if problems:
        fail(problems)
    return row


_RHO = {"type": "number", "exclusiveMinimum": -1, "exclusiveMaximum": 1}
# rho may carry its source like any number, ``{value: 0.5, src: ...}`` (the loader unwraps it before this)
CorrelationRow = Annotated[
    Any, PlainValidator(_correlation_row),
    WithJsonSchema({"type": "array", "prefixItems": [{"type": "string"}, {"type": "string"},
                                                     {"anyOf": [_RHO, value_wrapper(_RHO)]}],
                    "minItems": 3, "maxItems": 3}),
]


class CalibrationInfo(Block):
    """``calibration:``: the scenario's parameters are history-matched (``negsim calibrate`` writes this).

    ``negsim run`` draws every parameter that has a column in ``draws`` (a Parquet file, relative to the
    file this section is written in) as a weighted resample of that file's rows, keeping the calibrated
    joint structure, instead of from its prior (:func:`sim.scenario.sampling.sample_parameters`); the
    other fields say what it was calibrated on, for the run's summary and report.
    """

    draws: Annotated[str, StringConstraints(min_length=1)]
    facts: list[Annotated[str, StringConstraints(min_length=1)]] = []
    facts_files: list[str] = []
    waves: Annotated[int, Field(ge=1)] | None = None
    seed: Annotated[int, Field(ge=0)] | None = None


class ScenarioFile(Block):
    """A whole (resolved) scenario file."""

    schema_version: Literal[1]
    scenario: ScenarioInfo
    modules: Modules
    issues: Annotated[dict[Id, Issue], Field(min_length=1)]
    actors: Annotated[dict[Id, Actor], Field(min_length=1)]
    packages: dict[Id, Package]
    mediator: Mediator
    war: War
    beliefs: Beliefs
    commitment: Commitment
    ripeness: Ripeness
    influence: Influence
    acceptance_noise: AcceptanceNoise
    ratification: Ratification
    events: dict[Id, Event]
    partial_agreements: dict[Id, PartialAgreement] = {}
    correlations: list[CorrelationRow] = []
    # history-matched parameters (negsim calibrate); absent: every parameter from its prior
    calibration: CalibrationInfo | None = None


def _distribution_schema() -> dict[str, Any]:
    """JSON Schema of the distribution grammar (kept in step with :mod:`sim.scenario.distributions`)."""
    num = {"type": "number"}
    variants = {
        "beta": ({"mean": num, "kappa": num, "low": num, "high": num}, ["mean", "kappa"]),
        "annual_prob": ({"mean": num, "kappa": num}, ["mean", "kappa"]),
        "lognormal": ({"median": num, "gsd": num}, ["median", "gsd"]),
        "gamma": ({"mean": num, "cv": num}, ["mean", "cv"]),
        "normal": ({"mean": num, "sd": num, "low": num, "high": num}, ["mean", "sd"]),
        "dirichlet": ({"mean": {"type": "object", "additionalProperties": num}, "concentration": num},
                      ["mean", "concentration"]),
        "choice": ({"options": {"type": "array", "items": {"type": ["number", "string", "boolean"]}},
                    "probs": {"type": "array", "items": num}}, ["options", "probs"]),
        "uniform": ({"low": num, "high": num}, ["low", "high"]),
    }
    prov = {"src": {"type": "string"}, "asof": {"type": "string"}}
    one_of = []
    for name, (props, required) in variants.items():
        one_of.append({
            "type": "object",
            "title": name,
            "properties": {"dist": {"const": name}, **props, **prov},
            "required": ["dist", *required],
            "additionalProperties": False,
        })
    return {"anyOf": one_of}


def json_schema() -> dict[str, Any]:
    """Return the JSON Schema of scenario files (what ``negsim schema`` prints)."""
    schema = ScenarioFile.model_json_schema()
    schema["$defs"]["Distribution"] = _distribution_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "negsim scenario"
    schema["properties"]["extends"] = {"type": "string", "description": "parent scenario file"}
    schema["properties"]["remove"] = {"type": "array", "items": {"type": "string"},
                                      "description": "dotted paths of the parent to delete (an overlay only)"}
    _allow_provenance(schema)
    return _with_overlays(_link_distributions(schema))


def _with_overlays(full: dict[str, Any]) -> dict[str, Any]:
    """Accept overlays: a file with ``extends:`` may omit any key (its parent supplies it).

    Every definition is duplicated as ``Overlay<Name>`` without ``required`` lists, and the root chooses
    between the full and the overlay form with ``if: {required: [extends]}``.
    """
    defs = full.pop("$defs")
    head = {k: full.pop(k) for k in ("$schema", "title") if k in full}

    def overlay(node: Any) -> Any:
        if isinstance(node, dict):
            out = {k: overlay(v) for k, v in node.items() if k != "required"}
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                out["$ref"] = "#/$defs/Overlay" + ref.removeprefix("#/$defs/")
            return out
        if isinstance(node, list):
            return [overlay(v) for v in node]
        return node

    all_defs = dict(defs)
    all_defs.update({f"Overlay{k}": overlay(v) for k, v in defs.items()})
    all_defs["ScenarioFull"] = full
    all_defs["ScenarioOverlay"] = overlay(full)
    return {
        **head,
        "description": "negsim scenario file (model memo 2.1); generated by `negsim schema`",
        "$defs": all_defs,
        "if": {"type": "object", "required": ["extends"]},
        "then": {"$ref": "#/$defs/ScenarioOverlay"},
        "else": {"$ref": "#/$defs/ScenarioFull"},
    }


def _link_distributions(node: Any) -> Any:
    if isinstance(node, dict):
        if node == DIST_REF:
            return {"$ref": "#/$defs/Distribution"}
        return {k: _link_distributions(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_link_distributions(v) for v in node]
    return node


def _is_plain_scalar(prop: Any) -> bool:
    """Whether a property schema is a bare string/integer/boolean/enum (numbers already allow wrappers)."""
    if not isinstance(prop, dict) or "anyOf" in prop or "$ref" in prop:
        return False
    return prop.get("type") in ("string", "integer", "boolean") or "enum" in prop or "const" in prop


def _allow_provenance(node: Any) -> None:
    """Let every object carry ``src``/``asof`` and every value be written ``{value: x, src: ...}``."""
    if isinstance(node, dict):
        for v in list(node.values()):
            _allow_provenance(v)
        wrapper = set(node.get("properties", {})) == {"value", "src", "asof"}  # {value: x, src: ...} itself
        if node.get("type") == "object" and not wrapper:
            props = node.setdefault("properties", {})
            for name, prop in props.items():
                if _is_plain_scalar(prop):
                    inner = {k: v for k, v in prop.items() if k not in ("title", "description", "default")}
                    outer = {k: v for k, v in prop.items() if k in ("title", "description", "default")}
                    props[name] = {**outer, "anyOf": [inner, value_wrapper(inner)]}
            props.setdefault("src", {"type": "string"})
            props.setdefault("asof", {"type": "string"})
    elif isinstance(node, list):
        for v in node:
            _allow_provenance(v)

