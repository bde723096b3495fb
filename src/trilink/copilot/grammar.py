"""The grammar engine: explicit commands, understood with Home Assistant's sentence templates.

`hassil <https://github.com/OHF-Voice/hassil>`_ matches a request against the templates of
the ``home-assistant-intents`` package (many phrasings per intent, in English, Chinese —
zh-CN, zh-TW, zh-HK — and Japanese). Only the intents trilink can carry out are loaded
(:data:`SCOPE`); their slot lists are filled from the home's :class:`Vocabulary` (device
names and aliases, people's and scenes' names for ``{name}``; rooms for ``{area}``;
floors for ``{floor}``). A match becomes an :class:`~trilink.copilot.intent.Understanding` in
trilink's closed vocabulary; what has no trilink meaning (scripts, valves, media players)
is left out rather than guessed.

Grammars are loaded lazily, once per language; slot lists are compiled once per
vocabulary object (a vocabulary is immutable). Names are pre-filtered to those whose
text occurs in the request, which keeps matching fast for homes with many devices.
"""

from __future__ import annotations

import logging
import re
import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

import home_assistant_intents
from hassil import (
    Intents,
    RecognizeResult,
    SlotList,
    TextChunk,
    TextSlotList,
    TextSlotValue,
    normalize_text,
    recognize_best,
)

from trilink.copilot.intent import Intent, Language, Target, Understanding
from trilink.copilot.lexicon import HERE_WORDS, HOME_WORDS, ROOM_WORDS, room_concept
from trilink.copilot.vocabulary import Vocabulary

log = logging.getLogger(__name__)

#: the Home Assistant intents this engine understands
SCOPE: Final = frozenset(
    {
        "HassTurnOn",
        "HassTurnOff",
        "HassLightSet",
        "HassClimateSetTemperature",
        "HassClimateGetTemperature",
        "HassGetState",
        "HassSetPosition",
        "HassFanSetSpeed",
        "HassVacuumStart",
        "HassVacuumReturnToBase",
    }
)

#: requests longer than this are not commands; they are not matched at all
MAX_CHARS: Final = 300

#: the value of the ``area`` context: "the speaker's room", for templates that imply it
_HERE: Final = "\x00here"

#: a device kind → the Home Assistant domain its names are offered under
_DOMAIN_OF_KIND: Final = {
    "light": "light",
    "air-conditioner": "climate",
    "curtain": "cover",
    "fan": "fan",
    "vacuum": "vacuum",
    "lock": "lock",
    "plug": "switch",
    "sensor": "sensor",
    "car": "lock",  # the car is locked and unlocked like a door
}

#: a Home Assistant domain → trilink's device kind (domains not here have no trilink kind)
_KIND_OF_DOMAIN: Final = {
    "light": "light",
    "climate": "air-conditioner",
    "cover": "curtain",
    "fan": "fan",
    "vacuum": "vacuum",
    "lock": "lock",
    "switch": "plug",
    "sensor": "sensor",
}

#: the three Chinese grammars, in the order tried for each script
_ZH_ORDERS: Final = {
    "simplified": ("zh-CN", "zh-TW", "zh-HK"),
    "traditional": ("zh-TW", "zh-HK", "zh-CN"),
    "cantonese": ("zh-HK", "zh-TW", "zh-CN"),
}

#: characters written only in Cantonese
_CANTONESE: Final = frozenset("乜佢冇咗咩唔啲喺嘅嘢閂嚟哋噉攞睇揾搵嗰")

#: traditional characters common in home requests whose simplified form differs
_TRADITIONAL: Final = frozenset(
    "開關燈調溫廳臥廚窗簾門鎖風設將們這個為麼請幫嗎電視氣裡後點顏聲樓層區間時幾誰說讓還進選長閉陽靜頂"
    "頭體應動態樣機熱濕號掃塵實現從數記錄連線啟總標準節變換減輕檯盞"
)

#: words that widen a "here" request to the whole home ("all the lights in the house")
_WHOLE_HOME: Final = (
    *(w for words in HOME_WORDS.values() for w in words),
    *("house", "home", "everywhere", "every room", "all rooms", "throughout"),
    *("家里", "家裡", "全屋", "全家", "整个家", "整個家", "所有房间", "所有房間", "屋企", "成間屋"),
    *("家じゅう", "全部屋"),
)

#: words that keep a request in the speaker's room, even next to a word of ``_WHOLE_HOME``
_HERE_WORDS: Final = (*(w for words in HERE_WORDS.values() for w in words), "呢度", "呢間房")


def _words_pattern(words: Iterable[str]) -> re.Pattern[str]:
    """A pattern finding any of ``words``: Latin words whole, others anywhere."""
    parts = sorted({w.casefold() for w in words if w}, key=len, reverse=True)
    alternatives = [rf"\b{re.escape(w)}\b" if w.isascii() else re.escape(w) for w in parts]
    return re.compile("|".join(alternatives))


_WHOLE_HOME_RE: Final = _words_pattern(_WHOLE_HOME)
_HERE_RE: Final = _words_pattern(_HERE_WORDS)


def zh_grammar_order(text: str) -> tuple[str, ...]:
    """The Chinese grammars to try for ``text``: its own script's first, then the others."""
    chars = set(text)
    if chars & _CANTONESE:
        return _ZH_ORDERS["cantonese"]
    if chars & _TRADITIONAL:
        return _ZH_ORDERS["traditional"]
    return _ZH_ORDERS["simplified"]


def _fold(text: str) -> str:
    """Case- and whitespace-insensitive form used to pre-filter names."""
    return "".join(text.casefold().split())


@dataclass(frozen=True, slots=True)
class _Entry:
    """One name or room of the vocabulary, as a slot value with its pre-filter key."""

    key: str
    value: TextSlotValue


@dataclass(frozen=True, slots=True)
class _Lists:
    """The compiled slot values of one vocabulary."""

    names: tuple[_Entry, ...]
    areas: tuple[_Entry, ...]
    floors: tuple[_Entry, ...] = ()


def _compile(vocabulary: Vocabulary) -> _Lists:
    names: list[_Entry] = []
    seen: set[tuple[str, str]] = set()
    for device in vocabulary.devices:
        domain = _DOMAIN_OF_KIND.get(device.kind or "")
        if domain is None:
            continue
        for said in (device.name, *device.aliases):
            said = " ".join(said.split())
            if not said or (said, domain) in seen:
                continue
            seen.add((said, domain))
            value = TextSlotValue(TextChunk(normalize_text(said)), said, context={"domain": domain})
            names.append(_Entry(_fold(said), value))
    for person in vocabulary.people:
        said = " ".join(person.name.split())
        if said and (said, "person") not in seen:
            seen.add((said, "person"))
            value = TextSlotValue(TextChunk(normalize_text(said)), said, context={"domain": "person"})
            names.append(_Entry(_fold(said), value))
    for scene in vocabulary.scenes:
        said = " ".join(scene.name.split())
        if said and (said, "scene") not in seen:
            seen.add((said, "scene"))
            value = TextSlotValue(TextChunk(normalize_text(said)), said, context={"domain": "scene"})
            names.append(_Entry(_fold(said), value))
    # a room is offered under its name, its aliases and the room words of its concept in
    # every language (a room named "Living room" is also 客厅 and リビング)
    rooms_of_word: dict[str, list[str]] = {}
    for room in vocabulary.rooms:
        words = [room.name, *room.aliases]
        for concept in {room_concept(w) for w in (room.id, room.name, *room.aliases)}:
            if concept is not None:
                words += [w for lang_words in ROOM_WORDS[concept].values() for w in lang_words]
        for word in words:
            word = " ".join(word.split())
            rooms = rooms_of_word.setdefault(word, []) if word else []
            if word and room.name not in rooms:
                rooms.append(room.name)
    areas = [
        # a word of one room says its name; a word several rooms share is left to the planner
        _Entry(
            _fold(word), TextSlotValue(TextChunk(normalize_text(word)), rooms[0] if len(rooms) == 1 else word)
        )
        for word, rooms in rooms_of_word.items()
    ]
    floors: list[_Entry] = []
    for floor in vocabulary.floors:
        for said in dict.fromkeys(" ".join(w.split()) for w in (floor.name, *floor.aliases)):
            if said:
                floors.append(_Entry(_fold(said), TextSlotValue(TextChunk(normalize_text(said)), floor.name)))
    return _Lists(tuple(names), tuple(areas), tuple(floors))


def _present(entries: Iterable[_Entry], folded_text: str, list_name: str) -> TextSlotList:
    """The slot list of the entries whose text occurs in the request."""
    return TextSlotList(name=list_name, values=[e.value for e in entries if e.key and e.key in folded_text])


class GrammarEngine:
    """Understands explicit commands with hassil and the Home Assistant intents.

    Thread-safe; share one instance. ``understand`` never raises on odd input: it
    returns ``None`` for anything it does not match.
    """

    name = "grammar"

    def __init__(self, cache_size: int = 8) -> None:
        self._grammars: dict[str, Intents | None] = {}
        self._lists: OrderedDict[int, tuple[Vocabulary, _Lists]] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()

    # ---------------------------------------------------------------- loading
    def grammar(self, code: str) -> Intents | None:
        """The in-scope intents of a Home Assistant language code (``None`` if there are none)."""
        with self._lock:
            if code not in self._grammars:
                self._grammars[code] = _load(code)
            return self._grammars[code]

    def _slot_values(self, vocabulary: Vocabulary) -> _Lists:
        key = id(vocabulary)
        with self._lock:
            hit = self._lists.get(key)
            if hit is not None and hit[0] is vocabulary:
                self._lists.move_to_end(key)
                return hit[1]
        lists = _compile(vocabulary)
        with self._lock:
            self._lists[key] = (vocabulary, lists)
            while len(self._lists) > self._cache_size:
                self._lists.popitem(last=False)
        return lists

    def warm(self, language: Language | None = None) -> None:
        """Load and parse the grammars of ``language`` (of all three if ``None``) before a first request.

        Templates are parsed on first use; warming moves that cost (tens of milliseconds
        per grammar) out of the first request.
        """
        empty = Vocabulary((), ())
        for lang in (language,) if language is not None else ("en", "zh", "ja"):
            for code in _codes(lang, ""):
                self.recognize("warm up", empty, code)

    # ---------------------------------------------------------- understanding
    def recognize(self, text: str, vocabulary: Vocabulary, code: str) -> RecognizeResult | None:
        """hassil's best match of ``text`` in one Home Assistant language, or ``None``."""
        intents = self.grammar(code)
        if intents is None:
            return None
        lists = self._slot_values(vocabulary)
        folded = _fold(text)
        slot_lists: dict[str, SlotList] = {
            "name": _present(lists.names, folded, "name"),
            "area": _present(lists.areas, folded, "area"),
            "floor": _present(lists.floors, folded, "floor"),
        }
        return recognize_best(
            text,
            intents,
            slot_lists=slot_lists,
            intent_context={"area": _HERE},
            best_slot_name="name",
        )

    def understand(self, text: str, vocabulary: Vocabulary, language: Language) -> Understanding | None:
        """What ``text`` asks for, or ``None`` when no in-scope template matches it."""
        text = " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())
        if not text or len(text) > MAX_CHARS:
            return None
        for code in _codes(language, text):
            try:
                result = self.recognize(text, vocabulary, code)
            except Exception:  # a matcher failure on odd text is "not understood", not an error
                log.warning("grammar %s failed on a request of %d characters", code, len(text), exc_info=True)
                return None
            if result is None:
                continue
            intent = to_intent(result, text, vocabulary.zones)
            if intent is None:
                return None
            return Understanding(language, (intent,), "grammar", text=text)
        return None


def _codes(language: Language, text: str) -> tuple[str, ...]:
    """The Home Assistant grammars to try for a request in ``language``."""
    return zh_grammar_order(text) if language == "zh" else (language,)


def _load(code: str) -> Intents | None:
    data = home_assistant_intents.get_intents(code)
    if data is None:
        return None
    scoped = {name: body for name, body in data.get("intents", {}).items() if name in SCOPE}
    if not scoped:
        return None
    return Intents.from_dict({**{k: v for k, v in data.items() if k != "responses"}, "intents": scoped})


# ------------------------------------------------------------------ mapping
def _slot(result: RecognizeResult, name: str) -> Any:
    entity = result.entities.get(name)
    return None if entity is None else entity.value


def _number(value: Any) -> int | float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return int(value) if float(value).is_integer() else float(value)


def _target(result: RecognizeResult, text: str, kinds: tuple[str, ...]) -> Target:
    """The target of a match: names, rooms (``"here"``), floors or the whole home, narrowed by kinds."""
    floor = _slot(result, "floor")
    floors = (str(floor),) if floor is not None else ()
    name = _slot(result, "name")
    area = _slot(result, "area")
    if floors and area == _HERE:
        area = None  # a floor said: not the speaker's room
    names = (str(name),) if name is not None else ()
    if names:
        kinds = ()
    rooms: tuple[str, ...] = ()
    everything = False
    if area == _HERE:
        folded = text.casefold()
        if not names and _WHOLE_HOME_RE.search(folded) and not _HERE_RE.search(folded):
            everything = True
        else:
            rooms = ("here",)
    elif area is not None:
        rooms = (str(area),)
    elif not names and not floors:
        everything = True
    return Target(names=names, rooms=rooms, kinds=kinds, everything=everything, floors=floors)


def _domain(result: RecognizeResult) -> str | None:
    domain = _slot(result, "domain")
    if domain is None:
        domain = result.context.get("domain")
    if isinstance(domain, list | tuple | set | frozenset):
        domain = next(iter(domain), None) if len(domain) == 1 else None
    return None if domain is None else str(domain)


def _kinds(domain: str | None, default: tuple[str, ...] = ()) -> tuple[str, ...] | None:
    """The kinds a domain slot means (``None``: a domain trilink has no devices for)."""
    if domain is None:
        return default
    kind = _KIND_OF_DOMAIN.get(domain)
    return (kind,) if kind is not None else None


_ON_OFF: Final = {
    # (intent, domain) → trilink intent; other domains switch on/off
    ("HassTurnOn", "lock"): "lock",
    ("HassTurnOff", "lock"): "unlock",
    ("HassTurnOn", "cover"): "open",
    ("HassTurnOff", "cover"): "close",
    ("HassTurnOn", "vacuum"): "start",
    ("HassTurnOff", "vacuum"): "stop",
}


def to_intent(result: RecognizeResult, text: str = "", zones: Iterable[str] = ()) -> Intent | None:
    """trilink's :class:`Intent` for a hassil match (``None`` when it has no trilink meaning).

    ``zones`` are the home's places ("office"): a person asked about there is a place
    question even when the word is also a room word.
    """
    ha = result.intent.name
    domain = _domain(result)
    values: dict[str, Any] = {}
    default_kinds: tuple[str, ...] = ()
    if domain == "person":
        # "where is Jane", "is Jane home", "who is home": where people are (their phones)
        if ha != "HassGetState":
            return None
        place = _slot(result, "state")
        if (
            isinstance(place, str)
            and place.casefold() not in {z.casefold() for z in zones}
            and room_concept(place) is not None
        ):
            return None  # "who is in the kitchen": trilink knows which place, not which room
        person = _slot(result, "name")
        target = Target(names=(str(person),)) if person is not None else Target(everything=True)
        return Intent("query", target, {"subject": "where"})
    if domain == "scene":
        # "activate movie time": a scene is applied, never switched off
        scene = _slot(result, "name")
        if ha != "HassTurnOn" or scene is None:
            return None
        return Intent("scene", values={"scene": str(scene)})
    if ha in ("HassTurnOn", "HassTurnOff"):
        name = _ON_OFF.get((ha, domain or ""), "turn_on" if ha == "HassTurnOn" else "turn_off")
    elif ha == "HassLightSet":
        name = "set"
        default_kinds = ("light",)
        brightness = _number(_slot(result, "brightness"))
        kelvin = _number(_slot(result, "temperature"))
        if brightness == 0 and kelvin is None:
            name = "turn_off"  # Home Assistant's "brightness 0" is off
        elif brightness is not None:
            values["brightness"] = brightness
        if kelvin is not None:
            values["color_temperature"] = kelvin
        color = _slot(result, "color")
        if color is not None:
            values["color"] = str(color)  # Home Assistant's English name: "red"
        if not values and name == "set":
            return None
    elif ha == "HassClimateSetTemperature":
        name = "set"
        default_kinds = ("air-conditioner",)
        degrees = _number(_slot(result, "temperature"))
        if degrees is None:
            return None
        values["temperature"] = degrees
    elif ha == "HassClimateGetTemperature":
        name = "query"
        values["subject"] = "temperature"
    elif ha == "HassGetState":
        name = "query"
        values["subject"] = _state_subject(_slot(result, "state"), named=_slot(result, "name") is not None)
    elif ha == "HassSetPosition":
        name = "set"
        default_kinds = ("curtain",)
        position = _number(_slot(result, "position"))
        if position is None:
            return None
        values["position"] = position
    elif ha == "HassFanSetSpeed":
        name = "set"
        default_kinds = ("fan",)
        percent = _number(_slot(result, "percentage"))
        if percent is None:
            return None
        if percent == 0:
            name = "turn_off"
        else:
            values["fan_speed"] = percent
    elif ha == "HassVacuumStart":
        name = "start"
        default_kinds = ("vacuum",)
    elif ha == "HassVacuumReturnToBase":
        name = "dock"
        default_kinds = ("vacuum",)
    else:
        return None
    kinds = _kinds(domain, default_kinds)
    if kinds is None:
        return None
    return Intent(name, _target(result, text, kinds), values)


def _state_subject(state: Any, *, named: bool) -> str:
    """The query subject of a state question ("is the light on", "which doors are locked").

    "Which lights are on" asks about ``on``; "is the desk lamp on" about one device's ``state``.
    """
    if isinstance(state, Mapping):
        state = state.get("value")
    if state in ("on", "off"):
        return "state" if named else "on"
    if state in ("locked", "unlocked", "locking", "unlocking", "jammed"):
        return "locked"
    if state in ("open", "closed", "opening", "closing"):
        return "position"
    return "state"
