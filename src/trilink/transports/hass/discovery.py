"""Home Assistant MQTT discovery messages: topics and payloads to entity configs (pure).

A config topic is ``<prefix>/<component>/[<node_id>/]<object_id>/config``. Its payload
is one entity's config, or, for ``<prefix>/device/[<node_id>/]<object_id>/config``
(device-based discovery), a device with a map of component configs. This module turns
either into :class:`EntityConfig` values with every key written out in full, the ``~``
base topic expanded and a device's shared options handed down to its components, as
Home Assistant does. It does no I/O and never raises on bad input: what is wrong is
returned as ``(reason, detail)`` problems, and what is still usable is kept.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

import orjson

from trilink.transports.hass.abbreviations import expand

_TOPIC: Final = re.compile(
    r"(?P<component>\w+)/(?:(?P<node_id>[a-zA-Z0-9_-]+)/)?(?P<object_id>[a-zA-Z0-9_-]+)/config"
)
TOPIC_BASE: Final = "~"
#: options of a device-based config that its components inherit unless they set them
SHARED_OPTIONS: Final = (
    "availability",
    "availability_mode",
    "availability_template",
    "availability_topic",
    "command_topic",
    "payload_available",
    "payload_not_available",
    "state_topic",
    "qos",
    "encoding",
    TOPIC_BASE,
)


@dataclass(frozen=True, slots=True)
class ConfigTopic:
    """Where a discovery config was published."""

    topic: str
    component: str
    node_id: str | None
    object_id: str

    @property
    def device_based(self) -> bool:
        """Whether this is a device-based config (``<prefix>/device/…``)."""
        return self.component == "device"


@dataclass(frozen=True, slots=True)
class EntityConfig:
    """One entity's discovery config with full keys; an empty ``config`` removes it.

    ``discovery_id`` is Home Assistant's id of the config (``node_id object_id``), unique
    within its ``component``; ``source`` is the topic the config came from.
    """

    component: str
    discovery_id: str
    source: str
    config: Mapping[str, Any]

    @property
    def key(self) -> tuple[str, str]:
        """Home Assistant's discovery hash: ``(component, discovery_id)``."""
        return (self.component, self.discovery_id)

    @property
    def removal(self) -> bool:
        """Whether this removes the entity instead of configuring it."""
        return not self.config


@dataclass(slots=True)
class Discovery:
    """What one discovery message says."""

    entities: list[EntityConfig] = field(default_factory=list)
    #: a device-based config was cleared: remove every entity that came from ``source``
    clear_source: bool = False
    #: ``(reason, detail)`` for each part that was dropped
    problems: list[tuple[str, str]] = field(default_factory=list)


def parse_config_topic(topic: str, prefix: str) -> ConfigTopic | None:
    """The parts of a config topic; ``None`` if ``topic`` is not one (e.g. the HA status).

    Raises :class:`ValueError` for a topic that ends in ``/config`` under the prefix but
    has characters Home Assistant does not allow in ids.
    """
    if not topic.startswith(prefix) or topic[len(prefix) : len(prefix) + 1] != "/":
        return None
    rest = topic[len(prefix) + 1 :]
    if not rest.endswith("/config"):
        return None
    m = _TOPIC.fullmatch(rest)
    if m is None:
        raise ValueError(
            f"{topic!r} is not <prefix>/<component>/[<node_id>/]<object_id>/config "
            "with ids of A-Z a-z 0-9 _ -"
        )
    return ConfigTopic(topic, m["component"], m["node_id"], m["object_id"])


def parse_discovery(where: ConfigTopic, payload: bytes, *, max_payload: int) -> Discovery:
    """The entity configs (or removals) of one discovery message."""
    out = Discovery()
    if len(payload) > max_payload:
        out.problems.append(("oversized", f"{len(payload)} bytes (at most {max_payload})"))
        return out
    if not payload:
        if where.device_based:
            out.clear_source = True
        else:
            out.entities.append(EntityConfig(where.component, _discovery_id(where), where.topic, {}))
        return out
    try:
        raw = orjson.loads(payload)
    except orjson.JSONDecodeError as exc:
        out.problems.append(("not-json", str(exc)))
        return out
    if not isinstance(raw, dict):
        out.problems.append(("bad-config", f"the config must be a JSON object, got {type(raw).__name__}"))
        return out
    if "migrate_discovery" in raw or "migr_discvry" in raw:
        out.problems.append(("migration", "a discovery migration hand-over; nothing to apply"))
        return out
    config = expand(raw)
    _check_origin(config, out)
    if not where.device_based:
        _expand_base(config, out)
        out.entities.append(EntityConfig(where.component, _discovery_id(where), where.topic, config))
        return out
    _split_device(where, config, out)
    return out


def _discovery_id(where: ConfigTopic) -> str:
    return f"{where.node_id} {where.object_id}" if where.node_id else where.object_id


def _check_origin(config: dict[str, Any], out: Discovery) -> None:
    origin = config.get("origin")
    if origin is None:
        return
    if not isinstance(origin, Mapping) or not isinstance(origin.get("name"), str):
        out.problems.append(("bad-value", f"origin must be an object with a name, got {origin!r:.80}"))
        del config["origin"]


def _split_device(where: ConfigTopic, config: dict[str, Any], out: Discovery) -> None:
    device = config.get("device")
    components = config.get("components")
    if not isinstance(device, Mapping):
        out.problems.append(("bad-config", "a device-based config needs a 'device' (dev) object"))
        return
    if not isinstance(components, Mapping):
        out.problems.append(("bad-config", "a device-based config needs a 'components' (cmps) object"))
        return
    for key, comp in components.items():
        if not isinstance(comp, Mapping):
            out.problems.append(("bad-config", f"component {key!r} must be an object"))
            continue
        body = dict(comp)
        platform = body.pop("platform", None)
        if not isinstance(platform, str) or not re.fullmatch(r"\w+", platform):
            out.problems.append(("bad-config", f"component {key!r} needs a platform (p), got {platform!r}"))
            continue
        object_id = f"{where.node_id} {key}" if where.node_id else str(key)
        discovery_id = f"{where.object_id} {object_id}"
        if body:
            body["device"] = device
            if "origin" in config:
                body["origin"] = config["origin"]
            for option in SHARED_OPTIONS:
                if option in config and option not in body:
                    body[option] = config[option]
            _expand_base(body, out)
        out.entities.append(EntityConfig(platform, discovery_id, where.topic, body))


def _expand_base(config: dict[str, Any], out: Discovery) -> None:
    """Expand ``~`` at the start or end of every ``*_topic`` (and availability topic)."""
    if TOPIC_BASE not in config:
        return
    base = config.pop(TOPIC_BASE)
    if not isinstance(base, str):
        out.problems.append(("bad-value", f"'~' must be a topic, got {base!r:.80}"))
        return
    for key, value in list(config.items()):
        if key.endswith("topic") and isinstance(value, str):
            config[key] = _with_base(value, base)
    availability = config.get("availability")
    if isinstance(availability, list):
        config["availability"] = [
            {**a, "topic": _with_base(a["topic"], base)}
            if isinstance(a, Mapping) and isinstance(a.get("topic"), str)
            else a
            for a in availability
        ]


def _with_base(topic: str, base: str) -> str:
    if topic.startswith(TOPIC_BASE):
        topic = base + topic[1:]
    if topic.endswith(TOPIC_BASE):
        topic = topic[:-1] + base
    return topic
