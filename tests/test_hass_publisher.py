"""Discovery out, against the real Mosquitto: trilink's devices as Home Assistant sees them.

A ``Peer`` plays Home Assistant: it reads the retained configs, states and availability
the bridge publishes and sends commands and the birth message. The devices are the
built-in light, air conditioner, car and phone behind a stub link that acts like a
device (and, in one test, a scripted device over the real MQTT transport).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from conftest import wait_until
from hass_support import Peer, load_fixture, peer
from mqtt_device import ScriptedDevice
from trilink.kernel import ActionInvoked, Kernel, Outcome, PropertyWritten
from trilink.model import builtin_spec
from trilink.transports.hass import HassSettings, HassTransport
from trilink.transports.mqtt.settings import MqttSettings
from trilink.transports.mqtt.transport import MqttTransport

DEVICES = {
    "light-kitchen": ("trilink.light.sim1", "Kitchen light", "Kitchen", None, None),
    "ac-living": ("trilink.aircondition.sim1", "Living room AC", "Living room", None, None),
    "car-alice": ("trilink.car.sim1", "Alice's car", None, "alice", "car"),
    "phone-alice": ("trilink.phone.sim1", "Alice's phone", None, "alice", "phone"),
}


class StubLink:
    """Acts like the devices: takes every write (and reports it back) and every call."""

    name = "sim"

    def __init__(self, kernel: Kernel) -> None:
        self.kernel = kernel
        self.sets: list[tuple[str, int, int, Any]] = []
        self.calls: list[tuple[str, int, int]] = []

    async def send_set(self, did: str, siid: int, piid: int, value: Any) -> Outcome:
        self.sets.append((did, siid, piid, value))
        self.kernel.report(did, siid, piid, value)
        return Outcome()

    async def send_call(self, did: str, siid: int, aiid: int, args: list[Any]) -> Outcome:
        self.calls.append((did, siid, aiid))
        return Outcome()


@dataclass
class Env:
    kernel: Kernel
    bridge: HassTransport
    ha: Peer
    link: StubLink
    prefix: str
    base: str
    events: list[Any] = field(default_factory=list)

    def config_topic(self, did: str) -> str:
        return f"{self.prefix}/device/trilink-{did.replace('.', '_')}/config"

    async def config(self, did: str) -> dict[str, Any]:
        got = await self.ha.wait_for(self.config_topic(did), lambda r: bool(r.payload))
        doc: dict[str, Any] = got.json()
        return doc

    async def command(self, did: str, key: str, payload: str) -> None:
        await self.ha.publish(f"{self.base}/{did}/{key}/set", payload)


def adopt_all(kernel: Kernel) -> None:
    for did, (model, name, room, owner, kind) in DEVICES.items():
        kernel.adopt(
            did,
            model=model,
            name=name,
            spec=builtin_spec(model),
            transport="sim",
            room=room,
            owner=owner,
            kind=kind,
        )
        kernel.set_online(did, True)
        kernel.report_many(did, [(1, 1, "trilink"), (1, 4, "1.0.3")])


@pytest.fixture
async def env(system_broker: MqttSettings, unique: str) -> AsyncIterator[Env]:
    prefix, base = f"ha-{unique}", f"tl-{unique}"
    async with peer(system_broker, [f"{prefix}/#", f"{base}/#"]) as ha:
        kernel = Kernel(command_timeout=3.0)
        link = StubLink(kernel)
        kernel.attach(link)
        adopt_all(kernel)
        settings = HassSettings(enabled_out=True, discovery_prefix=prefix, base_topic=base)
        bridge = HassTransport(kernel, system_broker, settings)
        env = Env(kernel, bridge, ha, link, prefix, base)
        kernel.bus.subscribe(env.events.append, PropertyWritten, ActionInvoked)
        try:
            yield env
        finally:
            await bridge.stop()


async def start(env: Env) -> None:
    await env.bridge.start()
    await env.bridge.wait_connected(5)


async def test_configs_for_the_light_the_ac_the_car_and_the_phone(env: Env) -> None:
    await start(env)
    light = await env.config("light-kitchen")
    assert light["device"] == {
        "identifiers": ["trilink_light-kitchen"],
        "name": "Kitchen light",
        "model": "trilink.light.sim1",
        "manufacturer": "trilink",
        "sw_version": "1.0.3",
        "suggested_area": "Kitchen",
    }
    assert light["origin"]["name"] == "trilink"
    assert light["availability"] == [
        {"topic": f"{env.base}/status"},
        {"topic": f"{env.base}/light-kitchen/availability"},
    ]
    assert light["availability_mode"] == "all"
    assert list(light["components"]) == ["light2"]
    lc = light["components"]["light2"]
    state = f"{env.base}/light-kitchen/state"
    assert (
        lc["platform"] == "light" and lc["name"] is None and lc["unique_id"] == "trilink_light_kitchen_light2"
    )
    assert lc["command_topic"] == f"{env.base}/light-kitchen/s2p1/set" and lc["state_topic"] == state
    assert lc["brightness_scale"] == 100 and lc["brightness_value_template"] == "{{ value_json.s2p2 }}"
    assert (lc["color_temp_kelvin"], lc["min_kelvin"], lc["max_kelvin"]) == (True, 2700, 6500)
    assert lc["rgb_command_topic"] == f"{env.base}/light-kitchen/s2p4/set"

    ac = (await env.config("ac-living"))["components"]
    climate = ac["climate2"]
    assert climate["platform"] == "climate"
    assert climate["modes"] == ["off", "auto", "cool", "dry", "fan_only", "heat"]
    assert climate["fan_modes"] == ["auto", "low", "medium", "high"]
    assert (climate["min_temp"], climate["max_temp"], climate["temp_step"]) == (16, 31, 0.5)
    assert climate["current_temperature_template"] == "{{ value_json.s4p1 }}"
    assert climate["mode_state_template"] == "{{ value_json.climate2_mode }}"
    assert "s2p1" not in ac and "s3p1" not in ac  # taken by the climate
    humidity = ac["s4p2"]
    assert (humidity["platform"], humidity["device_class"], humidity["unit_of_measurement"]) == (
        "sensor",
        "humidity",
        "%",
    )
    energy = ac["s5p8"]
    assert (energy["device_class"], energy["state_class"], energy["unit_of_measurement"]) == (
        "energy",
        "total_increasing",
        "kWh",
    )

    car = (await env.config("car-alice"))["components"]
    tracker = car["tracker4"]
    assert tracker["platform"] == "device_tracker" and tracker["source_type"] == "gps"
    assert tracker["json_attributes_template"] == "{{ value_json.tracker4 | tojson }}"
    assert car["s2p1"]["device_class"] == "battery" and car["s2p1"]["unit_of_measurement"] == "%"
    assert car["s3p3"]["platform"] == "number" and (car["s3p3"]["min"], car["s3p3"]["max"]) == (50, 100)
    assert car["s3p1"]["device_class"] == "enum" and car["s3p1"]["options"][2] == "Charging"
    assert car["climate5"]["modes"] == ["off", "auto"]
    assert car["lock6"]["platform"] == "lock" and car["lock6"]["value_template"].startswith("{{ 'LOCKED' if")
    assert car["s3a1"]["platform"] == "button" and car["s3a1"]["name"] == "Start Charging"
    assert car["s4p3"]["device_class"] == "speed" and car["s4p3"]["unit_of_measurement"] == "km/h"

    phone = (await env.config("phone-alice"))["components"]
    assert phone["tracker2"]["platform"] == "device_tracker"
    battery = phone["s3p1"]
    assert (battery["platform"], battery["device_class"], battery["unit_of_measurement"]) == (
        "sensor",
        "battery",
        "%",
    )
    assert (
        phone["s3p2"]["platform"] == "binary_sensor" and phone["s3p2"]["device_class"] == "battery_charging"
    )
    assert phone["s5p1"]["platform"] == "switch"
    assert phone["s4p1"]["platform"] == "sensor" and "device_class" not in phone["s4p1"]
    # the notify action takes arguments: no entity for it or for its inputs
    assert not {"s6p1", "s6p2", "s6a1"} & set(phone)
    assert env.bridge.stats["announced"] == 4


async def test_state_and_availability_follow_the_kernel(env: Env) -> None:
    await start(env)
    state = f"{env.base}/light-kitchen/state"
    await env.ha.wait_for(f"{env.base}/status", lambda r: r.payload == b"online")
    await env.ha.wait_for(f"{env.base}/light-kitchen/availability", lambda r: r.payload == b"online")
    env.kernel.report_many("light-kitchen", [(2, 1, True), (2, 2, 80), (2, 3, 4000)])
    got = await env.ha.wait_for(state, lambda r: r.json().get("s2p2") == 80)
    assert got.json()["s2p1"] is True and got.json()["s2p3"] == 4000
    env.kernel.report_many("ac-living", [(2, 1, True), (2, 2, 2), (4, 1, 24.5)])
    got = await env.ha.wait_for(f"{env.base}/ac-living/state", lambda r: r.json().get("s4p1") == 24.5)
    assert got.json()["s2p2"] == "Cool" and got.json()["climate2_mode"] == "cool"
    env.kernel.report("ac-living", 2, 1, False)
    await env.ha.wait_for(f"{env.base}/ac-living/state", lambda r: r.json().get("climate2_mode") == "off")
    env.kernel.report_many("car-alice", [(4, 1, 31.23), (4, 2, 121.47)])
    got = await env.ha.wait_for(f"{env.base}/car-alice/state", lambda r: "tracker4" in r.json())
    assert got.json()["tracker4"] == {"latitude": 31.23, "longitude": 121.47}
    env.kernel.set_online("phone-alice", False)
    await env.ha.wait_for(f"{env.base}/phone-alice/availability", lambda r: r.payload == b"offline")


async def test_commands_from_home_assistant_go_through_the_kernel(env: Env) -> None:
    await start(env)
    await env.config("car-alice")
    await env.command("light-kitchen", "s2p1", "ON")
    await env.command("light-kitchen", "s2p2", "40")
    await env.command("ac-living", "climate2_mode", "cool")
    await env.command("ac-living", "s3p1", "high")
    await env.command("car-alice", "lock6", "LOCK")
    await env.command("car-alice", "s3a1", "PRESS")
    await wait_until(
        lambda: len(env.link.sets) == 5 and len(env.link.calls) == 2, what="commands carried out"
    )
    assert sorted(env.link.sets) == sorted(
        [
            ("light-kitchen", 2, 1, True),
            ("light-kitchen", 2, 2, 40),
            ("ac-living", 2, 1, True),
            ("ac-living", 2, 2, 2),
            ("ac-living", 3, 1, 3),
        ]
    )
    assert sorted(env.link.calls) == [("car-alice", 3, 1), ("car-alice", 6, 1)]
    contexts = {(e.context.actor, e.context.actor_id) for e in env.events}
    assert contexts == {("system", "transport:hass")}
    await env.command("ac-living", "climate2_mode", "off")
    await wait_until(lambda: ("ac-living", 2, 1, False) in env.link.sets, what="the AC off")
    # what the kernel refuses, or cannot read, is counted and never fatal
    await env.command("light-kitchen", "s2p1", "MAYBE")
    await env.command("light-kitchen", "s2p2", "150")
    await env.command("light-kitchen", "s2p9", "1")
    await env.command("no-such-device", "s2p1", "ON")
    env.kernel.set_online("phone-alice", False)
    await env.command("phone-alice", "s5p1", "ON")
    await wait_until(lambda: sum(env.bridge.stats["command_errors"].values()) == 5, what="errors counted")
    assert env.bridge.stats["command_errors"] == {
        "bad-payload": 1,
        "invalid-value": 1,
        "unknown-entity": 2,
        "device-offline": 1,
    }
    assert env.bridge.connected


async def test_the_birth_message_republishes_everything(env: Env) -> None:
    await start(env)
    for did in DEVICES:
        await env.config(did)
    published = env.bridge.stats["configs_published"]
    assert published == 4
    before = len(env.ha.on(env.config_topic("car-alice")))
    await env.ha.publish(f"{env.prefix}/status", "online")
    await wait_until(lambda: env.bridge.stats["births"] == 1, what="the birth seen")
    await wait_until(lambda: len(env.ha.on(env.config_topic("car-alice"))) > before, what="configs again")
    assert env.bridge.stats["configs_published"] == 2 * published
    await env.ha.publish(f"{env.prefix}/status", "offline")  # Home Assistant going away changes nothing


async def test_registry_changes_announce_and_withdraw(env: Env) -> None:
    await start(env)
    await env.config("light-kitchen")
    env.kernel.adopt(
        "plug-desk",
        model="trilink.plug.sim1",
        name="Desk plug",
        spec=builtin_spec("trilink.plug.sim1"),
        transport="sim",
    )
    plug = await env.config("plug-desk")
    assert plug["components"]["s2p1"]["platform"] == "switch"
    assert plug["components"]["s3p1"]["device_class"] == "power"
    env.kernel.rename_device("plug-desk", "Office plug")
    await env.ha.wait_for(env.config_topic("plug-desk"), lambda r: b"Office plug" in r.payload)
    env.kernel.remove_device("light-kitchen")
    await env.ha.wait_for(env.config_topic("light-kitchen"), lambda r: r.payload == b"")
    await env.ha.wait_for(f"{env.base}/light-kitchen/state", lambda r: r.payload == b"")
    # devices that came in from Home Assistant discovery are never announced back
    env.kernel.adopt(
        "ha-bulb", model="x", name="Bulb", spec=builtin_spec("trilink.light.sim1"), transport="hass"
    )
    env.kernel.adopt(
        "plug-2",
        model="trilink.plug.sim1",
        name="Plug 2",
        spec=builtin_spec("trilink.plug.sim1"),
        transport="sim",
    )
    await env.config("plug-2")
    assert env.ha.on(env.config_topic("ha-bulb")) == []
    assert set(env.bridge.publisher.announced) == {
        "ac-living",
        "car-alice",
        "phone-alice",
        "plug-desk",
        "plug-2",
    }  # type: ignore[union-attr]


async def test_announce_and_exclude_patterns(system_broker: MqttSettings, unique: str) -> None:
    prefix, base = f"ha-{unique}", f"tl-{unique}"
    async with peer(system_broker, [f"{prefix}/#", f"{base}/#"]) as ha:
        kernel = Kernel()
        adopt_all(kernel)
        settings = HassSettings(
            enabled_out=True,
            discovery_prefix=prefix,
            base_topic=base,
            announce=("*-alice",),
            exclude=("phone-*",),
        )
        bridge = HassTransport(kernel, system_broker, settings)
        try:
            await bridge.start()
            await bridge.wait_connected(5)
            await ha.wait_for(f"{prefix}/device/trilink-car-alice/config")
            assert set(bridge.publisher.announced) == {"car-alice"}  # type: ignore[union-attr]
        finally:
            await bridge.stop()


async def test_stale_configs_of_an_earlier_run_are_cleared(system_broker: MqttSettings, unique: str) -> None:
    prefix, base = f"ha-{unique}", f"tl-{unique}"
    async with peer(system_broker, [f"{prefix}/#", f"{base}/#"]) as ha:
        ghost = f"{prefix}/device/trilink-gone-device/config"
        await ha.publish(
            ghost, {"device": {"identifiers": ["trilink_gone-device"]}, "components": {}}, retain=True
        )
        kernel = Kernel()
        adopt_all(kernel)
        bridge = HassTransport(
            kernel, system_broker, HassSettings(enabled_out=True, discovery_prefix=prefix, base_topic=base)
        )
        try:
            await bridge.start()
            await ha.wait_for(ghost, lambda r: r.payload == b"")
            assert ha.last(f"{prefix}/device/trilink-car-alice/config") is not None
        finally:
            await bridge.stop()


async def test_a_command_reaches_a_real_device_and_its_state_comes_back(
    system_broker: MqttSettings, unique: str
) -> None:
    prefix, base = f"ha-{unique}", f"tl-{unique}"
    did = f"{unique}-lamp"
    kernel = Kernel(command_timeout=3.0)
    mqtt = MqttTransport(kernel, system_broker)
    device = ScriptedDevice(system_broker, did, room="Kitchen")
    bridge = HassTransport(
        kernel, system_broker, HassSettings(enabled_out=True, discovery_prefix=prefix, base_topic=base)
    )
    async with peer(system_broker, [f"{prefix}/#", f"{base}/#"]) as ha:
        try:
            await mqtt.start()
            await mqtt.wait_connected(5)
            await device.start()
            await wait_until(lambda: kernel.state.is_online(did), what="the lamp online")
            await bridge.start()
            await ha.wait_for(f"{prefix}/device/trilink-{did}/config")
            await ha.publish(f"{base}/{did}/s2p1/set", "ON")
            await wait_until(lambda: device.state[(2, 1)] is True, what="the device switched on")
            got = await ha.wait_for(f"{base}/{did}/state", lambda r: r.json().get("s2p1") is True)
            assert got.json()["s2p1"] is True
        finally:
            await bridge.stop()
            await device.stop()
            await mqtt.stop()


async def test_in_and_out_together_make_no_loop(system_broker: MqttSettings, unique: str) -> None:
    prefix, base, z2m_base = f"ha-{unique}", f"tl-{unique}", f"z2m-{unique}"
    doc = load_fixture("zigbee2mqtt_plug.json", prefix, z2m_base)
    async with peer(system_broker, [f"{prefix}/#", f"{base}/#"]) as ha:
        kernel = Kernel()
        adopt_all(kernel)
        settings = HassSettings(
            enabled_in=True, enabled_out=True, discovery_prefix=prefix, base_topic=base, settle=0.05
        )
        bridge = HassTransport(kernel, system_broker, settings)
        try:
            await bridge.start()
            await bridge.wait_connected(5)
            await ha.replay([m for m in doc["messages"] if m.get("retain")])
            plug = "ha-zigbee2mqtt_0xa4c1380c9d7e6f01"
            await wait_until(lambda: plug in kernel.registry.devices, what="the plug adopted")
            await ha.wait_for(f"{prefix}/device/trilink-car-alice/config")
            await ha.publish(f"{prefix}/status", "online")
            await wait_until(lambda: bridge.stats["births"] == 1, what="the birth")
            assert set(bridge.publisher.announced) == set(DEVICES)  # type: ignore[union-attr]
            assert set(kernel.registry.devices) == {*DEVICES, plug}
            assert ha.on(f"{prefix}/device/trilink-{plug}/config") == []
        finally:
            await bridge.stop()
