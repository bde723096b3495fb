"""The copilot routes with the real offline engine on the simulated home: say, confirm, cancel.

Guests may ask but not change; bodies are checked strictly; a held plan is only
confirmed by the token that asked for it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from copilot_world import make_home
from test_api import GUEST, OWNER, error_of
from trilink.api import create_app
from trilink.api.facade import Principal
from trilink.copilot.service import Copilot
from trilink.kernel import Kernel

OTHER = {"Authorization": "Bearer other-owner-token-0123"}


@dataclass
class CopilotHub:
    """The API's view of a hub with a copilot."""

    kernel: Kernel
    copilot: Copilot
    tokens: dict[str, Principal] = field(
        default_factory=lambda: {
            "owner-token-0123456789": Principal("tok-1", "alice", "owner"),
            "guest-token-0123456789": Principal("tok-2", "visitor", "guest"),
            "other-owner-token-0123": Principal("tok-3", "bob", "owner"),
        }
    )

    def authenticate(self, token: str) -> Principal | None:
        return self.tokens.get(token)

    def history(self, *args: Any) -> list[tuple[float, Any]]:
        return []

    def status(self) -> dict[str, Any]:
        return {}


@pytest.fixture
async def home() -> AsyncIterator[tuple[httpx.AsyncClient, Any]]:
    kernel, link, _ = make_home()
    app = create_app(CopilotHub(kernel, Copilot(kernel)))  # type: ignore[arg-type]
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://hub", headers=OWNER) as client:
        yield client, link
    app.state.live.close()


async def test_a_request_in_chinese_is_done_and_answered_in_chinese(home: Any) -> None:
    api, link = home
    r = await api.post("/api/copilot/say", json={"text": "把客厅空调调到24度"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "done" and body["language"] == "zh"
    assert ("set", "ac-living", 2, 3, 24.0) in link.sent
    assert body["text"].startswith("已完成")


async def test_here_uses_the_room_in_the_body(home: Any) -> None:
    api, link = home
    r = await api.post("/api/copilot/say", json={"text": "turn off the light here", "room": "kitchen"})
    assert r.json()["status"] == "done", r.text
    assert link.sent == [("set", "light-kitchen", 2, 1, False)]


async def test_an_unlock_is_held_until_its_owner_confirms(home: Any) -> None:
    api, link = home
    r = await api.post("/api/copilot/say", json={"text": "unlock the front door"})
    body = r.json()
    assert body["status"] == "needs_confirmation" and body["risks"] == ["unlock"] and link.sent == []
    cid = body["confirmation_id"]
    error_of(await api.post(f"/api/copilot/confirm/{cid}", headers=OTHER), 404, "not_found")
    error_of(await api.post(f"/api/copilot/confirm/{cid}", headers=GUEST), 403, "forbidden")
    done = await api.post(f"/api/copilot/confirm/{cid}")
    assert done.json()["status"] == "done" and link.sent == [("call", "lock-front", 2, 2, [])]
    error_of(await api.post(f"/api/copilot/confirm/{cid}"), 404)


async def test_a_cancelled_plan_is_gone(home: Any) -> None:
    api, link = home
    cid = (await api.post("/api/copilot/say", json={"text": "开锁"})).json()["confirmation_id"]
    assert (await api.delete(f"/api/copilot/confirm/{cid}")).status_code == 204
    error_of(await api.delete(f"/api/copilot/confirm/{cid}"), 404)
    assert link.sent == []


async def test_a_guest_may_ask_but_not_change(home: Any) -> None:
    api, link = home
    r = await api.post("/api/copilot/say", json={"text": "is the front door locked?"}, headers=GUEST)
    assert r.json()["status"] == "answered" and "locked" in r.json()["text"]
    dry = await api.post(
        "/api/copilot/say", json={"text": "turn on the bedroom light", "dry_run": True}, headers=GUEST
    )
    assert dry.json()["status"] == "dry_run"
    err = error_of(
        await api.post("/api/copilot/say", json={"text": "turn on the bedroom light"}, headers=GUEST), 403
    )
    assert err["plan"]["steps"][0]["did"] == "light-bedroom"
    assert link.sent == []


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"text": ""},
        {"text": 42},
        {"text": "x" * 2001},
        {"text": "hi", "dry_run": "yes"},
        {"text": "hi", "extra": 1},
        {"text": "hi", "room": "attic"},
        ["text"],
    ],
    ids=["missing", "empty", "number", "too-long", "bool-as-text", "extra-field", "unknown-room", "list"],
)
async def test_malformed_bodies_get_a_clear_error(home: Any, body: Any) -> None:
    api, link = home
    r = await api.post("/api/copilot/say", json=body)
    assert r.status_code in (400, 422), r.text
    assert error_of(r, r.status_code)["message"]
    assert link.sent == []


async def test_a_body_that_is_not_json(home: Any) -> None:
    api, _ = home
    r = await api.post("/api/copilot/say", content=b"{not json", headers={"Content-Type": "application/json"})
    error_of(r, r.status_code)
    assert r.status_code in (400, 422)


class OneScene:
    """An automation engine with one scene, recording what it applies."""

    def __init__(self) -> None:
        self.applied: list[str] = []

    def check_data(self, data: Any, source: str) -> list[Any]:
        return []

    def load_data(self, data: Any, source: str) -> Any:
        return None

    def zones(self) -> list[dict[str, Any]]:
        return []

    def scenes(self) -> list[dict[str, Any]]:
        return [{"id": "movie", "name": "Movie Time", "states": []}]

    async def apply_scene(self, scene_id: str, context: Any) -> list[dict[str, Any]]:
        self.applied.append(scene_id)
        return []


async def test_a_guest_may_not_activate_a_scene() -> None:
    kernel, _, _ = make_home()
    engine = OneScene()
    app = create_app(CopilotHub(kernel, Copilot(kernel, automations=engine)))  # type: ignore[arg-type]
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://hub", headers=OWNER) as api:
        err = error_of(
            await api.post("/api/copilot/say", json={"text": "activate movie time"}, headers=GUEST), 403
        )
        assert err["plan"]["scenes"] == [{"id": "movie", "name": "Movie Time"}] and engine.applied == []
        r = await api.post("/api/copilot/say", json={"text": "activate movie time"})
        assert r.json()["status"] == "done" and engine.applied == ["movie"]
    app.state.live.close()
