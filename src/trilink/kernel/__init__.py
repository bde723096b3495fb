"""The kernel: registry, state, event bus and command router. No I/O."""

from trilink.kernel.bus import EventBus
from trilink.kernel.context import SYSTEM, Context
from trilink.kernel.core import DEFAULT_COMMAND_TIMEOUT, DEFAULT_HOME, Kernel
from trilink.kernel.errors import (
    CommandError,
    CommandTimeout,
    DeviceOffline,
    DeviceRefused,
    NoTransport,
)
from trilink.kernel.events import (
    ActionInvoked,
    AvailabilityChanged,
    DeviceEventFired,
    Event,
    PropertyChanged,
    PropertyWritten,
    RegistryChanged,
    event_to_dict,
)
from trilink.kernel.links import DeviceLink, Outcome
from trilink.kernel.registry import Device, Floor, Home, Person, Registry, Room, UnknownEntity
from trilink.kernel.state import StateTable

__all__ = [
    "DEFAULT_COMMAND_TIMEOUT",
    "DEFAULT_HOME",
    "SYSTEM",
    "ActionInvoked",
    "AvailabilityChanged",
    "CommandError",
    "CommandTimeout",
    "Context",
    "Device",
    "DeviceEventFired",
    "DeviceLink",
    "DeviceOffline",
    "DeviceRefused",
    "Event",
    "EventBus",
    "Floor",
    "Home",
    "Kernel",
    "NoTransport",
    "Outcome",
    "Person",
    "PropertyChanged",
    "PropertyWritten",
    "Registry",
    "RegistryChanged",
    "Room",
    "StateTable",
    "UnknownEntity",
    "event_to_dict",
]
