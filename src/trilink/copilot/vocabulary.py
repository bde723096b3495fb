"""The names a request can use, read from the live registry: devices, rooms, floors, people, scenes.

Engines match text against these (a grammar fills its slot lists from them); the
planner resolves what they matched back to devices. Names and aliases are data from
users and devices: they are matched, never interpreted as instructions.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from trilink.kernel import Kernel
from trilink.model import DeviceSpec

#: a spec's top-level type name → the copilot's device kind (see ``intent.KINDS``)
_KIND_BY_TYPE = {
    "light": "light",
    "air-conditioner": "air-conditioner",
    "curtain": "curtain",
    "window-opener": "curtain",
    "blind": "curtain",
    "lock": "lock",
    "vacuum": "vacuum",
    "outlet": "plug",
    "switch": "plug",
    "plug": "plug",
    "fan": "fan",
    "temperature-humidity-sensor": "sensor",
    "electric-car": "car",
    "car": "car",
    "phone": "phone",
}


def kind_of(spec: DeviceSpec) -> str | None:
    """The copilot's kind for a device spec (``None`` for kinds it does not know)."""
    return _KIND_BY_TYPE.get(spec.name)


@dataclass(frozen=True, slots=True)
class NamedDevice:
    """A device as a request can name it."""

    did: str
    name: str
    aliases: tuple[str, ...]
    room_id: str | None
    kind: str | None
    owner_id: str | None = None


@dataclass(frozen=True, slots=True)
class NamedRoom:
    """A room as a request can name it, and the floor it is on (``None``: none)."""

    id: str
    name: str
    aliases: tuple[str, ...]
    floor_id: str | None = None


@dataclass(frozen=True, slots=True)
class NamedFloor:
    """A floor as a request can name it (``level``: 0 the ground floor, ``None`` unknown)."""

    id: str
    name: str
    aliases: tuple[str, ...] = ()
    level: int | None = None


@dataclass(frozen=True, slots=True)
class NamedPerson:
    """A person as a request can name them."""

    id: str
    name: str
    phone_did: str | None
    car_did: str | None


@dataclass(frozen=True, slots=True)
class NamedScene:
    """A scene as a request can name it, with the writes it makes (``did, siid, piid, value``).

    The writes are what applying the scene does: the planner judges their risk as it
    judges any command's.
    """

    id: str
    name: str
    states: tuple[tuple[str, int, int, Any], ...] = ()


@dataclass(frozen=True, slots=True)
class Vocabulary:
    """Every name of one home, as of when it was read.

    ``scenes`` may be given as bare names too (a scene whose id is its name).
    """

    devices: tuple[NamedDevice, ...]
    rooms: tuple[NamedRoom, ...]
    people: tuple[NamedPerson, ...] = ()
    scenes: tuple[NamedScene, ...] = ()
    zones: tuple[str, ...] = ()
    floors: tuple[NamedFloor, ...] = ()

    def __post_init__(self) -> None:
        scenes: Iterable[NamedScene | str] = self.scenes
        if any(isinstance(s, str) for s in scenes):
            named = tuple(NamedScene(s, s) if isinstance(s, str) else s for s in scenes)
            object.__setattr__(self, "scenes", named)

    @property
    def scene_names(self) -> tuple[str, ...]:
        """The scenes' names."""
        return tuple(s.name for s in self.scenes)

    @classmethod
    def from_kernel(
        cls,
        kernel: Kernel,
        home_id: str = "home",
        scenes: Iterable[NamedScene | str] = (),
        zones: tuple[str, ...] = (),
    ) -> Vocabulary:
        """Read the names of one home from the kernel's registry (scenes and zones are given)."""
        reg = kernel.registry
        devices = tuple(
            NamedDevice(d.did, d.name, d.aliases, d.room_id, kind_of(d.spec), d.owner_id)
            for d in reg.devices.values()
            if d.home_id in (home_id, None)
        )
        rooms = tuple(
            NamedRoom(r.id, r.name, r.aliases, r.floor_id) for r in reg.rooms.values() if r.home_id == home_id
        )
        floors = tuple(NamedFloor(f.id, f.name, f.aliases, f.level) for f in reg.floors_of(home_id))
        people = tuple(
            NamedPerson(p.id, p.name, p.phone_did, p.car_did)
            for p in reg.people.values()
            if p.home_id == home_id
        )
        named = tuple(NamedScene(s, s) if isinstance(s, str) else s for s in scenes)
        return cls(devices, rooms, people, named, zones, floors)
