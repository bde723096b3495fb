"""Automations in words: "when I get home after dark, turn on the hallway light".

A request is an automation when it says *when* (a trigger, with a word that makes it a
condition: "when", "时", "たら", or "every day" for times) and *what* (a command). The
result is one ``automation`` intent::

    Intent("automation", values={
        "definition": {"id": …, "name": …, "triggers": […], "conditions": […]},
        "then": [Intent(…), …],   # the actions, as intents: the planner makes them actions
    })

The definition follows the automation engine's YAML schema (docs/automations.md),
without ``actions``. Triggers understood:

* arriving home / leaving home → ``presence`` (``to: home`` / ``away``);
* a time of day, with "every day", "workdays"/"工作日"/"平日", "weekends" → ``time``;
* sunset / sunrise ("天黑了就…", "日が暮れたら") → ``sun``; "after dark" next to another
  trigger is a ``sun`` condition (after sunset, before sunrise);
* "when the temperature (humidity) in <room> is above/below N" → ``property`` on the
  room's sensor (else its AC);
* "when my alarm goes off" → ``event`` ``alarm-clock.alarm-ringing`` of the phone;
* "when the car is within 3 km of home" → ``proximity`` towards ``home``.

**Who "I" is.** Presence needs a person: a person named in the condition; else the
``speaker`` given to the engine; else the home's only person, or its only person with a
phone (presence follows phones); else ``anyone`` — "when I get home" then fires for
whoever arrives, which is the closest reading that never misses the speaker.

A request with a trigger that cannot be built (an alarm but no phone) is ``unknown``:
the engine must not do its action now instead.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import replace
from typing import Any, Final

from trilink.copilot.commands import clause_intents
from trilink.copilot.intent import Intent
from trilink.copilot.numbers import cjk_number
from trilink.copilot.wording import Mark, Reading

_MARKER: Final = re.compile(
    r"\b(?:when(?:ever)?|if|once|as soon as|every ?time|each time|after|every|daily|each)\b"
    r"|\bat (?:sunset|sundown|dusk|nightfall|sunrise|dawn|daybreak)\b"
    r"|时|的时候|后|以后|之后|就|每次|每当|如果|要是|假如|一旦|当|每天|每晚|每周|工作日|的话|天天"
    r"|たら|時|とき|際|れば|毎日|毎朝|毎晩|平日|なら|ったら"
)
_REPEAT: Final = re.compile(
    r"\bevery\s*(?:day|morning|evening|night|weekday|workday|week ?day|work ?day|weekend)\b|\bdaily\b"
    r"|\beach (?:day|morning|evening|night)\b|\bon (?:weekdays|workdays|weekends|week ?days|work ?days)\b"
    r"|\bweekdays\b|\bweeknights\b|\bweekends\b|\bworkdays\b"
    r"|每天|每日|天天|每晚|每早|工作日|周一到周五|周末|双休日|每个工作日|上班的日子|平时|每周末"
    r"|毎日|毎朝|毎晩|平日|週末|土日|毎週末|月曜から金曜"
)
_WORKDAYS: Final = re.compile(
    r"weekday|workday|week day|work day|weeknight|工作日|周一到周五|上班的日子|平日|月曜から金曜"
)
_WEEKEND: Final = re.compile(r"weekend|周末|双休日|週末|土日")

_ARRIVE: Final = re.compile(
    r"\b(?:get|gets|got|come|comes|arrive|arrives|walk|walks|pull|pulls)\s+(?:back\s+)?(?:home|in the door)\b"
    r"|\barriv\w*\s+(?:at\s+)?home\b|\b(?:get|gets|come|comes) back\b|\bback home\b"
    r"|\b(?:am|is|are|'m|'re) home\b"
    r"|回到家|到家|回家|进门|到了家|进家门|回来"
    r"|帰宅|家に(?:着|つ)い|帰って(?:き|来)|帰ったら|帰ってくる"
)
_LEAVE: Final = re.compile(
    r"\b(?:leave|leaves|left)\s+(?:the\s+)?(?:home|house)\b|\b(?:leave|leaves|go out|goes out|head out)\b"
    r"|\bnobody(?:'s| is) (?:home|left)\b|\bno one(?:'s| is) (?:home|left)\b|\bthe house is empty\b"
    r"|\beveryone(?:'s| has)? (?:left|gone|out)\b|\b(?:am|is|are) away\b"
    r"|出门|离开家|离家|都走了|没人在家|家里没人|不在家"
    r"|出かけ|家を出|外出|留守|誰もいなくなっ|みんな出かけ"
)
_EVERYONE: Final = re.compile(
    r"\b(?:everyone|everybody|nobody|no one|we all|all of us)\b|都走了|没人|大家|所有人|誰も|みんな"
)
_SUNSET: Final = re.compile(
    r"\bat (?:sunset|sundown|dusk|nightfall)\b|\bwhen (?:it gets|it's getting|it becomes) dark\b"
    r"|\bwhen the sun (?:sets|goes down)\b|\bonce it(?:'s| gets) dark\b|\bafter dark\b|\bafter sunset\b"
    r"|\bif it'?s dark(?: outside)?\b|\bwhen it'?s dark(?: outside)?\b|\bat night\b"
    r"|日落|天黑|太阳下山|夜里|晚上"
    r"|日没|日が(?:沈|暮)|暗くなっ|日の入り|暗い(?:時|とき)|暗かったら|夜(?:に|なら|の間)"
)
_SUNRISE: Final = re.compile(
    r"\bat (?:sunrise|dawn|daybreak)\b|\bwhen the sun (?:rises|comes up)\b|\bwhen it gets light\b"
    r"|日出|天亮|日の出|夜が明け|明るくなったら"
)
_NUM: Final = r"(?:\d{1,2}|[零一二两三四五六七八九十]{1,3})"
#: an hour: "一" only after a part of the day ("下午一点"), else "一点" is "a bit"
_HOUR: Final = r"(?:\d{1,2}|十[一二]?|[两二三四五六七八九]|(?<=[上午晚晨里间夜中])\s*一)"
_TIME: Final = re.compile(
    r"\b(?:at|by)\s+(?P<eh>\d{1,2})(?::(?P<em>\d{2}))?\s*(?P<eap>am|pm|a\.m\.|p\.m\.|o'?clock)?(?![\d:])"
    r"|\b(?P<bh>\d{1,2})(?::(?P<bm>\d{2}))?\s*(?P<bap>am|pm)\b"
    r"|\bat (?P<noon>noon|midnight)\b"
    rf"|(?P<zpd>早上|早晨|上午|中午|下午|傍晚|晚上|夜里|夜间|凌晨|半夜)?\s*(?P<zh>{_HOUR})\s*[点:](?:(?P<zhalf>半)"
    rf"|(?P<zq>一刻|三刻)|(?P<zm>{_NUM})\s*分?)?"
    rf"|(?P<jpd>朝|午前|昼|午後|夕方|夜|夜中|深夜)?\s*(?P<jh>{_HOUR})\s*時(?![間停])(?:(?P<jhalf>半)|(?P<jm>{_NUM})\s*分)?"
    r"|\b(?P<ch>\d{1,2}):(?P<cm>\d{2})\b"
)
_PM_PERIODS: Final = frozenset({"下午", "傍晚", "晚上", "夜里", "夜间", "午後", "夕方", "夜"})
_NIGHT: Final = frozenset({"凌晨", "半夜", "夜中", "深夜", "晚上", "夜里", "夜"})
_EVENING: Final = re.compile(r"晚|晩|夕|night|evening")
_PM_AFTER: Final = re.compile(r"^\s*(?:in the (?:evening|afternoon)|at night|tonight)\b")
_ABOVE: Final = re.compile(
    r"\b(?:above|over|higher than|more than|exceeds?|hotter than|warmer than|beyond)\b"
    r"|超过|高于|大于|到了|达到|超出|高过|以上|を超え|より高|を上回|以上に"
)
_BELOW: Final = re.compile(
    r"\b(?:below|under|lower than|less than|colder than|cooler than|drops? (?:to|below))\b"
    r"|低于|小于|不到|跌破|降到|低过|以下|を下回|未満|より低|を切"
)
_METRIC: Final = re.compile(
    r"(?P<hum>\bhumidity\b|\bhumid\b|湿度)|(?P<temp>\btemp(?:erature)?\b|\bdegrees\b|\bhot\b|\bcold\b|\bwarm\b|温度|室温|气温|気温)"
)
_ALARM: Final = re.compile(
    r"\b(?:my |the )?alarm(?: clock)?\s+(?:goes off|go off|rings|ring|sounds|sound|goes)\b"
    r"|闹钟(?:一)?响|闹铃(?:一)?响|(?:アラーム|目覚まし|目覚まし時計)が?(?:鳴っ|鳴る|なっ|鳴り)"
)
_NEAR: Final = re.compile(
    r"\bwithin\s+(?P<en>[\d.]+)\s*(?P<eu>km|kilometers?|kilometres?|m|meters?|metres?|miles?)\s+(?:of|from)\s+"
    r"(?:home|the house)\b"
    rf"|(?:离家|距离家|离我家)(?:还有|不到)?\s*(?P<zh>[\d.]+|{_NUM})\s*(?P<zu>公里|千米|km|米)"
    rf"|家(?:から|まで)(?:あと)?\s*(?P<ja>[\d.]+|{_NUM})\s*(?P<ju>キロ|km|メートル|m)"
)
#: words between a condition and its action: "…, then", "…时", "…たら"
_JOIN_AFTER: Final = re.compile(
    r"^(?:[\s,，、]|的时候|时候|时|的话|以后|之后|后|就|便|then|たら|ったら|ら|時に|ときに|とき|時は|には|に|は|で)*"
)


def understand(reading: Reading, speaker: str | None) -> Intent | None:
    """The automation a request describes, ``Intent("unknown")`` if it cannot be built, else ``None``."""
    text = reading.named
    if not _MARKER.search(text) and not _REPEAT.search(text):
        return None
    found: list[tuple[int, int, str, re.Match[str]]] = []
    for kind, pattern in (
        ("alarm", _ALARM),
        ("near", _NEAR),
        ("repeat", _REPEAT),
        ("time", _TIME),
        ("arrive", _ARRIVE),
        ("leave", _LEAVE),
        ("sunrise", _SUNRISE),
        ("sunset", _SUNSET),
    ):
        for m in pattern.finditer(text):
            if not any(lo < m.end() and m.start() < hi for lo, hi, _, _ in found):
                found.append((m.start(), m.end(), kind, m))
    threshold = _threshold(reading)
    if threshold is not None:
        found = [f for f in found if not (f[0] < threshold[1] and threshold[0] < f[1])]
        found.append((threshold[0], threshold[1], "threshold", threshold[2]))
    kinds = {f[2] for f in found}
    if "time" in kinds and "repeat" not in kinds and not (kinds - {"time", "repeat", "sunset", "sunrise"}):
        return None  # a time without "every day": once, which an automation cannot say
    if not kinds - {"repeat"}:
        return None
    if not _MARKER.search(text) and not ("time" in kinds and "repeat" in kinds):
        return None
    found.sort()
    lo, hi = found[0][0], max(f[1] for f in found)
    hi += _JOIN_AFTER.match(text[hi:]).end()  # type: ignore[union-attr]
    after, _ = clause_intents(reading, hi, len(text))
    before: list[Intent] = []
    if not after:
        before, _ = clause_intents(reading, 0, lo)
    then = after or before
    if not then:
        return None
    cond_marks = [
        m for m in reading.marks if lo <= m.start < hi or (m.kind == "person" and lo - 24 <= m.start < lo)
    ]
    built = _build(reading, found, cond_marks, speaker)
    if built is None:
        return Intent("unknown")
    triggers, conditions, room = built
    if room is not None:
        then = [_with_room(i, room) for i in then]
    definition: dict[str, Any] = {"triggers": triggers, "conditions": conditions}
    digest = hashlib.sha1(
        json.dumps([definition, reading.text], sort_keys=True, ensure_ascii=False).encode(),
        usedforsecurity=False,
    ).hexdigest()[:8]
    name = " ".join(reading.original.split())[:80]
    definition = {"id": f"copilot-{digest}", "name": name, **definition}
    return Intent("automation", values={"definition": definition, "then": then})


def _with_room(intent: Intent, room: str) -> Intent:
    """An action without a place happens where the condition is ("卧室超过28度就开空调")."""
    t = intent.target
    if t.names or t.rooms or t.everything or "car" in t.kinds or not t.kinds:
        return intent
    return replace(intent, target=replace(t, rooms=(room,)))


def _threshold(reading: Reading) -> tuple[int, int, re.Match[str]] | None:
    """A "temperature above N" condition: its span (from the metric or room to the number)."""
    text = reading.named
    for pattern in (_ABOVE, _BELOW):
        for m in pattern.finditer(text):
            number = next(
                (
                    n
                    for n in reading.marks
                    if n.kind == "number" and (0 <= n.start - m.end() <= 6 or 0 <= m.start() - n.end <= 2)
                ),
                None,
            )
            if number is None:
                continue
            metric = None
            for mm in _METRIC.finditer(text, max(0, m.start() - 40), m.start() + 1):
                metric = mm
            unit = number.quantity.unit if number.quantity else None
            if metric is None and unit not in ("celsius", "percent"):
                continue
            start = min(m.start(), number.start, metric.start() if metric else m.start())
            room = _room_near(reading, start, max(m.end(), number.end))
            if room is not None:
                start = min(start, room.start)
            return start, max(m.end(), number.end), m
    return None


def _room_near(reading: Reading, start: int, end: int) -> Mark | None:
    best: Mark | None = None
    for r in reading.marks:
        if r.kind == "room" and start - 24 <= r.start and r.end <= end + 18:
            best = best or r
    return best


def _build(
    reading: Reading,
    found: list[tuple[int, int, str, re.Match[str]]],
    cond_marks: list[Mark],
    speaker: str | None,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], str | None] | None:
    triggers: list[dict[str, Any]] = []
    conditions: list[dict[str, Any]] = []
    room: str | None = None
    text = reading.named
    kinds = [f[2] for f in found]
    others = [k for k in kinds if k not in ("sunset", "sunrise", "repeat")]
    weekdays: str | None = None
    evening = False
    for lo, hi, kind, _ in found:
        if kind == "repeat":
            said = text[lo:hi]
            evening = evening or bool(_EVENING.search(said))
            weekdays = (
                "workdays" if _WORKDAYS.search(said) else "weekend" if _WEEKEND.search(said) else weekdays
            )
    for lo, hi, kind, m in found:
        if kind in ("arrive", "leave"):
            window = text[max(0, lo - 20) : hi]
            person = (
                "everyone"
                if kind == "leave" and _EVERYONE.search(window)
                else _person(reading, cond_marks, speaker)
            )
            if kind == "arrive" and person == "everyone":
                person = "anyone"
            triggers.append(
                {"type": "presence", "person": person, "to": "home" if kind == "arrive" else "away"}
            )
        elif kind == "time":
            at = _clock(m, text, evening)
            if at is None:
                return None
            trigger: dict[str, Any] = {"type": "time", "at": at}
            if weekdays is not None:
                trigger["weekdays"] = weekdays
            triggers.append(trigger)
        elif kind in ("sunset", "sunrise"):
            if others:
                if kind == "sunset" and not any(c.get("type") == "sun" for c in conditions):
                    conditions.append({"type": "sun", "after": "sunset", "before": "sunrise"})
            elif not any(t.get("type") == "sun" for t in triggers):
                triggers.append({"type": "sun", "event": kind})
        elif kind == "alarm":
            phone = _phone(reading, cond_marks, speaker)
            if phone is None:
                return None
            triggers.append({"type": "event", "device": phone, "event": "alarm-clock.alarm-ringing"})
        elif kind == "near":
            near = _near(reading, m, lo, hi, cond_marks, speaker)
            if near is None:
                return None
            triggers.append(near)
        elif kind == "threshold":
            built = _sensor_trigger(reading, m, lo, hi)
            if built is None:
                return None
            trigger, room = built
            triggers.append(trigger)
    if weekdays is not None and not any(t["type"] == "time" for t in triggers):
        conditions.append({"type": "time", "weekdays": weekdays})
    if not triggers:
        return None
    return triggers, conditions, room


def _person(reading: Reading, cond_marks: list[Mark], speaker: str | None) -> str:
    people = reading.tables.people
    for m in cond_marks:
        if m.kind == "person":
            for p in people:
                if p.name == m.value:
                    return p.id
    if speaker is not None:
        return speaker
    if len(people) == 1:
        return people[0].id
    with_phone = [p for p in people if p.phone_did]
    if len(with_phone) == 1:
        return with_phone[0].id
    return "anyone"


def _phone(reading: Reading, cond_marks: list[Mark], speaker: str | None) -> str | None:
    person = _person(reading, cond_marks, speaker)
    for p in reading.tables.people:
        if p.id == person and p.phone_did in reading.tables.devices:
            return p.phone_did
    phones = [d.did for d in reading.tables.vocabulary.devices if d.kind == "phone"]
    return phones[0] if len(phones) == 1 else None


def _number(said: str) -> float | None:
    try:
        return float(said)
    except ValueError:
        return cjk_number(said)


def _clock(m: re.Match[str], text: str, evening: bool = False) -> str | None:
    """``HH:MM`` of a time said ("晚上十点" 22:00, "7am", "毎晩11時" 23:00 with ``evening``)."""
    g = m.groupdict()
    if g.get("noon"):
        return "12:00" if g["noon"] == "noon" else "00:00"
    hour_s = g.get("eh") or g.get("bh") or g.get("zh") or g.get("jh") or g.get("ch")
    minute_s = g.get("em") or g.get("bm") or g.get("zm") or g.get("jm") or g.get("cm")
    hour = _number(hour_s or "")
    minute = _number(minute_s) if minute_s else 0.0
    if g.get("zhalf") or g.get("jhalf"):
        minute = 30.0
    if g.get("zq"):
        minute = 15.0 if g["zq"] == "一刻" else 45.0
    if hour is None or minute is None:
        return None
    pd = g.get("zpd") or g.get("jpd") or ""
    ap = (g.get("eap") or g.get("bap") or "").replace(".", "")
    tail = text[m.end() : m.end() + 24]
    h = int(hour)
    pm = ap == "pm" or pd in _PM_PERIODS or (pd == "中午" and h <= 5)
    if not ap and not pd and (_PM_AFTER.search(tail) or (evening and h >= 5)):
        pm = True
    if pm and h < 12:
        h += 12
    if (ap == "am" or pd in _NIGHT) and h == 12:
        h = 0
    h %= 24
    if not (0 <= h <= 23 and 0 <= minute <= 59):
        return None
    return f"{h:02d}:{int(minute):02d}"


def _near(
    reading: Reading, m: re.Match[str], lo: int, hi: int, cond_marks: list[Mark], speaker: str | None
) -> dict[str, Any] | None:
    amount = _number(m.group("en") or m.group("zh") or m.group("ja") or "")
    unit = (m.group("eu") or m.group("zu") or m.group("ju") or "km").lower()
    if amount is None or amount <= 0:
        return None
    metres = unit in ("m", "meter", "meters", "metre", "metres", "米", "メートル")
    if unit.startswith("mile"):
        amount, metres = amount * 1.609, False
    within = f"{amount:g} {'m' if metres else 'km'}"
    car_said = any(
        mk.kind == "kind" and mk.value == "car" and max(0, lo - 24) <= mk.start <= hi for mk in reading.marks
    )
    if car_said:
        cars = [d.did for d in reading.tables.vocabulary.devices if d.kind == "car"]
        person = _person(reading, cond_marks, speaker)
        own = [p.car_did for p in reading.tables.people if p.id == person and p.car_did]
        who = own[0] if own else cars[0] if len(cars) == 1 else None
    else:
        who = _person(reading, cond_marks, speaker)
        who = None if who in ("anyone", "everyone") else who
    if who is None:
        return None
    return {"type": "proximity", "who": who, "zone": "home", "within": within, "direction": "towards"}


def _sensor_trigger(
    reading: Reading, m: re.Match[str], lo: int, hi: int
) -> tuple[dict[str, Any], str | None] | None:
    text = reading.named
    number = next((n for n in reading.marks if n.kind == "number" and lo <= n.start < hi), None)
    if number is None or number.quantity is None:
        return None
    value = number.quantity.value
    metric = "temperature"
    for mm in _METRIC.finditer(text, lo, hi):
        metric = "humidity" if mm.group("hum") else "temperature"
    if number.quantity.unit == "percent":
        metric = "humidity"
    room_mark = next((r for r in reading.marks if r.kind == "room" and lo <= r.start < hi), None)
    room = room_mark.value if room_mark is not None else None
    devices = reading.tables.vocabulary.devices
    sensors = [d for d in devices if d.kind == "sensor" and (room is None or d.room_id == room)]
    acs = [d for d in devices if d.kind == "air-conditioner" and (room is None or d.room_id == room)]
    if room is None and len(sensors) > 1:
        living = reading.tables.room_of_concept.get("living-room")
        sensors = [d for d in sensors if d.room_id == living] or sensors[:1]
    prop = "relative-humidity" if metric == "humidity" else "temperature"
    if sensors:
        device, address = sensors[0].did, f"temperature-humidity-sensor.{prop}"
    elif acs:
        device, address = acs[0].did, f"environment.{prop}"
    else:
        return None
    side = "above" if _ABOVE.search(m.group(0)) else "below"
    trigger = {
        "type": "property",
        "device": device,
        "property": address,
        side: int(value) if value.is_integer() else value,
    }
    return trigger, room
