"""The simulated world: a home, an electric car and a phone whose devices are MQTT clients.

Nothing here imports the hub (kernel, store, API or the hub's MQTT transport): the
simulator speaks only the MQTT schema, so the hub treats it as it would real devices.
"""

from trilink.sim.aircon import AirConditioner, FanLevel, Mode, OperatingPoint
from trilink.sim.behaviour import ActionRefused, Behaviour, Emitted, PropKey
from trilink.sim.car import ChargingState, ElectricCar
from trilink.sim.device import SimDevice
from trilink.sim.home_devices import (
    Curtain,
    DoorLock,
    Fridge,
    Light,
    LockMethod,
    RobotVacuum,
    SmartPlug,
    THSensor,
    VacuumStatus,
)
from trilink.sim.phone import Person, Phone
from trilink.sim.route import HOME, OFFICE, Route
from trilink.sim.routine import Routine
from trilink.sim.thermal import CLIMATES, SHANGHAI, Climate, Room, Weather
from trilink.sim.values import quantize
from trilink.sim.world import LAYOUT, ROOMS, Placement, World

__all__ = [
    "CLIMATES",
    "HOME",
    "LAYOUT",
    "OFFICE",
    "ROOMS",
    "SHANGHAI",
    "ActionRefused",
    "AirConditioner",
    "Behaviour",
    "ChargingState",
    "Climate",
    "Curtain",
    "DoorLock",
    "ElectricCar",
    "Emitted",
    "FanLevel",
    "Fridge",
    "Light",
    "LockMethod",
    "Mode",
    "OperatingPoint",
    "Person",
    "Phone",
    "Placement",
    "PropKey",
    "RobotVacuum",
    "Room",
    "Route",
    "Routine",
    "SimDevice",
    "SmartPlug",
    "THSensor",
    "VacuumStatus",
    "Weather",
    "World",
    "quantize",
]
