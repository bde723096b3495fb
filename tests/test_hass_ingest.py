"""Discovery in, against the real Mosquitto: Zigbee2MQTT-style fixtures become kernel devices.

Each test has its own discovery prefix and Zigbee2MQTT base topic; a ``Peer`` plays
Zigbee2MQTT (publishing the recorded configs, availability and states) and watches the
command topics. Every retained message is cleared at the end.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest

from conftest import wait_until
from hass_support import Peer, load_fixture, peer
from trilink.kernel import Context, Kernel
from trilink.transports.hass import HassSettings, HassTransport
from trilink.transports.mqtt.settings import MqttSettings

PERSON = Context.new("person", "alice")


@dataclass
class Env:
    kernel: Kernel
    bridge: HassTransport
    z2m: Peer
    prefix: str
    base: str

    def fixture(self, name: str) -> dict[str, Any]:
        return load_fixture(name, self.prefix, self.base)

    def device(self, ieee: str) -> Any:
        return self.kernel.registry.devices.get(f"ha-zigbee2mqtt_{ieee}")

    def value(self, did: str, siid: int, piid: int) -> Any:
        reading = self.kernel.state.get(did, siid, piid)
        return None if reading is None else reading[0]

    def siid(self, did: str, unique_id: str) -> int:
        device = self.kernel.registry.devices[did]
        return next(s.iid for s in device.spec.services if s.extra.get("hass-id") == unique_id)


@pytest.fixture
async def env(system_broker: MqttSettings, unique: str) -> AsyncIterator[Env]:
    prefix, base = f"ha-{unique}", f"z2m-{unique}"
    async with peer(system_broker, [f"{base}/#"]) as z2m:
        kernel = Kernel(command_timeout=3.0)
        settings = HassSettings(enabled_in=True, discovery_prefix=prefix, settle=0.05, max_payload=8192)
        bridge = HassTransport(kernel, system_broker, settings)
        try:
            yield Env(kernel, bridge, z2m, prefix, base)
        finally:
            await bridge.stop()


async def start(env: Env) -> None:
    await env.bridge.start()
    await env.bridge.wait_connected(5)


def configs_and_availability(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return [m for m in doc["messages"] if m.get("retain")]


def states(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return [m for m in doc["messages"] if not m.get("retain")]


async def test_ikea_bulb_json_light(env: Env) -> None:
    doc = env.fixture("zigbee2mqtt_ikea_bulb.json")
    await env.z2m.replay(configs_and_availability(doc))  # retained before the hub starts
    await start(env)
    did = "ha-zigbee2mqtt_0x000b57fffe8f2a1c"
    await wait_until(lambda: env.kernel.state.is_online(did), what="the bulb adopted and online")
    device = env.kernel.registry.devices[did]
    assert (device.name, device.model, device.transport) == ("Living room bulb", "LED1545G12", "hass")
    assert device.spec.type.startswith("urn:miot-spec-v2:device:light:")
    light = env.siid(did, "0x000b57fffe8f2a1c_light_zigbee2mqtt")
    lq = env.siid(did, "0x000b57fffe8f2a1c_linkquality_zigbee2mqtt")
    pob = env.siid(did, "0x000b57fffe8f2a1c_power_on_behavior_zigbee2mqtt")
    assert (light, lq, pob) == (2, 3, 4)  # ordered by unique id
    assert [p.name for p in device.spec.service(light).properties] == [
        "on",
        "brightness",
        "color-temperature",
    ]
    assert env.value(did, 1, 1) == "IKEA" and env.value(did, 1, 4) == "2.3.093"
    assert env.bridge.stats["unsupported_components"] == {"update": 1}

    await env.z2m.replay(states(doc))
    await wait_until(lambda: env.value(did, lq, 1) == 72, what="the state message applied")
    assert env.value(did, light, 1) is True
    assert env.value(did, light, 2) == 100  # 254 on a 254 scale
    assert env.value(did, light, 3) == 2703  # 370 mireds
    assert env.value(did, pob, 1) == 3  # "previous"

    await env.z2m.publish(f"{env.base}/Living room bulb", doc["state_after"])
    await wait_until(lambda: env.value(did, light, 1) is False, what="the bulb off")
    assert env.value(did, light, 2) == 50 and env.value(did, light, 3) == 4000

    command = f"{env.base}/Living room bulb/set"
    await env.kernel.set_property(did, light, 2, 40, PERSON)
    got = await env.z2m.wait_for(command)
    assert got.json() == {"state": "ON", "brightness": 102}
    await env.kernel.set_property(did, light, 1, False, PERSON)
    await env.z2m.wait_for(command, lambda r: r.json() == {"state": "OFF"})
    await env.kernel.set_property(did, pob, 1, 0, PERSON)
    got = await env.z2m.wait_for(f"{env.base}/Living room bulb/set/power_on_behavior")
    assert got.payload == b"off"
    assert env.bridge.stats["commands_sent"] == 3


async def test_aqara_sensors_and_availability(env: Env) -> None:
    doc = env.fixture("zigbee2mqtt_aqara_th.json")
    await start(env)
    await env.z2m.replay(configs_and_availability(doc))  # live, after the hub started
    did = "ha-zigbee2mqtt_0x00158d0001a2b3c4"
    await wait_until(lambda: env.kernel.state.is_online(did), what="the sensor online")
    await env.z2m.replay(states(doc))
    temp = env.siid(did, "0x00158d0001a2b3c4_temperature_zigbee2mqtt")
    await wait_until(lambda: env.value(did, temp, 1) == 21.56, what="the temperature")
    services = {s.description: s for s in env.kernel.registry.devices[did].spec.services}
    readings = {
        name: env.value(did, services[name].iid, 1) for name in ("Humidity", "Pressure", "Battery", "Voltage")
    }
    assert readings == {"Humidity": 48.27, "Pressure": 1012.4, "Battery": 91, "Voltage": 2995}
    assert services["Temperature"].properties[0].unit == "celsius"
    assert services["Battery"].properties[0].name == "battery-level"

    # availability_mode all: the bridge going offline takes every device with it
    await env.z2m.publish(f"{env.base}/bridge/state", {"state": "offline"}, retain=True)
    await wait_until(lambda: not env.kernel.state.is_online(did), what="offline with the bridge")
    await env.z2m.publish(f"{env.base}/bridge/state", {"state": "online"}, retain=True)
    await wait_until(lambda: env.kernel.state.is_online(did), what="online again")
    await env.z2m.publish(f"{env.base}/Bedroom climate/availability", {"state": "offline"}, retain=True)
    await wait_until(lambda: not env.kernel.state.is_online(did), what="offline on its own")


async def test_door_contact_boolean_payloads(env: Env) -> None:
    doc = env.fixture("zigbee2mqtt_door_contact.json")
    await env.z2m.replay(configs_and_availability(doc))
    await start(env)
    did = "ha-zigbee2mqtt_0x00158d0002c3d4e5"
    await wait_until(lambda: env.kernel.state.is_online(did), what="the contact online")
    contact = env.siid(did, "0x00158d0002c3d4e5_contact_zigbee2mqtt")
    await env.z2m.replay(states(doc))
    await wait_until(lambda: env.value(did, contact, 1) is False, what="closed (contact true)")
    await env.z2m.publish(f"{env.base}/Front door", doc["state_after"])
    await wait_until(lambda: env.value(did, contact, 1) is True, what="open (contact false)")
    assert env.kernel.registry.devices[did].spec.service(contact).properties[0].name == "door"


async def test_metering_plug(env: Env) -> None:
    doc = env.fixture("zigbee2mqtt_plug.json")
    await env.z2m.replay(configs_and_availability(doc))
    await start(env)
    did = "ha-zigbee2mqtt_0xa4c1380c9d7e6f01"
    await wait_until(lambda: env.kernel.state.is_online(did), what="the plug online")
    switch = env.siid(did, "0xa4c1380c9d7e6f01_switch_zigbee2mqtt")
    power = env.siid(did, "0xa4c1380c9d7e6f01_power_zigbee2mqtt")
    energy = env.siid(did, "0xa4c1380c9d7e6f01_energy_zigbee2mqtt")
    await env.z2m.replay(states(doc))
    await wait_until(lambda: env.value(did, power, 1) == 4, what="the power")
    assert env.value(did, switch, 1) is False and env.value(did, energy, 1) == 12.47
    await env.kernel.set_property(did, switch, 1, True, PERSON)
    assert (await env.z2m.wait_for(f"{env.base}/Coffee machine plug/set")).payload == b"ON"
    # fire and forget: the state is the device's word, not the command's
    assert env.value(did, switch, 1) is False
    await env.z2m.publish(f"{env.base}/Coffee machine plug", doc["state_after"])
    await wait_until(lambda: env.value(did, switch, 1) is True, what="the plug on")
    assert env.value(did, power, 1) == 1240


async def test_radiator_valve_climate(env: Env) -> None:
    doc = env.fixture("zigbee2mqtt_trv.json")
    await env.z2m.replay(configs_and_availability(doc))
    await start(env)
    did = "ha-zigbee2mqtt_0x847127fffe5a6b7c"
    await wait_until(lambda: env.kernel.state.is_online(did), what="the valve online")
    climate = env.siid(did, "0x847127fffe5a6b7c_climate_zigbee2mqtt")
    lock = env.siid(did, "0x847127fffe5a6b7c_child_lock_zigbee2mqtt")
    calibration = env.siid(did, "0x847127fffe5a6b7c_local_temperature_calibration_zigbee2mqtt")
    service = env.kernel.registry.devices[did].spec.service(climate)
    assert service is not None and service.type.startswith("urn:miot-spec-v2:service:thermostat:")
    # the action template is a {% %} statement: the entity is kept, that state marked unsupported
    assert "action_template" in service.extra["hass-unsupported"]
    assert env.bridge.stats["unsupported_templates"] == {"action_template": 1}
    await env.z2m.replay(states(doc))
    await wait_until(lambda: env.value(did, climate, 3) == 21.5, what="the setpoint")
    assert env.value(did, climate, 2) == 0  # heat
    assert env.value(did, climate, 4) == 19.8
    assert env.value(did, climate, 7) == 1  # manual
    assert env.value(did, climate, 8) is None  # unsupported: never read
    assert env.value(did, lock, 1) is False
    assert env.value(did, calibration, 1) == -1.5

    await env.kernel.set_property(did, climate, 2, 2, PERSON)
    assert (await env.z2m.wait_for(f"{env.base}/Bathroom radiator/set/system_mode")).payload == b"off"
    await env.kernel.set_property(did, climate, 3, 22.5, PERSON)
    got = await env.z2m.wait_for(f"{env.base}/Bathroom radiator/set/current_heating_setpoint")
    assert got.payload == b"22.5"
    await env.kernel.call_action(did, lock, 1, [], PERSON)
    assert (await env.z2m.wait_for(f"{env.base}/Bathroom radiator/set/child_lock")).payload == b"LOCK"


async def test_device_based_discovery(env: Env) -> None:
    doc = env.fixture("zigbee2mqtt_device_based.json")
    await env.z2m.replay(configs_and_availability(doc))
    await start(env)
    did = "ha-zigbee2mqtt_0x54ef4410006f7a8b"
    await wait_until(lambda: env.kernel.state.is_online(did), what="the blind online")
    device = env.kernel.registry.devices[did]
    assert device.room_id == "study" and env.kernel.registry.rooms["study"].name == "Study"
    assert env.bridge.stats["unsupported_components"] == {"siren": 1}
    cover = env.siid(did, "0x54ef4410006f7a8b_cover_zigbee2mqtt")
    button = env.siid(did, "0x54ef4410006f7a8b_identify_zigbee2mqtt")
    battery = env.siid(did, "0x54ef4410006f7a8b_battery_zigbee2mqtt")
    await env.z2m.replay(states(doc))
    await wait_until(lambda: env.value(did, cover, 2) == 35, what="the position")
    assert env.value(did, cover, 4) == 1 and env.value(did, battery, 1) == 88
    base = f"{env.base}/Study blind"
    await env.kernel.set_property(did, cover, 3, 80, PERSON)
    assert (await env.z2m.wait_for(f"{base}/set")).payload == b'{ "position": 80 }'
    assert env.value(did, cover, 3) == 80  # no state topic for the target: optimistic
    await env.kernel.set_property(did, cover, 1, 2, PERSON)
    await env.z2m.wait_for(f"{base}/set", lambda r: r.payload == b"CLOSE")
    await env.kernel.call_action(did, button, 1, [], PERSON)
    await env.z2m.wait_for(f"{base}/set", lambda r: r.payload == b'{"identify": "identify"}')

    # a component with only its platform is removed; the others keep their siids
    before = {s.extra.get("hass-id"): s.iid for s in device.spec.services}
    removal = doc["remove_component"]
    await env.z2m.publish(removal["topic"], removal["payload"], retain=True)
    await wait_until(
        lambda: env.kernel.registry.devices[did].spec.service(button) is None, what="the button removed"
    )
    after = {s.extra.get("hass-id"): s.iid for s in env.kernel.registry.devices[did].spec.services}
    assert after == {k: v for k, v in before.items() if k != "0x54ef4410006f7a8b_identify_zigbee2mqtt"}
    # an empty device config removes every component, and so the device
    await env.z2m.publish(removal["topic"], None, retain=True)
    await wait_until(lambda: did not in env.kernel.registry.devices, what="the device removed")


async def test_entity_removal_and_the_device_going_away(env: Env) -> None:
    doc = env.fixture("zigbee2mqtt_door_contact.json")
    await env.z2m.replay(configs_and_availability(doc))
    await start(env)
    did = "ha-zigbee2mqtt_0x00158d0002c3d4e5"
    await wait_until(lambda: did in env.kernel.registry.devices, what="adopted")
    configs = [m["topic"] for m in doc["messages"] if m["topic"].endswith("/config")]
    assert len(env.kernel.registry.devices[did].spec.services) == 4
    await env.z2m.publish(configs[0], None, retain=True)
    await wait_until(
        lambda: len(env.kernel.registry.devices[did].spec.services) == 3, what="one entity removed"
    )
    for topic in configs[1:]:
        await env.z2m.publish(topic, None, retain=True)
    await wait_until(lambda: did not in env.kernel.registry.devices, what="the device removed")
    assert env.bridge.stats["removals"] == 3


async def test_default_schema_light_fan_and_templates(env: Env) -> None:
    await start(env)
    b = env.base
    device = {"ids": ["tasmota_A1B2C3"], "name": "Desk lamp", "mf": "Tasmota", "sa": "Office"}
    light = {
        "~": f"{b}/desk/",
        "name": None,
        "uniq_id": "A1B2C3_light",
        "dev": device,
        "cmd_t": "~cmnd/POWER",
        "stat_t": "~tele/STATE",
        "stat_val_tpl": "{{ value_json.POWER }}",
        "bri_cmd_t": "~cmnd/Dimmer",
        "bri_stat_t": "~tele/STATE",
        "bri_scl": 100,
        "bri_val_tpl": "{{ value_json.Dimmer }}",
        "avty_t": "~tele/LWT",
        "pl_avail": "Online",
        "pl_not_avail": "Offline",
    }
    fan = {
        "name": "Fan",
        "uniq_id": "A1B2C3_fan",
        "dev": device,
        "cmd_t": f"{b}/fan/set",
        "pct_cmd_t": f"{b}/fan/pct",
    }
    await env.z2m.publish(f"{env.prefix}/light/A1B2C3/light/config", light, retain=True)
    await env.z2m.publish(f"{env.prefix}/fan/A1B2C3/fan/config", fan, retain=True)
    did = "ha-tasmota_A1B2C3"
    await wait_until(lambda: did in env.kernel.registry.devices, what="the lamp adopted")
    # the fan has no availability topic, so the device is online before the lamp says a word
    await wait_until(lambda: env.kernel.state.is_online(did), what="online")
    await env.z2m.publish(f"{b}/desk/tele/LWT", "Online", retain=True)
    await env.z2m.publish(f"{b}/desk/tele/STATE", {"POWER": "ON", "Dimmer": 42})
    lamp, fan_siid = env.siid(did, "A1B2C3_light"), env.siid(did, "A1B2C3_fan")
    await wait_until(lambda: env.value(did, lamp, 2) == 42, what="the dimmer")
    assert env.value(did, lamp, 1) is True
    assert env.kernel.registry.devices[did].room_id == "office"
    await env.kernel.set_property(did, lamp, 2, 60, PERSON)
    assert (await env.z2m.wait_for(f"{b}/desk/cmnd/Dimmer")).payload == b"60"
    await env.kernel.set_property(did, fan_siid, 1, True, PERSON)
    assert (await env.z2m.wait_for(f"{b}/fan/set")).payload == b"ON"
    assert env.value(did, fan_siid, 1) is True  # no state topic: optimistic
    await env.kernel.set_property(did, fan_siid, 3, 30, PERSON)
    assert (await env.z2m.wait_for(f"{b}/fan/pct")).payload == b"30"


async def test_bad_input_is_counted_and_never_fatal(env: Env) -> None:
    doc = env.fixture("zigbee2mqtt_plug.json")
    await start(env)
    await env.z2m.replay(configs_and_availability(doc))
    did = "ha-zigbee2mqtt_0xa4c1380c9d7e6f01"
    await wait_until(lambda: env.kernel.state.is_online(did), what="the plug online")
    p, b = env.prefix, env.base
    bad = [
        (f"{p}/sensor/x1/config", b"{not json"),
        (f"{p}/sensor/x2/config", b"[1, 2, 3]"),
        (f"{p}/sensor/bad.id/config", b'{"stat_t": "a"}'),
        (f"{p}/sensor/x3/config", {"unit_of_meas": "W", "uniq_id": "x3"}),  # no state topic
        (f"{p}/sensor/x4/config", {"stat_t": f"{b}/x4", "uniq_id": "x4", "pad": "x" * 9000}),
        (
            f"{p}/light/x5/config",
            {"cmd_t": f"{b}/x5/set", "bri_scl": "lots", "uniq_id": "x5", "frobnicate": True},
        ),
        (f"{p}/select/x6/config", {"cmd_t": f"{b}/x6", "uniq_id": "x6"}),  # no options
        (f"{p}/vacuum/x7/config", {"cmd_t": f"{b}/x7", "uniq_id": "x7"}),
        (f"{p}/device/x8/config", {"cmps": {"a": {"p": "sensor"}}}),
    ]
    for topic, payload in bad:
        await env.z2m.publish(topic, payload, retain=True)
    await wait_until(lambda: "ha-x5" in env.kernel.registry.devices, what="the partly bad light kept")
    malformed = env.bridge.stats["malformed"]
    for reason in (
        "not-json",
        "bad-config",
        "bad-topic",
        "missing-topic",
        "oversized",
        "bad-value",
        "unknown-key",
    ):
        assert malformed.get(reason), (reason, malformed)
    assert env.bridge.stats["unsupported_components"] == {"vacuum": 1}
    assert {"ha-x3", "ha-x4", "ha-x6"}.isdisjoint(env.kernel.registry.devices)

    # bad state payloads: the good values of the same device still arrive
    power = env.siid(did, "0xa4c1380c9d7e6f01_power_zigbee2mqtt")
    await env.z2m.publish(f"{b}/Coffee machine plug", b"\xff\xfe not utf-8")
    await env.z2m.publish(f"{b}/Coffee machine plug", {"power": "lots", "state": "ON"})
    await env.z2m.publish(f"{b}/Coffee machine plug", {"power": -5, "state": "OFF"})
    await env.z2m.publish(f"{b}/Coffee machine plug", b"x" * 9000)
    await env.z2m.publish(f"{b}/Coffee machine plug", {"power": 7})
    await wait_until(lambda: env.value(did, power, 1) == 7, what="a good value after bad ones")
    assert env.bridge.stats["malformed"]["bad-state"] >= 2
    assert env.bridge.connected and env.bridge.stats["malformed"].get("internal-error") is None


async def test_our_own_announcements_are_never_adopted(env: Env) -> None:
    await start(env)
    own = {
        "dev": {"ids": ["trilink_light-1"], "name": "Kitchen"},
        "cmps": {"l": {"p": "switch", "cmd_t": "x"}},
    }
    await env.z2m.publish(f"{env.prefix}/device/trilink-light-1/config", own, retain=True)
    await wait_until(lambda: env.bridge.stats["own_configs"] == 1, what="our config seen")
    assert env.kernel.registry.devices == {}


async def test_reconnection_restores_availability(private_broker: Any, unique: str) -> None:
    broker = private_broker()
    prefix, base = f"ha-{unique}", f"z2m-{unique}"
    kernel = Kernel()
    bridge = HassTransport(
        kernel, broker.settings, HassSettings(enabled_in=True, discovery_prefix=prefix, settle=0.05)
    )
    doc = load_fixture("zigbee2mqtt_door_contact.json", prefix, base)
    did = "ha-zigbee2mqtt_0x00158d0002c3d4e5"
    try:
        await bridge.start()
        await bridge.wait_connected(5)
        async with peer(broker.settings) as z2m:
            await z2m.replay(configs_and_availability(doc))
            await wait_until(lambda: kernel.state.is_online(did), what="online")
        broker.stop()
        await wait_until(lambda: not kernel.state.is_online(did), what="offline while the broker is away")
        broker.start()
        await bridge.wait_connected(5)
        async with peer(broker.settings) as z2m:  # the broker kept nothing: Zigbee2MQTT announces again
            await z2m.replay(configs_and_availability(doc))
            await wait_until(lambda: kernel.state.is_online(did), what="online again")
        assert bridge.stats["connects"] == 2
    finally:
        await bridge.stop()
