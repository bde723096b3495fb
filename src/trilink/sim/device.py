"""A simulated device on the network: its own MQTT client speaking the trilink v1 schema.

On connect it subscribes to its ``set``/``call``/``sync`` topics and the hub status,
publishes a retained announce and ``online`` (its last will is a retained ``offline``),
then a full report. After that it reports changed values after each physics step
(with per-property deadbands), everything again every ``full_report_every`` simulated
seconds and whenever the hub comes online or asks (``sync``). It answers every
well-formed ``set`` and ``call`` with a ``result``. When the broker goes away it
reconnects with exponential backoff and announces itself again.

Handling a message never awaits the network: outgoing messages go to an outbox that
a writer task drains, so a dead connection cannot stall the reader or the physics.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import secrets
import socket
import zlib
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import aiomqtt
import orjson

from trilink.clock import Clock
from trilink.model import InvalidValue, PropertySpec, SpecError, validate_action, validate_write
from trilink.sim.behaviour import ActionRefused, Behaviour, Emitted, PropKey
from trilink.sim.values import quantize
from trilink.transports.mqtt import schema
from trilink.transports.mqtt.settings import MqttSettings

log = logging.getLogger(__name__)

#: result codes a simulated device answers with (0 is success, the MIoT convention)
CODE_OK = 0
CODE_MALFORMED = -4000  # the set/call payload did not follow the schema
CODE_NOT_WRITABLE = -4001
CODE_INVALID_VALUE = -4003  # a value or an action argument broke the spec
CODE_NOT_FOUND = -4004  # no such property or action
CODE_REFUSED = -4005  # a valid action the device cannot carry out now
CODE_DEVICE_ERROR = -4006  # the device failed while carrying out the request

_EVENT_BACKLOG = 200  # events kept while offline, sent on reconnect
_OUTBOX_LIMIT = 2000


@dataclass(frozen=True, slots=True)
class _Outgoing:
    topic: str
    payload: bytes
    retain: bool = False
    is_report: bool = False  # reports are superseded by the full report of a new session


def _numeric(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


class SimDevice:
    """One simulated device: a :class:`Behaviour` behind an MQTT connection."""

    def __init__(
        self,
        did: str,
        behaviour: Behaviour,
        settings: MqttSettings,
        clock: Clock,
        *,
        name: str,
        room: str | None = None,
        kind: str | None = None,
        owner: str | None = None,
        full_report_every: float = 600.0,
        on_online: Callable[[SimDevice], None] | None = None,
    ) -> None:
        if not schema.valid_did(did):
            raise ValueError(f"invalid did {did!r}: use 1-64 of A-Z a-z 0-9 . _ : -")
        self.did = did
        self.behaviour = behaviour
        self.settings = settings
        self.clock = clock
        self.name = name
        self.room = room
        self.kind = kind
        self.owner = owner
        self.full_report_every = full_report_every
        self.on_online = on_online
        self.spec = behaviour.spec
        self.model = behaviour.model
        prefix = settings.client_id or "trilink-sim"
        self.client_id = f"{prefix}-{did}-{secrets.token_hex(3)}"
        #: whether the device is connected and has announced itself
        self.online = False
        self._names = {
            (p.siid, p.iid): (svc.name, p.name) for svc in self.spec.services for p in svc.properties
        }
        self._props: dict[PropKey, PropertySpec] = {
            name: self.spec.properties[i] for i, name in self._names.items()
        }
        self._info = {
            ("device-information", "manufacturer"): "trilink",
            ("device-information", "model"): self.model,
            ("device-information", "serial-number"): f"SIM{zlib.crc32(did.encode()):08X}",
            ("device-information", "firmware-revision"): "1.0.0",
        }
        self._check_wiring()
        self._last: dict[tuple[int, int], Any] = {}
        self._last_full = -float("inf")
        self._outbox: deque[_Outgoing] = deque()
        self._events: deque[_Outgoing] = deque(maxlen=_EVENT_BACKLOG)
        self._wake = asyncio.Event()
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._connected_once = False
        self._rng = random.Random(did)

    def _check_wiring(self) -> None:
        """Fail at construction if the behaviour and the spec disagree on a property name."""
        readable = {k for k, p in self._props.items() if p.readable}
        given = set(self.behaviour.values()) | set(self._info)
        if given - readable:
            raise SpecError(f"{self.did}: {self.model} has no readable properties {sorted(given - readable)}")
        if readable - given:
            raise SpecError(f"{self.did}: behaviour does not provide {sorted(readable - given)}")

    # ---------------------------------------------------------------- reports
    def readings(self) -> dict[tuple[int, int], Any]:
        """Every readable property's value as a report carries it (clamped and on its step)."""
        out = {}
        for key, value in (self._info | self.behaviour.values()).items():
            prop = self._props[key]
            out[(prop.siid, prop.iid)] = quantize(prop, value)
        return out

    def snapshot(self) -> list[tuple[int, int, Any]]:
        """A full report's items: ``(siid, piid, value)`` for every readable property."""
        return [(s, p, v) for (s, p), v in sorted(self.readings().items())]

    def _changes(self) -> list[tuple[int, int, Any]]:
        items = []
        for (siid, piid), value in self.readings().items():
            last = self._last.get((siid, piid), _MISSING)
            if last is _MISSING or self._moved(siid, piid, last, value):
                items.append((siid, piid, value))
                self._last[(siid, piid)] = value
        return items

    def _moved(self, siid: int, piid: int, last: Any, value: Any) -> bool:
        if _numeric(last) and _numeric(value):
            band = self.behaviour.deadbands.get(self._names[(siid, piid)], 0.0)
            if band > 0:
                return bool(abs(value - last) >= band - 1e-9)
        return bool(last != value)

    def _queue(self, message: _Outgoing) -> None:
        if len(self._outbox) >= _OUTBOX_LIMIT:
            self._outbox.popleft()
            log.warning("%s: outbox full, dropping the oldest message", self.did)
        self._outbox.append(message)
        self._wake.set()

    def _queue_report(self, items: list[tuple[int, int, Any]]) -> None:
        if items and self.online:
            self._queue(
                _Outgoing(schema.topic(self.did, "report"), schema.encode_report(items), is_report=True)
            )

    def event_items(self, event: Emitted) -> tuple[int, int, dict[int, Any]]:
        """``(siid, eiid, arguments by piid)`` of an event, its arguments quantized like reports."""
        svc = next(s for s in self.spec.services if s.name == event.service)
        spec = next(e for e in svc.events if e.name == event.event)
        args = {}
        for piid in spec.arguments:
            prop = self.spec.properties[(svc.iid, piid)]
            args[piid] = quantize(prop, event.arguments[prop.name])
        return svc.iid, spec.iid, args

    def _queue_events(self) -> None:
        for e in self.behaviour.pop_events():
            siid, eiid, args = self.event_items(e)
            msg = _Outgoing(schema.topic(self.did, "event"), schema.encode_event(siid, eiid, args))
            if self.online:
                self._queue(msg)
            else:
                self._events.append(msg)

    def request_full_report(self) -> None:
        """Send every readable value again (at most one report; nothing if offline)."""
        self._last = self.readings()
        self._last_full = self.clock.now()
        self._queue_report(sorted((s, p, v) for (s, p), v in self._last.items()))

    def after_step(self, now: float) -> None:
        """Publish what the last physics steps changed, and the events they raised."""
        if self.online:
            if now - self._last_full >= self.full_report_every:
                self.request_full_report()
            else:
                self._queue_report(self._changes())
        self._queue_events()

    # --------------------------------------------------------------- commands
    def handle(self, topic: str, payload: bytes) -> None:
        """Act on one incoming message (synchronously; answers go to the outbox)."""
        if topic == schema.HUB_STATUS:
            if payload.strip() == schema.ONLINE.encode():
                self.request_full_report()
            return
        try:
            did, kind = schema.split_topic(topic)
        except schema.PayloadError:
            return
        if did != self.did:
            return
        if kind == "set":
            self._on_set(payload)
        elif kind == "call":
            self._on_call(payload)
        elif kind == "sync":
            self.request_full_report()

    def _answer(self, result: schema.Result) -> None:
        self._queue(_Outgoing(schema.topic(self.did, "result"), schema.encode_result(result)))

    def _refuse_malformed(self, kind: str, payload: bytes, error: Exception) -> None:
        try:
            rid = orjson.loads(payload).get("id")
        except (orjson.JSONDecodeError, AttributeError, TypeError):
            rid = None
        if isinstance(rid, str) and 0 < len(rid) <= 64:
            self._answer(schema.Result(rid, CODE_MALFORMED, f"malformed {kind}: {error}"))
        else:
            log.warning("%s: ignored a malformed %s without a request id: %s", self.did, kind, error)

    def _on_set(self, payload: bytes) -> None:
        try:
            request = schema.parse_set(payload)
        except schema.PayloadError as exc:
            self._refuse_malformed("set", payload, exc)
            return
        codes: list[tuple[int, int, int]] = []
        problems: list[str] = []
        for siid, piid, value in request.items:
            code = CODE_OK
            try:
                normalised = validate_write(self.did, self.spec, siid, piid, value)
                self.behaviour.write(*self._names[(siid, piid)], normalised)
            except InvalidValue as exc:
                code = {"unknown-property": CODE_NOT_FOUND, "access": CODE_NOT_WRITABLE}.get(
                    exc.rule, CODE_INVALID_VALUE
                )
                problems.append(str(exc))
            except ActionRefused as exc:
                code = CODE_REFUSED
                problems.append(f"{self.did} siid {siid} piid {piid}: {exc}")
            except Exception as exc:
                log.exception("%s: writing siid %d piid %d failed", self.did, siid, piid)
                code = CODE_DEVICE_ERROR
                problems.append(f"{self.did} siid {siid} piid {piid}: device error: {exc}")
            codes.append((siid, piid, code))
        # confirm the written properties even when their value did not change
        readings = self.readings()
        written = [(s, p, readings[(s, p)]) for s, p, c in codes if c == CODE_OK and (s, p) in readings]
        for s, p, v in written:
            self._last[(s, p)] = v
        merged = {(s, p): v for s, p, v in written + self._changes()}
        self._queue_report(sorted((s, p, v) for (s, p), v in merged.items()))
        self._queue_events()
        first_error = next((c for _, _, c in codes if c != CODE_OK), CODE_OK)
        self._answer(schema.Result(request.id, first_error, "; ".join(problems), codes=codes))

    def _on_call(self, payload: bytes) -> None:
        try:
            request = schema.parse_call(payload)
        except schema.PayloadError as exc:
            self._refuse_malformed("call", payload, exc)
            return
        try:
            action, args = validate_action(self.did, self.spec, request.siid, request.aiid, request.args)
            service = self.spec.service(request.siid)
            assert service is not None
            out = self.behaviour.call(service.name, action.name, args)
        except InvalidValue as exc:
            code = CODE_NOT_FOUND if exc.rule == "unknown-action" else CODE_INVALID_VALUE
            self._answer(schema.Result(request.id, code, str(exc)))
            return
        except ActionRefused as exc:
            message = f"{self.did} siid {request.siid} aiid {request.aiid}: {exc}"
            self._answer(schema.Result(request.id, CODE_REFUSED, message))
            return
        except Exception as exc:
            log.exception("%s: action siid %d aiid %d failed", self.did, request.siid, request.aiid)
            message = f"{self.did} siid {request.siid} aiid {request.aiid}: device error: {exc}"
            self._answer(schema.Result(request.id, CODE_DEVICE_ERROR, message))
            return
        self._queue_report(self._changes())
        self._queue_events()
        self._answer(schema.Result(request.id, CODE_OK, out=out))

    # ------------------------------------------------------------- connection
    async def start(self) -> None:
        """Start connecting (and keep reconnecting) in the background."""
        if self._task is None:
            self._stop.clear()
            self._task = asyncio.create_task(self._run(), name=f"sim-device-{self.did}")

    async def stop(self, timeout: float = 5.0) -> None:
        """Publish a retained ``offline``, disconnect cleanly and end the background task."""
        task, self._task = self._task, None
        if task is None:
            return
        self._stop.set()
        self._wake.set()
        try:
            await asyncio.wait_for(asyncio.shield(task), timeout)
        except TimeoutError:
            log.warning("%s: did not stop within %g s; cancelling", self.did, timeout)
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        delay = self.settings.reconnect_min
        while not self._stop.is_set():
            try:
                await self._session()
            except aiomqtt.MqttError as exc:
                log.info("%s: MQTT connection to %s: %s", self.did, self.settings.describe(), exc)
            except Exception:
                log.exception("%s: MQTT session failed", self.did)
            if self._connected_once:
                delay = self.settings.reconnect_min
            if self._stop.is_set():
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), delay * self._rng.uniform(0.5, 1.0))
            delay = min(delay * 2.0, self.settings.reconnect_max)

    async def _session(self) -> None:
        self._connected_once = False
        s = self.settings
        availability = schema.topic(self.did, "availability")
        will = aiomqtt.Will(availability, schema.OFFLINE.encode(), qos=1, retain=True)
        async with aiomqtt.Client(
            s.host,
            s.port,
            username=s.username,
            password=s.password,
            identifier=self.client_id,
            will=will,
            # small packets back to back (PUBACK then result) must not wait for a delayed ACK
            socket_options=((socket.IPPROTO_TCP, socket.TCP_NODELAY, 1),),
            keepalive=s.keepalive,
            timeout=5.0,
        ) as client:
            await client.subscribe([(f, 1) for f in schema.subscriptions_for_device(self.did)])
            announce = schema.Announce(
                self.did, self.model, self.name, None, self.room, self.kind, self.owner
            )
            await client.publish(
                schema.topic(self.did, "announce"), schema.encode_announce(announce), 1, True
            )
            await client.publish(availability, schema.ONLINE.encode(), 1, True)
            self._connected_once = True
            # a new session starts from a full report; events kept while offline follow it
            kept = [m for m in self._outbox if not m.is_report]
            self._outbox.clear()
            self.online = True
            self.request_full_report()
            self._outbox.extend(kept)
            self._outbox.extend(self._events)
            self._events.clear()
            if self.on_online is not None:
                try:
                    self.on_online(self)
                except Exception:
                    log.exception("%s: the on_online callback failed", self.did)
            tasks = {
                asyncio.create_task(self._read(client)),
                asyncio.create_task(self._write(client)),
                asyncio.create_task(self._stop.wait()),
            }
            try:
                done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            finally:
                self.online = False
                for t in tasks:
                    t.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
            if self._stop.is_set():
                await self._flush(client)
                await client.publish(availability, schema.OFFLINE.encode(), 1, True)
                return
            for t in done:
                error = None if t.cancelled() else t.exception()
                if error is not None:
                    raise error

    async def _read(self, client: aiomqtt.Client) -> None:
        async for message in client.messages:
            payload = message.payload
            data = payload if isinstance(payload, bytes) else str(payload or "").encode()
            try:
                self.handle(message.topic.value, data)
            except Exception:
                log.exception("%s: failed to handle a message on %s", self.did, message.topic.value)

    async def _write(self, client: aiomqtt.Client) -> None:
        me = asyncio.current_task()
        while not self._stop.is_set():
            while not self._outbox:
                self._wake.clear()
                if self._stop.is_set():
                    return
                await self._wake.wait()
            message = self._outbox[0]
            await client.publish(message.topic, message.payload, 1, message.retain)
            # On Python 3.11 the asyncio.wait_for inside publish can swallow a cancellation
            # that races with the broker's answer; honour it here so the session can end.
            if me is not None and me.cancelling():
                raise asyncio.CancelledError
            if self._outbox and self._outbox[0] is message:
                self._outbox.popleft()

    async def _flush(self, client: aiomqtt.Client) -> None:
        """Send what is still queued (the last answers) before going offline."""
        while self._outbox:
            message = self._outbox.popleft()
            await client.publish(message.topic, message.payload, 1, message.retain)


_MISSING = object()
