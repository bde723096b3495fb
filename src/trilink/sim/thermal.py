"""Weather and rooms: the outdoor climate over a day and a thermal RC model per room.

Outdoor temperature is a daily cycle with its minimum at 05:00 and maximum at 15:00
(a rising half-cosine over 10 h, a falling one over 14 h) plus small seeded, smooth
noise. Each room is one thermal node:

    C · dT/dt = (T_out − T) / R + Q_internal + Q_solar + Q_hvac

integrated exactly over each step for inputs held constant during the step (so any
step length is stable), plus a moisture balance for humidity.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone, tzinfo

from trilink.sim import psychro

#: The home's time zone (Shanghai keeps UTC+8 all year, so a fixed offset is exact).
SHANGHAI: tzinfo = timezone(timedelta(hours=8), "CST")

_T_MIN_HOUR = 5.0
_T_MAX_HOUR = 15.0


@dataclass(frozen=True, slots=True)
class Climate:
    """A climate's daily weather: temperature cycle, humidity and sunshine."""

    name: str
    mean_c: float  # daily mean outdoor temperature
    amplitude_c: float  # half the day's swing between 05:00 and 15:00
    humidity_pct: float  # relative humidity at the daily mean temperature
    solar_peak_w_m2: float  # irradiance reaching a window at solar noon
    sunrise_hour: float = 6.0
    sunset_hour: float = 18.0
    noise_c: float = 0.4  # amplitude of the smooth random wander
    heating_c: float | None = None  # central heating keeps rooms at least this warm, if any


CLIMATES: dict[str, Climate] = {
    "hot-humid": Climate("hot-humid", 30.0, 4.5, 75.0, 450.0, 5.0, 19.0),
    "temperate": Climate("temperate", 18.0, 5.0, 60.0, 380.0, 6.0, 18.5),
    "cold": Climate("cold", -2.0, 4.0, 70.0, 250.0, 7.0, 17.0, heating_c=18.0),
}


def local_hour(now: float, tz: tzinfo) -> float:
    """Hours since local midnight (0 ≤ h < 24) at epoch time ``now``."""
    t = datetime.fromtimestamp(now, tz)
    return t.hour + t.minute / 60 + (t.second + t.microsecond / 1e6) / 3600


class Weather:
    """Outdoor temperature, humidity and sunshine as pure functions of time."""

    def __init__(self, climate: str | Climate = "hot-humid", *, seed: int = 0, tz: tzinfo = SHANGHAI) -> None:
        if isinstance(climate, str):
            if climate not in CLIMATES:
                raise ValueError(f"unknown climate {climate!r} (known: {', '.join(CLIMATES)})")
            climate = CLIMATES[climate]
        self.climate = climate
        self.tz = tz
        rng = random.Random(f"weather-{seed}")
        # three slow sinusoids with random periods and phases: smooth, repeatable noise
        self._wander = [
            (rng.uniform(1.5, 7.0) * 3600.0, rng.uniform(0, 2 * math.pi), rng.uniform(0.3, 1.0))
            for _ in range(3)
        ]
        total = sum(a for _, _, a in self._wander)
        self._wander = [(p, ph, a / total * climate.noise_c) for p, ph, a in self._wander]
        # absolute humidity stays about constant over a day; relative humidity follows temperature
        self._w_out = psychro.humidity_ratio(climate.mean_c, climate.humidity_pct)

    def daily_cycle(self, hour: float) -> float:
        """The noiseless temperature (°C) at local ``hour``: minimum at 05:00, maximum at 15:00."""
        c = self.climate
        rise = _T_MAX_HOUR - _T_MIN_HOUR
        if _T_MIN_HOUR <= hour < _T_MAX_HOUR:
            return c.mean_c - c.amplitude_c * math.cos(math.pi * (hour - _T_MIN_HOUR) / rise)
        since_max = (hour - _T_MAX_HOUR) % 24.0
        return c.mean_c + c.amplitude_c * math.cos(math.pi * since_max / (24.0 - rise))

    def temperature(self, now: float) -> float:
        """Outdoor dry-bulb temperature (°C) at epoch time ``now``."""
        noise = sum(a * math.sin(2 * math.pi * now / p + ph) for p, ph, a in self._wander)
        return self.daily_cycle(local_hour(now, self.tz)) + noise

    def humidity_ratio(self, now: float) -> float:
        """Outdoor humidity ratio (kg/kg), capped at saturation."""
        return min(self._w_out, psychro.saturation_ratio(self.temperature(now)))

    def relative_humidity(self, now: float) -> float:
        """Outdoor relative humidity in percent."""
        return psychro.relative_humidity(self.temperature(now), self.humidity_ratio(now))

    def solar(self, now: float) -> float:
        """Irradiance on a window (W/m²): a half-sine between sunrise and sunset, else 0."""
        c = self.climate
        hour = local_hour(now, self.tz)
        if not c.sunrise_hour < hour < c.sunset_hour:
            return 0.0
        return c.solar_peak_w_m2 * math.sin(
            math.pi * (hour - c.sunrise_hour) / (c.sunset_hour - c.sunrise_hour)
        )


@dataclass(slots=True)
class Room:
    """One room as a single thermal and moisture node.

    Defaults describe a ~25 m² room: UA 80 W/K (R = 0.0125 K/W) and C = 1.2 MJ/K
    (air, furniture and the inner layer of the walls) give a time constant RC ≈ 4.2 h.
    """

    id: str
    name: str
    area_m2: float = 25.0
    ua_w_k: float = 80.0  # 1/R: conduction through the envelope plus infiltration
    capacitance_j_k: float = 1.2e6
    solar_aperture_m2: float = 0.6  # window area × solar heat gain coefficient
    base_gain_w: float = 80.0  # people and small appliances
    moisture_gain_kg_h: float = 0.04  # breathing, cooking, plants
    air_changes_h: float = 0.5
    temperature: float = 26.0
    humidity_ratio: float = 0.012
    #: fraction of the window not covered by curtains (1 = fully open); set by the world
    shading_open: float = 1.0
    #: radiators of a central heating hold the room at this temperature (None: no heating)
    heating_setpoint: float | None = None
    #: radiators are sized to hold the setpoint down to this many kelvin below it outdoors
    radiator_design_dt: float = 30.0

    @property
    def relative_humidity(self) -> float:
        """Relative humidity of the room air, percent."""
        return psychro.relative_humidity(self.temperature, self.humidity_ratio)

    @property
    def time_constant_s(self) -> float:
        """RC, seconds."""
        return self.capacitance_j_k / self.ua_w_k

    def step(
        self,
        dt: float,
        t_out: float,
        w_out: float,
        solar_w_m2: float,
        device_heat_w: float = 0.0,
        moisture_removed_kg_s: float = 0.0,
    ) -> None:
        """Advance ``dt`` seconds.

        ``device_heat_w`` is the heat devices release into the room (negative when an air
        conditioner cools it); ``moisture_removed_kg_s`` is condensate an AC takes out.
        """
        gains = self.base_gain_w + solar_w_m2 * self.solar_aperture_m2 * self.shading_open
        if self.heating_setpoint is not None:
            # thermostatic radiator valve: proportional over a 1 K band, up to the radiator's output
            full = self.ua_w_k * self.radiator_design_dt
            gains += min(max((self.heating_setpoint + 0.5 - self.temperature) * full, 0.0), full)
        t_eq = t_out + (gains + device_heat_w) / self.ua_w_k
        self.temperature = t_eq + (self.temperature - t_eq) * math.exp(-dt / self.time_constant_s)
        # moisture: infiltration exchange with outdoors, sources, AC condensate removal.
        # The air mass is multiplied by 5 for moisture held by furnishings (buffering).
        air_kg = psychro.RHO_AIR * self.area_m2 * 2.7
        exchange_kg_s = air_kg * self.air_changes_h / 3600.0
        sources = self.moisture_gain_kg_h / 3600.0 - moisture_removed_kg_s
        w_eq = w_out + sources / exchange_kg_s
        w = w_eq + (self.humidity_ratio - w_eq) * math.exp(-dt * exchange_kg_s / (5.0 * air_kg))
        self.humidity_ratio = min(max(w, 0.0005), psychro.saturation_ratio(self.temperature))
