"""Places: distances on the Earth, zones, and which way a moving subject is heading.

Distances are great-circle distances on a sphere of the Earth's mean radius (haversine):
within 0.5 % of the ellipsoid, far below GPS noise at the scale of zones.

A subject's direction relative to a zone (``towards``, ``away``, ``still``) comes from the
change in its distance to the zone, with a dead-band: a change of less than
:data:`DEAD_BAND_M` counts as ``still``, so the jitter of a phone lying on a table does
not turn into movement. Small steps add up: the distance is compared with the last fix
that counted as movement, so a slow approach still shows as ``towards`` once it has
covered the dead-band.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from trilink.automation.durations import parse_distance

#: Mean Earth radius (IUGG), metres.
EARTH_RADIUS_M = 6_371_008.8
#: The radius of the home zone and the default radius of a zone.
DEFAULT_ZONE_RADIUS_M = 150.0
#: A change of distance smaller than this between fixes is not movement.
DEAD_BAND_M = 20.0

Direction = Literal["towards", "away", "still"]

_SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
_ZONE_FIELDS = ("id", "name", "latitude", "longitude", "radius")


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres between two points given in degrees."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi = phi2 - phi1
    dlambda = math.radians(lon2 - lon1)
    h = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    # min() keeps rounding from pushing asin out of its domain for antipodal points
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


@dataclass(frozen=True, slots=True)
class Zone:
    """A circle on the map: a place such as home or work."""

    id: str
    name: str
    latitude: float
    longitude: float
    radius_m: float

    def distance_to(self, latitude: float, longitude: float) -> float:
        """Metres from the zone's centre to a point."""
        return distance_m(self.latitude, self.longitude, latitude, longitude)

    def contains(self, latitude: float, longitude: float) -> bool:
        """Whether the point is inside the zone (on the edge counts as inside)."""
        return self.distance_to(latitude, longitude) <= self.radius_m


def home_zone(latitude: float, longitude: float, radius_m: float = DEFAULT_ZONE_RADIUS_M) -> Zone:
    """The ``home`` zone every home has: its location, radius 150 m."""
    return Zone("home", "Home", latitude, longitude, radius_m)


def parse_zone(data: Any) -> Zone:
    """A zone from its definition ``{id, name, latitude, longitude, radius}``.

    ``name`` defaults to the id, ``radius`` to 150 m (any :func:`parse_distance` form).
    ``ValueError`` names the field that is wrong.
    """
    if not isinstance(data, Mapping):
        raise ValueError(f"a zone is a mapping with {', '.join(_ZONE_FIELDS)}; got {data!r}")
    unknown = [str(k) for k in data if k not in _ZONE_FIELDS]
    if unknown:
        raise ValueError(f"unknown zone field {unknown[0]!r}; allowed: {', '.join(_ZONE_FIELDS)}")
    zone_id = data.get("id")
    if not isinstance(zone_id, str) or not _SLUG.match(zone_id):
        raise ValueError(
            f"id: {zone_id!r} is not a zone id; use lower-case letters, digits, '-' and '_', e.g. work"
        )
    name = data.get("name", zone_id)
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"name: {name!r} is not a name; give the zone a non-empty text name")
    latitude = _coordinate(data, "latitude", 90.0)
    longitude = _coordinate(data, "longitude", 180.0)
    try:
        radius = parse_distance(data.get("radius", DEFAULT_ZONE_RADIUS_M))
    except ValueError as exc:
        raise ValueError(f"radius: {exc}") from None
    if radius <= 0:
        raise ValueError("radius: a zone's radius must be more than 0 m")
    return Zone(zone_id, name.strip(), latitude, longitude, radius)


def _coordinate(data: Mapping[Any, Any], field: str, limit: float) -> float:
    if field not in data:
        raise ValueError(f"{field}: missing; a zone needs a latitude and a longitude in degrees")
    value = data[field]
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{field}: {value!r} is not a number of degrees")
    if not -limit <= value <= limit:
        raise ValueError(f"{field}: {value!r} is outside -{limit:g}..{limit:g}")
    return float(value)


@dataclass(frozen=True, slots=True)
class Motion:
    """Where a subject is relative to a zone, and which way it is going.

    ``previous_distance_m`` is the distance at the previous fix (``None`` for the first);
    ``speed_mps`` is the ground speed between the two fixes (``None`` if unknown).
    """

    distance_m: float
    previous_distance_m: float | None
    direction: Direction
    speed_mps: float | None


@dataclass(slots=True)
class _Track:
    latitude: float
    longitude: float
    ts: float
    distance_m: float
    # the distance at the last fix that counted as movement: the dead-band is measured from here
    anchor_m: float


class MotionTracker:
    """Classifies each new fix of a subject as moving towards, away from or still near a zone.

    Keeps the last fix per (subject, zone); a subject is any key (a did, a person's id).
    """

    def __init__(self, dead_band_m: float = DEAD_BAND_M) -> None:
        self.dead_band_m = dead_band_m
        self._tracks: dict[tuple[str, str], _Track] = {}

    def update(self, key: str, latitude: float, longitude: float, ts: float, target: Zone) -> Motion:
        """Record a fix of ``key`` at time ``ts`` and say how it moved relative to ``target``."""
        distance = target.distance_to(latitude, longitude)
        track = self._tracks.get((key, target.id))
        if track is None:
            self._tracks[key, target.id] = _Track(latitude, longitude, ts, distance, distance)
            return Motion(distance, None, "still", None)
        previous = track.distance_m
        elapsed = ts - track.ts
        speed = (
            distance_m(track.latitude, track.longitude, latitude, longitude) / elapsed
            if elapsed > 0
            else None
        )
        change = track.anchor_m - distance
        direction: Direction = "still"
        if abs(change) >= self.dead_band_m:
            direction = "towards" if change > 0 else "away"
            track.anchor_m = distance
        track.latitude, track.longitude, track.ts, track.distance_m = latitude, longitude, ts, distance
        return Motion(distance, previous, direction, speed)

    def forget(self, key: str) -> None:
        """Drop every fix of ``key`` (it went away, or its automation was removed)."""
        for track_key in [k for k in self._tracks if k[0] == key]:
            del self._tracks[track_key]


class PositionJoiner:
    """Joins latitude and longitude, which devices report as two properties, into fixes.

    A fix is given once both are known, each time one of them changes. When both change
    in one report, the first update gives a fix with the old value of the other: a point
    between the old and the new position, followed at once by the right one.
    """

    def __init__(self) -> None:
        self._known: dict[str, dict[str, float]] = {}

    def update(
        self, did: str, which: Literal["latitude", "longitude"], value: float
    ) -> tuple[float, float] | None:
        """Record one coordinate of ``did``; return ``(latitude, longitude)`` if this makes a new fix."""
        if which not in ("latitude", "longitude"):
            raise ValueError(f"{which!r} is not a coordinate; use latitude or longitude")
        known = self._known.setdefault(did, {})
        changed = known.get(which) != value
        known[which] = value
        if not changed or len(known) < 2:
            return None
        return known["latitude"], known["longitude"]

    def forget(self, did: str) -> None:
        """Drop what is known of ``did``."""
        self._known.pop(did, None)
