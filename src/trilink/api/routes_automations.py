"""Automation routes: definitions, runs, traces, scenes, zones, notifications and webhooks.

Every route calls the automation engine and returns what it says; loading, checking
and running definitions are the engine's. The engine's errors are answered here in the
one error shape: a refused definition is 422 with its source, line, path and reason, an
unknown automation 404. Bodies the client sends are parsed strictly before the engine
sees them (JSON without NaN, infinities, integers beyond 64 bits or broken Unicode),
so nothing a client sends can turn into a value the engine cannot keep.

``POST /api/webhooks/{hook_id}`` needs no token: the hook id is the secret (see
:mod:`trilink.api.auth`), and an id no automation listens on is a plain 404.
"""

from __future__ import annotations

import dataclasses
import json
import math
from typing import Annotated, Any, Final

from fastapi import APIRouter, Body, Depends, FastAPI, Path, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, StrictBool

from trilink.api.auth import caller, writer
from trilink.api.errors import ApiError, error_response
from trilink.api.facade import AutomationsEngine, LoadOutcome, Principal
from trilink.api.live import encode
from trilink.api.models import ErrorResponse
from trilink.kernel import Context

#: Media types read as YAML by ``POST /api/automations``.
YAML_TYPES: Final = frozenset({"application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml"})

#: The source name of everything loaded through the API.
API_SOURCE: Final = "api"

#: Most traces one request may ask for (the engine keeps 50 per automation).
MAX_TRACES: Final = 50

#: Most notifications one request may ask for.
MAX_NOTIFICATIONS: Final = 500

_INT64: Final = range(-(2**63), 2**63)

_ERRORS: Final[dict[int | str, dict[str, Any]]] = {code: {"model": ErrorResponse} for code in (401, 404, 422)}
_WRITE_ERRORS: Final[dict[int | str, dict[str, Any]]] = {
    **_ERRORS,
    400: {"model": ErrorResponse, "description": "the body is not JSON"},
    403: {"model": ErrorResponse, "description": "the caller is a guest"},
}

AutomationId = Annotated[str, Path(description="the automation's id", examples=["cool-before-arrival"])]


# ---------------------------------------------------------------------- bodies
class AutomationOut(BaseModel):
    """An automation's state as the engine reports it."""

    model_config = ConfigDict(extra="allow")

    id: str
    name: str
    enabled: bool
    mode: str = Field(examples=["single"])
    source: str = Field(description="the file it was loaded from, or api")
    last_triggered: float | None
    last_result: str | None
    running: int
    pending_timers: int


class AutomationDetail(AutomationOut):
    """An automation with its definition as loaded."""

    definition: dict[str, Any]


class LoadReportOut(BaseModel):
    """What a load did: the ids now loaded and every definition refused (with line, path, reason)."""

    loaded: list[str]
    errors: list[dict[str, Any]]


class RunRequest(BaseModel):
    """Body of ``POST /api/automations/{id}/run`` (optional)."""

    model_config = ConfigDict(extra="forbid")

    skip_conditions: StrictBool = False


class RunOut(BaseModel):
    """The run the API started: its trace (``GET …/traces``) tells how it went."""

    id: str
    run_id: str


class SceneApplied(BaseModel):
    """The result of each state a scene set."""

    scene: str
    results: list[dict[str, Any]]


class WebhookOut(BaseModel):
    """How many automations the webhook triggered."""

    triggered: int


# ---------------------------------------------------------------------- parsing
def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text[:30]} is too large for a number")
    return value


def _int64(text: str) -> int:
    value = int(text)  # over 4300 digits, int() itself refuses with ValueError
    if value not in _INT64:
        raise ValueError(f"{text[:30]} does not fit in 64 bits")
    return value


def parse_json(raw: bytes) -> Any:
    """A request body as JSON data the engine can keep; malformed input is a 400 ``malformed-json``."""
    try:
        text = raw.decode("utf-8-sig")
        data = json.loads(text, parse_constant=_refuse_constant, parse_float=_finite, parse_int=_int64)
        _check_text(data)
    except (UnicodeError, ValueError, RecursionError) as exc:
        reason = "it nests too deep" if isinstance(exc, RecursionError) else str(exc)
        raise ApiError(400, "malformed-json", f"the request body is not valid JSON: {reason}") from None
    return data


def _check_text(data: Any) -> None:
    """Refuse strings with lone surrogates (JSON escapes allow them, UTF-8 does not)."""
    json.dumps(data, ensure_ascii=False).encode("utf-8")


def _media_type(request: Request) -> str:
    return request.headers.get("content-type", "").partition(";")[0].strip().lower()


def info_dict(info: Any) -> dict[str, Any]:
    """An ``AutomationInfo`` as JSON-ready data."""
    if dataclasses.is_dataclass(info) and not isinstance(info, type):
        return dataclasses.asdict(info)
    return dict(vars(info))


def _json(data: Any, status: int = 200) -> Response:
    return Response(encode(data), status_code=status, media_type="application/json")


def report_response(report: LoadOutcome) -> Response:
    """200 with the report when anything loaded (or nothing was refused), else 422 in the error shape."""
    loaded = list(report.loaded)
    errors = [error.to_dict() for error in report.errors]
    if loaded or not errors:
        return _json({"loaded": loaded, "errors": errors})
    first = errors[0]
    message = str(first.get("message", "the definition was refused"))
    if len(errors) > 1:
        message += f" (and {len(errors) - 1} more error(s))"
    return _json({"error": {**first, "message": message, "errors": errors, "loaded": []}}, status=422)


# ---------------------------------------------------------------------- errors
def install_automation_errors(app: FastAPI) -> None:
    """Answer the engine's errors in the one shape: bad definitions 422, unknown automations 404.

    Imported here, not at module level, so an API without an engine never imports it.
    """
    from trilink.automation.engine import UnknownAutomation
    from trilink.automation.errors import DefinitionError

    async def on_definition_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, DefinitionError)
        return JSONResponse({"error": exc.to_dict()}, status_code=422)

    async def on_unknown_automation(request: Request, exc: Exception) -> JSONResponse:
        ident = request.path_params.get("automation_id")
        return error_response(404, "not-found", str(exc), entity="automation", id=ident)

    app.add_exception_handler(DefinitionError, on_definition_error)
    app.add_exception_handler(UnknownAutomation, on_unknown_automation)


# ---------------------------------------------------------------------- routes
def automations_router(engine: AutomationsEngine) -> APIRouter:
    """``/api/automations``, ``/api/scenes``, ``/api/zones``, ``/api/notifications`` and webhooks."""
    router = APIRouter(tags=["automations"])
    guarded = APIRouter(dependencies=[Depends(caller)])

    def info_of(automation_id: str) -> dict[str, Any]:
        for info in engine.automations():
            if getattr(info, "id", None) == automation_id:
                return info_dict(info)
        raise ApiError(
            404, "not-found", f"unknown automation {automation_id!r}", entity="automation", id=automation_id
        )

    @guarded.get(
        "/api/automations", summary="List automations", response_model=list[AutomationOut], responses=_ERRORS
    )
    async def list_automations() -> Response:
        """Every automation with whether it is enabled, when it last ran and how it went."""
        return _json([info_dict(info) for info in engine.automations()])

    @guarded.post(
        "/api/automations",
        summary="Load automations, scenes and zones",
        response_model=LoadReportOut,
        dependencies=[Depends(writer)],
        responses={**_WRITE_ERRORS, 413: {"model": ErrorResponse}, 415: {"model": ErrorResponse}},
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {
                    "application/yaml": {"schema": {"type": "string"}},
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "description": '{"yaml": "<YAML text>"}, or a definition document as JSON',
                        }
                    },
                },
            }
        },
    )
    async def load(request: Request) -> Response:
        """Load definitions in the automation file format; 422 when every one was refused.

        Send YAML (``Content-Type: application/yaml``), JSON ``{"yaml": "..."}``, or the
        document itself as JSON. Some loaded and some refused is 200 with both listed.
        """
        raw = await request.body()
        media = _media_type(request)
        if not raw.strip():
            raise ApiError(422, "invalid-request", "the body is empty: send YAML or JSON definitions")
        if media in YAML_TYPES:
            try:
                text = raw.decode("utf-8-sig")
            except UnicodeDecodeError as exc:
                raise ApiError(400, "bad-request", f"the YAML body is not UTF-8 text: {exc}") from None
            return report_response(engine.load_yaml(text, API_SOURCE))
        if media == "application/json" or media.endswith("+json"):
            data = parse_json(raw)
            if not isinstance(data, dict):
                raise ApiError(
                    422,
                    "invalid-request",
                    f'expected a JSON object ({{"yaml": ...}} or a definition document), '
                    f"got {type(data).__name__}",
                )
            if "yaml" in data:
                text = data["yaml"]
                if len(data) != 1 or not isinstance(text, str):
                    raise ApiError(
                        422,
                        "invalid-request",
                        '{"yaml": ...} must have exactly the field yaml, holding the YAML text as a string',
                    )
                return report_response(engine.load_yaml(text, API_SOURCE))
            return report_response(engine.load_data(data, API_SOURCE))
        raise ApiError(
            415,
            "unsupported-media-type",
            f"cannot read a {media or 'body without Content-Type'}: send YAML with Content-Type "
            "application/yaml, or JSON with Content-Type application/json",
        )

    @guarded.get(
        "/api/automations/{automation_id}",
        summary="One automation and its definition",
        response_model=AutomationDetail,
        responses=_ERRORS,
    )
    async def get_automation(automation_id: AutomationId) -> Response:
        """The automation's state and its definition as loaded."""
        definition = engine.definition(automation_id)
        return _json({**info_of(automation_id), "definition": definition})

    @guarded.delete(
        "/api/automations/{automation_id}",
        summary="Remove an automation",
        response_model=AutomationOut,
        responses=_WRITE_ERRORS,
        dependencies=[Depends(writer)],
    )
    async def remove(automation_id: AutomationId) -> Response:
        """Forget the automation and its pending timers; answers with its last state."""
        info = info_of(automation_id)
        engine.remove(automation_id)
        return _json(info)

    @guarded.post(
        "/api/automations/{automation_id}/enable",
        summary="Enable an automation",
        response_model=AutomationOut,
        responses=_WRITE_ERRORS,
        dependencies=[Depends(writer)],
    )
    async def enable(automation_id: AutomationId) -> Response:
        """Let the automation's triggers start runs again; answers with its state."""
        engine.set_enabled(automation_id, True)
        return _json(info_of(automation_id))

    @guarded.post(
        "/api/automations/{automation_id}/disable",
        summary="Disable an automation",
        response_model=AutomationOut,
        responses=_WRITE_ERRORS,
        dependencies=[Depends(writer)],
    )
    async def disable(automation_id: AutomationId) -> Response:
        """Stop the automation's triggers from starting runs (it stays loaded); answers with its state."""
        engine.set_enabled(automation_id, False)
        return _json(info_of(automation_id))

    @guarded.post(
        "/api/automations/{automation_id}/run",
        summary="Run an automation now",
        response_model=RunOut,
        responses=_WRITE_ERRORS,
    )
    async def run(
        automation_id: AutomationId,
        principal: Annotated[Principal, Depends(writer)],
        body: Annotated[RunRequest | None, Body()] = None,
    ) -> Response:
        """Run it now, as if triggered, checking its conditions unless ``skip_conditions`` is true.

        Answers at once with the run's id; the run's trace tells how it went.
        """
        skip = body.skip_conditions if body is not None else False
        run_id = await engine.run(automation_id, Context.new("api", principal.name), skip_conditions=skip)
        return _json({"id": automation_id, "run_id": run_id})

    @guarded.get(
        "/api/automations/{automation_id}/traces",
        summary="Traces of recent runs",
        response_model=list[dict[str, Any]],
        responses=_ERRORS,
    )
    async def traces(
        automation_id: AutomationId, limit: Annotated[int, Query(ge=1, le=MAX_TRACES)] = 20
    ) -> Response:
        """The newest traces first: the trigger, each condition with its values, each action's result."""
        return _json(engine.traces(automation_id, limit))

    @guarded.get(
        "/api/automations/{automation_id}/why-not",
        summary="Why it last did not run",
        response_model=dict[str, Any],
        responses=_ERRORS,
    )
    async def why_not(automation_id: AutomationId) -> Response:
        """The last time a trigger fired but the automation did not run, with the reason in ``sentence``."""
        explanation = engine.why_not(automation_id)
        if explanation is None:
            raise ApiError(
                404,
                "no-explanation",
                f"{automation_id} has not been kept from running since it was loaded: nothing to explain",
                id=automation_id,
            )
        return _json(explanation)

    @guarded.get(
        "/api/scenes",
        summary="List scenes",
        response_model=list[dict[str, Any]],
        responses=_ERRORS,
        tags=["scenes"],
    )
    async def scenes() -> Response:
        """Every scene with the states it sets."""
        return _json(engine.scenes())

    @guarded.post(
        "/api/scenes/{scene_id}/apply",
        summary="Apply a scene",
        response_model=SceneApplied,
        responses=_WRITE_ERRORS,
        tags=["scenes"],
    )
    async def apply_scene(
        scene_id: Annotated[str, Path(description="the scene's id", examples=["evening"])],
        principal: Annotated[Principal, Depends(writer)],
    ) -> Response:
        """Set every state of the scene; answers with each write's result."""
        if not any(scene.get("id") == scene_id for scene in engine.scenes()):
            raise ApiError(404, "not-found", f"unknown scene {scene_id!r}", entity="scene", id=scene_id)
        results = await engine.apply_scene(scene_id, Context.new("api", principal.name))
        return _json({"scene": scene_id, "results": results})

    @guarded.get(
        "/api/zones",
        summary="List zones",
        response_model=list[dict[str, Any]],
        responses=_ERRORS,
        tags=["zones"],
    )
    async def zones() -> Response:
        """Every zone (``home`` included) with its centre and radius."""
        return _json(engine.zones())

    @guarded.get(
        "/api/notifications",
        summary="Recent notifications",
        response_model=list[dict[str, Any]],
        responses=_ERRORS,
        tags=["notifications"],
    )
    async def notifications(limit: Annotated[int, Query(ge=1, le=MAX_NOTIFICATIONS)] = 50) -> Response:
        """The newest notifications automations sent, newest first."""
        return _json(engine.notifications(limit))

    hooks = APIRouter(tags=["webhooks"])

    @hooks.post(
        "/api/webhooks/{hook_id}",
        summary="Call a webhook (no token: the id is the secret)",
        response_model=WebhookOut,
        responses={
            400: {"model": ErrorResponse},
            404: {"model": ErrorResponse},
            422: {"model": ErrorResponse},
        },
    )
    async def webhook(
        hook_id: Annotated[str, Path(description="the webhook trigger's secret id")], request: Request
    ) -> dict[str, Any]:
        """Fire every automation with a ``webhook`` trigger of this id; an optional JSON body is its data."""
        raw = await request.body()
        payload = parse_json(raw) if raw.strip() else {}
        if not isinstance(payload, dict):
            raise ApiError(422, "invalid-request", "a webhook's body must be a JSON object (or empty)")
        triggered = engine.webhook(hook_id, payload)
        if not triggered:
            # the same answer as for a missing page: an unknown id tells a guesser nothing
            raise ApiError(404, "not-found", f"no such endpoint: POST {request.url.path}")
        return {"triggered": triggered}

    router.include_router(guarded)
    router.include_router(hooks)
    return router
