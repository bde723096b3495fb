"""``trilink discover``: devices and brokers the hub found on its LAN, and adopting one.

``trilink discover`` lists the candidates, ``--watch`` prints each change as it happens
(``+`` found, ``~`` changed, ``-`` gone) until Ctrl-C, and ``trilink discover adopt ID``
adopts one. A miIO device's token is given with ``--device-token`` (or
``TRILINK_DEVICE_TOKEN``, or typed at a hidden prompt), so ``--token`` stays the API
token as in every other command.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Mapping
from typing import Any

import click

from trilink.cli.client import DEFAULT_URL, HubClient, _hub_options, _path
from trilink.cli.output import format_time, print_json, table

#: fields whose change is worth a ``~`` line when watching (not ``last_seen``)
_WATCHED = ("kind", "name", "model", "host", "addresses", "port", "adopted", "did", "txt")


def _what(candidate: Mapping[str, Any]) -> str:
    return str(candidate.get("model") or candidate.get("name") or "?")


def _address(candidate: Mapping[str, Any]) -> str:
    host = str(candidate["host"])
    return f"[{host}]:{candidate['port']}" if ":" in host else f"{host}:{candidate['port']}"


def _adopted(candidate: Mapping[str, Any]) -> str:
    if not candidate.get("adopted"):
        return "no"
    return f"yes ({candidate['did']})" if candidate.get("did") else "yes"


def _not_running(answer: Mapping[str, Any]) -> str | None:
    if answer.get("browsing"):
        return None
    why = answer.get("error") or "browsing is off (zeroconf.enabled: false)"
    return f"the hub is not browsing its LAN: {why}"


def listing(hub: HubClient, kind: str | None) -> None:
    """Print the candidates: id, kind, model (or name), address, last seen, adopted."""
    answer = hub.request("GET", "/api/discovery", params={"kind": kind} if kind else None)
    if hub.as_json:
        print_json(answer)
        return
    problem = _not_running(answer)
    if problem:
        click.echo(problem, err=True)
    found = answer["candidates"]
    if found:
        rows = [
            [c["id"], c["kind"], _what(c), _address(c), format_time(c["last_seen"]), _adopted(c)]
            for c in found
        ]
        click.echo(table(["id", "kind", "model or name", "address", "last seen", "adopted"], rows))
    elif not problem:
        click.echo("nothing found yet: the hub browses _miio._udp and _mqtt._tcp on its LAN")
    skipped = answer.get("stats", {}).get("skipped", 0)
    if skipped:
        click.echo(f"{skipped} announcement(s) skipped as malformed (see --json for why)")


def changes(
    before: Mapping[str, Mapping[str, Any]], after: Mapping[str, Mapping[str, Any]]
) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """``(change, candidate)`` for each candidate added, changed or removed between two listings."""
    for candidate_id, candidate in after.items():
        old = before.get(candidate_id)
        if old is None:
            yield "added", candidate
        elif any(old.get(k) != candidate.get(k) for k in _WATCHED):
            yield "changed", candidate
    for candidate_id, candidate in before.items():
        if candidate_id not in after:
            yield "removed", candidate


_MARK = {"added": "+", "changed": "~", "removed": "-"}


def _change_line(change: str, candidate: Mapping[str, Any]) -> str:
    what = f"{candidate['id']}  {candidate['kind']}  {_what(candidate)}  {_address(candidate)}"
    return f"{time.strftime('%H:%M:%S')}  {_MARK[change]} {what}  adopted: {_adopted(candidate)}"


def watch_changes(hub: HubClient, kind: str | None, interval: float, max_polls: int | None) -> None:
    """Poll the hub and print every change until Ctrl-C (or ``max_polls`` polls)."""
    seen: dict[str, Mapping[str, Any]] = {}
    warned = False
    polls = 0
    try:
        while True:
            answer = hub.request("GET", "/api/discovery", params={"kind": kind} if kind else None)
            problem = _not_running(answer)
            if problem and not warned:
                click.echo(problem, err=True)
            warned = bool(problem)
            current = {c["id"]: c for c in answer["candidates"]}
            for change, candidate in changes(seen, current):
                if hub.as_json:
                    click.echo(json.dumps({"change": change, "candidate": candidate}, ensure_ascii=False))
                else:
                    click.echo(_change_line(change, candidate))
            seen = current
            polls += 1
            if max_polls is not None and polls >= max_polls:
                return
            time.sleep(interval)
    except KeyboardInterrupt:
        pass  # Ctrl-C is how a person stops watching


def adopt(
    hub: HubClient,
    candidate_id: str,
    device_token: str | None,
    fields: Mapping[str, str | None],
) -> None:
    """Adopt a miIO device (asking for its token if not given), or show a broker's config."""
    candidate = hub.request("GET", _path("discovery", candidate_id))
    given = {k: v for k, v in fields.items() if v is not None}
    if candidate["kind"] == "mqtt-broker":
        if device_token is not None or given:
            raise click.ClickException(
                "an MQTT broker is adopted without --device-token, --name, --room, --model or --spec"
            )
        body: dict[str, Any] | None = None
    else:
        if device_token is None:
            device_token = click.prompt("miIO token of the device (32 hex characters)", hide_input=True)
        body = {"token": device_token.strip(), **given}
    if body is None:
        answer = hub.request("POST", _path("discovery", candidate_id, "adopt"))
    else:
        answer = hub.request("POST", _path("discovery", candidate_id, "adopt"), body=body)
    if hub.as_json:
        print_json(answer)
        return
    if answer["kind"] == "miio":
        click.echo(f"adopted {candidate_id} ({answer['model']} at {answer['host']}) as {answer['did']}")
        return
    click.echo(f"{candidate_id} is an MQTT broker; to use it, put this in the hub's config file:\n")
    click.echo(answer["config"])
    for note in answer.get("notes", []):
        click.echo(f"note: {note}")


def register(group: click.Group) -> None:
    """Add ``discover`` (and ``discover adopt``) to ``group``."""

    @group.group("discover", invoke_without_command=True)
    @click.option("--kind", type=click.Choice(["miio", "mqtt-broker"]), help="Only this kind.")
    @click.option("--watch", is_flag=True, help="Print changes as they happen, until Ctrl-C.")
    @click.option("--interval", default=2.0, show_default=True, type=click.FloatRange(0.05, 3600),
                  help="Seconds between polls with --watch.")  # fmt: skip
    @click.option("--max-polls", type=click.IntRange(min=1), hidden=True)
    @click.option("--url", envvar="TRILINK_URL", default=DEFAULT_URL, show_default=True,
                  help="The hub's address (env TRILINK_URL).")  # fmt: skip
    @click.option("--token", envvar="TRILINK_TOKEN", help="An API token of the hub (env TRILINK_TOKEN).")
    @click.option(
        "--json", "as_json", is_flag=True, help="Print the API's JSON (one line per change with --watch)."
    )
    @click.pass_context
    def discover_command(
        ctx: click.Context,
        kind: str | None,
        watch: bool,
        interval: float,
        max_polls: int | None,
        url: str,
        token: str | None,
        as_json: bool,
    ) -> None:
        """Devices (miIO) and MQTT brokers the hub found on its LAN; `discover adopt ID` adopts one."""
        if ctx.invoked_subcommand is not None:
            return

        def run(hub: HubClient) -> None:
            if watch:
                watch_changes(hub, kind, interval, max_polls)
            else:
                listing(hub, kind)

        _hub_options(run)(url=url, token=token, as_json=as_json)

    @discover_command.command("adopt")
    @click.argument("candidate_id", metavar="ID")
    @click.option("--device-token", envvar="TRILINK_DEVICE_TOKEN",
                  help="The miIO device's token, 32 hex characters (env TRILINK_DEVICE_TOKEN; "
                       "asked for when missing).")  # fmt: skip
    @click.option("--name", help="The device's name in the hub.")
    @click.option("--room", help="The room to put it in (room id).")
    @click.option("--model", help="The model, when the announced one is wrong (e.g. zhimi.airpurifier.m1).")
    @click.option("--spec", help="The path of the device's MIoT-Spec-V2 file on the hub.")
    @_hub_options
    def adopt_command(
        hub: HubClient,
        candidate_id: str,
        device_token: str | None,
        name: str | None,
        room: str | None,
        model: str | None,
        spec: str | None,
    ) -> None:
        """Adopt a miIO device by its candidate ID, or print the config to use a discovered MQTT broker."""
        adopt(hub, candidate_id, device_token, {"name": name, "room": room, "model": model, "spec": spec})
