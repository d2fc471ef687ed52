"""The negotiation model (Mesa over replicate arrays): ``simulate(params, n_replicates, seed_seq)``.

See :mod:`sim.model.model` for the phase order and docs/contracts.md for the records.
"""

from __future__ import annotations

import numpy as np

from sim.model.central import central_params
from sim.model.outcomes import OUTCOMES

__all__ = ["OUTCOMES", "NegotiationModel", "central_params", "simulate"]


def simulate(params: dict, n_replicates: int, seed_seq: np.random.SeedSequence) -> dict[str, np.ndarray]:
    """Run ``n_replicates`` replicates of the scenario to its horizon and return their records.

    Parameters
    ----------
    params : dict
        ``sim.scenario.materialise`` output (uncertain leaves (R,) arrays, fixed leaves numbers/strings).
    n_replicates : int
        R.
    seed_seq : numpy.random.SeedSequence
        Root of every random stream of this block (not mutated).

    Returns
    -------
    dict of str to ndarray
        The records of docs/contracts.md, each of length R.
    """
    from sim.model.model import NegotiationModel
    from sim.model.records import make_records

    model = NegotiationModel(params, n_replicates, seed_seq, collect=False)
    model.run()
    return make_records(model)


def __getattr__(name: str):
    if name == "NegotiationModel":
        from sim.model.model import NegotiationModel

        return NegotiationModel
    raise AttributeError(name)
