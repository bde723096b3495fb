"""The ``/api/ws`` live stream, served by a real uvicorn on the test's own event loop.

Kernel, server and clients share one loop, as they do in the hub, so a burst of
kernel events published without yielding reaches a client's queue before the server
can send any of it — which makes the slow-client case exact.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from conftest import free_port, wait_until
from test_api import GUEST_TOKEN, OWNER, OWNER_TOKEN, World, build_world
from trilink.api import create_app
from trilink.api.live import EventFilter, Subscription

QUEUE = 4


@dataclass
class Served:
    """A running server: its app, URLs and the world behind it."""

    app: FastAPI
    server: uvicorn.Server
    task: asyncio.Task[None]
    world: World
    http: str
    ws: str

    async def stop(self) -> None:
        """Ask the server to exit and wait until it has."""
        self.server.should_exit = True
        await asyncio.wait_for(self.task, 10)


@pytest.fixture
async def served() -> AsyncIterator[Served]:
    """The API on a free loopback port, each WebSocket client queue holding ``QUEUE`` events."""
    world = build_world()
    app = create_app(world.hub, client_queue=QUEUE)
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    await wait_until(lambda: server.started or task.done(), what="the API server to start")
    assert server.started, "the API server did not start"
    s = Served(app, server, task, world, f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}/api/ws")
    yield s
    if not task.done():
        await s.stop()


async def next_json(ws: ClientConnection, timeout: float = 5.0) -> dict[str, Any]:
    """The next message, decoded; fails after ``timeout`` seconds."""
    message = await asyncio.wait_for(ws.recv(), timeout)
    assert isinstance(message, str)
    decoded: dict[str, Any] = json.loads(message)
    return decoded


# ------------------------------------------------------------------------ auth
@pytest.mark.parametrize(
    ("url_tail", "headers"),
    [
        ("", {}),
        ("?token=wrong", {}),
        ("?token=", {}),
        ("", {"Authorization": "Bearer wrong"}),
        ("", {"Authorization": f"Token {OWNER_TOKEN}"}),
    ],
    ids=["none", "bad-query", "empty-query", "bad-header", "bad-scheme"],
)
async def test_the_stream_needs_a_valid_token(served: Served, url_tail: str, headers: dict[str, str]) -> None:
    with pytest.raises(InvalidStatus) as refused:
        async with connect(served.ws + url_tail, additional_headers=headers):
            pass
    response = refused.value.response
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    error = json.loads(response.body or b"{}")["error"]
    assert error["code"] == "unauthorized" and error["message"]
    assert served.app.state.live.clients == 0


async def test_a_token_in_the_header_or_the_query_is_accepted(served: Served) -> None:
    async with connect(served.ws, additional_headers=OWNER) as ws:
        served.world.kernel.report("ac-living", 4, 1, 23.0)
        assert (await next_json(ws))["value"] == 23.0
    # guests may watch: reading is all the stream does
    async with connect(f"{served.ws}?token={GUEST_TOKEN}") as ws:
        served.world.kernel.report("ac-living", 4, 1, 23.5)
        assert (await next_json(ws))["value"] == 23.5


async def test_an_unknown_kind_refuses_the_handshake(served: Served) -> None:
    with pytest.raises(InvalidStatus) as refused:
        async with connect(f"{served.ws}?kind=explosion", additional_headers=OWNER):
            pass
    assert refused.value.response.status_code == 422
    error = json.loads(refused.value.response.body or b"{}")["error"]
    assert error["code"] == "invalid-request" and "property-changed" in error["message"]


# ---------------------------------------------------------------------- stream
async def test_a_set_through_the_api_arrives_as_property_changed(served: Served) -> None:
    async with connect(served.ws, additional_headers=OWNER) as ws:
        async with httpx.AsyncClient(base_url=served.http, headers=OWNER) as client:
            r = await client.put("/api/devices/ac-living/properties/2.3", json={"value": 26})
            assert r.status_code == 200, r.text
        seen = [await next_json(ws), await next_json(ws)]
    changed = next(m for m in seen if m["kind"] == "property-changed")
    written = next(m for m in seen if m["kind"] == "property-written")
    assert (changed["did"], changed["siid"], changed["piid"], changed["value"]) == ("ac-living", 2, 3, 26)
    assert changed["old_value"] == 24.0
    assert changed["context"]["parent_id"] == written["context"]["id"]
    assert written["context"] == {**written["context"], "actor": "api", "actor_id": "alice"}


async def test_filters_by_device_and_kind(served: Served) -> None:
    kernel = served.world.kernel
    url = f"{served.ws}?did=light-bed&did=car-alice&kind=property-changed"
    async with connect(url, additional_headers=OWNER) as ws:
        kernel.report("ac-living", 4, 1, 21.0)  # another device
        kernel.set_online("light-bed", False)  # another kind
        kernel.report("light-bed", 2, 2, 42)
        kernel.report("car-alice", 2, 1, 79.5)
        first, second = await next_json(ws), await next_json(ws)
    assert (first["did"], first["kind"], first["value"]) == ("light-bed", "property-changed", 42)
    assert (second["did"], second["value"]) == ("car-alice", 79.5)


async def test_a_slow_client_loses_the_oldest_events_and_is_told(served: Served) -> None:
    kernel = served.world.kernel
    async with connect(served.ws, additional_headers=OWNER) as ws:
        # a burst without yielding: the server cannot send until it is over
        for value in range(10, 101, 10):
            kernel.report("light-bed", 2, 2, value)
        dropped = await next_json(ws)
        assert dropped == {"kind": "dropped", "count": 10 - QUEUE}
        kept = [(await next_json(ws))["value"] for _ in range(QUEUE)]
        assert kept == [70, 80, 90, 100]
        # the stream goes on normally afterwards
        kernel.report("light-bed", 2, 2, 5)
        assert (await next_json(ws))["value"] == 5


async def test_a_client_that_leaves_is_unsubscribed(served: Served) -> None:
    live = served.app.state.live
    async with connect(served.ws, additional_headers=OWNER) as ws:
        assert live.clients == 1
        await ws.send("clients may talk; the hub ignores it")
        served.world.kernel.report("ac-living", 4, 1, 20.0)
        assert (await next_json(ws))["value"] == 20.0
    await wait_until(lambda: live.clients == 0, what="the subscription to end")
    served.world.kernel.report("ac-living", 4, 1, 20.5)  # nobody to deliver to: must not fail


async def test_closing_the_feed_ends_streams_with_going_away(served: Served) -> None:
    async with connect(served.ws, additional_headers=OWNER) as ws:
        served.app.state.live.close()
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 5)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1001


async def test_the_server_stops_while_a_client_is_connected(served: Served) -> None:
    async with connect(served.ws, additional_headers=OWNER) as ws:
        await served.stop()
        with pytest.raises(ConnectionClosed):
            await asyncio.wait_for(ws.recv(), 5)
    assert served.task.done() and served.app.state.live.clients == 0


async def test_events_offered_from_another_thread_reach_the_loop() -> None:
    sub = Subscription(EventFilter(), 8)
    thread = threading.Thread(target=lambda: [sub.offer(f'{{"n": {i}}}') for i in range(3)], name="offerer")
    thread.start()
    thread.join(5)
    got = [await asyncio.wait_for(sub.next(), 5) for _ in range(3)]
    assert got == ['{"n": 0}', '{"n": 1}', '{"n": 2}']
    sub.close()
    assert await sub.next() is None
