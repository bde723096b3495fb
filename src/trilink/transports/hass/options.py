"""Reading Home Assistant entity configs and state payloads (pure).

:class:`Options` reads a config's options with their types: a bad optional value is
reported as a ``(reason, detail)`` problem and its default used; a missing required
topic raises :class:`EntityInvalid`. :class:`StateMessage` decodes a received payload
(and parses it as JSON) at most once, however many entities read it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any, Final

import orjson

from trilink.transports.hass.template import (
    UNDEFINED,
    Template,
    TemplateUnsupported,
    compile_template,
    text,
)

#: stands in for a template that cannot be evaluated: always undefined
_NEVER: Final = compile_template("{{ unsupported_template }}")
#: Home Assistant's words for "no value now" in a state payload
_NO_VALUE: Final = frozenset({"", "None", "none", "null", "unknown", "unavailable"})


class EntityInvalid(ValueError):
    """A config that cannot make an entity (e.g. a required topic is missing)."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason


class StateMessage:
    """A received state payload, decoded (and parsed as JSON) at most once."""

    __slots__ = ("_json", "_text", "payload")

    def __init__(self, payload: bytes) -> None:
        self.payload = payload
        self._text: str | None = None
        self._json: Any = None

    @property
    def text(self) -> str:
        """The payload as text; raises :class:`UnicodeDecodeError`."""
        if self._text is None:
            self._text = self.payload.decode("utf-8")
        return self._text

    @property
    def json(self) -> Any:
        """The payload parsed as JSON, or :data:`UNDEFINED` if it is not JSON."""
        if self._json is None:
            try:
                self._json = orjson.loads(self.payload)
            except orjson.JSONDecodeError:
                self._json = UNDEFINED
        return self._json

    def read(self, template: Template | None) -> Any:
        """The payload through ``template`` (``value`` and ``value_json``), or its text."""
        if template is None:
            return self.text
        variables = {"value": self.text, "value_json": self.json if template.uses_json else UNDEFINED}
        return template.render(variables)


def no_value(value: Any) -> bool:
    """Whether a rendered state means "nothing to report" (undefined, empty, unknown)."""
    return value is UNDEFINED or value is None or (isinstance(value, str) and value.strip() in _NO_VALUE)


def to_number(value: Any) -> int | float:
    """A state value as a number; raises :class:`ValueError` if it is none."""
    if isinstance(value, bool):
        raise ValueError(f"expected a number, got {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            raise ValueError(f"expected a finite number, got {value!r}")
        return value
    s = text(value).strip()
    try:
        return int(s)
    except ValueError:
        number = float(s)
    if math.isnan(number) or math.isinf(number):
        raise ValueError(f"expected a finite number, got {value!r}")
    return number


class Options:
    """Typed reading of an entity config; problems go to ``problems`` as ``(reason, detail)``."""

    def __init__(self, config: Mapping[str, Any], problems: list[tuple[str, str]], where: str) -> None:
        self.config = config
        self.problems = problems
        self.where = where
        #: template options that cannot be evaluated, with why
        self.unsupported: dict[str, str] = {}

    def _bad(self, key: str, value: Any, expected: str) -> None:
        self.problems.append(("bad-value", f"{self.where}: {key} must be {expected}, got {value!r:.60}"))

    def topic(self, key: str, *, required: bool = False) -> str | None:
        """A topic to publish to or subscribe to (no wildcards)."""
        value = self.config.get(key)
        if value is None or value == "":
            if required:
                raise EntityInvalid("missing-topic", f"{self.where}: {key} is required")
            return None
        if not isinstance(value, str) or "+" in value or "#" in value or "\0" in value:
            if required:
                raise EntityInvalid("bad-config", f"{self.where}: {key} must be a topic, got {value!r:.60}")
            self._bad(key, value, "a topic without wildcards")
            return None
        return value

    def text(self, key: str, default: str | None = None) -> str | None:
        """A string option."""
        value = self.config.get(key)
        if value is None:
            return default
        if not isinstance(value, str):
            self._bad(key, value, "text")
            return default
        return value

    def payload(self, key: str, default: str | None) -> str | None:
        """A payload option; numbers and booleans are written as Jinja prints them."""
        if key not in self.config:
            return default
        value = self.config[key]
        if value is None:
            return None
        if isinstance(value, str | int | float | bool):
            return text(value)
        self._bad(key, value, "a payload (text, number or boolean)")
        return default

    def number(self, key: str, default: float) -> float:
        """A number option (numeric strings, as some bridges send, are accepted)."""
        value = self.config.get(key)
        if value is None:
            return default
        try:
            number = float(to_number(value))
        except ValueError:
            self._bad(key, value, "a number")
            return default
        if number != number or number in (float("inf"), float("-inf")):
            self._bad(key, value, "a finite number")
            return default
        return number

    def flag(self, key: str, default: bool) -> bool:
        """A boolean option."""
        value = self.config.get(key, default)
        if not isinstance(value, bool):
            self._bad(key, value, "true or false")
            return default
        return value

    def strings(self, key: str, default: Iterable[str] = ()) -> list[str]:
        """A list of strings (duplicates and non-strings dropped)."""
        value = self.config.get(key)
        if value is None:
            return list(default)
        if not isinstance(value, list) or not value:
            self._bad(key, value, "a non-empty list of text")
            return list(default)
        out = [v for v in dict.fromkeys(value) if isinstance(v, str)]
        if len(out) != len(value):
            self._bad(key, value, "a list of distinct texts")
        return out

    def template(self, key: str) -> Template | None:
        """A template option, compiled.

        One that cannot be evaluated is noted in :attr:`unsupported` and replaced by a
        template that gives nothing, so its state is never read (rather than read wrong).
        """
        value = self.config.get(key)
        if value is None or value == "":
            return None
        if not isinstance(value, str):
            self._bad(key, value, "a template (text)")
            return None
        try:
            return compile_template(value)
        except TemplateUnsupported as exc:
            self.unsupported[key] = str(exc)
            return _NEVER
