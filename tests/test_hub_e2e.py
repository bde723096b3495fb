"""The whole spine, end to end: hub + store + MQTT + API against the simulated world.

Run against the real Mosquitto on this machine and against the embedded broker. The
world's devices are separate MQTT clients; the hub learns everything over MQTT.
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx

from conftest import LOOPBACK_ONLY, PrivateMosquitto, wait_until
from trilink.clock import ScaledClock
from trilink.config import ApiConfig, HubConfig, StoreConfig
from trilink.hub import Hub
from trilink.sim import World
from trilink.transports.mqtt import schema
from trilink.transports.mqtt.broker import EmbeddedBroker
from trilink.transports.mqtt.settings import MqttSettings


def hub_config(tmp_path: Path) -> HubConfig:
    return HubConfig(
        store=StoreConfig(path=tmp_path / "hub.db"),
        api=ApiConfig(port=0),
        command_timeout=3,
        zeroconf=LOOPBACK_ONLY,
    )


async def clear_retained(settings: MqttSettings, dids: list[str]) -> None:
    """Remove the retained announce/availability messages a test world left on a shared broker."""
    import aiomqtt

    async with aiomqtt.Client(
        settings.host, settings.port, username=settings.username, password=settings.password
    ) as client:
        for did in dids:
            for kind in ("announce", "availability"):
                await client.publish(schema.topic(did, kind), b"", qos=1, retain=True)


@contextlib.asynccontextmanager
async def running(hub: Hub) -> AsyncIterator[Hub]:
    try:
        yield hub
    finally:
        await hub.stop()


def world_dids(world: World) -> list[str]:
    return list(world.devices)


async def check_set_and_refusal(hub: Hub, token: str, prefix: str) -> None:
    light = f"{prefix}light-living"
    async with httpx.AsyncClient(base_url=hub.api_url, headers={"Authorization": f"Bearer {token}"}) as api:
        r = await api.put(f"/api/devices/{light}/properties/2.1", json={"value": True})
        assert r.status_code == 200, r.text
        await wait_until(
            lambda: (hub.kernel.state.get(light, 2, 1) or (None,))[0] is True,
            what="the light's new state to come back",
        )
        r = await api.put(f"/api/devices/{light}/properties/2.2", json={"value": 150})
        assert r.status_code == 422
        err = r.json()["error"]
        assert (
            err["did"] == light
            and err["siid"] == 2
            and err["piid"] == 2
            and err["rule"] in ("range", "format")
        )
        r = await api.get(f"/api/devices/{light}")
        assert r.status_code == 200


async def test_world_over_system_mosquitto(tmp_path: Path, system_broker: MqttSettings, unique: str) -> None:
    prefix = f"{unique}-"
    clock = ScaledClock(60)
    hub = Hub(hub_config(tmp_path), mqtt=system_broker, clock=clock)
    world = World(system_broker, clock, did_prefix=prefix, schedule=False)
    info = await hub.start()
    assert info.new_owner_token
    try:
        async with running(hub):
            await world.start()
            try:
                dids = world_dids(world)
                await wait_until(
                    lambda: all(hub.kernel.state.is_online(d) for d in dids),
                    timeout=15,
                    what="every simulated device to come online",
                )
                assert hub.kernel.registry.devices[f"{prefix}ac-living"].room_id == "living-room"
                assert hub.kernel.registry.people["alex"].car_did == f"{prefix}car"
                await check_set_and_refusal(hub, info.new_owner_token, prefix)
                await check_copilot(hub, info.new_owner_token, prefix)
            finally:
                await world.stop()
    finally:
        await clear_retained(system_broker, world_dids(world))


async def check_copilot(hub: Hub, token: str, prefix: str) -> None:
    """A request in words reaches the simulated device over MQTT; an unlock waits for a yes."""
    ac, lock = f"{prefix}ac-bedroom", f"{prefix}lock-front"
    async with httpx.AsyncClient(base_url=hub.api_url, headers={"Authorization": f"Bearer {token}"}) as api:
        r = await api.post("/api/copilot/say", json={"text": "把卧室空调调到22度"})
        assert r.status_code == 200 and r.json()["status"] == "done", r.text
        await wait_until(
            lambda: (hub.kernel.state.get(ac, 2, 3) or (None,))[0] == 22.0,
            what="the bedroom AC's new target to come back from the device",
        )
        assert (hub.kernel.state.get(ac, 2, 1) or (None,))[0] is True
        r = await api.post("/api/copilot/say", json={"text": "玄関の鍵を開けて"})
        held = r.json()
        assert held["status"] == "needs_confirmation" and held["risks"] == ["unlock"], held
        assert (hub.kernel.state.get(lock, 2, 1) or (None,))[0] is not False
        r = await api.post(f"/api/copilot/confirm/{held['confirmation_id']}")
        assert r.json()["status"] == "done", r.text
        await wait_until(
            lambda: (hub.kernel.state.get(lock, 2, 1) or (None,))[0] is False,
            what="the lock to report unlocked",
        )


async def test_world_over_embedded_broker_and_restart(tmp_path: Path) -> None:
    users = {"hub": secrets.token_urlsafe(16), "sim": secrets.token_urlsafe(16)}
    broker = EmbeddedBroker(users=users)
    await broker.start()
    try:
        clock = ScaledClock(60)
        hub = Hub(hub_config(tmp_path), mqtt=broker.settings("hub", users["hub"]), clock=clock)
        world = World(broker.settings("sim", users["sim"]), clock, schedule=False)
        info = await hub.start()
        assert info.new_owner_token is not None
        token = info.new_owner_token
        async with running(hub):
            await world.start()
            try:
                dids = world_dids(world)
                await wait_until(
                    lambda: all(hub.kernel.state.is_online(d) for d in dids),
                    timeout=20,
                    what="every simulated device to come online",
                )
                await check_set_and_refusal(hub, token, "")
                before = {d: dict(hub.kernel.state.of(d)) for d in dids}
                hub.recorder.flush()
            finally:
                await world.stop()
        # restart: a new hub on the same store knows every device and its last state
        hub2 = Hub(hub_config(tmp_path), mqtt=broker.settings("hub", users["hub"]), clock=clock)
        info2 = await hub2.start()
        async with running(hub2):
            assert info2.new_owner_token is None  # the owner token is shown only once
            assert hub2.authenticate(token) is not None
            assert set(dids) <= set(hub2.kernel.registry.devices)
            for did in dids:
                restored = {k: v[0] for k, v in hub2.kernel.state.of(did).items()}
                expected = {k: v[0] for k, v in before[did].items()}
                assert restored == expected, did
            assert hub2.kernel.state.get("light-living", 2, 1)[0] is True  # type: ignore[index]
    finally:
        await broker.stop()


async def test_broker_outage_with_the_world(
    tmp_path: Path, private_broker: Callable[..., PrivateMosquitto]
) -> None:
    broker = private_broker()
    clock = ScaledClock(60)
    hub = Hub(hub_config(tmp_path), mqtt=broker.settings, clock=clock)
    world = World(broker.settings, clock, schedule=False)
    await hub.start()
    async with running(hub):
        await world.start()
        try:
            dids = world_dids(world)
            await wait_until(
                lambda: all(hub.kernel.state.is_online(d) for d in dids), timeout=15, what="devices online"
            )
            broker.stop()
            await wait_until(lambda: not hub.transport.connected, what="the hub to notice the outage")
            await wait_until(
                lambda: not any(hub.kernel.state.is_online(d) for d in dids), what="devices marked offline"
            )
            # the world keeps living while the broker is down: the car's doors get unlocked locally
            world.car.locked = not world.car.locked
            expected_locked = world.car.locked
            broker.start()
            await wait_until(lambda: hub.transport.connected, timeout=10, what="the hub to reconnect")
            await wait_until(
                lambda: all(hub.kernel.state.is_online(d) for d in dids),
                timeout=15,
                what="devices online again",
            )
            await wait_until(
                lambda: (hub.kernel.state.get("car", 6, 1) or (None,))[0] is expected_locked,
                timeout=10,
                what="the hub's state to match the car again",
            )
        finally:
            await world.stop()
