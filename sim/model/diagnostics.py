"""Static diagnostics at t = 0: who would accept a given text (memo §5.1 stylised facts).

``package_surpluses`` evaluates named texts (the scenario's ``packages``) for every actor at the initial
state: U_i (utility), V_i (deal value with the commitment discount), W_i (outside option) and the surplus
V_i - W_i - tau_i with no reservation shock, so with the noise off "acceptable" means surplus >= 0.
"""

from __future__ import annotations

import numpy as np

from sim.model.commitment import deal_value
from sim.model.mediation import effective_tau
from sim.model.outside_option import outside_option
from sim.model.preferences import utility


def package_surpluses(model, terms: dict[str, float]) -> dict[str, np.ndarray]:
    """U, V, W and surplus (each (R, n), canonical actor order) of one text at the model's current state."""
    prm, st = model.prm, model.state
    X = np.empty((prm.R, prm.K))
    for k, iss in enumerate(prm.issues):
        X[:, k] = float(terms.get(iss, np.nan)) if iss in terms else st.X_text[:, k]
    rows = np.arange(prm.R)
    W = outside_option(prm, st, rows)
    U = utility(prm, X, st.L, rows)
    V = deal_value(prm, X, st.L, W, rows)
    tau = effective_tau(st, prm, rows)
    return {"U": U, "V": V, "W": W, "surplus": V - W - tau}
