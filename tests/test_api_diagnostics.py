"""The diagnostics routes over the real service (with a stand-in detector) on the simulated home."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from copilot_world import make_home
from test_api import GUEST, OWNER, error_of
from test_diagnostics_service import airflow, detectors
from trilink.api import create_app
from trilink.api.facade import Principal
from trilink.diagnostics.findings import MemoryReminders
from trilink.diagnostics.service import Diagnostics
from trilink.kernel import Kernel


@dataclass
class DiagHub:
    kernel: Kernel
    diagnostics: Diagnostics
    tokens: dict[str, Principal] = field(
        default_factory=lambda: {
            "owner-token-0123456789": Principal("tok-1", "alice", "owner"),
            "guest-token-0123456789": Principal("tok-2", "visitor", "guest"),
        }
    )

    def authenticate(self, token: str) -> Principal | None:
        return self.tokens.get(token)

    def history(self, *args: Any) -> list[tuple[float, Any]]:
        return []

    def status(self) -> dict[str, Any]:
        return {}


@pytest.fixture
async def api() -> AsyncIterator[tuple[httpx.AsyncClient, Diagnostics, Kernel]]:
    kernel, _, _ = make_home()
    diag = Diagnostics(kernel, MemoryReminders(), detectors=detectors)  # type: ignore[arg-type]
    await diag.start()
    app = create_app(DiagHub(kernel, diag))  # type: ignore[arg-type]
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://hub", headers=OWNER
    ) as client:
        yield client, diag, kernel
    app.state.live.close()
    await diag.stop()


async def test_reminders_can_be_listed_acknowledged_snoozed_and_resolved(api: Any) -> None:
    client, diag, kernel = api
    assert (await client.get("/api/diagnostics/reminders")).json() == {"reminders": []}
    diag.observe("ac-living", airflow(kernel, "ac-living", 350))
    (r,) = (await client.get("/api/diagnostics/reminders?active=true")).json()["reminders"]
    assert r["fault"] == "filter_clog" and r["status"] == "open" and "350" in r["evidence"]
    assert (r["title"], r["severity_means"]) == ("Air filter clogged", "of the healthy airflow lost")
    rid = r["id"]
    assert (await client.post(f"/api/diagnostics/reminders/{rid}/acknowledge")).json()[
        "status"
    ] == "acknowledged"
    snoozed = (await client.post(f"/api/diagnostics/reminders/{rid}/snooze", json={"hours": 12})).json()
    assert snoozed["status"] == "snoozed" and snoozed["snoozed_until"] > kernel.clock.now()
    assert (await client.post(f"/api/diagnostics/reminders/{rid}/resolve")).json()["status"] == "resolved"
    assert (await client.get("/api/diagnostics/reminders?active=true")).json() == {"reminders": []}
    status = (await client.get("/api/diagnostics/devices/ac-living")).json()
    assert status["detectors"][0]["name"] == "Clogged"
    assert status["detectors"][0]["learning"] is False


async def test_a_resolved_reminder_is_closed(api: Any) -> None:
    """Resolving twice must not reset the unit's baseline again: the second gets 409."""
    client, diag, kernel = api
    diag.observe("ac-living", airflow(kernel, "ac-living", 350))
    (r,) = (await client.get("/api/diagnostics/reminders")).json()["reminders"]
    assert (await client.post(f"/api/diagnostics/reminders/{r['id']}/resolve")).status_code == 200
    resets = diag.detectors["ac-living"][0].resets  # type: ignore[attr-defined]
    for action, body in (("resolve", None), ("acknowledge", None), ("snooze", {"hours": 1})):
        err = error_of(await client.post(f"/api/diagnostics/reminders/{r['id']}/{action}", json=body), 409)
        assert "resolved already" in str(err)
    assert diag.detectors["ac-living"][0].resets == resets  # type: ignore[attr-defined]


async def test_guests_may_read_but_not_change(api: Any) -> None:
    client, diag, kernel = api
    diag.observe("ac-living", airflow(kernel, "ac-living", 350))
    assert (await client.get("/api/diagnostics/reminders", headers=GUEST)).status_code == 200
    error_of(await client.post("/api/diagnostics/reminders/1/acknowledge", headers=GUEST), 403)


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("post", "/api/diagnostics/reminders/99/acknowledge", None, 404),
        ("post", "/api/diagnostics/reminders/0/acknowledge", None, 422),
        ("post", "/api/diagnostics/reminders/abc/resolve", None, 422),
        ("post", "/api/diagnostics/reminders/1/snooze", {"hours": -1}, 422),
        ("post", "/api/diagnostics/reminders/1/snooze", {"hours": "soon"}, 422),
        ("post", "/api/diagnostics/reminders/1/snooze", {"hours": 1, "x": 1}, 422),
        ("post", "/api/diagnostics/reminders/1/snooze", None, 422),
        ("get", "/api/diagnostics/devices/light-living", None, 404),
        ("get", "/api/diagnostics/devices/nope", None, 404),
        ("get", "/api/diagnostics/reminders?limit=0", None, 422),
        ("get", "/api/diagnostics/reminders?active=maybe", None, 422),
    ],
)
async def test_malformed_requests_get_clear_errors(
    api: Any, method: str, path: str, body: Any, status: int
) -> None:
    client, diag, kernel = api
    diag.observe("ac-living", airflow(kernel, "ac-living", 350))
    kwargs = {"json": body} if body is not None else {}
    error_of(await getattr(client, method)(path, **kwargs), status)
