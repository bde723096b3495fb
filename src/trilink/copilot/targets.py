"""Which devices a request means: names, aliases, rooms ("here" too), floors and kinds, resolved.

Names are matched exactly (case-insensitively) first, then as a part of a longer name
("the bedroom light" → "Bedroom Light"). A room said in any of the three languages is
matched by its id, name or aliases, or through the room words of
:mod:`trilink.copilot.lexicon` ("客厅" → a room named "Living room"). A floor is matched
by its id, name or aliases (case-insensitively) and stands for the rooms on it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from trilink.copilot.intent import Target
from trilink.copilot.vocabulary import NamedDevice, NamedFloor, NamedRoom, Vocabulary

#: ``concept_of(text)`` → a canonical room concept ("living-room") for a room word, or ``None``
RoomConcept = Callable[[str], str | None]


def _fold(text: str) -> str:
    return " ".join(text.casefold().replace("_", " ").replace("-", " ").split())


@dataclass(slots=True)
class Resolved:
    """The devices a target resolved to, and what went wrong (as codes with details)."""

    devices: list[NamedDevice] = field(default_factory=list)
    #: ``("no_device", said)``, ``("no_room", said)``, ``("no_floor", said)``,
    #: ``("no_speaker_room", "")``, ``("ambiguous", kind)``, ``("nothing", "")``
    problems: list[tuple[str, str]] = field(default_factory=list)


def match_rooms(
    said: str, rooms: Iterable[NamedRoom], concept_of: RoomConcept | None = None
) -> list[NamedRoom]:
    """The rooms ``said`` names: by id, name or alias, else by the room concept of the words."""
    folded = _fold(said)
    rooms = list(rooms)
    exact = [r for r in rooms if folded in {_fold(r.id), _fold(r.name), *(_fold(a) for a in r.aliases)}]
    if exact:
        return exact
    if concept_of is not None:
        concept = concept_of(said)
        if concept is not None:
            by_concept = [
                r
                for r in rooms
                if concept in {concept_of(r.id), concept_of(r.name), *(concept_of(a) for a in r.aliases)}
            ]
            if by_concept:
                return by_concept
    return [r for r in rooms if folded and (folded in _fold(r.name) or _fold(r.name) in folded)]


def match_floors(said: str, floors: Iterable[NamedFloor]) -> list[NamedFloor]:
    """The floors ``said`` names: by id, name or alias, case-insensitively."""
    folded = _fold(said)
    if not folded:
        return []
    return [f for f in floors if folded in {_fold(f.id), _fold(f.name), *(_fold(a) for a in f.aliases)}]


def _floor_rooms(target: Target, vocabulary: Vocabulary, out: Resolved) -> set[str] | None:
    """The ids of the rooms on the target's floors (``None``: the target names no floor)."""
    if not target.floors:
        return None
    room_ids: set[str] = set()
    for said in target.floors:
        found = match_floors(said, vocabulary.floors)
        if not found:
            out.problems.append(("no_floor", said))
        ids = {f.id for f in found}
        room_ids.update(r.id for r in vocabulary.rooms if r.floor_id in ids)
    return room_ids


def match_devices(said: str, devices: Iterable[NamedDevice]) -> list[NamedDevice]:
    """The devices ``said`` names: exactly by name or alias, else as part of a name."""
    folded = _fold(said)
    if not folded:
        return []
    devices = list(devices)
    exact = [d for d in devices if folded in {_fold(d.name), _fold(d.did), *(_fold(a) for a in d.aliases)}]
    if exact:
        return exact
    return [
        d
        for d in devices
        if any(folded in _fold(n) or _fold(n) in folded for n in (d.name, *d.aliases) if len(_fold(n)) >= 2)
    ]


def resolve(
    target: Target,
    vocabulary: Vocabulary,
    *,
    speaker_room: str | None = None,
    concept_of: RoomConcept | None = None,
    default_kinds: tuple[str, ...] = (),
) -> Resolved:
    """Resolve ``target`` to devices of the vocabulary.

    ``default_kinds`` narrow a target that names no kind (an intent that only some kinds
    support, e.g. ``set temperature`` → air conditioners). Floors stand for the rooms on
    them (with rooms too: the rooms said that are on those floors). Without names, rooms
    or floors and not ``everything``, a kind resolves to its devices in the speaker's room
    if there are any, else to the home's only device of that kind; several are
    ``ambiguous``.
    """
    out = Resolved()
    kinds = set(target.kinds or default_kinds)
    candidates = [d for d in vocabulary.devices if not kinds or d.kind in kinds]
    room_ids: set[str] | None = None
    if target.rooms:
        room_ids = set()
        for said in target.rooms:
            if said == "here":
                if speaker_room is None:
                    out.problems.append(("no_speaker_room", ""))
                else:
                    room_ids.add(speaker_room)
                continue
            rooms_found = match_rooms(said, vocabulary.rooms, concept_of)
            if not rooms_found:
                out.problems.append(("no_room", said))
            room_ids.update(r.id for r in rooms_found)
    on_floors = _floor_rooms(target, vocabulary, out)
    if on_floors is not None:
        room_ids = on_floors if room_ids is None else room_ids & on_floors
    if target.names:
        for said in target.names:
            pool = candidates if kinds else list(vocabulary.devices)
            found = match_devices(said, pool)
            if room_ids:
                found = [d for d in found if d.room_id in room_ids] or found
            if not found:
                # "Kitchen" said as a name may be a room ("turn on the kitchen")
                said_rooms = {r.id for r in match_rooms(said, vocabulary.rooms, concept_of)}
                found = [d for d in candidates if d.room_id in said_rooms]
            if not found:
                out.problems.append(("no_device", said))
            for d in found:
                if d not in out.devices:
                    out.devices.append(d)
        return out
    if room_ids is not None:
        out.devices = [d for d in candidates if d.room_id in room_ids]
        if not out.devices and not out.problems:
            out.problems.append(("nothing", ""))
        return out
    if target.everything:
        out.devices = candidates
    elif kinds:
        here = [d for d in candidates if speaker_room is not None and d.room_id == speaker_room]
        if here:
            out.devices = here
        elif len(candidates) == 1:
            out.devices = candidates
        elif candidates:
            out.devices = candidates
            out.problems.append(("ambiguous", ",".join(sorted(kinds))))
    if not out.devices and not out.problems:
        out.problems.append(("nothing", ""))
    return out
