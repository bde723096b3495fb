"""``trilink discover`` against a real API server whose discovery browses loopback.

The server thread runs the kernel, the API, the discovery service and an announcer
publishing a purifier and a broker, all on its own loop, as a hub does; the CLI runs in
the test's thread through click's CliRunner.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator
from typing import Any

import click
import pytest
import uvicorn
from click.testing import CliRunner, Result

from test_api import OWNER_TOKEN, build_world
from test_api_discovery import TOKEN, FakeAdopter
from test_cli_client import ThreadedHub
from test_zeroconf_discovery import (
    LOOPBACK,
    Announcer,
    broker_info,
    candidate_for,
    device_id,
    miio_info,
    require_loopback_mdns,
)
from trilink.api import create_app
from trilink.api.routes_discovery import discovery_router
from trilink.cli import discover
from trilink.transports.zeroconf.adoption import adopted_check
from trilink.transports.zeroconf.service import ZeroconfDiscovery
from trilink.transports.zeroconf.settings import ZeroconfSettings


class LanHub(ThreadedHub):
    """The API with discovery, and a LAN of one purifier and one broker, on the server's loop."""

    def __init__(self) -> None:
        super().__init__()
        self.adopter = FakeAdopter()
        self.device_id = device_id()
        self.broker_name = f"broker-{uuid.uuid4().hex[:8]}"
        self.discovery: ZeroconfDiscovery | None = None
        self.announcer: Announcer | None = None
        self.purifier = miio_info(self.device_id)

    async def _main(self) -> None:
        await require_loopback_mdns()
        self.world = build_world()
        settings = ZeroconfSettings(interfaces=(LOOPBACK,), resolve_timeout=0.5)
        self.discovery = ZeroconfDiscovery(
            settings, adopter=self.adopter, is_adopted=adopted_check(miio=self.adopter.known)
        )
        self.announcer = Announcer()
        self.app = create_app(self.world.hub)
        self.app.include_router(discovery_router(self.discovery))
        await self.discovery.start()
        config = uvicorn.Config(self.app, host=LOOPBACK, port=self.port, log_level="warning", lifespan="on")
        self.server = uvicorn.Server(config)
        self.loop = asyncio.get_running_loop()
        try:
            await self.server.serve()
        finally:
            await self.discovery.stop()
            await self.announcer.close()

    async def announce(self) -> None:
        """Publish the purifier and the broker, and wait until the hub has both."""
        assert self.announcer is not None and self.discovery is not None
        await self.announcer.register(self.purifier, broker_info(self.broker_name, server="nas-cli.local."))
        await candidate_for(self.discovery, f"miio-{self.device_id}")
        await candidate_for(self.discovery, self.broker_id)

    @property
    def broker_id(self) -> str:
        from trilink.transports.zeroconf.names import MQTT_TYPE, broker_candidate_id

        return broker_candidate_id(f"{self.broker_name}.{MQTT_TYPE}")


@pytest.fixture
def lan_hub() -> Iterator[LanHub]:
    """A running API server with discovery, after the purifier and the broker were found."""
    hub = LanHub()
    hub.start()
    try:
        hub.submit(hub.announce())
        yield hub
    finally:
        hub.stop()


def cli_group() -> click.Group:
    """A ``trilink``-like group with ``discover`` registered (main.py wiring is the lead's)."""

    @click.group()
    def group() -> None:
        """Test group."""

    discover.register(group)
    return group


def run(hub: LanHub, *args: str, stdin: str | None = None) -> Result:
    """Run ``trilink discover ARGS`` against the hub with the owner's token in the environment."""
    env = {"TRILINK_URL": hub.url, "TRILINK_TOKEN": OWNER_TOKEN, "TRILINK_DEVICE_TOKEN": None}
    return CliRunner().invoke(cli_group(), ["discover", *args], env=env, input=stdin, catch_exceptions=False)


def test_discover_lists_the_candidates(lan_hub: LanHub) -> None:
    miio_id = f"miio-{lan_hub.device_id}"
    result = run(lan_hub)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == ["ID", "KIND", "MODEL", "OR", "NAME", "ADDRESS", "LAST", "SEEN", "ADOPTED"]
    purifier = next(line for line in lines if line.startswith(miio_id))
    assert purifier.split()[1:4] == ["miio", "zhimi.airpurifier.m1", f"{LOOPBACK}:54321"]
    assert purifier.split()[-1] == "no"
    broker = next(line for line in lines if line.startswith(lan_hub.broker_id))
    assert lan_hub.broker_name in broker and f"{LOOPBACK}:1883" in broker

    as_json = json.loads(run(lan_hub, "--json").output)
    assert as_json["browsing"] is True
    assert {miio_id, lan_hub.broker_id} <= {c["id"] for c in as_json["candidates"]}
    only_brokers = run(lan_hub, "--kind", "mqtt-broker").output
    assert lan_hub.broker_id in only_brokers and miio_id not in only_brokers


def test_discover_adopt_hands_the_token_to_the_hub_and_never_prints_it(lan_hub: LanHub) -> None:
    miio_id = f"miio-{lan_hub.device_id}"
    bad = run(lan_hub, "adopt", miio_id, "--device-token", "abc123")
    assert bad.exit_code == 1 and "32 hexadecimal" in bad.output and "abc123" not in bad.output

    result = run(
        lan_hub, "adopt", miio_id, "--name", "Bedroom purifier", "--room", "bedroom", stdin=TOKEN + "\n"
    )
    assert result.exit_code == 0, result.output
    assert (
        f"adopted {miio_id} (zhimi.airpurifier.m1 at {LOOPBACK}) as purifier-{lan_hub.device_id}"
        in result.output
    )
    assert "miIO token of the device" in result.output and TOKEN not in result.output  # a hidden prompt
    (call,) = lan_hub.adopter.calls
    assert (call.token, call.name, call.room) == (TOKEN.lower(), "Bedroom purifier", "bedroom")

    listed = run(lan_hub, "--kind", "miio").output
    assert f"yes (purifier-{lan_hub.device_id})" in listed
    again = run(lan_hub, "adopt", miio_id, "--device-token", TOKEN)
    assert again.exit_code == 1 and "already adopted" in again.output

    unknown = run(lan_hub, "adopt", "miio-1", "--device-token", TOKEN)
    assert unknown.exit_code == 1 and "no candidate 'miio-1'" in unknown.output


def test_discover_adopt_prints_a_brokers_config(lan_hub: LanHub) -> None:
    result = run(lan_hub, "adopt", lan_hub.broker_id)
    assert result.exit_code == 0, result.output
    assert f"mqtt:\n  host: {LOOPBACK}\n  port: 1883\n" in result.output
    assert "note: the broker also answers as nas-cli.local" in result.output
    refused = run(lan_hub, "adopt", lan_hub.broker_id, "--device-token", TOKEN)
    assert refused.exit_code == 1 and "without --device-token" in refused.output


def test_discover_watch_prints_changes_until_stopped(lan_hub: LanHub) -> None:
    miio_id = f"miio-{lan_hub.device_id}"

    async def unplug_later() -> None:
        await asyncio.sleep(0.2)
        assert lan_hub.announcer is not None
        await lan_hub.announcer.unregister(lan_hub.purifier)

    pending = lan_hub.background(unplug_later())
    result = run(lan_hub, "--watch", "--json", "--interval", "0.1", "--max-polls", "15")
    pending.result(5)
    assert result.exit_code == 0, result.output
    changes: list[dict[str, Any]] = [json.loads(line) for line in result.output.splitlines()]
    mine = [(c["change"], c["candidate"]["id"]) for c in changes if c["candidate"]["id"] == miio_id]
    assert mine == [("added", miio_id), ("removed", miio_id)]

    text = run(lan_hub, "--watch", "--interval", "0.1", "--max-polls", "1").output
    assert f"+ {lan_hub.broker_id}  mqtt-broker  {lan_hub.broker_name}  {LOOPBACK}:1883  adopted: no" in text

    assert lan_hub.discovery is not None
    lan_hub.submit(lan_hub.discovery.stop())
    stopped = run(lan_hub)
    assert stopped.exit_code == 0 and "the hub is not browsing its LAN" in stopped.output
