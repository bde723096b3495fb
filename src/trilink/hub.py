"""The running hub: kernel + store + MQTT transport + API server, started and stopped as one.

This is the imperative shell around the kernel. ``trilink run`` and ``trilink demo``
build a :class:`Hub` from a :class:`HubConfig`; tests build one the same way.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn

from trilink.api.app import create_app
from trilink.api.facade import Principal, Session
from trilink.automation.engine import AutomationEngine
from trilink.automation.errors import DefinitionError
from trilink.automation.persist import StoredDocument
from trilink.clock import Clock, SystemClock
from trilink.config import ConfigError, HubConfig, LLMConfig
from trilink.copilot.llm import LLMEngine
from trilink.copilot.llm_settings import LLMConfigError, LLMSettings
from trilink.copilot.service import Copilot
from trilink.diagnostics.service import Diagnostics
from trilink.diagnostics.storage import SQLiteReminders, load_detector_states, save_detector_state
from trilink.kernel import SYSTEM, Context, Home, Kernel
from trilink.miio_devices import MiioDevices
from trilink.store import (
    SQLiteStore,
    StoreRecorder,
    close_session,
    has_tokens,
    issue_token,
    open_session,
    prune_sessions,
    verify_session,
    verify_token,
)
from trilink.store.automation import SQLiteAutomationStore
from trilink.store.postgres import PostgresSeriesStore
from trilink.store.stats import SeriesStore, StatRow
from trilink.transports.hass import HassTransport
from trilink.transports.miio.transport import MiioTransport
from trilink.transports.mqtt.settings import MqttSettings
from trilink.transports.mqtt.transport import MqttTransport
from trilink.transports.zeroconf.adoption import adopted_check
from trilink.transports.zeroconf.service import ZeroconfDiscovery

log = logging.getLogger(__name__)


class _EmbeddedServer(uvicorn.Server):
    """A uvicorn server that leaves signal handling to the hub's own process."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@dataclass(frozen=True, slots=True)
class StartInfo:
    """What a person needs after start: where the API is, and a new token if one was made."""

    api_url: str
    new_owner_token: str | None
    devices_restored: int
    #: definitions refused in the configured automation files (the others are loaded)
    automation_errors: tuple[DefinitionError, ...] = ()


class Hub:
    """One hub process. Implements the API's ``HubFacade`` and ``SessionsFacade``."""

    def __init__(
        self,
        config: HubConfig,
        *,
        mqtt: MqttSettings | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.config = config
        self.clock = clock or SystemClock()
        self.kernel = Kernel(self.clock, command_timeout=config.command_timeout)
        store = config.store
        retention = {
            "history_retention": store.history_retention_days * 86400,
            "stats_5m_retention": store.stats_5m_retention_days * 86400,
            "stats_1h_retention": store.stats_1h_retention_days * 86400,
        }
        self.store = SQLiteStore(store.path, **retention)
        #: history and statistics in PostgreSQL (``store.backend: postgres``), else ``None``
        self.postgres: PostgresSeriesStore | None = None
        if store.backend == "postgres":
            self.postgres = PostgresSeriesStore(
                store.postgres_dsn(), schema=store.postgres_schema, **retention
            )
        #: where history and statistics live: PostgreSQL, or the SQLite store
        self.series: SeriesStore = self.postgres if self.postgres is not None else self.store
        self.recorder = StoreRecorder(self.kernel, self.store, series=self.postgres)
        mqtt_settings = mqtt or config.mqtt.settings()
        self.transport = MqttTransport(self.kernel, mqtt_settings)
        #: Home Assistant MQTT discovery in/out; does nothing unless enabled in the config
        self.hass = HassTransport(self.kernel, mqtt_settings, config.hass.settings())
        self.miio = MiioTransport(self.kernel)
        # a token that cannot be read stops the hub here, naming the device
        self.miio_devices = MiioDevices(
            self.miio, self.store, [d.settings() for d in config.miio.devices], self.clock.now
        )
        #: zeroconf: miIO devices and MQTT brokers on the LAN, and the hub's own announcement
        self.zeroconf = ZeroconfDiscovery(
            config.zeroconf.settings(),
            hub_id=config.home.id,
            clock=self.clock.now,
            adopter=self.miio_devices,
            is_adopted=adopted_check(
                miio=self.miio_devices.known, broker=(mqtt_settings.host, mqtt_settings.port)
            ),
        )
        #: the port the API listens on (known once it does)
        self.api_port: int | None = None
        self.automations = AutomationEngine(
            self.kernel,
            SQLiteAutomationStore(self.store, clock=self.clock.now, document=StoredDocument),
            home_id=config.home.id,
        )
        self.diagnostics = Diagnostics(
            self.kernel,
            SQLiteReminders(self.store),
            home_id=config.home.id,
            states=_DetectorStates(self.store),
            notify=self._remind,
        )
        self.llm = _language_model(config.copilot.llm, self.kernel)
        self.copilot = Copilot(
            self.kernel,
            home_id=config.home.id,
            automations=self.automations,
            llm=self.llm,
            llm_timeout_s=self.llm.settings.timeout_s + 1 if self.llm is not None else 10.0,
        )
        #: epoch seconds for browser sessions (expiry is checked against it on every request)
        self.wall_clock: Callable[[], float] = time.time
        self._server: uvicorn.Server | None = None
        self._server_task: asyncio.Task[None] | None = None
        self._app: Any = None
        self._started_at = 0.0
        self.api_url = ""

    async def _remind(self, person_id: str, title: str, message: str) -> None:
        """Send a maintenance reminder to a person's phone (and the API's notification list)."""
        await self.automations.notifier.send(person_id, title, message, Context.new("system", "diagnostics"))

    # ----------------------------------------------------------- HubFacade
    def authenticate(self, token: str) -> Principal | None:
        """The caller behind an API token, or ``None``."""
        record = verify_token(self.store, token)
        if record is None:
            return None
        return Principal(token_id=str(record.id), name=record.name, role=record.role)

    # ------------------------------------------------------ SessionsFacade
    # Sessions run on wall-clock time (``wall_clock``), not the kernel's clock: a cookie's
    # Max-Age is real seconds, also in a demo whose clock runs faster.
    def open_session(self, token: str, now: float) -> Session | None:
        """Open a browser session for an API token; ``None`` if the token is refused."""
        record = verify_token(self.store, token, now)
        if record is None:
            return None
        session_id, expires = open_session(self.store, record.id, now)
        return Session(session_id, Principal(str(record.id), record.name, record.role), expires)

    def session(self, session_id: str) -> Session | None:
        """The live session with this id (its token's current name and role), or ``None``."""
        record = verify_session(self.store, session_id, self.wall_clock())
        if record is None:
            return None
        principal = Principal(str(record.token_id), record.name, record.role)
        return Session(session_id, principal, record.expires)

    def close_session(self, session_id: str) -> None:
        """End a browser session."""
        close_session(self.store, session_id)

    def history(
        self, did: str, siid: int, piid: int, since: float | None, until: float | None, limit: int
    ) -> list[tuple[float, Any]]:
        """Stored history of one property (the recorder writes within about a quarter second)."""
        return self.series.history(did, siid, piid, since=since, until=until, limit=limit)

    def stats(
        self,
        did: str,
        siid: int,
        piid: int,
        period: str,
        since: float | None,
        until: float | None,
        limit: int,
    ) -> list[StatRow]:
        """Downsampled statistics of one property (see ``SeriesStore.stats``)."""
        return self.series.stats(did, siid, piid, period=period, since=since, until=until, limit=limit)

    def status(self) -> dict[str, Any]:
        """Counters of the transport and the store, and uptime."""
        return {
            "uptime_s": round(time.monotonic() - self._started_at, 1) if self._started_at else 0.0,
            "clock": self.clock.now(),
            "mqtt": self.transport.stats,
            "miio": self.miio.stats,
            "hass": self.hass.stats,
            "zeroconf": self.zeroconf.stats,
            "store": self.recorder.stats,
            "automations": self.automations.stats,
            "copilot": {
                **self.copilot.stats,
                "llm": self.llm.settings.model if self.llm is not None else None,
            },
            "event_listener_errors": self.kernel.bus.listener_errors,
        }

    # ----------------------------------------------------------- lifecycle
    def ensure_owner_token(self, name: str = "owner") -> str | None:
        """Create the owner's token if the hub has none yet; return it (shown once)."""
        if has_tokens(self.store):
            return None
        return issue_token(self.store, name, "owner", self.clock.now())

    def new_token(self, name: str, role: str = "owner") -> str:
        """Issue another token (e.g. one per demo session)."""
        return issue_token(self.store, name, role, self.clock.now())

    async def start(self, *, serve_api: bool = True) -> StartInfo:
        """Open the store, restore the registry and state, connect MQTT and serve the API."""
        self._started_at = time.monotonic()
        Path(self.config.store.path).parent.mkdir(parents=True, exist_ok=True)
        self.store.open()
        if self.postgres is not None:
            try:
                self.postgres.open()
            except Exception:
                self.store.close()
                raise
        stats = self.store.load_into(self.kernel)
        home = self.config.home
        if home.id not in self.kernel.registry.homes:
            self.kernel.add_home(
                Home(home.id, home.name, home.latitude, home.longitude, home.timezone), SYSTEM
            )
        self.recorder.start()
        prune_sessions(self.store, self.wall_clock())
        token = self.ensure_owner_token()
        await self.transport.start()
        await self.hass.start()  # after load_into: restored specs keep their siids
        await self.miio.start()
        await self.miio_devices.start()
        await self.automations.start()
        await self.diagnostics.start()
        errors = self._load_automation_files()
        if serve_api:
            await self._start_api()
        await self.zeroconf.start(
            api_host=self.config.api.host if serve_api else None,
            api_port=self.api_port if serve_api else None,
        )
        return StartInfo(self.api_url, token, stats.devices, tuple(errors))

    def _load_automation_files(self) -> list[DefinitionError]:
        errors: list[DefinitionError] = []
        for path in self.config.automations:
            try:
                text = Path(path).read_text("utf-8")
            except OSError as exc:
                errors.append(DefinitionError(str(path), None, "", f"cannot read: {exc.strerror or exc}"))
                continue
            report = self.automations.load_yaml(text, str(path))
            for error in report.errors:
                log.error("%s", error)
            errors.extend(report.errors)
        return errors

    async def _start_api(self) -> None:
        app = create_app(self)
        self._app = app
        cfg = uvicorn.Config(
            app,
            host=self.config.api.host,
            port=self.config.api.port,
            log_level="warning",
            lifespan="off",
            access_log=False,
            ws="websockets-sansio",
        )
        self._server = _EmbeddedServer(cfg)
        self._server_task = asyncio.create_task(self._server.serve(), name="trilink-api")
        deadline = time.monotonic() + 10
        while not self._server.started:
            if self._server_task.done():
                self._server_task.result()
                raise RuntimeError(
                    f"the API server could not listen on {self.config.api.host}:{self.config.api.port}"
                )
            if time.monotonic() > deadline:
                raise RuntimeError("the API server did not start within 10 s")
            await asyncio.sleep(0.01)
        sock = self._server.servers[0].sockets[0]
        host, port = sock.getsockname()[:2]
        self.api_port = port
        self.api_url = f"http://{host}:{port}"

    async def stop(self) -> None:
        """Stop serving, disconnect, write everything pending and close the store."""
        if self._app is not None:
            # lifespan is off (the hub owns start-up and shut-down), so close live streams here
            self._app.state.live.close()
            self._app = None
        if self._server is not None and self._server_task is not None:
            self._server.should_exit = True
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server_task, 5)
            self._server = self._server_task = None
        await self.zeroconf.stop()
        await self.diagnostics.stop()
        await self.automations.stop()
        if self.llm is not None:
            await self.llm.aclose()
        await self.miio.stop()
        await self.hass.stop()
        await self.transport.stop()
        self.recorder.stop()
        if self.postgres is not None:
            self.postgres.close()
        self.store.close()


def _language_model(config: LLMConfig | None, kernel: Kernel) -> LLMEngine | None:
    """The copilot's language model from the config file, else from ``TRILINK_LLM_*``; ``None`` if neither."""
    try:
        if config is None:
            settings = LLMSettings.from_env()
        else:
            key = os.environ.get(config.api_key_env) if config.api_key_env else None
            settings = LLMSettings(
                config.base_url, config.model, api_key=key or None, timeout_s=config.timeout_s
            )
    except LLMConfigError as exc:
        raise ConfigError(f"copilot.llm: {exc}") from exc
    return LLMEngine.for_kernel(settings, kernel) if settings is not None else None


class _DetectorStates:
    """Detector state in the hub's store (the diagnostics service's ``StateSink``)."""

    def __init__(self, store: SQLiteStore) -> None:
        self.store = store

    def save(self, did: str, detector: str, state: Mapping[str, Any], now: float) -> None:
        """Keep what one detector has learned."""
        save_detector_state(self.store, did, detector, state, now)

    def load(self) -> dict[tuple[str, str], dict[str, Any]]:
        """Everything kept."""
        return load_detector_states(self.store)
