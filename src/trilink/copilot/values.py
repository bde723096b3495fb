"""The values a clause sets: numbers by their unit and the words around them, modes,
levels, colour words, and relative changes ("调低两度", "a bit brighter") as deltas.

Which value a number sets follows, in order: its unit (°C → ``temperature``, K →
``color_temperature``, 档 → ``fan_speed`` level), the value word said ("亮度 30" →
``brightness``), then the device (a light's percent is its brightness, a curtain's its
position, the car's its charge limit). A number with no unit counts only where a value
is expected ("to 24", "调到24", "24に"), so "the 2 lights" sets nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

from trilink.copilot.clauses import Said, anchored, to_value
from trilink.copilot.wording import Mark, Reading

#: a relative change with no amount said
DEFAULT_STEP: Final = {"temperature": 1.0, "brightness": 20.0, "fan_speed": 20.0, "position": 20.0}
_LEVELLED: Final = ("fan_speed", "brightness", "position")


@dataclass(slots=True)
class Settings:
    """Values and deltas of a clause, and its verb once "up"/"down" are read."""

    values: dict[str, Any] = field(default_factory=dict)
    deltas: dict[str, float] = field(default_factory=dict)
    verb: str | None = None
    relative: bool = False  # "up"/"down" was said, with no amount

    @property
    def any(self) -> bool:
        return bool(self.values or self.deltas)


def value_key(
    unit: str | None, attrs: list[str], kinds: list[str], feature: str | None, number: float = 0.0
) -> str | None:
    """The value a number with ``unit`` sets, or ``None``."""
    if unit in ("celsius", "fahrenheit"):
        return "temperature"
    if unit == "kelvin":
        return "color_temperature"
    if unit == "level":
        return "fan_speed"
    for a in attrs:
        if a != "temperature" or unit is None:
            return a
    if unit == "percent":
        for kind, key in (("light", "brightness"), ("curtain", "position"), ("car", "charge_limit")):
            if kind in kinds:
                return key
        if feature == "charging":
            return "charge_limit"
        if "fan" in kinds or "air-conditioner" in kinds:
            return "fan_speed"
        return None if kinds else "brightness"
    if unit is not None:
        return None
    if not kinds and not attrs and 16 <= number <= 32:
        return "temperature"  # "set the bedroom to 22": a room's temperature
    if "air-conditioner" in kinds or feature == "climate":
        return "temperature"
    for kind, key in (
        ("light", "brightness"),
        ("curtain", "position"),
        ("car", "charge_limit"),
        ("fan", "fan_speed"),
    ):
        if kind in kinds:
            return key
    return None


def delta_key(hint: str | None, attrs: list[str], kinds: list[str], feature: str | None) -> str | None:
    """The value "up"/"down" changes (``hint`` from "brighter", "warmer", "stronger")."""
    if hint == "size":
        if "fan_speed" in attrs or "fan" in kinds or "air-conditioner" in kinds:
            return "fan_speed"
        return "brightness" if "light" in kinds else None
    if hint is not None:
        return hint
    for a in attrs:
        if a in ("temperature", "brightness", "fan_speed", "position", "color_temperature"):
            return a
    if "light" in kinds:
        return "brightness"
    if "air-conditioner" in kinds or "car" in kinds or feature == "climate":
        return "temperature"
    if "curtain" in kinds:
        return "position"
    return "fan_speed" if "fan" in kinds else None


def number_value(m: Mark) -> float:
    """A number mark's value, in °C for Fahrenheit (to the AC's half degree)."""
    q = m.quantity
    if q is None:
        return 0.0
    if q.unit == "fahrenheit":
        return round((q.value - 32) * 5 / 9 * 2) / 2
    return q.value


def clean(v: float) -> float | int:
    """``24.0`` as ``24``."""
    return int(v) if float(v).is_integer() else v


def settings(
    reading: Reading, said: Said, verb: str | None, kinds: list[str], attrs: list[str], feature: str | None
) -> Settings:
    """Read the values and deltas of a clause (see the module docs)."""
    out = Settings(verb=verb)
    numbers = [n for n in said.numbers if anchored(reading, n)]
    direction = 0
    hint: str | None = None
    if verb is not None and verb.startswith(("up", "down")):
        direction = 1 if verb.startswith("up") else -1
        hint = verb.partition(":")[2] or None
        out.verb = None
    soft_only = all(m.detail == "soft" for m in said.modes)
    if said.modes and verb not in ("off", "stop", "close") and not (soft_only and direction):
        out.values["mode"] = said.modes[0].value
    for c in said.colors:
        if c.value.isdigit():  # a white tint: "warm white", "暖光"
            out.values["color_temperature"] = int(c.value)
        else:  # a colour by name: "red", "红色"
            out.values["color"] = c.value
    if direction:
        _relative(reading, out, said, numbers, direction, hint, kinds, attrs, feature)
        return out
    for n in numbers:
        q = n.quantity
        key = value_key(q.unit if q else None, attrs, kinds, feature, number_value(n))
        if key is None or key in out.values:
            continue
        if key == "fan_speed" and q is not None and q.unit == "level":
            out.values[key] = {"level": int(q.value)}
        else:
            out.values[key] = clean(number_value(n))
    for lv in said.levels:
        key = _level_key(lv, attrs, kinds)
        if key is not None and key not in out.values:
            out.values[key] = clean(float(lv.value))
    return out


def _relative(
    reading: Reading,
    out: Settings,
    said: Said,
    numbers: list[Mark],
    direction: int,
    hint: str | None,
    kinds: list[str],
    attrs: list[str],
    feature: str | None,
) -> None:
    key = delta_key(hint, attrs, kinds, feature)
    amount = None
    for n in numbers:
        if n.quantity is not None and to_value(reading, n):
            # "warm the car to 22", "22度に暖めて": a value to reach, not a change
            k = key or value_key(n.quantity.unit, attrs, kinds, feature)
            if k is not None:
                out.values[k] = clean(number_value(n))
                return
    for n in numbers or said.numbers:
        q = n.quantity
        if q is not None and q.unit in (None, "celsius", "fahrenheit", "percent", "level"):
            amount = abs(number_value(n)) if q.unit != "fahrenheit" else abs(q.value) * 5 / 9
            key = key or value_key(q.unit, attrs, kinds, feature)
            break
    if key == "position" and amount is None:
        out.verb = "open" if direction > 0 else "close"  # "lower the blinds"
    elif key is not None:
        out.relative = amount is None
        out.deltas[key] = direction * (amount if amount is not None else DEFAULT_STEP.get(key, 1.0))


def _level_key(lv: Mark, attrs: list[str], kinds: list[str]) -> str | None:
    key = next((a for a in attrs if a in _LEVELLED), None)
    if key is not None:
        return key
    if lv.detail in ("最亮", "最暗") or "light" in kinds:
        return "brightness"
    if "fan" in kinds or "air-conditioner" in kinds:
        return "fan_speed"
    return "position" if "curtain" in kinds else None
