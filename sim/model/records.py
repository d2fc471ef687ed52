"""Per-replicate records of a finished run (docs/contracts.md §sim.model).

Every array has length R. Strings are numpy unicode arrays built without a Python loop over replicates
(unique codes are mapped to their labels).
"""

from __future__ import annotations

import numpy as np

from sim.model.outcomes import OUTCOMES
from sim.model.partials import weeks_held
from sim.model.state import KIND_CEASEFIRE, KIND_COMPREHENSIVE
from sim.model.status_vote import VOTE_LABELS

AGREEMENT_TYPES = np.array(["none", "comprehensive_deal", "ceasefire"])


def _horizon_key(h: float) -> str:
    return f"outcome_w{int(h) if float(h).is_integer() else h}"


def _joined(flags: np.ndarray, names: list[str]) -> np.ndarray:
    """Join the names of each row's set flags with ';' (R,), vectorised through unique bit codes."""
    R = flags.shape[0]
    if not names:
        return np.full(R, "", dtype="<U1")
    codes = flags.astype(np.int64) @ (1 << np.arange(len(names), dtype=np.int64))
    uniq, inv = np.unique(codes, return_inverse=True)
    labels = np.array([";".join(n for j, n in enumerate(names) if (c >> j) & 1) for c in uniq])
    return labels[inv]


def evidence_records(model, rec: dict[str, np.ndarray]) -> None:
    """Add the records a hindcast's facts read (facts/*.yaml): the line, budgets, verdicts, levers, exits.

    ``line_gain_wH`` the advance of the line from the start to horizon H (TERR units); ``reserves_ID_wH``
    the liquid reserves of each belligerent with a budget (% of GDP); ``first_yes_text_ID`` and
    ``first_yes_ceasefire_ID`` the week each party first said yes to a tabled text or ceasefire (NaN: never);
    ``levers_on_ID`` the mediator's levers pulled on each party; ``walkaways`` its walk-outs.
    """
    prm, st = model.prm, model.state
    for h in prm.horizons:
        tag = _horizon_key(h).removeprefix("outcome_")
        line = model.line_at.get(h, st.L)
        rec[f"line_gain_{tag}"] = line - model.line0
        reserves = model.reserves_at.get(h, st.reserves)
        for i in np.flatnonzero(prm.has_economy):
            rec[f"reserves_{prm.actors[i]}_{tag}"] = reserves[:, i].copy()
    for i, a in enumerate(prm.actors):
        if prm.veto_C[i] or prm.veto_F[i]:
            rec[f"first_yes_text_{a}"] = st.first_yes[:, i, 0].copy()
            rec[f"first_yes_ceasefire_{a}"] = st.first_yes[:, i, 1].copy()
        if i in prm.levers:
            rec[f"levers_on_{a}"] = st.levers_on[:, i].copy()
    rec["walkaways"] = st.walkaways.copy()


def make_records(model) -> dict[str, np.ndarray]:
    """Collect the contract records from a finished :class:`~sim.model.model.NegotiationModel`."""
    prm, st = model.prm, model.state
    rec: dict[str, np.ndarray] = {}
    outcomes = np.array(OUTCOMES)
    for h in prm.horizons:
        cls = model.outcome_at.get(h)
        if cls is None:
            from sim.model.outcomes import classify

            cls = classify(st, prm)
        rec[_horizon_key(h)] = outcomes[cls]
    rec["weeks_to_agreement"] = st.t_first.copy()
    rec["weeks_to_comprehensive"] = st.t_comp.copy()
    kind = np.where(st.first_kind == KIND_COMPREHENSIVE, 1, np.where(st.first_kind == KIND_CEASEFIRE, 2, 0))
    rec["agreement_type"] = AGREEMENT_TYPES[kind]
    for k, iss in enumerate(prm.issues):
        rec[f"settle_{iss}"] = st.X_agree[:, k].copy()
    ids = np.array(list(prm.actors) + [""])
    rec["binding_veto"] = ids[np.where(st.binding >= 0, st.binding, len(prm.actors))]
    rec["n_rounds"] = st.n_rounds.copy()
    rec["territory_shelved"] = st.shelved.copy()
    rec["territory_vote"] = VOTE_LABELS[st.vote]
    rec["levers_fired"] = st.n_levers.copy()
    # rounds in which the strategic mediator tabled nothing (every package refused and unchanged since)
    rec["rounds_waited"] = st.n_waits.copy() if st.n_waits is not None else np.zeros(st.R, np.int64)
    rec["events_fired"] = _joined(st.fired, prm.event_ids)
    evidence_records(model, rec)
    if prm.partials:
        held = weeks_held(st, model.t)
        for j, pa in enumerate(prm.partials):
            rec[f"partial_{pa.id}_week"] = st.pa_first[:, j].copy()
            rec[f"partial_{pa.id}_weeks_held"] = held[:, j].copy()
            if pa.repeatable:
                rec[f"partial_{pa.id}_count"] = st.pa_count[:, j].copy()
    return rec
