"""The Numba compilation options that every compiled kernel of negsim shares, and their cache.

* ``cache=True``: compiled once (``make install`` warms the cache), then loaded from disk by every worker.
* ``error_model="numpy"``: a float division by zero gives inf or nan, as in numpy, instead of raising
  ``ZeroDivisionError``. The kernels never divide by zero on purpose (every division is guarded), so the
  numbers are the same bit for bit; what changes is that Numba no longer emits a zero test and an exception
  path before every division, which kept the compiler from keeping the inner loops tight (the Newton solver
  and the deal values measured 5-10% faster; docs/performance.md).
* ``_nrt=False`` (kernels that allocate nothing: the Newton solver's member functions, ``value_row``):
  compiled without Numba's reference-counting runtime. Every call of such a function from another kernel
  otherwise increments and decrements the reference count of each array it is passed (a dozen or two
  per call, atomically): 10% of the text solve's time in a profile with ``perf``. Such a kernel cannot
  allocate, not even for a slice copy (``a[:] = b``), so it copies element by element; and it must never
  return an array it was passed (its caller would release a reference it never got, freeing the array
  under its owner; ``tests/test_engines_compiled.py`` checks the source for it).

**The cache follows every kernel source.** Numba keys a cached function by its own source file only, but
the kernels of :mod:`sim.model.kernels` inline those of :mod:`sim.engines.compiled_newton`: after a change
to the solver alone, ``solve_texts`` would load its stale machine code from the cache and silently run the
old solver. The cache locators below stamp each entry with the contents of all the kernel sources, so a
change to any of them recompiles every kernel (Numba's ``NUMBA_CACHE_LOCATOR_CLASSES`` hook, used only
while negsim's kernels are decorated; with an older Numba the stamp is its own, per file).
"""

from __future__ import annotations

import functools
import hashlib
import os
from collections.abc import Callable
from pathlib import Path

import numba
from numba import njit
from numba.core import caching

#: The files whose compiled functions call one another (a change to one must recompile all).
KERNEL_SOURCES = tuple(
    str(Path(__file__).resolve().parents[1] / rel)
    for rel in ("engines/jit.py", "engines/compiled_newton.py", "model/kernels.py", "model/constants.py")
)


@functools.cache
def _content_hash(path: str, st_mtime: float, st_size: int) -> bytes:
    """SHA-256 of a file's bytes (memoised on its mtime and size, as Numba does for one file)."""
    return hashlib.sha256(Path(path).read_bytes()).digest()


def kernel_sources_stamp(own_file: str | None = None) -> bytes:
    """One hash of the contents of every file in :data:`KERNEL_SOURCES` (and of ``own_file``, if another)."""
    h = hashlib.sha256()
    for path in (*KERNEL_SOURCES, *([own_file] if own_file and own_file not in KERNEL_SOURCES else [])):
        st = os.stat(path)
        h.update(_content_hash(path, st.st_mtime, st.st_size))
    return h.digest()


class _AllKernelSources:
    """Locator mixin: the source stamp covers every kernel source file, not only the function's own."""

    def get_source_stamp(self) -> bytes:
        return kernel_sources_stamp(str(Path(self._py_file).resolve()))


class KernelInTreeLocator(_AllKernelSources, caching.InTreeCacheLocator):
    """``__pycache__`` beside the source (Numba's default place)."""


class KernelUserProvidedLocator(_AllKernelSources, caching.UserProvidedCacheLocator):
    """``NUMBA_CACHE_DIR`` when the user sets it."""


class KernelUserWideLocator(_AllKernelSources, caching.UserWideCacheLocator):
    """The user-wide cache directory, where the package directory is not writable."""


_LOCATORS = ",".join(f"{__name__}.{cls.__name__}"
                     for cls in (KernelUserProvidedLocator, KernelInTreeLocator, KernelUserWideLocator))


def compiled(**options) -> Callable:
    """Return Numba's ``njit`` decorator with negsim's shared options (``inline="always"`` etc. added)."""
    decorate = njit(cache=True, error_model="numpy", **options)

    def apply(fn: Callable) -> Callable:
        saved = getattr(numba.config, "CACHE_LOCATOR_CLASSES", None)
        numba.config.CACHE_LOCATOR_CLASSES = _LOCATORS  # read when the dispatcher sets up its cache
        try:
            return decorate(fn)
        finally:
            numba.config.CACHE_LOCATOR_CLASSES = saved

    return apply
