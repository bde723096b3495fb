"""The narrow interface between the kernel's command router and the transports."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class Outcome:
    """A device's answer to a command: ``code`` 0 is success (MIoT convention)."""

    code: int = 0
    message: str = ""
    out: list[Any] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Whether the device reported success."""
        return self.code == 0


class DeviceLink(Protocol):
    """What a transport offers the router: send one command, await the device's answer.

    Implementations must be cancellation-safe: the router cancels the awaitable when
    the command times out, and the link must then forget the pending request.
    """

    name: str

    async def send_set(self, did: str, siid: int, piid: int, value: Any) -> Outcome:
        """Ask the device to set one property; return its answer."""
        ...

    async def send_call(self, did: str, siid: int, aiid: int, args: list[Any]) -> Outcome:
        """Ask the device to run an action; return its answer (with ``out`` values)."""
        ...
