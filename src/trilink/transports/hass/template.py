"""A small, safe evaluator for the Jinja templates of Home Assistant MQTT discovery.

Devices put templates in their discovery configs (``value_template``,
``command_template`` …); Zigbee2MQTT's are one expression such as
``{{ value_json.temperature }}``. Running them with a full Jinja would execute whatever
a device on the network sends, so this module evaluates only a closed subset:

- ``{{ … }}`` expressions between literal text (``{%`` statements and ``{#`` comments
  are refused, so are templates over :data:`MAX_TEMPLATE` characters);
- names from the given variables (``value``, ``value_json``, …), numbers, strings,
  ``true``/``false``/``none``;
- ``.key`` and ``[key]`` lookups into dicts and lists only (never Python attributes);
- ``+ - * / // %`` on numbers, ``~`` and ``+`` on text, comparisons, ``in``,
  ``and``/``or``/``not`` and ``a if cond else b``;
- the filters ``int``, ``float``, ``round``, ``lower``, ``upper``, ``title``,
  ``capitalize``, ``trim``, ``default``/``d``, ``string``, ``abs``, ``bool``,
  ``replace``, ``length``/``count`` and ``tojson``/``to_json``.

Anything else raises :class:`TemplateUnsupported` when compiled, so a config's
template is known to be usable (or not) before any message arrives. A missing key is
*undefined*, as in Jinja: ``default`` replaces it, and a template that evaluates to it
gives :data:`UNDEFINED` (the message carried no value for this entity).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from typing import Any, Final

from trilink.transports.hass.template_values import (
    FILTERS,
    UNDEFINED,
    TemplateError,
    arith,
    compare,
    lookup,
    text,
)

__all__ = [
    "MAX_TEMPLATE",
    "UNDEFINED",
    "Template",
    "TemplateError",
    "TemplateUnsupported",
    "compile_template",
    "text",
]

#: longer templates are refused (a bound on work per message)
MAX_TEMPLATE: Final = 1024
_MAX_DEPTH: Final = 32


class TemplateUnsupported(TemplateError):
    """A template uses syntax this evaluator does not run; the message says what."""


Node = Callable[[Mapping[str, Any]], Any]

_TOKEN = re.compile(
    r"""\s*(?:
      (?P<num>\d+\.\d*|\.\d+|\d+)
     |(?P<str>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
     |(?P<name>[A-Za-z_][A-Za-z0-9_]*)
     |(?P<op>==|!=|<=|>=|//|[()\[\].|,<>+\-*/%~])
    )""",
    re.X,
)
_ESCAPES: Final = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", "'": "'", '"': '"'}
_CONSTANTS: Final[dict[str, Any]] = {
    "true": True,
    "True": True,
    "false": False,
    "False": False,
    "none": None,
    "None": None,
}


# ------------------------------------------------------------------- nodes
def _n_if(then: Node, cond: Node, other: Node) -> Node:
    return lambda env: then(env) if cond(env) else other(env)


def _n_or(a: Node, b: Node) -> Node:
    return lambda env: a(env) or b(env)


def _n_and(a: Node, b: Node) -> Node:
    return lambda env: a(env) and b(env)


def _narith(op: str, a: Node, b: Node) -> Node:
    return lambda env: arith(op, a(env), b(env))


def _nlookup(inner: Node, key: Node) -> Node:
    return lambda env: lookup(inner(env), key(env))


def _n_const(value: Any) -> Node:
    return lambda env: value


# -------------------------------------------------------------------- parser
class _Parser:
    """Recursive descent over one ``{{ … }}`` expression, building closures."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.tokens: list[tuple[str, str]] = []
        pos = 0
        while pos < len(source):
            if source[pos:].strip() == "":
                break
            m = _TOKEN.match(source, pos)
            if m is None:
                raise TemplateUnsupported(f"unsupported syntax at {source[pos : pos + 20]!r}")
            kind = m.lastgroup or ""
            self.tokens.append((kind, m.group(kind)))
            pos = m.end()
        self.i = 0
        self.depth = 0

    def peek(self, value: str | None = None) -> bool:
        if self.i >= len(self.tokens):
            return False
        kind, tok = self.tokens[self.i]
        return value is None or (tok == value and kind in ("op", "name"))

    def take(self, value: str | None = None) -> str:
        if not self.peek(value):
            found = self.tokens[self.i][1] if self.i < len(self.tokens) else "the end"
            raise TemplateUnsupported(f"expected {value or 'a value'!r}, found {found!r}")
        self.i += 1
        return self.tokens[self.i - 1][1]

    def parse(self) -> Node:
        node = self.expr()
        if self.i != len(self.tokens):
            raise TemplateUnsupported(f"unsupported syntax at {self.tokens[self.i][1]!r}")
        return node

    def expr(self) -> Node:
        self.depth += 1
        if self.depth > _MAX_DEPTH:
            raise TemplateUnsupported("the expression is nested too deeply")
        body = self.or_expr()
        if self.peek("if"):
            self.take("if")
            cond = self.or_expr()
            other = _n_const(UNDEFINED)
            if self.peek("else"):
                self.take("else")
                other = self.expr()
            body = _n_if(body, cond, other)
        self.depth -= 1
        return body

    def or_expr(self) -> Node:
        left = self.and_expr()
        while self.peek("or"):
            self.take()
            left = _n_or(left, self.and_expr())
        return left

    def and_expr(self) -> Node:
        left = self.not_expr()
        while self.peek("and"):
            self.take()
            left = _n_and(left, self.not_expr())
        return left

    def not_expr(self) -> Node:
        if self.peek("not"):
            self.take()
            inner = self.not_expr()
            return lambda env: not inner(env)
        return self.compare()

    def compare(self) -> Node:
        left = self.additive()
        for op in ("==", "!=", "<=", ">=", "<", ">", "in", "not"):
            if self.peek(op):
                self.take()
                if op == "not":
                    self.take("in")
                    op = "not in"
                right = self.additive()
                a = left
                return lambda env: compare(op, a(env), right(env))
        return left

    def binary(self, ops: tuple[str, ...], operand: Callable[[], Node]) -> Node:
        left = operand()
        while any(self.peek(op) for op in ops):
            op = self.take()
            left = _narith(op, left, operand())
        return left

    def additive(self) -> Node:
        return self.binary(("+", "-", "~"), self.term)

    def term(self) -> Node:
        return self.binary(("*", "/", "//", "%"), self.unary)

    def unary(self) -> Node:
        if self.peek("-"):
            self.take()
            inner = self.unary()
            return lambda env: arith("-", 0, inner(env))
        return self.filtered()

    def filtered(self) -> Node:
        node = self.postfix()
        while self.peek("|"):
            self.take()
            name = self.take()
            fn = FILTERS.get(name)
            if fn is None:
                raise TemplateUnsupported(f"unsupported filter {name!r}")
            args: list[Node] = []
            if self.peek("("):
                self.take()
                while not self.peek(")"):
                    args.append(self.expr())
                    if not self.peek(")"):
                        self.take(",")
                self.take(")")
            node = self._apply(fn, node, args)
        return node

    @staticmethod
    def _apply(fn: Callable[..., Any], node: Node, args: list[Node]) -> Node:
        def run(env: Mapping[str, Any]) -> Any:
            try:
                return fn(node(env), *(a(env) for a in args))
            except TypeError as exc:
                raise TemplateError(f"bad filter arguments: {exc}") from None

        return run

    def postfix(self) -> Node:
        node = self.primary()
        while self.peek(".") or self.peek("["):
            if self.take() == ".":
                node = _nlookup(node, _n_const(self.take()))
            else:
                index = self.expr()
                self.take("]")
                node = _nlookup(node, index)
        return node

    def primary(self) -> Node:
        if self.i >= len(self.tokens):
            raise TemplateUnsupported("the expression ends too early")
        kind, tok = self.tokens[self.i]
        self.i += 1
        if kind == "num":
            return _n_const(float(tok) if "." in tok else int(tok))
        if kind == "str":
            literal = re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(1)), tok[1:-1])
            return _n_const(literal)
        if kind == "name":
            if tok in _CONSTANTS:
                return _n_const(_CONSTANTS[tok])
            return lambda env: env.get(tok, UNDEFINED)
        if tok == "(":
            node = self.expr()
            self.take(")")
            return node
        raise TemplateUnsupported(f"unsupported syntax at {tok!r}")


class Template:
    """A compiled template; :meth:`render` evaluates it with the given variables."""

    __slots__ = ("_parts", "_single", "source", "uses_json")

    def __init__(self, source: str, parts: list[str | Node], single: bool) -> None:
        self.source = source
        self._parts = parts
        self._single = single
        #: whether rendering needs the payload parsed as JSON
        self.uses_json = "value_json" in source

    def render(self, variables: Mapping[str, Any]) -> Any:
        """The value (a lone expression keeps its type; text around it makes text).

        Raises :class:`TemplateError`; returns :data:`UNDEFINED` if a lone expression
        looked up something missing.
        """
        if self._single:
            node = self._parts[0]
            assert not isinstance(node, str)
            return node(variables)
        return "".join(p if isinstance(p, str) else text(p(variables)) for p in self._parts)

    def __repr__(self) -> str:
        return f"Template({self.source!r})"


@functools.lru_cache(maxsize=4096)
def compile_template(source: str) -> Template:
    """Compile a template; raises :class:`TemplateUnsupported` naming what it cannot run.

    Compiled templates are immutable and cached by source: a hundred devices of one
    kind share theirs.
    """
    if len(source) > MAX_TEMPLATE:
        raise TemplateUnsupported(f"the template is longer than {MAX_TEMPLATE} characters")
    if "{%" in source or "{#" in source:
        raise TemplateUnsupported("statements ({% … %}) and comments ({# … #}) are not evaluated")
    parts: list[str | Node] = []
    pos = 0
    strip_next = False
    while True:
        start = source.find("{{", pos)
        literal = source[pos:] if start < 0 else source[pos:start]
        if strip_next:
            literal = literal.lstrip()
        if start >= 0 and source.startswith("{{-", start):
            literal = literal.rstrip()
        if literal:
            parts.append(literal)
        if start < 0:
            break
        end = source.find("}}", start + 2)
        if end < 0:
            raise TemplateUnsupported("a '{{' has no closing '}}'")
        inner = source[start + 2 : end]
        if inner.startswith("-"):
            inner = inner[1:]
        strip_next = inner.endswith("-")
        if strip_next:
            inner = inner[:-1]
        parts.append(_Parser(inner).parse())
        pos = end + 2
    single = len(parts) == 1 and not isinstance(parts[0], str)
    if not single and len(parts) > 1:
        # whitespace around a lone expression does not make it text
        trimmed = [p for p in parts if not (isinstance(p, str) and not p.strip())]
        if len(trimmed) == 1 and not isinstance(trimmed[0], str):
            parts, single = trimmed, True
    return Template(source, parts, single)
