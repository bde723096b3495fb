"""Device routes: list, detail, spec, one reading, write, action call and history.

Each route reads the kernel's registry and state, or calls the kernel's command path;
validation, permission to reach the device and the device's answer are the kernel's.
Errors rise to the handlers in :mod:`trilink.api.errors`.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Final

from fastapi import APIRouter, Body, Depends, Path, Query, Response

from trilink.api.auth import caller, writer
from trilink.api.errors import ApiError
from trilink.api.facade import HubFacade, Principal
from trilink.api.live import encode
from trilink.api.models import (
    CallActionRequest,
    CallActionResponse,
    DeviceDetail,
    DeviceSummary,
    ErrorResponse,
    HistoryPoint,
    PropertyReading,
    SetPropertyRequest,
    SetPropertyResponse,
)
from trilink.kernel import Context, Device, Kernel
from trilink.model import PropertySpec

#: Most history samples one request may ask for.
MAX_HISTORY = 10_000

# ASCII digits only: ``str.isdigit`` and ``\d`` would accept other scripts' digits
_ADDRESS = re.compile(r"([0-9]{1,9})\.([0-9]{1,9})", re.ASCII)

_ERRORS: Final[dict[int | str, dict[str, Any]]] = {
    code: {"model": ErrorResponse} for code in (400, 401, 404, 422)
}
_COMMAND_ERRORS: Final[dict[int | str, dict[str, Any]]] = {
    **_ERRORS,
    403: {"model": ErrorResponse, "description": "the caller is a guest"},
    409: {"model": ErrorResponse, "description": "the device is offline"},
    502: {"model": ErrorResponse, "description": "the device refused"},
    503: {"model": ErrorResponse, "description": "no transport reaches the device"},
    504: {"model": ErrorResponse, "description": "the device did not answer in time"},
}

Did = Annotated[str, Path(description="the device id", examples=["ac-living"])]


def parse_address(text: str, what: str) -> tuple[int, int]:
    """``"2.3"`` → ``(2, 3)``; anything else is a 400 naming the expected form."""
    match = _ADDRESS.fullmatch(text)
    if match is None:
        raise ApiError(
            400,
            "bad-address",
            f"{text!r} is not a {what} address; expected SIID.{what.upper()}, e.g. 2.1",
        )
    return int(match[1]), int(match[2])


def summary(kernel: Kernel, device: Device) -> dict[str, Any]:
    """The list entry of a device."""
    return {
        "did": device.did,
        "name": device.name,
        "model": device.model,
        "kind": device.spec.name,
        "room_id": device.room_id,
        "home_id": device.home_id,
        "owner_id": device.owner_id,
        "online": kernel.state.is_online(device.did),
    }


def _reading(device: Device, prop: PropertySpec, value: Any, ts: float) -> dict[str, Any]:
    service = device.spec.service(prop.siid)
    return {
        "siid": prop.siid,
        "piid": prop.iid,
        "service": service.name if service else "",
        "property": prop.name,
        "description": prop.description,
        "format": prop.format,
        "unit": prop.unit,
        "access": list(prop.access),
        "value": value,
        "choice": next((c.description for c in prop.value_list or () if c.value == value), None),
        "ts": ts,
    }


def _property(device: Device, siid: int, piid: int) -> PropertySpec:
    prop = device.spec.properties.get((siid, piid))
    if prop is None:
        raise ApiError(
            404,
            "unknown-property",
            f"{device.did} has no property {siid}.{piid} (see GET /api/devices/{device.did}/spec)",
            did=device.did,
            siid=siid,
            piid=piid,
        )
    return prop


def devices_router(hub: HubFacade) -> APIRouter:
    """The ``/api/devices`` routes over ``hub``'s kernel."""
    kernel = hub.kernel
    router = APIRouter(prefix="/api/devices", tags=["devices"], dependencies=[Depends(caller)])

    @router.get("", summary="List devices", response_model=list[DeviceSummary], responses=_ERRORS)
    async def list_devices(
        room: Annotated[str | None, Query(description="only devices in this room id")] = None,
        home: Annotated[str | None, Query(description="only devices in this home id")] = None,
        online: Annotated[
            bool | None, Query(description="only online (true) or offline (false) devices")
        ] = None,
    ) -> list[dict[str, Any]]:
        """Every device the hub knows, optionally filtered by room, home and availability."""
        out = []
        for device in kernel.registry.devices.values():
            if room is not None and device.room_id != room:
                continue
            if home is not None and device.home_id != home:
                continue
            if online is not None and kernel.state.is_online(device.did) is not online:
                continue
            out.append(summary(kernel, device))
        return out

    @router.get(
        "/{did}", summary="One device and its readings", response_model=DeviceDetail, responses=_ERRORS
    )
    async def get_device(did: Did) -> dict[str, Any]:
        """The device and the last known value of each property it has reported, in spec order."""
        device = kernel.registry.device(did)
        values = kernel.state.of(did)
        readings = []
        for prop in device.spec.iter_properties():
            reading = values.get((prop.siid, prop.iid))
            if reading is not None:
                readings.append(_reading(device, prop, reading[0], reading[1]))
        return {**summary(kernel, device), "transport": device.transport, "readings": readings}

    @router.get("/{did}/spec", summary="The device's MIoT-Spec-V2 document", responses=_ERRORS)
    async def get_spec(did: Did) -> Response:
        """The device's spec instance as MIoT-Spec-V2 JSON."""
        return Response(encode(kernel.registry.device(did).spec.to_dict()), media_type="application/json")

    @router.get(
        "/{did}/properties/{address}",
        summary="One reading",
        response_model=PropertyReading,
        responses=_ERRORS,
    )
    async def get_property(
        did: Did, address: Annotated[str, Path(description="SIID.PIID", examples=["2.3"])]
    ) -> dict[str, Any]:
        """The last known value of one property (404 ``no-reading`` if it was never reported)."""
        siid, piid = parse_address(address, "piid")
        device = kernel.registry.device(did)
        prop = _property(device, siid, piid)
        reading = kernel.state.get(did, siid, piid)
        if reading is None:
            raise ApiError(
                404,
                "no-reading",
                f"{did} has not reported {siid}.{piid} ({prop.name}) yet",
                did=did,
                siid=siid,
                piid=piid,
            )
        return {"did": did, **_reading(device, prop, reading[0], reading[1])}

    @router.put(
        "/{did}/properties/{address}",
        summary="Set a property",
        response_model=SetPropertyResponse,
        responses=_COMMAND_ERRORS,
    )
    async def set_property(
        did: Did,
        address: Annotated[str, Path(description="SIID.PIID", examples=["2.3"])],
        body: SetPropertyRequest,
        principal: Annotated[Principal, Depends(writer)],
    ) -> dict[str, Any]:
        """Send a write to the device and wait for its answer."""
        siid, piid = parse_address(address, "piid")
        context = Context.new("api", principal.name)
        outcome = await kernel.set_property(did, siid, piid, body.value, context)
        return {
            "ok": outcome.ok,
            "did": did,
            "siid": siid,
            "piid": piid,
            "value": body.value,
            "message": outcome.message,
        }

    @router.post(
        "/{did}/actions/{address}",
        summary="Call an action",
        response_model=CallActionResponse,
        responses=_COMMAND_ERRORS,
    )
    async def call_action(
        did: Did,
        address: Annotated[str, Path(description="SIID.AIID", examples=["6.1"])],
        principal: Annotated[Principal, Depends(writer)],
        body: Annotated[CallActionRequest | None, Body()] = None,
    ) -> dict[str, Any]:
        """Run an action on the device with the arguments in ``in`` (may be omitted when it takes none)."""
        siid, aiid = parse_address(address, "aiid")
        args = body.args if body is not None else []
        context = Context.new("api", principal.name)
        outcome = await kernel.call_action(did, siid, aiid, args, context)
        return {
            "ok": outcome.ok,
            "did": did,
            "siid": siid,
            "aiid": aiid,
            "out": list(outcome.out),
            "message": outcome.message,
        }

    @router.get(
        "/{did}/history/{address}",
        summary="Stored history of a property",
        response_model=list[HistoryPoint],
        responses=_ERRORS,
    )
    async def get_history(
        did: Did,
        address: Annotated[str, Path(description="SIID.PIID", examples=["4.1"])],
        since: Annotated[
            float | None, Query(allow_inf_nan=False, description="epoch seconds, inclusive")
        ] = None,
        until: Annotated[
            float | None, Query(allow_inf_nan=False, description="epoch seconds, inclusive")
        ] = None,
        limit: Annotated[int, Query(ge=1, le=MAX_HISTORY)] = 1000,
    ) -> Response:
        """Stored samples of one property, oldest first, as the hub's store keeps them."""
        siid, piid = parse_address(address, "piid")
        _property(kernel.registry.device(did), siid, piid)
        if since is not None and until is not None and since > until:
            raise ApiError(422, "invalid-request", f"since ({since}) is after until ({until})")
        points = hub.history(did, siid, piid, since, until, limit)
        return Response(
            encode([{"ts": ts, "value": value} for ts, value in points]), media_type="application/json"
        )

    return router
