"""Discovery out: trilink's devices announced to a Home Assistant on the same broker.

:class:`HassPublisher` publishes a retained device-based discovery config per device
(see :mod:`~trilink.transports.hass.announce`) when the bridge connects, when Home
Assistant says ``online`` on ``<prefix>/status`` (its birth message) and when the
registry changes; a removed device gets an empty config. States follow the kernel's
``PropertyChanged`` events (one retained JSON document per device, coalesced per loop
turn), availability its ``AvailabilityChanged`` events, and ``<base>/status`` says
whether the hub is there (its will says ``offline``).

Commands from Home Assistant go through ``kernel.set_property``/``call_action`` with a
``system``/``transport:hass`` context, so the kernel validates them like any other;
bad ones are counted, never fatal. Devices adopted from Home Assistant discovery are
never announced back.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Final

import orjson

from trilink.kernel import (
    AvailabilityChanged,
    CommandError,
    Context,
    Device,
    Kernel,
    PropertyChanged,
    RegistryChanged,
    UnknownEntity,
)
from trilink.model import InvalidValue
from trilink.transports.hass.announce import Announcement, Cmd, announce, object_id
from trilink.transports.hass.discovery import parse_config_topic
from trilink.transports.hass.entity import Publish
from trilink.transports.hass.settings import HassSettings
from trilink.transports.hass.stats import HassStats
from trilink.transports.logs import RateLimitedLog

log = logging.getLogger(__name__)

#: command payloads longer than this are not commands
MAX_COMMAND: Final = 4096


class HassPublisher:
    """Announces the kernel's devices to Home Assistant and carries its commands back."""

    def __init__(
        self,
        kernel: Kernel,
        settings: HassSettings,
        stats: HassStats,
        *,
        publish: Callable[[Publish], bool],
    ) -> None:
        self.kernel = kernel
        self.settings = settings
        self.stats = stats
        self._publish = publish
        self._actor = f"transport:{settings.transport_name}"
        self._limited = RateLimitedLog(log)
        self.status_topic = f"{settings.base_topic}/status"
        self.ha_status_topic = f"{settings.discovery_prefix}/status"
        self._own = f"{settings.node_id}-"
        self._announced: dict[str, Announcement] = {}
        self._configs: dict[str, bytes] = {}
        self._dirty: set[str] = set()
        self._flush: asyncio.Handle | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._unsubscribe: list[Callable[[], None]] = []
        self.connected = False

    @property
    def will(self) -> tuple[str, bytes, int, bool]:
        """The session's last will: ``offline`` on the bridge status, retained."""
        return (self.status_topic, b"offline", self.settings.qos, True)

    @property
    def filters(self) -> list[str]:
        """Home Assistant's status, the command topics, and our own configs (to clear stale ones)."""
        return [
            self.ha_status_topic,
            f"{self.settings.base_topic}/+/+/set",
            f"{self.settings.discovery_prefix}/device/+/config",
        ]

    @property
    def announced(self) -> dict[str, Announcement]:
        """The devices announced now, by did."""
        return dict(self._announced)

    # -------------------------------------------------------------- lifecycle
    def start(self) -> None:
        """Follow the kernel's registry, property and availability events."""
        if self._unsubscribe:
            return
        bus = self.kernel.bus
        self._unsubscribe = [
            bus.subscribe(self._on_registry, RegistryChanged),
            bus.subscribe(self._on_property, PropertyChanged),
            bus.subscribe(self._on_availability, AvailabilityChanged),
        ]

    async def stop(self) -> None:
        """Stop following the kernel and end running commands."""
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe = []
        if self._flush is not None:
            self._flush.cancel()
            self._flush = None
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks)

    def on_connected(self) -> None:
        """A new session: say ``online`` and announce everything."""
        self.connected = True
        self._publish((self.status_topic, b"online", self.settings.qos, True))
        self.publish_all(force=True)

    def on_disconnected(self) -> None:
        """The session ended."""
        self.connected = False

    # ------------------------------------------------------------- announcing
    def _eligible(self, device: Device) -> bool:
        return device.transport != self.settings.transport_name and self.settings.announces(device.did)

    def publish_all(self, *, force: bool = False) -> None:
        """Announce every eligible device (again, with its availability and state, if ``force``)."""
        for device in list(self.kernel.registry.devices.values()):
            if self._eligible(device):
                try:
                    self._announce(device, force=force)
                except Exception:
                    # one device that cannot be announced must not keep the others out
                    self.stats.count_malformed("announce-failed")
                    log.exception("Home Assistant: cannot announce %s", device.did)

    def _announce(self, device: Device, *, force: bool = False) -> None:
        room = self.kernel.registry.rooms.get(device.room_id) if device.room_id else None
        did = device.did
        readings = self.kernel.state.of(did)
        ann = announce(device, self.settings, room=room.name if room else None, readings=readings)
        payload = orjson.dumps(ann.config)
        new = did not in self._announced
        self._announced[did] = ann
        if not force and self._configs.get(did) == payload:
            return
        qos = self.settings.qos
        if self._publish((ann.config_topic, payload, qos, True)):
            self._configs[did] = payload
            self.stats.configs_published += 1
        if force or new:
            online = b"online" if self.kernel.state.is_online(did) else b"offline"
            self._publish((ann.availability_topic, online, qos, True))
            self._publish_state(ann)

    def _withdraw(self, did: str) -> None:
        ann = self._announced.pop(did, None)
        self._configs.pop(did, None)
        if ann is None:
            return
        qos = self.settings.qos
        for topic in (ann.config_topic, ann.state_topic, ann.availability_topic):
            self._publish((topic, b"", qos, True))

    def _publish_state(self, ann: Announcement) -> None:
        document = ann.state(self.kernel.state.of(ann.did))
        if self._publish((ann.state_topic, orjson.dumps(document), self.settings.qos, True)):
            self.stats.states_published += 1

    # ------------------------------------------------------------ kernel events
    def _on_registry(self, event: RegistryChanged) -> None:
        if event.entity == "room":
            for device in self.kernel.registry.devices_in(event.id):
                if device.did in self._announced:
                    self._announce(device)
            return
        if event.entity != "device":
            return
        found = None if event.removed else self.kernel.registry.devices.get(event.id)
        if found is not None and self._eligible(found):
            self._announce(found)
        elif event.id in self._announced:
            self._withdraw(event.id)

    def _on_property(self, event: PropertyChanged) -> None:
        if event.did not in self._announced:
            return
        self._dirty.add(event.did)
        if self._flush is None:
            try:
                self._flush = asyncio.get_running_loop().call_soon(self._flush_states)
            except RuntimeError:  # no loop (a synchronous caller): publish now
                self._flush_states()

    def _flush_states(self) -> None:
        self._flush = None
        dirty, self._dirty = self._dirty, set()
        for did in dirty:
            ann = self._announced.get(did)
            if ann is not None:
                self._publish_state(ann)

    def _on_availability(self, event: AvailabilityChanged) -> None:
        ann = self._announced.get(event.did)
        if ann is not None:
            online = b"online" if event.online else b"offline"
            self._publish((ann.availability_topic, online, self.settings.qos, True))

    # --------------------------------------------------------------- messages
    def handle(self, topic: str, payload: bytes) -> bool:
        """Handle one message; returns whether it was for the publisher."""
        if topic == self.ha_status_topic:
            if payload.strip() == b"online":
                self.stats.births += 1
                self.publish_all(force=True)
            return True
        base = self.settings.base_topic + "/"
        if topic.startswith(base) and topic.endswith("/set"):
            self._on_command(topic, topic[len(base) :].split("/"), payload)
            return True
        try:
            where = parse_config_topic(topic, self.settings.discovery_prefix)
        except ValueError:
            return False
        if where is None or not where.device_based or not where.object_id.startswith(self._own):
            return False
        current = {object_id(self.settings.node_id, did) for did in self._announced}
        if payload and where.object_id not in current:
            # announced by an earlier run for a device that is gone (or no longer announced)
            self._publish((topic, b"", self.settings.qos, True))
        return True

    def _command_failed(self, code: str, topic: str, detail: str) -> None:
        self.stats.count_command_error(code)
        self._limited.warning(code, "Home Assistant command %s not carried out (%s): %s", topic, code, detail)

    def _on_command(self, topic: str, parts: list[str], payload: bytes) -> None:
        self.stats.commands_received += 1
        if len(parts) != 3:
            self._command_failed("bad-topic", topic, "expected <base>/<did>/<key>/set")
            return
        did, key, _ = parts
        ann = self._announced.get(did)
        decoder = ann.commands.get(key) if ann is not None else None
        if decoder is None:
            self._command_failed("unknown-entity", topic, f"no announced entity {key!r} of {did!r}")
            return
        try:
            if len(payload) > MAX_COMMAND:
                raise ValueError(f"{len(payload)} bytes (at most {MAX_COMMAND})")
            commands = decoder(payload.decode("utf-8"))
        except (ValueError, UnicodeDecodeError) as exc:
            self._command_failed("bad-payload", topic, str(exc))
            return
        task = asyncio.create_task(self._run(topic, did, commands), name=f"hass-command-{did}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self, topic: str, did: str, commands: list[Cmd]) -> None:
        context = Context.new("system", self._actor)
        for kind, siid, iid, value in commands:
            try:
                if kind == "set":
                    await self.kernel.set_property(did, siid, iid, value, context)
                else:
                    await self.kernel.call_action(did, siid, iid, [], context)
            except InvalidValue as exc:
                self._command_failed("invalid-value", topic, str(exc))
                return
            except CommandError as exc:
                self._command_failed(exc.code, topic, str(exc))
                return
            except UnknownEntity as exc:
                self._command_failed("unknown-device", topic, str(exc))
                return
