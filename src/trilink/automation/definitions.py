"""Typed, frozen definitions of automations, their triggers, conditions and actions, and scenes.

These are what :mod:`trilink.automation.parse` makes of a person's YAML once every name
is resolved against the registry and every value is checked against the device's spec.
They hold no runtime state; the engine keeps that beside them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

from trilink.automation.durations import format_duration
from trilink.automation.errors import DefinitionError
from trilink.automation.geo import Zone

RunMode = Literal["single", "restart", "queued", "parallel"]
SunEventName = Literal["sunrise", "sunset"]
RUN_MODES: tuple[str, ...] = ("single", "restart", "queued", "parallel")

#: How many runs ``queued`` and ``parallel`` allow unless told otherwise.
DEFAULT_MAX_RUNS = 10

#: The zone every home has: its own location.
HOME_ZONE = "home"
HOME_ZONE_RADIUS_M = 150.0


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return _num(value)
    return str(value)


def _range_text(above: float | None, below: float | None) -> str:
    parts = []
    if above is not None:
        parts.append(f"above {_num(above)}")
    if below is not None:
        parts.append(f"below {_num(below)}")
    return " and ".join(parts)


def _for_text(seconds: float | None) -> str:
    return f" for {format_duration(seconds)}" if seconds else ""


# --------------------------------------------------------------------- addresses
@dataclass(frozen=True, slots=True)
class PropertyRef:
    """A device property, resolved to its did and iids."""

    did: str
    siid: int
    piid: int

    @property
    def key(self) -> tuple[str, int, int]:
        """The index key of the property."""
        return (self.did, self.siid, self.piid)

    def __str__(self) -> str:
        return f"{self.did} {self.siid}.{self.piid}"


@dataclass(frozen=True, slots=True)
class EventRef:
    """A device event, resolved to its did and iids."""

    did: str
    siid: int
    eiid: int

    @property
    def key(self) -> tuple[str, int, int]:
        """The index key of the event."""
        return (self.did, self.siid, self.eiid)

    def __str__(self) -> str:
        return f"{self.did} {self.siid}.{self.eiid}"


@dataclass(frozen=True, slots=True)
class Subject:
    """Whose position a trigger or condition follows: a person (their phone) or a device."""

    id: str
    did: str
    person_id: str | None = None

    def __str__(self) -> str:
        return self.id


@dataclass(frozen=True, slots=True)
class DeviceSelector:
    """Many devices at once: every device of a kind (spec device type) and/or in a room."""

    kind: str | None
    room_id: str | None

    def __str__(self) -> str:
        parts = []
        if self.kind:
            parts.append(f"kind {self.kind}")
        if self.room_id:
            parts.append(f"room {self.room_id}")
        return "every device of " + " in ".join(parts)


# ---------------------------------------------------------------------- triggers
@dataclass(frozen=True, slots=True)
class PropertyTrigger:
    """A property changed to a matching value (``above``/``below``: crossed into the range)."""

    type: ClassVar[str] = "property"
    ref: PropertyRef
    from_: Any = None
    to: Any = None
    above: float | None = None
    below: float | None = None
    for_: float | None = None

    def describe(self) -> str:
        """A short sentence for traces."""
        parts = [f"property {self.ref}"]
        if self.from_ is not None:
            parts.append(f"from {_text(self.from_)}")
        if self.to is not None:
            parts.append(f"to {_text(self.to)}")
        if self.above is not None or self.below is not None:
            parts.append(_range_text(self.above, self.below))
        return " ".join(parts) + _for_text(self.for_)


@dataclass(frozen=True, slots=True)
class EventTrigger:
    """A device raised an event."""

    type: ClassVar[str] = "event"
    ref: EventRef
    name: str = ""

    def describe(self) -> str:
        """A short sentence for traces."""
        return f"event {self.ref}" + (f" ({self.name})" if self.name else "")


@dataclass(frozen=True, slots=True)
class AvailabilityTrigger:
    """A device came online or went offline."""

    type: ClassVar[str] = "availability"
    did: str
    online: bool
    for_: float | None = None

    def describe(self) -> str:
        """A short sentence for traces."""
        return f"{self.did} {'online' if self.online else 'offline'}" + _for_text(self.for_)


@dataclass(frozen=True, slots=True)
class TimeTrigger:
    """At a local time of day, optionally on some weekdays only (0 = Monday)."""

    type: ClassVar[str] = "time"
    at: tuple[int, int, int]
    weekdays: frozenset[int] = frozenset(range(7))

    def describe(self) -> str:
        """A short sentence for traces."""
        h, m, s = self.at
        return f"time {h:02d}:{m:02d}" + (f":{s:02d}" if s else "")


@dataclass(frozen=True, slots=True)
class SunTrigger:
    """At sunrise or sunset at the home's location, shifted by ``offset`` seconds."""

    type: ClassVar[str] = "sun"
    event: SunEventName
    offset: float = 0.0

    def describe(self) -> str:
        """A short sentence for traces."""
        if not self.offset:
            return self.event
        return f"{self.event} {'+' if self.offset > 0 else '-'}{format_duration(abs(self.offset))}"


@dataclass(frozen=True, slots=True)
class ZoneTrigger:
    """A subject's position crossed a zone's edge."""

    type: ClassVar[str] = "zone"
    who: Subject
    zone: str
    event: Literal["enter", "leave"]

    def describe(self) -> str:
        """A short sentence for traces."""
        return f"{self.who} {'entered' if self.event == 'enter' else 'left'} zone {self.zone}"


@dataclass(frozen=True, slots=True)
class ProximityTrigger:
    """A subject came within ``within`` metres of a zone's centre, moving in ``direction``."""

    type: ClassVar[str] = "proximity"
    who: Subject
    zone: str
    within: float
    direction: Literal["towards", "away", "any"] = "any"

    def describe(self) -> str:
        """A short sentence for traces."""
        moving = "" if self.direction == "any" else f" moving {self.direction}"
        return f"{self.who} within {_num(self.within)} m of {self.zone}{moving}"


@dataclass(frozen=True, slots=True)
class PresenceTrigger:
    """A person (or everyone, or anyone) came home or left."""

    type: ClassVar[str] = "presence"
    person: str  # a person id, "everyone" or "anyone"
    to: Literal["home", "away"]
    for_: float | None = None

    def describe(self) -> str:
        """A short sentence for traces."""
        return f"presence {self.person} {self.to}" + _for_text(self.for_)


@dataclass(frozen=True, slots=True)
class WebhookTrigger:
    """A webhook with this id was called."""

    type: ClassVar[str] = "webhook"
    hook_id: str

    def describe(self) -> str:
        """A short sentence for traces (the id is a secret, so it is not shown)."""
        return "webhook"


@dataclass(frozen=True, slots=True)
class HubStartTrigger:
    """The hub has started."""

    type: ClassVar[str] = "hub_start"

    def describe(self) -> str:
        """A short sentence for traces."""
        return "hub started"


Trigger = (
    PropertyTrigger
    | EventTrigger
    | AvailabilityTrigger
    | TimeTrigger
    | SunTrigger
    | ZoneTrigger
    | ProximityTrigger
    | PresenceTrigger
    | WebhookTrigger
    | HubStartTrigger
)


# -------------------------------------------------------------------- conditions
@dataclass(frozen=True, slots=True)
class StateCondition:
    """A property has one of some values (optionally for at least ``for_`` seconds)."""

    type: ClassVar[str] = "state"
    ref: PropertyRef
    values: tuple[Any, ...]
    for_: float | None = None

    def describe(self) -> str:
        """A short sentence for traces."""
        shown = (
            _text(self.values[0]) if len(self.values) == 1 else "[" + ", ".join(map(_text, self.values)) + "]"
        )
        verb = "is" if len(self.values) == 1 else "in"
        return f"state {self.ref} {verb} {shown}" + _for_text(self.for_)


@dataclass(frozen=True, slots=True)
class NumericCondition:
    """A numeric property is above and/or below limits."""

    type: ClassVar[str] = "numeric"
    ref: PropertyRef
    above: float | None = None
    below: float | None = None

    def describe(self) -> str:
        """A short sentence for traces."""
        return f"numeric {self.ref} {_range_text(self.above, self.below)}"


@dataclass(frozen=True, slots=True)
class TimeCondition:
    """The local time is in a window (which may cross midnight), on some weekdays."""

    type: ClassVar[str] = "time"
    after: tuple[int, int, int] | None = None
    before: tuple[int, int, int] | None = None
    weekdays: frozenset[int] = frozenset(range(7))

    def describe(self) -> str:
        """A short sentence for traces."""
        parts = ["time"]
        if self.after is not None:
            parts.append(f"after {self.after[0]:02d}:{self.after[1]:02d}")
        if self.before is not None:
            parts.append(f"before {self.before[0]:02d}:{self.before[1]:02d}")
        if len(self.weekdays) < 7:
            names = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
            parts.append("on " + ",".join(names[d] for d in sorted(self.weekdays)))
        return " ".join(parts)


@dataclass(frozen=True, slots=True)
class SunCondition:
    """The time is after and/or before a sun event (each with an offset in seconds)."""

    type: ClassVar[str] = "sun"
    after: tuple[SunEventName, float] | None = None
    before: tuple[SunEventName, float] | None = None

    def describe(self) -> str:
        """A short sentence for traces."""
        parts = ["sun"]
        for word, edge in (("after", self.after), ("before", self.before)):
            if edge is not None:
                shift = f" {'+' if edge[1] > 0 else '-'}{format_duration(abs(edge[1]))}" if edge[1] else ""
                parts.append(f"{word} {edge[0]}{shift}")
        return " ".join(parts)


@dataclass(frozen=True, slots=True)
class PresenceCondition:
    """A person (or everyone, or anyone) is home or away."""

    type: ClassVar[str] = "presence"
    person: str
    is_: Literal["home", "away"]

    def describe(self) -> str:
        """A short sentence for traces."""
        return f"presence {self.person} is {self.is_}"


@dataclass(frozen=True, slots=True)
class ZoneCondition:
    """A subject is inside a zone."""

    type: ClassVar[str] = "zone"
    who: Subject
    zone: str

    def describe(self) -> str:
        """A short sentence for traces."""
        return f"zone {self.who} in {self.zone}"


@dataclass(frozen=True, slots=True)
class OnlineCondition:
    """A device is online (or offline)."""

    type: ClassVar[str] = "online"
    did: str
    online: bool = True

    def describe(self) -> str:
        """A short sentence for traces."""
        return f"online {self.did} is {_text(self.online)}"


@dataclass(frozen=True, slots=True)
class WaitedCondition:
    """The run's last ``wait`` completed (its trigger came) or timed out."""

    type: ClassVar[str] = "waited"
    completed: bool

    def describe(self) -> str:
        """A short sentence for traces."""
        return f"waited completed is {_text(self.completed)}"


@dataclass(frozen=True, slots=True)
class AndCondition:
    """Every inner condition holds."""

    type: ClassVar[str] = "and"
    conditions: tuple[Condition, ...]

    def describe(self) -> str:
        """A short sentence for traces."""
        return "and (" + "; ".join(c.describe() for c in self.conditions) + ")"


@dataclass(frozen=True, slots=True)
class OrCondition:
    """At least one inner condition holds."""

    type: ClassVar[str] = "or"
    conditions: tuple[Condition, ...]

    def describe(self) -> str:
        """A short sentence for traces."""
        return "or (" + "; ".join(c.describe() for c in self.conditions) + ")"


@dataclass(frozen=True, slots=True)
class NotCondition:
    """None of the inner conditions holds."""

    type: ClassVar[str] = "not"
    conditions: tuple[Condition, ...]

    def describe(self) -> str:
        """A short sentence for traces."""
        return "not (" + "; ".join(c.describe() for c in self.conditions) + ")"


Condition = (
    StateCondition
    | NumericCondition
    | TimeCondition
    | SunCondition
    | PresenceCondition
    | ZoneCondition
    | OnlineCondition
    | WaitedCondition
    | AndCondition
    | OrCondition
    | NotCondition
)


# ----------------------------------------------------------------------- actions
@dataclass(frozen=True, slots=True)
class SetTarget:
    """One resolved, validated write."""

    did: str
    siid: int
    piid: int
    value: Any


@dataclass(frozen=True, slots=True)
class CallTarget:
    """One resolved, validated action call."""

    did: str
    siid: int
    aiid: int
    args: tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class SetAction:
    """Write a property of one device, or of every device a selector matches.

    ``targets`` were resolved at load time; a selector is resolved again when the action
    runs, so devices added since are included.
    """

    type: ClassVar[str] = "set"
    device: str | DeviceSelector
    property: str
    value: Any
    targets: tuple[SetTarget, ...]
    continue_on_error: bool = True

    def describe(self) -> str:
        """A short sentence for traces."""
        return f"set {self.device} {self.property} to {_text(self.value)}"


@dataclass(frozen=True, slots=True)
class CallAction:
    """Call an action of one device, or of every device a selector matches."""

    type: ClassVar[str] = "call"
    device: str | DeviceSelector
    action: str
    args: tuple[Any, ...]
    targets: tuple[CallTarget, ...]
    continue_on_error: bool = True

    def describe(self) -> str:
        """A short sentence for traces."""
        args = ", ".join(_text(a) for a in self.args)
        return f"call {self.device} {self.action}({args})"


@dataclass(frozen=True, slots=True)
class NotifyAction:
    """Tell a person something: on their phone (if any) and over the API."""

    type: ClassVar[str] = "notify"
    person: str
    title: str
    message: str
    continue_on_error: bool = True

    def describe(self) -> str:
        """A short sentence for traces."""
        return f"notify {self.person}: {self.title}"


@dataclass(frozen=True, slots=True)
class DelayAction:
    """Wait a while (durably: a restart does not lose or repeat it)."""

    type: ClassVar[str] = "delay"
    seconds: float
    continue_on_error: bool = True

    def describe(self) -> str:
        """A short sentence for traces."""
        return f"delay {format_duration(self.seconds)}"


@dataclass(frozen=True, slots=True)
class WaitAction:
    """Wait for a trigger, at most ``timeout`` seconds (durably)."""

    type: ClassVar[str] = "wait"
    trigger: Trigger
    timeout: float | None = None
    continue_on_timeout: bool = True
    continue_on_error: bool = True

    def describe(self) -> str:
        """A short sentence for traces."""
        limit = f" (timeout {format_duration(self.timeout)})" if self.timeout is not None else ""
        return f"wait for {self.trigger.describe()}{limit}"


@dataclass(frozen=True, slots=True)
class SceneAction:
    """Apply a scene."""

    type: ClassVar[str] = "scene"
    scene_id: str
    continue_on_error: bool = True

    def describe(self) -> str:
        """A short sentence for traces."""
        return f"scene {self.scene_id}"


@dataclass(frozen=True, slots=True)
class IfAction:
    """Run ``then`` if every condition holds, else ``else_``."""

    type: ClassVar[str] = "if"
    conditions: tuple[Condition, ...]
    then: tuple[Action, ...]
    else_: tuple[Action, ...] = ()
    continue_on_error: bool = True

    def describe(self) -> str:
        """A short sentence for traces."""
        return "if " + "; ".join(c.describe() for c in self.conditions)


@dataclass(frozen=True, slots=True)
class ChooseOption:
    """One branch of a ``choose``: its conditions and actions."""

    conditions: tuple[Condition, ...]
    actions: tuple[Action, ...]


@dataclass(frozen=True, slots=True)
class ChooseAction:
    """Run the actions of the first option whose conditions all hold, else ``default``."""

    type: ClassVar[str] = "choose"
    options: tuple[ChooseOption, ...]
    default: tuple[Action, ...] = ()
    continue_on_error: bool = True

    def describe(self) -> str:
        """A short sentence for traces."""
        return f"choose among {len(self.options)} option(s)"


@dataclass(frozen=True, slots=True)
class StopAction:
    """End the run here, with a reason."""

    type: ClassVar[str] = "stop"
    reason: str
    continue_on_error: bool = True

    def describe(self) -> str:
        """A short sentence for traces."""
        return f"stop: {self.reason}"


Action = (
    SetAction
    | CallAction
    | NotifyAction
    | DelayAction
    | WaitAction
    | SceneAction
    | IfAction
    | ChooseAction
    | StopAction
)


# ------------------------------------------------------------ whole definitions
@dataclass(frozen=True, slots=True)
class Automation:
    """An automation: when (triggers), if (conditions), do (actions), and how runs overlap."""

    id: str
    name: str
    triggers: tuple[Trigger, ...]
    conditions: tuple[Condition, ...]
    actions: tuple[Action, ...]
    mode: RunMode = "single"
    max_runs: int = DEFAULT_MAX_RUNS
    enabled: bool = True
    description: str = ""
    source: str = "api"
    #: a digest of the definition's data, to tell whether stored runtime state belongs to it
    fingerprint: str = ""


@dataclass(frozen=True, slots=True)
class SceneState:
    """One target state of a scene."""

    did: str
    siid: int
    piid: int
    value: Any

    def describe(self) -> str:
        """A short sentence for results."""
        return f"{self.did} {self.siid}.{self.piid} = {_text(self.value)}"


@dataclass(frozen=True, slots=True)
class Scene:
    """A named set of target states applied together."""

    id: str
    name: str
    states: tuple[SceneState, ...]
    source: str = "api"


@dataclass(frozen=True, slots=True)
class ParsedDocument:
    """What a document held: the accepted definitions and every error, with their plain data."""

    automations: list[Automation] = field(default_factory=list)
    scenes: list[Scene] = field(default_factory=list)
    zones: list[Zone] = field(default_factory=list)
    #: the plain data of each accepted definition by (kind, id), to store as written
    data: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    errors: list[DefinitionError] = field(default_factory=list)
