"""YAML with line numbers: definitions are loaded so that every error can name its line.

:func:`load_yaml` reads one YAML document safely and returns a :class:`Located`: the
plain data (dicts, lists, strings, numbers, booleans, ``None``) together with the line
of every node, so a later check can say ``automations.yaml:14: automations[0]…``.

The schema is YAML 1.2's core schema, not PyYAML's YAML 1.1 default, because YAML 1.1
turns times into numbers (``at: 23:00`` would be the integer 1380, base 60), ``on``/``no``
into booleans and dates into ``date`` objects. Here ``23:00``, ``on`` and ``2026-06-21``
stay text; ``true``/``false``, ``null``/``~``, integers and floats are resolved.

Also refused, with the line: duplicate keys (PyYAML silently keeps the last), tags other
than the standard ones and ``!input NAME`` (kept as :class:`InputRef` for blueprints),
documents that anchors and aliases expand beyond :data:`MAX_NODES` values ("billion
laughs") and nesting deeper than :data:`MAX_DEPTH`. ``<<`` merge keys work as in YAML 1.1:
the keys of the mapping itself win over merged ones.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.composer import Composer
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.parser import Parser
from yaml.reader import Reader
from yaml.resolver import BaseResolver
from yaml.scanner import Scanner

from trilink.automation.errors import DefinitionError

#: Most values (scalars, lists, mappings, counting every alias expansion) in one document.
MAX_NODES = 100_000
#: Deepest nesting of lists and mappings.
MAX_DEPTH = 64

#: A path into a document: mapping keys and list indices, outermost first.
Path = tuple[str | int, ...]

_TAG = "tag:yaml.org,2002:"
_STR, _INT, _FLOAT, _BOOL, _NULL = (_TAG + t for t in ("str", "int", "float", "bool", "null"))
_SEQ, _MAP, _MERGE = _TAG + "seq", _TAG + "map", _TAG + "merge"
_INPUT = "!input"
_SIMPLE_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")
_INT_RE = re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$")
_FLOAT_RE = re.compile(
    r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
)
_BOOL_RE = re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$")
_NULL_RE = re.compile(r"^(?:~|null|Null|NULL|)$")
_SURROGATE = re.compile("[\ud800-\udfff]")


@dataclass(frozen=True, slots=True)
class InputRef:
    """``!input NAME`` in a blueprint: a place the value of input ``name`` goes."""

    name: str


@dataclass(frozen=True)
class Located:
    """Loaded YAML data with the 1-based line of each node, keyed by its path."""

    data: Any
    source: str
    lines: Mapping[Path, int] = field(default_factory=dict, repr=False, compare=False)

    def line_of(self, path: Sequence[str | int]) -> int | None:
        """The line of the node at ``path``, or of its nearest ancestor that has one.

        A mapping entry's line is its key's line (where ``triggers:`` is written).
        """
        key = tuple(path)
        for end in range(len(key), -1, -1):
            line = self.lines.get(key[:end])
            if line is not None:
                return line
        return None


def path_text(path: Sequence[str | int]) -> str:
    """A path as people read it: ``("automations", 2, "triggers")`` → ``automations[2].triggers``."""
    out: list[str] = []
    for part in path:
        if isinstance(part, int) and not isinstance(part, bool):
            out.append(f"[{part}]")
        elif _SIMPLE_KEY.match(str(part)):
            out.append(f".{part}" if out else str(part))
        else:
            out.append(f"[{json.dumps(str(part), ensure_ascii=False)}]")
    return "".join(out)


class _CoreResolver(BaseResolver):
    """YAML 1.2 core schema resolution of plain scalars (see the module docstring)."""

    yaml_implicit_resolvers: dict[Any, list[tuple[str, re.Pattern[str]]]] = {}  # noqa: RUF012


_CoreResolver.add_implicit_resolver(_BOOL, _BOOL_RE, list("tTfF"))
_CoreResolver.add_implicit_resolver(_NULL, _NULL_RE, ["~", "n", "N", ""])
_CoreResolver.add_implicit_resolver(_INT, _INT_RE, list("-+0123456789"))
_CoreResolver.add_implicit_resolver(_FLOAT, _FLOAT_RE, list("-+.0123456789"))
_CoreResolver.add_implicit_resolver(_MERGE, re.compile(r"^<<$"), ["<"])


class _NodeLoader(Reader, Scanner, Parser, Composer, _CoreResolver):
    """PyYAML's reader, scanner, parser and composer: nodes with marks, no Python objects."""

    def __init__(self, text: str) -> None:
        Reader.__init__(self, text)
        Scanner.__init__(self)
        Parser.__init__(self)
        Composer.__init__(self)
        _CoreResolver.__init__(self)


def load_yaml(text: str, source: str) -> Located:
    """Load one YAML document safely; raise :class:`DefinitionError` with the line if it is bad.

    An empty document gives ``data=None``.
    """
    loader: _NodeLoader | None = None
    try:
        loader = _NodeLoader(text)  # the reader refuses control characters already here
        node = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        raise DefinitionError(source, line, "", f"YAML syntax error: {_yaml_reason(exc)}") from None
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        char = exc.character if isinstance(exc.character, str) else chr(exc.character)
        reason = f"YAML syntax error: the character U+{ord(char):04X} is not allowed in YAML"
        raise DefinitionError(source, line, "", reason) from None
    except RecursionError:
        raise DefinitionError(source, None, "", f"nested more than {MAX_DEPTH} levels deep") from None
    finally:
        if loader is not None:
            loader.dispose()
    if node is None:
        return Located(None, source, {})
    builder = _Builder(source)
    data = builder.build(node, ())
    return Located(data, source, builder.lines)


def _yaml_reason(exc: yaml.MarkedYAMLError) -> str:
    parts = [p for p in (exc.context, exc.problem) if p]
    return "; ".join(parts) if parts else "not valid YAML"


class _Builder:
    """Turns composed nodes into plain data, recording lines and enforcing the limits."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.lines: dict[Path, int] = {}
        self.count = 0
        # nodes being built right now: an alias to one of them would recurse forever
        self.active: set[int] = set()

    def fail(self, node: Node, path: Path, reason: str) -> DefinitionError:
        return DefinitionError(self.source, node.start_mark.line + 1, path_text(path), reason)

    def build(self, node: Node, path: Path, line: int | None = None) -> Any:
        self.count += 1
        if self.count > MAX_NODES:
            raise self.fail(
                node, path, f"the document expands to more than {MAX_NODES} values (too many aliases?)"
            )
        if len(path) > MAX_DEPTH:
            raise self.fail(node, path, f"nested more than {MAX_DEPTH} levels deep")
        if id(node) in self.active:
            raise self.fail(node, path, "an alias refers to a node that contains it")
        self.lines.setdefault(path, line if line is not None else node.start_mark.line + 1)
        if isinstance(node, ScalarNode):
            return self.scalar(node, path)
        self.active.add(id(node))
        try:
            if isinstance(node, SequenceNode):
                if node.tag != _SEQ:
                    raise self.fail(node, path, f"tag {_tag_text(node.tag)} is not allowed on a list")
                return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
            if isinstance(node, MappingNode):
                return self.mapping(node, path)
            raise self.fail(node, path, "unsupported YAML node")
        finally:
            self.active.discard(id(node))

    def mapping(self, node: MappingNode, path: Path) -> dict[Any, Any]:
        if node.tag != _MAP:
            raise self.fail(node, path, f"tag {_tag_text(node.tag)} is not allowed on a mapping")
        out: dict[Any, Any] = {}
        merges: list[tuple[Node, Node]] = []
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE:
                merges.append((key_node, value_node))
                continue
            key = self.key(key_node, path)
            if key in out:
                first = self.lines.get((*path, _path_key(key)))
                raise self.fail(key_node, path, f"duplicate key {key!r} (first on line {first})")
            out[key] = self.build(value_node, (*path, _path_key(key)), key_node.start_mark.line + 1)
        for key_node, value_node in merges:
            sources = value_node.value if isinstance(value_node, SequenceNode) else [value_node]
            for merged in sources:
                if not isinstance(merged, MappingNode):
                    raise self.fail(key_node, path, "'<<' merges a mapping or a list of mappings")
                if id(merged) in self.active:
                    raise self.fail(key_node, path, "an alias refers to a node that contains it")
                self.active.add(id(merged))
                try:
                    # keys given directly, or by an earlier merge, win
                    for k, v in self.mapping(merged, path).items():
                        out.setdefault(k, v)
                finally:
                    self.active.discard(id(merged))
        return out

    def key(self, node: Node, path: Path) -> Any:
        if not isinstance(node, ScalarNode):
            raise self.fail(node, path, "a mapping key must be a plain value, not a list or mapping")
        key = self.scalar(node, path)
        if isinstance(key, InputRef):
            raise self.fail(node, path, "!input cannot be used as a key")
        return key

    def scalar(self, node: ScalarNode, path: Path) -> Any:
        tag, text = node.tag, node.value
        if tag == _INPUT:
            name = text.strip()
            if not name:
                raise self.fail(node, path, "!input needs the name of an input, e.g. !input car")
            return InputRef(name)
        construct = _SCALARS.get(tag)
        if construct is None:
            raise self.fail(node, path, f"unknown tag {_tag_text(tag)}; only !input is allowed here")
        try:
            return construct(text)
        except ValueError:
            raise self.fail(node, path, f"{text!r} is not a valid {tag.removeprefix(_TAG)}") from None


def _to_str(text: str) -> str:
    if not _SURROGATE.search(text):
        return text
    # "\ud83d\ude00" escapes (as JSON writes characters beyond U+FFFF) join into one character;
    # a lone half of a pair is not text
    try:
        return text.encode("utf-16", "surrogatepass").decode("utf-16")
    except UnicodeDecodeError:
        raise ValueError(text) from None


def _to_null(text: str) -> None:
    if not _NULL_RE.match(text):
        raise ValueError(text)


def _to_bool(text: str) -> bool:
    if not _BOOL_RE.match(text):
        raise ValueError(text)
    return text.lower() == "true"


def _to_int(text: str) -> int:
    body = text.replace("_", "")
    sign = -1 if body.startswith("-") else 1
    body = body.lstrip("+-")
    if body.startswith("0x"):
        return sign * int(body[2:], 16)
    if body.startswith("0o"):
        return sign * int(body[2:], 8)
    return sign * int(body, 10)


def _to_float(text: str) -> float:
    lowered = text.lower()
    if lowered.endswith(".inf"):
        return -math.inf if lowered.startswith("-") else math.inf
    if lowered == ".nan":
        return math.nan
    return float(text.replace("_", ""))


_SCALARS: dict[str, Callable[[str], Any]] = {
    _STR: _to_str,
    _NULL: _to_null,
    _BOOL: _to_bool,
    _INT: _to_int,
    _FLOAT: _to_float,
}


def _tag_text(tag: str) -> str:
    """A tag as it is written in YAML: ``!!python/object``, ``!foo``."""
    return "!!" + tag.removeprefix(_TAG) if tag.startswith(_TAG) else tag


def _path_key(key: Any) -> str | int:
    """The path element for a mapping key: text and whole numbers as they are, else text."""
    if isinstance(key, str) or (isinstance(key, int) and not isinstance(key, bool)):
        return key
    return str(key)
