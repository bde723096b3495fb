"""Reading a definition's fields: every problem becomes a :class:`DefinitionError` at its path.

:class:`FieldReader` is the checked access :mod:`trilink.automation.parse` builds on: a
mapping with only known keys, a list whose bad items are collected rather than fatal, a
duration, a choice, a device and its property — each failure naming the source, line,
path and what is allowed instead.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from trilink.automation.definitions import HOME_ZONE
from trilink.automation.durations import parse_duration
from trilink.automation.errors import DefinitionError
from trilink.automation.resolve import Resolver, Unresolved, value_error
from trilink.automation.yamlsrc import Located, Path, path_text
from trilink.kernel import Device
from trilink.model import InvalidValue, PropertySpec, validate_value

T = TypeVar("T")

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_NUMERIC_FORMATS = frozenset({"int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "float"})


class Refused(Exception):
    """A definition had errors, already collected in :attr:`FieldReader.errors`."""


def shown(value: Any) -> str:
    """A value for an error message, cut short."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


class FieldReader:
    """Checked access to the fields of one document's definitions."""

    def __init__(self, located: Located, resolver: Resolver) -> None:
        self.located = located
        self.r = resolver
        self.errors: list[DefinitionError] = []

    def fail(self, path: Path, reason: str) -> DefinitionError:
        """An error at ``path`` with its line."""
        return DefinitionError(self.located.source, self.located.line_of(path), path_text(path), reason)

    def fields(
        self, data: Any, path: Path, what: str, required: Sequence[str], optional: Sequence[str]
    ) -> dict[str, Any]:
        """``data`` as a mapping with the required keys and no unknown ones."""
        allowed = (*required, *optional)
        if not isinstance(data, dict):
            raise self.fail(path, f"{what} must be a mapping with {', '.join(allowed)}; got {shown(data)}")
        for key in data:
            if key not in allowed:
                raise self.fail(
                    (*path, str(key)), f"unknown key {key!r} in {what} (allowed: {', '.join(allowed)})"
                )
        for key in required:
            if key not in data:
                raise self.fail(path, f"{what} needs {key!r}")
        return data

    def items(
        self, data: Any, path: Path, what: str, parse: Callable[[Any, Path], T], *, empty: bool
    ) -> list[T]:
        """Parse each item of a list, collecting the errors of bad ones."""
        if not isinstance(data, list):
            raise self.fail(path, f"{what} must be a list; got {shown(data)}")
        if not data and not empty:
            raise self.fail(path, f"{what} must not be empty")
        out = []
        for i, item in enumerate(data):
            try:
                out.append(parse(item, (*path, i)))
            except DefinitionError as exc:
                self.errors.append(exc)
        return out

    def call(self, path: Path, fn: Callable[[], T]) -> T:
        """Run a lookup, turning its :class:`Unresolved` into an error at ``path``."""
        try:
            return fn()
        except (Unresolved, ValueError) as exc:
            raise self.fail(path, str(exc)) from None

    def text(self, data: Mapping[str, Any], key: str, path: Path, default: str | None = None) -> str:
        """A text field (or ``default``)."""
        value = data.get(key, default)
        if not isinstance(value, str):
            raise self.fail((*path, key), f"{key} must be text; got {shown(value)}")
        return value

    def flag(self, data: Mapping[str, Any], key: str, path: Path, default: bool) -> bool:
        """A true/false field (or ``default``)."""
        value = data.get(key, default)
        if not isinstance(value, bool):
            raise self.fail((*path, key), f"{key} must be true or false; got {shown(value)}")
        return value

    def number(self, data: Mapping[str, Any], key: str, path: Path) -> float | None:
        """A number field, ``None`` if absent."""
        if key not in data:
            return None
        value = data[key]
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail((*path, key), f"{key} must be a number; got {shown(value)}")
        return value

    def duration(self, data: Mapping[str, Any], key: str, path: Path) -> float | None:
        """A duration field in seconds, ``None`` if absent."""
        if key not in data:
            return None
        return self.call((*path, key), lambda: parse_duration(data[key]))

    def choice(self, data: Mapping[str, Any], key: str, path: Path, allowed: Sequence[str]) -> str:
        """A field that must be one of ``allowed``."""
        value = data.get(key)
        if value not in allowed:
            raise self.fail((*path, key), f"{key} must be one of {', '.join(allowed)}; got {shown(value)}")
        return str(value)

    def device(self, data: Mapping[str, Any], path: Path, key: str = "device") -> Device:
        """The device a field names."""
        return self.call((*path, key), lambda: self.r.device(data[key]))

    def prop(self, device: Device, data: Mapping[str, Any], path: Path) -> PropertySpec:
        """The property of ``device`` that the ``property`` field names."""
        return self.call((*path, "property"), lambda: self.r.property(device, data["property"]))

    def value(
        self, device: Device, prop: PropertySpec, value: Any, path: Path, *, write: bool = False
    ) -> Any:
        """A literal value checked with the property's spec (as a write if ``write``)."""
        try:
            return validate_value(device.did, prop, value, write=write)
        except InvalidValue as exc:
            raise self.fail(path, value_error(exc)) from None

    def numeric(self, prop: PropertySpec, device: Device, path: Path) -> None:
        """Refuse ``above``/``below`` on a property that is not a number."""
        if prop.format not in _NUMERIC_FORMATS:
            raise self.fail(
                path,
                f"above/below need a numeric property; {device.did} {prop.siid}.{prop.iid} "
                f"({prop.name}) is {prop.format}",
            )

    def ident(self, data: Mapping[str, Any], path: Path) -> str:
        """The ``id`` of a definition."""
        value = data.get("id")
        if not isinstance(value, str) or not _ID.match(value):
            raise self.fail(
                (*path, "id"),
                f"id must be 1–64 letters, digits, '.', '_' or '-' (starting with a letter or digit); "
                f"got {shown(value)}",
            )
        return value

    def kind(self, data: Any, path: Path, known: Mapping[str, Any], what: str) -> str:
        """The ``type`` of a trigger or condition, one of ``known``."""
        if not isinstance(data, dict):
            raise self.fail(path, f"a {what} must be a mapping with a type; got {shown(data)}")
        kind = data.get("type")
        if kind not in known:
            if "type" not in data:
                raise self.fail(path, f"a {what} needs a type ({', '.join(known)})")
            raise self.fail((*path, "type"), f"unknown {what} type {kind!r} (types: {', '.join(known)})")
        return str(kind)

    def order(self, above: float | None, below: float | None, path: Path) -> None:
        """Refuse an empty range (``above`` not below ``below``)."""
        if above is not None and below is not None and above >= below:
            raise self.fail((*path, "below"), f"below ({below:g}) must be more than above ({above:g})")

    def home_location(self, path: Path) -> None:
        """Refuse a definition that needs the home's location when it has none."""
        self.call(path, lambda: self.r.zone(HOME_ZONE))
