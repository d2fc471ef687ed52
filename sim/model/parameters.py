"""The model's parameters as one typed object: what every phase reads, built once per block.

:func:`sim.model.params.build_params` fills a :class:`ModelParams` from the materialised scenario, section
by section, and freezes it: no phase can patch a parameter afterwards. Each attribute is declared here
with its type and meaning; a test checks that the builder sets exactly these. Shapes: (R,) one value per
replicate, (R, n) per actor, (R, n, K) per actor and issue, (n,) or (K,) fixed across replicates. Actors
are in canonical (sorted-id) order, issues in scenario order; utility-scale numbers are in each actor's
own units (``uscale``; see :mod:`sim.model.params`).

Views derived from the parameters alone (the compiled kernels' parameter tuple, their contiguous arrays,
the options table) are computed on first use and kept (:func:`functools.cached_property` and
:meth:`ModelParams.kernel_array`); they never change a declared attribute.
"""

from __future__ import annotations

import datetime
import functools
from dataclasses import dataclass
from typing import Any

import numpy as np

Array = np.ndarray


@dataclass(frozen=True)
class Lever:
    """A lever the mediator pulls on one actor after failed rounds (memo P7b; Beardsley 2011).

    ``target`` is the actor's own column it moves (support, sanctions or omega, its weight in the text),
    ``op`` how (set, add or mul), ``value`` by how much (R,), ``duration`` how long in weeks (R,; inf:
    for good), ``leverage`` (R,) how far the strategic mediator expects one application to lower the
    actor's reservation, in the actor's own utility units.
    """

    target: str
    op: str
    value: Array
    duration: Array
    leverage: Array


class ModelParams:
    """Every parameter the phases read (memo §1), typed; set by ``build_params`` and then frozen."""

    # ---- run and calendar
    R: int  #: replicates in the block
    raw: dict  #: the materialised scenario the parameters were read from (events and narratives quote it)
    dt: float  #: step length, weeks
    dy: float  #: step length, years
    horizon: float  #: simulated weeks
    n_steps: int  #: steps to the horizon
    horizons: list[float]  #: reporting horizons, weeks
    start_date: datetime.date  #: the calendar date of week 0
    relapse_counts_as: str  #: the outcome class of a relapse into war after an agreement
    pending_counts_as: str  #: the outcome class of an agreement still awaiting ratification
    collapse_jump_threshold: float  #: a front jump of this size counts as a collapse
    collapse_line_threshold: float  #: a line beyond this counts as a collapse
    protocol: str  #: the negotiation protocol (one of ``PROTOCOLS``)
    is_ks: Array  #: (R,) bool: the mediator's text is Kalai-Smorodinsky rather than weighted Nash
    bdm_mode: str  #: BDM pressure rule, ``smooth`` (logistic) or ``classic`` (hard)
    struct: dict  #: the scenario's ``structure`` block as given (protocol-specific settings)
    linear_utility: bool  #: utilities linear in distance instead of quadratic (memo §3 textbook games)
    modules: dict[str, bool]  #: each mechanism module switched on or off

    # ---- issues
    issues: list[str]  #: issue ids, scenario order
    K: int  #: number of issues
    options: list[list[float]]  #: each issue's discrete options (empty: continuous)
    k: dict[str, int | None]  #: the issue playing each role (``ISSUE_ROLES``), None if none does
    k_terr: int | None  #: the territorial issue, on the front line's scale (memo §1.2)

    # ---- actors and their roles
    actors: list[str]  #: actor ids, sorted
    n: int  #: number of actors
    roles: dict[str, list[str]]  #: each actor's roles
    veto_C: Array  #: (n,) bool: veto player for comprehensive texts
    veto_F: Array  #: (n,) bool: veto player for ceasefires
    is_bell: Array  #: (n,) bool: belligerent
    is_guar: Array  #: (n,) bool: guarantor
    mediator: int | None  #: the mediating actor
    adv: int | None  #: the advancing belligerent (the side the drift favours)
    dfd: int | None  #: the defending belligerent (holds the reference line)
    bell_index: dict[str, int]  #: belligerent id -> actor index

    # ---- preferences (memo §1.3)
    uscale: Array  #: (R, n) the unit of each actor's own utility-scale parameters
    cap: Array  #: (R, n) capability
    ideal: Array  #: (R, n, K) ideal points
    decl0: Array  #: (R, n, K) declared positions at t0
    sal: Array  #: (R, n, K) saliences normalised over issues
    sal_raw: Array  #: (R, n, K) saliences as given
    A: Array  #: (R, n, K, K) utility matrices: saliences and linkage, kept positive definite, in own units
    A_runs: Array  #: (U, n, K, K) the distinct utility matrices, one per run of equal replicates (a draw)
    A_run_of: Array  #: (R,) int: the row of ``A_runs`` each replicate has (``A = A_runs[A_run_of]``)
    rho: Array  #: (R, n) discount rate per year
    c0: Array  #: (R, n) war cost per year at t0
    eta: Array  #: (R, n) cost multiplier of strain
    pivot: Array  #: (R, n) a supporter's cost of the delayed pivot, added to its support in its war cost
    deal_bonus: Array  #: (R, n) value of a signed deal beyond its terms
    zeta: Array  #: (R, n) reference-point penalty at the contact line
    psi: Array  #: (R, n) penalty of a bare ceasefire
    tau: Array  #: (R, n) acceptance threshold above the outside option
    nu: Array  #: (R, n) acceptance noise scale (logit)
    excl_tau: Array  #: (R, n) threshold added when the actor is left out of the text
    excl_min: Array  #: (R, n) text weight below which the actor counts as left out (0: never)
    force_cap0: Array  #: (R, n) the foreign forces each guarantor consents to field at t0 (1: no limit)
    eps: Array  #: (R, n) smoothing of the positive part, own units (memo §1.1)

    # ---- support, sanctions and lifelines between actors (memo §1.4)
    support0: Array  #: (R, n) each actor's support level at t0
    sanctions0: Array  #: (R, n) each actor's sanctions level at t0
    support_w: Array  #: (n, n) giver's share in the receiving belligerent's support index
    sanctions_w: Array  #: (n, n) giver's share in the target belligerent's sanctions index
    lifeline_to: Array  #: (n, n) 1 where a patron throws its client a lifeline
    secondary: Array  #: (n, n) bool: whose secondary sanctions a patron backs off from
    package_cadence: Array  #: (n,) weeks between sanctions packages (0: none)
    package_increment: Array  #: (n,) sanctions added by each package
    lifeline: dict[str, Array]  #: (R, n) l0, kappa_l, alpha_norm, alpha_sanctions of each patron
    is_supporter: Array  #: (n,) bool: gives support to a belligerent
    is_patron: Array  #: (n,) bool: throws a lifeline
    rally_line: Array  #: (n,) line beyond which a supporter raises its support (inf: never)
    rally_rate: Array  #: (n,) support added per year per unit of the line beyond ``rally_line``

    # ---- war economies (``sim.model.economy``)
    econ: dict[str, Array]  #: (R, n) each ``Economy`` field of every actor (0 without an economy)
    has_economy: Array  #: (n,) bool: the actor runs a war budget
    econ_S0: Array  #: (R, n) the sanctions index at t0, the revenue's reference
    econ_l0: Array  #: (R, n) the lifeline index at t0, the revenue's reference

    # ---- mediator (memo P7b, P8)
    omega0: Array  #: (R, n) text weights at t0, normalised
    nonveto_weight: float  #: weight of non-veto actors' utility in the text
    nu0: Array  #: (R,) base rate of rounds per week
    nu_F: float  #: round-rate multiplier per unit of frustration
    phi_F: float  #: frustration decay per year
    prox: float  #: proximal weight: how far a text moves from the last
    X_open: Array | None  #: (K,) terms of the named text the mediator opens from (None: the compromise)
    opening_text: str | None  #: the id of that text in ``packages:``
    sigma_med: Array  #: (R, n) sd of the mediator's misperception of outside options
    med_bias: Array  #: (R, n) mediator's bias toward each actor
    blame_bias: Array  #: (n,) how readily the mediator blames each actor for a failed round
    lev_rate: float  #: rate at which the mediator pulls a lever after failed rounds
    levers: dict[int, Lever]  #: the lever on each actor index
    walk_rate: float  #: mediator walk-away hazard per year per unit of frustration
    walk_pause: float  #: weeks a walk-away pauses the talks
    walk_support: float  #: the mediator's support level once it walks away
    deadline_rate: float  #: deadlines set per week
    deadline_weeks: tuple  #: dated deadlines, weeks from the start
    deadline_add: float  #: frustration a missed deadline adds
    cf_threshold: float  #: the mediator tables a ceasefire when its forecast for the text falls below this
    cf_forces: float  #: monitoring forces of a ceasefire (the forces issue's value)
    cf_settle: Array  #: (R,) probability a ceasefire later becomes a settlement
    deadline_cred: Array  #: (R,) chance a missed deadline triggers the threatened lever (strategic mediator)
    ref_round_interval: float  #: weeks between rounds at which frustration and levers are calibrated
    retable_text_tol: float  #: a refused package moved by more than this on some issue may be tabled again
    retable_line_tol: float  #: a front-line move beyond this lets a refused package be tabled again
    retable_option_tol: Array  #: (R, n) an outside-option move beyond this (own units) does the same
    vote_p_join: Array  #: (R,) probability the contested area votes to stay with Russia (modules.status_vote)
    vote_return_line: float  #: the territorial term if the contested area returns to Ukraine
    vote_recognition_if_join: float  #: recognition of the result if the area stays with Russia

    # ---- war (memo §1.4)
    L0: float  #: front line at t0
    L_min: float  #: the line's floor
    mu0: Array  #: (R,) drift of the line per year
    sigma_L: Array  #: (R,) volatility of the line per sqrt(year)
    beta_A: Array  #: (R,) drift's sensitivity to the defender's support relative to t0
    A0: Array  #: (R,) the defender's support index at t0 (derived)
    beta_strain: Array  #: (R, n) drift's sensitivity to each side's strain
    strain_a: Array  #: (R, n) strain growth per year
    strain_b: dict[str, Array]  #: (n,) strain's response to support, sanctions and lifeline
    strain_recovery: float  #: strain recovery per year without war
    col_rate: Array  #: (R,) collapse jumps per week
    col_k: float  #: collapse hazard's growth with strain
    col_lo: float  #: smallest collapse jump
    col_hi: float  #: largest collapse jump
    cnt_rate: Array  #: (R,) counteroffensive jumps per week
    cnt_lo: float  #: smallest counteroffensive jump
    cnt_hi: float  #: largest counteroffensive jump
    x_dfd_max: Array  #: (K,) terms the war ends on if the defender wins outright
    x_adv_max: Array  #: (K,) terms the war ends on if the advancer wins outright
    L_lo: float  #: line at or below which the defender's terms hold
    L_hi: float  #: line at or above which the advancer's terms hold
    x_sq: Array  #: (K,) the status quo while the war goes on
    I_cf: float  #: war intensity under a ceasefire
    I_relapse: float  #: war intensity of a relapse
    relapse_weeks: float  #: weeks a relapse lasts before it counts as war
    H: float  #: horizon of the war lottery, years (memo P4)
    D: Array  #: (R, n) disutility of escalation, own units

    # ---- beliefs (memo P3)
    m0: Array  #: (R, n) prior mean of the drift
    P0: Array  #: (R, n) prior precision of the drift
    forget: float  #: forgetting of the drift belief per year
    col_belief: Array  #: (R, n) believed collapse hazard per year
    fatigue0: Array  #: (R, n) the decline in the defender's support each actor expects at t0, per year
    fatigue_memory: float  #: years over which observed support updates that expectation

    # ---- commitment (memo P5)
    H_c: float  #: horizon of the reneging risk, years
    theta: Array  #: (R,) credibility of the guarantee
    h0: Array  #: (R, n) perceived reneging hazard per year without guarantees
    g_guar: Array  #: (n,) hazard's fall per unit of credible guarantee
    g_forces: Array  #: (n,) hazard's fall per unit of foreign forces
    g_dmz: Array  #: (n,) hazard's fall with a full demilitarised zone
    g_shift: Array  #: (n,) hazard's rise per unit of deal-induced power shift
    vartheta: Array  #: (R, n) cost of a power shift if the deal breaks, own units
    shift_lin: Array  #: (n, K) linear terms of the power shift
    shift_const: Array  #: (R, n) constant term of the power shift (alliance fear: the stated demand)
    shift_wd: Array  #: (n,) power shift per unit of withdrawal (smoothed)
    hb0: Array  #: (R,) true breakdown hazard per year of a signed agreement
    gb: dict[str, float]  #: the true breakdown hazard's response to guarantee, forces, DMZ, scope
    coerced_mult: float  #: breakdown multiplier of an agreement signed under coercion
    h_enf: float  #: breakdown hazard added by enforcement shortfall
    enf_scale: Array  #: (R, n) scale of the enforcement shortfall, own units

    # ---- ripeness (memo P6)
    cost_rel: Array  #: (n,) war cost relative to t0 that makes the war hurt
    victory: Array  #: (n,) the margin of the line beyond which a belligerent counts as winning
    kappa_c: float  #: sharpness of the hurting-stalemate test in cost
    kappa_p: float  #: sharpness of the hurting-stalemate test in victory probability
    p_bar: float  #: believed probability of winning below which a belligerent finds the war unwinnable
    eng_rate: float  #: engagement rate per year when ripe
    dis_rate: float  #: disengagement rate per year when not
    tau_ne: Array  #: (R, n) threshold added while not engaged

    # ---- influence (memo P7a)
    eta_c: float  #: concession rate toward the text per year
    eta_p: float  #: BDM pressure rate per year
    beta_ch: float  #: sharpness of the challenge comparison
    Q: float  #: probability the status quo persists absent a challenge

    # ---- acceptance noise (memo P9)
    sigma_xi: Array  #: (R, n) sd of reservation shocks, own units
    T_xi: Array  #: (R,) correlation time of reservation shocks, weeks

    # ---- ratification (memo P9): instruments a scenario declares
    rat_delay: float  #: weeks from signature to ratification
    has_referendum: bool  #: the defender's referendum is declared
    ref_cession: float  #: territorial cession beyond which a referendum is required
    ref_recog: float  #: recognition at or beyond which a referendum is required
    ref_min_weeks: float  #: weeks of ceasefire before a referendum can be held
    ref_logit: dict[str, float]  #: coefficients of the referendum's support
    ref_sigma: float  #: polling error of the referendum
    has_legislature: bool  #: a legislature's vote is declared
    legislature_p: Array  #: (R,) probability the legislature passes a deal
    legislature_guar: float  #: guarantee level at or beyond which the legislature must vote
    has_unanimity: bool  #: a unanimity body's vote is declared
    unanimity_p_base: Array  #: (R,) probability of unanimity
    unanimity_p_assets: Array  #: (R,) probability of unanimity when the frozen assets are returned

    # ---- events
    events: list[Any]  #: compiled events (``sim.model.events``)
    branch_keys: list[Any]  #: the branches of events with alternatives
    n_event_slots: int  #: event draws per replicate
    event_ids: list[str]  #: event ids, in order
    esc_events: list[Any]  #: events that escalate

    # ---- partial agreements (``sim.model.partials``)
    partials: list[Any]  #: compiled partial-agreement types, in declaration order (empty: module off)
    partial_slots: int  #: the partial agreements' draws per replicate and step

    # ---- protocol-specific settings
    first_proposer: str | None  #: the first proposer of alternating offers
    bargainers: list[str]  #: the two bargainers of a two-party protocol
    round_interval: float | None  #: fixed weeks between rounds (None: Poisson rounds)
    private_cost_high: float  #: the high private war cost of the screening game
    win_prob: Array  #: (R,) the first side's probability of winning a war of attrition

    # ---- derived from the parameters alone
    W_fixed: Array  #: (R, n) fixed disagreement values (protocols without a war lottery)
    c_ref: Array  #: (R, n) the war cost that counts as hurting (ripeness), cost_rel times cost at t0

    _frozen: bool = False

    def __setattr__(self, name: str, value: Any) -> None:
        if self._frozen:
            raise AttributeError(f"the model's parameters are read-only once built ({name})")
        object.__setattr__(self, name, value)

    def freeze(self) -> ModelParams:
        """Make the parameters read-only (the builder calls this last) and return them."""
        object.__setattr__(self, "_frozen", True)
        return self

    @classmethod
    def declared(cls) -> tuple[str, ...]:
        """Return the names of every declared parameter, in declaration order."""
        return tuple(name for name in cls.__annotations__ if not name.startswith("_"))

    @functools.cached_property
    def kernel(self):
        """The compiled kernels' parameter tuple (:func:`sim.model.kernels.kernel_params`)."""
        from sim.model.kernels import kernel_params

        return kernel_params(self)

    @functools.cached_property
    def option_table(self) -> tuple[Array, Array]:
        """The snapped issues' options as arrays (:func:`sim.model.kernels.option_table`)."""
        from sim.model.kernels import option_table

        return option_table(self)

    def kernel_array(self, name: str) -> Array:
        """Return the parameter ``name`` as a C-contiguous writeable float array, converted once."""
        store = self.__dict__.setdefault("_kernel_arrays", {})
        if name not in store:
            store[name] = np.require(np.asarray(getattr(self, name), float), float, ["C", "W"])
        return store[name]
