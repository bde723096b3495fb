"""API client commands: ``devices``, ``get``, ``set``, ``call``, ``events`` and ``status``.

They talk to a running hub over its REST API and WebSocket. httpx and websockets are
imported when a command runs, not when the ``trilink`` command starts, and nothing
here imports the hub itself.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import quote, urlencode, urlsplit, urlunsplit

import click

from trilink.cli.output import (
    event_line,
    flatten,
    format_duration,
    format_time,
    format_value,
    pairs,
    print_json,
    table,
)

DEFAULT_URL: Final = "http://127.0.0.1:8765"

#: How long a request may take; a device command alone may wait several seconds.
TIMEOUT: Final = 30.0

_NO_BODY: Final = object()


def parse_value(text: str) -> Any:
    """A command-line value: JSON when it parses (``true``, ``24.5``, ``"text"``), else the text.

    ``NaN`` and ``Infinity`` stay text: JSON cannot carry them.
    """

    def no_constants(name: str) -> Any:
        raise ValueError(name)

    try:
        return json.loads(text, parse_constant=no_constants)
    except ValueError:
        return text


@dataclass(frozen=True)
class HubClient:
    """Where the hub is, the token to show it, and whether to print JSON."""

    url: str
    token: str
    as_json: bool

    @property
    def unreachable(self) -> str:
        """The message for a hub that does not answer."""
        return f"cannot reach the hub at {self.url} — is it running? (start one with `trilink demo`)"

    def request(self, method: str, path: str, *, body: Any = _NO_BODY, params: Any = None) -> Any:
        """Send one request; return the decoded answer, or fail with the hub's own message."""
        import httpx

        headers = {"Authorization": f"Bearer {self.token}"}
        try:
            with httpx.Client(base_url=self.url, headers=headers, timeout=TIMEOUT) as client:
                if body is _NO_BODY:
                    response = client.request(method, path, params=params)
                else:
                    response = client.request(method, path, params=params, json=body)
        except httpx.ConnectError:
            raise click.ClickException(self.unreachable) from None
        except httpx.TimeoutException:
            raise click.ClickException(f"the hub at {self.url} did not answer within {TIMEOUT:g} s") from None
        except (httpx.InvalidURL, httpx.UnsupportedProtocol) as exc:
            raise click.ClickException(f"{self.url!r} is not a usable hub URL: {exc}") from None
        except httpx.HTTPError as exc:
            raise click.ClickException(f"talking to the hub at {self.url} failed: {exc}") from None
        return _decode(response.status_code, response.text)

    def ws_url(self, params: list[tuple[str, str]]) -> str:
        """The ``/api/ws`` URL on the same host, with filters."""
        parts = urlsplit(self.url)
        scheme = "wss" if parts.scheme == "https" else "ws"
        path = parts.path.rstrip("/") + "/api/ws"
        return urlunsplit((scheme, parts.netloc, path, urlencode(params), ""))


def _error_message(status: int, text: str) -> str:
    if status == 401:
        return "the token was refused — check --token or TRILINK_TOKEN"
    try:
        error = json.loads(text)["error"]
        message = str(error["message"])
    except (ValueError, KeyError, TypeError):
        snippet = text.strip()[:200]
        return f"the hub answered HTTP {status}" + (f": {snippet}" if snippet else "")
    return message


def _decode(status: int, text: str) -> Any:
    if status >= 400:
        raise click.ClickException(_error_message(status, text))
    if status == 204:
        return None
    try:
        return json.loads(text)
    except ValueError:
        raise click.ClickException(f"the hub sent an answer that is not JSON (HTTP {status})") from None


def _hub_options(fn: Callable[..., None]) -> Callable[..., None]:
    """Add ``--url``, ``--token`` and ``--json`` to a command, handing it a :class:`HubClient`."""

    @functools.wraps(fn)
    def command(*args: Any, url: str, token: str | None, as_json: bool, **kwargs: Any) -> None:
        if not token:
            raise click.ClickException(
                "no API token: pass --token or set TRILINK_TOKEN (`trilink demo` prints one when it starts)"
            )
        fn(*args, hub=HubClient(url.rstrip("/"), token, as_json), **kwargs)

    options = [
        click.option("--url", envvar="TRILINK_URL", default=DEFAULT_URL, show_default=True,
                     help="The hub's address (env TRILINK_URL)."),
        click.option("--token", envvar="TRILINK_TOKEN", help="An API token of the hub (env TRILINK_TOKEN)."),
        click.option("--json", "as_json", is_flag=True, help="Print the API's JSON instead of a table."),
    ]  # fmt: skip
    for option in reversed(options):
        command = option(command)
    return command


def _path(*segments: str) -> str:
    return "/api/" + "/".join(quote(s, safe="") for s in segments)


# ---------------------------------------------------------------------- commands
def devices(hub: HubClient, room: str | None, online: bool | None) -> None:
    """List the hub's devices."""
    params: dict[str, str] = {}
    if room:
        params["room"] = room
    if online is not None:
        params["online"] = "true" if online else "false"
    found = hub.request("GET", "/api/devices", params=params)
    if hub.as_json:
        print_json(found)
        return
    if not found:
        click.echo("no devices")
        return
    rows = [
        [d["did"], d["name"], d["kind"], d["room_id"] or "—", "online" if d["online"] else "offline"]
        for d in sorted(found, key=lambda d: d["did"])
    ]
    click.echo(table(["did", "name", "kind", "room", "state"], rows))


def get(hub: HubClient, did: str, address: str | None) -> None:
    """Show one reading, or every reading of a device."""
    if address is not None:
        reading = hub.request("GET", _path("devices", did, "properties", address))
        if hub.as_json:
            print_json(reading)
            return
        value = _shown(reading)
        click.echo(
            f"{reading['did']} {reading['siid']}.{reading['piid']} {reading['service']}.{reading['property']}"
            f" = {value}  (updated {format_time(reading['ts'])})"
        )
        return
    device = hub.request("GET", _path("devices", did))
    if hub.as_json:
        print_json(device)
        return
    state = "online" if device["online"] else "offline"
    click.echo(
        f"{device['name']} ({device['did']}) — {device['kind']}, {device['room_id'] or 'no room'}, {state}"
    )
    readings = device["readings"]
    if not readings:
        click.echo("no readings yet")
        return
    rows = [
        [f"{r['siid']}.{r['piid']}", r["service"], r["property"], _shown(r),
         format_time(r["ts"])]
        for r in readings
    ]  # fmt: skip
    click.echo(table(["id", "service", "property", "value", "updated"], rows))


def set_(hub: HubClient, did: str, address: str, value: str) -> None:
    """Set a property; the device must accept it."""
    parsed = parse_value(value)
    answer = hub.request("PUT", _path("devices", did, "properties", address), body={"value": parsed})
    if hub.as_json:
        print_json(answer)
    else:
        click.echo(f"{did} {address} set to {format_value(parsed)}")


def call(hub: HubClient, did: str, address: str, args: tuple[str, ...]) -> None:
    """Run an action with its arguments."""
    answer = hub.request(
        "POST", _path("devices", did, "actions", address), body={"in": [parse_value(a) for a in args]}
    )
    if hub.as_json:
        print_json(answer)
        return
    out = answer.get("out") or []
    click.echo(f"{did} {address} done" + (f": {', '.join(format_value(v) for v in out)}" if out else ""))


def _shown(reading: dict[str, Any]) -> str:
    """A reading's value with its unit, and its value-list meaning when it has one."""
    text = format_value(reading["value"], reading.get("unit"))
    return f"{text} ({reading['choice']})" if reading.get("choice") else text


def events(
    hub: HubClient,
    follow: bool,
    dids: tuple[str, ...],
    kinds: tuple[str, ...],
    limit: int,
    max_events: int | None,
) -> None:
    """Print recent events, or follow the live stream."""
    params = [("did", d) for d in dids] + [("kind", k) for k in kinds]
    if not follow:
        recent = hub.request("GET", "/api/events", params=[*params, ("limit", str(limit))])
        if hub.as_json:
            print_json(recent)
            return
        for event in recent:
            click.echo(event_line(event))
        if not recent:
            click.echo("no events yet")
        return
    try:
        with _stream(hub, params) as messages:
            for count, message in enumerate(messages, 1):
                click.echo(json.dumps(message, ensure_ascii=False) if hub.as_json else event_line(message))
                if max_events is not None and count >= max_events:
                    break
    except KeyboardInterrupt:
        pass  # Ctrl-C is how a person stops following


@contextmanager
def _stream(hub: HubClient, params: list[tuple[str, str]]) -> Iterator[Iterator[dict[str, Any]]]:
    """The decoded messages of the live stream; errors become the hub's own message."""
    from websockets.exceptions import ConnectionClosedError, ConnectionClosedOK, InvalidStatus, InvalidURI
    from websockets.sync.client import connect

    try:
        ws = connect(hub.ws_url(params), additional_headers={"Authorization": f"Bearer {hub.token}"},
                     open_timeout=TIMEOUT)  # fmt: skip
    except InvalidStatus as exc:
        body = exc.response.body or b""
        raise click.ClickException(
            _error_message(exc.response.status_code, body.decode("utf-8", "replace"))
        ) from None
    except InvalidURI as exc:
        raise click.ClickException(f"{hub.url!r} is not a usable hub URL: {exc}") from None
    except (OSError, TimeoutError):
        raise click.ClickException(hub.unreachable) from None

    def messages() -> Iterator[dict[str, Any]]:
        try:
            for text in ws:
                yield json.loads(text)
        except ConnectionClosedOK:
            click.echo("the hub closed the stream", err=True)
        except ConnectionClosedError:
            raise click.ClickException("the connection to the hub was lost") from None

    with ws:
        yield messages()


def status(hub: HubClient) -> None:
    """Show the hub's status and counters."""
    info = hub.request("GET", "/api/status")
    if hub.as_json:
        print_json(info)
        return
    devices_ = info["devices"]
    caller = info["caller"]
    click.echo(
        pairs(
            [
                ("hub", f"{hub.url} (trilink {info['version']})"),
                ("uptime", format_duration(info["uptime"])),
                ("devices", f"{devices_['total']} ({devices_['online']} online)"),
                ("you", f"{caller['name']} ({caller['role']})"),
                *flatten(info.get("hub") or {}),
            ]
        )
    )


# ---------------------------------------------------------------------- wiring
def register(group: click.Group) -> None:
    """Add the client commands to ``group``."""

    @group.command("devices")
    @click.option("--room", help="Only devices in this room (room id).")
    @click.option("--online/--offline", default=None, help="Only online or only offline devices.")
    @_hub_options
    def devices_command(hub: HubClient, room: str | None, online: bool | None) -> None:
        """List devices: did, name, kind, room and whether each is online."""
        devices(hub, room, online)

    @group.command("get")
    @click.argument("did")
    @click.argument("address", required=False, metavar="[SIID.PIID]")
    @_hub_options
    def get_command(hub: HubClient, did: str, address: str | None) -> None:
        """Show a device's readings, or one property (e.g. `trilink get ac-living 2.3`)."""
        get(hub, did, address)

    @group.command("set", context_settings={"ignore_unknown_options": True})
    @click.argument("did")
    @click.argument("address", metavar="SIID.PIID")
    @click.argument("value")
    @_hub_options
    def set_command(hub: HubClient, did: str, address: str, value: str) -> None:
        """Set a property: VALUE is JSON when it parses (true, 24.5, "text"), else text."""
        set_(hub, did, address, value)

    @group.command("call", context_settings={"ignore_unknown_options": True})
    @click.argument("did")
    @click.argument("address", metavar="SIID.AIID")
    @click.argument("args", nargs=-1)
    @_hub_options
    def call_command(hub: HubClient, did: str, address: str, args: tuple[str, ...]) -> None:
        """Call an action; each ARG is JSON when it parses, else text."""
        call(hub, did, address, args)

    @group.command("events")
    @click.option("--follow", "-f", is_flag=True, help="Stream live events until Ctrl-C.")
    @click.option("--did", "dids", multiple=True, help="Only this device (repeatable).")
    @click.option(
        "--kind", "kinds", multiple=True, help="Only this kind, e.g. property-changed (repeatable)."
    )
    @click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 1000),
                  help="How many recent events to print.")  # fmt: skip
    @click.option("--max-events", type=click.IntRange(min=1), hidden=True)
    @_hub_options
    def events_command(
        hub: HubClient,
        follow: bool,
        dids: tuple[str, ...],
        kinds: tuple[str, ...],
        limit: int,
        max_events: int | None,
    ) -> None:
        """Print recent events, or follow them live with --follow."""
        events(hub, follow, dids, kinds, limit, max_events)

    @group.command("status")
    @_hub_options
    def status_command(hub: HubClient) -> None:
        """Show the hub's status: uptime, device counts and its counters."""
        status(hub)
