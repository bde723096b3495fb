"""The discovery service: zeroconf's asyncio API on the hub's loop, feeding the candidate table.

:class:`ZeroconfDiscovery` browses ``_miio._udp`` and ``_mqtt._tcp``, resolves each
service it hears of in a task of its own (so the loop never waits on the network),
checks every ``refresh_interval`` that each candidate still answers, and drops those
silent for ``expire_after`` (a device that loses power sends no goodbye). It announces
the hub when :func:`~trilink.transports.zeroconf.announce.should_announce` says so, and
adopts candidates through the hub's :class:`~trilink.transports.zeroconf.adoption.Adopter`.

Nothing the network sends can stop it: announcements that do not make a candidate are
counted by reason and skipped, and failing to open the sockets leaves the hub running
without discovery (``error`` says why).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any, Final

from zeroconf import InterfaceChoice, IPVersion, ServiceStateChange, Zeroconf
from zeroconf.asyncio import AsyncServiceBrowser, AsyncServiceInfo, AsyncZeroconf

from trilink import __version__
from trilink.transports.zeroconf.adoption import (
    AdoptedCheck,
    Adopter,
    AdoptionError,
    AdoptionRequest,
    broker_config,
    miio_adoption,
)
from trilink.transports.zeroconf.announce import (
    announce_addresses,
    hub_server,
    hub_txt,
    should_announce,
)
from trilink.transports.zeroconf.candidates import Candidate, Rejected, candidate_from
from trilink.transports.zeroconf.names import HUB_TYPE, MIIO_TYPE, MQTT_TYPE, Kind
from trilink.transports.zeroconf.settings import ZeroconfSettings
from trilink.transports.zeroconf.table import CandidateTable, Entry

log = logging.getLogger(__name__)

BROWSED_TYPES: Final = (MIIO_TYPE, MQTT_TYPE)
#: at most this many services are resolved at once; more are skipped as ``busy``
MAX_RESOLVING: Final = 64
#: at most this many candidates are re-checked at once by the refresh
REFRESH_CONCURRENCY: Final = 16

_TYPE_OF: Final[dict[Kind, str]] = {"miio": MIIO_TYPE, "mqtt-broker": MQTT_TYPE}


def machine_ipv4_addresses() -> list[str]:
    """This machine's IPv4 addresses (for a hub whose API listens on every interface)."""
    import ifaddr

    return [ip.ip for adapter in ifaddr.get_adapters() for ip in adapter.ips if isinstance(ip.ip, str)]


class ZeroconfDiscovery:
    """Browse the LAN for miIO devices and MQTT brokers, offer them for adoption, announce the hub.

    ``adopter`` adopts miIO devices and ``is_adopted`` tells which candidates the hub
    already has; both are provided by the hub and may be set after construction.
    ``clock`` gives the first/last-seen times shown to people (the hub's clock). Every
    method runs on the hub's event loop.
    """

    def __init__(
        self,
        settings: ZeroconfSettings,
        *,
        hub_id: str = "home",
        version: str = __version__,
        adopter: Adopter | None = None,
        is_adopted: AdoptedCheck | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.hub_id = hub_id
        self.version = version
        self.adopter = adopter
        self.is_adopted = is_adopted
        self.clock = clock
        self.table = CandidateTable(settings.max_candidates)
        #: why discovery is not running, when opening its sockets failed
        self.error: str | None = None
        #: the hub's announcement once published: name, type, port and addresses
        self.announced: dict[str, Any] | None = None
        self._aiozc: AsyncZeroconf | None = None
        self._browser: AsyncServiceBrowser | None = None
        self._resolving: dict[str, asyncio.Task[None]] = {}
        self._refresher: asyncio.Task[None] | None = None
        self._announcing: asyncio.Task[None] | None = None
        self._adopted_here: dict[str, str] = {}
        self._adopting: set[str] = set()
        self._check_failed = False
        self._listening = False

    # ------------------------------------------------------------ lifecycle
    @property
    def running(self) -> bool:
        """Whether the zeroconf sockets are open (browsing, announcing, or both)."""
        return self._aiozc is not None

    @property
    def browsing(self) -> bool:
        """Whether the LAN is being browsed for candidates."""
        return self._browser is not None

    async def start(self, *, api_host: str | None = None, api_port: int | None = None) -> None:
        """Open the sockets, start browsing, and announce the hub's API at ``api_host:api_port``.

        Without an API address nothing is announced. Failing to open the sockets is
        logged and kept in :attr:`error`; the hub goes on without discovery.
        """
        if self._aiozc is not None:
            return
        announce = (
            api_host is not None
            and api_port is not None
            and should_announce(self.settings.announce, api_host)
        )
        if not self.settings.enabled and not announce:
            return
        interfaces = list(self.settings.interfaces) or InterfaceChoice.All
        try:
            zc = Zeroconf(interfaces=interfaces, ip_version=IPVersion.V4Only, use_asyncio=True)
        except Exception as exc:  # sockets: no multicast route, no such interface, …
            self.error = f"cannot open the mDNS sockets: {exc}"
            log.warning("zeroconf discovery is off: %s", self.error)
            return
        self.error = None
        self._aiozc = AsyncZeroconf(zc=zc)
        if self.settings.enabled:
            self._listening = True  # before the browser: it may call back with cached records at once
            self._browser = AsyncServiceBrowser(zc, list(BROWSED_TYPES), handlers=[self._on_change])
            self._refresher = asyncio.create_task(self._refresh_loop(), name="trilink-zeroconf-refresh")
        if announce:
            assert api_host is not None and api_port is not None
            self._announcing = asyncio.create_task(
                self._announce(api_host, api_port), name="trilink-zeroconf-announce"
            )

    async def stop(self) -> None:
        """Stop browsing, withdraw the hub's announcement (goodbye packets) and close the sockets."""
        self._listening = False  # no callback starts a resolution while the others are cancelled
        if self._browser is not None:
            browser, self._browser = self._browser, None
            await browser.async_cancel()
        tasks = [t for t in (self._refresher, self._announcing, *self._resolving.values()) if t is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._refresher = self._announcing = None
        self._resolving.clear()
        if self._aiozc is not None:
            aiozc, self._aiozc = self._aiozc, None
            await aiozc.async_close()
        self.announced = None

    # --------------------------------------------------------------- browse
    def _on_change(
        self, zeroconf: Zeroconf, service_type: str, name: str, state_change: ServiceStateChange
    ) -> None:
        """The browser's callback (on the loop): removals now, everything else after resolving."""
        if not self._listening:
            return  # stopping
        key = name.lower()
        if state_change is ServiceStateChange.Removed:
            pending = self._resolving.pop(key, None)
            if pending is not None:
                pending.cancel()
            gone = self.table.remove(name)
            if gone is not None:
                log.info("zeroconf: %s %s said goodbye", gone.kind, gone.id)
            return
        pending = self._resolving.pop(key, None)
        if pending is not None:
            pending.cancel()  # the newer records win; resolving again reads them all
        elif len(self._resolving) >= MAX_RESOLVING:
            self.table.skip(name, Rejected("busy", "too many announcements at once"), self.clock())
            return
        self._resolving[key] = asyncio.create_task(
            self._resolve(service_type, name), name="trilink-zeroconf-resolve"
        )

    async def _resolve(self, service_type: str, name: str) -> None:
        try:
            candidate = await self._lookup(service_type, name)
        except Rejected as rejected:
            if self.table.by_service(name) is None:
                self.table.skip(name, rejected, self.clock())
                log.debug("zeroconf: skipped %r: %s", name, rejected)
        except Exception as exc:  # a zeroconf bug must not end discovery
            log.warning("zeroconf: resolving %r failed", name, exc_info=True)
            self.table.skip(name, Rejected("error", f"resolving failed: {type(exc).__name__}"), self.clock())
        else:
            change = self.table.upsert(candidate, self.clock(), time.monotonic())
            if change == "added":
                log.info("zeroconf: found %s %s at %s", candidate.kind, candidate.id, candidate.host)
        finally:
            if self._resolving.get(name.lower()) is asyncio.current_task():
                del self._resolving[name.lower()]

    async def _lookup(self, service_type: str, name: str) -> Candidate:
        """Resolve one service (from zeroconf's cache when fresh, else by asking) into a candidate."""
        assert self._aiozc is not None
        try:
            info = AsyncServiceInfo(service_type, name)
        except Exception as exc:  # zeroconf refuses names it cannot use
            raise Rejected("name", f"zeroconf cannot use this name: {exc}") from None
        await info.async_request(self._aiozc.zeroconf, self.settings.resolve_timeout * 1000)
        return candidate_from(
            service_type,
            name,
            addresses=info.parsed_scoped_addresses(),
            port=info.port,
            server=info.server,
            text=info.text,
        )

    # -------------------------------------------------------------- refresh
    async def _refresh_loop(self) -> None:
        while True:
            await asyncio.sleep(self.settings.refresh_interval)
            try:
                await self.refresh()
            except Exception:
                log.exception("zeroconf: checking the candidates failed; trying again later")

    async def refresh(self) -> None:
        """Ask every candidate that has not answered lately to answer; drop the long-silent ones."""
        if self._aiozc is None:
            return
        limit = asyncio.Semaphore(REFRESH_CONCURRENCY)

        async def check(entry: Entry) -> None:
            candidate = entry.candidate
            async with limit:
                try:
                    fresh = await self._lookup(_TYPE_OF[candidate.kind], candidate.service)
                except Rejected:
                    return  # silent or broken now: it expires unless it answers again
            if self.table.by_service(candidate.service) is not None:  # not said goodbye meanwhile
                self.table.upsert(fresh, self.clock(), time.monotonic())

        now = time.monotonic()
        due = [e for e in self.table.entries() if now - e.confirmed >= self.settings.refresh_interval]
        await asyncio.gather(*(check(e) for e in due))
        for candidate in self.table.stale(time.monotonic(), self.settings.expire_after):
            self.table.remove(candidate.service, "expired")
            log.info("zeroconf: %s %s stopped answering; dropped", candidate.kind, candidate.id)

    # ------------------------------------------------------------- announce
    async def _announce(self, api_host: str, api_port: int) -> None:
        assert self._aiozc is not None
        addresses = announce_addresses(
            api_host,
            self.settings.interfaces,
            machine_ipv4_addresses() if not self.settings.interfaces else (),
        )
        if not addresses:
            log.warning("zeroconf: the hub has no IPv4 address to announce; not announcing")
            return
        wanted = self.settings.instance_name or f"trilink {self.hub_id}"
        label = wanted.encode()[:63].decode("utf-8", "ignore")  # one DNS label
        info = AsyncServiceInfo(
            HUB_TYPE,
            f"{label}.{HUB_TYPE}",
            port=api_port,
            properties=hub_txt(self.version, self.hub_id),
            server=hub_server(self.hub_id),
            parsed_addresses=addresses,
        )
        try:
            await self._aiozc.async_register_service(info, allow_name_change=True)
        except Exception as exc:
            log.warning("zeroconf: announcing the hub failed: %s", exc)
            return
        self.announced = {"name": info.name, "type": HUB_TYPE, "port": api_port, "addresses": addresses}
        log.info("zeroconf: announced the hub as %r on %s", info.name, ", ".join(addresses))

    # ------------------------------------------------------------- adoption
    def _adoption_state(self, candidate: Candidate) -> tuple[bool, str | None]:
        did = self._adopted_here.get(candidate.id)
        if self.is_adopted is None:
            return did is not None, did
        try:
            adopted = bool(self.is_adopted(candidate))
        except Exception:
            if not self._check_failed:  # once: it would fail on every listing
                log.exception("zeroconf: the hub's adopted-check failed; showing candidates as not adopted")
                self._check_failed = True
            adopted = False
        return adopted, did if adopted else None

    def _view(self, entry: Entry) -> dict[str, Any]:
        adopted, did = self._adoption_state(entry.candidate)
        return {**entry.to_dict(), "adopted": adopted, "did": did}

    def candidates(self, kind: str | None = None, adopted: bool | None = None) -> list[dict[str, Any]]:
        """The candidates, JSON-ready with their adoption state, optionally filtered."""
        views = [self._view(e) for e in self.table.entries() if kind is None or e.candidate.kind == kind]
        return [v for v in views if adopted is None or v["adopted"] == adopted]

    def candidate(self, candidate_id: str) -> dict[str, Any]:
        """One candidate, JSON-ready; ``KeyError`` for an unknown id."""
        return self._view(self.table.get(candidate_id))

    async def adopt(self, candidate_id: str, request: AdoptionRequest) -> dict[str, Any]:
        """Adopt a candidate: a miIO device through the hub's adopter, a broker as config to apply.

        Raises ``KeyError`` for an unknown id and :class:`AdoptionError` for a request that
        cannot work, a candidate already adopted, or an adopter that failed.
        """
        candidate = self.table.get(candidate_id).candidate
        if candidate.kind == "mqtt-broker":
            if not request.is_empty:
                raise AdoptionError(
                    "an MQTT broker is adopted without a body: token, name, room, model and spec are "
                    "for miIO devices",
                    "invalid",
                )
            return {"id": candidate.id, "kind": candidate.kind, "applied": False, **broker_config(candidate)}
        device = miio_adoption(candidate, request)
        adopted, did = self._adoption_state(candidate)
        if adopted:
            raise AdoptionError(
                f"{candidate_id} is already adopted" + (f" as {did}" if did else ""), "conflict"
            )
        if candidate_id in self._adopting:
            raise AdoptionError(f"{candidate_id} is being adopted already", "conflict")
        if self.adopter is None:
            raise AdoptionError("this hub has no miIO transport to adopt devices into", "unavailable")
        self._adopting.add(candidate_id)
        try:
            new_did = await self.adopter.adopt_miio(device)
        finally:
            self._adopting.discard(candidate_id)
        self._adopted_here[candidate_id] = new_did
        log.info("zeroconf: adopted %s (%s at %s) as %s", candidate_id, device.model, device.host, new_did)
        return {
            "id": candidate_id,
            "kind": candidate.kind,
            "did": new_did,
            "model": device.model,
            "host": device.host,
            "port": device.port,
            "adopted": True,
        }

    # --------------------------------------------------------------- status
    @property
    def stats(self) -> dict[str, Any]:
        """Counters for the hub's ``/api/status``."""
        return {"running": self.running, "browsing": self.browsing, **self.table.stats()}

    def status(self) -> dict[str, Any]:
        """Whether discovery runs (and why not), the announcement, counters and recent skips."""
        return {
            "running": self.running,
            "browsing": self.browsing,
            "error": self.error,
            "announced": self.announced,
            "stats": self.table.stats(),
            "skipped": [s.to_dict() for s in self.table.recent_skips],
        }
