"""What a device can do, found in its MIoT spec by the standard property and action names.

The copilot never hard-codes iids: "turn on" is the writable ``on`` property of the
device's main service, "set the temperature" its writable ``target-temperature``, "lock"
its ``lock`` action, and so on, as MIoT-Spec-V2 names them. So a real Xiaomi device
announced with its own spec is controlled the same way as a simulated one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from trilink.model import DeviceSpec, PropertySpec

#: services that are never the "main" one of a device when looking for ``on``
_SIDE_SERVICES = frozenset(
    {"device-information", "do-not-disturb", "indicator-light", "physical-controls-locked"}
)

#: the canonical AC/fan modes and the value-list descriptions that name them
MODE_WORDS: dict[str, tuple[str, ...]] = {
    "auto": ("auto", "automatic"),
    "cool": ("cool", "cooling", "cold"),
    "dry": ("dry", "dehumidify", "dehumidification"),
    "fan": ("fan", "fan only", "wind", "ventilate"),
    "heat": ("heat", "heating", "warm"),
}


@dataclass(frozen=True, slots=True)
class Writable:
    """A writable property found for an operation."""

    siid: int
    piid: int
    spec: PropertySpec


@dataclass(frozen=True, slots=True)
class Callable_:
    """An action found for an operation."""

    siid: int
    aiid: int
    name: str


def find_property(
    spec: DeviceSpec, name: str, *, service: str | None = None, writable: bool = False
) -> PropertySpec | None:
    """The first property called ``name`` (in ``service`` if given; skipping side services)."""
    for svc in spec.services:
        if service is not None and svc.name != service:
            continue
        if service is None and svc.name in _SIDE_SERVICES:
            continue
        for prop in svc.properties:
            if prop.name == name and (not writable or prop.writable):
                return prop
    return None


def find_action(spec: DeviceSpec, names: tuple[str, ...], *, service: str | None = None) -> Callable_ | None:
    """The first action whose name is one of ``names`` (in order of preference)."""
    for wanted in names:
        for svc in spec.services:
            if service is not None and svc.name != service:
                continue
            for action in svc.actions:
                if action.name == wanted and not action.ins:
                    return Callable_(action.siid, action.iid, action.name)
    return None


def feature_service(spec: DeviceSpec, feature: str | None) -> str | None:
    """The service that holds a device's ``feature`` (the car's climate or charging)."""
    if feature is None:
        return None
    names = {"climate": ("cabin-climate", "air-conditioner"), "charging": ("charging",)}.get(
        feature, (feature,)
    )
    for svc in spec.services:
        if svc.name in names:
            return svc.name
    return None


def power(spec: DeviceSpec, feature: str | None = None) -> PropertySpec | None:
    """The writable ``on`` property of the device's main service (or of its ``feature``)."""
    return find_property(spec, "on", service=feature_service(spec, feature), writable=True)


def mode_value(prop: PropertySpec, mode: str) -> Any | None:
    """The value-list value of ``prop`` that means the canonical ``mode`` (``None``: not offered)."""
    words = MODE_WORDS.get(mode, (mode,))
    for choice in prop.value_list or ():
        if choice.description.strip().casefold() in words:
            return choice.value
    return None


def level_for_percent(prop: PropertySpec, percent: float) -> Any | None:
    """A fan level for a percentage: the value-list's non-zero levels spread over 1–100 %."""
    if prop.value_list:
        levels = sorted(c.value for c in prop.value_list if isinstance(c.value, int) and c.value > 0)
        if not levels:
            return None
        if percent <= 0:
            zero = [c.value for c in prop.value_list if c.value == 0]
            return zero[0] if zero else levels[0]
        index = min(len(levels) - 1, max(0, math.ceil(percent / 100 * len(levels)) - 1))
        return levels[index]
    if prop.value_range is not None:
        lo, hi = prop.value_range.min, prop.value_range.max
        return fit(prop, lo + (hi - lo) * percent / 100)
    return None


def fit(prop: PropertySpec, value: float) -> float | int:
    """``value`` clamped to the property's range and rounded to its step (ints for int formats)."""
    vr = prop.value_range
    out = float(value)
    if vr is not None:
        out = min(max(out, float(vr.min)), float(vr.max))
        if vr.step:
            out = float(vr.min) + round((out - float(vr.min)) / float(vr.step)) * float(vr.step)
            out = round(out, 6)
    if prop.format.startswith(("int", "uint")):
        return round(out)
    return out
