"""The hub's MQTT transport against real brokers: Mosquitto and the embedded amqtt broker.

A scripted device (tests/mqtt_device.py) plays the other side; malformed input is sent
with a raw client. Every test runs against both brokers.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiomqtt
import pytest

from conftest import free_port, wait_until
from mqtt_device import CODE_INVALID_VALUE, ScriptedDevice
from trilink.kernel import (
    CommandTimeout,
    Context,
    DeviceOffline,
    DeviceRefused,
    Kernel,
    PropertyChanged,
)
from trilink.model import InvalidValue, builtin_spec
from trilink.transports.logs import RateLimitedLog
from trilink.transports.mqtt import schema
from trilink.transports.mqtt.broker import EmbeddedBroker, generate_users
from trilink.transports.mqtt.settings import MqttSettings
from trilink.transports.mqtt.transport import MqttTransport

LIGHT = "trilink.light.sim1"
PERSON = Context.new("person", "alice")


@dataclass
class Brokers:
    """Where the hub and the devices connect (the same broker, maybe different users)."""

    kind: str
    hub: MqttSettings
    device: MqttSettings

    @property
    def private(self) -> bool:
        """Whether only this test uses the broker (so counters can be checked exactly)."""
        return self.kind == "embedded"


@dataclass
class Hub:
    kernel: Kernel
    transport: MqttTransport


@pytest.fixture(params=["mosquitto", "embedded"])
async def brokers(request: pytest.FixtureRequest) -> AsyncIterator[Brokers]:
    if request.param == "mosquitto":
        settings: MqttSettings = request.getfixturevalue("system_broker")
        yield Brokers("mosquitto", settings, settings)
        return
    users = generate_users("hub", "device")
    broker = EmbeddedBroker(users=users)
    await broker.start()
    try:
        yield Brokers(
            "embedded", broker.settings("hub", users["hub"]), broker.settings("device", users["device"])
        )
    finally:
        await broker.stop()


@pytest.fixture
async def hub(brokers: Brokers) -> AsyncIterator[Hub]:
    kernel = Kernel(command_timeout=3.0)
    transport = MqttTransport(kernel, brokers.hub)
    await transport.start()
    await transport.wait_connected(5)
    yield Hub(kernel, transport)
    await transport.stop()
    if brokers.kind == "mosquitto":
        # the shared broker keeps no retained hub status from this test
        s = brokers.hub
        async with aiomqtt.Client(s.host, s.port, username=s.username, password=s.password) as client:
            await client.publish(schema.HUB_STATUS, b"", qos=1, retain=True)


DeviceFactory = Callable[..., Awaitable[ScriptedDevice]]


@pytest.fixture
async def device(brokers: Brokers, hub: Hub, unique: str) -> AsyncIterator[DeviceFactory]:
    """Start scripted devices that the hub has adopted and that are online in the kernel."""
    started: list[ScriptedDevice] = []

    async def make(suffix: str = "d1", **kwargs: Any) -> ScriptedDevice:
        dev = ScriptedDevice(brokers.device, f"{unique}-{suffix}", **kwargs)
        started.append(dev)
        await dev.start()
        state = hub.kernel.state
        await wait_until(
            lambda: state.is_online(dev.did) and len(state.of(dev.did)) == len(dev.state),
            what=f"{dev.did} online with its full state in the kernel",
        )
        return dev

    yield make
    for dev in started:
        await dev.stop()


@pytest.fixture
async def raw(brokers: Brokers) -> AsyncIterator[aiomqtt.Client]:
    """A plain client for publishing what no well-behaved device would."""
    s = brokers.device
    async with aiomqtt.Client(s.host, s.port, username=s.username, password=s.password) as client:
        yield client


def values(kernel: Kernel, did: str) -> dict[tuple[int, int], Any]:
    return {key: reading[0] for key, reading in kernel.state.of(did).items()}


# ---------------------------------------------------------------- adoption
async def test_device_comes_online_with_spec_and_room(hub: Hub, device: DeviceFactory) -> None:
    dev = await device(room="Living room")
    registered = hub.kernel.registry.device(dev.did)
    assert registered.spec == builtin_spec(LIGHT)
    assert registered.model == LIGHT
    assert registered.transport == "mqtt"
    assert registered.room_id == "living-room"
    assert hub.kernel.registry.rooms["living-room"].name == "Living room"
    assert hub.kernel.state.is_online(dev.did)
    assert values(hub.kernel, dev.did) == dev.state
    stats = hub.transport.stats
    assert stats["connected"] is True and stats["connects"] == 1 and stats["reports"] >= 1


async def test_availability_before_announce_is_applied_after_it(
    hub: Hub, raw: aiomqtt.Client, unique: str
) -> None:
    did = f"{unique}-early"
    try:
        await raw.publish(schema.topic(did, "availability"), b"online", qos=1, retain=True)
        announce = schema.Announce(did, LIGHT, "Early light")
        await raw.publish(schema.topic(did, "announce"), schema.encode_announce(announce), qos=1, retain=True)
        await wait_until(lambda: hub.kernel.state.is_online(did), what="early availability applied")
        assert hub.kernel.registry.device(did).name == "Early light"
    finally:
        for kind in ("availability", "announce"):
            await raw.publish(schema.topic(did, kind), b"", qos=1, retain=True)


async def test_device_going_offline_is_seen(hub: Hub, device: DeviceFactory) -> None:
    dev = await device()
    await dev.publish("availability", b"offline", retain=True)
    await wait_until(lambda: not hub.kernel.state.is_online(dev.did), what="device offline")
    with pytest.raises(DeviceOffline):
        await hub.kernel.set_property(dev.did, 2, 1, True, PERSON)


async def test_a_hub_that_starts_later_gets_the_full_state(
    brokers: Brokers, hub: Hub, device: DeviceFactory
) -> None:
    dev = await device()
    await dev.change(2, 2, 64)
    resyncs = dev.resyncs
    kernel = Kernel()
    late = MqttTransport(kernel, brokers.hub)
    await late.start()
    try:
        # retained announce and availability, then the report the hub's "online" asks for
        await wait_until(lambda: values(kernel, dev.did) == dev.state, what="state in the new hub")
        assert kernel.state.is_online(dev.did)
        assert dev.resyncs > resyncs
    finally:
        await late.stop()


# ----------------------------------------------------------------- commands
async def test_set_property_reaches_the_device_and_comes_back(hub: Hub, device: DeviceFactory) -> None:
    dev = await device()
    changes: list[PropertyChanged] = []
    hub.kernel.bus.subscribe(changes.append, PropertyChanged)
    ctx = Context.new("person", "alice")

    outcome = await hub.kernel.set_property(dev.did, 2, 2, 55, ctx)

    assert outcome.ok
    assert dev.state[(2, 2)] == 55
    await wait_until(
        lambda: hub.kernel.state.get(dev.did, 2, 2)[0] == 55, what="new brightness in the kernel"
    )
    change = next(c for c in changes if c.did == dev.did and (c.siid, c.piid) == (2, 2))
    assert change.value == 55
    assert change.context.parent_id == ctx.id
    assert hub.transport.stats["pending_commands"] == 0


async def test_invalid_set_is_refused_before_anything_is_published(hub: Hub, device: DeviceFactory) -> None:
    dev = await device()
    sent = hub.transport.stats["commands_sent"]
    with pytest.raises(InvalidValue) as err:
        await hub.kernel.set_property(dev.did, 2, 2, 150, PERSON)
    assert err.value.rule == "range"
    assert hub.transport.stats["commands_sent"] == sent
    # the next (valid) command is the first one the device ever receives
    await hub.kernel.set_property(dev.did, 2, 2, 40, PERSON)
    assert [r.items for r in dev.sets] == [[(2, 2, 40)]]


async def test_refusing_device_gives_device_refused(hub: Hub, device: DeviceFactory) -> None:
    light = await device("light", on_set="refuse")
    lock = await device("lock", model="trilink.lock.sim1", on_call="refuse")
    before = values(hub.kernel, light.did)
    with pytest.raises(DeviceRefused) as err:
        await hub.kernel.set_property(light.did, 2, 2, 30, PERSON)
    assert err.value.device_code == CODE_INVALID_VALUE
    with pytest.raises(DeviceRefused) as err:
        await hub.kernel.call_action(lock.did, 2, 1, [], PERSON)
    assert err.value.device_code == CODE_INVALID_VALUE
    assert "cannot do that now" in str(err.value)
    assert values(hub.kernel, light.did) == before
    assert hub.transport.stats["pending_commands"] == 0


async def test_silent_device_times_out_and_leaves_no_pending_entry(hub: Hub, device: DeviceFactory) -> None:
    dev = await device(on_set="silent")
    with pytest.raises(CommandTimeout):
        await hub.kernel.set_property(dev.did, 2, 1, True, PERSON, timeout=0.3)
    assert len(dev.sets) == 1
    assert hub.transport.stats["pending_commands"] == 0


async def test_action_call_returns_its_out_values(hub: Hub, device: DeviceFactory) -> None:
    dev = await device(model="trilink.phone.sim1", room=None, call_out=["shown", 3])
    outcome = await hub.kernel.call_action(dev.did, 6, 1, ["Door", "The front door is open"], PERSON)
    assert outcome.ok
    assert outcome.out == ["shown", 3]
    assert [(c.siid, c.aiid, c.args) for c in dev.calls] == [(6, 1, ["Door", "The front door is open"])]


async def test_commands_fail_fast_when_the_hub_is_not_connected() -> None:
    kernel = Kernel()
    transport = MqttTransport(kernel, MqttSettings(port=free_port(), reconnect_min=0.05, reconnect_max=0.1))
    await transport.start()
    try:
        with pytest.raises(DeviceOffline, match="not connected to the MQTT broker"):
            await transport.send_set("lamp", 2, 1, True)
        with pytest.raises(TimeoutError, match="last error: cannot connect"):
            await transport.wait_connected(0.3)
        assert transport.stats["connect_failures"] >= 1
        assert transport.stats["connected"] is False
    finally:
        await transport.stop()


# ----------------------------------------------------------- malformed input
async def test_malformed_messages_are_counted_and_ingest_goes_on(
    hub: Hub,
    device: DeviceFactory,
    raw: aiomqtt.Client,
    brokers: Brokers,
    unique: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    dev = await device()
    t = schema.topic
    did = dev.did
    stranger = f"{unique}-stranger"
    bad: list[tuple[str, bytes]] = [
        # report
        (t(did, "report"), b"not json {"),
        (t(did, "report"), b"[1, 2, 3]"),
        (t(did, "report"), b'{"properties": [{"siid": "2", "piid": 1, "value": true}]}'),
        (t(did, "report"), b'{"properties": []}'),
        (t(did, "report"), b"x" * (schema.MAX_PAYLOAD + 1)),
        # availability
        (t(did, "availability"), b"maybe"),
        # announce
        (t(did, "announce"), b"\xff\xfe"),
        (t(did, "announce"), b'{"did": 7}'),
        (t(did, "announce"), schema.encode_announce(schema.Announce("someone-else", LIGHT, "x"))),
        (t(did, "announce"), schema.encode_announce(schema.Announce(did, "acme.unknown.v9", "x"))),
        (t(did, "announce"), schema.encode_announce(schema.Announce(did, "acme.x", "x", {"services": 5}))),
        # event
        (t(did, "event"), b"{"),
        (t(did, "event"), b'{"siid": 2, "eiid": -1}'),
        (t(did, "event"), schema.encode_event(9, 9, {})),
        # result
        (t(did, "result"), b"null"),
        (t(did, "result"), schema.encode_result(schema.Result("no-such-request"))),
        # topics outside the schema
        ("trilink/v1/dev/a/b/c", b"{}"),
        (f"trilink/v1/dev/{unique}-x/bogus", b"{}"),
        (f"trilink/v1/dev/{unique} bad!/report", schema.encode_report([(2, 1, True)])),
        # a device the hub has never heard of
        (t(stranger, "report"), schema.encode_report([(2, 1, True)])),
    ]
    expected = {
        "not-json": 3,
        "bad-payload": 7,
        "oversized": 1,
        "did-mismatch": 1,
        "bad-spec": 2,
        "invalid-event": 1,
        "bad-topic": 2,
        "unknown-kind": 1,
    }
    before = hub.transport.stats
    syncs: list[bytes] = []
    await raw.subscribe(t(stranger, "sync"), qos=1)

    with caplog.at_level(logging.WARNING, logger="trilink.transports.mqtt.transport"):
        for topic, payload in bad:
            await raw.publish(topic, payload, qos=1)
        await raw.publish(t(did, "report"), schema.encode_report([(2, 2, 77)]), qos=1)
        await wait_until(lambda: hub.kernel.state.get(did, 2, 2)[0] == 77, what="the valid report applied")
        async for message in raw.messages:
            syncs.append(message.payload if isinstance(message.payload, bytes) else b"")
            break

    after = hub.transport.stats
    delta = {k: after["malformed"].get(k, 0) - before["malformed"].get(k, 0) for k in after["malformed"]}
    for reason, count in expected.items():
        assert delta.get(reason, 0) >= count, (reason, delta)
    assert after["unknown_devices"] - before["unknown_devices"] >= 1
    assert after["results_unmatched"] - before["results_unmatched"] >= 1
    assert syncs == [b"{}"], "an unknown device is asked to announce itself"
    if brokers.private:
        assert {k: v for k, v in delta.items() if v} == expected
        assert after["unknown_devices"] - before["unknown_devices"] == 1
        assert after["messages_in"] - before["messages_in"] >= len(bad) + 1
    # nothing was applied from the bad messages, and the hub is fine
    assert hub.kernel.registry.device(did).model == LIGHT
    assert stranger not in hub.kernel.registry.devices
    assert hub.kernel.state.is_online(did)
    assert hub.transport.connected
    assert after["malformed"].get("internal-error", 0) == 0
    warned = " ".join(r.getMessage() for r in caplog.records if r.levelno == logging.WARNING)
    assert f"MQTT {t(did, 'report')}: dropped a message (not-json)" in warned
    assert "MQTT trilink/v1/dev/a/b/c: dropped a message (bad-topic)" in warned
    assert "(oversized)" in warned


async def test_a_report_keeps_its_good_values_and_rejects_the_bad(hub: Hub, device: DeviceFactory) -> None:
    dev = await device()
    before = hub.transport.stats["values_rejected"]
    old_brightness = hub.kernel.state.get(dev.did, 2, 2)[0]
    await dev.publish("report", schema.encode_report([(2, 1, True), (2, 2, 500), (2, 3, 3000)]))
    await wait_until(lambda: hub.kernel.state.get(dev.did, 2, 3)[0] == 3000, what="good values applied")
    assert hub.kernel.state.get(dev.did, 2, 1)[0] is True
    assert hub.kernel.state.get(dev.did, 2, 2)[0] == old_brightness
    assert hub.transport.stats["values_rejected"] - before >= 1


async def test_a_flood_of_bad_messages_is_counted_but_not_all_logged(
    hub: Hub, device: DeviceFactory, brokers: Brokers, caplog: pytest.LogCaptureFixture
) -> None:
    dev = await device()
    before = hub.transport.stats["malformed"].get("not-json", 0)
    with caplog.at_level(logging.WARNING, logger="trilink.transports.mqtt.transport"):
        for _ in range(200):
            await dev.publish("report", b"garbage")
        await dev.publish("report", schema.encode_report([(2, 2, 9)]))
        await wait_until(lambda: hub.kernel.state.get(dev.did, 2, 2)[0] == 9, what="report after the flood")
    counted = hub.transport.stats["malformed"]["not-json"] - before
    assert counted >= 200
    if brokers.private:
        assert counted == 200
    logged = [r for r in caplog.records if "(not-json)" in r.getMessage()]
    assert 1 <= len(logged) <= 5


def test_rate_limited_log_reports_what_it_held_back(caplog: pytest.LogCaptureFixture) -> None:
    now = [0.0]
    limited = RateLimitedLog(logging.getLogger("test.ratelimit"), burst=2, interval=10.0, now=lambda: now[0])
    with caplog.at_level(logging.WARNING, logger="test.ratelimit"):
        results = [limited.warning("bad", "message %d", i) for i in range(5)]
        now[0] = 11.0
        limited.warning("bad", "message after the window")
    assert results == [True, True, False, False, False]
    assert limited.suppressed == 3
    assert [r.getMessage() for r in caplog.records] == [
        "message 0",
        "message 1",
        "3 more 'bad' messages were not logged in the last 11 s",
        "message after the window",
    ]
