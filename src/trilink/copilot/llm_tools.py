"""The tools the model may call, made from the home's names and the intent vocabulary,
and the strict conversion of its calls into :class:`~trilink.copilot.intent.Intent`.

Three functions are offered:

* ``control`` — do something: ``intent`` (the intents of :data:`CONTROL_INTENTS`), a target
  (``names``, ``rooms``, ``floors``, ``kinds``, ``everything``, ``feature``), ``values``, ``deltas``
  and ``why`` for implicit requests;
* ``ask`` — a question: ``subject`` (:data:`~trilink.copilot.intent.QUERY_SUBJECTS`), a
  target and ``destination``;
* ``reply`` — no device is involved: a plain answer, a clarifying question or a refusal.

Names, rooms, floors, kinds, modes, scenes and places are JSON-schema enums of what the home has,
so a server with constrained decoding cannot produce others. Value ranges are given in
the descriptions, not as ``minimum``/``maximum``: a value the person said that a device
cannot take must reach the planner, which reports it, rather than be clamped by a
constrained decoder. Each call is checked against the very schema it was offered;
a call with an unknown tool, name, enum value or key, or a value of the wrong type is
dropped and noted, the others are kept.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from trilink.copilot.colors import COLORS
from trilink.copilot.intent import INTENTS, KINDS, QUERY_SUBJECTS, VALUE_KEYS, Intent, Target
from trilink.copilot.llm_home import FEATURE_OF_SERVICE, NUMERIC_PROPERTY
from trilink.copilot.llm_wire import ToolCall
from trilink.copilot.vocabulary import Vocabulary

#: intents the ``control`` tool offers (questions go through ``ask``; automations are not offered)
CONTROL_INTENTS: Final = tuple(sorted(INTENTS - {"unknown", "query", "automation"}))
#: AC/fan modes, as ``VALUE_KEYS["mode"]`` lists them
MODES: Final = tuple(m.strip() for m in VALUE_KEYS["mode"].split("|"))
FEATURES: Final = tuple(sorted(set(FEATURE_OF_SERVICE.values())))
#: value keys ``control`` may set
SET_KEYS: Final = (
    "brightness",
    "color_temperature",
    "color",
    "position",
    "temperature",
    "mode",
    "fan_speed",
    "charge_limit",
)
#: value keys ``control`` may change by a delta
DELTA_KEYS: Final = tuple(NUMERIC_PROPERTY)
_INTEGER_KEYS: Final = frozenset({"brightness", "color_temperature", "position", "charge_limit"})
REPLY_KINDS: Final = ("answer", "clarify", "refuse")
_WHY_PATTERN: Final = "^[a-z][a-z_]{0,31}$"

assert set(SET_KEYS) | {"scene", "subject", "destination"} <= set(VALUE_KEYS)

_ACCEPTED: Final = json.dumps(
    {"ok": True, "note": "proposed to the hub, which checks it before anything is done"}
)


@dataclass(frozen=True, slots=True)
class ToolSet:
    """The tools of one request (``tools`` as sent) and their parameter schemas by name."""

    tools: tuple[dict[str, Any], ...]
    schemas: Mapping[str, dict[str, Any]]


def _unique(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(v for v in values if v))


def _strings(values: Sequence[str], description: str) -> dict[str, Any]:
    return {"type": "array", "items": {"type": "string", "enum": list(values)}, "description": description}


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


def _value_schema(key: str, ranges: Mapping[str, tuple[float, float]]) -> dict[str, Any]:
    description = VALUE_KEYS[key]
    if key in ranges:
        lo, hi = ranges[key]
        description += f"; the devices of this home accept {_num(lo)}..{_num(hi)}"
    if key == "mode":
        return {"type": "string", "enum": list(MODES), "description": description}
    if key == "color":
        return {"type": "string", "enum": list(COLORS), "description": "a light colour, by name"}
    if key == "fan_speed":
        level = {
            "type": "object",
            "properties": {"level": {"type": "integer", "minimum": 1}},
            "required": ["level"],
            "additionalProperties": False,
        }
        return {"anyOf": [{"type": "number"}, level], "description": description}
    return {"type": "integer" if key in _INTEGER_KEYS else "number", "description": description}


def _target_properties(names: list[str], rooms: list[str], floors: list[str]) -> dict[str, Any]:
    props: dict[str, Any] = {}
    if names:
        props["names"] = _strings(names, "devices named in the request, by name or alias as listed")
    props["rooms"] = _strings(rooms, 'rooms named in the request; "here" is the speaker\'s room')
    if floors:
        props["floors"] = _strings(floors, "floors named in the request: every room on them")
    props["kinds"] = _strings(sorted(KINDS), "kinds of device meant, when the request names a kind")
    props["everything"] = {
        "type": "boolean",
        "description": 'true for "all"/"every"/"everything": every matching device of the home',
    }
    props["feature"] = {
        "type": "string",
        "enum": list(FEATURES),
        "description": "the part of the car meant: its cabin climate or its charging",
    }
    return props


def build_tools(vocabulary: Vocabulary, ranges: Mapping[str, tuple[float, float]]) -> ToolSet:
    """The ``control``, ``ask`` and ``reply`` tools for one home."""
    device_names = _unique(n for d in vocabulary.devices for n in (d.name, *d.aliases))
    room_names = [*_unique(n for r in vocabulary.rooms for n in (r.name, *r.aliases) if n != "here"), "here"]
    floor_names = _unique(n for f in vocabulary.floors for n in (f.name, *f.aliases))
    scenes = _unique(vocabulary.scene_names)
    intents = [i for i in CONTROL_INTENTS if i != "scene" or scenes]

    values: dict[str, Any] = {key: _value_schema(key, ranges) for key in SET_KEYS}
    if scenes:
        values["scene"] = {"type": "string", "enum": scenes, "description": VALUE_KEYS["scene"]}
    deltas = {
        key: {"type": "number", "description": f"signed change of {key} ({VALUE_KEYS[key].split(' (')[0]})"}
        for key in DELTA_KEYS
    }
    control = {
        "type": "object",
        "properties": {
            "intent": {"type": "string", "enum": intents, "description": "what to do"},
            **_target_properties(device_names, room_names, floor_names),
            "values": {
                "type": "object",
                "properties": values,
                "additionalProperties": False,
                "description": "values to set (for set; also for turn_on with a value)",
            },
            "deltas": {
                "type": "object",
                "properties": deltas,
                "additionalProperties": False,
                "description": 'relative changes for adjust ("brighter": brightness +20)',
            },
            "why": {
                "type": "string",
                "pattern": _WHY_PATTERN,
                "description": "only for an implicit request: a short code of the need "
                "(too_hot, too_cold, too_dark, too_bright, good_night, good_morning, leaving, heading_home)",
            },
        },
        "required": ["intent"],
        "additionalProperties": False,
    }

    ask_names = _unique([*device_names, *(p.name for p in vocabulary.people)])
    ask_props: dict[str, Any] = {
        "subject": {
            "type": "string",
            "enum": sorted(QUERY_SUBJECTS),
            "description": "what the question is about",
        },
        **_target_properties(ask_names, room_names, floor_names),
    }
    zones = _unique(vocabulary.zones)
    if zones:
        ask_props["destination"] = {"type": "string", "enum": zones, "description": VALUE_KEYS["destination"]}
    ask = {"type": "object", "properties": ask_props, "required": ["subject"], "additionalProperties": False}

    reply = {
        "type": "object",
        "properties": {
            "kind": {
                "type": "string",
                "enum": list(REPLY_KINDS),
                "description": "answer: not about the devices; clarify: ask what is meant; refuse",
            },
            "text": {"type": "string", "description": "what to say, in the language of the request"},
        },
        "required": ["kind", "text"],
        "additionalProperties": False,
    }
    descriptions = {
        "control": "Do one thing with devices of the home. Call once per thing asked, in order.",
        "ask": "Answer one question about the home, its devices, the car or where someone is.",
        "reply": "Say something when the request is not about the devices, is unclear, or is refused.",
    }
    schemas = {"control": control, "ask": ask, "reply": reply}
    tools = tuple(
        {
            "type": "function",
            "function": {"name": name, "description": descriptions[name], "parameters": schema},
        }
        for name, schema in schemas.items()
    )
    return ToolSet(tools, schemas)


# ------------------------------------------------------------------------------ checking
def _shown(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 60 else text[:59] + "…"


def check(value: Any, schema: Mapping[str, Any], path: str = "arguments") -> str | None:
    """Why ``value`` does not match ``schema`` (the subset of JSON Schema the tools use)."""
    if "anyOf" in schema:
        if all(check(value, option, path) is not None for option in schema["anyOf"]):
            return f"{path}: {_shown(value)} has none of the allowed forms"
        return None
    kind = schema.get("type")
    if kind == "object":
        if not isinstance(value, dict):
            return f"{path}: expected an object, got {_shown(value)}"
        props: Mapping[str, Any] = schema.get("properties", {})
        for key in schema.get("required", ()):
            if key not in value:
                return f"{path}: {key!r} is missing"
        for key, item in value.items():
            if key not in props:
                if schema.get("additionalProperties", True) is False:
                    return f"{path}: unknown key {_shown(key)}"
                continue
            problem = check(item, props[key], f"{path}.{key}")
            if problem is not None:
                return problem
        return None
    if kind == "array":
        if not isinstance(value, list):
            return f"{path}: expected a list, got {_shown(value)}"
        for i, item in enumerate(value):
            problem = check(item, schema.get("items", {}), f"{path}[{i}]")
            if problem is not None:
                return problem
        return None
    if kind == "string" and not isinstance(value, str):
        return f"{path}: expected text, got {_shown(value)}"
    if kind == "boolean" and not isinstance(value, bool):
        return f"{path}: expected true or false, got {_shown(value)}"
    if kind in ("number", "integer"):
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            return f"{path}: expected a number, got {_shown(value)}"
        if kind == "integer" and not float(value).is_integer():
            return f"{path}: expected a whole number, got {_shown(value)}"
        if "minimum" in schema and value < schema["minimum"]:
            return f"{path}: {_shown(value)} is below {schema['minimum']}"
    if "enum" in schema and value not in schema["enum"]:
        return f"{path}: {_shown(value)} is not one of the allowed values"
    if "pattern" in schema and not re.search(schema["pattern"], value):
        return f"{path}: {_shown(value)} is not a valid code"
    return None


# ---------------------------------------------------------------------------- conversion
@dataclass(frozen=True, slots=True)
class Converted:
    """The intents of a reply's tool calls, and what became of each call."""

    intents: tuple[Intent, ...]
    why: str | None = None
    reply: str | None = None
    reply_kind: str | None = None
    #: why calls were dropped
    notes: tuple[str, ...] = ()
    #: tool call id → the ``tool`` message content that reports what became of it
    results: Mapping[str, str] = field(default_factory=dict)


def _target(args: Mapping[str, Any]) -> Target:
    return Target(
        names=tuple(args.get("names", ())),
        rooms=tuple(args.get("rooms", ())),
        kinds=tuple(args.get("kinds", ())),
        everything=bool(args.get("everything", False)),
        feature=args.get("feature"),
        floors=tuple(args.get("floors", ())),
    )


def _control(args: Mapping[str, Any]) -> Intent:
    name = args["intent"]
    values = {
        key: int(value) if key in _INTEGER_KEYS else value
        for key, value in dict(args.get("values", {})).items()
    }
    fan = values.get("fan_speed")
    if isinstance(fan, dict):
        values["fan_speed"] = {"level": int(fan["level"])}
    deltas = {key: float(value) for key, value in dict(args.get("deltas", {})).items()}
    if name == "set" and not values:
        raise ValueError("set without values")
    if name == "adjust" and not deltas:
        raise ValueError("adjust without deltas")
    if name == "scene":
        if "scene" not in values:
            raise ValueError("scene without values.scene")
        values = {"scene": values["scene"]}
    return Intent(name, _target(args), values, deltas)


def _ask(args: Mapping[str, Any]) -> Intent:
    values: dict[str, Any] = {"subject": args["subject"]}
    if "destination" in args:
        values["destination"] = args["destination"]
    return Intent("query", _target(args), values)


def convert(calls: Sequence[ToolCall], toolset: ToolSet) -> Converted:
    """Intents from tool calls, in order; a call that breaks its schema is dropped and noted."""
    intents: list[Intent] = []
    notes: list[str] = []
    results: dict[str, str] = {}
    why = reply = reply_kind = None

    def drop(call: ToolCall, problem: str) -> None:
        note = f"{call.name or 'a tool call'}: {problem}" if call.name in toolset.schemas else problem
        notes.append(note)
        results[call.id] = json.dumps({"ok": False, "error": note}, ensure_ascii=False)

    for call in calls:
        schema = toolset.schemas.get(call.name)
        if schema is None:
            drop(call, f"unknown tool {_shown(call.name)}")
            continue
        if call.arguments is None:
            drop(call, call.problem or "unreadable arguments")
            continue
        problem = check(call.arguments, schema)
        if problem is not None:
            drop(call, problem)
            continue
        args = call.arguments
        if call.name == "reply":
            reply = reply if reply is not None else args["text"]
            reply_kind = reply_kind if reply_kind is not None else args["kind"]
            results[call.id] = json.dumps({"ok": True})
            continue
        try:
            intent = _control(args) if call.name == "control" else _ask(args)
        except ValueError as exc:
            drop(call, str(exc))
            continue
        intents.append(intent)
        why = why or args.get("why")
        results[call.id] = _ACCEPTED
    return Converted(tuple(intents), why, reply, reply_kind, tuple(notes), results)
