"""Read one YAML file safely into plain Python data, remembering the line of every value.

Why not ``yaml.safe_load``: it forgets where each value came from, silently keeps the last of two
duplicate keys, expands "billion laughs" alias bombs until memory runs out, and recurses without limit
on absurd nesting. Here the file is *composed* into PyYAML's node graph with a safe loader (no object is
ever constructed from a tag, so ``!!python/object/apply:os.system`` cannot run), and the nodes are then
converted by hand:

* every value's :class:`~sim.scenario.problems.Loc` is kept in ``locs[path]`` (and every mapping key's in
  ``key_locs[path]``), so later checks can point at the line;
* duplicate keys, non-standard tags, NaN and infinities are reported as problems;
* nesting depth and the number of nodes produced (alias expansions included) are capped, so hostile
  files are rejected in milliseconds.

References
----------
YAML 1.1 (the dialect PyYAML implements), https://yaml.org/spec/1.1/; "billion laughs" (CVE-2003-1564).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path as FsPath

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from sim.scenario.problems import DOCUMENT, Loc, Path, Problem, dotted

#: Deepest nesting accepted (the baseline needs 6).
MAX_DEPTH = 64
#: Most values one file may produce, alias expansions included (the baseline has ~1,600).
MAX_NODES = 50_000
#: Largest file accepted, in bytes.
MAX_BYTES = 5_000_000

_SAFE_TAGS = {
    "tag:yaml.org,2002:" + t
    for t in ("str", "int", "float", "bool", "null", "map", "seq", "timestamp", "merge")
}
_MERGE_TAG = "tag:yaml.org,2002:merge"


class _Abort(Exception):
    """Stop composing or converting: the problem is already recorded."""


class _ComposeLoader(yaml.SafeLoader):
    """A SafeLoader that refuses absurd nesting while composing (before any recursion limit is hit)."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: Node | None, index: object) -> Node | None:  # noqa: D102
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                mark = self.peek_event().start_mark
                raise _TooDeep(mark.line + 1, mark.column + 1)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


class _TooDeep(Exception):
    def __init__(self, line: int, col: int) -> None:
        super().__init__(line, col)
        self.line = line
        self.col = col


@dataclass
class YamlDoc:
    """One file's data with the location of every value (``locs``) and every mapping key (``key_locs``)."""

    file: str
    data: object = None
    locs: dict[Path, Loc] = field(default_factory=dict)
    key_locs: dict[Path, Loc] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    text: str = ""


def read_yaml(path: FsPath, display: str) -> YamlDoc:
    """Read and convert one YAML file; problems are collected in ``doc.problems`` rather than raised.

    Parameters
    ----------
    path
        The file to read.
    display
        How to name the file in messages (as the user gave it, or joined from a child's ``extends``).
    """
    doc = YamlDoc(file=display)

    def fail(line: int, message: str) -> YamlDoc:
        doc.problems.append(Problem(display, line, DOCUMENT, message))
        return doc

    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return fail(1, "file not found (expected an existing YAML file)")
    except IsADirectoryError:
        return fail(1, "is a directory (expected a YAML file)")
    except OSError as err:
        return fail(1, f"cannot read the file: {err.strerror} (expected a readable YAML file)")
    if len(raw) > MAX_BYTES:
        return fail(1, f"file is {len(raw)} bytes (expected at most {MAX_BYTES})")
    if b"\x00" in raw:
        line = raw[: raw.index(b"\x00")].count(b"\n") + 1
        return fail(line, "file contains NUL bytes, it looks binary (expected a UTF-8 text YAML file)")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        return fail(line, f"invalid UTF-8 byte 0x{raw[err.start]:02x} (expected a UTF-8 text YAML file)")
    text = text.removeprefix("\ufeff")
    doc.text = text
    tab_lines = [i for i, ln in enumerate(text.splitlines(), 1) if re.match(r"^ *\t", ln)]
    for i in tab_lines:
        fail(i, "tab character in indentation (expected spaces: YAML forbids tabs for indentation)")
    if tab_lines:
        return doc
    if not text.strip() or all(ln.lstrip().startswith("#") or not ln.strip() for ln in text.splitlines()):
        return fail(1, "file is empty (expected a mapping of scenario blocks)")

    loader = _ComposeLoader(text)
    try:
        node = loader.get_single_node()
    except _TooDeep as err:
        return fail(err.line, f"nesting deeper than {MAX_DEPTH} levels (expected a scenario, not this)")
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        line = mark.line + 1 if mark is not None else 1
        what = " ".join(x for x in (err.context, err.problem) if x)
        return fail(line, f"YAML syntax error: {what} (expected valid YAML)")
    except yaml.YAMLError as err:
        return fail(1, f"YAML error: {err} (expected valid YAML)")
    except RecursionError:
        return fail(1, "nesting too deep (expected a scenario, not this)")
    finally:
        loader.dispose()
    if node is None:
        return fail(1, "file is empty (expected a mapping of scenario blocks)")
    converter = _Converter(display, loader, doc)
    try:
        doc.data = converter.convert(node, (), 0)
    except _Abort:
        doc.data = None
        return doc
    if not isinstance(doc.data, dict):
        kind = _kind(doc.data)
        fail(node.start_mark.line + 1, f"top level is {kind} (expected a mapping of scenario blocks)")
        doc.data = None
    return doc


def _kind(value: object) -> str:
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "empty (null)"
    return f"a {type(value).__name__} ({value!r})"


class _Converter:
    """Turn composed nodes into dicts/lists/scalars, recording locations and problems."""

    def __init__(self, file: str, loader: yaml.SafeLoader, doc: YamlDoc) -> None:
        self.file = file
        self.loader = loader
        self.doc = doc
        self.count = 0

    def loc(self, node: Node) -> Loc:
        return Loc(self.file, node.start_mark.line + 1, node.start_mark.column + 1)

    def problem(self, node: Node, path: Path, message: str) -> None:
        self.doc.problems.append(Problem(self.file, node.start_mark.line + 1, dotted(path), message))

    def abort(self, path: Path, message: str) -> None:
        """Report a runaway document at its top-level key (aliases make inner lines meaningless); stop."""
        loc = self.doc.key_locs.get(path[:1], Loc(self.file, 1))
        self.doc.problems.append(Problem(self.file, loc.line, dotted(path[:1]), message))
        raise _Abort

    def convert(self, node: Node, path: Path, depth: int) -> object:
        self.count += 1
        if self.count > MAX_NODES:
            self.abort(path, f"more than {MAX_NODES} values after expanding aliases (expected a scenario, "
                       "not an alias bomb)")
        if depth > MAX_DEPTH:
            self.abort(path, f"nesting deeper than {MAX_DEPTH} levels (expected a scenario, not a "
                       "recursive alias)")
        self.doc.locs[path] = self.loc(node)
        if node.tag not in _SAFE_TAGS:
            self.problem(node, path, f"YAML tag '{node.tag}' is not allowed (expected plain YAML data: "
                         "mappings, lists, strings, numbers, booleans, dates)")
            return None
        if isinstance(node, ScalarNode):
            return self.scalar(node, path)
        if isinstance(node, SequenceNode):
            return [self.convert(item, (*path, i), depth + 1) for i, item in enumerate(node.value)]
        if isinstance(node, MappingNode):
            return self.mapping(node, path, depth)
        return None  # pragma: no cover - PyYAML has no other node kinds

    def scalar(self, node: ScalarNode, path: Path) -> object:
        try:
            value = self.loader.construct_object(node, deep=True)
        except yaml.YAMLError as err:
            self.problem(node, path, f"cannot read value {node.value!r}: {err} (expected a valid scalar)")
            return None
        if isinstance(value, float) and not math.isfinite(value):
            self.problem(node, path, f"{node.value} is not a finite number (expected a finite number)")
        return value

    def mapping(self, node: MappingNode, path: Path, depth: int) -> dict:
        out: dict = {}
        first_line: dict = {}
        merged_keys: set = set()
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                merged = self.convert(value_node, (*path, "<<"), depth + 1)
                sources = merged if isinstance(merged, list) else [merged]
                for src in sources:
                    if not isinstance(src, dict):
                        self.problem(value_node, path, "merge key '<<' needs a mapping (expected a mapping "
                                     "or a list of mappings)")
                        continue
                    for k, v in src.items():
                        if k not in out:
                            out[k] = v
                            merged_keys.add(k)
                continue
            if not isinstance(key_node, ScalarNode) or key_node.tag not in _SAFE_TAGS:
                self.problem(key_node, path, "mapping key must be a plain scalar (expected a name)")
                continue
            key = self.scalar(key_node, path)
            try:
                hash(key)
            except TypeError:  # pragma: no cover - scalars are hashable
                continue
            if key in first_line and key not in merged_keys:
                self.problem(key_node, (*path, key), f"duplicate key '{key}' (first defined on line "
                             f"{first_line[key]}; expected each key once)")
                continue
            merged_keys.discard(key)
            first_line[key] = key_node.start_mark.line + 1
            self.doc.key_locs[(*path, key)] = self.loc(key_node)
            out[key] = self.convert(value_node, (*path, key), depth + 1)
        return out
