"""Typed kernel events. Every state change and every command result is one of these."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from trilink.kernel.context import Context


@dataclass(frozen=True, slots=True)
class PropertyChanged:
    """A device property took a new value (reported by the device, already validated)."""

    did: str
    siid: int
    piid: int
    value: Any
    old_value: Any
    ts: float
    context: Context

    kind = "property-changed"


@dataclass(frozen=True, slots=True)
class DeviceEventFired:
    """A device raised a spec event, with its arguments by piid."""

    did: str
    siid: int
    eiid: int
    arguments: dict[int, Any]
    ts: float
    context: Context

    kind = "device-event"


@dataclass(frozen=True, slots=True)
class ActionInvoked:
    """An action was called on a device; ``ok`` tells whether the device did it."""

    did: str
    siid: int
    aiid: int
    arguments: list[Any]
    out: list[Any]
    ok: bool
    error: str | None
    ts: float
    context: Context

    kind = "action-invoked"


@dataclass(frozen=True, slots=True)
class PropertyWritten:
    """A write to a device property was sent; ``ok`` tells whether the device accepted it."""

    did: str
    siid: int
    piid: int
    value: Any
    ok: bool
    error: str | None
    ts: float
    context: Context

    kind = "property-written"


@dataclass(frozen=True, slots=True)
class AvailabilityChanged:
    """A device came online or went offline."""

    did: str
    online: bool
    ts: float
    context: Context

    kind = "availability"


@dataclass(frozen=True, slots=True)
class RegistryChanged:
    """Something in the registry was added, updated or removed."""

    entity: str  # "home" | "floor" | "room" | "person" | "device"
    id: str
    removed: bool
    ts: float
    context: Context

    kind = "registry"


Event = (
    PropertyChanged
    | DeviceEventFired
    | ActionInvoked
    | PropertyWritten
    | AvailabilityChanged
    | RegistryChanged
)


def event_to_dict(event: Event) -> dict[str, Any]:
    """A JSON-ready form of any event, with its ``kind`` and ``context``."""
    out: dict[str, Any] = {"kind": event.kind}
    for name in event.__slots__:
        value = getattr(event, name)
        if name == "context":
            value = value.to_dict()
        elif name == "arguments" and isinstance(value, dict):
            value = [{"piid": k, "value": v} for k, v in value.items()]
        out[name] = value
    return out
