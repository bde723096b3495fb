"""Discovery out without a broker: the configs, state documents and command decoders of built-in devices."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from hass_support import load_fixture
from trilink.kernel import Device, Kernel
from trilink.model import builtin_spec
from trilink.transports.hass import HassSettings, HassTransport, announce
from trilink.transports.hass.announce import object_id
from trilink.transports.hass.derive import make_entity
from trilink.transports.hass.discovery import parse_config_topic, parse_discovery
from trilink.transports.hass.template import compile_template
from trilink.transports.mqtt.settings import MqttSettings

SETTINGS = HassSettings(enabled_out=True, base_topic="tl")


def device(model: str, did: str = "dev-1") -> Device:
    kernel = Kernel()
    return kernel.adopt(did, model=model, name=model, spec=builtin_spec(model), transport="sim")


def components(model: str) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = announce(device(model), SETTINGS).config["components"]
    return out


def test_object_ids_are_what_home_assistant_accepts() -> None:
    assert object_id("trilink", "light-kitchen") == "trilink-light-kitchen"
    assert object_id("trilink", "acme.fan:2") == "trilink-acme_fan_2"


def test_the_main_service_is_named_after_the_device() -> None:
    assert components("trilink.curtain.sim1")["cover2"]["name"] is None
    assert components("trilink.lock.sim1")["lock2"]["name"] is None
    car = components("trilink.car.sim1")
    assert (car["climate5"]["name"], car["lock6"]["name"]) == ("Cabin Climate", "Doors")


def test_curtain_is_a_cover() -> None:
    ann = announce(device("trilink.curtain.sim1"), SETTINGS)
    cover = ann.config["components"]["cover2"]
    assert (cover["platform"], cover["device_class"]) == ("cover", "curtain")
    assert (cover["payload_open"], cover["payload_close"], cover["payload_stop"]) == ("OPEN", "CLOSE", "STOP")
    assert cover["position_template"] == "{{ value_json.s2p2 }}"
    assert ann.commands["s2p1"]("CLOSE") == [("set", 2, 1, 2)]
    assert ann.commands["s2p1"]("stop") == [("set", 2, 1, 0)]
    assert ann.commands["s2p3"]("40") == [("set", 2, 3, 40)]
    with pytest.raises(ValueError, match="whole numbers"):
        ann.commands["s2p3"]("40.5")
    with pytest.raises(ValueError):
        ann.commands["s2p1"]("WIGGLE")


def test_lock_and_its_actions() -> None:
    ann = announce(device("trilink.lock.sim1"), SETTINGS)
    lock = ann.config["components"]["lock2"]
    assert lock["value_template"] == "{{ 'LOCKED' if value_json.s2p1 else 'UNLOCKED' }}"
    assert ann.commands["lock2"]("UNLOCK") == [("call", 2, 2, None)]
    # the lock's actions get no buttons of their own
    assert not any(k.startswith("s2a") for k in ann.config["components"])
    assert ann.config["components"]["s2p2"]["device_class"] == "enum"


def test_fan_vacuum_and_plug_become_generic_entities() -> None:
    fan = components("trilink.fan.sim1")
    assert {k: c["platform"] for k, c in fan.items()} == {
        "s2p1": "switch",
        "s2p2": "select",
        "s2p3": "number",
        "s2p4": "switch",
        "s2p5": "select",
    }
    assert fan["s2p2"]["options"] == ["Low", "Medium", "High"]
    assert (fan["s2p3"]["min"], fan["s2p3"]["max"], fan["s2p3"]["step"]) == (1, 100, 1)
    vacuum = components("trilink.vacuum.sim1")
    assert vacuum["s2a1"] == {
        "platform": "button",
        "name": "Start Sweep",
        "unique_id": "trilink_dev_1_s2a1",
        "command_topic": "tl/dev-1/s2a1/set",
        "payload_press": "PRESS",
    }
    assert vacuum["s2p5"]["device_class"] == "duration" and vacuum["s2p5"]["unit_of_measurement"] == "min"
    plug = components("trilink.plug.sim1")
    assert [plug[k]["device_class"] for k in ("s3p1", "s3p2", "s3p3", "s3p4")] == [
        "power",
        "energy",
        "voltage",
        "current",
    ]


def test_state_document_and_templates_agree() -> None:
    dev = device("trilink.aircondition.sim1")
    readings = {
        (2, 1): (True, 0.0),
        (2, 2): (5, 0.0),
        (2, 3): (22.5, 0.0),
        (3, 1): (3, 0.0),
        (4, 1): (24.1, 0.0),
    }
    ann = announce(dev, SETTINGS, readings=readings)
    state = ann.state(readings)
    assert state == {
        "s2p1": True,
        "s2p2": "Heat",
        "s2p3": 22.5,
        "s3p1": "High",
        "s4p1": 24.1,
        "climate2_mode": "heat",
    }
    climate = ann.config["components"]["climate2"]
    # Home Assistant renders these with Jinja; the subset trilink evaluates gives the same
    for key, expected in (
        ("mode_state_template", "heat"),
        ("temperature_state_template", 22.5),
        ("current_temperature_template", 24.1),
        ("fan_mode_state_template", "high"),
    ):
        assert compile_template(climate[key]).render({"value_json": state}) == expected
    assert climate["fan_modes"][3] == "high"
    assert ann.commands["climate2_mode"]("dry") == [("set", 2, 1, True), ("set", 2, 2, 3)]
    assert ann.commands["climate2_mode"]("off") == [("set", 2, 1, False)]
    assert ann.commands["s3p1"]("Medium") == [("set", 3, 1, 2)]
    with pytest.raises(ValueError, match="not one of"):
        ann.commands["climate2_mode"]("heat_cool")


def test_light_templates_round_trip_through_the_evaluator() -> None:
    readings = {(2, 1): (True, 0.0), (2, 2): (64, 0.0), (2, 3): (3000, 0.0), (2, 4): (0x336699, 0.0)}
    ann = announce(device("trilink.light.sim1"), SETTINGS, readings=readings)
    light = ann.config["components"]["light2"]
    state = ann.state(readings)
    render = lambda key: compile_template(light[key]).render({"value_json": state})  # noqa: E731
    assert render("state_value_template") == "ON"
    assert render("brightness_value_template") == 64
    assert render("rgb_value_template") == "51,102,153"
    assert ann.commands["s2p4"]("51,102,153") == [("set", 2, 4, 0x336699)]
    assert ann.commands["s2p1"]("off") == [("set", 2, 1, False)]
    with pytest.raises(ValueError):
        ann.commands["s2p4"]("300,0,0")


def test_the_device_block_and_the_room() -> None:
    kernel = Kernel()
    dev = kernel.adopt(
        "ph",
        model="trilink.phone.sim1",
        name="Phone",
        spec=builtin_spec("trilink.phone.sim1"),
        transport="sim",
    )
    readings = {(1, 1): ("Acme", 0.0), (1, 3): ("SN-1", 0.0), (1, 4): ("14.2", 0.0), (2, 1): (31.2, 0.0)}
    config = announce(dev, SETTINGS, room="Hall", readings=readings).config
    assert config["device"] == {
        "identifiers": ["trilink_ph"],
        "name": "Phone",
        "model": "trilink.phone.sim1",
        "manufacturer": "Acme",
        "serial_number": "SN-1",
        "sw_version": "14.2",
        "suggested_area": "Hall",
    }
    assert config["components"]["tracker2"]["json_attributes_topic"] == "tl/ph/state"


def test_announced_configs_are_readable_by_discovery_in() -> None:
    # what trilink announces, trilink's own discovery-in can read (a good check of the shape)
    ann = announce(device("trilink.car.sim1"), SETTINGS)
    where = parse_config_topic(ann.config_topic, "homeassistant")
    assert where is not None and where.device_based
    parsed = parse_discovery(where, orjson.dumps(ann.config), max_payload=1 << 20)
    assert parsed.problems == []
    kinds = {}
    for ec in parsed.entities:
        try:
            kinds[ec.discovery_id.split(" ")[-1]] = type(make_entity(ec, [])).__name__
        except ValueError as exc:  # device_tracker is out only
            kinds[ec.discovery_id.split(" ")[-1]] = type(exc).__name__
    assert kinds["climate5"] == "Climate" and kinds["lock6"] == "Lock" and kinds["s3a1"] == "Button"
    assert kinds["tracker4"] == "UnknownComponent"


def test_fixture_files_are_well_formed() -> None:
    for name in (
        "zigbee2mqtt_ikea_bulb.json",
        "zigbee2mqtt_aqara_th.json",
        "zigbee2mqtt_door_contact.json",
        "zigbee2mqtt_plug.json",
        "zigbee2mqtt_trv.json",
        "zigbee2mqtt_device_based.json",
    ):
        doc = load_fixture(name, "p", "b")
        assert doc["messages"] and all(m["topic"].startswith(("p/", "b/")) for m in doc["messages"])


async def test_a_disabled_bridge_does_nothing() -> None:
    kernel = Kernel()
    bridge = HassTransport(kernel, MqttSettings(port=1), HassSettings())
    await bridge.start()
    assert not bridge.connected and bridge.stats["connects"] == 0
    with pytest.raises(RuntimeError, match="not started"):
        await bridge.wait_connected(0.1)
    await bridge.stop()


def test_settings_are_checked() -> None:
    for bad in (
        {"discovery_prefix": "ha/+"},
        {"base_topic": ""},
        {"node_id": "a.b"},
        {"qos": 3},
        {"settle": -1},
    ):
        with pytest.raises(ValueError):
            HassSettings(**bad)
    settings = HassSettings(announce=("car-*", "phone-*"), exclude=("phone-bob",))
    assert [settings.announces(d) for d in ("car-alice", "phone-bob", "phone-alice", "light")] == [
        True,
        False,
        True,
        False,
    ]
