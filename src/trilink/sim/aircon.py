"""A split air conditioner (~3.5 kW cooling) with a thermostat and injectable faults.

The refrigeration cycle follows EnergyPlus's single-speed DX coil model
(Coil:Cooling:DX:SingleSpeed, EnergyPlus Engineering Reference): full-load capacity and
energy input ratio (EIR = power / capacity) at rated conditions, corrected by
biquadratic curves of indoor wet-bulb and outdoor dry-bulb temperature and by
quadratic curves of the airflow fraction; coil leaving air by the apparatus dew point
and bypass factor method. The curve coefficients are those of EnergyPlus's example
heat pump (HPACCoolCapFT, HPACCOOLEIRFT, HPACCoolCapFFF, HPACCOOLEIRFFF, HPACHeat*).

Faults (see docs/simulator.md for the formulas and sources):

- ``filter_clog`` F ∈ [0, 1): evaporator fouling as in NREL's EvaporatorFouling fault
  measure (Kim et al. 2019): airflow × (1 − F); fan pressure rise × (1 + (c_F − 1)·F·(2 − F)),
  c_F = 1.4048; the coil then sees the lower flow through the flow-fraction curves.
- ``undercharge`` F ∈ [0, 1): refrigerant charge lost, as in NREL's NonStandardCharging
  measure, whose correlations come from Cheung & Braun (2013):
  capacity and EIR × (1 + F·(a1 + a2·T̃wb + a3·T̃odb + a4·F + a5·F² + a6·COP_rated)),
  T̃ = T/273.15 + 1, and coil conductance UA × (1 − 1.39·F).

Faults can also come on gradually: ``filter_clog_rate`` (airflow fraction lost per day
as dust loads the filter) and ``leak_rate`` (charge fraction lost per day) advance the
two levels every step, up to :data:`MAX_FAULT_LEVEL`.

Telemetry noise: with ``sensor_noise=True`` (a number scales it; a mapping gives σ by property name) the
reported values get seeded Gaussian noise of the σ in :data:`SENSOR_NOISE`; the physics
itself is never noisy.

The compressor cycles: a PI thermostat gives the part-load ratio PLR; the runtime
fraction is PLR / PLF with PLF = 0.85 + 0.15·PLR (cycling losses). Powers and energy are
averages over the step; supply-air and coil temperatures are those of the compressor
running at the room's air as it is when the telemetry is read (fan-only values when it
did not run in the step), so a reading is self-consistent as a sensor's would be.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping
from dataclasses import dataclass
from enum import IntEnum
from typing import Any, ClassVar

from trilink.sim import psychro
from trilink.sim.behaviour import Behaviour, PropKey
from trilink.sim.thermal import Room, Weather

# EnergyPlus example heat-pump curves. Cooling: x = indoor wet bulb, y = outdoor dry bulb (°C)
COOL_CAP_FT = (0.942587793, 0.009543347, 0.000683770, -0.011042676, 0.000005249, -0.000009720)
COOL_EIR_FT = (0.342414409, 0.034885008, -0.000623700, 0.004977216, 0.000437951, -0.000728028)
COOL_CAP_FFF = (0.8, 0.2, 0.0)
COOL_EIR_FFF = (1.1552, -0.1808, 0.0256)
PART_LOAD_FRACTION = (0.85, 0.15)
# heating: x = outdoor dry bulb (°C), cubic
HEAT_CAP_FT = (0.758746, 0.027626, 0.000148716, 0.0000034992)
HEAT_EIR_FT = (1.19248, -0.0300438, 0.00103745, -0.000023328)
HEAT_CAP_FFF = (0.84, 0.16, 0.0)
HEAT_EIR_FFF = (1.3824, -0.4336, 0.0512)

# Refrigerant undercharge (NREL OpenStudio fault measure "NonStandardCharging", after
# Cheung & Braun 2013): a1..a6 for capacity and for EIR, and the limits of its inputs.
UNDERCHARGE_Q = (7.717900, -10.765000, 3.129000, -0.884030, 0.300430, -0.036993)
UNDERCHARGE_EIR = (-5.741900, 8.670900, -4.410400, 1.248900, 1.209500, 0.360510)
UNDERCHARGE_WB = (12.8, 23.9)
UNDERCHARGE_ODB = (18.3, 46.1)
UNDERCHARGE_COP = (3.74, 4.69)
UNDERCHARGE_UA_SLOPE = -1.39  # fractional change of coil UA per unit of charge lost
# Evaporator fouling (NREL OpenStudio fault measure "EvaporatorFouling"): fan curve coefficient
FOULING_FAN_C = 1.4048
#: the highest level a gradual fault grows to
MAX_FAULT_LEVEL = 0.9
#: σ of the noise on each reported telemetry value (property name → σ in its unit); the
#: airflow and the two powers are relative (σ as a fraction of the value)
SENSOR_NOISE: dict[str, float] = {
    "temperature": 0.2,  # indoor °C
    "relative-humidity": 1.5,  # % RH
    "outdoor-temperature": 0.3,  # °C
    "supply-air-temperature": 0.25,  # °C
    "coil-temperature": 0.25,  # °C
    "airflow": 0.015,  # relative
    "compressor-power": 0.02,  # relative
    "fan-power": 0.02,  # relative
    "runtime-fraction": 1.0,  # percentage points
}
_RELATIVE_NOISE = frozenset({"airflow", "compressor-power", "fan-power"})
#: lowest apparatus dew point (°C) the coil reaches before frosting limits it
COIL_DEW_POINT_FLOOR = 2.0


class Mode(IntEnum):
    """Operating modes, as the spec's value-list numbers them."""

    AUTO = 1
    COOL = 2
    DRY = 3
    FAN = 4
    HEAT = 5


class FanLevel(IntEnum):
    """Indoor fan levels, as the spec's value-list numbers them."""

    AUTO = 0
    LOW = 1
    MEDIUM = 2
    HIGH = 3


#: indoor fan speed as a fraction of the rated (high) speed
FAN_SPEED = {FanLevel.LOW: 0.65, FanLevel.MEDIUM: 0.82, FanLevel.HIGH: 1.0}


def biquadratic(c: tuple[float, ...], x: float, y: float) -> float:
    """EnergyPlus Curve:Biquadratic."""
    return c[0] + c[1] * x + c[2] * x * x + c[3] * y + c[4] * y * y + c[5] * x * y


def polynomial(c: tuple[float, ...], x: float) -> float:
    """A polynomial with coefficients in rising powers (Curve:Quadratic, Curve:Cubic)."""
    return sum(k * x**i for i, k in enumerate(c))


def _clamp(x: float, lo: float, hi: float) -> float:
    return min(max(x, lo), hi)


def undercharge_ratios(fault: float, t_wb: float, t_odb: float, rated_cop: float) -> tuple[float, float]:
    """Capacity and EIR multipliers for a fraction ``fault`` of refrigerant charge lost.

    The correlation was fitted for up to 30 % undercharge; beyond that it is extrapolated,
    which takes capacity towards zero as the charge runs out.
    """
    if fault <= 0.0:
        return 1.0, 1.0
    wb = _clamp(t_wb, *UNDERCHARGE_WB) / 273.15 + 1.0
    odb = _clamp(t_odb, *UNDERCHARGE_ODB) / 273.15 + 1.0
    cop = _clamp(rated_cop, *UNDERCHARGE_COP)

    def ratio(a: tuple[float, ...]) -> float:
        return 1.0 + fault * (a[0] + a[1] * wb + a[2] * odb + a[3] * fault + a[4] * fault**2 + a[5] * cop)

    return max(0.02, ratio(UNDERCHARGE_Q)), max(1.0, ratio(UNDERCHARGE_EIR))


def fouled_fan(fault: float) -> tuple[float, float]:
    """Airflow and fan-power multipliers for a fraction ``fault`` of airflow lost to fouling."""
    pressure = 1.0 + (FOULING_FAN_C - 1.0) * fault * (2.0 - fault)
    return 1.0 - fault, (1.0 - fault) * pressure


@dataclass(frozen=True, slots=True)
class OperatingPoint:
    """The unit's steady operation with the compressor running (or the fan alone)."""

    airflow_m3h: float
    capacity_w: float  # total cooling (positive) or heating capacity; 0 with the fan alone
    compressor_power_w: float
    fan_power_w: float
    supply_temperature: float  # after the fan
    supply_humidity_ratio: float
    coil_temperature: float  # refrigerant saturation temperature, as a coil thermistor reads it
    sensible_w: float  # heat added to the air (negative when cooling), fan heat included
    moisture_removed_kg_s: float

    @property
    def energy_per_capacity(self) -> float:
        """Compressor power per unit of capacity (the EIR); lower is better."""
        return self.compressor_power_w / self.capacity_w if self.capacity_w > 0 else math.inf


class AirConditioner(Behaviour):
    """A wall-mounted split unit in one room."""

    model: ClassVar[str] = "trilink.aircondition.sim1"
    deadbands: ClassVar[dict[PropKey, float]] = {
        ("ac-telemetry", "compressor-power"): 5.0,
        ("ac-telemetry", "energy"): 0.01,
        ("ac-telemetry", "runtime-fraction"): 1.0,
        ("ac-telemetry", "coil-temperature"): 0.2,
        ("ac-telemetry", "supply-air-temperature"): 0.2,
        ("ac-telemetry", "outdoor-temperature"): 0.2,
    }

    def __init__(
        self,
        room: Room,
        weather: Weather,
        *,
        rated_capacity_w: float = 3500.0,
        rated_cop: float = 3.6,
        rated_heating_w: float = 4000.0,
        rated_heating_cop: float = 3.8,
        rated_airflow_m3h: float = 650.0,
        rated_fan_power_w: float = 35.0,
        rated_bypass_factor: float = 0.1,
        coil_approach_k: float = 3.0,
        filter_clog_rate: float = 0.0,
        leak_rate: float = 0.0,
        sensor_noise: bool | float | Mapping[str, float] = False,
        noise_seed: float = 0,
    ) -> None:
        super().__init__()
        self.room = room
        self.weather = weather
        self.rated_capacity_w = rated_capacity_w
        self.rated_cop = rated_cop
        self.rated_heating_w = rated_heating_w
        self.rated_heating_cop = rated_heating_cop
        self.rated_airflow_m3h = rated_airflow_m3h
        self.rated_fan_power_w = rated_fan_power_w
        # NTU-like coil constant: bypass factor BF = exp(-A0 / m_dot) (EnergyPlus)
        self._a0 = -psychro.RHO_AIR * rated_airflow_m3h / 3600.0 * math.log(rated_bypass_factor)
        # refrigerant-side conductance: the coil runs coil_approach_k below its dew point at rating
        self._ua_refrigerant = rated_capacity_w / coil_approach_k
        self.on = False
        self.mode = Mode.COOL
        self.target_temperature = 26.0
        self.fan_level = FanLevel.AUTO
        self._filter_clog = 0.0
        self._undercharge = 0.0
        #: airflow fraction lost per day as the filter loads with dust (added to ``filter_clog``)
        self.filter_clog_rate = filter_clog_rate
        #: refrigerant charge fraction lost per day by a slow leak (added to ``undercharge``)
        self.leak_rate = leak_rate
        #: σ of the telemetry noise by property name (empty: no noise)
        self.sensor_noise: dict[str, float]
        if isinstance(sensor_noise, Mapping):
            self.sensor_noise = dict(sensor_noise)
        else:  # True: the documented σ; a number scales them
            self.sensor_noise = {k: v * float(sensor_noise) for k, v in SENSOR_NOISE.items() if sensor_noise}
        self._noise_rng = random.Random(f"ac-noise-{int(noise_seed)}")
        # controller and outputs of the last step
        self._integral = 0.0
        self._active = Mode.COOL  # what AUTO is doing now
        self.outdoor_temperature = weather.climate.mean_c  # until the first step reads the weather
        self.point = self._fan_only()
        # (mode, fan level) the compressor ran at in the last step, None when it did not
        self._running: tuple[Mode, FanLevel] | None = None
        self._reading: OperatingPoint | None = None
        self.runtime_fraction = 0.0
        self.compressor_power_w = 0.0
        self.energy_kwh = 0.0
        self.moisture_removed_kg_s = 0.0

    # ----------------------------------------------------------------- faults
    @property
    def filter_clog(self) -> float:
        """Fraction of indoor airflow lost to a clogged filter / fouled evaporator, in [0, 1)."""
        return self._filter_clog

    @filter_clog.setter
    def filter_clog(self, value: float) -> None:
        self._filter_clog = _fault_level("filter_clog", value)

    @property
    def undercharge(self) -> float:
        """Fraction of refrigerant charge lost, in [0, 1)."""
        return self._undercharge

    @undercharge.setter
    def undercharge(self, value: float) -> None:
        self._undercharge = _fault_level("undercharge", value)

    # ---------------------------------------------------------------- physics
    def airflow_m3h(self, level: FanLevel) -> float:
        """Indoor airflow at a fan level (not AUTO), with the filter as it is."""
        return self.rated_airflow_m3h * FAN_SPEED[level] * fouled_fan(self._filter_clog)[0]

    def fan_power_w(self, level: FanLevel) -> float:
        """Indoor fan power at a fan level: affinity law (speed³) and the fouling fan curve."""
        return self.rated_fan_power_w * FAN_SPEED[level] ** 3 * fouled_fan(self._filter_clog)[1]

    def cooling_point(
        self, t_in: float, w_in: float, t_out: float, level: FanLevel = FanLevel.HIGH
    ) -> OperatingPoint:
        """Full-load cooling at indoor ``t_in`` °C / humidity ratio ``w_in`` and outdoor ``t_out``."""
        airflow = self.airflow_m3h(level)
        fan_w = self.fan_power_w(level)
        ff = max(0.1, airflow / self.rated_airflow_m3h)
        t_wb = psychro.wet_bulb(t_in, w_in)
        wb_c, odb_c = _clamp(t_wb, 12.77778, 23.88889), _clamp(t_out, 18.0, 46.11111)
        q_ratio, eir_ratio = undercharge_ratios(self._undercharge, t_wb, t_out, self.rated_cop)
        capacity = (
            self.rated_capacity_w
            * biquadratic(COOL_CAP_FT, wb_c, odb_c)
            * polynomial(COOL_CAP_FFF, ff)
            * q_ratio
        )
        eir = (
            biquadratic(COOL_EIR_FT, wb_c, odb_c) * polynomial(COOL_EIR_FFF, ff) * eir_ratio / self.rated_cop
        )
        ua_factor = max(0.1, 1.0 + UNDERCHARGE_UA_SLOPE * self._undercharge)
        m_dot = psychro.RHO_AIR * airflow / 3600.0
        bf = math.exp(-self._a0 * ua_factor / m_dot)
        h_in = psychro.enthalpy(t_in, w_in)
        # With too little air the coil cannot deliver its capacity: the evaporating
        # pressure falls until the coil nears freezing. Cap the capacity there (EIR kept).
        h_floor = psychro.enthalpy(COIL_DEW_POINT_FLOOR, psychro.saturation_ratio(COIL_DEW_POINT_FLOOR))
        capacity = max(0.0, min(capacity, m_dot * (1.0 - bf) * (h_in - h_floor)))
        dh = capacity / m_dot
        t_adp = psychro.saturation_temperature(h_in - dh / (1.0 - bf))
        w_adp = psychro.saturation_ratio(t_adp)
        if w_adp < w_in:  # wet coil: leaving air on the line from the inlet to the dew point
            w_leave = bf * w_in + (1.0 - bf) * w_adp
            h_leave = h_in - dh
            t_leave = (h_leave - 2_501_000.0 * w_leave) / (1006.0 + 1860.0 * w_leave)
        else:  # dry coil: sensible cooling only
            w_leave = w_in
            t_leave = t_in - dh / (1006.0 + 1860.0 * w_in)
            t_adp = t_in - (t_in - t_leave) / (1.0 - bf)
        coil = max(-5.0, t_adp - capacity / (self._ua_refrigerant * ua_factor))
        fan_rise = fan_w / (m_dot * psychro.CP_AIR)
        return OperatingPoint(
            airflow_m3h=airflow,
            capacity_w=capacity,
            compressor_power_w=capacity * eir,
            fan_power_w=fan_w,
            supply_temperature=t_leave + fan_rise,
            supply_humidity_ratio=w_leave,
            coil_temperature=coil,
            sensible_w=-m_dot * psychro.CP_AIR * (t_in - t_leave) + fan_w,
            moisture_removed_kg_s=m_dot * (w_in - w_leave),
        )

    def heating_point(
        self, t_in: float, w_in: float, t_out: float, level: FanLevel = FanLevel.HIGH
    ) -> OperatingPoint:
        """Full-load heating at indoor ``t_in`` °C and outdoor ``t_out`` °C."""
        airflow = self.airflow_m3h(level)
        fan_w = self.fan_power_w(level)
        ff = max(0.1, airflow / self.rated_airflow_m3h)
        odb = _clamp(t_out, -20.0, 20.0)
        capacity = self.rated_heating_w * polynomial(HEAT_CAP_FT, odb) * polynomial(HEAT_CAP_FFF, ff)
        eir = polynomial(HEAT_EIR_FT, odb) * polynomial(HEAT_EIR_FFF, ff) / self.rated_heating_cop
        m_dot = psychro.RHO_AIR * airflow / 3600.0
        bf = math.exp(-self._a0 / m_dot)
        rise = capacity / (m_dot * psychro.CP_AIR)
        coil = t_in + rise / (1.0 - bf) + capacity / self._ua_refrigerant
        fan_rise = fan_w / (m_dot * psychro.CP_AIR)
        return OperatingPoint(
            airflow_m3h=airflow,
            capacity_w=capacity,
            compressor_power_w=capacity * eir,
            fan_power_w=fan_w,
            supply_temperature=t_in + rise + fan_rise,
            supply_humidity_ratio=w_in,
            coil_temperature=coil,
            sensible_w=capacity + fan_w,
            moisture_removed_kg_s=0.0,
        )

    def _fan_only(self, level: FanLevel | None = None) -> OperatingPoint:
        t_in, w_in = self.room.temperature, self.room.humidity_ratio
        if level is None:
            return OperatingPoint(0.0, 0.0, 0.0, 0.0, t_in, w_in, t_in, 0.0, 0.0)
        airflow, fan_w = self.airflow_m3h(level), self.fan_power_w(level)
        rise = fan_w / (psychro.RHO_AIR * airflow / 3600.0 * psychro.CP_AIR)
        return OperatingPoint(airflow, 0.0, 0.0, fan_w, t_in + rise, w_in, t_in, fan_w, 0.0)

    def _active_mode(self) -> Mode:
        if self.mode != Mode.AUTO:
            return self.mode
        t, target = self.room.temperature, self.target_temperature
        if t > target + 1.0:
            self._active = Mode.COOL
        elif t < target - 1.5:
            self._active = Mode.HEAT
        return self._active

    def _fan_for(self, mode: Mode, error: float) -> FanLevel:
        if mode == Mode.DRY:
            return FanLevel.LOW
        if self.fan_level != FanLevel.AUTO:
            return self.fan_level
        if mode == Mode.FAN:
            return FanLevel.MEDIUM
        return FanLevel.HIGH if error > 1.5 else FanLevel.MEDIUM if error > 0.5 else FanLevel.LOW

    def _part_load(self, error: float, dt: float) -> float:
        """PI thermostat: 100 % at 1.7 K above the target, integral time 15 min, anti-windup."""
        kp, ti = 0.6, 900.0
        plr = kp * error + self._integral
        if 0.0 < plr < 1.0 or (plr <= 0.0 < error) or (plr >= 1.0 and error < 0.0):
            self._integral = _clamp(self._integral + kp * error * dt / ti, -0.5, 1.0)
        return _clamp(kp * error + self._integral, 0.0, 1.0)

    def advance_faults(self, dt: float) -> None:
        """Let the gradual faults grow for ``dt`` seconds (``step`` calls this)."""
        if self.filter_clog_rate > 0.0:
            self._filter_clog = min(MAX_FAULT_LEVEL, self._filter_clog + self.filter_clog_rate * dt / 86400.0)
        if self.leak_rate > 0.0:
            self._undercharge = min(MAX_FAULT_LEVEL, self._undercharge + self.leak_rate * dt / 86400.0)

    def step(self, now: float, dt: float) -> None:
        """Run the thermostat and the refrigeration cycle for ``dt`` seconds."""
        self.advance_faults(dt)
        t_out = self.weather.temperature(now)
        self.outdoor_temperature = t_out
        plr = 0.0
        running: tuple[Mode, FanLevel] | None = None
        if not self.on:
            self._integral = 0.0
            point = self._fan_only()
        else:
            mode = self._active_mode()
            t_in, w_in = self.room.temperature, self.room.humidity_ratio
            error = t_in - self.target_temperature if mode != Mode.HEAT else self.target_temperature - t_in
            level = self._fan_for(mode, error)
            if mode == Mode.FAN:
                point = self._fan_only(level)
            else:
                point = (self.heating_point if mode == Mode.HEAT else self.cooling_point)(
                    t_in, w_in, t_out, level
                )
                plr = self._part_load(error, dt)
                if mode == Mode.DRY:
                    plr = min(plr, 0.5)
                if plr <= 0.0:
                    point = self._fan_only(level)
                else:
                    running = (mode, level)
        rtf = min(1.0, plr / polynomial(PART_LOAD_FRACTION, plr)) if plr > 0 else 0.0
        self.point = point
        self._running = running
        self._reading = None
        self.runtime_fraction = rtf
        self.compressor_power_w = point.compressor_power_w * rtf
        # the room gets the coil's effect for the part-load share and the fan's heat always
        coil_heat = point.sensible_w - point.fan_power_w
        self.heat_w = coil_heat * plr + point.fan_power_w
        self.moisture_removed_kg_s = point.moisture_removed_kg_s * plr
        self.energy_kwh += (self.compressor_power_w + point.fan_power_w) * dt / 3.6e6

    # --------------------------------------------------------------- the spec
    def values(self) -> dict[PropKey, Any]:
        """Readable properties: settings, the room's air, and the operating telemetry.

        With sensor noise on, the measured values carry it (see :data:`SENSOR_NOISE`).
        """
        true = self.true_values()
        if not self.sensor_noise:
            return true
        gauss = self._noise_rng.gauss
        out = dict(true)
        for key, value in true.items():
            sigma = self.sensor_noise.get(key[1])
            if not sigma or isinstance(value, bool) or key[0] not in ("environment", "ac-telemetry"):
                continue
            if key[1] in _RELATIVE_NOISE:
                noisy = value * (1.0 + gauss(0.0, sigma)) if value > 0 else value
            else:
                noisy = value + gauss(0.0, sigma)
            if key[1] in ("relative-humidity", "runtime-fraction"):
                noisy = _clamp(noisy, 0.0, 100.0) if value > 0 or key[1] == "relative-humidity" else 0.0
            out[key] = noisy
        return out

    def reading_point(self) -> OperatingPoint:
        """The operating point as sensors read it now: at the room's present air when the
        compressor ran in the last step (the room has moved on since the step began), else
        the step's own point."""
        if self._running is None:
            return self.point
        if self._reading is None:
            mode, level = self._running
            t_in, w_in = self.room.temperature, self.room.humidity_ratio
            fn = self.heating_point if mode == Mode.HEAT else self.cooling_point
            self._reading = fn(t_in, w_in, self.outdoor_temperature, level)
        return self._reading

    def true_values(self) -> dict[PropKey, Any]:
        """The readable properties without sensor noise."""
        p = self.reading_point()
        return {
            ("air-conditioner", "on"): self.on,
            ("air-conditioner", "mode"): int(self.mode),
            ("air-conditioner", "target-temperature"): self.target_temperature,
            ("fan-control", "fan-level"): int(self.fan_level),
            ("environment", "temperature"): self.room.temperature,
            ("environment", "relative-humidity"): self.room.relative_humidity,
            ("ac-telemetry", "outdoor-temperature"): self.outdoor_temperature,
            ("ac-telemetry", "supply-air-temperature"): p.supply_temperature,
            ("ac-telemetry", "airflow"): p.airflow_m3h,
            ("ac-telemetry", "compressor-power"): self.compressor_power_w,
            ("ac-telemetry", "fan-power"): p.fan_power_w,
            ("ac-telemetry", "runtime-fraction"): self.runtime_fraction * 100.0,
            ("ac-telemetry", "coil-temperature"): p.coil_temperature,
            ("ac-telemetry", "energy"): self.energy_kwh,
        }

    def write(self, service: str, prop: str, value: Any) -> None:
        """Settings from the remote control (or the hub)."""
        match (service, prop):
            case ("air-conditioner", "on"):
                self.on = bool(value)
            case ("air-conditioner", "mode"):
                self.mode = Mode(value)
                self._integral = 0.0
            case ("air-conditioner", "target-temperature"):
                self.target_temperature = float(value)
            case ("fan-control", "fan-level"):
                self.fan_level = FanLevel(value)
            case _:
                super().write(service, prop, value)


def _fault_level(name: str, value: float) -> float:
    v = float(value)
    if not 0.0 <= v < 1.0:
        raise ValueError(f"{name} must be in [0, 1), got {value!r}")
    return v
