"""Browser sessions: sign in with an API token for an HttpOnly cookie, ask who you are, sign out.

``POST /api/session`` is public: the token is in the body. Failed sign-ins are counted
per client address (:class:`AttemptLimiter`), and once an address is over the limit
every attempt from it is refused with 429 until the window has passed — a right token
included, or the limit would tell a guesser when it had found one. A sign-in that names
another site in its ``Origin`` is refused, so no other page can sign a browser in.
"""

from __future__ import annotations

import ipaddress
import math
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from typing import Annotated, Any, Final, Literal

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, StrictStr
from starlette.types import Scope

from trilink.api.auth import (
    SESSION_PATH,
    caller,
    clear_session_cookie,
    is_secure,
    same_origin,
    session_cookie,
    session_id_of,
    signed_in_by,
)
from trilink.api.errors import ApiError
from trilink.api.facade import Principal, SessionsFacade
from trilink.api.models import ErrorResponse

#: Failed sign-ins allowed per client address within :data:`ATTEMPT_WINDOW` seconds.
MAX_FAILED_ATTEMPTS: Final = 10
ATTEMPT_WINDOW: Final = 60.0

#: Longest token accepted in the body; real tokens are 46 characters.
MAX_TOKEN_LENGTH: Final = 256

_NO_STORE: Final = {"Cache-Control": "no-store"}
_REFUSED: Final = {"WWW-Authenticate": 'Bearer error="invalid_token"'}


class SignInRequest(BaseModel):
    """Body of ``POST /api/session``: the API token to sign in with."""

    model_config = ConfigDict(extra="forbid")

    token: StrictStr = Field(min_length=1, max_length=MAX_TOKEN_LENGTH, examples=["tl_9bq…"])


class SignedIn(BaseModel):
    """``POST /api/session``: who signed in, and when the session ends (epoch seconds)."""

    name: str
    role: str
    expires: int


class SessionInfo(BaseModel):
    """``GET /api/session``: the caller, how they signed in, and when a cookie session ends."""

    name: str
    role: str
    expires: int | None = Field(description="epoch seconds; null for a bearer token (tokens do not expire)")
    via: Literal["cookie", "bearer"]


def client_key(scope: Scope) -> str:
    """Whose attempts these are: the client's IPv4 address, or its IPv6 /64 network."""
    client = scope.get("client")
    host = client[0] if client else ""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host or "unknown"
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


class AttemptLimiter:
    """Failed attempts per client in a sliding window; bounded in memory.

    ``clock`` is monotonic seconds. At most ``max_clients`` clients are tracked; when
    more fail at once, the one that failed least recently is forgotten first.
    """

    def __init__(
        self,
        limit: int = MAX_FAILED_ATTEMPTS,
        window: float = ATTEMPT_WINDOW,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_clients: int = 10_000,
    ) -> None:
        if limit < 1 or not window > 0:
            raise ValueError("an attempt limit needs limit >= 1 and a positive window")
        self.limit = limit
        self.window = window
        self.clock = clock
        self.max_clients = max_clients
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()

    def _recent(self, client: str, now: float) -> deque[float] | None:
        failures = self._failures.get(client)
        if failures is None:
            return None
        while failures and failures[0] <= now - self.window:
            failures.popleft()
        if not failures:
            del self._failures[client]
            return None
        return failures

    def retry_after(self, client: str) -> int:
        """Whole seconds until ``client`` may try again; 0 if it may try now."""
        now = self.clock()
        failures = self._recent(client, now)
        if failures is None or len(failures) < self.limit:
            return 0
        return max(1, math.ceil(failures[-self.limit] + self.window - now))

    def failed(self, client: str) -> None:
        """Count a failed attempt of ``client``."""
        now = self.clock()
        failures = self._recent(client, now)
        if failures is None:
            failures = self._failures[client] = deque(maxlen=self.limit)
        failures.append(now)
        self._failures.move_to_end(client)
        while len(self._failures) > self.max_clients:
            self._failures.popitem(last=False)

    @property
    def clients(self) -> int:
        """How many clients have failed attempts on record (some may be past the window)."""
        return len(self._failures)


def session_router(sessions: SessionsFacade, attempts: AttemptLimiter) -> APIRouter:
    """``POST``, ``GET`` and ``DELETE /api/session``."""
    router = APIRouter(tags=["session"])

    @router.post(
        SESSION_PATH,
        summary="Sign in: an API token for a session cookie",
        response_model=SignedIn,
        responses={
            401: {"model": ErrorResponse},
            403: {"model": ErrorResponse},
            422: {"model": ErrorResponse},
            429: {"model": ErrorResponse},
        },
    )
    async def sign_in(request: Request, body: SignInRequest) -> JSONResponse:
        """Check the token and open a session of 30 days; the answer sets the ``trilink_session`` cookie."""
        scope = request.scope
        if "origin" in request.headers and not same_origin(scope):
            raise ApiError(403, "csrf", "signing in is only possible from the hub's own page (Origin)")
        client = client_key(scope)
        wait = attempts.retry_after(client)
        if wait:
            raise ApiError(
                429,
                "rate-limited",
                f"too many failed sign-ins from this address; try again in {wait} s",
                headers={"Retry-After": str(wait), **_NO_STORE},
                retry_after=wait,
            )
        now = time.time()
        session = sessions.open_session(body.token, now)
        if session is None:
            attempts.failed(client)
            raise ApiError(401, "unauthorized", "the token was refused", headers=_REFUSED)
        previous = session_id_of(scope)
        if previous is not None and previous != session.id:
            sessions.close_session(previous)  # this browser's cookie is replaced: end what it held
        principal = session.principal
        response = JSONResponse(
            {"name": principal.name, "role": principal.role, "expires": int(session.expires)},
            headers=_NO_STORE,
        )
        max_age = max(0, round(session.expires - now))
        response.headers.append("Set-Cookie", session_cookie(session.id, max_age, secure=is_secure(scope)))
        return response

    @router.get(
        SESSION_PATH,
        summary="Who am I, and how did I sign in",
        response_model=SessionInfo,
        responses={401: {"model": ErrorResponse}},
    )
    async def who_am_i(request: Request, principal: Annotated[Principal, Depends(caller)]) -> JSONResponse:
        """The caller's name and role, ``via`` ``cookie`` or ``bearer``, and when a cookie session ends."""
        via, session = signed_in_by(request)
        body: dict[str, Any] = {
            "name": principal.name,
            "role": principal.role,
            "expires": int(session.expires) if session is not None else None,
            "via": via,
        }
        return JSONResponse(body, headers=_NO_STORE)

    @router.delete(
        SESSION_PATH,
        status_code=204,
        summary="Sign out: end the session and clear its cookie",
        responses={401: {"model": ErrorResponse}, 403: {"model": ErrorResponse}},
        dependencies=[Depends(caller)],
    )
    async def sign_out(request: Request) -> Response:
        """End the session of the request's cookie (if any) and tell the browser to forget the cookie."""
        session_id = session_id_of(request.scope)
        if session_id is not None:
            sessions.close_session(session_id)
        return Response(
            status_code=204, headers={"Set-Cookie": clear_session_cookie(request.scope), **_NO_STORE}
        )

    return router
