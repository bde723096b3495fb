"""The hub's MQTT transport: trilink v1 device messages in, kernel reports out, commands back.

:class:`MqttTransport` keeps one session with the broker (reconnecting with backoff when
it goes away), turns each device message into one kernel call, and is the kernel's
:class:`~trilink.kernel.DeviceLink` for devices adopted with ``transport=name``.

Every message that breaks the schema is dropped, counted by reason in :attr:`stats` and
logged at WARNING with its topic (rate-limited); nothing a device sends can stop the
transport, and the valid values of a partly bad report are kept. See ``docs/mqtt.md``.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import secrets
import time
from collections.abc import Callable
from typing import Any, Final

import paho.mqtt.client as mqtt

from trilink.kernel import Context, DeviceOffline, Kernel, Outcome, UnknownEntity
from trilink.model import InvalidValue, SpecError, builtin_spec, parse_spec
from trilink.transports.backoff import backoff_delay
from trilink.transports.logs import RateLimitedLog
from trilink.transports.mqtt import schema
from trilink.transports.mqtt.connection import ConnectionFailed, MqttConnection
from trilink.transports.mqtt.settings import MqttSettings
from trilink.transports.mqtt.stats import TransportStats

log = logging.getLogger(__name__)

#: what the hub subscribes to: every device topic, so that topics outside the schema are
#: seen and counted instead of silently never arriving (``subscriptions_for_hub`` would
#: only match well-formed ones)
HUB_FILTERS: Final = (f"{schema.PREFIX}/dev/#",)
#: the payload of a ``sync`` request (devices must accept any payload)
SYNC_PAYLOAD: Final = b"{}"
#: at most one ``sync`` per unknown device in this many seconds
SYNC_INTERVAL: Final = 10.0
#: seconds to wait for the TCP connect, the CONNACK and the SUBACK
CONNECT_TIMEOUT: Final = 10.0
#: availability payloads are a word; anything longer is not one
_MAX_AVAILABILITY = 16
#: bounds on per-topic and per-did memory, so traffic for made-up dids cannot grow it forever
_MAX_TRACKED = 65536

_Handler = Callable[[str, bytes], None]
_Route = tuple[str, _Handler]


def _ignore(did: str, payload: bytes) -> None:
    """Messages meant for devices (the hub's own commands come back through ``dev/#``)."""


def _report_crash(task: asyncio.Task[None]) -> None:
    """The connection task only ends by cancellation; anything else is a bug to show at once."""
    if not task.cancelled() and task.exception() is not None:
        log.error("MQTT transport stopped by an unexpected error", exc_info=task.exception())


class MqttTransport:
    """The hub side of the trilink MQTT schema, attached to ``kernel`` as link ``name``."""

    def __init__(self, kernel: Kernel, settings: MqttSettings, *, name: str = "mqtt") -> None:
        self.name = name
        self.kernel = kernel
        self.settings = settings
        self.client_id = settings.client_id or f"trilink-hub-{secrets.token_hex(4)}"
        self._stats = TransportStats()
        self._limited = RateLimitedLog(log)
        self._context = Context("system", f"transport:{name}", f"transport:{name}")
        self._conn: MqttConnection | None = None
        self._task: asyncio.Task[None] | None = None
        self._connected = asyncio.Event()
        self._pending: dict[str, tuple[str, asyncio.Future[schema.Result]]] = {}
        self._id_prefix = secrets.token_hex(3)
        self._ids = itertools.count(1)
        self._handlers: dict[str, _Handler] = {
            "availability": self._on_availability,
            "announce": self._on_announce,
            "report": self._on_report,
            "event": self._on_event,
            "result": self._on_result,
        }
        self._routes: dict[str, _Route] = {}
        # availability seen before the device's announce, applied once it is adopted
        self._early_online: dict[str, bool] = {}
        # the announce payload last applied per did, so a repeated one costs a comparison
        self._announced: dict[str, bytes] = {}
        self._sync_sent: dict[str, float] = {}

    # ------------------------------------------------------------- lifecycle
    @property
    def connected(self) -> bool:
        """Whether the session with the broker is up."""
        return self._conn is not None and self._conn.is_open

    @property
    def stats(self) -> dict[str, Any]:
        """Counters: connection, messages, commands, and dropped messages by reason."""
        self._stats.connected = self.connected
        out = self._stats.as_dict()
        out["pending_commands"] = len(self._pending)
        return out

    async def start(self) -> None:
        """Attach to the kernel and start connecting in the background (returns at once)."""
        if self._task is not None:
            return
        self.kernel.attach(self)
        self._task = asyncio.create_task(self._run(), name=f"mqtt-transport-{self.name}")
        self._task.add_done_callback(_report_crash)

    async def wait_connected(self, timeout: float) -> None:
        """Wait until the session is up; raises :class:`TimeoutError` naming the last error."""
        if self._task is None:
            raise RuntimeError("the MQTT transport is not started")
        try:
            async with asyncio.timeout(timeout):
                await self._connected.wait()
        except TimeoutError:
            raise TimeoutError(
                f"not connected to {self.settings.describe()} after {timeout:g} s "
                f"(last error: {self._stats.last_error or 'none'})"
            ) from None

    async def stop(self) -> None:
        """Say ``offline`` on the hub status, disconnect and end every task; idempotent."""
        task, self._task = self._task, None
        if task is None:
            return
        task.cancel()
        await asyncio.wait([task])
        conn, self._conn = self._conn, None
        self._connected.clear()
        if conn is not None:
            # wait for the broker's PUBACK before DISCONNECT, so nothing is in flight when we go
            await conn.publish_confirmed(schema.HUB_STATUS, schema.OFFLINE.encode(), 1, True)
            await conn.close()
        self._fail_pending("the MQTT transport stopped before the device answered")
        self._mark_offline()
        self.kernel.detach(self.name)

    async def _run(self) -> None:
        """Connect, serve until the session ends, and reconnect; runs until cancelled."""
        attempt = 0
        outage_since: float | None = None
        where = self.settings.describe()
        will = (schema.HUB_STATUS, schema.OFFLINE.encode(), 1, True)
        while True:
            conn = MqttConnection(
                self.settings, client_id=self.client_id, on_message=self._on_message, will=will
            )
            try:
                await conn.open(CONNECT_TIMEOUT)
                await conn.subscribe(HUB_FILTERS, 1, CONNECT_TIMEOUT)
            except ConnectionFailed as exc:
                conn.abort()
                self._stats.connect_failures += 1
                self._stats.last_error = str(exc)
                if outage_since is None:
                    outage_since = time.monotonic()
                    log.warning(
                        "MQTT: %s; retrying with backoff (at most %g s)", exc, self.settings.reconnect_max
                    )
                else:
                    log.debug("MQTT: attempt %d failed: %s", attempt + 1, exc)
                await asyncio.sleep(self._backoff(attempt))
                attempt += 1
                continue
            except BaseException:
                conn.abort()  # cancelled while connecting: the session was never handed over
                raise
            attempt = 0
            self._conn = conn
            self._stats.connects += 1
            if outage_since is None:
                log.info("MQTT: connected to %s as %s", where, self.client_id)
            else:
                log.warning(
                    "MQTT: connected to %s again after %.1f s", where, time.monotonic() - outage_since
                )
                outage_since = None
            # devices answer the hub's "online" with announce + full report: this is the re-sync
            conn.publish(schema.HUB_STATUS, schema.ONLINE.encode(), 1, True)
            self._connected.set()
            reason = await conn.wait_closed()
            self._conn = None
            self._connected.clear()
            self._stats.disconnects += 1
            self._stats.last_error = reason
            outage_since = time.monotonic()
            log.warning(
                "MQTT: lost the connection to %s (%s); its devices are offline until it is back",
                where,
                reason,
            )
            self._fail_pending("the connection to the MQTT broker was lost before the device answered")
            self._mark_offline()
            await asyncio.sleep(self._backoff(0))

    def _backoff(self, attempt: int) -> float:
        """Exponential backoff with jitter between ``reconnect_min`` and ``reconnect_max``."""
        return backoff_delay(attempt, self.settings.reconnect_min, self.settings.reconnect_max)

    def _mark_offline(self) -> None:
        """While the hub cannot hear its MQTT devices their availability is unknown: offline."""
        online = self.kernel.state.online
        for did, device in list(self.kernel.registry.devices.items()):
            if device.transport == self.name and online.get(did):
                self.kernel.set_online(did, False, self._context)

    def _fail_pending(self, why: str) -> None:
        for did, future in list(self._pending.values()):
            if not future.done():
                future.set_exception(DeviceOffline(did, why))

    # -------------------------------------------------------------- commands
    async def send_set(self, did: str, siid: int, piid: int, value: Any) -> Outcome:
        """Ask the device to set one property; a non-zero per-property code is the outcome's code."""
        result = await self._request(did, "set", lambda rid: schema.encode_set(rid, [(siid, piid, value)]))
        code = result.code
        if code == 0:
            code = next((c for _, _, c in result.codes if c != 0), 0)
        return Outcome(code, result.message, list(result.out))

    async def send_call(self, did: str, siid: int, aiid: int, args: list[Any]) -> Outcome:
        """Ask the device to run an action; the outcome carries its ``out`` values."""
        result = await self._request(did, "call", lambda rid: schema.encode_call(rid, siid, aiid, args))
        return Outcome(result.code, result.message, list(result.out))

    async def _request(self, did: str, kind: str, encode: Callable[[str], bytes]) -> schema.Result:
        conn = self._conn
        if conn is None or not conn.is_open:
            raise DeviceOffline(did, "hub is not connected to the MQTT broker; the command was not sent")
        rid = f"{self._id_prefix}-{next(self._ids):x}"
        future: asyncio.Future[schema.Result] = asyncio.get_running_loop().create_future()
        self._pending[rid] = (did, future)
        try:
            if not conn.publish(schema.topic(did, kind), encode(rid), 1):
                raise DeviceOffline(did, "hub is not connected to the MQTT broker; the command was not sent")
            self._stats.commands_sent += 1
            return await future
        finally:
            # also on cancellation (the kernel's timeout): a late answer is then "unmatched"
            self._pending.pop(rid, None)

    # --------------------------------------------------------------- ingest
    def _on_message(self, message: mqtt.MQTTMessage) -> None:
        """Entry point for every message, called inside the socket's reader callback."""
        self._stats.messages_in += 1
        try:
            topic = message.topic
        except UnicodeDecodeError:
            self._drop("bad-topic", repr(message._topic), "the topic is not UTF-8")
            return
        route = self._routes.get(topic) or self._route(topic)
        if route is None:
            return
        payload = message.payload
        if type(payload) is not bytes:
            payload = bytes(payload)  # paho gives bytes; its type says bytearray is possible
        try:
            route[1](route[0], payload)
        except schema.PayloadError as exc:
            self._drop(exc.reason, topic, str(exc))
        except Exception as exc:
            # a bug must not stop ingest; count it so it is seen
            self._stats.count_malformed("internal-error")
            self._stats.last_error = f"{topic}: {exc!r}"
            log.exception("MQTT %s: failed to handle a message", topic)

    def _route(self, topic: str) -> _Route | None:
        """Which handler a topic goes to (cached); ``None`` after counting a bad topic."""
        try:
            did, kind = schema.split_topic(topic)
        except schema.PayloadError as exc:
            self._drop(exc.reason, topic, str(exc))
            return None
        handler = self._handlers.get(kind)
        if handler is None:
            if kind not in schema.HUB_TO_DEVICE:
                expected = ", ".join(schema.DEVICE_TO_HUB)
                self._drop(
                    "unknown-kind", topic, f"unknown message kind {kind!r} (expected one of {expected})"
                )
                return None
            handler = _ignore
        if len(self._routes) >= _MAX_TRACKED:
            self._routes.clear()
        route = self._routes[topic] = (did, handler)
        return route

    def _drop(self, reason: str, topic: str, detail: str) -> None:
        self._stats.count_malformed(reason)
        self._limited.warning(reason, "MQTT %s: dropped a message (%s): %s", topic, reason, detail)

    def _on_availability(self, did: str, payload: bytes) -> None:
        if not payload:
            return  # a retained availability being cleared
        if len(payload) > _MAX_AVAILABILITY or payload.strip() not in (b"online", b"offline"):
            raise schema.PayloadError(f"availability must be 'online' or 'offline', got {payload[:32]!r}")
        online = payload.strip() == b"online"
        device = self.kernel.registry.devices.get(did)
        if device is not None and device.transport == self.name:
            self._early_online.pop(did, None)
            self.kernel.set_online(did, online)
            return
        if did not in self._early_online and len(self._early_online) >= _MAX_TRACKED:
            self._early_online.pop(next(iter(self._early_online)))
        self._early_online[did] = online

    def _on_announce(self, did: str, payload: bytes) -> None:
        if not payload:
            self._announced.pop(did, None)  # the device cleared its retained announce
            return
        known = self.kernel.registry.devices.get(did)
        if known is None or known.transport != self.name or self._announced.get(did) != payload:
            announce = schema.parse_announce(payload)
            if announce.did != did:
                self._drop("did-mismatch", schema.topic(did, "announce"), f"announces did {announce.did!r}")
                return
            try:
                spec = (
                    parse_spec(announce.spec) if announce.spec is not None else builtin_spec(announce.model)
                )
            except SpecError as exc:
                self._drop("bad-spec", schema.topic(did, "announce"), str(exc))
                return
            self.kernel.adopt(
                did,
                model=announce.model,
                name=announce.name,
                spec=spec,
                transport=self.name,
                room=announce.room,
                owner=announce.owner,
                kind=announce.kind,
            )
            self._announced[did] = payload
        online = self._early_online.pop(did, None)
        if online is not None:
            self.kernel.set_online(did, online)

    def _on_report(self, did: str, payload: bytes) -> None:
        report = schema.parse_report(payload)
        try:
            _, errors = self.kernel.report_many(did, report.items, report.ts)
        except UnknownEntity:
            self._unknown_device(did, "report")
            return
        self._stats.reports += 1
        if errors:
            self._stats.values_rejected += len(errors)
            self._limited.warning(
                "invalid-value",
                "MQTT %s: rejected %d of %d reported values, kept the others: %s",
                schema.topic(did, "report"),
                len(errors),
                len(report.items),
                "; ".join(str(e) for e in errors),
            )

    def _on_event(self, did: str, payload: bytes) -> None:
        message = schema.parse_event(payload)
        try:
            self.kernel.fire_event(did, message.siid, message.eiid, message.arguments, message.ts)
        except UnknownEntity:
            self._unknown_device(did, "event")
            return
        except InvalidValue as exc:
            self._drop("invalid-event", schema.topic(did, "event"), str(exc))
            return
        self._stats.events += 1

    def _on_result(self, did: str, payload: bytes) -> None:
        result = schema.parse_result(payload)
        pending = self._pending.get(result.id)
        if pending is None or pending[0] != did:
            self._stats.results_unmatched += 1
            self._limited.warning(
                "unmatched-result",
                "MQTT %s: no pending command with id %r (answered after its timeout?)",
                schema.topic(did, "result"),
                result.id,
            )
            return
        self._stats.results += 1
        if not pending[1].done():
            pending[1].set_result(result)

    def _unknown_device(self, did: str, kind: str) -> None:
        """A device the hub has not adopted: count it and ask it (rarely) to announce itself."""
        self._stats.unknown_devices += 1
        now = time.monotonic()
        last = self._sync_sent.get(did)
        if last is not None and now - last < SYNC_INTERVAL:
            return
        if len(self._sync_sent) >= _MAX_TRACKED:
            self._sync_sent.clear()
        self._sync_sent[did] = now
        self._limited.warning(
            "unknown-device",
            "MQTT %s: %s from a device that has not announced itself; sent it a sync",
            schema.topic(did, kind),
            kind,
        )
        conn = self._conn
        if conn is not None:
            conn.publish(schema.topic(did, "sync"), SYNC_PAYLOAD, 1)
