"""The home's smaller devices: light, door lock, curtain, robot vacuum, metered plug, T/H sensor."""

from __future__ import annotations

import math
import random
from datetime import tzinfo
from enum import IntEnum
from typing import Any, ClassVar

from trilink.sim.behaviour import ActionRefused, Behaviour, PropKey
from trilink.sim.thermal import SHANGHAI, Room, local_hour


class Light(Behaviour):
    """A dimmable RGB LED lamp with tunable white; its power ends up as heat in the room."""

    model: ClassVar[str] = "trilink.light.sim1"
    rated_w = 9.0

    def __init__(self) -> None:
        super().__init__()
        self.on = False
        self.brightness = 80
        self.color_temperature = 4000
        self.color = 0xFFFFFF  # RGB as one integer

    def step(self, now: float, dt: float) -> None:
        """LED power roughly follows brightness, with a small driver loss."""
        self.heat_w = (0.5 + self.rated_w * self.brightness / 100.0) if self.on else 0.3

    def values(self) -> dict[PropKey, Any]:
        """On, brightness, colour temperature and colour."""
        return {
            ("light", "on"): self.on,
            ("light", "brightness"): self.brightness,
            ("light", "color-temperature"): self.color_temperature,
            ("light", "color"): self.color,
        }

    def write(self, service: str, prop: str, value: Any) -> None:
        """Switch, dim or tint the light."""
        match (service, prop):
            case ("light", "on"):
                self.on = bool(value)
            case ("light", "brightness"):
                self.brightness = int(value)
            case ("light", "color-temperature"):
                self.color_temperature = int(value)
            case ("light", "color"):
                self.color = int(value)
            case _:
                super().write(service, prop, value)


class LockMethod(IntEnum):
    """How the lock was last operated, as the spec's value-list numbers it."""

    HUB = 0
    KEY = 1
    KEYPAD = 2
    AUTO = 3


class DoorLock(Behaviour):
    """A battery-powered door lock; every operation costs a little charge."""

    model: ClassVar[str] = "trilink.lock.sim1"
    per_operation_pct = 0.02
    self_discharge_pct_day = 0.01

    def __init__(self, *, battery: float = 92.0, auto_lock_after: float | None = None) -> None:
        super().__init__()
        self.locked = True
        self.method = LockMethod.KEY
        self.battery = battery
        #: seconds after an unlock at which the lock re-locks itself (None: never)
        self.auto_lock_after = auto_lock_after
        self._unlocked_for = 0.0

    def operate(self, lock: bool, method: LockMethod) -> None:
        """Lock or unlock by ``method`` (a person with a key, the keypad, the hub …)."""
        self.locked = lock
        self.method = method
        self._unlocked_for = 0.0
        self.battery = max(0.0, self.battery - self.per_operation_pct)
        self.emit("lock", "lock-event", {"lock-state": lock, "operation-method": int(method)})

    def step(self, now: float, dt: float) -> None:
        """Self-discharge, and the auto-lock timer."""
        self.battery = max(0.0, self.battery - self.self_discharge_pct_day * dt / 86400.0)
        if not self.locked and self.auto_lock_after is not None:
            self._unlocked_for += dt
            if self._unlocked_for >= self.auto_lock_after:
                self.operate(True, LockMethod.AUTO)

    def values(self) -> dict[PropKey, Any]:
        """Lock state, last method and battery."""
        return {
            ("lock", "lock-state"): self.locked,
            ("lock", "operation-method"): int(self.method),
            ("battery", "battery-level"): math.floor(self.battery),
        }

    def call(self, service: str, action: str, args: list[Any]) -> list[Any]:
        """Lock or unlock on the hub's request."""
        match (service, action):
            case ("lock", "lock"):
                self.operate(True, LockMethod.HUB)
            case ("lock", "unlock"):
                self.operate(False, LockMethod.HUB)
            case _:
                return super().call(service, action, args)
        return []


class Curtain(Behaviour):
    """A motorised curtain moving toward its target position at a few percent per second."""

    model: ClassVar[str] = "trilink.curtain.sim1"

    def __init__(self, *, speed_pct_s: float = 4.0, position: float = 100.0) -> None:
        super().__init__()
        self.speed_pct_s = speed_pct_s
        self.position = position
        self.target = round(position)

    @property
    def open_fraction(self) -> float:
        """How much of the window is uncovered (0 closed … 1 open)."""
        return self.position / 100.0

    def step(self, now: float, dt: float) -> None:
        """Move toward the target."""
        gap = self.target - self.position
        move = min(abs(gap), self.speed_pct_s * dt)
        self.position += math.copysign(move, gap)

    def values(self) -> dict[PropKey, Any]:
        """Current and target positions."""
        return {("curtain", "current-position"): self.position, ("curtain", "target-position"): self.target}

    def write(self, service: str, prop: str, value: Any) -> None:
        """Set a target, or open/close/pause the motor."""
        match (service, prop):
            case ("curtain", "target-position"):
                self.target = int(value)
            case ("curtain", "motor-control"):
                self.target = {0: round(self.position), 1: 100, 2: 0}[int(value)]
            case _:
                super().write(service, prop, value)


class VacuumStatus(IntEnum):
    """Robot vacuum states, as the spec's value-list numbers them."""

    IDLE = 1
    SWEEPING = 2
    PAUSED = 3
    RETURNING = 4
    CHARGING = 5
    ERROR = 6


class RobotVacuum(Behaviour):
    """A robot vacuum that sweeps the flat, returns to its dock and recharges."""

    model: ClassVar[str] = "trilink.vacuum.sim1"
    #: by suction mode (quiet, standard, strong, turbo): m² per minute and battery % per minute
    coverage_m2_min = (1.0, 0.9, 0.8, 0.7)
    drain_pct_min = (0.5, 0.7, 1.0, 1.4)
    charge_pct_min = 0.6
    return_s = 60.0
    low_battery_pct = 15.0

    def __init__(self, *, area_m2: float = 60.0, battery: float = 100.0) -> None:
        super().__init__()
        self.area_m2 = area_m2
        self.battery = battery
        self.status = VacuumStatus.IDLE
        self.mode = 1
        self.cleaned_m2 = 0.0
        self.cleaning_s = 0.0
        self.docked = True
        self._returning_for = 0.0

    def step(self, now: float, dt: float) -> None:
        """Sweep, return, or charge."""
        per_min = dt / 60.0
        if self.status == VacuumStatus.SWEEPING:
            self.cleaned_m2 = min(self.area_m2, self.cleaned_m2 + self.coverage_m2_min[self.mode] * per_min)
            self.cleaning_s += dt
            self.battery = max(0.0, self.battery - self.drain_pct_min[self.mode] * per_min)
            if self.cleaned_m2 >= self.area_m2 or self.battery <= self.low_battery_pct:
                self._go_home()
        elif self.status == VacuumStatus.RETURNING:
            self._returning_for += dt
            self.battery = max(0.0, self.battery - 0.3 * per_min)
            if self._returning_for >= self.return_s:
                self.docked = True
                self.status = VacuumStatus.CHARGING
        elif self.docked:
            self.battery = min(100.0, self.battery + self.charge_pct_min * per_min)
            self.status = VacuumStatus.CHARGING if self.battery < 100.0 else VacuumStatus.IDLE
        else:
            self.battery = max(0.0, self.battery - 0.02 * per_min)

    def _go_home(self) -> None:
        self.status = VacuumStatus.RETURNING
        self._returning_for = 0.0

    def values(self) -> dict[PropKey, Any]:
        """Status, fault, suction mode, session area and time, battery."""
        return {
            ("vacuum", "status"): int(self.status),
            ("vacuum", "fault"): 0,
            ("vacuum", "mode"): self.mode,
            ("vacuum", "cleaning-area"): self.cleaned_m2,
            ("vacuum", "cleaning-time"): self.cleaning_s // 60,
            ("battery", "battery-level"): math.floor(self.battery),
        }

    def write(self, service: str, prop: str, value: Any) -> None:
        """Suction mode."""
        if (service, prop) == ("vacuum", "mode"):
            self.mode = int(value)
        else:
            super().write(service, prop, value)

    def call(self, service: str, action: str, args: list[Any]) -> list[Any]:
        """Start, stop, pause, or send to the dock."""
        match (service, action):
            case ("vacuum", "start-sweep"):
                if self.battery <= self.low_battery_pct:
                    raise ActionRefused(f"battery too low to sweep ({self.battery:.0f} %)")
                if self.status != VacuumStatus.PAUSED:
                    self.cleaned_m2, self.cleaning_s = 0.0, 0.0
                self.status = VacuumStatus.SWEEPING
                self.docked = False
            case ("vacuum", "stop-sweeping"):
                if self.status in (VacuumStatus.SWEEPING, VacuumStatus.PAUSED, VacuumStatus.RETURNING):
                    self.status = VacuumStatus.IDLE
            case ("vacuum", "pause-sweeping"):
                if self.status == VacuumStatus.SWEEPING:
                    self.status = VacuumStatus.PAUSED
            case ("battery", "start-charge"):
                if not self.docked:
                    self._go_home()
            case _:
                return super().call(service, action, args)
        return []


class Fridge:
    """A fridge behind a plug: a thermostat (3-5 °C) cycling a ~90 W compressor."""

    def __init__(
        self, *, capacitance_j_k: float = 60_000.0, ua_w_k: float = 1.5, cooling_w: float = 110.0
    ) -> None:
        self.capacitance_j_k = capacitance_j_k
        self.ua_w_k = ua_w_k
        self.cooling_w = cooling_w
        self.temperature = 4.0
        self.compressor_on = False

    def step(self, dt: float, ambient: float, powered: bool) -> float:
        """Advance ``dt`` seconds in a kitchen at ``ambient`` °C; returns electrical power (W)."""
        if not powered:
            self.compressor_on = False
        elif self.temperature >= 5.0:
            self.compressor_on = True
        elif self.temperature <= 3.0:
            self.compressor_on = False
        q = self.ua_w_k * (ambient - self.temperature) - (self.cooling_w if self.compressor_on else 0.0)
        self.temperature += q * dt / self.capacitance_j_k
        if not powered:
            return 0.0
        return (88.0 if self.compressor_on else 0.0) + 1.5  # compressor, and the control board


class SmartPlug(Behaviour):
    """A metering plug with a fridge behind it; voltage follows the grid with seeded noise."""

    model: ClassVar[str] = "trilink.plug.sim1"
    deadbands: ClassVar[dict[PropKey, float]] = {
        ("power-consumption", "voltage"): 1.0,
        ("power-consumption", "electric-current"): 0.02,
        ("power-consumption", "power-consumption"): 0.01,
    }

    def __init__(self, room: Room, *, seed: int = 0, tz: tzinfo = SHANGHAI) -> None:
        super().__init__()
        self.room = room
        self.tz = tz
        self.on = True
        self.fridge = Fridge()
        self.power_w = 0.0
        self.energy_kwh = 0.0
        self.voltage = 228.0
        self._rng = random.Random(f"plug-{room.id}-{seed}")

    @property
    def current_a(self) -> float:
        """RMS current; a compressor motor has a power factor near 0.7."""
        pf = 0.7 if self.fridge.compressor_on else 0.95
        return self.power_w / (self.voltage * pf) if self.voltage > 0 else 0.0

    def step(self, now: float, dt: float) -> None:
        """Run the fridge; meter its energy; the grid voltage sags in the evening peak."""
        self.power_w = self.fridge.step(dt, self.room.temperature, self.on)
        self.energy_kwh += self.power_w * dt / 3.6e6
        self.heat_w = self.power_w  # all of it ends up as heat in the kitchen
        evening = math.exp(-((local_hour(now, self.tz) - 19.5) ** 2) / 4.0)  # around 19:30
        self.voltage = 229.0 - 6.0 * evening + self._rng.gauss(0.0, 0.4)

    def values(self) -> dict[PropKey, Any]:
        """Switch and metering."""
        return {
            ("switch", "on"): self.on,
            ("power-consumption", "electric-power"): self.power_w,
            ("power-consumption", "power-consumption"): self.energy_kwh,
            ("power-consumption", "voltage"): self.voltage,
            ("power-consumption", "electric-current"): self.current_a,
        }

    def write(self, service: str, prop: str, value: Any) -> None:
        """Switch the socket."""
        if (service, prop) == ("switch", "on"):
            self.on = bool(value)
        else:
            super().write(service, prop, value)


class THSensor(Behaviour):
    """A temperature/humidity sensor reading its room, with seeded noise and a small bias."""

    model: ClassVar[str] = "trilink.sensor_ht.sim1"
    deadbands: ClassVar[dict[PropKey, float]] = {
        ("temperature-humidity-sensor", "temperature"): 0.2,
        ("temperature-humidity-sensor", "relative-humidity"): 1.0,
    }
    noise_c = 0.05
    noise_rh = 0.5

    def __init__(self, room: Room, *, seed: int = 0) -> None:
        super().__init__()
        self.room = room
        self._rng = random.Random(f"sensor-{room.id}-{seed}")
        self.bias_c = self._rng.uniform(-0.2, 0.2)
        self.bias_rh = self._rng.uniform(-2.0, 2.0)
        self.battery = self._rng.uniform(70.0, 100.0)
        self.temperature = room.temperature
        self.humidity = room.relative_humidity

    def step(self, now: float, dt: float) -> None:
        """Sample the room air."""
        self.temperature = self.room.temperature + self.bias_c + self._rng.gauss(0.0, self.noise_c)
        rh = self.room.relative_humidity + self.bias_rh + self._rng.gauss(0.0, self.noise_rh)
        self.humidity = min(100.0, max(0.0, rh))
        self.battery = max(0.0, self.battery - 0.5 * dt / 86400.0 / 30.0)  # about 6 % a year

    def values(self) -> dict[PropKey, Any]:
        """Temperature, humidity and battery."""
        return {
            ("temperature-humidity-sensor", "temperature"): self.temperature,
            ("temperature-humidity-sensor", "relative-humidity"): self.humidity,
            ("battery", "battery-level"): math.floor(self.battery),
        }
