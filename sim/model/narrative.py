"""A week-by-week narrative of one replicate (R = 1, the same code path as a batch) for ``negsim trace``.

Reads the model's state and the per-step log the phases leave (``state.log``) and tells what happened in
plain English: events, the front line, each round's text (the issues that moved), who accepted, who refused
and by how much (surplus against the outside option), levers, signatures, ratification, breakdowns, partial
agreements proposed, signed, refused, lapsed or broken down, and the outcome at each reporting horizon.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from sim.model.model import NegotiationModel
from sim.model.outcomes import OUTCOMES
from sim.model.state import STATUS_NAMES
from sim.model.status_vote import VOTE_JOIN, VOTE_PENDING, VOTE_RETURN

STATUS_WORDS = {
    "WAR": "war",
    "CEASEFIRE": "ceasefire",
    "DEAL_PENDING": "deal signed, awaiting ratification",
    "DEAL": "comprehensive deal in force",
    "COLLAPSE_MIL": "Ukrainian military collapse (imposed settlement)",
    "RELAPSE": "agreement broke down: fighting resumed",
    "ESCALATION": "escalation (NATO-Russia clash or nuclear use)",
}


def _verdict(actor: str, rnd: dict, i: int) -> str:
    """One veto player's verdict on a text, with why it refused.

    ``rnd["S"]`` is the net surplus V - W - tau - xi (memo P9); the gross surplus against the outside
    option is V - W, and the threshold it must clear is the demand tau plus the reservation shock xi. A
    refusal with a positive gross surplus is explained by that threshold; a refusal with a positive *net*
    surplus is the quantal-response tremble (McKelvey & Palfrey 1995).
    """
    net = float(rnd["S"][0, i])
    tau, xi = float(rnd["tau"][0, i]), float(rnd["xi"][0, i])
    thr = tau + xi
    gross = net + thr
    if rnd["accepted"][0, i]:
        return f"{actor} accepted (surplus {gross:+.3f} against its outside option)"
    if gross <= 0:
        return f"{actor} refused (surplus {gross:+.3f} against its outside option)"
    if net < 0:
        return (
            f"{actor} refused (surplus {gross:+.3f} against its outside option, short of its threshold "
            f"{thr:+.3f}: demand {tau:+.3f} and reservation shock {xi:+.3f})"
        )
    return (
        f"{actor} refused (surplus {gross:+.3f} against its outside option, above its threshold {thr:+.3f}: "
        "a random refusal of the quantal acceptance rule)"
    )


def _partial_lines(tag: str, log, actors: list[str]) -> Iterator[str]:
    """Tell the partial agreements signed, refused, lapsed or broken down this step (sim/model/partials.py).

    A partial agreement never changes the status, so these lines stand beside the status lines.
    """
    for entry in log:
        pa, what, where = entry[:3]
        if not where[0]:
            continue
        if what == "signed":
            yield f"{tag} partial agreement: {pa.label} signed by {', '.join(actors[i] for i in pa.parties)}."
        elif what == "refused":
            who = [actors[i] for c, i in enumerate(pa.parties) if entry[3][0, c]]
            yield f"{tag} partial agreement: {pa.label} proposed, refused by {', '.join(who)}."
        else:
            yield f"{tag} partial agreement: {pa.label} {what}."


def narrate(model: NegotiationModel, weeks: float | None = None, summary_every: int = 13) -> Iterator[str]:
    """Run ``model`` (R = 1) and yield narrative lines, week by week."""
    prm, st = model.prm, model.state
    if prm.R != 1:
        raise ValueError("narrate() tells one replicate: build the model with n_replicates=1")
    weeks = prm.horizon if weeks is None else min(float(weeks), prm.horizon)
    n_steps = int(round(weeks / prm.dt))
    actors = prm.actors
    drafted = prm.opening_text and prm.protocol == "mediated_text"
    opening = f", opening text {prm.opening_text}" if drafted else ""
    yield (
        f"Start ({prm.start_date}): front line {st.L[0]:.3f} on the TERR scale, text solver "
        f"{'Kalai-Smorodinsky' if prm.is_ks[0] else 'Nash'}, round rate {prm.nu0[0]:.2f}/week, "
        f"veto players {', '.join(a for a, v in zip(actors, prm.veto_C, strict=True) if v)}{opening}."
    )
    for pa in prm.partials:
        if pa.at_start:
            yield f"In force at the start: {pa.label} (partial agreement)."
    prev_text = None
    fired_before = st.fired[0].copy()
    status_before = STATUS_NAMES[st.status[0]]
    for _ in range(n_steps):
        support, sanctions = st.support[0].copy(), st.sanctions[0].copy()
        waits = int(st.n_waits[0]) if st.n_waits is not None else 0
        vote_before = int(st.vote[0])
        model.step()
        week = model.t
        tag = f"Week {week:g}:"
        new = np.flatnonzero(st.fired[0] & ~fired_before)
        for k in new:
            yield f"{tag} event {prm.event_ids[k]} fired."
        fired_before = st.fired[0].copy()
        J = float(st.log.get("J", np.zeros(1))[0])
        defender = actors[prm.dfd] if prm.dfd is not None else "the defender"
        if J > 0:
            yield f"{tag} {defender}'s front gives way: the line jumps {J:+.3f} to {st.L[0]:.3f}."
        elif J < 0:
            yield f"{tag} {defender}'s counter-offensive: the line moves {J:+.3f} to {st.L[0]:.3f}."
        if st.n_waits is not None and int(st.n_waits[0]) > waits:
            yield (f"{tag} the mediator convenes but tables nothing: every package it could offer was "
                   "refused and neither it nor the situation has changed enough since.")
        rnd = st.log.get("round")
        if rnd is not None and len(rnd["rows"]):
            X = rnd["X"][0]
            kind = (
                "a ceasefire (freeze at the line, monitors)"
                if rnd["ceasefire"][0]
                else "its text with territory shelved (the line frozen, recognition deferred)"
                if rnd["shelved"][0]
                else "its text with a UN-supervised status vote on the land taken since February 2022"
                if rnd.get("vote") is not None and rnd["vote"][0]
                else "a comprehensive text"
            )
            moved = []
            if prev_text is not None:
                for k, iss in enumerate(prm.issues):
                    if abs(X[k] - prev_text[k]) > 0.02:
                        moved.append(f"{iss} {prev_text[k]:.2f}->{X[k]:.2f}")
            prev_text = X.copy()
            lead = "; the draft comprehensive text moved: " if rnd["ceasefire"][0] else "; moved: "
            what = (lead + ", ".join(moved)) if moved else ("" if prev_text is None else "; no issue moved")
            yield (
                f"{tag} round {int(st.n_rounds[0])}: the mediator tabled {kind} "
                f"(predicted chance all accept {rnd['p_hat'][0]:.2f}){what}."
            )
            if not rnd["ceasefire"][0] and not moved:
                yield "    text: " + ", ".join(f"{iss} {X[k]:.2f}" for k, iss in enumerate(prm.issues))
            parts = []
            for i, a in enumerate(actors):
                if not rnd["veto"][0, i]:
                    continue
                parts.append(_verdict(a, rnd, i))
            yield "    " + "; ".join(parts) + "."
            if rnd["blamed"][0] >= 0 and not rnd["signed"][0]:
                b = actors[rnd["blamed"][0]]
                line = f"    No agreement; the mediator blames {b} (frustration {st.F[0]:.1f})."
                if rnd["lever"][0]:
                    med = prm.mediator
                    who = actors[med]
                    if st.support[0, med] != support[med]:
                        line += f" Lever: {who} support cut to {st.support[0, med]:.2f} for a while."
                    elif st.sanctions[0, med] != sanctions[med]:
                        line += f" Lever: {who} sanctions raised to {st.sanctions[0, med]:.2f}."
                    else:
                        line += " Lever applied."
                yield line
        yield from _partial_lines(tag, st.log.get("partials", ()), actors)
        if int(st.vote[0]) in (VOTE_JOIN, VOTE_RETURN) and vote_before == VOTE_PENDING:
            side = "stay with Russia" if int(st.vote[0]) == VOTE_JOIN else "return to Ukraine"
            yield (f"{tag} the UN-supervised status vote is held: the contested area votes to {side} "
                   f"(territory {st.X_agree[0, prm.k_terr]:.2f}).")
        status = STATUS_NAMES[st.status[0]]
        if status != status_before:
            extra = ""
            if status in ("DEAL_PENDING", "DEAL", "CEASEFIRE") and not np.isnan(st.X_agree[0, 0]):
                extra = ": " + ", ".join(f"{iss} {st.X_agree[0, k]:.2f}" for k, iss in enumerate(prm.issues))
            yield f"{tag} status {status_before.lower()} -> {STATUS_WORDS[status]}{extra}."
            status_before = status
        if summary_every and int(round(week / prm.dt)) % max(int(round(summary_every / prm.dt)), 1) == 0:
            bits = ", ".join(f"strain {a} {st.strain[0, i]:.2f}" for a, i in prm.bell_index.items())
            eng = ", ".join(
                f"{a} {'engaged' if st.engaged[0, i] else 'not engaged'}" for a, i in prm.bell_index.items()
            )
            sanctioning = prm.sanctions_w.any(axis=1)
            flows = [
                *(f"{a} support {st.support[0, i]:.2f}" for i, a in enumerate(actors) if prm.is_supporter[i]),
                *(f"{a} sanctions {st.sanctions[0, i]:.2f}" for i, a in enumerate(actors) if sanctioning[i]),
                *(f"{a} lifeline {st.lifeline[0, i]:.2f}" for i, a in enumerate(actors) if prm.is_patron[i]),
            ]
            yield (
                f"{tag} [summary] {STATUS_WORDS[status]}; line {st.L[0]:.3f}; {bits}; {', '.join(flows)}; "
                f"{eng}; mediator frustration {st.F[0]:.1f}."
            )
    for h in prm.horizons:
        if h in model.outcome_at:
            yield f"Outcome at week {h:g}: {OUTCOMES[model.outcome_at[h][0]]}."
    if prm.partials:
        signed = [f"{pa.label} {int(st.pa_count[0, j])}x" for j, pa in enumerate(prm.partials)
                  if st.pa_count[0, j] and not pa.at_start]
        yield "Partial agreements signed: " + (", ".join(signed) if signed else "none") + "."
    if np.isnan(st.t_first[0]):
        rounds, levers = int(st.n_rounds[0]), int(st.n_levers[0])
        waited = f", {int(st.n_waits[0])} rounds waited" if st.n_waits is not None else ""
        yield f"No agreement was signed in {weeks:g} weeks ({rounds} rounds{waited}, {levers} levers)."
    else:
        yield (
            f"First agreement signed in week {st.t_first[0]:g}; {int(st.n_rounds[0])} rounds, "
            f"{int(st.n_levers[0])} levers."
        )
