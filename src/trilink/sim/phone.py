"""The owner's phone: it goes where its owner goes, drains by day and charges at night.

Location is the owner's position plus GPS noise (seeded, Gaussian, σ = half the
reported accuracy): a few metres in the car, tens of metres indoors. The alarm rings on
workdays at 07:00 local time.
"""

from __future__ import annotations

import math
import random
from datetime import datetime, timedelta, tzinfo
from typing import Any, ClassVar

from trilink.sim.behaviour import Behaviour, PropKey
from trilink.sim.route import HOME, OFFICE, offset
from trilink.sim.thermal import SHANGHAI, local_hour


class Person:
    """Where a person is: ``home``, ``office`` or ``car`` (then at the car's position)."""

    def __init__(
        self, name: str, *, home: tuple[float, float] = HOME, office: tuple[float, float] = OFFICE
    ) -> None:
        self.name = name
        self.places = {"home": home, "office": office}
        self.place = "home"
        self.position = home

    def at(self, place: str) -> None:
        """The person is at a known place (``home`` or ``office``)."""
        self.place = place
        self.position = self.places[place]

    def in_car(self, position: tuple[float, float]) -> None:
        """The person rides in the car, now at ``position``."""
        self.place = "car"
        self.position = position


class Phone(Behaviour):
    """A smartphone that belongs to ``owner``."""

    model: ClassVar[str] = "trilink.phone.sim1"
    deadbands: ClassVar[dict[PropKey, float]] = {
        ("location", "latitude"): 0.00015,  # ≈ 15 m: GPS jitter alone is not news
        ("location", "longitude"): 0.00018,
        ("location", "accuracy"): 5.0,
    }

    #: battery change in percent per hour
    drain_idle = 0.8  # screen off, at night
    drain_day = 3.5  # ordinary use
    drain_navigation = 12.0  # maps and music in the car
    charge_fast = 45.0  # below 80 %
    charge_slow = 12.0  # trickle above 80 %

    def __init__(
        self,
        owner: Person,
        now: float,
        *,
        tz: tzinfo = SHANGHAI,
        seed: int = 0,
        battery: float = 78.0,
        alarm: tuple[int, int] = (7, 0),
        bedtime_hour: float = 23.0,
    ) -> None:
        super().__init__()
        self.owner = owner
        self.tz = tz
        self.battery = battery
        self.charging = False
        self.do_not_disturb = False
        self.alarm = alarm
        self.bedtime_hour = bedtime_hour
        self.title = ""
        self.message = ""
        self._rng = random.Random(f"phone-{owner.name}-{seed}")
        self._alarm_at = self.next_alarm_after(now)
        self.latitude, self.longitude = owner.position
        self.accuracy = 20.0
        self._fix()

    # ------------------------------------------------------------------ alarm
    def next_alarm_after(self, now: float) -> float:
        """Epoch time of the first workday alarm strictly after ``now``."""
        day = datetime.fromtimestamp(now, self.tz).replace(
            hour=self.alarm[0], minute=self.alarm[1], second=0, microsecond=0
        )
        while day.timestamp() <= now or day.weekday() >= 5:
            day = (day + timedelta(days=1)).replace(hour=self.alarm[0], minute=self.alarm[1])
        return day.timestamp()

    @property
    def next_alarm(self) -> str:
        """The next alarm as ISO 8601 local time, e.g. ``2027-01-15T07:00:00+08:00``."""
        return datetime.fromtimestamp(self._alarm_at, self.tz).isoformat(timespec="seconds")

    # --------------------------------------------------------------- location
    def _fix(self) -> None:
        """A new position fix around the owner: GPS in the car, Wi-Fi/cell indoors."""
        self.accuracy = 6.0 if self.owner.place == "car" else 25.0
        sigma = self.accuracy / 2.0
        lat, lon = offset(self.owner.position, self._rng.gauss(0.0, sigma), self._rng.gauss(0.0, sigma))
        self.latitude, self.longitude = lat, lon

    # ------------------------------------------------------------------- step
    def step(self, now: float, dt: float) -> None:
        """Move with the owner, use or charge the battery, ring the alarm when it is time."""
        self._fix()
        hour = local_hour(now, self.tz)
        night = hour >= self.bedtime_hour or hour < self.alarm[0] + self.alarm[1] / 60
        # plugged in on the bedside table at night, taken along in the morning
        self.charging = night and self.owner.place == "home" and self.battery < 100.0
        if self.charging:
            rate = self.charge_fast if self.battery < 80.0 else self.charge_slow
        elif night:
            rate = -self.drain_idle
        else:
            rate = -(self.drain_navigation if self.owner.place == "car" else self.drain_day)
        self.battery = min(100.0, max(0.0, self.battery + rate * dt / 3600.0))
        if now >= self._alarm_at:
            rang = self.next_alarm
            self._alarm_at = self.next_alarm_after(now)
            self.emit("alarm-clock", "alarm-ringing", {"next-alarm": rang})

    # --------------------------------------------------------------- the spec
    def values(self) -> dict[PropKey, Any]:
        """Readable properties of the phone."""
        return {
            ("location", "latitude"): self.latitude,
            ("location", "longitude"): self.longitude,
            ("location", "accuracy"): self.accuracy,
            ("battery", "battery-level"): math.floor(self.battery),
            ("battery", "charging-state"): self.charging,
            ("alarm-clock", "next-alarm"): self.next_alarm,
            ("do-not-disturb", "on"): self.do_not_disturb,
        }

    def write(self, service: str, prop: str, value: Any) -> None:
        """Do-not-disturb, and the notification fields."""
        match (service, prop):
            case ("do-not-disturb", "on"):
                self.do_not_disturb = bool(value)
            case ("notification", "title"):
                self.title = str(value)
            case ("notification", "message"):
                self.message = str(value)
            case _:
                super().write(service, prop, value)

    def call(self, service: str, action: str, args: list[Any]) -> list[Any]:
        """``notify(title, message)`` shows a notification (silently under do-not-disturb)."""
        if (service, action) == ("notification", "notify"):
            self.title, self.message = str(args[0]), str(args[1])
            self.emit("notification", "notification-shown", {"title": self.title, "message": self.message})
            return []
        return super().call(service, action, args)
