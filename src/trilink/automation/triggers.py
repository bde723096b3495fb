"""The trigger index: which armed triggers an event concerns, and their runtime state.

Every armed trigger sits in dictionaries keyed by what it listens to — ``(did, siid,
piid)`` for properties, ``(did, siid, eiid)`` for events, ``did`` for availability and
positions, a person for presence, an id for webhooks — so handling an event costs the
triggers that listen to it, not every automation. Time and sun triggers, and the ``for``
of the others, are timers on the hub's clock.

Runtime state lives on :class:`Armed`: a pending ``for`` (its deadline and the values it
will fire with), whether a subject is inside a zone, whether a proximity trigger has
fired during the current stay inside its radius. The index calls ``on_fire`` with a
:class:`Fire`; it never awaits, so the engine can run it straight from its event queue.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from trilink.automation.definitions import (
    AvailabilityTrigger,
    EventTrigger,
    HubStartTrigger,
    PresenceTrigger,
    PropertyTrigger,
    ProximityTrigger,
    SunTrigger,
    TimeTrigger,
    Trigger,
    WebhookTrigger,
    ZoneTrigger,
)
from trilink.automation.geo import MotionTracker, Zone
from trilink.automation.presence import PresenceBook, PresenceChange
from trilink.automation.schedule import next_time_of_day
from trilink.automation.sun import next_sun_event
from trilink.automation.timers import Timers
from trilink.kernel import AvailabilityChanged, Context, DeviceEventFired, Kernel, PropertyChanged

log = logging.getLogger(__name__)

ProximityState = Literal["outside", "armed", "done"]
#: see :meth:`TriggerIndex.gates`
Gate = Literal[True] | tuple[float, float]


@dataclass(frozen=True, slots=True)
class Fire:
    """A trigger fired: when, the values it carries (``trigger.*`` in a run) and its cause."""

    trigger: Trigger
    ts: float
    values: dict[str, Any]
    context: Context | None = None

    def to_trace(self) -> dict[str, Any]:
        """The trigger part of a trace."""
        return {
            "type": self.trigger.type,
            "description": self.trigger.describe(),
            "values": self.values,
            "context_id": self.context.id if self.context is not None else None,
        }


@dataclass(eq=False)
class Armed:
    """One trigger in the index, with its runtime state.

    ``key`` is unique (``<automation id>/<trigger index>`` for an automation's trigger);
    ``durable`` triggers have their pending ``for`` stored so it survives a restart.
    """

    key: str
    trigger: Trigger
    on_fire: Callable[[Fire], None]
    durable: bool = False
    #: a pending ``for``: its deadline, the values it fires with and the value that started it
    pending: tuple[float, dict[str, Any], Any] | None = None
    #: zone triggers: whether the subject is inside (``None`` until its position is known)
    inside: bool | None = None
    #: proximity triggers: outside the radius, inside but not yet moving the right way, or done
    proximity: ProximityState = "outside"


class ForHooks(Protocol):
    """What the index tells its owner about durable ``for`` timers, so they can be stored."""

    def for_started(self, armed: Armed) -> None:
        """A ``for`` began (``armed.pending`` is set)."""
        ...

    def for_ended(self, armed: Armed) -> None:
        """A ``for`` ended: it elapsed, or the state stopped matching."""
        ...


class TriggerIndex:
    """Armed triggers by what they listen to; turns kernel events into :class:`Fire` calls."""

    def __init__(
        self,
        kernel: Kernel,
        presence: PresenceBook,
        timers: Timers,
        zones: Mapping[str, Zone],
        hooks: ForHooks,
        home_id: str,
    ) -> None:
        self.kernel = kernel
        self.presence = presence
        self.timers = timers
        self.zones = zones
        self.hooks = hooks
        self.home_id = home_id
        self._motion = MotionTracker()
        self._all: dict[str, Armed] = {}
        self._by_property: dict[tuple[str, int, int], list[Armed]] = {}
        #: by property key: which changes can matter to its triggers (see :meth:`gates`)
        self._gates: dict[tuple[str, int, int], Gate] = {}
        self._shared_gates: dict[tuple[float, float], tuple[float, float]] = {}
        self._by_event: dict[tuple[str, int, int], list[Armed]] = {}
        self._by_availability: dict[str, list[Armed]] = {}
        self._by_position: dict[str, list[Armed]] = {}
        self._by_presence: dict[str, list[Armed]] = {}
        self._by_webhook: dict[str, list[Armed]] = {}
        self._hub_start: list[Armed] = []

    # ------------------------------------------------------------------- arming
    def _slot(self, armed: Armed) -> list[Armed] | None:
        t = armed.trigger
        if isinstance(t, PropertyTrigger):
            return self._by_property.setdefault(t.ref.key, [])
        if isinstance(t, EventTrigger):
            return self._by_event.setdefault(t.ref.key, [])
        if isinstance(t, AvailabilityTrigger):
            return self._by_availability.setdefault(t.did, [])
        if isinstance(t, ZoneTrigger | ProximityTrigger):
            return self._by_position.setdefault(t.who.did, [])
        if isinstance(t, PresenceTrigger):
            return self._by_presence.setdefault(t.person, [])
        if isinstance(t, WebhookTrigger):
            return self._by_webhook.setdefault(t.hook_id, [])
        if isinstance(t, HubStartTrigger):
            return self._hub_start
        return None

    def arm(self, armed: Armed) -> None:
        """Start listening for a trigger."""
        if armed.key in self._all:
            self.disarm(self._all[armed.key])
        self._all[armed.key] = armed
        slot = self._slot(armed)
        if slot is not None:
            slot.append(armed)
        self._regate(armed)
        t = armed.trigger
        if isinstance(t, TimeTrigger | SunTrigger):
            self._schedule(armed, self.kernel.clock.now())
        elif isinstance(t, ZoneTrigger | ProximityTrigger):
            self._seed_position(armed)

    def disarm(self, armed: Armed) -> None:
        """Stop listening; a pending ``for`` is dropped (the owner decides about its record)."""
        if self._all.get(armed.key) is not armed:
            return
        del self._all[armed.key]
        slot = self._slot(armed)
        if slot is not None and armed in slot:
            slot.remove(armed)
        self.timers.cancel("for/" + armed.key)
        self.timers.cancel("at/" + armed.key)
        armed.pending = None
        self._regate(armed)
        if isinstance(armed.trigger, ProximityTrigger):
            self._motion.forget(armed.key)

    def armed(self, key: str) -> Armed | None:
        """The armed trigger with this key."""
        return self._all.get(key)

    @property
    def sizes(self) -> dict[str, int]:
        """How many triggers each index holds (for stats)."""
        return {
            "armed": len(self._all),
            "properties": sum(len(v) for v in self._by_property.values()),
            "events": sum(len(v) for v in self._by_event.values()),
            "availability": sum(len(v) for v in self._by_availability.values()),
            "positions": sum(len(v) for v in self._by_position.values()),
            "presence": sum(len(v) for v in self._by_presence.values()),
            "webhooks": sum(len(v) for v in self._by_webhook.values()),
            "hub_start": len(self._hub_start),
        }

    # ---------------------------------------------------------------- listening
    def wants(self, event: Any) -> bool:
        """Whether an event concerns any armed trigger or a position (cheap: dictionary lookups)."""
        if isinstance(event, PropertyChanged):
            key = (event.did, event.siid, event.piid)
            return key in self._by_property or self.presence.is_coordinate(*key)
        if isinstance(event, DeviceEventFired):
            return (event.did, event.siid, event.eiid) in self._by_event
        if isinstance(event, AvailabilityChanged):
            return event.did in self._by_availability
        return False

    def gates(self) -> dict[tuple[str, int, int], Gate]:
        """Which property changes can matter, by ``(did, siid, piid)`` (read-only; for the fast path).

        A key is present while a trigger listens to it or it is a device's coordinate.
        ``True``: every change must be handled in full; ``(low, high)``: only a number
        strictly between the two can match (every trigger on the key is an ``above``/``below``
        one without a pending ``for``), so the event listener drops other changes with one
        comparison and a single dictionary lookup.
        """
        return self._gates

    def refresh_coordinates(self) -> None:
        """Re-read which properties are coordinates (after :meth:`PresenceBook.refresh`)."""
        keys = set(self._gates) | set(self.presence.coordinates)
        for key in keys:
            self._regate_key(key)

    def _regate(self, armed: Armed) -> None:
        if isinstance(armed.trigger, PropertyTrigger):
            self._regate_key(armed.trigger.ref.key)

    def _regate_key(self, key: tuple[str, int, int]) -> None:
        armed_list = self._by_property.get(key)
        if not armed_list:
            self._by_property.pop(key, None)
            if key in self.presence.coordinates:
                self._gates[key] = True
            else:
                self._gates.pop(key, None)
            return
        if key in self.presence.coordinates:
            self._gates[key] = True
            return
        low, high = math.inf, -math.inf
        for one in armed_list:
            trigger = one.trigger
            assert isinstance(trigger, PropertyTrigger)
            above, below = trigger.above, trigger.below
            if (
                one.pending is not None
                or trigger.from_ is not None
                or trigger.to is not None
                or (above is None and below is None)
            ):
                self._gates[key] = True
                return
            low = min(low, -math.inf if above is None else above)
            high = max(high, math.inf if below is None else below)
        # shared entries: many keys have the same bounds
        self._gates[key] = self._shared_gates.setdefault((low, high), (low, high))

    def handle_property(self, event: PropertyChanged, key: tuple[str, int, int], coordinate: bool) -> None:
        """Fire the property triggers on ``key`` that the change matches; track positions."""
        armed_list = self._by_property.get(key)
        if armed_list:
            if len(armed_list) == 1:
                self._property(armed_list[0], event)
            else:
                # a copy: firing may re-arm (and so re-order) the triggers of this key
                for armed in tuple(armed_list):
                    self._property(armed, event)
        if coordinate:
            self._moved(event.did, event.ts, event.context)

    def handle(self, event: Any) -> None:
        """Fire the triggers an event matches and update their state."""
        if isinstance(event, PropertyChanged):
            key = (event.did, event.siid, event.piid)
            self.handle_property(event, key, self.presence.is_coordinate(*key))
        elif isinstance(event, DeviceEventFired):
            for armed in tuple(self._by_event.get((event.did, event.siid, event.eiid), ())):
                self._event(armed, event)
        elif isinstance(event, AvailabilityChanged):
            for armed in tuple(self._by_availability.get(event.did, ())):
                self._availability(armed, event)

    def webhook(self, hook_id: str, payload: dict[str, Any], context: Context | None) -> int:
        """Fire the webhook triggers with this id; returns how many fired."""
        fired = tuple(self._by_webhook.get(hook_id, ()))
        for armed in fired:
            values = {"type": "webhook", "payload": payload}
            self._fire(armed, self.kernel.clock.now(), values, context)
        return len(fired)

    def hub_started(self) -> int:
        """Fire the hub_start triggers; returns how many fired."""
        fired = tuple(self._hub_start)
        for armed in fired:
            self._fire(armed, self.kernel.clock.now(), {"type": "hub_start"}, None)
        return len(fired)

    def _fire(self, armed: Armed, ts: float, values: dict[str, Any], context: Context | None) -> None:
        values.setdefault("ts", ts)
        try:
            armed.on_fire(Fire(armed.trigger, ts, values, context))
        except Exception:
            log.exception("handling trigger %s failed", armed.key)

    # ---------------------------------------------------------------------- for
    def _matched(
        self,
        armed: Armed,
        for_: float | None,
        ts: float,
        values: dict[str, Any],
        start: Any,
        context: Context | None,
    ) -> None:
        """A trigger's state began to match: fire now, or start its ``for``."""
        if not for_:
            self._fire(armed, ts, values, context)
            return
        if armed.pending is not None:
            return
        self.start_for(armed, ts + for_, values, start)

    def start_for(self, armed: Armed, deadline: float, values: dict[str, Any], start: Any) -> None:
        """Start (or restore) a pending ``for`` that fires at ``deadline`` if the state still holds."""
        armed.pending = (deadline, values, start)
        self._regate(armed)
        self.timers.start("for/" + armed.key, deadline, lambda: self._for_elapsed(armed))
        if armed.durable:
            self.hooks.for_started(armed)

    def _stop_for(self, armed: Armed) -> None:
        if armed.pending is None:
            return
        armed.pending = None
        self._regate(armed)
        self.timers.cancel("for/" + armed.key)
        if armed.durable:
            self.hooks.for_ended(armed)

    def _for_elapsed(self, armed: Armed) -> None:
        pending = armed.pending
        if pending is None or self._all.get(armed.key) is not armed:
            return
        armed.pending = None
        self._regate(armed)
        # the stored record goes first: a crash after this point cannot fire it twice
        if armed.durable:
            self.hooks.for_ended(armed)
        deadline, values, start = pending
        if not self.holds(armed, start):
            log.info("trigger %s: the state no longer holds at the end of its 'for'; not fired", armed.key)
            return
        self._fire(armed, deadline, dict(values), None)

    def holds(self, armed: Armed, start: Any) -> bool:
        """Whether a trigger's state still matches now (``start``: the value that began a ``for``)."""
        t = armed.trigger
        if isinstance(t, PropertyTrigger):
            reading = self.kernel.state.get(*t.ref.key)
            return reading is not None and _property_holds(t, reading[0], start)
        if isinstance(t, AvailabilityTrigger):
            return self.kernel.state.online.get(t.did) is t.online
        if isinstance(t, PresenceTrigger):
            return self._presence_holds(t)
        return False

    # --------------------------------------------------------------- properties
    def _property(self, armed: Armed, event: PropertyChanged) -> None:
        t = armed.trigger
        assert isinstance(t, PropertyTrigger)
        value, old = event.value, event.old_value
        if armed.pending is not None and not _property_holds(t, value, armed.pending[2]):
            self._stop_for(armed)
        if t.from_ is not None and old != t.from_:
            return
        if t.to is not None and value != t.to:
            return
        # above/below fire on crossing: the new value is in the range and the old one was not
        above, below = t.above, t.below
        if above is not None or below is not None:
            # the common case — the new value is outside the range — is decided inline
            kind = type(value)
            if (
                (kind is not int and kind is not float)
                or (above is not None and value <= above)
                or (below is not None and value >= below)
            ):
                return
            if _in_range(old, above, below):
                return
        values = {
            "type": "property",
            "device": t.ref.did,
            "property": f"{t.ref.siid}.{t.ref.piid}",
            "value": value,
            "old_value": old,
        }
        self._matched(armed, t.for_, event.ts, values, value, event.context)

    def _event(self, armed: Armed, event: DeviceEventFired) -> None:
        t = armed.trigger
        assert isinstance(t, EventTrigger)
        device = self.kernel.registry.devices.get(event.did)
        arguments: dict[str, Any] = {}
        for piid, value in event.arguments.items():
            prop = device.spec.properties.get((event.siid, piid)) if device is not None else None
            arguments[prop.name if prop is not None else str(piid)] = value
        values = {
            "type": "event",
            "device": event.did,
            "event": f"{event.siid}.{event.eiid}",
            "arguments": arguments,
        }
        self._fire(armed, event.ts, values, event.context)

    def _availability(self, armed: Armed, event: AvailabilityChanged) -> None:
        t = armed.trigger
        assert isinstance(t, AvailabilityTrigger)
        if event.online is not t.online:
            self._stop_for(armed)
            return
        values = {"type": "availability", "device": event.did, "online": event.online}
        self._matched(armed, t.for_, event.ts, values, event.online, event.context)

    # ---------------------------------------------------------- time and the sun
    def _schedule(self, armed: Armed, after: float) -> None:
        t = armed.trigger
        home = self.kernel.registry.homes.get(self.home_id)
        tz = home.timezone if home is not None else "UTC"
        try:
            if isinstance(t, TimeTrigger):
                at = next_time_of_day(after, t.at, t.weekdays, tz)
            else:
                assert isinstance(t, SunTrigger)
                if home is None or home.latitude is None or home.longitude is None:
                    log.warning("trigger %s: the home has no location; %s never comes", armed.key, t.event)
                    return
                at = next_sun_event(t.event, after, home.latitude, home.longitude, tz, t.offset)
        except ValueError as exc:
            log.warning("trigger %s will not fire: %s", armed.key, exc)
            return
        self.timers.start("at/" + armed.key, at, lambda: self._scheduled(armed, at))

    def _scheduled(self, armed: Armed, at: float) -> None:
        if self._all.get(armed.key) is not armed:
            return
        t = armed.trigger
        values: dict[str, Any] = {"type": t.type}
        if isinstance(t, SunTrigger):
            values.update(event=t.event, offset=t.offset)
        # the next occurrence is after both the one just due and now, so a clock that
        # jumped ahead fires once, not once per missed day
        self._schedule(armed, max(at, self.kernel.clock.now()))
        self._fire(armed, at, values, None)

    # ---------------------------------------------------------------- positions
    def _zone(self, zone_id: str) -> Zone | None:
        if zone_id == "home":
            return self.presence.home_zone()
        return self.zones.get(zone_id)

    def _seed_position(self, armed: Armed) -> None:
        t = armed.trigger
        assert isinstance(t, ZoneTrigger | ProximityTrigger)
        zone = self._zone(t.zone)
        position = self.presence.position(t.who.did)
        if zone is None or position is None:
            return
        if isinstance(t, ZoneTrigger):
            armed.inside = zone.contains(*position)
        else:
            motion = self._motion.update(armed.key, *position, self.kernel.clock.now(), zone)
            # someone already within the radius when the trigger is armed has not "come within" it
            armed.proximity = "done" if motion.distance_m <= t.within else "outside"

    def _moved(self, did: str, ts: float, context: Context | None) -> None:
        before = {
            state: (self.presence.everyone(state), self.presence.anyone(state)) for state in ("home", "away")
        }
        position = self.presence.observe(did)
        if position is None:
            return
        for armed in tuple(self._by_position.get(did, ())):
            if isinstance(armed.trigger, ZoneTrigger):
                self._zone_fix(armed, position, ts, context)
            else:
                self._proximity_fix(armed, position, ts, context)
        changes = self.presence.update(did, position)
        if changes:
            self._presence_changed(changes, before, ts, context)

    def _zone_fix(
        self, armed: Armed, position: tuple[float, float], ts: float, context: Context | None
    ) -> None:
        t = armed.trigger
        assert isinstance(t, ZoneTrigger)
        zone = self._zone(t.zone)
        if zone is None:
            return
        inside = zone.contains(*position)
        was, armed.inside = armed.inside, inside
        if was is None or was == inside or inside != (t.event == "enter"):
            return
        values = {
            "type": "zone",
            "who": t.who.id,
            "device": t.who.did,
            "zone": t.zone,
            "event": t.event,
            "latitude": position[0],
            "longitude": position[1],
            "distance_m": round(zone.distance_to(*position), 1),
        }
        self._fire(armed, ts, values, context)

    def _proximity_fix(
        self, armed: Armed, position: tuple[float, float], ts: float, context: Context | None
    ) -> None:
        t = armed.trigger
        assert isinstance(t, ProximityTrigger)
        zone = self._zone(t.zone)
        if zone is None:
            return
        motion = self._motion.update(armed.key, *position, ts, zone)
        if motion.distance_m > t.within:
            armed.proximity = "outside"
            return
        if armed.proximity == "done":
            return
        if t.direction != "any" and motion.direction != t.direction:
            # entered without moving the right way yet (e.g. within the GPS dead-band): a
            # later fix inside that does move that way still counts
            armed.proximity = "armed"
            return
        armed.proximity = "done"
        values = {
            "type": "proximity",
            "who": t.who.id,
            "device": t.who.did,
            "zone": t.zone,
            "distance_m": round(motion.distance_m, 1),
            "previous_distance_m": None
            if motion.previous_distance_m is None
            else round(motion.previous_distance_m, 1),
            "direction": motion.direction,
            "speed_mps": None if motion.speed_mps is None else round(motion.speed_mps, 2),
            "latitude": position[0],
            "longitude": position[1],
        }
        self._fire(armed, ts, values, context)

    # ----------------------------------------------------------------- presence
    def _presence_holds(self, t: PresenceTrigger) -> bool:
        if t.person == "everyone":
            return self.presence.everyone(t.to)
        if t.person == "anyone":
            return self.presence.anyone(t.to)
        return self.presence.state(t.person) == t.to

    def _presence_changed(
        self,
        changes: list[PresenceChange],
        before: dict[str, tuple[bool, bool]],
        ts: float,
        context: Context | None,
    ) -> None:
        states = self.presence.states()
        for change in changes:
            for armed in tuple(self._by_presence.get(change.person_id, ())):
                t = armed.trigger
                assert isinstance(t, PresenceTrigger)
                if change.new != t.to:
                    self._stop_for(armed)
                    continue
                one: dict[str, Any] = {
                    "type": "presence",
                    "person": change.person_id,
                    "to": t.to,
                    "from": change.old,
                }
                self._matched(armed, t.for_, ts, one, t.to, context)
        for group, position in (("everyone", 0), ("anyone", 1)):
            for armed in tuple(self._by_presence.get(group, ())):
                t = armed.trigger
                assert isinstance(t, PresenceTrigger)
                now = self._presence_holds(t)
                if not now:
                    self._stop_for(armed)
                    continue
                became = [c.person_id for c in changes if c.new == t.to]
                if group == "everyone" and before[t.to][position]:
                    continue  # it was already so: nothing new
                if not became:
                    continue
                values: dict[str, Any] = {
                    "type": "presence",
                    "person": group,
                    "to": t.to,
                    "people": states,
                    "changed": became,
                }
                self._matched(armed, t.for_, ts, values, t.to, context)


def _in_range(value: Any, above: float | None, below: float | None) -> bool:
    if not isinstance(value, int | float) or isinstance(value, bool):
        return False
    return (above is None or value > above) and (below is None or value < below)


def _property_holds(t: PropertyTrigger, value: Any, start: Any) -> bool:
    """Whether a property trigger's match still holds for ``value`` during its ``for``."""
    if t.to is None and t.above is None and t.below is None:
        # no target given: the value that started the ``for`` must stay
        return bool(value == start)
    if t.to is not None and value != t.to:
        return False
    return not ((t.above is not None or t.below is not None) and not _in_range(value, t.above, t.below))
