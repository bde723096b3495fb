"""Automation commands: ``trilink automation …``, ``trilink scene …`` and ``trilink notifications``.

Like the other client commands they talk to a running hub over its REST API (see
docs/api.md, "Automations") with the same ``--url``, ``--token`` and ``--json`` options.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final

import click

from trilink.cli.client import TIMEOUT, HubClient, _decode, _hub_options, _path
from trilink.cli.output import (
    definition_error_line,
    format_time,
    format_value,
    pairs,
    print_json,
    table,
    trace_lines,
)

#: Most traces the hub hands out per request.
MAX_TRACES: Final = 50


# ---------------------------------------------------------------------- automations
def list_automations(hub: HubClient) -> None:
    """Print every automation with its state and last run."""
    found = hub.request("GET", "/api/automations")
    if hub.as_json:
        print_json(found)
        return
    if not found:
        click.echo("no automations (load some with `trilink automation load FILE`)")
        return
    rows = [
        [
            a["id"],
            a["name"],
            "enabled" if a["enabled"] else "disabled",
            a["mode"],
            format_time(a.get("last_triggered")),
            a.get("last_result") or "—",
            str(a.get("running", 0)),
        ]
        for a in found
    ]
    click.echo(table(["id", "name", "state", "mode", "last triggered", "last result", "running"], rows))


def show(hub: HubClient, automation_id: str) -> None:
    """Print an automation's state and its definition as YAML."""
    import yaml

    found = hub.request("GET", _path("automations", automation_id))
    if hub.as_json:
        print_json(found)
        return
    click.echo(
        pairs(
            [
                ("id", found["id"]),
                ("name", found["name"]),
                ("state", "enabled" if found["enabled"] else "disabled"),
                ("mode", found["mode"]),
                ("source", found["source"]),
                ("last triggered", format_time(found.get("last_triggered"))),
                ("last result", found.get("last_result") or "—"),
                ("running", str(found.get("running", 0))),
                ("pending timers", str(found.get("pending_timers", 0))),
            ]
        )
    )
    click.echo("definition:")
    text = yaml.safe_dump(found.get("definition"), sort_keys=False, allow_unicode=True)
    click.echo("\n".join("  " + line for line in text.rstrip().splitlines()))


def _post_definitions(hub: HubClient, text: str) -> dict[str, Any]:
    """Send definitions; the load report, also when every definition was refused (HTTP 422)."""
    import httpx

    headers = {"Authorization": f"Bearer {hub.token}"}
    try:
        with httpx.Client(base_url=hub.url, headers=headers, timeout=TIMEOUT) as client:
            response = client.post("/api/automations", json={"yaml": text})
    except httpx.ConnectError:
        raise click.ClickException(hub.unreachable) from None
    except httpx.TimeoutException:
        raise click.ClickException(f"the hub at {hub.url} did not answer within {TIMEOUT:g} s") from None
    except (httpx.InvalidURL, httpx.UnsupportedProtocol) as exc:
        raise click.ClickException(f"{hub.url!r} is not a usable hub URL: {exc}") from None
    except httpx.HTTPError as exc:
        raise click.ClickException(f"talking to the hub at {hub.url} failed: {exc}") from None
    if response.status_code == 422:
        try:
            error = response.json()["error"]
        except (ValueError, KeyError, TypeError):
            error = None
        if isinstance(error, dict) and error.get("code") == "invalid-definition":
            return {"loaded": error.get("loaded") or [], "errors": error.get("errors") or [error]}
    report: dict[str, Any] = _decode(response.status_code, response.text)
    return report


def load(hub: HubClient, file: Path) -> None:
    """Load a definitions file; print what loaded and each error as ``file:line: path: reason``."""
    try:
        text = file.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise click.ClickException(f"{file}: not UTF-8 text") from None
    except OSError as exc:
        raise click.ClickException(f"{file}: cannot read it: {exc.strerror or exc}") from None
    report = _post_definitions(hub, text)
    errors = report.get("errors") or []
    if hub.as_json:
        print_json(report)
    else:
        for ident in report.get("loaded") or []:
            click.echo(f"loaded {ident}")
        # the hub names what came through the API "api"; the person knows it as this file
        for error in errors:
            click.echo(definition_error_line(error, str(file)), err=True)
        if not errors and not report.get("loaded"):
            click.echo(f"{file}: nothing to load")
    if errors:
        raise SystemExit(1)


def set_enabled(hub: HubClient, automation_id: str, enabled: bool) -> None:
    """Enable or disable an automation."""
    verb = "enable" if enabled else "disable"
    found = hub.request("POST", _path("automations", automation_id, verb))
    if hub.as_json:
        print_json(found)
    else:
        click.echo(f"{automation_id} {verb}d")


def run(hub: HubClient, automation_id: str, skip_conditions: bool) -> None:
    """Run an automation now."""
    answer = hub.request(
        "POST", _path("automations", automation_id, "run"), body={"skip_conditions": skip_conditions}
    )
    if hub.as_json:
        print_json(answer)
    else:
        click.echo(
            f"{automation_id}: started {answer['run_id']} (`trilink automation trace {automation_id}`)"
        )


def remove(hub: HubClient, automation_id: str) -> None:
    """Remove an automation."""
    found = hub.request("DELETE", _path("automations", automation_id))
    if hub.as_json:
        print_json(found)
    else:
        click.echo(f"{automation_id} removed")


def trace(hub: HubClient, automation_id: str, limit: int) -> None:
    """Print the newest traces of an automation, newest first."""
    traces = hub.request("GET", _path("automations", automation_id, "traces"), params={"limit": limit})
    if hub.as_json:
        print_json(traces)
        return
    if not traces:
        click.echo(f"{automation_id} has no traces yet")
        return
    click.echo("\n\n".join("\n".join(trace_lines(t)) for t in traces))


def why(hub: HubClient, automation_id: str) -> None:
    """Print why an automation last did not run."""
    answer = hub.request("GET", _path("automations", automation_id, "why-not"))
    if hub.as_json:
        print_json(answer)
        return
    click.echo(answer.get("sentence") or answer.get("message") or answer.get("reason") or "no reason given")
    condition = answer.get("condition")
    if isinstance(condition, dict) and condition.get("values"):
        values = ", ".join(f"{k}={format_value(v)}" for k, v in condition["values"].items())
        click.echo(f"  the condition saw: {values}")


# ---------------------------------------------------------------------- scenes, notifications
def list_scenes(hub: HubClient) -> None:
    """Print every scene."""
    found = hub.request("GET", "/api/scenes")
    if hub.as_json:
        print_json(found)
        return
    if not found:
        click.echo("no scenes")
        return
    rows = [[str(s.get("id")), str(s.get("name") or "—"), str(len(s.get("states") or []))] for s in found]
    click.echo(table(["id", "name", "states"], rows))


def apply_scene(hub: HubClient, scene_id: str) -> None:
    """Apply a scene; list the states that could not be set."""
    answer = hub.request("POST", _path("scenes", scene_id, "apply"))
    if hub.as_json:
        print_json(answer)
        return
    results = answer.get("results") or []
    failed = [r for r in results if isinstance(r, dict) and (r.get("ok") is False or r.get("error"))]
    click.echo(f"scene {scene_id} applied: {len(results) - len(failed)} of {len(results)} states set")
    for result in failed:
        what = " ".join(str(result[k]) for k in ("device", "property") if result.get(k) is not None)
        click.echo(f"  {what or 'a state'}: {result.get('error') or 'failed'}", err=True)


def notifications(hub: HubClient, limit: int) -> None:
    """Print the newest notifications automations sent."""
    found = hub.request("GET", "/api/notifications", params={"limit": limit})
    if hub.as_json:
        print_json(found)
        return
    if not found:
        click.echo("no notifications yet")
        return
    for note in found:
        text = ": ".join(str(note[k]) for k in ("title", "message") if note.get(k))
        click.echo(f"{format_time(note.get('ts'))}  {note.get('person') or '—'}  {text}")


# ---------------------------------------------------------------------- wiring
def register(group: click.Group) -> None:
    """Add ``automation``, ``scene`` and ``notifications`` to ``group``."""

    @group.group("automation")
    def automation() -> None:
        """Automations on the hub: list, load, run, and explain them."""

    @automation.command("list")
    @_hub_options
    def list_command(hub: HubClient) -> None:
        """List automations: id, name, state, mode and last run."""
        list_automations(hub)

    @automation.command("show")
    @click.argument("automation_id", metavar="ID")
    @_hub_options
    def show_command(hub: HubClient, automation_id: str) -> None:
        """Show an automation's state and definition."""
        show(hub, automation_id)

    @automation.command("load")
    @click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
    @_hub_options
    def load_command(hub: HubClient, file: Path) -> None:
        """Load automations, scenes and zones from a YAML file (exit status 1 if any is refused)."""
        load(hub, file)

    @automation.command("enable")
    @click.argument("automation_id", metavar="ID")
    @_hub_options
    def enable_command(hub: HubClient, automation_id: str) -> None:
        """Enable an automation."""
        set_enabled(hub, automation_id, True)

    @automation.command("disable")
    @click.argument("automation_id", metavar="ID")
    @_hub_options
    def disable_command(hub: HubClient, automation_id: str) -> None:
        """Disable an automation (it stays loaded)."""
        set_enabled(hub, automation_id, False)

    @automation.command("run")
    @click.argument("automation_id", metavar="ID")
    @click.option("--skip-conditions", is_flag=True, help="Run the actions without checking the conditions.")
    @_hub_options
    def run_command(hub: HubClient, automation_id: str, skip_conditions: bool) -> None:
        """Run an automation now."""
        run(hub, automation_id, skip_conditions)

    @automation.command("remove")
    @click.argument("automation_id", metavar="ID")
    @_hub_options
    def remove_command(hub: HubClient, automation_id: str) -> None:
        """Remove an automation from the hub."""
        remove(hub, automation_id)

    @automation.command("trace")
    @click.argument("automation_id", metavar="ID")
    @click.option("--limit", default=5, show_default=True, type=click.IntRange(1, MAX_TRACES),
                  help="How many recent runs to show.")  # fmt: skip
    @_hub_options
    def trace_command(hub: HubClient, automation_id: str, limit: int) -> None:
        """Show recent runs: the trigger, each condition with its values, each action and its result."""
        trace(hub, automation_id, limit)

    @automation.command("why")
    @click.argument("automation_id", metavar="ID")
    @_hub_options
    def why_command(hub: HubClient, automation_id: str) -> None:
        """Say why an automation last did not run."""
        why(hub, automation_id)

    @group.group("scene")
    def scene() -> None:
        """Scenes on the hub: list and apply them."""

    @scene.command("list")
    @_hub_options
    def scene_list_command(hub: HubClient) -> None:
        """List scenes."""
        list_scenes(hub)

    @scene.command("apply")
    @click.argument("scene_id", metavar="ID")
    @_hub_options
    def scene_apply_command(hub: HubClient, scene_id: str) -> None:
        """Apply a scene: set every state it lists."""
        apply_scene(hub, scene_id)

    @group.command("notifications")
    @click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 500),
                  help="How many recent notifications to print.")  # fmt: skip
    @_hub_options
    def notifications_command(hub: HubClient, limit: int) -> None:
        """Print the newest notifications automations sent."""
        notifications(hub, limit)
