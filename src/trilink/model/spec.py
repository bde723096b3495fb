"""MIoT-Spec-V2 device specs: services, properties, actions and events with their iids.

A spec instance is the JSON document the MIoT spec service serves for a device model
(``{type, description, services: [{iid, type, properties, actions, events}]}``).
:func:`parse_spec` turns it into frozen dataclasses; :meth:`DeviceSpec.to_dict` gives the
same document back, unknown fields included, so real spec files round-trip unchanged.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from trilink.model.errors import SpecError

Format = Literal[
    "bool",
    "int8",
    "int16",
    "int32",
    "int64",
    "uint8",
    "uint16",
    "uint32",
    "float",
    "string",
    "hex",
]

#: The inclusive integer bounds of each integer format.
INTEGER_BOUNDS: Final[dict[str, tuple[int, int]]] = {
    "int8": (-(2**7), 2**7 - 1),
    "int16": (-(2**15), 2**15 - 1),
    "int32": (-(2**31), 2**31 - 1),
    "int64": (-(2**63), 2**63 - 1),
    "uint8": (0, 2**8 - 1),
    "uint16": (0, 2**16 - 1),
    "uint32": (0, 2**32 - 1),
}
FORMATS: Final[frozenset[str]] = frozenset({"bool", "float", "string", "hex", *INTEGER_BOUNDS})
ACCESS_MODES: Final[frozenset[str]] = frozenset({"read", "write", "notify"})


@dataclass(frozen=True, slots=True)
class Urn:
    """A MIoT URN: ``urn:<namespace>:<kind>:<name>:<value>[:<vendor-model>:<version>[:…]]``."""

    namespace: str
    kind: str
    name: str
    value: str
    rest: tuple[str, ...] = ()

    @classmethod
    def parse(cls, text: str) -> Urn:
        """Parse a URN, accepting vendor namespaces and extra trailing fields."""
        parts = text.split(":")
        if len(parts) < 5 or parts[0] != "urn" or not all(parts[1:4]):
            raise SpecError(f"not a MIoT URN: {text!r} (expected urn:namespace:kind:name:value…)")
        return cls(parts[1], parts[2], parts[3], parts[4], tuple(parts[5:]))

    def __str__(self) -> str:
        return ":".join(("urn", self.namespace, self.kind, self.name, self.value, *self.rest))


@dataclass(frozen=True, slots=True)
class ValueRange:
    """An inclusive ``[min, max, step]`` range; ``step`` 0 means any value."""

    min: float
    max: float
    step: float


@dataclass(frozen=True, slots=True)
class ValueChoice:
    """One entry of a property's value-list."""

    value: int | float | str | bool
    description: str
    extra: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class PropertySpec:
    """A property of a service, addressed by ``(siid, piid)``."""

    siid: int
    iid: int
    type: str
    description: str
    format: str
    access: tuple[str, ...]
    unit: str | None = None
    value_range: ValueRange | None = None
    value_list: tuple[ValueChoice, ...] | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)
    #: the value-range exactly as written, to round-trip ``[16, 31, 0.5]`` without re-typing
    _raw_range: tuple[Any, ...] | None = None

    @property
    def name(self) -> str:
        """The property's short name from its URN, e.g. ``target-temperature``."""
        return _urn_name(self.type)

    @property
    def readable(self) -> bool:
        """Whether the property's value can be read."""
        return "read" in self.access

    @property
    def writable(self) -> bool:
        """Whether the property accepts writes."""
        return "write" in self.access

    @property
    def notifies(self) -> bool:
        """Whether the device reports changes of this property on its own."""
        return "notify" in self.access

    def to_dict(self) -> dict[str, Any]:
        """The property as MIoT-Spec-V2 JSON."""
        out: dict[str, Any] = {
            "iid": self.iid,
            "type": self.type,
            "description": self.description,
            "format": self.format,
            "access": list(self.access),
        }
        if self.unit is not None:
            out["unit"] = self.unit
        if self._raw_range is not None:
            out["value-range"] = list(self._raw_range)
        if self.value_list is not None:
            out["value-list"] = [
                {"value": c.value, "description": c.description, **c.extra} for c in self.value_list
            ]
        out.update(self.extra)
        return out


@dataclass(frozen=True, slots=True)
class ActionSpec:
    """An action of a service, addressed by ``(siid, aiid)``; ``ins``/``outs`` are piids."""

    siid: int
    iid: int
    type: str
    description: str
    ins: tuple[int, ...]
    outs: tuple[int, ...]
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        """The action's short name from its URN, e.g. ``start-sweep``."""
        return _urn_name(self.type)

    def to_dict(self) -> dict[str, Any]:
        """The action as MIoT-Spec-V2 JSON."""
        return {
            "iid": self.iid,
            "type": self.type,
            "description": self.description,
            "in": list(self.ins),
            "out": list(self.outs),
            **self.extra,
        }


@dataclass(frozen=True, slots=True)
class EventSpec:
    """An event of a service, addressed by ``(siid, eiid)``; ``arguments`` are piids."""

    siid: int
    iid: int
    type: str
    description: str
    arguments: tuple[int, ...]
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        """The event's short name from its URN, e.g. ``alarm``."""
        return _urn_name(self.type)

    def to_dict(self) -> dict[str, Any]:
        """The event as MIoT-Spec-V2 JSON."""
        return {
            "iid": self.iid,
            "type": self.type,
            "description": self.description,
            "arguments": list(self.arguments),
            **self.extra,
        }


@dataclass(frozen=True, slots=True)
class ServiceSpec:
    """A service of a device: a group of properties, actions and events under one siid."""

    iid: int
    type: str
    description: str
    properties: tuple[PropertySpec, ...]
    actions: tuple[ActionSpec, ...]
    events: tuple[EventSpec, ...]
    extra: Mapping[str, Any] = field(default_factory=dict)
    #: which of the optional lists the source document had, for a faithful round trip
    _present: tuple[bool, bool, bool] = (True, False, False)

    @property
    def name(self) -> str:
        """The service's short name from its URN, e.g. ``air-conditioner``."""
        return _urn_name(self.type)

    def to_dict(self) -> dict[str, Any]:
        """The service as MIoT-Spec-V2 JSON."""
        out: dict[str, Any] = {"iid": self.iid, "type": self.type, "description": self.description}
        if self._present[0] or self.properties:
            out["properties"] = [p.to_dict() for p in self.properties]
        if self._present[1] or self.actions:
            out["actions"] = [a.to_dict() for a in self.actions]
        if self._present[2] or self.events:
            out["events"] = [e.to_dict() for e in self.events]
        out.update(self.extra)
        return out


@dataclass(frozen=True, slots=True)
class DeviceSpec:
    """A whole device spec instance, with indexes by iid for the hot paths."""

    type: str
    description: str | None
    services: tuple[ServiceSpec, ...]
    extra: Mapping[str, Any] = field(default_factory=dict)
    properties: Mapping[tuple[int, int], PropertySpec] = field(default_factory=dict)
    actions: Mapping[tuple[int, int], ActionSpec] = field(default_factory=dict)
    events: Mapping[tuple[int, int], EventSpec] = field(default_factory=dict)

    @property
    def urn(self) -> Urn:
        """The device type as a parsed URN."""
        return Urn.parse(self.type)

    @property
    def name(self) -> str:
        """The device kind from its URN, e.g. ``air-conditioner``."""
        return _urn_name(self.type)

    def service(self, siid: int) -> ServiceSpec | None:
        """The service with this iid, if any."""
        for service in self.services:
            if service.iid == siid:
                return service
        return None

    def find_property(self, service: str, prop: str) -> PropertySpec | None:
        """Look a property up by the short names of its service and itself."""
        for svc in self.services:
            if svc.name == service:
                for p in svc.properties:
                    if p.name == prop:
                        return p
        return None

    def iter_properties(self) -> Iterator[PropertySpec]:
        """Every property of every service, in document order."""
        for svc in self.services:
            yield from svc.properties

    def to_dict(self) -> dict[str, Any]:
        """The spec as MIoT-Spec-V2 JSON; equal to the document it was parsed from."""
        out: dict[str, Any] = {"type": self.type}
        if self.description is not None:
            out["description"] = self.description
        out["services"] = [s.to_dict() for s in self.services]
        out.update(self.extra)
        return out


def _urn_name(urn: str) -> str:
    parts = urn.split(":")
    return parts[3] if len(parts) > 3 else urn


def _require(obj: Mapping[str, Any], key: str, kind: type | tuple[type, ...], where: str) -> Any:
    if key not in obj:
        raise SpecError(f"{where}: missing field {key!r}")
    value = obj[key]
    if isinstance(value, bool) and kind is int:
        raise SpecError(f"{where}: field {key!r} must be {kind.__name__}, got {value!r}")
    if not isinstance(value, kind):
        names = kind.__name__ if isinstance(kind, type) else "/".join(k.__name__ for k in kind)
        raise SpecError(f"{where}: field {key!r} must be {names}, got {type(value).__name__}")
    return value


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _parse_property(siid: int, raw: Any, where: str) -> PropertySpec:
    if not isinstance(raw, Mapping):
        raise SpecError(f"{where}: a property must be an object")
    iid = _require(raw, "iid", int, where)
    where = f"{where} piid {iid}"
    fmt = _require(raw, "format", str, where)
    if fmt not in FORMATS:
        raise SpecError(f"{where}: unknown format {fmt!r} (allowed: {', '.join(sorted(FORMATS))})")
    access_raw = _require(raw, "access", list, where)
    bad = [a for a in access_raw if a not in ACCESS_MODES]
    if bad:
        raise SpecError(f"{where}: unknown access mode(s) {bad} (allowed: read, write, notify)")
    value_range = raw_range = None
    if "value-range" in raw:
        vr = raw["value-range"]
        if not isinstance(vr, list) or len(vr) not in (2, 3) or not all(_is_number(x) for x in vr):
            raise SpecError(f"{where}: value-range must be [min, max, step], got {vr!r}")
        step = vr[2] if len(vr) == 3 else 0
        if vr[0] > vr[1] or step < 0:
            raise SpecError(f"{where}: value-range {vr!r} has min > max or a negative step")
        value_range, raw_range = ValueRange(vr[0], vr[1], step), tuple(vr)
    value_list = None
    if "value-list" in raw:
        vl = raw["value-list"]
        if not isinstance(vl, list):
            raise SpecError(f"{where}: value-list must be a list")
        choices = []
        for entry in vl:
            if not isinstance(entry, Mapping) or "value" not in entry:
                raise SpecError(f"{where}: value-list entry {entry!r} has no 'value'")
            extra = {k: v for k, v in entry.items() if k not in ("value", "description")}
            choices.append(ValueChoice(entry["value"], str(entry.get("description", "")), extra))
        value_list = tuple(choices)
    known = {"iid", "type", "description", "format", "access", "unit", "value-range", "value-list"}
    unit = raw.get("unit")
    if unit is not None and not isinstance(unit, str):
        raise SpecError(f"{where}: unit must be a string")
    return PropertySpec(
        siid=siid,
        iid=iid,
        type=_require(raw, "type", str, where),
        description=str(raw.get("description", "")),
        format=fmt,
        access=tuple(access_raw),
        unit=unit,
        value_range=value_range,
        value_list=value_list,
        extra={k: v for k, v in raw.items() if k not in known},
        _raw_range=raw_range,
    )


def _int_list(raw: Mapping[str, Any], key: str, where: str) -> tuple[int, ...]:
    values = raw.get(key, [])
    if not isinstance(values, list) or not all(
        isinstance(v, int) and not isinstance(v, bool) for v in values
    ):
        raise SpecError(f"{where}: {key!r} must be a list of property iids")
    return tuple(values)


def _parse_service(raw: Any, index: int) -> ServiceSpec:
    where = f"service #{index}"
    if not isinstance(raw, Mapping):
        raise SpecError(f"{where}: a service must be an object")
    siid = _require(raw, "iid", int, where)
    where = f"siid {siid}"
    stype = _require(raw, "type", str, where)
    props = tuple(_parse_property(siid, p, where) for p in _require_list(raw, "properties", where))
    actions = []
    for a in _require_list(raw, "actions", where):
        if not isinstance(a, Mapping):
            raise SpecError(f"{where}: an action must be an object")
        aiid = _require(a, "iid", int, where)
        aw = f"{where} aiid {aiid}"
        actions.append(
            ActionSpec(
                siid=siid,
                iid=aiid,
                type=_require(a, "type", str, aw),
                description=str(a.get("description", "")),
                ins=_int_list(a, "in", aw),
                outs=_int_list(a, "out", aw),
                extra={k: v for k, v in a.items() if k not in ("iid", "type", "description", "in", "out")},
            )
        )
    events = []
    for e in _require_list(raw, "events", where):
        if not isinstance(e, Mapping):
            raise SpecError(f"{where}: an event must be an object")
        eiid = _require(e, "iid", int, where)
        ew = f"{where} eiid {eiid}"
        events.append(
            EventSpec(
                siid=siid,
                iid=eiid,
                type=_require(e, "type", str, ew),
                description=str(e.get("description", "")),
                arguments=_int_list(e, "arguments", ew),
                extra={k: v for k, v in e.items() if k not in ("iid", "type", "description", "arguments")},
            )
        )
    _check_unique([p.iid for p in props], f"{where}: duplicate piid")
    _check_unique([a.iid for a in actions], f"{where}: duplicate aiid")
    _check_unique([e.iid for e in events], f"{where}: duplicate eiid")
    known = {"iid", "type", "description", "properties", "actions", "events"}
    return ServiceSpec(
        iid=siid,
        type=stype,
        description=str(raw.get("description", "")),
        properties=props,
        actions=tuple(actions),
        events=tuple(events),
        extra={k: v for k, v in raw.items() if k not in known},
        _present=("properties" in raw, "actions" in raw, "events" in raw),
    )


def _require_list(raw: Mapping[str, Any], key: str, where: str) -> Sequence[Any]:
    value = raw.get(key, [])
    if not isinstance(value, list):
        raise SpecError(f"{where}: {key!r} must be a list")
    return value


def _check_unique(values: list[int], message: str) -> None:
    seen: set[int] = set()
    for v in values:
        if v in seen:
            raise SpecError(f"{message} {v}")
        seen.add(v)


def parse_spec(raw: Any) -> DeviceSpec:
    """Parse a MIoT-Spec-V2 instance document into a :class:`DeviceSpec`.

    Raises :class:`SpecError` naming the service/iid and the field that is wrong.
    """
    if not isinstance(raw, Mapping):
        raise SpecError("a spec must be a JSON object with 'type' and 'services'")
    dtype = _require(raw, "type", str, "spec")
    Urn.parse(dtype)
    services = tuple(_parse_service(s, i) for i, s in enumerate(_require(raw, "services", list, "spec")))
    _check_unique([s.iid for s in services], "spec: duplicate siid")
    description = raw.get("description")
    return DeviceSpec(
        type=dtype,
        description=None if description is None else str(description),
        services=services,
        extra={k: v for k, v in raw.items() if k not in ("type", "description", "services")},
        properties={(p.siid, p.iid): p for s in services for p in s.properties},
        actions={(a.siid, a.iid): a for s in services for a in s.actions},
        events={(e.siid, e.iid): e for s in services for e in s.events},
    )
