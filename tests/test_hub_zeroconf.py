"""The hub finds a miIO device announced over real mDNS (loopback), and a person adopts it
through the API with its token: the device is then the kernel's, reached over miIO."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
from zeroconf import IPVersion, Zeroconf
from zeroconf.asyncio import AsyncServiceInfo, AsyncZeroconf

from conftest import wait_until
from miio_peer import SIM_SPEC, FakeMiioDevice
from trilink.config import parse_config
from trilink.hub import Hub
from trilink.transports.mqtt.settings import MqttSettings

TOKEN = "000102030405060708090a0b0c0d0e0f"


async def test_a_discovered_miio_device_is_adopted_with_its_token(
    tmp_path: Path, system_broker: MqttSettings, unique: str
) -> None:
    device_id = 31_000_000 + int(unique[-6:], 16) % 1_000_000
    fake = FakeMiioDevice({(2, 1): True}, token=bytes.fromhex(TOKEN), device_id=device_id)
    port = await fake.start()
    label = f"zhimi-airp-rmb1_miio{device_id}"
    announcer = AsyncZeroconf(zc=Zeroconf(interfaces=["127.0.0.1"], ip_version=IPVersion.V4Only))
    info = AsyncServiceInfo(
        "_miio._udp.local.",
        f"{label}._miio._udp.local.",
        port=port,
        properties={"epoch": "1"},
        server=f"{label}.local.",
        parsed_addresses=["127.0.0.1"],
    )
    await announcer.async_register_service(info, cooperating_responders=True)
    config = parse_config(
        {
            "store": {"path": str(tmp_path / "hub.db")},
            "api": {"port": 0},
            "zeroconf": {"interfaces": ["127.0.0.1"]},
        }
    )
    hub = Hub(config, mqtt=system_broker)
    started = await hub.start()
    cid = f"miio-{device_id}"
    try:
        headers = {"Authorization": f"Bearer {started.new_owner_token}"}
        async with httpx.AsyncClient(base_url=hub.api_url, headers=headers, timeout=30) as api:
            for _ in range(200):  # up to ~10 s
                got = (await api.get("/api/discovery")).json()["candidates"]
                if any(c["id"] == cid for c in got):
                    break
                await asyncio.sleep(0.05)
            else:
                raise AssertionError(f"{cid} was not discovered: {got}")
            one = (await api.get(f"/api/discovery/{cid}")).json()
            assert (one["model"], one["port"], one["adopted"]) == ("zhimi.airp.rmb1", port, False)
            r = await api.post(f"/api/discovery/{cid}/adopt", json={"token": TOKEN})
            assert r.status_code == 422 and "MIoT-Spec-V2" in r.text and TOKEN not in r.text
            r = await api.post(
                f"/api/discovery/{cid}/adopt",
                json={"token": TOKEN, "spec": str(SIM_SPEC), "name": "Purifier"},
            )
            assert r.status_code in (200, 201), r.text
            assert TOKEN not in r.text
            did = r.json()["did"]
            device = (await api.get(f"/api/devices/{did}")).json()
            assert device["name"] == "Purifier"
            assert hub.kernel.registry.devices[did].transport == "miio"
            assert (await api.get(f"/api/discovery/{cid}")).json()["adopted"] is True
            again = await api.post(
                f"/api/discovery/{cid}/adopt", json={"token": TOKEN, "spec": str(SIM_SPEC)}
            )
            assert again.status_code == 409
    finally:
        await hub.stop()
    # the adopted device is kept: after a restart the hub reaches it again, token and all
    fake.values[(2, 1)] = False
    hub = Hub(config, mqtt=system_broker)
    await hub.start()
    try:
        assert [d.did for d in hub.miio.devices] == [did]
        await wait_until(lambda: hub.kernel.state.is_online(did), what="the adopted device back online")
    finally:
        await hub.stop()
        await announcer.async_unregister_service(info)
        await announcer.async_close()
        fake.close()
