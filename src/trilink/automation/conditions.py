"""Conditions: evaluated against the kernel's state, each result keeping the values it saw.

A result is not only true or false: it says what was looked at (``values``) and, when
false, why (``reason``, e.g. "the value was 24.3"), so traces and "why did it not run?"
can answer with facts.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from trilink.automation.definitions import (
    AndCondition,
    Condition,
    NotCondition,
    NumericCondition,
    OnlineCondition,
    OrCondition,
    PresenceCondition,
    StateCondition,
    SunCondition,
    TimeCondition,
    WaitedCondition,
    ZoneCondition,
)
from trilink.automation.geo import Zone, distance_m
from trilink.automation.presence import PresenceBook
from trilink.automation.schedule import in_time_window, local_time_text
from trilink.automation.sun import sun_window
from trilink.kernel import Kernel


@dataclass(frozen=True, slots=True)
class ConditionResult:
    """The outcome of one condition: ``ok``, what it saw, and why it failed."""

    ok: bool
    description: str
    values: dict[str, Any] = field(default_factory=dict)
    reason: str = ""
    children: tuple[ConditionResult, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form for traces."""
        out: dict[str, Any] = {"description": self.description, "result": self.ok, "values": self.values}
        if self.reason:
            out["reason"] = self.reason
        if self.children:
            out["conditions"] = [c.to_dict() for c in self.children]
        return out


@dataclass(frozen=True, slots=True)
class Facts:
    """What conditions may look at: state, positions, zones, the home's time zone and location."""

    kernel: Kernel
    presence: PresenceBook
    zones: Mapping[str, Zone]
    timezone: str
    latitude: float | None
    longitude: float | None
    #: when a property last changed value (not merely was reported), if the engine saw it


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def check(condition: Condition, facts: Facts, variables: Mapping[str, Any]) -> ConditionResult:
    """Evaluate one condition now (``kernel.clock``) with a run's variables."""
    handler = _HANDLERS[type(condition)]
    return handler(condition, facts, variables)


def check_all(
    conditions: Sequence[Condition], facts: Facts, variables: Mapping[str, Any]
) -> tuple[bool, list[ConditionResult]]:
    """Evaluate conditions in order, stopping at the first false one (which is the last result)."""
    results: list[ConditionResult] = []
    for condition in conditions:
        result = check(condition, facts, variables)
        results.append(result)
        if not result.ok:
            return False, results
    return True, results


def _state(c: Any, facts: Facts, _: Mapping[str, Any]) -> ConditionResult:
    assert isinstance(c, StateCondition)
    reading = facts.kernel.state.get(*c.ref.key)
    if reading is None:
        return ConditionResult(False, c.describe(), {"value": None}, "the value is unknown")
    value, reported = reading
    values: dict[str, Any] = {"value": value}
    if value not in c.values:
        return ConditionResult(False, c.describe(), values, f"the value was {_show(value)}")
    if c.for_:
        # the kernel's reading is timestamped when its value last changed
        held = facts.kernel.clock.now() - reported
        values["held_s"] = round(held, 3)
        if held < c.for_:
            reason = f"the value has been {_show(value)} for only {held:.0f} s"
            return ConditionResult(False, c.describe(), values, reason)
    return ConditionResult(True, c.describe(), values)


def _numeric(c: Any, facts: Facts, _: Mapping[str, Any]) -> ConditionResult:
    assert isinstance(c, NumericCondition)
    reading = facts.kernel.state.get(*c.ref.key)
    if reading is None:
        return ConditionResult(False, c.describe(), {"value": None}, "the value is unknown")
    value = reading[0]
    values = {"value": value}
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    ok = ok and (c.above is None or value > c.above) and (c.below is None or value < c.below)
    return ConditionResult(ok, c.describe(), values, "" if ok else f"the value was {_show(value)}")


def _time(c: Any, facts: Facts, _: Mapping[str, Any]) -> ConditionResult:
    assert isinstance(c, TimeCondition)
    now = facts.kernel.clock.now()
    ok = in_time_window(now, c.after, c.before, c.weekdays, facts.timezone)
    shown = local_time_text(now, facts.timezone)
    return ConditionResult(ok, c.describe(), {"time": shown}, "" if ok else f"the time was {shown}")


def _sun(c: Any, facts: Facts, _: Mapping[str, Any]) -> ConditionResult:
    assert isinstance(c, SunCondition)
    now = facts.kernel.clock.now()
    shown = local_time_text(now, facts.timezone)
    if facts.latitude is None or facts.longitude is None:
        return ConditionResult(False, c.describe(), {"time": shown}, "the home has no location")
    ok = sun_window(now, c.after, c.before, facts.latitude, facts.longitude, facts.timezone)
    return ConditionResult(ok, c.describe(), {"time": shown}, "" if ok else f"the time was {shown}")


def _presence(c: Any, facts: Facts, _: Mapping[str, Any]) -> ConditionResult:
    assert isinstance(c, PresenceCondition)
    states = facts.presence.states()
    want = c.is_
    if c.person in ("everyone", "anyone"):
        known = {pid: s for pid, s in states.items() if s is not None}
        if c.person == "everyone":
            ok = bool(known) and all(s == want for s in known.values())
        else:
            ok = any(s == want for s in known.values())
        values: dict[str, Any] = {"people": dict(states)}
        if ok:
            return ConditionResult(True, c.describe(), values)
        if not known:
            return ConditionResult(False, c.describe(), values, "nobody's whereabouts are known")
        shown = ", ".join(f"{pid} was {s}" for pid, s in sorted(known.items()))
        return ConditionResult(False, c.describe(), values, shown)
    state = states.get(c.person)
    values = {"state": state}
    if state == want:
        return ConditionResult(True, c.describe(), values)
    reason = f"{c.person} was {state}" if state else f"where {c.person} is, is unknown"
    return ConditionResult(False, c.describe(), values, reason)


def _zone(c: Any, facts: Facts, _: Mapping[str, Any]) -> ConditionResult:
    assert isinstance(c, ZoneCondition)
    zone = facts.zones.get(c.zone)
    position = facts.presence.position(c.who.did)
    if zone is None:
        return ConditionResult(False, c.describe(), {}, f"zone {c.zone} no longer exists")
    if position is None:
        return ConditionResult(False, c.describe(), {"position": None}, f"the position of {c.who} is unknown")
    lat, lon = position
    distance = distance_m(lat, lon, zone.latitude, zone.longitude)
    values = {"latitude": lat, "longitude": lon, "distance_m": round(distance, 1)}
    ok = zone.contains(lat, lon)
    reason = (
        "" if ok else f"{c.who} was {distance:.0f} m from the centre of {c.zone} (radius {zone.radius_m:g} m)"
    )
    return ConditionResult(ok, c.describe(), values, reason)


def _online(c: Any, facts: Facts, _: Mapping[str, Any]) -> ConditionResult:
    assert isinstance(c, OnlineCondition)
    online = facts.kernel.state.is_online(c.did)
    ok = online is c.online
    reason = "" if ok else f"{c.did} was {'online' if online else 'offline'}"
    return ConditionResult(ok, c.describe(), {"online": online}, reason)


def _waited(c: Any, _: Facts, variables: Mapping[str, Any]) -> ConditionResult:
    assert isinstance(c, WaitedCondition)
    wait = variables.get("wait")
    if not isinstance(wait, Mapping):
        return ConditionResult(False, c.describe(), {"completed": None}, "no wait has ended in this run")
    completed = bool(wait.get("completed"))
    ok = completed is c.completed
    reason = "" if ok else ("the wait completed" if completed else "the wait timed out")
    return ConditionResult(ok, c.describe(), {"completed": completed}, reason)


def _and(c: Any, facts: Facts, variables: Mapping[str, Any]) -> ConditionResult:
    assert isinstance(c, AndCondition)
    ok, results = check_all(c.conditions, facts, variables)
    reason = "" if ok else f"{results[-1].description} was false: {results[-1].reason}"
    return ConditionResult(ok, c.describe(), {}, reason, tuple(results))


def _or(c: Any, facts: Facts, variables: Mapping[str, Any]) -> ConditionResult:
    assert isinstance(c, OrCondition)
    results: list[ConditionResult] = []
    for inner in c.conditions:
        result = check(inner, facts, variables)
        results.append(result)
        if result.ok:
            return ConditionResult(True, c.describe(), {}, "", tuple(results))
    reason = "none was true: " + "; ".join(r.reason for r in results)
    return ConditionResult(False, c.describe(), {}, reason, tuple(results))


def _not(c: Any, facts: Facts, variables: Mapping[str, Any]) -> ConditionResult:
    assert isinstance(c, NotCondition)
    results = tuple(check(inner, facts, variables) for inner in c.conditions)
    true = [r for r in results if r.ok]
    reason = f"{true[0].description} was true" if true else ""
    return ConditionResult(not true, c.describe(), {}, reason, results)


_HANDLERS: dict[type, Callable[[Any, Facts, Mapping[str, Any]], ConditionResult]] = {
    StateCondition: _state,
    NumericCondition: _numeric,
    TimeCondition: _time,
    SunCondition: _sun,
    PresenceCondition: _presence,
    ZoneCondition: _zone,
    OnlineCondition: _online,
    WaitedCondition: _waited,
    AndCondition: _and,
    OrCondition: _or,
    NotCondition: _not,
}
