"""Resolve ``extends:`` chains, strip provenance, and deep-merge overlays onto their parents.

A variant scenario is a small overlay: ``extends: baseline.yaml`` (a path relative to the overlay file;
chains are allowed) plus the values it changes. The merge rules, chosen so that a variant says only what
it changes and nothing it does not say leaks in:

* mappings merge key by key, recursively;
* lists are replaced whole (a list of linkage pairs or dates is one assumption);
* a mapping that contains ``dist:`` replaces the base value whole, so a variant may swap a beta for a
  number or the reverse; a mapping *without* ``dist:`` merged onto a distribution changes only the
  parameters it names if it names only parameters of that distribution (``annual_prob: {mean: 0.5}``),
  and otherwise replaces it (fixed shares ``{US: 0.4, RU: 0.6}`` over a dirichlet);
* anything else replaces the base value.

An overlay may also delete keys of its parent: ``remove: [packages.plan_28_point]`` (dotted paths, each
of which must exist in the parent). A hindcast removes the texts that did not exist yet; a required key
removed is reported missing.

Provenance: any mapping may carry ``src:`` and ``asof:``; any value may be written
``{value: x, src: ..., asof: ...}``. Both are removed from the data and kept per dotted path. A value that
an overlay replaces loses the provenance it had in the parent (its source no longer describes it). A value
an overlay sets (a replaced or added key, or some parameters of a distribution) with no ``src`` of the
overlay's on it or on a mapping of the overlay that encloses it is recorded as ``{"src": None, "asof":
None, "set_by": FILE}``: a source written on an enclosing mapping of the parent describes the parent's
numbers, not the overlay's, so a reader looking a path up (:func:`sim.analysis.rundir.source_for`) stops
there instead of crediting the parent's source.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path as FsPath

from sim.scenario.distributions import PARAMS
from sim.scenario.problems import DOCUMENT, Loc, Path, Problem, dotted
from sim.scenario.yamlsource import YamlDoc, read_yaml

PROVENANCE_KEYS = ("src", "asof")
#: Longest ``extends`` chain accepted.
MAX_CHAIN = 16


@dataclass
class Resolved:
    """The merged data of a scenario file and all its parents, with locations and provenance."""

    data: dict | None
    locs: dict[Path, Loc] = field(default_factory=dict)
    key_locs: dict[Path, Loc] = field(default_factory=dict)
    provenance: dict[Path, dict] = field(default_factory=dict)
    files: list[tuple[FsPath, str]] = field(default_factory=list)
    displays: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def resolve(path: FsPath, display: str) -> Resolved:
    """Load ``path`` and every file it extends, and merge them (parents first)."""
    return _resolve(FsPath(path), display, [])


def _resolve(path: FsPath, display: str, chain: list[FsPath]) -> Resolved:
    doc = read_yaml(path, display)
    out = Resolved(data=None, problems=list(doc.problems), displays=[display])
    try:
        out.files.append((path, hashlib.sha256(path.read_bytes()).hexdigest()))
    except OSError:
        pass
    if doc.data is None:
        return out
    data: dict = doc.data  # type: ignore[assignment]
    provenance = strip_provenance(data, (), doc)
    parent_ref = data.pop("extends", None)
    removals = data.pop("remove", None)
    if removals is not None and parent_ref is None:
        line = doc.locs.get(("remove",), Loc(display, 1)).line
        out.problems.append(Problem(display, line, "remove", "only an overlay may remove keys (expected "
                                    "'extends:' beside 'remove:')"))
    if parent_ref is None:
        out.data, out.locs, out.key_locs, out.provenance = data, doc.locs, doc.key_locs, provenance
        return out

    line = doc.locs.get(("extends",), Loc(display, 1)).line

    def bad(message: str) -> Resolved:
        out.problems.append(Problem(display, line, "extends", message))
        return out

    if not isinstance(parent_ref, str) or not parent_ref.strip():
        return bad(f"got {parent_ref!r} (expected the path of the parent scenario file, e.g. baseline.yaml)")
    parent_path = path.parent / parent_ref
    parent_display = os.path.normpath(os.path.join(os.path.dirname(display), parent_ref))
    here = [_key(p) for p in (*chain, path)]
    if _key(parent_path) in here:
        names = " -> ".join([*(str(p.name) for p in (*chain, path)), parent_path.name])
        return bad(f"extends cycle: {names} (expected a chain of parents that ends)")
    if len(chain) + 1 >= MAX_CHAIN:
        return bad(f"extends chain longer than {MAX_CHAIN} files (expected a short chain)")
    if not parent_path.is_file():
        return bad(f"parent file '{parent_ref}' not found (expected a path relative to {display})")
    parent = _resolve(parent_path, parent_display, [*chain, path])
    out.problems.extend(parent.problems)
    out.files.extend(parent.files)
    out.displays.extend(parent.displays)
    if parent.data is None:
        return out
    removed = _removals(removals, parent, doc, display, out.problems)
    merged = merge(parent, data, doc.locs, doc.key_locs, provenance, removed, display=display)
    merged.problems = out.problems
    merged.files = out.files
    merged.displays = out.displays
    return merged


def _key(p: FsPath) -> str:
    try:
        return str(p.resolve())
    except OSError:  # pragma: no cover
        return str(p)


def strip_provenance(data: object, path: Path, doc: YamlDoc) -> dict[Path, dict]:
    """Remove ``src``/``asof`` keys and unwrap ``{value: x, src: ...}`` in place; return what was found.

    Returns ``{path: {"src": ..., "asof": ...}}``. Dates are kept as ISO strings.
    """
    found: dict[Path, dict] = {}
    _strip(data, path, found, doc)
    return found


def _strip(node: object, path: Path, found: dict[Path, dict], doc: YamlDoc) -> object:
    if isinstance(node, list):
        for i, item in enumerate(node):
            node[i] = _strip(item, (*path, i), found, doc)
        return node
    if not isinstance(node, dict):
        return node
    prov = {k: node.pop(k) for k in PROVENANCE_KEYS if k in node}
    if prov:
        for k, v in prov.items():
            if isinstance(v, dt.date):
                prov[k] = v.isoformat()
            elif not isinstance(v, str):
                doc.problems.append(Problem(doc.file, doc.locs.get((*path, k), Loc(doc.file, 1)).line,
                                            dotted((*path, k)), f"got {v!r} (expected a text)"))
                prov[k] = str(v)
        found[path] = {"src": prov.get("src"), "asof": prov.get("asof")}
    if "value" in node and len(node) == 1:
        return _strip(node["value"], path, found, doc)
    for k in list(node):
        node[k] = _strip(node[k], (*path, k), found, doc)
    return node


def _under(path: Path, prefix: Path) -> bool:
    return path[: len(prefix)] == prefix


def _removals(removals: object, parent: Resolved, doc: YamlDoc, display: str,
              problems: list[Problem]) -> dict[Path, Loc]:  # fmt: skip
    """Read ``remove:``, dotted paths of the parent to delete, each with its line; report any not there."""
    if removals is None:
        return {}
    line = doc.locs.get(("remove",), Loc(display, 1)).line
    if not isinstance(removals, list):
        problems.append(Problem(display, line, "remove", f"got {removals!r} (expected a list of dotted paths "
                                "of the parent, e.g. [packages.plan_28_point])"))
        return {}
    out: dict[Path, Loc] = {}
    for i, entry in enumerate(removals):
        at = doc.locs.get(("remove", i), Loc(display, line)).line
        path = tuple(str(entry).split(".")) if isinstance(entry, str) and entry else ()
        node = parent.data
        for key in path:
            node = node.get(key) if isinstance(node, dict) else None
            if node is None:
                break
        if not path or node is None:
            problems.append(Problem(display, at, f"remove.{i}", f"'{entry}' is not a key of the parent "
                                    "scenario (expected a dotted path such as packages.plan_28_point)"))
        else:
            out[path] = Loc(display, at)
    return out


def _without(data: dict, path: Path) -> dict:
    """Return ``data`` without the key at ``path`` (copies along the path; ``data`` is not modified)."""
    out = dict(data)
    if len(path) == 1:
        out.pop(path[0], None)
    elif isinstance(out.get(path[0]), dict):
        out[path[0]] = _without(out[path[0]], path[1:])
    return out


def merge(parent: Resolved, overlay: dict, locs: dict[Path, Loc], key_locs: dict[Path, Loc],
          provenance: dict[Path, dict], removed: dict[Path, Loc] | None = None, *,
          display: str) -> Resolved:  # fmt: skip
    """Deep-merge ``overlay`` onto ``parent.data`` (not modified) by the rules in the module docstring.

    ``removed``: dotted paths of the parent deleted first (``remove:``), with their provenance; a problem at
    a removed path (a required key) is reported at its line of ``remove:``. ``display``: the overlay's file
    as the user knows it, recorded as ``set_by`` for the values it sets without a source.
    """
    removed = removed or {}
    base = parent.data
    for path in removed:
        base = _without(base, path)
    overridden: list[Path] = []
    restated: list[Path] = []
    data = _merge(base, overlay, (), overridden, restated)
    replaced = [*removed, *overridden]

    def keep(mapping: dict[Path, object]) -> dict:
        return {p: v for p, v in mapping.items() if not any(_under(p, r) for r in replaced)}

    new_locs = keep(parent.locs) | locs | removed
    new_key_locs = keep(parent.key_locs) | key_locs | removed
    new_prov = keep(parent.provenance) | provenance
    for path in [*overridden, *restated]:
        if not any(path[:i] in provenance for i in range(len(path), -1, -1)):  # no src of the overlay's own
            new_prov[path] = {"src": None, "asof": None, "set_by": display}
    return Resolved(data=data, locs=new_locs, key_locs=new_key_locs, provenance=new_prov)


def _edits_dist(base: dict, over: dict) -> bool:
    """Whether ``over`` only changes parameters of the distribution ``base`` (``{mean: 0.5}``)."""
    required, optional = PARAMS.get(str(base.get("dist")), ((), ()))
    return bool(over) and set(over) <= {*required, *optional}


def _merge(base: object, over: object, path: Path, replaced: list[Path], restated: list[Path]) -> object:
    """Merge ``over`` onto ``base`` (rules in the module docstring).

    Appends to ``replaced`` the paths replaced whole, to ``restated`` the keys added and the distributions
    some of whose parameters changed.
    """
    if (isinstance(base, dict) and isinstance(over, dict) and "dist" not in over
            and ("dist" not in base or _edits_dist(base, over))):
        if "dist" in base:
            restated.append(path)
        out = dict(base)
        for k, v in over.items():
            if k in base:
                out[k] = _merge(base[k], v, (*path, k), replaced, restated)
            else:
                out[k] = v
                restated.append((*path, k))
        return out
    replaced.append(path)
    return over


def document_problem(display: str, message: str) -> Problem:
    """Make a problem about the whole file, reported on line 1."""
    return Problem(display, 1, DOCUMENT, message)
