"""The automation engine against a kernel with the simulated world's devices and a manual clock.

Devices answer through an in-test link (writes are reported back, as real devices do);
time moves only when a test advances the ``ManualClock``. Nothing sleeps.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest

from conftest import wait_until
from copilot_world import DEVICES as SIM_DEVICES
from trilink.automation import (
    AutomationEngine,
    MemoryAutomationStore,
    UnknownAutomation,
    UnknownScene,
    builtin_blueprints,
    instantiate,
)
from trilink.automation.presence import location_iids
from trilink.automation.schedule import next_time_of_day
from trilink.automation.sun import next_sun_event
from trilink.clock import ManualClock
from trilink.kernel import Context, Device, Home, Kernel, Outcome, Person, PropertyWritten, Room
from trilink.model import builtin_spec

HOME = (31.2304, 121.4737)
OFFICE = (31.2040, 121.5900)
TZ = "Asia/Shanghai"
T0 = 1_800_000_000.0  # Friday 2027-01-15 16:00 in Shanghai


class Link:
    """Answers commands like the devices would: writes are applied and reported back.

    ``refuse`` and ``silent`` hold dids that refuse commands or never answer.
    """

    name = "test"

    def __init__(self, kernel: Kernel) -> None:
        self.kernel = kernel
        self.sent: list[tuple[Any, ...]] = []
        self.refuse: set[str] = set()
        self.silent: set[str] = set()

    async def send_set(self, did: str, siid: int, piid: int, value: Any) -> Outcome:
        self.sent.append(("set", did, siid, piid, value, self.kernel.clock.now()))
        if did in self.silent:
            await asyncio.Event().wait()
        if did in self.refuse:
            return Outcome(-4005, "not now")
        spec = self.kernel.registry.device(did).spec.properties[(siid, piid)]
        if spec.readable:
            self.kernel.report(did, siid, piid, value)
        return Outcome()

    async def send_call(self, did: str, siid: int, aiid: int, args: list[Any]) -> Outcome:
        self.sent.append(("call", did, siid, aiid, list(args), self.kernel.clock.now()))
        if did in self.silent:
            await asyncio.Event().wait()
        if did in self.refuse:
            return Outcome(-4005, "not now")
        return Outcome()

    def sets(self, did: str | None = None) -> list[tuple[Any, ...]]:
        """The writes sent (to one device)."""
        return [s for s in self.sent if s[0] == "set" and (did is None or s[1] == did)]

    def calls(self, did: str | None = None) -> list[tuple[Any, ...]]:
        """The action calls sent (to one device)."""
        return [s for s in self.sent if s[0] == "call" and (did is None or s[1] == did)]


def make_kernel(clock: ManualClock) -> tuple[Kernel, Link]:
    """A kernel with the simulated world's home, rooms, people and devices, all online."""
    kernel = Kernel(clock)
    kernel.add_home(Home("home", "Home", HOME[0], HOME[1], TZ))
    for room in ("living-room", "bedroom", "kitchen", "hallway"):
        kernel.add_room(Room(room, "home", room.replace("-", " ").capitalize()))
    kernel.add_person(Person("alex", "home", "Alex", phone_did="phone-alex", car_did="car"))
    kernel.add_person(Person("sam", "home", "Sam"))
    for did, model, room, name in SIM_DEVICES:
        owner = "alex" if did in ("car", "phone-alex") else None
        kernel.add_device(Device(did, name, model, builtin_spec(model), "test", "home", room, owner))
        kernel.set_online(did, True)
    link = Link(kernel)
    kernel.attach(link)
    return kernel, link


def move(kernel: Kernel, did: str, lat: float, lon: float) -> None:
    """Report a new position of a device (both coordinates in one report, as devices do)."""
    iids = location_iids(kernel.registry.device(did).spec)
    assert iids is not None
    kernel.report_many(did, [(*iids[0], lat), (*iids[1], lon)])


def between(a: tuple[float, float], b: tuple[float, float], f: float) -> tuple[float, float]:
    """The point a fraction ``f`` of the way from ``a`` to ``b``."""
    return a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f


@dataclass
class World:
    """A kernel, its link, a clock, a store and an engine."""

    clock: ManualClock
    kernel: Kernel
    link: Link
    store: MemoryAutomationStore
    engine: AutomationEngine

    async def load(self, text: str, source: str = "test.yaml") -> list[str]:
        report = self.engine.load_yaml(text, source)
        assert not report.errors, [str(e) for e in report.errors]
        return report.loaded

    async def settle(self) -> None:
        await self.engine.settle()
        for _ in range(5):
            await asyncio.sleep(0)

    async def advance(self, seconds: float, step: float = 1.0) -> None:
        """Move the clock in steps, letting timers and runs catch up at each."""
        left = seconds
        while left > 1e-9:
            d = min(step, left)
            await self.clock.advance(d)
            left -= d
            await self.settle()

    async def runs(self, automation_id: str, n: int = 1, kind: str = "run") -> list[dict[str, Any]]:
        """Wait for ``n`` finished traces of a kind; returns them oldest first."""

        def done() -> list[dict[str, Any]]:
            return [
                t
                for t in reversed(self.engine.traces(automation_id, 50))
                if t["kind"] == kind and t.get("outcome") is not None
            ]

        await wait_until(lambda: len(done()) >= n, what=f"{n} {kind} trace(s) of {automation_id}")
        return done()

    def count(self, automation_id: str, kind: str = "run") -> int:
        return sum(1 for t in self.engine.traces(automation_id, 50) if t["kind"] == kind)


async def make_world(
    clock: ManualClock | None = None, store: MemoryAutomationStore | None = None, start: bool = True
) -> World:
    """A world with an engine (started unless told otherwise)."""
    clock = clock or ManualClock(T0)
    kernel, link = make_kernel(clock)
    # the people's phone is at home unless a test moves it
    move(kernel, "phone-alex", *HOME)
    move(kernel, "car", *HOME)
    store = store or MemoryAutomationStore()
    engine = AutomationEngine(kernel, store)
    if start:
        await engine.start()
    return World(clock, kernel, link, store, engine)


@pytest.fixture
async def world() -> AsyncIterator[World]:
    w = await make_world()
    yield w
    await w.engine.stop()


# --------------------------------------------------------------------- triggers
async def test_property_trigger_to_and_from(world: World) -> None:
    await world.load(
        """
automations:
  - id: lamp-follows-ac
    triggers: [{type: property, device: ac-living, property: 2.1, from: false, to: true}]
    actions: [{set: {device: light-living, property: light.on, value: true}}]
"""
    )
    world.kernel.report("ac-living", 2, 1, True)  # from unknown: no "from false"
    await world.settle()
    assert world.link.sets("light-living") == []
    written: list[PropertyWritten] = []
    world.kernel.bus.subscribe(written.append, PropertyWritten)
    world.kernel.report("ac-living", 2, 1, False)
    world.kernel.report("ac-living", 2, 1, True)
    (trace,) = await world.runs("lamp-follows-ac")
    assert trace["trigger"]["type"] == "property"
    assert trace["trigger"]["values"]["value"] is True and trace["trigger"]["values"]["old_value"] is False
    assert trace["outcome"] == "finished"
    assert [s[1:5] for s in world.link.sets()] == [("light-living", 2, 1, True)]
    # the command carries the automation's context, caused by the device's report
    assert trace["actions"][0]["result"] == "ok"
    (write,) = written
    assert (write.context.actor, write.context.actor_id) == ("automation", "lamp-follows-ac")
    assert write.context.parent_id == "device:ac-living" == trace["trigger"]["context_id"]
    assert write.context.id == trace["context_id"]


async def test_above_fires_on_crossing_only(world: World) -> None:
    await world.load(
        """
automations:
  - id: hot
    mode: parallel
    triggers:
      - type: property
        device: sensor-living
        property: temperature-humidity-sensor.temperature
        above: 26
    actions: [{set: {device: ac-living, property: 2.1, value: true}}]
"""
    )
    for value in (25.0, 26.5, 27.0, 28.0):  # crosses once at 26.5
        world.kernel.report("sensor-living", 2, 1, value)
    await world.runs("hot", 1)
    world.kernel.report("sensor-living", 2, 1, 25.0)
    world.kernel.report("sensor-living", 2, 1, 26.1)  # crosses again
    await world.runs("hot", 2)
    await world.settle()
    assert world.count("hot") == 2
    values = [t["trigger"]["values"]["value"] for t in reversed(world.engine.traces("hot"))]
    assert values == [26.5, 26.1]


async def test_property_for_fires_after_the_duration_and_is_cancelled_by_a_change(world: World) -> None:
    await world.load(
        """
automations:
  - id: door-open-long
    triggers: [{type: property, device: light-hallway, property: 2.1, to: true, for: 10 min}]
    actions: [{set: {device: light-hallway, property: 2.1, value: false}}]
"""
    )
    world.kernel.report("light-hallway", 2, 1, True)
    await world.settle()
    await world.advance(300, step=60)
    world.kernel.report("light-hallway", 2, 1, False)  # back before 10 min: cancelled
    await world.settle()
    await world.advance(600, step=60)
    assert world.count("door-open-long") == 0
    assert world.store.pending == {}
    start = world.clock.now()
    world.kernel.report("light-hallway", 2, 1, True)
    await world.settle()
    assert "for/door-open-long/0" in world.store.pending
    await world.advance(599, step=60)
    assert world.count("door-open-long") == 0
    await world.advance(1)
    (trace,) = await world.runs("door-open-long")
    assert trace["started"] == pytest.approx(start + 600)
    assert world.store.pending == {}


async def test_event_trigger_carries_its_arguments(world: World) -> None:
    await world.load(
        """
automations:
  - id: charged
    triggers: [{type: event, device: Car, event: charging.charging-ended}]
    actions:
      - notify: {person: alex, title: Car, message: "charged: {{ trigger.arguments.session-energy }} kWh"}
"""
    )
    world.kernel.fire_event("car", 3, 1, {1: 3, 5: 12.5})
    (trace,) = await world.runs("charged")
    assert trace["trigger"]["values"]["arguments"] == {"charging-state": 3, "session-energy": 12.5}
    assert world.engine.notifications()[0]["message"] == "charged: 12.5 kWh"
    assert world.link.calls("phone-alex")[0][2:5] == (6, 1, ["Car", "charged: 12.5 kWh"])


async def test_availability_trigger_with_for(world: World) -> None:
    await world.load(
        """
automations:
  - id: fridge-offline
    triggers: [{type: availability, device: plug-kitchen, to: offline, for: 2 min}]
    actions: [{notify: {person: sam, message: The fridge plug is offline}}]
"""
    )
    world.kernel.set_online("plug-kitchen", False)
    await world.settle()
    await world.advance(60, step=10)
    world.kernel.set_online("plug-kitchen", True)  # came back: no alarm
    await world.settle()
    await world.advance(120, step=10)
    assert world.count("fridge-offline") == 0
    world.kernel.set_online("plug-kitchen", False)
    await world.settle()
    await world.advance(120, step=10)
    await world.runs("fridge-offline")
    # Sam has no phone: notified over the API only, and that is not an error
    note = world.engine.notifications()[0]
    assert note["person"] == "sam" and note["phone"] is None and note["title"] == "fridge-offline"
    assert world.engine.traces("fridge-offline")[0]["actions"][0]["result"] == "ok"


async def test_time_trigger_on_weekdays_in_the_home_time_zone(world: World) -> None:
    await world.load(
        """
automations:
  - id: evening
    triggers: [{type: time, at: "18:30", weekdays: [mon, tue, wed, thu, fri]}]
    actions: [{set: {device: light-living, property: 2.1, value: true}}]
"""
    )
    due = next_time_of_day(T0, (18, 30, 0), None, TZ)
    assert due - T0 == 2.5 * 3600  # Friday 16:00 → 18:30 local
    await world.advance(due - T0 - 1, step=600)
    assert world.count("evening") == 0
    await world.advance(1)
    (trace,) = await world.runs("evening")
    assert trace["started"] == due
    # Saturday and Sunday are skipped: the next run is Monday 18:30
    monday = next_time_of_day(due, (18, 30, 0), frozenset(range(5)), TZ)
    assert monday - due == 3 * 86400
    await world.advance(2 * 86400 + 3600, step=3600)
    assert world.count("evening") == 1


async def test_sun_trigger_with_offset(world: World) -> None:
    await world.load(
        """
automations:
  - id: dusk
    triggers: [{type: sun, event: sunset, offset: -30 min}]
    actions: [{set: {device: curtain-living, property: 2.3, value: 0}}]
"""
    )
    due = next_sun_event("sunset", T0, HOME[0], HOME[1], TZ, -1800)
    await world.advance(due - T0 - 0.5, step=300)
    assert world.count("dusk") == 0
    await world.advance(1, step=1)
    (trace,) = await world.runs("dusk")
    assert trace["started"] == pytest.approx(due)
    assert trace["trigger"]["values"] == {"type": "sun", "event": "sunset", "offset": -1800.0, "ts": due}


async def test_zone_enter_and_leave(world: World) -> None:
    await world.load(
        """
zones:
  - {id: work, name: Office, latitude: 31.2040, longitude: 121.5900, radius: 200 m}
automations:
  - id: at-work
    triggers: [{type: zone, who: alex, zone: work, event: enter}]
    actions: [{set: {device: ac-living, property: 2.1, value: false}}]
  - id: left-home
    triggers: [{type: zone, who: car, zone: home, event: leave}]
    actions: [{set: {device: light-living, property: 2.1, value: false}}]
"""
    )
    for f in (0.1, 0.5, 0.9, 1.0):
        point = between(HOME, OFFICE, f)
        move(world.kernel, "car", *point)
        move(world.kernel, "phone-alex", *point)
    await world.runs("left-home")
    (trace,) = await world.runs("at-work")
    assert trace["trigger"]["values"]["zone"] == "work" and trace["trigger"]["values"]["who"] == "alex"
    move(world.kernel, "phone-alex", OFFICE[0] + 0.0001, OFFICE[1])  # still inside: nothing new
    await world.settle()
    assert world.count("at-work") == 1 and world.count("left-home") == 1
    assert [z["id"] for z in world.engine.zones()] == ["home", "work"]


async def test_proximity_fires_once_on_entering_the_radius_moving_towards(world: World) -> None:
    await world.load(
        """
automations:
  - id: approach
    triggers: [{type: proximity, who: car, zone: home, within: 3 km, direction: towards}]
    actions: [{set: {device: ac-living, property: 2.1, value: true}}]
"""
    )
    # parked at home when the automation was loaded: GPS jitter "towards" home is not an arrival
    for lat in (HOME[0] + 0.0004, HOME[0], HOME[0] + 0.0004, HOME[0]):
        move(world.kernel, "car", lat, HOME[1])
        await world.advance(60, step=60)
    assert world.count("approach") == 0
    # driving away from home through the radius: moving away, no fire
    for f in (0.05, 0.15, 0.3, 0.6, 1.0):
        move(world.kernel, "car", *between(HOME, OFFICE, f))
        await world.advance(60, step=60)
    assert world.count("approach") == 0
    # driving back: fires when it comes within 3 km (about 26 % of the way), once
    for f in (0.8, 0.5, 0.3, 0.2, 0.1, 0.05, 0.0):
        move(world.kernel, "car", *between(HOME, OFFICE, f))
        await world.advance(60, step=60)
    (trace,) = await world.runs("approach")
    values = trace["trigger"]["values"]
    assert values["direction"] == "towards" and values["distance_m"] <= 3000 < values["previous_distance_m"]
    # parked at home, GPS jitter: nothing more
    for i in range(10):
        move(world.kernel, "car", HOME[0] + (i % 3) * 0.0002, HOME[1])
        await world.advance(60, step=60)
    assert world.count("approach") == 1


async def test_presence_everyone_away_for_a_while(world: World) -> None:
    await world.load(
        """
automations:
  - id: all-gone
    triggers: [{type: presence, person: everyone, to: away, for: 10 min}]
    actions: [{call: {device: lock-front, action: lock.lock}}]
  - id: alex-home
    triggers: [{type: presence, person: alex, to: home}]
    actions: [{set: {device: light-hallway, property: 2.1, value: true}}]
"""
    )
    move(world.kernel, "phone-alex", *between(HOME, OFFICE, 0.2))
    await world.settle()
    await world.advance(300, step=60)
    move(world.kernel, "phone-alex", *HOME)  # back within 10 min: not "gone"
    await world.runs("alex-home")
    move(world.kernel, "phone-alex", *between(HOME, OFFICE, 0.2))
    await world.settle()
    await world.advance(600, step=60)
    (trace,) = await world.runs("all-gone")
    assert trace["trigger"]["values"]["people"] == {"alex": "away"}
    assert [c[1:4] for c in world.link.calls("lock-front")] == [("lock-front", 2, 1)]


async def test_webhook_and_hub_start() -> None:
    w = await make_world(start=False)
    w.engine.load_yaml(
        """
automations:
  - id: hooked
    triggers: [{type: webhook, id: s3cret-hook-id}]
    actions: [{set: {device: light-kitchen, property: 2.1, value: true}}]
  - id: booted
    triggers: [{type: hub_start}]
    actions: [{set: {device: light-bedroom, property: 2.1, value: false}}]
""",
        "t.yaml",
    )
    await w.engine.start()
    try:
        await w.runs("booted")
        assert w.engine.webhook("s3cret-hook-id", {"from": "test"}) == 1
        assert w.engine.webhook("wrong-hook-id", {}) == 0
        (trace,) = await w.runs("hooked")
        assert trace["trigger"]["values"]["payload"] == {"from": "test"}
    finally:
        await w.engine.stop()


async def test_the_index_only_queues_events_that_concern_a_trigger(world: World) -> None:
    await world.load(
        """
automations:
  - id: one
    triggers: [{type: property, device: sensor-living, property: 2.1, above: 30}]
    actions: [{stop: done}]
"""
    )
    before = world.engine.stats["events_handled"]
    for i in range(50):
        world.kernel.report("sensor-kitchen", 2, 1, 20 + i * 0.1)  # nobody listens
    await world.settle()
    assert world.engine.stats["events_handled"] == before
    # a watched property, but a value that cannot cross 'above 30': dropped by the gate
    world.kernel.report("sensor-living", 2, 1, 20.0)
    await world.settle()
    assert world.engine.stats["events_handled"] == before
    world.kernel.report("sensor-living", 2, 1, 31.0)
    await world.settle()
    assert world.engine.stats["events_handled"] == before + 1
    assert world.engine.stats["index"]["properties"] == 1


# ------------------------------------------------------------------- conditions
async def test_conditions_are_traced_with_their_values_and_why_not_explains(world: World) -> None:
    await world.load(
        """
automations:
  - id: cool
    triggers: [{type: webhook, id: cool-hook-123}]
    conditions:
      - {type: numeric, device: sensor-living, property: 2.1, above: 26}
      - {type: online, device: ac-living}
    actions: [{set: {device: ac-living, property: 2.1, value: true}}]
"""
    )
    assert world.engine.why_not("cool") is None
    world.kernel.report("sensor-living", 2, 1, 24.3)
    world.engine.webhook("cool-hook-123", {})
    (trace,) = await world.runs("cool", kind="not-run")
    assert trace["conditions"][0]["values"] == {"value": 24.3} and trace["conditions"][0]["result"] is False
    why = world.engine.why_not("cool")
    assert why is not None
    assert why["message"] == (
        "did not run at 16:00:00: condition 1 (numeric sensor-living 2.1 above 26) was false: "
        "the value was 24.3"
    )
    assert why["condition"]["index"] == 1 and why["condition"]["values"]["value"] == 24.3
    world.kernel.report("sensor-living", 2, 1, 27.0)
    world.engine.webhook("cool-hook-123", {})
    (run,) = await world.runs("cool")
    assert [c["result"] for c in run["conditions"]] == [True, True]
    assert run["conditions"][1]["values"] == {"online": True}
    with pytest.raises(UnknownAutomation, match="unknown automation 'nope'"):
        world.engine.why_not("nope")


async def test_every_condition_type(world: World) -> None:
    await world.load(
        """
zones:
  - {id: work, latitude: 31.2040, longitude: 121.5900}
automations:
  - id: all
    triggers: [{type: webhook, id: all-conditions}]
    conditions:
      - {type: state, device: ac-living, property: 2.2, in: [1, 2]}
      - {type: state, device: light-living, property: 2.1, is: true, for: 5 min}
      - {type: time, after: "15:00", before: "17:00", weekdays: [fri]}
      - {type: sun, before: sunset, after: sunrise}
      - {type: presence, person: alex, is: home}
      - {type: presence, person: everyone, is: home}
      - {type: zone, who: car, zone: home}
      - {type: not, conditions: [{type: zone, who: alex, zone: work}]}
      - {type: or, conditions: [{type: online, device: vacuum, is: false}, {type: online, device: car}]}
      - {type: and, conditions: [{type: numeric, device: car, property: 2.1, above: 10, below: 90}]}
    actions: [{stop: ok}]
"""
    )
    world.kernel.report("ac-living", 2, 2, 2)
    world.kernel.report("light-living", 2, 1, True)
    world.kernel.report("car", 2, 1, 50.0)
    await world.advance(240, step=60)
    world.engine.webhook("all-conditions", {})
    (trace,) = await world.runs("all", kind="not-run")
    assert trace["failed_condition"]["index"] == 2
    assert "for only 240 s" in trace["reason"]
    await world.advance(60, step=60)
    world.engine.webhook("all-conditions", {})
    (run,) = await world.runs("all")
    assert run["outcome"] == "stopped: ok"
    assert all(c["result"] for c in run["conditions"])
    assert run["conditions"][4]["values"] == {"state": "home"}


async def test_waited_condition_and_wait_with_timeout(world: World) -> None:
    await world.load(
        """
automations:
  - id: door
    triggers: [{type: webhook, id: door-check-hook}]
    actions:
      - wait: {trigger: {type: property, device: light-hallway, property: 2.1, to: true}, timeout: 5 min}
      - if: [{type: waited, completed: false}]
        then: [{call: {device: lock-front, action: "2.1"}}]
        else: [{stop: someone came}]
"""
    )
    world.engine.webhook("door-check-hook", {})
    await world.settle()
    await world.advance(120, step=30)
    world.kernel.report("light-hallway", 2, 1, True)
    (first,) = await world.runs("door")
    assert first["outcome"] == "stopped: someone came"
    assert first["actions"][0]["details"]["completed"] is True
    world.engine.webhook("door-check-hook", {})
    await world.settle()
    await world.advance(300, step=30)
    runs = await world.runs("door", 2)
    assert runs[1]["outcome"] == "finished"
    assert [a["path"] for a in runs[1]["actions"]] == [[0], [1], [1, "then", 0]]
    assert runs[1]["actions"][1]["details"]["branch"] == "then"
    assert len(world.link.calls("lock-front")) == 1


# ---------------------------------------------------------------------- actions
async def test_a_failing_action_is_traced_and_the_run_goes_on(world: World) -> None:
    await world.load(
        """
automations:
  - id: evening
    triggers: [{type: webhook, id: evening-hook}]
    actions:
      - set: {device: light-living, property: 2.1, value: true}
      - set: {device: curtain-living, property: 2.3, value: 0}
      - call: {device: vacuum, action: vacuum.start-sweep}
      - set: {device: light-kitchen, property: 2.1, value: true}
"""
    )
    world.kernel.set_online("curtain-living", False)
    world.link.refuse.add("vacuum")
    world.engine.webhook("evening-hook", {})
    (trace,) = await world.runs("evening")
    results = [a["result"] for a in trace["actions"]]
    assert results == ["ok", "error", "error", "ok"]
    assert "offline" in trace["actions"][1]["error"]
    assert "device refused (-4005)" in trace["actions"][2]["error"]
    assert trace["outcome"] == "finished"
    assert world.kernel.state.get("light-kitchen", 2, 1)[0] is True  # type: ignore[index]
    assert world.engine.stats["failed_actions"] == 2


async def test_continue_on_error_false_stops_the_run(world: World) -> None:
    await world.load(
        """
automations:
  - id: strict
    triggers: [{type: webhook, id: strict-hook}]
    actions:
      - set: {device: curtain-living, property: 2.3, value: 0}
        continue_on_error: false
      - set: {device: light-kitchen, property: 2.1, value: true}
"""
    )
    world.kernel.set_online("curtain-living", False)
    world.engine.webhook("strict-hook", {})
    (trace,) = await world.runs("strict")
    assert trace["outcome"].startswith(
        "failed: set curtain-living 2.3 to 0: curtain-living: the device is offline;"
    )
    assert len(trace["actions"]) == 1 and world.link.sets("light-kitchen") == []


async def test_a_command_timeout_is_an_action_error(world: World) -> None:
    world.kernel.command_timeout = 0.01  # the router's own timeout (wall time, not schedule logic)
    await world.load(
        """
automations:
  - id: slow
    triggers: [{type: webhook, id: slow-hook-1}]
    actions:
      - set: {device: light-living, property: 2.1, value: true}
      - set: {device: light-kitchen, property: 2.1, value: true}
"""
    )
    world.link.silent.add("light-living")
    world.engine.webhook("slow-hook-1", {})
    (trace,) = await world.runs("slow")
    assert "no answer" in trace["actions"][0]["error"] and trace["actions"][1]["result"] == "ok"


async def test_set_many_devices_choose_delay_and_scene(world: World) -> None:
    await world.load(
        """
scenes:
  - id: evening
    name: Evening
    states:
      - {device: light-living, property: 2.1, value: true}
      - {device: light-living, property: light.brightness, value: 60}
      - {device: curtain-living, property: 2.3, value: 0}
automations:
  - id: night
    triggers: [{type: webhook, id: night-hook-1}]
    actions:
      - set: {devices: {kind: light}, property: light.on, value: false}
      - delay: 90 s
      - choose:
          - conditions: [{type: presence, person: alex, is: away}]
            actions: [{stop: nobody home}]
          - conditions: [{type: presence, person: alex, is: home}]
            actions: [{scene: evening}]
        default: [{stop: unknown}]
      - set: {devices: {room: bedroom}, property: light.brightness, value: 10}
"""
    )
    world.engine.webhook("night-hook-1", {})
    await world.settle()
    assert sorted(s[1] for s in world.link.sets()) == [
        "light-bedroom",
        "light-hallway",
        "light-kitchen",
        "light-living",
    ]
    await world.advance(89, step=30)
    assert len(world.link.sets()) == 4
    await world.advance(1)
    (trace,) = await world.runs("night")
    assert trace["outcome"] == "finished"
    assert trace["actions"][2]["details"]["chosen"] == 1
    assert [a["path"] for a in trace["actions"]] == [[0], [1], [2], [2, "choose", 1, 0], [3]]
    assert world.kernel.state.get("curtain-living", 2, 3)[0] == 0  # type: ignore[index]
    assert world.kernel.state.get("light-bedroom", 2, 2)[0] == 10  # type: ignore[index]
    assert world.link.sets("ac-bedroom") == []  # in the bedroom, but has no light.brightness


async def test_scenes_apply_concurrently_with_results_per_state(world: World) -> None:
    await world.load(
        """
scenes:
  - id: away
    states:
      - {device: light-living, property: 2.1, value: false}
      - {device: ac-living, property: 2.1, value: false}
"""
    )
    world.kernel.set_online("ac-living", False)
    results = await world.engine.apply_scene("away", Context.new("api", "test"))
    assert [r["ok"] for r in results] == [True, False]
    assert results[1]["code"] == "device-offline"
    assert world.engine.scenes()[0]["states"][0] == {
        "device": "light-living",
        "property": "2.1",
        "value": False,
    }
    with pytest.raises(UnknownScene):
        await world.engine.apply_scene("nope", Context.new("api", "test"))


async def test_manual_run_skip_conditions_and_the_api(world: World) -> None:
    await world.load(
        """
automations:
  - id: manual
    name: Manual
    triggers: [{type: webhook, id: manual-hook}]
    conditions: [{type: online, device: vacuum, is: false}]
    actions: [{call: {device: vacuum, action: "2.1"}}]
""",
        "manual.yaml",
    )
    ctx = Context.new("person", "alex")
    await world.engine.run("manual", ctx)
    await world.runs("manual", kind="not-run")
    run_id = await world.engine.run("manual", ctx, skip_conditions=True)
    (trace,) = await world.runs("manual")
    assert trace["run_id"] == run_id and trace["trigger"]["type"] == "manual"
    info = world.engine.automations()[0]
    assert (info.id, info.name, info.mode, info.source, info.enabled) == (
        "manual",
        "Manual",
        "single",
        "manual.yaml",
        True,
    )
    assert info.last_result == "finished" and info.last_triggered == T0
    assert world.engine.definition("manual")["name"] == "Manual"
    world.engine.set_enabled("manual", False)
    assert world.store.documents[("automation", "manual")].data["enabled"] is False
    assert world.engine.webhook("manual-hook", {}) == 0
    world.engine.set_enabled("manual", True)
    assert world.engine.webhook("manual-hook", {}) == 1
    world.engine.remove("manual")
    assert world.engine.automations() == [] and ("automation", "manual") not in world.store.documents
    with pytest.raises(UnknownAutomation):
        world.engine.remove("manual")


# ------------------------------------------------------------------- blueprints
async def test_the_builtin_blueprints_load_and_fire(world: World) -> None:
    blueprints = builtin_blueprints()
    assert sorted(blueprints) == [
        "alarm-morning",
        "arrive-home-cool",
        "charging-done",
        "door-check-night",
        "everyone-left",
    ]
    for blueprint_id, blueprint in blueprints.items():
        report = world.engine.load_data(instantiate(blueprint, blueprint_id, {}), "api")
        assert report.loaded == [blueprint_id], [str(e) for e in report.errors]
    k = world.kernel

    # charging-done: the car's charging-ended event
    k.fire_event("car", 3, 1, {1: 3, 5: 20.0})
    await world.runs("charging-done")
    assert world.engine.notifications()[0]["title"] == "Charging finished"

    # alarm-morning: the phone's alarm rings on a workday (Friday)
    k.fire_event("phone-alex", 4, 1, {1: "2027-01-15T16:00:00+08:00"})
    await world.runs("alarm-morning")
    assert k.state.get("curtain-bedroom", 2, 3)[0] == 100  # type: ignore[index]
    assert k.state.get("light-bedroom", 2, 2)[0] == 40  # type: ignore[index]

    # arrive-home-cool: the car approaches while the living room is warm
    k.report("sensor-living", 2, 1, 28.0)
    for f in (1.0, 0.6, 0.3, 0.2):
        move(k, "car", *between(HOME, OFFICE, f))
        await world.advance(60, step=60)
    await world.runs("arrive-home-cool")
    assert k.state.get("ac-living", 2, 3)[0] == 24  # type: ignore[index]
    assert k.state.get("ac-living", 2, 1)[0] is True  # type: ignore[index]

    # door-check-night: 23:00 with the door unlocked; nobody locks it within 5 min
    k.report("lock-front", 2, 1, False)
    due = next_time_of_day(k.clock.now(), (23, 0, 0), None, TZ)
    await world.advance(due - k.clock.now(), step=1800)
    await world.settle()
    await world.advance(300, step=60)
    (trace,) = await world.runs("door-check-night")
    assert trace["outcome"] == "finished" and len(world.link.calls("lock-front")) == 1

    # everyone-left: Alex leaves and stays away 10 minutes
    move(k, "phone-alex", *OFFICE)
    await world.settle()
    await world.advance(600, step=60)
    await world.runs("everyone-left")
    assert len(world.link.calls("lock-front")) == 2 and len(world.link.calls("vacuum")) == 1
    assert all(k.state.get(d, 2, 1)[0] is False for d in ("light-living", "light-kitchen"))  # type: ignore[index]


# ------------------------------------------------------------- the matching gate
async def test_a_pending_for_still_sees_the_change_that_ends_it(world: World) -> None:
    """An ``above`` trigger's gate drops values that cannot cross; while its ``for`` is
    pending every change must reach it, or a drop below the limit would go unseen."""
    await world.load(
        """
automations:
  - id: hot-for
    triggers: [{type: property, device: sensor-living, property: 2.1, above: 28, for: 10 min}]
    actions: [{stop: hot}]
"""
    )
    gates = world.engine.index.gates()
    assert gates[("sensor-living", 2, 1)] == (28, float("inf"))
    world.kernel.report("sensor-living", 2, 1, 29.0)
    await world.settle()
    assert gates[("sensor-living", 2, 1)] is True  # pending: everything is looked at
    await world.advance(300, step=60)
    world.kernel.report("sensor-living", 2, 1, 25.0)  # below again: the 'for' ends
    await world.settle()
    assert gates[("sensor-living", 2, 1)] == (28, float("inf"))
    await world.advance(900, step=60)
    assert world.count("hot-for") == 0
    world.kernel.report("sensor-living", 2, 1, 29.5)
    await world.settle()
    await world.advance(600, step=60)
    assert world.count("hot-for") == 1


async def test_triggers_sharing_a_property_each_fire_on_their_own_range(world: World) -> None:
    await world.load(
        """
automations:
  - id: hot
    triggers: [{type: property, device: sensor-living, property: 2.1, above: 28}]
    actions: [{stop: hot}]
  - id: cold
    triggers: [{type: property, device: sensor-living, property: 2.1, below: 16}]
    actions: [{stop: cold}]
  - id: any-change
    triggers: [{type: property, device: sensor-bedroom, property: 2.1}]
    actions: [{stop: changed}]
"""
    )
    gates = world.engine.index.gates()
    assert gates[("sensor-living", 2, 1)] == (float("-inf"), float("inf"))  # the span of both
    assert gates[("sensor-bedroom", 2, 1)] is True  # no limits: every change matters
    for value in (22.0, 29.0, 22.0, 15.0):
        world.kernel.report("sensor-living", 2, 1, value)
        await world.settle()
    world.kernel.report("sensor-bedroom", 2, 1, 21.5)
    assert len(await world.runs("hot")) == 1
    assert len(await world.runs("cold")) == 1
    assert len(await world.runs("any-change")) == 1


async def test_gates_follow_automations_and_coordinates(world: World) -> None:
    gates = world.engine.index.gates()
    car = location_iids(world.kernel.registry.device("car").spec)
    assert car is not None
    assert gates[("car", *car[0])] is True  # positions are always tracked (zones, presence)
    await world.load(
        """
automations:
  - id: cool
    triggers: [{type: property, device: sensor-living, property: 2.1, above: 26}]
    actions: [{stop: hot}]
"""
    )
    assert ("sensor-living", 2, 1) in gates
    world.engine.remove("cool")
    assert ("sensor-living", 2, 1) not in gates
    assert ("car", *car[0]) in gates
