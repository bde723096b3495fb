"""Discovery in: devices announced with Home Assistant MQTT discovery become trilink devices.

:class:`HassIngest` is driven by :class:`~trilink.transports.hass.transport.HassTransport`:
it is handed every message the bridge receives and says which topics it wants. Config
changes are applied to the kernel in batches (once no other change came for
``settle`` seconds, at the latest ``settle_max`` after the first), so the burst of
retained configs at start-up adopts each device once. State messages go straight to
``kernel.report_many``; availability to ``kernel.set_online``.

Commands to the devices it adopted go through :class:`~trilink.transports.hass.link.HassLink`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any, Final

from trilink.kernel import Context, Kernel, UnknownEntity
from trilink.model import SpecError
from trilink.transports.hass.derive import (
    DerivedDevice,
    UnknownComponent,
    derive,
    device_key,
    did_for,
    make_entity,
)
from trilink.transports.hass.discovery import ConfigTopic, parse_config_topic, parse_discovery
from trilink.transports.hass.entity import (
    Availability,
    Entity,
    EntityInvalid,
    StateMessage,
    Values,
)
from trilink.transports.hass.settings import HassSettings
from trilink.transports.hass.stats import HassStats
from trilink.transports.hass.template import TemplateError
from trilink.transports.logs import RateLimitedLog

log = logging.getLogger(__name__)

#: more entities than this are refused (a bound on memory against a flood of configs)
MAX_ENTITIES: Final = 50_000

_EntityKey = tuple[str, str]
_StateRoute = tuple[str, int, Callable[[StateMessage], Values]]
_AvailabilityRoute = tuple[str, Availability, int]


class HassIngest:
    """The devices of Home Assistant MQTT discovery, kept in step with the kernel."""

    def __init__(
        self,
        kernel: Kernel,
        settings: HassSettings,
        stats: HassStats,
        *,
        wake: Callable[[], None],
    ) -> None:
        self.kernel = kernel
        self.settings = settings
        #: the ``transport`` of the devices it adopts
        self.name = settings.transport_name
        self.stats = stats
        self._wake = wake
        self._context = Context("system", f"transport:{self.name}", f"transport:{self.name}")
        self._limited = RateLimitedLog(log)
        self._own = f"{settings.node_id}-"
        self._entities: dict[_EntityKey, Entity] = {}
        self._device_of: dict[_EntityKey, str] = {}
        self._members: dict[str, dict[_EntityKey, Entity]] = {}
        self._derived: dict[str, DerivedDevice] = {}
        self._dirty: set[str] = set()
        self._state_routes: dict[str, list[_StateRoute]] = {}
        self._availability_routes: dict[str, list[_AvailabilityRoute]] = {}
        self._routed: set[Entity] = set()
        self._last: dict[str, bytes] = {}
        self._subscribed: set[str] = set()
        self._timer: asyncio.TimerHandle | None = None
        self._first = self._latest = 0.0
        self.connected = False

    # ------------------------------------------------------------------ topics
    @property
    def filters(self) -> list[str]:
        """The discovery subscriptions (per-entity and device-based configs)."""
        prefix = self.settings.discovery_prefix
        return [f"{prefix}/+/+/config", f"{prefix}/+/+/+/config"]

    def take_new_topics(self) -> list[str]:
        """State and availability topics to subscribe to that are not subscribed yet."""
        wanted = self._state_routes.keys() | self._availability_routes.keys()
        new = sorted(wanted - self._subscribed)
        self._subscribed.update(new)
        return new

    @property
    def entity_count(self) -> int:
        """How many entities are registered."""
        return len(self._entities)

    @property
    def device_count(self) -> int:
        """How many devices were adopted."""
        return len(self._derived)

    # ------------------------------------------------------------- connection
    def on_connected(self) -> None:
        """A new session: everything must be subscribed again; topic-less entities are online."""
        self.connected = True
        self._subscribed.clear()
        for did in self._derived:
            self._apply_online(did)

    def on_disconnected(self) -> None:
        """While the broker is away nothing is known about availability: all offline."""
        self.connected = False
        self._last.clear()
        for entity in self._entities.values():
            entity.availability.reset()
        for did in self._derived:
            self._apply_online(did)

    # ----------------------------------------------------------------- ingest
    def handle(self, topic: str, payload: bytes) -> bool:
        """Handle one message; returns whether the topic was one of discovery's."""
        try:
            where = parse_config_topic(topic, self.settings.discovery_prefix)
        except ValueError as exc:
            self._drop("bad-topic", topic, str(exc))
            return True
        if where is not None:
            self._on_config(where, payload)
            return True
        availability = self._availability_routes.get(topic)
        states = self._state_routes.get(topic)
        if availability is None and states is None:
            return False
        if len(payload) > self.settings.max_payload:
            self._drop("oversized", topic, f"{len(payload)} bytes (at most {self.settings.max_payload})")
            return True
        self._last[topic] = payload
        message = StateMessage(payload)
        if availability is not None:
            self._on_availability(topic, availability, message)
        if states is not None:
            self._on_states(topic, states, message)
        return True

    def _drop(self, reason: str, topic: str, detail: str) -> None:
        self.stats.count_malformed(reason)
        self._limited.warning(reason, "Home Assistant discovery %s: dropped (%s): %s", topic, reason, detail)

    def _on_config(self, where: ConfigTopic, payload: bytes) -> None:
        if where.object_id.startswith(self._own):
            self.stats.own_configs += 1  # our own announcement coming back: never adopt it
            return
        discovery = parse_discovery(where, payload, max_payload=self.settings.max_payload)
        for reason, detail in discovery.problems:
            self._drop(reason, where.topic, detail)
        changed = False
        if discovery.clear_source:
            for key in [k for k, e in self._entities.items() if e.config.source == where.topic]:
                changed |= self._remove(key)
        for ec in discovery.entities:
            if ec.removal:
                changed |= self._remove(ec.key)
                continue
            problems: list[tuple[str, str]] = []
            try:
                entity = make_entity(ec, problems)
            except UnknownComponent:
                self.stats.count_unsupported_component(ec.component)
                self._limited.log(
                    logging.INFO,
                    "unsupported-component",
                    "Home Assistant discovery %s: component %r is not supported; skipped",
                    where.topic,
                    ec.component,
                )
                continue
            except EntityInvalid as exc:
                self._drop(exc.reason, where.topic, str(exc))
                continue
            finally:
                for reason, detail in problems:
                    self._drop(reason, where.topic, detail)
            for option, why in entity.unsupported.items():
                self.stats.count_unsupported_template(option)
                self._limited.warning(
                    "unsupported-template",
                    "Home Assistant discovery %s: %s cannot be evaluated (%s); that state is not read",
                    where.topic,
                    option,
                    why,
                )
            changed |= self._put(entity, where.topic)
        if changed:
            self.stats.configs += 1
            self._schedule()

    def _put(self, entity: Entity, topic: str) -> bool:
        key = entity.config.key
        old = self._entities.get(key)
        if old is not None and old.config.config == entity.config.config:
            return False  # the same config again (e.g. retained, after a reconnection)
        if old is None and len(self._entities) >= MAX_ENTITIES:
            self._drop("too-many-entities", topic, f"more than {MAX_ENTITIES} entities")
            return False
        dkey = device_key(entity)
        old_dkey = self._device_of.get(key)
        if old_dkey is not None and old_dkey != dkey:
            self._members.get(old_dkey, {}).pop(key, None)
            self._dirty.add(old_dkey)
        self._entities[key] = entity
        self._device_of[key] = dkey
        self._members.setdefault(dkey, {})[key] = entity
        self._dirty.add(dkey)
        return True

    def _remove(self, key: _EntityKey) -> bool:
        entity = self._entities.pop(key, None)
        if entity is None:
            return False
        dkey = self._device_of.pop(key)
        self._members.get(dkey, {}).pop(key, None)
        self._dirty.add(dkey)
        self.stats.removals += 1
        return True

    # ------------------------------------------------------------------ flush
    def _schedule(self) -> None:
        loop = asyncio.get_running_loop()
        self._latest = loop.time()
        if self._timer is None:
            self._first = self._latest
            self._timer = loop.call_later(self.settings.settle, self._tick)

    def _tick(self) -> None:
        self._timer = None
        loop = asyncio.get_running_loop()
        now = loop.time()
        quiet, waited = now - self._latest, now - self._first
        if quiet < self.settings.settle and waited < self.settings.settle_max:
            delay = min(self.settings.settle - quiet, self.settings.settle_max - waited)
            self._timer = loop.call_later(delay, self._tick)
            return
        self.flush()

    def flush(self) -> None:
        """Apply every pending config change to the kernel now."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        dirty, self._dirty = self._dirty, set()
        for dkey in sorted(dirty):
            try:
                self._apply_device(dkey)
            except SpecError as exc:
                self._drop("bad-spec", dkey, f"the entities make no valid spec: {exc}")
            except Exception as exc:
                # a bug must not keep the other devices out; count it so it is seen
                self.stats.count_malformed("internal-error")
                self.stats.last_error = f"{dkey}: {exc!r}"
                log.exception("Home Assistant discovery: failed to apply device %r", dkey)
        self._route()

    def _apply_device(self, dkey: str) -> None:
        """Adopt, update or remove the kernel device of one group of entities."""
        members = self._members.get(dkey)
        did = did_for(dkey)
        known = self.kernel.registry.devices.get(did)
        if known is not None and known.transport != self.name:
            self._drop("did-conflict", dkey, f"did {did!r} belongs to transport {known.transport!r}")
            return
        if not members:
            self._members.pop(dkey, None)
            self._derived.pop(did, None)
            if known is not None:
                self.kernel.remove_device(did, self._context)
            return
        derived = derive(did, members.values(), known.spec if known is not None else None)
        self.kernel.adopt(
            did,
            model=derived.model,
            name=derived.name,
            spec=derived.spec,
            transport=self.name,
            room=derived.room,
            context=self._context,
        )
        self._derived[did] = derived
        if derived.info:
            self.kernel.report_many(did, derived.info)
        self._apply_online(did)

    def _route(self) -> None:
        """Rebuild the topic tables; replay the last message of each topic to new entities."""
        states: dict[str, list[_StateRoute]] = {}
        availability: dict[str, list[_AvailabilityRoute]] = {}
        fresh: list[tuple[str, int, Entity]] = []
        for did, derived in self._derived.items():
            for siid, entity in derived.services.items():
                for topic, readers in entity.routes.items():
                    states.setdefault(topic, []).extend((did, siid, r) for r in readers)
                for i, entry in enumerate(entity.availability.entries):
                    availability.setdefault(entry[0], []).append((did, entity.availability, i))
                if entity not in self._routed:
                    fresh.append((did, siid, entity))
        self._state_routes, self._availability_routes = states, availability
        self._routed = {e for d in self._derived.values() for e in d.services.values()}
        self._last = {t: p for t, p in self._last.items() if t in states or t in availability}
        for did, siid, entity in fresh:
            self._replay(did, siid, entity)
        if (states.keys() | availability.keys()) - self._subscribed:
            self._wake()

    def _replay(self, did: str, siid: int, entity: Entity) -> None:
        # a topic already subscribed will not bring its retained message again
        for i, entry in enumerate(entity.availability.entries):
            payload = self._last.get(entry[0])
            if payload is not None:
                self._on_availability(entry[0], [(did, entity.availability, i)], StateMessage(payload))
        for topic, readers in entity.routes.items():
            payload = self._last.get(topic)
            if payload is not None:
                self._on_states(topic, [(did, siid, r) for r in readers], StateMessage(payload))

    # ---------------------------------------------------------------- states
    def _apply_online(self, did: str) -> None:
        derived = self._derived.get(did)
        if derived is None or did not in self.kernel.registry.devices:
            return
        online = self.connected and any(e.availability.available for e in derived.services.values())
        self.kernel.set_online(did, online, self._context)

    def _on_availability(self, topic: str, routes: list[_AvailabilityRoute], message: StateMessage) -> None:
        changed: set[str] = set()
        for did, availability, index in routes:
            try:
                if availability.update(index, message):
                    changed.add(did)
            except (TemplateError, ValueError, ArithmeticError) as exc:
                self._drop("bad-availability", topic, str(exc))
        for did in changed:
            self._apply_online(did)

    def _on_states(self, topic: str, routes: list[_StateRoute], message: StateMessage) -> None:
        batch: dict[str, list[tuple[int, int, Any]]] = {}
        for did, siid, reader in routes:
            try:
                values = reader(message)
            except (TemplateError, ValueError, TypeError, ArithmeticError) as exc:
                self._drop("bad-state", topic, f"{did} siid {siid}: {exc}")
                continue
            batch.setdefault(did, []).extend((siid, piid, value) for piid, value in values)
        for did, items in batch.items():
            if not items:
                self.stats.states_empty += 1
                continue
            try:
                _, errors = self.kernel.report_many(did, items)
            except UnknownEntity:
                continue  # removed from the kernel by someone else; the next config brings it back
            self.stats.states += 1
            if errors:
                self.stats.values_rejected += len(errors)
                self._limited.warning(
                    "invalid-value",
                    "Home Assistant discovery %s: rejected %d of %d values, kept the others: %s",
                    topic,
                    len(errors),
                    len(items),
                    "; ".join(str(e) for e in errors),
                )

    # -------------------------------------------------------------- commands
    def entity_at(self, did: str, siid: int) -> Entity | None:
        """The entity behind service ``siid`` of an adopted device, if any."""
        derived = self._derived.get(did)
        return None if derived is None else derived.services.get(siid)

    def close(self) -> None:
        """Cancel a pending flush (the bridge is stopping)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
