"""One air conditioner alone in its room, stepped fast, for fleets of simulated units.

The diagnostics evaluation needs hundreds of units over a month each, so this module
runs a single :class:`~trilink.sim.aircon.AirConditioner` with its :class:`Room` and
:class:`Weather` at coarse steps (10 minutes by default) without the world, MQTT or the
other devices. It steps exactly the same physics objects the world does
(``AirConditioner.step`` then ``Room.step``), so whatever is evaluated here is the model
the hub sees.

What varies between units, so a detector cannot rely on the nameplate:

- **climate** (:data:`SUMMER_CLIMATES`): hot-humid, hot-dry and mild summers;
- **usage** (:data:`USAGES`): daily schedules of on/off, setpoint and fan level;
- **the unit itself** (:func:`varied_unit`): rated airflow, COP, capacity and fan power
  differ by a few percent between units of the same model, as do the rooms.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from trilink.sim import psychro
from trilink.sim.aircon import AirConditioner, FanLevel, Mode
from trilink.sim.thermal import SHANGHAI, Climate, Room, Weather, local_hour

#: summer climates for AC fleets (the world's own CLIMATES include a cold one)
SUMMER_CLIMATES: dict[str, Climate] = {
    "hot-humid": Climate("hot-humid", 30.0, 4.5, 75.0, 450.0, 5.0, 19.0),
    "hot-dry": Climate("hot-dry", 32.0, 8.0, 25.0, 600.0, 5.5, 19.5, noise_c=0.8),
    "mild": Climate("mild", 25.0, 5.0, 60.0, 380.0, 5.5, 19.0),
}

#: Monday 7 July 2025, 00:00 in Shanghai: where fleets start by default
FLEET_START = datetime(2025, 7, 7, tzinfo=SHANGHAI).timestamp()


@dataclass(frozen=True, slots=True)
class Period:
    """The AC is on from ``start`` to ``end`` (local hours; ``end < start`` wraps midnight)."""

    start: float
    end: float
    setpoint: float
    fan: FanLevel = FanLevel.AUTO

    def covers(self, hour: float) -> bool:
        """Whether local ``hour`` falls in the period."""
        if self.start <= self.end:
            return self.start <= hour < self.end
        return hour >= self.start or hour < self.end


@dataclass(frozen=True, slots=True)
class Usage:
    """A household's daily use of the AC (cooling)."""

    name: str
    periods: tuple[Period, ...]

    def at(self, hour: float) -> Period | None:
        """The period in force at local ``hour``, if the AC is on."""
        for p in self.periods:
            if p.covers(hour):
                return p
        return None


USAGES: dict[str, Usage] = {
    "evenings": Usage("evenings", (Period(18.0, 23.0, 25.0), Period(23.0, 7.0, 27.0, FanLevel.LOW))),
    "all-day": Usage("all-day", (Period(9.0, 23.5, 24.0, FanLevel.MEDIUM),)),
    "home-office": Usage("home-office", (Period(8.0, 18.0, 25.0), Period(18.0, 23.0, 24.0, FanLevel.HIGH))),
    "nights": Usage("nights", (Period(21.0, 7.0, 26.0),)),
    "cool-keeper": Usage("cool-keeper", (Period(7.0, 24.0, 23.0, FanLevel.HIGH),)),
}


def varied_unit(
    room: Room,
    weather: Weather,
    rng: random.Random,
    *,
    spread: float = 0.04,
    **kwargs: float | bool | int,
) -> AirConditioner:
    """A 3.5 kW (or 2.6 kW) split unit whose ratings differ from the nameplate by ~``spread``.

    Rated airflow, COP and capacity vary by about ``spread`` (1 σ), fan power twice that;
    ``kwargs`` go to :class:`AirConditioner` (faults, noise).
    """
    small = rng.random() < 0.3
    capacity, airflow = (2600.0, 520.0) if small else (3500.0, 650.0)

    def vary(x: float, s: float = spread) -> float:
        return x * (1.0 + max(-2.5 * s, min(2.5 * s, rng.gauss(0.0, s))))

    return AirConditioner(
        room,
        weather,
        rated_capacity_w=vary(capacity),
        rated_cop=vary(3.6),
        rated_airflow_m3h=vary(airflow),
        rated_fan_power_w=vary(35.0 if not small else 28.0, 2 * spread),
        **kwargs,
    )


def varied_room(rng: random.Random, climate: Climate) -> Room:
    """A bedroom or living room of 12–35 m² with an envelope that varies between homes."""
    area = rng.uniform(12.0, 35.0)
    start = climate.mean_c
    return Room(
        "room",
        "Room",
        area_m2=area,
        ua_w_k=area * rng.uniform(2.4, 4.0),
        capacitance_j_k=area * rng.uniform(40_000.0, 60_000.0),
        solar_aperture_m2=rng.uniform(0.3, 1.0),
        base_gain_w=rng.uniform(50.0, 150.0),
        temperature=start,
        humidity_ratio=psychro.humidity_ratio(start, climate.humidity_pct),
    )


class SoloUnit:
    """One AC in one room under one climate and one usage, without a world."""

    def __init__(
        self,
        ac: AirConditioner,
        room: Room,
        weather: Weather,
        usage: Usage,
        *,
        start: float = FLEET_START,
    ) -> None:
        self.ac, self.room, self.weather, self.usage = ac, room, weather, usage
        self.time = start

    def step(self, dt: float) -> None:
        """Apply the schedule, then run the AC and the room for ``dt`` seconds."""
        now = self.time + dt
        self.time = now
        period = self.usage.at(local_hour(now, self.weather.tz))
        ac = self.ac
        if period is None:
            ac.on = False
        else:
            if not ac.on:
                ac.on, ac.mode = True, Mode.COOL
            ac.target_temperature, ac.fan_level = period.setpoint, period.fan
        ac.step(now, dt)
        self.room.step(
            dt,
            self.weather.temperature(now),
            self.weather.humidity_ratio(now),
            self.weather.solar(now),
            ac.heat_w,
            ac.moisture_removed_kg_s,
        )

    def run(self, seconds: float, dt: float = 600.0) -> Iterator[tuple[float, dict[str, float]]]:
        """Step for ``seconds`` and yield ``(time, telemetry by property name)`` after each step."""
        for _ in range(int(seconds / dt + 1e-9)):
            self.step(dt)
            yield self.time, {prop: float(v) for (_, prop), v in self.ac.values().items()}


def solo_unit(
    climate: str,
    usage: str,
    seed: int,
    *,
    spread: float = 0.04,
    start: float = FLEET_START,
    **ac_kwargs: float | bool | int,
) -> SoloUnit:
    """A seeded unit: its room, ratings and weather drawn from ``seed``."""
    rng = random.Random(f"unit-{seed}")
    c = SUMMER_CLIMATES[climate]
    weather = Weather(c, seed=seed)
    room = varied_room(rng, c)
    ac = varied_unit(room, weather, rng, spread=spread, noise_seed=seed, **ac_kwargs)
    return SoloUnit(ac, room, weather, USAGES[usage], start=start)
