"""Reading documents safely: YAML and JSON with duplicate keys refused, alias expansion
bounded, nesting bounded, and messages that quote at most a short, escaped excerpt of a
bad value (README, "Input limits")."""

from __future__ import annotations

import gc
import json
import reprlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from computeplan.errors import InstanceError

# Input limits (README, "Input limits"): what a hostile or broken file may cost us.
MAX_ALIAS_NODES = 100_000
"""YAML aliases may add at most this many nodes to the document once expanded."""
EXCERPT_CHARS = 60
"""No message quotes more than this many characters of a value."""

_MERGE_TAG = "tag:yaml.org,2002:merge"

_REPR = reprlib.Repr()
_REPR.maxstring = _REPR.maxother = EXCERPT_CHARS
_REPR.maxlevel = 2
_REPR.maxlist = _REPR.maxtuple = _REPR.maxdict = _REPR.maxset = 4


def excerpt(value: Any) -> str:
    """A short, escaped ``repr`` of any value: at most about 60 characters, nothing a
    terminal would interpret, and bounded work however large or deep the value is."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 64:
        return f"<an integer of {len(str(value)) if value.bit_length() < 10_000 else 'thousands of'} digits>"
    try:
        s = _REPR.repr(value)
    except Exception:  # an exotic object whose repr fails: name its type only
        s = f"<{type(value).__name__}>"
    if not s.isascii() or not s.isprintable():
        s = s.encode("ascii", "backslashreplace").decode("ascii")
        s = "".join(c if c.isprintable() else repr(c)[1:-1] for c in s)
    return s if len(s) <= EXCERPT_CHARS else s[: EXCERPT_CHARS - 3] + "..."


def clip(text: str) -> str:
    """Free text (an error from a library) for a message: escaped and at most about 60
    characters, without the quotes of :func:`excerpt`."""
    s = text if text.isprintable() else text.encode("unicode_escape").decode("ascii")
    return s if len(s) <= EXCERPT_CHARS else s[: EXCERPT_CHARS - 3] + "..."


def show_name(name: str) -> str:
    """A key or id as it may appear in a field path: as is when plain, else its excerpt."""
    if len(name) <= EXCERPT_CHARS and name.isprintable() and name.strip() == name and name:
        return name
    return excerpt(name)


_STR = "tag:yaml.org,2002:str"
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_BOOL = "tag:yaml.org,2002:bool"
_NULL = "tag:yaml.org,2002:null"
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"
_BOOLS = {"yes": True, "no": False, "true": True, "false": False, "on": True, "off": False}
_FLOAT_CHARS = frozenset("0123456789.eE+-")
_RESOLVED_MAX = 50_000
"""Plain scalars whose implicit tag is remembered per loader class (short ones only)."""


def make_yaml_loader(base: type[Any]) -> type[Any]:
    """A safe YAML loader class on ``base`` (libyaml's ``CSafeLoader`` or the pure-Python
    ``SafeLoader``) that also finds duplicate keys and refuses alias expansion past
    :data:`MAX_ALIAS_NODES`.

    Documents are built by :meth:`Loader.build`: one pass over the nodes that makes the
    plain tags (str, int, float, bool, null, map, seq) directly, each node once (an alias
    gives the same object, as the safe constructor does), and checks keys as it goes; any
    other node (a merge key, ``!!set``, ``!!timestamp``, a key that is not a scalar, ...)
    goes through the safe constructor itself."""

    resolved: dict[str, str] = {}

    class Loader(base):  # type: ignore[misc, valid-type]
        def __init__(self, stream: str) -> None:
            super().__init__(stream)
            self.check_aliases = "&" in stream  # no anchor, no alias: nothing to count
            self.duplicates: list[tuple[yaml.Node, yaml.Node, yaml.Node]] = []
            self.root: yaml.Node | None = None
            self._made: dict[int, Any] = {}
            self._aliases = _AliasCount(yaml.Node("", "", None, None))
            # the safe constructor's own state, typed for the checker
            self.state_generators: list[Any]
            self.constructed_objects: dict[Any, Any]
            self.recursive_objects: dict[Any, Any]

        def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
            # The implicit tag of a plain scalar depends on its text only: remember it.
            if kind is yaml.ScalarNode and implicit[0] and len(value) <= 32 and not self.yaml_path_resolvers:
                tag = resolved.get(value)
                if tag is None:
                    tag = super().resolve(kind, value, implicit)
                    if len(resolved) < _RESOLVED_MAX:
                        resolved[value] = tag
                return tag
            return super().resolve(kind, value, implicit)

        def construct_document(self, node: yaml.Node) -> Any:
            self.root = node
            self._aliases = _AliasCount(node)
            return self.build(node)

        def build(self, root: yaml.Node) -> Any:
            """The data of a node graph, without recursion."""
            stack: list[tuple[yaml.Node, Any]] = []
            self._made = {}  # containers by id(node): an alias gives the same object
            data = self._start(root, stack)
            while stack:
                node, into = stack.pop()
                if isinstance(into, list):
                    for child in node.value:
                        into.append(self._start(child, stack))
                    continue
                for key_node, value_node in node.value:
                    if self.check_aliases:
                        self._aliases.met(key_node, False)
                    key = self._scalar(key_node)
                    if key in into:
                        earlier = next(k for k, _ in node.value if self._scalar(k) == key)
                        self.duplicates.append((node, key_node, earlier))
                    into[key] = self._start(value_node, stack)
            while self.state_generators:  # what the safe constructor left to fill in
                generators, self.state_generators = self.state_generators, []
                for generator in generators:
                    for _ in generator:
                        pass
            self.constructed_objects = {}
            self.recursive_objects = {}
            self._made = {}
            return data

        def _start(self, node: yaml.Node, stack: list[tuple[yaml.Node, Any]]) -> Any:
            """A scalar's value, or a container to be filled (pushed on ``stack`` when new)."""
            if isinstance(node, yaml.ScalarNode):
                if self.check_aliases:
                    self._aliases.met(node, False)
                return self._scalar(node)
            made = self._made.get(id(node))
            if self.check_aliases:
                self._aliases.met(node, made is not None)
            if made is not None:
                return made
            tag = node.tag
            if tag == _SEQ and isinstance(node, yaml.SequenceNode):
                made = []
                stack.append((node, made))
            elif tag == _MAP and isinstance(node, yaml.MappingNode) and all(
                isinstance(k, yaml.ScalarNode) and k.tag != _MERGE_TAG for k, _ in node.value
            ):
                made = {}
                stack.append((node, made))
            else:
                if self.check_aliases:  # the safe constructor builds what is under it: count it all
                    self._aliases.walk_all()
                made = self.construct_object(node)
            self._made[id(node)] = made
            return made

        def _scalar(self, node: yaml.Node) -> Any:
            tag, value = node.tag, node.value
            if tag == _STR:
                return value
            if tag == _INT and value.isascii() and value.isdigit() and (value[0] != "0" or value == "0"):
                return int(value)
            if tag == _FLOAT and _FLOAT_CHARS.issuperset(value):
                try:  # where float() reads it, it reads it as the safe constructor does
                    return float(value)
                except ValueError:
                    pass
            if tag == _BOOL and value.lower() in _BOOLS:
                return _BOOLS[value.lower()]
            if tag == _NULL:
                return None
            return self.construct_object(node, deep=True)

        def construct_mapping(self, node: yaml.Node, deep: bool = False) -> Any:
            if isinstance(node, yaml.MappingNode):
                first: dict[Any, yaml.Node] = {}
                for key_node, _ in node.value:
                    if key_node.tag == _MERGE_TAG:
                        continue
                    key = self.construct_object(key_node, deep=True)
                    try:
                        earlier = first.setdefault(key, key_node)
                    except TypeError:  # unhashable: the base class says so with its position
                        break
                    if earlier is not key_node:
                        self.duplicates.append((node, key_node, earlier))
            return super().construct_mapping(node, deep=deep)

    Loader.__name__ = Loader.__qualname__ = f"Checked{base.__name__}"
    return Loader


YAMLLoader = make_yaml_loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader))
"""The loader every instance and catalogue file is read with: libyaml's when installed."""


class _AliasBomb(Exception):
    pass


class _AliasCount:
    """The nodes aliases add to a document once expanded, counted as the document is
    built: a node met again adds its whole expanded subtree (sizes remembered, so each
    is walked once); past :data:`MAX_ALIAS_NODES`, or for a node that contains itself,
    :class:`_AliasBomb`. Where the safe constructor builds a subtree itself, the whole
    document is walked instead (:func:`_check_alias_expansion`)."""

    def __init__(self, root: yaml.Node) -> None:
        self.root = root
        self.seen: set[int] = set()
        self.sizes: dict[int, int] = {}
        self.extra = 0
        self.walked = False

    def met(self, node: yaml.Node, again: bool) -> None:
        if not again and id(node) not in self.seen:
            self.seen.add(id(node))
            return
        self.extra += self.size(node)
        if self.extra > MAX_ALIAS_NODES:
            raise _AliasBomb

    def size(self, node: yaml.Node) -> int:
        """Nodes in ``node``'s subtree with every alias expanded."""
        sizes, open_ = self.sizes, set()
        stack: list[tuple[yaml.Node, bool]] = [(node, False)]
        while stack:
            n, done = stack.pop()
            i = id(n)
            kids = [c for kv in n.value for c in kv] if isinstance(n, yaml.MappingNode) else (
                n.value if isinstance(n, yaml.SequenceNode) else [])
            if done:
                sizes[i] = total = 1 + sum(sizes[id(c)] for c in kids)
                if total > MAX_ALIAS_NODES:
                    raise _AliasBomb
                continue
            if i in sizes:
                continue
            if i in open_:  # met again inside itself: it refers to itself
                raise _AliasBomb
            open_.add(i)
            stack.append((n, True))
            stack.extend((c, False) for c in kids if id(c) not in sizes)
        return sizes[id(node)]

    def walk_all(self) -> None:
        if not self.walked:
            self.walked = True
            _check_alias_expansion(self.root)


def _check_alias_expansion(root: yaml.Node) -> None:
    """Walk the node graph as the data would be expanded, counting each node met again
    through an alias; stop past the limit (this also ends self-referring aliases)."""
    seen: set[int] = set()
    extra = 0
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            extra += 1
            if extra > MAX_ALIAS_NODES:
                raise _AliasBomb
        else:
            seen.add(id(node))
        if isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
        elif isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                stack.append(k)
                stack.append(v)


def _node_path(root: yaml.Node, target: yaml.Node) -> tuple[int | str, ...]:
    """Where ``target`` sits under ``root`` (first occurrence), as a field path."""
    seen: set[int] = set()
    stack: list[tuple[yaml.Node, tuple[int | str, ...]]] = [(root, ())]
    while stack:
        node, loc = stack.pop()
        if node is target:
            return loc
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, yaml.SequenceNode):  # reversed: the first child is looked at first
            stack.extend(reversed([(child, (*loc, i)) for i, child in enumerate(node.value)]))
        elif isinstance(node, yaml.MappingNode):
            stack.extend(reversed([(v, (*loc, str(k.value) if isinstance(k, yaml.ScalarNode) else "?"))
                                   for k, v in node.value]))
    return ()


def _data_path(root: Any, target: int) -> tuple[int | str, ...]:
    """Where the object with ``id(target)`` sits in parsed JSON data."""
    stack: list[tuple[Any, tuple[int | str, ...]]] = [(root, ())]
    while stack:
        obj, loc = stack.pop()
        if id(obj) == target:
            return loc
        if isinstance(obj, dict):
            stack.extend((v, (*loc, str(k))) for k, v in obj.items())
        elif isinstance(obj, list):
            stack.extend((v, (*loc, i)) for i, v in enumerate(obj))
    return ()


def _parse_yaml(text: str, where: str, loader_class: type[Any] | None = None) -> Any:
    loader = (loader_class or YAMLLoader)(text)
    gc_was_on = gc.isenabled()
    gc.disable()  # parsing makes millions of objects and no garbage: skip the collector's passes
    try:
        data = loader.get_single_data()
    except _AliasBomb:
        raise InstanceError([
            f"{where}: YAML aliases expand to more than {MAX_ALIAS_NODES:,} extra nodes "
            "(or refer to themselves); write the values out instead"
        ]) from None
    finally:
        loader.dispose()
        if gc_was_on:
            gc.enable()
    if loader.duplicates:
        assert loader.root is not None
        problems = []
        for mapping, key_node, earlier in loader.duplicates:
            loc = (*_node_path(loader.root, mapping), str(key_node.value))
            problems.append(
                f"{where}: {_fmt_loc(loc)}: duplicate key (line {key_node.start_mark.line + 1}, "
                f"first given at line {earlier.start_mark.line + 1})"
            )
        raise InstanceError(problems)
    return data


def _parse_json(text: str, where: str) -> Any:
    dupes: list[tuple[int, str]] = []

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for k, v in items:
            if k in out:
                dupes.append((id(out), k))
            out[k] = v
        return out

    data = json.loads(text, object_pairs_hook=pairs)
    if dupes:
        raise InstanceError([f"{where}: {_fmt_loc((*_data_path(data, i), k))}: duplicate key"
                             for i, k in dupes])
    return data


def read_mapping(path: Path, what: str) -> dict[str, Any]:
    """Read a YAML or JSON file that must hold a mapping; every failure is an
    :class:`InstanceError` naming the file."""
    where = show_path(path)
    try:
        if not path.is_file():
            raise InstanceError([f"{where}: {what} file not found"])
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        raise InstanceError([f"{where}: byte {e.start}: not UTF-8 text"]) from None
    except (OSError, ValueError) as e:
        raise InstanceError([f"{where}: cannot read the {what} file: {clip(str(e))}"]) from None
    try:
        if path.suffix.lower() == ".json":
            data = _parse_json(text, where)
        else:
            data = _parse_yaml(text, where)
    except json.JSONDecodeError as e:
        raise InstanceError([f"{where}: line {e.lineno} column {e.colno}: not valid JSON: {e.msg}"]) from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        at = f"line {mark.line + 1} column {mark.column + 1}: " if mark else ""
        raise InstanceError([f"{where}: {at}not valid YAML: {clip(str(getattr(e, 'problem', None) or e))}"]) from None
    except RecursionError:
        raise InstanceError([f"{where}: nested too deeply (more than about 1,000 levels)"]) from None
    except ValueError as e:  # e.g. an integer of more digits than Python converts
        raise InstanceError([f"{where}: a value cannot be read: {clip(str(e))}"]) from None
    if not isinstance(data, dict):
        raise InstanceError([f"{where}: (top level): expected a mapping of fields, got {type(data).__name__}"])
    return data


def show_path(path: Path | str) -> str:
    """A file path for a message, escaped when it holds characters a terminal interprets."""
    s = str(path)
    return s if s.isprintable() else s.encode("unicode_escape").decode("ascii")


Ids = Mapping[str, Sequence[object]]
"""The ``id`` of every record of ``sites`` and ``workloads``, to name records in paths."""


def _fmt_loc(loc: tuple[int | str, ...], ids: Ids | None = None) -> str:
    out = ""
    for n, part in enumerate(loc):
        if isinstance(part, int):
            out += f"[{part}]"
            if n == 1 and ids and isinstance(loc[0], str):
                out += _id_note(ids.get(loc[0]), part)
        else:
            out += ("." if out else "") + show_name(str(part))
    return out or "(top level)"


def _id_note(ids: Sequence[object] | None, i: int) -> str:
    if ids is None or not 0 <= i < len(ids):
        return ""
    rid = ids[i]
    return f" ({excerpt(rid)})" if isinstance(rid, str) else ""
