"""The Home Assistant MQTT bridge: one broker session for discovery in and discovery out.

:class:`HassTransport` keeps the session (reconnecting with backoff, as the MQTT
transport does), hands each message to the publisher (out) and the ingest (in), and
subscribes to the state topics the ingest asks for as entities appear. Its
:class:`~trilink.transports.hass.link.HassLink` is the kernel's link named
``settings.transport_name`` for the devices the ingest adopted.
See ``docs/hass.md``.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from typing import Any, Final

import paho.mqtt.client as mqtt

from trilink.kernel import Kernel
from trilink.transports.backoff import backoff_delay
from trilink.transports.hass.entity import Publish
from trilink.transports.hass.ingest import HassIngest
from trilink.transports.hass.link import HassLink
from trilink.transports.hass.publisher import HassPublisher
from trilink.transports.hass.settings import HassSettings
from trilink.transports.hass.stats import HassStats
from trilink.transports.mqtt.connection import ConnectionFailed, MqttConnection
from trilink.transports.mqtt.settings import MqttSettings

log = logging.getLogger(__name__)

#: seconds to wait for the TCP connect, the CONNACK and each SUBACK
CONNECT_TIMEOUT: Final = 10.0
#: topic filters per SUBSCRIBE packet
SUBSCRIBE_BATCH: Final = 256


def _report_crash(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("Home Assistant bridge stopped by an unexpected error", exc_info=task.exception())


class HassTransport:
    """Home Assistant MQTT discovery, in (``enabled_in``) and out (``enabled_out``)."""

    def __init__(self, kernel: Kernel, mqtt_settings: MqttSettings, settings: HassSettings) -> None:
        self.kernel = kernel
        self.mqtt_settings = mqtt_settings
        self.settings = settings
        self.name = settings.transport_name
        self.client_id = settings.client_id or f"trilink-hass-{secrets.token_hex(4)}"
        self.counters = HassStats()
        self.ingest: HassIngest | None = None
        self.link: HassLink | None = None
        self.publisher: HassPublisher | None = None
        if settings.enabled_in:
            self.ingest = HassIngest(kernel, settings, self.counters, wake=self._wake_up)
            self.link = HassLink(
                self.name, kernel, self.counters, entity_at=self.ingest.entity_at, publish=self._publish
            )
        if settings.enabled_out:
            self.publisher = HassPublisher(kernel, settings, self.counters, publish=self._publish)
        self._conn: MqttConnection | None = None
        self._task: asyncio.Task[None] | None = None
        self._connected = asyncio.Event()
        self._wake = asyncio.Event()

    # ------------------------------------------------------------- lifecycle
    @property
    def connected(self) -> bool:
        """Whether the session with the broker is up."""
        return self._conn is not None and self._conn.is_open

    @property
    def stats(self) -> dict[str, Any]:
        """Counters, and how many entities, devices and announcements there are now."""
        self.counters.connected = self.connected
        out = self.counters.as_dict()
        out["entities"] = self.ingest.entity_count if self.ingest is not None else 0
        out["devices"] = self.ingest.device_count if self.ingest is not None else 0
        out["announced"] = len(self.publisher.announced) if self.publisher is not None else 0
        return out

    async def start(self) -> None:
        """Attach to the kernel and connect in the background; does nothing if both directions are off."""
        if self._task is not None or not self.settings.enabled:
            return
        if self.link is not None:
            self.kernel.attach(self.link)
        if self.publisher is not None:
            self.publisher.start()
        self._task = asyncio.create_task(self._run(), name=f"hass-bridge-{self.name}")
        self._task.add_done_callback(_report_crash)

    async def wait_connected(self, timeout: float) -> None:
        """Wait until the session is up; raises :class:`TimeoutError` naming the last error."""
        if self._task is None:
            raise RuntimeError("the Home Assistant bridge is not started")
        try:
            async with asyncio.timeout(timeout):
                await self._connected.wait()
        except TimeoutError:
            raise TimeoutError(
                f"not connected to {self.mqtt_settings.describe()} after {timeout:g} s "
                f"(last error: {self.counters.last_error or 'none'})"
            ) from None

    async def stop(self) -> None:
        """Say ``offline`` (out), disconnect, mark adopted devices offline and end every task."""
        task, self._task = self._task, None
        if task is None:
            return
        task.cancel()
        await asyncio.wait([task])
        if self.publisher is not None:
            await self.publisher.stop()
        conn, self._conn = self._conn, None
        self._connected.clear()
        if conn is not None:
            if self.publisher is not None:
                topic, payload, qos, retain = self.publisher.will
                await conn.publish_confirmed(topic, payload, qos, retain)
            await conn.close()
        if self.ingest is not None:
            self.ingest.close()
            self.ingest.on_disconnected()
            self.kernel.detach(self.name)

    # ------------------------------------------------------------ connection
    def _publish(self, publication: Publish) -> bool:
        conn = self._conn
        if conn is None:
            return False
        topic, payload, qos, retain = publication
        return conn.publish(topic, payload, qos, retain)

    def _wake_up(self) -> None:
        self._wake.set()

    def _filters(self) -> list[str]:
        filters: list[str] = []
        if self.publisher is not None:
            filters += self.publisher.filters
        if self.ingest is not None:
            filters += self.ingest.filters
        return list(dict.fromkeys(filters))

    async def _subscribe(self, conn: MqttConnection, topics: list[str]) -> None:
        for i in range(0, len(topics), SUBSCRIBE_BATCH):
            await conn.subscribe(topics[i : i + SUBSCRIBE_BATCH], self.settings.qos, CONNECT_TIMEOUT)

    async def _run(self) -> None:
        """Connect, serve until the session ends, and reconnect; runs until cancelled."""
        attempt = 0
        outage_since: float | None = None
        where = self.mqtt_settings.describe()
        will = self.publisher.will if self.publisher is not None else None
        while True:
            conn = MqttConnection(
                self.mqtt_settings, client_id=self.client_id, on_message=self._on_message, will=will
            )
            try:
                await conn.open(CONNECT_TIMEOUT)
                self._conn = conn
                if self.ingest is not None:
                    self.ingest.on_connected()
                new_topics = self.ingest.take_new_topics() if self.ingest is not None else []
                await self._subscribe(conn, self._filters() + new_topics)
            except ConnectionFailed as exc:
                conn.abort()
                self._conn = None
                self.counters.connect_failures += 1
                self.counters.last_error = str(exc)
                if self.ingest is not None:
                    self.ingest.on_disconnected()
                if outage_since is None:
                    outage_since = time.monotonic()
                    log.warning("Home Assistant bridge: %s; retrying with backoff", exc)
                await asyncio.sleep(self._backoff(attempt))
                attempt += 1
                continue
            except BaseException:
                conn.abort()
                self._conn = None
                raise
            attempt = 0
            outage_since = None
            self.counters.connects += 1
            log.info("Home Assistant bridge: connected to %s as %s", where, self.client_id)
            if self.publisher is not None:
                self.publisher.on_connected()
            self._connected.set()
            reason = await self._serve(conn)
            self._conn = None
            self._connected.clear()
            self.counters.disconnects += 1
            self.counters.last_error = reason
            outage_since = time.monotonic()
            log.warning("Home Assistant bridge: lost the connection to %s (%s)", where, reason)
            if self.ingest is not None:
                self.ingest.on_disconnected()
            if self.publisher is not None:
                self.publisher.on_disconnected()
            await asyncio.sleep(self._backoff(0))

    async def _serve(self, conn: MqttConnection) -> str:
        """Subscribe to new state topics when woken, until the session ends; returns why it ended."""
        closed = asyncio.ensure_future(conn.wait_closed())
        try:
            while True:
                woken = asyncio.ensure_future(self._wake.wait())
                try:
                    await asyncio.wait({closed, woken}, return_when=asyncio.FIRST_COMPLETED)
                finally:
                    woken.cancel()
                if closed.done():
                    return closed.result()
                self._wake.clear()
                topics = self.ingest.take_new_topics() if self.ingest is not None else []
                if topics:
                    try:
                        await self._subscribe(conn, topics)
                    except ConnectionFailed as exc:
                        conn.abort(str(exc))
        finally:
            closed.cancel()

    def _backoff(self, attempt: int) -> float:
        return backoff_delay(attempt, self.mqtt_settings.reconnect_min, self.mqtt_settings.reconnect_max)

    def _on_message(self, message: mqtt.MQTTMessage) -> None:
        self.counters.messages_in += 1
        try:
            topic = message.topic
        except UnicodeDecodeError:
            self.counters.count_malformed("bad-topic")
            return
        payload = message.payload if type(message.payload) is bytes else bytes(message.payload)
        try:
            if self.publisher is not None and self.publisher.handle(topic, payload):
                return
            if self.ingest is not None:
                self.ingest.handle(topic, payload)
        except Exception as exc:
            # a bug must not stop the bridge; count it so it is seen
            self.counters.count_malformed("internal-error")
            self.counters.last_error = f"{topic}: {exc!r}"
            log.exception("Home Assistant bridge %s: failed to handle a message", topic)
