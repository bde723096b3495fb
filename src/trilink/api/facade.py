"""What the API needs from the hub: the kernel, token checks, history and counters.

The API never touches the store or a transport. The hub runtime implements
:class:`HubFacade` and hands it to :func:`trilink.api.create_app`; tests implement it
with a few lines. A hub that runs automations also has an ``automations`` attribute
(:class:`AutomationsFacade`): the engine, described here by what the API calls
(:class:`AutomationsEngine`), so importing the API does not import the engine. A hub
that keeps browser sessions has the methods of :class:`SessionsFacade`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal, Protocol, cast

from trilink.kernel import Context, Kernel

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


@dataclass(frozen=True, slots=True)
class Session:
    """A browser session: its id (the cookie's value), who it signs in, and when it ends (epoch s)."""

    id: str
    principal: Principal
    expires: float

    def __repr__(self) -> str:
        # the id is a secret: keep it out of logs and tracebacks
        return f"Session(principal={self.principal!r}, expires={self.expires!r})"


class SessionsFacade(HubFacade, Protocol):
    """A hub that keeps browser sessions (signing in with a token sets a cookie).

    Each method is called on the kernel's event loop and must be quick.
    """

    def open_session(self, token: str, now: float) -> Session | None:
        """Open a session for an API token at ``now`` (epoch seconds); ``None`` if the token is refused."""
        ...

    def session(self, session_id: str) -> Session | None:
        """The live session with this id, or ``None`` (unknown, ended, expired, or its token revoked)."""
        ...

    def close_session(self, session_id: str) -> None:
        """End a session (nothing happens for an unknown id)."""
        ...


def sessions_of(hub: HubFacade) -> SessionsFacade | None:
    """The hub if it keeps browser sessions, else ``None`` (the session routes are left out then)."""
    if all(callable(getattr(hub, name, None)) for name in ("open_session", "session", "close_session")):
        return cast(SessionsFacade, hub)
    return None


class StatsQuery(Protocol):
    """The hub's ``stats`` method: downsampled statistics of one property.

    Returns ``(bucket_start, min, mean, max, count)`` rows of the buckets of ``period``
    (``"5m"`` or ``"1h"``) overlapping ``[since, until)``, oldest first, at most ``limit``.
    Called on the event loop: it must be quick.
    """

    def __call__(
        self,
        did: str,
        siid: int,
        piid: int,
        period: str,
        since: float | None,
        until: float | None,
        limit: int,
    ) -> Sequence[tuple[int, float, float, float, int]]: ...


def stats_of(hub: HubFacade) -> StatsQuery | None:
    """The hub's statistics query, or ``None`` for a hub without one (the route is left out then)."""
    query = getattr(hub, "stats", None)
    return cast(StatsQuery, query) if callable(query) else None


class ReportedError(Protocol):
    """A refused definition (``trilink.automation.errors.DefinitionError``)."""

    def to_dict(self) -> dict[str, object]:
        """``code``, ``source``, ``line``, ``path``, ``reason`` and ``message``."""
        ...


class LoadOutcome(Protocol):
    """What loading definitions did (the engine's ``LoadReport``)."""

    @property
    def loaded(self) -> Sequence[str]:
        """Ids of the definitions now loaded."""
        ...

    @property
    def errors(self) -> Sequence[ReportedError]:
        """Every definition that was refused, with where and why."""
        ...


class AutomationsEngine(Protocol):
    """The automation engine as the API uses it (``trilink.automation.engine.AutomationEngine``).

    Each method runs on the kernel's event loop; the coroutines may wait for devices.
    Unknown automation ids raise the engine's ``UnknownAutomation`` (a ``KeyError``) and
    bad definitions its ``DefinitionError``; the API answers them with 404 and 422.
    """

    def load_yaml(self, text: str, source: str) -> LoadOutcome:
        """Load automations, scenes and zones from YAML text."""
        ...

    def load_data(self, data: Any, source: str) -> LoadOutcome:
        """Load automations, scenes and zones from already parsed data."""
        ...

    def automations(self) -> Sequence[Any]:
        """An ``AutomationInfo`` for each automation."""
        ...

    def definition(self, automation_id: str) -> dict[str, Any]:
        """The automation's definition as loaded."""
        ...

    def remove(self, automation_id: str) -> None:
        """Forget an automation."""
        ...

    def set_enabled(self, automation_id: str, enabled: bool) -> None:
        """Enable or disable an automation."""
        ...

    def traces(self, automation_id: str, limit: int = 20) -> list[dict[str, Any]]:
        """The newest traces of an automation, newest first."""
        ...

    def why_not(self, automation_id: str) -> dict[str, Any] | None:
        """Why the automation last did not run (a ``sentence`` and the data), or ``None``."""
        ...

    async def run(self, automation_id: str, context: Context, *, skip_conditions: bool = False) -> str:
        """Run the automation now, as if triggered; returns the run's id (its trace tells how it went)."""
        ...

    def webhook(self, hook_id: str, payload: dict[str, Any]) -> int:
        """Fire the webhook triggers with this id; returns how many listened."""
        ...

    def scenes(self) -> list[dict[str, Any]]:
        """Every scene."""
        ...

    async def apply_scene(self, scene_id: str, context: Context) -> list[dict[str, Any]]:
        """Set every state of a scene; returns each write's result."""
        ...

    def zones(self) -> list[dict[str, Any]]:
        """Every zone."""
        ...

    def notifications(self, limit: int = 50) -> list[dict[str, Any]]:
        """The newest notifications sent by automations."""
        ...


class AutomationsFacade(HubFacade, Protocol):
    """A hub that runs automations: ``automations`` is its engine (``None`` while it has none)."""

    automations: AutomationsEngine | None


def automations_of(hub: HubFacade) -> AutomationsEngine | None:
    """The hub's automation engine, or ``None`` for a hub without one (the routes are left out then)."""
    engine: AutomationsEngine | None = getattr(hub, "automations", None)
    return engine


class CopilotReply(Protocol):
    """A copilot reply (``trilink.copilot.service.Reply``)."""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        ...


class CopilotService(Protocol):
    """The copilot as the API uses it (``trilink.copilot.service.Copilot``).

    ``say`` raises ``ValueError`` for a request it refuses (empty, too long, unknown room);
    ``confirm`` raises a ``KeyError`` for an unknown, expired or someone else's plan.
    """

    async def say(
        self,
        text: str,
        *,
        person_id: str | None = None,
        room: str | None = None,
        dry_run: bool = False,
        owner: str | None = None,
        actor: Any = None,
    ) -> CopilotReply:
        """Understand, plan and carry out (or hold) a request."""
        ...

    async def confirm(
        self, confirmation_id: str, *, owner: str | None = None, actor: Any = None
    ) -> CopilotReply:
        """Carry out a held plan."""
        ...

    def cancel(self, confirmation_id: str, *, owner: str | None = None) -> bool:
        """Drop a held plan."""
        ...


def copilot_of(hub: HubFacade) -> CopilotService | None:
    """The hub's copilot, or ``None`` (the routes are left out then)."""
    service: CopilotService | None = getattr(hub, "copilot", None)
    return service


class DiagnosticsReminder(Protocol):
    """A maintenance reminder (``trilink.diagnostics.findings.Reminder``)."""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        ...


class DiagnosticsService(Protocol):
    """The diagnostics service as the API uses it (``trilink.diagnostics.service.Diagnostics``).

    Unknown reminder ids and devices raise ``KeyError``; the API answers 404.
    """

    def reminders(self, *, active_only: bool = False, limit: int = 100) -> Sequence[DiagnosticsReminder]:
        """Reminders, newest first."""
        ...

    def acknowledge(self, reminder_id: int) -> DiagnosticsReminder:
        """Seen."""
        ...

    def snooze(self, reminder_id: int, hours: float) -> DiagnosticsReminder:
        """Ask again later."""
        ...

    def resolve(self, reminder_id: int) -> DiagnosticsReminder:
        """Serviced."""
        ...

    def status(self, did: str) -> dict[str, Any]:
        """A device's detectors."""
        ...


def diagnostics_of(hub: HubFacade) -> DiagnosticsService | None:
    """The hub's diagnostics service, or ``None`` (the routes are left out then)."""
    service: DiagnosticsService | None = getattr(hub, "diagnostics", None)
    return service
