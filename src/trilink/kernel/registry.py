"""The registry: homes, their floors and rooms, people (with their phone and car) and devices."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from trilink.model import DeviceSpec


@dataclass(frozen=True, slots=True)
class Home:
    """A home, with its location (for geofences) and time zone."""

    id: str
    name: str
    latitude: float | None = None
    longitude: float | None = None
    timezone: str = "UTC"


@dataclass(frozen=True, slots=True)
class Floor:
    """A floor (storey) of a home; ``aliases`` are other names people use for it.

    ``level`` orders the floors (0 the ground floor, 1 the one above, -1 a basement);
    ``None`` when it is not known.
    """

    id: str
    home_id: str
    name: str
    aliases: tuple[str, ...] = ()
    level: int | None = None


@dataclass(frozen=True, slots=True)
class Room:
    """A room of a home; ``aliases`` are other names people use for it.

    ``floor_id`` is the floor the room is on (a floor of the same home), ``None`` if the
    home has no floors or the room is not placed on one.
    """

    id: str
    home_id: str
    name: str
    aliases: tuple[str, ...] = ()
    floor_id: str | None = None


@dataclass(frozen=True, slots=True)
class Person:
    """A person of a home, with the dids of their phone and car (if any)."""

    id: str
    home_id: str
    name: str
    phone_did: str | None = None
    car_did: str | None = None
    role: str = "member"  # "owner" | "member" | "guest"


@dataclass(frozen=True, slots=True)
class Device:
    """A device the hub knows: its did, spec, place and the transport that reaches it."""

    did: str
    name: str
    model: str
    spec: DeviceSpec
    transport: str
    home_id: str | None = None
    room_id: str | None = None
    owner_id: str | None = None
    aliases: tuple[str, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)

    def with_place(self, home_id: str | None, room_id: str | None) -> Device:
        """A copy placed in another home/room."""
        return replace(self, home_id=home_id, room_id=room_id)


class UnknownEntity(KeyError):
    """A did or id that the registry does not know."""

    def __init__(self, entity: str, ident: str) -> None:
        self.entity = entity
        self.ident = ident
        super().__init__(f"unknown {entity} {ident!r}")

    def __str__(self) -> str:
        return f"unknown {self.entity} {self.ident!r}"


class Registry:
    """In-memory registry; the kernel publishes a ``RegistryChanged`` for every change."""

    def __init__(self) -> None:
        self.homes: dict[str, Home] = {}
        self.floors: dict[str, Floor] = {}
        self.rooms: dict[str, Room] = {}
        self.people: dict[str, Person] = {}
        self.devices: dict[str, Device] = {}

    def device(self, did: str) -> Device:
        """The device with this did; raises :class:`UnknownEntity`."""
        try:
            return self.devices[did]
        except KeyError:
            raise UnknownEntity("device", did) from None

    def rooms_of(self, home_id: str) -> list[Room]:
        """The rooms of a home."""
        return [r for r in self.rooms.values() if r.home_id == home_id]

    def floors_of(self, home_id: str) -> list[Floor]:
        """The floors of a home, lowest first (floors of unknown level last, by name)."""
        floors = [f for f in self.floors.values() if f.home_id == home_id]
        return sorted(floors, key=lambda f: (f.level is None, f.level or 0, f.name))

    def rooms_on(self, floor_id: str) -> list[Room]:
        """The rooms on a floor."""
        return [r for r in self.rooms.values() if r.floor_id == floor_id]

    def devices_in(self, room_id: str) -> list[Device]:
        """The devices placed in a room."""
        return [d for d in self.devices.values() if d.room_id == room_id]

    def person_by_device(self, did: str) -> Person | None:
        """The person whose phone or car this is, if any."""
        for p in self.people.values():
            if did in (p.phone_did, p.car_did):
                return p
        return None
