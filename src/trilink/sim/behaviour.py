"""What a simulated device is and does, apart from any network: the functional core.

A :class:`Behaviour` names its properties, actions and events by their short spec names
(``("air-conditioner", "target-temperature")``), never by iid: :class:`SimDevice`
resolves names to ``(siid, piid)`` through the device's built-in spec, so the spec JSON
stays the one place iids are defined.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from trilink.model import DeviceSpec, builtin_spec

#: ``(service name, property name)``, e.g. ``("charging", "charge-limit")``
PropKey = tuple[str, str]


class ActionRefused(Exception):
    """A valid action that the device cannot carry out in its current state."""


@dataclass(frozen=True, slots=True)
class Emitted:
    """An event the device raised: its service and event names and arguments by property name."""

    service: str
    event: str
    arguments: dict[str, Any] = field(default_factory=dict)


class Behaviour:
    """Base of every simulated device's physics and state machine.

    Subclasses set :attr:`model`, return their readable values from :meth:`values`, and
    override :meth:`write`, :meth:`call` and :meth:`step` as they need.
    """

    #: the built-in model id, e.g. ``trilink.light.sim1``
    model: ClassVar[str]
    #: minimum change (in the property's unit) before a changed value is re-reported
    deadbands: ClassVar[Mapping[PropKey, float]] = {}

    def __init__(self) -> None:
        self._events: list[Emitted] = []
        #: heat the device releases into its room (W); negative for an AC that cools
        self.heat_w = 0.0

    @property
    def spec(self) -> DeviceSpec:
        """The device's built-in spec."""
        return builtin_spec(self.model)

    def values(self) -> dict[PropKey, Any]:
        """The current value of every readable property (physical units, unrounded)."""
        raise NotImplementedError

    def write(self, service: str, prop: str, value: Any) -> None:
        """Apply a write that already passed the spec's validation."""
        raise ActionRefused(f"{service}.{prop} cannot be written")

    def call(self, service: str, action: str, args: list[Any]) -> list[Any]:
        """Run an action with validated arguments; return its ``out`` values."""
        raise ActionRefused(f"{service}.{action} is not supported")

    def step(self, now: float, dt: float) -> None:
        """Advance the physics by ``dt`` seconds, ending at epoch time ``now``."""

    def emit(self, service: str, event: str, arguments: dict[str, Any] | None = None) -> None:
        """Raise a spec event; the device publishes it after the current step or command."""
        self._events.append(Emitted(service, event, dict(arguments or {})))

    def pop_events(self) -> list[Emitted]:
        """The events raised since the last call, oldest first."""
        events, self._events = self._events, []
        return events
