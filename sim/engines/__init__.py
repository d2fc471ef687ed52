"""Pure numpy bargaining engines shared by the model and by ``negsim forecast``.

Every function here is array-in, array-out; nothing imports Mesa or YAML or does I/O (DESIGN §2, §7).

* :mod:`sim.engines.bdm_scholz` — Bueno de Mesquita's expected-utility model, Scholz et al. (2011) variant
  (primitives vectorised over leading batch axes);
* :mod:`sim.engines.ktab_smp` — KTAB's Spatial Model of Politics with its default parameters;
* :mod:`sim.engines.compromise`, :mod:`sim.engines.nash` — weighted mean and weighted Nash solution.
"""

from __future__ import annotations

from sim.engines import bdm_scholz, compromise, ktab_smp, nash

__all__ = ["bdm_scholz", "compromise", "ktab_smp", "nash"]
