"""What a request means, independent of its language and of the engine that understood it.

Every understanding engine (the grammar, the rules for colloquial and implicit requests,
an LLM) turns text into an :class:`Understanding`: a list of :class:`Intent` and why.
The planner (:mod:`trilink.copilot.planner`) then resolves an intent's :class:`Target`
against the live registry and turns it into commands. Nothing here knows about devices.

The vocabulary is closed — engines must use these names:

* intent names: :data:`INTENTS`;
* device kinds: :data:`KINDS` (a device's kind comes from its spec's top-level type);
* value keys: :data:`VALUE_KEYS`, with their units;
* query subjects: :data:`QUERY_SUBJECTS`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final, Literal

Language = Literal["en", "zh", "ja"]

#: what a request asks for
INTENTS: Final = frozenset(
    {
        "turn_on",  # switch on (lights, AC, plugs, fans; the car's climate with feature "climate")
        "turn_off",
        "set",  # set values (see VALUE_KEYS), switching the device on where that is needed
        "adjust",  # change values by deltas (brighter, a bit cooler)
        "open",  # curtains, covers, windows (position 100)
        "close",
        "lock",  # door locks, the car
        "unlock",
        "start",  # the vacuum ("clean"), the car's charging with feature "charging"
        "stop",
        "pause",
        "dock",  # the vacuum returns to its base
        "query",  # a question: values["subject"] says about what
        "scene",  # apply a named scene: values["scene"]
        "automation",  # create an automation: values["definition"], see intent docs
        "unknown",
    }
)

#: device kinds, from the spec's top-level type (``urn:miot-spec-v2:device:<kind>:…``)
KINDS: Final = frozenset(
    {
        "light",
        "air-conditioner",
        "curtain",  # also blinds, shades, windows, garage doors: anything with a position
        "lock",
        "vacuum",
        "plug",  # outlets and switches
        "fan",
        "sensor",  # temperature/humidity sensors
        "car",
        "phone",
    }
)

#: value keys an intent may carry, with their units
VALUE_KEYS: Final = {
    "brightness": "percent 1-100",
    "color_temperature": "kelvin",
    "color": "an RGB integer 0xRRGGBB, or a colour name (red, 红色, 赤…; see copilot.colors)",
    "position": "percent 0-100 (100 = fully open)",
    "temperature": "degrees Celsius (target)",
    "mode": "auto | cool | dry | fan | heat",
    "fan_speed": "percent 0-100, or a level 1..n as {'level': n}",
    "charge_limit": "percent 50-100",
    "subject": "for query: one of QUERY_SUBJECTS",
    "destination": "for query 'reach': a place name (a zone id or name)",
    "scene": "for scene: a scene id or name",
    "definition": "for automation: an automation definition (the engine's YAML schema as a dict)",
}

#: what a question can be about
QUERY_SUBJECTS: Final = frozenset(
    {
        "temperature",  # a room's or the car cabin's temperature
        "humidity",
        "state",  # is it on / open / locked / what is it doing
        "locked",
        "on",  # which devices are on ("what's on?")
        "battery",  # a device's or the car's charge
        "range",  # the car's range
        "reach",  # can the car reach values["destination"]
        "position",
        "where",  # where a person or the car is
    }
)


@dataclass(frozen=True, slots=True)
class Target:
    """What the request refers to: names, rooms, floors and kinds, as said (not yet resolved).

    ``names`` are device or person names or aliases as they appeared in the text;
    ``rooms`` are room names as said, or ``"here"`` for the speaker's room; ``floors``
    are floor names as said (the rooms on them; with ``rooms`` too, the rooms of both);
    ``kinds``
    narrow to device kinds; ``everything`` means every matching device in the home
    ("all the lights" is ``kinds=("light",), everything=True``; "turn everything off" is
    ``everything=True`` with no kinds). ``feature`` picks a part of a device that has
    several (the car's ``"climate"`` or ``"charging"``).
    """

    names: tuple[str, ...] = ()
    rooms: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    everything: bool = False
    feature: str | None = None
    floors: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Intent:
    """One thing a request asks for: an intent name, its target, values and deltas."""

    name: str
    target: Target = field(default_factory=Target)
    values: dict[str, Any] = field(default_factory=dict)
    deltas: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Understanding:
    """What an engine understood: the intents in order, and why (for implicit requests).

    ``why`` is a short code of the need behind an implicit request (``"too_hot"``,
    ``"too_dark"``, ``"good_night"``, ``"heading_home"``…), which the answer explains;
    ``None`` for explicit ones. ``source`` names the engine (``"grammar"``, ``"rules"``,
    ``"llm"``).
    """

    language: Language
    intents: tuple[Intent, ...]
    source: str
    why: str | None = None
    text: str = ""

    @property
    def understood(self) -> bool:
        """Whether anything but ``unknown`` came out."""
        return any(i.name != "unknown" for i in self.intents)
