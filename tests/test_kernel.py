"""The kernel: registry, state, events with contexts, and the command router."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from trilink.clock import ManualClock
from trilink.kernel import (
    ActionInvoked,
    AvailabilityChanged,
    CommandTimeout,
    Context,
    Device,
    DeviceEventFired,
    DeviceOffline,
    DeviceRefused,
    Floor,
    Home,
    Kernel,
    NoTransport,
    Outcome,
    PropertyChanged,
    PropertyWritten,
    RegistryChanged,
    Room,
    UnknownEntity,
    event_to_dict,
)
from trilink.model import InvalidValue, builtin_spec


class EchoLink:
    """A link that answers like a device: applies writes by reporting them back."""

    name = "test"

    def __init__(self, kernel: Kernel) -> None:
        self.kernel = kernel
        self.sent: list[tuple[Any, ...]] = []
        self.mode = "ok"

    async def send_set(self, did: str, siid: int, piid: int, value: Any) -> Outcome:
        self.sent.append(("set", did, siid, piid, value))
        if self.mode == "silent":
            await asyncio.Event().wait()
        if self.mode == "refuse":
            return Outcome(-4003, "nope")
        self.kernel.report(did, siid, piid, value)
        return Outcome()

    async def send_call(self, did: str, siid: int, aiid: int, args: list[Any]) -> Outcome:
        self.sent.append(("call", did, siid, aiid, args))
        return Outcome(out=["done"])


@pytest.fixture
def kernel() -> Kernel:
    k = Kernel(clock=ManualClock())
    k.add_home(Home("home", "Home", 31.23, 121.47))
    k.add_room(Room("living-room", "home", "Living room"))
    k.add_device(
        Device(
            "light1",
            "Lamp",
            "trilink.light.sim1",
            builtin_spec("trilink.light.sim1"),
            "test",
            "home",
            "living-room",
        )
    )
    k.add_device(Device("phone", "Phone", "trilink.phone.sim1", builtin_spec("trilink.phone.sim1"), "test"))
    return k


def collect(kernel: Kernel, *types: type) -> list[Any]:
    seen: list[Any] = []
    kernel.bus.subscribe(seen.append, *types)
    return seen


def test_report_validates_updates_state_and_publishes(kernel: Kernel) -> None:
    events = collect(kernel, PropertyChanged)
    assert kernel.report("light1", 2, 2, 40) is True
    assert kernel.state.get("light1", 2, 2) == (40, kernel.clock.now())
    assert kernel.report("light1", 2, 2, 40) is False  # same value: no event
    assert kernel.report("light1", 2, 2, 41) is True
    assert [(e.value, e.old_value) for e in events] == [(40, None), (41, 40)]
    assert events[0].context.actor == "device" and events[0].context.actor_id == "light1"


def test_a_reading_is_timestamped_when_its_value_last_changed(kernel: Kernel) -> None:
    kernel.report("light1", 2, 2, 40, ts=100.0)
    kernel.report("light1", 2, 2, 40, ts=200.0)  # the same value again: "since 100" stays
    assert kernel.state.get("light1", 2, 2) == (40, 100.0)
    kernel.report("light1", 2, 2, 41, ts=300.0)
    assert kernel.state.get("light1", 2, 2) == (41, 300.0)


def test_bad_report_is_refused_and_changes_nothing(kernel: Kernel) -> None:
    kernel.report("light1", 2, 2, 40)
    with pytest.raises(InvalidValue) as err:
        kernel.report("light1", 2, 2, 101)
    assert err.value.rule == "range"
    assert kernel.state.get("light1", 2, 2)[0] == 40  # type: ignore[index]
    with pytest.raises(InvalidValue, match="unknown-property"):
        kernel.report("light1", 7, 7, 1)
    with pytest.raises(UnknownEntity):
        kernel.report("nope", 2, 1, True)


def test_report_many_keeps_the_good_values(kernel: Kernel) -> None:
    changed, errors = kernel.report_many("light1", [(2, 1, True), (2, 2, 0), (2, 3, 3000)])
    assert changed == 2 and len(errors) == 1 and errors[0].iid == 2
    assert kernel.state.get("light1", 2, 1)[0] is True  # type: ignore[index]


def test_events_and_availability(kernel: Kernel) -> None:
    seen = collect(kernel, DeviceEventFired, AvailabilityChanged)
    assert kernel.set_online("phone", True) and not kernel.set_online("phone", True)
    ev = kernel.fire_event("phone", 4, 1, {1: "2026-11-22T07:00:00+08:00"})
    assert ev.arguments == {1: "2026-11-22T07:00:00+08:00"}
    with pytest.raises(InvalidValue):
        kernel.fire_event("phone", 4, 1, {9: "x"})
    with pytest.raises(InvalidValue):
        kernel.fire_event("phone", 4, 1, {1: 5})
    with pytest.raises(InvalidValue):
        kernel.fire_event("phone", 4, 9, {})
    assert [type(e) for e in seen] == [AvailabilityChanged, DeviceEventFired]
    assert event_to_dict(seen[1])["arguments"] == [{"piid": 1, "value": "2026-11-22T07:00:00+08:00"}]


async def test_set_property_round_trip_links_the_cause(kernel: Kernel) -> None:
    link = EchoLink(kernel)
    kernel.attach(link)
    kernel.set_online("light1", True)
    changes = collect(kernel, PropertyChanged)
    written = collect(kernel, PropertyWritten)
    ctx = Context.new("api", "owner-token")
    outcome = await kernel.set_property("light1", 2, 2, 55.0, ctx)
    assert outcome.ok and link.sent == [("set", "light1", 2, 2, 55)]
    assert changes[-1].value == 55 and changes[-1].context.parent_id == ctx.id
    assert written[-1].ok and written[-1].context is ctx


async def test_invalid_write_is_refused_before_sending(kernel: Kernel) -> None:
    link = EchoLink(kernel)
    kernel.attach(link)
    kernel.set_online("light1", True)
    with pytest.raises(InvalidValue):
        await kernel.set_property("light1", 2, 2, 0, Context.new("api", "t"))
    with pytest.raises(InvalidValue) as err:
        await kernel.set_property("phone", 2, 1, 1.0, Context.new("api", "t"))
    assert err.value.rule == "access"
    assert link.sent == []


async def test_command_failures(kernel: Kernel) -> None:
    ctx = Context.new("api", "t")
    with pytest.raises(NoTransport):
        await kernel.set_property("light1", 2, 1, True, ctx)
    link = EchoLink(kernel)
    kernel.attach(link)
    with pytest.raises(DeviceOffline):
        await kernel.set_property("light1", 2, 1, True, ctx)
    kernel.set_online("light1", True)
    link.mode = "refuse"
    with pytest.raises(DeviceRefused) as refused:
        await kernel.set_property("light1", 2, 1, True, ctx)
    assert refused.value.device_code == -4003
    link.mode = "silent"
    written = collect(kernel, PropertyWritten)
    with pytest.raises(CommandTimeout):
        await kernel.set_property("light1", 2, 1, True, ctx, timeout=0.05)
    assert not written[-1].ok and "no answer" in (written[-1].error or "")
    assert kernel._pending_writes == {}


async def test_call_action(kernel: Kernel) -> None:
    link = EchoLink(kernel)
    kernel.attach(link)
    kernel.set_online("phone", True)
    calls = collect(kernel, ActionInvoked)
    out = await kernel.call_action("phone", 6, 1, ["Hi", "there"], Context.new("automation", "a1"))
    assert out.out == ["done"] and calls[-1].ok and calls[-1].context.actor == "automation"
    with pytest.raises(InvalidValue):
        await kernel.call_action("phone", 6, 1, ["Hi"], Context.new("api", "t"))


def test_registry_changes_are_published(kernel: Kernel) -> None:
    seen = collect(kernel, RegistryChanged)
    kernel.add_room(Room("bedroom", "home", "Bedroom"))
    kernel.move_device("light1", "bedroom")
    kernel.rename_device("light1", "Bed lamp")
    kernel.remove_device("light1")
    assert [(e.entity, e.id, e.removed) for e in seen] == [
        ("room", "bedroom", False),
        ("device", "light1", False),
        ("device", "light1", False),
        ("device", "light1", True),
    ]
    with pytest.raises(UnknownEntity):
        kernel.add_room(Room("x", "nohome", "X"))
    with pytest.raises(UnknownEntity):
        kernel.move_device("phone", "attic")


def test_floors_hold_rooms_of_their_own_home(kernel: Kernel) -> None:
    seen = collect(kernel, RegistryChanged)
    kernel.add_floor(Floor("ground", "home", "Ground floor", ("downstairs",), level=0))
    kernel.add_floor(Floor("first", "home", "First floor", level=1))
    kernel.add_room(Room("kitchen", "home", "Kitchen", floor_id="ground"))
    kernel.add_room(Room("study", "home", "Study", (), "first"))
    assert [f.id for f in kernel.registry.floors_of("home")] == ["ground", "first"]
    assert [r.id for r in kernel.registry.rooms_on("ground")] == ["kitchen"]
    assert kernel.registry.rooms["living-room"].floor_id is None  # rooms need no floor
    assert [(e.entity, e.id, e.removed) for e in seen] == [
        ("floor", "ground", False),
        ("floor", "first", False),
        ("room", "kitchen", False),
        ("room", "study", False),
    ]
    with pytest.raises(UnknownEntity, match="floor 'attic'"):
        kernel.add_room(Room("loft", "home", "Loft", floor_id="attic"))
    with pytest.raises(UnknownEntity, match="home 'nohome'"):
        kernel.add_floor(Floor("x", "nohome", "X"))
    kernel.add_home(Home("cabin", "Cabin"))
    with pytest.raises(ValueError, match="floor 'ground' is in home 'home'"):
        kernel.add_room(Room("porch", "cabin", "Porch", floor_id="ground"))
    with pytest.raises(ValueError, match="rooms of another home"):
        kernel.add_floor(Floor("ground", "cabin", "Ground floor"))
    assert "loft" not in kernel.registry.rooms and "porch" not in kernel.registry.rooms

    # removing a floor keeps its rooms, on no floor
    seen.clear()
    kernel.remove_floor("ground")
    assert "ground" not in kernel.registry.floors
    assert kernel.registry.rooms["kitchen"].floor_id is None
    assert [(e.entity, e.id, e.removed) for e in seen] == [
        ("room", "kitchen", False),
        ("floor", "ground", True),
    ]
    with pytest.raises(UnknownEntity):
        kernel.remove_floor("ground")


def test_adopt_places_devices_and_links_people() -> None:
    k = Kernel(clock=ManualClock())
    car = k.adopt(
        "car",
        model="trilink.car.sim1",
        name="Car",
        spec=builtin_spec("trilink.car.sim1"),
        transport="mqtt",
        owner="alex",
        kind="car",
    )
    k.adopt(
        "phone-alex",
        model="trilink.phone.sim1",
        name="Phone",
        spec=builtin_spec("trilink.phone.sim1"),
        transport="mqtt",
        owner="alex",
        kind="phone",
    )
    lamp = k.adopt(
        "l1",
        model="trilink.light.sim1",
        name="Lamp",
        spec=builtin_spec("trilink.light.sim1"),
        transport="mqtt",
        room="living-room",
    )
    alex = k.registry.people["alex"]
    assert (alex.car_did, alex.phone_did) == ("car", "phone-alex") and car.owner_id == "alex"
    assert lamp.room_id == "living-room" and k.registry.rooms["living-room"].home_id == "home"
    # a user's changes survive a re-announce
    k.rename_device("l1", "Reading lamp")
    k.adopt(
        "l1",
        model="trilink.light.sim1",
        name="Lamp",
        spec=builtin_spec("trilink.light.sim1"),
        transport="mqtt",
        room="bedroom",
    )
    assert (
        k.registry.devices["l1"].name == "Reading lamp" and k.registry.devices["l1"].room_id == "living-room"
    )


def test_a_failing_listener_does_not_stop_the_others(kernel: Kernel) -> None:
    def boom(event: Any) -> None:
        raise RuntimeError("listener bug")

    kernel.bus.subscribe(boom, PropertyChanged)
    seen = collect(kernel, PropertyChanged)
    kernel.report("light1", 2, 1, True)
    assert len(seen) == 1 and kernel.bus.listener_errors == 1
