"""The automation routes: auth and roles, error shapes, hostile bodies, and a real engine.

Most tests drive the routes over :class:`FakeEngine`, which implements the engine's
interface in a few lines, so the HTTP behaviour is tested on its own. The last tests
load a real automation into the real engine through the API and read its trace.
``FakeEngine`` and ``automation_world`` are shared with tests/test_cli_automation.py.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import wait_for_async
from test_api import GUEST, OWNER, OWNER_TOKEN, FakeHub, World, build_world, error_of
from trilink.api import create_app
from trilink.automation.engine import AutomationInfo, LoadReport, UnknownAutomation
from trilink.automation.errors import DefinitionError
from trilink.kernel import Context

DEFINITIONS = """\
automations:
  - id: cool-before-arrival
    name: Cool the living room before I get home
    triggers:
      - type: webhook
        id: s3cret-hook-0123456789
    actions:
      - set: {device: ac-living, property: 2.3, value: 24}
  - id: evening-lights
    name: Evening lights
    triggers:
      - type: time
        at: "19:00"
    actions:
      - scene: evening
"""


@dataclass
class FakeEngine:
    """The engine's interface over plain dicts; records what the API asked of it.

    A definition needs an ``id`` and a list of ``triggers``; anything else about it is
    accepted. ``why`` holds the canned "why not" answers, ``trace_log`` the traces.
    """

    definitions: dict[str, dict[str, Any]] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)
    enabled: dict[str, bool] = field(default_factory=dict)
    trace_log: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    why: dict[str, dict[str, Any]] = field(default_factory=dict)
    runs: list[tuple[str, Context, bool]] = field(default_factory=list)
    hooks_called: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    applied: list[tuple[str, Context]] = field(default_factory=list)
    scene_list: list[dict[str, Any]] = field(
        default_factory=lambda: [
            {"id": "evening", "name": "Evening", "states": [{"device": "light-bed", "property": "2.1"}]}
        ]
    )
    zone_list: list[dict[str, Any]] = field(
        default_factory=lambda: [
            {"id": "home", "name": "Home", "latitude": 52.5, "longitude": 13.4, "radius_m": 150.0}
        ]
    )
    sent: list[dict[str, Any]] = field(
        default_factory=lambda: [
            {"person": "alice", "title": "Welcome", "message": "The AC is on", "ts": 1_800_000_000.0}
        ]
    )
    stats: dict[str, Any] = field(default_factory=dict)

    def _known(self, automation_id: str) -> None:
        if automation_id not in self.definitions:
            raise UnknownAutomation(automation_id)

    def load_yaml(self, text: str, source: str) -> LoadReport:
        """Parse YAML; a syntax error is one DefinitionError with its line."""
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = mark.line + 1 if mark is not None else None
            raise DefinitionError(
                source, line, "", f"not valid YAML: {getattr(exc, 'problem', exc)}"
            ) from None
        return self.load_data(data, source)

    def load_data(self, data: Any, source: str) -> LoadReport:
        """Load ``{"automations": [...]}``; each bad entry is an error, the rest load."""
        if not isinstance(data, dict) or not isinstance(data.get("automations"), list):
            raise DefinitionError(source, 1, "", "expected a mapping with an automations list")
        report = LoadReport([], [])
        for index, item in enumerate(data["automations"]):
            where = f"automations[{index}]"
            if not isinstance(item, dict) or not isinstance(item.get("id"), str):
                report.errors.append(DefinitionError(source, index + 2, f"{where}.id", "an id is required"))
            elif not isinstance(item.get("triggers"), list):
                report.errors.append(
                    DefinitionError(source, index + 2, f"{where}.triggers", "a list of triggers is required")
                )
            else:
                self.definitions[item["id"]] = item
                self.sources[item["id"]] = source
                self.enabled.setdefault(item["id"], True)
                report.loaded.append(item["id"])
        return report

    def automations(self) -> list[AutomationInfo]:
        """Every automation's state."""
        return [
            AutomationInfo(
                ident,
                d.get("name", ident),
                self.enabled[ident],
                d.get("mode", "single"),
                self.sources[ident],
                None,
                None,
                0,
                0,
            )
            for ident, d in self.definitions.items()
        ]

    def definition(self, automation_id: str) -> dict[str, Any]:
        """The definition as loaded."""
        self._known(automation_id)
        return self.definitions[automation_id]

    def remove(self, automation_id: str) -> None:
        """Forget it."""
        self._known(automation_id)
        del self.definitions[automation_id]

    def set_enabled(self, automation_id: str, enabled: bool) -> None:
        """Switch it on or off."""
        self._known(automation_id)
        self.enabled[automation_id] = enabled

    def traces(self, automation_id: str, limit: int = 20) -> list[dict[str, Any]]:
        """Canned traces, newest first."""
        self._known(automation_id)
        return self.trace_log.get(automation_id, [])[:limit]

    def why_not(self, automation_id: str) -> dict[str, Any] | None:
        """The canned explanation, if any."""
        self._known(automation_id)
        return self.why.get(automation_id)

    async def run(self, automation_id: str, context: Context, *, skip_conditions: bool = False) -> str:
        """Record the run."""
        self._known(automation_id)
        self.runs.append((automation_id, context, skip_conditions))
        return f"run-{len(self.runs)}"

    def webhook(self, hook_id: str, payload: dict[str, Any]) -> int:
        """How many enabled automations have a webhook trigger with this id."""
        count = sum(
            1
            for ident, d in self.definitions.items()
            if self.enabled[ident] and any(t == {"type": "webhook", "id": hook_id} for t in d["triggers"])
        )
        if count:
            self.hooks_called.append((hook_id, payload))
        return count

    def scenes(self) -> list[dict[str, Any]]:
        """The scenes."""
        return self.scene_list

    async def apply_scene(self, scene_id: str, context: Context) -> list[dict[str, Any]]:
        """Record the scene."""
        self.applied.append((scene_id, context))
        return [{"device": "light-bed", "property": "2.1", "value": True, "ok": True}]

    def zones(self) -> list[dict[str, Any]]:
        """The zones."""
        return self.zone_list

    def notifications(self, limit: int = 50) -> list[dict[str, Any]]:
        """The notifications."""
        return self.sent[:limit]


@dataclass
class AutomationHub(FakeHub):
    """The test hub with an automation engine."""

    automations: Any = None


@dataclass
class AutomationWorld:
    """The shared test world with a fake engine loaded with :data:`DEFINITIONS`."""

    world: World
    hub: AutomationHub
    engine: FakeEngine


def automation_world() -> AutomationWorld:
    """The world of tests/test_api.py, its hub with a :class:`FakeEngine` holding two automations."""
    world = build_world()
    engine = FakeEngine()
    engine.load_yaml(DEFINITIONS, "automations.yaml")
    hub = AutomationHub(world.kernel, automations=engine)
    return AutomationWorld(world, hub, engine)


@pytest.fixture
def aw() -> AutomationWorld:
    return automation_world()


@pytest.fixture
async def api(aw: AutomationWorld) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(aw.hub)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://hub", headers=OWNER
    ) as client:
        yield client
    app.state.live.close()


HOOK = "s3cret-hook-0123456789"
YAML = {"Content-Type": "application/yaml"}

READS = [
    "/api/automations",
    "/api/automations/cool-before-arrival",
    "/api/automations/cool-before-arrival/traces",
    "/api/scenes",
    "/api/zones",
    "/api/notifications",
]
WRITES = [
    ("POST", "/api/automations"),
    ("DELETE", "/api/automations/cool-before-arrival"),
    ("POST", "/api/automations/cool-before-arrival/enable"),
    ("POST", "/api/automations/cool-before-arrival/disable"),
    ("POST", "/api/automations/cool-before-arrival/run"),
    ("POST", "/api/scenes/evening/apply"),
]


# ------------------------------------------------------------------------ auth and roles
async def test_without_an_engine_there_are_no_automation_routes() -> None:
    world = build_world()
    app = create_app(world.hub)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://hub") as client:
        error_of(await client.get("/api/automations", headers=OWNER), 404, "not-found")
        # the public webhook path answers like any missing page
        err = error_of(await client.post(f"/api/webhooks/{HOOK}"), 404, "not-found")
        assert "no such endpoint" in err["message"]
    app.state.live.close()


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", p) for p in [*READS, "/api/automations/cool-before-arrival/why-not"]] + WRITES,
    ids=lambda v: v,
)
@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer nope"}], ids=["none", "wrong"])
async def test_every_automation_endpoint_needs_a_token(
    aw: AutomationWorld, method: str, path: str, headers: dict[str, str]
) -> None:
    app = create_app(aw.hub)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://hub") as client:
        r = await client.request(method, path, headers=headers, content=b"{not json")
    app.state.live.close()
    error_of(r, 401, "unauthorized")
    assert aw.engine.runs == [] and aw.engine.applied == []
    assert set(aw.engine.definitions) == {"cool-before-arrival", "evening-lights"}


async def test_a_guest_may_read_but_not_change_automations(
    api: httpx.AsyncClient, aw: AutomationWorld
) -> None:
    for path in READS:
        r = await api.get(path, headers=GUEST)
        assert r.status_code == 200, (path, r.text)
    for method, path in WRITES:
        err = error_of(
            await api.request(method, path, headers={**GUEST, **YAML}, content=DEFINITIONS), 403, "forbidden"
        )
        assert err["role"] == "guest"
    assert aw.engine.runs == [] and aw.engine.applied == []
    assert all(aw.engine.enabled.values())
    assert set(aw.engine.definitions) == {"cool-before-arrival", "evening-lights"}


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", f"/api/webhooks/{HOOK}"),  # only POST is public
        ("POST", f"/api/webhooks/{HOOK}/x"),
        ("POST", "/api/webhooks/"),
        ("POST", "/api/webhooks"),
        ("POST", "/api/webhooks/%2E%2E"),
        ("POST", "/api/webhooks/..%2Fautomations"),
        ("POST", "/api/webhooksx/abc"),
    ],
)
async def test_only_a_webhook_call_is_public(aw: AutomationWorld, method: str, path: str) -> None:
    app = create_app(aw.hub)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://hub") as client:
        r = await client.request(method, path)
    app.state.live.close()
    error_of(r, 401, "unauthorized")
    assert aw.engine.hooks_called == []


# ------------------------------------------------------------------------ reading
async def test_list_and_show_automations(api: httpx.AsyncClient) -> None:
    listed = (await api.get("/api/automations")).json()
    assert [a["id"] for a in listed] == ["cool-before-arrival", "evening-lights"]
    assert listed[0] == {
        "id": "cool-before-arrival",
        "name": "Cool the living room before I get home",
        "enabled": True,
        "mode": "single",
        "source": "automations.yaml",
        "last_triggered": None,
        "last_result": None,
        "running": 0,
        "pending_timers": 0,
    }
    detail = (await api.get("/api/automations/evening-lights")).json()
    assert detail["id"] == "evening-lights" and detail["enabled"] is True
    assert detail["definition"]["actions"] == [{"scene": "evening"}]


@pytest.mark.parametrize(
    ("method", "suffix"),
    [
        ("GET", ""),
        ("DELETE", ""),
        ("POST", "/enable"),
        ("POST", "/disable"),
        ("POST", "/run"),
        ("GET", "/traces"),
        ("GET", "/why-not"),
    ],
)
async def test_an_unknown_automation_is_404_everywhere(
    api: httpx.AsyncClient, method: str, suffix: str
) -> None:
    err = error_of(await api.request(method, f"/api/automations/nope{suffix}"), 404, "not-found")
    assert err["message"] == "unknown automation 'nope'"
    assert err["entity"] == "automation" and err["id"] == "nope"


async def test_traces_are_passed_through_with_a_bounded_limit(
    api: httpx.AsyncClient, aw: AutomationWorld
) -> None:
    aw.engine.trace_log["cool-before-arrival"] = [{"n": n} for n in range(30)]
    assert len((await api.get("/api/automations/cool-before-arrival/traces")).json()) == 20
    r = await api.get("/api/automations/cool-before-arrival/traces", params={"limit": 3})
    assert r.json() == [{"n": 0}, {"n": 1}, {"n": 2}]
    for limit in ("0", "51", "-1", "many", "1.5"):
        r = await api.get("/api/automations/cool-before-arrival/traces", params={"limit": limit})
        error_of(r, 422, "invalid-request")


async def test_why_not_explains_or_says_there_is_nothing_to_explain(
    api: httpx.AsyncClient, aw: AutomationWorld
) -> None:
    err = error_of(await api.get("/api/automations/evening-lights/why-not"), 404, "no-explanation")
    assert "evening-lights" in err["message"]
    aw.engine.why["evening-lights"] = {
        "sentence": "did not run at 19:00:00: condition 1 (time after 20:00) was false",
        "ts": 1_800_000_000.0,
        "condition": 1,
    }
    r = await api.get("/api/automations/evening-lights/why-not")
    assert r.status_code == 200 and r.json() == aw.engine.why["evening-lights"]


async def test_scenes_zones_and_notifications(api: httpx.AsyncClient, aw: AutomationWorld) -> None:
    assert (await api.get("/api/scenes")).json() == aw.engine.scene_list
    assert (await api.get("/api/zones")).json() == aw.engine.zone_list
    assert (await api.get("/api/notifications")).json() == aw.engine.sent
    aw.engine.sent = [{"n": n} for n in range(80)]
    assert len((await api.get("/api/notifications")).json()) == 50
    assert len((await api.get("/api/notifications", params={"limit": 2})).json()) == 2
    for limit in ("0", "501", "x"):
        error_of(await api.get("/api/notifications", params={"limit": limit}), 422, "invalid-request")


# ------------------------------------------------------------------------ loading
async def test_load_yaml_in_every_accepted_form(api: httpx.AsyncClient, aw: AutomationWorld) -> None:
    one = "automations:\n  - id: a1\n    triggers: []\n"
    for content_type in ("application/yaml", "text/yaml; charset=utf-8", "application/x-yaml", "TEXT/X-YAML"):
        r = await api.post("/api/automations", content=one, headers={"Content-Type": content_type})
        assert r.status_code == 200, r.text
        assert r.json() == {"loaded": ["a1"], "errors": []}
    r = await api.post("/api/automations", json={"yaml": one.replace("a1", "a2")})
    assert r.json() == {"loaded": ["a2"], "errors": []}
    r = await api.post("/api/automations", json={"automations": [{"id": "a3", "triggers": []}]})
    assert r.json() == {"loaded": ["a3"], "errors": []}
    # a UTF-8 byte order mark is not part of the text
    r = await api.post("/api/automations", content=b"\xef\xbb\xbf" + one.encode(), headers=YAML)
    assert r.status_code == 200, r.text
    assert {"a1", "a2", "a3"} <= set(aw.engine.definitions)
    assert {aw.engine.sources[i] for i in ("a1", "a2", "a3")} == {"api"}


async def test_a_partial_load_is_200_with_the_errors_listed(
    api: httpx.AsyncClient, aw: AutomationWorld
) -> None:
    text = "automations:\n  - id: good\n    triggers: []\n  - name: no id\n"
    r = await api.post("/api/automations", content=text, headers=YAML)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["loaded"] == ["good"]
    assert body["errors"] == [
        {
            "code": "invalid-definition",
            "source": "api",
            "line": 3,
            "path": "automations[1].id",
            "reason": "an id is required",
            "message": "api:3: automations[1].id: an id is required",
        }
    ]


async def test_when_everything_is_refused_it_is_422_in_the_error_shape(
    api: httpx.AsyncClient, aw: AutomationWorld
) -> None:
    text = "automations:\n  - name: no id\n  - id: x\n    triggers: 5\n"
    err = error_of(await api.post("/api/automations", content=text, headers=YAML), 422, "invalid-definition")
    assert err["line"] == 2 and err["path"] == "automations[0].id" and err["reason"] == "an id is required"
    assert err["message"].startswith("api:2: automations[0].id: an id is required")
    assert "1 more" in err["message"]
    assert [e["path"] for e in err["errors"]] == ["automations[0].id", "automations[1].triggers"]
    assert err["loaded"] == []
    assert "x" not in aw.engine.definitions


async def test_a_yaml_syntax_error_is_422_with_its_line(api: httpx.AsyncClient) -> None:
    r = await api.post("/api/automations", content="automations:\n  - id: [unclosed\n", headers=YAML)
    err = error_of(r, 422, "invalid-definition")
    assert err["line"] == 3 and err["source"] == "api" and "YAML" in err["reason"]


@pytest.mark.parametrize(
    ("content", "content_type", "status", "code"),
    [
        (b"", "application/yaml", 422, "invalid-request"),
        (b"  \n", "application/json", 422, "invalid-request"),
        (b"automations: []", "text/plain", 415, "unsupported-media-type"),
        (b"automations: []", None, 415, "unsupported-media-type"),
        (b"automations: [\xff\xfe]", "application/yaml", 400, "bad-request"),
        (b"{not json", "application/json", 400, "malformed-json"),
        (b"\xff{}", "application/json", 400, "malformed-json"),
        (b'{"automations": NaN}', "application/json", 400, "malformed-json"),
        (b'{"automations": [1e400]}', "application/json", 400, "malformed-json"),
        (b'{"automations": [' + b"9" * 30 + b"]}", "application/json", 400, "malformed-json"),
        (b'{"automations": [' + b"9" * 5000 + b"]}", "application/json", 400, "malformed-json"),
        (b'{"yaml": "\\ud800"}', "application/json", 400, "malformed-json"),
        (b"[" * 20000 + b"]" * 20000, "application/json", 400, "malformed-json"),
        (b"[1, 2]", "application/json", 422, "invalid-request"),
        (b'"automations"', "application/json", 422, "invalid-request"),
        (b'{"yaml": 5}', "application/json", 422, "invalid-request"),
        (b'{"yaml": "a: 1", "also": 2}', "application/json", 422, "invalid-request"),
        (b'{"automations": "none"}', "application/json", 422, "invalid-definition"),
        (b"- just\n- a list\n", "application/yaml", 422, "invalid-definition"),
        (b"\x00\x01", "application/yaml", 422, "invalid-definition"),
    ],
)
async def test_hostile_load_bodies_are_refused_in_the_error_shape(
    api: httpx.AsyncClient,
    aw: AutomationWorld,
    content: bytes,
    content_type: str | None,
    status: int,
    code: str,
) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    err = error_of(await api.post("/api/automations", content=content, headers=headers), status, code)
    if code == "unsupported-media-type":
        assert "application/yaml" in err["message"]
    assert set(aw.engine.definitions) == {"cool-before-arrival", "evening-lights"}


async def test_a_huge_definition_is_413(api: httpx.AsyncClient) -> None:
    text = "automations:\n" + "  - id: x\n    triggers: []\n" * 4000
    error_of(await api.post("/api/automations", content=text, headers=YAML), 413, "too-large")


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    body=st.binary(max_size=60) | st.text(max_size=60).map(str.encode),
    content_type=st.sampled_from(["application/yaml", "application/json", "text/yaml", "text/plain", ""]),
)
async def test_any_load_body_is_answered_without_a_server_error(
    api: httpx.AsyncClient, body: bytes, content_type: str
) -> None:
    r = await api.post("/api/automations", content=body, headers={"Content-Type": content_type})
    assert r.status_code < 500, r.text
    if r.status_code >= 400:
        error_of(r, r.status_code)


# ------------------------------------------------------------------------ changing
async def test_enable_disable_and_remove(api: httpx.AsyncClient, aw: AutomationWorld) -> None:
    r = await api.post("/api/automations/evening-lights/disable")
    assert r.status_code == 200 and r.json()["enabled"] is False
    assert aw.engine.enabled["evening-lights"] is False
    r = await api.post("/api/automations/evening-lights/enable")
    assert r.json()["enabled"] is True
    r = await api.delete("/api/automations/evening-lights")
    assert r.status_code == 200 and r.json()["id"] == "evening-lights"
    assert "evening-lights" not in aw.engine.definitions
    error_of(await api.get("/api/automations/evening-lights"), 404, "not-found")
    error_of(await api.put("/api/automations/evening-lights"), 405, "method-not-allowed")


async def test_run_with_and_without_conditions(api: httpx.AsyncClient, aw: AutomationWorld) -> None:
    r = await api.post("/api/automations/evening-lights/run")
    assert r.status_code == 200 and r.json() == {"id": "evening-lights", "run_id": "run-1"}
    r = await api.post("/api/automations/evening-lights/run", json={"skip_conditions": True})
    assert r.status_code == 200
    assert [(i, skip) for i, _, skip in aw.engine.runs] == [
        ("evening-lights", False),
        ("evening-lights", True),
    ]
    context = aw.engine.runs[0][1]
    assert (context.actor, context.actor_id) == ("api", "alice") and context.id


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b'{"skip_conditions": "yes"}', 422),
        (b'{"skip_conditions": 1}', 422),
        (b'{"skip_condition": true}', 422),
        (b"[]", 422),
        (b"{oops", 400),
    ],
)
async def test_malformed_run_bodies(
    api: httpx.AsyncClient, aw: AutomationWorld, body: bytes, status: int
) -> None:
    r = await api.post(
        "/api/automations/evening-lights/run", content=body, headers={"Content-Type": "application/json"}
    )
    error_of(r, status)
    assert aw.engine.runs == []


async def test_apply_a_scene(api: httpx.AsyncClient, aw: AutomationWorld) -> None:
    r = await api.post("/api/scenes/evening/apply")
    assert r.status_code == 200
    assert r.json() == {
        "scene": "evening",
        "results": [{"device": "light-bed", "property": "2.1", "value": True, "ok": True}],
    }
    assert aw.engine.applied[0][0] == "evening" and aw.engine.applied[0][1].actor_id == "alice"
    err = error_of(await api.post("/api/scenes/morning/apply"), 404, "not-found")
    assert err["entity"] == "scene" and err["id"] == "morning"
    assert len(aw.engine.applied) == 1


# ------------------------------------------------------------------------ webhooks
async def test_a_webhook_needs_no_token_and_passes_its_body(aw: AutomationWorld) -> None:
    app = create_app(aw.hub)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://hub") as client:
        r = await client.post(f"/api/webhooks/{HOOK}", json={"who": "alice", "n": 2})
        assert r.status_code == 200 and r.json() == {"triggered": 1}
        r = await client.post(f"/api/webhooks/{HOOK}")
        assert r.json() == {"triggered": 1}
        # a token does no harm
        r = await client.post(f"/api/webhooks/{HOOK}", headers={"Authorization": f"Bearer {OWNER_TOKEN}"})
        assert r.status_code == 200
    app.state.live.close()
    assert aw.engine.hooks_called == [(HOOK, {"who": "alice", "n": 2}), (HOOK, {}), (HOOK, {})]


async def test_an_unknown_webhook_looks_like_a_missing_page(aw: AutomationWorld) -> None:
    app = create_app(aw.hub)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://hub") as client:
        unknown = await client.post("/api/webhooks/guess")
        missing = await client.post("/api/nothing/here", headers=OWNER)
        # a disabled automation does not listen
        aw.engine.enabled["cool-before-arrival"] = False
        disabled = await client.post(f"/api/webhooks/{HOOK}")
    app.state.live.close()
    for r in (unknown, missing, disabled):
        err = error_of(r, 404, "not-found")
        assert set(err) == {"code", "message"}
        assert err["message"].startswith("no such endpoint: POST /api/")
    assert aw.engine.hooks_called == []


@pytest.mark.parametrize(
    ("content", "status", "code"),
    [
        (b"{not json", 400, "malformed-json"),
        (b'{"v": NaN}', 400, "malformed-json"),
        (b'{"v": "\\udc00"}', 400, "malformed-json"),
        (b"[1, 2]", 422, "invalid-request"),
        (b"42", 422, "invalid-request"),
        (b'{"v": "' + b"x" * 70_000 + b'"}', 413, "too-large"),
    ],
)
async def test_hostile_webhook_bodies(aw: AutomationWorld, content: bytes, status: int, code: str) -> None:
    app = create_app(aw.hub)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://hub") as client:
        r = await client.post(f"/api/webhooks/{HOOK}", content=content)
    app.state.live.close()
    error_of(r, status, code)
    assert aw.engine.hooks_called == []


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(hook=st.text(min_size=1, max_size=40), body=st.binary(max_size=40))
async def test_any_webhook_call_is_answered_without_a_server_error(
    api: httpx.AsyncClient, hook: str, body: bytes
) -> None:
    r = await api.post(f"/api/webhooks/{quote(hook, safe='')}", content=body, headers={"Authorization": ""})
    assert r.status_code < 500, r.text
    if r.status_code >= 400:
        error_of(r, r.status_code)


async def test_the_openapi_document_lists_the_automation_routes(api: httpx.AsyncClient) -> None:
    paths = (await api.get("/api/openapi.json")).json()["paths"]
    assert {
        "/api/automations",
        "/api/automations/{automation_id}",
        "/api/automations/{automation_id}/run",
        "/api/automations/{automation_id}/why-not",
        "/api/scenes/{scene_id}/apply",
        "/api/webhooks/{hook_id}",
    } <= set(paths)
    assert "application/yaml" in paths["/api/automations"]["post"]["requestBody"]["content"]


# ------------------------------------------------------------------------ the real engine
REAL = """\
zones:
  - id: work
    name: Office
    latitude: 52.52
    longitude: 13.40
    radius: 200 m
scenes:
  - id: evening
    name: Evening
    states:
      - {device: light-bed, property: 2.1, value: true}
automations:
  - id: cool-when-warm
    name: Cool when it is warm
    triggers:
      - type: webhook
        id: warm-hook-0123456789abcdef
    conditions:
      - type: numeric
        device: ac-living
        property: 4.1
        above: 20
    actions:
      - set: {device: ac-living, property: 2.3, value: 23}
      - notify: {person: alice, title: Cooling, message: AC set to 23}
"""
REAL_HOOK = "warm-hook-0123456789abcdef"


async def finished_traces(client: httpx.AsyncClient, automation_id: str, count: int) -> list[dict[str, Any]]:
    """The traces once ``count`` of them exist and the newest has ended (runs are tasks of the engine)."""
    found: list[dict[str, Any]] = []

    async def ready() -> bool:
        nonlocal found
        found = (await client.get(f"/api/automations/{automation_id}/traces")).json()
        return len(found) >= count and found[0].get("outcome") is not None

    await wait_for_async(ready, what=f"{count} finished trace(s) of {automation_id}")
    return found


async def test_a_real_automation_loaded_through_the_api_runs_and_explains_itself() -> None:
    from trilink.automation.engine import AutomationEngine
    from trilink.automation.persist import MemoryAutomationStore

    world = build_world()
    engine = AutomationEngine(world.kernel, MemoryAutomationStore())
    await engine.start()
    app = create_app(AutomationHub(world.kernel, automations=engine))
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://hub", headers=OWNER
        ) as api:
            r = await api.post("/api/automations", content=REAL, headers=YAML)
            assert r.status_code == 200, r.text
            assert r.json() == {"loaded": ["work", "evening", "cool-when-warm"], "errors": []}
            listed = (await api.get("/api/automations")).json()
            assert [(a["id"], a["source"], a["enabled"]) for a in listed] == [("cool-when-warm", "api", True)]
            detail = (await api.get("/api/automations/cool-when-warm")).json()
            assert detail["definition"]["conditions"][0]["above"] == 20

            # run it: the condition sees 22.5, the actions set the AC and notify Alice
            r = await api.post("/api/automations/cool-when-warm/run")
            assert r.status_code == 200 and r.json()["run_id"]
            trace = (await finished_traces(api, "cool-when-warm", 1))[0]
            assert trace["kind"] == "run" and trace["run_id"] == r.json()["run_id"]
            assert trace["trigger"]["type"] == "manual"
            assert trace["conditions"][0]["result"] is True
            assert trace["conditions"][0]["values"]["value"] == 22.5
            assert [a["result"] for a in trace["actions"]] == ["ok", "ok"]
            assert trace["outcome"] == "finished"
            assert world.kernel.state.get("ac-living", 2, 3)[0] == 23
            notes = (await api.get("/api/notifications")).json()
            assert notes[0]["title"] == "Cooling" and notes[0]["person"] == "alice"

            # the webhook needs no token; with the room cool, the condition holds it back
            world.kernel.report("ac-living", 4, 1, 18.0)
            hooked = await api.post(
                f"/api/webhooks/{REAL_HOOK}", headers={"Authorization": ""}, json={"a": 1}
            )
            assert hooked.status_code == 200 and hooked.json() == {"triggered": 1}
            latest = (await finished_traces(api, "cool-when-warm", 2))[0]
            assert latest["kind"] == "not-run"
            why = (await api.get("/api/automations/cool-when-warm/why-not")).json()
            assert "was false" in why["message"] and "18" in why["message"]

            # a value the spec refuses is named with its line and path; the zone and scene still load
            bad = REAL.replace("value: 23}", "value: 40}")
            r = await api.post("/api/automations", content=bad, headers=YAML)
            assert r.status_code == 200, r.text
            assert r.json()["loaded"] == ["work", "evening"]
            [refused] = r.json()["errors"]
            assert refused["line"] == 24 and refused["source"] == "api"
            assert refused["path"].startswith("automations[0].actions[0]")
            assert "out of range" in refused["reason"]
            only_bad = "automations:\n" + bad.split("automations:\n", 1)[1]
            err = error_of(await api.post("/api/automations", content=only_bad, headers=YAML), 422)
            assert err["code"] == "invalid-definition" and err["line"] == 13 and err["loaded"] == []
            # the automation loaded before is untouched
            assert (await api.get("/api/automations/cool-when-warm")).json()["definition"]["actions"][0] == {
                "set": {"device": "ac-living", "property": 2.3, "value": 23}
            }

            r = await api.post("/api/scenes/evening/apply")
            assert r.json()["results"] == [
                {"device": "light-bed", "property": "2.1", "value": True, "ok": True}
            ]
            assert [z["id"] for z in (await api.get("/api/zones")).json()] == ["home", "work"]

            assert (await api.post("/api/automations/cool-when-warm/disable")).json()["enabled"] is False
            error_of(await api.post(f"/api/webhooks/{REAL_HOOK}"), 404, "not-found")
            assert (await api.delete("/api/automations/cool-when-warm")).status_code == 200
            error_of(await api.get("/api/automations/cool-when-warm/traces"), 404, "not-found")
    finally:
        await engine.stop()
        app.state.live.close()
