"""The five shipped automation examples, end to end: the hub and the simulated world over a
private Mosquitto, on a simulated clock.

Every test builds a hub and a world on one ``ManualClock`` (the world's routine is off: the
tests drive the car and the phone), waits until the hub has adopted every simulated device,
and loads all five blueprints with their defaults. The world's physics moves only when the
clock moves; after each step of simulated time the test waits (bounded, on real MQTT
delivery) until the world has caught up with the clock and the hub has heard where the car
and the phone are now, so the hub sees the intermediate states as a real hub would.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from conftest import LOOPBACK_ONLY, PrivateMosquitto, wait_until
from trilink.automation.blueprints import builtin_blueprints, instantiate
from trilink.automation.engine import RESUME_GRACE
from trilink.automation.geo import distance_m
from trilink.clock import ManualClock
from trilink.config import ApiConfig, HomeConfig, HubConfig, StoreConfig
from trilink.hub import Hub
from trilink.kernel import ActionInvoked, Context, DeviceEventFired, PropertyWritten
from trilink.sim import World
from trilink.sim.aircon import Mode
from trilink.sim.car import ChargingState
from trilink.sim.home_devices import Curtain, DoorLock, Light, LockMethod, RobotVacuum, VacuumStatus
from trilink.sim.phone import Person, Phone

SHANGHAI = ZoneInfo("Asia/Shanghai")
HOME_AT = (31.2304, 121.4737)
HOME = HomeConfig(id="home", name="Home", latitude=HOME_AT[0], longitude=HOME_AT[1], timezone="Asia/Shanghai")
SHIPPED = ["alarm-morning", "arrive-home-cool", "charging-done", "door-check-night", "everyone-left"]
LIGHTS = ("light-living", "light-bedroom", "light-kitchen", "light-hallway")
#: the phone's latitude and longitude with their deadbands: smaller moves are not reported
PHONE_BANDS = (
    ((2, 1), Phone.deadbands[("location", "latitude")]),
    ((2, 2), Phone.deadbands[("location", "longitude")]),
)
ALEX = Context.new("person", "alex")


def local(day: int, hour: int, minute: int = 0) -> float:
    """Epoch seconds of a local time in July 2026 (the 15th is a Wednesday, the 18th a Saturday)."""
    return datetime(2026, 7, day, hour, minute, tzinfo=SHANGHAI).timestamp()


WEDNESDAY, SATURDAY = 15, 18


@dataclass
class Env:
    """One hub (replaceable: a restart is a new Hub on the same store) and one world."""

    clock: ManualClock
    broker: PrivateMosquitto
    store_path: Path
    world: World
    hub: Hub | None = None
    #: commands and device events seen by every hub of the test, in order
    events: list[Any] = field(default_factory=list)
    world_started: bool = False

    @property
    def h(self) -> Hub:
        assert self.hub is not None, "the hub is stopped"
        return self.hub

    # ------------------------------------------------------------------ hub
    async def start_hub(self) -> Hub:
        config = HubConfig(
            home=HOME, store=StoreConfig(path=self.store_path), api=ApiConfig(port=0), zeroconf=LOOPBACK_ONLY
        )
        hub = Hub(config, mqtt=self.broker.settings, clock=self.clock)
        hub.kernel.bus.subscribe(self.events.append, ActionInvoked, DeviceEventFired, PropertyWritten)
        self.hub = hub
        await hub.start(serve_api=False)
        return hub

    async def stop_hub(self) -> None:
        hub, self.hub = self.hub, None
        if hub is not None:
            await hub.stop()

    async def all_adopted(self) -> None:
        """Every world device adopted and online, with its full report and alex's presence known."""
        hub, world = self.h, self.world

        def ready() -> bool:
            state = hub.kernel.state
            for did, device in world.devices.items():
                if not state.is_online(did) or not set(device.readings()) <= set(state.of(did)):
                    return False
            return hub.automations.presence.state("alex") is not None

        await wait_until(ready, timeout=15, what="every simulated device adopted, online and reported")

    # ----------------------------------------------------------------- time
    def heard(self) -> bool:
        """Whether the hub has the car's and the phone's latest positions (all it can know of them)."""
        state = self.h.kernel.state
        car = self.world.device("car").readings()
        for key in ((4, 1), (4, 2)):
            got = state.get("car", *key)
            if got is None or got[0] != car[key]:
                return False
        phone = self.world.device("phone-alex").readings()
        for key, band in PHONE_BANDS:
            got = state.get("phone-alex", *key)
            # a move of the band or more is reported; less stays unreported
            if got is None or abs(got[0] - phone[key]) >= band - 1e-9:
                return False
        return True

    async def step(self, seconds: float) -> None:
        """One step of simulated time: the world catches up, and the hub hears the result."""
        await self.clock.advance(seconds)
        world, clock = self.world, self.clock
        await wait_until(
            lambda: world.time + world.step > clock.now() + 1e-6, what="the world to catch up with the clock"
        )
        if self.hub is not None:
            await wait_until(self.heard, what="the hub to hear the car and the phone")
            await self.hub.automations.settle()

    async def advance(self, seconds: float, step: float = 30.0) -> None:
        """Advance ``seconds`` of simulated time in steps of at most ``step``."""
        end = self.clock.now() + seconds
        while (left := end - self.clock.now()) > 1e-6:
            await self.step(min(step, left))

    async def advance_until(
        self, predicate: Callable[[], bool], *, step: float, limit: float, what: str
    ) -> None:
        """Advance in steps until ``predicate()`` holds; fail after ``limit`` simulated seconds."""
        end = self.clock.now() + limit
        while not predicate():
            if self.clock.now() >= end:
                raise AssertionError(f"{what} did not happen within {limit:g} simulated seconds")
            await self.step(step)

    async def advance_to(self, ts: float, step: float = 30.0) -> None:
        """Advance to the clock time ``ts``."""
        await self.advance(ts - self.clock.now(), step)

    # ------------------------------------------------------------- looking
    def lock(self) -> DoorLock:
        lock = self.world.behaviour("lock-front")
        assert isinstance(lock, DoorLock)
        return lock

    def light(self, did: str) -> Light:
        light = self.world.behaviour(did)
        assert isinstance(light, Light)
        return light

    def vacuum(self) -> RobotVacuum:
        vacuum = self.world.behaviour("vacuum")
        assert isinstance(vacuum, RobotVacuum)
        return vacuum

    def value(self, did: str, siid: int, piid: int) -> Any:
        """The hub's current value of a property."""
        reading = self.h.kernel.state.get(did, siid, piid)
        return None if reading is None else reading[0]

    def car_distance(self) -> float:
        """How far the hub believes the car is from home, metres."""
        lat, lon = self.value("car", 4, 1), self.value("car", 4, 2)
        return distance_m(lat, lon, *HOME_AT)

    def runs(self, automation_id: str) -> list[dict[str, Any]]:
        """The automation's traces of actual runs (not "did not run"), oldest first."""
        traces = self.h.automations.traces(automation_id, 50)
        return [t for t in reversed(traces) if t["kind"] == "run"]

    async def finished(self, automation_id: str, count: int = 1) -> list[dict[str, Any]]:
        """Wait until the automation has ``count`` run traces (a trace is stored when its run ends)."""
        await wait_until(
            lambda: len(self.runs(automation_id)) >= count, what=f"{count} run(s) of {automation_id}"
        )
        runs = self.runs(automation_id)
        assert len(runs) == count, runs
        return runs

    def invoked(self, did: str, by: str | None = None) -> list[ActionInvoked]:
        """Actions called on ``did`` (by the automation ``by``, if given)."""
        return [
            e
            for e in self.events
            if isinstance(e, ActionInvoked) and e.did == did and (by is None or e.context.actor_id == by)
        ]

    def shown(self, title: str) -> list[DeviceEventFired]:
        """``notification-shown`` events of alex's phone (6.1) with this title."""
        return [
            e
            for e in self.events
            if isinstance(e, DeviceEventFired)
            and (e.did, e.siid, e.eiid) == ("phone-alex", 6, 1)
            and e.arguments.get(1) == title
        ]

    def pending_for(self) -> dict[str, Any] | None:
        """everyone-left's stored ``for`` record, if one is pending."""
        return self.h.automations.store.load_pending().get("for/everyone-left/0")


Prepare = Callable[[World], None]
MakeEnv = Callable[..., Awaitable[Env]]


@pytest.fixture
async def make_env(tmp_path: Path, private_broker: Callable[..., PrivateMosquitto]) -> AsyncIterator[MakeEnv]:
    """Start a private broker, a hub and a world at a local time; all five blueprints loaded."""
    made: list[Env] = []

    async def make(start: float, prepare: Prepare | None = None) -> Env:
        broker = private_broker()
        clock = ManualClock(start)
        world = World(broker.settings, clock, schedule=False)
        env = Env(clock, broker, tmp_path / "hub.db", world)
        made.append(env)
        if prepare is not None:
            prepare(world)
        await env.start_hub()
        await world.start()
        env.world_started = True
        await env.all_adopted()
        blueprints = builtin_blueprints()
        report = env.h.automations.load_data(
            {"automations": [instantiate(bp, bp.id, {}) for bp in blueprints.values()]}, "test"
        )
        assert report.errors == []
        assert sorted(report.loaded) == SHIPPED
        return env

    yield make
    for env in made:
        try:
            if env.world_started:
                await env.world.stop()
        finally:
            await env.stop_hub()


# --- preparing the world before it starts ------------------------------------------------------


def door_open_lights_on(world: World) -> None:
    """The front door unlocked and three lights on."""
    lock = world.behaviour("lock-front")
    assert isinstance(lock, DoorLock)
    lock.locked = False
    for did in ("light-living", "light-kitchen", "light-hallway"):
        light = world.behaviour(did)
        assert isinstance(light, Light)
        light.on = True


async def leave_by_car(env: Env) -> float:
    """Alex unplugs the car and drives to the office; returns the clock time the hub saw them leave."""
    env.world.car.unplug()
    env.world.car.drive_to("office")
    presence = env.h.automations.presence
    await env.advance_until(
        lambda: presence.state("alex") == "away", step=10, limit=300, what="alex leaving home"
    )
    return env.clock.now()


# --- 1. arrive-home-cool --------------------------------------------------------------------------


async def drive_to_office_and_back(env: Env) -> None:
    """To the office (far beyond 3 km) and back until the hub sees the car within 3 km of home."""
    car = env.world.car
    car.unplug()
    car.drive_to("office")
    await env.advance_until(lambda: car.place == "office", step=60, limit=3600, what="arriving at the office")
    assert env.car_distance() > 10_000
    car.drive_to("home")
    await env.advance_until(
        lambda: env.car_distance() <= 3000, step=10, limit=3600, what="coming within 3 km"
    )


async def test_arrive_home_cool_switches_the_ac_on_when_the_car_comes_within_3_km(make_env: MakeEnv) -> None:
    env = await make_env(local(WEDNESDAY, 17))
    ac = env.world.aircon("ac-living")
    assert env.value("sensor-living", 2, 1) > 26  # a hot-humid afternoon: the room is warm
    assert not ac.on and env.value("ac-living", 2, 1) is False

    await drive_to_office_and_back(env)
    warm = env.value("sensor-living", 2, 1)  # the sensor may have reported since the trigger
    await wait_until(
        lambda: ac.on and ac.mode == Mode.COOL and ac.target_temperature == 24,
        what="the living-room AC cooling to 24 °C",
    )
    await wait_until(
        lambda: (
            (env.value("ac-living", 2, 1), env.value("ac-living", 2, 2), env.value("ac-living", 2, 3))
            == (True, 2, 24)
        ),
        what="the hub to hear the AC's new state",
    )
    (trace,) = await env.finished("arrive-home-cool")
    assert trace["outcome"] == "finished"
    trigger = trace["trigger"]
    assert trigger["type"] == "proximity"
    assert trigger["values"]["direction"] == "towards"
    assert 2000 < trigger["values"]["distance_m"] <= 3000  # the first fix within 3 km (10 s steps)
    (condition,) = trace["conditions"]
    assert condition["result"] is True
    assert "sensor-living" in condition["description"] and "above 26" in condition["description"]
    assert condition["values"]["value"] > 26 and abs(condition["values"]["value"] - warm) <= 0.5
    assert [a["result"] for a in trace["actions"]] == ["ok", "ok", "ok"]
    assert [a["type"] for a in trace["actions"]] == ["set", "set", "set"]
    assert env.h.automations.why_not("arrive-home-cool") is None


async def test_arrive_home_cool_does_not_run_when_the_room_is_cool(make_env: MakeEnv) -> None:
    env = await make_env(local(WEDNESDAY, 17))
    env.world.rooms["living-room"].temperature = 22.0  # it warms about 1.5 K on the way
    await env.advance_until(
        lambda: env.value("sensor-living", 2, 1) < 23, step=10, limit=60, what="the hub hearing a cool room"
    )
    await drive_to_office_and_back(env)
    cool = env.value("sensor-living", 2, 1)
    assert cool < 26
    await wait_until(
        lambda: env.h.automations.why_not("arrive-home-cool") is not None, what="a did-not-run trace"
    )
    why = env.h.automations.why_not("arrive-home-cool")
    assert why is not None
    assert why["trigger"]["type"] == "proximity" and why["trigger"]["values"]["distance_m"] <= 3000
    assert why["condition"]["index"] == 1 and why["condition"]["result"] is False
    seen = why["condition"]["values"]["value"]
    assert seen < 26 and abs(seen - cool) <= 0.5  # the sensor may have reported since the trigger
    assert "numeric sensor-living" in why["message"] and "above 26" in why["message"]
    assert why["message"].endswith(f"the value was {seen:g}")
    assert env.runs("arrive-home-cool") == []
    await env.advance(60, step=10)
    assert not env.world.aircon("ac-living").on
    assert [e for e in env.events if isinstance(e, PropertyWritten) and e.did == "ac-living"] == []


# --- 2. alarm-morning ------------------------------------------------------------------------------


def bedroom_curtain_closed(world: World) -> None:
    curtain = world.behaviour("curtain-bedroom")
    assert isinstance(curtain, Curtain)
    curtain.position, curtain.target = 0.0, 0


async def test_alarm_morning_opens_the_curtain_and_dims_the_light_up_on_a_workday(
    make_env: MakeEnv,
) -> None:
    env = await make_env(local(WEDNESDAY, 6, 58), bedroom_curtain_closed)
    curtain, light = env.world.behaviour("curtain-bedroom"), env.light("light-bedroom")
    assert isinstance(curtain, Curtain)
    assert env.world.phone.next_alarm == "2026-07-15T07:00:00+08:00"
    await env.advance_to(local(WEDNESDAY, 7) - 10, step=10)
    assert curtain.target == 0 and not light.on and env.runs("alarm-morning") == []

    await env.step(10)  # 07:00: the alarm rings
    await wait_until(
        lambda: curtain.target == 100 and light.on and light.brightness == 40,
        what="the curtain opening and the light on at 40 %",
    )
    await wait_until(
        lambda: (
            (env.value("curtain-bedroom", 2, 3), env.value("light-bedroom", 2, 1)) == (100, True)
            and env.value("light-bedroom", 2, 2) == 40
        ),
        what="the hub to hear the curtain and the light",
    )
    rang = [
        e for e in env.events if isinstance(e, DeviceEventFired) and e.did == "phone-alex" and e.siid == 4
    ]
    assert [e.ts for e in rang] == [local(WEDNESDAY, 7)]
    (trace,) = await env.finished("alarm-morning")
    assert trace["outcome"] == "finished"
    assert trace["trigger"]["type"] == "event" and trace["trigger"]["values"]["event"] == "4.1"
    assert [c["result"] for c in trace["conditions"]] == [True]
    assert [a["result"] for a in trace["actions"]] == ["ok", "ok", "ok"]
    await env.advance(60, step=10)  # the curtain moves at 4 %/s
    assert curtain.position == 100
    assert len(env.runs("alarm-morning")) == 1


async def test_alarm_morning_does_not_run_on_a_saturday(make_env: MakeEnv) -> None:
    env = await make_env(local(SATURDAY, 7), bedroom_curtain_closed)
    curtain, light = env.world.behaviour("curtain-bedroom"), env.light("light-bedroom")
    assert isinstance(curtain, Curtain)
    # the phone's workday alarm is off at weekends: alex set a one-off alarm for now
    env.world.phone.emit("alarm-clock", "alarm-ringing", {"next-alarm": env.world.phone.next_alarm})
    await env.step(10)
    await wait_until(lambda: env.h.automations.why_not("alarm-morning") is not None, what="a not-run trace")
    why = env.h.automations.why_not("alarm-morning")
    assert why is not None
    assert why["trigger"]["type"] == "event" and why["trigger"]["values"]["device"] == "phone-alex"
    assert why["condition"]["index"] == 1 and why["condition"]["result"] is False
    assert why["condition"]["description"].startswith("time")
    assert "mon" in why["condition"]["description"] and "fri" in why["condition"]["description"]
    assert why["message"].endswith("the time was Sat 07:00:10")
    await env.advance(60, step=10)
    assert env.runs("alarm-morning") == []
    assert curtain.target == 0 and not light.on


# --- 3. everyone-left ------------------------------------------------------------------------------


async def test_everyone_left_locks_switches_off_and_cleans_after_10_minutes(make_env: MakeEnv) -> None:
    env = await make_env(local(WEDNESDAY, 8), door_open_lights_on)
    lock, vacuum = env.lock(), env.vacuum()
    left = await leave_by_car(env)
    pending = env.pending_for()
    assert pending is not None and pending["deadline"] == left + 600

    await env.advance_to(left + 590, step=30)
    assert env.runs("everyone-left") == []
    assert not lock.locked and env.light("light-living").on and vacuum.status != VacuumStatus.SWEEPING

    await env.step(10)
    await wait_until(
        lambda: (
            lock.locked
            and not any(env.light(did).on for did in LIGHTS)
            and vacuum.status == VacuumStatus.SWEEPING
        ),
        what="the door locked, every light off and the vacuum sweeping",
    )
    assert lock.method == LockMethod.HUB
    (trace,) = await env.finished("everyone-left")
    assert trace["outcome"] == "finished"
    assert trace["trigger"]["values"]["ts"] == left + 600
    assert [a["result"] for a in trace["actions"]] == ["ok", "ok", "ok"]
    switched = trace["actions"][1]["details"]["results"]
    assert sorted(r["device"] for r in switched) == sorted(LIGHTS)
    assert [e.ok for e in env.invoked("lock-front", by="everyone-left")] == [True]
    assert [e.ok for e in env.invoked("vacuum", by="everyone-left")] == [True]
    assert env.pending_for() is None
    await env.advance(600, step=60)  # alex is still away: it does not fire again
    assert len(env.runs("everyone-left")) == 1


async def test_everyone_left_does_not_fire_if_alex_is_back_within_10_minutes(make_env: MakeEnv) -> None:
    env = await make_env(local(WEDNESDAY, 8), door_open_lights_on)
    lock, vacuum, world = env.lock(), env.vacuum(), env.world
    presence = env.h.automations.presence
    # the world's person always travels with the car, so alex walks out with the phone alone
    walker = Person("alex")
    world.phone.owner = walker
    walker.at("office")
    await env.advance_until(lambda: presence.state("alex") == "away", step=10, limit=60, what="alex away")
    left = env.clock.now()
    pending = env.pending_for()
    assert pending is not None and pending["deadline"] == left + 600

    await env.advance(240, step=30)
    walker.at("home")
    await env.advance_until(lambda: presence.state("alex") == "home", step=10, limit=60, what="alex back")
    assert env.pending_for() is None
    await env.advance_to(left + 1200, step=60)
    assert env.h.automations.traces("everyone-left") == []
    assert not lock.locked and env.light("light-living").on and vacuum.status != VacuumStatus.SWEEPING
    assert env.invoked("lock-front") == [] and env.invoked("vacuum") == []


# --- 4. charging-done ------------------------------------------------------------------------------

CHARGED_TITLE, CHARGED_MESSAGE = "Charging finished", "The car has stopped charging."


def charging_notifications(env: Env) -> list[dict[str, Any]]:
    return [n for n in env.h.automations.notifications() if n["automation_id"] == "charging-done"]


async def test_charging_done_notifies_when_the_charge_limit_is_reached(make_env: MakeEnv) -> None:
    env = await make_env(local(WEDNESDAY, 19))
    car = env.world.car
    assert env.value("car", 3, 1) == ChargingState.CHARGING  # plugged in at home, charging to 90 %
    assert 62 <= car.state_of_charge < 63
    await env.h.kernel.set_property("car", 3, 3, 64, ALEX)  # charge limit 64 %: about 9 minutes
    assert car.charge_limit == 64
    await env.advance(240, step=60)
    assert env.shown(CHARGED_TITLE) == [] and charging_notifications(env) == []

    await env.advance_until(
        lambda: bool(env.shown(CHARGED_TITLE)), step=60, limit=1200, what="the notification on the phone"
    )
    assert car.charging_state == ChargingState.COMPLETE and abs(car.state_of_charge - 64) < 0.01
    ended = [e for e in env.events if isinstance(e, DeviceEventFired) and (e.did, e.siid) == ("car", 3)]
    assert [e.arguments[1] for e in ended] == [3]  # charging-ended, state complete
    (shown,) = env.shown(CHARGED_TITLE)
    assert shown.arguments == {1: CHARGED_TITLE, 2: CHARGED_MESSAGE}
    assert (env.world.phone.title, env.world.phone.message) == (CHARGED_TITLE, CHARGED_MESSAGE)
    (trace,) = await env.finished("charging-done")  # the phone has answered
    assert trace["trigger"]["type"] == "event" and trace["outcome"] == "finished"
    assert trace["actions"][0]["type"] == "notify" and trace["actions"][0]["result"] == "ok"
    (note,) = charging_notifications(env)
    assert note["person"] == "alex" and note["phone"] == "phone-alex" and note["delivered"] is True
    assert (note["title"], note["message"]) == (CHARGED_TITLE, CHARGED_MESSAGE)
    assert note["run_id"] == trace["run_id"]


async def test_charging_done_notifies_once_when_charging_is_stopped(make_env: MakeEnv) -> None:
    env = await make_env(local(WEDNESDAY, 19))
    car = env.world.car
    await env.h.kernel.call_action("car", 3, 2, [], ALEX)  # stop-charging
    assert car.charging_state == ChargingState.STOPPED
    await wait_until(lambda: bool(env.shown(CHARGED_TITLE)), what="the notification on the phone")
    await wait_until(lambda: env.value("car", 3, 1) == 4, what="the hub to hear the stopped state")
    await env.advance(120, step=30)
    # the report (state 4) and the event (charging-ended) both trigger it; mode single drops
    # the second while the first is notifying: one notification
    assert len(env.shown(CHARGED_TITLE)) == 1
    (note,) = charging_notifications(env)
    assert note["delivered"] is True
    outcomes = sorted(t["outcome"] for t in env.h.automations.traces("charging-done"))
    assert outcomes == ["finished", "skipped: already running (mode single)"]


# --- 5. door-check-night ---------------------------------------------------------------------------

DOOR_TITLE = "Front door unlocked"


def door_unlocked(world: World) -> None:
    lock = world.behaviour("lock-front")
    assert isinstance(lock, DoorLock)
    lock.locked = False


async def test_door_check_night_notifies_and_locks_the_door_nobody_locked(make_env: MakeEnv) -> None:
    env = await make_env(local(WEDNESDAY, 22, 58), door_unlocked)
    lock = env.lock()
    await env.advance_to(local(WEDNESDAY, 23) - 30)
    assert env.shown(DOOR_TITLE) == []
    await env.step(30)  # 23:00
    await wait_until(lambda: bool(env.shown(DOOR_TITLE)), what="the notification on the phone")

    def notes() -> list[dict[str, Any]]:
        return [n for n in env.h.automations.notifications() if n["automation_id"] == "door-check-night"]

    await wait_until(lambda: [n["delivered"] for n in notes()] == [True], what="the phone to answer")
    assert notes()[0]["ts"] == local(WEDNESDAY, 23)

    await env.advance_to(local(WEDNESDAY, 23, 5) - 10, step=30)
    assert not lock.locked and env.invoked("lock-front") == []
    await env.step(10)  # 23:05: nobody locked it
    await wait_until(lambda: lock.locked, what="the automation to lock the door")
    assert lock.method == LockMethod.HUB
    (trace,) = await env.finished("door-check-night")
    assert trace["outcome"] == "finished"
    assert trace["trigger"]["type"] == "time" and trace["started"] == local(WEDNESDAY, 23)
    assert trace["conditions"][0]["result"] is True and trace["conditions"][0]["values"] == {"value": False}
    notify, wait, branch, call = trace["actions"]
    assert notify["type"] == "notify" and notify["result"] == "ok"
    assert wait["type"] == "wait" and wait["details"]["completed"] is False
    assert wait["ended"] == local(WEDNESDAY, 23, 5)
    assert branch["details"]["branch"] == "then"
    assert call["type"] == "call" and call["result"] == "ok" and call["path"] == [2, "then", 0]
    assert [e.ok for e in env.invoked("lock-front", by="door-check-night")] == [True]


async def test_door_check_night_does_not_lock_a_door_someone_locked(make_env: MakeEnv) -> None:
    env = await make_env(local(WEDNESDAY, 22, 58), door_unlocked)
    lock = env.lock()
    await env.advance_to(local(WEDNESDAY, 23))
    await wait_until(lambda: bool(env.shown(DOOR_TITLE)), what="the notification on the phone")
    await env.advance(120)
    lock.operate(True, LockMethod.KEY)  # 23:02: alex locks it with the key
    await env.step(10)
    await wait_until(lambda: len(env.runs("door-check-night")) == 1, what="the run to end")
    await env.advance_to(local(WEDNESDAY, 23, 10))
    assert lock.locked and lock.method == LockMethod.KEY
    assert env.invoked("lock-front") == []
    (trace,) = env.runs("door-check-night")
    assert trace["outcome"] == "finished"
    assert [a["type"] for a in trace["actions"]] == ["notify", "wait", "if"]
    wait = trace["actions"][1]
    assert wait["details"]["completed"] is True
    assert (
        wait["details"]["trigger"]["value"] is True and wait["details"]["trigger"]["device"] == "lock-front"
    )
    assert wait["ended"] == local(WEDNESDAY, 23, 2) + 10
    assert trace["actions"][2]["details"]["branch"] == "else"


# --- 6. durability with the real world -------------------------------------------------------------


async def test_a_pending_for_survives_a_hub_restart_and_fires_once(
    make_env: MakeEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = await make_env(local(WEDNESDAY, 8), door_open_lights_on)
    lock, vacuum = env.lock(), env.vacuum()
    operations: list[tuple[str, str]] = []
    call = lock.call

    def counting(service: str, action: str, args: list[Any]) -> list[Any]:
        operations.append((service, action))
        return call(service, action, args)

    monkeypatch.setattr(lock, "call", counting)
    left = await leave_by_car(env)
    await env.advance(240)  # alex left 4 minutes ago
    old = env.h
    assert [a.pending_timers for a in old.automations.automations() if a.id == "everyone-left"] == [1]

    await env.stop_hub()  # the world keeps running on the same clock and broker
    hub = await env.start_hub()
    await env.all_adopted()
    assert hub is not old
    pending = env.pending_for()
    assert pending is not None and pending["deadline"] == left + 600
    assert [a.pending_timers for a in hub.automations.automations() if a.id == "everyone-left"] == [1]

    await env.advance_to(left + 590)
    assert env.runs("everyone-left") == [] and not lock.locked
    await env.step(10)
    await wait_until(
        lambda: lock.locked and vacuum.status == VacuumStatus.SWEEPING, what="the restored 'for' to fire"
    )
    await wait_until(lambda: len(env.runs("everyone-left")) == 1, what="the run's trace")
    await env.advance(600, step=60)
    (trace,) = env.runs("everyone-left")
    assert trace["outcome"] == "finished" and trace["trigger"]["values"]["ts"] == left + 600
    assert operations == [("lock", "lock")]
    assert [e.ok for e in env.invoked("lock-front")] == [True]
    assert env.pending_for() is None


# --- 7. a failing action does not stop the rest ----------------------------------------------------


async def test_an_offline_light_fails_its_action_and_the_vacuum_still_starts(make_env: MakeEnv) -> None:
    env = await make_env(local(WEDNESDAY, 8), door_open_lights_on)
    lock, vacuum = env.lock(), env.vacuum()
    left = await leave_by_car(env)
    await env.world.device("light-kitchen").stop()
    await wait_until(lambda: not env.h.kernel.state.is_online("light-kitchen"), what="the light offline")

    await env.advance_to(left + 600)
    (trace,) = await env.finished("everyone-left")
    assert trace["outcome"] == "finished"
    locked, lights, cleaning = trace["actions"]
    assert locked["result"] == "ok" and cleaning["result"] == "ok"
    assert lights["result"] == "error"
    assert "light-kitchen" in lights["error"] and "offline" in lights["error"]
    by_device = {r["device"]: r["ok"] for r in lights["details"]["results"]}
    assert by_device == {
        "light-bedroom": True,
        "light-hallway": True,
        "light-kitchen": False,
        "light-living": True,
    }
    assert lock.locked and vacuum.status == VacuumStatus.SWEEPING
    assert not env.light("light-living").on and not env.light("light-hallway").on
    assert env.light("light-kitchen").on  # it never heard the command
    assert env.h.automations.stats["failed_actions"] == 1


#: Hub.start starts the automation engine right after *starting* the MQTT transport (which only
#: begins connecting); the engine resumes a stored ``for`` whose deadline passed while the hub
#: was down at once, so it re-checks the restored (stale) state and runs its actions before any
#: device is back online.
async def walk_out_and_stop_the_hub(env: Env) -> tuple[Person, float]:
    """Alex walks out with the phone (not the car); the hub stops 4 minutes later."""
    walker = Person("alex")
    env.world.phone.owner = walker
    walker.at("office")
    presence = env.h.automations.presence
    await env.advance_until(lambda: presence.state("alex") == "away", step=10, limit=60, what="alex away")
    left = env.clock.now()
    await env.advance(240)
    await env.stop_hub()
    return walker, left


async def test_a_for_that_expired_while_the_hub_was_down_fires_once_on_the_devices(
    make_env: MakeEnv,
) -> None:
    env = await make_env(local(WEDNESDAY, 8), door_open_lights_on)
    lock, vacuum = env.lock(), env.vacuum()
    _, left = await walk_out_and_stop_the_hub(env)
    await env.advance(480)  # the world goes on; the deadline passes while the hub is down
    restarted = env.clock.now()
    await env.start_hub()
    await env.all_adopted()
    # an overdue 'for' waits RESUME_GRACE after a restart, so the devices are back first
    await env.advance(RESUME_GRACE)
    (trace,) = await env.finished("everyone-left")
    # it fired once its state was confirmed with the devices back, not at the stale deadline
    assert left + 600 < restarted
    assert trace["trigger"]["values"]["ts"] == trace["started"] == restarted + RESUME_GRACE
    assert [a.get("error") for a in trace["actions"]] == [None, None, None]
    await wait_until(
        lambda: lock.locked and vacuum.status == VacuumStatus.SWEEPING, what="the door locked, the vacuum on"
    )
    await env.advance(600, step=60)
    assert len(env.runs("everyone-left")) == 1


async def test_a_for_whose_state_ended_while_the_hub_was_down_does_not_fire(make_env: MakeEnv) -> None:
    env = await make_env(local(WEDNESDAY, 8), door_open_lights_on)
    walker, _ = await walk_out_and_stop_the_hub(env)
    walker.at("home")  # alex is back before the 10 minutes are up, and the hub does not hear it
    await env.advance(480)
    hub = await env.start_hub()
    await env.all_adopted()
    await wait_until(lambda: hub.automations.presence.state("alex") == "home", what="alex home again")
    await env.advance(120)
    assert env.h.automations.traces("everyone-left") == []
    assert env.pending_for() is None
    assert not env.lock().locked and env.invoked("lock-front") == []
