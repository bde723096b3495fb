"""Durations and distances as people write them: ``10 min``, ``1 h 30 min``, ``00:10:00``, ``3 km``.

Durations (:func:`parse_duration`, in seconds):

- a number of seconds: ``90``, ``2.5`` (also as text, ``"90"``);
- numbers with units, largest first, each unit once: ``30 s``, ``10 min``, ``1 h 30 min``,
  ``1.5 h``, ``2 d 4 h`` (spaces optional: ``1h30min``). Units: ``s``/``sec``/``second``/
  ``seconds``, ``min``/``minute``/``minutes``, ``h``/``hr``/``hour``/``hours``,
  ``d``/``day``/``days``;
- a clock reading ``HH:MM`` or ``HH:MM:SS`` — hours first, so ``10:00`` is ten *hours*
  (write ``00:10:00`` or ``10 min`` for ten minutes);
- a mapping ``{days, hours, minutes, seconds}`` with any of those fields.

Durations are never negative; :func:`parse_offset` is the signed form for offsets such as
``-30 min`` before sunset. Distances (:func:`parse_distance`, in metres): a number of
metres, ``200 m``, ``3 km``, ``1.5 km``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

_UNITS: dict[str, float] = {
    **dict.fromkeys(("d", "day", "days"), 86_400.0),
    **dict.fromkeys(("h", "hr", "hour", "hours"), 3_600.0),
    **dict.fromkeys(("min", "minute", "minutes"), 60.0),
    **dict.fromkeys(("s", "sec", "second", "seconds"), 1.0),
}
_FIELDS: dict[str, float] = {"days": 86_400.0, "hours": 3_600.0, "minutes": 60.0, "seconds": 1.0}
_NUMBER = r"(?:\d+(?:\.\d*)?|\.\d+)"
_PLAIN = re.compile(rf"^{_NUMBER}$")
_CLOCK = re.compile(r"^(\d+):(\d\d)(?::(\d\d(?:\.\d+)?))?$")
_TERM = re.compile(rf"\s*({_NUMBER})\s*([A-Za-z]+)\s*,?")
_DISTANCE = re.compile(rf"^({_NUMBER})\s*([A-Za-z]*)$")
_DURATION_HINT = "use e.g. 30 s, 10 min, 1 h 30 min, 00:10:00"
_DISTANCE_HINT = "use e.g. 200 m, 3 km, 1.5 km or a number of metres"


def parse_duration(value: Any) -> float:
    """A duration in seconds (see the module docstring); ``ValueError`` says what to write instead."""
    if isinstance(value, bool):
        raise ValueError(f"{_shown(value)} is not a duration; {_DURATION_HINT}")
    if isinstance(value, int | float):
        return _non_negative(float(value), value)
    if isinstance(value, str):
        return _parse_text(value)
    if isinstance(value, Mapping):
        return _parse_fields(value)
    raise ValueError(f"{_shown(value)} is not a duration; {_DURATION_HINT}")


def parse_offset(value: Any) -> float:
    """A signed duration in seconds: ``-30 min``, ``+10 min``, ``-90``, or any :func:`parse_duration` form."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        if not math.isfinite(value):
            raise ValueError(
                f"{_shown(value)} is not an offset (it is not finite); use e.g. -30 min or 10 min"
            )
        return float(value)
    if isinstance(value, str):
        text = value.strip()
        if text[:1] in ("-", "+"):
            sign = -1.0 if text[0] == "-" else 1.0
            try:
                return sign * parse_duration(text[1:])
            except ValueError:
                raise ValueError(
                    f"{_shown(value)} is not an offset; use e.g. -30 min, +10 min, 1 h"
                ) from None
    return parse_duration(value)


def parse_distance(value: Any) -> float:
    """A distance in metres: a number of metres, ``200 m``, ``3 km``, ``1.5 km``."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        if not math.isfinite(value) or value < 0:
            raise ValueError(
                f"{_shown(value)} is not a distance (it must be a finite number ≥ 0); {_DISTANCE_HINT}"
            )
        return float(value)
    if isinstance(value, str):
        match = _DISTANCE.match(value.strip())
        if match:
            unit = match.group(2).lower()
            factor = {"": 1.0, "m": 1.0, "km": 1000.0}.get(unit)
            if factor is not None:
                return parse_distance(float(match.group(1)) * factor)
            raise ValueError(
                f"{_shown(value)} is not a distance (unknown unit {match.group(2)!r}); {_DISTANCE_HINT}"
            )
    raise ValueError(f"{_shown(value)} is not a distance; {_DISTANCE_HINT}")


def format_duration(seconds: float) -> str:
    """A duration for explanations: ``4 min 10 s``, ``1 h``, ``2.5 s`` (:func:`parse_duration` reads it)."""
    if not math.isfinite(seconds):
        raise ValueError(f"{seconds!r} is not a finite duration")
    sign = "-" if seconds < 0 else ""
    rest = abs(seconds)
    if rest < 59.995 and rest != int(rest):
        # under a minute, fractions matter ("0.25 s" delay); above, whole seconds read better
        return f"{sign}{rest:.2f}".rstrip("0").rstrip(".") + " s"
    total = round(rest)
    days, total = divmod(total, 86_400)
    hours, total = divmod(total, 3_600)
    minutes, secs = divmod(total, 60)
    parts = [f"{n} {unit}" for n, unit in ((days, "d"), (hours, "h"), (minutes, "min"), (secs, "s")) if n]
    return sign + (" ".join(parts) if parts else "0 s")


def _shown(value: Any) -> str:
    """``repr`` of a value for a message, cut short: the message must stay readable."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _non_negative(seconds: float, original: Any) -> float:
    if not math.isfinite(seconds):
        raise ValueError(f"{_shown(original)} is not a duration (it is not finite); {_DURATION_HINT}")
    if seconds < 0:
        raise ValueError(f"{_shown(original)} is not a duration (it is negative); {_DURATION_HINT}")
    return seconds


def _parse_text(value: str) -> float:
    text = value.strip()
    if _PLAIN.match(text):
        return _non_negative(float(text), value)
    clock = _CLOCK.match(text)
    if clock:
        hours, minutes, secs = int(clock.group(1)), int(clock.group(2)), float(clock.group(3) or 0)
        if minutes > 59 or secs >= 60:
            raise ValueError(
                f"{_shown(value)} is not a duration (minutes and seconds go up to 59); {_DURATION_HINT}"
            )
        return hours * 3600.0 + minutes * 60.0 + secs
    total, pos, last_size = 0.0, 0, math.inf
    while pos < len(text):
        term = _TERM.match(text, pos)
        if term is None:
            raise ValueError(f"{_shown(value)} is not a duration; {_DURATION_HINT}")
        unit = term.group(2).lower()
        size = _UNITS.get(unit)
        if size is None:
            raise ValueError(
                f"{_shown(value)} is not a duration (unknown unit {term.group(2)!r}); {_DURATION_HINT}"
            )
        if size >= last_size:
            raise ValueError(
                f"{_shown(value)} is not a duration (give each unit once, largest first: d, h, min, s); "
                f"{_DURATION_HINT}"
            )
        total += float(term.group(1)) * size
        pos, last_size = term.end(), size
    if pos == 0:
        raise ValueError(f"{_shown(value)} is not a duration; {_DURATION_HINT}")
    return _non_negative(total, value)


def _parse_fields(value: Mapping[Any, Any]) -> float:
    if not value:
        raise ValueError(f"{{}} is not a duration (give some of {', '.join(_FIELDS)}); {_DURATION_HINT}")
    total = 0.0
    for key, amount in value.items():
        size = _FIELDS.get(key) if isinstance(key, str) else None
        if size is None:
            raise ValueError(f"{key!r} is not a duration field; use {', '.join(_FIELDS)}")
        if isinstance(amount, bool) or not isinstance(amount, int | float):
            raise ValueError(f"{key}: {_shown(amount)} is not a number")
        if not math.isfinite(amount) or amount < 0:
            raise ValueError(f"{key}: {_shown(amount)} must be a finite number ≥ 0")
        total += amount * size
    return _non_negative(total, dict(value))
