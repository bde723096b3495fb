"""The discovery routes over the real discovery service, fed by real announcements on loopback.

Adoption goes through a fake :class:`Adopter` that records what it was handed: that
interface is ours (the hub connects it to the miIO transport), so a stand-in is fair.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from test_api import GUEST, OWNER, build_world, error_of
from test_zeroconf_discovery import (
    LOOPBACK,
    Announcer,
    broker_info,
    candidate_for,
    device_id,
    miio_info,
    require_loopback_mdns,
)
from trilink.api import create_app
from trilink.api.routes_discovery import discovery_router
from trilink.transports.zeroconf.adoption import AdoptionError, KnownMiio, MiioAdoption, adopted_check
from trilink.transports.zeroconf.service import ZeroconfDiscovery
from trilink.transports.zeroconf.settings import ZeroconfSettings

TOKEN = "00112233445566778899AABBCCDDEEFF"


@dataclass
class FakeAdopter:
    """Records each adoption and answers with a did (or fails as told)."""

    calls: list[MiioAdoption] = field(default_factory=list)
    failure: AdoptionError | None = None
    adopted: list[KnownMiio] = field(default_factory=list)

    async def adopt_miio(self, device: MiioAdoption) -> str:
        self.calls.append(device)
        if self.failure is not None:
            raise self.failure
        self.adopted.append(KnownMiio(device.host, device.device_id))
        return f"purifier-{device.device_id}"

    def known(self) -> list[KnownMiio]:
        """The hub's miIO devices, for the adopted-check."""
        return self.adopted


@dataclass
class Lan:
    client: httpx.AsyncClient
    discovery: ZeroconfDiscovery
    adopter: FakeAdopter
    miio_id: str
    device_id: int
    broker_id: str


@pytest.fixture
async def lan() -> AsyncIterator[Lan]:
    """A purifier and a broker announced on loopback, discovery browsing, the API in front of it."""
    await require_loopback_mdns()
    adopter = FakeAdopter()
    settings = ZeroconfSettings(interfaces=(LOOPBACK,), resolve_timeout=0.5)
    discovery = ZeroconfDiscovery(
        settings, adopter=adopter, is_adopted=adopted_check(miio=adopter.known, broker=("192.0.2.99", 1883))
    )
    announcer = Announcer()
    world = build_world()
    app = create_app(world.hub)
    app.include_router(discovery_router(discovery))
    try:
        await discovery.start()
        did = device_id()
        broker_name = f"broker-{uuid.uuid4().hex[:8]}"
        await announcer.register(miio_info(did), broker_info(broker_name, server="nas-api.local."))
        await candidate_for(discovery, f"miio-{did}")
        broker_id = next(c["id"] for c in discovery.candidates("mqtt-broker") if c["name"] == broker_name)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://hub", headers=OWNER
        ) as client:
            yield Lan(client, discovery, adopter, f"miio-{did}", did, broker_id)
    finally:
        app.state.live.close()
        await discovery.stop()
        await announcer.close()


async def test_candidates_are_listed_for_every_caller(lan: Lan) -> None:
    answer = (await lan.client.get("/api/discovery")).json()
    assert answer["running"] is True and answer["browsing"] is True and answer["error"] is None
    assert answer["announced"] is None and answer["stats"]["candidates"] >= 2
    by_id = {c["id"]: c for c in answer["candidates"]}
    purifier = by_id[lan.miio_id]
    assert purifier["model"] == "zhimi.airpurifier.m1" and purifier["device_id"] == lan.device_id
    assert purifier["host"] == LOOPBACK and purifier["port"] == 54321 and purifier["adopted"] is False
    assert by_id[lan.broker_id]["kind"] == "mqtt-broker"

    only_miio = (await lan.client.get("/api/discovery?kind=miio", headers=GUEST)).json()["candidates"]
    assert lan.miio_id in {c["id"] for c in only_miio} and {c["kind"] for c in only_miio} == {"miio"}
    one = await lan.client.get(f"/api/discovery/{lan.miio_id}", headers=GUEST)
    assert one.status_code == 200 and one.json()["id"] == lan.miio_id
    error_of(await lan.client.get("/api/discovery?kind=zigbee"), 422)
    error_of(await lan.client.get("/api/discovery", headers={"Authorization": "Bearer nope"}), 401)


async def test_a_miio_device_is_adopted_through_the_hubs_adopter(
    lan: Lan, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    body = {"token": TOKEN, "name": "Bedroom purifier", "room": "bedroom"}
    response = await lan.client.post(f"/api/discovery/{lan.miio_id}/adopt", json=body)
    assert response.status_code == 200, response.text
    assert response.json() == {
        "id": lan.miio_id, "kind": "miio", "did": f"purifier-{lan.device_id}",
        "model": "zhimi.airpurifier.m1", "host": LOOPBACK, "port": 54321, "adopted": True,
    }  # fmt: skip
    (call,) = lan.adopter.calls
    assert call == MiioAdoption(
        LOOPBACK, 54321, lan.device_id, "zhimi.airpurifier.m1", TOKEN.lower(), "Bedroom purifier", "bedroom"
    )
    # the token went to the adopter and nowhere else
    assert TOKEN.lower() not in response.text.lower() and TOKEN.lower() not in caplog.text.lower()

    listed = (await lan.client.get(f"/api/discovery/{lan.miio_id}")).json()
    assert listed["adopted"] is True and listed["did"] == f"purifier-{lan.device_id}"
    assert (await lan.client.get("/api/discovery?adopted=false")).json()["candidates"] == [
        c for c in lan.discovery.candidates() if not c["adopted"]
    ]
    again = error_of(await lan.client.post(f"/api/discovery/{lan.miio_id}/adopt", json=body), 409)
    assert "already adopted" in again["message"] and len(lan.adopter.calls) == 1


async def test_a_model_and_spec_can_be_given(lan: Lan) -> None:
    body = {
        "token": TOKEN.lower(),
        "model": "zhimi.airpurifier.v6",
        "spec": "specs/zhimi.airpurifier.v6.json",
    }
    assert (await lan.client.post(f"/api/discovery/{lan.miio_id}/adopt", json=body)).status_code == 200
    (call,) = lan.adopter.calls
    assert call.model == "zhimi.airpurifier.v6" and call.spec == "specs/zhimi.airpurifier.v6.json"


async def test_guests_may_not_adopt(lan: Lan) -> None:
    response = await lan.client.post(
        f"/api/discovery/{lan.miio_id}/adopt", json={"token": TOKEN}, headers=GUEST
    )
    assert error_of(response, 403)["role"] == "guest"
    assert lan.adopter.calls == []


MALFORMED: list[tuple[Any, int, str]] = [
    ({"token": "abc123"}, 422, "32 hexadecimal"),
    ({"token": "z" * 32}, 422, "32 hexadecimal"),
    ({"token": 1234}, 422, "token"),
    ({}, 422, "token"),
    (None, 422, "token"),
    ({"token": TOKEN, "colour": "red"}, 422, "colour"),
    ({"token": TOKEN, "model": "Not A Model"}, 422, "model"),
    ({"token": TOKEN, "name": ""}, 422, "name"),
    ("{not json", 400, "JSON"),
]


async def test_malformed_adoptions_get_clear_errors(lan: Lan) -> None:
    url = f"/api/discovery/{lan.miio_id}/adopt"
    for body, status, needle in MALFORMED:
        if isinstance(body, str):
            response = await lan.client.post(url, content=body, headers={"Content-Type": "application/json"})
        elif body is None:
            response = await lan.client.post(url)
        else:
            response = await lan.client.post(url, json=body)
        error = error_of(response, status)
        assert needle.lower() in response.text.lower(), (body, error)
        if isinstance(body, dict) and isinstance(body.get("token"), str):
            assert body["token"] not in response.text or body["token"] == TOKEN  # never echoed
    assert lan.adopter.calls == []


async def test_unknown_candidates_are_404(lan: Lan) -> None:
    assert "no candidate" in error_of(await lan.client.get("/api/discovery/miio-1"), 404)["message"]
    error_of(await lan.client.post("/api/discovery/miio-1/adopt", json={"token": TOKEN}), 404)
    error_of(await lan.client.post(f"/api/discovery/{'x' * 81}/adopt", json={"token": TOKEN}), 422)


async def test_a_broker_is_answered_with_the_config_to_use_it(lan: Lan) -> None:
    response = await lan.client.post(f"/api/discovery/{lan.broker_id}/adopt")
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["kind"] == "mqtt-broker" and answer["applied"] is False
    assert answer["settings"] == {"host": LOOPBACK, "port": 1883}
    assert answer["config"] == f"mqtt:\n  host: {LOOPBACK}\n  port: 1883\n"
    assert any("nas-api.local" in note for note in answer["notes"])
    with_token = await lan.client.post(f"/api/discovery/{lan.broker_id}/adopt", json={"token": TOKEN})
    assert "without a body" in error_of(with_token, 422)["message"]


async def test_adopter_failures_are_answered(lan: Lan) -> None:
    url = f"/api/discovery/{lan.miio_id}/adopt"
    statuses = {"unreachable": 504, "invalid": 422, "conflict": 409, "failed": 502, "unavailable": 503}
    for reason, status in statuses.items():
        lan.adopter.failure = AdoptionError("the device did not answer at 127.0.0.1:54321", reason)  # type: ignore[arg-type]
        response = await lan.client.post(url, json={"token": TOKEN})
        assert error_of(response, status)["message"] == "the device did not answer at 127.0.0.1:54321"
    lan.adopter.failure = None
    assert (await lan.client.post(url, json={"token": TOKEN})).status_code == 200
    assert len(lan.adopter.calls) == len(statuses) + 1


async def test_a_hub_without_a_miio_transport_says_so(lan: Lan) -> None:
    lan.discovery.adopter = None
    response = await lan.client.post(f"/api/discovery/{lan.miio_id}/adopt", json={"token": TOKEN})
    assert "no miIO transport" in error_of(response, 503)["message"]
