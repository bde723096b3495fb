"""A discovered candidate, and the one function that turns a resolved service into one.

:func:`candidate_from` is pure: it gets what zeroconf resolved (addresses, port, TXT) and
either returns a :class:`Candidate` or raises :class:`Rejected` with a reason code, so
every malformed announcement is counted by why and never reaches the table.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from trilink.transports.zeroconf.names import (
    KINDS,
    Kind,
    broker_candidate_id,
    instance_label,
    miio_candidate_id,
    parse_miio_instance,
)

#: RFC 6763 §6.2: a TXT record should fit one packet, so over 1300 bytes is not an honest one
MAX_TXT_BYTES: Final = 1300
#: at most this many addresses are kept per candidate
MAX_ADDRESSES: Final = 16


class Rejected(ValueError):
    """An announcement that cannot become a candidate; ``reason`` is a stable code."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Candidate:
    """A device or broker found on the LAN, as announced (what the hub checked of it)."""

    id: str
    kind: Kind
    #: the full service name, e.g. ``zhimi-airpurifier-m1_miio12345678._miio._udp.local.``
    service: str
    #: the instance label (the service name without its type)
    name: str
    addresses: tuple[str, ...]
    port: int
    #: the host name the SRV record points at, without the trailing dot
    server: str | None = None
    model: str | None = None
    device_id: int | None = None
    txt: Mapping[str, str] = field(default_factory=dict)

    @property
    def host(self) -> str:
        """The address to talk to: the first IPv4 address, else the first address."""
        v4 = [a for a in self.addresses if ":" not in a]
        return (v4 or list(self.addresses))[0]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (without the adoption state, which the service adds)."""
        return {
            "id": self.id,
            "kind": self.kind,
            "name": self.name,
            "service": self.service,
            "model": self.model,
            "device_id": self.device_id,
            "host": self.host,
            "addresses": list(self.addresses),
            "port": self.port,
            "server": self.server,
            "txt": dict(self.txt),
        }


def decode_txt(text: bytes) -> dict[str, str]:
    """TXT record strings as ``key → value`` (RFC 6763 §6): undecodable bytes are replaced.

    A key without ``=`` is a flag with an empty value; the first occurrence of a key wins.
    Raises :class:`Rejected` for a record over :data:`MAX_TXT_BYTES` or one whose lengths
    run past its end.
    """
    if len(text) > MAX_TXT_BYTES:
        raise Rejected("txt-too-large", f"TXT record of {len(text)} bytes (at most {MAX_TXT_BYTES})")
    out: dict[str, str] = {}
    pos = 0
    while pos < len(text):
        length = text[pos]
        item = text[pos + 1 : pos + 1 + length]
        if len(item) != length:
            raise Rejected("txt-malformed", "a TXT string runs past the end of the record")
        pos += 1 + length
        key, _, value = item.partition(b"=")
        name = key.decode("utf-8", "replace").strip().lower()
        if name and name not in out:
            out[name] = value.decode("utf-8", "replace")
    return out


def _addresses(addresses: Sequence[str]) -> tuple[str, ...]:
    kept: list[str] = []
    for text in addresses:
        try:
            address = ipaddress.ip_address(text.split("%", 1)[0])
        except ValueError:
            continue
        if address.is_unspecified or address.is_multicast:
            continue
        if text not in kept:
            kept.append(text)
    return tuple(kept[:MAX_ADDRESSES])


def candidate_from(
    service_type: str,
    name: str,
    *,
    addresses: Sequence[str],
    port: int | None,
    server: str | None,
    text: bytes | None,
) -> Candidate:
    """The candidate a resolved announcement describes; :class:`Rejected` says why it is not one."""
    kind = KINDS.get(service_type)
    if kind is None:
        raise Rejected("type", f"not a browsed service type: {service_type!r}")
    label = instance_label(name, service_type)
    if label is None:
        raise Rejected("name", f"not a well-formed {service_type} service name")
    kept = _addresses(addresses)
    if not kept:
        raise Rejected("no-address", "the announcement has no usable address")
    if port is None or not 0 < port < 65536:
        raise Rejected("port", f"the announcement has no usable port ({port!r})")
    txt = decode_txt(text or b"")
    host = server.rstrip(".") if server else None
    if kind == "mqtt-broker":
        return Candidate(broker_candidate_id(name), kind, name, label, kept, port, host, txt=txt)
    parsed = parse_miio_instance(label)
    if parsed is None:
        raise Rejected("name", "not <model-with-dashes>_miio<device id> (e.g. zhimi-fan-v2_miio1234)")
    candidate_id = miio_candidate_id(parsed.device_id)
    return Candidate(candidate_id, kind, name, label, kept, port, host, parsed.model, parsed.device_id, txt)
