"""The dashboard in headless Chromium: first meaningful paint, bytes transferred, live updates.

A hub with the simulated world runs on the system Mosquitto (127.0.0.1:1883); Debian's
Chromium opens the dashboard, signed in with a session cookie.

- **First meaningful paint**: from navigation start until the home page shows its first
  room with live values (``room-living-room`` visible), cold (empty cache) and warm
  (revalidated with ETags), median of ``--rounds``. Baseline in the same run: the same
  browser loading a one-line static file from the same server.
- **Transferred**: the bytes of every response of a cold home-page load (the browser's
  ``transferSize``), and how many requests.
- **Live updates**: the bench reports property changes straight into the hub's kernel at
  ``--rates`` per second for ``--seconds`` each (spread over the world's sensors and
  lights); the page counts WebSocket messages and frames rendered
  (``window.__trilinkStats``). It keeps up when it receives what was sent and its
  message-to-screen latency stays low; responsiveness is measured as the time a tab
  switch takes while the load runs.

    .venv/bin/python bench/dashboard_bench.py [--rounds 5] [--rates 200 500 1000] [--seconds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from common import median, save
from dashboard_support import DESKTOP, PHONE, chromium, live_home
from trilink.transports.mqtt.settings import MqttSettings

PAINT_JS = "() => performance.now()"
RESOURCES_JS = """() => {
  const nav = performance.getEntriesByType('navigation').map(e => e.transferSize);
  const res = performance.getEntriesByType('resource').map(e => e.transferSize);
  return {bytes: [...nav, ...res].reduce((a, b) => a + b, 0), requests: nav.length + res.length};
}"""
STATS_JS = "() => Object.assign({}, window.__trilinkStats || {})"


async def load_home(page: Any, url: str) -> float:
    """Navigate to the dashboard; ms from navigation start until the first room is shown."""
    await page.goto(url + "/", wait_until="commit")
    await page.get_by_test_id("room-living-room").wait_for(timeout=20_000)
    return float(await page.evaluate(PAINT_JS))


async def main_async(args: argparse.Namespace) -> None:
    broker = MqttSettings(host="127.0.0.1", port=1883)
    with tempfile.TemporaryDirectory() as tmp:
        async with live_home(Path(tmp), broker, f"bench-{uuid.uuid4().hex[:6]}-") as live:
            results: dict[str, Any] = {}
            for label, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
                async with chromium(viewport) as page:
                    await page.goto(live.url + "/")
                    await page.get_by_test_id("signin-token").fill(live.token)
                    await page.get_by_test_id("signin-submit").click()
                    await page.get_by_test_id("room-living-room").wait_for(timeout=20_000)
                    cold, warm, base = [], [], []
                    transfer: dict[str, Any] = {}
                    for _ in range(args.rounds):
                        cdp = await page.context.new_cdp_session(page)
                        await cdp.send("Network.clearBrowserCache")
                        cold.append(await load_home(page, live.url))
                        transfer = await page.evaluate(RESOURCES_JS)
                        warm.append(await load_home(page, live.url))
                        await page.goto(live.url + "/static/vendor/README.md")
                        base.append(float(await page.evaluate(PAINT_JS)))
                    results[label] = {
                        "first_paint_cold_ms": median(cold),
                        "first_paint_warm_ms": median(warm),
                        "baseline_static_file_ms": median(base),
                        "transfer_bytes": transfer["bytes"],
                        "requests": transfer["requests"],
                    }
                    print(
                        f"{label:8} first meaningful paint: cold {median(cold):.0f} ms,"
                        f" warm {median(warm):.0f} ms"
                        f"  (baseline, a static file: {median(base):.0f} ms);"
                        f" cold load {transfer['bytes'] / 1024:.0f} KiB in {transfer['requests']} requests"
                    )
            async with chromium(DESKTOP) as page:
                await page.goto(live.url + "/")
                await page.get_by_test_id("signin-token").fill(live.token)
                await page.get_by_test_id("signin-submit").click()
                await page.get_by_test_id("room-living-room").wait_for(timeout=20_000)
                results["live"] = [await live_rate(page, live, rate, args.seconds) for rate in args.rates]
            save("dashboard", results)


async def live_rate(page: Any, live: Any, rate: int, seconds: float) -> dict[str, Any]:
    """Report ``rate`` changes per second for ``seconds``; what the page received and drew."""
    kernel = live.hub.kernel
    targets = [(live.did(f"sensor-{r}"), 2, 1) for r in ("living", "bedroom", "kitchen")]
    targets += [(live.did(f"light-{r}"), 2, 2) for r in ("living", "bedroom", "kitchen", "hallway")]
    before = await page.evaluate(STATS_JS)
    sent = 0
    lags: list[float] = []
    switch_ms: list[float] = []
    t0 = time.perf_counter()
    tick = 0.02
    while time.perf_counter() - t0 < seconds:
        due = int((time.perf_counter() - t0) * rate)
        while sent < due:
            did, siid, piid = targets[sent % len(targets)]
            value = (10.0 + (sent % 300) / 10) if siid == 2 and piid == 1 else 1 + sent % 100
            with contextlib.suppress(Exception):  # a value the device just reported itself
                kernel.report(did, siid, piid, value)
            sent += 1
        if int((time.perf_counter() - t0) / 0.5) > len(switch_ms):
            s0 = time.perf_counter()
            tab = "tab-history" if len(switch_ms) % 2 == 0 else "tab-home"
            await page.get_by_test_id(tab).click()
            switch_ms.append((time.perf_counter() - s0) * 1000)
        stats = await page.evaluate(STATS_JS)
        if stats.get("lastLatencyMs") is not None:
            lags.append(float(stats["lastLatencyMs"]))
        await asyncio.sleep(tick)
    await asyncio.sleep(1.0)
    after = await page.evaluate(STATS_JS)
    received = int(after.get("messages", 0)) - int(before.get("messages", 0))
    renders = int(after.get("renders", 0)) - int(before.get("renders", 0))
    out = {
        "rate": rate,
        "sent": sent,
        "received": received,
        "renders_per_s": renders / seconds,
        "latency_ms_median": median(lags) if lags else None,
        "latency_ms_max": max(lags) if lags else None,
        "tab_switch_ms_median": median(switch_ms) if switch_ms else None,
    }
    print(
        f"live {rate:5}/s: sent {sent}, page received {received} ({received / max(sent, 1):.0%}),"
        f" {out['renders_per_s']:.0f} renders/s, message→screen median {out['latency_ms_median']} ms"
        f" (max {out['latency_ms_max']}), tab switch median {out['tab_switch_ms_median']:.0f} ms"
    )
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--rates", type=int, nargs="+", default=[200, 500, 1000])
    ap.add_argument("--seconds", type=float, default=5.0)
    asyncio.run(main_async(ap.parse_args()))


if __name__ == "__main__":
    main()
