"""System routes: hub status, homes with floors, rooms and people, and the OpenAPI document."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse

from trilink import __version__
from trilink.api.auth import caller
from trilink.api.facade import HubFacade, Principal
from trilink.api.models import ErrorResponse, HomeOut, StatusResponse

_ERRORS: Final[dict[int | str, dict[str, Any]]] = {401: {"model": ErrorResponse}}


def system_router(hub: HubFacade, openapi: Callable[[], dict[str, Any]]) -> APIRouter:
    """Status, homes and ``/api/openapi.json`` (from ``openapi``)."""
    kernel = hub.kernel
    started = time.monotonic()
    router = APIRouter(tags=["system"])

    @router.get("/api/status", summary="Hub status", response_model=StatusResponse, responses=_ERRORS)
    async def status(principal: Annotated[Principal, Depends(caller)]) -> dict[str, Any]:
        """Device counts, API uptime, the caller, and the hub's own counters under ``hub``."""
        online = sum(1 for did in kernel.registry.devices if kernel.state.is_online(did))
        return {
            "version": __version__,
            "uptime": round(time.monotonic() - started, 3),
            "devices": {"total": len(kernel.registry.devices), "online": online},
            "caller": {"name": principal.name, "role": principal.role},
            "hub": hub.status(),
        }

    @router.get(
        "/api/homes",
        summary="Homes, floors, rooms and people",
        response_model=list[HomeOut],
        responses=_ERRORS,
        dependencies=[Depends(caller)],
    )
    async def homes() -> list[dict[str, Any]]:
        """Every home with its floors (lowest first), its rooms (each with its floor) and its people."""
        registry = kernel.registry
        return [
            {
                "id": home.id,
                "name": home.name,
                "latitude": home.latitude,
                "longitude": home.longitude,
                "timezone": home.timezone,
                "floors": [
                    {"id": f.id, "name": f.name, "aliases": list(f.aliases), "level": f.level}
                    for f in registry.floors_of(home.id)
                ],
                "rooms": [
                    {"id": r.id, "name": r.name, "aliases": list(r.aliases), "floor_id": r.floor_id}
                    for r in registry.rooms_of(home.id)
                ],
                "people": [
                    {
                        "id": p.id,
                        "name": p.name,
                        "role": p.role,
                        "phone_did": p.phone_did,
                        "car_did": p.car_did,
                    }
                    for p in registry.people.values()
                    if p.home_id == home.id
                ],
            }
            for home in registry.homes.values()
        ]

    @router.get("/api/openapi.json", include_in_schema=False, dependencies=[Depends(caller)])
    async def openapi_document() -> JSONResponse:
        """The OpenAPI document of this API."""
        return JSONResponse(openapi())

    return router
