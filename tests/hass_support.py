"""Helpers for the Home Assistant discovery tests: fixtures on disk and a stand-in for HA.

``load_fixture`` reads a file of ``tests/data/hass`` with its topics moved under the
test's own discovery prefix and Zigbee2MQTT base topic, so tests sharing the system
broker never see each other's retained messages. ``Peer`` is a plain aiomqtt client
that plays the other side (Zigbee2MQTT or Home Assistant): it publishes, records what
it receives, and clears every retained topic it has seen when the test ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiomqtt

from trilink.transports.mqtt.settings import MqttSettings

FIXTURES = Path(__file__).resolve().parent / "data" / "hass"


def load_fixture(name: str, prefix: str, base: str) -> dict[str, Any]:
    """A fixture file with ``homeassistant/`` replaced by ``prefix/`` and ``zigbee2mqtt/`` by ``base/``."""
    text = (FIXTURES / name).read_text("utf-8")
    text = text.replace('"homeassistant/', f'"{prefix}/').replace("zigbee2mqtt/", f"{base}/")
    doc: dict[str, Any] = json.loads(text)
    return doc


def encode(payload: Any) -> bytes:
    """A fixture payload as bytes: JSON for objects, UTF-8 for text, empty for ``None``."""
    if payload is None:
        return b""
    if isinstance(payload, bytes):
        return payload
    if isinstance(payload, str):
        return payload.encode()
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


@dataclass
class Received:
    topic: str
    payload: bytes
    retain: bool

    def json(self) -> Any:
        return json.loads(self.payload)


class Peer:
    """The other side of the bridge, on its own MQTT connection."""

    def __init__(self, client: aiomqtt.Client) -> None:
        self.client = client
        self.received: list[Received] = []
        self.seen: set[str] = set()

    async def publish(self, topic: str, payload: Any, retain: bool = False) -> None:
        data = encode(payload)
        if data:
            self.seen.add(topic)
        await self.client.publish(topic, data, qos=1, retain=retain)

    async def replay(
        self, messages: list[dict[str, Any]], *, only: Callable[[str], bool] | None = None
    ) -> None:
        """Publish fixture messages in order (their ``retain`` flag kept)."""
        for m in messages:
            if only is None or only(m["topic"]):
                await self.publish(m["topic"], m["payload"], bool(m.get("retain")))

    def on(self, topic: str) -> list[Received]:
        return [r for r in self.received if r.topic == topic]

    def last(self, topic: str) -> Received | None:
        found = self.on(topic)
        return found[-1] if found else None

    async def wait_for(
        self, topic: str, predicate: Callable[[Received], bool] = lambda r: True, timeout: float = 5.0
    ) -> Received:
        deadline = time.monotonic() + timeout
        while True:
            for r in self.on(topic):
                if predicate(r):
                    return r
            if time.monotonic() > deadline:
                got = [(r.payload[:200], r.retain) for r in self.on(topic)]
                raise AssertionError(f"timed out after {timeout} s waiting on {topic!r}; got {got}")
            await asyncio.sleep(0.01)


@contextlib.asynccontextmanager
async def peer(settings: MqttSettings, subscribe: list[str] | None = None) -> AsyncIterator[Peer]:
    """A connected :class:`Peer`; every topic it saw is cleared of retained messages at the end."""
    async with aiomqtt.Client(
        settings.host, settings.port, username=settings.username, password=settings.password, timeout=5.0
    ) as client:
        p = Peer(client)

        async def read() -> None:
            async for message in client.messages:
                payload = message.payload if isinstance(message.payload, bytes) else b""
                p.received.append(Received(message.topic.value, payload, bool(message.retain)))
                if payload:
                    p.seen.add(message.topic.value)

        task = asyncio.create_task(read(), name="hass-test-peer")
        try:
            if subscribe:
                await client.subscribe([(f, 1) for f in subscribe])
            yield p
        finally:
            task.cancel()
            await asyncio.wait([task])
            for topic in sorted(p.seen):
                with contextlib.suppress(aiomqtt.MqttError):
                    await client.publish(topic, b"", qos=1, retain=True)
