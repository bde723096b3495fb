"""Local time: times of day, weekdays and windows in the home's time zone (IANA, via zoneinfo).

Times are epoch seconds everywhere else in trilink; this module turns them into local wall
time and back. Daylight-saving changes follow one rule each:

- a local time that does not exist (the hour skipped in spring) happens at the first
  instant after the gap, the moment the clocks jump;
- a local time that exists twice (the hour repeated in autumn) happens once, the first time.

Windows compare wall-clock time: ``after`` is inclusive, ``before`` exclusive. A window
whose ``after`` is not before its ``before`` (22:00–06:00) crosses midnight and belongs to
the weekday it started on, so ``22:00–06:00 on fri`` includes Saturday 03:00.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

#: Weekday names, Monday first (``datetime.weekday()`` order).
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

#: A local time of day: hour, minute, second.
TimeOfDay = tuple[int, int, int]

_FULL_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_WORDS: dict[str, frozenset[int]] = {
    "workdays": frozenset(range(5)),
    "weekend": frozenset((5, 6)),
    "daily": frozenset(range(7)),
}
_DAY_NUMBERS = {name: i for names in (WEEKDAYS, _FULL_NAMES) for i, name in enumerate(names)}
_TIME = re.compile(r"^(\d{1,2}):(\d\d)(?::(\d\d))?$")
_WEEKDAYS_HINT = "use mon, tue, wed, thu, fri, sat, sun, a range such as mon-fri, workdays, weekend or daily"


@lru_cache(maxsize=64)
def zone(tz: str) -> ZoneInfo:
    """The IANA time zone ``tz``; ``ValueError`` if there is no such zone."""
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"{tz!r} is not a time zone; use an IANA name such as Asia/Shanghai or UTC"
        ) from None


def parse_weekdays(value: Any) -> frozenset[int]:
    """Weekdays as numbers, 0 = Monday, from ``mon``, ``monday``, ``mon-fri``, ``workdays``,
    ``weekend``, ``daily`` or a list of those."""
    items = value if isinstance(value, list | tuple) else [value]
    if not items:
        raise ValueError(f"no weekdays given; {_WEEKDAYS_HINT}")
    days: set[int] = set()
    for item in items:
        days |= _weekday_item(item)
    return frozenset(days)


def _weekday_item(item: Any) -> frozenset[int]:
    if not isinstance(item, str):
        raise ValueError(f"{item!r} is not a weekday; {_WEEKDAYS_HINT}")
    word = item.strip().lower()
    if word in _WORDS:
        return _WORDS[word]
    if word in _DAY_NUMBERS:
        return frozenset((_DAY_NUMBERS[word],))
    first, dash, last = word.partition("-")
    if dash and first.strip() in _DAY_NUMBERS and last.strip() in _DAY_NUMBERS:
        start, end = _DAY_NUMBERS[first.strip()], _DAY_NUMBERS[last.strip()]
        # fri-mon wraps over the weekend
        return frozenset((start + i) % 7 for i in range((end - start) % 7 + 1))
    raise ValueError(f"{item!r} is not a weekday; {_WEEKDAYS_HINT}")


def parse_time_of_day(text: Any) -> TimeOfDay:
    """``"07:00"`` or ``"7:05:30"`` as ``(hour, minute, second)``; ``ValueError`` if it is not one."""
    if not isinstance(text, str):
        raise ValueError(
            f'{text!r} is not a time of day; write it as text "HH:MM" or "HH:MM:SS", e.g. "07:00"'
        )
    match = _TIME.match(text.strip())
    if match is None:
        raise ValueError(f'{text!r} is not a time of day; use "HH:MM" or "HH:MM:SS", e.g. "07:00" or "23:30"')
    hour, minute, second = int(match.group(1)), int(match.group(2)), int(match.group(3) or 0)
    if hour > 23 or minute > 59 or second > 59:
        raise ValueError(f"{text!r} is not a time of day; hours go 0–23, minutes and seconds 0–59")
    return hour, minute, second


def next_time_of_day(after: float, at: TimeOfDay, weekdays: frozenset[int] | None, tz: str) -> float:
    """The first epoch time strictly after ``after`` that is ``at`` local time on one of ``weekdays``.

    ``weekdays=None`` means every day. See the module docstring for daylight-saving changes.
    """
    if weekdays is not None and not weekdays:
        raise ValueError("no weekdays given; the time would never come")
    zi = zone(tz)
    start = datetime.fromtimestamp(after, zi).date()
    # eight days always reach the next allowed weekday, even when today's time has passed
    for offset in range(9):
        day = start + timedelta(days=offset)
        if weekdays is not None and day.weekday() not in weekdays:
            continue
        candidate = local_to_epoch(day, at, tz)
        if candidate > after:
            return candidate
    raise AssertionError("unreachable: a week always contains an allowed day")


def local_to_epoch(day: date, at: TimeOfDay, tz: str) -> float:
    """The epoch time of local wall time ``at`` on ``day``: the first if it happens twice, the end of
    the gap if the clocks skip it."""
    zi = zone(tz)
    wall = datetime.combine(day, time(*at))
    first = wall.replace(tzinfo=zi, fold=0).timestamp()
    if _wall(first, zi) == wall:
        return first
    # in a gap: fold=1 reads the wall time with the offset from after the change, which lands
    # before the jump; fold=0 lands after it. The jump is the first instant whose wall time
    # has reached ``wall``; transitions are on whole seconds, so bisect on seconds.
    low = int(wall.replace(tzinfo=zi, fold=1).timestamp())
    high = int(first)
    if low > high:
        low, high = high, low
    while low < high:
        mid = (low + high) // 2
        if _wall(mid, zi) >= wall:
            high = mid
        else:
            low = mid + 1
    return float(low)


def _wall(ts: float, zi: ZoneInfo) -> datetime:
    return datetime.fromtimestamp(ts, zi).replace(tzinfo=None)


def in_time_window(
    ts: float,
    after: TimeOfDay | None,
    before: TimeOfDay | None,
    weekdays: frozenset[int] | None,
    tz: str,
) -> bool:
    """Whether ``ts`` is in the local window ``after``–``before`` on one of ``weekdays``.

    Either bound may be ``None`` (no bound on that side). A window crossing midnight counts
    on the weekday it started (see the module docstring).
    """
    local = datetime.fromtimestamp(ts, zone(tz))
    now = (local.hour, local.minute, local.second)
    weekday = local.weekday()
    if after is not None and before is not None and after >= before:
        if now >= after:
            inside = True
        elif now < before:
            inside, weekday = True, (weekday - 1) % 7
        else:
            inside = False
    else:
        inside = (after is None or now >= after) and (before is None or now < before)
    return inside and (weekdays is None or weekday in weekdays)


def local_time_text(ts: float, tz: str) -> str:
    """Local weekday and time for traces: ``Mon 07:00:00``."""
    local = datetime.fromtimestamp(ts, zone(tz))
    return f"{WEEKDAYS[local.weekday()].capitalize()} {local:%H:%M:%S}"
