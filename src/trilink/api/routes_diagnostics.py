"""Diagnostics routes: maintenance reminders and what the detectors believe.

``GET /api/diagnostics/reminders`` lists reminders (``?active=true`` for live faults);
``POST /api/diagnostics/reminders/{id}/acknowledge``, ``…/snooze`` (``{"hours": 24}``) and
``…/resolve`` (the unit was serviced: its baseline is learned anew) change one;
``GET /api/diagnostics/devices/{did}`` shows a device's detectors.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from trilink.api.auth import caller, writer
from trilink.api.errors import ApiError
from trilink.api.facade import DiagnosticsService, Principal

ReminderId = Annotated[int, Path(ge=1, le=2**62, description="a reminder's id")]


class SnoozeIn(BaseModel):
    """How long to snooze a reminder."""

    model_config = ConfigDict(extra="forbid")

    hours: float = Field(gt=0, le=24 * 365, examples=[24])


def diagnostics_router(service: DiagnosticsService) -> APIRouter:
    """The routes under ``/api/diagnostics``."""
    router = APIRouter(prefix="/api/diagnostics", tags=["diagnostics"])

    def one(action: str, reminder_id: int, *args: Any) -> dict[str, Any]:
        try:
            reminder = getattr(service, action)(reminder_id, *args)
        except KeyError as exc:
            raise ApiError(404, "not_found", f"no reminder {reminder_id}") from exc
        except ValueError as exc:  # ReminderClosed: resolved already
            raise ApiError(409, "conflict", str(exc)) from exc
        out: dict[str, Any] = reminder.to_dict()
        return out

    @router.get("/reminders", summary="Maintenance reminders, newest first")
    async def reminders(
        _: Annotated[Principal, Depends(caller)],
        active: Annotated[bool, Query(description="only reminders about live faults")] = False,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    ) -> dict[str, Any]:
        items = service.reminders(active_only=active, limit=limit)
        return {"reminders": [r.to_dict() for r in items]}

    @router.post("/reminders/{reminder_id}/acknowledge", summary="Seen")
    async def acknowledge(
        reminder_id: ReminderId, _: Annotated[Principal, Depends(writer)]
    ) -> dict[str, Any]:
        return one("acknowledge", reminder_id)

    @router.post("/reminders/{reminder_id}/snooze", summary="Ask again later if the fault is still there")
    async def snooze(
        reminder_id: ReminderId, body: SnoozeIn, _: Annotated[Principal, Depends(writer)]
    ) -> dict[str, Any]:
        return one("snooze", reminder_id, body.hours)

    @router.post("/reminders/{reminder_id}/resolve", summary="Serviced: close it and relearn the baseline")
    async def resolve(reminder_id: ReminderId, _: Annotated[Principal, Depends(writer)]) -> dict[str, Any]:
        return one("resolve", reminder_id)

    @router.get("/devices/{did}", summary="What a device's detectors believe now")
    async def device(did: str, _: Annotated[Principal, Depends(caller)]) -> dict[str, Any]:
        try:
            status: dict[str, Any] = service.status(did)
        except KeyError as exc:
            raise ApiError(
                404, "not_found", f"{did} has no detectors (not an AC or a car, or unknown)"
            ) from exc
        return status

    return router
