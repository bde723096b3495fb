"""Settings of the Home Assistant MQTT discovery bridge (pure data)."""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass
from typing import Final

#: what Home Assistant accepts as a node or object id in a discovery topic
_TOPIC_ID: Final = re.compile(r"^[A-Za-z0-9_-]+$")


@dataclass(frozen=True, slots=True)
class HassSettings:
    """What the bridge does, under which topics.

    ``enabled_in`` adopts devices that other programs (Zigbee2MQTT, Tasmota, ESPHome …)
    announce with Home Assistant MQTT discovery; ``enabled_out`` announces trilink's own
    devices to a Home Assistant listening on the same broker. Both default to off.
    """

    enabled_in: bool = False
    enabled_out: bool = False
    #: Home Assistant's discovery prefix (its MQTT integration setting of the same name)
    discovery_prefix: str = "homeassistant"
    #: the kernel link name, and the ``transport`` of the devices adopted from discovery
    transport_name: str = "hass"
    #: dids (shell patterns, ``*`` for all) of trilink devices to announce
    announce: tuple[str, ...] = ("*",)
    #: dids (shell patterns) never to announce, even when ``announce`` matches them
    exclude: tuple[str, ...] = ()
    #: where announced devices' state, availability and command topics live
    base_topic: str = "trilink/hass"
    #: the first part of every announced device's discovery object id (``<node_id>-<did>``);
    #: configs under it are never adopted back
    node_id: str = "trilink"
    #: a discovery change is applied once no other came for this long (seconds) …
    settle: float = 0.1
    #: … or at the latest this long after the first one, so a steady stream still lands
    settle_max: float = 1.0
    #: discovery and state payloads larger than this are dropped (bytes)
    max_payload: int = 64 * 1024
    #: QoS of the bridge's subscriptions and publications
    qos: int = 1
    #: the MQTT client id (random when not given)
    client_id: str | None = None

    def __post_init__(self) -> None:
        if not self.discovery_prefix or "+" in self.discovery_prefix or "#" in self.discovery_prefix:
            raise ValueError(f"discovery_prefix {self.discovery_prefix!r} must be a topic without wildcards")
        if not self.base_topic or "+" in self.base_topic or "#" in self.base_topic:
            raise ValueError(f"base_topic {self.base_topic!r} must be a topic without wildcards")
        if not _TOPIC_ID.match(self.node_id):
            raise ValueError(f"node_id {self.node_id!r} may only use A-Z a-z 0-9 _ -")
        if self.qos not in (0, 1, 2):
            raise ValueError(f"qos must be 0, 1 or 2, got {self.qos}")
        if self.settle < 0 or self.settle_max < self.settle:
            raise ValueError("settle must be >= 0 and settle_max >= settle")
        if self.max_payload < 1024:
            raise ValueError("max_payload must be at least 1024 bytes")

    @property
    def enabled(self) -> bool:
        """Whether either direction is on."""
        return self.enabled_in or self.enabled_out

    def announces(self, did: str) -> bool:
        """Whether the device ``did`` is to be announced (by the include and exclude patterns)."""
        if any(fnmatch.fnmatchcase(did, p) for p in self.exclude):
            return False
        return any(fnmatch.fnmatchcase(did, p) for p in self.announce)
