"""Hub configuration: a YAML file validated into typed settings with clear errors.

Secrets never appear in the file and never have defaults: the MQTT password comes from
an environment variable or a file named in the config.
"""

from __future__ import annotations

import os
from ipaddress import IPv4Address
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from trilink.transports.hass.settings import HassSettings
from trilink.transports.miio.settings import MiioDeviceSettings, read_token
from trilink.transports.mqtt.settings import MqttSettings
from trilink.transports.zeroconf.settings import ZeroconfSettings


class ConfigError(ValueError):
    """The configuration file is missing, unreadable or invalid; the message says where."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class HomeConfig(_Strict):
    """The home the hub serves: name and location (for geofences and sun times)."""

    id: str = "home"
    name: str = "Home"
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)
    timezone: str = "UTC"


class StoreConfig(_Strict):
    """Where the SQLite database lives, where history goes, and how long each tier is kept.

    ``backend: postgres`` keeps raw history and its statistics in PostgreSQL; the DSN is
    read from the environment variable named by ``postgres_dsn_env`` (never from this file,
    so no password lands in it). Everything else stays in the SQLite file at ``path``.
    """

    path: Path = Path("var/trilink.db")
    history_retention_days: float = Field(default=30.0, gt=0)
    stats_5m_retention_days: float = Field(default=90.0, gt=0)
    stats_1h_retention_days: float = Field(default=730.0, gt=0)
    backend: Literal["sqlite", "postgres"] = "sqlite"
    postgres_dsn_env: str = Field(default="TRILINK_POSTGRES_DSN", min_length=1)
    postgres_schema: str = Field(default="trilink", min_length=1, max_length=63)

    def postgres_dsn(self) -> str:
        """The PostgreSQL connection string from the environment (``ConfigError`` if unset)."""
        dsn = os.environ.get(self.postgres_dsn_env, "").strip()
        if not dsn:
            raise ConfigError(
                f"store.backend is postgres, but environment variable {self.postgres_dsn_env} "
                "(store.postgres_dsn_env) holding the connection string is not set"
            )
        return dsn


class ApiConfig(_Strict):
    """Where the HTTP API listens. Loopback unless told otherwise."""

    host: str = "127.0.0.1"
    port: int = Field(default=8765, ge=0, le=65535)


class MqttConfig(_Strict):
    """The external MQTT broker the hub connects to."""

    host: str = "127.0.0.1"
    port: int = Field(default=1883, ge=1, le=65535)
    username: str | None = None
    password_env: str | None = None
    password_file: Path | None = None
    client_id: str = "trilink-hub"
    keepalive: int = Field(default=30, ge=5, le=3600)

    @model_validator(mode="after")
    def _one_password_source(self) -> MqttConfig:
        if self.password_env and self.password_file:
            raise ValueError("give either password_env or password_file, not both")
        if (self.password_env or self.password_file) and not self.username:
            raise ValueError("a password needs a username")
        return self

    def settings(self) -> MqttSettings:
        """Resolve the password and return connection settings."""
        password = None
        if self.password_env:
            password = os.environ.get(self.password_env)
            if not password:
                raise ConfigError(f"mqtt.password_env: environment variable {self.password_env} is not set")
        elif self.password_file:
            try:
                password = self.password_file.read_text("utf-8").strip()
            except OSError as exc:
                raise ConfigError(f"mqtt.password_file: cannot read {self.password_file}: {exc}") from exc
        return MqttSettings(
            host=self.host,
            port=self.port,
            username=self.username,
            password=password,
            client_id=self.client_id,
            keepalive=self.keepalive,
        )


class LLMConfig(_Strict):
    """An OpenAI-compatible chat endpoint for the copilot (optional; the offline engine is the default).

    The key comes from the environment variable named by ``api_key_env``, never the file.
    ``TRILINK_LLM_BASE_URL`` / ``TRILINK_LLM_MODEL`` / ``TRILINK_LLM_API_KEY`` /
    ``TRILINK_LLM_TIMEOUT`` configure the same without a file.
    """

    base_url: str = Field(min_length=1, examples=["http://127.0.0.1:8000/v1"])
    model: str = Field(min_length=1, examples=["MiMo-V2-Flash"])
    api_key_env: str | None = "TRILINK_LLM_API_KEY"
    timeout_s: float = Field(default=8.0, gt=0, le=120)


class CopilotConfig(_Strict):
    """The copilot: an optional language model; without one it works offline."""

    llm: LLMConfig | None = None


class MiioDeviceConfig(_Strict):
    """A Xiaomi miIO/MIoT device on the LAN (docs/miio.md).

    The token is read from the environment variable ``token_env`` or the file
    ``token_file``, never written in the config.
    """

    host: str = Field(min_length=1)
    token_env: str | None = None
    token_file: Path | None = None
    spec: Path
    did: str | None = Field(default=None, pattern=r"^[A-Za-z0-9._:-]{1,64}$")
    name: str | None = None
    room: str | None = None
    model: str | None = None
    port: int = Field(default=54321, ge=1, le=65535)
    poll_interval: float = Field(default=30.0, gt=0, le=86400)
    batch_size: int = Field(default=15, ge=1, le=16)
    timeout: float = Field(default=2.5, gt=0, le=60)
    retries: int = Field(default=2, ge=0, le=10)

    @model_validator(mode="after")
    def _one_token_source(self) -> MiioDeviceConfig:
        if (self.token_env is None) == (self.token_file is None):
            raise ValueError("give the token's source as either token_env or token_file")
        return self

    def settings(self) -> MiioDeviceSettings:
        """Read the token and build the transport's settings (``ConfigError`` naming the device)."""
        try:
            return MiioDeviceSettings(
                host=self.host,
                token=read_token(self.token_env, self.token_file),
                spec=self.spec,
                did=self.did,
                name=self.name,
                room=self.room,
                model=self.model,
                port=self.port,
                poll_interval=self.poll_interval,
                batch_size=self.batch_size,
                timeout=self.timeout,
                retries=self.retries,
            )
        except ValueError as exc:
            raise ConfigError(f"miio.devices ({self.host}): {exc}") from None


class MiioConfig(_Strict):
    """Xiaomi devices reached over the LAN with the miIO protocol."""

    devices: tuple[MiioDeviceConfig, ...] = ()


class HassConfig(_Strict):
    """Home Assistant MQTT discovery, both directions (docs/hass.md); off unless enabled."""

    enabled_in: bool = False
    enabled_out: bool = False
    discovery_prefix: str = Field(default="homeassistant", min_length=1)
    base_topic: str = Field(default="trilink/hass", min_length=1)
    node_id: str = Field(default="trilink", pattern=r"^[A-Za-z0-9_-]+$")
    announce: tuple[str, ...] = ("*",)
    exclude: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _valid(self) -> HassConfig:
        self.settings()  # HassSettings checks the topics; its ValueError names the field
        return self

    def settings(self) -> HassSettings:
        """The bridge's settings."""
        return HassSettings(
            enabled_in=self.enabled_in,
            enabled_out=self.enabled_out,
            discovery_prefix=self.discovery_prefix,
            base_topic=self.base_topic,
            node_id=self.node_id,
            announce=self.announce,
            exclude=self.exclude,
        )


class ZeroconfConfig(_Strict):
    """Zeroconf (mDNS): find miIO devices and MQTT brokers on the LAN, and announce the hub.

    ``announce: auto`` announces the hub only when ``api.host`` is beyond loopback; ``true``
    always, ``false`` never. ``interfaces`` are this machine's IPv4 addresses to use (empty:
    all). See docs/zeroconf.md.
    """

    enabled: bool = True
    announce: bool | Literal["auto"] = "auto"
    interfaces: tuple[IPv4Address, ...] = ()
    instance_name: str | None = Field(default=None, min_length=1, max_length=63)
    refresh_interval: float = Field(default=60.0, gt=0, le=86400)
    expire_after: float = Field(default=300.0, gt=0, le=7 * 86400)
    max_candidates: int = Field(default=256, ge=1, le=100_000)

    @model_validator(mode="after")
    def _expiry_after_refresh(self) -> ZeroconfConfig:
        if self.expire_after < self.refresh_interval:
            raise ValueError("expire_after must be at least refresh_interval")
        return self

    def settings(self) -> ZeroconfSettings:
        """The discovery service's settings."""
        try:
            return ZeroconfSettings(
                enabled=self.enabled,
                announce=self.announce,
                interfaces=tuple(str(a) for a in self.interfaces),
                instance_name=self.instance_name,
                refresh_interval=self.refresh_interval,
                expire_after=self.expire_after,
                max_candidates=self.max_candidates,
            )
        except ValueError as exc:
            raise ConfigError(str(exc)) from None


class HubConfig(_Strict):
    """Everything ``trilink run`` needs."""

    home: HomeConfig = HomeConfig()
    store: StoreConfig = StoreConfig()
    api: ApiConfig = ApiConfig()
    mqtt: MqttConfig = MqttConfig()
    command_timeout: float = Field(default=5.0, gt=0, le=300)
    #: YAML files of automations, scenes and zones loaded at every start (see docs/automations.md)
    automations: tuple[Path, ...] = ()
    copilot: CopilotConfig = CopilotConfig()
    miio: MiioConfig = MiioConfig()
    hass: HassConfig = HassConfig()
    zeroconf: ZeroconfConfig = ZeroconfConfig()


def parse_config(data: Any, source: str = "config") -> HubConfig:
    """Validate a parsed config document; errors list every bad field with its path."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: the top level must be a mapping, got {type(data).__name__}")
    try:
        return HubConfig.model_validate(data)
    except ValidationError as exc:
        lines = [f"  {'.'.join(str(p) for p in err['loc']) or '(top)'}: {err['msg']}" for err in exc.errors()]
        raise ConfigError(f"{source}: invalid configuration:\n" + "\n".join(lines)) from None


def load_config(path: str | Path) -> HubConfig:
    """Read and validate a YAML config file. Relative store paths are kept relative to the cwd."""
    p = Path(path)
    try:
        text = p.read_text("utf-8")
    except OSError as exc:
        raise ConfigError(f"{p}: cannot read config: {exc.strerror or exc}") from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ConfigError(f"{p}: not valid YAML{where}: {getattr(exc, 'problem', exc)}") from None
    return parse_config(data, str(p))
