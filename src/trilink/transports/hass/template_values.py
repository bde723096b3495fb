"""Values and filters of the template evaluator: undefined, printing, filters, operators.

See :mod:`trilink.transports.hass.template` for what is supported and why.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, Final

import orjson


class TemplateError(ValueError):
    """A template failed while rendering (a bad conversion, a division by zero …)."""


class _Undefined:
    """A value that is not there (a missing key): falsy, renders as empty text."""

    __slots__ = ()

    def __bool__(self) -> bool:
        return False

    def __repr__(self) -> str:
        return "UNDEFINED"


#: the result of looking up something that is not there
UNDEFINED: Final = _Undefined()

_MISSING: Final = object()

_TRUE_WORDS: Final = frozenset({"true", "yes", "on", "enable", "1"})
_FALSE_WORDS: Final = frozenset({"false", "no", "off", "disable", "0"})


def text(value: Any) -> str:
    """How Jinja prints a value: ``True``/``False``/``None``, undefined as empty text."""
    if value is UNDEFINED:
        return ""
    if isinstance(value, str):
        return value
    return str(value)


# ------------------------------------------------------------------ filters
def _number(value: Any, kind: type, default: Any) -> Any:
    try:
        if isinstance(value, bool | int | float):
            return kind(value)
        if isinstance(value, str):
            s = value.strip()
            if kind is int:
                try:
                    return int(s, 10)
                except ValueError:
                    return int(float(s))
            return float(s)
    except (ValueError, OverflowError):
        pass
    if default is _MISSING:
        raise TemplateError(f"cannot convert {value!r} to {kind.__name__}")
    return default


def _f_int(value: Any, default: Any = _MISSING) -> Any:
    return _number(value, int, default)


def _f_float(value: Any, default: Any = _MISSING) -> Any:
    return _number(value, float, default)


def _f_round(value: Any, precision: Any = 0, method: Any = "common", default: Any = _MISSING) -> Any:
    number = _number(value, float, default)
    if number is default and default is not _MISSING:
        return default
    if not isinstance(precision, int) or not 0 <= precision <= 15:
        raise TemplateError(f"round precision must be 0..15, got {precision!r}")
    if not math.isfinite(number):
        return number
    if method == "common":
        try:
            result = float(Decimal(repr(number)).quantize(Decimal(1).scaleb(-precision), ROUND_HALF_UP))
        except InvalidOperation as exc:
            raise TemplateError(f"cannot round {number!r}") from exc
    elif method in ("ceil", "floor"):
        scale = 10.0**precision
        fn = math.ceil if method == "ceil" else math.floor
        result = fn(number * scale) / scale
    else:
        raise TemplateError(f"round method must be common, ceil or floor, got {method!r}")
    return int(result) if precision == 0 else result


def _f_default(value: Any, fallback: Any = "", boolean: Any = False) -> Any:
    if value is UNDEFINED or (boolean and not value):
        return fallback
    return value


def _f_bool(value: Any, default: Any = _MISSING) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value != 0
    if isinstance(value, str):
        word = value.strip().lower()
        if word in _TRUE_WORDS:
            return True
        if word in _FALSE_WORDS:
            return False
    if default is _MISSING:
        raise TemplateError(f"cannot convert {value!r} to bool")
    return default


def _f_abs(value: Any) -> Any:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return abs(value)
    raise TemplateError(f"abs needs a number, got {value!r}")


def _f_length(value: Any) -> int:
    if isinstance(value, str | list | dict):
        return len(value)
    raise TemplateError(f"length needs text, a list or a dict, got {value!r}")


def _f_tojson(value: Any) -> str:
    try:
        return orjson.dumps(None if value is UNDEFINED else value).decode()
    except TypeError as exc:
        raise TemplateError(f"cannot write {value!r} as JSON") from exc


def _f_replace(value: Any, old: Any, new: Any) -> str:
    return text(value).replace(text(old), text(new))


#: the filters a template may use, by name
FILTERS: Final[dict[str, Callable[..., Any]]] = {
    "int": _f_int,
    "float": _f_float,
    "round": _f_round,
    "lower": lambda v: text(v).lower(),
    "upper": lambda v: text(v).upper(),
    "title": lambda v: text(v).title(),
    "capitalize": lambda v: text(v).capitalize(),
    "trim": lambda v: text(v).strip(),
    "default": _f_default,
    "d": _f_default,
    "string": text,
    "abs": _f_abs,
    "bool": _f_bool,
    "replace": _f_replace,
    "length": _f_length,
    "count": _f_length,
    "tojson": _f_tojson,
    "to_json": _f_tojson,
}


# ----------------------------------------------------------------- operators
def arith(op: str, a: Any, b: Any) -> Any:
    """``a op b`` for the arithmetic operators (numbers only; ``~`` and ``+`` join text)."""
    if op == "~":
        return text(a) + text(b)
    if op == "+" and isinstance(a, str) and isinstance(b, str):
        return a + b
    if not (isinstance(a, int | float) and isinstance(b, int | float)):
        raise TemplateError(f"{op} needs numbers, got {a!r} and {b!r}")
    try:
        if op == "+":
            return a + b
        if op == "-":
            return a - b
        if op == "*":
            return a * b
        if op == "/":
            return a / b
        if op == "//":
            return a // b
        return a % b
    except (ArithmeticError, ValueError) as exc:
        raise TemplateError(f"{a!r} {op} {b!r}: {exc}") from None


def compare(op: str, a: Any, b: Any) -> bool:
    """``a op b`` for the comparisons and ``in``/``not in``."""
    if op == "==":
        return bool(a == b)
    if op == "!=":
        return bool(a != b)
    if op in ("in", "not in"):
        if not isinstance(b, str | list | dict):
            raise TemplateError(f"'in' needs text, a list or a dict, got {b!r}")
        try:
            found = a in b
        except TypeError as exc:
            raise TemplateError(str(exc)) from None
        return found if op == "in" else not found
    try:
        if op == "<":
            return bool(a < b)
        if op == ">":
            return bool(a > b)
        if op == "<=":
            return bool(a <= b)
        return bool(a >= b)
    except TypeError:
        raise TemplateError(f"cannot compare {a!r} {op} {b!r}") from None


def lookup(container: Any, key: Any) -> Any:
    """``container[key]`` for dicts, lists and text only; :data:`UNDEFINED` if absent."""
    if isinstance(container, Mapping):
        try:
            return container.get(key, UNDEFINED)
        except TypeError:
            return UNDEFINED
    if isinstance(container, list | str) and isinstance(key, int) and not isinstance(key, bool):
        return container[key] if -len(container) <= key < len(container) else UNDEFINED
    return UNDEFINED
