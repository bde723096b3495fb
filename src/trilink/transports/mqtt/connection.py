"""One MQTT session with a broker: a paho-mqtt client driven by the asyncio loop.

paho does the protocol; the loop does the waiting. The socket is watched with
``loop.add_reader`` and paho's ``loop_read``/``loop_write``/``loop_misc`` run as loop
callbacks, so incoming messages reach the handler inside the reader callback, with no
thread, no queue and no task per message. (aiomqtt wraps the same paho client but hands
each message through a queue and a task; on the hub's ingest path that halved the rate,
see ``docs/mqtt.md``.)

Only the blocking TCP connect runs in the loop's default executor, as aiomqtt does too.
A connection is used once: after it closes, make a new one.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
from collections.abc import Callable, Sequence
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from trilink.transports.mqtt.settings import MqttSettings

log = logging.getLogger(__name__)

#: packets read per reader callback at most, so one busy socket cannot starve the loop
READ_BATCH = 64
#: how often paho's keepalive bookkeeping runs, in seconds
MISC_INTERVAL = 1.0

MessageHandler = Callable[[mqtt.MQTTMessage], None]


class ConnectionFailed(Exception):
    """Connecting or subscribing failed; the message says where and why."""


class MqttConnection:
    """A single MQTT 3.1.1 session (clean session) with one broker.

    ``on_message`` runs inside the loop's reader callback for every PUBLISH received; it
    must not block, and anything it raises is logged and dropped (an exception escaping
    into paho would leave its packet reader half-way through a packet).
    """

    def __init__(
        self,
        settings: MqttSettings,
        *,
        client_id: str,
        on_message: MessageHandler,
        will: tuple[str, bytes, int, bool] | None = None,
    ) -> None:
        self.settings = settings
        self._loop = asyncio.get_running_loop()
        self._loop_thread = threading.get_ident()
        self._on_message = on_message
        #: PUBLISH packets received; the reader uses it to see whether a read got a message
        self.received = 0
        self._fd = -1
        self._writer_added = False
        self._flush_scheduled = False
        self._misc: asyncio.TimerHandle | None = None
        self._connack: asyncio.Future[ReasonCode | None] = self._loop.create_future()
        self._closed: asyncio.Future[str] = self._loop.create_future()
        self._subacks: dict[int, asyncio.Future[list[ReasonCode]]] = {}
        self._pubacks: dict[int, asyncio.Future[None]] = {}

        client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=client_id,
            clean_session=True,
            protocol=mqtt.MQTTv311,
            reconnect_on_failure=False,
        )
        if settings.username is not None:
            client.username_pw_set(settings.username, settings.password)
        if will is not None:
            client.will_set(*will)
        client.on_connect = self._handle_connect
        client.on_disconnect = self._handle_disconnect
        client.on_subscribe = self._handle_subscribe
        client.on_publish = self._handle_publish
        client.on_message = self._handle_message
        client.on_socket_open = self._handle_socket_open
        client.on_socket_close = self._handle_socket_close
        client.on_socket_register_write = self._handle_register_write
        client.on_socket_unregister_write = self._handle_unregister_write
        self._client = client

    # ------------------------------------------------------------------ public
    @property
    def is_open(self) -> bool:
        """Whether the session is established and not closed."""
        return self._connack.done() and not self._closed.done()

    async def open(self, timeout: float) -> None:
        """Connect and wait for the broker's CONNACK; raises :class:`ConnectionFailed`."""
        where = self.settings.describe()
        self._client.connect_timeout = timeout
        try:
            async with asyncio.timeout(timeout):
                connect = self._loop.run_in_executor(
                    None,
                    self._client.connect,
                    self.settings.host,
                    self.settings.port,
                    self.settings.keepalive,
                )
                try:
                    await asyncio.shield(connect)
                except asyncio.CancelledError:
                    # the blocking connect runs on in its thread; close whatever it opens
                    connect.add_done_callback(lambda _: self.abort("cancelled while connecting"))
                    raise
                self._schedule_misc()
                code = await self._connack
        except TimeoutError:
            self.abort("connect timed out")
            raise ConnectionFailed(f"no answer from {where} within {timeout:g} s") from None
        except (OSError, ValueError) as exc:
            self.abort("connect failed")
            raise ConnectionFailed(f"cannot connect to {where}: {exc}") from None
        if code is None:
            raise ConnectionFailed(f"{where} closed the connection before accepting it")
        if code.is_failure:
            self.abort("refused")
            raise ConnectionFailed(f"{where} refused the connection: {code}")

    async def subscribe(self, filters: Sequence[str], qos: int, timeout: float) -> None:
        """Subscribe to ``filters`` and wait for the broker to grant them all."""
        rc, mid = self._client.subscribe([(f, qos) for f in filters])
        if rc != MQTTErrorCode.MQTT_ERR_SUCCESS or mid is None:
            raise ConnectionFailed(f"cannot subscribe: {mqtt.error_string(rc)}")
        granted: asyncio.Future[list[ReasonCode]] = self._loop.create_future()
        self._subacks[mid] = granted
        try:
            async with asyncio.timeout(timeout):
                either: set[asyncio.Future[Any]] = {granted, self._closed}
                done, _ = await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
        except TimeoutError:
            raise ConnectionFailed(
                f"no SUBACK from {self.settings.describe()} within {timeout:g} s"
            ) from None
        finally:
            self._subacks.pop(mid, None)
        if granted not in done:
            raise ConnectionFailed(f"connection closed while subscribing: {self._closed.result()}")
        refused = [f for f, code in zip(filters, granted.result(), strict=False) if code.is_failure]
        if refused:
            raise ConnectionFailed(f"{self.settings.describe()} refused the subscriptions {refused}")

    def publish(self, topic: str, payload: bytes, qos: int = 1, retain: bool = False) -> bool:
        """Queue a message for sending; returns False if the session is not open."""
        if not self.is_open:
            return False
        return self._client.publish(topic, payload, qos, retain).rc == MQTTErrorCode.MQTT_ERR_SUCCESS

    async def publish_confirmed(
        self, topic: str, payload: bytes, qos: int = 1, retain: bool = False, timeout: float = 2.0
    ) -> bool:
        """Publish and wait until the broker has it (PUBACK for QoS 1); False if it did not say so."""
        if not self.is_open:
            return False
        info = self._client.publish(topic, payload, qos, retain)
        if info.rc != MQTTErrorCode.MQTT_ERR_SUCCESS:
            return False
        if qos == 0:
            return True
        acked: asyncio.Future[None] = self._loop.create_future()
        self._pubacks[info.mid] = acked
        try:
            async with asyncio.timeout(timeout):
                either: set[asyncio.Future[Any]] = {acked, self._closed}
                await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
        except TimeoutError:
            return False
        finally:
            self._pubacks.pop(info.mid, None)
        return acked.done()

    async def wait_closed(self) -> str:
        """Wait until the session ends; returns why it ended."""
        return await asyncio.shield(self._closed)

    async def close(self, timeout: float = 2.0) -> None:
        """Disconnect cleanly (no last will), or drop the socket if the broker does not take it."""
        if self._closed.done():
            return
        if self._client.disconnect() == MQTTErrorCode.MQTT_ERR_SUCCESS:
            try:
                async with asyncio.timeout(timeout):
                    await asyncio.shield(self._closed)
            except TimeoutError:
                log.debug("DISCONNECT to %s not written within %g s", self.settings.describe(), timeout)
        self.abort("closed by the hub")

    # --------------------------------------------------------------- internals
    def _in_loop(self, fn: Callable[..., Any], *args: Any) -> None:
        # paho calls back from the executor thread while connecting, from the loop after
        if threading.get_ident() == self._loop_thread:
            fn(*args)
        else:
            self._loop.call_soon_threadsafe(fn, *args)

    def abort(self, reason: str = "aborted") -> None:
        """Drop the connection without a DISCONNECT (the broker then sends the will); idempotent."""
        self._unwatch()
        sock = self._client.socket()
        if sock is not None:
            sock.close()  # paho keeps a closed socket; this client object is not used again
        self._finish(reason)

    def _finish(self, reason: str) -> None:
        if not self._connack.done():
            self._connack.set_result(None)
        if not self._closed.done():
            self._closed.set_result(reason)

    def _unwatch(self) -> None:
        if self._misc is not None:
            self._misc.cancel()
            self._misc = None
        if self._fd >= 0:
            self._loop.remove_reader(self._fd)
            if self._writer_added:
                self._loop.remove_writer(self._fd)
            self._writer_added = False
            self._fd = -1

    def _schedule_misc(self) -> None:
        self._misc = self._loop.call_later(MISC_INTERVAL, self._run_misc)

    def _run_misc(self) -> None:
        # keepalive: sends PINGREQ when idle, declares the broker lost when PINGRESP is late
        if self._client.loop_misc() == MQTTErrorCode.MQTT_ERR_SUCCESS and not self._closed.done():
            self._schedule_misc()
        else:
            self._misc = None

    def _readable(self) -> None:
        client = self._client
        # paho reads one packet per call; keep reading while packets turn out to be messages,
        # which saves a trip through the selector per message under load
        for _ in range(READ_BATCH):
            before = self.received
            if client.loop_read() != MQTTErrorCode.MQTT_ERR_SUCCESS or self.received == before:
                break

    def _flush(self) -> None:
        self._flush_scheduled = False
        if self._fd < 0:
            return
        self._client.loop_write()
        if self._fd >= 0 and self._client.want_write() and not self._writer_added:
            # the socket buffer is full: let the selector say when it drains
            self._loop.add_writer(self._fd, self._writable)
            self._writer_added = True

    def _writable(self) -> None:
        self._client.loop_write()

    def _want_write(self) -> None:
        # batch everything queued in this loop iteration (e.g. PUBACKs of a read burst) into one write
        if not self._flush_scheduled:
            self._flush_scheduled = True
            self._loop.call_soon(self._flush)

    def _no_write(self) -> None:
        if self._writer_added and self._fd >= 0:
            self._loop.remove_writer(self._fd)
        self._writer_added = False

    # ---------------------------------------------------------- paho callbacks
    def _handle_socket_open(self, client: mqtt.Client, userdata: Any, sock: Any) -> None:
        # MQTT sends small packets back to back (a PUBACK, then a PUBLISH); with Nagle's
        # algorithm the second waits for the peer's delayed ACK, ~40 ms on Linux
        if isinstance(sock, socket.socket) and sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._in_loop(self._watch, sock.fileno())

    def _watch(self, fd: int) -> None:
        if self._closed.done():
            return
        self._fd = fd
        self._loop.add_reader(fd, self._readable)

    def _handle_socket_close(self, client: mqtt.Client, userdata: Any, sock: Any) -> None:
        self._in_loop(self._unwatch)

    def _handle_register_write(self, client: mqtt.Client, userdata: Any, sock: Any) -> None:
        self._in_loop(self._want_write)

    def _handle_unregister_write(self, client: mqtt.Client, userdata: Any, sock: Any) -> None:
        self._in_loop(self._no_write)

    def _handle_connect(
        self,
        client: mqtt.Client,
        userdata: Any,
        flags: mqtt.ConnectFlags,
        code: ReasonCode,
        properties: Properties | None,
    ) -> None:
        if not self._connack.done():
            self._connack.set_result(code)

    def _handle_disconnect(
        self,
        client: mqtt.Client,
        userdata: Any,
        flags: mqtt.DisconnectFlags,
        code: ReasonCode,
        properties: Properties | None,
    ) -> None:
        if not code.is_failure:
            reason = "disconnected"
        elif code.value == 0x80:  # "unspecified error": all MQTT 3.1.1 can say about a broken socket
            reason = "connection lost"
        else:
            reason = f"connection lost ({code})"
        self._in_loop(self._finish, reason)

    def _handle_subscribe(
        self,
        client: mqtt.Client,
        userdata: Any,
        mid: int,
        codes: list[ReasonCode],
        properties: Properties | None,
    ) -> None:
        granted = self._subacks.get(mid)
        if granted is not None and not granted.done():
            granted.set_result(codes)

    def _handle_publish(
        self, client: mqtt.Client, userdata: Any, mid: int, code: ReasonCode, properties: Properties | None
    ) -> None:
        if self._pubacks:
            acked = self._pubacks.get(mid)
            if acked is not None and not acked.done():
                acked.set_result(None)

    def _handle_message(self, client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        self.received += 1
        try:
            self._on_message(message)
        except Exception:
            log.exception("MQTT message handler failed on %r", message._topic)
