"""trilink's miIO transport against python-miio's MIoT simulator, a separate process.

The simulator serves a real spec (zhimi.airp.rmb1, an air purifier) on the fixed port
54321 with a fixed token, so one simulator serves this whole module and the tests run
one after another (see ``tests/miio_peer.py``). It keeps its state between tests: each
test writes the values it reads back.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from conftest import wait_until
from miio_peer import SIM_MODEL, SIM_SPEC, SIM_TOKEN, MiotSimulator
from trilink.kernel import Context, Kernel, PropertyChanged
from trilink.model import InvalidValue, load_spec_file
from trilink.transports.miio.errors import DeviceError, MiioTimeout
from trilink.transports.miio.protocol import MiioClient
from trilink.transports.miio.settings import MiioDeviceSettings
from trilink.transports.miio.transport import MiioTransport

SPEC = load_spec_file(SIM_SPEC)
#: the simulator derives its device id from the model name
DEVICE_ID = int(hashlib.md5(SIM_MODEL.encode()).hexdigest()[:8], 16)
DID = f"miio-{DEVICE_ID}"
FAVORITE_LEVEL = (9, 11)  # uint8, read/write, range 0-14
FAULT = (2, 2)  # read-only
RESET_FILTER = (4, 1)  # action, in: filter-used-time (0-1000)
USER = Context("person", "alice", "ctx-sim")


@pytest.fixture(scope="module")
def simulator() -> Iterator[MiotSimulator]:
    sim = MiotSimulator()
    sim.start()
    yield sim
    sim.stop()


@pytest.fixture
async def client(simulator: MiotSimulator) -> AsyncIterator[MiioClient]:
    c = MiioClient("127.0.0.1", bytes.fromhex(SIM_TOKEN), timeout=1.0)
    await c.open()
    yield c
    c.close()


@pytest.fixture
async def transport(simulator: MiotSimulator) -> AsyncIterator[MiioTransport]:
    t = MiioTransport(Kernel())
    await t.start()
    yield t
    await t.stop()


def settings(**changes: Any) -> MiioDeviceSettings:
    """The simulator's device: the spec is given as its file's path, as in a config."""
    values: dict[str, Any] = {
        "host": "127.0.0.1",
        "token": SIM_TOKEN,
        "spec": str(SIM_SPEC),
        "room": "Living room",
    }
    return MiioDeviceSettings(**(values | changes))


def prop(siid: int, piid: int, **extra: Any) -> dict[str, Any]:
    return {"did": "t", "siid": siid, "piid": piid, **extra}


async def test_handshake(client: MiioClient) -> None:
    assert await client.handshake() == DEVICE_ID
    assert client.stats.handshakes == 1


async def test_get_properties_of_the_whole_spec(client: MiioClient) -> None:
    readable = [p for p in SPEC.iter_properties() if p.readable]
    answers = []
    for start in range(0, len(readable), 15):
        batch = [prop(p.siid, p.iid) for p in readable[start : start + 15]]
        answers += await client.request("get_properties", batch)
    assert [(a["siid"], a["piid"], a["code"]) for a in answers] == [(p.siid, p.iid, 0) for p in readable]
    # every value the simulator makes up is valid for the kernel's spec check
    kernel = Kernel()
    kernel.adopt("sim", model=SIM_MODEL, name="sim", spec=SPEC, transport="miio")
    _, errors = kernel.report_many("sim", [(a["siid"], a["piid"], a["value"]) for a in answers])
    assert errors == []


async def test_set_properties_and_read_back(client: MiioClient) -> None:
    for level in (3, 9):
        assert await client.request("set_properties", [prop(*FAVORITE_LEVEL, value=level)]) == 0
        [answer] = await client.request("get_properties", [prop(*FAVORITE_LEVEL)])
        assert answer["value"] == level


async def test_unknown_method_is_a_device_error(client: MiioClient) -> None:
    with pytest.raises(DeviceError, match=r"\(-2\) unsupported method"):
        await client.request("no_such_method", [])


async def test_link_commands_and_refusals(transport: MiioTransport) -> None:
    await transport.add(settings())
    assert (await transport.send_set(DID, *FAVORITE_LEVEL, 4)).ok
    assert (await transport.send_call(DID, *RESET_FILTER, [500])).ok
    # values the kernel would not let through reach the device only through the link
    # itself; the simulator refuses them, and its code and words are kept
    out_of_range = await transport.send_set(DID, *FAVORITE_LEVEL, 20)
    assert out_of_range.code == -3 and "20 not in range [0, 14, 1]" in out_of_range.message
    read_only = await transport.send_set(DID, *FAULT, 2)
    assert read_only.code == -3 and "read-only" in read_only.message
    bad_input = await transport.send_call(DID, *RESET_FILTER, [5000])
    assert bad_input.code == -3 and "out of range" in bad_input.message
    assert transport.stats["commands_refused"] == 3


async def test_wrong_token(transport: MiioTransport) -> None:
    """The simulator answers the hello but ignores requests it cannot verify, as devices do."""
    with pytest.raises(MiioTimeout, match="answered the handshake: check the token"):
        await transport.add(settings(token="ff" * 16, timeout=0.2))
    # each silent attempt is preceded by a fresh handshake, which the simulator answers
    assert transport.stats["handshakes"] == 3 and transport.stats["timeouts"] == 3
    assert transport.devices == [] and transport.kernel.registry.devices == {}


async def test_the_full_path_through_the_kernel(transport: MiioTransport, client: MiioClient) -> None:
    kernel = transport.kernel
    device = await transport.add(settings(poll_interval=0.2))
    adopted = kernel.registry.device(DID)
    assert (adopted.model, adopted.room_id, adopted.transport) == (SIM_MODEL, "living-room", "miio")
    assert device.firmware == "1.2.4_16"
    assert kernel.state.online[DID] is True
    readable = {(p.siid, p.iid) for p in SPEC.iter_properties() if p.readable}
    assert set(kernel.state.values[DID]) == readable

    changes: list[PropertyChanged] = []
    kernel.bus.subscribe(changes.append, PropertyChanged)
    level = 12 if kernel.state.values[DID][FAVORITE_LEVEL][0] != 12 else 2
    assert (await kernel.set_property(DID, *FAVORITE_LEVEL, level, USER)).ok
    [answer] = await client.request("get_properties", [prop(*FAVORITE_LEVEL)])
    assert answer["value"] == level  # the simulator changed
    await wait_until(lambda: any(c.piid == 11 for c in changes), timeout=3, what="the read-back")
    change = next(c for c in changes if c.piid == 11)
    assert (change.value, change.context.parent_id) == (level, "ctx-sim")
    assert kernel.state.values[DID][FAVORITE_LEVEL][0] == level

    assert (await kernel.call_action(DID, *RESET_FILTER, [10], USER)).ok
    with pytest.raises(InvalidValue):
        await kernel.call_action(DID, *RESET_FILTER, [1001], USER)  # refused by the kernel, never sent
    polls = transport.stats["polls"]
    await wait_until(lambda: transport.stats["polls"] >= polls + 2, timeout=3, what="two more polls")
    assert transport.stats["poll_failures"] == 0 and transport.stats["bad_packets"] == {}
