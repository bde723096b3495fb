"""What the API needs from the hub: the kernel, token checks, history and counters.

The API never touches the store or a transport. The hub runtime implements
:class:`HubFacade` and hands it to :func:`trilink.api.create_app`; tests implement it
with a few lines.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final, Literal, Protocol

from trilink.kernel import Kernel

Role = Literal["owner", "member", "guest"]

#: Roles that may change things (set properties, call actions).
WRITER_ROLES: Final[frozenset[str]] = frozenset({"owner", "member"})


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: the token's id and name, and the role it grants."""

    token_id: str
    name: str
    role: str  # "owner" | "member" | "guest"

    @property
    def can_write(self) -> bool:
        """Whether this caller may set properties and call actions (guests may only read)."""
        return self.role in WRITER_ROLES


class HubFacade(Protocol):
    """The hub as the API sees it.

    Every method is called on the event loop that runs the kernel, so each must be
    quick and must not block; a slow store query belongs behind a cache or a limit.
    """

    kernel: Kernel

    def authenticate(self, token: str) -> Principal | None:
        """The principal a bearer token stands for, or ``None`` if the token is unknown."""
        ...

    def history(
        self, did: str, siid: int, piid: int, since: float | None, until: float | None, limit: int
    ) -> list[tuple[float, Any]]:
        """Stored ``(ts, value)`` samples of one property, oldest first, at most ``limit``."""
        ...

    def status(self) -> dict[str, Any]:
        """Transport and store counters, uptime and the like, returned as-is by ``/api/status``."""
        ...
