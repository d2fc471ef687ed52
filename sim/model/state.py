"""The model's state: numpy arrays whose leading axis is the replicate (memo §1.4).

Every phase reads and edits a :class:`State` in place through masks; nothing loops over replicates.
Actors are kept in a canonical order (sorted ids), so the order in which a scenario lists them cannot
change any result (memo §4.2 guard 1).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import numpy as np

# Status codes (memo §1.4). Absorbing: COLLAPSE_MIL, ESCALATION.
WAR, CEASEFIRE, DEAL_PENDING, DEAL, COLLAPSE_MIL, RELAPSE, ESCALATION = range(7)
STATUS_NAMES = ("WAR", "CEASEFIRE", "DEAL_PENDING", "DEAL", "COLLAPSE_MIL", "RELAPSE", "ESCALATION")
FIGHTING = (WAR, RELAPSE)
AGREEMENT = (CEASEFIRE, DEAL_PENDING, DEAL)
ABSORBING = (COLLAPSE_MIL, ESCALATION)

# Agreement kinds of the first signature.
NO_AGREEMENT, KIND_COMPREHENSIVE, KIND_CEASEFIRE = 0, 1, 2


#: Every replicate, as a row selection.
ALL = slice(None)


def in_status(status: np.ndarray, codes: tuple[int, ...]) -> np.ndarray:
    """Boolean mask of replicates whose status is one of ``codes``.

    A lookup in a table over the seven codes: ``np.isin`` costs ~50 us a call in set-up for what is one
    gather, and the model asks this some 30 times a step (each table is built once).
    """
    return _status_table(tuple(codes))[status]


def rows_of(a: np.ndarray, rows) -> np.ndarray:
    """Return ``a[rows]``, the rows of a per-replicate array for an index array, mask or slice ``rows``.

    For an index array and an array of two or more dimensions this is ``np.take``, with the same result:
    numpy's fancy indexing copies such arrays row by row through its generic iterator, about 3x slower for
    (R, n) arrays (12 against 3.6 us for 900 of 2,500 rows of 5 values). A mediated round gathers some
    thirty of them per step: 5% of a block (docs/performance.md).
    """
    if isinstance(rows, np.ndarray) and rows.dtype.kind in "iu" and a.ndim > 1:
        return np.take(a, rows, axis=0)
    return a[rows]


@functools.cache
def _status_table(codes: tuple[int, ...]) -> np.ndarray:
    table = np.zeros(len(STATUS_NAMES), bool)
    table[list(codes)] = True
    table.flags.writeable = False
    return table


@dataclass
class State:
    """All per-replicate state (shapes in brackets; n actors, K issues).

    Battlefield and support: ``L`` (R) front line on the TERR scale; ``I`` (R) intensity; ``strain`` (R, n)
    exhaustion (used for belligerents); ``strain_rate`` (R, n) its growth per year at the last step;
    ``drift_factor`` (R) the structural factor of the drift at the last step (support and strains, memo
    P2); ``reserves``, ``fiscal_stress`` (R, n) each war economy's liquid reserves (% of GDP) and stress;
    ``revenue_mult`` (R, n) event multipliers of its revenue; ``fatigue`` (R, n) the decline each actor
    expects in the defender's support (per year); ``support_seen`` (R) the defender's support index last
    observed; ``support`` (R, n) each actor's support to the belligerent it backs
    (1 = the 2025 norm); ``sanctions`` (R, n) each actor's sanctions beyond the Dec-2025 regime;
    ``lifeline`` (R, n) each patron's economic support to its client; ``lifeline_policy`` (R, n) the level
    the patron means to give before the text and secondary sanctions pull it (``l0`` at t0; events edit
    it, and the lifeline follows it at the patron's rate ``kappa_l``).
    Beliefs: ``m``, ``P`` (R, n) posterior mean and precision of the drift (per year).
    Bargaining: ``xi`` (R, n) persistent reservation shocks; ``engaged`` (R, n); ``way_out`` (R, n);
    ``x_decl`` (R, n, K) declared positions; ``omega`` (R, n) text weights; ``F`` (R) mediator frustration;
    ``pause_until`` (R) weeks until which mediation is paused; ``lever_until`` (R) weeks until which the
    mediator's temporary cut of its own support holds; ``support_hold`` (R, n) the level support returns to
    when a temporary cut lapses;
    ``X_text`` (R, K) current single negotiating text; ``t_last_influence`` (R) weeks.
    Agreement: ``status`` (R) int8; ``X_agree`` (R, K) terms in force; ``t_first``, ``t_comp`` (R) weeks
    (NaN if none); ``first_kind`` (R); ``t_signed`` (R) week of the current agreement; ``t_last_lever`` (R);
    ``coerced`` (R); ``shelved`` (R) whether the last agreement signed shelved territory; ``vote`` (R) int8
    its UN-supervised status vote (sim/model/status_vote.py: none, pending, the area stays, it returns);
    ``relapsed`` (R);
    ``relapse_until`` (R); ``pending_until`` (R); ``pending_cf_weeks``.
    Event-modifiable quantities: ``cost_mult``, ``tau_add``, ``force_cap`` (R, n); ``legislature_add`` (R);
    ``branch_mult`` (R, n_branches). Diagnostics: ``n_rounds``, ``n_levers`` (R) ints; ``binding`` (R)
    actor index of the lowest surplus at the last round (-1 if none); ``fired`` (R, n_events) bool;
    ``levers_on`` (R, n) levers pulled on each party; ``first_yes`` (R, n, 2) the week each party first said
    yes to a tabled text (0) or ceasefire (1), NaN if never; ``walkaways`` (R) the mediator's walk-outs. The
    last three are evidence for the record (a hindcast's facts), not inputs to any decision.
    """

    L: np.ndarray
    I: np.ndarray
    strain: np.ndarray
    strain_rate: np.ndarray
    drift_factor: np.ndarray
    reserves: np.ndarray
    fiscal_stress: np.ndarray
    revenue_mult: np.ndarray
    fatigue: np.ndarray
    support_seen: np.ndarray
    support: np.ndarray
    sanctions: np.ndarray
    lifeline: np.ndarray
    lifeline_policy: np.ndarray
    m: np.ndarray
    P: np.ndarray
    xi: np.ndarray
    engaged: np.ndarray
    way_out: np.ndarray
    x_decl: np.ndarray
    omega: np.ndarray
    F: np.ndarray
    pause_until: np.ndarray
    lever_until: np.ndarray
    support_hold: np.ndarray
    X_text: np.ndarray
    t_last_influence: np.ndarray
    status: np.ndarray
    X_agree: np.ndarray
    t_first: np.ndarray
    t_comp: np.ndarray
    first_kind: np.ndarray
    t_signed: np.ndarray
    t_last_lever: np.ndarray
    coerced: np.ndarray
    shelved: np.ndarray
    relapsed: np.ndarray
    relapse_until: np.ndarray
    pending_until: np.ndarray
    cf_since: np.ndarray
    cost_mult: np.ndarray
    tau_add: np.ndarray
    force_cap: np.ndarray
    legislature_add: np.ndarray
    branch_mult: np.ndarray
    n_rounds: np.ndarray
    n_levers: np.ndarray
    binding: np.ndarray
    fired: np.ndarray
    levers_on: np.ndarray
    first_yes: np.ndarray
    walkaways: np.ndarray
    vote: np.ndarray
    private_u: np.ndarray | None = None
    # views of per-actor columns for event expressions, made once (sim/model/events.py, state_env)
    env_columns: dict | None = None
    t_weeks: float = 0.0
    # per-step scratch for diagnostics and the trace narrative (R = 1 readers)
    log: dict = field(default_factory=dict)
    # the strategic mediator (modules.strategic_mediator; set by the Mediator agent, None otherwise):
    # its estimate of each party's reservation relative to its own view of that party's outside option,
    # a mean and a variance (R, n) in the party's units, the prior it started from and relaxes back to,
    # and the week it was last brought up to date (R); the last refused package of each kind
    # (0 comprehensive, 1 ceasefire): whether there is one (R, 2), its terms (R, 2, K), the line (R, 2),
    # the outside options as the mediator saw them (R, 2, n), the levers pulled and the events fired
    # until then (R, 2)
    res_mean: np.ndarray | None = None
    res_var: np.ndarray | None = None
    res_mean0: np.ndarray | None = None
    res_var0: np.ndarray | None = None
    t_estimate: np.ndarray | None = None
    refused_has: np.ndarray | None = None
    refused_X: np.ndarray | None = None
    refused_L: np.ndarray | None = None
    refused_W: np.ndarray | None = None
    refused_levers: np.ndarray | None = None
    refused_events: np.ndarray | None = None
    n_waits: np.ndarray | None = None
    t_last_round: np.ndarray | None = None  # (R) week of the strategic mediator's last tabled round
    blamed_last: np.ndarray | None = None  # (R) the party blamed for the last failed round (-1: none)
    # the commitment parameters effects may edit (memo P5; set by the model at t = 0): each actor's perceived
    # reneging hazard h0 (R, n), a view of the value kernels' own copy, and the guarantee's credibility theta
    # (R), the kernels' copy when the commitment module is on
    h0: np.ndarray | None = None
    theta: np.ndarray | None = None
    # partial agreements (modules.partial_agreements; sim/model/partials.py), one column per type: in force
    # (R, T) bool, since (R, T) weeks, first signed (R, T) weeks (NaN: never), weeks held (R, T), count
    # of signings (R, T)
    pa_in_force: np.ndarray | None = None
    pa_since: np.ndarray | None = None
    pa_first: np.ndarray | None = None
    pa_held: np.ndarray | None = None
    pa_count: np.ndarray | None = None

    @property
    def R(self) -> int:
        """Number of replicates."""
        return self.L.shape[0]
