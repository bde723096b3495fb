"""Discovery out: a trilink device as one Home Assistant device-based discovery config (pure).

Each announced device has three topics under ``base_topic``: ``<base>/<did>/state`` (a
retained JSON object of every value, keyed ``s<siid>p<piid>``, value-lists as their
description), ``<base>/<did>/availability`` (``online``/``offline``, retained) and, per
entity, ``<base>/<did>/<key>/set`` for commands. The config goes to
``<prefix>/device/<node_id>-<did>/config``.

Services become entities as follows (the rest of ``docs/hass.md`` has the table):
a ``light`` service a light; a service with a writable ``target-temperature`` a climate
(with ``on``, ``mode``, the current temperature and the fan level); a curtain a cover;
a service with ``lock``/``unlock`` actions a lock; ``latitude``/``longitude`` a GPS
``device_tracker``. Other properties: bool → switch / binary_sensor, number →
number / sensor, value-list → select / enum sensor, text → text / sensor. Actions
without arguments → button.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

import trilink
from trilink.kernel import Device
from trilink.model import PropertySpec, ServiceSpec
from trilink.transports.hass.settings import HassSettings
from trilink.transports.hass.vocab import MIOT_TO_HA_UNIT

#: ("set", siid, piid, value) or ("call", siid, aiid, None)
Cmd = tuple[str, int, int, Any]
Decoder = Callable[[str], list[Cmd]]
Readings = Mapping[tuple[int, int], tuple[Any, float]]

#: MIoT mode descriptions (case-folded) -> Home Assistant HVAC modes
HVAC_MODES: Final = {"auto": "auto", "cool": "cool", "dry": "dry", "fan": "fan_only", "heat": "heat"}
_TRUE: Final = frozenset({"on", "true", "1", "yes"})
_FALSE: Final = frozenset({"off", "false", "0", "no"})
_NO_UNIT: Final = frozenset({"none", "rgb"})


def object_id(node_id: str, did: str) -> str:
    """The discovery object id of an announced device: ``<node_id>-<did>`` (sanitised)."""
    return f"{node_id}-" + re.sub(r"[^A-Za-z0-9_-]", "_", did)


@dataclass(slots=True)
class Announcement:
    """A device as announced: its config, how to build its state, how to read commands."""

    did: str
    config_topic: str
    state_topic: str
    availability_topic: str
    config: dict[str, Any]
    #: command key -> decoder of the payload Home Assistant sends
    commands: dict[str, Decoder] = field(default_factory=dict)
    #: state key -> the property whose value it carries
    fields: dict[str, PropertySpec] = field(default_factory=dict)
    #: state keys computed from several values (a climate's mode, a tracker's position)
    extras: dict[str, Callable[[Readings], Any]] = field(default_factory=dict)

    def state(self, readings: Readings) -> dict[str, Any]:
        """The state document for the current readings (value-lists as descriptions)."""
        out: dict[str, Any] = {}
        for key, prop in self.fields.items():
            reading = readings.get((prop.siid, prop.iid))
            if reading is not None:
                out[key] = shown(prop, reading[0])
        for key, extra in self.extras.items():
            value = extra(readings)
            if value is not None:
                out[key] = value
        return out


def shown(prop: PropertySpec, value: Any) -> Any:
    """A value as published: a value-list entry as its description."""
    for choice in prop.value_list or ():
        if choice.value == value:
            return choice.description
    return value


def _key(prop: PropertySpec) -> str:
    return f"s{prop.siid}p{prop.iid}"


def value_template(key: str) -> str:
    """Home Assistant template reading ``key`` of the state document."""
    return "{{ value_json.%s }}" % key  # noqa: UP031  (the braces are Jinja's)


def onoff_template(key: str) -> str:
    """Home Assistant template turning a bool of the state document into ON/OFF."""
    return "{{ 'ON' if value_json.%s else 'OFF' }}" % key  # noqa: UP031


def parse_bool(payload: str) -> bool:
    """ON/OFF (or true/false, 1/0, yes/no) as a bool; :class:`ValueError` otherwise."""
    word = payload.strip().lower()
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    raise ValueError(f"expected ON or OFF, got {payload[:40]!r}")


def parse_number(prop: PropertySpec, payload: str) -> int | float:
    """A number payload for ``prop`` (whole numbers for integer formats)."""
    number = float(payload)
    if prop.format not in ("float",):
        if not number.is_integer():
            raise ValueError(f"{prop.name} takes whole numbers, got {payload[:40]!r}")
        return int(number)
    return number


def parse_choice(prop: PropertySpec, payload: str) -> Any:
    """A value-list description (any case) as its value."""
    word = payload.strip().casefold()
    for choice in prop.value_list or ():
        if choice.description.casefold() == word:
            return choice.value
    raise ValueError(f"{payload[:40]!r} is not one of {[c.description for c in prop.value_list or ()]}")


def setter(prop: PropertySpec, convert: Callable[[str], Any]) -> Decoder:
    """A decoder writing the converted payload to ``prop``."""
    return lambda payload: [("set", prop.siid, prop.iid, convert(payload))]


def _caller(call: Cmd) -> Decoder:
    return lambda payload: [call]


def _ha_unit(prop: PropertySpec) -> str | None:
    if prop.unit is None or prop.unit in _NO_UNIT:
        return None
    return MIOT_TO_HA_UNIT.get(prop.unit, prop.unit)


def _sensor_classes(prop: PropertySpec) -> tuple[str | None, str | None]:
    """Home Assistant's device_class and state_class for a read-only number."""
    unit, name = prop.unit, prop.name
    if name in ("battery-level", "state-of-charge"):
        return "battery", "measurement"
    classes = {
        "celsius": "temperature",
        "fahrenheit": "temperature",
        "W": "power",
        "kW": "power",
        "V": "voltage",
        "A": "current",
        "km": "distance",
        "km/h": "speed",
        "minutes": "duration",
        "seconds": "duration",
    }
    if unit == "kWh":
        if "capacity" in name:
            return "energy_storage", "measurement"
        return "energy", "total_increasing"
    if name == "relative-humidity":
        return "humidity", "measurement"
    return classes.get(unit or ""), "measurement"


class Builder:
    """Builds one device's components, consuming each property once."""

    # composites (in composites.py) take what they need first; what is left is generic

    def __init__(self, device: Device, settings: HassSettings, room: str | None, readings: Readings) -> None:
        self.device = device
        self.spec = device.spec
        self.readings = readings
        self.base = f"{settings.base_topic}/{device.did}"
        oid = object_id(settings.node_id, device.did)
        self.uid = f"{oid.replace('-', '_')}"
        self.out = Announcement(
            device.did,
            f"{settings.discovery_prefix}/device/{oid}/config",
            f"{self.base}/state",
            f"{self.base}/availability",
            {},
        )
        self.components: dict[str, dict[str, Any]] = {}
        #: properties (siid, piid) and actions (siid, aiid) already part of an entity
        self.used: set[tuple[int, int]] = set()
        self.used_actions: set[tuple[int, int]] = set()
        self.names: set[str] = set()
        self.main_named = False
        info = self._info()
        dev: dict[str, Any] = {
            "identifiers": [f"trilink_{device.did}"],
            "name": device.name,
            "model": device.model,
        }
        dev.update(info)
        if room:
            dev["suggested_area"] = room
        self.out.config = {
            "device": dev,
            "origin": {"name": "trilink", "sw_version": trilink.__version__},
            "availability": [
                {"topic": f"{settings.base_topic}/status"},
                {"topic": self.out.availability_topic},
            ],
            "availability_mode": "all",
            "qos": settings.qos,
            "components": self.components,
        }

    def _info(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for svc in self.spec.services:
            if svc.name != "device-information":
                continue
            for prop in svc.properties:
                self.used.add((prop.siid, prop.iid))
                reading = self.readings.get((prop.siid, prop.iid))
                field_name = {
                    "manufacturer": "manufacturer",
                    "serial-number": "serial_number",
                    "firmware-revision": "sw_version",
                }.get(prop.name)
                if field_name and reading is not None and isinstance(reading[0], str) and reading[0]:
                    out[field_name] = reading[0]
        return out

    # --------------------------------------------------------------- helpers
    def cmd(self, key: str, decoder: Decoder) -> str:
        """Register a command key; returns its command topic."""
        self.out.commands[key] = decoder
        return f"{self.base}/{key}/set"

    def field(self, prop: PropertySpec) -> str:
        """Put a property's value in the state document; returns its key."""
        key = _key(prop)
        self.out.fields[key] = prop
        self.used.add((prop.siid, prop.iid))
        return key

    def use(self, *props: PropertySpec | None) -> None:
        """Mark properties as part of an entity (they get no entity of their own)."""
        self.used.update((p.siid, p.iid) for p in props if p is not None)

    def main_name(self, svc: ServiceSpec) -> str | None:
        """A service's entity name; ``None`` (named after the device) for the device's main service.

        The main service is the one named like the device kind (a light's ``light``, an
        air conditioner's ``air-conditioner``), as Home Assistant names main entities.
        """
        if svc.name == self.spec.name and not self.main_named:
            self.main_named = True
            return None
        return svc.description or svc.name

    def add(self, key: str, platform: str, name: str | None, body: dict[str, Any]) -> None:
        """Add a component config under ``key``; names are made unique within the device."""
        if name is not None:
            if name in self.names:
                name = f"{name} {key}"
            self.names.add(name)
        self.components[key] = {
            "platform": platform,
            "name": name,
            "unique_id": f"{self.uid}_{key}",
            **body,
        }

    @staticmethod
    def prop(svc: ServiceSpec, name: str, *, writable: bool | None = None) -> PropertySpec | None:
        """The property ``name`` of a service (writable or not, if said)."""
        for p in svc.properties:
            if p.name == name and (writable is None or p.writable == writable):
                return p
        return None

    def find(self, service_names: tuple[str, ...], name: str) -> PropertySpec | None:
        """An unused property ``name`` in any service of these names."""
        for svc in self.spec.services:
            if svc.name in service_names:
                found = self.prop(svc, name)
                if found is not None and (found.siid, found.iid) not in self.used:
                    return found
        return None

    # ---------------------------------------------------------------- generic
    def generic(self, svc: ServiceSpec) -> None:
        """One entity per property and argument-less action not taken by a composite."""
        inputs = {piid for a in svc.actions for piid in a.ins}
        for prop in svc.properties:
            if (prop.siid, prop.iid) not in self.used and prop.iid not in inputs:
                self.property(prop)
        for action in svc.actions:
            if action.ins or (action.siid, action.iid) in self.used_actions:
                continue
            key = f"s{action.siid}a{action.iid}"
            body = {
                "command_topic": self.cmd(key, _caller(("call", action.siid, action.iid, None))),
                "payload_press": "PRESS",
            }
            self.add(key, "button", action.description or action.name, body)

    def property(self, prop: PropertySpec) -> None:
        """The entity of one property, by its format, access, value-list and unit."""
        readable = prop.readable or prop.notifies
        key = self.field(prop) if readable else _key(prop)
        self.use(prop)
        name = prop.description or prop.name
        body: dict[str, Any] = {}
        if readable:
            body["state_topic"] = self.out.state_topic
        if prop.format == "bool":
            body |= {"payload_on": "ON", "payload_off": "OFF"}
            if readable:
                body["value_template"] = onoff_template(key)
            if prop.writable:
                body["command_topic"] = self.cmd(key, setter(prop, parse_bool))
                self.add(key, "switch", name, body)
            else:
                if prop.name == "charging-state":
                    body["device_class"] = "battery_charging"
                self.add(key, "binary_sensor", name, body)
            return
        if readable:
            body["value_template"] = value_template(key)
        if prop.value_list:
            options = [c.description for c in prop.value_list]
            if prop.writable:
                body |= {
                    "options": options,
                    "command_topic": self.cmd(key, setter(prop, lambda p: parse_choice(prop, p))),
                }
                self.add(key, "select", name, body)
            else:
                self.add(key, "sensor", name, body | {"device_class": "enum", "options": options})
            return
        if prop.format in ("string", "hex"):
            if prop.writable:
                body["command_topic"] = self.cmd(key, setter(prop, str))
                self.add(key, "text", name, body)
            else:
                self.add(key, "sensor", name, body)
            return
        unit = _ha_unit(prop)
        if unit is not None:
            body["unit_of_measurement"] = unit
        if prop.writable:
            vr = prop.value_range
            whole = prop.format != "float"
            body |= {
                "command_topic": self.cmd(key, setter(prop, lambda p: parse_number(prop, p))),
                "min": vr.min if vr is not None else -1e9,
                "max": vr.max if vr is not None else 1e9,
                "step": (vr.step if vr is not None and vr.step else 1 if whole else 0.1),
            }
            self.add(key, "number", name, body)
            return
        device_class, state_class = _sensor_classes(prop)
        if device_class is not None:
            body["device_class"] = device_class
        body["state_class"] = state_class
        self.add(key, "sensor", name, body)


def announce(
    device: Device, settings: HassSettings, *, room: str | None = None, readings: Readings | None = None
) -> Announcement:
    """The discovery config of ``device`` (``room``: its room's name, for ``suggested_area``)."""
    from trilink.transports.hass.composites import COMPOSITES

    builder = Builder(device, settings, room, readings or {})
    services = [s for s in device.spec.services if s.name != "device-information"]
    for svc in services:
        for composite in COMPOSITES:
            composite(builder, svc)
    for svc in services:
        builder.generic(svc)
    return builder.out


def parse_rgb(payload: str) -> int:
    """``r,g,b`` as 0xRRGGBB."""
    parts = [int(float(p)) for p in payload.split(",")]
    if len(parts) != 3 or not all(0 <= p <= 255 for p in parts):
        raise ValueError(f"expected r,g,b (0-255 each), got {payload[:40]!r}")
    return (parts[0] << 16) | (parts[1] << 8) | parts[2]
