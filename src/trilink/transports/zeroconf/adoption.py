"""Adoption: the small interfaces the hub provides, and what adopting a broker means.

Discovery never talks to a device itself. Adopting a miIO candidate hands a
:class:`MiioAdoption` to the hub's :class:`Adopter` (the miIO transport, wired by the
hub), which returns the new device's did. Whether a candidate is already adopted is
asked of the hub's :class:`AdoptedCheck`; :func:`adopted_check` builds one from the
known miIO devices and the broker the hub uses.

Adopting an MQTT broker does not change the running hub: the hub's broker is part of its
configuration (its password comes from the environment, never from discovery), and
switching brokers moves every MQTT device. :func:`broker_config` returns the settings
and the YAML to put under ``mqtt:`` in the config file.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Final, Literal, NamedTuple, Protocol

from trilink.transports.zeroconf.candidates import Candidate

#: a miIO token: 16 bytes written as 32 hexadecimal characters
TOKEN_PATTERN: Final = re.compile(r"[0-9a-fA-F]{32}")
#: a miIO model: ``vendor.kind.version`` (two to six dot-separated parts)
MODEL_PATTERN: Final = re.compile(r"[a-z0-9_-]+(?:\.[a-z0-9_-]+){1,5}")

Reason = Literal["invalid", "conflict", "unavailable", "unreachable", "failed"]


class AdoptionError(Exception):
    """Adoption was refused or failed; ``reason`` tells the API how to answer.

    ``invalid`` (the request cannot work: 422), ``conflict`` (already adopted or in
    progress: 409), ``unavailable`` (the hub cannot adopt this kind now: 503),
    ``unreachable`` (the device did not answer: 504), ``failed`` (anything else: 502).
    An adopter raises it with a message a person can act on; it must not contain the token.
    """

    def __init__(self, message: str, reason: Reason = "failed") -> None:
        super().__init__(message)
        self.reason: Reason = reason


@dataclass(frozen=True, slots=True)
class AdoptionRequest:
    """What a person sends to adopt a candidate (the token only for miIO devices)."""

    token: str | None = field(default=None, repr=False)
    name: str | None = None
    room: str | None = None
    #: overrides the model from the announcement
    model: str | None = None
    #: the device's MIoT-Spec-V2 file (a path on the hub) for the miIO transport; passed on as given
    spec: str | None = None

    @property
    def is_empty(self) -> bool:
        """Whether nothing was given (how an MQTT broker is adopted)."""
        return all(v is None for v in (self.token, self.name, self.room, self.model, self.spec))


@dataclass(frozen=True, slots=True)
class MiioAdoption:
    """Everything the miIO transport needs to adopt a discovered device.

    The token is left out of ``repr``, so logging an adoption never logs the secret.
    """

    host: str
    port: int
    device_id: int
    model: str
    token: str = field(repr=False)
    name: str | None = None
    room: str | None = None
    spec: str | None = None


class Adopter(Protocol):
    """The hub's way to adopt a discovered miIO device (the lead wires the miIO transport)."""

    async def adopt_miio(self, device: MiioAdoption) -> str:
        """Adopt the device and return its did; raise :class:`AdoptionError` if it cannot be."""
        ...


class AdoptedCheck(Protocol):
    """Whether the hub already has a candidate (called on the event loop: must be quick)."""

    def __call__(self, candidate: Candidate) -> bool: ...


class KnownMiio(NamedTuple):
    """A miIO device the hub already has: where it is and its device id (either may be unknown)."""

    host: str | None
    device_id: int | None


def adopted_check(
    *,
    miio: Callable[[], Iterable[KnownMiio]] | None = None,
    broker: tuple[str, int] | None = None,
) -> AdoptedCheck:
    """An :class:`AdoptedCheck` from the hub's miIO devices and the ``(host, port)`` of its broker.

    A miIO candidate is adopted when a known device has its device id or its address; a
    broker when its port matches and the configured host is one of its addresses or its
    host name.
    """

    def check(candidate: Candidate) -> bool:
        if candidate.kind == "miio":
            if miio is None:
                return False
            addresses = set(candidate.addresses)
            return any(
                (known.device_id is not None and known.device_id == candidate.device_id)
                or (known.host is not None and known.host in addresses)
                for known in miio()
            )
        if broker is None:
            return False
        host, port = broker
        names = {*candidate.addresses, (candidate.server or "").lower()}
        return port == candidate.port and host.rstrip(".").lower() in names

    return check


def miio_adoption(candidate: Candidate, request: AdoptionRequest) -> MiioAdoption:
    """The adoption of a miIO candidate; :class:`AdoptionError` for a request that cannot work."""
    if request.token is None:
        raise AdoptionError("a miIO device is adopted with its token (32 hexadecimal characters)", "invalid")
    if not TOKEN_PATTERN.fullmatch(request.token):
        # never repeat the token: only its length, which is safe to say
        raise AdoptionError(
            f"a miIO token is 32 hexadecimal characters; the one given has {len(request.token)} "
            "characters or is not hexadecimal",
            "invalid",
        )
    model = request.model or candidate.model
    if model is None or not MODEL_PATTERN.fullmatch(model):
        raise AdoptionError(f"{model!r} is not a miIO model such as zhimi.airpurifier.m1", "invalid")
    assert candidate.device_id is not None
    return MiioAdoption(
        host=candidate.host,
        port=candidate.port,
        device_id=candidate.device_id,
        model=model,
        token=request.token.lower(),
        name=request.name,
        room=request.room,
        spec=request.spec,
    )


def broker_config(candidate: Candidate) -> dict[str, Any]:
    """What to put in the config file to use a discovered broker; the running hub is not changed."""
    host = candidate.host
    settings = {"host": host, "port": candidate.port}
    notes = [
        "put this under mqtt: in the hub's config file and restart the hub; "
        "a username and password_env (or password_file) go there too if the broker needs them"
    ]
    if candidate.server:
        notes.append(f"the broker also answers as {candidate.server}, if this machine resolves .local names")
    if candidate.port == 8883:
        notes.append("port 8883 is usually MQTT over TLS, which the hub does not speak yet")
    return {
        "settings": settings,
        "config": f"mqtt:\n  host: {host}\n  port: {candidate.port}\n",
        "notes": notes,
    }
