"""DNS-SD names: the service types browsed, miIO instance names, and candidate ids.

A Xiaomi miIO device announces ``<model with dashes>_miio<device id>._miio._udp.local.``,
e.g. ``zhimi-airpurifier-m1_miio12345678._miio._udp.local.`` is a ``zhimi.airpurifier.m1``
with device id 12345678. Everything here is pure and total: a name that does not parse
gives ``None``, never an exception.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Final, Literal

MIIO_TYPE: Final = "_miio._udp.local."
MQTT_TYPE: Final = "_mqtt._tcp.local."
#: the hub's own announcement
HUB_TYPE: Final = "_trilink._tcp.local."

Kind = Literal["miio", "mqtt-broker"]

#: the kind of candidate each browsed service type yields
KINDS: Final[dict[str, Kind]] = {MIIO_TYPE: "miio", MQTT_TYPE: "mqtt-broker"}

#: the UDP port every miIO device listens on
MIIO_PORT: Final = 54321
#: miIO device ids are 32-bit (they fill four bytes of the protocol's header)
MAX_DEVICE_ID: Final = 2**32 - 1

#: model parts may hold underscores (``yeelink.bhf_light.v5``); the last ``_miio<digits>`` ends it
_MIIO_INSTANCE: Final = re.compile(r"(?P<model>[a-z0-9_]+(?:-[a-z0-9_]+){1,5})_miio(?P<did>[0-9]{1,10})")


@dataclass(frozen=True, slots=True)
class MiioName:
    """What a miIO instance name says: the model (dots restored) and the device id."""

    model: str
    device_id: int


def instance_label(name: str, service_type: str) -> str | None:
    """The instance part of a full service name (``x`` of ``x._miio._udp.local.``), or ``None``."""
    suffix = "." + service_type
    if len(name) <= len(suffix) or not name.lower().endswith(suffix.lower()):
        return None
    label = name[: -len(suffix)]
    return label if len(label.encode()) <= 63 else None


def parse_miio_instance(label: str) -> MiioName | None:
    """Model and device id from a miIO instance label, or ``None`` if it is not shaped like one."""
    match = _MIIO_INSTANCE.fullmatch(label.lower())
    if match is None or "_miio" in match["model"]:
        return None
    device_id = int(match["did"])
    if not 0 < device_id <= MAX_DEVICE_ID:
        return None
    return MiioName(match["model"].replace("-", "."), device_id)


def miio_candidate_id(device_id: int) -> str:
    """The stable candidate id of a miIO device: its device id survives address changes."""
    return f"miio-{device_id}"


def broker_candidate_id(name: str) -> str:
    """The stable candidate id of an MQTT broker, from its (case-insensitive) service name."""
    return "mqtt-" + hashlib.sha256(name.lower().encode()).hexdigest()[:12]
