"""Discovery routes: what zeroconf found on the LAN, and adopting it.

``GET /api/discovery`` lists the candidates (``?kind=miio|mqtt-broker``, ``?adopted=``)
with whether discovery runs, the hub's own announcement, counters and recently skipped
announcements; ``GET /api/discovery/{id}`` shows one. ``POST /api/discovery/{id}/adopt``
(owners and members) adopts a miIO device with its token — ``{"token": "<32 hex>",
"name": …, "room": …, "model": …, "spec": …}`` — and answers with its new did; for an
MQTT broker it takes no body and answers with the settings to put in the config file
(the running hub is not changed). The token is never echoed back or logged.
"""

from __future__ import annotations

from typing import Annotated, Any, Final, Literal, Protocol

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from trilink.api.auth import caller, writer
from trilink.api.errors import ApiError
from trilink.api.facade import HubFacade, Principal
from trilink.transports.zeroconf.adoption import MODEL_PATTERN, TOKEN_PATTERN, AdoptionError, AdoptionRequest

CandidateId = Annotated[str, Path(min_length=1, max_length=80, description="a candidate's id")]

#: how each adoption failure is answered
ADOPTION_STATUS: Final[dict[str, tuple[int, str]]] = {
    "invalid": (422, "invalid-adoption"),
    "conflict": (409, "conflict"),
    "unavailable": (503, "unavailable"),
    "unreachable": (504, "device-unreachable"),
    "failed": (502, "adoption-failed"),
}


class DiscoveryService(Protocol):
    """Zeroconf discovery as the API uses it (``trilink.transports.zeroconf.service.ZeroconfDiscovery``).

    Unknown candidate ids raise ``KeyError``; refused adoptions raise ``AdoptionError``.
    Every method runs on the kernel's event loop.
    """

    def status(self) -> dict[str, Any]:
        """Whether discovery runs, the hub's announcement, counters and recent skips."""
        ...

    def candidates(self, kind: str | None = None, adopted: bool | None = None) -> list[dict[str, Any]]:
        """The candidates, JSON-ready."""
        ...

    def candidate(self, candidate_id: str) -> dict[str, Any]:
        """One candidate, JSON-ready."""
        ...

    async def adopt(self, candidate_id: str, request: AdoptionRequest) -> dict[str, Any]:
        """Adopt a candidate."""
        ...


def discovery_of(hub: HubFacade) -> DiscoveryService | None:
    """The hub's zeroconf discovery (``hub.zeroconf``), or ``None`` (the routes are left out then)."""
    service: DiscoveryService | None = getattr(hub, "zeroconf", None)
    return service


class AdoptIn(BaseModel):
    """How to adopt a miIO device (an MQTT broker takes no body)."""

    model_config = ConfigDict(extra="forbid")

    token: SecretStr | None = Field(
        default=None, description="the device's miIO token: 32 hexadecimal characters"
    )
    name: str | None = Field(default=None, min_length=1, max_length=100, examples=["Bedroom purifier"])
    room: str | None = Field(default=None, min_length=1, max_length=64, examples=["bedroom"])
    model: str | None = Field(
        default=None, max_length=64, pattern=f"^{MODEL_PATTERN.pattern}$", examples=["zhimi.airpurifier.m1"]
    )
    spec: str | None = Field(
        default=None,
        min_length=1,
        max_length=512,
        description="the path of the device's MIoT-Spec-V2 file on the hub",
    )

    @field_validator("token")
    @classmethod
    def _token_shape(cls, token: SecretStr | None) -> SecretStr | None:
        if token is not None and not TOKEN_PATTERN.fullmatch(token.get_secret_value()):
            # the message says what is wrong without repeating the secret
            raise ValueError("the token must be 32 hexadecimal characters (the device's miIO token)")
        return token

    def request(self) -> AdoptionRequest:
        """The adoption request this body describes."""
        token = self.token.get_secret_value() if self.token is not None else None
        return AdoptionRequest(token, self.name, self.room, self.model, self.spec)


def discovery_router(service: DiscoveryService) -> APIRouter:
    """The routes under ``/api/discovery``."""
    router = APIRouter(prefix="/api/discovery", tags=["discovery"])

    def unknown(candidate_id: str) -> ApiError:
        return ApiError(
            404, "not-found", f"no candidate {candidate_id!r} (it may have left the network)", id=candidate_id
        )

    @router.get("", summary="Devices and brokers found on the LAN")
    async def candidates(
        _: Annotated[Principal, Depends(caller)],
        kind: Annotated[Literal["miio", "mqtt-broker"] | None, Query(description="only this kind")] = None,
        adopted: Annotated[bool | None, Query(description="only adopted, or only new")] = None,
    ) -> dict[str, Any]:
        return {**service.status(), "candidates": service.candidates(kind, adopted)}

    @router.get("/{candidate_id}", summary="One candidate")
    async def candidate(
        candidate_id: CandidateId, _: Annotated[Principal, Depends(caller)]
    ) -> dict[str, Any]:
        try:
            return service.candidate(candidate_id)
        except KeyError:
            raise unknown(candidate_id) from None

    @router.post("/{candidate_id}/adopt", summary="Adopt a miIO device, or get a broker's config")
    async def adopt(
        candidate_id: CandidateId,
        _: Annotated[Principal, Depends(writer)],
        body: AdoptIn | None = None,
    ) -> dict[str, Any]:
        request = body.request() if body is not None else AdoptionRequest()
        try:
            return await service.adopt(candidate_id, request)
        except KeyError:
            raise unknown(candidate_id) from None
        except AdoptionError as exc:
            status, code = ADOPTION_STATUS.get(exc.reason, (502, "adoption-failed"))
            raise ApiError(status, code, str(exc), id=candidate_id) from None

    return router
