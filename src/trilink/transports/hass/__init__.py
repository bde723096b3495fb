"""Home Assistant MQTT discovery, both directions (see ``docs/hass.md``).

In: devices that Zigbee2MQTT, Tasmota, ESPHome … announce with Home Assistant MQTT
discovery become trilink devices with a MIoT spec derived from their entities. Out:
trilink's own devices (the car and the phone included) are announced to a Home
Assistant on the same broker, and its commands come back through the kernel.

``HassTransport`` runs both on one broker session; the modules below it are pure
(topics and payloads to entities and specs, devices to configs) and tested alone.
"""

from trilink.transports.hass.announce import Announcement, announce
from trilink.transports.hass.derive import DerivedDevice, derive, did_for
from trilink.transports.hass.discovery import EntityConfig, parse_config_topic, parse_discovery
from trilink.transports.hass.settings import HassSettings
from trilink.transports.hass.stats import HassStats
from trilink.transports.hass.template import TemplateError, TemplateUnsupported, compile_template
from trilink.transports.hass.transport import HassTransport

__all__ = [
    "Announcement",
    "DerivedDevice",
    "EntityConfig",
    "HassSettings",
    "HassStats",
    "HassTransport",
    "TemplateError",
    "TemplateUnsupported",
    "announce",
    "compile_template",
    "derive",
    "did_for",
    "parse_config_topic",
    "parse_discovery",
]
