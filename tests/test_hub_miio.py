"""A hub configured with a miIO device: the token comes from the environment, the device is
adopted, polled into the kernel and commanded through the API."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from conftest import wait_until
from miio_peer import FakeMiioDevice
from test_miio_transport import SPEC, TOKEN, TOKEN_HEX, VALUES
from trilink.config import ConfigError, parse_config
from trilink.hub import Hub
from trilink.transports.mqtt.settings import MqttSettings


def _spec_file(tmp_path: Path) -> Path:
    path = tmp_path / "light.json"
    path.write_text(json.dumps(SPEC.to_dict()), "utf-8")
    return path


def test_a_miio_token_is_never_in_the_config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    base = {"host": "127.0.0.1", "spec": str(tmp_path / "x.json")}
    with pytest.raises(ConfigError, match="token_env or token_file"):
        parse_config({"miio": {"devices": [base]}})
    with pytest.raises(ConfigError, match="token"):
        parse_config({"miio": {"devices": [{**base, "token": TOKEN_HEX}]}})  # not a field
    config = parse_config({"miio": {"devices": [{**base, "token_env": "TRILINK_TEST_MIIO_TOKEN"}]}})
    monkeypatch.delenv("TRILINK_TEST_MIIO_TOKEN", raising=False)
    with pytest.raises(ConfigError, match=r"miio.devices \(127.0.0.1\)"):
        config.miio.devices[0].settings()
    monkeypatch.setenv("TRILINK_TEST_MIIO_TOKEN", "not-hex")
    with pytest.raises(ConfigError, match=r"miio.devices \(127.0.0.1\)"):
        config.miio.devices[0].settings()
    monkeypatch.setenv("TRILINK_TEST_MIIO_TOKEN", TOKEN_HEX)
    assert TOKEN_HEX not in repr(config.miio.devices[0].settings())


async def test_the_hub_adopts_polls_and_commands_a_configured_device(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, system_broker: MqttSettings
) -> None:
    fake = FakeMiioDevice(VALUES, token=TOKEN)
    port = await fake.start()
    monkeypatch.setenv("TRILINK_TEST_MIIO_TOKEN", TOKEN_HEX)
    config = parse_config(
        {
            "store": {"path": str(tmp_path / "hub.db")},
            "api": {"port": 0},
            "zeroconf": {"interfaces": ["127.0.0.1"]},
            "miio": {
                "devices": [
                    {
                        "host": "127.0.0.1",
                        "port": port,
                        "token_env": "TRILINK_TEST_MIIO_TOKEN",
                        "spec": str(_spec_file(tmp_path)),
                        "did": "desk-lamp",
                        "name": "Desk lamp",
                        "room": "Study",
                        "poll_interval": 0.5,
                    }
                ]
            },
        }
    )
    hub = Hub(config, mqtt=system_broker)
    info = await hub.start()
    try:
        kernel = hub.kernel
        await wait_until(lambda: kernel.state.get("desk-lamp", 2, 2) is not None, timeout=10)
        device = kernel.registry.devices["desk-lamp"]
        assert device.transport == "miio" and device.name == "Desk lamp" and device.room_id == "study"
        headers = {"Authorization": f"Bearer {info.new_owner_token}"}
        async with httpx.AsyncClient(base_url=hub.api_url, headers=headers) as api:
            r = await api.put("/api/devices/desk-lamp/properties/2.2", json={"value": 80})
            assert r.status_code == 200, r.text
            assert fake.values[(2, 2)] == 80
            r = await api.put("/api/devices/desk-lamp/properties/2.2", json={"value": 500})
            assert r.status_code == 422  # the kernel validates against the spec before the wire
            assert fake.values[(2, 2)] == 80
            status = (await api.get("/api/status")).json()
            assert status["hub"]["miio"]["requests"] >= 1
            assert TOKEN_HEX not in json.dumps(status)
    finally:
        await hub.stop()
        fake.close()
