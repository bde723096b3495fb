"""The client commands against a real API server running in a thread of its own.

The server thread owns an event loop with the kernel on it, as a hub does; the test
drives the CLI from the main thread with click's CliRunner.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import threading
import time
from collections.abc import Coroutine, Iterator
from typing import Any

import pytest
import uvicorn
from click.testing import CliRunner, Result
from fastapi import FastAPI

from conftest import free_port
from test_api import GUEST_TOKEN, OWNER_TOKEN, World, build_world
from trilink.api import create_app
from trilink.cli.client import parse_value
from trilink.cli.main import cli
from trilink.cli.output import event_line, format_value, table


class ThreadedHub:
    """The API and its world on a loop in a background thread."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.world: World | None = None
        self.app: FastAPI | None = None
        self.server: uvicorn.Server | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self.failure: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="test-cli-hub")

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as exc:
            self.failure = exc

    async def _main(self) -> None:
        self.world = build_world()
        self.app = create_app(self.world.hub)
        config = uvicorn.Config(
            self.app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="on"
        )
        self.server = uvicorn.Server(config)
        self.loop = asyncio.get_running_loop()
        await self.server.serve()

    def start(self) -> None:
        """Start the thread and wait (bounded) until the server accepts requests."""
        self.thread.start()
        deadline = time.monotonic() + 10
        while self.server is None or not self.server.started:
            if self.failure is not None or not self.thread.is_alive():
                raise RuntimeError(f"the API server did not start: {self.failure!r}")
            if time.monotonic() > deadline:
                raise RuntimeError("the API server did not start within 10 s")
            time.sleep(0.01)

    def submit(self, coro: Coroutine[Any, Any, Any]) -> Any:
        """Run a coroutine on the server's loop (where the kernel lives) and wait for it."""
        assert self.loop is not None
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(10)

    def background(self, coro: Coroutine[Any, Any, Any]) -> Any:
        """Start a coroutine on the server's loop without waiting; returns its future."""
        assert self.loop is not None
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def stop(self) -> None:
        """Stop the server and join the thread."""
        if self.server is not None:
            self.server.should_exit = True
        self.thread.join(10)
        assert not self.thread.is_alive(), "the API server thread did not stop"


@pytest.fixture
def hub() -> Iterator[ThreadedHub]:
    """A running API server with the shared test world."""
    h = ThreadedHub()
    h.start()
    yield h
    h.stop()


def run(
    hub: ThreadedHub | None, *args: str, token: str | None = OWNER_TOKEN, url: str | None = None
) -> Result:
    """Run ``trilink ARGS`` with the hub's URL and a token from the environment."""
    env = {"TRILINK_URL": url or (hub.url if hub else None), "TRILINK_TOKEN": token}
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


def world_of(hub: ThreadedHub) -> World:
    """The world behind the hub (built on the server thread)."""
    assert hub.world is not None
    return hub.world


# ----------------------------------------------------------------- formatting
def test_values_are_parsed_as_json_when_they_parse() -> None:
    assert parse_value("true") is True
    assert parse_value("24.5") == 24.5
    assert parse_value("-3") == -3
    assert parse_value('"24"') == "24"
    assert parse_value("[1, 2]") == [1, 2]
    assert parse_value("living room") == "living room"
    assert parse_value("NaN") == "NaN"
    assert parse_value("") == ""


def test_values_read_with_their_units() -> None:
    assert format_value(24.5, "celsius") == "24.5 °C"
    assert format_value(80, "percentage") == "80%"
    assert format_value(True, "none") == "true"
    assert format_value(12.5, "m3/h") == "12.5 m³/h"
    assert format_value("eco", None) == "eco"
    assert format_value(None) == "—"
    assert format_value([1, "a"]) == '[1,"a"]'


def test_tables_are_aligned() -> None:
    text = table(["did", "state"], [["ac-living", "online"], ["x", "offline"]])
    assert text.splitlines() == ["DID        STATE", "ac-living  online", "x          offline"]


def test_event_lines_read_well() -> None:
    line = event_line(
        {
            "kind": "property-written", "did": "ac", "siid": 2, "piid": 3, "value": 25, "ok": False,
            "error": "busy", "ts": 0, "context": {"actor": "api", "actor_id": "alice"},
        }
    )  # fmt: skip
    assert "ac 2.3 ← 25: failed: busy" in line and "(by api alice)" in line
    assert "3 event(s) dropped" in event_line({"kind": "dropped", "count": 3})


def test_the_client_commands_start_without_the_hub_or_web_stack() -> None:
    code = (
        "import sys, trilink.cli.client\n"
        "heavy = ('fastapi', 'uvicorn', 'httpx', 'websockets', 'trilink.kernel', 'trilink.api')\n"
        "print(','.join(m for m in heavy if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip() == ""


# ------------------------------------------------------------------- commands
def test_devices_table_and_json(hub: ThreadedHub) -> None:
    result = run(hub, "devices")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["DID", "NAME", "KIND", "ROOM", "STATE"]
    ac = next(line for line in lines if line.startswith("ac-living"))
    assert "Living room AC" in ac and "air-conditioner" in ac and "online" in ac
    assert "offline" in next(line for line in lines if line.startswith("lock-front"))
    # columns line up: every row's second column starts where the header's does
    col = lines[0].index("NAME")
    assert all(line[col - 2 : col] == "  " for line in lines[1:])

    result = run(hub, "devices", "--json", "--room", "living")
    assert result.exit_code == 0
    assert {d["did"] for d in json.loads(result.stdout)} == {"ac-living", "lock-front"}
    offline = json.loads(run(hub, "devices", "--offline", "--json").stdout)
    assert [d["did"] for d in offline] == ["lock-front"]


def test_get_every_reading_with_names_and_units(hub: ThreadedHub) -> None:
    result = run(hub, "get", "ac-living")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert out.startswith("Living room AC (ac-living) — air-conditioner, living, online")
    row = next(line for line in out.splitlines() if line.startswith("2.3 "))
    assert "air-conditioner" in row and "target-temperature" in row and "24.0 °C" in row
    assert "22.5 °C" in out


def test_get_one_property(hub: ThreadedHub) -> None:
    result = run(hub, "get", "ac-living", "2.3")
    assert result.exit_code == 0, result.output
    assert "ac-living 2.3 air-conditioner.target-temperature = 24.0 °C" in result.stdout
    as_json = json.loads(run(hub, "get", "ac-living", "2.3", "--json").stdout)
    assert as_json["value"] == 24.0 and as_json["unit"] == "celsius"


def test_get_errors_come_from_the_api(hub: ThreadedHub) -> None:
    result = run(hub, "get", "nope")
    assert result.exit_code == 1
    assert "unknown device 'nope'" in result.stderr and result.stdout == ""
    result = run(hub, "get", "ac-living", "3.1")
    assert result.exit_code == 1 and "has not reported 3.1 (fan-level) yet" in result.stderr
    result = run(hub, "get", "ac-living", "two.three")
    assert result.exit_code == 1 and "expected SIID.PIID" in result.stderr


def test_set_a_value(hub: ThreadedHub) -> None:
    result = run(hub, "set", "ac-living", "2.3", "25.5")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "ac-living 2.3 set to 25.5"
    assert world_of(hub).link.sent[-1] == ("set", "ac-living", 2, 3, 25.5)
    assert run(hub, "set", "ac-living", "2.1", "false").exit_code == 0
    assert world_of(hub).link.sent[-1] == ("set", "ac-living", 2, 1, False)
    answer = json.loads(run(hub, "set", "ac-living", "2.3", "26", "--json").stdout)
    assert answer["ok"] is True and answer["value"] == 26


def test_a_refused_value_exits_1_with_the_message(hub: ThreadedHub) -> None:
    result = run(hub, "set", "ac-living", "2.3", "40")
    assert result.exit_code == 1
    assert "out of range (allowed 16..31 step 0.5 celsius) [range]" in result.stderr
    result = run(hub, "set", "ac-living", "2.3", "-5")  # negative numbers are values, not options
    assert result.exit_code == 1 and "-5 is out of range" in result.stderr
    result = run(hub, "set", "ac-living", "2.1", "maybe")
    assert result.exit_code == 1 and "expected bool" in result.stderr
    assert world_of(hub).link.sent == []


def test_a_guest_cannot_set(hub: ThreadedHub) -> None:
    result = run(hub, "set", "ac-living", "2.3", "25", token=GUEST_TOKEN)
    assert result.exit_code == 1 and "may read but not change" in result.stderr


def test_call_an_action(hub: ThreadedHub) -> None:
    result = run(hub, "call", "car-alice", "6.1")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "car-alice 6.1 done"
    world_of(hub).link.action_out[("phone-alice", 6, 1)] = ["delivered"]
    result = run(hub, "call", "phone-alice", "6.1", "Dinner", "is ready")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "phone-alice 6.1 done: delivered"
    assert world_of(hub).link.sent[-1] == ("call", "phone-alice", 6, 1, ["Dinner", "is ready"])
    result = run(hub, "call", "phone-alice", "6.1", "only one")
    assert result.exit_code == 1 and "takes 2 argument(s)" in result.stderr


def test_recent_events(hub: ThreadedHub) -> None:
    assert run(hub, "set", "light-bed", "2.2", "55").exit_code == 0
    result = run(hub, "events", "--did", "light-bed")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert any("property-changed" in line and "light-bed 2.2 = 55" in line for line in lines)
    assert any("property-written" in line and "(by api alice)" in line for line in lines)
    assert all("light-bed" in line for line in lines)
    only = json.loads(run(hub, "events", "--kind", "property-written", "--json").stdout)
    assert [e["kind"] for e in only] == ["property-written"]
    result = run(hub, "events", "--kind", "explosion")
    assert result.exit_code == 1 and "unknown event kind" in result.stderr


async def _report_once_subscribed(hub: ThreadedHub, *reports: tuple[str, int, int, Any]) -> None:
    """On the hub's loop: wait until a WebSocket client is subscribed, then report values."""
    assert hub.app is not None
    live = hub.app.state.live
    deadline = time.monotonic() + 10
    while live.clients == 0:
        if time.monotonic() > deadline:
            raise AssertionError("no WebSocket client subscribed")
        await asyncio.sleep(0.01)
    for did, siid, piid, value in reports:
        world_of(hub).kernel.report(did, siid, piid, value)


def test_follow_prints_live_events_until_stopped(hub: ThreadedHub) -> None:
    fut = hub.background(_report_once_subscribed(hub, ("ac-living", 4, 1, 21.0), ("light-bed", 2, 2, 77)))
    result = run(hub, "events", "--follow", "--did", "light-bed", "--max-events", "1")
    fut.result(10)
    assert result.exit_code == 0, result.output
    (line,) = result.stdout.splitlines()
    assert "property-changed" in line and "light-bed 2.2 = 77" in line


def test_follow_as_json_lines(hub: ThreadedHub) -> None:
    fut = hub.background(_report_once_subscribed(hub, ("car-alice", 2, 1, 79.5), ("car-alice", 2, 2, 300.0)))
    result = run(hub, "events", "-f", "--kind", "property-changed", "--json", "--max-events", "2")
    fut.result(10)
    assert result.exit_code == 0, result.output
    values = [json.loads(line)["value"] for line in result.stdout.splitlines()]
    assert values == [79.5, 300.0]


def test_ctrl_c_stops_following_cleanly(hub: ThreadedHub, monkeypatch: pytest.MonkeyPatch) -> None:
    from websockets.sync.client import ClientConnection

    def interrupted(self: ClientConnection, timeout: float | None = None, decode: bool | None = None) -> Any:
        raise KeyboardInterrupt

    monkeypatch.setattr(ClientConnection, "recv", interrupted)
    result = run(hub, "events", "--follow")
    assert result.exit_code == 0, result.output
    assert result.stdout == ""


def test_follow_with_a_refused_token(hub: ThreadedHub) -> None:
    result = run(hub, "events", "--follow", token="wrong")
    assert result.exit_code == 1 and "the token was refused" in result.stderr


def test_status(hub: ThreadedHub) -> None:
    result = run(hub, "status")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "6 (5 online)" in out and "alice (owner)" in out and "transports.fake" in out
    assert json.loads(run(hub, "status", "--json").stdout)["hub"]["store"] == {"rows": 2}


# ------------------------------------------------------------------- failures
@pytest.mark.parametrize("args", [["devices"], ["status"], ["get", "ac-living"], ["events", "--follow"]])
def test_no_token_is_a_clear_message(hub: ThreadedHub, args: list[str]) -> None:
    result = run(hub, *args, token=None)
    assert result.exit_code == 1
    assert "no API token" in result.stderr and "`trilink demo`" in result.stderr
    assert "TRILINK_TOKEN" in result.stderr


def test_a_refused_token(hub: ThreadedHub) -> None:
    result = run(hub, "devices", token="wrong")
    assert result.exit_code == 1 and "the token was refused" in result.stderr


@pytest.mark.parametrize(
    "args", [["devices"], ["set", "a", "2.1", "true"], ["events", "--follow"], ["status"]]
)
def test_an_unreachable_hub_is_a_clear_message(args: list[str]) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    result = run(None, *args, url=url)
    assert result.exit_code == 1
    assert f"cannot reach the hub at {url} — is it running? (start one with `trilink demo`)" in result.stderr


def test_a_bad_url_is_a_clear_message() -> None:
    result = run(None, "devices", url="ftp://hub")
    assert result.exit_code == 1 and "not a usable hub URL" in result.stderr


def test_url_and_token_options_override_the_environment(hub: ThreadedHub) -> None:
    result = CliRunner().invoke(
        cli,
        ["devices", "--url", hub.url, "--token", OWNER_TOKEN, "--json"],
        env={"TRILINK_URL": "http://127.0.0.1:9", "TRILINK_TOKEN": "wrong"},
    )
    assert result.exit_code == 0, result.output
    assert len(json.loads(result.stdout)) == 6
