"""A broker outage: the hub marks its devices offline, reconnects, and re-syncs their state.

Uses a private Mosquitto that the test stops and starts again on the same port.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from conftest import PrivateMosquitto, wait_until
from mqtt_device import ScriptedDevice
from trilink.kernel import AvailabilityChanged, Context, DeviceOffline, Kernel
from trilink.transports.mqtt.transport import MqttTransport

PERSON = Context.new("person", "alice")
LOGGER = "trilink.transports.mqtt.transport"


@pytest.fixture
async def setup(
    private_broker: Callable[..., PrivateMosquitto], unique: str
) -> AsyncIterator[tuple[PrivateMosquitto, Kernel, MqttTransport, ScriptedDevice]]:
    broker = private_broker()
    kernel = Kernel(command_timeout=5.0)
    transport = MqttTransport(kernel, broker.settings)
    await transport.start()
    await transport.wait_connected(5)
    device = ScriptedDevice(broker.settings, f"{unique}-lamp")
    await device.start()
    await wait_until(lambda: kernel.state.is_online(device.did), what="device online")
    await wait_until(lambda: readings(kernel, device.did) == device.state, what="state in sync")
    yield broker, kernel, transport, device
    await device.stop(clear_retained=False)  # the private broker is thrown away
    await transport.stop()


def readings(kernel: Kernel, did: str) -> dict[tuple[int, int], Any]:
    return {key: r[0] for key, r in kernel.state.of(did).items()}


def crash(broker: PrivateMosquitto) -> None:
    """Kill the broker: unlike a clean stop, it sends nobody's last will on the way out."""
    assert broker.proc is not None
    broker.proc.kill()
    broker.proc.wait()
    broker.proc = None


async def test_outage_marks_devices_offline_and_reconnect_resyncs_state(
    setup: tuple[PrivateMosquitto, Kernel, MqttTransport, ScriptedDevice], caplog: pytest.LogCaptureFixture
) -> None:
    broker, kernel, transport, device = setup
    availability: list[AvailabilityChanged] = []
    kernel.bus.subscribe(availability.append, AvailabilityChanged)
    with caplog.at_level(logging.DEBUG, logger=LOGGER):
        await asyncio.to_thread(crash, broker)
        await wait_until(lambda: not transport.connected, what="the hub to notice the outage")
        await wait_until(lambda: not kernel.state.is_online(device.did), what="device marked offline")
        assert transport.stats["connected"] is False
        # no will reached the hub: it was the hub that declared the device's state unknown
        assert [(a.online, a.context.actor_id) for a in availability] == [(False, "transport:mqtt")]

        # commands fail fast, and say why
        with pytest.raises(DeviceOffline):
            await kernel.set_property(device.did, 2, 1, True, PERSON)
        with pytest.raises(DeviceOffline, match="hub is not connected to the MQTT broker"):
            await transport.send_set(device.did, 2, 1, True)

        # the device changes while nobody can hear it
        device.state[(2, 1)] = True
        device.state[(2, 2)] = 77
        device.state[(2, 3)] = 5000
        assert readings(kernel, device.did) != device.state

        # several reconnection attempts fail before the broker is back
        await wait_until(lambda: transport.stats["connect_failures"] >= 3, what="reconnection attempts")
        await asyncio.to_thread(broker.start)

        await wait_until(lambda: transport.connected, what="the hub to reconnect")
        await wait_until(lambda: kernel.state.is_online(device.did), what="device online again")
        await wait_until(lambda: readings(kernel, device.did) == device.state, what="state re-synced")

    stats = transport.stats
    assert stats["connects"] == 2 and stats["disconnects"] == 1
    transport_records = [r for r in caplog.records if r.name == LOGGER]
    assert not [r for r in transport_records if r.levelno >= logging.ERROR]
    warnings = [r.getMessage() for r in transport_records if r.levelno == logging.WARNING]
    # one line when the outage starts and one when it is over; the attempts between are DEBUG
    assert len(warnings) == 2, warnings
    assert "lost the connection" in warnings[0]
    assert "connected to" in warnings[1] and "again after" in warnings[1]
    attempts = [r for r in transport_records if r.levelno == logging.DEBUG and "attempt" in r.getMessage()]
    assert len(attempts) >= 3
    # and commands work again
    assert (await kernel.set_property(device.did, 2, 2, 10, PERSON)).ok
    await wait_until(lambda: kernel.state.get(device.did, 2, 2)[0] == 10, what="command after the outage")


async def test_a_clean_broker_stop_is_an_outage_too(
    setup: tuple[PrivateMosquitto, Kernel, MqttTransport, ScriptedDevice],
) -> None:
    broker, kernel, transport, device = setup
    await asyncio.to_thread(broker.stop)
    await wait_until(lambda: not transport.connected, what="the hub to notice the outage")
    assert not kernel.state.is_online(device.did)
    device.state[(2, 2)] = 33
    await asyncio.to_thread(broker.start)
    await wait_until(lambda: readings(kernel, device.did) == device.state, what="state re-synced")
    assert kernel.state.is_online(device.did) and transport.connected


async def test_a_command_in_flight_fails_when_the_broker_goes(
    setup: tuple[PrivateMosquitto, Kernel, MqttTransport, ScriptedDevice],
) -> None:
    broker, kernel, transport, device = setup
    device.on_set = "silent"
    command = asyncio.create_task(kernel.set_property(device.did, 2, 1, True, PERSON, timeout=30))
    await wait_until(lambda: len(device.sets) == 1, what="the device to get the command")
    await asyncio.to_thread(broker.stop)
    with pytest.raises(DeviceOffline, match="connection to the MQTT broker was lost"):
        async with asyncio.timeout(5):
            await command
    assert transport.stats["pending_commands"] == 0
