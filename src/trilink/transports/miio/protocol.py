"""The asyncio side of miIO: one UDP conversation with one device.

:class:`MiioClient` does the handshake, numbers requests, matches answers by id,
retries on silence and keeps the device's stamp. Decisions worth knowing:

- **A new id for every attempt.** A retry is sent with a fresh id, and the counter
  jumps by 100 after a silent attempt, in case the device drops ids it takes for
  repeats (e.g. after the hub restarted); an answer to *any* attempt of a request
  completes it, so a slow answer to the first attempt is not wasted. Ids stay in
  1…9999, the range other clients use.
- **Handshake when needed**: before the first request, after a silent attempt (the
  device may have rebooted and reset its stamp), and when nothing was heard from the
  device for :data:`HANDSHAKE_MAX_AGE` seconds.
- **Stamps follow the device's clock**: the stamp learnt from the last packet plus the
  seconds since, plus one.
- **Bad datagrams never raise**: they are counted by reason and dropped. A request that
  then times out says why it may have (answers failing the checksum mean a wrong token).
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from typing import Any, Final

from trilink.transports.logs import RateLimitedLog
from trilink.transports.miio.errors import (
    BadPacket,
    DeviceError,
    MiioError,
    MiioTimeout,
    MiioUnreachable,
)
from trilink.transports.miio.packet import (
    HEADER_SIZE,
    HELLO,
    PORT,
    Packet,
    Reply,
    TokenCipher,
    build_packet,
    decode_reply,
    encode_request,
    parse_hello,
    parse_packet,
)
from trilink.transports.miio.stats import MiioStats

log = logging.getLogger("trilink.transports.miio")

#: Seconds of silence after which the next request starts with a new handshake.
HANDSHAKE_MAX_AGE: Final = 60.0
#: Request ids stay in 1…MAX_ID.
MAX_ID: Final = 9999
#: How far the id counter jumps after a silent attempt.
ID_JUMP: Final = 100


class _Request:
    """One request in flight; ``future`` is replaced when an attempt fails without an answer."""

    __slots__ = ("future",)

    def __init__(self, future: asyncio.Future[Reply]) -> None:
        self.future = future


class _Endpoint(asyncio.DatagramProtocol):
    def __init__(self, client: MiioClient) -> None:
        self._client = client

    def datagram_received(self, data: bytes, addr: Any) -> None:
        self._client._on_datagram(data)

    def error_received(self, exc: Exception) -> None:
        self._client._on_error(exc)


class MiioClient:
    """Requests to one miIO device at ``host:port`` with its 16-byte ``token``.

    ``timeout`` is per attempt; a request makes ``1 + retries`` attempts. At most
    ``max_in_flight`` requests are on the wire at once (real devices handle one at a time
    and drop what arrives meanwhile; raise it only for peers known to cope).
    """

    def __init__(
        self,
        host: str,
        token: bytes,
        *,
        port: int = PORT,
        timeout: float = 2.5,
        retries: int = 2,
        max_in_flight: int = 1,
        stats: MiioStats | None = None,
        limited_log: RateLimitedLog | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.timeout = timeout
        self.retries = retries
        self.stats = stats if stats is not None else MiioStats()
        self.where = f"miio device at {host}:{port}"
        self._cipher = TokenCipher(token)
        self._limited = limited_log or RateLimitedLog(log)
        self._slots = asyncio.Semaphore(max_in_flight)
        self._handshake_lock = asyncio.Lock()
        self._transport: asyncio.DatagramTransport | None = None
        self._pending: dict[int, _Request] = {}
        self._hello: asyncio.Future[Packet] | None = None
        # ids are this counter folded into 1…MAX_ID
        self._counter = random.randint(1, MAX_ID)
        #: the device's id, learnt in the handshake (``None`` before the first one)
        self.device_id: int | None = None
        self._stamp = 0
        self._stamp_at = 0.0
        self._heard_at = -HANDSHAKE_MAX_AGE
        self._fresh = False
        # why the last datagrams were dropped, to explain a timeout
        self._last_bad: BadPacket | None = None

    def __repr__(self) -> str:
        return f"MiioClient({self.host}:{self.port}, device_id={self.device_id})"

    # ------------------------------------------------------------- lifecycle
    async def open(self) -> None:
        """Open the UDP socket (connected to the device, so only its datagrams arrive)."""
        if self._transport is not None:
            return
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(
            lambda: _Endpoint(self), remote_addr=(self.host, self.port)
        )
        self._transport = transport

    def close(self) -> None:
        """Close the socket and fail what is waiting; idempotent."""
        transport, self._transport = self._transport, None
        if transport is not None:
            transport.close()
        closed = MiioError(f"{self.where}: the connection was closed before the device answered")
        for request in self._pending.values():
            if not request.future.done():
                request.future.set_exception(closed)
        if self._hello is not None and not self._hello.done():
            self._hello.set_exception(closed)

    # ------------------------------------------------------------- handshake
    async def handshake(self) -> int:
        """Send hellos until the device answers; returns its device id.

        Raises :class:`MiioTimeout` (no answer after every attempt) or
        :class:`MiioUnreachable`.
        """
        async with self._handshake_lock:
            return await self._handshake()

    async def _handshake(self) -> int:
        loop = asyncio.get_running_loop()
        for attempt in range(1 + self.retries):
            if attempt:
                self.stats.retries += 1
            future: asyncio.Future[Packet] = loop.create_future()
            self._hello = future
            try:
                self._send(HELLO)
                done, _ = await asyncio.wait((future,), timeout=self.timeout)
            finally:
                self._hello = None
            if not done:
                self.stats.handshake_timeouts += 1
                continue
            packet = future.result()
            if self.device_id is not None and packet.device_id != self.device_id:
                self._limited.warning(
                    "device-id-changed",
                    "%s: answers as device %d now, was %d (another device at this address?)",
                    self.where,
                    packet.device_id,
                    self.device_id,
                )
            self.device_id = packet.device_id
            self._learn_stamp(packet.stamp)
            self._fresh = True
            self.stats.handshakes += 1
            return packet.device_id
        self.stats.failures += 1
        raise MiioTimeout(
            f"{self.where}: no answer to the handshake after {1 + self.retries} tries "
            f"of {self.timeout:g} s (is the device on, and at this address?)"
        )

    async def _ensure_handshake(self) -> None:
        if self._fresh and time.monotonic() - self._heard_at < HANDSHAKE_MAX_AGE:
            return
        async with self._handshake_lock:
            # another request may have done it while this one waited for the lock
            if self._fresh and time.monotonic() - self._heard_at < HANDSHAKE_MAX_AGE:
                return
            await self._handshake()

    def _learn_stamp(self, stamp: int) -> None:
        now = time.monotonic()
        self._stamp, self._stamp_at, self._heard_at = stamp, now, now

    def _stamp_now(self) -> int:
        return self._stamp + int(time.monotonic() - self._stamp_at) + 1

    # -------------------------------------------------------------- requests
    async def request(self, method: str, params: Any, *, retries: int | None = None) -> Any:
        """Send ``method`` with ``params``; return the answer's ``result``.

        Raises :class:`DeviceError` if the device answers with an error,
        :class:`MiioTimeout` if it does not answer, :class:`MiioUnreachable` if the
        network says no one listens there. ``retries`` overrides the client's.
        """
        attempts = 1 + (self.retries if retries is None else retries)
        loop = asyncio.get_running_loop()
        async with self._slots:
            request = _Request(loop.create_future())
            ids: list[int] = []
            self._last_bad = None
            try:
                for attempt in range(attempts):
                    if attempt:
                        self.stats.retries += 1
                        self._counter += ID_JUMP
                    await self._ensure_handshake()
                    assert self.device_id is not None
                    rid = self._take_id()
                    ids.append(rid)
                    self._pending[rid] = request
                    self._send(
                        build_packet(
                            self._cipher,
                            self.device_id,
                            self._stamp_now(),
                            encode_request(rid, method, params),
                        )
                    )
                    self.stats.requests += 1
                    done, _ = await asyncio.wait((request.future,), timeout=self.timeout)
                    if done:
                        return self._answer(method, request.future.result())
                    self.stats.timeouts += 1
                    self._fresh = False
                    request.future.cancel()
                    request.future = loop.create_future()
            finally:
                for rid in ids:
                    self._pending.pop(rid, None)
                if not request.future.done():
                    request.future.cancel()
        self.stats.failures += 1
        raise MiioTimeout(self._silence(method, attempts))

    def _answer(self, method: str, reply: Reply) -> Any:
        self.stats.answers += 1
        if reply.error is not None:
            self.stats.device_errors += 1
            raise DeviceError(self.where, method, *reply.error)
        return reply.result

    def _silence(self, method: str, attempts: int) -> str:
        base = f"{self.where}: no answer to {method} after {attempts} tries of {self.timeout:g} s"
        bad = self._last_bad
        if bad is not None and bad.reason == "bad-checksum":
            return f"{base}; its answers fail the checksum: the token is wrong"
        if bad is not None:
            return f"{base}; it sent unreadable answers ({bad})"
        return f"{base} (it answered the handshake: check the token, devices ignore a wrong one)"

    def _take_id(self) -> int:
        rid = (self._counter - 1) % MAX_ID + 1
        self._counter += 1
        return rid

    def _send(self, data: bytes) -> None:
        transport = self._transport
        if transport is None or transport.is_closing():
            raise MiioError(f"{self.where}: the client is not open")
        transport.sendto(data)

    # ---------------------------------------------------------------- ingest
    def _on_datagram(self, data: bytes) -> None:
        try:
            if len(data) == HEADER_SIZE:
                self._on_hello(parse_hello(data))
                return
            packet = parse_packet(data, self._cipher)
            reply = decode_reply(packet.payload)
        except BadPacket as exc:
            self._drop(exc)
            return
        self._learn_stamp(packet.stamp)
        request = self._pending.get(reply.id)
        if request is None or request.future.done():
            self.stats.late_answers += 1
            return
        request.future.set_result(reply)

    def _on_hello(self, packet: Packet) -> None:
        hello = self._hello
        if hello is not None and not hello.done():
            hello.set_result(packet)
        else:
            self.stats.late_answers += 1

    def _drop(self, exc: BadPacket) -> None:
        self._last_bad = exc
        self.stats.count_bad(exc.reason)
        self.stats.last_error = f"{self.where}: dropped a datagram ({exc})"
        self._limited.warning(exc.reason, "%s: dropped a datagram (%s)", self.where, exc)

    def _on_error(self, exc: Exception) -> None:
        """The network reported an error (ICMP unreachable): fail what waits, at once."""
        self.stats.unreachable += 1
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        error = MiioUnreachable(f"{self.where}: {reason} (nothing listens there)")
        self.stats.last_error = str(error)
        for request in self._pending.values():
            if not request.future.done():
                request.future.set_exception(error)
        if self._hello is not None and not self._hello.done():
            self._hello.set_exception(error)
