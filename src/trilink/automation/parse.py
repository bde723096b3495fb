"""From YAML (or the same data as JSON) to checked definitions.

A document holds ``zones:``, ``scenes:`` and ``automations:`` (each optional), or is one
automation mapping. Every name is resolved against the registry and every literal value
is checked with the device's spec (:func:`trilink.model.validate_value`, as a write for
``set``), so a definition that loads can run. Anything wrong becomes a
:class:`DefinitionError` with the source, line, path and reason; a bad definition is
refused while the good ones of the same document are accepted, and every error is
reported, not just the first.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Collection, Mapping, Sequence
from typing import Any

from trilink.automation.definitions import (
    DEFAULT_MAX_RUNS,
    HOME_ZONE,
    RUN_MODES,
    Action,
    AndCondition,
    Automation,
    AvailabilityTrigger,
    CallAction,
    CallTarget,
    ChooseAction,
    ChooseOption,
    Condition,
    DelayAction,
    DeviceSelector,
    EventRef,
    EventTrigger,
    HubStartTrigger,
    IfAction,
    NotCondition,
    NotifyAction,
    NumericCondition,
    OnlineCondition,
    OrCondition,
    ParsedDocument,
    PresenceCondition,
    PresenceTrigger,
    PropertyRef,
    PropertyTrigger,
    ProximityTrigger,
    Scene,
    SceneAction,
    SceneState,
    SetAction,
    SetTarget,
    StateCondition,
    StopAction,
    SunCondition,
    SunEventName,
    SunTrigger,
    TimeCondition,
    TimeTrigger,
    Trigger,
    WaitAction,
    WaitedCondition,
    WebhookTrigger,
    ZoneCondition,
    ZoneTrigger,
)
from trilink.automation.durations import parse_distance, parse_duration, parse_offset
from trilink.automation.errors import DefinitionError
from trilink.automation.geo import Zone, parse_zone
from trilink.automation.reader import FieldReader, Refused, shown
from trilink.automation.resolve import Resolver, value_error
from trilink.automation.schedule import parse_time_of_day, parse_weekdays
from trilink.automation.yamlsrc import Located, Path, path_text
from trilink.kernel import Device, Kernel
from trilink.model import InvalidValue, validate_action

_SECTIONS = ("zones", "scenes", "automations")
_AUTOMATION_KEYS = (
    "id",
    "name",
    "description",
    "mode",
    "max",
    "enabled",
    "triggers",
    "conditions",
    "actions",
)
_SCENE_KEYS = ("id", "name", "states")

#: trigger type → (required keys, optional keys), besides ``type``
TRIGGER_KEYS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "property": (("device", "property"), ("from", "to", "above", "below", "for")),
    "event": (("device", "event"), ()),
    "availability": (("device", "to"), ("for",)),
    "time": (("at",), ("weekdays",)),
    "sun": (("event",), ("offset",)),
    "zone": (("who", "zone", "event"), ()),
    "proximity": (("who", "zone", "within"), ("direction",)),
    "presence": (("person", "to"), ("for",)),
    "webhook": (("id",), ()),
    "hub_start": ((), ()),
}
#: condition type → (required keys, optional keys), besides ``type``
CONDITION_KEYS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "state": (("device", "property"), ("is", "in", "for")),
    "numeric": (("device", "property"), ("above", "below")),
    "time": ((), ("after", "before", "weekdays")),
    "sun": ((), ("after", "before", "after_offset", "before_offset")),
    "presence": (("person", "is"), ()),
    "zone": (("who", "zone"), ()),
    "online": (("device",), ("is",)),
    "waited": (("completed",), ()),
    "and": (("conditions",), ()),
    "or": (("conditions",), ()),
    "not": (("conditions",), ()),
}
#: the key that names an action → the other keys it may have
ACTION_KEYS: dict[str, tuple[str, ...]] = {
    "set": ("continue_on_error",),
    "call": ("continue_on_error",),
    "notify": ("continue_on_error",),
    "delay": ("continue_on_error",),
    "wait": ("continue_on_error",),
    "scene": ("continue_on_error",),
    "if": ("then", "else", "continue_on_error"),
    "choose": ("default", "continue_on_error"),
    "stop": (),
}


def fingerprint(data: Mapping[str, Any]) -> str:
    """A digest of a definition's data (``enabled`` aside), to recognise its stored runtime state."""
    body = {k: v for k, v in data.items() if k != "enabled"}
    text = json.dumps(body, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


class _Parser(FieldReader):
    """Parses the definitions of one document; errors of inner items are collected, not raised."""

    def __init__(self, located: Located, resolver: Resolver, scenes: Collection[str]) -> None:
        super().__init__(located, resolver)
        self.scenes = set(scenes)

    # ------------------------------------------------------------- definitions
    def automation(self, data: Any, path: Path) -> Automation:
        d = self.fields(data, path, "an automation", ("id", "triggers", "actions"), _AUTOMATION_KEYS[1:])
        automation_id = self.ident(d, path)
        name = self.text(d, "name", path, automation_id).strip() or automation_id
        description = self.text(d, "description", path, "")
        mode = self.choice(d, "mode", path, RUN_MODES) if "mode" in d else "single"
        max_runs = d.get("max", DEFAULT_MAX_RUNS)
        if isinstance(max_runs, bool) or not isinstance(max_runs, int) or max_runs < 1:
            raise self.fail((*path, "max"), f"max must be a whole number ≥ 1; got {shown(max_runs)}")
        enabled = self.flag(d, "enabled", path, True)
        before = len(self.errors)
        triggers = self.items(d["triggers"], (*path, "triggers"), "triggers", self.trigger, empty=False)
        conditions = self.conditions(d.get("conditions", []), (*path, "conditions"))
        actions = self.actions(d["actions"], (*path, "actions"), empty=False)
        if len(self.errors) > before:
            raise Refused
        return Automation(
            id=automation_id,
            name=name,
            triggers=tuple(triggers),
            conditions=tuple(conditions),
            actions=tuple(actions),
            mode=mode,  # type: ignore[arg-type]
            max_runs=max_runs,
            enabled=enabled,
            description=description,
            source=self.located.source,
            fingerprint=fingerprint(d),
        )

    def scene(self, data: Any, path: Path) -> Scene:
        d = self.fields(data, path, "a scene", ("id", "states"), ("name",))
        scene_id = self.ident(d, path)
        before = len(self.errors)
        states = self.items(d["states"], (*path, "states"), "states", self.scene_state, empty=False)
        if len(self.errors) > before:
            raise Refused
        return Scene(scene_id, self.text(d, "name", path, scene_id), tuple(states), self.located.source)

    def scene_state(self, data: Any, path: Path) -> SceneState:
        d = self.fields(data, path, "a scene state", ("device", "property", "value"), ())
        device = self.device(d, path)
        prop = self.prop(device, d, path)
        value = self.value(device, prop, d["value"], (*path, "value"), write=True)
        return SceneState(device.did, prop.siid, prop.iid, value)

    def zone(self, data: Any, path: Path) -> Zone:
        try:
            zone = parse_zone(data)
        except ValueError as exc:
            reason = str(exc)
            field = reason.split(":", 1)[0]
            where = (*path, field) if isinstance(data, dict) and field in data else path
            raise self.fail(where, reason) from None
        if zone.id == HOME_ZONE:
            raise self.fail((*path, "id"), "the zone id 'home' is taken: it is the home's own location")
        return zone

    # ----------------------------------------------------------------- triggers
    def trigger(self, data: Any, path: Path) -> Trigger:
        kind = self.kind(data, path, TRIGGER_KEYS, "trigger")
        required, optional = TRIGGER_KEYS[kind]
        d = self.fields(data, path, f"a {kind} trigger", ("type", *required), optional)
        if kind == "property":
            device = self.device(d, path)
            prop = self.prop(device, d, path)
            above, below = self.number(d, "above", path), self.number(d, "below", path)
            if above is not None or below is not None:
                self.numeric(prop, device, (*path, "above" if above is not None else "below"))
                self.order(above, below, path)
            from_ = self.value(device, prop, d["from"], (*path, "from")) if "from" in d else None
            to = self.value(device, prop, d["to"], (*path, "to")) if "to" in d else None
            ref = PropertyRef(device.did, prop.siid, prop.iid)
            return PropertyTrigger(ref, from_, to, above, below, self.duration(d, "for", path))
        if kind == "event":
            device = self.device(d, path)
            spec = self.call((*path, "event"), lambda: self.r.event(device, d["event"]))
            return EventTrigger(EventRef(device.did, spec.siid, spec.iid), spec.name)
        if kind == "availability":
            device = self.device(d, path)
            to = self.choice(d, "to", path, ("online", "offline"))
            return AvailabilityTrigger(device.did, to == "online", self.duration(d, "for", path))
        if kind == "time":
            at = self.call((*path, "at"), lambda: parse_time_of_day(d["at"]))
            days = (
                self.call((*path, "weekdays"), lambda: parse_weekdays(d["weekdays"]))
                if "weekdays" in d
                else None
            )
            return TimeTrigger(at, days if days is not None else frozenset(range(7)))
        if kind == "sun":
            sun = self.choice(d, "event", path, ("sunrise", "sunset"))
            offset = self.call((*path, "offset"), lambda: parse_offset(d["offset"])) if "offset" in d else 0.0
            self.home_location((*path, "event"))
            return SunTrigger(sun, offset)  # type: ignore[arg-type]
        if kind in ("zone", "proximity"):
            who = self.call((*path, "who"), lambda: self.r.subject(d["who"]))
            zone = self.call((*path, "zone"), lambda: self.r.zone(d["zone"]))
            if kind == "zone":
                crossing = self.choice(d, "event", path, ("enter", "leave"))
                return ZoneTrigger(who, zone.id, crossing)  # type: ignore[arg-type]
            within = self.call((*path, "within"), lambda: parse_distance(d["within"]))
            direction = (
                self.choice(d, "direction", path, ("towards", "away", "any")) if "direction" in d else "any"
            )
            return ProximityTrigger(who, zone.id, within, direction)  # type: ignore[arg-type]
        if kind == "presence":
            person = self.call((*path, "person"), lambda: self.r.person(d["person"], groups=True))
            to = self.choice(d, "to", path, ("home", "away"))
            self.home_location((*path, "to"))
            return PresenceTrigger(person, to, self.duration(d, "for", path))  # type: ignore[arg-type]
        if kind == "webhook":
            hook_id = d["id"]
            if not isinstance(hook_id, str) or len(hook_id) < 8 or not re.match(r"^[A-Za-z0-9_-]+$", hook_id):
                raise self.fail(
                    (*path, "id"), "a webhook id is a secret: 8 or more letters, digits, '_' or '-'"
                )
            return WebhookTrigger(hook_id)
        return HubStartTrigger()

    # --------------------------------------------------------------- conditions
    def conditions(self, data: Any, path: Path) -> list[Condition]:
        return self.items(data, path, "conditions", self.condition, empty=True)

    def condition(self, data: Any, path: Path) -> Condition:
        kind = self.kind(data, path, CONDITION_KEYS, "condition")
        required, optional = CONDITION_KEYS[kind]
        d = self.fields(data, path, f"a {kind} condition", ("type", *required), optional)
        if kind == "state":
            device = self.device(d, path)
            prop = self.prop(device, d, path)
            if ("is" in d) == ("in" in d):
                raise self.fail(
                    path, "a state condition needs either 'is' (a value) or 'in' (a list of values)"
                )
            if "is" in d:
                values = [self.value(device, prop, d["is"], (*path, "is"))]
            else:
                if not isinstance(d["in"], list) or not d["in"]:
                    raise self.fail(
                        (*path, "in"), f"in must be a non-empty list of values; got {shown(d['in'])}"
                    )
                values = [self.value(device, prop, v, (*path, "in", i)) for i, v in enumerate(d["in"])]
            ref = PropertyRef(device.did, prop.siid, prop.iid)
            return StateCondition(ref, tuple(values), self.duration(d, "for", path))
        if kind == "numeric":
            device = self.device(d, path)
            prop = self.prop(device, d, path)
            above, below = self.number(d, "above", path), self.number(d, "below", path)
            if above is None and below is None:
                raise self.fail(path, "a numeric condition needs above and/or below")
            self.numeric(prop, device, (*path, "property"))
            self.order(above, below, path)
            return NumericCondition(PropertyRef(device.did, prop.siid, prop.iid), above, below)
        if kind == "time":
            if not d.keys() - {"type"}:
                raise self.fail(path, "a time condition needs after, before and/or weekdays")
            after = (
                self.call((*path, "after"), lambda: parse_time_of_day(d["after"])) if "after" in d else None
            )
            before = (
                self.call((*path, "before"), lambda: parse_time_of_day(d["before"]))
                if "before" in d
                else None
            )
            days = (
                self.call((*path, "weekdays"), lambda: parse_weekdays(d["weekdays"]))
                if "weekdays" in d
                else None
            )
            return TimeCondition(after, before, days if days is not None else frozenset(range(7)))
        if kind == "sun":
            if "after" not in d and "before" not in d:
                raise self.fail(path, "a sun condition needs after and/or before (sunrise or sunset)")
            self.home_location(path)
            return SunCondition(self.sun_edge(d, "after", path), self.sun_edge(d, "before", path))
        if kind == "presence":
            person = self.call((*path, "person"), lambda: self.r.person(d["person"], groups=True))
            state = self.choice(d, "is", path, ("home", "away"))
            self.home_location((*path, "is"))
            return PresenceCondition(person, state)  # type: ignore[arg-type]
        if kind == "zone":
            who = self.call((*path, "who"), lambda: self.r.subject(d["who"]))
            zone = self.call((*path, "zone"), lambda: self.r.zone(d["zone"]))
            return ZoneCondition(who, zone.id)
        if kind == "online":
            device = self.device(d, path)
            return OnlineCondition(device.did, self.flag(d, "is", path, True))
        if kind == "waited":
            return WaitedCondition(self.flag(d, "completed", path, True))
        inner = tuple(self.conditions(d["conditions"], (*path, "conditions")))
        if not inner:
            raise self.fail((*path, "conditions"), f"an {kind} condition needs at least one condition")
        if kind == "and":
            return AndCondition(inner)
        if kind == "or":
            return OrCondition(inner)
        return NotCondition(inner)

    def sun_edge(self, d: Mapping[str, Any], key: str, path: Path) -> tuple[SunEventName, float] | None:
        if key not in d:
            if f"{key}_offset" in d:
                raise self.fail((*path, f"{key}_offset"), f"{key}_offset needs {key} (sunrise or sunset)")
            return None
        value = d[key]
        offset: Any = d.get(f"{key}_offset", 0)
        if isinstance(value, dict):
            e = self.fields(value, (*path, key), f"sun condition's {key}", ("event",), ("offset",))
            value, offset = e["event"], e.get("offset", offset)
        if value not in ("sunrise", "sunset"):
            raise self.fail((*path, key), f"{key} must be sunrise or sunset; got {shown(value)}")
        shift = self.call((*path, f"{key}_offset"), lambda: parse_offset(offset))
        return ("sunrise" if value == "sunrise" else "sunset"), shift

    # ------------------------------------------------------------------ actions
    def actions(self, data: Any, path: Path, *, empty: bool = True) -> list[Action]:
        return self.items(data, path, "actions", self.action, empty=empty)

    def action(self, data: Any, path: Path) -> Action:
        if not isinstance(data, dict):
            raise self.fail(path, f"an action must be a mapping such as {{set: …}}; got {shown(data)}")
        named = [k for k in data if k in ACTION_KEYS]
        if len(named) != 1:
            allowed = ", ".join(ACTION_KEYS)
            if not named:
                unknown = next(iter(data), None)
                where = (*path, str(unknown)) if unknown is not None else path
                raise self.fail(where, f"unknown action {unknown!r} (actions: {allowed})")
            raise self.fail(path, f"one action per list item; this one has {', '.join(named)}")
        kind = named[0]
        self.fields(data, path, f"a {kind} action", (kind,), ACTION_KEYS[kind])
        body, at = data[kind], (*path, kind)
        keep_going = self.flag(data, "continue_on_error", path, True)
        if kind == "set":
            return self.set_action(body, at, keep_going)
        if kind == "call":
            return self.call_action(body, at, keep_going)
        if kind == "notify":
            d = self.fields(body, at, "notify", ("person", "message"), ("title",))
            person = self.call((*at, "person"), lambda: self.r.person(d["person"], groups=True))
            if person == "anyone":
                raise self.fail((*at, "person"), "notify a person's id or everyone")
            return NotifyAction(
                person, self.text(d, "title", at, ""), self.text(d, "message", at), keep_going
            )
        if kind == "delay":
            return DelayAction(self.call(at, lambda: parse_duration(body)), keep_going)
        if kind == "wait":
            d = self.fields(body, at, "wait", ("trigger",), ("timeout", "continue_on_timeout"))
            trigger = self.trigger(d["trigger"], (*at, "trigger"))
            if isinstance(trigger, HubStartTrigger):
                raise self.fail((*at, "trigger", "type"), "a run cannot wait for the hub to start")
            timeout = self.duration(d, "timeout", at)
            go_on = self.flag(d, "continue_on_timeout", at, True)
            return WaitAction(trigger, timeout, go_on, keep_going)
        if kind == "scene":
            if body not in self.scenes:
                known = ", ".join(sorted(self.scenes)) or "none"
                raise self.fail(at, f"unknown scene {shown(body)} (scenes: {known})")
            return SceneAction(str(body), keep_going)
        if kind == "if":
            conditions = self.conditions(body, at)
            if "then" not in data:
                raise self.fail(path, "an if action needs then")
            then = self.actions(data["then"], (*path, "then"))
            otherwise = self.actions(data.get("else", []), (*path, "else"))
            return IfAction(tuple(conditions), tuple(then), tuple(otherwise), keep_going)
        if kind == "choose":
            options = self.items(body, at, "choose", self.option, empty=False)
            default = self.actions(data.get("default", []), (*path, "default"))
            return ChooseAction(tuple(options), tuple(default), keep_going)
        reason = body if body is not None else "stopped"
        if not isinstance(reason, str):
            raise self.fail(at, f"stop takes a reason as text; got {shown(body)}")
        return StopAction(reason)

    def option(self, data: Any, path: Path) -> ChooseOption:
        d = self.fields(data, path, "a choose option", ("conditions", "actions"), ())
        conditions = self.conditions(d["conditions"], (*path, "conditions"))
        return ChooseOption(tuple(conditions), tuple(self.actions(d["actions"], (*path, "actions"))))

    def selector(self, d: Mapping[str, Any], path: Path) -> DeviceSelector:
        s = self.fields(d["devices"], (*path, "devices"), "devices", (), ("kind", "room"))
        if not s:
            raise self.fail((*path, "devices"), "devices needs kind and/or room")
        kind = s.get("kind")
        if kind is not None and not isinstance(kind, str):
            raise self.fail(
                (*path, "devices", "kind"), f"kind must be a device type such as light; got {kind!r}"
            )
        room = self.call((*path, "devices", "room"), lambda: self.r.room(s["room"])) if "room" in s else None
        return DeviceSelector(kind, room)

    def target(self, d: Mapping[str, Any], path: Path, what: str) -> Device | DeviceSelector:
        if ("device" in d) == ("devices" in d):
            raise self.fail(path, f"{what} needs either device (one) or devices (many)")
        return self.device(d, path) if "device" in d else self.selector(d, path)

    def set_action(self, body: Any, path: Path, keep_going: bool) -> SetAction:
        d = self.fields(body, path, "set", ("property", "value"), ("device", "devices"))
        target = self.target(d, path, "set")
        if isinstance(target, DeviceSelector):
            targets, errors = self.r.selected_sets(target, d["property"], d["value"])
            self.selection(targets, errors, target, path, "property")
            return SetAction(target, _addr(d["property"]), d["value"], tuple(targets), keep_going)
        prop = self.prop(target, d, path)
        value = self.value(target, prop, d["value"], (*path, "value"), write=True)
        one = SetTarget(target.did, prop.siid, prop.iid, value)
        return SetAction(target.did, f"{prop.siid}.{prop.iid}", value, (one,), keep_going)

    def call_action(self, body: Any, path: Path, keep_going: bool) -> CallAction:
        d = self.fields(body, path, "call", ("action",), ("device", "devices", "args"))
        args = d.get("args", [])
        if not isinstance(args, list):
            raise self.fail((*path, "args"), f"args must be a list; got {shown(args)}")
        target = self.target(d, path, "call")
        if isinstance(target, DeviceSelector):
            targets, errors = self.r.selected_calls(target, d["action"], args)
            self.selection(targets, errors, target, path, "action")
            return CallAction(target, _addr(d["action"]), tuple(args), tuple(targets), keep_going)
        action = self.call((*path, "action"), lambda: self.r.action(target, d["action"]))
        try:
            _, checked = validate_action(target.did, target.spec, action.siid, action.iid, args)
        except InvalidValue as exc:
            raise self.fail((*path, "args"), value_error(exc)) from None
        one = CallTarget(target.did, action.siid, action.iid, tuple(checked))
        return CallAction(target.did, f"{one.siid}.{one.aiid}", one.args, (one,), keep_going)

    def selection(
        self, targets: Sequence[Any], errors: Sequence[str], sel: DeviceSelector, path: Path, key: str
    ) -> None:
        if errors:
            raise self.fail((*path, "value" if key == "property" else "args"), errors[0])
        if not targets:
            raise self.fail((*path, "devices"), f"no device matches ({sel}) with that {key}")


def _addr(value: Any) -> str:
    return repr(value) if isinstance(value, float) else str(value)


def parse_document(
    located: Located,
    kernel: Kernel,
    home_id: str,
    zones: Mapping[str, Zone],
    scenes: Collection[str],
) -> ParsedDocument:
    """Parse a whole document against the registry, known zones and scenes.

    Zones are read first, then scenes, then automations, so a definition may use a zone
    or scene of the same document. Good definitions are returned with their data; every
    error is in ``errors``.
    """
    data = located.data
    out = ParsedDocument()
    fail = _Parser(located, Resolver(kernel, home_id, zones), scenes).fail
    if data is None:
        out.errors.append(fail((), "the document is empty"))
        return out
    if not isinstance(data, dict):
        out.errors.append(fail((), "a document is a mapping: zones, scenes, automations — or one automation"))
        return out
    sections: dict[str, list[tuple[Any, Path]]] = {}
    if not any(k in data for k in _SECTIONS):
        sections["automations"] = [(data, ())]  # the document is one automation
    else:
        for key, items in data.items():
            if key not in _SECTIONS:
                out.errors.append(
                    fail((str(key),), f"unknown section {key!r} (sections: {', '.join(_SECTIONS)})")
                )
            elif items is None:
                continue
            elif not isinstance(items, list):
                out.errors.append(fail((key,), f"{key} must be a list"))
            else:
                sections[key] = [(item, (key, i)) for i, item in enumerate(items)]
    known_zones = dict(zones)
    known_scenes = set(scenes)
    for kind, section in (("zone", "zones"), ("scene", "scenes"), ("automation", "automations")):
        parser = _Parser(located, Resolver(kernel, home_id, known_zones), known_scenes)
        seen: dict[str, Path] = {}
        for item, path in sections.get(section, []):
            try:
                definition = _parse_item(parser, kind, item, path)
            except Refused:
                continue
            except DefinitionError as exc:
                parser.errors.append(exc)
                continue
            if definition.id in seen:
                first = path_text(seen[definition.id])
                parser.errors.append(
                    parser.fail((*path, "id"), f"duplicate id {definition.id!r} (also {first})")
                )
                continue
            seen[definition.id] = path
            out.data[(kind, definition.id)] = item
            if isinstance(definition, Zone):
                out.zones.append(definition)
                known_zones[definition.id] = definition
            elif isinstance(definition, Scene):
                out.scenes.append(definition)
                known_scenes.add(definition.id)
            else:
                out.automations.append(definition)
        out.errors.extend(parser.errors)
    out.errors.sort(key=lambda e: (e.line is None, e.line or 0))
    return out


def _parse_item(parser: _Parser, kind: str, item: Any, path: Path) -> Zone | Scene | Automation:
    if kind == "zone":
        return parser.zone(item, path)
    if kind == "scene":
        return parser.scene(item, path)
    return parser.automation(item, path)


def parse_definition(
    kind: str,
    data: Any,
    source: str,
    kernel: Kernel,
    home_id: str,
    zones: Mapping[str, Zone],
    scenes: Collection[str],
) -> tuple[Zone | Scene | Automation | None, list[DefinitionError]]:
    """Parse one stored definition (no line numbers: it is plain data)."""
    parser = _Parser(Located(data, source, {}), Resolver(kernel, home_id, zones), scenes)
    try:
        return _parse_item(parser, kind, data, ()), parser.errors
    except Refused:
        return None, parser.errors
    except DefinitionError as exc:
        return None, [*parser.errors, exc]
