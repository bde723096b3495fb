"""The hub runs the diagnostics service: detectors for the world's ACs and car, kept across a restart."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
from click.testing import CliRunner

from dashboard_support import live_home
from trilink.cli.main import cli
from trilink.diagnostics.storage import load_detector_states
from trilink.store import SQLiteStore
from trilink.transports.mqtt.settings import MqttSettings


async def test_the_hub_diagnoses_its_acs_and_car_and_keeps_what_they_learned(
    tmp_path: Path, system_broker: MqttSettings, unique: str
) -> None:
    prefix = f"{unique}-"
    async with live_home(tmp_path, system_broker, prefix) as live:
        headers = {"Authorization": f"Bearer {live.token}"}
        async with httpx.AsyncClient(base_url=live.url, headers=headers) as api:
            assert (await api.get("/api/diagnostics/reminders")).json() == {"reminders": []}
            ac = (await api.get(f"/api/diagnostics/devices/{prefix}ac-living")).json()
            assert [d["name"] for d in ac["detectors"]] == ["ACHealth"]
            car = (await api.get(f"/api/diagnostics/devices/{prefix}car")).json()
            assert [d["name"] for d in car["detectors"]] == ["BatteryHealth"]
            r = await api.get(f"/api/diagnostics/devices/{prefix}light-living")
            assert r.status_code == 404
        # the command line asks the same hub
        env = {"TRILINK_URL": live.url, "TRILINK_TOKEN": live.token}
        home = await asyncio.to_thread(CliRunner().invoke, cli, ["diagnose"], env=env)
        assert home.exit_code == 0 and "no open maintenance reminders" in home.output, home.output
        one = await asyncio.to_thread(CliRunner().invoke, cli, ["diagnose", f"{prefix}ac-living"], env=env)
        assert one.exit_code == 0 and "watched by ACHealth" in one.output, one.output
        none = await asyncio.to_thread(
            CliRunner().invoke, cli, ["diagnose", f"{prefix}light-living"], env=env
        )
        assert none.exit_code != 0 and "has no detectors" in none.output
    store = SQLiteStore(tmp_path / "hub.db")
    store.open()
    try:
        kept = load_detector_states(store)
    finally:
        store.close()
    assert (f"{prefix}ac-living", "ACHealth") in kept
    assert (f"{prefix}car", "BatteryHealth") in kept
