"""The simulated home as the copilot tests see it: a kernel with the world's devices.

Devices answer through an in-test link: writes are reported back as real devices do;
``refuse`` holds dids that refuse every command.
"""

from __future__ import annotations

from typing import Any

from trilink.clock import ManualClock
from trilink.kernel import Device, Home, Kernel, Outcome, Person, Room
from trilink.model import builtin_spec

HOME = (31.2304, 121.4737)
OFFICE = (31.2040, 121.5900)
T0 = 1_800_000_000.0

#: did, model, room, name — the simulated world's layout (docs/simulator.md)
DEVICES = [
    ("ac-living", "trilink.aircondition.sim1", "living-room", "Living Room AC"),
    ("ac-bedroom", "trilink.aircondition.sim1", "bedroom", "Bedroom AC (2.6 kW)"),
    ("light-living", "trilink.light.sim1", "living-room", "Living Room Light"),
    ("light-bedroom", "trilink.light.sim1", "bedroom", "Bedroom Light"),
    ("light-kitchen", "trilink.light.sim1", "kitchen", "Kitchen Light"),
    ("light-hallway", "trilink.light.sim1", "hallway", "Hallway Light"),
    ("lock-front", "trilink.lock.sim1", "hallway", "Front Door Lock"),
    ("curtain-living", "trilink.curtain.sim1", "living-room", "Living Room Curtain"),
    ("curtain-bedroom", "trilink.curtain.sim1", "bedroom", "Bedroom Curtain"),
    ("vacuum", "trilink.vacuum.sim1", "living-room", "Robot Vacuum"),
    ("plug-kitchen", "trilink.plug.sim1", "kitchen", "Kitchen Fridge Plug"),
    ("sensor-living", "trilink.sensor_ht.sim1", "living-room", "Living Room Sensor"),
    ("sensor-bedroom", "trilink.sensor_ht.sim1", "bedroom", "Bedroom Sensor"),
    ("sensor-kitchen", "trilink.sensor_ht.sim1", "kitchen", "Kitchen Sensor"),
    ("car", "trilink.car.sim1", None, "Car"),
    ("phone-alex", "trilink.phone.sim1", None, "Alex's Phone"),
]

ROOMS = {"living-room": "Living room", "bedroom": "Bedroom", "kitchen": "Kitchen", "hallway": "Hallway"}


class Link:
    """Answers commands like the devices would: writes are applied and reported back."""

    name = "test"

    def __init__(self, kernel: Kernel) -> None:
        self.kernel = kernel
        self.sent: list[tuple[Any, ...]] = []
        self.refuse: set[str] = set()

    async def send_set(self, did: str, siid: int, piid: int, value: Any) -> Outcome:
        self.sent.append(("set", did, siid, piid, value))
        if did in self.refuse:
            return Outcome(-4005, "the device is busy")
        spec = self.kernel.registry.device(did).spec.properties[(siid, piid)]
        if spec.readable:
            self.kernel.report(did, siid, piid, value)
        return Outcome()

    async def send_call(self, did: str, siid: int, aiid: int, args: list[Any]) -> Outcome:
        self.sent.append(("call", did, siid, aiid, list(args)))
        if did in self.refuse:
            return Outcome(-4005, "the device is busy")
        return Outcome()


def make_home(extra: list[tuple[str, str, str | None, str]] = ()) -> tuple[Kernel, Link, ManualClock]:  # type: ignore[assignment]
    """A kernel with the simulated home, its devices online and plausible readings."""
    clock = ManualClock(T0)
    kernel = Kernel(clock)
    kernel.add_home(Home("home", "Home", HOME[0], HOME[1], "Asia/Shanghai"))
    for rid, name in ROOMS.items():
        kernel.add_room(Room(rid, "home", name))
    kernel.add_person(Person("alex", "home", "Alex", phone_did="phone-alex", car_did="car"))
    for did, model, room, name in [*DEVICES, *extra]:
        owner = "alex" if did in ("car", "phone-alex") else None
        kernel.add_device(Device(did, name, model, builtin_spec(model), "test", "home", room, owner))
        kernel.set_online(did, True)
    link = Link(kernel)
    kernel.attach(link)
    r = kernel.report
    r("ac-living", 2, 1, False)
    r("ac-living", 2, 3, 26.0)
    r("ac-bedroom", 2, 1, True)
    r("ac-bedroom", 2, 3, 25.0)
    for did in ("light-living", "light-bedroom", "light-kitchen", "light-hallway"):
        r(did, 2, 1, did == "light-kitchen")
        r(did, 2, 2, 60)
    r("lock-front", 2, 1, True)
    r("sensor-living", 2, 1, 28.4)
    r("sensor-bedroom", 2, 1, 23.5)
    r("sensor-kitchen", 2, 1, 24.0)
    r("car", 2, 1, 64.0)
    r("car", 2, 2, 310.0)
    r("car", 4, 1, HOME[0])
    r("car", 4, 2, HOME[1])
    r("car", 4, 3, 0.0)
    r("car", 6, 1, True)
    r("phone-alex", 2, 1, HOME[0])
    r("phone-alex", 2, 2, HOME[1])
    return kernel, link, clock
