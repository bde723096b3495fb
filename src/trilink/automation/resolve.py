"""Names to things: devices, properties, actions, events, people, zones and rooms.

A definition says ``device: Living Room AC`` and ``property: air-conditioner.target-temperature``;
the engine needs ``ac-living`` and ``(2, 3)``. :class:`Resolver` does that lookup against
the kernel's registry and raises :class:`Unresolved` with a reason a person can act on
("unknown device 'ac-livng' (did or name)"). Parsing uses it at load time; the runner
uses it again for ``devices:`` selectors, whose matches can change after loading.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from trilink.automation.definitions import (
    HOME_ZONE,
    CallTarget,
    DeviceSelector,
    SetTarget,
    Subject,
)
from trilink.automation.geo import Zone
from trilink.automation.presence import home_zone, location_iids
from trilink.kernel import Device, Home, Kernel, Person
from trilink.model import ActionSpec, EventSpec, InvalidValue, PropertySpec, validate_action, validate_value

_IIDS = re.compile(r"^\s*(\d+)\s*\.\s*(\d+)\s*$")
_NAMES = re.compile(r"^\s*([A-Za-z0-9_-]+)\s*\.\s*([A-Za-z0-9_-]+)\s*$")


class Unresolved(ValueError):
    """A name in a definition does not resolve; the message says what is there instead."""


def value_error(exc: InvalidValue) -> str:
    """The reason of a refused value as a definition error shows it: ``<detail> [<rule>]``."""
    return f"{exc.detail} [{exc.rule}]"


def _address(text: Any, what: str) -> tuple[int, int] | tuple[str, str]:
    """``2.3`` → (2, 3); ``service.name`` → ("service", "name")."""
    if isinstance(text, float) and not isinstance(text, bool):
        # YAML reads an unquoted 2.3 as a number; its shortest repr gives the digits back
        text = repr(text)
    if not isinstance(text, str):
        raise Unresolved(f"{what} must be SIID.{what[0].upper()}IID (e.g. 2.1) or service.name, got {text!r}")
    m = _IIDS.match(text)
    if m:
        return int(m.group(1)), int(m.group(2))
    m = _NAMES.match(text)
    if m:
        return m.group(1), m.group(2)
    raise Unresolved(f"{what} must be SIID.{what[0].upper()}IID (e.g. 2.1) or service.name, got {text!r}")


class Resolver:
    """Looks the names of a definition up in the registry and the known zones."""

    def __init__(self, kernel: Kernel, home_id: str, zones: Mapping[str, Zone]) -> None:
        self.kernel = kernel
        self.home_id = home_id
        self.zones = zones

    @property
    def home(self) -> Home | None:
        """The home automations belong to, if the registry has it."""
        return self.kernel.registry.homes.get(self.home_id)

    # ------------------------------------------------------------------ devices
    def device(self, value: Any) -> Device:
        """A device by did, name or alias (names compare without case)."""
        if not isinstance(value, str) or not value.strip():
            raise Unresolved(f"device must be a did or a device name, got {value!r}")
        devices = self.kernel.registry.devices
        found = devices.get(value)
        if found is not None:
            return found
        folded = value.strip().casefold()
        named = [
            d
            for d in devices.values()
            if d.name.casefold() == folded or folded in (a.casefold() for a in d.aliases)
        ]
        if len(named) == 1:
            return named[0]
        if named:
            dids = ", ".join(sorted(d.did for d in named))
            raise Unresolved(f"device name {value!r} is ambiguous ({dids}); use the did")
        raise Unresolved(f"unknown device {value!r} (give a did or a device name)")

    def property(self, device: Device, value: Any) -> PropertySpec:
        """A property of a device by ``SIID.PIID`` or ``service.property``."""
        address = _address(value, "property")
        spec = device.spec
        if isinstance(address[0], int):
            siid, piid = address[0], int(address[1])
            prop = spec.properties.get((siid, piid))
            if prop is not None and isinstance(value, float) and (siid, piid * 10) in spec.properties:
                raise Unresolved(
                    f"property {value!r} is ambiguous: YAML reads {siid}.{piid}0 as the number {value!r}; "
                    f"write it in quotes ('{siid}.{piid}' or '{siid}.{piid}0')"
                )
        else:
            prop = spec.find_property(str(address[0]), str(address[1]))
        if prop is None:
            known = ", ".join(
                f"{p.siid}.{p.iid} {_svc(device, p.siid)}.{p.name}" for p in spec.iter_properties()
            )
            raise Unresolved(f"{device.did} has no property {_shown(value)} (properties: {known})")
        return prop

    def action(self, device: Device, value: Any) -> ActionSpec:
        """An action of a device by ``SIID.AIID`` or ``service.action``."""
        address = _address(value, "action")
        found: ActionSpec | None = None
        if isinstance(address[0], int):
            found = device.spec.actions.get((address[0], int(address[1])))
        else:
            for a in device.spec.actions.values():
                if a.name == address[1] and _svc(device, a.siid) == address[0]:
                    found = a
        if found is None:
            known = ", ".join(
                f"{a.siid}.{a.iid} {_svc(device, a.siid)}.{a.name}" for a in device.spec.actions.values()
            )
            raise Unresolved(f"{device.did} has no action {_shown(value)} (actions: {known or 'none'})")
        return found

    def event(self, device: Device, value: Any) -> EventSpec:
        """An event of a device by ``SIID.EIID`` or ``service.event``."""
        address = _address(value, "event")
        found: EventSpec | None = None
        if isinstance(address[0], int):
            found = device.spec.events.get((address[0], int(address[1])))
        else:
            for e in device.spec.events.values():
                if e.name == address[1] and _svc(device, e.siid) == address[0]:
                    found = e
        if found is None:
            known = ", ".join(
                f"{e.siid}.{e.iid} {_svc(device, e.siid)}.{e.name}" for e in device.spec.events.values()
            )
            raise Unresolved(f"{device.did} has no event {_shown(value)} (events: {known or 'none'})")
        return found

    # ------------------------------------------------------------------- people
    def person(self, value: Any, *, groups: bool = False) -> str:
        """A person's id (by id or name); with ``groups``, also ``everyone`` and ``anyone``."""
        if groups and value in ("everyone", "anyone"):
            return str(value)
        if not isinstance(value, str):
            raise Unresolved(f"person must be a person's id, got {value!r}")
        people = self.kernel.registry.people
        if value in people:
            return value
        for p in people.values():
            if p.name.casefold() == value.casefold():
                return p.id
        known = ", ".join(sorted(people)) or "none"
        extra = " or everyone/anyone" if groups else ""
        raise Unresolved(f"unknown person {value!r} (people: {known}{extra})")

    def subject(self, value: Any) -> Subject:
        """Whose position: a person (their phone's) or a device with a location."""
        if isinstance(value, str) and value in self.kernel.registry.people:
            person: Person = self.kernel.registry.people[value]
            if person.phone_did is None:
                raise Unresolved(f"{person.id} has no phone, so their position is unknown")
            return Subject(value, person.phone_did, person.id)
        try:
            device = self.device(value)
        except Unresolved:
            raise Unresolved(f"unknown who {value!r} (a person's id, or a device with a location)") from None
        if location_iids(device.spec) is None:
            raise Unresolved(f"{device.did} has no location (latitude/longitude), so it cannot be followed")
        return Subject(str(value), device.did, None)

    def zone(self, value: Any) -> Zone:
        """A zone by id (``home`` is the home's location)."""
        if value == HOME_ZONE:
            zone = home_zone(self.home)
            if zone is None:
                raise Unresolved(
                    f"the home {self.home_id!r} has no location, so the home zone does not exist"
                )
            return zone
        if isinstance(value, str) and value in self.zones:
            return self.zones[value]
        known = ", ".join(sorted({HOME_ZONE, *self.zones}))
        raise Unresolved(f"unknown zone {value!r} (zones: {known})")

    # ---------------------------------------------------------------- selectors
    def room(self, value: Any) -> str:
        """A room of the home by id or name."""
        if not isinstance(value, str):
            raise Unresolved(f"room must be a room's id or name, got {value!r}")
        for r in self.kernel.registry.rooms.values():
            if r.id == value or r.name.casefold() == value.casefold() or value in r.aliases:
                return r.id
        known = ", ".join(sorted(self.kernel.registry.rooms)) or "none"
        raise Unresolved(f"unknown room {value!r} (rooms: {known})")

    def matches(self, selector: DeviceSelector) -> list[Device]:
        """The devices a selector picks, by did."""
        out = []
        for device in self.kernel.registry.devices.values():
            if selector.kind is not None and device.spec.name != selector.kind:
                continue
            if selector.room_id is not None and device.room_id != selector.room_id:
                continue
            out.append(device)
        return sorted(out, key=lambda d: d.did)

    def set_target(self, device: Device, prop_text: Any, value: Any) -> SetTarget:
        """A validated write of ``value`` to a device's property."""
        prop = self.property(device, prop_text)
        try:
            checked = validate_value(device.did, prop, value, write=True)
        except InvalidValue as exc:
            raise Unresolved(value_error(exc)) from None
        return SetTarget(device.did, prop.siid, prop.iid, checked)

    def call_target(self, device: Device, action_text: Any, args: list[Any]) -> CallTarget:
        """A validated call of a device's action."""
        action = self.action(device, action_text)
        try:
            _, checked = validate_action(device.did, device.spec, action.siid, action.iid, args)
        except InvalidValue as exc:
            raise Unresolved(value_error(exc)) from None
        return CallTarget(device.did, action.siid, action.iid, tuple(checked))

    def selected_sets(
        self, selector: DeviceSelector, prop_text: Any, value: Any
    ) -> tuple[list[SetTarget], list[str]]:
        """Writes for every device a selector picks now, and why some cannot take it."""
        targets: list[SetTarget] = []
        errors: list[str] = []
        for device in self.matches(selector):
            try:
                self.property(device, prop_text)
            except Unresolved:
                continue  # a room holds devices of many kinds: those without the property sit out
            try:
                targets.append(self.set_target(device, prop_text, value))
            except Unresolved as exc:
                errors.append(f"{device.did}: {exc}")
        return targets, errors

    def selected_calls(
        self, selector: DeviceSelector, action_text: Any, args: list[Any]
    ) -> tuple[list[CallTarget], list[str]]:
        """Calls for every device a selector picks now, and why some cannot take it."""
        targets: list[CallTarget] = []
        errors: list[str] = []
        for device in self.matches(selector):
            try:
                self.action(device, action_text)
            except Unresolved:
                continue
            try:
                targets.append(self.call_target(device, action_text, args))
            except Unresolved as exc:
                errors.append(f"{device.did}: {exc}")
        return targets, errors


def _svc(device: Device, siid: int) -> str:
    service = device.spec.service(siid)
    return service.name if service is not None else str(siid)


def _shown(value: Any) -> str:
    return repr(value) if isinstance(value, float) else str(value)
