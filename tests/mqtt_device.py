"""A scripted fake device for transport tests: a plain aiomqtt client speaking the v1 schema.

It announces a built-in model, goes online (its will is a retained ``offline``), reports
its whole state, and answers ``set``/``call`` as the test says: ``accept`` (apply, report
the new value, answer code 0), ``refuse`` (answer an error code) or ``silent`` (no answer).
It sends everything again when the hub says ``online`` or asks with ``sync``, and it
reconnects when the broker goes away. It never imports the kernel.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from typing import Any, Literal

import aiomqtt

from trilink.model import builtin_spec
from trilink.transports.mqtt import schema
from trilink.transports.mqtt.settings import MqttSettings

Behaviour = Literal["accept", "refuse", "silent"]

#: the device-defined code for a value the device will not take
CODE_INVALID_VALUE = -4003


class ScriptedDevice:
    """One fake device; ``state`` holds its property values by ``(siid, piid)``."""

    def __init__(
        self,
        settings: MqttSettings,
        did: str,
        *,
        model: str = "trilink.light.sim1",
        name: str = "Test light",
        room: str | None = "Kitchen",
        state: dict[tuple[int, int], Any] | None = None,
        on_set: Behaviour = "accept",
        on_call: Behaviour = "accept",
        refuse_code: int = CODE_INVALID_VALUE,
        call_out: list[Any] | None = None,
    ) -> None:
        self.settings = settings
        self.did = did
        self.model = model
        self.name = name
        self.room = room
        self.state: dict[tuple[int, int], Any] = dict(state) if state is not None else _defaults(model)
        self.on_set: Behaviour = on_set
        self.on_call: Behaviour = on_call
        self.refuse_code = refuse_code
        self.call_out = list(call_out or [])
        #: requests received, in order
        self.sets: list[schema.SetRequest] = []
        self.calls: list[schema.CallRequest] = []
        #: how many times the device sent everything again (hub online or sync)
        self.resyncs = 0
        self.syncs = 0
        self.connected = asyncio.Event()
        self._client: aiomqtt.Client | None = None
        self._task: asyncio.Task[None] | None = None
        self._client_id = f"test-device-{did}-{secrets.token_hex(3)}"

    # -------------------------------------------------------------- lifecycle
    async def start(self, timeout: float = 5.0) -> None:
        """Connect (retrying in the background) and wait for the first session."""
        self._task = asyncio.create_task(self._run(), name=f"test-device-{self.did}")
        async with asyncio.timeout(timeout):
            await self.connected.wait()

    async def stop(self, clear_retained: bool = True) -> None:
        """Disconnect; by default clear the retained messages the device left on the broker."""
        client = self._client
        if client is not None and clear_retained:
            with contextlib.suppress(aiomqtt.MqttError):
                for kind in ("availability", "announce"):
                    await client.publish(schema.topic(self.did, kind), b"", qos=1, retain=True)
        if self._task is not None:
            self._task.cancel()
            await asyncio.wait([self._task])
            self._task = None

    async def _run(self) -> None:
        will = aiomqtt.Will(schema.topic(self.did, "availability"), schema.OFFLINE.encode(), 1, True)
        delay = self.settings.reconnect_min
        while True:
            try:
                async with aiomqtt.Client(
                    self.settings.host,
                    self.settings.port,
                    username=self.settings.username,
                    password=self.settings.password,
                    identifier=self._client_id,
                    will=will,
                    keepalive=self.settings.keepalive,
                    timeout=5.0,
                ) as client:
                    await client.subscribe([(f, 1) for f in schema.subscriptions_for_device(self.did)])
                    self._client = client
                    await self._send_everything(client)
                    self.connected.set()
                    delay = self.settings.reconnect_min
                    async for message in client.messages:
                        payload = message.payload if isinstance(message.payload, bytes) else b""
                        with contextlib.suppress(schema.PayloadError):
                            await self._handle(client, message.topic.value, payload)
            except aiomqtt.MqttError:
                pass
            finally:
                self._client = None
                self.connected.clear()
            await asyncio.sleep(delay)
            delay = min(delay * 2, self.settings.reconnect_max)

    # ---------------------------------------------------------------- sending
    async def publish(self, kind: str, payload: bytes, retain: bool = False) -> None:
        """Publish a raw payload on one of this device's topics (for malformed-input tests)."""
        if self._client is None:
            raise RuntimeError(f"{self.did} is not connected")
        await self._client.publish(schema.topic(self.did, kind), payload, qos=1, retain=retain)

    async def change(self, siid: int, piid: int, value: Any) -> None:
        """Change a value on the device, and report it if connected (kept for the next full report)."""
        self.state[(siid, piid)] = value
        client = self._client
        if client is not None:
            with contextlib.suppress(aiomqtt.MqttError):
                await client.publish(
                    schema.topic(self.did, "report"), schema.encode_report([(siid, piid, value)]), qos=1
                )

    async def _send_everything(self, client: aiomqtt.Client) -> None:
        announce = schema.Announce(self.did, self.model, self.name, None, self.room)
        await client.publish(schema.topic(self.did, "announce"), schema.encode_announce(announce), 1, True)
        await client.publish(schema.topic(self.did, "availability"), schema.ONLINE.encode(), 1, True)
        items = [(s, p, v) for (s, p), v in sorted(self.state.items())]
        await client.publish(schema.topic(self.did, "report"), schema.encode_report(items), 1)

    # --------------------------------------------------------------- handling
    async def _handle(self, client: aiomqtt.Client, topic: str, payload: bytes) -> None:
        if topic == schema.HUB_STATUS:
            if payload == schema.ONLINE.encode():
                self.resyncs += 1
                await self._send_everything(client)
            return
        _, kind = schema.split_topic(topic)
        if kind == "sync":
            self.syncs += 1
            self.resyncs += 1
            await self._send_everything(client)
        elif kind == "set":
            await self._on_set(client, schema.parse_set(payload))
        elif kind == "call":
            await self._on_call(client, schema.parse_call(payload))

    async def _on_set(self, client: aiomqtt.Client, request: schema.SetRequest) -> None:
        self.sets.append(request)
        if self.on_set == "silent":
            return
        if self.on_set == "refuse":
            codes = [(s, p, self.refuse_code) for s, p, _ in request.items]
            result = schema.Result(request.id, 0, "the device will not take that value", codes=codes)
        else:
            for s, p, v in request.items:
                self.state[(s, p)] = v
            await client.publish(schema.topic(self.did, "report"), schema.encode_report(request.items), 1)
            result = schema.Result(request.id, 0, codes=[(s, p, 0) for s, p, _ in request.items])
        await client.publish(schema.topic(self.did, "result"), schema.encode_result(result), 1)

    async def _on_call(self, client: aiomqtt.Client, request: schema.CallRequest) -> None:
        self.calls.append(request)
        if self.on_call == "silent":
            return
        if self.on_call == "refuse":
            result = schema.Result(request.id, self.refuse_code, "the device cannot do that now")
        else:
            result = schema.Result(request.id, 0, out=self.call_out)
        await client.publish(schema.topic(self.did, "result"), schema.encode_result(result), 1)


def _defaults(model: str) -> dict[tuple[int, int], Any]:
    """A plausible value for every readable property of a built-in model."""
    values: dict[tuple[int, int], Any] = {}
    for key, prop in builtin_spec(model).properties.items():
        if not prop.readable:
            continue
        if prop.value_list:
            values[key] = prop.value_list[0].value
        elif prop.format == "bool":
            values[key] = False
        elif prop.format in ("string", "hex"):
            values[key] = "sim"
        elif prop.value_range is not None:
            low = prop.value_range.min
            values[key] = low if prop.format == "float" else int(low)
        else:
            values[key] = 0.0 if prop.format == "float" else 0
    return values
