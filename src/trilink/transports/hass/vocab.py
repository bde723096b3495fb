"""Words shared by both directions: MIoT URNs for Home Assistant things, and units.

Where MIoT-Spec-V2 has a type (a light's ``on``, a sensor's ``temperature`` …) the URN
is MIoT's, with the same instance codes as trilink's built-in specs; where it has none
the ``trilink-spec`` namespace is used, as the built-in car and phone specs do. Every
URN ends in ``hass:1`` (the "vendor model" and version fields).
"""

from __future__ import annotations

import re
from typing import Final

_MIOT_SERVICES: Final[dict[str, str]] = {
    "device-information": "00007801",
    "light": "00007802",
    "battery": "00007805",
    "fan": "00007808",
    "environment": "0000780A",
    "switch": "0000780C",
    "power-consumption": "0000780E",
    "air-conditioner": "0000780F",
    "curtain": "00007816",
    "lock": "00007834",
    "thermostat": "0000784A",
}

_MIOT_PROPERTIES: Final[dict[str, str]] = {
    "manufacturer": "00000001",
    "model": "00000002",
    "serial-number": "00000003",
    "firmware-revision": "00000005",
    "on": "00000006",
    "status": "00000007",
    "mode": "00000008",
    "relative-humidity": "0000000C",
    "brightness": "0000000D",
    "color": "0000000E",
    "color-temperature": "0000000F",
    "battery-level": "00000014",
    "charging-state": "00000015",
    "fan-level": "00000016",
    "horizontal-swing": "00000017",
    "temperature": "00000020",
    "target-temperature": "00000021",
    "speed-level": "00000023",
    "power-consumption": "0000002F",
    "pm2.5-density": "00000034",
    "pm10-density": "00000035",
    "motor-control": "00000038",
    "current-position": "00000039",
    "target-position": "0000003A",
    "co2-density": "0000004B",
    "electric-power": "00000066",
    "voltage": "00000086",
    "electric-current": "00000087",
    "lock-state": "00000096",
}

_MIOT_DEVICES: Final[dict[str, str]] = {
    "light": "0000A001",
    "outlet": "0000A002",
    "air-conditioner": "0000A004",
    "fan": "0000A005",
    "temperature-humidity-sensor": "0000A00A",
    "curtain": "0000A00C",
    "thermostat": "0000A031",
    "lock": "0000A038",
}

_MIOT_ACTIONS: Final[dict[str, str]] = {"lock": "00002801", "unlock": "00002802"}

_SLUG = re.compile(r"[^a-z0-9.]+")


def slug(text: str, fallback: str = "value") -> str:
    """A URN-safe name: lower case, ``a-z 0-9 .``, words joined by ``-``."""
    out = _SLUG.sub("-", text.casefold()).strip("-.")
    return out[:48].strip("-") or fallback


def _urn(kind: str, name: str, table: dict[str, str]) -> str:
    code = table.get(name)
    if code is not None:
        return f"urn:miot-spec-v2:{kind}:{name}:{code}:hass:1"
    return f"urn:trilink-spec:{kind}:{name}:00000000:hass:1"


def service_urn(name: str) -> str:
    """The URN of a service named ``name`` (MIoT's where it has one)."""
    return _urn("service", name, _MIOT_SERVICES)


def property_urn(name: str) -> str:
    """The URN of a property named ``name`` (MIoT's where it has one)."""
    return _urn("property", name, _MIOT_PROPERTIES)


def device_urn(name: str) -> str:
    """The URN of a device kind named ``name`` (MIoT's where it has one)."""
    return _urn("device", name, _MIOT_DEVICES)


def action_urn(name: str) -> str:
    """The URN of an action named ``name`` (MIoT's where it has one)."""
    return _urn("action", name, _MIOT_ACTIONS)


#: Home Assistant unit -> MIoT unit (units not listed are kept as they are)
HA_TO_MIOT_UNIT: Final[dict[str, str]] = {
    "°C": "celsius",
    "°F": "fahrenheit",
    "K": "kelvin",
    "%": "percentage",
    "lx": "lux",
    "s": "seconds",
    "min": "minutes",
    "h": "hours",
    "d": "days",
    "°": "degree",
    "µg/m³": "μg/m3",
    "μg/m³": "μg/m3",
    "m³": "m3",
    "m³/h": "m3/h",
    "m²": "m2",
}
#: MIoT unit -> Home Assistant unit
MIOT_TO_HA_UNIT: Final[dict[str, str]] = {v: k for k, v in HA_TO_MIOT_UNIT.items()} | {
    "celsius": "°C",
    "μg/m3": "µg/m³",
}

#: a numeric sensor's ``device_class`` -> (service, property) names
SENSOR_CLASSES: Final[dict[str, tuple[str, str]]] = {
    "temperature": ("environment", "temperature"),
    "humidity": ("environment", "relative-humidity"),
    "moisture": ("environment", "relative-humidity"),
    "pm25": ("environment", "pm2.5-density"),
    "pm10": ("environment", "pm10-density"),
    "carbon_dioxide": ("environment", "co2-density"),
    "illuminance": ("environment", "illumination"),
    "pressure": ("environment", "pressure"),
    "atmospheric_pressure": ("environment", "pressure"),
    "battery": ("battery", "battery-level"),
    "power": ("power-consumption", "electric-power"),
    "energy": ("power-consumption", "power-consumption"),
    "voltage": ("power-consumption", "voltage"),
    "current": ("power-consumption", "electric-current"),
}

#: device classes whose sensors are numbers even without a unit
NUMERIC_CLASSES: Final = frozenset(SENSOR_CLASSES) | {
    "apparent_power",
    "aqi",
    "carbon_monoxide",
    "distance",
    "duration",
    "frequency",
    "gas",
    "nitrogen_dioxide",
    "ozone",
    "power_factor",
    "precipitation",
    "reactive_power",
    "signal_strength",
    "sound_pressure",
    "speed",
    "volatile_organic_compounds",
    "volume",
    "water",
    "weight",
    "wind_speed",
}

#: which component names the whole device (the first one a device has), and as what
DEVICE_KINDS: Final[tuple[tuple[str, str], ...]] = (
    ("climate", "thermostat"),
    ("light", "light"),
    ("cover", "curtain"),
    ("lock", "lock"),
    ("fan", "fan"),
    ("switch", "outlet"),
)
