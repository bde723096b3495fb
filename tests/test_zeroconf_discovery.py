"""Zeroconf discovery over real multicast DNS on loopback: real announcers, the real browser.

Every announcer is a python-zeroconf ``AsyncZeroconf`` of its own, publishing services
shaped like a Xiaomi miIO device (``<model>_miio<device id>._miio._udp.local.``, port
54321) or an MQTT broker; the discovery service browses with its own zeroconf instance.
Both are bound to 127.0.0.1 (``interfaces=["127.0.0.1"]``): Linux delivers multicast
sent through loopback to sockets that joined the group there, so no packet leaves the
machine. :func:`require_loopback_mdns` checks that once and says clearly what to do if
it does not work. Names carry random device ids, so parallel runs on one machine do not
see each other's devices as their own.

The other zeroconf test modules import the helpers from here.
"""

from __future__ import annotations

import asyncio
import os
import random
import sys
import uuid
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any

import pytest
from zeroconf import IPVersion, ServiceStateChange, Zeroconf
from zeroconf.asyncio import AsyncServiceBrowser, AsyncServiceInfo, AsyncZeroconf

from conftest import wait_until
from trilink import __version__
from trilink.transports.zeroconf.names import HUB_TYPE, MIIO_TYPE, MQTT_TYPE
from trilink.transports.zeroconf.service import ZeroconfDiscovery
from trilink.transports.zeroconf.settings import ZeroconfSettings

LOOPBACK = "127.0.0.1"
#: fast timings for tests: a candidate silent for a second is gone
FAST = {"resolve_timeout": 0.5, "refresh_interval": 0.25, "expire_after": 1.0}


def device_id() -> int:
    """A random 8-digit miIO device id (unique per test run in practice)."""
    return random.randrange(10_000_000, 99_999_999)


def miio_info(
    did: int,
    model: str = "zhimi.airpurifier.m1",
    *,
    address: str | None = LOOPBACK,
    txt: Mapping[str, str] | None = None,
    label: str | None = None,
    host_ttl: int = 120,
) -> AsyncServiceInfo:
    """A service shaped like a real Xiaomi miIO device's announcement."""
    label = label or f"{model.replace('.', '-')}_miio{did}"
    return AsyncServiceInfo(
        MIIO_TYPE,
        f"{label}.{MIIO_TYPE}",
        port=54321,
        properties=dict(txt) if txt is not None else {"epoch": "1"},
        server=f"{label}.local.",
        parsed_addresses=[address] if address else None,
        host_ttl=host_ttl,
    )


def broker_info(
    name: str, port: int = 1883, txt: Mapping[str, str] | None = None, server: str | None = None
) -> AsyncServiceInfo:
    """An MQTT broker's announcement (as avahi publishes one for Mosquitto)."""
    return AsyncServiceInfo(
        MQTT_TYPE,
        f"{name}.{MQTT_TYPE}",
        port=port,
        properties=dict(txt) if txt is not None else {"version": "2.0.18"},
        server=server or f"{uuid.uuid4().hex[:10]}.local.",
        parsed_addresses=[LOOPBACK],
    )


class Announcer:
    """A zeroconf responder of its own on loopback, as a device or broker on the LAN would be."""

    def __init__(self) -> None:
        zc = Zeroconf(interfaces=[LOOPBACK], ip_version=IPVersion.V4Only, use_asyncio=True)
        self.aiozc = AsyncZeroconf(zc=zc)

    async def register(self, *infos: AsyncServiceInfo) -> None:
        """Publish services (without probing: the names are unique)."""
        for info in infos:
            await self.aiozc.async_register_service(info, cooperating_responders=True)

    async def update(self, info: AsyncServiceInfo) -> None:
        """Publish changed records of a registered service."""
        await (await self.aiozc.async_update_service(info))

    async def unregister(self, info: AsyncServiceInfo) -> None:
        """Withdraw a service with goodbye packets, as a device shutting down cleanly does."""
        await (await self.aiozc.async_unregister_service(info))

    async def close(self) -> None:
        """Say goodbye for everything and close the sockets."""
        await self.aiozc.async_close()


_mdns_checked = False


async def require_loopback_mdns() -> None:
    """Fail clearly (once per run) if multicast DNS on loopback does not reach a second socket."""
    global _mdns_checked
    if _mdns_checked:
        return
    if await _probe():
        _mdns_checked = True
        return
    if os.geteuid() == 0:
        ip = await asyncio.create_subprocess_exec(
            "ip", "link", "set", "lo", "multicast", "on", stderr=asyncio.subprocess.DEVNULL
        )
        await ip.wait()
        if await _probe():
            _mdns_checked = True
            return
    pytest.fail(
        "multicast DNS on loopback does not work here: a zeroconf announcer on 127.0.0.1 was not "
        "seen by a browser on 127.0.0.1. As root, `ip link set lo multicast on` usually fixes it; "
        "also check that nothing filters UDP port 5353 on lo."
    )


async def _probe() -> bool:
    announcer = Announcer()
    browser_zc = AsyncZeroconf(zc=Zeroconf(interfaces=[LOOPBACK], ip_version=IPVersion.V4Only))
    seen = asyncio.Event()
    probe_type = "_trilinkprobe._tcp.local."

    def on_change(**_: Any) -> None:
        seen.set()

    browser = AsyncServiceBrowser(browser_zc.zeroconf, [probe_type], handlers=[on_change])
    name = f"probe-{uuid.uuid4().hex[:8]}.{probe_type}"
    try:
        await announcer.register(
            AsyncServiceInfo(probe_type, name, port=9, parsed_addresses=[LOOPBACK], server="probe.local.")
        )
        try:
            await asyncio.wait_for(seen.wait(), 3)
        except TimeoutError:
            return False
        return True
    finally:
        await browser.async_cancel()
        await browser_zc.async_close()
        await announcer.close()


@pytest.fixture
async def announcer() -> AsyncIterator[Announcer]:
    """A device/broker responder on loopback; closed (with goodbyes) after the test."""
    await require_loopback_mdns()
    a = Announcer()
    yield a
    await a.close()


@pytest.fixture
async def make_discovery() -> AsyncIterator[Callable[..., ZeroconfDiscovery]]:
    """Build discovery services browsing loopback with fast timings; all are stopped after the test."""
    await require_loopback_mdns()
    made: list[ZeroconfDiscovery] = []

    def make(**overrides: Any) -> ZeroconfDiscovery:
        options: dict[str, Any] = {"interfaces": (LOOPBACK,), **FAST}
        hub_options = {k: overrides.pop(k) for k in ("adopter", "is_adopted", "hub_id") if k in overrides}
        discovery = ZeroconfDiscovery(ZeroconfSettings(**{**options, **overrides}), **hub_options)
        made.append(discovery)
        return discovery

    yield make
    for discovery in made:
        await discovery.stop()


async def candidate_for(discovery: ZeroconfDiscovery, candidate_id: str, what: str = "") -> dict[str, Any]:
    """Wait (bounded) until the candidate is in the table; return its JSON form."""
    await wait_until(
        lambda: any(c["id"] == candidate_id for c in discovery.candidates()),
        what=what or f"candidate {candidate_id}",
    )
    return discovery.candidate(candidate_id)


def skipped_reasons(discovery: ZeroconfDiscovery) -> dict[str, str]:
    """Recently skipped service names → why."""
    return {s["service"]: s["reason"] for s in discovery.status()["skipped"]}


# ------------------------------------------------------------------------ browsing
async def test_miio_devices_and_mqtt_brokers_are_discovered(
    announcer: Announcer, make_discovery: Callable[..., ZeroconfDiscovery]
) -> None:
    discovery = make_discovery()
    await discovery.start()
    assert discovery.running and discovery.browsing
    did = device_id()
    broker_name = f"Mosquitto on nas {uuid.uuid4().hex[:6]}"
    await announcer.register(
        miio_info(did, txt={"epoch": "1", "mac": "78:11:DC:00:00:01"}),
        broker_info(broker_name, txt={"version": "2.0.18", "tls": "0"}, server="nas-test.local."),
    )

    miio = await candidate_for(discovery, f"miio-{did}")
    assert miio["kind"] == "miio"
    assert miio["model"] == "zhimi.airpurifier.m1" and miio["device_id"] == did
    assert miio["name"] == f"zhimi-airpurifier-m1_miio{did}"
    assert miio["host"] == LOOPBACK and miio["addresses"] == [LOOPBACK] and miio["port"] == 54321
    assert miio["server"] == f"zhimi-airpurifier-m1_miio{did}.local"
    assert miio["txt"] == {"epoch": "1", "mac": "78:11:DC:00:00:01"}
    assert miio["adopted"] is False and miio["did"] is None
    assert miio["first_seen"] == miio["last_seen"] > 0

    broker = next(c for c in discovery.candidates(kind="mqtt-broker") if c["name"] == broker_name)
    assert broker["id"].startswith("mqtt-") and broker["model"] is None and broker["device_id"] is None
    assert broker["host"] == LOOPBACK and broker["port"] == 1883 and broker["server"] == "nas-test.local"
    assert broker["txt"] == {"version": "2.0.18", "tls": "0"}
    assert discovery.stats["added"] >= 2


async def test_a_changed_announcement_updates_the_candidate(
    announcer: Announcer, make_discovery: Callable[..., ZeroconfDiscovery]
) -> None:
    discovery = make_discovery()
    await discovery.start()
    did = device_id()
    info = miio_info(did, txt={"epoch": "1"})
    await announcer.register(info)
    before = await candidate_for(discovery, f"miio-{did}")

    changed = miio_info(did, txt={"epoch": "2", "fw": "1.2.9_0021"})
    await announcer.update(changed)
    await wait_until(
        lambda: discovery.candidate(f"miio-{did}")["txt"].get("epoch") == "2", what="the new TXT record"
    )
    after = discovery.candidate(f"miio-{did}")
    assert after["txt"] == {"epoch": "2", "fw": "1.2.9_0021"}
    assert after["first_seen"] == before["first_seen"] and after["last_seen"] >= before["last_seen"]
    assert discovery.stats["updated"] >= 1


async def test_a_goodbye_removes_the_candidate(
    announcer: Announcer, make_discovery: Callable[..., ZeroconfDiscovery]
) -> None:
    discovery = make_discovery()
    await discovery.start()
    did = device_id()
    info = miio_info(did)
    await announcer.register(info)
    await candidate_for(discovery, f"miio-{did}")

    await announcer.unregister(info)
    await wait_until(
        lambda: all(c["id"] != f"miio-{did}" for c in discovery.candidates()), what="the goodbye"
    )
    with pytest.raises(KeyError):
        discovery.candidate(f"miio-{did}")
    assert discovery.stats["removed"] >= 1


_POWER_CUT_DEVICE = """
import asyncio, sys
from zeroconf import IPVersion, Zeroconf
from zeroconf.asyncio import AsyncServiceInfo, AsyncZeroconf

async def main():
    did = int(sys.argv[1])
    label = f"zhimi-fan-v2_miio{did}"
    zc = AsyncZeroconf(zc=Zeroconf(interfaces=["127.0.0.1"], ip_version=IPVersion.V4Only))
    info = AsyncServiceInfo("_miio._udp.local.", label + "._miio._udp.local.", port=54321,
                            properties={"epoch": "1"}, server=label + ".local.",
                            parsed_addresses=["127.0.0.1"], host_ttl=1)
    await zc.async_register_service(info, cooperating_responders=True)
    print("ready", flush=True)
    await asyncio.Event().wait()

asyncio.run(main())
"""


async def test_a_device_that_stops_answering_expires(
    make_discovery: Callable[..., ZeroconfDiscovery],
) -> None:
    """A device that loses power sends no goodbye: it is dropped once it stops answering."""
    discovery = make_discovery()
    await discovery.start()
    did = device_id()
    device = await asyncio.create_subprocess_exec(
        sys.executable, "-c", _POWER_CUT_DEVICE, str(did), stdout=asyncio.subprocess.PIPE
    )
    try:
        assert device.stdout is not None
        assert (await asyncio.wait_for(device.stdout.readline(), 15)).strip() == b"ready"
        first = await candidate_for(discovery, f"miio-{did}")
        # alive for longer than expire_after: the refresh asks again and it answers
        await asyncio.sleep(FAST["expire_after"] * 2)
        alive = discovery.candidate(f"miio-{did}")
        assert alive["last_seen"] > first["last_seen"]
    finally:
        device.kill()  # the power cut: no goodbye packets
        await device.wait()
    await wait_until(
        lambda: all(c["id"] != f"miio-{did}" for c in discovery.candidates()),
        timeout=10,
        what="the silent device to expire",
    )
    assert discovery.stats["expired"] >= 1


async def test_malformed_announcements_are_counted_and_skipped(
    announcer: Announcer, make_discovery: Callable[..., ZeroconfDiscovery]
) -> None:
    discovery = make_discovery()
    await discovery.start()
    odd = f"airpurifier-{uuid.uuid4().hex[:6]}"
    too_big = f"zhimi-fan-v2_miio{2**32 + device_id()}"
    no_address = f"zhimi-fan-v2_miio{device_id()}"
    huge_name = f"huge-{uuid.uuid4().hex[:6]}"
    bad = [
        miio_info(0, label=odd),  # no _miio<device id>
        miio_info(0, label=too_big),  # a device id beyond 32 bits
        miio_info(0, label=no_address, address=None),  # no A record at all
        broker_info(huge_name, txt={f"k{i}": "x" * 200 for i in range(8)}),  # ~1.6 kB of TXT
    ]
    await announcer.register(*bad)
    good = device_id()
    await announcer.register(miio_info(good))

    await candidate_for(discovery, f"miio-{good}", "a good device announced after the bad ones")
    await wait_until(lambda: len(skipped_reasons(discovery)) >= 4, what="four skipped announcements")
    reasons = skipped_reasons(discovery)
    assert reasons[f"{odd}.{MIIO_TYPE}"] == "name"
    assert reasons[f"{too_big}.{MIIO_TYPE}"] == "name"
    assert reasons[f"{no_address}.{MIIO_TYPE}"] == "no-address"
    assert reasons[f"{huge_name}.{MQTT_TYPE}"] == "txt-too-large"
    by_reason = discovery.stats["skipped_by_reason"]
    assert by_reason["name"] >= 2 and by_reason["no-address"] >= 1 and by_reason["txt-too-large"] >= 1
    ids = {c["id"] for c in discovery.candidates()}
    assert f"miio-{good}" in ids and not any(name in str(ids) for name in (odd, huge_name))
    assert discovery.running


async def test_a_full_table_skips_new_candidates(
    announcer: Announcer, make_discovery: Callable[..., ZeroconfDiscovery]
) -> None:
    discovery = make_discovery(max_candidates=1)
    await discovery.start()
    first, second = device_id(), device_id()
    await announcer.register(miio_info(first))
    await candidate_for(discovery, f"miio-{first}")
    await announcer.register(miio_info(second, model="dmaker.fan.p5"))
    await wait_until(
        lambda: f"dmaker-fan-p5_miio{second}.{MIIO_TYPE}" in skipped_reasons(discovery), what="the skip"
    )
    assert skipped_reasons(discovery)[f"dmaker-fan-p5_miio{second}.{MIIO_TYPE}"] == "table-full"
    assert len(discovery.candidates()) == 1


# ----------------------------------------------------------------- announcing
async def test_the_hub_announces_itself_and_says_goodbye(
    make_discovery: Callable[..., ZeroconfDiscovery],
) -> None:
    hub_id = f"home-{uuid.uuid4().hex[:6]}"
    # announce explicitly on loopback: the only way to see it without a LAN
    hub = make_discovery(announce=True, enabled=False, hub_id=hub_id)
    browser_zc = AsyncZeroconf(zc=Zeroconf(interfaces=[LOOPBACK], ip_version=IPVersion.V4Only))
    events: list[tuple[str, ServiceStateChange]] = []

    def on_change(name: str, state_change: ServiceStateChange, **_: Any) -> None:
        events.append((name, state_change))

    browser = AsyncServiceBrowser(browser_zc.zeroconf, [HUB_TYPE], handlers=[on_change])
    try:
        await hub.start(api_host=LOOPBACK, api_port=8765)
        assert hub.running and not hub.browsing
        name = f"trilink {hub_id}.{HUB_TYPE}"
        await wait_until(lambda: (name, ServiceStateChange.Added) in events, what="the hub's announcement")
        info = AsyncServiceInfo(HUB_TYPE, name)
        assert await info.async_request(browser_zc.zeroconf, 3000)
        assert info.port == 8765 and info.parsed_addresses() == [LOOPBACK]
        assert info.decoded_properties == {"version": __version__, "path": "/", "api": "/api", "id": hub_id}
        assert info.server == f"trilink-{hub_id}.local."
        assert hub.status()["announced"] == {
            "name": name,
            "type": HUB_TYPE,
            "port": 8765,
            "addresses": [LOOPBACK],
        }

        await hub.stop()
        assert not hub.running and hub.status()["announced"] is None
        await wait_until(lambda: (name, ServiceStateChange.Removed) in events, what="the hub's goodbye")
    finally:
        await browser.async_cancel()
        await browser_zc.async_close()


async def test_a_hub_on_loopback_does_not_announce_by_default(
    make_discovery: Callable[..., ZeroconfDiscovery],
) -> None:
    quiet = make_discovery(enabled=False)  # announce: "auto"
    await quiet.start(api_host=LOOPBACK, api_port=8765)
    assert not quiet.running and quiet.status()["announced"] is None
    browsing = make_discovery()
    await browsing.start(api_host="localhost", api_port=8765)
    assert browsing.browsing and browsing.status()["announced"] is None


async def test_sockets_that_cannot_open_leave_the_hub_running_without_discovery() -> None:
    discovery = ZeroconfDiscovery(ZeroconfSettings(interfaces=("203.0.113.9",)))  # not this machine's
    await discovery.start()
    try:
        status = discovery.status()
        assert not discovery.running and status["running"] is False
        assert "cannot open the mDNS sockets" in status["error"]
        assert discovery.candidates() == []
    finally:
        await discovery.stop()
