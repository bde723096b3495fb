"""The copilot against Home Assistant's intent test suite: accuracy and latency, with a baseline.

Test data: ``../shared/data/ha-intents-tests/<lang>/<Intent>/<case>.yaml`` — "Home Assistant
intents, Open Home Foundation contributors", CC BY 4.0 — for en, zh-CN, zh-TW, zh-HK and
ja and the ten intents trilink carries out. Each test group (sentences sharing expected
slots) gets a fresh home:

- the file's floors become floors and its areas rooms (on their floor); its entities
  become devices (light, climate → AC, cover → curtain, fan, vacuum, lock, switch →
  plug, temperature/humidity sensors); a person becomes a trilink person with a phone
  placed at home, away, or in a zone named after their state ("公司"); a scene becomes
  a trilink scene of that name (it switches a light on); entities of domains trilink has
  no equivalent for (valve, script, binary_sensor, media_player, input_boolean…) are not
  created;
- what the expected slots need is made present: a named entity is placed in the area (or
  on the floor) the slots name, an area, a floor or the speaker's room gets a device of
  the domain asked about (an unplaced entity of the file if there is one, else a
  synthetic one; a floor without areas gets one), and a second device of that domain is
  put in another room (off that floor) so that "in the kitchen", "upstairs" and
  "everywhere" differ;
- background devices with synthetic names fill the home up to ``--devices`` (20);
- states come from the file (on/off, open/closed, locked, temperatures) via
  ``kernel.report``.

The per-intent files are self-contained (the upstream runner,
``tests/test_slot_combinations.py``, reads nothing else); ``--with-fixtures`` adds the
language's legacy ``_fixtures.yaml`` entities (en only) as background devices.

Scoring: the expected outcome is computed from the group's slots by this file's own
resolver of Home Assistant's slot semantics (name → entity; area [+ domain/device_class]
→ the entities there; floor → the entities in the areas on it; the context area → the
speaker's room) — the devices, the intent's effect on each (on/off, open/close,
lock/unlock, start/dock, values set, a colour by Home Assistant's own colour table,
compared by hue; a scene activated) or, for
questions, the devices read (all of those asked about, or just those in the state asked
for; a room's temperature may come from its sensor or its AC). Where a test implies the
speaker's room without a ``context`` of its own and the sentence does not say "here"
("turn on all the fans"), the whole home is accepted too. Ours is the plan of the
pipeline (engine → Planner), read back from the steps' spec properties and actions
(:func:`score_plan`). The baseline is plain hassil with every intent of the language and
the home's names/areas/floors; its slots go through the same resolver and comparison.
Cases whose expected target exists only as an entity trilink cannot have, or a value
outside the device's range, are counted as not representable, not dropped.

    .venv/bin/python bench/copilot_eval.py [--lang en zh-CN …] [--intent HassTurnOn …]
        [--engine grammar|offline] [--show-failures N] [--with-fixtures] [--devices N]

Writes bench/results/copilot_eval.json (``--no-save`` to skip).
"""

from __future__ import annotations

import argparse
import colorsys
import contextlib
import math
import os
import re
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import home_assistant_intents
import yaml
from hassil import Intents, RecognizeResult, SlotList, TextSlotList, recognize_best

from common import median, percentile, save
from trilink.clock import ManualClock
from trilink.copilot.grammar import SCOPE, GrammarEngine
from trilink.copilot.intent import Understanding
from trilink.copilot.lang import detect_language
from trilink.copilot.plan import Plan
from trilink.copilot.planner import Planner
from trilink.copilot.vocabulary import NamedScene, Vocabulary
from trilink.kernel import Kernel
from trilink.kernel.registry import Device, Floor, Home, Person, Room
from trilink.model import DeviceSpec, InvalidValue, builtin_spec

SUITE = Path(
    os.environ.get(
        "TRILINK_HA_SUITE", Path(__file__).resolve().parents[2] / "shared" / "data" / "ha-intents-tests"
    )
)
LANGUAGES = ("en", "zh-CN", "zh-TW", "zh-HK", "ja")
INTENTS = (
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
)
assert set(INTENTS) == SCOPE

#: Home Assistant domain → trilink's built-in model
MODEL_OF_DOMAIN = {
    "light": "trilink.light.sim1",
    "climate": "trilink.aircondition.sim1",
    "cover": "trilink.curtain.sim1",
    "fan": "trilink.fan.sim1",
    "vacuum": "trilink.vacuum.sim1",
    "lock": "trilink.lock.sim1",
    "switch": "trilink.plug.sim1",
}
SENSOR_MODEL = "trilink.sensor_ht.sim1"

#: the domain an intent acts on when the slots name none
DOMAIN_OF_INTENT = {
    "HassLightSet": "light",
    "HassClimateSetTemperature": "climate",
    "HassClimateGetTemperature": "climate",
    "HassFanSetSpeed": "fan",
    "HassVacuumStart": "vacuum",
    "HassVacuumReturnToBase": "vacuum",
    "HassSetPosition": "cover",
}
QUERIES = frozenset({"HassGetState", "HassClimateGetTemperature"})

#: words that name a domain in a sentence, to tell which of several inferred domains a test means
DOMAIN_WORDS = {
    "light": ("light", "lamp", "灯", "燈", "ライト", "照明", "電気"),
    "fan": ("fan", "扇", "ファン"),
    "switch": ("switch", "开关", "開關", "掣", "スイッチ"),
    "lock": ("door", "lock", "门", "門", "锁", "鎖"),
    "person": ("anyone", "everyone", "people", "who ", "人", "谁", "誰"),
}

#: words that make a sensor without metadata a temperature sensor
TEMPERATURE_WORDS = ("temperature", "温度", "溫度", "気温")

#: domains of the background devices that fill a home up to ``--devices``
PADDING = ("light", "switch", "fan", "climate", "lock", "light", "sensor", "vacuum")

#: words for the speaker's room
HERE_RE = re.compile(
    r"\bhere\b|\bthis room\b|这里|這裡|这儿|這兒|这边|這邊|呢度|呢間|这个房间|這個房間|ここ|この部屋"
)

ANNEX = "Zq Annex"  # a room no sentence names, for the devices that must not be touched
SPEAKER = "Zq Speaker Room"  # the speaker's room when a test implies one but names none


def fold(text: str) -> str:
    """Case- and space-insensitive form of a name."""
    return " ".join(str(text).casefold().split())


def plain(value: Any) -> Any:
    """A test value without its ``{in, out}`` wrapping."""
    return value.get("out") if isinstance(value, dict) else value


# ------------------------------------------------------------------ the suite
@dataclass(frozen=True)
class Group:
    """Sentences of one test file sharing their expected slots."""

    lang: str
    intent: str
    file: str
    index: int
    sentences: tuple[str, ...]
    slots: dict[str, Any]
    context_area: str | None  # the group's own ``context: {area}``
    response: str
    doc: dict[str, Any]  # the whole test file
    combo: dict[str, Any]  # Home Assistant's description of the file's slot combination

    @property
    def where(self) -> str:
        """Where the group is, for failure listings."""
        return f"{self.lang}/{self.intent}/{self.file}#{self.index}"


@cache
def _intent_info() -> dict[str, Any]:
    return home_assistant_intents.get_intent_info() or {}


def load_suite(
    languages: Iterable[str] = LANGUAGES, intents: Iterable[str] = INTENTS, root: Path = SUITE
) -> list[Group]:
    """Every test group of the given languages and intents."""
    groups: list[Group] = []
    info = _intent_info()
    for lang in languages:
        for intent in intents:
            folder = root / lang / intent
            if not folder.is_dir():
                continue
            for path in sorted(folder.glob("*.yaml")):
                doc = yaml.safe_load(path.read_text("utf-8")) or {}
                combo = info.get(intent, {}).get("slot_combinations", {}).get(path.stem, {})
                for i, test in enumerate(doc.get("tests") or []):
                    context = test.get("context") or {}
                    groups.append(
                        Group(
                            lang,
                            intent,
                            path.stem,
                            i,
                            tuple(str(s) for s in test.get("sentences") or ()),
                            {k: plain(v) for k, v in (test.get("slots") or {}).items()},
                            context.get("area"),
                            str(test.get("response") or ""),
                            doc,
                            combo,
                        )
                    )
    return groups


@cache
def _fixtures(lang: str, root: Path = SUITE) -> dict[str, Any]:
    path = root / lang / "_fixtures.yaml"
    return yaml.safe_load(path.read_text("utf-8")) if path.exists() else {}


# ------------------------------------------------------------------ the home
@dataclass
class Entity:
    """A Home Assistant entity of a test home, and the trilink device made for it (if any)."""

    name: str
    domain: str
    area: str | None = None
    state: Any = None
    attributes: dict[str, Any] = field(default_factory=dict)
    did: str | None = None

    @property
    def device_class(self) -> str | None:
        """The entity's device class."""
        value = self.attributes.get("device_class")
        return None if value is None else str(value)

    @property
    def model(self) -> str | None:
        """trilink's built-in model for the entity (``None``: trilink has no such device)."""
        if self.domain == "sensor":
            unit = str(self.attributes.get("unit_of_measurement", ""))
            if self.device_class in ("temperature", "humidity") or unit in ("°C", "°F"):
                return SENSOR_MODEL
            if (
                self.device_class is None
                and not unit
                and any(w in fold(self.name) for w in TEMPERATURE_WORDS)
            ):
                return SENSOR_MODEL  # a sensor named "… temperature" without metadata
            return None
        return MODEL_OF_DOMAIN.get(self.domain)

    @property
    def temperature_sensor(self) -> bool:
        """Whether the entity measures a room's temperature (a thermostat or a sensor)."""
        return self.domain == "climate" or (self.model == SENSOR_MODEL and self.device_class != "humidity")


@dataclass
class World:
    """One test home: the kernel, its names, and the entities the tests speak about."""

    kernel: Kernel
    vocabulary: Vocabulary
    entities: list[Entity]
    room_of_area: dict[str, str]
    floors: list[str]
    floor_of_area: dict[str, str | None]
    speaker: str | None  # the speaker's area (name)
    explicit_speaker: bool  # the test group itself says where the speaker is
    zones: dict[str, tuple[float, float]] = field(default_factory=dict)  # places people can be

    @property
    def speaker_room(self) -> str | None:
        """The speaker's room id."""
        return None if self.speaker is None else self.room_of_area[self.speaker]

    def name_of(self, did: str) -> str:
        """A device's name (for failure listings)."""
        device = self.kernel.registry.devices.get(did)
        return device.name if device is not None else did

    def spec(self, did: str) -> DeviceSpec:
        """A device's spec."""
        return self.kernel.registry.devices[did].spec


def _entities_of(doc: dict[str, Any], area_names: dict[str, str]) -> list[Entity]:
    out = []
    for e in doc.get("entities") or []:
        domain = e.get("domain") or str(e.get("id", ".")).split(".", 1)[0]
        area = e.get("area")
        area = area_names.get(area, area) if area is not None else None
        state = plain(e.get("state", e.get("state_with_unit")))
        out.append(Entity(str(e["name"]), domain, area, state, dict(e.get("attributes") or {})))
    return out


def group_domain(group: Group, entities: list[Entity]) -> str | None:
    """The domain a test group is about when it names no entity (``None``: unknown)."""
    slots = group.slots
    if slots.get("domain"):
        return str(slots["domain"])
    if slots.get("device_class"):
        return "cover"
    if group.intent in DOMAIN_OF_INTENT:
        return DOMAIN_OF_INTENT[group.intent]
    inferred = sorted({str(d) for ds in (group.combo.get("inferred_domains") or {}).values() for d in ds})
    if len(inferred) == 1:
        return inferred[0]
    # several domains are possible: the entities the expected response names tell which
    named = {e.domain for e in entities if e.name and e.name in group.response}
    if len(named) == 1:
        return named.pop()
    words = fold(" ".join(group.sentences)) + " "
    said = [
        d for d, ws in DOMAIN_WORDS.items() if (not inferred or d in inferred) and any(w in words for w in ws)
    ]
    return said[0] if len(said) == 1 else None


def _default_state(domain: str) -> Any:
    return {"cover": "closed", "lock": "locked", "vacuum": "docked", "climate": "off"}.get(domain, "off")


def _slug(text: str, taken: set[str]) -> str:
    base = re.sub(r"[^a-z0-9]+", "-", text.casefold()).strip("-") or "room"
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    taken.add(slug)
    return slug


def build_world(group: Group, *, with_fixtures: bool = False, devices: int = 0) -> World:
    """A fresh home for one test group, with what its expected slots need (see the module doc).

    ``devices``: background devices (synthetic names, in a room no sentence names) fill the
    home up to this many devices, so the copilot works with a home of a realistic size.
    """
    doc = group.doc
    areas: dict[str, str | None] = {}  # area name → the name of its floor
    for a in doc.get("areas") or []:
        areas[str(a["name"])] = None if a.get("floor") is None else str(a["floor"])
    floors = [str(f["name"]) for f in doc.get("floors") or []]
    entities = _entities_of(doc, {})
    if with_fixtures:
        fx = _fixtures(group.lang)
        floor_names = {f.get("id", f["name"]): f["name"] for f in fx.get("floors") or []}
        area_names = {a.get("id", a["name"]): a["name"] for a in fx.get("areas") or []}
        for a in fx.get("areas") or []:
            areas.setdefault(str(a["name"]), floor_names.get(a.get("floor"), a.get("floor")))
        known = {(fold(e.name), e.domain) for e in entities}
        entities += [e for e in _entities_of(fx, area_names) if (fold(e.name), e.domain) not in known]
        floors += [f for f in floor_names.values() if f not in floors]

    marked = [str(a["name"]) for a in doc.get("areas") or [] if a.get("context_area")]
    speaker = group.context_area or (marked[0] if marked else None)
    if speaker is None and group.combo.get("context_area"):
        speaker = SPEAKER
    if speaker is not None:
        areas.setdefault(speaker, None)

    synthetic = iter(range(1, 1000))

    def ensure(room: str | None, domain: str, device_class: str | None) -> None:
        """At least one entity of the domain (and class) in ``room`` (anywhere if ``None``)."""

        def fits(e: Entity) -> bool:
            return e.domain == domain and (device_class is None or e.device_class == device_class)

        if any(fits(e) and (room is None or e.area == room) for e in entities):
            return
        spare = next((e for e in entities if fits(e) and e.area is None), None)
        if spare is not None and room is not None:
            spare.area = room
            return
        attrs = {"device_class": device_class} if device_class else {}
        entities.append(Entity(f"Zq-{next(synthetic)}", domain, room or ANNEX, _default_state(domain), attrs))
        areas.setdefault(room or ANNEX, None)

    def area_on(floor: str, fits: Callable[[Entity], bool] = lambda e: True) -> str:
        """An area on ``floor``: one holding an entity that ``fits``, else any, else a new one."""
        if floor not in floors:
            floors.append(floor)
        on = [a for a, f in areas.items() if f == floor]
        holding = [a for a in on if any(fits(e) and e.area == a for e in entities)]
        if holding or on:
            return (holding or on)[0]
        room = f"Zq {floor} Room"
        areas[room] = floor
        return room

    slots = group.slots
    domain = group_domain(group, entities)
    name, area, floor = slots.get("name"), slots.get("area"), slots.get("floor")
    if area is not None:
        areas.setdefault(str(area), None)
    if name is not None:
        named = [e for e in entities if fold(e.name) == fold(name)]
        if not named:
            entities.append(Entity(str(name), domain or "light", None, _default_state(domain or "light")))
            named = entities[-1:]
        place = str(area) if area is not None else None
        if place is None and floor is not None and not any(areas.get(e.area or "") == floor for e in named):
            place = area_on(str(floor))
        if place is not None and not any(e.area == place for e in named):
            spare = next((e for e in named if e.area is None), None)
            if spare is not None:
                spare.area = place
            else:
                first = named[0]
                entities.append(Entity(first.name, first.domain, place, first.state, dict(first.attributes)))
    elif domain is not None and (domain in MODEL_OF_DOMAIN):
        device_class = slots.get("device_class")

        def fits(e: Entity) -> bool:
            return e.domain == domain and (device_class is None or e.device_class == device_class)

        room = str(area) if area is not None else None
        if room is None and floor is not None:
            room = area_on(str(floor), fits)
        room = room or speaker
        ensure(room, domain, device_class)
        if room is not None and not any(
            fits(e) and e.area != room and (floor is None or areas.get(e.area or "") != floor)
            for e in entities
        ):
            entities.append(
                Entity(
                    f"Zq-{next(synthetic)}",
                    domain,
                    ANNEX,
                    _default_state(domain),
                    dict({"device_class": device_class} if device_class else {}),
                )
            )
            areas.setdefault(ANNEX, None)

    n = 0
    while sum(1 for e in entities if e.model is not None) < devices:
        domain = PADDING[n % len(PADDING)]
        attrs = {"device_class": "temperature"} if domain == "sensor" else {}
        entities.append(Entity(f"Zq-bg-{n}", domain, ANNEX, _default_state(domain), attrs))
        areas.setdefault(ANNEX, None)
        n += 1

    kernel = Kernel(ManualClock(1_700_000_000.0))
    kernel.add_home(Home("home", "Home", *HOME_AT))
    floors += [f for f in dict.fromkeys(areas.values()) if f is not None and f not in floors]
    floor_ids: dict[str, str] = {}
    taken: set[str] = set()
    for floor_name in floors:
        floor_ids[floor_name] = (
            _slug(floor_name, taken) if floor_name.isascii() else f"floor-{len(floor_ids) + 1}"
        )
        kernel.add_floor(Floor(floor_ids[floor_name], "home", floor_name))
    room_of_area: dict[str, str] = {}
    for area_name, floor_name in areas.items():
        room_id = _slug(area_name, taken) if area_name.isascii() else f"area-{len(taken) + 1}"
        taken.add(room_id)
        room_of_area[area_name] = room_id
        floor_id = floor_ids[floor_name] if floor_name is not None else None
        kernel.add_room(Room(room_id, "home", area_name, floor_id=floor_id))
    zones: dict[str, tuple[float, float]] = {}
    for i, e in enumerate(entities, 1):
        model = e.model
        if model is None:
            if e.domain == "scene":
                e.did = f"scene-{i}"
            elif e.domain == "person":
                e.did = _add_person(kernel, e, i, zones)
            continue
        if e.area is not None and e.area not in room_of_area:
            room_id = _slug(e.area, taken) if e.area.isascii() else f"area-{len(taken) + 1}"
            room_of_area[e.area] = room_id
            kernel.add_room(Room(room_id, "home", e.area))
        e.did = f"{e.domain}-{i}"
        room = room_of_area.get(e.area) if e.area is not None else None
        kernel.add_device(Device(e.did, e.name, model, builtin_spec(model), "test", "home", room))
        kernel.set_online(e.did, True)
        _report_state(kernel, e)
    # a Home Assistant scene becomes a trilink scene of the same name (it switches a light on)
    light = next((e.did for e in entities if e.domain == "light" and e.did), None)
    scenes = tuple(
        NamedScene(e.did, e.name, ((light, 2, 1, True),) if light else ())
        for e in entities
        if e.domain == "scene" and e.did
    )
    return World(
        kernel,
        Vocabulary.from_kernel(kernel, scenes=scenes, zones=tuple(zones)),
        entities,
        room_of_area,
        floors,
        areas,
        speaker,
        group.context_area is not None,
        zones,
    )


#: where the test homes are, and where their people are when not at home
HOME_AT = (31.2304, 121.4737)
AWAY_AT = (31.2700, 121.5300)  # about 7 km away, in no zone
HOME_STATES = frozenset({"home", "家", "在家"})
AWAY_STATES = frozenset({"not_home", "away", "外面", "外出"})


def _add_person(kernel: Kernel, e: Entity, i: int, zones: dict[str, tuple[float, float]]) -> str:
    """A Home Assistant person as a trilink person with a phone placed where the test says.

    Home Assistant's person state is a zone name ("home", "not_home", "公司"); trilink
    knows where a person is from their phone. A state naming another place becomes a
    zone 2 km from home, so the copilot can say the person is there.
    """
    did, pid = f"phone-{i}", f"person-{i}"
    kernel.add_device(
        Device(
            did, f"{e.name} phone", "trilink.phone.sim1", builtin_spec("trilink.phone.sim1"), "test", "home"
        )
    )
    kernel.add_person(Person(pid, "home", e.name, phone_did=did))
    kernel.set_online(did, True)
    state = str(plain(e.state) or "")
    if state in HOME_STATES:
        at = HOME_AT
    elif state in AWAY_STATES or not state:
        at = AWAY_AT
    else:
        at = zones.setdefault(state, (HOME_AT[0] + 0.018 * (len(zones) + 1), HOME_AT[1]))
    kernel.report(did, 2, 1, at[0])
    kernel.report(did, 2, 2, at[1])
    return did


def _celsius(value: Any, unit: str = "") -> float | None:
    try:
        x = float(value)
    except (TypeError, ValueError):
        return None
    if unit == "°F" or (unit != "°C" and x > 45):  # the suite's thermostats speak Fahrenheit
        x = (x - 32) * 5 / 9
    return round(x, 1)


def _report_state(kernel: Kernel, e: Entity) -> None:
    """Report an entity's state from the test file (values trilink's specs refuse are skipped)."""
    assert e.did is not None
    state = e.state
    reports: list[tuple[int, int, Any]] = []
    if e.domain in ("light", "switch", "fan"):
        reports.append((2, 1, state == "on"))
        if e.domain == "fan" and e.attributes.get("percentage") is not None:
            reports.append((2, 3, int(e.attributes["percentage"])))
    elif e.domain == "climate":
        reports.append((2, 1, state not in ("off", None)))
        current = _celsius(e.attributes.get("current_temperature"))
        if current is not None:
            reports.append((4, 1, current))
    elif e.domain == "cover":
        position = e.attributes.get("current_position", e.attributes.get("position"))
        if position is None:
            position = 100 if state in ("open", "opening") else 0
        reports.append((2, 2, int(float(position))))
    elif e.domain == "lock":
        reports.append((2, 1, state == "locked"))
    elif e.domain == "vacuum":
        status = {"cleaning": 2, "paused": 3, "returning": 4, "docked": 5, "error": 6}.get(str(state), 1)
        reports.append((2, 1, status))
    elif e.model == SENSOR_MODEL:
        unit = str(e.attributes.get("unit_of_measurement", ""))
        if e.device_class == "humidity":
            reports.append((2, 2, float(state)))
        else:
            value = _celsius(state, unit)
            if value is not None:
                reports.append((2, 1, value))
    for siid, piid, value in reports:
        with contextlib.suppress(InvalidValue, ValueError):
            kernel.report(e.did, siid, piid, value)


# ------------------------------------------------------------- expectations
Atom = tuple[Any, ...]


@dataclass(frozen=True)
class Expected:
    """What a correct plan does: on which devices, with what effect; or which devices it reads."""

    intent: str
    query: bool
    #: acceptable sets of devices (the first is Home Assistant's own reading)
    alternatives: tuple[frozenset[str], ...]
    #: the effect on each device (commands)
    effects: dict[str, frozenset[Atom]] = field(default_factory=dict)
    #: for room temperatures: any non-empty subset of these devices answers
    loose: frozenset[str] | None = None


@dataclass(frozen=True)
class NotRepresentable:
    """A case trilink's model cannot express (the reason says why)."""

    reason: str


@dataclass(frozen=True)
class Unscorable:
    """A case whose expectation this harness cannot compute (the reason says why)."""

    reason: str


Expectation = Expected | NotRepresentable | Unscorable


def resolve_slots(
    world: World, intent: str, slots: dict[str, Any], domain: str | None, *, area_of_speaker: str | None
) -> list[Entity] | NotRepresentable | Unscorable:
    """Home Assistant's reading of slots: the entities they target."""
    name, area, floor = slots.get("name"), slots.get("area"), slots.get("floor")
    ents = world.entities

    def on_floor(e: Entity) -> bool:
        return floor is None or (e.area is not None and world.floor_of_area.get(e.area) == floor)

    if name is not None:
        found = [e for e in ents if fold(e.name) == fold(name) and on_floor(e)]
        if area is not None:
            found = [e for e in found if e.area == area]
        return found or Unscorable(f"no entity {name!r}")
    if domain is None:
        return Unscorable("domain unknown")
    scope = str(area) if area is not None else (None if floor is not None else area_of_speaker)

    def in_scope(e: Entity) -> bool:
        return (scope is None or e.area == scope) and on_floor(e)

    device_class = slots.get("device_class")
    found = [
        e
        for e in ents
        if e.domain == domain and in_scope(e) and (device_class is None or e.device_class == device_class)
    ]
    if device_class is not None and found:
        # trilink has one kind for every cover: the class must not narrow the set
        same_domain = [e for e in ents if e.domain == domain and in_scope(e)]
        if len(same_domain) != len(found):
            return NotRepresentable("device_class")
    return found or Unscorable("no entity in scope")


def effect_of(intent: str, entity: Entity, values: dict[str, Any]) -> frozenset[Atom] | NotRepresentable:
    """The effect of a Home Assistant intent with ``values`` on one entity."""
    d = entity.domain
    if intent in ("HassTurnOn", "HassTurnOff") and d == "scene":
        # Home Assistant activates a scene; it has no "off"
        return frozenset({("scene",)}) if intent == "HassTurnOn" else NotRepresentable("scene off")
    if intent in ("HassTurnOn", "HassTurnOff"):
        on = intent == "HassTurnOn"
        if d in ("light", "switch", "fan", "climate"):
            return frozenset({("on", on)})
        atom = {"cover": ("open",) if on else ("close",), "lock": ("lock",) if on else ("unlock",)}.get(d)
        if atom is None and d == "vacuum":
            atom = ("start",) if on else ("stop",)
        return frozenset({atom}) if atom is not None else NotRepresentable(f"domain:{d}")
    if intent == "HassLightSet":
        atoms: set[Atom] = set()
        if values.get("brightness") is not None:
            atoms.add(("brightness", values["brightness"]))
        if values.get("temperature") is not None:
            atoms.add(("color_temperature", values["temperature"]))
        if values.get("color") is not None:
            rgb = HA_COLORS.get(str(values["color"]))
            if rgb is None or rgb == (0, 0, 0):
                return NotRepresentable(f"color:{values['color']}")
            atoms.add(("color", rgb))
        if not atoms:
            return NotRepresentable("light: nothing to set")
        return frozenset(atoms)
    simple = {
        "HassClimateSetTemperature": ("temperature", values.get("temperature")),
        "HassSetPosition": ("position", values.get("position")),
        "HassFanSetSpeed": ("fan_speed", values.get("percentage")),
        "HassVacuumStart": ("start",),
        "HassVacuumReturnToBase": ("dock",),
    }.get(intent)
    if simple is None:
        return NotRepresentable(f"intent:{intent}")
    return frozenset({simple})


#: Home Assistant's colour names as its light intent handler reads them (CSS3 RGB values)
HA_COLORS: dict[str, tuple[int, int, int]] = {
    "white": (255, 255, 255),
    "black": (0, 0, 0),
    "red": (255, 0, 0),
    "orange": (255, 165, 0),
    "yellow": (255, 255, 0),
    "green": (0, 128, 0),
    "blue": (0, 0, 255),
    "purple": (128, 0, 128),
    "brown": (165, 42, 42),
    "pink": (255, 192, 203),
    "turquoise": (64, 224, 208),
}


def same_colour(want: tuple[int, int, int], rgb: int) -> bool:
    """Whether a light set to ``rgb`` (0xRRGGBB) shows the colour ``want``.

    A light's brightness is its own property, so colours are compared by hue and
    saturation: both near-white, or hues within 15° and saturations within 0.35.
    """
    if not isinstance(rgb, int) or isinstance(rgb, bool) or not 0 < rgb <= 0xFFFFFF:
        return False
    h1, s1, _ = colorsys.rgb_to_hsv(*(c / 255 for c in want))
    h2, s2, _ = colorsys.rgb_to_hsv(((rgb >> 16) & 255) / 255, ((rgb >> 8) & 255) / 255, (rgb & 255) / 255)
    if s1 < 0.15 or s2 < 0.15:
        return s1 < 0.15 and s2 < 0.15
    hue = abs(h1 - h2) * 360
    return min(hue, 360 - hue) <= 15 and abs(s1 - s2) <= 0.35


#: effect atom → the spec property whose range the value must fit
_RANGE_OF = {
    "brightness": "brightness",
    "color_temperature": "color-temperature",
    "temperature": "target-temperature",
    "position": "target-position",
    "fan_speed": "speed-level",
}


def _fits_device(world: World, did: str, atoms: Iterable[Atom]) -> str | None:
    """Why a value does not fit the device's spec (``None``: it fits)."""
    if did not in world.kernel.registry.devices:
        return None  # a scene: nothing to fit
    spec = world.spec(did)
    for atom in atoms:
        if atom[0] == "color":
            if not any(p.name == "color" and p.writable for p in spec.iter_properties()):
                return f"no color on {spec.name}"
            continue
        if len(atom) != 2 or atom[0] not in _RANGE_OF:
            continue
        prop = next((p for p in spec.iter_properties() if p.name == _RANGE_OF[atom[0]] and p.writable), None)
        if prop is None:
            return f"no {atom[0]} on {spec.name}"
        vr = prop.value_range
        if vr is not None and not (vr.min <= float(atom[1]) <= vr.max):
            return f"value:{atom[0]} {atom[1]} outside {vr.min:g}..{vr.max:g}"
    return None


def _ha_state(e: Entity) -> str:
    return str(plain(e.state))


def says_here(sentence: str) -> bool:
    """Whether a sentence names the speaker's room ("in here", "这里", "ここ")."""
    return bool(HERE_RE.search(sentence.casefold()))


def expected_for(world: World, group: Group, sentence: str | None = None) -> Expectation:
    """What a correct answer to the group's sentences (or to one of them) does in ``world``.

    When a test implies the speaker's room without pinning it (no ``context`` of its own)
    and the sentence does not say "here" ("turn on all the fans"), acting on the whole
    home is accepted too.
    """
    slots = group.slots
    domain = group_domain(group, world.entities)
    found = resolve_slots(world, group.intent, slots, domain, area_of_speaker=world.speaker)
    if not isinstance(found, list):
        return found
    unrepresentable = sorted({e.domain for e in found if e.did is None})
    if unrepresentable:
        return NotRepresentable(f"domain:{'/'.join(unrepresentable)}")
    dids = frozenset(e.did for e in found if e.did is not None)
    alternatives = [dids]
    if (
        world.speaker is not None
        and not world.explicit_speaker
        and slots.get("name") is None
        and slots.get("area") is None
        and slots.get("floor") is None
        and not (sentence is not None and says_here(sentence))
    ):
        # the test does not pin the speaker's room: "all the lights" may mean the home's
        home = resolve_slots(world, group.intent, slots, domain, area_of_speaker=None)
        if isinstance(home, list) and all(e.did for e in home):
            alternatives.append(frozenset(e.did for e in home if e.did is not None))
    if group.intent in QUERIES:
        loose = None
        if group.intent == "HassClimateGetTemperature" and slots.get("name") is None:
            room = slots.get("area") or (None if slots.get("floor") else world.speaker)
            floor = slots.get("floor")
            loose = frozenset(
                e.did
                for e in world.entities
                if e.did
                and e.temperature_sensor
                and (room is None or e.area == room)
                and (floor is None or world.floor_of_area.get(e.area or "") == floor)
            )
        state = slots.get("state")
        if state is not None and slots.get("name") is None:
            # "which lights are on" is answered by all of them, or by those on (or off)
            matched = frozenset(e.did for e in found if e.did and _ha_state(e) == str(state))
            alternatives += [matched, dids - matched]
        return Expected(group.intent, True, _unique(alternatives), loose=loose)
    effects: dict[str, frozenset[Atom]] = {}
    for e in world.entities:
        if e.did is None or not any(e.did in alt for alt in alternatives):
            continue
        effect = effect_of(group.intent, e, slots)
        if isinstance(effect, NotRepresentable):
            return effect
        why = _fits_device(world, e.did, effect)
        if why is not None:
            return NotRepresentable(why)
        effects[e.did] = effect
    return Expected(group.intent, False, _unique(alternatives), effects)


def _unique(sets: list[frozenset[str]]) -> tuple[frozenset[str], ...]:
    out: list[frozenset[str]] = []
    for s in sets:
        if s not in out:
            out.append(s)
    return tuple(out)


# ----------------------------------------------------------------- outcomes
@dataclass
class Outcome:
    """What an engine did: effects per device (commands) and the devices read (questions)."""

    effects: dict[str, set[Atom]] = field(default_factory=dict)
    facts: set[str] = field(default_factory=set)
    subjects: set[str] = field(default_factory=set)
    answered: bool = False
    intent: str | None = None  # the Home Assistant intent, for the baseline


def outcome_of_plan(plan: Plan, world: World) -> Outcome:
    """Read a plan back: what each step does, by its spec property or action name."""
    out = Outcome()
    for step in plan.steps:
        spec = world.spec(step.did)
        atoms = out.effects.setdefault(step.did, set())
        if step.kind == "call":
            action = spec.actions.get((step.siid, step.iid))
            name = action.name if action is not None else "?"
            atoms.add(
                {
                    "lock": ("lock",),
                    "unlock": ("unlock",),
                    "start-sweep": ("start",),
                    "stop-sweeping": ("stop",),
                    "pause-sweeping": ("pause",),
                    "start-charge": ("dock",),
                }.get(name, ("call", name))
            )
            continue
        prop = spec.properties.get((step.siid, step.iid))
        name = prop.name if prop is not None else "?"
        v = step.value
        if name == "on":
            atoms.add(("on", bool(v)))
        elif name in ("brightness", "color-temperature", "target-temperature", "speed-level"):
            key = {
                "brightness": "brightness",
                "color-temperature": "color_temperature",
                "target-temperature": "temperature",
                "speed-level": "fan_speed",
            }[name]
            atoms.add((key, v))
        elif name == "color":
            atoms.add(("rgb", v))
        elif name == "target-position":
            atoms.add(("position", v))
            if v in (0, 100):
                atoms.add(("open",) if v == 100 else ("close",))
        elif name == "motor-control" and prop is not None:
            desc = next((c.description for c in prop.value_list or () if c.value == v), "")
            atoms.add((fold(desc),))
        elif name == "fan-level" and prop is not None:
            levels = tuple(
                sorted(c.value for c in prop.value_list or () if isinstance(c.value, int) and c.value > 0)
            )
            atoms.add(("fan_level", v, levels))
        else:
            atoms.add(("set", name, v))
    for scene_id in plan.scenes:
        out.effects.setdefault(scene_id, set()).add(("scene",))
    for fact in plan.facts:
        out.answered = True
        out.subjects.add(fact.subject)
        if fact.did:
            out.facts.add(fact.did)
    return out


def _level_for(percent: float, levels: tuple[int, ...]) -> int | None:
    if not levels or percent <= 0:
        return None
    return levels[min(len(levels) - 1, max(0, math.ceil(percent / 100 * len(levels)) - 1))]


def _satisfied(want: Atom, got: set[Atom]) -> bool:
    key = want[0]
    if key == "position":
        n = want[1]
        return ("position", n) in got or (n == 100 and ("open",) in got) or (n == 0 and ("close",) in got)
    if key == "open":
        return ("open",) in got or ("position", 100) in got
    if key == "close":
        return ("close",) in got or ("position", 0) in got
    if key == "temperature":
        return any(a[0] == "temperature" and abs(float(a[1]) - float(want[1])) < 1e-6 for a in got)
    if key == "color":
        return want in got or any(a[0] == "rgb" and same_colour(want[1], a[1]) for a in got)
    if key == "fan_speed":
        return ("fan_speed", want[1]) in got or any(
            a[0] == "fan_level" and a[1] == _level_for(float(want[1]), a[2]) for a in got
        )
    return want in got


def _contradicts(want: frozenset[Atom], got: set[Atom]) -> bool:
    opposite = {("open",): ("close",), ("close",): ("open",), ("lock",): ("unlock",), ("unlock",): ("lock",)}
    for atom in want:
        if atom[0] == "on" and ("on", not atom[1]) in got:
            return True
        if opposite.get(atom) in got:
            return True
    return False


def compare(outcome: Outcome, expected: Expected, world: World) -> tuple[bool, str]:
    """Whether an outcome is what was expected, and if not, why."""

    def names(dids: Iterable[str]) -> str:
        return "{" + ", ".join(sorted(world.name_of(d) for d in dids)) + "}"

    if outcome.intent is not None and outcome.intent != expected.intent:
        return False, f"intent {outcome.intent}, expected {expected.intent}"
    if expected.query:
        if outcome.effects:
            return False, f"sent commands to {names(outcome.effects)} for a question"
        if not outcome.answered:
            return False, "no answer"
        if expected.intent == "HassClimateGetTemperature" and outcome.subjects != {"temperature"}:
            return False, f"answered {sorted(outcome.subjects)}, not the temperature"
        got = frozenset(outcome.facts)
        if expected.loose is not None and got and got <= expected.loose:
            return True, ""
        if got in expected.alternatives:
            return True, ""
        return False, f"read {names(got)}, expected {names(expected.alternatives[0])}"
    if outcome.answered and not outcome.effects:
        return False, "answered instead of acting"
    touched = frozenset(outcome.effects)
    if touched not in expected.alternatives:
        return False, f"acted on {names(touched)}, expected {names(expected.alternatives[0])}"
    for did in touched:
        want = expected.effects[did]
        done = outcome.effects[did]
        if not all(_satisfied(a, done) for a in want) or _contradicts(want, done):
            return False, f"{world.name_of(did)}: did {sorted(done)}, expected {sorted(want)}"
    return True, ""


def score_plan(plan: Plan, expected: Expected, world: World) -> tuple[bool, str]:
    """The one comparison of a plan with what was expected: ``(correct, why not)``."""
    return compare(outcome_of_plan(plan, world), expected, world)


# ------------------------------------------------------------------ engines
Engine = Callable[[str, Vocabulary, World], Understanding | None]


def grammar_engine() -> Engine:
    """Our grammar engine alone (then the planner)."""
    engine = GrammarEngine()
    engine.warm()

    def run(text: str, vocabulary: Vocabulary, world: World) -> Understanding | None:
        lang = detect_language(text)
        return engine.understand(text, vocabulary, lang)

    return run


def offline_engine() -> Engine:
    """The offline engine (grammar and rules), as the copilot runs it."""
    from trilink.copilot.offline import OfflineEngine

    engine = OfflineEngine()

    def run(text: str, vocabulary: Vocabulary, world: World) -> Understanding | None:
        return engine.understand(text, vocabulary, detect_language(text))

    return run


def run_ours(engine: Engine, text: str, world: World) -> tuple[Plan, float, float]:
    """Plan ``text`` with our pipeline; returns the plan and the seconds to understand and to plan."""
    t0 = time.perf_counter()
    understanding = engine(text, world.vocabulary, world)
    t1 = time.perf_counter()
    if understanding is None:
        understanding = Understanding("en", (), "none", text=text)
    plan = Planner(world.kernel, zones=lambda: world.zones).plan(
        understanding, speaker_room=world.speaker_room, vocabulary=world.vocabulary
    )
    return plan, t1 - t0, time.perf_counter() - t1


@cache
def baseline_intents(lang: str) -> Intents:
    """Every intent of a language, as Home Assistant loads them."""
    data = home_assistant_intents.get_intents(lang)
    assert data is not None, lang
    return Intents.from_dict(data)


def baseline_lists(world: World) -> dict[str, SlotList]:
    """Home Assistant's slot lists for a home: every entity name (with its domain), areas, floors."""
    names = [(e.name, e.name, {"domain": e.domain}) for e in world.entities]
    return {
        "name": TextSlotList.from_tuples(names, allow_template=False, name="name"),
        "area": TextSlotList.from_strings(list(world.room_of_area), allow_template=False, name="area"),
        "floor": TextSlotList.from_strings(world.floors, allow_template=False, name="floor"),
    }


def run_baseline(
    text: str, lang: str, world: World, lists: dict[str, SlotList]
) -> tuple[RecognizeResult | None, float]:
    """Plain hassil on ``text``; returns its result and the seconds it took."""
    context = {"area": world.speaker} if world.speaker is not None else None
    t0 = time.perf_counter()
    result = recognize_best(
        text, baseline_intents(lang), slot_lists=lists, intent_context=context, best_slot_name="name"
    )
    return result, time.perf_counter() - t0


def outcome_of_result(result: RecognizeResult | None, world: World) -> Outcome:
    """What Home Assistant would do with a hassil result, resolved by this harness."""
    out = Outcome()
    if result is None or result.intent.name not in SCOPE:
        return out
    intent = result.intent.name
    out.intent = intent
    slots = {k: plain(v.value) for k, v in result.entities.items()}
    if slots.get("area") == world.speaker and world.speaker is not None and "area" in result.context:
        slots.pop("area")  # the context area: the speaker's room
    domain = slots.get("domain") or result.context.get("domain") or DOMAIN_OF_INTENT.get(intent)
    if isinstance(domain, list):
        domain = domain[0] if len(domain) == 1 else None
    if slots.get("device_class") and not domain:
        domain = "cover"
    found = resolve_slots(world, intent, slots, domain, area_of_speaker=world.speaker)
    if not isinstance(found, list):
        found = []
    dids = [e.did or f"ha:{e.name}" for e in found]
    if intent in QUERIES:
        out.answered = True
        out.facts = set(dids)
        out.subjects = {"temperature" if intent == "HassClimateGetTemperature" else "state"}
        return out
    for e, did in zip(found, dids, strict=True):
        effect = effect_of(intent, e, slots)
        out.effects[did] = set(effect) if not isinstance(effect, NotRepresentable) else {("unrepresentable",)}
    return out


# --------------------------------------------------------------------- runs
@dataclass
class Row:
    """Results of one language × intent."""

    sentences: int = 0
    scored: int = 0
    ours_ok: int = 0
    base_ok: int = 0
    not_representable: int = 0
    unscorable: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    failures: list[dict[str, Any]] = field(default_factory=list)
    base_failures: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON form (failures trimmed by the caller)."""
        return {
            "sentences": self.sentences,
            "scored": self.scored,
            "ours_ok": self.ours_ok,
            "baseline_ok": self.base_ok,
            "ours_accuracy": self.ours_ok / self.scored if self.scored else None,
            "baseline_accuracy": self.base_ok / self.scored if self.scored else None,
            "not_representable": self.not_representable,
            "unscorable": self.unscorable,
            "not_representable_reasons": dict(sorted(self.reasons.items())),
        }


@dataclass
class Report:
    """A whole evaluation."""

    rows: dict[tuple[str, str], Row] = field(default_factory=dict)
    ours_understand_s: list[float] = field(default_factory=list)
    ours_total_s: list[float] = field(default_factory=list)
    base_s: list[float] = field(default_factory=list)

    def row(self, lang: str, intent: str) -> Row:
        """The row of a language × intent."""
        return self.rows.setdefault((lang, intent), Row())

    def language(self, lang: str) -> Row:
        """A language's rows summed."""
        total = Row()
        for (lg, _), r in self.rows.items():
            if lg != lang:
                continue
            total.sentences += r.sentences
            total.scored += r.scored
            total.ours_ok += r.ours_ok
            total.base_ok += r.base_ok
            total.not_representable += r.not_representable
            total.unscorable += r.unscorable
            for k, v in r.reasons.items():
                total.reasons[k] = total.reasons.get(k, 0) + v
            total.failures += r.failures
            total.base_failures += r.base_failures
        return total


def evaluate(
    groups: Iterable[Group],
    engine: Engine | None = None,
    *,
    baseline: bool = True,
    with_fixtures: bool = False,
    devices: int = 20,
) -> Report:
    """Score every sentence of ``groups`` with our pipeline (and the baseline)."""
    engine = engine or grammar_engine()
    report = Report()
    warmed: set[str] = set()
    for group in groups:
        row = report.row(group.lang, group.intent)
        world = build_world(group, with_fixtures=with_fixtures, devices=devices)
        expected = expected_for(world, group)
        row.sentences += len(group.sentences)
        if isinstance(expected, NotRepresentable):
            row.not_representable += len(group.sentences)
            row.reasons[expected.reason] = row.reasons.get(expected.reason, 0) + len(group.sentences)
            continue
        if isinstance(expected, Unscorable):
            row.unscorable += len(group.sentences)
            row.reasons[f"unscorable:{expected.reason}"] = row.reasons.get(
                f"unscorable:{expected.reason}", 0
            ) + len(group.sentences)
            continue
        lists: dict[str, SlotList] = baseline_lists(world) if baseline else {}
        if group.lang not in warmed:  # templates are parsed on first use: keep that out of the timings
            warmed.add(group.lang)
            engine(group.sentences[0], world.vocabulary, world)
            if baseline:
                run_baseline(group.sentences[0], group.lang, world, lists)
        for sentence in group.sentences:
            row.scored += 1
            expected = expected_for(world, group, sentence)
            assert isinstance(expected, Expected)
            plan, t_understand, t_plan = run_ours(engine, sentence, world)
            report.ours_understand_s.append(t_understand)
            report.ours_total_s.append(t_understand + t_plan)
            ok, why = score_plan(plan, expected, world)
            if ok:
                row.ours_ok += 1
            else:
                row.failures.append(_failure(group, sentence, why, plan.understanding))
            if baseline:
                result, t_base = run_baseline(sentence, group.lang, world, lists)
                report.base_s.append(t_base)
                ok, why = compare(outcome_of_result(result, world), expected, world)
                if ok:
                    row.base_ok += 1
                else:
                    row.base_failures.append(
                        {"where": group.where, "sentence": sentence, "why": why, "got": _describe(result)}
                    )
    return report


def _failure(group: Group, sentence: str, why: str, understanding: Understanding) -> dict[str, Any]:
    intents = [
        {"name": i.name, "target": {k: v for k, v in vars_of(i.target).items() if v}, "values": i.values}
        for i in understanding.intents
    ]
    return {
        "where": group.where,
        "sentence": sentence,
        "why": why,
        "understood": intents,
        "slots": group.slots,
    }


def vars_of(obj: Any) -> dict[str, Any]:
    """A slotted dataclass's fields."""
    return {name: getattr(obj, name) for name in getattr(obj, "__slots__", ())}


def _describe(result: RecognizeResult | None) -> str:
    if result is None:
        return "no match"
    return f"{result.intent.name} { ({k: v.value for k, v in result.entities.items()}) }"


# ---------------------------------------------------------------------- CLI
def _pct(ok: int, n: int) -> str:
    return f"{ok / n:6.1%}" if n else "     -"


def render(report: Report, show_failures: int = 0) -> Iterator[str]:
    """The report as text lines: a table per language × intent, then latencies and failures."""
    baseline = bool(report.base_s)

    def base(r: Row) -> str:
        return _pct(r.base_ok, r.scored) if baseline else "     -"

    head = f"{'language':8} {'intent':28} {'sent.':>5} {'scored':>6} {'ours':>7} {'baseline':>8}"
    yield f"{head} {'not repr.':>9}"
    for lang in sorted(
        {lg for lg, _ in report.rows}, key=lambda x: LANGUAGES.index(x) if x in LANGUAGES else 99
    ):
        for intent in INTENTS:
            r = report.rows.get((lang, intent))
            if r is None:
                continue
            yield (
                f"{lang:8} {intent:28} {r.sentences:5} {r.scored:6} {_pct(r.ours_ok, r.scored):>7} "
                f"{base(r):>8} {r.not_representable + r.unscorable:9}"
            )
        t = report.language(lang)
        yield (
            f"{lang:8} {'— all —':28} {t.sentences:5} {t.scored:6} {_pct(t.ours_ok, t.scored):>7} "
            f"{base(t):>8} {t.not_representable + t.unscorable:9}"
        )
        if t.reasons:
            yield f"{'':8} not representable: " + ", ".join(f"{k} {v}" for k, v in sorted(t.reasons.items()))
    for label, xs in (
        ("ours: understand", report.ours_understand_s),
        ("ours: understand + plan", report.ours_total_s),
        ("baseline: hassil, all intents", report.base_s),
    ):
        if xs:
            yield (
                f"latency {label:30} median {median(xs) * 1000:6.2f} ms"
                f"   p95 {percentile(xs, 95) * 1000:6.2f} ms"
                f"   max {max(xs) * 1000:6.1f} ms   (n={len(xs)})"
            )
    if show_failures:
        for lang in sorted({lg for lg, _ in report.rows}):
            t = report.language(lang)
            for f in t.failures[:show_failures]:
                yield f"FAIL {f['where']}: {f['sentence']!r} — {f['why']} — understood {f['understood']}"


def latency(xs: list[float]) -> dict[str, float | None]:
    """Median and p95 in milliseconds."""
    if not xs:
        return {"median_ms": None, "p95_ms": None}
    return {"median_ms": median(xs) * 1000, "p95_ms": percentile(xs, 95) * 1000, "max_ms": max(xs) * 1000}


def _row_json(row: Row, args: argparse.Namespace) -> dict[str, Any]:
    data = row.to_dict()
    if args.no_baseline:
        del data["baseline_ok"], data["baseline_accuracy"]
    return data


def main(argv: list[str] | None = None) -> int:
    """Run the evaluation from the command line."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--lang", nargs="+", default=list(LANGUAGES), choices=LANGUAGES)
    ap.add_argument("--intent", nargs="+", default=list(INTENTS), choices=INTENTS)
    ap.add_argument("--engine", choices=("grammar", "offline"), default="grammar")
    ap.add_argument("--show-failures", type=int, default=0, metavar="N", help="list N failures per language")
    ap.add_argument("--no-baseline", action="store_true")
    ap.add_argument(
        "--with-fixtures", action="store_true", help="add the legacy _fixtures.yaml entities (en)"
    )
    ap.add_argument("--devices", type=int, default=20, help="fill each home up to N devices (default 20)")
    ap.add_argument("--no-save", action="store_true", help="do not write bench/results/copilot_eval.json")
    args = ap.parse_args(argv)
    try:
        engine = grammar_engine() if args.engine == "grammar" else offline_engine()
    except ImportError as exc:  # the offline engine's parts may not all be there yet
        print(f"cannot load the {args.engine} engine: {exc}", file=sys.stderr)
        return 2
    groups = load_suite(args.lang, args.intent)
    report = evaluate(
        groups, engine, baseline=not args.no_baseline, with_fixtures=args.with_fixtures, devices=args.devices
    )
    for line in render(report, args.show_failures):
        print(line)
    if not args.no_save:
        data = {
            "suite": "Home Assistant intents tests (Open Home Foundation contributors, CC BY 4.0)",
            "engine": args.engine,
            "with_fixtures": args.with_fixtures,
            "devices_per_home": args.devices,
            "rows": {f"{lg}/{it}": _row_json(r, args) for (lg, it), r in sorted(report.rows.items())},
            "languages": {lg: _row_json(report.language(lg), args) for lg in args.lang},
            "latency": {
                "ours_understand": latency(report.ours_understand_s),
                "ours_understand_and_plan": latency(report.ours_total_s),
                "baseline": latency(report.base_s),
            },
            "failures": {lg: report.language(lg).failures[:50] for lg in args.lang},
            "baseline_failures": {lg: report.language(lg).base_failures[:50] for lg in args.lang},
        }
        print(f"saved {save('copilot_eval', data)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
