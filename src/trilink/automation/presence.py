"""Who is where: positions of devices with a location, and whether each person is home.

A phone or a car reports its position as two properties (``location.latitude`` and
``location.longitude``). :class:`PresenceBook` knows which properties those are, turns
their reports into fixes, and keeps each person's presence: a person is ``home`` while
their phone is inside the home zone (the home's location, radius 150 m), ``away`` while
it is outside, and unknown (``None``) until the phone has reported a position.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from trilink.automation.definitions import HOME_ZONE_RADIUS_M
from trilink.automation.geo import PositionJoiner, Zone
from trilink.automation.geo import home_zone as geo_home_zone
from trilink.kernel import Home, Kernel
from trilink.model import DeviceSpec

Presence = Literal["home", "away"]
Coordinate = Literal["latitude", "longitude"]
#: The (siid, piid) of a device's latitude and longitude.
LocationIids = tuple[tuple[int, int], tuple[int, int]]

_LOCATIONS: dict[int, tuple[DeviceSpec, LocationIids | None]] = {}


def location_iids(spec: DeviceSpec) -> LocationIids | None:
    """Where a spec keeps its position: the first service with ``latitude`` and ``longitude``."""
    cached = _LOCATIONS.get(id(spec))
    if cached is not None and cached[0] is spec:
        return cached[1]
    found: LocationIids | None = None
    for service in spec.services:
        names = {p.name: (p.siid, p.iid) for p in service.properties}
        if "latitude" in names and "longitude" in names:
            found = (names["latitude"], names["longitude"])
            break
    _LOCATIONS[id(spec)] = (spec, found)
    return found


def home_zone(home: Home | None) -> Zone | None:
    """The built-in ``home`` zone: the home's location, radius 150 m (none without a location)."""
    if home is None or home.latitude is None or home.longitude is None:
        return None
    return geo_home_zone(home.latitude, home.longitude, HOME_ZONE_RADIUS_M)


@dataclass(frozen=True, slots=True)
class PresenceChange:
    """A person's presence changed."""

    person_id: str
    old: Presence | None
    new: Presence


class PresenceBook:
    """Positions and presence, kept current from the kernel's state and its property changes."""

    def __init__(self, kernel: Kernel, home_id: str) -> None:
        self.kernel = kernel
        self.home_id = home_id
        self._joiner = PositionJoiner()
        self._coordinates: dict[tuple[str, int, int], Coordinate] = {}
        self._states: dict[str, Presence | None] = {}
        self._phones: dict[str, str] = {}
        self.refresh()

    def refresh(self) -> None:
        """Re-read the registry (at start, and when it changes): position properties and phones.

        A person already known keeps their presence: the kernel's state may already hold a
        position whose change is still on its way to :meth:`update`, and reading it here
        would swallow that change.
        """
        self._coordinates.clear()
        for device in self.kernel.registry.devices.values():
            iids = location_iids(device.spec)
            if iids is not None:
                self._coordinates[(device.did, *iids[0])] = "latitude"
                self._coordinates[(device.did, *iids[1])] = "longitude"
        zone = self.home_zone()
        states: dict[str, Presence | None] = {}
        phones: dict[str, str] = {}
        for person in self.kernel.registry.people.values():
            if person.home_id != self.home_id or person.phone_did is None:
                continue
            phones[person.id] = person.phone_did
            if self._phones.get(person.id) == person.phone_did and self._states.get(person.id) is not None:
                states[person.id] = self._states[person.id]
                continue
            position = self.position(person.phone_did)
            if zone is None or position is None:
                states[person.id] = None
            else:
                states[person.id] = "home" if zone.contains(*position) else "away"
        self._states = states
        self._phones = phones

    def home_zone(self) -> Zone | None:
        """The home zone, if the home has a location."""
        return home_zone(self.kernel.registry.homes.get(self.home_id))

    @property
    def coordinates(self) -> dict[tuple[str, int, int], Coordinate]:
        """Which ``(did, siid, piid)`` are a device's latitude or longitude (read-only)."""
        return self._coordinates

    def is_coordinate(self, did: str, siid: int, piid: int) -> bool:
        """Whether this property is a device's latitude or longitude."""
        return (did, siid, piid) in self._coordinates

    def position(self, did: str) -> tuple[float, float] | None:
        """The device's current position from the kernel's state, if both coordinates are known."""
        device = self.kernel.registry.devices.get(did)
        if device is None:
            return None
        iids = location_iids(device.spec)
        if iids is None:
            return None
        lat = self.kernel.state.get(did, *iids[0])
        lon = self.kernel.state.get(did, *iids[1])
        if lat is None or lon is None:
            return None
        return float(lat[0]), float(lon[0])

    def observe(self, did: str) -> tuple[float, float] | None:
        """A new fix of ``did`` after one of its coordinates changed, or ``None`` if it did not move.

        Reads both coordinates from the kernel's state, which already holds every value of
        the report being handled: a car reporting latitude and longitude together gives one
        fix at its new position, not a point halfway.
        """
        position = self.position(did)
        if position is None:
            return None
        first = self._joiner.update(did, "latitude", position[0])
        second = self._joiner.update(did, "longitude", position[1])
        return second or first

    def states(self) -> dict[str, Presence | None]:
        """Each person's presence (people of the home with a phone)."""
        return dict(self._states)

    def state(self, person_id: str) -> Presence | None:
        """One person's presence."""
        return self._states.get(person_id)

    def everyone(self, state: Presence) -> bool:
        """Whether every person whose whereabouts are known is ``state`` (false if nobody is known)."""
        known = [s for s in self._states.values() if s is not None]
        return bool(known) and all(s == state for s in known)

    def anyone(self, state: Presence) -> bool:
        """Whether at least one person is ``state``."""
        return any(s == state for s in self._states.values())

    def people_with_phone(self, did: str) -> list[str]:
        """The people whose phone this is."""
        return [pid for pid, phone in self._phones.items() if phone == did]

    def update(self, did: str, position: tuple[float, float]) -> list[PresenceChange]:
        """Apply a new fix of a phone; return the presence changes it makes."""
        zone = self.home_zone()
        if zone is None:
            return []
        new: Presence = "home" if zone.contains(*position) else "away"
        changes = []
        for pid in self.people_with_phone(did):
            old = self._states.get(pid)
            if old != new:
                self._states[pid] = new
                changes.append(PresenceChange(pid, old, new))
        return changes
