"""Clauses of a request, and what each one says: targets, verbs, values.

A request is cut at punctuation and joining words ("and", "然后", "それから"), then again
between two verbs ("关灯开空调", "電気を消してエアコンをつけて"): before the second verb in
verb-first phrasing (English, Chinese), after the first in verb-last phrasing
(Japanese, Chinese with 把). :class:`Said` gathers one clause's marks.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from typing import Final

from trilink.copilot.intent import Target
from trilink.copilot.wording import MASK, Mark, Reading

_SEPARATOR: Final = re.compile(
    r"[,，。;；!！?？\n、]+"
    r"|\s+(?:and then|and also|and|then|also|plus|after that)\s+"
    r"|然后|接着|并且|而且|顺便|同时|以及|再把|それから|そして|あと、"
)
_QUESTION_END: Final = re.compile(r"[?？]")
#: what may stand between two verbs that make one ("开始扫地", "掃除を止めて", "stop cleaning")
_VERB_GLUE: Final = re.compile(r"^[\s\-をのにてで]*$")
_ANCHOR_BEFORE: Final = re.compile(
    r"(?:\bto|\bat|\bby|\bof|到|成|为|在|设为|设置为|设成|调|に|を|は|が|:|=|" + MASK + r")\s*$"
)
_ANCHOR_AFTER: Final = re.compile(r"^\s*(?:に|で|へ|吧|就|左右|くらい|ぐらい)")


_TO_BEFORE: Final = re.compile(r"(?:\bto|到|成|为|至)\s*$")
_TO_AFTER: Final = re.compile(r"^\s*(?:に|まで)")


def to_value(reading: Reading, m: Mark) -> bool:
    """Whether a number is a value to reach ("down to 22", "调到", "22度に") rather than a step."""
    before = reading.masked[max(0, m.start - 6) : m.start]
    after = reading.masked[m.end : m.end + 3]
    return bool(_TO_BEFORE.search(before) or _TO_AFTER.search(after))


def anchored(reading: Reading, m: Mark) -> bool:
    """Whether a number sets a value: it has a unit, or stands where a value goes ("to 24")."""
    if m.quantity is not None and m.quantity.unit is not None:
        return True
    before = reading.masked[max(0, m.start - 8) : m.start]
    after = reading.masked[m.end : m.end + 4]
    return bool(_ANCHOR_BEFORE.search(before) or _ANCHOR_AFTER.search(after))


@dataclass(frozen=True, slots=True)
class Clause:
    """A part of a request: its span, its marks and whether a question mark ends it."""

    start: int
    end: int
    marks: tuple[Mark, ...]
    asked: bool = False


@dataclass(slots=True)
class Said:
    """What one clause says, gathered from its marks."""

    names: list[Mark] = field(default_factory=list)
    people: list[Mark] = field(default_factory=list)
    scenes: list[str] = field(default_factory=list)
    rooms: list[str] = field(default_factory=list)
    floors: list[str] = field(default_factory=list)
    room_words: list[str] = field(default_factory=list)  # the rooms as said
    here: bool = False
    everything: bool = False
    kinds: list[str] = field(default_factory=list)
    verbs: list[Mark] = field(default_factory=list)
    modes: list[Mark] = field(default_factory=list)
    attrs: list[str] = field(default_factory=list)
    features: list[str] = field(default_factory=list)
    levels: list[Mark] = field(default_factory=list)
    colors: list[Mark] = field(default_factory=list)
    numbers: list[Mark] = field(default_factory=list)

    @property
    def has_target(self) -> bool:
        return bool(
            self.names
            or self.people
            or self.rooms
            or self.floors
            or self.here
            or self.everything
            or self.kinds
        )

    @property
    def has_action(self) -> bool:
        return bool(self.verbs or self.modes or self.colors or self.levels or self.features or self.scenes)

    def target(self, kinds: tuple[str, ...] | None = None, feature: str | None = None) -> Target:
        """The clause's target (``kinds`` replace the kinds said)."""
        rooms = tuple(dict.fromkeys([*self.rooms, *(["here"] if self.here else [])]))
        return Target(
            names=tuple(dict.fromkeys(m.value for m in [*self.names, *self.people])),
            rooms=rooms,
            kinds=tuple(dict.fromkeys(self.kinds)) if kinds is None else kinds,
            everything=self.everything,
            feature=feature,
            floors=tuple(dict.fromkeys(self.floors)),
        )


def gather(marks: tuple[Mark, ...] | list[Mark]) -> Said:
    """The :class:`Said` of some marks."""
    s = Said()
    for m in marks:
        k = m.kind
        if k == "name":
            s.names.append(m)
        elif k == "person":
            s.people.append(m)
        elif k == "scene":
            s.scenes.append(m.value)
        elif k == "floor":
            s.floors.append(m.value)
        elif k == "room":
            s.rooms.append(m.value)
            s.room_words.append(m.detail or m.value)
        elif k == "here":
            s.here = True
        elif k in ("all", "home"):
            s.everything = True
        elif k == "kind":
            s.kinds.append(m.value)
        elif k == "verb":
            s.verbs.append(m)
        elif k == "mode":
            s.modes.append(m)
        elif k == "attr":
            s.attrs.append(m.value)
        elif k == "feature":
            s.features.append(m.value)
        elif k == "level":
            s.levels.append(m)
        elif k == "color":
            s.colors.append(m)
        elif k == "number":
            s.numbers.append(m)
    return s


def split(reading: Reading, start: int = 0, end: int | None = None) -> list[Clause]:
    """The clauses of ``reading.masked[start:end]``, cut at separators and between verbs."""
    end = len(reading.masked) if end is None else end
    text = reading.masked
    out: list[Clause] = []
    pos = start
    for m in _SEPARATOR.finditer(text, start, end):
        if m.start() > pos:
            out.extend(_by_verbs(reading, pos, m.start(), bool(_QUESTION_END.search(m.group(0)))))
        pos = m.end()
    if pos < end:
        out.extend(_by_verbs(reading, pos, end, False))
    return [c for c in out if c.marks or text[c.start : c.end].strip()]


def _by_verbs(reading: Reading, start: int, end: int, asked: bool) -> list[Clause]:
    marks = reading.within(start, end)
    verbs: list[Mark] = []
    for m in marks:
        if m.kind != "verb":
            continue
        if verbs and _VERB_GLUE.match(reading.masked[verbs[-1].end : m.start]):
            continue  # one verb in two words: "开始扫地", "stop cleaning"
        verbs.append(m)
    if len(verbs) < 2:
        return [Clause(start, end, tuple(marks), asked)]
    chunk = reading.text[start:end]
    verb_last = reading.language == "ja" or (reading.language == "zh" and ("把" in chunk or "将" in chunk))
    cuts = []
    for a, b in itertools.pairwise(verbs):
        cuts.append(a.end if verb_last else b.start)
    bounds = [start, *cuts, end]
    return [
        Clause(lo, hi, tuple(reading.within(lo, hi)), asked and hi == end)
        for lo, hi in itertools.pairwise(bounds)
        if hi > lo
    ]
