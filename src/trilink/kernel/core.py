"""The kernel: registry, state, event bus and command router in one place.

Every state change and every command passes through :class:`Kernel` exactly once, with
a :class:`Context` naming its cause. The kernel validates (through ``trilink.model``),
updates state and publishes typed events. It does no I/O: transports feed it reports
and carry its commands through the :class:`DeviceLink` they attach.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from trilink.clock import Clock, SystemClock
from trilink.kernel.bus import EventBus
from trilink.kernel.context import SYSTEM, Context
from trilink.kernel.errors import CommandTimeout, DeviceOffline, DeviceRefused, NoTransport
from trilink.kernel.events import (
    ActionInvoked,
    AvailabilityChanged,
    DeviceEventFired,
    PropertyChanged,
    PropertyWritten,
    RegistryChanged,
)
from trilink.kernel.links import DeviceLink, Outcome
from trilink.kernel.registry import Device, Floor, Home, Person, Registry, Room, UnknownEntity
from trilink.kernel.state import Reading, StateTable
from trilink.model import DeviceSpec, InvalidValue, PropertySpec, checker_for, run_checker
from trilink.model.validate import Checker, validate_action, validate_write

#: The home that adopted devices join unless told otherwise.
DEFAULT_HOME = "home"

#: How long a command waits for the device's answer unless told otherwise.
DEFAULT_COMMAND_TIMEOUT = 5.0


class Kernel:
    """The hub's core. Create one per hub; transports and capabilities talk to it."""

    def __init__(self, clock: Clock | None = None, command_timeout: float = DEFAULT_COMMAND_TIMEOUT):
        self.clock: Clock = clock or SystemClock()
        self.registry = Registry()
        self.state = StateTable()
        self.bus = EventBus()
        self.command_timeout = command_timeout
        self._links: dict[str, DeviceLink] = {}
        self._checks: dict[str, dict[tuple[int, int], tuple[PropertySpec, Checker]]] = {}
        self._checks_by_spec: dict[
            int, tuple[DeviceSpec, dict[tuple[int, int], tuple[PropertySpec, Checker]]]
        ] = {}
        self._device_ctx: dict[str, Context] = {}
        # (did, siid, piid) -> (value written, context of the write), to link the
        # device's confirming report to the command that caused it
        self._pending_writes: dict[tuple[str, int, int], tuple[Any, Context]] = {}

    # ----------------------------------------------------------------- registry
    def _changed(self, entity: str, ident: str, context: Context, removed: bool = False) -> None:
        self.bus.publish(RegistryChanged(entity, ident, removed, self.clock.now(), context))

    def add_home(self, home: Home, context: Context = SYSTEM) -> None:
        """Add or replace a home."""
        self.registry.homes[home.id] = home
        self._changed("home", home.id, context)

    def add_floor(self, floor: Floor, context: Context = SYSTEM) -> None:
        """Add or replace a floor; its home must exist (and be the home of the rooms on it)."""
        if floor.home_id not in self.registry.homes:
            raise UnknownEntity("home", floor.home_id)
        elsewhere = [r.id for r in self.registry.rooms_on(floor.id) if r.home_id != floor.home_id]
        if elsewhere:
            raise ValueError(
                f"floor {floor.id!r} cannot move to home {floor.home_id!r}: "
                f"rooms of another home are on it ({', '.join(sorted(elsewhere))})"
            )
        self.registry.floors[floor.id] = floor
        self._changed("floor", floor.id, context)

    def remove_floor(self, floor_id: str, context: Context = SYSTEM) -> None:
        """Forget a floor; the rooms on it stay, on no floor."""
        if floor_id not in self.registry.floors:
            raise UnknownEntity("floor", floor_id)
        for room in self.registry.rooms_on(floor_id):
            self.registry.rooms[room.id] = replace(room, floor_id=None)
            self._changed("room", room.id, context)
        del self.registry.floors[floor_id]
        self._changed("floor", floor_id, context, removed=True)

    def add_room(self, room: Room, context: Context = SYSTEM) -> None:
        """Add or replace a room; its home must exist, and its floor (if any) in that home."""
        if room.home_id not in self.registry.homes:
            raise UnknownEntity("home", room.home_id)
        if room.floor_id is not None:
            floor = self.registry.floors.get(room.floor_id)
            if floor is None:
                raise UnknownEntity("floor", room.floor_id)
            if floor.home_id != room.home_id:
                raise ValueError(
                    f"room {room.id!r} is in home {room.home_id!r} "
                    f"but floor {floor.id!r} is in home {floor.home_id!r}"
                )
        self.registry.rooms[room.id] = room
        self._changed("room", room.id, context)

    def add_person(self, person: Person, context: Context = SYSTEM) -> None:
        """Add or replace a person; their home must exist."""
        if person.home_id not in self.registry.homes:
            raise UnknownEntity("home", person.home_id)
        self.registry.people[person.id] = person
        self._changed("person", person.id, context)

    def add_device(self, device: Device, context: Context = SYSTEM) -> None:
        """Add or replace a device (e.g. when it announces a new spec)."""
        if device.room_id is not None and device.room_id not in self.registry.rooms:
            raise UnknownEntity("room", device.room_id)
        self.registry.devices[device.did] = device
        self._checks[device.did] = self._checks_for(device.spec)
        self._device_ctx[device.did] = Context("device", device.did, f"device:{device.did}")
        self.state.values.setdefault(device.did, {})
        self._changed("device", device.did, context)

    def _checks_for(self, spec: DeviceSpec) -> dict[tuple[int, int], tuple[PropertySpec, Checker]]:
        # devices sharing a spec object share one read-only table of compiled checks
        cached = self._checks_by_spec.get(id(spec))
        if cached is not None and cached[0] is spec:
            return cached[1]
        checks = {key: (prop, checker_for(prop)) for key, prop in spec.properties.items()}
        self._checks_by_spec[id(spec)] = (spec, checks)
        return checks

    def remove_device(self, did: str, context: Context = SYSTEM) -> None:
        """Forget a device and its state."""
        self.registry.device(did)
        del self.registry.devices[did]
        self._checks.pop(did, None)
        self._device_ctx.pop(did, None)
        self.state.values.pop(did, None)
        self.state.online.pop(did, None)
        self._changed("device", did, context, removed=True)

    def move_device(self, did: str, room_id: str | None, context: Context = SYSTEM) -> Device:
        """Place a device in a room (or nowhere)."""
        device = self.registry.device(did)
        home_id = device.home_id
        if room_id is not None:
            room = self.registry.rooms.get(room_id)
            if room is None:
                raise UnknownEntity("room", room_id)
            home_id = room.home_id
        moved = device.with_place(home_id, room_id)
        self.registry.devices[did] = moved
        self._changed("device", did, context)
        return moved

    def rename_device(self, did: str, name: str, context: Context = SYSTEM) -> Device:
        """Give a device a new display name."""
        renamed = replace(self.registry.device(did), name=name)
        self.registry.devices[did] = renamed
        self._changed("device", did, context)
        return renamed

    def adopt(
        self,
        did: str,
        *,
        model: str,
        name: str,
        spec: DeviceSpec,
        transport: str,
        room: str | None = None,
        owner: str | None = None,
        kind: str | None = None,
        home_id: str = DEFAULT_HOME,
        context: Context = SYSTEM,
    ) -> Device:
        """Register a device that announced itself, keeping what the user already set.

        A device already known keeps its name, room and owner (the user may have changed
        them); only its spec, model and transport are refreshed. A new device is placed
        in the room it names (created in ``home_id`` if missing, matched by id or name)
        and, if it names an owner, linked to that person as their phone or car (by
        ``kind``), the person being created if missing.
        """
        known = self.registry.devices.get(did)
        if known is not None:
            if known.spec == spec and known.model == model and known.transport == transport:
                return known
            device = replace(known, spec=spec, model=model, transport=transport)
            self.add_device(device, context)
            return device
        if home_id not in self.registry.homes:
            self.add_home(Home(home_id, "Home"), context)
        room_id = None
        if room:
            room_id = self._room_for(home_id, room, context)
        if owner:
            self._link_owner(home_id, owner, did, kind, context)
        device = Device(
            did,
            name,
            model,
            spec,
            transport,
            home_id=home_id,
            room_id=room_id,
            owner_id=_slug(owner) if owner else None,
        )
        self.add_device(device, context)
        return device

    def _room_for(self, home_id: str, room: str, context: Context) -> str:
        slug = _slug(room)
        for r in self.registry.rooms_of(home_id):
            if r.id == slug or r.name.casefold() == room.casefold() or room in r.aliases:
                return r.id
        self.add_room(Room(slug, home_id, room.replace("-", " ").capitalize()), context)
        return slug

    def _link_owner(self, home_id: str, owner: str, did: str, kind: str | None, context: Context) -> None:
        pid = _slug(owner)
        person = self.registry.people.get(pid) or Person(pid, home_id, owner.capitalize())
        if kind == "phone" and person.phone_did is None:
            person = replace(person, phone_did=did)
        elif kind == "car" and person.car_did is None:
            person = replace(person, car_did=did)
        if self.registry.people.get(pid) != person:
            self.add_person(person, context)

    # -------------------------------------------------------------- device input
    def restore(self, did: str, readings: dict[tuple[int, int], Reading]) -> None:
        """Load last known state from the store at start-up (no events)."""
        self.state.values.setdefault(did, {}).update(readings)

    def report(self, did: str, siid: int, piid: int, value: Any, ts: float | None = None) -> bool:
        """A device reports a property value. Returns whether the value changed.

        The value is validated against the device's spec; a bad one raises
        :class:`InvalidValue` and changes nothing.
        """
        checks = self._checks.get(did)
        if checks is None:
            raise UnknownEntity("device", did)
        key = (siid, piid)
        pc = checks.get(key)
        if pc is None:
            raise InvalidValue(did, siid, piid, "unknown-property", "the device has no such property")
        value = run_checker(did, pc[0], pc[1], value)
        values = self.state.values[did]
        if ts is None:
            ts = self.clock.now()
        old = values.get(key)
        if old is not None and old[0] == value and type(old[0]) is type(value):
            # a reading's timestamp is when its value last changed ("since"), as in the store
            return False
        values[key] = (value, ts)
        context = self._device_ctx[did]
        if self._pending_writes:
            pending = self._pending_writes.get((did, siid, piid))
            if pending is not None and pending[0] == value:
                del self._pending_writes[(did, siid, piid)]
                context = Context("device", did, context.id, pending[1].id)
        self.bus.publish(
            PropertyChanged(did, siid, piid, value, None if old is None else old[0], ts, context)
        )
        return True

    def report_many(
        self, did: str, items: Iterable[tuple[int, int, Any]], ts: float | None = None
    ) -> tuple[int, list[InvalidValue]]:
        """Apply several reports of one device; bad values are returned, good ones kept."""
        changed = 0
        errors: list[InvalidValue] = []
        for siid, piid, value in items:
            try:
                changed += self.report(did, siid, piid, value, ts)
            except InvalidValue as exc:
                errors.append(exc)
        return changed, errors

    def fire_event(
        self, did: str, siid: int, eiid: int, arguments: dict[int, Any], ts: float | None = None
    ) -> DeviceEventFired:
        """A device raised a spec event; arguments are validated by their piids."""
        device = self.registry.device(did)
        spec = device.spec.events.get((siid, eiid))
        if spec is None:
            raise InvalidValue(did, siid, eiid, "unknown-event", "the device has no such event", kind="eiid")
        checked: dict[int, Any] = {}
        for piid, value in arguments.items():
            if piid not in spec.arguments:
                raise InvalidValue(
                    did,
                    siid,
                    eiid,
                    "arguments",
                    f"{spec.name} has no argument piid {piid} (arguments: {list(spec.arguments)})",
                    kind="eiid",
                )
            pc = self._checks[did].get((siid, piid))
            checked[piid] = value if pc is None else run_checker(did, pc[0], pc[1], value)
        event = DeviceEventFired(
            did, siid, eiid, checked, self.clock.now() if ts is None else ts, self._device_ctx[did]
        )
        self.bus.publish(event)
        return event

    def set_online(self, did: str, online: bool, context: Context | None = None) -> bool:
        """Record a device's availability. Returns whether it changed."""
        self.registry.device(did)
        if self.state.online.get(did) is online:
            return False
        self.state.online[did] = online
        self.bus.publish(AvailabilityChanged(did, online, self.clock.now(), context or self._device_ctx[did]))
        return True

    # ------------------------------------------------------------------ commands
    def attach(self, link: DeviceLink) -> None:
        """Attach a transport's link; devices whose ``transport`` is ``link.name`` use it."""
        self._links[link.name] = link

    def detach(self, name: str) -> None:
        """Detach a transport's link."""
        self._links.pop(name, None)

    def _link_for(self, device: Device) -> DeviceLink:
        link = self._links.get(device.transport)
        if link is None:
            raise NoTransport(device.did, f"transport {device.transport!r} is not running")
        if not self.state.online.get(device.did, False):
            raise DeviceOffline(device.did, "the device is offline; the command was not sent")
        return link

    async def _send(self, did: str, what: str, coro: Any, timeout: float | None) -> Outcome:
        """Await a link's answer within the timeout; a non-zero device code is an error."""
        limit = self.command_timeout if timeout is None else timeout
        try:
            async with asyncio.timeout(limit):
                outcome: Outcome = await coro
        except TimeoutError:
            raise CommandTimeout(did, f"no answer from the device within {limit:g} s") from None
        if not outcome.ok:
            message = f"{what}: device refused ({outcome.code}) {outcome.message}".rstrip()
            raise DeviceRefused(did, message, outcome.code, outcome.message)
        return outcome

    async def set_property(
        self,
        did: str,
        siid: int,
        piid: int,
        value: Any,
        context: Context,
        timeout: float | None = None,
    ) -> Outcome:
        """Validate a write, send it to the device and return the device's answer.

        Raises :class:`InvalidValue` before sending anything if the value breaks the spec;
        :class:`DeviceOffline`, :class:`CommandTimeout` or :class:`DeviceRefused` otherwise.
        """
        device = self.registry.device(did)
        value = validate_write(did, device.spec, siid, piid, value)
        link = self._link_for(device)
        self._pending_writes[(did, siid, piid)] = (value, context)
        error: str | None = None
        try:
            return await self._send(
                did, f"siid {siid} piid {piid}", link.send_set(did, siid, piid, value), timeout
            )
        except Exception as exc:
            self._pending_writes.pop((did, siid, piid), None)
            error = str(exc)
            raise
        finally:
            self.bus.publish(
                PropertyWritten(did, siid, piid, value, error is None, error, self.clock.now(), context)
            )

    async def call_action(
        self,
        did: str,
        siid: int,
        aiid: int,
        args: list[Any],
        context: Context,
        timeout: float | None = None,
    ) -> Outcome:
        """Validate an action call, send it to the device and return its answer."""
        device = self.registry.device(did)
        _, checked = validate_action(did, device.spec, siid, aiid, args)
        link = self._link_for(device)
        error: str | None = None
        outcome = Outcome()
        try:
            outcome = await self._send(
                did, f"siid {siid} aiid {aiid}", link.send_call(did, siid, aiid, checked), timeout
            )
            return outcome
        except Exception as exc:
            error = str(exc)
            raise
        finally:
            self.bus.publish(
                ActionInvoked(
                    did,
                    siid,
                    aiid,
                    checked,
                    list(outcome.out),
                    error is None,
                    error,
                    self.clock.now(),
                    context,
                )
            )


def _slug(text: str) -> str:
    out = "".join(c if c.isalnum() else "-" for c in text.strip().casefold())
    return "-".join(part for part in out.split("-") if part) or "unnamed"
