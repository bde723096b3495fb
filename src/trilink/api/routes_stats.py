"""Downsampled statistics of a numeric property: 5-minute or hourly min, mean, max and count.

Served when the hub has a ``stats`` method (see :class:`trilink.api.facade.StatsFacade`).
"""

from __future__ import annotations

from typing import Annotated, Any, Final, Literal

from fastapi import APIRouter, Depends, Path, Query, Response

from trilink.api.auth import caller
from trilink.api.errors import ApiError
from trilink.api.facade import HubFacade, stats_of
from trilink.api.live import encode
from trilink.api.models import ErrorResponse
from trilink.api.routes_devices import Did, parse_address
from trilink.store.stats import NUMERIC_FORMATS

#: Most buckets one request may ask for.
MAX_BUCKETS: Final = 10_000

_ERRORS: Final[dict[int | str, dict[str, Any]]] = {
    code: {"model": ErrorResponse} for code in (400, 401, 404, 422)
}


def stats_router(hub: HubFacade) -> APIRouter:
    """``GET /api/devices/{did}/stats/{siid}.{piid}``; no routes for a hub without statistics."""
    router = APIRouter(prefix="/api/devices", tags=["devices"], dependencies=[Depends(caller)])
    stats = stats_of(hub)
    if stats is None:
        return router
    kernel = hub.kernel

    @router.get("/{did}/stats/{address}", summary="Downsampled statistics of a property", responses=_ERRORS)
    async def get_stats(
        did: Did,
        address: Annotated[str, Path(description="SIID.PIID", examples=["4.1"])],
        period: Annotated[
            Literal["5m", "1h"], Query(description="bucket length: 5 minutes or one hour")
        ] = "5m",
        since: Annotated[
            float | None, Query(allow_inf_nan=False, description="epoch seconds; buckets ending after it")
        ] = None,
        until: Annotated[
            float | None, Query(allow_inf_nan=False, description="epoch seconds; buckets starting before it")
        ] = None,
        limit: Annotated[int, Query(ge=1, le=MAX_BUCKETS)] = 1000,
    ) -> Response:
        """One row per bucket overlapping ``[since, until)``, oldest first (the newest ``limit``).

        ``ts`` is the bucket's start; ``mean`` is the plain mean of the samples in it.
        """
        siid, piid = parse_address(address, "piid")
        device = kernel.registry.device(did)
        prop = device.spec.properties.get((siid, piid))
        if prop is None:
            raise ApiError(
                404,
                "unknown-property",
                f"{did} has no property {siid}.{piid} (see GET /api/devices/{did}/spec)",
                did=did,
                siid=siid,
                piid=piid,
            )
        if prop.format not in NUMERIC_FORMATS:
            raise ApiError(
                422,
                "not-numeric",
                f"{did} {siid}.{piid} ({prop.name}) is a {prop.format} property; "
                "statistics are kept for numeric properties only",
                did=did,
                siid=siid,
                piid=piid,
                format=prop.format,
            )
        if since is not None and until is not None and since > until:
            raise ApiError(422, "invalid-request", f"since ({since}) is after until ({until})")
        rows = stats(did, siid, piid, period, since, until, limit)
        body = {
            "period": period,
            "rows": [
                {"ts": ts, "min": low, "mean": mean, "max": high, "count": count}
                for ts, low, mean, high, count in rows
            ],
        }
        return Response(encode(body), media_type="application/json")

    return router
