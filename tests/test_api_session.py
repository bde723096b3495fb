"""Browser sessions: sign in with a token for a cookie, CSRF and Origin rules, sign-out, revocation,
expiry, restarts, hostile bodies and the sign-in rate limit.

Most tests drive the API of a real :class:`Hub` (real store, sessions and tokens) through
the ASGI app without starting its transport; the end-to-end tests start the hub (with
Mosquitto) and talk to its real server, WebSocket included.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from test_api import World, build_world, error_of
from test_hub_e2e import hub_config, running
from trilink.api import Principal, Session, create_app
from trilink.api.facade import sessions_of
from trilink.api.routes_session import AttemptLimiter, client_key
from trilink.hub import Hub
from trilink.kernel import Room
from trilink.store import SESSION_LIFETIME, SQLiteStore, list_tokens, revoke_token
from trilink.transports.mqtt.settings import MqttSettings

COOKIE_RE = re.compile(
    r"trilink_session=([A-Za-z0-9_-]{43}); HttpOnly; SameSite=Strict; Path=/; Max-Age=2592000"
)
CSRF = {"X-Trilink-Request": "1"}


class Clock:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Site:
    """The API of a real (not started) hub, with an owner and a guest token."""

    hub: Hub
    app: FastAPI
    owner: str
    guest: str
    clock: Clock

    async def call(
        self,
        method: str,
        path: str,
        *,
        cookie: str | None = None,
        headers: dict[str, str] | None = None,
        body: Any = None,
        content: bytes | str | None = None,
        base: str = "http://hub",
        address: str = "10.0.0.1",
    ) -> httpx.Response:
        """One request from a fresh client (no cookie jar carried over between calls)."""
        sent = dict(headers or {})
        if cookie is not None:
            sent["Cookie"] = f"trilink_session={cookie}"
        transport = httpx.ASGITransport(app=self.app, client=(address, 50000))
        async with httpx.AsyncClient(transport=transport, base_url=base) as client:
            return await client.request(method, path, json=body, content=content, headers=sent)

    async def sign_in(self, token: str | None = None, **kwargs: Any) -> str:
        """Sign in and return the session id from the cookie."""
        r = await self.call("POST", "/api/session", body={"token": token or self.owner}, **kwargs)
        assert r.status_code == 200, r.text
        match = COOKIE_RE.fullmatch(r.headers["set-cookie"])
        assert match, r.headers["set-cookie"]
        return match.group(1)


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    hub = Hub(hub_config(tmp_path))
    hub.store.open()
    owner = hub.new_token("alice", "owner")
    guest = hub.new_token("visitor", "guest")
    clock = Clock()
    app = create_app(hub, static_dir=tmp_path / "no-front-end", sign_in_attempts=AttemptLimiter(clock=clock))
    yield Site(hub, app, owner, guest, clock)
    app.state.live.close()
    hub.store.close()


def token_id(site: Site, name: str) -> int:
    return next(r.id for r in list_tokens(site.hub.store) if r.name == name)


# ---------------------------------------------------------------------- sign in
async def test_signing_in_sets_an_httponly_strict_cookie(site: Site) -> None:
    before = time.time()
    r = await site.call("POST", "/api/session", body={"token": site.owner})
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {"name", "role", "expires"}
    assert (body["name"], body["role"]) == ("alice", "owner")
    assert isinstance(body["expires"], int)
    assert before + SESSION_LIFETIME - 1 <= body["expires"] <= time.time() + SESSION_LIFETIME
    cookies = r.headers.get_list("set-cookie")
    assert len(cookies) == 1
    assert COOKIE_RE.fullmatch(cookies[0]), cookies[0]
    assert "Secure" not in cookies[0]  # plain http: a Secure cookie would never come back
    assert r.headers["cache-control"] == "no-store"


async def test_over_https_the_cookie_is_secure(site: Site) -> None:
    r = await site.call("POST", "/api/session", body={"token": site.owner}, base="https://hub")
    assert r.status_code == 200
    assert r.headers["set-cookie"].endswith("; Secure")
    assert COOKIE_RE.match(r.headers["set-cookie"])
    session_id = COOKIE_RE.match(r.headers["set-cookie"]).group(1)  # type: ignore[union-attr]
    r = await site.call("DELETE", "/api/session", cookie=session_id, headers=CSRF, base="https://hub")
    assert r.status_code == 204
    assert r.headers["set-cookie"] == "trilink_session=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0; Secure"


async def test_the_session_id_is_not_the_token_and_only_its_digest_is_stored(site: Site) -> None:
    session_id = await site.sign_in()
    assert session_id not in site.owner and site.owner not in session_id
    with site.hub.store.reading() as conn:
        rows = conn.execute("SELECT * FROM sessions").fetchall()
    assert len(rows) == 1 and session_id not in repr(rows)


async def test_a_cookie_signs_in_every_route(site: Site) -> None:
    session_id = await site.sign_in()
    r = await site.call("GET", "/api/session", cookie=session_id)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["via"] == "cookie" and (body["name"], body["role"]) == ("alice", "owner")
    assert isinstance(body["expires"], int) and body["expires"] > time.time() + SESSION_LIFETIME - 60
    r = await site.call("GET", "/api/status", cookie=session_id)
    assert r.status_code == 200 and r.json()["caller"] == {"name": "alice", "role": "owner"}
    assert (await site.call("GET", "/api/devices", cookie=session_id)).status_code == 200
    assert (await site.call("GET", "/api/homes", cookie=session_id)).status_code == 200


async def test_a_browser_keeps_and_sends_the_cookie_by_itself(site: Site) -> None:
    transport = httpx.ASGITransport(app=site.app, client=("10.0.0.1", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://hub.local") as browser:
        assert (await browser.post("/api/session", json={"token": site.owner})).status_code == 200
        r = await browser.get("/api/session")
        assert r.status_code == 200 and r.json()["via"] == "cookie"
        assert (await browser.delete("/api/session", headers=CSRF)).status_code == 204
        assert not browser.cookies  # Max-Age=0 made the jar forget it
        assert (await browser.get("/api/session")).status_code == 401


async def test_a_bearer_caller_is_told_so_and_has_no_expiry(site: Site) -> None:
    r = await site.call("GET", "/api/session", headers={"Authorization": f"Bearer {site.guest}"})
    assert r.status_code == 200
    assert r.json() == {"name": "visitor", "role": "guest", "expires": None, "via": "bearer"}


async def test_the_session_routes_are_in_the_openapi_document(site: Site) -> None:
    r = await site.call("GET", "/api/openapi.json", headers={"Authorization": f"Bearer {site.owner}"})
    assert set(r.json()["paths"]["/api/session"]) == {"post", "get", "delete"}
    session_id = await site.sign_in()
    assert (await site.call("GET", "/api/openapi.json", cookie=session_id)).status_code == 200


async def test_a_token_in_the_header_wins_over_the_cookie(site: Site) -> None:
    session_id = await site.sign_in()
    r = await site.call(
        "GET", "/api/session", cookie=session_id, headers={"Authorization": f"Bearer {site.guest}"}
    )
    assert r.json()["via"] == "bearer" and r.json()["name"] == "visitor"
    r = await site.call("GET", "/api/session", cookie=session_id, headers={"Authorization": "Bearer wrong"})
    error_of(r, 401, "unauthorized")


async def test_a_guest_session_may_read_but_not_write(site: Site) -> None:
    session_id = await site.sign_in(site.guest)
    r = await site.call("GET", "/api/session", cookie=session_id)
    assert r.json()["role"] == "guest"
    r = await site.call(
        "PUT", "/api/devices/ac/properties/2.1", cookie=session_id, headers=CSRF, body={"value": True}
    )
    error_of(r, 403, "forbidden")


async def test_signing_in_again_replaces_the_browsers_old_session(site: Site) -> None:
    first = await site.sign_in()
    second = await site.sign_in(cookie=first)
    assert second != first
    error_of(await site.call("GET", "/api/session", cookie=first), 401)
    assert (await site.call("GET", "/api/session", cookie=second)).status_code == 200


# ------------------------------------------------------------------------- CSRF
UNSAFE = [
    ("POST", "/api/copilot/say", {"text": "hello", "dry_run": True}),
    ("PUT", "/api/devices/ac/properties/2.1", {"value": True}),
    ("PATCH", "/api/devices/ac", {}),
    ("DELETE", "/api/session", None),
    ("POST", "/api/automations", {}),
]


@pytest.mark.parametrize(("method", "path", "body"), UNSAFE, ids=[f"{m} {p}" for m, p, _ in UNSAFE])
@pytest.mark.parametrize("header", [None, "0", "true", ""], ids=["none", "zero", "true", "empty"])
async def test_a_cookie_write_without_the_request_header_is_refused(
    site: Site, method: str, path: str, body: Any, header: str | None
) -> None:
    session_id = await site.sign_in()
    headers = {} if header is None else {"X-Trilink-Request": header}
    r = await site.call(method, path, cookie=session_id, headers=headers, body=body)
    err = error_of(r, 403, "csrf")
    assert "X-Trilink-Request: 1" in err["message"]
    # nothing happened: the session is still there
    assert (await site.call("GET", "/api/session", cookie=session_id)).status_code == 200


async def test_a_cookie_write_with_the_request_header_goes_through(site: Site) -> None:
    session_id = await site.sign_in()
    r = await site.call(
        "POST", "/api/copilot/say", cookie=session_id, headers=CSRF, body={"text": "hello", "dry_run": True}
    )
    assert r.status_code == 200, r.text
    # the check is on the header, before routing: an unknown device is then the usual 404
    r = await site.call(
        "PUT", "/api/devices/ac/properties/2.1", cookie=session_id, headers=CSRF, body={"value": True}
    )
    error_of(r, 404, "not-found")


async def test_bearer_writes_need_no_request_header(site: Site) -> None:
    session_id = await site.sign_in()
    bearer = {"Authorization": f"Bearer {site.owner}"}
    r = await site.call("POST", "/api/copilot/say", headers=bearer, body={"text": "hello", "dry_run": True})
    assert r.status_code == 200, r.text
    # even with a cookie alongside: the token decides
    r = await site.call(
        "POST", "/api/copilot/say", cookie=session_id, headers=bearer, body={"text": "hi", "dry_run": True}
    )
    assert r.status_code == 200, r.text


async def test_signing_in_from_another_sites_page_is_refused(site: Site) -> None:
    r = await site.call(
        "POST", "/api/session", body={"token": site.owner}, headers={"Origin": "https://evil.example"}
    )
    error_of(r, 403, "csrf")
    assert "set-cookie" not in r.headers
    r = await site.call("POST", "/api/session", body={"token": site.owner}, headers={"Origin": "null"})
    error_of(r, 403, "csrf")
    # the hub's own page, and clients that send no Origin (curl, scripts), may
    r = await site.call("POST", "/api/session", body={"token": site.owner}, headers={"Origin": "http://hub"})
    assert r.status_code == 200
    assert (await site.call("POST", "/api/session", body={"token": site.owner})).status_code == 200


# ------------------------------------------------------------- ending a session
async def test_signing_out_ends_the_session_and_clears_the_cookie(site: Site) -> None:
    session_id = await site.sign_in()
    other = await site.sign_in()  # another browser of the same person
    r = await site.call("DELETE", "/api/session", cookie=session_id, headers=CSRF)
    assert r.status_code == 204 and r.content == b""
    assert r.headers["set-cookie"] == "trilink_session=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0"
    r = await site.call("GET", "/api/session", cookie=session_id)
    err = error_of(r, 401, "unauthorized")
    assert "sign in again" in err["message"]
    assert "Max-Age=0" in r.headers["set-cookie"]  # a stale cookie is cleared too
    assert (await site.call("GET", "/api/session", cookie=other)).status_code == 200
    # signing out twice: the cookie is no longer a session
    error_of(await site.call("DELETE", "/api/session", cookie=session_id, headers=CSRF), 401)


async def test_a_bearer_sign_out_has_nothing_to_end(site: Site) -> None:
    r = await site.call("DELETE", "/api/session", headers={"Authorization": f"Bearer {site.owner}"})
    assert r.status_code == 204 and "Max-Age=0" in r.headers["set-cookie"]
    # and the token still works
    r = await site.call("GET", "/api/session", headers={"Authorization": f"Bearer {site.owner}"})
    assert r.status_code == 200


async def test_revoking_the_token_ends_its_sessions(site: Site, tmp_path: Path) -> None:
    alice = await site.sign_in()
    visitor = await site.sign_in(site.guest)
    # `trilink token revoke` runs in another process, on its own connection
    with SQLiteStore(tmp_path / "hub.db") as other:
        assert revoke_token(other, token_id(site, "alice"))
    error_of(await site.call("GET", "/api/status", cookie=alice), 401)
    assert (await site.call("GET", "/api/status", cookie=visitor)).status_code == 200
    # only the revoked flag set (as an older trilink would): checked on each request as well
    conn = sqlite3.connect(tmp_path / "hub.db")
    with conn:
        conn.execute("UPDATE tokens SET revoked = 1 WHERE name = 'visitor'")
    conn.close()
    error_of(await site.call("GET", "/api/status", cookie=visitor), 401)
    # and a revoked token cannot sign in
    error_of(await site.call("POST", "/api/session", body={"token": site.owner}), 401, "unauthorized")


async def test_a_session_expires_after_30_days(site: Site) -> None:
    session_id = await site.sign_in()
    start = time.time()
    site.hub.wall_clock = lambda: start + SESSION_LIFETIME - 60
    assert (await site.call("GET", "/api/session", cookie=session_id)).status_code == 200
    site.hub.wall_clock = lambda: start + SESSION_LIFETIME + 1
    r = await site.call("GET", "/api/session", cookie=session_id)
    error_of(r, 401, "unauthorized")
    assert "Max-Age=0" in r.headers["set-cookie"]


@pytest.mark.parametrize(
    "cookie",
    ["", "x", "A" * 43, "A" * 42 + "!", "tl_" + "A" * 43, "A" * 5000],
    ids=["empty", "short", "unknown", "bad-char", "token-like", "huge"],
)
async def test_a_made_up_cookie_is_refused(site: Site, cookie: str) -> None:
    r = await site.call("GET", "/api/status", cookie=cookie)
    error_of(r, 401, "unauthorized")


# ----------------------------------------------------------------- bad bodies
BAD_BODIES: list[tuple[str, bytes, int, str]] = [
    ("not-json", b"{token", 400, "malformed-json"),
    ("empty", b"", 422, "invalid-request"),
    ("array", b"[]", 422, "invalid-request"),
    ("string", b'"tl_x"', 422, "invalid-request"),
    ("no-token", b"{}", 422, "invalid-request"),
    ("null", b'{"token": null}', 422, "invalid-request"),
    ("number", b'{"token": 12345}', 422, "invalid-request"),
    ("list", b'{"token": ["tl_x"]}', 422, "invalid-request"),
    ("object", b'{"token": {"a": 1}}', 422, "invalid-request"),
    ("bool", b'{"token": true}', 422, "invalid-request"),
    ("empty-token", b'{"token": ""}', 422, "invalid-request"),
    ("long-token", json.dumps({"token": "t" * 300}).encode(), 422, "invalid-request"),
    ("extra", b'{"token": "tl_x", "remember": true}', 422, "invalid-request"),
    ("deep", b'{"token": ' + b"[" * 5000 + b"]" * 5000 + b"}", 400, "malformed-json"),
    ("huge", json.dumps({"token": "t" * 70_000}).encode(), 413, "too-large"),
]


@pytest.mark.parametrize(
    ("body", "status", "code"), [b[1:] for b in BAD_BODIES], ids=[b[0] for b in BAD_BODIES]
)
async def test_malformed_sign_ins_are_answered_in_the_error_shape(
    site: Site, body: bytes, status: int, code: str
) -> None:
    r = await site.call("POST", "/api/session", content=body, headers={"Content-Type": "application/json"})
    err = error_of(r, status, code)
    assert "set-cookie" not in r.headers
    assert site.owner not in r.text and "t" * 100 not in err["message"]


@pytest.mark.parametrize(
    "token",
    [
        "tl_\x00" + "a" * 42,
        "tl_" + "a" * 42 + "\n",
        "\r\nSet-Cookie: x=1",
        "tl_" + "\u202e" * 43,
        "\x7f" * 46,
    ],
    ids=["nul", "newline", "header-injection", "bidi", "del"],
)
async def test_a_token_with_control_characters_is_just_refused(site: Site, token: str) -> None:
    r = await site.call("POST", "/api/session", body={"token": token})
    error_of(r, 401, "unauthorized")
    assert "set-cookie" not in r.headers


async def test_the_right_token_with_a_control_character_appended_is_refused(site: Site) -> None:
    for suffix in ("\x00", "\n", " ", "\t"):
        error_of(await site.call("POST", "/api/session", body={"token": site.owner + suffix}), 401)


async def test_a_plain_text_body_is_not_a_sign_in(site: Site) -> None:
    """A cross-site form can post text/plain without a preflight; it is not read as JSON."""
    r = await site.call(
        "POST",
        "/api/session",
        content=json.dumps({"token": site.owner}),
        headers={"Content-Type": "text/plain"},
    )
    error_of(r, 422, "invalid-request")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.one_of(
        st.text(max_size=80),
        st.integers(),
        st.none(),
        st.lists(st.text(max_size=5), max_size=3),
        st.dictionaries(st.text(max_size=8), st.text(max_size=8), max_size=3),
    )
)
async def test_no_sign_in_body_makes_the_hub_fail(site: Site, token: Any) -> None:
    site.clock.now += 3600  # stay clear of the rate limit
    r = await site.call("POST", "/api/session", body={"token": token})
    assert r.status_code in (401, 422), r.text
    error_of(r, r.status_code)


# ----------------------------------------------------------------- rate limit
async def test_failed_sign_ins_are_limited_per_address(site: Site) -> None:
    for i in range(10):
        r = await site.call("POST", "/api/session", body={"token": f"tl_guess{i}"})
        error_of(r, 401, "unauthorized")
        site.clock.now += 1
    r = await site.call("POST", "/api/session", body={"token": "tl_guess-again"})
    err = error_of(r, 429, "rate-limited")
    assert r.headers["retry-after"] == "50" and err["retry_after"] == 50
    # while limited, even the right token is refused: a 200 would tell a guesser it found one
    r = await site.call("POST", "/api/session", body={"token": site.owner})
    error_of(r, 429, "rate-limited")
    assert "set-cookie" not in r.headers
    # other addresses are not affected
    assert (
        await site.call("POST", "/api/session", body={"token": site.owner}, address="10.0.0.2")
    ).status_code == 200
    # the window slides: after the first failure leaves it, one more attempt is allowed
    site.clock.now += 50
    assert (await site.call("POST", "/api/session", body={"token": site.owner})).status_code == 200
    error_of(await site.call("POST", "/api/session", body={"token": "tl_no"}), 401)
    r = await site.call("POST", "/api/session", body={"token": site.owner})
    error_of(r, 429, "rate-limited")
    assert r.headers["retry-after"] == "1"


async def test_malformed_bodies_and_other_routes_do_not_count_as_attempts(site: Site) -> None:
    for _ in range(20):
        error_of(await site.call("POST", "/api/session", body={"token": 1}), 422)
        error_of(await site.call("GET", "/api/status", headers={"Authorization": "Bearer x"}), 401)
    assert (await site.call("POST", "/api/session", body={"token": site.owner})).status_code == 200


def test_the_limiter_groups_ipv6_by_network_and_stays_bounded() -> None:
    assert client_key({"client": ("2001:db8:1:2:aaaa::1", 1)}) == "2001:db8:1:2::/64"
    assert client_key({"client": ("2001:db8:1:2:bbbb::9", 1)}) == "2001:db8:1:2::/64"
    assert client_key({"client": ("::ffff:10.1.2.3", 1)}) == "10.1.2.3"
    assert client_key({"client": ("192.0.2.7", 1)}) == "192.0.2.7"
    assert client_key({"client": None}) == "unknown"
    assert client_key({"client": ("testclient", 1)}) == "testclient"
    clock = Clock()
    limiter = AttemptLimiter(limit=2, window=10, clock=clock, max_clients=3)
    for name in "abcd":
        limiter.failed(name)
        limiter.failed(name)
    assert limiter.clients == 3
    assert limiter.retry_after("a") == 0  # forgotten first, being the oldest
    assert limiter.retry_after("d") == 10
    clock.now += 10
    assert limiter.retry_after("d") == 0 and limiter.clients == 2
    with pytest.raises(ValueError):
        AttemptLimiter(limit=0)


# ------------------------------------------------------------- hubs without it
async def test_a_hub_without_sessions_serves_no_session_routes_and_ignores_cookies() -> None:
    world: World = build_world()
    assert sessions_of(world.hub) is None
    app = create_app(world.hub)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://hub") as client:
        r = await client.post("/api/session", json={"token": "owner-token-0123456789"})
        error_of(r, 401, "unauthorized")  # not public there: like any path under /api
        r = await client.get("/api/session", headers={"Authorization": "Bearer owner-token-0123456789"})
        error_of(r, 404, "not-found")
        r = await client.get("/api/status", headers={"Cookie": "trilink_session=" + "A" * 43})
        error_of(r, 401, "unauthorized")
        assert "set-cookie" not in r.headers
    app.state.live.close()


async def test_a_fake_hub_with_session_methods_gets_the_routes() -> None:
    world = build_world()
    sessions: dict[str, Session] = {}

    class SessionHub(type(world.hub)):  # type: ignore[misc]
        def open_session(self, token: str, now: float) -> Session | None:
            principal = self.authenticate(token)
            if principal is None:
                return None
            session = Session("S" * 43, principal, now + 60)
            sessions[session.id] = session
            return session

        def session(self, session_id: str) -> Session | None:
            return sessions.get(session_id)

        def close_session(self, session_id: str) -> None:
            sessions.pop(session_id, None)

    hub = SessionHub(world.kernel)
    app = create_app(hub)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://hub") as client:
        r = await client.post("/api/session", json={"token": "owner-token-0123456789"})
        assert r.status_code == 200 and "Max-Age=60" in r.headers["set-cookie"]
        r = await client.get("/api/session", headers={"Cookie": "trilink_session=" + "S" * 43})
        assert r.json()["via"] == "cookie" and r.json()["name"] == "alice"
    app.state.live.close()
    assert "S" * 43 not in repr(sessions["S" * 43])  # the id stays out of reprs and logs
    assert isinstance(sessions["S" * 43].principal, Principal)


async def test_nothing_secret_reaches_the_logs(site: Site, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    session_id = await site.sign_in()
    await site.call("GET", "/api/status", cookie=session_id)
    await site.call("POST", "/api/session", body={"token": site.owner + "x"})
    await site.call("DELETE", "/api/session", cookie=session_id, headers=CSRF)
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert session_id not in text and site.owner not in text


# ----------------------------------------------------------------- end to end
async def test_a_browser_session_on_the_running_hub(
    tmp_path: Path, system_broker: MqttSettings, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    hub = Hub(hub_config(tmp_path), mqtt=system_broker)
    info = await hub.start()
    assert info.new_owner_token is not None
    token = info.new_owner_token
    async with running(hub):
        origin = hub.api_url
        ws_url = hub.api_url.replace("http://", "ws://") + "/api/ws"
        async with httpx.AsyncClient(base_url=hub.api_url) as web:
            r = await web.post("/api/session", json={"token": token}, headers={"Origin": origin})
            assert r.status_code == 200, r.text
            match = COOKIE_RE.fullmatch(r.headers["set-cookie"])
            assert match
            session_id = match.group(1)
            cookie = {"Cookie": f"trilink_session={session_id}"}
            r = await web.get("/api/session", headers=cookie)
            assert r.json()["via"] == "cookie"
            r = await web.post("/api/copilot/say", json={"text": "hello", "dry_run": True}, headers=cookie)
            error_of(r, 403, "csrf")

            # the WebSocket: the cookie works from the hub's own page
            async with connect(ws_url + "?kind=registry", additional_headers=cookie, origin=origin) as ws:  # type: ignore[arg-type]
                hub.kernel.add_room(Room("attic", "home", "Attic"))
                event = json.loads(await asyncio.wait_for(ws.recv(), 5))
                assert (event["kind"], event["id"]) == ("registry", "attic")
            # … and from nowhere else
            for other in ("http://evil.example", origin.replace("127.0.0.1", "localhost"), "null"):
                with pytest.raises(InvalidStatus) as refused:
                    async with connect(ws_url, additional_headers=cookie, origin=other):  # type: ignore[arg-type]
                        pass
                assert refused.value.response.status_code == 403
                assert json.loads(refused.value.response.body or b"{}")["error"]["code"] == "csrf"
            with pytest.raises(InvalidStatus) as refused:
                async with connect(ws_url, additional_headers=cookie):  # no Origin at all
                    pass
            assert refused.value.response.status_code == 403
            # a token needs no Origin check: it cannot be sent by another site's page
            bearer = {"Authorization": f"Bearer {token}"}
            async with connect(ws_url, additional_headers=bearer, origin="http://evil.example"):  # type: ignore[arg-type]
                pass
            async with connect(f"{ws_url}?token={token}"):
                pass
        hub.recorder.flush()

    # the session survives a restart of the hub
    hub2 = Hub(hub_config(tmp_path), mqtt=system_broker)
    await hub2.start()
    async with running(hub2):
        ws_url = hub2.api_url.replace("http://", "ws://") + "/api/ws"
        async with httpx.AsyncClient(base_url=hub2.api_url) as web:
            r = await web.get("/api/session", headers=cookie)
            assert r.status_code == 200 and r.json()["name"] == "owner"
            async with connect(ws_url, additional_headers=cookie, origin=hub2.api_url):  # type: ignore[arg-type]
                pass
            # `trilink token revoke` from another process ends it at the next request
            with SQLiteStore(tmp_path / "hub.db") as cli_store:
                owner_id = next(r.id for r in list_tokens(cli_store) if r.name == "owner")
                assert revoke_token(cli_store, owner_id)
            error_of(await web.get("/api/session", headers=cookie), 401, "unauthorized")
            with pytest.raises(InvalidStatus) as refused:
                async with connect(ws_url, additional_headers=cookie, origin=hub2.api_url):  # type: ignore[arg-type]
                    pass
            assert refused.value.response.status_code == 401
    # the hub's own logs and its server's (client libraries log what they send at DEBUG)
    logged = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith(("trilink", "uvicorn")))
    assert session_id not in logged and token not in logged
