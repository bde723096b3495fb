"""From Home Assistant entities to trilink devices: grouping, dids and derived specs (pure).

Entities are grouped by their device's first ``identifiers`` entry (else its first
``connections`` pair); an entity without a device is a device of its own. The did is
``ha-`` and that identifier, sanitised. The spec has the ``device-information`` service
as siid 1 and one service per entity from siid 2.

**siids are stable.** Each entity's service carries its key (``hass-id``: the unique id,
else ``component discovery-id``). When the device already has a spec (the kernel keeps
it, and the store keeps it across restarts), every entity keeps its siid and a new one
takes the next unused number; a device seen for the first time numbers its entities in
the order of their keys. piids are fixed per component and feature (see ``docs/hass.md``).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from trilink.model import DeviceSpec, parse_spec
from trilink.transports.hass.climate import Climate, Cover
from trilink.transports.hass.discovery import EntityConfig
from trilink.transports.hass.entity import Entity, EntityInvalid, PropDef
from trilink.transports.hass.lights import JsonLight, Light
from trilink.transports.hass.platforms import BinarySensor, Button, Fan, Lock, Number, Select, Sensor, Switch
from trilink.transports.hass.vocab import DEVICE_KINDS, action_urn, device_urn, property_urn, service_urn

#: the components trilink adopts; others are counted and skipped
PLATFORMS: Final[dict[str, type[Entity]]] = {
    "switch": Switch,
    "sensor": Sensor,
    "binary_sensor": BinarySensor,
    "lock": Lock,
    "button": Button,
    "number": Number,
    "select": Select,
    "fan": Fan,
    "climate": Climate,
    "cover": Cover,
}
#: the key of a service's entity in the spec document
ENTITY_KEY: Final = "hass-id"
_INFO: Final = (
    (1, "manufacturer", "Device Manufacturer"),
    (2, "model", "Device Model"),
    (3, "serial-number", "Device Serial Number"),
    (4, "firmware-revision", "Current Firmware Version"),
)
_DID_CHARS: Final = re.compile(r"[^A-Za-z0-9._:-]+")


class UnknownComponent(ValueError):
    """A component trilink does not adopt."""


def make_entity(ec: EntityConfig, problems: list[tuple[str, str]]) -> Entity:
    """The entity of a config; raises :class:`UnknownComponent` or :class:`EntityInvalid`."""
    if ec.component == "light":
        schema = ec.config.get("schema", "default")
        if schema == "json":
            return JsonLight(ec, problems)
        if schema in ("default", "basic"):
            return Light(ec, problems)
        raise EntityInvalid("unsupported-schema", f"light schema {schema!r} is not supported")
    cls = PLATFORMS.get(ec.component)
    if cls is None:
        raise UnknownComponent(ec.component)
    return cls(ec, problems)


def _first_text(value: Any) -> str | None:
    if isinstance(value, str) and value:
        return value
    if isinstance(value, list):
        for item in value:
            if isinstance(item, str) and item:
                return item
    return None


def device_key(entity: Entity) -> str:
    """Which device an entity belongs to: its device's first identifier or connection."""
    ident = _first_text(entity.device.get("identifiers"))
    if ident is not None:
        return ident
    connections = entity.device.get("connections")
    if isinstance(connections, list):
        for pair in connections:
            if isinstance(pair, list) and len(pair) == 2 and all(isinstance(p, str) for p in pair):
                return f"{pair[0]}:{pair[1]}"
    return f"entity:{entity.sort_key}"


def did_for(key: str) -> str:
    """``ha-<key>`` with characters outside a did's alphabet replaced (long keys hashed)."""
    body = _DID_CHARS.sub("-", key.removeprefix("entity:")).strip("-") or "device"
    if len(body) > 61:
        digest = hashlib.sha1(key.encode()).hexdigest()[:8]
        body = f"{body[:52]}-{digest}"
    return f"ha-{body}"


@dataclass(slots=True)
class DerivedDevice:
    """What the kernel is told about one Home Assistant device."""

    did: str
    name: str
    model: str
    room: str | None
    spec: DeviceSpec
    #: siid -> entity
    services: dict[int, Entity] = field(default_factory=dict)
    #: ``(siid, piid, value)`` of the device-information service
    info: list[tuple[int, int, Any]] = field(default_factory=list)


def _device_field(entities: Iterable[Entity], key: str) -> str | None:
    for entity in entities:
        value = entity.device.get(key)
        if isinstance(value, str) and value:
            return value
    return None


def _previous_siids(spec: DeviceSpec | None) -> dict[str, int]:
    if spec is None:
        return {}
    return {str(s.extra[ENTITY_KEY]): s.iid for s in spec.services if ENTITY_KEY in s.extra}


def derive(did: str, entities: Iterable[Entity], previous: DeviceSpec | None = None) -> DerivedDevice:
    """The device (name, model, room) and spec of a group of entities; see the module doc."""
    ordered = sorted(entities, key=lambda e: e.sort_key)
    siids = _previous_siids(previous)
    taken = set(siids.values())
    next_siid = max(taken | {1}) + 1
    services: dict[int, Entity] = {}
    for entity in ordered:
        siid = siids.get(entity.sort_key)
        if siid is None or siid in services:
            siid = next_siid
            next_siid += 1
        services[siid] = entity
    info_values = [
        (1, piid, value)
        for piid, key in ((1, "manufacturer"), (2, "model"), (3, "serial_number"), (4, "sw_version"))
        if (value := _device_field(ordered, key)) is not None
    ]
    components = {e.config.component for e in ordered}
    kind = next((k for c, k in DEVICE_KINDS if c in components), None)
    name = _device_field(ordered, "name") or (ordered[0].label if ordered else did)
    document: dict[str, Any] = {
        "type": device_urn(kind or "ha-device"),
        "description": name,
        "services": [_info_service()] + [_service(siid, services[siid]) for siid in sorted(services)],
    }
    model = _device_field(ordered, "model_id") or _device_field(ordered, "model")
    if model is None:
        model = f"hass.{kind or (ordered[0].config.component if ordered else 'device')}"
    return DerivedDevice(
        did,
        name,
        model,
        _device_field(ordered, "suggested_area"),
        parse_spec(document),
        services,
        info_values,
    )


def _info_service() -> dict[str, Any]:
    return {
        "iid": 1,
        "type": service_urn("device-information"),
        "description": "Device Information",
        "properties": [
            {
                "iid": piid,
                "type": property_urn(name),
                "description": text,
                "format": "string",
                "access": ["read"],
            }
            for piid, name, text in _INFO
        ],
    }


def _service(siid: int, entity: Entity) -> dict[str, Any]:
    out: dict[str, Any] = {
        "iid": siid,
        "type": service_urn(entity.service_name),
        "description": entity.label,
        "properties": [_property(p) for p in entity.props],
        ENTITY_KEY: entity.sort_key,
        "hass-component": entity.config.component,
    }
    if entity.actions:
        out["actions"] = [
            {
                "iid": a.aiid,
                "type": action_urn(a.name),
                "description": a.description,
                "in": [],
                "out": [],
            }
            for a in entity.actions
        ]
    if entity.unsupported:
        # visible in the spec (and so in the API): which states this entity cannot read, and why
        out["hass-unsupported"] = dict(entity.unsupported)
    return out


def _property(prop: PropDef) -> Mapping[str, Any]:
    out: dict[str, Any] = {
        "iid": prop.piid,
        "type": property_urn(prop.name),
        "description": prop.description or prop.name,
        "format": prop.format,
        "access": list(prop.access),
    }
    if prop.unit is not None:
        out["unit"] = prop.unit
    if prop.value_range is not None:
        out["value-range"] = list(prop.value_range)
    if prop.value_list is not None:
        out["value-list"] = [{"value": v, "description": d} for v, d in prop.value_list]
    return out
