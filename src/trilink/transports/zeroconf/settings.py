"""Settings of zeroconf discovery and of the hub's own announcement (pure data)."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True, slots=True)
class ZeroconfSettings:
    """What the hub browses for, whether it announces itself, and on which interfaces.

    ``announce="auto"`` announces the hub only when its API listens beyond loopback (a
    hub bound to 127.0.0.1 cannot be reached from the LAN, so announcing it there would
    mislead); ``True`` always announces, ``False`` never does. ``interfaces`` are IPv4
    addresses of this machine's interfaces; empty means all of them. Construction
    raises ``ValueError`` naming the field for a value it cannot use.
    """

    #: browse the LAN for miIO devices and MQTT brokers
    enabled: bool = True
    announce: bool | Literal["auto"] = "auto"
    interfaces: tuple[str, ...] = ()
    #: the instance name of the hub's announcement; default ``trilink <home id>``
    instance_name: str | None = None
    #: seconds to wait for a service's address and TXT records
    resolve_timeout: float = 3.0
    #: seconds between checks that each candidate still answers
    refresh_interval: float = 60.0
    #: a candidate that has not answered for this many seconds is dropped
    expire_after: float = 300.0
    #: at most this many candidates are kept; more are counted and skipped
    max_candidates: int = 256

    def __post_init__(self) -> None:
        if self.announce not in (True, False, "auto"):
            raise ValueError(f"zeroconf.announce must be true, false or 'auto', got {self.announce!r}")
        for address in self.interfaces:
            try:
                ipaddress.IPv4Address(address)
            except ValueError:
                raise ValueError(
                    f"zeroconf.interfaces: {address!r} is not an IPv4 address of this machine"
                ) from None
        if self.instance_name is not None and not 0 < len(self.instance_name.encode()) <= 63:
            raise ValueError("zeroconf.instance_name must be 1 to 63 bytes (one DNS label)")
        for name in ("resolve_timeout", "refresh_interval", "expire_after"):
            if not getattr(self, name) > 0:
                raise ValueError(f"zeroconf.{name} must be a positive number of seconds")
        if self.expire_after < self.refresh_interval:
            raise ValueError("zeroconf.expire_after must be at least zeroconf.refresh_interval")
        if not 1 <= self.max_candidates <= 100_000:
            raise ValueError("zeroconf.max_candidates must be between 1 and 100000")
