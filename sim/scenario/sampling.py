"""Draw the uncertain parameters of a scenario, and put one set of draws back into its data.

``sample_parameters(sc, n_draws, rng)`` gives a table with one row per parameter draw and one column per
uncertain value, named by its dotted path (``actors.RU.positions.TERR_CTRL.ideal``; a dirichlet gives one
column per component, ``mediator.text_weights0.US``; a choice gives the option itself).

How (and why):

* **Common random numbers.** Every parameter has its own random stream, a child of the root
  ``SeedSequence`` keyed by stable hashes (CRC-32 and Adler-32) of its dotted path; a correlated group
  draws from one stream keyed by its sorted paths. So a variant that changes one distribution leaves
  every other column identical for the same seed, and ``negsim compare`` sees the change, not noise
  (Glasserman 2004, 4.2).
* **Latin hypercube.** Each column's uniforms are stratified: one in each of ``n`` equal slices of (0, 1),
  in random order (McKay, Beckman & Conover 1979). Each marginal is then exact to within 1/n in
  probability.
* **Gaussian copula.** A correlated group turns its stratified uniforms into standard normals,
  correlates them with the Cholesky factor of the copula matrix, and maps back through the normal cdf,
  then each marginal's quantile function (Nelsen 2006, 2.9; Iman & Conover 1982). The ``rho`` written in
  ``correlations:`` is read as a Spearman rank correlation and converted to the copula parameter by
  2 sin(pi rho / 6) (Kruskal 1958), so the sampled rank correlation is the one written.
"""

from __future__ import annotations

import copy
import zlib
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import ndtr, ndtri  # the normal's cdf and ppf (scipy.stats is slow to import)

from sim.errors import UserError
from sim.scenario.checks import correlation_groups
from sim.scenario.distributions import Marginal
from sim.scenario.loader import Scenario

SeedLike = np.random.SeedSequence | np.random.Generator | int


def _root(rng: SeedLike) -> np.random.SeedSequence:
    if isinstance(rng, np.random.SeedSequence):
        return rng
    if isinstance(rng, np.random.Generator):
        return np.random.SeedSequence(rng.integers(0, 2**32, size=8, dtype=np.uint64).tolist())
    if isinstance(rng, int | np.integer) and not isinstance(rng, bool):
        return np.random.SeedSequence(int(rng))
    raise TypeError(f"rng must be a numpy SeedSequence, Generator or int, got {type(rng).__name__}")


def stream(root: np.random.SeedSequence, key: str) -> np.random.Generator:
    """Return the generator of parameter (or correlated group) ``key``, stable across variants."""
    raw = key.encode()
    # two independent 32-bit hashes, so that two parameters share a stream with probability ~2^-64
    spawn_key = (*root.spawn_key, zlib.crc32(raw), zlib.adler32(raw))
    child = np.random.SeedSequence(root.entropy, spawn_key=spawn_key)
    return np.random.default_rng(child)


def latin_hypercube(gen: np.random.Generator, n: int, width: int) -> np.ndarray:
    """``n`` stratified uniforms in each of ``width`` columns (independent random orders)."""
    u = np.empty((n, width))
    for j in range(width):
        u[:, j] = (gen.permutation(n) + gen.random(n)) / n
    return u


def sample_parameters(sc: Scenario, n_draws: int, rng: SeedLike) -> pd.DataFrame:
    """Draw every uncertain parameter of ``sc`` ``n_draws`` times.

    Parameters
    ----------
    sc
        A loaded scenario.
    n_draws
        Number of parameter draws (rows).
    rng
        A ``numpy.random.SeedSequence`` (the common-random-numbers path: each parameter's stream is keyed
        by its dotted path), a ``Generator`` (a SeedSequence is drawn from it) or an int seed.

    Returns
    -------
    pandas.DataFrame
        One row per draw (index ``draw``), one column per uncertain value in file order; floats, or the
        option for a ``choice`` among names. Fixed numbers are not columns.
    """
    if int(n_draws) < 1:
        raise UserError(f"n_draws must be at least 1, got {n_draws}")
    n = int(n_draws)
    root = _root(rng)
    marginals = {path: Marginal(path, spec) for path, spec in sc.uncertain.items()}
    uniforms: dict[str, np.ndarray] = {}
    grouped: set[str] = set()
    for names, corr in correlation_groups(sc.data):
        if len(names) < 2:
            continue
        gen = stream(root, "|".join(names))
        z = ndtri(latin_hypercube(gen, n, len(names)))
        z = z @ np.linalg.cholesky(corr).T
        u = ndtr(z)
        for j, name in enumerate(names):
            uniforms[name] = u[:, [j]]
            grouped.add(name)
    columns: dict[str, Any] = {}
    for path, m in marginals.items():
        if path not in grouped:
            uniforms[path] = latin_hypercube(stream(root, path), n, m.width)
        u = np.clip(uniforms[path], 1e-12, 1 - 1e-12)
        values = m.ppf(u)
        if m.keys:
            for j, key in enumerate(m.keys):
                columns[f"{path}.{key}"] = values[:, j]
        else:
            columns[path] = values
    frame = pd.DataFrame(columns, index=pd.RangeIndex(n, name="draw"))
    if sc.calibration:
        frame = calibrated(sc, frame, root)
    return frame


def calibrated(sc: Scenario, frame: pd.DataFrame, root: np.random.SeedSequence) -> pd.DataFrame:
    """Replace the calibrated parameters' prior draws by rows of the scenario's calibrated draws file.

    ``negsim calibrate`` writes the non-implausible region as weighted rows of parameter draws; every
    parameter with a column there is drawn as a whole row (so the joint structure the facts imposed is
    kept), by systematic resampling with the row weights: ``n`` stratified uniforms, one in each ``1/n``
    slice in random order, mapped through the weights' cumulative sum (the Latin hypercube of the prior
    draws, applied to the rows; Kitagawa 1996). The stream is keyed by the word ``calibration``, so the
    same seed gives the same rows. Parameters without a column keep their prior draws; columns the
    scenario no longer has (a variant fixed them) are ignored.
    """
    table = _read_draws(str(sc.calibration_draws()))
    cols = [c for c in table.columns if c != "weight" and c in frame.columns]
    weights = table["weight"].to_numpy(dtype=float)
    if len(table) == 0 or not cols or not np.all(np.isfinite(weights)) or weights.min() < 0 \
            or weights.sum() <= 0:
        raise UserError(f"{sc.calibration_draws()}: no usable calibrated draws (expected rows with parameter "
                        "columns of this scenario and non-negative weights)")
    gen = stream(root, "calibration")
    n = len(frame)
    u = (gen.permutation(n) + gen.random(n)) / n
    cum = np.cumsum(weights / weights.sum())
    rows = np.minimum(np.searchsorted(cum, u, side="right"), len(table) - 1)
    out = frame.copy()
    for c in cols:
        out[c] = table[c].to_numpy()[rows]
    return out


_DRAWS_CACHE: dict[tuple[str, float], pd.DataFrame] = {}


def _read_draws(path: str) -> pd.DataFrame:
    """Read a calibrated draws file once per version (keyed by path and modification time)."""
    import os

    key = (path, os.path.getmtime(path))
    if key not in _DRAWS_CACHE:
        _DRAWS_CACHE.clear()
        _DRAWS_CACHE[key] = pd.read_parquet(path)
    return _DRAWS_CACHE[key]


def materialise(sc: Scenario, draws: pd.DataFrame, draw_index: Any) -> dict[str, Any]:
    """``sc.data`` with every uncertain leaf replaced by its values for the given draws.

    Parameters
    ----------
    sc
        The scenario the draws were sampled from.
    draws
        The table from :func:`sample_parameters` (or one with the same columns).
    draw_index
        Row positions, one per replicate (shape (R,)); a scalar means R = 1.

    Returns
    -------
    dict
        A deep copy of ``sc.data`` whose uncertain leaves are ``np.ndarray`` of shape (R,) (a dirichlet:
        a mapping KEY -> (R,) array).
    """
    idx = np.atleast_1d(np.asarray(draw_index))
    if idx.ndim != 1 or not np.issubdtype(idx.dtype, np.integer):
        raise UserError("draw_index must be integer row positions of shape (R,)")
    if idx.size and (idx.min() < 0 or idx.max() >= len(draws)):
        raise UserError(f"draw_index out of range: the table has {len(draws)} draws")
    missing = [c for c in expected_columns(sc) if c not in draws.columns]
    if missing:
        raise UserError("the parameter draws lack columns for " + ", ".join(missing[:5])
                        + (" ..." if len(missing) > 5 else "") + " (expected draws of this scenario)")
    out = copy.deepcopy(sc.data)
    for path, spec in sc.uncertain.items():
        parts = _split(out, path)
        parent = out
        for p in parts[:-1]:
            parent = parent[p]
        if spec["dist"] == "dirichlet":
            value: Any = {k: draws[f"{path}.{k}"].to_numpy()[idx] for k in spec["mean"]}
        else:
            value = draws[path].to_numpy()[idx]
        parent[parts[-1]] = value
    return out


def expected_columns(sc: Scenario) -> list[str]:
    """Return the columns :func:`sample_parameters` gives for ``sc``, in order."""
    cols = []
    for path, spec in sc.uncertain.items():
        m = Marginal(path, spec)
        cols.extend([f"{path}.{k}" for k in m.keys] or [path])
    return cols


def _split(data: Any, path: str) -> list[Any]:
    """Split a dotted path back into keys, honouring keys that contain dots and list indices."""
    parts: list[Any] = []
    rest = path
    node = data
    while rest:
        if isinstance(node, list):
            head, _, tail = rest.partition(".")
            parts.append(int(head))
            node, rest = node[int(head)], tail
            continue
        for key in sorted(node, key=lambda k: -len(str(k))):
            s = str(key)
            if rest == s or rest.startswith(s + "."):
                parts.append(key)
                node, rest = node[key], rest[len(s) + 1:]
                break
        else:  # pragma: no cover - paths come from the same data
            raise KeyError(path)
    return parts
