"""The safe template evaluator: what Zigbee2MQTT and friends send, and what it refuses."""

from __future__ import annotations

from typing import Any

import pytest

from trilink.transports.hass.template import (
    MAX_TEMPLATE,
    UNDEFINED,
    TemplateError,
    TemplateUnsupported,
    compile_template,
)

STATE = {
    "temperature": 21.456,
    "humidity": 48,
    "state": "ON",
    "contact": False,
    "update": {"installed_version": 587814449, "state": "idle"},
    "list": [10, 20, 30],
    "text": " Mixed Case ",
    "color": 0x336699,
}


def render(source: str, value_json: Any = STATE, value: str = "raw") -> Any:
    return compile_template(source).render({"value": value, "value_json": value_json})


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("{{ value_json.temperature }}", 21.456),
        ("{{ value_json['state'] }}", "ON"),
        ('{{ value_json["update"]["installed_version"] }}', 587814449),
        ("{{ value_json.update.state }}", "idle"),
        ("{{ value_json.list[1] }}", 20),
        ("{{ value_json.list[-1] }}", 30),
        ("{{ value_json.contact }}", False),
        ("{{ value }}", "raw"),
        ("{{ value_json.temperature | round(1) }}", 21.5),
        ("{{ value_json.temperature | round }}", 21),
        ("{{ value_json.temperature | round(2, 'floor') }}", 21.45),
        ("{{ value_json.temperature | int }}", 21),
        ("{{ value_json.humidity | float }}", 48.0),
        ("{{ '42' | int }}", 42),
        ("{{ '4.7' | int }}", 4),
        ("{{ 'x' | int(0) }}", 0),
        ("{{ value_json.state | lower }}", "on"),
        ("{{ value_json.state | upper }}", "ON"),
        ("{{ value_json.text | trim }}", "Mixed Case"),
        ("{{ value_json.missing | default('none') }}", "none"),
        ("{{ value_json.missing | d(7) }}", 7),
        ("{{ value_json.state | default('x') }}", "ON"),
        ("{{ '' | default('empty', true) }}", "empty"),
        ("{{ 'on' | bool }}", True),
        ("{{ value_json.update | tojson }}", '{"installed_version":587814449,"state":"idle"}'),
        ("{{ value_json.list | length }}", 3),
        ("{{ value_json.temperature * 10 | int }}", pytest.approx(214.56)),  # the filter binds to 10
        ("{{ (value_json.temperature * 10) | int }}", 214),
        ("{{ value_json.humidity / 2 }}", 24.0),
        ("{{ value_json.humidity // 5 }}", 9),
        ("{{ value_json.humidity % 5 }}", 3),
        ("{{ -value_json.humidity }}", -48),
        ("{{ 'ON' if value_json.contact == false else 'OFF' }}", "ON"),
        ("{{ 'ON' if value_json.humidity > 50 else 'OFF' }}", "OFF"),
        ("{{ value_json.state == 'ON' and not value_json.contact }}", True),
        ("{{ 'idle' in value_json.update.state }}", True),
        ("{{ 2 not in value_json.list }}", True),
        ("{{ value_json.state ~ '/' ~ value_json.humidity }}", "ON/48"),
        ("  {{ value_json.state }}\n", "ON"),
        ("{{- value_json.state -}}", "ON"),
        ('{ "position": {{ value_json.humidity }} }', '{ "position": 48 }'),
        ("state={{ value_json.contact }}", "state=False"),
        (
            "{{ (value_json.color // 65536) ~ ',' ~ (value_json.color // 256 % 256)"
            " ~ ',' ~ (value_json.color % 256) }}",
            "51,102,153",
        ),
        ("{{ value_json.missing }}", UNDEFINED),
        ("{{ value_json.update.missing.deeper }}", UNDEFINED),
        ("{{ value_json.list[7] }}", UNDEFINED),
    ],
)
def test_supported_templates(source: str, expected: Any) -> None:
    assert render(source) == expected


def test_value_json_of_a_payload_that_is_not_json_is_undefined() -> None:
    assert render("{{ value_json.state }}", value_json=UNDEFINED) is UNDEFINED
    assert render("{{ value_json.state | default(value) }}", value_json=UNDEFINED, value="online") == "online"


@pytest.mark.parametrize(
    ("source", "why"),
    [
        ("{% set v = {'a': 1} %}{{ v[value_json.state] }}", "statements"),
        ("{# note #}{{ value }}", "statements"),
        ("{{ value.__class__() }}", "unsupported syntax"),
        ("{{ value_json.x | attr('__class__') }}", "unsupported filter"),
        ("{{ range(10) }}", "unsupported syntax"),
        ("{{ value_json.x ** 2 }}", "unsupported syntax"),
        ("{{ [1, 2] }}", "unsupported syntax"),
        ("{{ value_json.x + }}", "ends too early"),
        ("{{ value_json.x", "no closing"),
        ("{{ " + "(" * 40 + "1" + ")" * 40 + " }}", "nested too deeply"),
        ("{{ value }}" + " " * MAX_TEMPLATE, "longer than"),
    ],
)
def test_unsupported_templates_are_refused_when_compiled(source: str, why: str) -> None:
    with pytest.raises(TemplateUnsupported, match=why):
        compile_template(source)


@pytest.mark.parametrize(
    "source",
    [
        "{{ value_json.state | int }}",
        "{{ value_json.state * 2 }}",
        "{{ value_json.humidity / 0 }}",
        "{{ value_json.state < 3 }}",
        "{{ value_json.state | round(99) }}",
        "{{ 'maybe' | bool }}",
        "{{ value_json.missing + 1 }}",
    ],
)
def test_failures_while_rendering_raise_template_error(source: str) -> None:
    with pytest.raises(TemplateError):
        render(source)


def test_no_python_attribute_is_reachable() -> None:
    # dotted names only ever look up keys of dicts; a str or int has none
    for source in ("{{ value.upper }}", "{{ value_json.humidity.real }}", "{{ value_json.__class__ }}"):
        assert render(source) is UNDEFINED


def test_string_repetition_and_huge_numbers_cannot_blow_up() -> None:
    with pytest.raises(TemplateError):
        render("{{ value * 1000000000 }}")
    with pytest.raises(TemplateError):
        render("{{ '9' * 999999 | int }}")
