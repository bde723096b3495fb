"""The dashboard in real headless Chromium against a hub with the simulated world.

Sign in, see a room, switch a light and see the simulated device's state come back,
move a slider, get a refused command's error next to its control, watch the car's
charge progress change, open a history chart, ask the copilot and confirm. The world's
devices are separate MQTT clients on the system Mosquitto; the page uses only the
public API and WebSocket (with its session cookie).

Set ``TRILINK_SCREENSHOTS=docs/screenshots`` to also save the main pages at phone and
desktop sizes (that is how the README's pictures are made).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from conftest import wait_until
from dashboard_support import DESKTOP, PHONE, Live, chromium, live_home
from trilink.sim.behaviour import ActionRefused
from trilink.transports.mqtt.settings import MqttSettings

#: controls (inputs, selects, buttons) that a screen reader would announce without a name
UNNAMED_CONTROLS_JS = """() => [...document.querySelectorAll('input, select, button, textarea')]
  .filter(el => el.offsetParent !== null)
  .filter(el => !((el.labels && el.labels.length) || el.getAttribute('aria-label')
                  || el.getAttribute('aria-labelledby') || (el.textContent || '').trim()
                  || el.getAttribute('title')))
  .map(el => el.outerHTML.slice(0, 120))"""


async def sign_in(page: Any, live: Live) -> None:
    await page.goto(live.url + "/")
    await page.get_by_test_id("signin-token").fill(live.token)
    await page.get_by_test_id("signin-submit").click()
    await page.get_by_test_id("room-living-room").wait_for(timeout=15_000)


async def until(page: Any, predicate: Callable[[], Any], what: str, timeout: float = 10) -> None:
    """Poll a condition (the page's CSP forbids Playwright's wait_for_function)."""
    await wait_until(predicate, timeout=timeout, what=what)


async def attr(page: Any, testid: str, name: str) -> str | None:
    value: str | None = await page.get_by_test_id(testid).get_attribute(name)
    return value


async def test_sign_in_switch_a_light_and_move_a_slider(
    tmp_path: Path, system_broker: MqttSettings, unique: str
) -> None:
    async with live_home(tmp_path, system_broker, f"{unique}-") as live, chromium(PHONE) as page:
        problems: list[str] = []
        page.on("pageerror", lambda e: problems.append(str(e)))
        await page.goto(live.url + "/")
        await page.get_by_test_id("signin-token").fill("tl_wrong-token")
        await page.get_by_test_id("signin-submit").click()
        await page.get_by_test_id("signin-error").wait_for()
        await sign_in(page, live)
        cookies = await page.context.cookies()
        (session,) = [c for c in cookies if c["name"] == "trilink_session"]
        assert session["httpOnly"] and session["sameSite"] == "Strict"
        assert await page.get_by_test_id(f"dev-{live.did('light-bedroom')}").is_visible()

        light = page.get_by_test_id(f"ctl-{live.did('light-bedroom')}-2.1")
        before = live.value("light-bedroom", 2, 1)
        await light.click()
        await until(page, lambda: live.value("light-bedroom", 2, 1) is (not before), "the light to switch")

        # a change made elsewhere arrives over the WebSocket
        await live.hub.kernel.set_property(live.did("light-kitchen"), 2, 2, 35, _ctx())
        brightness = page.get_by_test_id(f"ctl-{live.did('light-kitchen')}-2.2")
        for _ in range(100):
            if await brightness.input_value() == "35":
                break
            await asyncio.sleep(0.1)
        assert await brightness.input_value() == "35"

        slider = page.get_by_test_id(f"ctl-{live.did('light-bedroom')}-2.2")
        await slider.fill("30")
        await until(page, lambda: live.value("light-bedroom", 2, 2) == 30, "the brightness the slider set")

        # the device refuses a write: its error shows by the switch, which goes back
        hallway = live.did("light-hallway")

        def busy(service: str, prop: str, value: Any) -> None:
            raise ActionRefused("busy updating its firmware")

        live.world.behaviour("light-hallway").write = busy  # type: ignore[method-assign]
        switch = page.get_by_test_id(f"ctl-{hallway}-2.1")
        was = await switch.is_checked()
        await switch.click()
        error = page.get_by_test_id(f"err-ctl-{hallway}-2.1")
        await error.wait_for(timeout=10_000)
        assert "busy updating its firmware" in await error.inner_text()
        for _ in range(50):
            if await switch.is_checked() == was:
                break
            await asyncio.sleep(0.1)
        assert await switch.is_checked() == was
        assert live.value("light-hallway", 2, 1) == was
        # a device that goes offline cannot be switched from the page
        live.hub.kernel.set_online(hallway, False)
        for _ in range(50):
            if await switch.is_disabled():
                break
            await asyncio.sleep(0.1)
        assert await switch.is_disabled()

        # every control has an accessible name, and the theme toggle switches to dark and back
        unnamed = await page.evaluate(UNNAMED_CONTROLS_JS)
        assert unnamed == [], unnamed
        toggle = page.get_by_test_id("theme-toggle")
        start = await page.evaluate("() => document.documentElement.dataset.theme || ''")
        await toggle.click()
        flipped = await page.evaluate("() => document.documentElement.dataset.theme || ''")
        assert flipped in ("dark", "light") and flipped != start
        assert await toggle.get_attribute("aria-pressed") == str(flipped == "dark").lower()
        assert problems == []


def _ctx() -> Any:
    from trilink.kernel import Context

    return Context.new("api", "test")


async def test_a_refused_command_shows_its_error_and_the_car_charges(
    tmp_path: Path, system_broker: MqttSettings, unique: str
) -> None:
    async with live_home(tmp_path, system_broker, f"{unique}-", speed=300) as live, chromium(PHONE) as page:
        await sign_in(page, live)
        car = live.did("car")
        live.world.car.unplug()
        await until(page, lambda: live.value("car", 3, 1) == 0, "the car to report unplugged")
        # the car refuses to start charging while unplugged: the error is shown by the button
        await page.get_by_test_id(f"act-{car}-3.1").click()
        error = page.get_by_test_id(f"err-act-{car}-3.1")
        await error.wait_for(timeout=10_000)
        assert "not plugged in" in (await error.inner_text())
        assert await error.get_attribute("role") == "alert"

        await page.get_by_test_id("tab-car").click()
        progress = page.get_by_test_id("car-charge-progress")
        await progress.wait_for()
        live.world.car.plug_in()
        first = float(await progress.get_attribute("aria-valuenow") or 0)
        for _ in range(150):
            now = float(await progress.get_attribute("aria-valuenow") or 0)
            if now > first:
                break
            await asyncio.sleep(0.1)
        assert now > first, "the charge level on the page did not move"
        assert await page.get_by_test_id(f"activity-charging-{car}").is_visible()
        assert await page.get_by_test_id("car-track").count() == 1


async def test_history_chart_and_the_copilot(
    tmp_path: Path, system_broker: MqttSettings, unique: str
) -> None:
    async with live_home(tmp_path, system_broker, f"{unique}-", speed=600) as live, chromium(DESKTOP) as page:
        await sign_in(page, live)
        await asyncio.sleep(2)  # a few minutes of world time: some history to draw
        await page.get_by_test_id("tab-history").click()
        await page.get_by_test_id("history-device").select_option(live.did("sensor-living"))
        await page.get_by_test_id("history-property").select_option("2.1")
        await page.get_by_test_id("history-range-hour").click()
        chart = page.get_by_test_id("history-chart")
        await chart.locator("canvas").first.wait_for(timeout=10_000)

        await page.get_by_test_id("tab-copilot").click()
        await page.get_by_test_id("copilot-input").fill("把卧室空调调到22度")
        await page.get_by_test_id("copilot-send").click()
        await until(
            page, lambda: live.value("ac-bedroom", 2, 3) == 22.0, "the copilot's command to reach the AC"
        )
        await page.get_by_test_id("copilot-input").fill("unlock the front door")
        await page.get_by_test_id("copilot-send").click()
        confirm = page.get_by_test_id("copilot-confirm")
        await confirm.wait_for(timeout=10_000)
        assert live.value("lock-front", 2, 1) is not False
        await confirm.click()
        await until(
            page, lambda: live.value("lock-front", 2, 1) is False, "the lock to open after the confirmation"
        )

        shots = os.environ.get("TRILINK_SCREENSHOTS")
        if shots:
            os.makedirs(shots, exist_ok=True)
            await save_screenshots(page, live, Path(shots))


async def save_screenshots(page: Any, live: Live, out: Path) -> None:
    """The main pages at desktop and phone sizes (the folder must exist)."""
    pages = ["home", "car", "people", "history", "automations", "copilot"]
    for size, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        await page.set_viewport_size(viewport)
        for name in pages:
            await page.get_by_test_id(f"tab-{name}").click()
            await asyncio.sleep(0.8)
            await page.screenshot(path=str(out / f"{name}-{size}.png"))
