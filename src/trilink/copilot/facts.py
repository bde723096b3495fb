"""Answers to questions, read from live state: temperatures, locks, what is on, the car.

Each answer is a list of :class:`~trilink.copilot.plan.Fact`; the wording is left to
:mod:`trilink.copilot.answers`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from trilink.automation.geo import distance_m
from trilink.copilot import capabilities as caps
from trilink.copilot.intent import Intent, Target
from trilink.copilot.plan import Fact, Plan
from trilink.copilot.targets import RoomConcept, resolve
from trilink.copilot.vocabulary import NamedDevice, Vocabulary
from trilink.kernel import Kernel

#: query subject → (kinds asked about when none is said, spec property names in order of preference, unit)
_READS: dict[str, tuple[tuple[str, ...], tuple[str, ...], str | None]] = {
    "temperature": (("sensor", "air-conditioner"), ("temperature",), "°C"),
    "humidity": (("sensor", "air-conditioner"), ("relative-humidity",), "%"),
    "locked": (("lock",), ("lock-state", "locked"), None),
    "battery": (("car",), ("state-of-charge", "battery-level"), "%"),
    "range": (("car",), ("range",), "km"),
    "position": (("curtain",), ("current-position", "target-position"), "%"),
}


def _read(kernel: Kernel, did: str, names: tuple[str, ...], service: str | None = None) -> Any:
    spec = kernel.registry.devices[did].spec
    for name in names:
        prop = caps.find_property(spec, name, service=service)
        if prop is not None:
            reading = kernel.state.get(did, prop.siid, prop.iid)
            return None if reading is None else reading[0]
    return None


def _km(a: tuple[float, float], b: tuple[float, float]) -> float:
    return distance_m(a[0], a[1], b[0], b[1]) / 1000


def _position(kernel: Kernel, did: str) -> tuple[float, float] | None:
    lat = _read(kernel, did, ("latitude",), "location")
    lon = _read(kernel, did, ("longitude",), "location")
    if isinstance(lat, int | float) and isinstance(lon, int | float):
        return float(lat), float(lon)
    return None


def _home(kernel: Kernel, home_id: str) -> tuple[float, float] | None:
    home = kernel.registry.homes.get(home_id)
    if home is None or home.latitude is None or home.longitude is None:
        return None
    return home.latitude, home.longitude


def answer_query(
    plan: Plan,
    intent: Intent,
    vocab: Vocabulary,
    kernel: Kernel,
    zones: Mapping[str, tuple[float, float]],
    room: str | None,
    person_id: str | None,
    concept_of: RoomConcept | None,
    home_id: str = "home",
) -> None:
    """Add the facts that answer ``intent`` (a ``query``) to ``plan``."""
    subject = str(intent.values.get("subject", "state"))
    target = intent.target
    if subject == "on":
        _what_is_on(plan, target, vocab, kernel, room, concept_of)
        return
    if subject == "where":
        _where(plan, target, vocab, kernel, zones, person_id, home_id)
        return
    if subject == "reach":
        _reach(plan, intent, vocab, kernel, zones, home_id)
        return
    kinds, names, unit = _READS.get(subject, ((), (), None))
    if subject == "temperature" and target.kinds == ("car",):
        names = ("temperature",)
    if (
        not target.names
        and not target.rooms
        and not target.floors
        and not target.kinds
        and subject in ("temperature", "humidity")
    ):
        target = Target(rooms=("here",) if room else (), everything=room is None)
    resolved = resolve(target, vocab, speaker_room=room, concept_of=concept_of, default_kinds=kinds)
    plan.problems.extend(p for p in resolved.problems if p[0] != "ambiguous")
    devices = resolved.devices
    if subject in ("temperature", "humidity"):
        devices = _one_per_room(devices)
    for device in devices:
        if subject == "state":
            _state(plan, device, kernel)
            continue
        service = "cabin-climate" if device.kind == "car" and subject == "temperature" else None
        value = _read(kernel, device.did, names, service)
        if value is None and service is None and device.kind == "car" and subject == "temperature":
            value = _read(kernel, device.did, names, "cabin-climate")
        plan.facts.append(Fact(device.did, device.name, subject, value, unit))


def _one_per_room(devices: list[NamedDevice]) -> list[NamedDevice]:
    """For room readings: a room's sensor, else its AC (both measure the same air)."""
    best: dict[str | None, NamedDevice] = {}
    for d in devices:
        if d.room_id not in best or (d.kind == "sensor" and best[d.room_id].kind != "sensor"):
            best[d.room_id] = d
    return list(best.values())


def _state(plan: Plan, device: NamedDevice, kernel: Kernel) -> None:
    for subject, names, unit in (
        ("on", ("on",), None),
        ("locked", ("lock-state", "locked"), None),
        ("position", ("current-position",), "%"),
        ("status", ("status", "charging-state"), None),
    ):
        value = _read(kernel, device.did, names)
        if value is not None:
            shown = _describe_choice(kernel, device.did, names, value) if subject == "status" else value
            plan.facts.append(Fact(device.did, device.name, subject, shown, unit))
            return
    plan.facts.append(Fact(device.did, device.name, "state", None))


def _describe_choice(kernel: Kernel, did: str, names: tuple[str, ...], value: Any) -> Any:
    spec = kernel.registry.devices[did].spec
    for name in names:
        prop = caps.find_property(spec, name)
        if prop is not None:
            for choice in prop.value_list or ():
                if choice.value == value:
                    return choice.description
    return value


def _what_is_on(
    plan: Plan,
    target: Target,
    vocab: Vocabulary,
    kernel: Kernel,
    room: str | None,
    concept_of: RoomConcept | None,
) -> None:
    devices = list(vocab.devices)
    if target.rooms or target.floors or target.kinds or target.names:
        devices = resolve(target, vocab, speaker_room=room, concept_of=concept_of).devices
    on = [d for d in devices if d.kind != "phone" and _read(kernel, d.did, ("on",)) is True]
    for d in on:
        plan.facts.append(Fact(d.did, d.name, "on", True))
    if not on:
        plan.facts.append(Fact("", "", "on", False))


def _where(
    plan: Plan,
    target: Target,
    vocab: Vocabulary,
    kernel: Kernel,
    zones: Mapping[str, tuple[float, float]],
    person_id: str | None,
    home_id: str,
) -> None:
    home = _home(kernel, home_id)
    subjects: list[tuple[str, str]] = []  # (did, shown name)
    for said in target.names or ():
        person = next((p for p in vocab.people if p.name.casefold() == said.casefold() or p.id == said), None)
        if person is not None and person.phone_did is not None:
            subjects.append((person.phone_did, person.name))
    if not target.names and not target.kinds and target.everything:
        # "who is home": everyone whose phone says where they are
        subjects += [(p.phone_did, p.name) for p in vocab.people if p.phone_did is not None]
        if not subjects:
            plan.problems.append(("no_people", ""))
            return
    if not subjects and "car" in target.kinds:
        subjects += [(d.did, d.name) for d in vocab.devices if d.kind == "car"][:1]
    for did, shown in subjects:
        pos = _position(kernel, did)
        if pos is None or home is None:
            plan.facts.append(Fact(did, shown, "where", None))
            continue
        km = _km(pos, home)
        place = "home" if km < 0.15 else next((z for z, c in zones.items() if _km(pos, c) < 0.3), None)
        plan.facts.append(Fact(did, shown, "where", {"place": place, "km_from_home": round(km, 1)}))
    if not subjects:
        plan.problems.append(("no_device", ", ".join(target.names) or "?"))


def _reach(
    plan: Plan,
    intent: Intent,
    vocab: Vocabulary,
    kernel: Kernel,
    zones: Mapping[str, tuple[float, float]],
    home_id: str,
) -> None:
    car = next((d for d in vocab.devices if d.kind == "car"), None)
    destination = str(intent.values.get("destination", ""))
    if car is None:
        plan.problems.append(("no_device", "car"))
        return
    place = next(
        (c for z, c in zones.items() if z.casefold() == destination.casefold()),
        None,
    )
    rng = _read(kernel, car.did, ("range",))
    start = _position(kernel, car.did) or _home(kernel, home_id)
    if place is None or start is None:
        plan.problems.append(("no_place", destination))
        plan.facts.append(Fact(car.did, car.name, "range", rng, "km"))
        return
    # roads are longer than the straight line: 1.3 is a common detour factor for cities
    km = _km(start, place) * 1.3
    ok = isinstance(rng, int | float) and rng >= km * 1.1
    plan.facts.append(
        Fact(
            car.did,
            car.name,
            "reach",
            {"destination": destination, "road_km": round(km, 1), "range_km": rng, "ok": ok},
        )
    )
