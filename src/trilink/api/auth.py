"""Bearer-token authentication for everything under ``/api``.

A pure ASGI middleware checks the token before routing or body parsing, so an
unauthenticated caller learns nothing (not even whether its body would parse). HTTP
requests must send ``Authorization: Bearer <token>``; WebSocket handshakes may instead
pass ``?token=`` because browsers cannot set headers on a WebSocket. The principal is
left in the ASGI scope for the routes, which read it through :func:`caller` and
:func:`writer`. The one exception is ``POST /api/webhooks/{hook_id}``, where the hook id
is the secret (see :data:`WEBHOOK_PREFIX`).
"""

from __future__ import annotations

import logging
import re
from typing import Annotated, Any, Final

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.datastructures import Headers, QueryParams
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocket

from trilink.api.errors import ApiError, deny_websocket, error_response
from trilink.api.facade import HubFacade, Principal

#: The ASGI scope key under which the middleware leaves the caller.
PRINCIPAL_KEY: Final = "trilink.principal"

#: Paths under the API prefix that need no token: the docs page is a static shell that
#: asks the reader for a token before it loads anything from the hub.
PUBLIC_PATHS: Final[frozenset[str]] = frozenset()

#: ``POST`` to one path segment under this prefix needs no token: the webhook's id is its
#: secret (a sender such as a phone shortcut cannot hold a token). Nothing else under it
#: is public, and the route answers an unknown id like any missing page.
WEBHOOK_PREFIX: Final = "/api/webhooks/"

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


class BearerAuth:
    """ASGI middleware: every HTTP request and WebSocket under ``prefix`` needs a valid token."""

    def __init__(self, app: ASGIApp, hub: HubFacade, prefix: str = "/api") -> None:
        self.app = app
        self.hub = hub
        self.prefix = prefix

    def _guarded(self, scope: Scope) -> bool:
        path: str = scope["path"]
        if path in PUBLIC_PATHS or _is_webhook_call(scope):
            return False
        return path == self.prefix or path.startswith(self.prefix + "/")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Authenticate, then pass the request on with the principal in its scope."""
        if scope["type"] not in ("http", "websocket") or not self._guarded(scope):
            await self.app(scope, receive, send)
            return
        token, why = _token_from(scope)
        principal = self.hub.authenticate(token) if token is not None else None
        if principal is None:
            message = why or "the token was refused"
            headers = _CHALLENGE if token is None else _REFUSED
            await _deny(scope, receive, send, message, headers)
            return
        scope[PRINCIPAL_KEY] = principal
        await self.app(scope, receive, send)


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
    "PRINCIPAL_KEY",
    "WEBHOOK_PREFIX",
    "BearerAuth",
    "TokenRedactor",
    "bearer_scheme",
    "caller",
    "install_token_redaction",
    "writer",
]
