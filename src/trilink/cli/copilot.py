"""``trilink say``: talk to the hub's copilot; ``trilink confirm`` / ``trilink cancel`` a held plan."""

from __future__ import annotations

import sys
from typing import Any

import click

from trilink.cli.client import HubClient, _hub_options, _path
from trilink.cli.output import print_json


def _show(hub: HubClient, answer: dict[str, Any]) -> None:
    if hub.as_json:
        print_json(answer)
        return
    click.echo(answer.get("text", ""))
    if answer.get("status") == "needs_confirmation":
        click.echo(f"(confirm with: trilink confirm {answer['confirmation_id']})")


def say(hub: HubClient, text: str, room: str | None, person: str | None, dry_run: bool, yes: bool) -> None:
    """Send a request in words; confirm it when asked and allowed (``--yes`` or a prompt)."""
    body: dict[str, Any] = {"text": text, "dry_run": dry_run}
    if room:
        body["room"] = room
    if person:
        body["person"] = person
    answer = hub.request("POST", "/api/copilot/say", body=body)
    if answer.get("status") != "needs_confirmation":
        _show(hub, answer)
        return
    if not yes and not hub.as_json and sys.stdin.isatty():
        click.echo(answer.get("text", ""))
        yes = click.confirm("Go ahead?", default=False)
        if not yes:
            hub.request("DELETE", _path("copilot", "confirm", answer["confirmation_id"]))
            click.echo("cancelled: nothing was sent")
            return
    if yes:
        answer = hub.request("POST", _path("copilot", "confirm", answer["confirmation_id"]))
    _show(hub, answer)


def register(group: click.Group) -> None:
    """Add ``say``, ``confirm`` and ``cancel`` to ``group``."""

    @group.command("say")
    @click.argument("text")
    @click.option("--room", help="The room you are in (room id), for 'here'.")
    @click.option("--person", help="Who is speaking (person id).")
    @click.option("--dry-run", is_flag=True, help="Show what would be done; send nothing.")
    @click.option("--yes", "-y", is_flag=True, help="Confirm a risky plan without asking.")
    @_hub_options
    def say_command(
        hub: HubClient, text: str, room: str | None, person: str | None, dry_run: bool, yes: bool
    ) -> None:
        """Ask the copilot in Chinese, English or Japanese (e.g. `trilink say "关掉所有的灯"`)."""
        say(hub, text, room, person, dry_run, yes)

    @group.command("confirm")
    @click.argument("confirmation_id")
    @_hub_options
    def confirm_command(hub: HubClient, confirmation_id: str) -> None:
        """Carry out a plan the copilot held for confirmation."""
        _show(hub, hub.request("POST", _path("copilot", "confirm", confirmation_id)))

    @group.command("cancel")
    @click.argument("confirmation_id")
    @_hub_options
    def cancel_command(hub: HubClient, confirmation_id: str) -> None:
        """Drop a held plan: nothing is sent."""
        hub.request("DELETE", _path("copilot", "confirm", confirmation_id))
        click.echo("cancelled: nothing was sent")
