"""The Maintenance page in headless Chromium against a hub that diagnoses its simulated world.

A reminder is made the way the hub makes one: its diagnostics service is given a living-room
AC's telemetry (six healthy days of a simulated unit, then a filter that has lost a third of
its airflow) through ``Diagnostics.observe``, the call its sampler makes; the hub's own
``ACHealth`` finds the clog, the reminder book opens a reminder and the owner's phone is
told. The page shows it live, and "Seen", "Remind me tomorrow" and "Serviced" go through the
public API. The hubs run at real speed, so the service's own 10-minute sampler does not
feed the detector during a test.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from conftest import free_port, wait_for_async, wait_until
from dashboard_support import Live, chromium, live_home
from test_dashboard_e2e import UNNAMED_CONTROLS_JS
from trilink.api import create_app
from trilink.diagnostics.base import Sample
from trilink.diagnostics.findings import Reminder
from trilink.sim.climates import solo_unit
from trilink.transports.mqtt.settings import MqttSettings

DAY = 86400.0
#: the narrowest phone the dashboard is made for
NARROW = {"width": 360, "height": 740}
#: what does not fit: the page wider than the window, or a tab's label cut short
OVERFLOW_JS = """() => [
  ...(document.documentElement.scrollWidth > innerWidth ? ['the page'] : []),
  ...[...document.querySelectorAll('.tabs a span')]
    .filter(s => s.offsetParent !== null && s.scrollWidth > s.clientWidth).map(s => s.textContent)]"""


def clog_the_living_room_filter(live: Live) -> Reminder:
    """Feed the hub's diagnostics a week of the living-room AC ending now, its filter clogged
    from day six, until a reminder opens; then a few more samples, until the reminder also
    says what the fault costs. Returns the reminder as the service keeps it."""
    did = live.did("ac-living")
    unit = solo_unit("hot-humid", "all-day", 7, sensor_noise=True)
    start = unit.time
    shift = live.hub.clock.now() - 7 * DAY - start
    opened: Reminder | None = None
    for ts, values in unit.run(7 * DAY, 600.0):
        if ts - start >= 6 * DAY:
            unit.ac.filter_clog = 0.35
        found = live.hub.diagnostics.observe(did, Sample(ts + shift, values))
        if found:
            opened = found[0]
        if opened is not None:
            (current,) = live.hub.diagnostics.reminders(active_only=True)
            if current.energy_kwh_per_day:
                return current
    raise AssertionError(f"no reminder with an energy cost (opened: {opened})")


async def sign_in_with(page: Any, live: Live, token: str, url: str | None = None) -> None:
    await page.goto((url or live.url) + "/")
    await page.get_by_test_id("signin-token").fill(token)
    await page.get_by_test_id("signin-submit").click()
    await page.get_by_test_id("room-living-room").wait_for(timeout=15_000)
    # the live feed is connected: events from now on reach the page
    await wait_for_attr(page.get_by_test_id("conn"), "data-state", "live")


async def wait_for_attr(locator: Any, name: str, want: str, timeout: float = 10) -> None:
    """Poll an attribute (the page's CSP forbids Playwright's wait_for_function)."""

    async def ok() -> bool:
        return bool(await locator.get_attribute(name) == want)

    await wait_for_async(ok, timeout=timeout, what=f"{name}={want!r}")


async def reminders_via_api(live: Live) -> list[dict[str, Any]]:
    headers = {"Authorization": f"Bearer {live.token}"}
    async with httpx.AsyncClient(base_url=live.url, headers=headers) as api:
        r = await api.get("/api/diagnostics/reminders")
    assert r.status_code == 200, r.text
    items: list[dict[str, Any]] = r.json()["reminders"]
    return items


async def detectors_via_api(live: Live, did: str) -> list[dict[str, Any]]:
    headers = {"Authorization": f"Bearer {live.token}"}
    async with httpx.AsyncClient(base_url=live.url, headers=headers) as api:
        r = await api.get(f"/api/diagnostics/devices/{did}")
    assert r.status_code == 200, r.text
    detectors: list[dict[str, Any]] = r.json()["detectors"]
    return detectors


def learning_of(detectors: list[dict[str, Any]]) -> list[bool]:
    """ACHealth's two baselines (airflow, split): whether each is still being learned."""
    (ac_health,) = detectors
    assert ac_health["name"] == "ACHealth"
    return [bool(x) for x in ac_health["state"]["learning"]]


async def test_a_reminder_is_seen_snoozed_and_serviced(
    tmp_path: Path, system_broker: MqttSettings, unique: str
) -> None:
    async with (
        live_home(tmp_path, system_broker, f"{unique}-", speed=1) as live,
        chromium(NARROW) as page,
    ):
        problems: list[str] = []
        page.on("pageerror", lambda e: problems.append(str(e)))
        dialogs: list[str] = []

        async def accept(dialog: Any) -> None:
            dialogs.append(dialog.message)
            await dialog.accept()

        page.on("dialog", accept)
        ac, car = live.did("ac-living"), live.did("car")
        await sign_in_with(page, live, live.token)
        badge = page.get_by_test_id("maint-badge")
        assert await badge.is_hidden()

        # nothing yet: the empty state, and every AC and the car still learning
        await page.get_by_test_id("tab-maintenance").click()
        await page.get_by_test_id("maint-empty").wait_for()
        assert "nothing needs attention" in await page.get_by_test_id("maint-empty").inner_text()
        for did in (ac, live.did("ac-bedroom"), car):
            await page.get_by_test_id(f"maint-learning-{did}").wait_for()
        learning = await page.get_by_test_id(f"maint-learning-{ac}").inner_text()
        assert learning == "Learning Living Room AC's normal behaviour"
        assert await page.get_by_test_id(f"maint-learning-{live.did('light-bedroom')}").count() == 0

        # the hub's diagnostics find the clogged filter; the page shows it without a reload
        reminder = clog_the_living_room_filter(live)
        rid = reminder.id
        card = page.get_by_test_id(f"reminder-{rid}")
        await card.wait_for(timeout=15_000)  # the phone's notification on the live feed, not the 30 s poll
        text = await card.inner_text()
        assert "Air filter clogged" in text
        assert "Living Room AC · Living room" in text
        assert reminder.evidence in text and "m³/h" in reminder.evidence
        assert reminder.advice in text
        assert "kWh a day" in text
        severity = card.get_by_role("progressbar")
        assert await severity.get_attribute("aria-valuenow") == str(round(reminder.severity * 100))
        assert f"{round(reminder.severity * 100)} % of the healthy airflow lost" in text
        assert await card.get_attribute("data-status") == "open" and "Open" in text
        assert await page.get_by_test_id("maint-empty").is_hidden()
        assert await badge.inner_text() == "1" and await badge.is_visible()
        assert await page.evaluate(OVERFLOW_JS) == []
        # dark mode: the card takes the dark theme's surface
        toggle = page.get_by_test_id("theme-toggle")
        for _ in range(2):
            if await page.evaluate("() => document.documentElement.dataset.theme || ''") != "dark":
                await toggle.click()
        assert await card.evaluate("el => getComputedStyle(el).backgroundColor") == "rgb(23, 26, 32)"

        # Seen
        await page.get_by_test_id(f"reminder-ack-{rid}").click()
        await wait_for_attr(card, "data-status", "acknowledged")
        assert "Acknowledged" in await card.inner_text()
        (stored,) = await reminders_via_api(live)
        assert stored["status"] == "acknowledged"
        assert await badge.inner_text() == "1"

        # Remind me tomorrow
        await page.get_by_test_id(f"reminder-snooze-{rid}").click()
        await wait_for_attr(card, "data-status", "snoozed")
        assert "Snoozed until" in await card.inner_text()
        (stored,) = await reminders_via_api(live)
        assert stored["status"] == "snoozed"
        assert abs(stored["snoozed_until"] - (live.hub.clock.now() + 24 * 3600)) < 120

        # a fresh visit with a live reminder asks nobody what they are learning; the clogged
        # AC had learned its baseline
        assert await page.get_by_test_id("maint-empty").is_hidden()
        await page.get_by_test_id("tab-home").click()
        await page.get_by_test_id("tab-maintenance").click()
        await card.wait_for()
        assert await page.get_by_test_id(f"maint-learning-{ac}").count() == 0
        assert not any(learning_of(await detectors_via_api(live, ac)))

        # Serviced, after the confirmation: closed, the badge gone, the AC learning anew
        await page.get_by_test_id(f"reminder-resolve-{rid}").click()
        await wait_for_attr(card, "data-status", "resolved")
        assert dialogs and "serviced" in dialogs[0]
        closed = page.locator(".maint-closed")
        await closed.get_by_test_id(f"reminder-{rid}").wait_for(state="attached")
        assert "Closed (1)" in await closed.locator("summary").inner_text()
        assert await page.get_by_test_id(f"reminder-ack-{rid}").is_hidden()
        await page.get_by_test_id("maint-empty").wait_for()
        await wait_for_attr(badge, "hidden", "")
        assert await badge.text_content() == "0"
        await page.get_by_test_id(f"maint-learning-{ac}").wait_for()
        assert all(learning_of(await detectors_via_api(live, ac)))
        (stored,) = await reminders_via_api(live)
        assert stored["status"] == "resolved"

        unnamed = await page.evaluate(UNNAMED_CONTROLS_JS)
        assert unnamed == [], unnamed
        assert problems == []


async def test_a_guest_cannot_act_and_an_api_error_shows_under_the_card(
    tmp_path: Path, system_broker: MqttSettings, unique: str
) -> None:
    async with live_home(tmp_path, system_broker, f"{unique}-", speed=1) as live, chromium() as page:
        reminder = clog_the_living_room_filter(live)
        rid = reminder.id
        buttons = [f"reminder-{what}-{rid}" for what in ("ack", "snooze", "resolve")]

        # a guest sees the reminder, but its buttons are disabled
        guest = live.hub.new_token("visitor", "guest")
        await sign_in_with(page, live, guest)
        assert await page.get_by_test_id("maint-badge").inner_text() == "1"
        await page.get_by_test_id("tab-maintenance").click()
        await page.get_by_test_id(f"reminder-{rid}").wait_for()
        for testid in buttons:
            assert await page.get_by_test_id(testid).is_disabled(), testid
        assert "signed in as a guest" in await page.locator("main").inner_text()
        await page.get_by_test_id("signout").click()

        # the owner's click reaches a reminder that is gone: the hub's 404 shows under the card
        await sign_in_with(page, live, live.token)
        await page.get_by_test_id("tab-maintenance").click()
        ack = page.get_by_test_id(f"reminder-ack-{rid}")
        await ack.wait_for()
        assert await ack.is_enabled()
        with live.hub.store.writing() as conn:
            conn.execute("DELETE FROM findings WHERE id = ?", (rid,))
        await ack.click()
        error = page.get_by_test_id(f"err-reminder-{rid}")
        await error.wait_for(timeout=10_000)
        assert await error.get_attribute("role") == "alert"
        assert f"no reminder {rid}" in await error.inner_text()
        for testid in buttons:
            assert await page.get_by_test_id(testid).is_disabled(), testid


class WithoutDiagnostics:
    """A hub as the API sees it when it runs no diagnostics service."""

    diagnostics = None

    def __init__(self, hub: Any) -> None:
        self._hub = hub

    def __getattr__(self, name: str) -> Any:
        return getattr(self._hub, name)


@contextlib.asynccontextmanager
async def api_without_diagnostics(live: Live) -> AsyncIterator[str]:
    """The same hub's API and dashboard on a second port, built without the diagnostics routes."""
    app = create_app(WithoutDiagnostics(live.hub))
    port = free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", lifespan="off", ws="websockets-sansio"
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        await wait_until(lambda: server.started or task.done(), what="the second server to start")
        yield f"http://127.0.0.1:{port}"
    finally:
        app.state.live.close()
        server.should_exit = True
        await asyncio.wait_for(task, 10)


async def test_the_tab_is_hidden_when_the_hub_runs_no_diagnostics(
    tmp_path: Path, system_broker: MqttSettings, unique: str
) -> None:
    async with (
        live_home(tmp_path, system_broker, f"{unique}-", speed=1) as live,
        api_without_diagnostics(live) as url,
        chromium() as page,
    ):
        async with httpx.AsyncClient(base_url=url) as api:
            r = await api.get("/api/diagnostics/reminders", headers={"Authorization": f"Bearer {live.token}"})
        assert r.status_code == 404
        await sign_in_with(page, live, live.token, url)
        assert await page.get_by_test_id("tab-maintenance").is_hidden()
        assert await page.get_by_test_id("tab-automations").is_visible()
        await page.goto(url + "/#/maintenance")
        await page.get_by_test_id("room-living-room").wait_for(timeout=15_000)
        assert page.url.endswith("#/home")
