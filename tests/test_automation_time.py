"""Durations and distances, local time (weekdays, windows, DST) and the sun."""

from __future__ import annotations

import math
from datetime import date, datetime, time, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trilink.automation import sun as sun_module
from trilink.automation.durations import format_duration, parse_distance, parse_duration, parse_offset
from trilink.automation.schedule import (
    WEEKDAYS,
    in_time_window,
    local_time_text,
    local_to_epoch,
    next_time_of_day,
    parse_time_of_day,
    parse_weekdays,
    zone,
)
from trilink.automation.sun import (
    is_after_sun_event,
    next_sun_event,
    sun_event_time,
    sun_window,
)

SHANGHAI = (31.2304, 121.4737, "Asia/Shanghai")
TROMSO = (69.6492, 18.9553, "Europe/Oslo")
ZONES = (
    "Asia/Shanghai",
    "Europe/Berlin",
    "America/New_York",
    "Australia/Lord_Howe",
    "America/Sao_Paulo",
    "UTC",
)
HINT = "use e.g. 30 s, 10 min, 1 h 30 min, 00:10:00"


def at(tz: str, year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> float:
    """Epoch time of a local wall time (first occurrence)."""
    return datetime(year, month, day, hour, minute, second, tzinfo=zone(tz)).timestamp()


def local(ts: float, tz: str) -> datetime:
    return datetime.fromtimestamp(ts, zone(tz))


# --- durations ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        (0, 0.0),
        (90, 90.0),
        (2.5, 2.5),
        ("90", 90.0),
        ("30 s", 30.0),
        ("30s", 30.0),
        ("45 sec", 45.0),
        ("1 second", 1.0),
        ("20 seconds", 20.0),
        ("10 min", 600.0),
        ("1 minute", 60.0),
        ("5 minutes", 300.0),
        ("2 h", 7200.0),
        ("1.5 h", 5400.0),
        ("3 hr", 10800.0),
        ("1 hour", 3600.0),
        ("2 hours", 7200.0),
        ("1 d", 86400.0),
        ("2 days", 172800.0),
        ("1 h 30 min", 5400.0),
        ("1h30min", 5400.0),
        ("1 h, 30 min", 5400.0),
        ("1 d 2 h 3 min 4 s", 93784.0),
        ("10 MIN", 600.0),
        ("00:10:00", 600.0),
        ("10:00", 36000.0),
        ("7:05", 25500.0),
        ("0:00:01.5", 1.5),
        ("25:00", 90000.0),
        ({"hours": 1, "minutes": 30}, 5400.0),
        ({"seconds": 2.5}, 2.5),
        ({"days": 1, "hours": 0, "minutes": 0, "seconds": 0}, 86400.0),
    ],
)
def test_parse_duration(value: Any, seconds: float) -> None:
    assert parse_duration(value) == pytest.approx(seconds)


def test_the_documented_bad_duration_message() -> None:
    with pytest.raises(ValueError) as info:
        parse_duration("10 mins")
    assert str(info.value).startswith("'10 mins' is not a duration")
    assert str(info.value).endswith(HINT)


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("10 mins", "unknown unit 'mins'"),
        ("3 weeks", "unknown unit 'weeks'"),
        ("30 min 1 h", "largest first"),
        ("1 h 1 h", "largest first"),
        ("10:61", "go up to 59"),
        ("1:00:60", "go up to 59"),
        ("", "is not a duration"),
        ("   ", "is not a duration"),
        ("soon", "is not a duration"),
        ("min", "is not a duration"),
        ("1.2.3 h", "is not a duration"),
        ("-5 min", "is not a duration"),
        (-5, "negative"),
        (math.inf, "not finite"),
        (math.nan, "not finite"),
        ("9" * 400, "not finite"),
        (True, "is not a duration"),
        (None, "is not a duration"),
        ([10], "is not a duration"),
        ({}, "give some of days, hours, minutes, seconds"),
        ({"hour": 1}, "'hour' is not a duration field"),
        ({"hours": "1"}, "hours: '1' is not a number"),
        ({"hours": True}, "is not a number"),
        ({"minutes": -1}, "finite number ≥ 0"),
    ],
)
def test_bad_durations(value: Any, words: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_duration(value)
    assert words in str(info.value)


def test_long_values_are_cut_in_messages() -> None:
    with pytest.raises(ValueError) as info:
        parse_duration("x" * 1000)
    assert len(str(info.value)) < 200


@pytest.mark.parametrize(
    ("value", "seconds"),
    [("-30 min", -1800.0), ("+10 min", 600.0), ("- 1 h", -3600.0), (-90, -90.0), ("1 h", 3600.0), (0, 0.0)],
)
def test_parse_offset(value: Any, seconds: float) -> None:
    assert parse_offset(value) == seconds


@pytest.mark.parametrize("value", ["--5 min", "-", "+soon", math.nan, True, "-10 mins"])
def test_bad_offsets(value: Any) -> None:
    with pytest.raises(ValueError, match=r"is not an offset|is not a duration"):
        parse_offset(value)


@pytest.mark.parametrize(
    ("value", "metres"),
    [
        (200, 200.0),
        (0, 0.0),
        (2.5, 2.5),
        ("200 m", 200.0),
        ("200m", 200.0),
        ("3 km", 3000.0),
        ("1.5 km", 1500.0),
    ],
)
def test_parse_distance(value: Any, metres: float) -> None:
    assert parse_distance(value) == metres


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("3 miles", "unknown unit 'miles'"),
        ("km", "is not a distance"),
        ("", "is not a distance"),
        (-1, "≥ 0"),
        (math.inf, "≥ 0"),
        (True, "is not a distance"),
        (None, "is not a distance"),
        ("-3 km", "is not a distance"),
    ],
)
def test_bad_distances(value: Any, words: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_distance(value)
    assert words in str(info.value)
    assert "use e.g. 200 m, 3 km" in str(info.value)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0 s"),
        (250, "4 min 10 s"),
        (60, "1 min"),
        (3600, "1 h"),
        (5400, "1 h 30 min"),
        (90061, "1 d 1 h 1 min 1 s"),
        (0.25, "0.25 s"),
        (2.5, "2.5 s"),
        (59.999, "1 min"),
        (-30, "-30 s"),
        (600.4, "10 min"),
    ],
)
def test_format_duration(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text


def test_format_duration_refuses_infinity() -> None:
    with pytest.raises(ValueError):
        format_duration(math.inf)


@given(st.floats(min_value=0, max_value=10 * 365 * 86400))
def test_format_duration_reads_back(seconds: float) -> None:
    back = parse_duration(format_duration(seconds))
    assert abs(back - seconds) <= (0.0051 if seconds < 60 else 0.5)


@given(
    st.integers(0, 30), st.integers(0, 23), st.integers(0, 59), st.integers(0, 59), st.sampled_from([" ", ""])
)
def test_unit_and_clock_forms_agree(d: int, h: int, m: int, s: int, sep: str) -> None:
    total = d * 86400 + h * 3600 + m * 60 + s
    parts = [f"{n}{sep}{u}" for n, u in ((d, "d"), (h, "h"), (m, "min"), (s, "s")) if n]
    if parts:
        assert parse_duration(" ".join(parts)) == total
    assert parse_duration(f"{d * 24 + h:02d}:{m:02d}:{s:02d}") == total
    assert parse_duration({"days": d, "hours": h, "minutes": m, "seconds": s}) == total


@given(st.text(max_size=30))
def test_any_text_is_a_duration_or_a_clear_error(text: str) -> None:
    try:
        assert parse_duration(text) >= 0
    except ValueError as err:
        assert "is not a duration" in str(err)


# --- weekdays and times of day -------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "days"),
    [
        ("mon", {0}),
        ("Sunday", {6}),
        (["mon", "wed", "fri"], {0, 2, 4}),
        ("workdays", {0, 1, 2, 3, 4}),
        ("weekend", {5, 6}),
        ("daily", set(range(7))),
        (["weekend", "mon"], {0, 5, 6}),
        ("mon-fri", {0, 1, 2, 3, 4}),
        ("fri-mon", {4, 5, 6, 0}),
        ("sun-sun", {6}),
        (("TUE",), {1}),
    ],
)
def test_parse_weekdays(value: Any, days: set[int]) -> None:
    assert parse_weekdays(value) == frozenset(days)


@pytest.mark.parametrize("value", ["tues", "", "mon-", "mon-xyz", 1, None, [], ["mon", 2], {"mon": 1}])
def test_bad_weekdays(value: Any) -> None:
    with pytest.raises(ValueError) as info:
        parse_weekdays(value)
    assert "mon, tue, wed, thu, fri, sat, sun" in str(info.value)


def test_weekday_names() -> None:
    assert WEEKDAYS == ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@pytest.mark.parametrize(
    ("text", "parsed"),
    [("07:00", (7, 0, 0)), ("7:05:30", (7, 5, 30)), ("23:59:59", (23, 59, 59)), (" 0:00 ", (0, 0, 0))],
)
def test_parse_time_of_day(text: str, parsed: tuple[int, int, int]) -> None:
    assert parse_time_of_day(text) == parsed


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("24:00", "hours go 0–23"),
        ("07:60", "minutes and seconds 0–59"),
        ("7", "HH:MM"),
        ("7:5", "HH:MM"),
        ("07:00 pm", "HH:MM"),
        ("", "HH:MM"),
        (420, "write it as text"),
        (None, "write it as text"),
    ],
)
def test_bad_times_of_day(value: Any, words: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_time_of_day(value)
    assert words in str(info.value)


def test_unknown_time_zone() -> None:
    with pytest.raises(ValueError, match="not a time zone"):
        next_time_of_day(0, (7, 0, 0), None, "Mars/Olympus")
    with pytest.raises(ValueError, match="not a time zone"):
        local_time_text(0, "../etc/passwd")


# --- next time of day --------------------------------------------------------------------------


def test_next_time_later_today_and_tomorrow() -> None:
    tz = "Asia/Shanghai"
    now = at(tz, 2026, 7, 6, 6, 0)  # a Monday
    assert next_time_of_day(now, (7, 0, 0), None, tz) == at(tz, 2026, 7, 6, 7, 0)
    assert next_time_of_day(at(tz, 2026, 7, 6, 7, 0), (7, 0, 0), None, tz) == at(tz, 2026, 7, 7, 7, 0)
    assert next_time_of_day(at(tz, 2026, 7, 6, 8, 0), (7, 0, 0), None, tz) == at(tz, 2026, 7, 7, 7, 0)


def test_next_time_skips_to_allowed_weekdays() -> None:
    tz = "Asia/Shanghai"
    friday_evening = at(tz, 2026, 7, 10, 20, 0)
    assert next_time_of_day(friday_evening, (7, 0, 0), parse_weekdays("workdays"), tz) == at(
        tz, 2026, 7, 13, 7, 0
    )
    assert next_time_of_day(friday_evening, (7, 0, 0), parse_weekdays("weekend"), tz) == at(
        tz, 2026, 7, 11, 7, 0
    )
    sunday_late = at(tz, 2026, 7, 12, 23, 0)
    assert next_time_of_day(sunday_late, (22, 0, 0), frozenset({6}), tz) == at(tz, 2026, 7, 19, 22, 0)


def test_next_time_needs_a_weekday() -> None:
    with pytest.raises(ValueError, match="no weekdays"):
        next_time_of_day(0, (7, 0, 0), frozenset(), "UTC")


def test_spring_forward_gap_fires_when_the_clocks_jump() -> None:
    tz = "Europe/Berlin"  # 2026-03-29: 02:00 CET becomes 03:00 CEST
    first = next_time_of_day(at(tz, 2026, 3, 28, 12, 0), (2, 30, 0), None, tz)
    assert first == datetime(2026, 3, 29, 1, 0, tzinfo=zone("UTC")).timestamp()
    assert local(first, tz).strftime("%H:%M") == "03:00"
    second = next_time_of_day(first, (2, 30, 0), None, tz)
    assert local(second, tz).replace(tzinfo=None) == datetime(2026, 3, 30, 2, 30)
    # times outside the gap are not moved
    assert local(next_time_of_day(first, (3, 0, 0), None, tz), tz).day == 30


def test_fall_back_repeated_hour_fires_once_the_first_time() -> None:
    tz = "America/New_York"  # 2026-11-01: 02:00 EDT becomes 01:00 EST
    first = next_time_of_day(at(tz, 2026, 10, 31, 12, 0), (1, 30, 0), None, tz)
    assert first == datetime(2026, 11, 1, 5, 30, tzinfo=zone("UTC")).timestamp()  # 01:30 EDT
    second = next_time_of_day(first, (1, 30, 0), None, tz)
    # not 01:30 EST an hour later: the next day
    assert local(second, tz).replace(tzinfo=None) == datetime(2026, 11, 2, 1, 30)


def test_a_skipped_day_resolves_to_the_jump() -> None:
    # Samoa skipped 30 December 2011 entirely
    ts = local_to_epoch(date(2011, 12, 30), (7, 0, 0), "Pacific/Apia")
    assert local(ts, "Pacific/Apia").replace(tzinfo=None) == datetime(2011, 12, 31, 0, 0)


def _offsets_near(ts: float, tz: str) -> set[float]:
    out = set()
    for hours in range(-30, 31):
        offset = local(ts + hours * 3600, tz).utcoffset()
        assert offset is not None
        out.add(offset.total_seconds())
    return out


def _transitions(tz: str) -> list[int]:
    """The instants the zone's UTC offset changes, 2024–2029."""
    found = []
    day = int(datetime(2024, 1, 1, tzinfo=zone("UTC")).timestamp())
    while day < datetime(2029, 1, 1, tzinfo=zone("UTC")).timestamp():
        if local(day, tz).utcoffset() != local(day + 86400, tz).utcoffset():
            low, high = day, day + 86400
            while low < high:
                mid = (low + high) // 2
                if local(mid, tz).utcoffset() == local(day, tz).utcoffset():
                    low = mid + 1
                else:
                    high = mid
            found.append(low)
        day += 86400
    return found


TRANSITIONS = {tz: _transitions(tz) for tz in ZONES}


@st.composite
def schedules(draw: st.DrawFn) -> tuple[float, tuple[int, int, int], str]:
    """``after``, a time of day and a zone; half of them in the days before a DST change, at a time
    of day that the change skips or repeats."""
    tz = draw(st.sampled_from(ZONES))
    if TRANSITIONS[tz] and draw(st.booleans()):
        jump = draw(st.sampled_from(TRANSITIONS[tz]))
        before, after_jump = local(jump - 1, tz).replace(tzinfo=None), local(jump, tz).replace(tzinfo=None)
        first = min(before + timedelta(seconds=1), after_jump)
        span = abs((after_jump - before - timedelta(seconds=1)).total_seconds())
        moment = first + timedelta(seconds=draw(st.integers(0, int(span) - 1)))
        start = jump - draw(st.integers(0, 3 * 86400))
        return start, (moment.hour, moment.minute, moment.second), tz
    start = draw(st.integers(1_600_000_000, 1_900_000_000))
    return start, (draw(st.integers(0, 23)), draw(st.integers(0, 59)), draw(st.integers(0, 59))), tz


@settings(max_examples=500, deadline=None)
@given(schedules(), st.none() | st.frozensets(st.integers(0, 6), min_size=1))
def test_next_time_of_day_properties(
    case: tuple[float, tuple[int, int, int], str], weekdays: frozenset[int] | None
) -> None:
    after, time_of_day, tz = case
    result = next_time_of_day(after, time_of_day, weekdays, tz)
    assert after < result <= after + 8 * 86400 + 7200
    wall = local(result, tz).replace(tzinfo=None)

    def target_on(day: date) -> datetime:
        return datetime.combine(day, time(*time_of_day))

    if wall == target_on(wall.date()):
        day = wall.date()
        # the first occurrence: no earlier instant shows the same wall time
        for offset in _offsets_near(result, tz):
            earlier = wall.replace(tzinfo=zone("UTC")).timestamp() - offset
            assert earlier >= result or local(earlier, tz).replace(tzinfo=None) != wall
    else:
        # the wanted time was skipped: this is the instant the clocks jumped over it
        just_before = local(result - 1, tz).replace(tzinfo=None)
        skipped = [d for d in {just_before.date(), wall.date()} if just_before < target_on(d) < wall]
        assert len(skipped) == 1, (just_before, wall)
        day = skipped[0]
    assert weekdays is None or day.weekday() in weekdays
    # nothing earlier qualifies: the time on the allowed day before it was not after `after`
    for back in range(1, 9):
        earlier_day = day - timedelta(days=back)
        if weekdays is None or earlier_day.weekday() in weekdays:
            assert local_to_epoch(earlier_day, time_of_day, tz) <= after
            break


# --- time windows ------------------------------------------------------------------------------


def test_window_within_a_day() -> None:
    tz = "Asia/Shanghai"
    window = ((9, 0, 0), (17, 0, 0))
    assert in_time_window(at(tz, 2026, 7, 6, 9, 0), *window, None, tz)
    assert in_time_window(at(tz, 2026, 7, 6, 16, 59, 59), *window, None, tz)
    assert not in_time_window(at(tz, 2026, 7, 6, 17, 0), *window, None, tz)
    assert not in_time_window(at(tz, 2026, 7, 6, 8, 59, 59), *window, None, tz)


def test_window_crossing_midnight_belongs_to_the_day_it_started() -> None:
    tz = "Asia/Shanghai"
    night = ((22, 0, 0), (6, 0, 0))
    friday = frozenset({4})
    assert in_time_window(at(tz, 2026, 7, 10, 23, 0), *night, friday, tz)  # Friday 23:00
    assert in_time_window(at(tz, 2026, 7, 11, 3, 0), *night, friday, tz)  # Saturday 03:00
    assert not in_time_window(at(tz, 2026, 7, 10, 3, 0), *night, friday, tz)  # Friday 03:00: Thursday's night
    assert not in_time_window(at(tz, 2026, 7, 11, 12, 0), *night, None, tz)
    assert in_time_window(at(tz, 2026, 7, 11, 5, 59, 59), *night, None, tz)
    assert not in_time_window(at(tz, 2026, 7, 11, 6, 0), *night, None, tz)


def test_window_with_one_side_or_weekdays_only() -> None:
    tz = "Asia/Shanghai"
    ts = at(tz, 2026, 7, 6, 12, 0)  # Monday noon
    assert in_time_window(ts, (7, 0, 0), None, None, tz)
    assert not in_time_window(ts, (13, 0, 0), None, None, tz)
    assert in_time_window(ts, None, (13, 0, 0), None, tz)
    assert not in_time_window(ts, None, (12, 0, 0), None, tz)
    assert in_time_window(ts, None, None, frozenset({0}), tz)
    assert not in_time_window(ts, None, None, parse_weekdays("weekend"), tz)
    assert in_time_window(ts, None, None, None, tz)


def test_equal_bounds_mean_the_whole_day() -> None:
    tz = "UTC"
    for hour in range(24):
        assert in_time_window(at(tz, 2026, 7, 6, hour, 0), (8, 0, 0), (8, 0, 0), None, tz)
    assert in_time_window(at(tz, 2026, 7, 6, 7, 0), (8, 0, 0), (8, 0, 0), frozenset({6}), tz)  # Sunday's
    assert not in_time_window(at(tz, 2026, 7, 6, 9, 0), (8, 0, 0), (8, 0, 0), frozenset({6}), tz)


times_of_day = st.tuples(st.integers(0, 23), st.integers(0, 59), st.integers(0, 59))


@settings(max_examples=500)
@given(
    st.floats(1_600_000_000, 1_900_000_000),
    st.none() | times_of_day,
    st.none() | times_of_day,
    st.none() | st.frozensets(st.integers(0, 6)),
    st.sampled_from(ZONES),
)
def test_window_matches_its_definition(
    ts: float,
    after: tuple[int, int, int] | None,
    before: tuple[int, int, int] | None,
    weekdays: frozenset[int] | None,
    tz: str,
) -> None:
    # the definition: the wall time lies in [start, start + length) for a start on an allowed day
    now = local(ts, tz).replace(tzinfo=None, microsecond=0)
    expected = False
    for back in (0, 1):
        day = now.date() - timedelta(days=back)
        if weekdays is not None and day.weekday() not in weekdays:
            continue
        midnight = datetime.combine(day, datetime.min.time())
        start = (
            midnight + timedelta(hours=after[0], minutes=after[1], seconds=after[2]) if after else midnight
        )
        if before is None:
            end = midnight + timedelta(days=1)
        else:
            end = midnight + timedelta(hours=before[0], minutes=before[1], seconds=before[2])
            if after is not None and end <= start:
                end += timedelta(days=1)
        if back == 1 and (after is None or before is None):
            continue  # only windows with both bounds reach into the next day
        expected = expected or start <= now < end
    assert in_time_window(ts, after, before, weekdays, tz) == expected


def test_local_time_text() -> None:
    assert local_time_text(at("Asia/Shanghai", 2026, 7, 6, 7, 0), "Asia/Shanghai") == "Mon 07:00:00"
    assert local_time_text(at("UTC", 2026, 7, 12, 23, 5, 9), "UTC") == "Sun 23:05:09"


# --- the sun -----------------------------------------------------------------------------------


def test_shanghai_midsummer_sunrise_and_sunset() -> None:
    day = date(2026, 6, 21)
    rise = sun_event_time("sunrise", day, *SHANGHAI)
    down = sun_event_time("sunset", day, *SHANGHAI)
    assert rise is not None and down is not None
    assert abs(rise - at("Asia/Shanghai", 2026, 6, 21, 4, 50)) < 180
    assert abs(down - at("Asia/Shanghai", 2026, 6, 21, 19, 1)) < 180


def test_london_midwinter_sunrise_and_sunset() -> None:
    london = (51.5074, -0.1278, "Europe/London")
    rise = sun_event_time("sunrise", date(2026, 12, 21), *london)
    down = sun_event_time("sunset", date(2026, 12, 21), *london)
    assert rise is not None and down is not None
    assert abs(rise - at("Europe/London", 2026, 12, 21, 8, 4)) < 180
    assert abs(down - at("Europe/London", 2026, 12, 21, 15, 53)) < 180


def test_the_event_is_on_the_local_day_asked_for() -> None:
    # Auckland is UTC+13 in January: its sunset is on the previous UTC day
    auckland = (-36.8485, 174.7633, "Pacific/Auckland")
    down = sun_event_time("sunset", date(2026, 1, 10), *auckland)
    assert down is not None
    assert local(down, auckland[2]).date() == date(2026, 1, 10)
    assert 20 <= local(down, auckland[2]).hour <= 21


def test_polar_day_and_night() -> None:
    assert sun_event_time("sunrise", date(2026, 6, 21), *TROMSO) is None
    assert sun_event_time("sunset", date(2026, 6, 21), *TROMSO) is None
    assert sun_event_time("sunrise", date(2026, 12, 21), *TROMSO) is None
    june_midnight = at(TROMSO[2], 2026, 6, 21, 0, 30)
    assert is_after_sun_event(june_midnight, "sunrise", *TROMSO)
    assert not is_after_sun_event(june_midnight, "sunset", *TROMSO)
    december_noon = at(TROMSO[2], 2026, 12, 21, 12, 0)
    assert not is_after_sun_event(december_noon, "sunrise", *TROMSO)
    assert is_after_sun_event(december_noon, "sunset", *TROMSO)
    dark = (("sunset", 0.0), ("sunrise", 0.0))
    assert not sun_window(june_midnight, *dark, *TROMSO)
    assert sun_window(december_noon, *dark, *TROMSO)


def test_next_sunset_after_the_midnight_sun() -> None:
    after = at(TROMSO[2], 2026, 6, 21, 12, 0)
    down = next_sun_event("sunset", after, *TROMSO)
    assert date(2026, 7, 20) <= local(down, TROMSO[2]).date() <= date(2026, 8, 1)


def test_next_sun_event_today_tomorrow_and_offsets() -> None:
    tz = SHANGHAI[2]
    down_today = sun_event_time("sunset", date(2026, 6, 21), *SHANGHAI)
    down_tomorrow = sun_event_time("sunset", date(2026, 6, 22), *SHANGHAI)
    assert down_today is not None and down_tomorrow is not None
    assert next_sun_event("sunset", at(tz, 2026, 6, 21, 12, 0), *SHANGHAI) == down_today
    assert next_sun_event("sunset", down_today, *SHANGHAI) == down_tomorrow  # strictly after
    assert (
        next_sun_event("sunset", at(tz, 2026, 6, 21, 18, 40), *SHANGHAI, offset=-1800) == down_tomorrow - 1800
    )
    assert next_sun_event("sunset", at(tz, 2026, 6, 21, 18, 20), *SHANGHAI, offset=-1800) == down_today - 1800
    assert next_sun_event("sunset", at(tz, 2026, 6, 21, 19, 20), *SHANGHAI, offset=1800) == down_today + 1800
    # with a large negative offset, today's sunrise shifted into yesterday has passed already
    rise_tomorrow = sun_event_time("sunrise", date(2026, 6, 22), *SHANGHAI)
    assert rise_tomorrow is not None
    midnight = at(tz, 2026, 6, 21, 0, 0)
    assert next_sun_event("sunrise", midnight, *SHANGHAI, offset=-6 * 3600) == rise_tomorrow - 6 * 3600
    # and a large positive one finds yesterday's sunset shifted past midnight
    down_yesterday = sun_event_time("sunset", date(2026, 6, 20), *SHANGHAI)
    assert down_yesterday is not None
    assert next_sun_event("sunset", midnight, *SHANGHAI, offset=6 * 3600) == down_yesterday + 6 * 3600


def test_next_sun_event_gives_up_when_it_never_happens(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sun_module, "_event_time", lambda *args: None)
    with pytest.raises(ValueError, match=r"no sunrise .* in the next 370 days"):
        next_sun_event("sunrise", 1_800_000_000, *TROMSO)


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("noon", 1.0, 1.0), "not a sun event"),
        (("sunrise", 91.0, 1.0), "latitude"),
        (("sunrise", 1.0, -181.0), "longitude"),
        (("sunrise", math.nan, 1.0), "latitude"),
    ],
)
def test_bad_sun_arguments(args: tuple[Any, float, float], words: str) -> None:
    event, lat, lon = args
    with pytest.raises(ValueError, match=words):
        next_sun_event(event, 0, lat, lon, "UTC")
    with pytest.raises(ValueError, match=words):
        is_after_sun_event(0, event, lat, lon, "UTC")
    with pytest.raises(ValueError, match="finite"):
        next_sun_event("sunset", 0, 1.0, 1.0, "UTC", offset=math.inf)


@settings(max_examples=150, deadline=None)
@given(
    st.floats(1_700_000_000, 1_900_000_000),
    st.floats(-3 * 3600, 3 * 3600),
    st.sampled_from(["sunrise", "sunset"]),
)
def test_next_sun_event_is_the_first_after(after: float, offset: float, event: Any) -> None:
    result = next_sun_event(event, after, *SHANGHAI, offset=offset)
    assert result > after
    event_time = result - offset
    day = local(event_time, SHANGHAI[2]).date()
    assert sun_event_time(event, day, *SHANGHAI) == pytest.approx(event_time)
    previous = sun_event_time(event, day - timedelta(days=1), *SHANGHAI)
    assert previous is not None and previous + offset <= after


def test_after_sunset_and_before_sunrise() -> None:
    tz = SHANGHAI[2]
    assert is_after_sun_event(at(tz, 2026, 6, 21, 19, 30), "sunset", *SHANGHAI)
    assert not is_after_sun_event(at(tz, 2026, 6, 21, 18, 30), "sunset", *SHANGHAI)
    assert is_after_sun_event(at(tz, 2026, 6, 21, 18, 40), "sunset", *SHANGHAI, offset=-1800)
    assert not is_after_sun_event(at(tz, 2026, 6, 21, 4, 0), "sunrise", *SHANGHAI)
    assert is_after_sun_event(at(tz, 2026, 6, 21, 5, 0), "sunrise", *SHANGHAI)


@pytest.mark.parametrize(
    ("hour", "minute", "night", "day"),
    [
        (3, 0, True, False),
        (5, 0, False, True),
        (12, 0, False, True),
        (18, 50, False, True),
        (20, 0, True, False),
    ],
)
def test_sun_windows(hour: int, minute: int, night: bool, day: bool) -> None:
    ts = at(SHANGHAI[2], 2026, 6, 21, hour, minute)
    assert sun_window(ts, ("sunset", 0.0), ("sunrise", 0.0), *SHANGHAI) is night
    assert sun_window(ts, ("sunrise", 0.0), ("sunset", 0.0), *SHANGHAI) is day
    assert sun_window(ts, None, None, *SHANGHAI)
    assert sun_window(ts, ("sunrise", 0.0), None, *SHANGHAI) is (hour >= 5)
    assert sun_window(ts, None, ("sunrise", 0.0), *SHANGHAI) is (hour < 4)


def test_sun_window_with_offsets() -> None:
    tz = SHANGHAI[2]
    # from half an hour before sunset (18:31) to an hour after sunrise (05:50)
    window = (("sunset", -1800.0), ("sunrise", 3600.0))
    assert sun_window(at(tz, 2026, 6, 21, 18, 40), *window, *SHANGHAI)
    assert sun_window(at(tz, 2026, 6, 21, 5, 40), *window, *SHANGHAI)
    assert not sun_window(at(tz, 2026, 6, 21, 6, 0), *window, *SHANGHAI)
    assert not sun_window(at(tz, 2026, 6, 21, 18, 20), *window, *SHANGHAI)
    # an hour around sunrise, both bounds on the same event
    around = (("sunrise", -1800.0), ("sunrise", 1800.0))
    assert sun_window(at(tz, 2026, 6, 21, 4, 40), *around, *SHANGHAI)
    assert not sun_window(at(tz, 2026, 6, 21, 5, 30), *around, *SHANGHAI)
    assert not sun_window(at(tz, 2026, 6, 21, 12, 0), *around, *SHANGHAI)
