"""A hub with Home Assistant discovery switched on in its config: a Zigbee2MQTT-style bulb
announced on the real broker becomes a device the API can switch, and the hub's own
devices are announced to Home Assistant (but not the ones that came in from it)."""

from __future__ import annotations

from pathlib import Path

import httpx

from conftest import wait_until
from hass_support import load_fixture, peer
from trilink.config import parse_config
from trilink.hub import Hub
from trilink.kernel import Device
from trilink.model import builtin_spec
from trilink.transports.mqtt.settings import MqttSettings


async def test_the_hub_adopts_z2m_devices_and_announces_its_own(
    tmp_path: Path, system_broker: MqttSettings, unique: str
) -> None:
    prefix, base = f"ha-{unique}", f"z2m-{unique}"
    config = parse_config(
        {
            "store": {"path": str(tmp_path / "hub.db")},
            "api": {"port": 0},
            "zeroconf": {"interfaces": ["127.0.0.1"]},
            "hass": {
                "enabled_in": True,
                "enabled_out": True,
                "discovery_prefix": prefix,
                "base_topic": f"trilink-{unique}",
            },
        }
    )
    doc = load_fixture("zigbee2mqtt_ikea_bulb.json", prefix, base)
    async with peer(system_broker, [f"{base}/#", f"{prefix}/device/+/config"]) as z2m:
        await z2m.replay([m for m in doc["messages"] if m.get("retain")])
        hub = Hub(config, mqtt=system_broker)
        info = await hub.start()
        try:
            bulb = "ha-zigbee2mqtt_0x000b57fffe8f2a1c"
            await wait_until(lambda: hub.kernel.state.is_online(bulb), what="the bulb adopted", timeout=10)
            hub.kernel.add_device(
                Device(
                    "hall-light",
                    "Hall light",
                    "trilink.light.sim1",
                    builtin_spec("trilink.light.sim1"),
                    "mqtt",
                )
            )
            announced = await z2m.wait_for(f"{prefix}/device/trilink-hall-light/config", timeout=10)
            assert announced.json()["device"]["name"] == "Hall light"
            headers = {"Authorization": f"Bearer {info.new_owner_token}"}
            async with httpx.AsyncClient(base_url=hub.api_url, headers=headers) as api:
                devices = {d["did"]: d for d in (await api.get("/api/devices")).json()}
                assert devices[bulb]["name"] == "Living room bulb" and devices[bulb]["online"]
                r = await api.put(f"/api/devices/{bulb}/properties/2.1", json={"value": False})
                assert r.status_code == 200, r.text
                got = await z2m.wait_for(f"{base}/Living room bulb/set")
                assert got.json() == {"state": "OFF"}
                status = (await api.get("/api/status")).json()["hub"]["hass"]
                assert status["commands_sent"] == 1
            # what came in from Home Assistant is not sent back to it
            assert z2m.on(f"{prefix}/device/trilink-{bulb}/config") == []
        finally:
            await hub.stop()
