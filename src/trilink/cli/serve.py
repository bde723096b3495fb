"""``trilink demo``, ``trilink run`` and ``trilink token``: commands that run or manage a hub here.

Heavy imports (the hub, the API server, the simulator) happen inside the commands, so
the client commands stay quick to start.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import signal
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from trilink.kernel import Kernel

DEMO_HOME = {
    "id": "home",
    "name": "Demo home",
    "latitude": 31.2304,
    "longitude": 121.4737,
    "timezone": "Asia/Shanghai",
}


def register(group: click.Group) -> None:
    """Add the hub commands to ``group``."""
    group.add_command(demo)
    group.add_command(run)
    group.add_command(token)


def _stop_event() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    return stop


async def _wait(stop: asyncio.Event, seconds: float | None) -> None:
    if seconds is None:
        await stop.wait()
    else:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), seconds)


# --------------------------------------------------------------------------- run
@click.command()
@click.option(
    "--config",
    "config_path",
    required=True,
    type=click.Path(path_type=Path),
    help="YAML configuration file (see docs/configuration.md).",
)
@click.option("--duration", type=float, hidden=True, help="Stop after this many seconds (for tests).")
@click.option("-v", "--verbose", is_flag=True, help="Log more.")
def run(config_path: Path, duration: float | None, verbose: bool) -> None:
    """Run the hub against an external MQTT broker, as configured in FILE."""
    from trilink.config import ConfigError, load_config

    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        config = load_config(config_path)
        mqtt = config.mqtt.settings()
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    asyncio.run(_run(config, mqtt, duration))


async def _run(config: Any, mqtt: Any, duration: float | None) -> None:
    from trilink.hub import Hub

    hub = Hub(config, mqtt=mqtt)
    stop = _stop_event()
    try:
        info = await hub.start()
    except Exception as exc:
        await hub.stop()
        raise click.ClickException(f"the hub could not start: {exc}") from None
    click.echo(
        f"trilink hub running · API {info.api_url} · MQTT {mqtt.describe()} · "
        f"store {config.store.path} ({info.devices_restored} devices restored)"
    )
    if info.new_owner_token:
        click.echo(f"\nOwner token (shown once — keep it safe):\n  {info.new_owner_token}\n")
    for error in info.automation_errors:
        click.echo(f"automation refused: {error}", err=True)
    try:
        await _wait(stop, duration)
    finally:
        click.echo("stopping…")
        await hub.stop()
        click.echo("stopped.")


# -------------------------------------------------------------------------- demo
@click.command()
@click.option("--port", default=8765, show_default=True, help="API port on 127.0.0.1 (0: any free port).")
@click.option("--mqtt-port", default=0, show_default=True, help="Embedded broker port (0: any free port).")
@click.option(
    "--data-dir",
    default="var/demo",
    show_default=True,
    type=click.Path(path_type=Path),
    help="Where the demo hub keeps its database.",
)
@click.option(
    "--speed",
    default=60.0,
    show_default=True,
    help="How many times faster than real time the simulated world runs.",
)
@click.option("--quiet", is_flag=True, help="Print only the banner, no live summary.")
@click.option("--duration", type=float, hidden=True, help="Stop after this many seconds (for tests).")
def demo(
    port: int, mqtt_port: int, data_dir: Path, speed: float, quiet: bool, duration: float | None
) -> None:
    """Start a hub with embedded defaults and a simulated home, car and phone."""
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    asyncio.run(_demo(port, mqtt_port, data_dir, speed, quiet, duration))


async def _demo(
    port: int, mqtt_port: int, data_dir: Path, speed: float, quiet: bool, duration: float | None
) -> None:
    from trilink.clock import ScaledClock
    from trilink.config import ApiConfig, HomeConfig, HubConfig, StoreConfig
    from trilink.hub import Hub
    from trilink.sim import World
    from trilink.store import list_tokens, revoke_token
    from trilink.transports.mqtt.broker import EmbeddedBroker

    stop = _stop_event()
    hub_pw, sim_pw = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
    broker = EmbeddedBroker(host="127.0.0.1", port=mqtt_port, users={"hub": hub_pw, "sim": sim_pw})
    click.echo("starting the embedded MQTT broker…")
    await broker.start()
    clock = ScaledClock(speed)
    config = HubConfig(
        home=HomeConfig.model_validate(DEMO_HOME),
        store=StoreConfig(path=data_dir / "trilink.db"),
        api=ApiConfig(host="127.0.0.1", port=port),
    )
    hub = Hub(config, mqtt=broker.settings("hub", hub_pw), clock=clock)
    world = World(broker.settings("sim", sim_pw), clock)
    try:
        click.echo("starting the hub…")
        info = await hub.start()
        # a fresh token for every demo session; earlier demo tokens stop working
        for record in list_tokens(hub.store):
            if record.name == "demo":
                revoke_token(hub.store, record.id)
        token_text = hub.new_token("demo", "owner")
        click.echo("starting the simulated world (home, car, phone)…")
        await world.start()
        await _wait_adopted(hub.kernel, list(world.devices))
        loaded = _load_demo_automations(hub)
        _banner(info.api_url, token_text, broker.port, speed, data_dir, loaded)
        summary = None if quiet else _LiveSummary(hub.kernel, len(world.devices))
        if summary is None:
            await _wait(stop, duration)
        else:
            await summary.run(stop, duration)
    finally:
        click.echo("\nstopping the simulated world…")
        await world.stop()
        click.echo("stopping the hub…")
        await hub.stop()
        await broker.stop()
        click.echo("stopped. State is kept in " + str(data_dir / "trilink.db"))


async def _wait_adopted(kernel: Kernel, dids: list[str], timeout: float = 20.0) -> None:
    """Wait (bounded) until the hub has adopted every simulated device over MQTT."""
    deadline = time.monotonic() + timeout
    while not all(did in kernel.registry.devices for did in dids):
        if time.monotonic() > deadline:
            missing = [did for did in dids if did not in kernel.registry.devices]
            click.echo(f"warning: not announced yet after {timeout:g} s: {', '.join(missing)}", err=True)
            return
        await asyncio.sleep(0.05)


def _load_demo_automations(hub: Any) -> list[str]:
    """The built-in blueprints with their defaults, written for the simulated world."""
    from trilink.automation.blueprints import builtin_blueprints, instantiate
    from trilink.sim import OFFICE

    definitions = [instantiate(bp, bp.id, {}) for bp in builtin_blueprints().values()]
    # the office the simulated car drives to, so "will the car reach the office?" has an answer
    office = {
        "id": "office",
        "name": "Office",
        "latitude": OFFICE[0],
        "longitude": OFFICE[1],
        "radius": "200 m",
    }
    report = hub.automations.load_data({"zones": [office], "automations": definitions}, "built-in blueprints")
    for error in report.errors:
        click.echo(f"automation refused: {error}", err=True)
    return list(report.loaded)


def _banner(
    api_url: str, token: str, mqtt_port: int, speed: float, data_dir: Path, automations: list[str]
) -> None:
    click.echo("")
    click.secho("trilink demo is running", bold=True)
    click.echo(f"  dashboard    {api_url}/   (sign in with the owner token)")
    click.echo(f"  API          {api_url}   (OpenAPI document: {api_url}/api/openapi.json)")
    click.echo(f"  owner token  {token}")
    click.echo(f"  MQTT broker  mqtt://127.0.0.1:{mqtt_port} (embedded, credentials required)")
    click.echo(f"  world clock  {speed:g}× real time · data in {data_dir}")
    if automations:
        click.echo(f"  automations  {', '.join(automations)}")
    click.echo("\nIn another terminal:")
    click.echo(f"  export TRILINK_URL={api_url} TRILINK_TOKEN={token}")
    click.echo("  trilink devices")
    click.echo("  trilink get ac-living")
    click.echo("  trilink set light-living 2.1 true")
    click.echo("  trilink events --follow")
    click.echo("  trilink automation list")
    click.echo('  trilink say "把客厅空调调到24度"')
    click.echo("\nCtrl-C stops everything.\n")


class _LiveSummary:
    """Prints a status line every few seconds and the notable events as they happen."""

    def __init__(self, kernel: Kernel, expected: int) -> None:
        from collections import deque

        from trilink.kernel import PropertyChanged

        self.kernel = kernel
        self.expected = expected
        self.count = 0
        self.lines: deque[str] = deque(maxlen=50)
        self._changed = PropertyChanged
        kernel.bus.subscribe(self._on_event)

    def _on_event(self, event: Any) -> None:
        self.count += 1
        line = self._describe(event)
        if line:
            self.lines.append(line)

    def _describe(self, event: Any) -> str | None:
        k = event.kind
        if k == "availability":
            return f"{event.did} is {'online' if event.online else 'offline'}"
        if k == "device-event":
            spec = self.kernel.registry.devices[event.did].spec.events[(event.siid, event.eiid)]
            args = ", ".join(str(v) for v in event.arguments.values())
            return f"{event.did}: {spec.description}" + (f" ({args})" if args else "")
        if k in ("property-written", "action-invoked"):
            what = (
                f"{event.siid}.{event.piid} = {event.value}"
                if k == "property-written"
                else f"action {event.siid}.{event.aiid}"
            )
            result = "ok" if event.ok else f"failed: {event.error}"
            return f"{event.context.actor} {event.context.actor_id} → {event.did} {what}: {result}"
        if k == "property-changed":
            device = self.kernel.registry.devices.get(event.did)
            prop = device.spec.properties.get((event.siid, event.piid)) if device else None
            # only what a person would notice: switches, modes, states — not telemetry
            if prop is None or not (prop.writable or prop.value_list or prop.format == "bool"):
                return None
            if event.old_value is None:  # the first report after start-up is not news
                return None
            value = event.value
            if prop.value_list:
                value = next((c.description for c in prop.value_list if c.value == value), value)
            return f"{event.did} {prop.description.lower()} → {value}"
        return None

    def _status(self, rate: float) -> str:
        state = self.kernel.state
        online = sum(1 for did in self.kernel.registry.devices if state.is_online(did))
        sim_time = time.strftime("%a %H:%M", time.localtime(self.kernel.clock.now()))
        parts = [
            f"{online}/{len(self.kernel.registry.devices)} devices online",
            f"{rate:.0f} events/s",
            f"world time {sim_time}",
        ]
        room = state.get("sensor-living", 2, 1)
        if room is not None:
            parts.append(f"living room {room[0]:.1f} °C")
        soc, charging = state.get("car", 2, 1), state.get("car", 3, 1)
        if soc is not None:
            labels = {0: "unplugged", 1: "plugged in", 2: "charging", 3: "charged", 4: "stopped"}
            parts.append(f"car {soc[0]:.0f} %" + (f" {labels.get(charging[0], '')}" if charging else ""))
        return " · ".join(parts)

    async def run(self, stop: asyncio.Event, duration: float | None) -> None:
        """Print until ``stop`` is set (or ``duration`` real seconds pass)."""
        started = last = time.monotonic()
        last_count = 0
        while not stop.is_set():
            if duration is not None and time.monotonic() - started >= duration:
                return
            await _wait(stop, 2.0)
            now = time.monotonic()
            rate = (self.count - last_count) / max(now - last, 1e-6)
            last, last_count = now, self.count
            while self.lines:
                click.echo("  " + self.lines.popleft())
            click.secho(self._status(rate), dim=True)
            sys.stdout.flush()


# ------------------------------------------------------------------------- token
@click.group()
def token() -> None:
    """Manage API tokens in a hub's store (works while the hub is stopped or running)."""


def _open_store(config_path: Path | None, store_path: Path | None) -> Any:
    from trilink.config import ConfigError, load_config
    from trilink.store import SQLiteStore

    if store_path is None:
        if config_path is None:
            raise click.UsageError("give --config FILE or --store PATH")
        try:
            store_path = load_config(config_path).store.path
        except ConfigError as exc:
            raise click.ClickException(str(exc)) from None
    if not store_path.exists():
        raise click.ClickException(f"no hub database at {store_path} (start the hub once first)")
    store = SQLiteStore(store_path)
    store.open()
    return store


_STORE_OPTIONS = [
    click.option("--config", "config_path", type=click.Path(path_type=Path), help="The hub's config file."),
    click.option("--store", "store_path", type=click.Path(path_type=Path), help="Or the database path."),
]


def _store_options(f: Any) -> Any:
    for option in reversed(_STORE_OPTIONS):
        f = option(f)
    return f


@token.command("create")
@click.argument("name")
@click.option("--role", type=click.Choice(["owner", "member", "guest"]), default="member", show_default=True)
@_store_options
def token_create(name: str, role: str, config_path: Path | None, store_path: Path | None) -> None:
    """Create a token called NAME and print it (shown once)."""
    from trilink.store import issue_token

    store = _open_store(config_path, store_path)
    try:
        click.echo(issue_token(store, name, role, time.time()))
    finally:
        store.close()


@token.command("list")
@_store_options
def token_list(config_path: Path | None, store_path: Path | None) -> None:
    """List tokens (never their values: only hashes are stored)."""
    from trilink.store import list_tokens

    store = _open_store(config_path, store_path)
    try:
        for record in list_tokens(store):
            created = time.strftime("%Y-%m-%d %H:%M", time.localtime(record.created))
            click.echo(f"{record.id:>4}  {record.name:<20} {record.role:<7} created {created}")
    finally:
        store.close()


@token.command("revoke")
@click.argument("token_id")
@_store_options
def token_revoke(token_id: str, config_path: Path | None, store_path: Path | None) -> None:
    """Revoke the token with this id (see `trilink token list`)."""
    from trilink.store import revoke_token

    store = _open_store(config_path, store_path)
    try:
        if not revoke_token(store, int(token_id) if token_id.isdigit() else token_id):
            raise click.ClickException(f"no active token with id {token_id}")
        click.echo(f"revoked token {token_id}")
    finally:
        store.close()
