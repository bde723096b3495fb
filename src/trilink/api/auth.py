"""Authentication for everything under ``/api``: a bearer token, or a browser session's cookie.

A pure ASGI middleware checks the caller before routing or body parsing, so an
unauthenticated caller learns nothing (not even whether its body would parse). HTTP
requests send ``Authorization: Bearer <token>``; WebSocket handshakes may instead pass
``?token=`` because browsers cannot set headers on a WebSocket. When the hub keeps
browser sessions, a request without a token may instead carry the session cookie
(:data:`SESSION_COOKIE`); then a request that changes something must also send
``X-Trilink-Request: 1`` (a header no other site can make a browser send without a CORS
preflight, which the hub never grants), and a WebSocket must come from the hub's own
origin. The principal is left in the ASGI scope for the routes, which read it through
:func:`caller` and :func:`writer`. The exceptions are ``POST /api/webhooks/{hook_id}``,
where the hook id is the secret (see :data:`WEBHOOK_PREFIX`), and signing in
(``POST /api/session``), which takes a token in its body.
"""

from __future__ import annotations

import logging
import re
from typing import Annotated, Any, Final

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.datastructures import Headers, QueryParams
from starlette.requests import cookie_parser
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocket

from trilink.api.errors import ApiError, deny_websocket, error_response
from trilink.api.facade import HubFacade, Principal, Session, SessionsFacade

#: The ASGI scope key under which the middleware leaves the caller.
PRINCIPAL_KEY: Final = "trilink.principal"

#: Paths under the API prefix that need no token: the docs page is a static shell that
#: asks the reader for a token before it loads anything from the hub.
PUBLIC_PATHS: Final[frozenset[str]] = frozenset()

#: ``POST`` to one path segment under this prefix needs no token: the webhook's id is its
#: secret (a sender such as a phone shortcut cannot hold a token). Nothing else under it
#: is public, and the route answers an unknown id like any missing page.
WEBHOOK_PREFIX: Final = "/api/webhooks/"

#: The ASGI scope key saying how the caller signed in: ``"bearer"`` or ``"cookie"``.
VIA_KEY: Final = "trilink.via"

#: The ASGI scope key under which a cookie-authenticated request's :class:`Session` is left.
SESSION_KEY: Final = "trilink.session"

#: The cookie that carries a browser session's id.
SESSION_COOKIE: Final = "trilink_session"

#: Signing in (``POST``), asking who one is (``GET``) and signing out (``DELETE``).
SESSION_PATH: Final = "/api/session"

#: A cookie-authenticated request with any other method (POST, PUT, PATCH, DELETE, …) must
#: send :data:`CSRF_HEADER` with the value ``1``.
SAFE_METHODS: Final[frozenset[str]] = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_HEADER: Final = "X-Trilink-Request"

_CHALLENGE: Final = {"WWW-Authenticate": "Bearer"}
_REFUSED: Final = {"WWW-Authenticate": 'Bearer error="invalid_token"'}

#: Declares the scheme in the OpenAPI document (and lets the docs page send the token);
#: the checking itself is done by :class:`BearerAuth`.
bearer_scheme = HTTPBearer(
    auto_error=False,
    description="An API token of the hub: `Authorization: Bearer <token>`.",
)


def _token_from(scope: Scope) -> tuple[str | None, str | None]:
    """The token of a request, or ``(None, why)`` when there is none or it is malformed."""
    header = Headers(scope=scope).get("authorization")
    if header is not None:
        scheme, _, token = header.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            return None, "the Authorization header must be 'Bearer <token>'"
        return token, None
    if scope["type"] == "websocket":
        from_query = QueryParams(scope.get("query_string", b"").decode("latin-1")).get("token")
        if from_query:
            return from_query, None
        return None, "missing token: send 'Authorization: Bearer <token>' or add ?token=<token>"
    return None, "missing bearer token: send 'Authorization: Bearer <token>'"


def _has_token(scope: Scope, headers: Headers) -> bool:
    """Whether the request brings a token of its own (which then wins over any cookie)."""
    if "authorization" in headers:
        return True
    if scope["type"] == "websocket":
        return bool(QueryParams(scope.get("query_string", b"").decode("latin-1")).get("token"))
    return False


def session_id_of(scope: Scope) -> str | None:
    """The session id in the request's cookie, or ``None``."""
    cookies = Headers(scope=scope).get("cookie")
    if not cookies:
        return None
    return cookie_parser(cookies).get(SESSION_COOKIE) or None


def is_secure(scope: Scope) -> bool:
    """Whether the request came over TLS (``https`` or ``wss``)."""
    return scope.get("scheme") in ("https", "wss")


def own_origin(scope: Scope) -> str | None:
    """The request's own scheme and host as an ``Origin`` would name them, or ``None`` without a Host."""
    host = Headers(scope=scope).get("host")
    if not host:
        return None
    return f"{'https' if is_secure(scope) else 'http'}://{host}".lower()


def same_origin(scope: Scope) -> bool:
    """Whether the request's ``Origin`` header names the request's own scheme and host."""
    origin = Headers(scope=scope).get("origin")
    own = own_origin(scope)
    return origin is not None and own is not None and origin.strip().lower() == own


def session_cookie(value: str, max_age: int, *, secure: bool) -> str:
    """A ``Set-Cookie`` value for the session cookie (``max_age=0`` with an empty value clears it)."""
    cookie = f"{SESSION_COOKIE}={value}; HttpOnly; SameSite=Strict; Path=/; Max-Age={max_age}"
    return cookie + "; Secure" if secure else cookie


def clear_session_cookie(scope: Scope) -> str:
    """A ``Set-Cookie`` value that makes the browser forget the session cookie."""
    return session_cookie("", 0, secure=is_secure(scope))


class BearerAuth:
    """ASGI middleware: every HTTP request and WebSocket under ``prefix`` needs a valid token.

    With ``sessions`` (a hub that keeps browser sessions), the session cookie is accepted
    instead of a token, and ``POST /api/session`` (signing in) is public.
    """

    def __init__(
        self, app: ASGIApp, hub: HubFacade, prefix: str = "/api", sessions: SessionsFacade | None = None
    ) -> None:
        self.app = app
        self.hub = hub
        self.prefix = prefix
        self.sessions = sessions

    def _guarded(self, scope: Scope) -> bool:
        path: str = scope["path"]
        if path in PUBLIC_PATHS or _is_webhook_call(scope):
            return False
        if self.sessions is not None and _is_sign_in(scope):
            return False
        return path == self.prefix or path.startswith(self.prefix + "/")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Authenticate, then pass the request on with the principal in its scope."""
        if scope["type"] not in ("http", "websocket") or not self._guarded(scope):
            await self.app(scope, receive, send)
            return
        if self.sessions is not None and not _has_token(scope, Headers(scope=scope)):
            session_id = session_id_of(scope)
            if session_id is not None:
                await self._by_cookie(self.sessions, session_id, scope, receive, send)
                return
        token, why = _token_from(scope)
        principal = self.hub.authenticate(token) if token is not None else None
        if principal is None:
            message = why or "the token was refused"
            headers = _CHALLENGE if token is None else _REFUSED
            await _deny(scope, receive, send, message, headers)
            return
        scope[PRINCIPAL_KEY] = principal
        scope[VIA_KEY] = "bearer"
        await self.app(scope, receive, send)

    async def _by_cookie(
        self, sessions: SessionsFacade, session_id: str, scope: Scope, receive: Receive, send: Send
    ) -> None:
        session = sessions.session(session_id)
        if session is None:
            message = "the session has ended (signed out, expired or its token revoked); sign in again"
            headers = {**_CHALLENGE, "Set-Cookie": clear_session_cookie(scope)}
            await _deny(scope, receive, send, message, headers)
            return
        if scope["type"] == "http":
            if scope["method"] not in SAFE_METHODS and Headers(scope=scope).get(CSRF_HEADER) != "1":
                message = (
                    f"a {scope['method']} signed in by the session cookie must send the header "
                    f"'{CSRF_HEADER}: 1'"
                )
                await error_response(403, "csrf", message)(scope, receive, send)
                return
        elif not same_origin(scope):
            message = "a WebSocket signed in by the session cookie must come from the hub's own page (Origin)"
            await deny_websocket(WebSocket(scope, receive, send), 403, "csrf", message)
            return
        scope[PRINCIPAL_KEY] = session.principal
        scope[VIA_KEY] = "cookie"
        scope[SESSION_KEY] = session
        await self.app(scope, receive, send)


def _is_sign_in(scope: Scope) -> bool:
    """``POST /api/session`` over HTTP: the token is in the body, checked by the route."""
    return scope["type"] == "http" and scope.get("method") == "POST" and scope["path"] == SESSION_PATH


def _is_webhook_call(scope: Scope) -> bool:
    """``POST /api/webhooks/{hook_id}`` over HTTP, with exactly one non-empty segment for the id."""
    if scope["type"] != "http" or scope.get("method") != "POST":
        return False
    path: str = scope["path"]
    if not path.startswith(WEBHOOK_PREFIX):
        return False
    hook_id = path[len(WEBHOOK_PREFIX) :]
    return bool(hook_id) and "/" not in hook_id and hook_id not in (".", "..")


async def _deny(scope: Scope, receive: Receive, send: Send, message: str, headers: dict[str, str]) -> None:
    if scope["type"] == "http":
        await error_response(401, "unauthorized", message, headers=headers)(scope, receive, send)
    else:
        await deny_websocket(WebSocket(scope, receive, send), 401, "unauthorized", message, headers=headers)


def caller(
    request: Request,
    _credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
) -> Principal:
    """Route dependency: the authenticated caller (the middleware has checked the token)."""
    principal = request.scope.get(PRINCIPAL_KEY)
    if not isinstance(principal, Principal):
        raise ApiError(401, "unauthorized", "missing bearer token", headers=_CHALLENGE)
    return principal


def signed_in_by(request: Request) -> tuple[str, Session | None]:
    """How the caller signed in (``"bearer"`` or ``"cookie"``) and, for a cookie, the session."""
    session = request.scope.get(SESSION_KEY)
    via = request.scope.get(VIA_KEY, "bearer")
    return via, session if isinstance(session, Session) else None


def writer(principal: Annotated[Principal, Depends(caller)]) -> Principal:
    """Route dependency: the caller, who must be allowed to change things (not a guest)."""
    if not principal.can_write:
        raise ApiError(
            403,
            "forbidden",
            f"{principal.name} has the {principal.role} role, which may read but not change devices",
            role=principal.role,
        )
    return principal


_TOKEN_IN_URL = re.compile(r"([?&]token=)[^&\s\"']*")


class TokenRedactor(logging.Filter):
    """Masks ``?token=…`` in log records, so WebSocket tokens do not end up in server logs."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record's message arguments; never drops a record."""
        if isinstance(record.msg, str):
            record.msg = _redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(_redact(a) for a in record.args)
        return True


def _redact(value: Any) -> Any:
    if isinstance(value, str) and "token=" in value:
        return _TOKEN_IN_URL.sub(r"\1***", value)
    return value


def install_token_redaction(logger_names: tuple[str, ...] = ("uvicorn.access", "uvicorn.error")) -> None:
    """Add a :class:`TokenRedactor` to the server's loggers (once per logger)."""
    for name in logger_names:
        logger = logging.getLogger(name)
        if not any(isinstance(f, TokenRedactor) for f in logger.filters):
            logger.addFilter(TokenRedactor())


__all__ = [
    "CSRF_HEADER",
    "PRINCIPAL_KEY",
    "SAFE_METHODS",
    "SESSION_COOKIE",
    "SESSION_KEY",
    "SESSION_PATH",
    "VIA_KEY",
    "WEBHOOK_PREFIX",
    "BearerAuth",
    "TokenRedactor",
    "bearer_scheme",
    "caller",
    "clear_session_cookie",
    "install_token_redaction",
    "same_origin",
    "session_cookie",
    "session_id_of",
    "signed_in_by",
    "writer",
]
