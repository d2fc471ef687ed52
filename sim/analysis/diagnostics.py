"""'Why' diagnostics of a run (memo §1.6): who blocks, which levers and events fired, how many rounds.

The binding veto player is the one with the lowest surplus from the text at the last round: the party a
mediator would have to move to close the deal (the pivotal player of Tsebelis 2002). Shares are over the
replicates that held at least one round.

References
----------
Tsebelis, G. (2002). Veto Players: How Political Institutions Work. Princeton University Press.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass
class Diagnostics:
    """Summary of the mechanisms behind a run's outcomes.

    Attributes
    ----------
    binding_veto : pandas.Series
        Share of replicates (with at least one round) in which each actor was the binding veto player.
    events : pandas.Series
        Share of all replicates in which each event fired, descending.
    lever_share : float
        Share of replicates in which the mediator pulled at least one lever.
    rounds_median : float
        Median number of negotiating rounds per replicate.
    """

    binding_veto: pd.Series
    events: pd.Series
    lever_share: float
    rounds_median: float

    def sentence(self, top: int = 3) -> str:
        """One line for a briefing: who blocks and how often levers were used."""
        parts = []
        if not self.binding_veto.empty:
            who = ", ".join(f"{a} {100 * s:.0f}%" for a, s in self.binding_veto.head(top).items())
            parts.append(f"Party with least to gain at the last round (the one to move): {who}")
        parts.append(f"mediator levers used in {100 * self.lever_share:.0f}% of runs")
        parts.append(f"median {self.rounds_median:.0f} negotiating rounds")
        return "; ".join(parts) + "."


def diagnostics(runs: pd.DataFrame) -> Diagnostics:
    """Compute the 'why' diagnostics from a runs table."""
    veto = runs.get("binding_veto", pd.Series(dtype=object)).fillna("").astype(str)
    veto = veto[veto != ""]
    shares = veto.value_counts(normalize=True) if len(veto) else pd.Series(dtype=float)
    ev = runs.get("events_fired", pd.Series(dtype=object)).fillna("").astype(str)
    exploded = ev.str.split(";").explode()
    exploded = exploded[exploded != ""]
    # count each event once per replicate
    per_run = exploded.groupby(level=0).unique().explode() if len(exploded) else exploded
    events = (per_run.value_counts() / max(len(runs), 1)).sort_values(ascending=False)
    levers = runs.get("levers_fired", pd.Series(np.zeros(len(runs))))
    rounds = runs.get("n_rounds", pd.Series(np.zeros(len(runs))))
    return Diagnostics(
        binding_veto=shares.astype(float),
        events=events.astype(float),
        lever_share=float((levers.to_numpy(dtype=float) > 0).mean()) if len(runs) else 0.0,
        rounds_median=float(np.median(rounds.to_numpy(dtype=float))) if len(runs) else 0.0,
    )
