"""MiioClient against a fake device on loopback: handshake, ids, retries, and bad answers."""

from __future__ import annotations

import asyncio
import itertools
import socket
from collections.abc import AsyncIterator

import pytest

from miio_peer import FakeMiioDevice
from trilink.transports.miio.errors import DeviceError, MiioTimeout, MiioUnreachable
from trilink.transports.miio.protocol import ID_JUMP, MiioClient

TOKEN = bytes(range(16))


@pytest.fixture
async def fake() -> AsyncIterator[FakeMiioDevice]:
    device = FakeMiioDevice({(2, 1): True, (2, 2): 50}, token=TOKEN)
    await device.start()
    yield device
    device.close()


@pytest.fixture
async def client(fake: FakeMiioDevice) -> AsyncIterator[MiioClient]:
    c = MiioClient("127.0.0.1", TOKEN, port=fake.port, timeout=0.1, retries=2)
    await c.open()
    yield c
    c.close()


def _ids(fake: FakeMiioDevice) -> list[int]:
    return [r["id"] for r in fake.requests]


async def test_handshake_then_requests_with_increasing_ids(fake: FakeMiioDevice, client: MiioClient) -> None:
    assert await client.handshake() == 4242
    result = await client.request("get_properties", [{"did": "x", "siid": 2, "piid": 2}])
    assert result == [{"did": "x", "siid": 2, "piid": 2, "code": 0, "value": 50}]
    await client.request("get_properties", [{"did": "x", "siid": 2, "piid": 1}])
    first, second = _ids(fake)
    assert second == first + 1 or (first == 9999 and second == 1)
    assert fake.hellos == 1  # the handshake is kept while the device answers
    assert client.stats.requests == 2 and client.stats.answers == 2 and client.stats.retries == 0


async def test_ids_wrap_below_10000(fake: FakeMiioDevice, client: MiioClient) -> None:
    client._counter = 9998
    for _ in range(3):
        await client.request("miIO.info", [])
    assert _ids(fake) == [9998, 9999, 1]


async def test_first_request_makes_the_handshake(fake: FakeMiioDevice, client: MiioClient) -> None:
    await client.request("miIO.info", [])
    assert fake.hellos == 1 and client.device_id == 4242


async def test_error_answer_is_a_device_error(client: MiioClient) -> None:
    with pytest.raises(DeviceError, match=r"refused \(-32601\) Method not found") as caught:
        await client.request("no_such_method", [])
    assert caught.value.code == -32601
    assert client.stats.device_errors == 1


async def test_silent_requests_are_retried_with_new_ids(fake: FakeMiioDevice, client: MiioClient) -> None:
    fake.hello_only = True
    with pytest.raises(MiioTimeout, match=r"after 3 tries .* check the token"):
        await client.request("get_properties", [])
    ids = _ids(fake)
    assert len(ids) == 3 and len(set(ids)) == 3
    # the counter jumps after a silent attempt (devices drop ids they think they have seen)
    assert all((b - a) % 9999 == ID_JUMP + 1 for a, b in itertools.pairwise(ids))
    # a silent attempt makes the next one start with a fresh handshake
    assert fake.hellos == 3
    stats = client.stats
    assert (stats.requests, stats.timeouts, stats.retries, stats.failures) == (3, 3, 2, 1)


async def test_late_answer_to_an_earlier_attempt_completes_the_request(
    fake: FakeMiioDevice, client: MiioClient
) -> None:
    fake.delay = 0.15  # longer than one attempt, shorter than two
    result = await client.request("get_properties", [{"did": "x", "siid": 2, "piid": 2}])
    assert result[0]["value"] == 50
    assert client.stats.timeouts == 1 and client.stats.retries == 1
    await asyncio.sleep(0.2)  # the second attempt's answer arrives after the request ended
    assert client.stats.late_answers == 1


async def test_silent_device_fails_the_handshake(fake: FakeMiioDevice, client: MiioClient) -> None:
    fake.silent = True
    with pytest.raises(MiioTimeout, match="no answer to the handshake after 3 tries"):
        await client.request("get_properties", [])
    assert client.stats.handshake_timeouts == 3 and client.stats.requests == 0


async def test_answers_signed_with_another_token_are_dropped_and_explained(
    fake: FakeMiioDevice, client: MiioClient
) -> None:
    fake.answer_with_token(bytes(16))
    with pytest.raises(MiioTimeout, match="fail the checksum: the token is wrong"):
        await client.request("miIO.info", [])
    assert client.stats.bad_packets == {"bad-checksum": 3}


async def test_a_wrong_token_gets_no_answer(fake: FakeMiioDevice) -> None:
    """Devices ignore requests they cannot verify; the error points at the token."""
    wrong = MiioClient("127.0.0.1", bytes(16), port=fake.port, timeout=0.05, retries=1)
    await wrong.open()
    try:
        with pytest.raises(MiioTimeout, match="check the token"):
            await wrong.request("miIO.info", [])
    finally:
        wrong.close()
    assert fake.bad == ["bad-checksum", "bad-checksum"]


@pytest.mark.parametrize(
    ("garbage", "reason"),
    [
        (b"{not json\x00", "not-json"),
        (b"\xc3\x28 invalid utf-8", "not-json"),
        (b"[1, 2, 3]", "not-object"),
        (b'{"result": 0}', "bad-id"),
        (b'{"id": "1", "result": 0}', "bad-id"),
    ],
)
async def test_malformed_json_in_a_valid_packet(
    fake: FakeMiioDevice, client: MiioClient, garbage: bytes, reason: str
) -> None:
    fake.garbage = garbage
    with pytest.raises(MiioTimeout, match="unreadable answers"):
        await client.request("miIO.info", [])
    assert client.stats.bad_packets == {reason: 3}
    # the client still works once the device speaks properly again
    fake.garbage = None
    assert (await client.request("miIO.info", []))["model"] == "trilink.fake.v1"


async def test_garbage_datagrams_never_raise(fake: FakeMiioDevice, client: MiioClient) -> None:
    await client.handshake()
    for junk in (b"", b"\x21\x31", b"x" * 40, bytes(32), b"\x21\x31\x00\x30" + bytes(44)):
        client._on_datagram(junk)
    assert client.stats.bad_packets == {"too-short": 2, "bad-magic": 2, "bad-checksum": 1}
    assert await client.request("miIO.info", [])


async def test_closed_port_is_unreachable_at_once() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    c = MiioClient("127.0.0.1", TOKEN, port=port, timeout=5, retries=2)
    await c.open()
    try:
        async with asyncio.timeout(2):
            with pytest.raises(MiioUnreachable, match="nothing listens there"):
                await c.handshake()
    finally:
        c.close()
    assert c.stats.unreachable >= 1


async def test_cancelled_request_forgets_its_ids(fake: FakeMiioDevice, client: MiioClient) -> None:
    fake.hello_only = True
    task = asyncio.create_task(client.request("miIO.info", []))
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert client._pending == {}
    fake.hello_only = False
    assert await client.request("miIO.info", [])  # the slot was released


async def test_concurrent_requests_are_matched_by_id(fake: FakeMiioDevice) -> None:
    c = MiioClient("127.0.0.1", TOKEN, port=fake.port, timeout=0.5, max_in_flight=8)
    await c.open()
    try:
        fake.delay = 0.02
        keys = [(2, 1), (2, 2)] * 10
        results = await asyncio.gather(
            *(c.request("get_properties", [{"did": "x", "siid": s, "piid": p}]) for s, p in keys)
        )
    finally:
        c.close()
    assert [r[0]["piid"] for r in results] == [p for _, p in keys]
    assert len(set(_ids(fake))) == 20 and c.stats.timeouts == 0
