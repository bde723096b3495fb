"""MiioTransport with a kernel, against a fake device: adoption, polling, offline and back, commands."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from conftest import wait_until
from miio_peer import FakeMiioDevice
from trilink.kernel import AvailabilityChanged, Context, DeviceRefused, Kernel, PropertyChanged
from trilink.model import parse_spec
from trilink.transports.miio.errors import InvalidToken, MiioTimeout
from trilink.transports.miio.settings import MiioDeviceSettings, read_token
from trilink.transports.miio.transport import MiioTransport

TOKEN_HEX = "000102030405060708090a0b0c0d0e0f"
TOKEN = bytes.fromhex(TOKEN_HEX)


def _prop(piid: int, name: str, fmt: str, access: list[str], **extra: Any) -> dict[str, Any]:
    return {
        "iid": piid,
        "type": f"urn:miot-spec-v2:property:{name}:00000001:test:1",
        "format": fmt,
        "access": access,
        **extra,
    }


#: a light with 20 readable sensor values besides (so a poll takes two batches), a
#: property the device lacks (it answers -4003), and an action
SPEC = parse_spec(
    {
        "type": "urn:miot-spec-v2:device:light:0000A001:trilink-fake:1",
        "description": "Fake Light",
        "services": [
            {
                "iid": 2,
                "type": "urn:miot-spec-v2:service:light:00007802:trilink-fake:1",
                "properties": [
                    _prop(1, "on", "bool", ["read", "write", "notify"]),
                    _prop(2, "brightness", "uint8", ["read", "write"], **{"value-range": [1, 100, 1]}),
                    _prop(9, "mystery", "uint8", ["read", "write"]),
                ],
                "actions": [
                    {
                        "iid": 1,
                        "type": "urn:miot-spec-v2:action:toggle:00002811:trilink-fake:1",
                        "in": [],
                        "out": [2],
                    }
                ],
            },
            {
                "iid": 3,
                "type": "urn:miot-spec-v2:service:sensors:00007803:trilink-fake:1",
                "properties": [_prop(i, f"value-{i}", "int32", ["read"]) for i in range(1, 21)],
            },
        ],
    }
)
VALUES: dict[tuple[int, int], Any] = {(2, 1): True, (2, 2): 50, **{(3, i): i * 10 for i in range(1, 21)}}
USER = Context("person", "alice", "ctx-alice")


@pytest.fixture
async def fake() -> AsyncIterator[FakeMiioDevice]:
    device = FakeMiioDevice(VALUES, token=TOKEN)
    await device.start()
    yield device
    device.close()


@pytest.fixture
async def transport() -> AsyncIterator[MiioTransport]:
    t = MiioTransport(Kernel())
    await t.start()
    yield t
    await t.stop()


def fast(port: int, **changes: Any) -> MiioDeviceSettings:
    """Settings with test-sized times."""
    base = MiioDeviceSettings(
        "127.0.0.1",
        TOKEN_HEX,
        SPEC,
        port=port,
        room="Office",
        poll_interval=30,
        timeout=0.05,
        retries=1,
        backoff_min=0.02,
        backoff_max=0.16,
        offline_after=2,
    )
    return replace(base, **changes)


async def test_add_adopts_and_polls_in_batches(
    fake: FakeMiioDevice, transport: MiioTransport, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    device = await transport.add(fast(fake.port))
    kernel = transport.kernel
    assert device.did == "miio-4242" and device.model == "trilink.fake.v1" and device.firmware == "1.0.0"
    known = kernel.registry.device("miio-4242")
    assert (known.transport, known.room_id, known.name, known.model) == (
        "miio",
        "office",
        "Fake Light",
        "trilink.fake.v1",
    )
    assert kernel.state.online["miio-4242"] is True
    assert kernel.state.values["miio-4242"][(3, 20)][0] == 200
    polls = [r["params"] for r in fake.requests if r["method"] == "get_properties"]
    assert [len(p) for p in polls] == [15, 8]  # 23 readable properties, 15 a request
    stats = transport.stats
    assert stats["property_errors"] == {"-4003": 1} and stats["values_reported"] == 22
    # the device lacks (2, 9): it is not asked for again
    await device.poll()
    assert sum(len(r["params"]) for r in fake.requests[-2:]) == 22
    # the token (and the one in miIO.info's answer) appear nowhere
    shown = caplog.text + repr(stats) + repr(device.settings) + repr(device.client)
    assert TOKEN_HEX not in shown and "f" * 32 not in shown


async def test_commands_through_the_kernel(fake: FakeMiioDevice, transport: MiioTransport) -> None:
    kernel = transport.kernel
    await transport.add(fast(fake.port))
    changes: list[PropertyChanged] = []
    kernel.bus.subscribe(changes.append, PropertyChanged)
    outcome = await kernel.set_property("miio-4242", 2, 2, 80, USER)
    assert outcome.ok and fake.values[(2, 2)] == 80
    # the command wakes the poll: the device's own confirmation reaches the kernel, linked to the command
    await wait_until(lambda: bool(changes), timeout=2, what="the read-back")
    assert (changes[0].piid, changes[0].value, changes[0].context.parent_id) == (2, 80, "ctx-alice")
    outcome = await kernel.call_action("miio-4242", 2, 1, [], USER)
    assert outcome.out == [42]
    # the device lacks (2, 9): its code comes back as the kernel's DeviceRefused
    with pytest.raises(
        DeviceRefused, match=r"\(-4003\) the property, action or event does not exist"
    ) as caught:
        await kernel.set_property("miio-4242", 2, 9, 1, USER)
    assert caught.value.device_code == -4003
    assert transport.stats["commands"] == 3 and transport.stats["commands_refused"] == 1


async def test_actions_are_not_retried(fake: FakeMiioDevice, transport: MiioTransport) -> None:
    await transport.add(fast(fake.port))
    fake.hello_only = True
    with pytest.raises(Exception, match="no answer to action after 1 tries"):
        await transport.send_call("miio-4242", 2, 1, [])
    assert [r["method"] for r in fake.requests].count("action") == 1


async def test_silent_device_goes_offline_with_backoff_and_comes_back(
    fake: FakeMiioDevice, transport: MiioTransport
) -> None:
    kernel = transport.kernel
    seen: list[bool] = []
    kernel.bus.subscribe(lambda e: seen.append(e.online), AvailabilityChanged)
    device = await transport.add(fast(fake.port, poll_interval=0.05))
    fake.silent = True
    delays: list[float] = []

    def failed(count: int) -> bool:
        if device.failures:
            delays.append(device.next_delay)
        return device.failures >= count

    await wait_until(lambda: failed(2), timeout=5, what="two failed polls")
    assert kernel.state.online["miio-4242"] is False  # offline_after=2
    await wait_until(lambda: failed(5), timeout=5, what="more failed polls")
    # the wait doubles from backoff_min (0.02, with jitter down to half) up to backoff_max (0.16)
    assert min(delays) >= 0.02 and max(delays) <= 0.16 and device.next_delay >= 0.08
    stats = transport.stats
    assert stats["timeouts"] > 0 and stats["retries"] > 0 and stats["poll_failures"] >= 4
    assert stats["devices"][0]["online"] is False and "handshake" in stats["devices"][0]["last_error"]
    fake.silent = False
    await wait_until(lambda: kernel.state.online["miio-4242"] is True, timeout=5, what="back online")
    assert device.failures == 0 and seen == [True, False, True]


async def test_add_a_silent_device_fails_cleanly(fake: FakeMiioDevice, transport: MiioTransport) -> None:
    fake.silent = True
    with pytest.raises(MiioTimeout, match="no answer to the handshake"):
        await transport.add(fast(fake.port))
    assert transport.devices == [] and transport.kernel.registry.devices == {}


async def test_add_without_waiting_keeps_trying(fake: FakeMiioDevice, transport: MiioTransport) -> None:
    fake.silent = True
    device = await transport.add(fast(fake.port, did="lamp"), wait=False)
    assert not device.adopted
    await wait_until(lambda: device.failures >= 2, timeout=5, what="failed first contacts")
    fake.silent = False
    await wait_until(
        lambda: transport.kernel.state.online.get("lamp") is True, timeout=5, what="first contact"
    )
    assert transport.kernel.registry.device("lamp").transport == "miio"


async def test_same_address_twice_is_refused(fake: FakeMiioDevice, transport: MiioTransport) -> None:
    await transport.add(fast(fake.port))
    with pytest.raises(ValueError, match="already added as miio-4242"):
        await transport.add(fast(fake.port))


async def test_polling_ends_when_the_hub_forgets_the_device(
    fake: FakeMiioDevice, transport: MiioTransport, caplog: pytest.LogCaptureFixture
) -> None:
    device = await transport.add(fast(fake.port, poll_interval=0.02))
    transport.kernel.remove_device("miio-4242")
    await wait_until(
        lambda: device._task is not None and device._task.done(), timeout=2, what="the poll task"
    )
    assert "removed from the hub" in caplog.text


async def test_stop_marks_devices_offline(fake: FakeMiioDevice) -> None:
    transport = MiioTransport(Kernel())
    await transport.start()
    await transport.add(fast(fake.port))
    await transport.stop()
    assert transport.kernel.state.online["miio-4242"] is False


# ------------------------------------------------------------------ settings
def test_settings_check_the_token_without_showing_it() -> None:
    with pytest.raises(InvalidToken, match=r"miio device '10\.0\.0\.5': token: .* this one has 31"):
        MiioDeviceSettings("10.0.0.5", TOKEN_HEX[:31], SPEC)
    settings = MiioDeviceSettings("10.0.0.5", TOKEN_HEX, SPEC)
    assert TOKEN_HEX not in repr(settings) and settings.token_bytes == TOKEN


@pytest.mark.parametrize(
    ("changes", "says"),
    [
        ({"batch_size": 20}, "batch_size must be 1-16"),
        ({"poll_interval": 0}, "poll_interval must be a positive"),
        ({"did": "has space"}, "did 'has space'"),
        ({"port": 0}, "port must be 1-65535"),
        ({"backoff_min": 5, "backoff_max": 1}, "backoff_max"),
        ({"retries": -1}, "retries cannot be -1"),
    ],
)
def test_settings_name_the_bad_field(changes: dict[str, Any], says: str) -> None:
    with pytest.raises(ValueError, match=says):
        MiioDeviceSettings("10.0.0.5", TOKEN_HEX, SPEC, **changes)


def test_read_token_from_env_or_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAMP_TOKEN", TOKEN_HEX)
    assert read_token(token_env="LAMP_TOKEN") == TOKEN_HEX
    (tmp_path / "lamp.token").write_text(TOKEN_HEX + "\n")
    assert read_token(token_file=tmp_path / "lamp.token") == TOKEN_HEX
    with pytest.raises(InvalidToken, match=r"NOPE .* is not set"):
        read_token(token_env="NOPE")
    with pytest.raises(InvalidToken, match="either token_env or token_file"):
        read_token()
    (tmp_path / "bad.token").write_text("xyz")
    with pytest.raises(InvalidToken, match=r"bad\.token: a token has 32 .* has 3"):
        read_token(token_file=tmp_path / "bad.token")
