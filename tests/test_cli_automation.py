"""The automation commands against a real API server in a thread, over the fake engine.

The server thread owns the loop with the kernel and the engine, as a hub does; the
test drives ``trilink automation …``, ``trilink scene …`` and ``trilink notifications``
from the main thread with click's CliRunner.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn

from test_api import GUEST_TOKEN
from test_api_automations import HOOK, AutomationWorld, automation_world
from test_cli_client import ThreadedHub, run
from trilink.api import create_app
from trilink.cli.output import definition_error_line, trace_lines

T0 = 1_800_000_000.0

RUN_TRACE = {
    "kind": "run",
    "run_id": "r-2",
    "automation_id": "cool-before-arrival",
    "started": T0,
    "ended": T0 + 1,
    "trigger": {"type": "webhook", "description": "webhook s3cret", "values": {"who": "alice"}},
    "conditions": [
        {
            "index": 1,
            "description": "numeric sensor-living 2.1 above 26",
            "result": True,
            "values": {"value": 27.5},
        }
    ],
    "actions": [
        {"path": [0], "type": "set", "description": "set ac-living 2.3 = 24", "result": "ok", "ended": T0},
        {
            "path": [1],
            "type": "set",
            "description": "set ac-living 2.1 = true",
            "result": "error",
            "error": "ac-living is offline",
            "ended": T0,
        },
    ],
    "outcome": "failed: ac-living is offline",
}
NOT_RUN_TRACE = {
    "kind": "not-run",
    "run_id": "r-1",
    "automation_id": "cool-before-arrival",
    "started": T0 - 60,
    "trigger": {"type": "webhook", "description": "webhook s3cret", "values": {}},
    "conditions": [
        {
            "index": 1,
            "description": "numeric sensor-living 2.1 above 26",
            "result": False,
            "values": {"value": 24.3},
            "reason": "the value was 24.3",
        }
    ],
    "actions": [],
    "outcome": "not run: condition false",
    "message": "did not run at 18:41:07: condition 1 (numeric sensor-living 2.1 above 26) was false",
}


class AutomationHubThread(ThreadedHub):
    """The API with the fake engine on a loop in a background thread."""

    aw: AutomationWorld | None = None

    async def _main(self) -> None:
        self.aw = automation_world()
        self.world = self.aw.world
        self.app = create_app(self.aw.hub)
        config = uvicorn.Config(
            self.app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="on"
        )
        self.server = uvicorn.Server(config)
        self.loop = asyncio.get_running_loop()
        await self.server.serve()


@pytest.fixture
def hub() -> Iterator[AutomationHubThread]:
    h = AutomationHubThread()
    h.start()
    yield h
    h.stop()


def engine_of(hub: AutomationHubThread) -> AutomationWorld:
    assert hub.aw is not None
    return hub.aw


@pytest.fixture
def definitions(tmp_path: Path) -> Path:
    path = tmp_path / "automations.yaml"
    path.write_text("automations:\n  - id: good\n    triggers: []\n  - name: no id\n")
    return path


# ------------------------------------------------------------------- formatting
def test_definition_errors_read_like_compiler_errors() -> None:
    error = {
        "source": "api",
        "line": 14,
        "path": "automations[0].actions[1].set.value",
        "reason": "40 is out",
    }
    assert (
        definition_error_line(error, "home.yaml")
        == "home.yaml:14: automations[0].actions[1].set.value: 40 is out"
    )
    assert definition_error_line({**error, "line": None, "path": ""}) == "api: 40 is out"


def test_trace_lines_show_trigger_conditions_and_actions() -> None:
    lines = trace_lines(RUN_TRACE)
    assert lines[0].endswith("run r-2: failed: ac-living is offline")
    assert lines[1] == "  trigger: webhook s3cret  (who=alice)"
    assert lines[2] == "  condition 1: numeric sensor-living 2.1 above 26: true  (value=27.5)"
    assert lines[3] == "  action 0: set ac-living 2.3 = 24: ok"
    assert lines[4] == "  action 1: set ac-living 2.1 = true: error: ac-living is offline"
    nested = {"conditions": [{"description": "or", "result": False, "conditions": [{"description": "x"}]}]}
    assert trace_lines(nested)[1:] == ["  condition 1: or: false", "    condition 1: x: not checked"]
    # a trace missing every optional part still reads
    assert len(trace_lines({})) == 1


def test_the_automation_commands_start_without_the_web_stack_or_yaml() -> None:
    code = (
        "import sys, trilink.cli.main\n"
        "heavy = ('fastapi', 'uvicorn', 'httpx', 'yaml', 'trilink.kernel', 'trilink.api',\n"
        "         'trilink.automation')\n"
        "print(','.join(m for m in heavy if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip() == ""


# ------------------------------------------------------------------- automations
def test_list_and_show(hub: AutomationHubThread) -> None:
    result = run(hub, "automation", "list")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split()[:4] == ["ID", "NAME", "STATE", "MODE"]
    assert lines[1].startswith("cool-before-arrival") and "enabled" in lines[1]
    result = run(hub, "automation", "list", "--json")
    assert [a["id"] for a in json.loads(result.stdout)] == ["cool-before-arrival", "evening-lights"]

    result = run(hub, "automation", "show", "evening-lights")
    assert result.exit_code == 0, result.output
    assert "name            Evening lights" in result.stdout
    assert "source          automations.yaml" in result.stdout
    assert "definition:\n  id: evening-lights\n" in result.stdout
    assert "  - scene: evening" in result.stdout


def test_load_prints_loaded_ids_and_each_error_with_the_file_and_exits_1(
    hub: AutomationHubThread, definitions: Path
) -> None:
    result = run(hub, "automation", "load", str(definitions))
    assert result.exit_code == 1
    assert result.stdout == "loaded good\n"
    assert result.stderr == f"{definitions}:3: automations[1].id: an id is required\n"
    assert "good" in engine_of(hub).engine.definitions


def test_load_a_good_file(hub: AutomationHubThread, tmp_path: Path) -> None:
    path = tmp_path / "more.yaml"
    path.write_text("automations:\n  - id: one\n    triggers: []\n  - id: two\n    triggers: []\n")
    result = run(hub, "automation", "load", str(path))
    assert result.exit_code == 0, result.output
    assert result.stdout == "loaded one\nloaded two\n" and result.stderr == ""
    result = run(hub, "automation", "load", str(path), "--json")
    assert json.loads(result.stdout) == {"loaded": ["one", "two"], "errors": []}


def test_load_when_everything_is_refused(hub: AutomationHubThread, tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("automations:\n  - name: no id\n  - id: x\n    triggers: 5\n")
    result = run(hub, "automation", "load", str(path))
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"{path}:2: automations[0].id: an id is required",
        f"{path}:3: automations[1].triggers: a list of triggers is required",
    ]
    # a syntax error has a line but no path
    path.write_text("automations:\n  - id: [unclosed\n")
    result = run(hub, "automation", "load", str(path))
    assert result.exit_code == 1 and result.stderr.startswith(f"{path}:3: not valid YAML")


def test_load_files_that_cannot_be_sent(hub: AutomationHubThread, tmp_path: Path) -> None:
    result = run(hub, "automation", "load", str(tmp_path / "missing.yaml"))
    assert result.exit_code == 1 and "cannot read it" in result.stderr
    binary = tmp_path / "binary.yaml"
    binary.write_bytes(b"\xff\xfe\x00")
    result = run(hub, "automation", "load", str(binary))
    assert result.exit_code == 1 and "not UTF-8 text" in result.stderr
    good = tmp_path / "ok.yaml"
    good.write_text("automations: []\n")
    result = run(hub, "automation", "load", str(good), token=GUEST_TOKEN)
    assert result.exit_code == 1 and "guest" in result.stderr
    result = run(hub, "automation", "load", str(good), token="nope")
    assert result.exit_code == 1 and "the token was refused" in result.stderr
    result = run(None, "automation", "load", str(good), url=f"http://127.0.0.1:{hub.port + 1}")
    assert result.exit_code == 1 and "cannot reach the hub" in result.stderr
    result = run(hub, "automation", "load", str(good))
    assert result.exit_code == 0 and "nothing to load" in result.stdout


def test_enable_disable_run_and_remove(hub: AutomationHubThread) -> None:
    engine = engine_of(hub).engine
    result = run(hub, "automation", "disable", "evening-lights")
    assert result.exit_code == 0 and result.stdout == "evening-lights disabled\n"
    assert engine.enabled["evening-lights"] is False
    assert run(hub, "automation", "enable", "evening-lights").stdout == "evening-lights enabled\n"
    assert engine.enabled["evening-lights"] is True

    result = run(hub, "automation", "run", "evening-lights")
    assert result.stdout == "evening-lights: started run-1 (`trilink automation trace evening-lights`)\n"
    assert run(hub, "automation", "run", "evening-lights", "--skip-conditions").exit_code == 0
    assert [(i, skip) for i, _, skip in engine.runs] == [("evening-lights", False), ("evening-lights", True)]

    assert run(hub, "automation", "remove", "evening-lights").stdout == "evening-lights removed\n"
    assert "evening-lights" not in engine.definitions


@pytest.mark.parametrize("command", ["show", "enable", "disable", "run", "remove", "trace", "why"])
def test_an_unknown_automation_is_an_error(hub: AutomationHubThread, command: str) -> None:
    result = run(hub, "automation", command, "nope")
    assert result.exit_code == 1
    assert "unknown automation 'nope'" in result.stderr and result.stdout == ""


def test_a_guest_may_list_but_not_run(hub: AutomationHubThread) -> None:
    assert run(hub, "automation", "list", token=GUEST_TOKEN).exit_code == 0
    result = run(hub, "automation", "run", "evening-lights", token=GUEST_TOKEN)
    assert result.exit_code == 1 and "guest" in result.stderr
    assert engine_of(hub).engine.runs == []


def test_trace_is_readable(hub: AutomationHubThread) -> None:
    result = run(hub, "automation", "trace", "cool-before-arrival")
    assert result.exit_code == 0 and result.stdout == "cool-before-arrival has no traces yet\n"
    engine_of(hub).engine.trace_log["cool-before-arrival"] = [RUN_TRACE, NOT_RUN_TRACE]
    result = run(hub, "automation", "trace", "cool-before-arrival")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "run r-2: failed: ac-living is offline" in out
    assert "  trigger: webhook s3cret  (who=alice)" in out
    assert "  condition 1: numeric sensor-living 2.1 above 26: true  (value=27.5)" in out
    assert "  action 1: set ac-living 2.1 = true: error: ac-living is offline" in out
    assert "not-run r-1: did not run at 18:41:07" in out
    assert "above 26: false — the value was 24.3  (value=24.3)" in out
    result = run(hub, "automation", "trace", "cool-before-arrival", "--limit", "1")
    assert "r-1" not in result.stdout
    result = run(hub, "automation", "trace", "cool-before-arrival", "--limit", "0")
    assert result.exit_code == 2


def test_why(hub: AutomationHubThread) -> None:
    result = run(hub, "automation", "why", "cool-before-arrival")
    assert result.exit_code == 1 and "nothing to explain" in result.stderr
    engine_of(hub).engine.why["cool-before-arrival"] = {
        "message": NOT_RUN_TRACE["message"],
        "condition": {"index": 1, "result": False, "values": {"value": 24.3}},
    }
    result = run(hub, "automation", "why", "cool-before-arrival")
    assert result.exit_code == 0, result.output
    assert result.stdout == f"{NOT_RUN_TRACE['message']}\n  the condition saw: value=24.3\n"


# ------------------------------------------------------------------- scenes, notifications, webhooks
def test_scenes(hub: AutomationHubThread) -> None:
    result = run(hub, "scene", "list")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[1].split() == ["evening", "Evening", "1"]
    result = run(hub, "scene", "apply", "evening")
    assert result.exit_code == 0 and result.stdout == "scene evening applied: 1 of 1 states set\n"
    result = run(hub, "scene", "apply", "morning")
    assert result.exit_code == 1 and "unknown scene 'morning'" in result.stderr


def test_notifications(hub: AutomationHubThread) -> None:
    result = run(hub, "notifications")
    assert result.exit_code == 0, result.output
    assert result.stdout.rstrip().endswith("alice  Welcome: The AC is on")
    engine_of(hub).engine.sent = []
    assert run(hub, "notifications").stdout == "no notifications yet\n"
    assert run(hub, "notifications", "--limit", "0").exit_code == 2


def test_a_webhook_over_real_http_needs_no_token(hub: AutomationHubThread) -> None:
    import httpx

    r = httpx.post(f"{hub.url}/api/webhooks/{HOOK}", json={"from": "shortcut"}, timeout=10)
    assert r.status_code == 200 and r.json() == {"triggered": 1}
    assert httpx.post(f"{hub.url}/api/webhooks/guess", timeout=10).status_code == 404
    assert engine_of(hub).engine.hooks_called == [(HOOK, {"from": "shortcut"})]
