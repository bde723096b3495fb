"""Live events: a ring buffer of recent kernel events and the ``/api/ws`` WebSocket stream.

:class:`LiveFeed` subscribes to the kernel's bus once. Its listener runs inline in the
kernel, so it only appends to the ring buffer and offers the event to each WebSocket
client's bounded queue — it never awaits and never blocks. A client that reads too
slowly loses the oldest queued events and is told so with ``{"kind": "dropped",
"count": n}`` before the events that follow the gap.
"""

from __future__ import annotations

import asyncio
import threading
from collections import deque
from collections.abc import Iterable
from contextlib import suppress
from dataclasses import dataclass
from typing import Annotated, Any, Final, get_args

import orjson
from fastapi import APIRouter, Depends, Query, Response, WebSocket
from starlette.websockets import WebSocketDisconnect

from trilink.api.auth import caller
from trilink.api.errors import ApiError, deny_websocket
from trilink.api.models import ErrorResponse
from trilink.kernel import Event, EventBus, RegistryChanged, event_to_dict

#: Every ``kind`` a kernel event can have.
EVENT_KINDS: Final[frozenset[str]] = frozenset(t.kind for t in get_args(Event))

#: How many recent events ``GET /api/events`` can look back over.
DEFAULT_RECENT = 1000

#: How many events wait for one WebSocket client before the oldest are dropped.
DEFAULT_CLIENT_QUEUE = 256

#: WebSocket close code when the hub shuts down (RFC 6455 "going away").
GOING_AWAY: Final = 1001


def encode(obj: Any) -> str:
    """JSON text of an event or message (values the JSON types cannot hold become strings)."""
    return orjson.dumps(obj, default=str, option=orjson.OPT_NON_STR_KEYS).decode()


def _did_of(event: Event) -> str | None:
    if isinstance(event, RegistryChanged):
        return event.id if event.entity == "device" else None
    return event.did


@dataclass(frozen=True, slots=True)
class EventFilter:
    """Which events a reader wants: any of ``dids`` and any of ``kinds`` (empty = all)."""

    dids: frozenset[str] = frozenset()
    kinds: frozenset[str] = frozenset()

    @classmethod
    def parse(cls, dids: Iterable[str] | None, kinds: Iterable[str] | None) -> EventFilter:
        """A filter from query parameters; an unknown kind is an :class:`ApiError` (422)."""
        kind_set = frozenset(k for k in kinds or () if k)
        unknown = sorted(kind_set - EVENT_KINDS)
        if unknown:
            raise ApiError(
                422,
                "invalid-request",
                f"unknown event kind(s) {', '.join(map(repr, unknown))}; "
                f"known kinds: {', '.join(sorted(EVENT_KINDS))}",
            )
        return cls(frozenset(d for d in dids or () if d), kind_set)

    def matches(self, event: Event) -> bool:
        """Whether ``event`` passes this filter."""
        if self.kinds and event.kind not in self.kinds:
            return False
        return not self.dids or _did_of(event) in self.dids


class Subscription:
    """One WebSocket client's bounded queue of encoded events.

    Created on the event loop that serves the client; :meth:`offer` may be called from
    the kernel's thread and hands over thread-safely when that is another thread.
    """

    def __init__(self, event_filter: EventFilter, size: int) -> None:
        self.filter = event_filter
        self.dropped = 0
        self.closed = False
        self._items: deque[str] = deque(maxlen=size)
        self._ready = asyncio.Event()
        self._loop = asyncio.get_running_loop()
        self._thread = threading.get_ident()

    def offer(self, text: str) -> None:
        """Queue one encoded event without waiting; the oldest is dropped when full."""
        if threading.get_ident() != self._thread:
            self._loop.call_soon_threadsafe(self._put, text)
        else:
            self._put(text)

    def _put(self, text: str) -> None:
        if len(self._items) == self._items.maxlen:
            self.dropped += 1
        self._items.append(text)
        self._ready.set()

    def close(self) -> None:
        """End the stream: :meth:`next` returns ``None`` once the queue is empty."""
        self.closed = True
        self._ready.set()

    async def next(self) -> str | None:
        """The next message to send (a ``dropped`` notice first if events were lost)."""
        while True:
            if self.dropped:
                count, self.dropped = self.dropped, 0
                return encode({"kind": "dropped", "count": count})
            if self._items:
                return self._items.popleft()
            if self.closed:
                return None
            self._ready.clear()
            await self._ready.wait()


class LiveFeed:
    """The recent-events buffer and the set of WebSocket subscriptions, fed by the kernel bus."""

    def __init__(
        self, bus: EventBus, recent: int = DEFAULT_RECENT, client_queue: int = DEFAULT_CLIENT_QUEUE
    ) -> None:
        self.client_queue = client_queue
        self._recent: deque[Event] = deque(maxlen=recent)
        self._subscriptions: list[Subscription] = []
        self._unsubscribe = bus.subscribe(self._on_event)

    def _on_event(self, event: Event) -> None:
        # runs inline in the kernel: append and enqueue only
        self._recent.append(event)
        text: str | None = None
        for sub in self._subscriptions:
            if sub.filter.matches(event):
                if text is None:
                    text = encode(event_to_dict(event))
                sub.offer(text)

    def recent(self, limit: int, event_filter: EventFilter) -> list[dict[str, Any]]:
        """The ``limit`` most recent matching events, oldest first."""
        picked: list[Event] = []
        for event in reversed(self._recent):
            if len(picked) >= limit:
                break
            if event_filter.matches(event):
                picked.append(event)
        return [event_to_dict(e) for e in reversed(picked)]

    @property
    def clients(self) -> int:
        """How many WebSocket clients are subscribed now."""
        return len(self._subscriptions)

    def subscribe(self, event_filter: EventFilter) -> Subscription:
        """A new subscription; call on the loop that will serve it."""
        sub = Subscription(event_filter, self.client_queue)
        self._subscriptions.append(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        """Stop feeding ``sub``."""
        with suppress(ValueError):
            self._subscriptions.remove(sub)

    def close(self) -> None:
        """Leave the bus and end every stream (the hub is shutting down)."""
        self._unsubscribe()
        for sub in self._subscriptions:
            sub.close()


async def _pump(ws: WebSocket, sub: Subscription) -> None:
    while (text := await sub.next()) is not None:
        try:
            await ws.send_text(text)
        except (WebSocketDisconnect, RuntimeError, OSError):
            return


async def _until_disconnect(ws: WebSocket) -> None:
    # clients have nothing to say; their messages are read and ignored so pings and
    # the close handshake keep flowing
    while (await ws.receive())["type"] != "websocket.disconnect":
        pass


async def stream(ws: WebSocket, sub: Subscription) -> None:
    """Send ``sub``'s messages on an accepted WebSocket until the client leaves or the feed closes."""
    pump = asyncio.create_task(_pump(ws, sub))
    listen = asyncio.create_task(_until_disconnect(ws))
    try:
        await asyncio.wait({pump, listen}, return_when=asyncio.FIRST_COMPLETED)
        client_left = listen.done()
    finally:
        for task in (pump, listen):
            task.cancel()
        await asyncio.gather(pump, listen, return_exceptions=True)
    if sub.closed and not client_left:
        with suppress(WebSocketDisconnect, RuntimeError, OSError):
            await ws.close(code=GOING_AWAY, reason="the hub is shutting down")


def live_router(feed: LiveFeed) -> APIRouter:
    """Routes of the live feed: ``GET /api/events`` and the ``/api/ws`` WebSocket."""
    router = APIRouter(tags=["events"])

    @router.get(
        "/api/events",
        summary="Recent events",
        response_model=list[dict[str, Any]],
        responses={422: {"model": ErrorResponse}},
        dependencies=[Depends(caller)],
    )
    async def recent_events(
        limit: Annotated[int, Query(ge=1, le=DEFAULT_RECENT, description="how many, at most")] = 100,
        did: Annotated[list[str] | None, Query(description="only these devices (repeatable)")] = None,
        kind: Annotated[list[str] | None, Query(description="only these kinds (repeatable)")] = None,
    ) -> Response:
        """The most recent kernel events, oldest first, as the WebSocket sends them."""
        events = feed.recent(limit, EventFilter.parse(did, kind))
        return Response(encode(events), media_type="application/json")

    @router.websocket("/api/ws")
    async def live_events(websocket: WebSocket) -> None:
        """Stream live events as JSON text messages; filters ``?did=&kind=`` (repeatable)."""
        params = websocket.query_params
        try:
            event_filter = EventFilter.parse(params.getlist("did"), params.getlist("kind"))
        except ApiError as exc:
            await deny_websocket(websocket, exc.status, exc.code, exc.message)
            return
        sub = feed.subscribe(event_filter)
        try:
            # subscribed before the handshake completes, so a client sees every event
            # published after its connect call returns
            await websocket.accept()
            await stream(websocket, sub)
        finally:
            feed.unsubscribe(sub)

    return router
