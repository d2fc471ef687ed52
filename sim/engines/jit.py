"""The Numba compilation options that every compiled kernel of negsim shares.

* ``cache=True``: compiled once (``make install`` warms the cache), then loaded from disk by every worker.
* ``error_model="numpy"``: a float division by zero gives inf or nan, as in numpy, instead of raising
  ``ZeroDivisionError``. The kernels never divide by zero on purpose (every division is guarded), so the
  numbers are the same bit for bit; what changes is that Numba no longer emits a zero test and an exception
  path before every division, which kept the compiler from keeping the inner loops tight (the Newton solver
  and the deal values measured 5-10% faster; docs/performance.md).
"""

from __future__ import annotations

from collections.abc import Callable

from numba import njit


def compiled(**options) -> Callable:
    """Return Numba's ``njit`` decorator with negsim's shared options (``inline="always"`` etc. added)."""
    return njit(cache=True, error_model="numpy", **options)
