"""The REST API against a real kernel, a small in-test device link and a two-token hub.

The world built here (``build_world``) is shared with tests/test_api_ws.py and
tests/test_cli_client.py.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trilink.api import Principal, create_app
from trilink.api.auth import TokenRedactor
from trilink.api.live import EventFilter
from trilink.clock import ManualClock
from trilink.kernel import Device, Floor, Home, Kernel, Outcome, Person, Room
from trilink.model import builtin_spec

OWNER_TOKEN = "owner-token-0123456789"
GUEST_TOKEN = "guest-token-0123456789"
OWNER = {"Authorization": f"Bearer {OWNER_TOKEN}"}
GUEST = {"Authorization": f"Bearer {GUEST_TOKEN}"}
START = 1_800_000_000.0


class FakeLink:
    """A device link that answers in-process: sets are confirmed by reporting the new value.

    ``mode[did]`` is ``"ok"`` (default), ``"refuse"`` (answers with an error code) or
    ``"silent"`` (never answers, so the kernel times out).
    """

    name = "fake"

    def __init__(self, kernel: Kernel) -> None:
        self.kernel = kernel
        self.mode: dict[str, str] = {}
        self.sent: list[tuple[Any, ...]] = []
        self.action_out: dict[tuple[str, int, int], list[Any]] = {}

    async def _answer(self, did: str) -> Outcome | None:
        mode = self.mode.get(did, "ok")
        if mode == "silent":
            await asyncio.Event().wait()
        if mode == "refuse":
            return Outcome(code=-4004, message="the device is busy")
        return None

    async def send_set(self, did: str, siid: int, piid: int, value: Any) -> Outcome:
        """Record the write and answer according to the device's mode."""
        self.sent.append(("set", did, siid, piid, value))
        refused = await self._answer(did)
        if refused is not None:
            return refused
        self.kernel.report(did, siid, piid, value)
        return Outcome()

    async def send_call(self, did: str, siid: int, aiid: int, args: list[Any]) -> Outcome:
        """Record the call and answer according to the device's mode."""
        self.sent.append(("call", did, siid, aiid, args))
        refused = await self._answer(did)
        if refused is not None:
            return refused
        return Outcome(out=self.action_out.get((did, siid, aiid), []))


@dataclass
class FakeHub:
    """The hub as the API sees it: two tokens, canned history and counters."""

    kernel: Kernel
    tokens: dict[str, Principal] = field(
        default_factory=lambda: {
            OWNER_TOKEN: Principal("tok-1", "alice", "owner"),
            GUEST_TOKEN: Principal("tok-2", "visitor", "guest"),
        }
    )
    samples: list[tuple[float, Any]] = field(default_factory=lambda: [(START - 60, 21.5), (START, 22.5)])
    history_calls: list[tuple[Any, ...]] = field(default_factory=list)

    def authenticate(self, token: str) -> Principal | None:
        """The principal of a known token."""
        return self.tokens.get(token)

    def history(
        self, did: str, siid: int, piid: int, since: float | None, until: float | None, limit: int
    ) -> list[tuple[float, Any]]:
        """The canned samples; records what was asked."""
        self.history_calls.append((did, siid, piid, since, until, limit))
        return self.samples[:limit]

    def status(self) -> dict[str, Any]:
        """Counters as a hub would report them."""
        return {"transports": {"fake": "running"}, "store": {"rows": 2}}


@dataclass
class World:
    """A kernel with a home, rooms, people and devices, its link and its hub facade."""

    kernel: Kernel
    link: FakeLink
    hub: FakeHub


def build_world(command_timeout: float = 0.3) -> World:
    """One home: AC and lock in the living room, a bedroom light, Alice's car and phone.

    Everything is online except the lock; ``radio-bed`` uses a transport nobody attached.
    """
    kernel = Kernel(clock=ManualClock(START), command_timeout=command_timeout)
    link = FakeLink(kernel)
    kernel.attach(link)
    kernel.add_home(Home("home", "Our home", 52.5, 13.4, "Europe/Berlin"))
    kernel.add_floor(Floor("upper", "home", "Upstairs", ("first floor",), level=1))
    kernel.add_floor(Floor("ground", "home", "Ground floor", level=0))
    kernel.add_room(Room("living", "home", "Living room", ("lounge",), floor_id="ground"))
    kernel.add_room(Room("bedroom", "home", "Bedroom", floor_id="upper"))
    kernel.add_room(Room("garage", "home", "Garage"))
    kernel.add_person(Person("alice", "home", "Alice", "phone-alice", "car-alice", "owner"))
    kernel.add_person(Person("bob", "home", "Bob"))
    devices = [
        ("ac-living", "Living room AC", "trilink.aircondition.sim1", "living", None, "fake"),
        ("light-bed", "Bedside light", "trilink.light.sim1", "bedroom", None, "fake"),
        ("lock-front", "Front door", "trilink.lock.sim1", "living", None, "fake"),
        ("car-alice", "Alice's car", "trilink.car.sim1", "garage", "alice", "fake"),
        ("phone-alice", "Alice's phone", "trilink.phone.sim1", None, "alice", "fake"),
        ("radio-bed", "Bedroom radio", "trilink.plug.sim1", "bedroom", None, "zigbee"),
    ]
    for did, name, model, room, owner, transport in devices:
        kernel.add_device(
            Device(did, name, model, builtin_spec(model), transport, "home", room, owner_id=owner)
        )
        kernel.set_online(did, did != "lock-front")
    kernel.report("ac-living", 2, 1, True)
    kernel.report("ac-living", 2, 3, 24.0)
    kernel.report("ac-living", 4, 1, 22.5)
    kernel.report("car-alice", 2, 1, 80.0)
    return World(kernel, link, FakeHub(kernel))


@pytest.fixture
def world() -> World:
    """A fresh world per test."""
    return build_world()


@pytest.fixture
async def api(world: World) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client for the app, sending the owner's token unless a test overrides it."""
    app = create_app(world.hub)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://hub", headers=OWNER) as client:
        yield client
    app.state.live.close()


def error_of(response: httpx.Response, status: int, code: str | None = None) -> dict[str, Any]:
    """Assert an error answer in the one shape and return its ``error`` object."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}, body
    err = body["error"]
    assert isinstance(err["code"], str) and err["code"]
    assert isinstance(err["message"], str) and err["message"]
    if code is not None:
        assert err["code"] == code, err
    return err


# ------------------------------------------------------------------------ auth
ENDPOINTS = [
    ("GET", "/api/status", None),
    ("GET", "/api/homes", None),
    ("GET", "/api/devices", None),
    ("GET", "/api/devices/ac-living", None),
    ("GET", "/api/devices/ac-living/spec", None),
    ("GET", "/api/devices/ac-living/properties/2.3", None),
    ("PUT", "/api/devices/ac-living/properties/2.3", {"value": 25}),
    ("POST", "/api/devices/car-alice/actions/6.1", None),
    ("GET", "/api/devices/ac-living/history/4.1", None),
    ("GET", "/api/events", None),
    ("GET", "/api/openapi.json", None),
    # auth comes before routing and body parsing: a malformed body still gets 401
    ("PUT", "/api/devices/ac-living/properties/2.3", "{not json"),
    ("GET", "/api/no-such-endpoint", None),
]
BAD_AUTH = [
    {},
    {"Authorization": "Bearer wrong-token"},
    {"Authorization": "Bearer "},
    {"Authorization": f"Basic {OWNER_TOKEN}"},
    {"Authorization": OWNER_TOKEN},
]


@pytest.mark.parametrize("headers", BAD_AUTH, ids=["none", "wrong", "empty", "basic", "no-scheme"])
@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS, ids=[f"{m} {p}" for m, p, _ in ENDPOINTS])
async def test_every_endpoint_needs_a_valid_token(
    world: World, method: str, path: str, body: Any, headers: dict[str, str]
) -> None:
    app = create_app(world.hub)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://hub") as client:
        content = body if isinstance(body, str) else None
        payload = body if not isinstance(body, str) else None
        r = await client.request(
            method,
            path,
            json=payload,
            content=content,
            headers={**headers, "Content-Type": "application/json"},
        )
    app.state.live.close()
    err = error_of(r, 401, "unauthorized")
    assert r.headers["WWW-Authenticate"].startswith("Bearer")
    assert "token" in err["message"] or "Authorization" in err["message"]
    assert world.link.sent == []


async def test_a_refused_token_is_told_apart_from_a_missing_one(api: httpx.AsyncClient) -> None:
    missing = error_of(await api.get("/api/status", headers={"Authorization": ""}), 401)
    refused = error_of(await api.get("/api/status", headers={"Authorization": "Bearer nope"}), 401)
    assert "missing" in missing["message"] or "must be" in missing["message"]
    assert refused["message"] == "the token was refused"


async def test_a_guest_may_read_but_not_write(api: httpx.AsyncClient, world: World) -> None:
    assert (await api.get("/api/devices", headers=GUEST)).status_code == 200
    assert (await api.get("/api/devices/ac-living/properties/2.3", headers=GUEST)).status_code == 200
    err = error_of(
        await api.put("/api/devices/ac-living/properties/2.3", json={"value": 25}, headers=GUEST),
        403,
        "forbidden",
    )
    assert "guest" in err["message"]
    error_of(await api.post("/api/devices/car-alice/actions/6.1", headers=GUEST), 403, "forbidden")
    assert world.link.sent == []


async def test_no_page_is_public_and_the_document_needs_a_token(api: httpx.AsyncClient) -> None:
    page = await api.get("/api/docs", headers={"Authorization": ""})
    assert page.status_code == 401
    assert (await api.get("/api/openapi.json", headers={"Authorization": ""})).status_code == 401
    doc = (await api.get("/api/openapi.json")).json()
    assert doc["info"]["title"] == "trilink API"
    assert "/api/devices/{did}/properties/{address}" in doc["paths"]
    assert doc["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    assert "/api/openapi.json" not in doc["paths"]


def test_tokens_in_websocket_urls_are_masked_in_server_logs() -> None:
    record = logging.LogRecord(
        "uvicorn.error",
        logging.INFO,
        __file__,
        1,
        '%s - "WebSocket %s" [accepted]',
        ("127.0.0.1:5000", "/api/ws?did=a&token=s3cret&kind=x"),
        None,
    )
    assert TokenRedactor().filter(record)
    assert "s3cret" not in record.getMessage()
    assert "token=***&kind=x" in record.getMessage()


# ---------------------------------------------------------------------- system
async def test_status_counts_devices_and_passes_the_hub_status_through(api: httpx.AsyncClient) -> None:
    body = (await api.get("/api/status")).json()
    assert body["devices"] == {"total": 6, "online": 5}
    assert body["hub"] == {"transports": {"fake": "running"}, "store": {"rows": 2}}
    assert body["caller"] == {"name": "alice", "role": "owner"}
    assert body["uptime"] >= 0


async def test_homes_list_floors_rooms_and_people_with_their_phone_and_car(api: httpx.AsyncClient) -> None:
    (home,) = (await api.get("/api/homes")).json()
    assert home["id"] == "home" and home["timezone"] == "Europe/Berlin"
    assert home["floors"] == [  # lowest first
        {"id": "ground", "name": "Ground floor", "aliases": [], "level": 0},
        {"id": "upper", "name": "Upstairs", "aliases": ["first floor"], "level": 1},
    ]
    assert {r["id"] for r in home["rooms"]} == {"living", "bedroom", "garage"}
    assert {"id": "living", "name": "Living room", "aliases": ["lounge"], "floor_id": "ground"} in home[
        "rooms"
    ]
    assert {"id": "garage", "name": "Garage", "aliases": [], "floor_id": None} in home["rooms"]
    alice = next(p for p in home["people"] if p["id"] == "alice")
    assert alice == {
        "id": "alice",
        "name": "Alice",
        "role": "owner",
        "phone_did": "phone-alice",
        "car_did": "car-alice",
    }


# --------------------------------------------------------------------- devices
async def test_list_devices_with_filters(api: httpx.AsyncClient) -> None:
    devices = (await api.get("/api/devices")).json()
    assert len(devices) == 6
    ac = next(d for d in devices if d["did"] == "ac-living")
    assert ac == {
        "did": "ac-living",
        "name": "Living room AC",
        "model": "trilink.aircondition.sim1",
        "kind": "air-conditioner",
        "room_id": "living",
        "home_id": "home",
        "owner_id": None,
        "online": True,
    }
    living = (await api.get("/api/devices", params={"room": "living"})).json()
    assert {d["did"] for d in living} == {"ac-living", "lock-front"}
    offline = (await api.get("/api/devices", params={"online": "false"})).json()
    assert [d["did"] for d in offline] == ["lock-front"]
    assert (await api.get("/api/devices", params={"home": "elsewhere"})).json() == []
    err = error_of(await api.get("/api/devices", params={"online": "maybe"}), 422, "invalid-request")
    assert "online" in err["message"]


async def test_device_detail_has_readings_with_names_and_units(api: httpx.AsyncClient) -> None:
    body = (await api.get("/api/devices/ac-living")).json()
    assert body["kind"] == "air-conditioner" and body["transport"] == "fake" and body["online"] is True
    by_addr = {(r["siid"], r["piid"]): r for r in body["readings"]}
    assert set(by_addr) == {(2, 1), (2, 3), (4, 1)}
    target = by_addr[(2, 3)]
    assert target == {
        "siid": 2,
        "piid": 3,
        "service": "air-conditioner",
        "property": "target-temperature",
        "description": target["description"],
        "format": "float",
        "unit": "celsius",
        "access": ["read", "write", "notify"],
        "value": 24.0,
        "choice": None,
        "ts": START,
    }
    assert target["description"]


async def test_a_reading_from_a_value_list_says_what_it_means(api: httpx.AsyncClient, world: World) -> None:
    world.kernel.report("ac-living", 2, 2, 2)
    reading = (await api.get("/api/devices/ac-living/properties/2.2")).json()
    assert reading["value"] == 2 and reading["choice"] == "Cool"


async def test_device_spec_is_the_miot_document(api: httpx.AsyncClient) -> None:
    body = (await api.get("/api/devices/car-alice/spec")).json()
    assert body == builtin_spec("trilink.car.sim1").to_dict()


async def test_one_reading(api: httpx.AsyncClient) -> None:
    body = (await api.get("/api/devices/ac-living/properties/2.3")).json()
    assert body["value"] == 24.0 and body["ts"] == START and body["did"] == "ac-living"
    assert body["property"] == "target-temperature" and body["unit"] == "celsius"


async def test_a_reading_never_reported_is_a_clear_404(api: httpx.AsyncClient) -> None:
    err = error_of(await api.get("/api/devices/ac-living/properties/3.1"), 404, "no-reading")
    assert "ac-living" in err["message"] and "3.1" in err["message"] and "fan-level" in err["message"]
    err = error_of(await api.get("/api/devices/ac-living/properties/9.9"), 404, "unknown-property")
    assert (err["siid"], err["piid"]) == (9, 9)


async def test_unknown_device_is_404_on_every_route(api: httpx.AsyncClient) -> None:
    for r in [
        await api.get("/api/devices/nope"),
        await api.get("/api/devices/nope/spec"),
        await api.get("/api/devices/nope/properties/2.1"),
        await api.put("/api/devices/nope/properties/2.1", json={"value": True}),
        await api.post("/api/devices/nope/actions/2.1"),
        await api.get("/api/devices/nope/history/2.1"),
    ]:
        err = error_of(r, 404, "not-found")
        assert err["message"] == "unknown device 'nope'" and err["id"] == "nope"


# -------------------------------------------------------------------- commands
async def test_set_a_property(api: httpx.AsyncClient, world: World) -> None:
    r = await api.put("/api/devices/ac-living/properties/2.3", json={"value": 25.5})
    assert r.status_code == 200, r.text
    assert r.json() == {"ok": True, "did": "ac-living", "siid": 2, "piid": 3, "value": 25.5, "message": ""}
    assert world.link.sent == [("set", "ac-living", 2, 3, 25.5)]
    assert world.kernel.state.get("ac-living", 2, 3) == (25.5, START)
    written = (await api.get("/api/events", params={"kind": "property-written"})).json()
    assert written[-1]["context"]["actor"] == "api" and written[-1]["context"]["actor_id"] == "alice"
    changed = (await api.get("/api/events", params={"kind": "property-changed", "did": "ac-living"})).json()
    # the device's confirmation is linked to the API call that asked for it
    assert changed[-1]["value"] == 25.5
    assert changed[-1]["context"]["parent_id"] == written[-1]["context"]["id"]


async def test_a_value_out_of_range_is_422_and_nothing_is_sent(api: httpx.AsyncClient, world: World) -> None:
    err = error_of(
        await api.put("/api/devices/ac-living/properties/2.3", json={"value": 40}), 422, "invalid-value"
    )
    assert (err["did"], err["siid"], err["piid"], err["rule"]) == ("ac-living", 2, 3, "range")
    assert "16..31" in err["message"]
    err = error_of(await api.put("/api/devices/ac-living/properties/2.3", json={"value": 24.2}), 422)
    assert err["rule"] == "step"
    err = error_of(await api.put("/api/devices/ac-living/properties/4.1", json={"value": 20}), 422)
    assert err["rule"] == "access"
    err = error_of(await api.put("/api/devices/ac-living/properties/2.1", json={"value": "yes"}), 422)
    assert err["rule"] == "format"
    err = error_of(await api.put("/api/devices/ac-living/properties/9.1", json={"value": 1}), 422)
    assert err["rule"] == "unknown-property"
    assert world.link.sent == []
    assert world.kernel.state.get("ac-living", 2, 3) == (24.0, START)


async def test_an_offline_device_is_409(api: httpx.AsyncClient, world: World) -> None:
    err = error_of(await api.post("/api/devices/lock-front/actions/2.1"), 409, "device-offline")
    assert err["did"] == "lock-front" and "offline" in err["message"]
    assert world.link.sent == []


async def test_a_silent_device_is_504(api: httpx.AsyncClient, world: World) -> None:
    world.link.mode["light-bed"] = "silent"
    err = error_of(
        await api.put("/api/devices/light-bed/properties/2.1", json={"value": True}), 504, "timeout"
    )
    assert err["did"] == "light-bed" and "no answer" in err["message"]


async def test_a_refusing_device_is_502(api: httpx.AsyncClient, world: World) -> None:
    world.link.mode["light-bed"] = "refuse"
    err = error_of(
        await api.put("/api/devices/light-bed/properties/2.2", json={"value": 50}), 502, "device-refused"
    )
    assert err["device_code"] == -4004 and "busy" in err["message"]
    err = error_of(await api.post("/api/devices/light-bed/actions/2.1"), 422, "invalid-value")
    assert err["rule"] == "unknown-action"


async def test_a_device_without_a_running_transport_is_503(api: httpx.AsyncClient) -> None:
    err = error_of(
        await api.put("/api/devices/radio-bed/properties/2.1", json={"value": True}), 503, "no-transport"
    )
    assert "zigbee" in err["message"]


async def test_call_actions(api: httpx.AsyncClient, world: World) -> None:
    r = await api.post("/api/devices/car-alice/actions/6.1")
    assert r.status_code == 200, r.text
    assert r.json() == {"ok": True, "did": "car-alice", "siid": 6, "aiid": 1, "out": [], "message": ""}
    world.link.action_out[("phone-alice", 6, 1)] = ["delivered"]
    r = await api.post("/api/devices/phone-alice/actions/6.1", json={"in": ["Dinner", "is ready"]})
    assert r.json()["out"] == ["delivered"]
    assert world.link.sent == [
        ("call", "car-alice", 6, 1, []),
        ("call", "phone-alice", 6, 1, ["Dinner", "is ready"]),
    ]
    assert (await api.post("/api/devices/car-alice/actions/6.2", json={"in": []})).status_code == 200
    assert (await api.post("/api/devices/car-alice/actions/6.2", json=None)).status_code == 200


async def test_wrong_action_arguments_are_422(api: httpx.AsyncClient, world: World) -> None:
    err = error_of(await api.post("/api/devices/phone-alice/actions/6.1", json={"in": ["only one"]}), 422)
    assert (err["rule"], err["aiid"]) == ("arguments", 1)
    err = error_of(await api.post("/api/devices/phone-alice/actions/6.1", json={"in": ["a", 5]}), 422)
    assert (err["rule"], err["piid"]) == ("format", 2)
    err = error_of(await api.post("/api/devices/phone-alice/actions/6.1"), 422)
    assert err["rule"] == "arguments"
    assert world.link.sent == []


# ------------------------------------------------------------ malformed input
MALFORMED_BODIES = [
    ("{not json", 400, "malformed-json"),
    ('{"value": 1', 400, "malformed-json"),
    ("\xff\xfe", 400, "malformed-json"),
    ("[" * 30_000 + "]" * 30_000, 400, "malformed-json"),
    ("[1, 2]", 422, "invalid-request"),
    ('"text"', 422, "invalid-request"),
    ("{}", 422, "invalid-request"),
    ('{"valeu": 25}', 422, "invalid-request"),
    ('{"value": 25, "extra": 1}', 422, "invalid-request"),
]


@pytest.mark.parametrize(("body", "status", "code"), MALFORMED_BODIES, ids=range(len(MALFORMED_BODIES)))
async def test_malformed_set_bodies(
    api: httpx.AsyncClient, world: World, body: str, status: int, code: str
) -> None:
    r = await api.put(
        "/api/devices/ac-living/properties/2.3",
        content=body.encode("utf-8", "surrogateescape") if body != "\xff\xfe" else b"\xff\xfe",
        headers={"Content-Type": "application/json"},
    )
    err = error_of(r, status, code)
    assert len(err["message"]) < 2000
    assert world.link.sent == []


async def test_malformed_action_bodies(api: httpx.AsyncClient) -> None:
    for body in ('{"in": "Dinner"}', '{"args": []}', "[]", "{bad"):
        r = await api.post(
            "/api/devices/phone-alice/actions/6.1", content=body, headers={"Content-Type": "application/json"}
        )
        assert r.status_code in (400, 422)
        error_of(r, r.status_code)


async def test_a_body_without_json_content_type_is_refused(api: httpx.AsyncClient, world: World) -> None:
    r = await api.put("/api/devices/ac-living/properties/2.3", content=b'{"value": 25}')
    error_of(r, 422, "invalid-request")
    r = await api.put(
        "/api/devices/ac-living/properties/2.3",
        content=b'{"value": 25}',
        headers={"Content-Type": "text/plain"},
    )
    error_of(r, 422, "invalid-request")
    assert world.link.sent == []


async def test_a_huge_body_is_refused(api: httpx.AsyncClient) -> None:
    r = await api.put("/api/devices/ac-living/properties/2.3", json={"value": "x" * 200_000})
    assert "65536 bytes" in error_of(r, 413, "too-large")["message"]

    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"value": "'
        for _ in range(100):
            yield b"x" * 1000
        yield b'"}'

    # no Content-Length: counted as it arrives
    r = await api.put(
        "/api/devices/ac-living/properties/2.3",
        content=chunks(),
        headers={"Content-Type": "application/json"},
    )
    error_of(r, 413, "too-large")


@pytest.mark.parametrize(
    "address", ["2", "2.", ".3", "2.x", "a.b", "2.3.4", "-1.2", "2,3", "٢.٣", "1" * 12 + ".1"]
)
async def test_bad_addresses_are_400(api: httpx.AsyncClient, address: str) -> None:
    for r in [
        await api.get(f"/api/devices/ac-living/properties/{address}"),
        await api.put(f"/api/devices/ac-living/properties/{address}", json={"value": 1}),
        await api.post(f"/api/devices/ac-living/actions/{address}"),
        await api.get(f"/api/devices/ac-living/history/{address}"),
    ]:
        err = error_of(r, 400, "bad-address")
        assert "SIID." in err["message"]


async def test_unknown_routes_and_methods_answer_in_the_error_shape(api: httpx.AsyncClient) -> None:
    err = error_of(await api.get("/api/nothing/here"), 404, "not-found")
    assert "/api/nothing/here" in err["message"]
    err = error_of(await api.delete("/api/devices/ac-living"), 405, "method-not-allowed")
    assert "DELETE" in err["message"]


async def test_bad_query_parameters_are_422(api: httpx.AsyncClient) -> None:
    for path, params in [
        ("/api/events", {"limit": "0"}),
        ("/api/events", {"limit": "many"}),
        ("/api/events", {"kind": "explosion"}),
        ("/api/devices/ac-living/history/4.1", {"limit": "-1"}),
        ("/api/devices/ac-living/history/4.1", {"since": "nan"}),
        ("/api/devices/ac-living/history/4.1", {"since": "yesterday"}),
        ("/api/devices/ac-living/history/4.1", {"since": "10", "until": "5"}),
    ]:
        error_of(await api.get(path, params=params), 422, "invalid-request")


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=JSON_VALUES, address=st.sampled_from(["2.1", "2.2", "2.3", "3.1", "4.1", "9.9"]))
async def test_hostile_values_never_cause_a_server_error(
    api: httpx.AsyncClient, value: Any, address: str
) -> None:
    r = await api.put(f"/api/devices/ac-living/properties/{address}", json={"value": value})
    assert r.status_code in (200, 404, 422), r.text
    if r.status_code != 200:
        error_of(r, r.status_code)


PATH_TEXT = st.text(st.characters(codec="utf-8"), min_size=1, max_size=30) | st.sampled_from(
    ["..", "%2F", "2.3", "0.0", "99999999999.1", "ac-living", "\x00"]
)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    did=PATH_TEXT,
    address=PATH_TEXT,
    method=st.sampled_from(["GET", "PUT", "POST"]),
    body=st.binary(max_size=40),
)
async def test_hostile_paths_and_bodies_never_cause_a_server_error(
    api: httpx.AsyncClient, did: str, address: str, method: str, body: bytes
) -> None:
    kind = {"GET": "properties", "PUT": "properties", "POST": "actions"}[method]
    r = await api.request(
        method,
        f"/api/devices/{quote(did, safe='')}/{kind}/{quote(address, safe='')}",
        content=body,
        headers={"Content-Type": "application/json"},
    )
    assert r.status_code < 500, r.text
    if r.status_code >= 400:
        error_of(r, r.status_code)


# ------------------------------------------------------------ history, events
async def test_history_is_passed_through_from_the_hub(api: httpx.AsyncClient, world: World) -> None:
    r = await api.get(
        "/api/devices/ac-living/history/4.1", params={"since": START - 3600, "until": START, "limit": 5}
    )
    assert r.json() == [{"ts": START - 60, "value": 21.5}, {"ts": START, "value": 22.5}]
    assert world.hub.history_calls == [("ac-living", 4, 1, START - 3600, START, 5)]
    assert (await api.get("/api/devices/ac-living/history/4.1")).status_code == 200
    assert world.hub.history_calls[-1] == ("ac-living", 4, 1, None, None, 1000)
    error_of(await api.get("/api/devices/ac-living/history/9.1"), 404, "unknown-property")


async def test_recent_events_buffer(world: World) -> None:
    app = create_app(world.hub, recent_events=5)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://hub", headers=OWNER
    ) as api:
        for value in (1, 2, 3, 4, 5, 6, 7):
            world.kernel.report("light-bed", 2, 2, value * 10)
        world.kernel.report("ac-living", 4, 1, 23.0)
        events = (await api.get("/api/events")).json()
        assert len(events) == 5
        assert [e.get("value") for e in events] == [40, 50, 60, 70, 23.0]
        assert events[-1] == {
            "kind": "property-changed",
            "did": "ac-living",
            "siid": 4,
            "piid": 1,
            "value": 23.0,
            "old_value": 22.5,
            "ts": START,
            "context": events[-1]["context"],
        }
        assert events[-1]["context"]["actor"] == "device"
        light = (await api.get("/api/events", params={"did": "light-bed", "limit": 2})).json()
        assert [e["value"] for e in light] == [60, 70]
        both = (
            await api.get("/api/events", params=[("did", "light-bed"), ("did", "ac-living"), ("limit", 3)])
        ).json()
        assert [e["did"] for e in both] == ["light-bed", "light-bed", "ac-living"]
        world.kernel.set_online("light-bed", False)
        avail = (await api.get("/api/events", params={"kind": "availability"})).json()
        assert avail[-1]["online"] is False
    app.state.live.close()
    # a closed feed has left the bus: nothing more is recorded
    world.kernel.report("ac-living", 4, 1, 19.0)
    assert app.state.live.recent(10, EventFilter())[-1]["kind"] == "availability"


async def test_malformed_json_says_where(api: httpx.AsyncClient) -> None:
    r = await api.put(
        "/api/devices/ac-living/properties/2.3",
        content=b'{"value": 1',
        headers={"Content-Type": "application/json"},
    )
    assert "at character 11" in error_of(r, 400, "malformed-json")["message"]
