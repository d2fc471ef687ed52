"""Probe the settings of a scenario: change a leaf materially, rerun the model, compare the records.

DESIGN §2 ("One source of truth"): every setting a user can write reaches the results, or is declared
inert in :data:`sim.model.inert.INERT`; ``tests/test_every_setting.py`` checks it with this module.

How a leaf is probed
--------------------
1. Its changes (:func:`setting_changes.candidates`) are validated by the scenario's own checks
   (:func:`sim.scenario.checks.validate_data`, what :func:`~sim.scenario.load_scenario` runs); invalid
   ones are passed over. Provenance is edited in the YAML text and read back by ``load_scenario``.
2. The changed scenario goes the product's way: ``sample_parameters`` (columns keyed by dotted path, so
   unchanged distributions draw the same values: common random numbers), ``materialise`` and
   ``simulate``, with the baseline's parameter seed and model ``SeedSequence`` over the full horizon.
3. The leaf acts if a record differs from the baseline's (floats beyond ``TOLERANCE``). For a setting of
   event E, E's own entry in ``events_fired`` is ignored: an event that fires but does nothing does not
   reach the results.
4. Rounds: a leaf that does not act with its first valid change is tried with the next, up to
   ``ATTEMPTS`` changes, then (the ``rare`` prober) with ``RARE_REPLICATES`` replicates, since a setting
   may decide only rare replicates (a clause few texts reach, an acceptance that seldom binds).

Stacking
--------
A model run costs about 0.3 s whatever R up to a few dozen (the Python of each step), and about 1 ms
per further replicate. Variants that differ from the baseline only in numbers the model reads per
replicate therefore run as blocks of one model run: block 0 the unchanged baseline (a control), block j
variant j, compared with the same block of a baseline run. This equals separate runs because replicate
r draws the same random numbers whatever the other replicates (:mod:`sim.model.streams`) and no phase
couples replicates; the control block and ``test_stacked_runs_equal_separate_runs`` check it. A variant
the model cannot stack (a text, a switch, a number it needs fixed within a run) runs alone.
"""

from __future__ import annotations

import copy
import dataclasses
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml
from setting_changes import Candidate, Edit, candidates, data_leaves, edit_provenance

from sim.errors import UserError
from sim.model import simulate
from sim.model.model import NegotiationModel
from sim.scenario import Scenario, expected_columns, load_scenario, materialise, sample_parameters
from sim.scenario.checks import Located, uncertain_paths, validate_data
from sim.scenario.problems import dotted

TOLERANCE = 1e-9
ATTEMPTS = 3  # valid changes tried per leaf with R replicates
RARE_REPLICATES = 240  # replicates of the second stage, for settings that decide few replicates


@dataclasses.dataclass
class Variant:
    """A changed scenario: the leaves changed, how, the scenario and its materialised parameters.

    ``rank``: which of the leaf's valid changes this is (0 the first).
    """

    leaves: tuple[str, ...]
    change: str
    scenario: Scenario | None = None
    params: dict | None = None
    rank: int = 0

    @property
    def events(self) -> set[str]:
        """Events whose own settings this variant changes (their ``events_fired`` entries are ignored)."""
        return {leaf.split(".")[1] for leaf in self.leaves if leaf.startswith("events.")}


@dataclasses.dataclass
class Verdict:
    """What the changes of a leaf did: ``(change, records that moved)`` for each change tried."""

    leaf: str
    tried: list[tuple[str, list[str]]] = dataclasses.field(default_factory=list)

    @property
    def acts(self) -> bool:
        """Whether some change moved a record."""
        return any(moved for _, moved in self.tried)

    def __str__(self) -> str:
        tried = "; ".join(f"{c} -> {', '.join(m) or 'nothing'}" for c, m in self.tried) or "no valid change"
        return f"{self.leaf}: {tried}"


class Prober:
    """Probe leaves of one scenario against its baseline records (common random numbers throughout).

    Parameters
    ----------
    path
        The scenario file.
    replicates
        R, replicates per variant (draws 0..R-1 of a Latin hypercube of R draws).
    param_seed, model_seed
        Seeds of ``sample_parameters`` and of the model's ``SeedSequence``, the same for every variant.
    chunk
        Most variants per stacked model run.
    attempts
        Most valid changes tried per leaf.
    rare
        A prober with more replicates for the leaves that do not act here (their effect may be rare).
    """

    def __init__(self, path: str, replicates: int = 24, param_seed: int = 11, model_seed: int = 3,
                 chunk: int = 60, attempts: int = ATTEMPTS, rare: Prober | None = None) -> None:
        self.path = Path(path)
        self.sc = load_scenario(path)
        self.R, self.chunk, self.attempts, self.rare = replicates, chunk, attempts, rare
        self.param_seed, self.model_seed = param_seed, model_seed
        self.draws = sample_parameters(self.sc, self.R, np.random.SeedSequence(param_seed))
        self.params = materialise(self.sc, self.draws, np.arange(self.R))
        self.where = Located(str(self.path), self.sc.locations, {})
        self.paths = {dotted(p): p for p, _ in data_leaves(self.sc.data)}
        self._base: dict[str, np.ndarray] | None = None
        self._changes: dict[str, tuple[list[Candidate], Any]] = {}
        self._valid: dict[tuple[str, str], Scenario] = {}

    # ----------------------------------------------------------------------------- building variants
    def validated(self, data: dict) -> Scenario | None:
        """The scenario with ``data`` if the scenario's validation accepts it, else None."""
        if validate_data(data, self.where):
            return None
        uncertain = {dotted(p): spec for p, spec in uncertain_paths(data).items()}
        return dataclasses.replace(self.sc, data=data, uncertain=uncertain)

    def change(self, name: str, rank: int) -> Candidate | None:
        """The ``rank``-th change of data leaf ``name`` that the scenario's validation accepts (0 the first).

        Candidates are validated lazily, in order, and remembered.
        """
        found, pending = self._changes.setdefault(name, ([], candidates(self.sc.data, self.paths[name])))
        while len(found) <= rank:
            candidate = next(pending, None)
            if candidate is None:
                return None
            data = copy.deepcopy(self.sc.data)
            candidate[1](data)
            sc = self.validated(data)
            if sc is not None:
                self._valid[(name, candidate[0])] = sc
                found.append(candidate)
        return found[rank]

    def variant(self, name: str, change: Candidate, rank: int = 0) -> Variant:
        """The variant of data leaf ``name`` under ``change``, one that :meth:`change` returned."""
        description, edit = change
        sc = self._valid[(name, description)]
        return Variant((name,), description, sc, self.materialised(sc, edit), rank)

    def joint_variant(self, changes: dict[str, Candidate]) -> Variant:
        """One variant with the changes of several data leaves applied together."""
        data = copy.deepcopy(self.sc.data)
        for _, edit in changes.values():
            edit(data)
        names = tuple(changes)
        description = "; ".join(f"{n}: {c}" for n, (c, _) in changes.items())
        sc = self.validated(data)
        if sc is None:
            return Variant(names, "the joint change is invalid: " + description)
        return Variant(names, description, sc, self.materialised(sc))

    def provenance_variant(self, names: list[str]) -> Variant:
        """Edit the ``src``/``asof`` leaves ``names`` in the YAML text and load it the product's way."""
        raw = yaml.safe_load(self.path.read_text(encoding="utf-8"))
        edit_provenance(raw, set(names))
        with tempfile.TemporaryDirectory() as tmp:
            edited = Path(tmp) / self.path.name
            edited.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
            sc = load_scenario(edited)
        unchanged = [n for n in names if _provenance(sc, n) == _provenance(self.sc, n)]
        assert not unchanged, f"provenance not edited: {unchanged[:5]}"
        return Variant(tuple(names), "texts edited, dates set to 2001-01-01", sc, self.materialised(sc))

    def materialised(self, sc: Scenario, edit: Edit | None = None) -> dict:
        """``materialise(sc, draws, 0..R-1)`` with ``sc``'s draws.

        A change that leaves every distribution and correlation as it was is applied to a copy of the
        baseline's parameters instead (``materialise`` only puts the draws into a copy of ``sc.data``);
        ``test_shortcuts_equal_the_product_path`` checks both shortcuts.
        """
        same_draws = sc.data.get("correlations") == self.sc.data.get("correlations")
        if edit is not None and same_draws and sc.uncertain == self.sc.uncertain:
            params = copy.deepcopy(self.params)
            edit(params)
            return params
        return materialise(sc, self.draws_for(sc), np.arange(self.R))

    def draws_for(self, sc: Scenario) -> pd.DataFrame:
        """``sample_parameters(sc, R, param_seed)``, drawn again for the changed distributions only.

        Each distribution draws from its own stream keyed by its dotted path (common random numbers,
        :mod:`sim.scenario.sampling`), so the baseline's columns stand for every unchanged one.
        """
        base = self.sc.uncertain
        if sc.data.get("correlations") != self.sc.data.get("correlations"):
            return sample_parameters(sc, self.R, np.random.SeedSequence(self.param_seed))
        changed = {p: s for p, s in sc.uncertain.items() if base.get(p) != s}
        keep = [c for c in self.draws.columns
                if _column_path(c, base) in sc.uncertain and _column_path(c, base) not in changed]
        if not changed:
            return self.draws[keep]
        fresh = sample_parameters(dataclasses.replace(sc, uncertain=changed), self.R,
                                  np.random.SeedSequence(self.param_seed))
        return pd.concat([self.draws[keep], fresh], axis=1)[expected_columns(sc)]

    # ----------------------------------------------------------------------------------- verdicts
    def verdicts(self, names: list[str], attempts: int | None = None, escalate: bool = True
                 ) -> dict[str, Verdict]:
        """Try valid changes of each data leaf in ``names``, in rounds, until one acts.

        Up to ``attempts`` (default the prober's) changes with R replicates; a leaf that still does not
        act is then tried by the ``rare`` prober (more replicates) if ``escalate``.
        """
        out = {n: Verdict(n) for n in names}
        rank = dict.fromkeys(names, 0)
        pending = list(names)
        for _ in range(self.attempts if attempts is None else attempts):
            variants = []
            for n in pending:
                change = self.change(n, rank[n])
                if change is not None:
                    variants.append(self.variant(n, change, rank[n]))
            for v, moved in self.run(variants).values():
                out[v.leaves[0]].tried.append((v.change, moved))
                rank[v.leaves[0]] = v.rank + 1
            pending = [v.leaves[0] for v in variants if not out[v.leaves[0]].acts]
        pending = [n for n in names if not out[n].acts]
        if self.rare is not None and escalate and pending:
            for n, verdict in self.rare.verdicts(pending).items():
                out[n].tried += [(f"{change} [R={self.rare.R}]", moved) for change, moved in verdict.tried]
        return out

    def run(self, variants: list[Variant]) -> dict[tuple[str, ...], tuple[Variant, list[str]]]:
        """Run ``variants``; for each (by its leaves), the variant run and the records that moved.

        A change the model refuses at run time (a ``UserError``) is replaced by the leaf's next valid
        change; without one, the refusal counts as the change reaching the model.
        """
        out: dict[tuple[str, ...], tuple[Variant, list[str]]] = {}
        alone: list[Variant] = []
        stackable = []
        for v in variants:
            (stackable if _stackable(self.params, v.params) else alone).append(v)
        for i in range(0, len(stackable), self.chunk):
            out.update(self._run_stack(stackable[i : i + self.chunk], alone))
        while alone:
            v = alone.pop(0)
            try:
                rec = simulate(v.params, self.R, self._seed())
            except UserError as err:  # the model reads the value and refuses it: the next change, if any
                spare = self.change(v.leaves[0], v.rank + 1) if len(v.leaves) == 1 else None
                if spare is not None:
                    alone.append(self.variant(v.leaves[0], spare, v.rank + 1))
                else:
                    out[v.leaves] = (v, [f"the run stops: {str(err)[:80]}"])
                continue
            out[v.leaves] = (v, compare(self.base_records(), rec, 0, self.R, v.events))
        return out

    def stacks(self, name: str) -> bool:
        """Whether the first valid change of data leaf ``name`` can run stacked with others."""
        change = self.change(name, 0)
        if change is None:
            return False
        v = self.variant(name, change)
        return _stackable(self.params, v.params) and bool(self._stackable_in_model([v], []))

    def base_records(self) -> dict[str, np.ndarray]:
        """Baseline records of ``chunk + 1`` blocks of R replicates (block 0 is the baseline run at R)."""
        if self._base is None:
            blocks = self.chunk + 1
            self._base = simulate(stacked(self.params, [], blocks, self.R), blocks * self.R, self._seed())
        return self._base

    def _seed(self) -> np.random.SeedSequence:
        return np.random.SeedSequence(self.model_seed)

    def _run_stack(self, part: list[Variant], alone: list[Variant]) -> dict:
        """Run ``part`` as blocks 1.. of one model run (block 0 the baseline); refused variants go alone."""
        accepted = self._stackable_in_model(part, alone)
        if not accepted:
            return {}
        blocks = len(accepted) + 1
        rec = simulate(stacked(self.params, [v.params for v in accepted], blocks, self.R), blocks * self.R,
                       self._seed())
        base = self.base_records()
        control = compare(base, rec, 0, self.R, set())
        assert not control, f"stacking changed the control block: {control}"
        return {v.leaves: (v, compare(base, rec, j * self.R, self.R, v.events))
                for j, v in enumerate(accepted, start=1)}

    def _stackable_in_model(self, part: list[Variant], alone: list[Variant]) -> list[Variant]:
        """The variants of ``part`` the model accepts stacked (found by halving); the others go ``alone``."""
        blocks = len(part) + 1
        try:
            NegotiationModel(stacked(self.params, [v.params for v in part], blocks, self.R), blocks * self.R,
                             self._seed(), collect=False)
            return part
        except (UserError, TypeError, ValueError):  # the model needs a changed number fixed within a run
            if len(part) == 1:
                alone.extend(part)
                return []
            half = len(part) // 2
            return self._stackable_in_model(part[:half], alone) + self._stackable_in_model(part[half:], alone)


def _provenance(sc: Scenario, name: str) -> Any:
    where, key = name.rsplit(".", 1) if "." in name else ("", name)
    return sc.provenance.get(where, {}).get(key)


def _column_path(column: str, uncertain: dict) -> str:
    """The distribution a draws column belongs to (a dirichlet has one column per share)."""
    return column if column in uncertain else column.rsplit(".", 1)[0]


# ----------------------------------------------------------------------------------------- stacking
def _per_replicate(v: Any) -> bool:
    return isinstance(v, np.ndarray)


def _number(v: Any) -> bool:
    return isinstance(v, int | float | np.floating | np.integer) and not isinstance(v, bool)


def _same(a: Any, b: Any) -> bool:
    if _per_replicate(a) or _per_replicate(b):
        return _per_replicate(a) and _per_replicate(b) and a.shape == b.shape and bool(np.all(a == b))
    return type(a) is type(b) and a == b


def _stackable(base: Any, other: Any) -> bool:
    """Whether ``other`` differs from ``base`` only in numbers or per-replicate arrays."""
    if isinstance(base, dict):
        return (isinstance(other, dict) and base.keys() == other.keys()
                and all(_stackable(base[k], other[k]) for k in base))
    if isinstance(base, list):
        return (isinstance(other, list) and len(base) == len(other)
                and all(_stackable(a, b) for a, b in zip(base, other, strict=True)))
    if _same(base, other):
        return True
    numeric = (_per_replicate(base) and base.dtype.kind == "f") or _number(base)
    return numeric and (_per_replicate(other) or _number(other))


def stacked(base: Any, others: list[Any], blocks: int, R: int) -> Any:
    """Parameters of ``blocks`` blocks of R replicates: block 0 ``base``, block j ``others[j - 1]``.

    A leaf equal in all keeps its value (a per-replicate array is tiled); a leaf that differs becomes a
    per-replicate array holding each block's value.
    """
    if isinstance(base, dict):
        return {k: stacked(base[k], [o[k] for o in others], blocks, R) for k in base}
    if isinstance(base, list):
        return [stacked(b, [o[i] for o in others], blocks, R) for i, b in enumerate(base)]
    values = [base, *others] + [base] * (blocks - 1 - len(others))
    if all(_same(base, v) for v in values[1:]):
        return np.tile(base, blocks) if _per_replicate(base) else base
    return np.concatenate([np.broadcast_to(np.asarray(v, dtype=float), (R,)) for v in values])


# ------------------------------------------------------------------------------------------ comparing
def _without(fired: np.ndarray, events: set[str]) -> np.ndarray:
    if not events:
        return fired
    return np.array([";".join(e for e in s.split(";") if e and e not in events) for s in fired])


def compare(base: dict[str, np.ndarray], rec: dict[str, np.ndarray], start: int, R: int,
            events: set[str]) -> list[str]:
    """Names of the records that differ between ``base`` and ``rec`` in rows ``start:start+R``.

    ``events``' own entries of ``events_fired`` are ignored; floats differ beyond ``TOLERANCE``.
    """
    if set(base) != set(rec):
        return sorted(set(base) ^ set(rec))
    rows = slice(start, start + R)
    out = []
    for key in base:
        a, b = base[key][rows], rec[key][rows]
        if key == "events_fired":
            a, b = _without(a, events), _without(b, events)
        same = (np.allclose(a, b, rtol=0.0, atol=TOLERANCE, equal_nan=True) if a.dtype.kind == "f"
                else np.array_equal(a, b))
        if not same:
            out.append(key)
    return out

