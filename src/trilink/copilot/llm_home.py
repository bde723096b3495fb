"""The home as the model sees it: what each device can do, as a JSON data block.

What a device supports is read from its MIoT spec with the same lookups the planner
uses (:mod:`trilink.copilot.capabilities`): the writable ``on`` property means it can be
turned on and off, a writable ``target-temperature`` that a temperature can be set (with
the spec's range), a ``lock`` action that it can be locked, and so on. Devices whose spec
is not given are listed with their names, room and kind only.

Names, aliases and descriptions come from users and devices. They go into the prompt
only inside :func:`data_block`, JSON-encoded with ``<``, ``>`` and ``&`` escaped, so no
name can close the block or pose as an instruction outside it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from trilink.copilot import capabilities as caps
from trilink.copilot.vocabulary import NamedDevice, Vocabulary
from trilink.model import DeviceSpec, PropertySpec, ServiceSpec

#: the delimiters of the data block in the system prompt
DATA_OPEN: Final = "<home-data>"
DATA_CLOSE: Final = "</home-data>"

#: services that hold a device's ``feature`` (see ``Target.feature``)
FEATURE_OF_SERVICE: Final = {"cabin-climate": "climate", "charging": "charging"}

#: value key → the writable spec property it sets (numbers with a value-range)
NUMERIC_PROPERTY: Final = {
    "brightness": "brightness",
    "color_temperature": "color-temperature",
    "position": "target-position",
    "temperature": "target-temperature",
    "charge_limit": "charge-limit",
}

#: action names → the intent that calls them (as the planner looks them up)
_ACTION_INTENTS: Final = {
    "lock": "lock",
    "unlock": "unlock",
    "start-sweep": "start",
    "start-clean": "start",
    "stop-sweeping": "stop",
    "stop-clean": "stop",
    "pause-sweeping": "pause",
    "pause": "pause",
    "start-charge": "dock",
    "return-to-base": "dock",
    "dock": "dock",
    "start-charging": "start",
    "stop-charging": "stop",
}

#: readable property names → the query subject that reads them
_ASK_SUBJECTS: Final = {
    "temperature": "temperature",
    "relative-humidity": "humidity",
    "battery-level": "battery",
    "state-of-charge": "battery",
    "range": "range",
    "lock-state": "locked",
    "locked": "locked",
    "current-position": "position",
    "target-position": "position",
    "latitude": "where",
}

_SKIPPED_SERVICES: Final = frozenset({"device-information"})


@dataclass(slots=True)
class Abilities:
    """What one device (or one feature of it) supports."""

    intents: list[str] = field(default_factory=list)
    values: dict[str, Any] = field(default_factory=dict)
    asks: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.intents:
            out["can"] = self.intents
        if self.values:
            out["values"] = self.values
        if self.asks:
            out["ask"] = self.asks
        return out


def _add(items: list[str], *new: str) -> None:
    for item in new:
        if item not in items:
            items.append(item)


def _number(x: float) -> int | float:
    return int(x) if float(x).is_integer() else float(x)


def _range_text(prop: PropertySpec) -> str | None:
    vr = prop.value_range
    if vr is None:
        return None
    text = f"{_number(vr.min)}..{_number(vr.max)}"
    if vr.step and vr.step != 1:
        text += f" step {_number(vr.step)}"
    return text + (f" {prop.unit}" if prop.unit else "")


def _service_abilities(svc: ServiceSpec, ab: Abilities, ranges: dict[str, tuple[float, float]]) -> None:
    for prop in svc.properties:
        if prop.readable and prop.name in _ASK_SUBJECTS:
            _add(ab.asks, _ASK_SUBJECTS[prop.name])
        if not prop.writable:
            continue
        if prop.name == "motor-control":
            _add(ab.intents, "open", "close")
        elif prop.name == "mode" and prop.value_list:
            modes = [m for m in caps.MODE_WORDS if caps.mode_value(prop, m) is not None]
            if modes:
                ab.values["mode"] = modes
                _add(ab.intents, "set")
        elif prop.name in ("fan-level", "speed-level"):
            levels = [c.value for c in prop.value_list or () if isinstance(c.value, int) and c.value > 0]
            if levels:
                ab.values["fan_speed"] = f"percent 0..100 or level 1..{max(levels)}"
            else:
                ab.values["fan_speed"] = "percent 0..100"
            _add(ab.intents, "set")
        for key, name in NUMERIC_PROPERTY.items():
            if prop.name != name:
                continue
            ab.values[key] = _range_text(prop) or "number"
            _add(ab.intents, "set", "adjust")
            if key == "position":
                _add(ab.intents, "open", "close")
            if prop.value_range is not None:
                lo, hi = ranges.get(key, (prop.value_range.min, prop.value_range.max))
                ranges[key] = (min(lo, prop.value_range.min), max(hi, prop.value_range.max))
    for action in svc.actions:
        intent = _ACTION_INTENTS.get(action.name)
        if intent is not None and not action.ins:
            _add(ab.intents, intent)


def describe_device(
    device: NamedDevice,
    vocabulary: Vocabulary,
    spec: DeviceSpec | None,
    ranges: dict[str, tuple[float, float]],
) -> dict[str, Any]:
    """One device of the data block; widens ``ranges`` (value key → min, max) by its spec."""
    out: dict[str, Any] = {"name": device.name}
    if device.aliases:
        out["aliases"] = list(device.aliases)
    room = next((r for r in vocabulary.rooms if r.id == device.room_id), None)
    if room is not None:
        out["room"] = room.name
    if device.kind is not None:
        out["kind"] = device.kind
    owner = next((p for p in vocabulary.people if p.id == device.owner_id), None)
    if owner is not None:
        out["owner"] = owner.name
    if spec is None:
        return out
    main = Abilities()
    parts: dict[str, Abilities] = {}
    for svc in spec.services:
        if svc.name not in _SKIPPED_SERVICES:
            feature = FEATURE_OF_SERVICE.get(svc.name)
            _service_abilities(
                svc, main if feature is None else parts.setdefault(feature, Abilities()), ranges
            )
    feature_siids = {svc.iid for svc in spec.services if svc.name in FEATURE_OF_SERVICE}
    for feature, ab in [(None, main), *parts.items()]:
        power = caps.power(spec, feature)
        if power is not None and (feature is not None or power.siid not in feature_siids):
            ab.intents[:0] = ["turn_on", "turn_off"]
            _add(ab.asks, "on")
    out.update(main.as_dict())
    features = {name: ab.as_dict() for name, ab in parts.items() if ab.as_dict()}
    if features:
        out["features"] = features
    return out


def home_data(
    vocabulary: Vocabulary, specs: Mapping[str, DeviceSpec], speaker_room: str | None
) -> tuple[dict[str, Any], dict[str, tuple[float, float]]]:
    """The home as data for the prompt, and the value ranges its devices accept."""
    ranges: dict[str, tuple[float, float]] = {}
    devices = [describe_device(d, vocabulary, specs.get(d.did), ranges) for d in vocabulary.devices]
    data: dict[str, Any] = {
        "devices": devices,
        "rooms": [
            {"name": r.name, **({"aliases": list(r.aliases)} if r.aliases else {})} for r in vocabulary.rooms
        ],
    }
    if vocabulary.floors:
        rooms_on: dict[str, list[str]] = {}
        for r in vocabulary.rooms:
            if r.floor_id is not None:
                rooms_on.setdefault(r.floor_id, []).append(r.name)
        data["floors"] = [
            {
                "name": f.name,
                **({"aliases": list(f.aliases)} if f.aliases else {}),
                "rooms": rooms_on.get(f.id, []),
            }
            for f in vocabulary.floors
        ]
    if vocabulary.people:
        data["people"] = [p.name for p in vocabulary.people]
    if vocabulary.scenes:
        data["scenes"] = list(vocabulary.scene_names)
    if vocabulary.zones:
        data["places"] = list(vocabulary.zones)
    if speaker_room is not None:
        room = next((r for r in vocabulary.rooms if speaker_room in (r.id, r.name)), None)
        data["speaker_room"] = room.name if room is not None else speaker_room
    return data, ranges


def data_block(data: Mapping[str, Any]) -> str:
    """``data`` as JSON between the delimiters; markup characters escaped inside strings."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    text = text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")
    return f"{DATA_OPEN}\n{text}\n{DATA_CLOSE}"
