"""The API application: :func:`create_app` wires auth, errors and routes around a hub.

Serve the app on the event loop that runs the kernel (the routes call the kernel
directly, and the kernel is not thread-safe).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Final

from fastapi import FastAPI
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from trilink import __version__
from trilink.api.auth import BearerAuth, install_token_redaction
from trilink.api.errors import error_response, install_error_handlers
from trilink.api.facade import HubFacade, automations_of, copilot_of, diagnostics_of, sessions_of
from trilink.api.live import DEFAULT_CLIENT_QUEUE, DEFAULT_RECENT, LiveFeed, live_router
from trilink.api.routes_automations import automations_router, install_automation_errors
from trilink.api.routes_copilot import copilot_router
from trilink.api.routes_devices import devices_router
from trilink.api.routes_diagnostics import diagnostics_router
from trilink.api.routes_discovery import discovery_of, discovery_router
from trilink.api.routes_session import AttemptLimiter, session_router
from trilink.api.routes_stats import stats_router
from trilink.api.routes_system import system_router
from trilink.api.routes_web import web_router
from trilink.web import static_dir as packaged_static_dir

#: Largest request body accepted; commands are small, so anything bigger is a mistake.
MAX_BODY_BYTES: Final = 64 * 1024

_DESCRIPTION: Final = """The REST and WebSocket API of a trilink hub.

Every endpoint needs `Authorization: Bearer <token>`, or the `trilink_session` cookie
of a browser session (`POST /api/session`; then requests that change something also send
`X-Trilink-Request: 1`). Properties are addressed as `SIID.PIID` and actions as
`SIID.AIID`, as in MIoT-Spec-V2. Errors always have the shape
`{"error": {"code": ..., "message": ...}}`. Live events stream on the WebSocket
`/api/ws` (see docs/api.md).
"""


class BodyLimit:
    """ASGI middleware: refuse request bodies over ``limit`` bytes with a 413 in the error shape.

    A declared ``Content-Length`` is refused before anything is read; a chunked body is
    counted as it arrives.
    """

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Check the declared size, then count what arrives."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > self.limit:
            response = error_response(413, "too-large", f"the request body is over {self.limit} bytes")
            await response(scope, receive, send)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.limit:
                # raised inside the body read, where the error handlers answer it
                raise HTTPException(413, f"the request body is over {self.limit} bytes")
            return message

        await self.app(scope, counted, send)


def create_app(
    hub: HubFacade,
    *,
    recent_events: int = DEFAULT_RECENT,
    client_queue: int = DEFAULT_CLIENT_QUEUE,
    static_dir: Path | None = None,
    sign_in_attempts: AttemptLimiter | None = None,
) -> FastAPI:
    """The FastAPI application serving ``hub``.

    ``recent_events`` bounds the ``/api/events`` buffer; ``client_queue`` bounds each
    WebSocket client's queue. The live feed subscribes to the kernel's bus now and
    leaves it when the app shuts down (``app.state.live.close()`` does the same when
    the app is used without a lifespan). The server's loggers get a filter that masks
    ``?token=`` in WebSocket URLs. The automation routes are served when the hub has an
    automation engine (``hub.automations``). When the hub keeps browser sessions
    (``open_session``, ``session`` and ``close_session``, see ``SessionsFacade``), the
    session routes are served and the session cookie is accepted; failed sign-ins are
    limited by ``sign_in_attempts`` (default: 10 a minute per client address). The
    dashboard is served at ``/`` and ``/static/`` from ``static_dir`` (default: the
    ``trilink.web`` package's ``static`` directory).
    """
    feed = LiveFeed(hub.kernel.bus, recent=recent_events, client_queue=client_queue)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        feed.close()

    app = FastAPI(
        title="trilink API",
        version=__version__,
        description=_DESCRIPTION,
        # the document and the docs page are served by our own routes, behind the token
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
        # an API client gets a clear 404 for "/api/devices/", not a redirect it may not follow
        redirect_slashes=False,
    )
    app.state.live = feed
    install_error_handlers(app)
    # added last runs first: authentication, then the body limit
    app.add_middleware(BodyLimit)
    sessions = sessions_of(hub)
    app.add_middleware(BearerAuth, hub=hub, sessions=sessions)
    install_token_redaction()
    app.include_router(system_router(hub, app.openapi))
    if sessions is not None:
        attempts = sign_in_attempts or AttemptLimiter()
        app.state.sign_in_attempts = attempts
        app.include_router(session_router(sessions, attempts))
    app.include_router(devices_router(hub))
    app.include_router(stats_router(hub))
    app.include_router(live_router(feed))
    engine = automations_of(hub)
    if engine is not None:
        install_automation_errors(app)
        app.include_router(automations_router(engine))
    copilot = copilot_of(hub)
    if copilot is not None:
        app.include_router(copilot_router(copilot))
    diagnostics = diagnostics_of(hub)
    if diagnostics is not None:
        app.include_router(diagnostics_router(diagnostics))
    discovery = discovery_of(hub)
    if discovery is not None:
        app.include_router(discovery_router(discovery))
    app.include_router(web_router(static_dir if static_dir is not None else packaged_static_dir()))
    return app
