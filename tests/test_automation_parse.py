"""Loading definitions: names resolved, values checked with the spec, every error with its line."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from test_automation_engine import World, make_world
from trilink.automation import DefinitionError, MemoryAutomationStore
from trilink.automation.definitions import (
    DeviceSelector,
    PropertyTrigger,
    ProximityTrigger,
    SetAction,
    SetTarget,
    StateCondition,
    WaitAction,
)
from trilink.automation.parse import parse_document
from trilink.automation.yamlsrc import load_yaml


@pytest.fixture
async def world() -> AsyncIterator[World]:
    w = await make_world()
    yield w
    await w.engine.stop()


def line_of(text: str, needle: str) -> int:
    """The 1-based line of the first line containing ``needle``."""
    for number, line in enumerate(text.splitlines(), 1):
        if needle in line:
            return number
    raise AssertionError(f"{needle!r} not in the text")


def errors(world: World, text: str, source: str = "automations.yaml") -> list[DefinitionError]:
    return world.engine.load_yaml(text, source).errors


GOOD = """
automations:
  - id: good
    triggers: [{type: webhook, id: good-hook-id}]
    actions: [{set: {device: light-living, property: 2.1, value: true}}]
"""


async def test_names_resolve_to_dids_and_iids(world: World) -> None:
    text = """
automations:
  - id: named
    triggers:
      - type: property
        device: Living Room Sensor
        property: temperature-humidity-sensor.temperature
        above: 26
      - {type: proximity, who: alex, zone: home, within: 3 km}
    conditions:
      - {type: state, device: Living Room AC, property: air-conditioner.mode, is: 2}
    actions:
      - set: {device: Living Room AC, property: air-conditioner.target-temperature, value: 24}
      - set: {devices: {kind: light, room: Bedroom}, property: light.on, value: true}
      - wait: {trigger: {type: availability, device: vacuum, to: offline}, timeout: "00:10:00"}
"""
    parsed = parse_document(load_yaml(text, "t.yaml"), world.kernel, "home", {}, set())
    assert parsed.errors == []
    (a,) = parsed.automations
    prop_trigger, proximity = a.triggers
    assert isinstance(prop_trigger, PropertyTrigger) and prop_trigger.ref.key == ("sensor-living", 2, 1)
    assert isinstance(proximity, ProximityTrigger)
    assert (proximity.who.did, proximity.within, proximity.direction) == ("phone-alex", 3000.0, "any")
    (state,) = a.conditions
    assert isinstance(state, StateCondition) and state.values == (2,)
    one, many, wait = a.actions
    assert isinstance(one, SetAction) and one.targets == (SetTarget("ac-living", 2, 3, 24),)
    assert isinstance(many, SetAction) and many.device == DeviceSelector("light", "bedroom")
    assert [t.did for t in many.targets] == ["light-bedroom"]
    assert isinstance(wait, WaitAction) and wait.timeout == 600
    assert (a.mode, a.max_runs, a.name) == ("single", 10, "named")
    assert parsed.data[("automation", "named")]["id"] == "named"


async def test_out_of_range_value_names_the_rule_and_the_line(world: World) -> None:
    text = """# cooling
automations:
  - id: cool
    triggers:
      - type: proximity
        who: car
        zone: home
        within: 3 km
        direction: towards
    actions:
      - set: {device: ac-living, property: 2.2, value: 2}
      - set:
          device: ac-living
          property: 2.3
          value: 40
"""
    (error,) = errors(world, text)
    assert error.line == line_of(text, "value: 40") == 15
    assert str(error) == (
        "automations.yaml:15: automations[0].actions[1].set.value: "
        "40 is out of range (allowed 16..31 step 0.5 celsius) [range]"
    )
    assert error.to_dict()["code"] == "invalid-definition"


@pytest.mark.parametrize(
    ("snippet", "path", "reason"),
    [
        (
            "{set: {device: ac-livng, property: 2.1, value: true}}",
            "automations[0].actions[0].set.device",
            "unknown device 'ac-livng' (give a did or a device name)",
        ),
        (
            "{set: {device: ac-living, property: 9.9, value: true}}",
            "automations[0].actions[0].set.property",
            "ac-living has no property 9.9 (properties: 1.1 device-information.manufacturer",
        ),
        (
            "{set: {device: ac-living, property: 4.1, value: 20}}",
            "automations[0].actions[0].set.value",
            "temperature is read-only (access: read, notify) [access]",
        ),
        (
            "{set: {device: ac-living, property: 2.2, value: 7}}",
            "automations[0].actions[0].set.value",
            "7 is not one of the allowed values: 1 (Auto), 2 (Cool)",
        ),
        (
            "{call: {device: lock-front, action: 2.1, args: [1]}}",
            "automations[0].actions[0].call.args",
            "lock takes 0 argument(s) (piids []), got 1 [arguments]",
        ),
        (
            "{call: {device: lock-front, action: lock.open}}",
            "automations[0].actions[0].call.action",
            "lock-front has no action lock.open (actions: 2.1 lock.lock, 2.2 lock.unlock)",
        ),
        ("{sett: {device: ac-living}}", "automations[0].actions[0].sett", "unknown action 'sett'"),
        (
            "{set: {device: ac-living, property: 2.1, value: true, colour: red}}",
            "automations[0].actions[0].set.colour",
            "unknown key 'colour' in set (allowed: property, value, device, devices)",
        ),
        ("{delay: soon}", "automations[0].actions[0].delay", "'soon' is not a duration"),
        ("{scene: nope}", "automations[0].actions[0].scene", "unknown scene 'nope' (scenes: none)"),
        (
            "{notify: {person: bob, message: hi}}",
            "automations[0].actions[0].notify.person",
            "unknown person 'bob'",
        ),
        (
            "{set: {devices: {kind: toaster}, property: 2.1, value: true}}",
            "automations[0].actions[0].set.devices",
            "no device matches (every device of kind toaster) with that property",
        ),
    ],
)
async def test_bad_actions_are_refused_with_path_and_reason(
    world: World, snippet: str, path: str, reason: str
) -> None:
    text = f"""
automations:
  - id: bad
    triggers: [{{type: webhook, id: bad-hook-id}}]
    actions:
      - {snippet}
"""
    (error,) = errors(world, text)
    assert error.path == path
    assert reason in error.reason
    assert error.line == 6


@pytest.mark.parametrize(
    ("trigger", "path", "reason"),
    [
        ("{type: teleport}", "triggers[0].type", "unknown trigger type 'teleport' (types: property, event"),
        ("{device: ac-living}", "triggers[0]", "a trigger needs a type"),
        ("{type: property, device: ac-living, property: 2.2, to: 9}", "triggers[0].to", "[value-list]"),
        (
            "{type: property, device: ac-living, property: 2.1, above: 3}",
            "triggers[0].above",
            "numeric property",
        ),
        (
            "{type: property, device: sensor-living, property: 2.1, above: 30, below: 20}",
            "triggers[0].below",
            "more than",
        ),
        (
            "{type: property, device: ac-living, property: 2.1, for: forever}",
            "triggers[0].for",
            "not a duration",
        ),
        ("{type: event, device: car, event: 9.9}", "triggers[0].event", "car has no event 9.9"),
        ("{type: time, at: '25:00'}", "triggers[0].at", "not a time of day"),
        ("{type: time, at: '07:00', weekdays: [someday]}", "triggers[0].weekdays", "not a weekday"),
        ("{type: sun, event: noon}", "triggers[0].event", "event must be one of sunrise, sunset"),
        (
            "{type: zone, who: ac-living, zone: home, event: enter}",
            "triggers[0].who",
            "ac-living has no location",
        ),
        (
            "{type: zone, who: car, zone: mars, event: enter}",
            "triggers[0].zone",
            "unknown zone 'mars' (zones: home)",
        ),
        ("{type: proximity, who: sam, zone: home, within: 1 km}", "triggers[0].who", "sam has no phone"),
        ("{type: proximity, who: car, zone: home, within: far}", "triggers[0].within", "not a distance"),
        ("{type: presence, person: everyone, to: moon}", "triggers[0].to", "to must be one of home, away"),
        ("{type: webhook, id: x}", "triggers[0].id", "a webhook id is a secret"),
        ("{type: hub_start, at: now}", "triggers[0].at", "unknown key 'at' in a hub_start trigger"),
        ("{type: availability, device: car, to: sleeping}", "triggers[0].to", "online, offline"),
    ],
)
async def test_bad_triggers_are_refused(world: World, trigger: str, path: str, reason: str) -> None:
    text = f"""
automations:
  - id: bad
    triggers:
      - {trigger}
    actions: [{{stop: x}}]
"""
    (error,) = errors(world, text)
    assert error.path == "automations[0]." + path
    assert reason in error.reason, error.reason
    assert error.line == 5


@pytest.mark.parametrize(
    ("condition", "path", "reason"),
    [
        ("{type: state, device: ac-living, property: 2.1}", "conditions[0]", "either 'is'"),
        ("{type: state, device: ac-living, property: 2.1, is: 1}", "conditions[0].is", "expected bool"),
        ("{type: numeric, device: sensor-living, property: 2.1}", "conditions[0]", "above and/or below"),
        ("{type: time}", "conditions[0]", "after, before and/or weekdays"),
        ("{type: sun, after: noon}", "conditions[0].after", "sunrise or sunset"),
        ("{type: and, conditions: []}", "conditions[0].conditions", "at least one condition"),
        ("{type: waited, completed: maybe}", "conditions[0].completed", "true or false"),
        ("{type: perhaps}", "conditions[0].type", "unknown condition type 'perhaps'"),
    ],
)
async def test_bad_conditions_are_refused(world: World, condition: str, path: str, reason: str) -> None:
    text = f"""
automations:
  - id: bad
    triggers: [{{type: hub_start}}]
    conditions:
      - {condition}
    actions: [{{stop: x}}]
"""
    (error,) = errors(world, text)
    assert error.path == "automations[0]." + path
    assert reason in error.reason, error.reason


async def test_a_yaml_syntax_error_has_its_line(world: World) -> None:
    text = "automations:\n  - id: a\n    triggers: [{type: hub_start}\n    actions: []\n"
    report = world.engine.load_yaml(text, "broken.yaml")
    (error,) = report.errors
    assert report.loaded == [] and error.source == "broken.yaml"
    assert error.line is not None and 3 <= error.line <= 4
    assert "YAML syntax error" in error.reason


async def test_bad_definitions_are_refused_while_the_others_load_and_keep_running(world: World) -> None:
    await world.load(GOOD, "earlier.yaml")
    text = """
automations:
  - id: also-good
    triggers: [{type: webhook, id: also-good-hook}]
    actions: [{set: {device: light-kitchen, property: 2.1, value: true}}]
  - id: two-errors
    triggers:
      - {type: teleport}
      - {type: property, device: nowhere, property: 2.1}
    actions: [{set: {device: ac-living, property: 2.3, value: 40}}]
  - id: also-good
    triggers: [{type: hub_start}]
    actions: [{stop: duplicate}]
  - id: bad id!
    triggers: [{type: hub_start}]
    actions: [{stop: x}]
  - {id: wrong-types, triggers: soon, actions: [{stop: x}], mode: sometimes}
"""
    report = world.engine.load_yaml(text, "mixed.yaml")
    assert report.loaded == ["also-good"]
    messages = [str(e) for e in report.errors]
    assert [e.line for e in report.errors] == sorted(e.line or 0 for e in report.errors)
    assert any("unknown trigger type 'teleport'" in m for m in messages)
    assert any("unknown device 'nowhere'" in m for m in messages)
    assert any("40 is out of range" in m for m in messages)
    assert any("duplicate id 'also-good' (also automations[0])" in m for m in messages)
    assert any("automations[3].id: id must be" in m for m in messages)
    assert any(
        "automations[4].mode: mode must be one of single, restart, queued, parallel" in m for m in messages
    )
    assert len(report.errors) == 6
    assert sorted(a.id for a in world.engine.automations()) == ["also-good", "good"]
    assert world.engine.webhook("good-hook-id", {}) == 1
    assert world.engine.webhook("also-good-hook", {}) == 1
    await world.runs("good")
    await world.runs("also-good")
    assert ("automation", "two-errors") not in world.store.documents


async def test_a_document_may_be_one_automation_and_data_from_the_api(world: World) -> None:
    report = world.engine.load_yaml(
        "id: solo\ntriggers: [{type: hub_start}]\nactions:\n  - delay: -5\n", "solo.yaml"
    )
    (error,) = report.errors
    assert (error.path, error.line) == ("actions[0].delay", 4)
    report = world.engine.load_data(
        {
            "id": "api-made",
            "triggers": [{"type": "hub_start"}],
            "actions": [{"set": {"device": "car", "property": "2.1", "value": 5}}],
        },
        "api",
    )
    (error,) = report.errors
    assert error.line is None and error.source == "api" and "[access]" in error.reason
    report = world.engine.load_data(
        {"zones": [{"id": "home", "latitude": 1, "longitude": 2}], "extra": []}, "api"
    )
    assert sorted(e.path for e in report.errors) == ["extra", "zones[0].id"]
    assert world.engine.load_yaml("", "empty.yaml").errors[0].reason == "the document is empty"


async def test_zones_and_scenes_of_a_document_are_usable_by_its_automations(world: World) -> None:
    report = world.engine.load_yaml(
        """
automations:
  - id: uses
    triggers: [{type: zone, who: car, zone: gym, event: enter}]
    actions: [{scene: cosy}]
scenes:
  - id: cosy
    states: [{device: light-living, property: light.brightness, value: 30}]
zones:
  - {id: gym, latitude: 31.22, longitude: 121.48, radius: 100}
  - {id: bad-zone, latitude: 95, longitude: 121.48}
""",
        "places.yaml",
    )
    assert report.loaded == ["gym", "cosy", "uses"]
    (error,) = report.errors
    assert error.path == "zones[1].latitude" and "outside -90..90" in error.reason
    assert {z["id"] for z in world.engine.zones()} == {"home", "gym"}


async def test_a_stored_definition_that_no_longer_resolves_is_kept_and_reported() -> None:
    store = MemoryAutomationStore()
    w = await make_world(store=store)
    await w.load(GOOD)
    await w.engine.stop()
    w.kernel.remove_device("light-living")
    engine = type(w.engine)(w.kernel, store)
    await engine.start()
    try:
        assert engine.automations() == []
        (error,) = engine.load_errors
        assert error.path == "actions[0].set.device" and "unknown device 'light-living'" in error.reason
        assert ("automation", "good") in store.documents
    finally:
        await engine.stop()
