"""Alex's day: what the owner does with the devices, at fixed local times.

Workdays: up at 07:00, out at 07:55, drives to the office at 08:00 (the vacuum sweeps
at 10:00), drives home at 18:30 and plugs the car in on arrival; evenings at home with
the lights and the air conditioning; bed at 23:00. Weekends at home. The routine acts
on the devices' physics directly, as a person with a remote control would; the hub
sees only the resulting state changes. Disable it with ``enabled = False``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from trilink.sim.aircon import AirConditioner, Mode
from trilink.sim.behaviour import ActionRefused
from trilink.sim.car import ChargingState
from trilink.sim.home_devices import Curtain, DoorLock, Light, LockMethod, RobotVacuum

if TYPE_CHECKING:
    from trilink.sim.world import World

Action = Callable[[], None]


class Routine:
    """The owner's daily plan, run by the world after each physics step."""

    def __init__(self, world: World, *, enabled: bool = True) -> None:
        self.world = world
        self.enabled = enabled
        self._later: list[tuple[float, Action]] = []
        # (hour, minute, workdays only, what happens)
        self.plan: list[tuple[int, int, bool, Action]] = [
            (7, 0, False, lambda: self._curtains(100)),
            (7, 0, True, lambda: self._light("bedroom", True)),
            (7, 5, False, lambda: self._ac_off("bedroom")),
            (7, 10, True, lambda: self._light("kitchen", True)),
            (7, 20, True, lambda: self._light("bedroom", False)),
            (7, 40, True, lambda: self._light("kitchen", False)),
            (7, 55, True, self._leave_home),
            (8, 0, True, self._drive_to_work),
            (9, 30, False, lambda: self._comfort("living") if self._home() else None),
            (10, 0, True, self._sweep),
            (18, 30, True, self._drive_home),
            (18, 45, False, lambda: self._light("living", True) if self._home() else None),
            (19, 0, False, lambda: self._curtains(0)),
            (19, 0, False, lambda: self._light("kitchen", True) if self._home() else None),
            (19, 45, False, lambda: self._light("kitchen", False)),
            (22, 30, False, lambda: self._bedtime() if self._home() else None),
            (23, 0, False, self._lights_out),
            (23, 15, False, lambda: self._light("bedroom", False)),
        ]

    # --------------------------------------------------------------- running
    def step(self, prev: float, now: float) -> None:
        """Carry out whatever falls in the simulated interval (prev, now]."""
        arrival = self.world.car.pop_arrival()
        if not self.enabled:
            self._later.clear()
            return
        if arrival == "home":
            self._arrive_home(now)
        due = [a for t, a in self._later if t <= now]
        self._later = [(t, a) for t, a in self._later if t > now]
        for action in due:
            action()
        days = {
            datetime.fromtimestamp(prev, self.world.tz).date(),
            datetime.fromtimestamp(now, self.world.tz).date(),
        }
        for day in sorted(days):
            for hour, minute, workdays, action in self.plan:
                when = datetime(day.year, day.month, day.day, hour, minute, tzinfo=self.world.tz).timestamp()
                if prev < when <= now and not (workdays and day.weekday() >= 5):
                    action()

    def later(self, seconds: float, action: Action) -> None:
        """Do ``action`` ``seconds`` of simulated time from now."""
        self._later.append((self.world.time + seconds, action))

    # ---------------------------------------------------------------- helpers
    def _home(self) -> bool:
        return self.world.person.place == "home"

    def _light(self, room: str, on: bool) -> None:
        light = self.world.behaviour(f"light-{room}")
        assert isinstance(light, Light)
        light.on = on

    def _curtains(self, target: int) -> None:
        for did in ("curtain-living", "curtain-bedroom"):
            curtain = self.world.behaviour(did)
            assert isinstance(curtain, Curtain)
            curtain.target = target

    def _door(self, lock: bool, method: LockMethod) -> None:
        door = self.world.behaviour("lock-front")
        assert isinstance(door, DoorLock)
        if door.locked != lock:
            door.operate(lock, method)

    def _comfort(self, room: str, cool_to: float = 26.0, heat_to: float = 21.0) -> None:
        """Turn a room's AC on if the season calls for it."""
        ac = self.world.aircon(f"ac-{room}")
        mean = self.world.weather.climate.mean_c
        if mean >= 24.0:
            ac.mode, ac.target_temperature = Mode.COOL, cool_to
        elif mean <= 14.0:
            ac.mode, ac.target_temperature = Mode.HEAT, heat_to
        else:
            return
        ac.on = True

    def _ac_off(self, room: str) -> None:
        ac = self.world.behaviour(f"ac-{room}")
        assert isinstance(ac, AirConditioner)
        ac.on = False

    # ---------------------------------------------------------------- moments
    def _leave_home(self) -> None:
        if not self._home():
            return
        self._light("hallway", True)
        self._door(False, LockMethod.KEY)
        self._ac_off("living")
        self.later(60, lambda: self._door(True, LockMethod.KEY))
        self.later(90, lambda: self._light("hallway", False))

    def _drive_to_work(self) -> None:
        car = self.world.car
        if car.place != "home" or car.driving:
            return
        car.unplug()
        car.drive_to("office")

    def _drive_home(self) -> None:
        car = self.world.car
        if car.place == "office" and not car.driving:
            car.drive_to("home")

    def _arrive_home(self, now: float) -> None:
        car = self.world.car
        if car.charging_state == ChargingState.UNPLUGGED:
            car.plug_in()
        self._light("hallway", True)
        self._door(False, LockMethod.KEYPAD)
        self._comfort("living")
        self.later(60, lambda: self._door(True, LockMethod.KEY))
        self.later(180, lambda: self._light("hallway", False))
        if datetime.fromtimestamp(now, self.world.tz).hour >= 18:
            self.later(120, lambda: self._light("living", True))

    def _sweep(self) -> None:
        vacuum = self.world.behaviour("vacuum")
        assert isinstance(vacuum, RobotVacuum)
        with contextlib.suppress(ActionRefused):  # battery too low: skip today
            vacuum.call("vacuum", "start-sweep", [])

    def _bedtime(self) -> None:
        self._light("bedroom", True)
        self._comfort("bedroom", cool_to=27.0, heat_to=20.0)

    def _lights_out(self) -> None:
        self._light("living", False)
        self._light("kitchen", False)
        self._ac_off("living")
