"""The hub's own announcement as ``_trilink._tcp.local.``: whether, where, and what it says.

Pure decisions; the service publishes them. The TXT record says what a client needs to
find the API (``version``, ``path``, ``id``) and nothing secret.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from typing import Final, Literal

#: bind hosts that mean "every interface"
WILDCARD_HOSTS: Final = frozenset({"", "0.0.0.0", "::", "*"})

_LABEL_UNSAFE: Final = re.compile(r"[^a-z0-9-]+")


def is_loopback_host(host: str) -> bool:
    """Whether an API bind host is only reachable from this machine (127.0.0.0/8, ::1, localhost)."""
    name = host.strip().strip("[]").lower()
    if name in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def should_announce(setting: bool | Literal["auto"], api_host: str) -> bool:
    """Whether to announce a hub whose API listens on ``api_host``: ``auto`` means beyond loopback only."""
    if setting == "auto":
        return not is_loopback_host(api_host)
    return bool(setting)


def announce_addresses(api_host: str, interfaces: Iterable[str], machine: Iterable[str]) -> list[str]:
    """The IPv4 addresses to publish for the hub.

    A specific bind address is published as it is (even loopback, when announcing was
    asked for explicitly). A wildcard or a host name publishes the configured
    ``interfaces``, else every non-loopback address of the ``machine``.
    """
    host = api_host.strip().strip("[]")
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    if address is not None and host not in WILDCARD_HOSTS:
        return [host] if address.version == 4 else []
    chosen = list(interfaces) or [a for a in machine if not ipaddress.ip_address(a).is_loopback]
    return list(dict.fromkeys(chosen))


def hub_txt(version: str, hub_id: str) -> dict[str, str]:
    """The TXT record of the hub's announcement."""
    return {"version": version, "path": "/", "api": "/api", "id": hub_id}


def hub_server(hub_id: str) -> str:
    """The host name the announcement points at: ``trilink-<hub id>.local.`` made DNS-safe."""
    label = _LABEL_UNSAFE.sub("-", hub_id.lower()).strip("-")[:50] or "hub"
    return f"trilink-{label}.local."
