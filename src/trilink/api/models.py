"""Request and response bodies of the REST API, as pydantic models (they make the OpenAPI document).

Request bodies forbid unknown fields, so a typo (``{"valeu": 1}``) is an error rather
than a silent no-op. Device values are ``Any`` here on purpose: the device's spec, not
this layer, decides what a value may be (``trilink.model`` validates it).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class ErrorDetail(BaseModel):
    """What went wrong: a stable code, a message for a person, and details by code."""

    model_config = ConfigDict(extra="allow")

    code: str = Field(examples=["invalid-value"])
    message: str = Field(
        examples=["ac-living siid 2 piid 3: 40 is out of range (allowed 16..31 step 0.5) [range]"]
    )


class ErrorResponse(BaseModel):
    """Every error answer has this shape."""

    error: ErrorDetail


# ---------------------------------------------------------------------- requests
class SetPropertyRequest(BaseModel):
    """Body of ``PUT …/properties/{siid}.{piid}``."""

    model_config = ConfigDict(extra="forbid")

    value: Any = Field(examples=[24.5])


class CallActionRequest(BaseModel):
    """Body of ``POST …/actions/{siid}.{aiid}``; ``in`` holds the arguments in spec order."""

    model_config = ConfigDict(extra="forbid")

    args: list[Any] = Field(default_factory=list, alias="in", examples=[["Dinner", "is ready"]])


# --------------------------------------------------------------------- responses
class Caller(BaseModel):
    """The caller as the hub sees it."""

    name: str
    role: str


class DeviceCounts(BaseModel):
    """How many devices the hub knows and how many are online."""

    total: int
    online: int


class StatusResponse(BaseModel):
    """``GET /api/status``."""

    version: str
    uptime: float = Field(description="seconds since the API started")
    devices: DeviceCounts
    caller: Caller
    hub: dict[str, Any] = Field(description="transport and store counters, as the hub reports them")


class FloorOut(BaseModel):
    """A floor of a home."""

    id: str
    name: str
    aliases: list[str]
    level: int | None = Field(description="0 the ground floor, 1 the one above, -1 a basement; null: unknown")


class RoomOut(BaseModel):
    """A room of a home."""

    id: str
    name: str
    aliases: list[str]
    floor_id: str | None = Field(description="the floor the room is on (null: none)")


class PersonOut(BaseModel):
    """A person of a home, with their phone and car."""

    id: str
    name: str
    role: str
    phone_did: str | None
    car_did: str | None


class HomeOut(BaseModel):
    """A home with its floors, rooms and people."""

    id: str
    name: str
    latitude: float | None
    longitude: float | None
    timezone: str
    floors: list[FloorOut]
    rooms: list[RoomOut]
    people: list[PersonOut]


class DeviceSummary(BaseModel):
    """A device in the device list."""

    did: str
    name: str
    model: str
    kind: str = Field(description="the device type's name from its spec URN, e.g. air-conditioner")
    room_id: str | None
    home_id: str | None
    owner_id: str | None
    online: bool


class Reading(BaseModel):
    """The last known value of one property, with what the spec says about it."""

    siid: int
    piid: int
    service: str
    property: str
    description: str
    format: str
    unit: str | None
    access: list[str]
    value: Any
    #: the value-list description of the value (e.g. "Cool" for mode 2), if the spec has one
    choice: str | None = None
    ts: float


class DeviceDetail(DeviceSummary):
    """A device with its transport and every property value reported so far."""

    transport: str
    readings: list[Reading]


class PropertyReading(Reading):
    """``GET …/properties/{siid}.{piid}``: one reading of one device."""

    did: str


class SetPropertyResponse(BaseModel):
    """The device accepted the write."""

    ok: bool
    did: str
    siid: int
    piid: int
    value: Any
    message: str = ""


class CallActionResponse(BaseModel):
    """The device ran the action; ``out`` holds its output values."""

    ok: bool
    did: str
    siid: int
    aiid: int
    out: list[Any]
    message: str = ""


class HistoryPoint(BaseModel):
    """One stored sample of a property."""

    ts: float
    value: Any
