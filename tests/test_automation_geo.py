"""Distances, zones, direction of movement and joining latitude/longitude into fixes."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trilink.automation.geo import (
    DEAD_BAND_M,
    DEFAULT_ZONE_RADIUS_M,
    EARTH_RADIUS_M,
    MotionTracker,
    PositionJoiner,
    Zone,
    distance_m,
    home_zone,
    parse_zone,
)

HOME = (31.2304, 121.4737)
OFFICE = (31.2040, 121.5900)
METRES_PER_DEGREE_LAT = math.pi * EARTH_RADIUS_M / 180

latitudes = st.floats(-90, 90)
longitudes = st.floats(-180, 180)


def north_of(point: tuple[float, float], metres: float) -> tuple[float, float]:
    return point[0] + metres / METRES_PER_DEGREE_LAT, point[1]


def test_known_distances() -> None:
    assert distance_m(0, 0, 0, 1) == pytest.approx(2 * math.pi * EARTH_RADIUS_M / 360)
    assert distance_m(90, 0, -90, 0) == pytest.approx(math.pi * EARTH_RADIUS_M)
    assert distance_m(0, 0, 0, 180) == pytest.approx(math.pi * EARTH_RADIUS_M)
    assert distance_m(*HOME, *HOME) == 0
    # the simulated commute is 12 km by road; in a straight line a little less
    assert 11_000 < distance_m(*HOME, *OFFICE) < 11_800
    # Paris to London, about 344 km
    assert distance_m(48.8566, 2.3522, 51.5074, -0.1278) == pytest.approx(343_500, rel=0.01)


@given(latitudes, longitudes, latitudes, longitudes)
def test_distance_is_a_metric_on_the_sphere(lat1: float, lon1: float, lat2: float, lon2: float) -> None:
    d = distance_m(lat1, lon1, lat2, lon2)
    assert 0 <= d <= math.pi * EARTH_RADIUS_M + 1e-6
    assert d == pytest.approx(distance_m(lat2, lon2, lat1, lon1), abs=1e-6)


@given(latitudes, longitudes, latitudes, longitudes, latitudes, longitudes)
def test_triangle_inequality(a: float, b: float, c: float, d: float, e: float, f: float) -> None:
    # floating point: allow a few parts per billion of the sum (a centimetre near the antipode)
    total = distance_m(a, b, c, d) + distance_m(c, d, e, f)
    assert distance_m(a, b, e, f) <= total * (1 + 5e-9) + 1e-3


def test_zone_contains() -> None:
    home = home_zone(*HOME)
    assert home == Zone("home", "Home", *HOME, DEFAULT_ZONE_RADIUS_M)
    assert home.radius_m == 150
    assert home.contains(*HOME)
    assert home.contains(*north_of(HOME, 149))
    assert not home.contains(*north_of(HOME, 151))
    assert not home.contains(*OFFICE)
    assert home.distance_to(*north_of(HOME, 100)) == pytest.approx(100)


def test_parse_zone() -> None:
    zone = parse_zone(
        {"id": "work", "name": "Office", "latitude": 31.2397, "longitude": 121.4998, "radius": "200 m"}
    )
    assert zone == Zone("work", "Office", 31.2397, 121.4998, 200.0)
    assert parse_zone({"id": "gym", "latitude": 1, "longitude": 2}) == Zone("gym", "gym", 1.0, 2.0, 150.0)
    assert parse_zone({"id": "city", "latitude": 1, "longitude": 2, "radius": "1.5 km"}).radius_m == 1500
    assert parse_zone({"id": "c", "latitude": 1, "longitude": 2, "radius": 75}).radius_m == 75


@pytest.mark.parametrize(
    ("data", "words"),
    [
        ([], "a zone is a mapping"),
        (None, "a zone is a mapping"),
        ({"id": "w", "latitude": 1, "longitude": 2, "radus": 5}, "unknown zone field 'radus'"),
        ({"latitude": 1, "longitude": 2}, "id: None is not a zone id"),
        ({"id": "Work Place", "latitude": 1, "longitude": 2}, "id: 'Work Place' is not a zone id"),
        ({"id": 5, "latitude": 1, "longitude": 2}, "id: 5"),
        ({"id": "w", "name": "", "latitude": 1, "longitude": 2}, "name: '' is not a name"),
        ({"id": "w", "name": 3, "latitude": 1, "longitude": 2}, "name: 3"),
        ({"id": "w", "longitude": 2}, "latitude: missing"),
        ({"id": "w", "latitude": 1}, "longitude: missing"),
        ({"id": "w", "latitude": 91, "longitude": 2}, "latitude: 91 is outside -90..90"),
        ({"id": "w", "latitude": 1, "longitude": -180.5}, "longitude: -180.5 is outside -180..180"),
        ({"id": "w", "latitude": "31.2", "longitude": 2}, "latitude: '31.2' is not a number"),
        ({"id": "w", "latitude": True, "longitude": 2}, "latitude: True is not a number"),
        ({"id": "w", "latitude": math.nan, "longitude": 2}, "latitude: nan is not a number"),
        (
            {"id": "w", "latitude": 1, "longitude": 2, "radius": "3 miles"},
            "radius: '3 miles' is not a distance",
        ),
        (
            {"id": "w", "latitude": 1, "longitude": 2, "radius": 0},
            "radius: a zone's radius must be more than 0",
        ),
        ({"id": "w", "latitude": 1, "longitude": 2, "radius": -5}, "radius: -5 is not a distance"),
    ],
)
def test_bad_zones(data: Any, words: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_zone(data)
    assert words in str(info.value)


# --- movement --------------------------------------------------------------------------------


def test_first_fix_is_still_with_no_history() -> None:
    motion = MotionTracker().update("car", *OFFICE, 0.0, home_zone(*HOME))
    assert motion.direction == "still"
    assert motion.previous_distance_m is None
    assert motion.speed_mps is None
    assert motion.distance_m == pytest.approx(distance_m(*HOME, *OFFICE))


def test_driving_home_is_towards_and_leaving_is_away() -> None:
    home, tracker = home_zone(*HOME), MotionTracker()
    tracker.update("car", *north_of(HOME, 3000), 0.0, home)
    motion = tracker.update("car", *north_of(HOME, 2800), 10.0, home)
    assert motion.direction == "towards"
    assert motion.previous_distance_m == pytest.approx(3000)
    assert motion.distance_m == pytest.approx(2800)
    assert motion.speed_mps == pytest.approx(20.0)
    motion = tracker.update("car", *north_of(HOME, 3100), 25.0, home)
    assert motion.direction == "away"
    assert motion.speed_mps == pytest.approx(300 / 15)


def test_gps_jitter_is_still() -> None:
    home, tracker = home_zone(*HOME), MotionTracker()
    tracker.update("phone", *north_of(HOME, 1000), 0.0, home)
    for i, wobble in enumerate([12, -8, 15, -15, 5, 0, -12, 9]):
        motion = tracker.update("phone", *north_of(HOME, 1000 + wobble), 10.0 * (i + 1), home)
        assert motion.direction == "still", (wobble, motion)


def test_a_slow_approach_adds_up_beyond_the_dead_band() -> None:
    home, tracker = home_zone(*HOME), MotionTracker()
    tracker.update("walker", *north_of(HOME, 1000), 0.0, home)
    directions = [
        tracker.update("walker", *north_of(HOME, 1000 - 8 * i), 10.0 * i, home).direction for i in range(1, 8)
    ]
    # 8 m per fix: still, still, then towards at 24 m, and again from there
    assert directions == ["still", "still", "towards", "still", "still", "towards", "still"]


def test_moving_around_the_zone_is_still() -> None:
    home, tracker = home_zone(0.0, 0.0), MotionTracker()
    # along a circle of ~1 km around the centre
    tracker.update("car", 0.009, 0.0, 0.0, home)
    assert tracker.update("car", 0.0, 0.009, 60.0, home).direction == "still"


def test_tracks_are_per_subject_and_zone_and_can_be_forgotten() -> None:
    home, office = home_zone(*HOME), Zone("work", "Office", *OFFICE, 200)
    tracker = MotionTracker()
    tracker.update("car", *north_of(HOME, 500), 0.0, home)
    tracker.update("car", *north_of(HOME, 500), 0.0, office)
    tracker.update("phone", *north_of(HOME, 500), 0.0, home)
    moved = north_of(HOME, 400)
    assert tracker.update("car", *moved, 10.0, home).direction == "towards"
    assert tracker.update("car", *moved, 10.0, office).direction in ("towards", "away")
    tracker.forget("car")
    assert tracker.update("car", *moved, 20.0, home).previous_distance_m is None
    assert tracker.update("phone", *moved, 20.0, home).previous_distance_m == pytest.approx(500)
    tracker.forget("nobody")


def test_speed_is_unknown_without_elapsed_time() -> None:
    home, tracker = home_zone(*HOME), MotionTracker()
    tracker.update("car", *north_of(HOME, 500), 10.0, home)
    assert tracker.update("car", *north_of(HOME, 400), 10.0, home).speed_mps is None
    assert tracker.update("car", *north_of(HOME, 300), 5.0, home).speed_mps is None


@given(st.lists(st.floats(0, 5000), min_size=2, max_size=20), st.floats(1, 100))
def test_direction_follows_the_distance_beyond_the_dead_band(distances: list[float], band: float) -> None:
    home, tracker = home_zone(0.0, 0.0), MotionTracker(dead_band_m=band)
    anchor = distances[0]
    tracker.update("s", *north_of((0.0, 0.0), distances[0]), 0.0, home)
    for i, d in enumerate(distances[1:], start=1):
        motion = tracker.update("s", *north_of((0.0, 0.0), d), float(i), home)
        change = anchor - motion.distance_m
        if abs(change) >= band + 1e-6:
            assert motion.direction == ("towards" if change > 0 else "away")
            anchor = motion.distance_m
        elif abs(change) < band - 1e-6:
            assert motion.direction == "still"
        else:
            anchor = motion.distance_m if motion.direction != "still" else anchor


def test_default_dead_band() -> None:
    assert DEAD_BAND_M == 20
    assert MotionTracker().dead_band_m == 20


# --- joining latitude and longitude --------------------------------------------------------------


def test_joiner_waits_for_both_coordinates() -> None:
    joiner = PositionJoiner()
    assert joiner.update("car", "latitude", 31.0) is None
    assert joiner.update("car", "longitude", 121.0) == (31.0, 121.0)


def test_joiner_gives_a_fix_when_either_changes_and_none_when_nothing_did() -> None:
    joiner = PositionJoiner()
    joiner.update("car", "latitude", 31.0)
    joiner.update("car", "longitude", 121.0)
    assert joiner.update("car", "latitude", 31.0) is None  # a full report repeating the value
    assert joiner.update("car", "longitude", 121.0) is None
    assert joiner.update("car", "latitude", 31.1) == (31.1, 121.0)
    assert joiner.update("car", "longitude", 121.2) == (31.1, 121.2)


def test_joiner_keeps_devices_apart_and_forgets() -> None:
    joiner = PositionJoiner()
    joiner.update("car", "latitude", 31.0)
    assert joiner.update("phone", "longitude", 121.0) is None
    assert joiner.update("car", "longitude", 122.0) == (31.0, 122.0)
    joiner.forget("car")
    assert joiner.update("car", "latitude", 31.0) is None
    joiner.forget("unknown")


def test_joiner_refuses_other_coordinates() -> None:
    with pytest.raises(ValueError, match="not a coordinate"):
        PositionJoiner().update("car", "altitude", 3.0)  # type: ignore[arg-type]
