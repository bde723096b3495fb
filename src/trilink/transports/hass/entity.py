"""What every Home Assistant entity has, whatever its component (pure, no I/O).

An :class:`Entity` is built from one :class:`EntityConfig`. It reads the options it
knows with :class:`Options` (a bad optional value is reported and its default used; a
missing required topic makes the entity invalid), and says three things about itself:

- its piece of the device's spec: the properties and actions of its MIoT service;
- how to read it: per state topic, a function from a received message to
  ``(piid, value)`` pairs, and its availability topics;
- how to command it: a property write or an action call as MQTT publications.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from trilink.transports.hass.abbreviations import KNOWN_KEYS
from trilink.transports.hass.availability import Availability
from trilink.transports.hass.discovery import EntityConfig
from trilink.transports.hass.options import (
    EntityInvalid,
    Options,
    StateMessage,
    no_value,
    to_number,
)
from trilink.transports.hass.template import Template, text

__all__ = [
    "ActionDef",
    "Availability",
    "CommandUnsupported",
    "Entity",
    "EntityInvalid",
    "Options",
    "PropDef",
    "Publish",
    "StateMessage",
    "Values",
    "no_value",
    "render_command",
    "to_number",
]

#: one MQTT publication: topic, payload, QoS, retain
Publish = tuple[str, bytes, int, bool]
#: ``(piid, value)`` pairs read from one message
Values = list[tuple[int, Any]]


class CommandUnsupported(ValueError):
    """The entity has no way to carry out this write or call."""


@dataclass(frozen=True, slots=True)
class PropDef:
    """A property of an entity's service, before it gets its siid."""

    piid: int
    name: str
    format: str
    access: tuple[str, ...]
    description: str = ""
    unit: str | None = None
    value_range: tuple[float, float, float] | None = None
    value_list: tuple[tuple[int, str], ...] | None = None


@dataclass(frozen=True, slots=True)
class ActionDef:
    """An action (without arguments) of an entity's service."""

    aiid: int
    name: str
    description: str = ""


class Entity:
    """Base of every supported component: identity, availability, routes and commands."""

    component: ClassVar[str] = ""
    #: the short name of the MIoT service the component becomes (an instance may refine it)
    service: ClassVar[str] = "entity"

    def __init__(self, ec: EntityConfig, problems: list[tuple[str, str]]) -> None:
        self.config = ec
        where = f"{ec.component} {ec.discovery_id!r}"
        opts = Options(ec.config, problems, where)
        self.unique_id = opts.text("unique_id")
        self.name = opts.text("name")
        self.object_id = opts.text("object_id") or opts.text("default_entity_id")
        qos = opts.number("qos", 0)
        self.qos = int(qos) if qos in (0, 1, 2) else 0
        self.retain = opts.flag("retain", False)
        self.optimistic = opts.flag("optimistic", False)
        device = ec.config.get("device")
        self.device: Mapping[str, Any] = device if isinstance(device, Mapping) else {}
        self.props: list[PropDef] = []
        self.actions: list[ActionDef] = []
        #: piids whose value is the last one commanded (no state topic, or ``optimistic``)
        self.echo: set[int] = set()
        #: state topic -> readers of this entity
        self.routes: dict[str, list[Callable[[StateMessage], Values]]] = {}
        #: aiid -> values to report once the action is published (optimistic actions)
        self.call_echo: dict[int, Values] = {}
        self.availability = Availability(opts)
        #: the short name of the entity's MIoT service
        self.service_name = self.service
        self.setup(opts)
        #: features whose state cannot be read (their template is not supported), with why
        self.unsupported = dict(opts.unsupported)
        unknown = sorted(k for k in ec.config if k not in KNOWN_KEYS)
        if unknown:
            problems.append(("unknown-key", f"{where}: ignored {', '.join(unknown)[:120]}"))

    def setup(self, opts: Options) -> None:
        """Read the component's own options; subclasses fill :attr:`props` and :attr:`routes`."""

    @property
    def sort_key(self) -> str:
        """What orders a device's entities (and so their siids): the unique id if any."""
        return self.unique_id or f"{self.config.component} {self.config.discovery_id}"

    @property
    def label(self) -> str:
        """A human name for the entity's service (no name: the device's, as in Home Assistant)."""
        device_name = self.device.get("name")
        if self.name:
            return self.name
        if isinstance(device_name, str) and device_name:
            return device_name
        return self.object_id or self.config.discovery_id.split(" ")[-1]

    def add_prop(
        self,
        piid: int,
        name: str,
        fmt: str,
        *,
        state: bool,
        command: bool,
        description: str = "",
        unit: str | None = None,
        value_range: tuple[float, float, float] | None = None,
        value_list: tuple[tuple[int, str], ...] | None = None,
        echo: bool = True,
    ) -> None:
        """Add a property read from a state topic and/or written through a command topic.

        A property with a command but no state topic is optimistic, as in Home
        Assistant: readable, its value being the last one commanded (unless not ``echo``:
        then it is write-only, e.g. a cover's open/close/stop).
        """
        if command and not state and not echo:
            acc: tuple[str, ...] = ("write",)
        elif command:
            acc = ("read", "write", "notify")
            if self.optimistic or not state:
                self.echo.add(piid)
        elif state:
            acc = ("read", "notify")
        else:
            return
        self.props.append(PropDef(piid, name, fmt, acc, description, unit, value_range, value_list))

    def on(self, topic: str | None, reader: Callable[[StateMessage], Values]) -> None:
        """Read ``topic`` with ``reader`` (nothing if there is no topic)."""
        if topic is not None:
            self.routes.setdefault(topic, []).append(reader)

    @staticmethod
    def reader(
        piid: int, template: Template | None, convert: Callable[[Any], Any]
    ) -> Callable[[StateMessage], Values]:
        """A state reader: the payload through ``template`` and ``convert`` (``None``: skip)."""

        def read(message: StateMessage) -> Values:
            value = message.read(template)
            if no_value(value):
                return []
            out = convert(value)
            return [] if out is None else [(piid, out)]

        return read

    def publish(self, topic: str, payload: Any) -> Publish:
        """A publication with this entity's QoS and retain flag."""
        data = payload if isinstance(payload, bytes) else text(payload).encode()
        return (topic, data, self.qos, self.retain)

    def command(self, piid: int, value: Any) -> list[Publish]:
        """Publications that write ``value`` to property ``piid``."""
        raise CommandUnsupported(f"{self.config.component} has no command for piid {piid}")

    def call(self, aiid: int) -> list[Publish]:
        """Publications that run action ``aiid``."""
        raise CommandUnsupported(f"{self.config.component} has no action {aiid}")


def render_command(template: Template | None, value: Any, **extra: Any) -> str:
    """A command payload: ``value`` through a command template (``{{ value }}``), or as text."""
    if template is None:
        return text(value)
    return text(template.render({"value": value, **extra}))
