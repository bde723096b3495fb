"""Sunrise and sunset at the home's location, for sun triggers and conditions (astral).

"Sunrise" and "sunset" are the moments the sun's upper edge crosses the horizon, with
atmospheric refraction, as astral computes them. Days are local days in the home's time
zone. Far north or south the sun may not rise or set on a day (polar day, polar night):
:func:`sun_event_time` then gives ``None``, triggers wait for the next day it happens, and
conditions follow the sky — during polar day it is always after sunrise and never after
sunset, during polar night the other way round.

Conditions compare with the day of the instant asked about: *after sunset* holds from
today's sunset to midnight, *before sunrise* from midnight to today's sunrise, and a
window from sunset to sunrise crosses midnight, as a time window does.
"""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Literal

from astral import Observer
from astral.sun import elevation, noon, sunrise, sunset

from trilink.automation.schedule import zone

#: The two sun events.
SunEvent = Literal["sunrise", "sunset"]
#: One side of a sun window: an event and an offset in seconds (``("sunset", -1800.0)``).
SunBound = tuple[SunEvent, float]

#: How far :func:`next_sun_event` looks ahead: a polar night is shorter than this.
SEARCH_DAYS = 370
# The sun's centre at -0.833° (radius plus refraction) is astral's sunrise/sunset
_HORIZON_DEG = -0.833
_NOMINAL: dict[str, float] = {"sunrise": 6 * 3600.0, "sunset": 18 * 3600.0}


def sun_event_time(event: SunEvent, day: date, latitude: float, longitude: float, tz: str) -> float | None:
    """Epoch time of ``event`` on local ``day`` at the place, or ``None`` if it does not happen that day."""
    _check(event, latitude, longitude)
    return _event_time(event, day, latitude, longitude, tz)


@lru_cache(maxsize=4096)
def _event_time(event: SunEvent, day: date, latitude: float, longitude: float, tz: str) -> float | None:
    observer = Observer(latitude, longitude)
    compute = sunrise if event == "sunrise" else sunset
    try:
        return compute(observer, day, zone(tz)).timestamp()
    except ValueError:
        # astral's way of saying the sun stays above or below the horizon all day
        return None


def next_sun_event(
    event: SunEvent, after: float, latitude: float, longitude: float, tz: str, offset: float = 0.0
) -> float:
    """The first ``event`` time plus ``offset`` seconds strictly after ``after``.

    Looks up to :data:`SEARCH_DAYS` days ahead; ``ValueError`` if the event does not happen
    in that time.
    """
    _check(event, latitude, longitude)
    if not math.isfinite(offset):
        raise ValueError(f"the offset must be a finite number of seconds, got {offset!r}")
    # an offset of more than a day moves the event into another day's search
    back = 1 + math.ceil(abs(offset) / 86_400)
    start = datetime.fromtimestamp(after, zone(tz)).date() - timedelta(days=back)
    for n in range(SEARCH_DAYS + 2 * back):
        at = _event_time(event, start + timedelta(days=n), latitude, longitude, tz)
        if at is not None and at + offset > after:
            return at + offset
    raise ValueError(
        f"there is no {event} at latitude {latitude}, longitude {longitude} in the next {SEARCH_DAYS} days"
    )


def is_after_sun_event(
    ts: float, event: SunEvent, latitude: float, longitude: float, tz: str, offset: float = 0.0
) -> bool:
    """Whether ``ts`` is at or after today's ``event`` plus ``offset`` (today: the local day of ``ts``)."""
    _check(event, latitude, longitude)
    day = datetime.fromtimestamp(ts, zone(tz)).date()
    at = _event_time(event, day, latitude, longitude, tz)
    if at is None:
        up = _sun_up_all_day(day, latitude, longitude, tz)
        return up if event == "sunrise" else not up
    return ts >= at + offset


def sun_window(
    ts: float,
    after: SunBound | None,
    before: SunBound | None,
    latitude: float,
    longitude: float,
    tz: str,
) -> bool:
    """Whether ``ts`` is after ``after`` and before ``before`` (either may be ``None``).

    When ``after`` comes later in the day than ``before`` (after sunset, before sunrise)
    the window crosses midnight: it holds after ``after`` *or* before ``before``.
    """
    if after is None and before is None:
        return True
    if after is None:
        assert before is not None
        return not is_after_sun_event(ts, before[0], latitude, longitude, tz, before[1])
    is_after = is_after_sun_event(ts, after[0], latitude, longitude, tz, after[1])
    if before is None:
        return is_after
    is_before = not is_after_sun_event(ts, before[0], latitude, longitude, tz, before[1])
    day = datetime.fromtimestamp(ts, zone(tz)).date()
    after_at = _event_time(after[0], day, latitude, longitude, tz)
    before_at = _event_time(before[0], day, latitude, longitude, tz)
    if after_at is None or before_at is None:
        # an event that does not happen today has no time to order by: use a typical day's
        after_at, before_at = _NOMINAL[after[0]], _NOMINAL[before[0]]
    if after_at + after[1] < before_at + before[1]:
        return is_after and is_before
    return is_after or is_before


def _sun_up_all_day(day: date, latitude: float, longitude: float, tz: str) -> bool:
    observer = Observer(latitude, longitude)
    return float(elevation(observer, noon(observer, day, zone(tz)))) > _HORIZON_DEG


def _check(event: str, latitude: float, longitude: float) -> None:
    if event not in ("sunrise", "sunset"):
        raise ValueError(f"{event!r} is not a sun event; use sunrise or sunset")
    if not -90.0 <= latitude <= 90.0:
        raise ValueError(f"latitude {latitude!r} is outside -90..90")
    if not -180.0 <= longitude <= 180.0:
        raise ValueError(f"longitude {longitude!r} is outside -180..180")
