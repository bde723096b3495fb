"""The simulated world: a flat with four rooms, its devices, an electric car and a phone.

Physics advances in fixed steps of simulated time read from a :class:`Clock`; after
each batch of steps every device publishes what changed. Tests can also drive the
physics directly with :meth:`World.advance`, without any network.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import tzinfo

from trilink.clock import Clock
from trilink.sim import psychro
from trilink.sim.aircon import AirConditioner
from trilink.sim.behaviour import Behaviour
from trilink.sim.car import ElectricCar
from trilink.sim.device import SimDevice
from trilink.sim.home_devices import Curtain, DoorLock, Light, RobotVacuum, SmartPlug, THSensor
from trilink.sim.phone import Person, Phone
from trilink.sim.route import HOME
from trilink.sim.routine import Routine
from trilink.sim.thermal import SHANGHAI, Room, Weather
from trilink.transports.mqtt.settings import MqttSettings

log = logging.getLogger(__name__)

#: where the home is (lat, lon)
HOME_LOCATION = HOME
OWNER = "alex"


@dataclass(frozen=True, slots=True)
class Placement:
    """A device of the layout: its id (before any prefix), name, room, kind and owner."""

    id: str
    name: str
    room: str | None
    kind: str
    owner: str | None = None


#: room id → (name, floor m², UA W/K, capacitance J/K, window aperture m², base gain W)
ROOMS: dict[str, tuple[str, float, float, float, float, float]] = {
    "living-room": ("Living Room", 28.0, 110.0, 1.6e6, 0.5, 100.0),
    "bedroom": ("Bedroom", 16.0, 65.0, 0.9e6, 0.3, 50.0),
    "kitchen": ("Kitchen", 10.0, 50.0, 0.6e6, 0.15, 60.0),
    "hallway": ("Hallway", 8.0, 30.0, 0.45e6, 0.02, 10.0),
}

LAYOUT: tuple[Placement, ...] = (
    Placement("ac-living", "Living Room AC", "living-room", "air-conditioner"),
    Placement("ac-bedroom", "Bedroom AC", "bedroom", "air-conditioner"),
    Placement("light-living", "Living Room Light", "living-room", "light"),
    Placement("light-bedroom", "Bedroom Light", "bedroom", "light"),
    Placement("light-kitchen", "Kitchen Light", "kitchen", "light"),
    Placement("light-hallway", "Hallway Light", "hallway", "light"),
    Placement("lock-front", "Front Door Lock", "hallway", "lock"),
    Placement("curtain-living", "Living Room Curtain", "living-room", "curtain"),
    Placement("curtain-bedroom", "Bedroom Curtain", "bedroom", "curtain"),
    Placement("vacuum", "Robot Vacuum", "living-room", "vacuum"),
    Placement("plug-kitchen", "Kitchen Fridge Plug", "kitchen", "outlet"),
    Placement("sensor-living", "Living Room Sensor", "living-room", "temperature-humidity-sensor"),
    Placement("sensor-bedroom", "Bedroom Sensor", "bedroom", "temperature-humidity-sensor"),
    Placement("sensor-kitchen", "Kitchen Sensor", "kitchen", "temperature-humidity-sensor"),
    Placement("car", "Car", None, "car", OWNER),
    Placement("phone-alex", "Alex's Phone", None, "phone", OWNER),
)

_MAX_CATCH_UP = 360  # steps per wake-up; beyond that the world skips ahead


class World:
    """A home, a car and a phone; each device an MQTT client of ``settings``' broker."""

    def __init__(
        self,
        settings: MqttSettings,
        clock: Clock,
        *,
        seed: int = 0,
        climate: str = "hot-humid",
        step: float = 10.0,
        schedule: bool = True,
        did_prefix: str = "",
        tz: tzinfo = SHANGHAI,
        on_online: Callable[[SimDevice], None] | None = None,
    ) -> None:
        if step <= 0:
            raise ValueError(f"the physics step must be positive, got {step}")
        self.settings = settings
        self.clock = clock
        self.step = step
        self.did_prefix = did_prefix
        self.tz = tz
        #: simulated epoch time the physics has reached
        self.time = clock.now()
        self.weather = Weather(climate, seed=seed, tz=tz)
        self.rooms = {rid: self._room(rid) for rid in ROOMS}
        self.person = Person(OWNER)
        self.behaviours: dict[str, Behaviour] = self._build(seed)
        self.placements = {p.id: p for p in LAYOUT}
        self.devices: dict[str, SimDevice] = {
            did_prefix + p.id: SimDevice(
                did_prefix + p.id,
                self.behaviours[p.id],
                settings,
                clock,
                name=p.name,
                room=p.room,
                kind=p.kind,
                owner=p.owner,
                on_online=on_online,
            )
            for p in LAYOUT
        }
        #: the owner's daily routine; set ``routine.enabled = False`` to stop it
        self.routine = Routine(self, enabled=schedule)
        self._task: asyncio.Task[None] | None = None

    def _room(self, rid: str) -> Room:
        name, area, ua, cap, aperture, gain = ROOMS[rid]
        c = self.weather.climate
        # start near where the room settles: a little above the outdoor mean, or at the heating setpoint
        start = c.heating_c if c.heating_c is not None else min(max(c.mean_c + 2.0, 10.0), 32.0)
        w = min(psychro.humidity_ratio(c.mean_c, c.humidity_pct), psychro.humidity_ratio(start, 65.0))
        return Room(
            rid,
            name,
            area,
            ua,
            cap,
            aperture,
            gain,
            temperature=start,
            humidity_ratio=w,
            heating_setpoint=c.heating_c,
        )

    def _build(self, seed: int) -> dict[str, Behaviour]:
        r, w = self.rooms, self.weather
        bedroom_ac = {"rated_capacity_w": 2600.0, "rated_heating_w": 3000.0, "rated_airflow_m3h": 520.0}
        return {
            "ac-living": AirConditioner(r["living-room"], w),
            "ac-bedroom": AirConditioner(r["bedroom"], w, **bedroom_ac),
            "light-living": Light(),
            "light-bedroom": Light(),
            "light-kitchen": Light(),
            "light-hallway": Light(),
            "lock-front": DoorLock(),
            "curtain-living": Curtain(),
            "curtain-bedroom": Curtain(),
            "vacuum": RobotVacuum(),
            "plug-kitchen": SmartPlug(r["kitchen"], seed=seed, tz=self.tz),
            "sensor-living": THSensor(r["living-room"], seed=seed),
            "sensor-bedroom": THSensor(r["bedroom"], seed=seed),
            "sensor-kitchen": THSensor(r["kitchen"], seed=seed),
            "car": ElectricCar(w),
            "phone-alex": Phone(self.person, self.time, tz=self.tz, seed=seed),
        }

    # -------------------------------------------------------------- accessors
    def _id(self, did: str) -> str:
        if did in self.behaviours:
            return did
        if (
            self.did_prefix
            and did.startswith(self.did_prefix)
            and did[len(self.did_prefix) :] in self.behaviours
        ):
            return did[len(self.did_prefix) :]
        raise KeyError(f"no simulated device {did!r} (known: {', '.join(self.behaviours)})")

    def behaviour(self, did: str) -> Behaviour:
        """The physics of a device, by layout id (``ac-living``) or full did."""
        return self.behaviours[self._id(did)]

    def device(self, did: str) -> SimDevice:
        """The networked device, by layout id or full did."""
        return self.devices[self.did_prefix + self._id(did)]

    def aircon(self, did: str) -> AirConditioner:
        """An air conditioner's physics (for faults: ``world.aircon("ac-living").filter_clog = 0.3``)."""
        b = self.behaviour(did)
        if not isinstance(b, AirConditioner):
            raise KeyError(f"{did!r} is not an air conditioner")
        return b

    @property
    def car(self) -> ElectricCar:
        """The electric car."""
        b = self.behaviours["car"]
        assert isinstance(b, ElectricCar)
        return b

    @property
    def phone(self) -> Phone:
        """Alex's phone."""
        b = self.behaviours["phone-alex"]
        assert isinstance(b, Phone)
        return b

    # ---------------------------------------------------------------- physics
    def advance(self, seconds: float) -> None:
        """Run the physics for ``seconds`` of simulated time (whole steps), without publishing."""
        for _ in range(int(seconds / self.step + 1e-9)):
            self._tick()

    def _tick(self) -> None:
        dt = self.step
        prev, now = self.time, self.time + dt
        self.time = now
        car = self.car
        car.step(now, dt)
        if car.driving:
            self.person.in_car((car.latitude, car.longitude))
        elif self.person.place != car.place and car.place is not None:
            self.person.at(car.place)
        for bid, behaviour in self.behaviours.items():
            if bid != "car":
                behaviour.step(now, dt)
        for curtain_id, room_id in (("curtain-living", "living-room"), ("curtain-bedroom", "bedroom")):
            curtain = self.behaviours[curtain_id]
            assert isinstance(curtain, Curtain)
            # closed curtains still let a quarter of the sun's heat through the glass
            self.rooms[room_id].shading_open = 0.25 + 0.75 * curtain.open_fraction
        t_out, w_out = self.weather.temperature(now), self.weather.humidity_ratio(now)
        solar = self.weather.solar(now)
        heat = dict.fromkeys(self.rooms, 0.0)
        moisture = dict.fromkeys(self.rooms, 0.0)
        for p in LAYOUT:
            if p.room is not None:
                b = self.behaviours[p.id]
                heat[p.room] += b.heat_w
                if isinstance(b, AirConditioner):
                    moisture[p.room] += b.moisture_removed_kg_s
        for rid, room in self.rooms.items():
            room.step(dt, t_out, w_out, solar, heat[rid], moisture[rid])
        self.routine.step(prev, now)

    # ---------------------------------------------------------------- running
    async def start(self) -> None:
        """Connect every device and start the physics on the clock."""
        if self._task is not None:
            return
        self.time = max(self.time, self.clock.now())
        for device in self.devices.values():
            await device.start()
        self._task = asyncio.create_task(self._run(), name="sim-world")

    async def stop(self) -> None:
        """Stop the physics, then take every device offline cleanly (retained ``offline``)."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await asyncio.gather(*(d.stop() for d in self.devices.values()))

    async def _run(self) -> None:
        while True:
            await self.clock.sleep(self.step)
            now = self.clock.now()
            steps = 0
            while self.time + self.step <= now + 1e-6 and steps < _MAX_CATCH_UP:
                self._tick()
                steps += 1
            if self.time + self.step <= now:
                log.warning("the world fell %.0f s behind its clock; skipping ahead", now - self.time)
                self.time = now
            for device in self.devices.values():
                try:
                    device.after_step(self.time)
                except Exception:
                    log.exception("%s: failed to publish after a step", device.did)
