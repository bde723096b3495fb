"""Blueprints: the shipped ones load and fill in; bad ones are refused with the line."""

from __future__ import annotations

import copy
from importlib import resources
from typing import Any

import pytest

from trilink.automation.blueprints import (
    Blueprint,
    BlueprintInput,
    builtin_blueprints,
    instantiate,
    load_blueprint,
)
from trilink.automation.durations import parse_distance, parse_duration
from trilink.automation.errors import DefinitionError
from trilink.automation.schedule import parse_time_of_day, parse_weekdays
from trilink.automation.yamlsrc import InputRef
from trilink.model import builtin_spec
from trilink.model.validate import validate_write

SHIPPED = ("alarm-morning", "arrive-home-cool", "charging-done", "door-check-night", "everyone-left")

#: the simulated world's devices (docs/simulator.md) and their models
MODELS = {
    "ac-living": "trilink.aircondition.sim1",
    "sensor-living": "trilink.sensor_ht.sim1",
    "light-bedroom": "trilink.light.sim1",
    "curtain-bedroom": "trilink.curtain.sim1",
    "lock-front": "trilink.lock.sim1",
    "vacuum": "trilink.vacuum.sim1",
    "car": "trilink.car.sim1",
    "phone-alex": "trilink.phone.sim1",
}

SMALL = """\
blueprint:
  id: small
  name: A small blueprint
  description: Switch a light on at a time.
  inputs:
    light: {description: The light}
    at: {description: When, default: "07:00"}
    level: {default: 50}
automation:
  triggers:
    - {type: time, at: !input at}
  actions:
    - set: {device: !input light, property: "2.1", value: true}
    - set: {device: !input light, property: "2.2", value: !input level}
"""


def steps(automation: dict[str, Any]) -> list[dict[str, Any]]:
    """Every action, including those inside branches, flattened."""
    out: list[dict[str, Any]] = []
    pending = list(automation.get("actions", []))
    while pending:
        action = pending.pop(0)
        out.append(action)
        pending.extend(action.get("then", []) + action.get("else", []))
    return out


def iid(text: str) -> tuple[int, int]:
    siid, _, piid = text.partition(".")
    return int(siid), int(piid)


# --- the shipped blueprints ----------------------------------------------------------------------


def test_all_shipped_blueprints_load() -> None:
    blueprints = builtin_blueprints()
    assert tuple(sorted(blueprints)) == SHIPPED
    folder = resources.files("trilink").joinpath("automation", "blueprints")
    files = sorted(e.name for e in folder.iterdir() if e.name.endswith(".yaml"))
    assert files == [f"{name}.yaml" for name in SHIPPED]
    for blueprint_id, blueprint in blueprints.items():
        assert blueprint.id == blueprint_id
        assert blueprint.name and blueprint.description
        assert blueprint.source == f"blueprints/{blueprint_id}.yaml"
        assert all(spec.description for spec in blueprint.inputs.values())
        assert all(not spec.required for spec in blueprint.inputs.values())


@pytest.mark.parametrize("blueprint_id", SHIPPED)
def test_shipped_defaults_fit_the_simulated_world(blueprint_id: str) -> None:
    automation = instantiate(builtin_blueprints()[blueprint_id], f"my-{blueprint_id}", {})
    assert automation["id"] == f"my-{blueprint_id}"
    assert automation["name"] == builtin_blueprints()[blueprint_id].name
    assert "InputRef" not in repr(automation)
    for action in steps(automation):
        if "set" in action and "device" in action["set"]:
            target = action["set"]
            spec = builtin_spec(MODELS[target["device"]])
            validate_write(target["device"], spec, *iid(target["property"]), target["value"])
        if "call" in action:
            spec = builtin_spec(MODELS[action["call"]["device"]])
            assert iid(action["call"]["action"]) in spec.actions
    for trigger in automation["triggers"]:
        if "device" in trigger:
            spec = builtin_spec(MODELS[trigger["device"]])
            if trigger["type"] == "event":
                assert iid(trigger["event"]) in spec.events
            if trigger["type"] == "property":
                assert iid(trigger["property"]) in spec.properties


def test_arrive_home_cool() -> None:
    automation = instantiate(builtin_blueprints()["arrive-home-cool"], "cool", {})
    (trigger,) = automation["triggers"]
    assert trigger == {
        "type": "proximity",
        "who": "car",
        "zone": "home",
        "within": "3 km",
        "direction": "towards",
    }
    assert parse_distance(trigger["within"]) == 3000
    assert automation["conditions"] == [
        {"type": "numeric", "device": "sensor-living", "property": "2.1", "above": 26}
    ]
    assert [a["set"] for a in automation["actions"]] == [
        {"device": "ac-living", "property": "2.2", "value": 2},
        {"device": "ac-living", "property": "2.3", "value": 24},
        {"device": "ac-living", "property": "2.1", "value": True},
    ]


def test_arrive_home_cool_with_overrides_keeps_the_types() -> None:
    automation = instantiate(
        builtin_blueprints()["arrive-home-cool"],
        "cool-bedroom",
        {"ac": "ac-bedroom", "sensor": "sensor-bedroom", "target": 25.5, "threshold": 27, "distance": 1500},
        name="Cool the bedroom",
    )
    assert automation["name"] == "Cool the bedroom"
    assert automation["triggers"][0]["within"] == 1500
    assert automation["conditions"][0]["device"] == "sensor-bedroom"
    assert automation["conditions"][0]["above"] == 27
    assert automation["actions"][1]["set"] == {"device": "ac-bedroom", "property": "2.3", "value": 25.5}
    assert all(a["set"]["device"] == "ac-bedroom" for a in automation["actions"])


def test_alarm_morning() -> None:
    automation = instantiate(builtin_blueprints()["alarm-morning"], "wake", {})
    assert automation["triggers"] == [{"type": "event", "device": "phone-alex", "event": "4.1"}]
    (condition,) = automation["conditions"]
    assert condition["type"] == "time"
    assert parse_weekdays(condition["weekdays"]) == frozenset(range(5))
    assert [a["set"] for a in automation["actions"]] == [
        {"device": "curtain-bedroom", "property": "2.3", "value": 100},
        {"device": "light-bedroom", "property": "2.1", "value": True},
        {"device": "light-bedroom", "property": "2.2", "value": 40},
    ]
    weekend = instantiate(
        builtin_blueprints()["alarm-morning"], "w", {"weekdays": ["sat", "sun"], "brightness": 80}
    )
    assert weekend["conditions"][0]["weekdays"] == ["sat", "sun"]
    assert weekend["actions"][2]["set"]["value"] == 80


def test_everyone_left() -> None:
    automation = instantiate(builtin_blueprints()["everyone-left"], "left", {})
    (trigger,) = automation["triggers"]
    assert trigger == {"type": "presence", "person": "everyone", "to": "away", "for": "10 min"}
    assert parse_duration(trigger["for"]) == 600
    assert automation["actions"] == [
        {"call": {"device": "lock-front", "action": "2.1"}},
        {"set": {"devices": {"kind": "light"}, "property": "light.on", "value": False}},
        {"call": {"device": "vacuum", "action": "2.1"}},
    ]
    # light.on names the property of every light model
    prop = builtin_spec("trilink.light.sim1").find_property("light", "on")
    assert prop is not None and (prop.siid, prop.iid) == (2, 1)


def test_charging_done() -> None:
    automation = instantiate(builtin_blueprints()["charging-done"], "charged", {"person": "sam"})
    assert automation["triggers"] == [
        {"type": "event", "device": "car", "event": "3.1"},
        {"type": "property", "device": "car", "property": "3.1", "to": 4},
    ]
    (action,) = automation["actions"]
    assert action["notify"]["person"] == "sam"
    assert action["notify"]["title"] and action["notify"]["message"]


def test_door_check_night() -> None:
    automation = instantiate(
        builtin_blueprints()["door-check-night"], "door", {"timeout": "10 min", "time": "22:30"}
    )
    assert automation["triggers"] == [{"type": "time", "at": "22:30"}]
    assert parse_time_of_day(automation["triggers"][0]["at"]) == (22, 30, 0)
    assert automation["conditions"] == [
        {"type": "state", "device": "lock-front", "property": "2.1", "is": False}
    ]
    notify, wait, branch = automation["actions"]
    assert notify["notify"]["person"] == "alex"
    assert wait["wait"] == {
        "trigger": {"type": "property", "device": "lock-front", "property": "2.1", "to": True},
        "timeout": "10 min",
        "continue_on_timeout": True,
    }
    assert branch["if"] == [{"type": "waited", "completed": False}]
    assert branch["then"] == [{"call": {"device": "lock-front", "action": "2.1"}}]
    defaults = instantiate(builtin_blueprints()["door-check-night"], "door", {})
    assert parse_duration(defaults["actions"][1]["wait"]["timeout"]) == 300
    assert parse_time_of_day(defaults["triggers"][0]["at"]) == (23, 0, 0)


# --- loading and instantiating ------------------------------------------------------------------


def test_load_a_blueprint() -> None:
    blueprint = load_blueprint(SMALL, "small.yaml")
    assert blueprint.id == "small"
    assert blueprint.name == "A small blueprint"
    assert blueprint.description == "Switch a light on at a time."
    assert blueprint.source == "small.yaml"
    assert blueprint.inputs == {
        "light": BlueprintInput("light", "The light", None, required=True),
        "at": BlueprintInput("at", "When", "07:00", required=False),
        "level": BlueprintInput("level", "", 50, required=False),
    }
    assert blueprint.body["triggers"] == [{"type": "time", "at": InputRef("at")}]


def test_instantiate_fills_every_input() -> None:
    blueprint = load_blueprint(SMALL, "small.yaml")
    automation = instantiate(blueprint, "wake-light", {"light": "light-bedroom"})
    assert automation == {
        "id": "wake-light",
        "name": "A small blueprint",
        "triggers": [{"type": "time", "at": "07:00"}],
        "actions": [
            {"set": {"device": "light-bedroom", "property": "2.1", "value": True}},
            {"set": {"device": "light-bedroom", "property": "2.2", "value": 50}},
        ],
    }


def test_instantiate_values_of_any_type_and_copies() -> None:
    blueprint = load_blueprint(SMALL, "small.yaml")
    level = {"nested": [1, 2]}
    automation = instantiate(blueprint, "a", {"light": "l", "level": level, "at": None})
    assert automation["actions"][1]["set"]["value"] == {"nested": [1, 2]}
    assert automation["triggers"][0]["at"] is None
    automation["actions"][1]["set"]["value"]["nested"].append(3)
    assert level == {"nested": [1, 2]}
    before = copy.deepcopy(blueprint.body)
    automation["actions"].clear()
    assert blueprint.body == before


def test_the_body_name_is_used_unless_one_is_given() -> None:
    named = SMALL.replace("automation:\n", "automation:\n  name: !input light\n")
    blueprint = load_blueprint(named, "small.yaml")
    assert instantiate(blueprint, "a", {"light": "Lamp"})["name"] == "Lamp"
    assert instantiate(blueprint, "a", {"light": "Lamp"}, name="Mine")["name"] == "Mine"


@pytest.mark.parametrize(
    ("inputs", "path", "words"),
    [
        ({}, "inputs.light", "small needs this input (The light)"),
        ({"light": "l", "lihgt": "x"}, "inputs.lihgt", "small has no such input (inputs: light, at, level)"),
        ({"light": InputRef("at")}, "inputs.light", "cannot be another !input"),
        ({"light": ["a", {"b": InputRef("at")}]}, "inputs.light[1].b", "cannot be another !input"),
    ],
)
def test_instantiate_errors_name_the_input(inputs: dict[str, Any], path: str, words: str) -> None:
    with pytest.raises(DefinitionError) as info:
        instantiate(load_blueprint(SMALL, "small.yaml"), "a", inputs, source="automations.yaml")
    assert info.value.source == "automations.yaml"
    assert info.value.path == path
    assert words in info.value.reason


def test_instantiate_needs_an_id() -> None:
    with pytest.raises(DefinitionError, match="needs an id"):
        instantiate(load_blueprint(SMALL, "small.yaml"), "", {"light": "l"})


def bad(text: str) -> DefinitionError:
    with pytest.raises(DefinitionError) as info:
        load_blueprint(text, "bad.yaml")
    assert info.value.source == "bad.yaml"
    return info.value


def test_yaml_errors_name_the_line() -> None:
    err = bad(SMALL.replace("    - {type: time, at: !input at}", "    - {type: time, at: !input at"))
    assert err.line is not None and err.line >= 11
    assert "YAML syntax error" in err.reason
    err = bad(SMALL.replace("  name: A small blueprint\n", "  name: A small blueprint\n  name: again\n"))
    assert err.line == 4
    assert "duplicate key 'name'" in err.reason


def test_an_undeclared_input_names_its_line() -> None:
    err = bad(SMALL.replace("value: !input level", "value: !input levle"))
    assert err.line == 14
    assert err.path == "automation.actions[1].set.value"
    assert "!input levle is not declared" in err.reason
    assert "declared: light, at, level" in err.reason


def test_an_unknown_tag_is_refused() -> None:
    err = bad(SMALL.replace("value: !input level", "value: !inptu level"))
    assert err.line == 14
    assert "unknown tag !inptu" in err.reason


@pytest.mark.parametrize(
    ("text", "line", "path", "words"),
    [
        ("", None, "", "two sections"),
        ("- a\n", 1, "", "two sections"),
        ("blueprint: {id: x, name: X}\n", 1, "", "the automation section is missing"),
        ("automation: {}\n", 1, "", "the blueprint section is missing"),
        ("blueprint: {id: x, name: X}\nautomation: {}\nextra: 1\n", 3, "extra", "unknown section"),
        ("blueprint: [x]\nautomation: {}\n", 1, "blueprint", "must be a mapping"),
        ("blueprint: {name: X}\nautomation: {}\n", 1, "blueprint.id", "an id of lower-case letters"),
        ("blueprint: {id: Big Id, name: X}\nautomation: {}\n", 1, "blueprint.id", "an id of lower-case"),
        ("blueprint: {id: x}\nautomation: {}\n", 1, "blueprint.name", "text is required"),
        ("blueprint: {id: x, name: 5}\nautomation: {}\n", 1, "blueprint.name", "5 is not text"),
        ("blueprint: {id: x, name: X, author: me}\nautomation: {}\n", 1, "blueprint.author", "unknown field"),
        (
            "blueprint: {id: x, name: X, inputs: [a]}\nautomation: {}\n",
            1,
            "blueprint.inputs",
            "must be a mapping",
        ),
        (
            "blueprint:\n  id: x\n  name: X\n  inputs:\n    a: 5\nautomation: {v: !input a}\n",
            5,
            "blueprint.inputs.a",
            "must be a mapping",
        ),
        (
            "blueprint:\n  id: x\n  name: X\n  inputs:\n    a: {defualt: 1}\nautomation: {v: !input a}\n",
            5,
            "blueprint.inputs.a.defualt",
            "unknown field; allowed: description, default",
        ),
        (
            "blueprint:\n  id: x\n  name: X\n  inputs:\n    2a: {}\nautomation: {v: !input 2a}\n",
            5,
            'blueprint.inputs["2a"]',
            "an input name",
        ),
        (
            "blueprint:\n  id: x\n  name: X\n  inputs:\n    a: {default: !input b}\n    b: {}\n"
            "automation: {v: !input a, w: !input b}\n",
            5,
            "blueprint.inputs.a.default",
            "only be used in the automation section",
        ),
        (
            "blueprint:\n  id: x\n  name: X\n  inputs:\n    a: {}\n    unused: {}\n"
            "automation: {v: !input a}\n",
            6,
            "blueprint.inputs.unused",
            "declared but never used",
        ),
        ("blueprint: {id: x, name: X}\nautomation: [a]\n", 2, "automation", "must be a mapping"),
        ("blueprint: {id: x, name: X}\nautomation:\n  id: fixed\n", 3, "automation.id", "has no id"),
    ],
)
def test_bad_blueprints(text: str, line: int | None, path: str, words: str) -> None:
    err = bad(text)
    assert err.line == line, str(err)
    assert err.path == path, str(err)
    assert words in err.reason, str(err)


def test_an_input_without_a_spec_is_required() -> None:
    blueprint = load_blueprint(
        "blueprint:\n  id: x\n  name: X\n  inputs:\n    a:\nautomation: {v: !input a}\n", "x.yaml"
    )
    assert blueprint.inputs["a"] == BlueprintInput("a", "", None, required=True)
    assert instantiate(blueprint, "i", {"a": 1}) == {"id": "i", "name": "X", "v": 1}


def test_blueprint_is_a_value() -> None:
    blueprint = load_blueprint(SMALL, "small.yaml")
    assert isinstance(blueprint, Blueprint)
    assert blueprint == load_blueprint(SMALL, "small.yaml")
