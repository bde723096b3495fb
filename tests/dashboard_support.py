"""A running hub with the simulated world, and headless Chromium to look at its dashboard.

The browser is Debian's Chromium (``/usr/bin/chromium``) driven by Playwright; it is
started per test, so the leak checks see it come and go.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from conftest import LOOPBACK_ONLY, wait_until
from trilink.clock import ScaledClock
from trilink.config import ApiConfig, HomeConfig, HubConfig, StoreConfig
from trilink.hub import Hub
from trilink.sim import HOME, World
from trilink.transports.mqtt import schema
from trilink.transports.mqtt.settings import MqttSettings

CHROMIUM = os.environ.get("TRILINK_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}


@dataclass
class Live:
    """A started hub, its world, its owner token and the dids' prefix."""

    hub: Hub
    world: World
    token: str
    prefix: str

    @property
    def url(self) -> str:
        return self.hub.api_url

    def did(self, name: str) -> str:
        return self.prefix + name

    def value(self, name: str, siid: int, piid: int) -> Any:
        reading = self.hub.kernel.state.get(self.did(name), siid, piid)
        return None if reading is None else reading[0]


async def _clear_retained(settings: MqttSettings, dids: list[str]) -> None:
    import aiomqtt

    async with aiomqtt.Client(settings.host, settings.port) as client:
        for did in dids:
            for kind in ("announce", "availability"):
                await client.publish(schema.topic(did, kind), b"", qos=1, retain=True)


@contextlib.asynccontextmanager
async def live_home(
    tmp_path: Path, broker: MqttSettings, prefix: str, speed: float = 60
) -> AsyncIterator[Live]:
    """A hub (real store, API on a free port) and the simulated world over ``broker``."""
    config = HubConfig(
        home=HomeConfig(latitude=HOME[0], longitude=HOME[1], timezone="Asia/Shanghai"),
        store=StoreConfig(path=tmp_path / "hub.db"),
        api=ApiConfig(port=0),
        command_timeout=3,
        zeroconf=LOOPBACK_ONLY,
    )
    clock = ScaledClock(speed)
    hub = Hub(config, mqtt=broker, clock=clock)
    world = World(broker, clock, did_prefix=prefix, schedule=False)
    info = await hub.start()
    assert info.new_owner_token
    try:
        await world.start()
        try:
            dids = list(world.devices)
            await wait_until(
                lambda: all(hub.kernel.state.is_online(d) for d in dids), timeout=15, what="the world online"
            )
            yield Live(hub, world, info.new_owner_token, prefix)
        finally:
            await world.stop()
    finally:
        await hub.stop()
        await _clear_retained(broker, list(world.devices))


@contextlib.asynccontextmanager
async def chromium(viewport: dict[str, int] | None = None) -> AsyncIterator[Any]:
    """A fresh headless Chromium page (Playwright), closed afterwards."""
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = await browser.new_context(viewport=viewport or PHONE)  # type: ignore[arg-type]
            page = await context.new_page()
            yield page
        finally:
            await browser.close()
