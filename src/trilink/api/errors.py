"""One error shape for every answer: ``{"error": {"code", "message", ...details}}``.

Kernel and model errors map to HTTP statuses here, so route code only calls the kernel
and lets its errors rise. Request validation (bad JSON, wrong body shape, bad query
parameters) is answered in the same shape, and nothing a client sends becomes a 500.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any, Final

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.websockets import WebSocket

from trilink.kernel import (
    CommandError,
    CommandTimeout,
    DeviceOffline,
    DeviceRefused,
    NoTransport,
    UnknownEntity,
)
from trilink.model import InvalidValue

log = logging.getLogger(__name__)

#: HTTP status of each command error; subclasses not listed fall back to 502.
COMMAND_STATUS: Final[dict[type[CommandError], int]] = {
    DeviceOffline: 409,
    CommandTimeout: 504,
    DeviceRefused: 502,
    NoTransport: 503,
}

_HTTP_CODES: Final[dict[int, str]] = {
    400: "bad-request",
    401: "unauthorized",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    413: "too-large",
    415: "unsupported-media-type",
}


class ApiError(Exception):
    """An error the API answers with: HTTP ``status``, a stable ``code`` and a message."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        headers: Mapping[str, str] | None = None,
        **details: Any,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = dict(headers or {})
        self.details = details

    def to_dict(self) -> dict[str, Any]:
        """The ``error`` object of the response body."""
        return {"code": self.code, "message": self.message, **self.details}


def error_body(code: str, message: str, **details: Any) -> dict[str, Any]:
    """The JSON body of an error answer."""
    return {"error": {"code": code, "message": message, **details}}


def error_response(
    status: int, code: str, message: str, headers: Mapping[str, str] | None = None, **details: Any
) -> JSONResponse:
    """A JSON error answer in the one shape."""
    return JSONResponse(error_body(code, message, **details), status_code=status, headers=headers)


async def deny_websocket(
    ws: WebSocket,
    status: int,
    code: str,
    message: str,
    headers: Mapping[str, str] | None = None,
    **details: Any,
) -> None:
    """Refuse a WebSocket handshake with an HTTP error in the one shape.

    Servers with the ASGI denial-response extension (uvicorn) send the real status and
    body; elsewhere the handshake is closed with 1008 (policy violation) and the message.
    """
    if "websocket.http.response" in ws.scope.get("extensions", {}):
        await ws.send_denial_response(error_response(status, code, message, headers, **details))
    else:
        await ws.close(code=1008, reason=message[:120])


def _loc(parts: Sequence[Any]) -> str:
    return ".".join(str(p) for p in parts) or "request"


def _validation_response(exc: RequestValidationError) -> JSONResponse:
    errors = list(exc.errors())
    for err in errors:
        if err.get("type") == "json_invalid":
            # the position is useful, the echoed input is not (it can be large or binary)
            reason = (err.get("ctx") or {}).get("error", "invalid JSON")
            where = [p for p in err.get("loc", ()) if isinstance(p, int)]
            at = f" at character {where[0]}" if where else ""
            return error_response(400, "malformed-json", f"the request body is not valid JSON: {reason}{at}")
    items = [
        {"loc": [str(p) for p in e.get("loc", ())], "message": e.get("msg", ""), "type": e.get("type", "")}
        for e in errors
    ]
    message = "; ".join(f"{_loc(i['loc'])}: {i['message']}" for i in items) or "invalid request"
    return error_response(422, "invalid-request", message, errors=items)


async def _on_api_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return JSONResponse({"error": exc.to_dict()}, status_code=exc.status, headers=exc.headers or None)


async def _on_invalid_value(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, InvalidValue)
    return JSONResponse({"error": exc.to_dict()}, status_code=422)


async def _on_unknown_entity(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, UnknownEntity)
    return error_response(404, "not-found", str(exc), entity=exc.entity, id=exc.ident)


async def _on_command_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, CommandError)
    status = next((s for t, s in COMMAND_STATUS.items() if isinstance(exc, t)), 502)
    return JSONResponse({"error": exc.to_dict()}, status_code=status)


async def _on_request_validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return _validation_response(exc)


async def _on_http_exception(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = _HTTP_CODES.get(exc.status_code, f"http-{exc.status_code}")
    if exc.status_code == 404:
        message = f"no such endpoint: {request.method} {request.url.path}"
    elif exc.status_code == 405:
        message = f"{request.method} is not allowed on {request.url.path}"
    elif exc.status_code == 400 and exc.detail == "There was an error parsing the body":
        # FastAPI's answer to a body its JSON parser gave up on (e.g. nesting too deep)
        return error_response(400, "malformed-json", "the request body could not be parsed as JSON")
    else:
        message = str(exc.detail)
    return error_response(exc.status_code, code, message, headers=exc.headers)


async def _on_unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unexpected error answering %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(500, "internal-error", "the hub failed to answer; the hub log has the details")


def install_error_handlers(app: FastAPI) -> None:
    """Answer every error ``app`` can raise in the one JSON shape."""
    app.add_exception_handler(ApiError, _on_api_error)
    app.add_exception_handler(InvalidValue, _on_invalid_value)
    app.add_exception_handler(UnknownEntity, _on_unknown_entity)
    app.add_exception_handler(CommandError, _on_command_error)
    app.add_exception_handler(RequestValidationError, _on_request_validation)
    app.add_exception_handler(StarletteHTTPException, _on_http_exception)
    app.add_exception_handler(Exception, _on_unexpected)
