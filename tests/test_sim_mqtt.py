"""The simulated world over a real broker: every device is its own MQTT client.

A raw aiomqtt client plays the hub: it watches ``trilink/v1/dev/#`` and sends ``set``,
``call`` and ``sync`` requests. Dids carry a unique prefix on the shared Mosquitto, and
the retained messages the world leaves are cleared at teardown.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiomqtt
import orjson
import pytest

from conftest import PrivateMosquitto, wait_until
from trilink.clock import ManualClock
from trilink.model import validate_value
from trilink.sim import LAYOUT, ChargingState, World
from trilink.sim.device import (
    CODE_INVALID_VALUE,
    CODE_MALFORMED,
    CODE_NOT_FOUND,
    CODE_NOT_WRITABLE,
    CODE_REFUSED,
)
from trilink.transports.mqtt import schema
from trilink.transports.mqtt.settings import MqttSettings

START = 1_783_296_000.0  # Monday 6 July 2026, 08:00 in Shanghai


class Wire:
    """What the world's devices published, as a hub would see it."""

    def __init__(self, client: aiomqtt.Client, prefix: str) -> None:
        self.client = client
        self.prefix = prefix
        self.messages: list[tuple[str, str, bytes]] = []
        self._ids = 0

    async def run(self) -> None:
        async for m in self.client.messages:
            with contextlib.suppress(schema.PayloadError):
                did, kind = schema.split_topic(m.topic.value)
                if did.startswith(self.prefix) and isinstance(m.payload, bytes):
                    self.messages.append((did, kind, m.payload))

    def of(self, did: str, kind: str) -> list[bytes]:
        return [p for d, k, p in self.messages if d == did and k == kind]

    def availability(self, did: str) -> str | None:
        seen = self.of(did, "availability")
        return seen[-1].decode() if seen else None

    def state(self, did: str) -> dict[tuple[int, int], Any]:
        """The device's properties as the reports so far leave them."""
        out: dict[tuple[int, int], Any] = {}
        for payload in self.of(did, "report"):
            out.update({(s, p): v for s, p, v in schema.parse_report(payload).items})
        return out

    def events(self, did: str) -> list[schema.EventMessage]:
        return [schema.parse_event(p) for p in self.of(did, "event")]

    def result(self, did: str, rid: str) -> schema.Result | None:
        for payload in self.of(did, "result"):
            result = schema.parse_result(payload)
            if result.id == rid:
                return result
        return None

    def next_id(self) -> str:
        self._ids += 1
        return f"req-{self._ids}"

    async def send(self, did: str, kind: str, payload: bytes) -> None:
        await self.client.publish(schema.topic(did, kind), payload, qos=1)

    async def set(self, did: str, items: list[tuple[int, int, Any]]) -> schema.Result:
        rid = self.next_id()
        await self.send(did, "set", schema.encode_set(rid, items))
        return await self.answer(did, rid)

    async def call(self, did: str, siid: int, aiid: int, args: list[Any] | None = None) -> schema.Result:
        rid = self.next_id()
        await self.send(did, "call", schema.encode_call(rid, siid, aiid, args or []))
        return await self.answer(did, rid)

    async def answer(self, did: str, rid: str) -> schema.Result:
        await wait_until(lambda: self.result(did, rid) is not None, what=f"the result of {rid} from {did}")
        result = self.result(did, rid)
        assert result is not None
        return result


@contextlib.asynccontextmanager
async def watching(settings: MqttSettings, prefix: str) -> AsyncIterator[Wire]:
    """A raw client recording the devices under ``prefix``; clears their retained messages after."""
    async with aiomqtt.Client(
        settings.host, settings.port, username=settings.username, password=settings.password
    ) as client:
        await client.subscribe("trilink/v1/dev/#", qos=1)
        wire = Wire(client, prefix)
        reader = asyncio.create_task(wire.run())
        try:
            yield wire
        finally:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader
            for did in {d for d, _, _ in wire.messages}:
                for kind in ("announce", "availability"):
                    await client.publish(schema.topic(did, kind), b"", qos=1, retain=True)


@pytest.fixture
async def wire(system_broker: MqttSettings, unique: str) -> AsyncIterator[Wire]:
    async with watching(system_broker, f"{unique}-") as w:
        yield w


@pytest.fixture
async def world(system_broker: MqttSettings, unique: str, wire: Wire) -> AsyncIterator[World]:
    w = World(system_broker, ManualClock(START), did_prefix=f"{unique}-", schedule=False)
    await w.start()
    try:
        await wait_until(
            lambda: all(wire.availability(d) == "online" for d in w.devices),
            timeout=10,
            what="every device to come online",
        )
        yield w
    finally:
        await w.stop()


def did_of(world: World, layout_id: str) -> str:
    return world.device(layout_id).did


async def test_every_device_announces_itself_comes_online_and_reports(world: World, wire: Wire) -> None:
    assert len(world.devices) == len(LAYOUT) == 16
    for placement in LAYOUT:
        did = did_of(world, placement.id)
        device = world.devices[did]
        announce = schema.parse_announce(wire.of(did, "announce")[-1])
        assert (announce.did, announce.model, announce.name) == (did, device.model, placement.name)
        assert (announce.room, announce.kind, announce.owner) == (
            placement.room,
            placement.kind,
            placement.owner,
        )
        readable = {k for k, p in device.spec.properties.items() if p.readable}
        await wait_until(lambda: set(wire.state(did)) == readable, what=f"a full report from {did}")  # noqa: B023 (awaited at once)
        for (siid, piid), value in wire.state(did).items():
            validate_value(did, device.spec.properties[(siid, piid)], value)
    assert schema.parse_announce(wire.of(did_of(world, "car"), "announce")[-1]).owner == "alex"
    assert schema.parse_announce(wire.of(did_of(world, "phone-alex"), "announce")[-1]).kind == "phone"


async def test_a_set_is_answered_and_the_new_state_reported(world: World, wire: Wire) -> None:
    light = did_of(world, "light-living")
    await wait_until(lambda: (2, 1) in wire.state(light), what="the light's first report")
    assert wire.state(light)[(2, 1)] is False
    result = await wire.set(light, [(2, 1, True), (2, 2, 35)])
    assert result.code == 0
    assert result.codes == [(2, 1, 0), (2, 2, 0)]
    await wait_until(
        lambda: wire.state(light).get((2, 1)) is True and wire.state(light).get((2, 2)) == 35,
        what="the light's report",
    )
    assert world.device(light).readings()[(2, 1)] is True


async def test_an_invalid_set_is_refused_and_changes_nothing(world: World, wire: Wire) -> None:
    light = did_of(world, "light-living")
    await wait_until(lambda: (2, 2) in wire.state(light), what="the light's first report")
    before = world.device(light).readings()
    result = await wire.set(light, [(2, 2, 150)])
    assert result.code == CODE_INVALID_VALUE
    assert "out of range" in result.message and light in result.message
    assert (await wire.set(light, [(1, 1, "acme")])).code == CODE_NOT_WRITABLE
    assert (await wire.set(light, [(2, 9, 1)])).code == CODE_NOT_FOUND
    assert (await wire.set(light, [(2, 3, "warm")])).code == CODE_INVALID_VALUE
    assert world.device(light).readings() == before
    assert wire.state(light)[(2, 2)] == before[(2, 2)]
    # a partly valid set applies the valid part and says which part failed
    mixed = await wire.set(light, [(2, 3, 3000), (2, 2, 0)])
    assert mixed.code == CODE_INVALID_VALUE
    assert mixed.codes == [(2, 3, 0), (2, 2, CODE_INVALID_VALUE)]
    await wait_until(lambda: wire.state(light).get((2, 3)) == 3000, what="the valid part reported")


async def test_calls_are_answered_with_their_effects(world: World, wire: Wire) -> None:
    car, lock, phone = did_of(world, "car"), did_of(world, "lock-front"), did_of(world, "phone-alex")
    assert world.car.charging_state == ChargingState.CHARGING
    assert (await wire.call(car, 3, 2)).code == 0  # stop charging
    await wait_until(lambda: wire.state(car).get((3, 1)) == ChargingState.STOPPED, what="charging-state 4")
    await wait_until(
        lambda: any(e.siid == 3 and e.eiid == 1 for e in wire.events(car)), what="charging-ended"
    )
    ended = next(e for e in wire.events(car) if (e.siid, e.eiid) == (3, 1))
    assert ended.arguments[1] == ChargingState.STOPPED and ended.arguments[5] == 0.0

    assert (await wire.call(lock, 2, 2)).code == 0  # unlock
    await wait_until(lambda: wire.state(lock).get((2, 1)) is False, what="the lock's report")
    await wait_until(lambda: bool(wire.events(lock)), what="lock-event")
    assert wire.events(lock)[-1].arguments == {1: False, 2: 0}  # unlocked by the hub

    assert (await wire.call(phone, 6, 1, ["Hi", "Dinner at 7"])).code == 0
    await wait_until(lambda: bool(wire.events(phone)), what="notification-shown")
    assert wire.events(phone)[-1].arguments == {1: "Hi", 2: "Dinner at 7"}

    assert (await wire.call(car, 3, 9)).code == CODE_NOT_FOUND
    assert (await wire.call(phone, 6, 1, ["only a title"])).code == CODE_INVALID_VALUE
    world.car.unplug()
    refused = await wire.call(car, 3, 1)  # start charging, but nothing is plugged in
    assert refused.code == CODE_REFUSED and "not plugged in" in refused.message


async def test_garbage_does_not_kill_the_device(world: World, wire: Wire) -> None:
    light = did_of(world, "light-kitchen")
    await wire.send(light, "set", b"\xff\x00 definitely not json")
    await wire.send(light, "set", b'{"properties": [{"siid": 2, "piid": 1, "value": true}]}')  # no id
    await wire.send(light, "call", b"[1, 2, 3]")
    await wire.send(light, "set", b'{"id": "bad-1", "properties": "all of them"}')
    malformed = await wire.answer(light, "bad-1")
    assert malformed.code == CODE_MALFORMED and "properties" in malformed.message
    await wire.send(light, "call", b'{"id": "bad-2", "siid": -1, "aiid": 1}')
    assert (await wire.answer(light, "bad-2")).code == CODE_MALFORMED
    # still alive and well
    assert (await wire.set(light, [(2, 1, True)])).code == 0
    await wait_until(lambda: wire.state(light).get((2, 1)) is True, what="the kitchen light on")
    assert world.device(light).online


async def test_physics_steps_are_reported_and_sync_sends_everything(world: World, wire: Wire) -> None:
    ac = did_of(world, "ac-living")
    assert (await wire.set(ac, [(2, 1, True), (2, 2, 2), (2, 3, 24.0)])).code == 0
    clock = world.clock
    assert isinstance(clock, ManualClock)
    for _ in range(6):
        await clock.advance(60.0)
    await wait_until(lambda: (wire.state(ac).get((5, 4)) or 0) > 100, what="compressor power reported")
    assert wire.state(ac)[(5, 3)] > 0  # airflow
    assert world.time == pytest.approx(START + 360.0)
    reports = len(wire.of(ac, "report"))
    await wire.send(ac, "sync", b"")
    readable = sum(1 for p in world.device(ac).spec.properties.values() if p.readable)

    def full_report_after_sync() -> bool:
        # a change report of the last physics step may still arrive after the count above
        later = wire.of(ac, "report")[reports:]
        return any(len(schema.parse_report(p).items) == readable for p in later)

    await wait_until(full_report_after_sync, what="a full report after sync")


async def test_stop_leaves_every_device_offline_and_retained(
    system_broker: MqttSettings, world: World, wire: Wire, unique: str
) -> None:
    await world.stop()
    await wait_until(
        lambda: all(wire.availability(d) == "offline" for d in world.devices), what="every device offline"
    )
    assert not any(d.online for d in world.devices.values())
    # a late subscriber sees the retained "offline"
    async with aiomqtt.Client(system_broker.host, system_broker.port) as late:
        await late.subscribe("trilink/v1/dev/+/availability", qos=1)
        seen: dict[str, bytes] = {}

        async def collect() -> None:
            async for m in late.messages:
                did, _ = schema.split_topic(m.topic.value)
                if did.startswith(f"{unique}-") and isinstance(m.payload, bytes):
                    seen[did] = m.payload

        reader = asyncio.create_task(collect())
        try:
            await wait_until(lambda: len(seen) == len(world.devices), what="retained availability")
        finally:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader
    assert set(seen.values()) == {b"offline"}


async def test_devices_come_back_after_a_broker_outage(
    private_broker: Callable[..., PrivateMosquitto], unique: str
) -> None:
    broker = private_broker()
    world = World(broker.settings, ManualClock(START), did_prefix=f"{unique}-", schedule=False)
    await world.start()
    try:
        await wait_until(lambda: all(d.online for d in world.devices.values()), what="online")
        broker.stop()
        await wait_until(lambda: not any(d.online for d in world.devices.values()), what="offline")
        world.car.locked = not world.car.locked  # the world lives on while the broker is down
        expected = world.car.locked
        broker.start()
        await wait_until(
            lambda: all(d.online for d in world.devices.values()), timeout=10, what="back online"
        )
        # the restarted broker has no retained state: the devices announce themselves again
        async with watching(broker.settings, f"{unique}-") as wire:
            car = did_of(world, "car")
            await wait_until(lambda: all(wire.of(d, "announce") for d in world.devices), what="announces")
            assert all(wire.availability(d) == "online" for d in world.devices)
            # the hub coming online asks for everything: the car's doors as they are now
            await wire.client.publish(schema.HUB_STATUS, b"online", qos=1)
            await wait_until(lambda: wire.state(car).get((6, 1)) is expected, what="the car's doors reported")
    finally:
        await world.stop()


def test_report_payloads_are_plain_json() -> None:
    """A full report is one JSON object with every readable property of the device."""
    w = World(MqttSettings(port=9), ManualClock(START), schedule=False)
    items = w.device("ac-living").snapshot()
    payload = orjson.loads(schema.encode_report(items))
    assert {(i["siid"], i["piid"]) for i in payload["properties"]} == {
        k for k, p in w.device("ac-living").spec.properties.items() if p.readable
    }
