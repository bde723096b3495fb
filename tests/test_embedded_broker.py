"""The embedded amqtt broker: credentials are required, and stopping leaves nothing behind."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import aiomqtt
import psutil
import pytest

from conftest import port_open, wait_until
from trilink.kernel import Kernel
from trilink.transports.mqtt.broker import EmbeddedBroker, generate_users
from trilink.transports.mqtt.connection import ConnectionFailed, MqttConnection
from trilink.transports.mqtt.settings import MqttSettings
from trilink.transports.mqtt.transport import MqttTransport


@pytest.fixture
async def broker() -> AsyncIterator[tuple[EmbeddedBroker, dict[str, str]]]:
    users = generate_users("hub", "lamp")
    embedded = EmbeddedBroker(users=users)
    await embedded.start()
    yield embedded, users
    await embedded.stop()


def test_there_is_no_default_password() -> None:
    with pytest.raises(ValueError, match="no default password"):
        EmbeddedBroker(users={})
    with pytest.raises(ValueError, match="must not be empty"):
        EmbeddedBroker(users={"hub": ""})
    with pytest.raises(ValueError):
        generate_users()
    users = generate_users("hub", "lamp")
    assert set(users) == {"hub", "lamp"}
    assert users["hub"] != users["lamp"] and len(users["hub"]) >= 32


def test_the_port_is_known_only_once_started() -> None:
    embedded = EmbeddedBroker(users={"hub": "secret"})
    with pytest.raises(RuntimeError, match="not started"):
        _ = embedded.port


async def test_correct_credentials_work(broker: tuple[EmbeddedBroker, dict[str, str]]) -> None:
    embedded, users = broker
    assert embedded.host == "127.0.0.1" and embedded.port > 0
    s = embedded.settings("lamp", users["lamp"])
    async with aiomqtt.Client(s.host, s.port, username=s.username, password=s.password) as client:
        await client.publish("trilink/v1/dev/lamp/availability", b"online", qos=1, retain=True)
        await client.subscribe("trilink/v1/dev/+/availability", qos=1)
        async with asyncio.timeout(5):
            message = await anext(aiter(client.messages))
    assert message.payload == b"online" and message.retain


@pytest.mark.parametrize(
    ("username", "password"),
    [("hub", "wrong"), ("hub", ""), ("nobody", "whatever"), (None, None)],
    ids=["wrong-password", "empty-password", "unknown-user", "anonymous"],
)
async def test_bad_credentials_are_refused(
    broker: tuple[EmbeddedBroker, dict[str, str]],
    username: str | None,
    password: str | None,
    caplog: pytest.LogCaptureFixture,
) -> None:
    embedded, _ = broker
    with caplog.at_level(logging.WARNING, logger="trilink.transports.mqtt.broker"):
        with pytest.raises(aiomqtt.MqttError, match="Not authorized"):
            async with aiomqtt.Client("127.0.0.1", embedded.port, username=username, password=password):
                pass
        settings = MqttSettings(port=embedded.port, username=username, password=password)
        connection = MqttConnection(settings, client_id="intruder", on_message=lambda m: None)
        with pytest.raises(ConnectionFailed, match="refused the connection"):
            await connection.open(5)
    assert any("refused" in r.getMessage() for r in caplog.records)


async def test_the_hub_reports_refused_credentials(broker: tuple[EmbeddedBroker, dict[str, str]]) -> None:
    embedded, _ = broker
    settings = embedded.settings("hub", "not-the-password")
    transport = MqttTransport(Kernel(), MqttSettings(**{**_fields(settings), "reconnect_max": 0.2}))
    await transport.start()
    try:
        with pytest.raises(TimeoutError, match="refused the connection"):
            await transport.wait_connected(0.5)
        assert "refused" in (transport.stats["last_error"] or "")
    finally:
        await transport.stop()


async def test_start_and_stop_leave_nothing_behind() -> None:
    me = psutil.Process()
    tasks_before = asyncio.all_tasks()
    sockets_before = len(me.net_connections(kind="tcp"))
    users = generate_users("hub")
    embedded = EmbeddedBroker(users=users)
    await embedded.start()
    port = embedded.port
    assert embedded.running

    transport = MqttTransport(Kernel(), embedded.settings("hub", users["hub"]))
    await transport.start()
    await transport.wait_connected(5)
    await transport.stop()
    await embedded.stop()
    await embedded.stop()  # idempotent

    assert not embedded.running
    assert not port_open("127.0.0.1", port)
    await wait_until(lambda: asyncio.all_tasks() == tasks_before, what="every broker task to end")
    await wait_until(
        lambda: len(me.net_connections(kind="tcp")) == sockets_before, what="every broker socket to close"
    )


async def test_it_can_start_again_on_the_same_port() -> None:
    embedded = EmbeddedBroker(users={"hub": "secret"})
    await embedded.start()
    port = embedded.port
    await embedded.stop()
    again = EmbeddedBroker(port=port, users={"hub": "secret"})
    await again.start()
    try:
        assert again.port == port
        connection = MqttConnection(
            again.settings("hub", "secret"), client_id="again", on_message=lambda m: None
        )
        await connection.open(5)
        await connection.close()
    finally:
        await again.stop()


def _fields(settings: MqttSettings) -> dict[str, object]:
    return {name: getattr(settings, name) for name in settings.__slots__}
