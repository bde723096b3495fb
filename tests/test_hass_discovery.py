"""Discovery messages to entity configs (pure): topics, abbreviations, ``~``, device-based configs."""

from __future__ import annotations

import json
from typing import Any

import pytest

from hass_support import load_fixture
from trilink.transports.hass.abbreviations import ABBREVIATIONS, DEVICE_ABBREVIATIONS, expand
from trilink.transports.hass.discovery import ConfigTopic, parse_config_topic, parse_discovery

PREFIX = "homeassistant"


def parse(topic: str, payload: Any, max_payload: int = 65536) -> Any:
    where = parse_config_topic(topic, PREFIX)
    assert where is not None
    data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return parse_discovery(where, data, max_payload=max_payload)


@pytest.mark.parametrize(
    ("topic", "expected"),
    [
        (
            "homeassistant/sensor/abc/config",
            ConfigTopic("homeassistant/sensor/abc/config", "sensor", None, "abc"),
        ),
        (
            "homeassistant/light/0x00ab/light/config",
            ConfigTopic("homeassistant/light/0x00ab/light/config", "light", "0x00ab", "light"),
        ),
        (
            "homeassistant/device/node-1/config",
            ConfigTopic("homeassistant/device/node-1/config", "device", None, "node-1"),
        ),
        ("homeassistant/status", None),
        ("homeassistant/sensor/abc/state", None),
        ("zigbee2mqtt/bulb/config", None),
        ("homeassistantx/sensor/abc/config", None),
    ],
)
def test_config_topics(topic: str, expected: ConfigTopic | None) -> None:
    assert parse_config_topic(topic, PREFIX) == expected


@pytest.mark.parametrize(
    "topic",
    ["homeassistant/sensor/bad.id/config", "homeassistant/sensor/a/b/c/config", "homeassistant/x y/a/config"],
)
def test_config_topics_with_characters_ha_refuses_are_errors(topic: str) -> None:
    with pytest.raises(ValueError, match="ids of A-Z"):
        parse_config_topic(topic, PREFIX)


def test_the_full_published_abbreviation_table_is_there() -> None:
    for short, full in {
        "stat_t": "state_topic",
        "cmd_t": "command_topic",
        "avty_t": "availability_topic",
        "uniq_id": "unique_id",
        "val_tpl": "value_template",
        "json_attr_t": "json_attributes_topic",
        "dev": "device",
        "o": "origin",
        "cmps": "components",
        "p": "platform",
        "clr_temp_k": "color_temp_kelvin",
        "pl_prs": "payload_press",
        "set_pos_t": "set_position_topic",
        "sup_clrm": "supported_color_modes",
    }.items():
        assert ABBREVIATIONS[short] == full
    assert len(ABBREVIATIONS) > 250
    for short, full in {
        "ids": "identifiers",
        "mf": "manufacturer",
        "mdl": "model",
        "sw": "sw_version",
    }.items():
        assert DEVICE_ABBREVIATIONS[short] == full


def test_abbreviations_expand_in_entity_device_origin_and_availability() -> None:
    out = expand(
        {
            "stat_t": "a/state",
            "dev": {"ids": ["x"], "mf": "Acme", "sa": "Hall"},
            "o": {"name": "bridge", "sw": "1.0", "url": "https://example.invalid"},
            "avty": [{"t": "a/avail", "pl_avail": "up"}],
            "unknown_key": 1,
        }
    )
    assert out == {
        "state_topic": "a/state",
        "device": {"identifiers": ["x"], "manufacturer": "Acme", "suggested_area": "Hall"},
        "origin": {"name": "bridge", "sw_version": "1.0", "support_url": "https://example.invalid"},
        "availability": [{"topic": "a/avail", "payload_available": "up"}],
        "unknown_key": 1,
    }


@pytest.mark.parametrize(
    ("base_topic", "value", "expected"),
    [
        ("home/kitchen", "~/state", "home/kitchen/state"),
        ("kitchen", "home/~", "home/kitchen"),
        ("x", "plain/topic", "plain/topic"),
    ],
)
def test_base_topic_is_expanded_at_either_end(base_topic: str, value: str, expected: str) -> None:
    out = parse(
        "homeassistant/switch/k/config",
        {"~": base_topic, "cmd_t": value, "stat_t": value, "avty": [{"t": value}], "name": "~/not-a-topic"},
    )
    config = out.entities[0].config
    assert config["command_topic"] == config["state_topic"] == expected
    assert config["availability"] == [{"topic": expected}]
    assert config["name"] == "~/not-a-topic"  # only *_topic keys are expanded
    assert "~" not in config


def test_an_empty_payload_removes_the_entity() -> None:
    out = parse("homeassistant/sensor/node/temp/config", b"")
    (ec,) = out.entities
    assert ec.removal and ec.key == ("sensor", "node temp")


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"{not json", "not-json"),
        (b"[1, 2]", "bad-config"),
        (b'"text"', "bad-config"),
        (b'{"migrate_discovery": true}', "migration"),
    ],
)
def test_payloads_that_are_not_configs(payload: bytes, reason: str) -> None:
    out = parse("homeassistant/sensor/x/config", payload)
    assert out.entities == []
    assert [p[0] for p in out.problems] == [reason]


def test_oversized_payloads_are_dropped() -> None:
    out = parse("homeassistant/sensor/x/config", {"stat_t": "a", "pad": "x" * 5000}, max_payload=4096)
    assert out.entities == [] and out.problems[0][0] == "oversized"


def test_a_bad_origin_is_dropped_but_the_entity_kept() -> None:
    out = parse("homeassistant/sensor/x/config", {"stat_t": "a", "o": "bridge"})
    assert out.entities[0].config == {"state_topic": "a"}
    assert out.problems[0][0] == "bad-value"


def test_device_based_discovery_splits_components_and_hands_down_shared_options() -> None:
    doc = load_fixture("zigbee2mqtt_device_based.json", PREFIX, "zigbee2mqtt")
    message = doc["messages"][0]
    out = parse(message["topic"], message["payload"])
    assert out.problems == []
    by_key = {ec.discovery_id: ec for ec in out.entities}
    assert set(by_key) == {
        "0x54ef4410006f7a8b cover",
        "0x54ef4410006f7a8b battery",
        "0x54ef4410006f7a8b identify",
        "0x54ef4410006f7a8b motor_speed",
        "0x54ef4410006f7a8b alarm",
    }
    cover = by_key["0x54ef4410006f7a8b cover"]
    assert cover.component == "cover"
    c = cover.config
    assert c["command_topic"] == "zigbee2mqtt/Study blind/set"
    assert c["position_topic"] == "zigbee2mqtt/Study blind"
    assert c["state_topic"] == "zigbee2mqtt/Study blind"  # inherited from the device, then ~ expanded
    assert c["availability"][1] == {
        "topic": "zigbee2mqtt/Study blind/availability",
        "value_template": "{{ value_json.state }}",
    }
    assert c["availability_mode"] == "all" and c["qos"] == 1
    assert c["device"]["suggested_area"] == "Study" and c["device"]["identifiers"] == [
        "zigbee2mqtt_0x54ef4410006f7a8b"
    ]
    assert c["origin"]["name"] == "Zigbee2MQTT"
    assert "platform" not in c


def test_device_based_component_with_only_its_platform_is_a_removal() -> None:
    doc = load_fixture("zigbee2mqtt_device_based.json", PREFIX, "zigbee2mqtt")
    message = doc["remove_component"]
    (ec,) = parse(message["topic"], message["payload"]).entities
    assert ec.removal and ec.key == ("button", "0x54ef4410006f7a8b identify")


def test_an_empty_device_based_config_clears_its_source() -> None:
    out = parse("homeassistant/device/node/config", b"")
    assert out.clear_source and out.entities == []


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        ({"cmps": {"a": {"p": "sensor"}}}, "needs a 'device'"),
        ({"dev": {"ids": "x"}, "cmps": ["sensor"]}, "needs a 'components'"),
    ],
)
def test_device_based_configs_without_device_or_components(payload: dict[str, Any], reason: str) -> None:
    out = parse("homeassistant/device/node/config", payload)
    assert out.entities == [] and reason in out.problems[0][1]


def test_bad_components_are_dropped_and_good_ones_kept() -> None:
    out = parse(
        "homeassistant/device/node/config",
        {
            "dev": {"ids": "x"},
            "cmps": {
                "ok": {"p": "sensor", "stat_t": "s"},
                "no_platform": {"stat_t": "s"},
                "junk": 5,
                "bad": {"p": "a b"},
            },
        },
    )
    assert [ec.discovery_id for ec in out.entities] == ["node ok"]
    assert [p[0] for p in out.problems] == ["bad-config"] * 3
