"""Copilot routes: say something, confirm or cancel a held plan.

``POST /api/copilot/say`` answers with the plan, what was done (or would be, for a dry
run), the reply in the request's language, and — when a step is risky or the request
creates an automation — a ``confirmation_id`` to ``POST /api/copilot/confirm/{id}``.
Guests may ask questions and dry-run requests; anything that would change a device is
refused for them with 403.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictStr

from trilink.api.auth import caller
from trilink.api.errors import ApiError
from trilink.api.facade import CopilotService, Principal
from trilink.kernel import Context

ConfirmationId = Annotated[str, Path(min_length=1, max_length=64, description="from a held reply")]


class SayIn(BaseModel):
    """A request in words."""

    model_config = ConfigDict(extra="forbid")

    text: StrictStr = Field(min_length=1, max_length=2000, examples=["把客厅空调调到24度"])
    room: StrictStr | None = Field(default=None, description="the speaker's room id, for 'here'")
    person: StrictStr | None = Field(default=None, description="the speaker's person id")
    dry_run: StrictBool = False


def copilot_router(copilot: CopilotService) -> APIRouter:
    """The routes under ``/api/copilot``."""
    router = APIRouter(prefix="/api/copilot", tags=["copilot"])

    def actor(principal: Principal) -> Any:
        return lambda: Context.new("api", principal.name)

    @router.post("/say", summary="Say something: the hub does it, asks first, or answers")
    async def say(body: SayIn, principal: Annotated[Principal, Depends(caller)]) -> dict[str, Any]:
        dry_run = body.dry_run or not principal.can_write
        try:
            reply = await copilot.say(
                body.text,
                person_id=body.person,
                room=body.room,
                dry_run=dry_run,
                owner=principal.token_id,
                actor=actor(principal),
            )
        except ValueError as exc:
            raise ApiError(422, "invalid_request", str(exc)) from exc
        out: dict[str, Any] = reply.to_dict()
        if not principal.can_write and not body.dry_run and (out["steps"] or out["scenes"]):
            raise ApiError(
                403,
                "forbidden",
                f"{principal.name} has the {principal.role} role, which may ask but not change devices",
                role=principal.role,
                plan=out,
            )
        return out

    @router.post("/confirm/{confirmation_id}", summary="Confirm a held plan: it is sent now")
    async def confirm(
        confirmation_id: ConfirmationId, principal: Annotated[Principal, Depends(caller)]
    ) -> dict[str, Any]:
        if not principal.can_write:
            raise ApiError(403, "forbidden", f"{principal.name} may not change devices", role=principal.role)
        try:
            reply = await copilot.confirm(confirmation_id, owner=principal.token_id, actor=actor(principal))
        except KeyError as exc:
            raise ApiError(
                404, "not_found", "no plan waits for this confirmation (expired, done, or not yours)"
            ) from exc
        result: dict[str, Any] = reply.to_dict()
        return result

    @router.delete("/confirm/{confirmation_id}", status_code=204, summary="Cancel a held plan")
    async def cancel(
        confirmation_id: ConfirmationId, principal: Annotated[Principal, Depends(caller)]
    ) -> None:
        if not copilot.cancel(confirmation_id, owner=principal.token_id):
            raise ApiError(404, "not_found", "no plan waits for this confirmation")

    return router
