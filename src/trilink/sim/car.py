"""An electric car: battery with state of health, road-load driving, AC charging, cabin climate.

Driving integrates road load each second: F = m·a + m·g·C_rr + ½·ρ·C_dA·v²; battery
power is F·v / η_drive when driving the wheels and F·v · η_regen when braking, plus
auxiliaries and the cabin climate. The home charger delivers a constant 11 kW until
80 % state of charge, then tapers linearly to the charge limit; charging losses make the
energy drawn exceed the energy stored:

    P_stored = η_conv · P_wall − P_overhead(T) − k · P_wall²

η_conv (0.96) is the on-board charger's conversion efficiency, P_overhead the fixed draw of
the charger electronics and battery cooling (0.25 kW, plus 0.03 kW per °C below 15 °C
outdoors for battery heating), k · P² (k = 0.0025 /kW) the resistive loss in cables and
cells. That puts the efficiency at about 91 % at 7–11 kW and 25 °C, 88 % at 3.7 kW or
22 kW, 85 % at 11 kW and −2 °C, and lower in the taper where the overhead dominates.

The battery ages: its state of health falls by a calendar rate (% of the new capacity per
year, linear in time) plus a cycle rate (% per 1000 equivalent full cycles, counting the
energy stored by charging). Both default to 0 so a short simulation keeps the state of
health it was given. The state of charge the car *reports* is the BMS's estimate: the
true value plus a slowly wandering bias and a little noise (``soc_error_pct``, default
0), rounded to 0.1 %; ``state_of_charge`` stays the true value. :func:`simulate_usage`
runs one car alone over months with a daily driving/charging pattern (no MQTT, no
routes) on the same battery, charging and ageing physics, for evaluating estimators.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass
from enum import IntEnum
from typing import Any, ClassVar

from trilink.sim import psychro
from trilink.sim.behaviour import ActionRefused, Behaviour, PropKey
from trilink.sim.route import HOME, OFFICE, TO_HOME, TO_OFFICE, Route
from trilink.sim.thermal import Weather

GRAVITY = 9.81
SECONDS_PER_YEAR = 365.25 * 86400.0
_PLACES = {"home": HOME, "office": OFFICE}


class ChargingState(IntEnum):
    """Charging states, as the spec's value-list numbers them."""

    UNPLUGGED = 0
    PLUGGED_IN = 1
    CHARGING = 2
    COMPLETE = 3
    STOPPED = 4


class ElectricCar(Behaviour):
    """A mid-size electric car (75 kWh usable when new) that commutes and charges at home."""

    model: ClassVar[str] = "trilink.car.sim1"
    deadbands: ClassVar[dict[PropKey, float]] = {
        ("traction-battery", "range"): 1.0,
        ("charging", "charging-power"): 0.05,
        ("charging", "session-energy"): 0.01,
        ("cabin-climate", "temperature"): 0.2,
    }

    # vehicle constants
    mass_kg = 2100.0
    drag_area_m2 = 0.62  # C_d · A
    rolling_resistance = 0.011
    drive_efficiency = 0.88  # battery → wheels
    regen_efficiency = 0.65  # wheels → battery
    auxiliary_w = 500.0  # electronics, lights, pumps while driving
    accel_ms2 = 1.5
    decel_ms2 = 2.0
    # charging
    charge_efficiency = 0.96  # on-board charger conversion efficiency
    charge_overhead_kw = 0.25  # charger electronics and battery cooling
    charge_cold_kw_per_c = 0.03  # battery heating per °C below charge_cold_below_c
    charge_cold_below_c = 15.0
    charge_resistive_per_kw = 0.0025  # k in k·P² (kW lost per kW²)
    taper_from_pct = 80.0
    # cabin: a small thermal mass behind glass
    cabin_capacitance_j_k = 1.2e5
    cabin_ua_w_k = 30.0
    cabin_solar_aperture_m2 = 1.2
    climate_max_w = 4500.0
    climate_cop = 2.5

    def __init__(
        self,
        weather: Weather,
        *,
        capacity_kwh: float = 75.0,
        state_of_health: float = 1.0,
        state_of_charge: float = 62.0,
        charge_limit: int = 90,
        charger_kw: float = 11.0,
        plugged_in: bool = True,
        calendar_fade_pct_per_year: float = 0.0,
        cycle_fade_pct_per_1000: float = 0.0,
        soc_error_pct: float = 0.0,
        seed: int = 0,
    ) -> None:
        super().__init__()
        if not 0.0 < state_of_health <= 1.0:
            raise ValueError(f"state_of_health must be in (0, 1], got {state_of_health}")
        if calendar_fade_pct_per_year < 0 or cycle_fade_pct_per_1000 < 0 or soc_error_pct < 0:
            raise ValueError("fade rates and the SoC error must not be negative")
        self.weather = weather
        self.capacity_new_kwh = capacity_kwh
        self.state_of_health = state_of_health  # the truth: usable capacity / new capacity
        self.calendar_fade_pct_per_year = calendar_fade_pct_per_year
        self.cycle_fade_pct_per_1000 = cycle_fade_pct_per_1000
        self.soc_error_pct = soc_error_pct
        self.throughput_kwh = 0.0  # energy stored by charging, for the cycle count
        self.age_s = 0.0  # simulated time since construction
        self.outdoor_c = weather.climate.mean_c  # last outdoor temperature seen by step()
        self.charge_ended_after_s: float | None = None  # into the last step() that ended a session
        self._rng = random.Random(f"car-{seed}")
        self._soc_bias = 0.0
        self.energy_kwh = self.usable_capacity_kwh * state_of_charge / 100.0
        self.charge_limit = charge_limit
        self.charger_kw = charger_kw
        self.charging_state = ChargingState.UNPLUGGED
        self.charging_power_kw = 0.0  # drawn from the wall
        self.session_energy_kwh = 0.0  # drawn from the wall this session
        self.place: str | None = "home"  # None while driving
        self.latitude, self.longitude = HOME
        self.heading = 0.0
        self.speed_ms = 0.0
        self.odometer_km = 12_345.0
        self.locked = True
        self.climate_on = False
        self.climate_target = 22.0
        self.cabin_temperature = weather.climate.mean_c
        self.climate_power_w = 0.0
        self.consumption_kwh_km = 0.16  # running estimate for the range
        self._trip: tuple[Route, str] | None = None
        self._trip_m = 0.0
        self._arrival: str | None = None
        if plugged_in:
            self.plug_in()

    # ---------------------------------------------------------------- battery
    @property
    def usable_capacity_kwh(self) -> float:
        """Usable energy when full: the new capacity scaled by the state of health."""
        return self.capacity_new_kwh * self.state_of_health

    @property
    def state_of_charge(self) -> float:
        """Percent of the usable capacity stored now."""
        return 100.0 * self.energy_kwh / self.usable_capacity_kwh

    @property
    def equivalent_full_cycles(self) -> float:
        """Energy stored so far, in multiples of the new capacity."""
        return self.throughput_kwh / self.capacity_new_kwh

    def reported_soc(self) -> float:
        """The BMS's state of charge: the truth plus bias and noise, to 0.1 % (0..100)."""
        if self.soc_error_pct <= 0:
            return self.state_of_charge
        # the bias wanders slowly (a random walk pulled back to 0); the noise is per reading
        self._soc_bias = 0.98 * self._soc_bias + self._rng.gauss(0.0, 0.2 * self.soc_error_pct)
        noisy = self.state_of_charge + self._soc_bias + self._rng.gauss(0.0, 0.5 * self.soc_error_pct)
        return round(min(max(noisy, 0.0), 100.0), 1)

    def _age(self, dt: float, stored_kwh: float) -> None:
        """Calendar and cycle ageing over ``dt`` seconds with ``stored_kwh`` charged."""
        self.age_s += dt
        self.throughput_kwh += stored_kwh
        fade = self.calendar_fade_pct_per_year * dt / SECONDS_PER_YEAR
        fade += self.cycle_fade_pct_per_1000 * stored_kwh / self.capacity_new_kwh / 1000.0
        if fade > 0:
            self.state_of_health = max(0.05, self.state_of_health - fade / 100.0)
            self.energy_kwh = min(self.energy_kwh, self.usable_capacity_kwh)

    @property
    def range_km(self) -> float:
        """Estimated range from the stored energy and the recent consumption."""
        return self.energy_kwh / self.consumption_kwh_km

    # ---------------------------------------------------------------- driving
    @property
    def driving(self) -> bool:
        """Whether the car is on a trip."""
        return self._trip is not None

    def drive_to(self, destination: str) -> None:
        """Start driving to ``"office"`` or ``"home"`` (nothing happens if already there)."""
        if destination not in _PLACES:
            raise ValueError(f"unknown destination {destination!r} (known: home, office)")
        if self.charging_state != ChargingState.UNPLUGGED:
            raise RuntimeError("the car is plugged in: unplug it before driving")
        if self._trip is not None:
            raise RuntimeError(f"the car is already driving to {self._trip[1]}")
        if self.place == destination:
            return
        self._trip = (TO_OFFICE if destination == "office" else TO_HOME, destination)
        self._trip_m = 0.0
        self.place = None
        self.locked = True  # doors lock as the car moves off

    def pop_arrival(self) -> str | None:
        """Where the car arrived since the last call, if it did."""
        arrival, self._arrival = self._arrival, None
        return arrival

    def _drive_second(self, dt: float) -> float:
        """One sub-step of driving; returns the battery power for traction (W)."""
        assert self._trip is not None
        route = self._trip[0]
        leg, left_on_leg = route.locate(self._trip_m)
        index = route.legs.index(leg)
        next_limit = route.legs[index + 1].limit_ms if index + 1 < len(route.legs) else 0.0
        # brake in time for the next leg's limit, or to a stop at the destination
        envelope = math.sqrt(min(next_limit, leg.limit_ms) ** 2 + 2 * self.decel_ms2 * left_on_leg)
        v_cap = max(min(leg.limit_ms, envelope), 1.0)  # creep, never stall short of the goal
        v0 = self.speed_ms
        a = min(max((v_cap - v0) / dt, -self.decel_ms2), self.accel_ms2)
        v1 = max(0.0, v0 + a * dt)
        v = 0.5 * (v0 + v1)
        self.speed_ms = v1
        self._trip_m += v * dt
        self.odometer_km += v * dt / 1000.0
        self.heading = leg.heading
        force = self.mass_kg * a + self.mass_kg * GRAVITY * self.rolling_resistance
        force += 0.5 * psychro.RHO_AIR * self.drag_area_m2 * v * v
        wheel_w = force * v
        battery_w = wheel_w / self.drive_efficiency if wheel_w > 0 else wheel_w * self.regen_efficiency
        return battery_w + self.auxiliary_w

    def _arrive(self) -> None:
        assert self._trip is not None
        self.place = self._trip[1]
        self.latitude, self.longitude = _PLACES[self.place]
        self._trip = None
        self.speed_ms = 0.0
        self._arrival = self.place

    # --------------------------------------------------------------- charging
    def plug_in(self) -> None:
        """Connect the home charger; charging starts if below the limit."""
        if self.place != "home":
            raise RuntimeError("the only charger is at home")
        if self.charging_state != ChargingState.UNPLUGGED:
            return
        self.session_energy_kwh = 0.0
        self.charging_state = ChargingState.PLUGGED_IN
        self._start_charging()

    def unplug(self) -> None:
        """Disconnect the charger (ending a running session)."""
        if self.charging_state == ChargingState.CHARGING:
            self._end_session(ChargingState.UNPLUGGED)
        self.charging_state = ChargingState.UNPLUGGED
        self.charging_power_kw = 0.0

    def _start_charging(self) -> None:
        if self.state_of_charge < self.charge_limit - 0.05:
            self.charging_state = ChargingState.CHARGING
        else:
            self.charging_state = ChargingState.COMPLETE

    def _end_session(self, state: ChargingState) -> None:
        self.charging_state = state
        self.charging_power_kw = 0.0
        self.emit(
            "charging",
            "charging-ended",
            {"charging-state": int(state), "session-energy": self.session_energy_kwh},
        )

    def wall_power_kw(self, soc: float) -> float:
        """Power drawn from the wall at state of charge ``soc``: constant, then a linear taper."""
        if soc < self.taper_from_pct:
            return self.charger_kw
        taper = (100.0 - soc) / (100.0 - self.taper_from_pct)
        return self.charger_kw * max(taper, 0.12)

    def stored_power_kw(self, soc: float, outdoor_c: float | None = None) -> float:
        """Power reaching the battery at ``soc`` (and ``outdoor_c``), after charging losses."""
        return self.stored_from_wall_kw(self.wall_power_kw(soc), outdoor_c)

    def stored_from_wall_kw(self, wall_kw: float, outdoor_c: float | None = None) -> float:
        """Power reaching the battery when ``wall_kw`` is drawn: conversion, overhead, I²R."""
        t = self.outdoor_c if outdoor_c is None else outdoor_c
        cold = self.charge_cold_kw_per_c * max(0.0, self.charge_cold_below_c - t)
        overhead = self.charge_overhead_kw + cold
        lost = overhead + self.charge_resistive_per_kw * wall_kw * wall_kw
        return max(0.0, wall_kw * self.charge_efficiency - lost)

    def charging_efficiency(self, wall_kw: float, outdoor_c: float | None = None) -> float:
        """Fraction of ``wall_kw`` that reaches the battery."""
        return self.stored_from_wall_kw(wall_kw, outdoor_c) / wall_kw if wall_kw > 0 else 0.0

    def minutes_to_limit(self) -> float:
        """Minutes of charging left to reach the charge limit (0 unless charging)."""
        if self.charging_state != ChargingState.CHARGING:
            return 0.0
        soc, minutes, step = self.state_of_charge, 0.0, 0.25
        per_pct = self.usable_capacity_kwh / 100.0
        while soc < self.charge_limit:
            d = min(step, self.charge_limit - soc)
            minutes += 60.0 * d * per_pct / max(self.stored_power_kw(soc), 0.1)
            soc += d
        return minutes

    # ------------------------------------------------------------------ cabin
    def _climate_step(self, now: float, dt: float) -> None:
        t_out = self.weather.temperature(now)
        ua = self.cabin_ua_w_k * (2.0 if self.driving else 1.0)  # wind over the body
        solar = self.weather.solar(now) * self.cabin_solar_aperture_m2
        q = 0.0
        if self.climate_on:
            q = min(
                max(1500.0 * (self.climate_target - self.cabin_temperature), -self.climate_max_w),
                self.climate_max_w,
            )
        self.climate_power_w = abs(q) / self.climate_cop
        t_eq = t_out + (solar + q) / ua
        self.cabin_temperature = t_eq + (self.cabin_temperature - t_eq) * math.exp(
            -dt * ua / self.cabin_capacitance_j_k
        )

    # ------------------------------------------------------------------- step
    def step(self, now: float, dt: float) -> None:
        """Drive, charge and condition the cabin for ``dt`` seconds."""
        self._climate_step(now, dt)
        self.outdoor_c = self.weather.temperature(now)
        drawn_j = self.climate_power_w * dt
        stored = 0.0
        self.charge_ended_after_s = None
        if self._trip is not None:
            driven_m, remaining, sub = self._trip_m, dt, 1.0
            while remaining > 1e-9 and self._trip is not None:
                h = min(sub, remaining)
                drawn_j += self._drive_second(h) * h
                remaining -= h
                route = self._trip[0]
                self.latitude, self.longitude = route.position(self._trip_m)
                if self._trip_m >= route.length_m - 0.5:
                    self._arrive()
            km = (self._trip_m if self._trip is not None else route.length_m) - driven_m
            if km > 0:
                # exponentially weighted kWh/km over the last ~30 km, for the range estimate
                rate = drawn_j / 3.6e6 / (km / 1000.0)
                w = min(1.0, km / 30_000.0)
                self.consumption_kwh_km = (1 - w) * self.consumption_kwh_km + w * rate
        if self.charging_state == ChargingState.CHARGING:
            soc = self.state_of_charge
            self.charging_power_kw = self.wall_power_kw(soc)
            stored = self.stored_power_kw(soc) * dt / 3600.0
            limit_kwh = self.usable_capacity_kwh * self.charge_limit / 100.0
            if self.energy_kwh + stored >= limit_kwh:
                fraction = (limit_kwh - self.energy_kwh) / stored if stored > 0 else 0.0
                stored = max(0.0, limit_kwh - self.energy_kwh)
                self.charge_ended_after_s = dt * fraction
                self.energy_kwh = limit_kwh
                self.session_energy_kwh += self.charging_power_kw * dt / 3600.0 * fraction
                self._end_session(ChargingState.COMPLETE)
            else:
                self.energy_kwh += stored
                self.session_energy_kwh += self.charging_power_kw * dt / 3600.0
        self.energy_kwh = max(0.0, self.energy_kwh - drawn_j / 3.6e6)
        self._age(dt, stored)

    # --------------------------------------------------------------- the spec
    def values(self) -> dict[PropKey, Any]:
        """Readable properties of the car."""
        return {
            ("traction-battery", "state-of-charge"): self.reported_soc(),
            ("traction-battery", "range"): self.range_km,
            ("traction-battery", "state-of-health"): self.state_of_health * 100.0,
            ("traction-battery", "usable-capacity"): self.usable_capacity_kwh,
            ("charging", "charging-state"): int(self.charging_state),
            ("charging", "charging-power"): self.charging_power_kw,
            ("charging", "charge-limit"): self.charge_limit,
            ("charging", "time-to-full"): math.ceil(self.minutes_to_limit()),
            ("charging", "session-energy"): self.session_energy_kwh,
            ("location", "latitude"): self.latitude,
            ("location", "longitude"): self.longitude,
            ("location", "speed"): self.speed_ms * 3.6,
            ("location", "heading"): self.heading,
            ("location", "odometer"): self.odometer_km,
            ("location", "driving-state"): 1 if self.driving else 0,
            ("cabin-climate", "on"): self.climate_on,
            ("cabin-climate", "target-temperature"): self.climate_target,
            ("cabin-climate", "temperature"): self.cabin_temperature,
            ("car-doors", "locked"): self.locked,
        }

    def write(self, service: str, prop: str, value: Any) -> None:
        """Charge limit and cabin climate settings."""
        match (service, prop):
            case ("charging", "charge-limit"):
                self.charge_limit = int(value)
                if (
                    self.charging_state == ChargingState.CHARGING
                    and self.state_of_charge >= self.charge_limit
                ):
                    self._end_session(ChargingState.COMPLETE)
                elif (
                    self.charging_state == ChargingState.COMPLETE
                    and self.state_of_charge < self.charge_limit - 0.05
                ):
                    self.charging_state = ChargingState.CHARGING
            case ("cabin-climate", "on"):
                self.climate_on = bool(value)
            case ("cabin-climate", "target-temperature"):
                self.climate_target = float(value)
            case _:
                super().write(service, prop, value)

    def call(self, service: str, action: str, args: list[Any]) -> list[Any]:
        """Start/stop charging; lock/unlock the doors."""
        match (service, action):
            case ("charging", "start-charging"):
                if self.charging_state == ChargingState.UNPLUGGED:
                    raise ActionRefused("the car is not plugged in")
                if self.charging_state != ChargingState.CHARGING:
                    self._start_charging()
            case ("charging", "stop-charging"):
                if self.charging_state == ChargingState.CHARGING:
                    self._end_session(ChargingState.STOPPED)
            case ("car-doors", "lock"):
                self.locked = True
            case ("car-doors", "unlock"):
                if self.driving:
                    raise ActionRefused("the doors stay locked while driving")
                self.locked = False
            case _:
                return super().call(service, action, args)
        return []


# ------------------------------------------------------------------ fast path
@dataclass(frozen=True, slots=True)
class UsagePattern:
    """How one owner uses the car, day after day.

    On workdays the car drives ``commute_km`` to work at 08:00 and back at 18:00; on
    Saturdays it makes a trip of up to ``weekend_km`` (drawn uniformly). Back home in the
    evening it is plugged in when its reported state of charge is below ``plug_below_pct``
    (100: every evening) and charges to ``charge_limit`` at ``charger_kw``.
    """

    commute_km: float = 20.0
    weekend_km: float = 80.0
    charge_limit: int = 90
    charger_kw: float = 11.0
    plug_below_pct: float = 100.0
    kwh_per_km: float = 0.17  # at 20 °C; more in the cold and in the heat (climate control)


def _trip_kwh(pattern: UsagePattern, km: float, outdoor_c: float) -> float:
    """Battery energy for a trip: consumption rises ~1 %/°C below 15 °C and 0.5 %/°C above 25 °C."""
    factor = 1.0 + 0.01 * max(0.0, 15.0 - outdoor_c) + 0.005 * max(0.0, outdoor_c - 25.0)
    return km * pattern.kwh_per_km * factor


def simulate_usage(
    car: ElectricCar,
    start: float,
    days: int,
    pattern: UsagePattern,
    *,
    seed: int = 0,
    sample_s: float = 300.0,
) -> Iterator[tuple[float, dict[str, float]]]:
    """Run ``car`` alone for ``days`` from ``start``; yield ``(ts, values)`` as a hub would see them.

    Values carry the car's property names (``state-of-charge`` as the BMS reports it,
    ``charging-state``, ``charging-power``, ``session-energy``, ``temperature``, rounded to
    the spec's steps) every ``sample_s`` seconds while plugged in, and once when plugged
    in and unplugged. Trips are taken as their energy (``kwh_per_km`` with a weather
    factor) instead of being driven second by second; charging and ageing go through
    :meth:`ElectricCar.step`, the same physics as the live simulator.
    """
    rng = random.Random(f"usage-{seed}")
    car.charge_limit = pattern.charge_limit
    car.charger_kw = pattern.charger_kw
    if car.charging_state != ChargingState.UNPLUGGED:
        car.unplug()
    car.pop_events()
    now = start

    def snapshot() -> dict[str, float]:
        return {
            "state-of-charge": car.reported_soc(),
            "charging-state": float(int(car.charging_state)),
            "charging-power": round(car.charging_power_kw, 2),
            "session-energy": round(car.session_energy_kwh, 3),
            "charge-limit": float(car.charge_limit),
            "temperature": round(car.outdoor_c, 1),
        }

    def idle_until(t: float) -> None:
        nonlocal now
        if t > now:
            car.step(t, t - now)
            now = t

    def trip(km: float) -> None:
        if km <= 0:
            return
        used = _trip_kwh(pattern, km, car.weather.temperature(now))
        car.energy_kwh = max(0.0, car.energy_kwh - used)
        car.odometer_km += km

    for day in range(days):
        midnight = start + day * 86400.0
        weekday = day % 7  # day 0 is taken as a Monday
        idle_until(midnight + 8 * 3600.0)
        if car.charging_state != ChargingState.UNPLUGGED:
            car.unplug()
            car.pop_events()
            yield now, snapshot()
        if weekday < 5:
            trip(pattern.commute_km)
            idle_until(midnight + 18 * 3600.0)
            trip(pattern.commute_km)
        elif weekday == 5:
            idle_until(midnight + 10 * 3600.0)
            trip(rng.uniform(0.0, pattern.weekend_km))
        idle_until(midnight + 19 * 3600.0 + rng.uniform(0.0, 2.0) * 3600.0)
        if car.reported_soc() >= pattern.plug_below_pct:
            continue
        car.place = "home"
        car.plug_in()
        yield now, snapshot()
        end = midnight + 86400.0 + 7.5 * 3600.0
        while car.charging_state == ChargingState.CHARGING and now < end:
            step = min(sample_s, end - now)
            car.step(now + step, step)
            ended = car.charge_ended_after_s
            now += step
            # report the moment the limit was reached, as the car's notification would
            yield (now if ended is None else now - step + ended), snapshot()
        car.pop_events()
