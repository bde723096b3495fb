"""``GET /api/devices/{did}/stats/{siid}.{piid}``: statistics from a real store, and malformed requests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from test_api import OWNER, START, FakeHub, build_world, error_of
from trilink.api import create_app
from trilink.store import SQLiteStore
from trilink.store.stats import Sample, StatRow

T0 = 1_800_000_000  # a multiple of 3600 (START)


@dataclass
class StatsHub(FakeHub):
    """The test hub with statistics from a real SQLite store."""

    store: SQLiteStore | None = None

    def stats(
        self,
        did: str,
        siid: int,
        piid: int,
        period: str,
        since: float | None,
        until: float | None,
        limit: int,
    ) -> list[StatRow]:
        assert self.store is not None
        return self.store.stats(did, siid, piid, period=period, since=since, until=until, limit=limit)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SQLiteStore]:
    with SQLiteStore(tmp_path / "api.db") as s:
        # indoor temperature of the AC (4.1, float): 12 samples, one every 10 minutes
        s.append([Sample("ac-living", 4, 1, T0 + 600 * i, 20.0 + i) for i in range(12)])
        yield s


@pytest.fixture
async def client(store: SQLiteStore) -> AsyncIterator[httpx.AsyncClient]:
    world = build_world()
    app = create_app(StatsHub(world.kernel, store=store))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://hub", headers=OWNER
    ) as c:
        yield c
    app.state.live.close()


async def test_hourly_statistics(client: httpx.AsyncClient) -> None:
    r = await client.get("/api/devices/ac-living/stats/4.1", params={"period": "1h"})
    assert r.status_code == 200, r.text
    assert r.json() == {
        "period": "1h",
        "rows": [
            {"ts": T0, "min": 20.0, "mean": 22.5, "max": 25.0, "count": 6},
            {"ts": T0 + 3600, "min": 26.0, "mean": 28.5, "max": 31.0, "count": 6},
        ],
    }


async def test_five_minute_statistics_with_range_and_limit(client: httpx.AsyncClient) -> None:
    r = await client.get("/api/devices/ac-living/stats/4.1")
    body = r.json()
    assert body["period"] == "5m" and len(body["rows"]) == 12
    assert body["rows"][0] == {"ts": T0, "min": 20.0, "mean": 20.0, "max": 20.0, "count": 1}
    params: dict[str, Any] = {"since": T0 + 1000, "until": T0 + 3000, "limit": 2}
    r = await client.get("/api/devices/ac-living/stats/4.1", params=params)
    assert [row["ts"] - T0 for row in r.json()["rows"]] == [1800, 2400]
    r = await client.get("/api/devices/ac-living/stats/4.1", params={"since": START + 86400})
    assert r.json() == {"period": "5m", "rows": []}


async def test_a_numeric_property_without_data_has_no_rows(client: httpx.AsyncClient) -> None:
    r = await client.get("/api/devices/ac-living/stats/2.3")
    assert r.status_code == 200 and r.json()["rows"] == []


@pytest.mark.parametrize(
    ("path", "params", "status", "code"),
    [
        ("/api/devices/ac-living/stats/4.1", {"period": "1d"}, 422, "invalid-request"),
        ("/api/devices/ac-living/stats/4.1", {"period": ""}, 422, "invalid-request"),
        ("/api/devices/ac-living/stats/4.1", {"since": "2", "until": "1"}, 422, "invalid-request"),
        ("/api/devices/ac-living/stats/4.1", {"since": "yesterday"}, 422, "invalid-request"),
        ("/api/devices/ac-living/stats/4.1", {"until": "nan"}, 422, "invalid-request"),
        ("/api/devices/ac-living/stats/4.1", {"limit": "0"}, 422, "invalid-request"),
        ("/api/devices/ac-living/stats/4.1", {"limit": "10001"}, 422, "invalid-request"),
        ("/api/devices/ac-living/stats/2.1", {}, 422, "not-numeric"),  # bool
        ("/api/devices/ac-living/stats/1.1", {}, 422, "not-numeric"),  # string
        ("/api/devices/ac-living/stats/9.9", {}, 404, "unknown-property"),
        ("/api/devices/no-such-device/stats/4.1", {}, 404, "not-found"),
        ("/api/devices/ac-living/stats/4", {}, 400, "bad-address"),
        ("/api/devices/ac-living/stats/4.x", {}, 400, "bad-address"),
    ],
)
async def test_malformed_requests_are_answered_in_the_error_shape(
    client: httpx.AsyncClient, path: str, params: dict[str, str], status: int, code: str
) -> None:
    error_of(await client.get(path, params=params), status, code)


async def test_statistics_need_a_token(client: httpx.AsyncClient) -> None:
    r = await client.get("/api/devices/ac-living/stats/4.1", headers={"Authorization": "Bearer nope"})
    error_of(r, 401)


async def test_a_hub_without_statistics_serves_no_such_route() -> None:
    world = build_world()
    app = create_app(world.hub)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://hub", headers=OWNER
    ) as c:
        error_of(await c.get("/api/devices/ac-living/stats/4.1"), 404)
    app.state.live.close()
