"""Geography for the car: the commute between home and the office as lat/lon waypoints.

Distances use the haversine formula on a spherical Earth (good to ~0.3 %); each leg
has a speed limit, so the car's speed profile follows the road type.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

EARTH_RADIUS_M = 6_371_008.8

#: The home (People's Square, Shanghai) and the office (Zhangjiang, Pudong).
HOME = (31.2304, 121.4737)
OFFICE = (31.2040, 121.5900)

#: The commute, home → office, with the speed limit (km/h) of the leg *ending* at each point.
COMMUTE: tuple[tuple[float, float, float], ...] = (
    (HOME[0], HOME[1], 0.0),
    (31.2331, 121.4842, 40.0),  # city streets to the elevated road
    (31.2372, 121.5010, 60.0),  # Yan'an elevated road
    (31.2335, 121.5180, 50.0),  # river tunnel
    (31.2248, 121.5402, 70.0),  # Century Avenue
    (31.2152, 121.5617, 80.0),  # expressway
    (31.2085, 121.5795, 60.0),
    (OFFICE[0], OFFICE[1], 40.0),  # campus roads
)


def distance_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance between two (lat, lon) points, metres."""
    lat1, lon1, lat2, lon2 = map(math.radians, (a[0], a[1], b[0], b[1]))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(h))


def bearing_deg(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Initial compass bearing from a to b, degrees in [0, 360)."""
    lat1, lon1, lat2, lon2 = map(math.radians, (a[0], a[1], b[0], b[1]))
    y = math.sin(lon2 - lon1) * math.cos(lat2)
    x = math.cos(lat1) * math.sin(lat2) - math.sin(lat1) * math.cos(lat2) * math.cos(lon2 - lon1)
    return math.degrees(math.atan2(y, x)) % 360.0


def offset(point: tuple[float, float], north_m: float, east_m: float) -> tuple[float, float]:
    """The point ``north_m`` metres north and ``east_m`` metres east of ``point``."""
    lat = point[0] + math.degrees(north_m / EARTH_RADIUS_M)
    lon = point[1] + math.degrees(east_m / (EARTH_RADIUS_M * math.cos(math.radians(point[0]))))
    return lat, lon


@dataclass(frozen=True, slots=True)
class Leg:
    """A straight stretch of road between two waypoints."""

    start: tuple[float, float]
    end: tuple[float, float]
    length_m: float
    limit_ms: float  # speed limit, m/s
    heading: float


class Route:
    """A polyline of legs with positions looked up by distance along it."""

    def __init__(self, points: tuple[tuple[float, float, float], ...]) -> None:
        if len(points) < 2:
            raise ValueError("a route needs at least two points")
        legs = []
        for a, b in itertools.pairwise(points):
            start, end = (a[0], a[1]), (b[0], b[1])
            legs.append(Leg(start, end, distance_m(start, end), b[2] / 3.6, bearing_deg(start, end)))
        self.legs = tuple(legs)
        self.length_m = sum(leg.length_m for leg in legs)

    def reversed(self) -> Route:
        """The same road driven the other way (each leg keeps its speed limit)."""
        last = self.legs[-1].end
        points = [(last[0], last[1], 0.0)]
        points += [(leg.start[0], leg.start[1], leg.limit_ms * 3.6) for leg in reversed(self.legs)]
        return Route(tuple(points))

    def locate(self, s: float) -> tuple[Leg, float]:
        """The leg at distance ``s`` metres along the route and the distance left on that leg."""
        for leg in self.legs:
            if s < leg.length_m:
                return leg, leg.length_m - s
            s -= leg.length_m
        return self.legs[-1], 0.0

    def position(self, s: float) -> tuple[float, float]:
        """(lat, lon) at ``s`` metres along the route (linear within a leg)."""
        leg, left = self.locate(min(max(s, 0.0), self.length_m))
        f = 1.0 - left / leg.length_m if leg.length_m else 1.0
        return leg.start[0] + f * (leg.end[0] - leg.start[0]), leg.start[1] + f * (leg.end[1] - leg.start[1])


TO_OFFICE = Route(COMMUTE)
TO_HOME = TO_OFFICE.reversed()
